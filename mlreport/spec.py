"""The model spec: column roles, types and the thresholds policy of one model.

One TOML file per monitored model::

    model = "card-fraud"
    timestamp = "event_time"
    id = "transaction_id"
    score = "fraud_score"
    decision = "action"
    target = "is_fraud"
    segments = ["channel", "merchant_category"]
    features = ["amount", "merchant_category", "hour_of_day"]
    categorical_features = ["merchant_category"]
    label_delay_days = 45

    [decision_labels]          # canonical name -> label in the data
    approve = "allow"
    decline = "block"

    [monotone]                 # feature -> "increasing" | "decreasing" risk
    amount = "increasing"

    [thresholds]               # overrides of analysis defaults, with a version
    version = "2026-03"
    [thresholds.drift.columns.amount]
    psi = [0.15, 0.3]          # [warning, incident]
    [thresholds.stress]
    max_rate_change_pp = 3.0

The ``[thresholds]`` sections are ``drift``, ``integrity`` and ``performance``
(the drift report), ``volume`` and ``stress``; each takes the keys of the
matching notebook parameter (``drift_thresholds``, ...), which wins key by key
(:meth:`ModelSpec.thresholds_for`).

Everything is optional: :func:`infer_spec` fills roles from the data, so a
first look needs no spec at all.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .errors import DataError, SpecError

__all__ = ["ModelSpec", "load_spec", "infer_spec", "resolve_spec"]

_STR_KEYS = ("model", "timestamp", "id", "score", "decision", "target")
_LIST_KEYS = ("features", "categorical_features", "segments")
_TABLE_KEYS = ("decision_labels", "monotone", "thresholds")

Role = Literal["timestamp", "id", "score", "decision", "target"]
"""A role that one column holds (segments and features are lists of columns)."""
_ROLES: tuple[Role, ...] = ("timestamp", "id", "score", "decision", "target")


@dataclass
class ModelSpec:
    """Column roles and policy of one monitored model (see the module docstring)."""

    model: str = ""
    timestamp: str = ""
    id: str = ""
    score: str = ""
    decision: str = ""
    target: str = ""
    segments: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    categorical_features: list[str] = field(default_factory=list)
    decision_labels: dict[str, str] = field(default_factory=dict)
    monotone: dict[str, str] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    label_delay_days: int | None = None
    source: str = "inferred"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "dict") -> ModelSpec:
        """A spec from a parsed TOML table; :class:`SpecError` naming ``source`` and the key when invalid."""
        valid = set(cls.__dataclass_fields__) - {"source"}
        unknown = sorted(set(data) - valid)
        if unknown:
            raise SpecError(
                f"{source}: unknown key(s) {unknown}; valid keys are {sorted(valid)}",
                path=source,
                key=unknown[0],
            )
        names = {key: _column_name(data[key], key, source) for key in _STR_KEYS if key in data}
        lists = {key: _column_names(data[key], key, source) for key in _LIST_KEYS if key in data}
        tables = {key: _table(data[key], key, source) for key in _TABLE_KEYS if key in data}
        for feature, direction in tables.get("monotone", {}).items():
            if direction not in ("increasing", "decreasing"):
                raise SpecError(
                    f"{source}: monotone.{feature} = {direction!r}; expected 'increasing' or 'decreasing'",
                    path=source,
                    key=f"monotone.{feature}",
                )
        delay: int | None = None
        if "label_delay_days" in data:
            delay = data["label_delay_days"]
            if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
                raise SpecError(
                    f"{source}: label_delay_days must be a whole number of days >= 0",
                    path=source,
                    key="label_delay_days",
                )
        return cls(
            model=names.get("model", ""),
            timestamp=names.get("timestamp", ""),
            id=names.get("id", ""),
            score=names.get("score", ""),
            decision=names.get("decision", ""),
            target=names.get("target", ""),
            segments=lists.get("segments", []),
            features=lists.get("features", []),
            categorical_features=lists.get("categorical_features", []),
            decision_labels=tables.get("decision_labels", {}),
            monotone=tables.get("monotone", {}),
            thresholds=tables.get("thresholds", {}),
            label_delay_days=delay,
            source=source,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def thresholds_for(self, section: str, overrides: Mapping[str, object] | None = None) -> dict[str, Any]:
        """The spec's ``[thresholds.<section>]`` table with ``overrides`` (a notebook parameter) on top.

        Tables inside are merged key by key (``columns.amount.psi`` from the
        parameter leaves ``columns.income`` from the spec in place); any other
        value from ``overrides`` replaces the spec's.
        """
        table = self.thresholds.get(section) or {}
        if not isinstance(table, Mapping):
            raise SpecError(
                f"{self.source}: [thresholds.{section}] must be a table",
                path=self.source,
                key=f"thresholds.{section}",
            )
        return _merged(table, overrides or {})

    @property
    def thresholds_version(self) -> str:
        return str(self.thresholds.get("version", "default"))

    def role(self, role: Role) -> str:
        """The column holding ``role`` (``""`` when none does)."""
        column: str = getattr(self, role)
        return column

    def roles(self) -> dict[str, object]:
        """Roles as a plain dict, for the report appendix."""
        return {k: v for k, v in self.to_dict().items() if k not in ("thresholds",) and v}

    def roles_table(self) -> pd.DataFrame:
        """Column roles as a two-column table for the report."""
        rows: list[tuple[str, str]] = [(role, self.role(role)) for role in _ROLES if self.role(role)]
        lists = {"segments": self.segments, "features": self.features,
                 "categorical_features": self.categorical_features}
        rows += [(role, ", ".join(columns)) for role, columns in lists.items() if columns]
        rows += [("monotone", ", ".join(f"{k} ({v})" for k, v in self.monotone.items()))] if self.monotone else []
        rows.append(("spec", self.source))
        return pd.DataFrame(rows, columns=["role", "columns"]).set_index("role")

    def check_columns(self, frame: pd.DataFrame, *, source: str = "data") -> None:
        """Raise DataError when a column the spec names is absent from ``frame``."""
        named = [self.role(role) for role in _ROLES if self.role(role)]
        named += self.segments + self.features
        missing = [c for c in dict.fromkeys(named) if c not in frame.columns]
        if missing:
            raise DataError(
                f"{source}: column(s) {missing} named by the model spec ({self.source}) are missing; "
                f"the data has {list(map(str, frame.columns))[:40]}",
                column=missing[0],
            )


def load_spec(path: str | Path) -> ModelSpec:
    """Read and validate a model spec TOML file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: model spec not found", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read model spec ({exc})", path=str(path)) from None
    return ModelSpec.from_dict(data, source=str(path))


