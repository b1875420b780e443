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
    exclude = ["free_text_note"]   # columns deliberately not monitored (listed as such)
    window_labels = ["batch"]      # columns that label the window (a year, a snapshot)
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
first look needs no spec at all. A drift report lists every column of the data
with its role and whether it is monitored; ``exclude`` names columns to leave
out on purpose (they are listed as "declared excluded"), and ``window_labels``
columns that label a window rather than describe a case (a ``year`` or
``snapshot`` constant within each window): they are reported, not drift-tested.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .data import InputLog, record_bytes
from .errors import DataError, SpecError

__all__ = [
    "ModelSpec", "load_spec", "infer_spec", "resolve_spec", "PREDICTION_AGREEMENT", "WINDOW_LABEL_MIN_ROWS",
    "threshold_agreement", "window_label", "model_name_from_path",
]

_STR_KEYS = ("model", "timestamp", "id", "score", "decision", "target")
_LIST_KEYS = ("features", "categorical_features", "segments", "exclude", "window_labels")
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
    exclude: list[str] = field(default_factory=list)
    window_labels: list[str] = field(default_factory=list)
    decision_labels: dict[str, str] = field(default_factory=dict)
    monotone: dict[str, str] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    label_delay_days: int | None = None
    source: str = "inferred"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "dict") -> ModelSpec:
        """A spec from a parsed TOML table; :class:`SpecError` naming ``source`` and the key when invalid."""
        valid = set(cls.__dataclass_fields__) - {"source"}
        if "schema_version" in data:
            # Optional: the version of the spec format (``mlreport schema spec``).
            if data["schema_version"] != 1:
                raise SpecError(f"{source}: schema_version {data['schema_version']!r}: this mlreport reads version 1",
                                path=source, key="schema_version")
            data = {key: value for key, value in data.items() if key != "schema_version"}
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
        excluded = set(lists.get("exclude", []))
        for key in ("timestamp", "id", "score", "decision", "target"):
            if names.get(key) and names[key] in excluded:
                raise SpecError(
                    f"{source}: column {names[key]!r} is both the {key} and in exclude; remove it from one",
                    path=source,
                    key="exclude",
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
            exclude=lists.get("exclude", []),
            window_labels=lists.get("window_labels", []),
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
                 "categorical_features": self.categorical_features, "window_labels": self.window_labels,
                 "exclude": self.exclude}
        rows += [(role, ", ".join(columns)) for role, columns in lists.items() if columns]
        rows += [("monotone", ", ".join(f"{k} ({v})" for k, v in self.monotone.items()))] if self.monotone else []
        rows.append(("spec", self.source))
        return pd.DataFrame(rows, columns=["role", "columns"]).set_index("role")

    def check_columns(self, frame: pd.DataFrame, *, source: str = "data") -> None:
        """Raise DataError when a column the spec names is absent from ``frame``.

        ``exclude`` and ``window_labels`` are not checked: a spec shared by
        several versions of a feed may exclude a column some files lack.
        """
        named = [self.role(role) for role in _ROLES if self.role(role)]
        named += self.segments + self.features
        missing = [c for c in dict.fromkeys(named) if c not in frame.columns]
        if missing:
            raise DataError(
                f"{source}: column(s) {missing} named by the model spec ({self.source}) are missing; "
                f"the data has {list(map(str, frame.columns))[:40]}",
                column=missing[0],
            )


def load_spec(path: str | Path, *, log: InputLog | None = None) -> ModelSpec:
    """Read and validate a model spec TOML file.

    The file is read once: the bytes parsed are the bytes recorded in ``log``
    (name ``"spec"``, their sha256), so a rerun can tell when the spec that
    set a run's roles and thresholds has changed since.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{path}: model spec not found", path=str(path)) from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read model spec ({exc})", path=str(path)) from None
    record_bytes(raw, name="spec", path=path, log=log)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: cannot read model spec ({exc})", path=str(path)) from None
    return ModelSpec.from_dict(data, source=str(path))


PREDICTION_AGREEMENT = 0.99
"""A 0/1 column that agrees with a thresholded score on at least this share of rows is the model's prediction.

The model's own decision agrees with its score by construction; a real target
agrees only as well as the model discriminates (an AUC near 1 would be needed),
so 99% separates them on real data without reading the column's name.
"""

WINDOW_LABEL_MIN_ROWS = 30
"""Rows each window needs before a column constant within it is taken for a label of the window.