_NAME_HINTS: dict[Role | Literal["segment"], re.Pattern[str]] = {
    "timestamp": re.compile(r"(^|_)(timestamp|ts|time|date|datetime|event_time|created_at)($|_)", re.I),
    "id": re.compile(r"(^|_)(id|uuid|key)$", re.I),
    "score": re.compile(r"(^|_)(score|pd|prob|probability|prediction|pred)($|_)", re.I),
    "decision": re.compile(r"(^|_)(decision|outcome|action|verdict)($|_)", re.I),
    "target": re.compile(r"(^|_)(target|label|default|default_flag|is_fraud|fraud|bad|y)($|_)", re.I),
    "segment": re.compile(
        r"(^|_)(channel|region|product|segment|country|market|merchant_category|model_version)($|_)", re.I
    ),
}


def infer_spec(frame: pd.DataFrame, *, model: str = "") -> ModelSpec:
    """Roles inferred from column names and types; every unclaimed column is a feature.

    The rules are deliberately conservative: a role is filled only when one
    column matches it by name and type. Anything ambiguous stays a feature, and
    the report lists the inferred roles so a reader can see what was assumed.
    """
    columns = [str(c) for c in frame.columns]
    roles: dict[Role, str] = {}

    def pick(role: Role, predicate: Callable[[pd.Series], bool]) -> None:
        matches = [
            c for c in columns if c not in roles.values() and _NAME_HINTS[role].search(c) and predicate(frame[c])
        ]
        if len(matches) >= 1:
            roles[role] = matches[0]

    pick("timestamp", lambda s: pd.api.types.is_datetime64_any_dtype(s.dtype) or _looks_like_dates(s))
    pick("id", lambda s: s.nunique(dropna=True) == len(s) and len(s) > 0)
    pick("score", lambda s: pd.api.types.is_float_dtype(s.dtype) and _within_unit(s))
    pick("decision", lambda s: not pd.api.types.is_numeric_dtype(s.dtype) and 1 < s.nunique(dropna=True) <= 10)
    pick("target", lambda s: bool(s.dropna().isin([0, 1, True, False]).all()) and bool(s.notna().any()))
    claimed = set(roles.values())
    segments = [
        c for c in columns
        if c not in claimed and _NAME_HINTS["segment"].search(c)
        and not pd.api.types.is_float_dtype(frame[c].dtype) and 1 < frame[c].nunique(dropna=True) <= 50
    ]
    # Other timestamps (a date partition column, an application date) cut periods; they are not features.
    features = [
        c for c in columns
        if c not in claimed and c not in segments and not pd.api.types.is_datetime64_any_dtype(frame[c].dtype)
    ]
    categorical = [
        c for c in features
        if not pd.api.types.is_numeric_dtype(frame[c].dtype) or pd.api.types.is_bool_dtype(frame[c].dtype)
    ]
    return ModelSpec(
        model=model,
        timestamp=roles.get("timestamp", ""),
        id=roles.get("id", ""),
        score=roles.get("score", ""),
        decision=roles.get("decision", ""),
        target=roles.get("target", ""),
        segments=segments,
        features=features,
        categorical_features=categorical,
        source="inferred",
    )


def _merged(base: Mapping[str, object], top: Mapping[str, object]) -> dict[str, object]:
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = _merged(below, value)
        else:
            merged[key] = value
    return merged


def _column_name(value: object, key: str, source: str) -> str:
    if not isinstance(value, str):
        raise SpecError(f"{source}: {key} must be a column name (string), got {value!r}", path=source, key=key)
    return value


def _column_names(value: object, key: str, source: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SpecError(f"{source}: {key} must be a list of column names", path=source, key=key)
    return list(value)


def _table(value: object, key: str, source: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise SpecError(f"{source}: [{key}] must be a table", path=source, key=key)
    return dict(value)


def resolve_spec(path: str, frame: pd.DataFrame, *, model: str = "") -> ModelSpec:
    """The spec at ``path`` when given, else one inferred from ``frame``.

    A loaded spec whose ``features`` list is empty gets every column that holds
    no other role; its columns are checked against the data.
    """
    if path:
        spec = load_spec(path)
        if not spec.features:
            inferred = infer_spec(frame)
            claimed = {spec.timestamp, spec.id, spec.score, spec.decision, spec.target, *spec.segments}
            spec.features = [c for c in map(str, frame.columns) if c not in claimed]
            if not spec.categorical_features:
                spec.categorical_features = [c for c in inferred.categorical_features if c in spec.features]
    else:
        spec = infer_spec(frame, model=model)
    if model and not spec.model:
        spec.model = model
    spec.check_columns(frame)
    return spec


def _looks_like_dates(series: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(series.dtype):
        return False
    head = series.dropna().astype("string").head(20)
    if head.empty:
        return False
    # utc=True: values with different offsets (a feed that mixes zones) parse
    # instead of raising. Most, not all, must parse: a timestamp column with a
    # few bad values is still the timestamp, and the loader then names them.
    parsed = pd.to_datetime(head, errors="coerce", format="ISO8601", utc=True)
    return bool(parsed.notna().mean() >= 0.5)


def _within_unit(series: pd.Series) -> bool:
    values = series.dropna()
    return bool(len(values)) and bool(values.between(0, 1).all())