With fewer, a two-valued feature is constant by chance too often (a 90/10
flag is constant over 30 rows in 4% of windows, over 10 rows in 35%).
"""

_WINDOW_LABEL_MAX_VALUES = 12
"""A calendar-named column (``year``, ``month``...) labels the windows only with at most this many values in each."""

_INFERENCE_ROWS = 200_000
"""Rows the content rules read (an evenly spaced selection beyond it): enough to tell, cheap at 10^7 rows."""

_NAME_HINTS: dict[Role | Literal["segment", "calendar"], re.Pattern[str]] = {
    "timestamp": re.compile(r"(^|_)(timestamp|ts|time|date|datetime|event_time|created_at)($|_)", re.I),
    "id": re.compile(r"(^|_)(id|uuid|key)$", re.I),
    "score": re.compile(r"(^|_)(score|pd|prob|probability|prediction|pred)($|_)", re.I),
    "decision": re.compile(r"(^|_)(decision|outcome|action|verdict)($|_)", re.I),
    "target": re.compile(r"(^|_)(target|label|default|default_flag|is_fraud|fraud|bad|y)($|_)", re.I),
    "segment": re.compile(
        r"(^|_)(channel|region|product|segment|country|market|merchant_category|model_version)($|_)", re.I
    ),
    "calendar": re.compile(
        r"(^|_)(year|yr|month|quarter|week|vintage|cohort|snapshot|batch|period|partition|as_of|asof)($|_)", re.I
    ),
}


def infer_spec(frame: pd.DataFrame, *, model: str = "", current: pd.DataFrame | None = None) -> ModelSpec:
    """Roles inferred from column names and content; every unclaimed column is a feature.

    ``frame`` is the reference (or the only data); ``current``, when given, is
    the window compared with it, and lets the window-label rule look at both.
    A name suggests a role, the content confirms it; no role is taken from a
    name alone, and some are found from content alone. In order:

    * timestamp: named like one and holding date-times (or text that parses
      as them); else the one column of a date-time type, whatever its name;
    * id: named like one and unique on every row;
    * score: named like one and holding numbers within [0, 1];
    * decision: named like one, not numeric, 2 to 10 values; else a 0/1
      column that agrees with the score thresholded somewhere on at least
      :data:`PREDICTION_AGREEMENT` of the rows (the model's prediction, such
      as ``y_pred``), whatever its name;
    * target: named like one and holding only 0/1 (or booleans), and never a
      column that agrees with a thresholded score as a prediction does (the
      prediction is not the target, even when called ``y``);
    * window labels (with ``current``): a column constant within each window
      with a different value in each, or a calendar-named column (``year``,
      ``month``, ``snapshot``...) whose few values in one window are disjoint
      from those in the other (:func:`window_label`): it labels the window, so
      it would always "drift";
    * segments: named like one, not floating point, 2 to 50 values (a segment
      is drift-tested as a feature too);
    * features: every other column (a report then says which cannot be binned).

    The report lists the roles and how to override them (a model spec names
    them for sure).
    """
    columns = [str(c) for c in frame.columns]
    rows = _spaced(frame)
    roles: dict[Role, str] = {}

    def pick(role: Role, predicate: Callable[[pd.Series], bool]) -> None:
        matches = [
            c for c in columns if c not in roles.values() and _NAME_HINTS[role].search(c) and predicate(rows[c])
        ]
        if len(matches) >= 1:
            roles[role] = matches[0]

    pick("timestamp", lambda s: pd.api.types.is_datetime64_any_dtype(s.dtype) or _looks_like_dates(s))
    if "timestamp" not in roles:
        dated = [c for c in columns if pd.api.types.is_datetime64_any_dtype(rows[c].dtype)]
        if len(dated) == 1:
            roles["timestamp"] = dated[0]
    pick("id", lambda s: len(s) > 0 and _unique(s))
    pick("score", lambda s: pd.api.types.is_float_dtype(s.dtype) and _within_unit(s))
    pick("decision", lambda s: not pd.api.types.is_numeric_dtype(s.dtype) and 1 < _distinct(s) <= 10)
    predictions = _predictions(rows, [c for c in columns if c not in roles.values()], roles.get("score", ""))
    if predictions and "decision" not in roles:
        roles["decision"] = predictions[0]
    pick("target", lambda s: _binary(s) and str(s.name) not in predictions)
    claimed = set(roles.values())
    labels: list[str] = []
    if current is not None:
        current_rows = _spaced(current)
        labels = [
            c for c in columns
            if c not in claimed and c in current_rows.columns and window_label(rows[c], current_rows[c], name=c)
        ]
    segments = [
        c for c in columns
        if c not in claimed and c not in labels and _NAME_HINTS["segment"].search(c)
        and not pd.api.types.is_float_dtype(rows[c].dtype) and 1 < _distinct(rows[c]) <= 50
    ]
    # Other timestamps (a date partition column, an application date) cut periods; they are not features.
    features = [
        c for c in columns
        if c not in claimed and c not in segments and c not in labels
        and not pd.api.types.is_datetime64_any_dtype(rows[c].dtype)
    ]
    categorical = [
        c for c in features
        if not pd.api.types.is_numeric_dtype(rows[c].dtype) or pd.api.types.is_bool_dtype(rows[c].dtype)
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
        window_labels=labels,
        source="inferred",
    )


def threshold_agreement(binary: pd.Series, score: pd.Series) -> float:
    """The largest share of rows on which ``binary`` (0/1) equals ``score`` thresholded at some value.

    Both directions count (1 above the threshold, or 1 below it); rows where
    either is missing are left out; NaN without a row left. A column made by
    thresholding the score agrees on every row (1.0); the model's real target
    agrees as well as the score separates it. Exact: every threshold between
    two distinct score values is tried (one sort, then cumulative counts).
    """
    both = pd.DataFrame({"b": binary, "s": score}).dropna()
    if both.empty or not pd.api.types.is_numeric_dtype(both["s"].dtype):
        return float("nan")
    ordered = both.sort_values("s", kind="stable")
    ones = ordered["b"].to_numpy(dtype=float)
    values = ordered["s"].to_numpy(dtype=float)
    n = len(ones)
    ones_below = np.concatenate([[0.0], np.cumsum(ones)])          # ones among the first k rows, k = 0..n
    zeros_below = np.arange(n + 1) - ones_below
    total_ones = ones_below[-1]
    # A cut after row k is a threshold only between distinct values (or at either end).
    cut = np.concatenate([[True], values[1:] != values[:-1], [True]])
    above_ones = (zeros_below + (total_ones - ones_below))[cut]     # 0 below, 1 above
    below_ones = (ones_below + ((n - np.arange(n + 1)) - (total_ones - ones_below)))[cut]  # 1 below, 0 above
    return float(max(above_ones.max(), below_ones.max()) / n)


def window_label(reference: pd.Series, current: pd.Series, *, name: str = "") -> bool:
    """True when a column labels its window instead of describing the rows (see :func:`infer_spec`).

    Content alone: constant within each window (nulls aside, each window with
    at least :data:`WINDOW_LABEL_MIN_ROWS` values) with a different value in
    each. With a calendar-like ``name`` (``year``, ``month``, ``quarter``,
    ``vintage``, ``snapshot``, ``batch``...): at most 12 values in each window
    and none shared between them. A calendar-named column whose windows share
    values is a feature like any other.
    """
    values = []
    for series in (reference, current):
        present = series.dropna()
        if len(present) < WINDOW_LABEL_MIN_ROWS:
            return False
        try:
            distinct = set(_first_distinct(present, _WINDOW_LABEL_MAX_VALUES + 1).tolist())
        except TypeError:  # lists, dicts: no labels of anything
            return False
        values.append(distinct)
    ref_values, cur_values = values
    if len(ref_values) == 1 and len(cur_values) == 1:
        return ref_values != cur_values
    calendar = bool(name) and bool(_NAME_HINTS["calendar"].search(name))
    few = len(ref_values) <= _WINDOW_LABEL_MAX_VALUES and len(cur_values) <= _WINDOW_LABEL_MAX_VALUES
    return calendar and few and ref_values.isdisjoint(cur_values)


def _first_distinct(series: pd.Series, count: int) -> Any:
    """``series.unique()[:count]``: the first ``count`` distinct values in order of appearance.

    Found on a growing head of the series: once a head holds ``count``
    distinct values they are the whole series' first ``count``, so a column
    of numbers is not hashed whole to learn that it has more than a dozen.
    """
    size = 4096
    while True:
        head = series.iloc[:size]
        distinct = head.unique()
        if len(distinct) >= count or size >= len(series):
            return distinct[:count]
        size *= 8


def _spaced(frame: pd.DataFrame) -> pd.DataFrame:
    """At most ``_INFERENCE_ROWS`` rows of ``frame``, evenly spaced (all of them when fewer)."""
    if len(frame) <= _INFERENCE_ROWS:
        return frame
    return frame.iloc[:: -(-len(frame) // _INFERENCE_ROWS)]


def _hashable(series: pd.Series) -> bool:
    head = series.dropna().head(50)
    return all(not isinstance(value, (list, dict, set, np.ndarray)) for value in head)


def _distinct(series: pd.Series) -> int:
    if not _hashable(series):
        return 0
    return int(series.nunique(dropna=True))


def _unique(series: pd.Series) -> bool:
    return _hashable(series) and series.nunique(dropna=True) == len(series)


def _binary(series: pd.Series) -> bool:
    if not _hashable(series):
        return False
    present = series.dropna()
    return bool(len(present)) and bool(present.isin([0, 1, True, False]).all())


def _predictions(frame: pd.DataFrame, candidates: list[str], score: str) -> list[str]:
    """The 0/1 columns among ``candidates`` that the score (or a probability-like column) thresholds.

    Compared with the score when there is one, else with the floating-point
    columns holding values within [0, 1] (the first :data:`_PREDICTION_SCORES`):
    a prediction whose score is not named like one is still the model's
    output. Judged on at most :data:`_PREDICTION_ROWS` evenly spaced rows (99%
    agreement is known to +-0.1% there) and :data:`_PREDICTION_CANDIDATES`
    0/1 columns, so a wide table costs seconds at most.
    """
    rows = frame if len(frame) <= _PREDICTION_ROWS else frame.iloc[:: -(-len(frame) // _PREDICTION_ROWS)]
    binary = [c for c in candidates if c != score and _binary(rows[c]) and _distinct(rows[c]) == 2]
    binary = binary[:_PREDICTION_CANDIDATES]
    if not binary:
        return []
    if score:
        scores = [score]
    else:
        scores = [
            c for c in candidates
            if c not in binary and pd.api.types.is_float_dtype(rows[c].dtype) and _within_unit(rows[c])
        ][:_PREDICTION_SCORES]
    return [
        c for c in binary
        if any(threshold_agreement(rows[c], rows[s]) >= PREDICTION_AGREEMENT for s in scores)
    ]


_PREDICTION_ROWS = 50_000
_PREDICTION_CANDIDATES = 100
_PREDICTION_SCORES = 5


_DATA_SUFFIXES = {".parquet", ".pq", ".csv", ".tsv", ".txt", ".gz", ".bz2", ".zip", ".xz", ".zst", ".json"}


def model_name_from_path(path: str) -> str:
    """The model name a data path suggests when nothing names the model: its file's stem, or its folder's name.

    ``data/loans-2026-03.parquet`` -> ``loans-2026-03``; ``data/card/*.parquet``
    -> ``card`` (the folder before the first wildcard); ``data/card/`` ->
    ``card``; data suffixes are all dropped (``x.csv.gz`` -> ``x``). ``""``
    when the path gives no name (a bare wildcard).
    """
    parts = [part for part in re.split(r"[/\\]+", str(path).strip()) if part]
    while parts and any(mark in parts[-1] for mark in "*?[{"):
        parts.pop()
    if not parts:
        return ""
    name = parts[-1]
    while True:
        stem, dot, suffix = name.rpartition(".")
        if not dot or not stem or f".{suffix.lower()}" not in _DATA_SUFFIXES:
            return name
        name = stem


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


def resolve_spec(
    path: str | ModelSpec,
    frame: pd.DataFrame,
    *,
    model: str = "",
    current: pd.DataFrame | None = None,
    log: InputLog | None = None,
) -> ModelSpec:
    """The spec at ``path`` (or the spec already loaded from it) when given, else one inferred from ``frame``.

    A spec read here from ``path`` is recorded in ``log`` (by the bytes parsed).

    Inferred from ``frame`` and ``current`` (the window compared with it) by
    :func:`infer_spec`. A loaded spec whose ``features`` list is empty gets
    every column that holds no other role and is not excluded, less the
    window labels found in the data (with ``current``); its columns are
    checked against the data. A loaded spec that names its features is taken
    as it is.
    """
    if path:
        spec = load_spec(path, log=log) if isinstance(path, str) else copy.deepcopy(path)
        if not spec.features:
            inferred = infer_spec(frame, current=current)
            claimed = {spec.timestamp, spec.id, spec.score, spec.decision, spec.target, *spec.segments,
                       *spec.exclude, *spec.window_labels}
            found = [c for c in inferred.window_labels if c not in claimed]
            spec.window_labels = [*spec.window_labels, *found]
            spec.features = [c for c in map(str, frame.columns) if c not in claimed and c not in found]
            if not spec.categorical_features:
                spec.categorical_features = [c for c in inferred.categorical_features if c in spec.features]
    else:
        spec = infer_spec(frame, model=model, current=current)
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
