"""Stress scenarios: the file format, its validation, and the shocks themselves.

A scenario file (TOML or YAML) holds a list of scenarios; each names shocks to
apply to the population, an optional population filter, optional macro
variables and optional tolerances::

    [tolerance]                      # optional; else the run's tolerance applies
    max_rate_change_pp = 5.0         # any decision rate moving more fails

    [macro.elasticities.unemployment_pp]   # feature change per unit of the variable
    income = { relative = -0.01 }          # income -1% per pp of unemployment

    [[scenario]]
    name = "Recession"
    macro = { unemployment_pp = 3 }
    population = { channel = ["online", "mobile"], age = { ">=" = 25 } }
    shocks = [ { type = "set_missing", column = "bureau_score", share = 0.2 } ]

Shock types (``type``), with the key that sets their size:

- ``relative`` (``by``): x * (1 + by).
- ``absolute`` (``by``): x + by.
- ``quantile_shift`` (``by``): x -> Q(clip(F(x) + by, 0, 1)) with F the
  reference rank and Q the reference quantile function
  (:class:`ColumnReference`).
- ``noise`` (``sd``): x + N(0, (sd * reference std)^2), seeded.
- ``set_missing`` (``share``, default 1): a share of rows set missing.
- ``set_value`` (``share``, default 1): a share of rows set to ``value``: a
  number (0, -1, a sentinel such as -999), a category, or "mean" / "median"
  (of the reference) or "stale" (the reference's last non-missing value).
- ``category_reweight`` (``shares``): labels resampled to target shares
  (a table, unlisted categories sharing the rest pro rata, or "uniform"),
  exact counts, moving the fewest rows.
- ``category_remap`` (``share``, default 1): a share of rows (optionally only
  of categories ``from``) moved to category ``to`` (default an unseen one).

A scenario's ``macro`` table sets named macro variables; the file's
``[macro.elasticities.<variable>]`` tables map one unit of each onto relative,
absolute or quantile shocks of columns (see :func:`resolve`).

Every shock takes ``column`` (a column name or a selector: ``@numeric``,
``@categorical``, ``@all``, ``@top_numeric``, ``@top_categorical`` for the
model's features, the top ones by importance) and an optional ``where`` filter
restricting the rows shocked. Filters are small dicts, never code: ``{column:
value}``, ``{column: [values]}`` or ``{column: {op: value}}`` with ops ``==``,
``!=``, ``>``, ``>=``, ``<``, ``<=``, ``in``, ``not_in``, ``missing``;
several columns must all match.

Conventions: share-based shocks select exactly ``round(share * n)`` eligible
rows (half up) by a seeded permutation, so the rows shocked at a smaller share
are a subset of those at a larger share. Missing values stay missing under
relative, absolute, quantile and noise shocks. Integer columns stay integer
(rounded to nearest, ties to even) unless missing values are introduced, in
which case they become float64. Randomness comes from
``numpy.random.default_rng([seed, crc32(key)])`` with ``key`` the scenario
name, so results do not depend on the order of scenarios in the file.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
import zlib
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ScenarioError

__all__ = [
    "SHOCK_TYPES",
    "SELECTORS",
    "MACRO_FAMILIES",
    "UNSEEN",
    "Condition",
    "Filter",
    "Shock",
    "Tolerance",
    "Scenario",
    "ScenarioSuite",
    "ResolvedScenario",
    "ColumnReference",
    "Reference",
    "parse_filter",
    "parse_tolerance",
    "parse_scenarios",
    "load_scenarios",
    "resolve",
    "apply_shock",
    "apply_scenario",
    "scenario_rng",
    "is_numeric",
]

UNSEEN = "__unseen__"

_NUMERIC_ONLY = ("relative", "absolute", "quantile_shift", "noise")
_CATEGORICAL_ONLY = ("category_reweight", "category_remap")

# type -> (required keys, optional keys) besides "type"
SHOCK_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "relative": (("column", "by"), ("where",)),
    "absolute": (("column", "by"), ("where",)),
    "quantile_shift": (("column", "by"), ("where",)),
    "noise": (("column", "sd"), ("where",)),
    "set_missing": (("column",), ("share", "where")),
    "set_value": (("column", "value"), ("share", "where")),
    "category_reweight": (("column", "shares"), ("where",)),
    "category_remap": (("column",), ("share", "from", "to", "where")),
}

SELECTORS = ("@numeric", "@categorical", "@all", "@top_numeric", "@top_categorical")

# Families a macro elasticity may map onto, applied in this order.
MACRO_FAMILIES = ("quantile_shift", "relative", "absolute")

_FILTER_OPS = ("==", "!=", ">", ">=", "<", "<=", "in", "not_in", "missing")
_VALUE_KEYWORDS = ("mean", "median", "stale")

# Reference quantile table: type-7 quantiles at 0%, 0.01%, ..., 100%.
_QUANTILE_GRID = np.linspace(0.0, 1.0, 10_001)


def is_numeric(series: pd.Series) -> bool:
    """Numeric for shocking purposes: a numeric dtype that is not boolean."""
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class Condition:
    """One column test of a :class:`Filter`."""

    column: str
    op: str
    value: Any

    def describe(self) -> str:
        if self.op == "missing":
            return f"{self.column} is {'' if self.value else 'not '}missing"
        if self.op in ("in", "not_in"):
            word = "in" if self.op == "in" else "not in"
            return f"{self.column} {word} {list(self.value)}"
        return f"{self.column} {self.op} {self.value!r}"


@dataclass(frozen=True)
class Filter:
    """Rows matching every condition (a conjunction). Evaluated without eval."""

    conditions: tuple[Condition, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.column for c in self.conditions))

    def describe(self) -> str:
        return " and ".join(c.describe() for c in self.conditions) or "all rows"

    def mask(self, frame: pd.DataFrame, *, context: str = "filter") -> np.ndarray:
        """Boolean mask of matching rows; missing values never match a comparison."""
        result = np.ones(len(frame), dtype=bool)
        for condition in self.conditions:
            if condition.column not in frame.columns:
                raise ScenarioError(
                    f"{context}: filter column {condition.column!r} is not in the data"
                )
            column = frame[condition.column]
            try:
                if condition.op == "missing":
                    matched = column.isna() if condition.value else column.notna()
                elif condition.op == "in":
                    matched = column.isin(list(condition.value))
                elif condition.op == "not_in":
                    matched = ~column.isin(list(condition.value)) & column.notna()
                else:
                    matched = _COMPARE[condition.op](column, condition.value)
            except TypeError as exc:
                raise ScenarioError(
                    f"{context}: cannot compare column {condition.column!r} "
                    f"({column.dtype}) with {condition.value!r}: {exc}"
                ) from None
            result &= pd.Series(matched).to_numpy(dtype=bool, na_value=False)
        return result


_COMPARE = {
    "==": lambda s, v: s == v,
    "!=": lambda s, v: (s != v) & s.notna(),
    ">": lambda s, v: s > v,
    ">=": lambda s, v: s >= v,
    "<": lambda s, v: s < v,
    "<=": lambda s, v: s <= v,
}


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def parse_filter(spec: Any, *, context: str) -> Filter | None:
    """Parse ``{column: value | [values] | {op: value}}`` into a :class:`Filter`."""
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        raise ScenarioError(f"{context}: a filter must be a table {{column = value}}, got {spec!r}")
    conditions: list[Condition] = []
    for column, test in spec.items():
        if _scalar(test):
            conditions.append(Condition(str(column), "==", test))
        elif isinstance(test, list):
            if not all(_scalar(v) for v in test):
                raise ScenarioError(f"{context}: filter values for {column!r} must be scalars")
            conditions.append(Condition(str(column), "in", tuple(test)))
        elif isinstance(test, Mapping):
            if not test:
                raise ScenarioError(f"{context}: empty filter for column {column!r}")
            for op, value in test.items():
                if op not in _FILTER_OPS:
                    raise ScenarioError(
                        f"{context}: unknown filter operator {op!r} for column {column!r}; "
                        f"expected one of {', '.join(_FILTER_OPS)}"
                    )
                if op in ("in", "not_in"):
                    if not isinstance(value, list) or not all(_scalar(v) for v in value):
                        raise ScenarioError(f"{context}: {column!r} {op} needs a list of values")
                    value = tuple(value)
                elif op == "missing":
                    if not isinstance(value, bool):
                        raise ScenarioError(f"{context}: {column!r} missing needs true or false")
                elif not _scalar(value):
                    raise ScenarioError(f"{context}: {column!r} {op} needs a scalar value")
                conditions.append(Condition(str(column), str(op), value))
        else:
            raise ScenarioError(f"{context}: cannot read filter for column {column!r}: {test!r}")
    return Filter(tuple(conditions))


# ---------------------------------------------------------------- shocks


@dataclass(frozen=True)
class Shock:
    """One shock to one column (or a selector, before :func:`resolve`)."""

    kind: str
    column: str
    by: float | None = None
    sd: float | None = None
    share: float = 1.0
    value: Any = None
    shares: Mapping[str, float] | str | None = None
    source: tuple[str, ...] | None = None
    to: str = UNSEEN
    where: Filter | None = None

    @property
    def magnitude(self) -> float | None:
        """The shock's size on its own scale (by, sd or share)."""
        if self.kind in ("relative", "absolute", "quantile_shift"):
            return self.by
        if self.kind == "noise":
            return self.sd
        if self.kind in ("set_missing", "set_value", "category_remap"):
            return self.share
        return None

    def with_magnitude(self, magnitude: float) -> "Shock":
        """The same shock at another size (used by sweeps and bisection)."""
        if self.kind in ("relative", "absolute", "quantile_shift"):
            return replace(self, by=float(magnitude))
        if self.kind == "noise":
            return replace(self, sd=float(magnitude))
        if self.kind in ("set_missing", "set_value", "category_remap"):
            return replace(self, share=float(magnitude))
        raise ScenarioError(f"a {self.kind} shock has no single magnitude to vary")

    def describe(self) -> str:
        """The shock in words, e.g. ``income x (1 - 0.2)``."""
        c = self.column
        share = "" if self.share == 1 else f" for {self.share:.0%} of rows"
        if self.kind == "relative":
            text = f"{c} x (1 {'+' if self.by >= 0 else '-'} {abs(self.by):g})"
        elif self.kind == "absolute":
            text = f"{c} {'+' if self.by >= 0 else '-'} {abs(self.by):g}"
        elif self.kind == "quantile_shift":
            text = f"{c} moved {self.by:+g} quantiles"
        elif self.kind == "noise":
            text = f"{c} + gaussian noise, sd {self.sd:g} x reference sd"
        elif self.kind == "set_missing":
            text = f"{c} set missing{share or ' for all rows'}"
        elif self.kind == "set_value":
            text = f"{c} set to {self.value!r}{share}"
        elif self.kind == "category_reweight":
            text = f"{c} reweighted to shares {self.shares if isinstance(self.shares, str) else dict(self.shares)}"
        else:
            source = f" (from {list(self.source)})" if self.source else ""
            text = f"{c} remapped to {self.to!r}{source}{share}"
        if self.where is not None:
            text += f" where {self.where.describe()}"
        return text


def _check_keys(
    spec: Mapping[str, Any], required: Sequence[str], optional: Sequence[str], context: str
) -> None:
    unknown = [k for k in spec if k not in required and k not in optional]
    if unknown:
        raise ScenarioError(
            f"{context}: unknown key {unknown[0]!r}; expected "
            f"{', '.join(list(required) + list(optional))}"
        )
    missing = [k for k in required if k not in spec]
    if missing:
        raise ScenarioError(f"{context}: missing required key {missing[0]!r}")


def _share(value: Any, context: str, key: str = "share") -> float:
    if not _number(value) or not 0 <= value <= 1:
        raise ScenarioError(f"{context}: {key} must be a number between 0 and 1, got {value!r}")
    return float(value)


def _parse_shock(spec: Any, *, context: str) -> Shock:
    if not isinstance(spec, Mapping):
        raise ScenarioError(f"{context}: a shock must be a table with a 'type', got {spec!r}")
    kind = spec.get("type")
    if kind not in SHOCK_TYPES:
        hint = " (macro variables go in the scenario's 'macro' table)" if kind == "macro" else ""
        raise ScenarioError(
            f"{context}: unknown shock type {kind!r}; valid types: {', '.join(SHOCK_TYPES)}{hint}"
        )
    required, optional = SHOCK_TYPES[kind]
    body = {k: v for k, v in spec.items() if k != "type"}
    _check_keys(body, required, optional, f"{context} ({kind})")
    column = body["column"]
    if not isinstance(column, str) or not column:
        raise ScenarioError(f"{context}: column must be a column name or selector, got {column!r}")
    if column.startswith("@") and column not in SELECTORS:
        raise ScenarioError(
            f"{context}: unknown column selector {column!r}; expected one of {', '.join(SELECTORS)}"
        )
    where = parse_filter(body.get("where"), context=f"{context} where")
    fields: dict[str, Any] = {"kind": kind, "column": column, "where": where}
    if "by" in required:
        by = body["by"]
        if not _number(by):
            raise ScenarioError(f"{context}: 'by' must be a number, got {by!r}")
        if kind == "relative" and by < -1:
            raise ScenarioError(f"{context}: relative by={by} < -1 would flip signs; expected >= -1")
        if kind == "quantile_shift" and not -1 <= by <= 1:
            raise ScenarioError(f"{context}: quantile_shift by={by} must be between -1 and 1")
        fields["by"] = float(by)
    if kind == "noise":
        sd = body["sd"]
        if not _number(sd) or sd < 0:
            raise ScenarioError(f"{context}: 'sd' must be a non-negative number, got {sd!r}")
        fields["sd"] = float(sd)
    if "share" in body:
        fields["share"] = _share(body["share"], context)
    if kind == "set_value":
        value = body["value"]
        if not (_number(value) or isinstance(value, str)):
            raise ScenarioError(
                f"{context}: value must be a number, a category or one of "
                f"{', '.join(_VALUE_KEYWORDS)}; got {value!r}"
            )
        fields["value"] = value
    if kind == "category_reweight":
        shares = body["shares"]
        if shares == "uniform":
            fields["shares"] = "uniform"
        elif isinstance(shares, Mapping) and shares:
            for label, share in shares.items():
                _share(share, context, key=f"share of {label!r}")
            total = sum(shares.values())
            if total > 1 + 1e-9:
                raise ScenarioError(f"{context}: target shares sum to {total:g}, more than 1")
            fields["shares"] = {str(k): float(v) for k, v in shares.items()}
        else:
            raise ScenarioError(
                f"{context}: shares must be a table {{category = share}} or \"uniform\", got {shares!r}"
            )
    if kind == "category_remap":
        if "from" in body:
            source = body["from"]
            if isinstance(source, str):
                source = [source]
            if not isinstance(source, list) or not source or not all(_scalar(v) for v in source):
                raise ScenarioError(f"{context}: 'from' must be a category or a list of categories")
            fields["source"] = tuple(str(v) for v in source)
        if "to" in body:
            if not isinstance(body["to"], str) or not body["to"]:
                raise ScenarioError(f"{context}: 'to' must be a category name")
            fields["to"] = body["to"]
    return Shock(**fields)


# ---------------------------------------------------------------- tolerance


@dataclass(frozen=True)
class Tolerance:
    """When a stressed population fails.

    ``max_rate_change_pp``: largest allowed move of any decision rate, in
    percentage points (a number for all labels or a table per label).
    ``max_flip_rate``: largest allowed share of rows whose decision changes.
    ``min_rate`` / ``max_rate``: floors and caps on a label's stressed rate
    (shares, e.g. ``{"approve": 0.40}``). Point estimates are compared.
    """

    max_rate_change_pp: float | Mapping[str, float] = 5.0
    max_flip_rate: float | None = None
    min_rate: Mapping[str, float] = field(default_factory=dict)
    max_rate: Mapping[str, float] = field(default_factory=dict)

    def limit_pp(self, label: str) -> float:
        if isinstance(self.max_rate_change_pp, Mapping):
            return float(self.max_rate_change_pp.get(label, math.inf))
        return float(self.max_rate_change_pp)

    def breaches(
        self,
        labels: Sequence[str],
        stressed_rates: Sequence[float],
        changes_pp: Sequence[float],
        flip_rate: float,
    ) -> list[str]:
        """Reasons the readouts fail, worst rate move first; empty when they pass."""
        reasons: list[tuple[float, str]] = []
        for label, rate, change in zip(labels, stressed_rates, changes_pp):
            limit = self.limit_pp(label)
            if abs(change) > limit:
                reasons.append((abs(change), f"{label} rate {change:+.1f} pp (limit ±{limit:g} pp)"))
            if label in self.min_rate and rate < self.min_rate[label]:
                reasons.append((0.0, f"{label} rate {rate:.1%} below floor {self.min_rate[label]:.0%}"))
            if label in self.max_rate and rate > self.max_rate[label]:
                reasons.append((0.0, f"{label} rate {rate:.1%} above cap {self.max_rate[label]:.0%}"))
        if self.max_flip_rate is not None and flip_rate > self.max_flip_rate:
            reasons.append((0.0, f"flip rate {flip_rate:.1%} above {self.max_flip_rate:.0%}"))
        reasons.sort(key=lambda pair: -pair[0])
        return [text for _, text in reasons]

    def describe(self) -> str:
        if isinstance(self.max_rate_change_pp, Mapping):
            parts = [f"{k} ±{v:g} pp" for k, v in self.max_rate_change_pp.items()]
            text = "decision rate moves: " + ", ".join(parts)
        else:
            text = f"any decision rate moving more than {self.max_rate_change_pp:g} pp"
        if self.max_flip_rate is not None:
            text += f"; flip rate above {self.max_flip_rate:.0%}"
        for label, floor in self.min_rate.items():
            text += f"; {label} rate below {floor:.0%}"
        for label, cap in self.max_rate.items():
            text += f"; {label} rate above {cap:.0%}"
        return text

    def to_dict(self) -> dict[str, Any]:
        limit = self.max_rate_change_pp
        return {
            "max_rate_change_pp": dict(limit) if isinstance(limit, Mapping) else limit,
            "max_flip_rate": self.max_flip_rate,
            "min_rate": dict(self.min_rate),
            "max_rate": dict(self.max_rate),
        }


def parse_tolerance(spec: Any, *, context: str, base: Tolerance | None = None) -> Tolerance:
    """Parse a ``[tolerance]`` table; keys not given keep ``base``'s values."""
    base = base or Tolerance()
    if not isinstance(spec, Mapping):
        raise ScenarioError(f"{context}: tolerance must be a table, got {spec!r}")
    _check_keys(spec, (), ("max_rate_change_pp", "max_flip_rate", "min_rate", "max_rate"), context)
    fields: dict[str, Any] = {}
    if "max_rate_change_pp" in spec:
        limit = spec["max_rate_change_pp"]
        if isinstance(limit, Mapping):
            if not all(_number(v) and v >= 0 for v in limit.values()):
                raise ScenarioError(f"{context}: max_rate_change_pp values must be numbers >= 0")
            fields["max_rate_change_pp"] = {str(k): float(v) for k, v in limit.items()}
        elif _number(limit) and limit >= 0:
            fields["max_rate_change_pp"] = float(limit)
        else:
            raise ScenarioError(f"{context}: max_rate_change_pp must be a number >= 0, got {limit!r}")
    if "max_flip_rate" in spec:
        fields["max_flip_rate"] = _share(spec["max_flip_rate"], context, "max_flip_rate")
    for key in ("min_rate", "max_rate"):
        if key in spec:
            table = spec[key]
            if not isinstance(table, Mapping):
                raise ScenarioError(f"{context}: {key} must be a table {{label = share}}")
            fields[key] = {str(k): _share(v, context, f"{key} of {k!r}") for k, v in table.items()}
    return replace(base, **fields)


# ---------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    """A scenario as written in the file (selectors and macro unresolved)."""

    name: str
    description: str = ""
    shocks: tuple[Shock, ...] = ()
    macro: Mapping[str, float] = field(default_factory=dict)
    population: Filter | None = None
    tolerance: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ScenarioSuite:
    """A validated scenario file: scenarios, elasticities, tolerance, provenance."""

    scenarios: tuple[Scenario, ...]
    path: str
    sha256: str
    text: str
    tolerance: Mapping[str, Any] | None = None
    elasticities: Mapping[str, Mapping[str, Mapping[str, float]]] = field(default_factory=dict)
    macro_variables: Mapping[str, str] = field(default_factory=dict)
    missing_columns: str = "error"

    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]


_TOP_KEYS = ("version", "description", "tolerance", "macro", "scenario", "scenarios")
_SCENARIO_KEYS = ("name", "description", "shocks", "macro", "population", "tolerance")


def _parse_macro(spec: Any, *, context: str) -> tuple[dict, dict, str]:
    if not isinstance(spec, Mapping):
        raise ScenarioError(f"{context}: [macro] must be a table")
    _check_keys(spec, (), ("variables", "elasticities", "missing_columns"), context)
    variables = spec.get("variables", {})
    if not isinstance(variables, Mapping) or not all(isinstance(v, str) for v in variables.values()):
        raise ScenarioError(f"{context}: macro.variables must map names to descriptions")
    missing_columns = spec.get("missing_columns", "error")
    if missing_columns not in ("error", "skip"):
        raise ScenarioError(f"{context}: missing_columns must be \"error\" or \"skip\", got {missing_columns!r}")
    elasticities: dict[str, dict[str, dict[str, float]]] = {}
    table = spec.get("elasticities", {})
    if not isinstance(table, Mapping):
        raise ScenarioError(f"{context}: macro.elasticities must be a table per macro variable")
    for variable, columns in table.items():
        where = f"{context} elasticities.{variable}"
        if not isinstance(columns, Mapping) or not columns:
            raise ScenarioError(f"{where}: expected a table {{column = {{relative = e}}}}")
        elasticities[str(variable)] = {}
        for column, families in columns.items():
            if not isinstance(families, Mapping) or not families:
                raise ScenarioError(f"{where}.{column}: expected {{relative|absolute|quantile_shift = e}}")
            for family, coefficient in families.items():
                if family not in MACRO_FAMILIES:
                    raise ScenarioError(
                        f"{where}.{column}: unknown elasticity type {family!r}; expected one of "
                        f"{', '.join(MACRO_FAMILIES)}"
                    )
                if not _number(coefficient):
                    raise ScenarioError(f"{where}.{column}.{family}: must be a number, got {coefficient!r}")
            elasticities[str(variable)][str(column)] = {k: float(v) for k, v in families.items()}
    return elasticities, dict(variables), missing_columns


def parse_scenarios(text: str, *, fmt: str = "toml", path: str = "<string>") -> ScenarioSuite:
    """Parse and validate scenario file text (``fmt`` "toml" or "yaml").

    Validates everything that does not need the data: keys, shock types,
    magnitudes, filters, macro variables against the elasticity table.
    Column names are checked against the data by :func:`resolve`.
    """
    where = f"scenario file {path}"
    try:
        if fmt == "toml":
            document = tomllib.loads(text)
        elif fmt == "yaml":
            import yaml

            document = yaml.safe_load(text)
        else:
            raise ScenarioError(f"{where}: unknown format {fmt!r}; expected toml or yaml", path=path)
    except ScenarioError:
        raise
    except Exception as exc:  # TOMLDecodeError, YAMLError: report position and cause
        raise ScenarioError(f"{where}: not valid {fmt.upper()}: {exc}", path=path) from None
    if not isinstance(document, Mapping):
        raise ScenarioError(f"{where}: expected a table at the top level", path=path)
    try:
        return _parse_document(document, text=text, path=path)
    except ScenarioError as exc:
        if exc.path is None:
            exc.path = path
        raise


def _parse_document(document: Mapping[str, Any], *, text: str, path: str) -> ScenarioSuite:
    where = f"scenario file {path}"
    _check_keys(document, (), _TOP_KEYS, where)
    if "scenario" in document and "scenarios" in document:
        raise ScenarioError(f"{where}: give either 'scenario' or 'scenarios', not both")
    entries = document.get("scenario", document.get("scenarios"))
    if not isinstance(entries, list) or not entries:
        raise ScenarioError(f"{where}: no scenarios; add [[scenario]] tables with a name and shocks")
    tolerance = document.get("tolerance")
    if tolerance is not None:
        parse_tolerance(tolerance, context=f"{where} [tolerance]")
    elasticities, variables, missing_columns = _parse_macro(
        document.get("macro", {}), context=f"{where} [macro]"
    )
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise ScenarioError(f"{where}: scenario #{number} must be a table")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ScenarioError(f"{where}: scenario #{number} needs a non-empty name")
        context = f"{where}, scenario {name!r}"
        if name in seen:
            raise ScenarioError(f"{context}: duplicate scenario name", scenario=name)
        seen.add(name)
        try:
            _check_keys(entry, ("name",), _SCENARIO_KEYS, context)
            shocks_spec = entry.get("shocks", [])
            if not isinstance(shocks_spec, list):
                raise ScenarioError(f"{context}: shocks must be a list of tables")
            shocks = tuple(
                _parse_shock(spec, context=f"{context} shock #{i}")
                for i, spec in enumerate(shocks_spec, start=1)
            )
            macro = entry.get("macro", {})
            if not isinstance(macro, Mapping):
                raise ScenarioError(f"{context}: macro must be a table {{variable = level}}")
            for variable, level in macro.items():
                if variable not in elasticities:
                    known = ", ".join(elasticities) or "none declared"
                    raise ScenarioError(
                        f"{context}: macro variable {variable!r} has no elasticities in "
                        f"[macro.elasticities]; known: {known}"
                    )
                if not _number(level):
                    raise ScenarioError(f"{context}: macro {variable} must be a number, got {level!r}")
            if not shocks and not macro:
                raise ScenarioError(f"{context}: no shocks and no macro variables")
            scenario_tolerance = entry.get("tolerance")
            if scenario_tolerance is not None:
                parse_tolerance(scenario_tolerance, context=f"{context} tolerance")
            description = entry.get("description", "")
            if not isinstance(description, str):
                raise ScenarioError(f"{context}: description must be text")
            scenarios.append(
                Scenario(
                    name=name,
                    description=description,
                    shocks=shocks,
                    macro={str(k): float(v) for k, v in macro.items()},
                    population=parse_filter(entry.get("population"), context=f"{context} population"),
                    tolerance=scenario_tolerance,
                )
            )
        except ScenarioError as exc:
            exc.scenario = name
            raise
    return ScenarioSuite(
        scenarios=tuple(scenarios),
        path=path,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        text=text,
        tolerance=tolerance,
        elasticities=elasticities,
        macro_variables=variables,
        missing_columns=missing_columns,
    )


BUILTIN_SCENARIOS = "default_scenarios.toml"


def load_scenarios(path: str | None = None) -> ScenarioSuite:
    """Read and validate a scenario file; ``None`` or "" is the built-in suite.

    The format follows the extension: ``.toml``, or ``.yaml`` / ``.yml``. The
    suite records the file's sha256 (of its UTF-8 text) for the run manifest.
    """
    if not path:
        text = resources.files("mlreport").joinpath(BUILTIN_SCENARIOS).read_text("utf-8")
        return parse_scenarios(text, fmt="toml", path=f"mlreport/{BUILTIN_SCENARIOS} (built-in)")
    lowered = path.lower()
    if lowered.endswith(".toml"):
        fmt = "toml"
    elif lowered.endswith((".yaml", ".yml")):
        fmt = "yaml"
    else:
        raise ScenarioError(f"scenario file {path}: expected a .toml, .yaml or .yml file", path=path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ScenarioError(f"scenario file {path}: cannot read: {exc.strerror}", path=path) from None
    return parse_scenarios(text, fmt=fmt, path=path)


# ---------------------------------------------------------------- resolution


@dataclass(frozen=True)
class ResolvedScenario:
    """A scenario ready to apply: concrete columns, macro expanded, tolerance set."""

    name: str
    description: str
    shocks: tuple[Shock, ...]
    population: Filter | None
    tolerance: Tolerance
    notes: tuple[str, ...] = ()
    applicable: bool = True
    macro: Mapping[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        text = "; ".join(s.describe() for s in self.shocks) or "no shocks"
        if self.population is not None:
            text += f" (population: {self.population.describe()})"
        return text


def _selected(
    selector: str,
    kind: str,
    frame: pd.DataFrame,
    features: Sequence[str],
    importance: Sequence[str] | None,
) -> list[str]:
    numeric = [f for f in features if is_numeric(frame[f])]
    categorical = [f for f in features if not is_numeric(frame[f])]
    if kind in _NUMERIC_ONLY:
        categorical = []
    if kind in _CATEGORICAL_ONLY:
        numeric = []
    if selector == "@numeric":
        return numeric
    if selector == "@categorical":
        return categorical
    if selector == "@all":
        return [f for f in features if f in numeric or f in categorical]
    pool = numeric if selector == "@top_numeric" else categorical
    order = [f for f in (importance or features) if f in pool]
    return order[:1]


def _check_column(shock: Shock, frame: pd.DataFrame, context: str) -> None:
    if shock.column not in frame.columns:
        raise ScenarioError(f"{context}: column {shock.column!r} is not in the data")
    numeric = is_numeric(frame[shock.column])
    if shock.kind in _NUMERIC_ONLY and not numeric:
        raise ScenarioError(
            f"{context}: a {shock.kind} shock needs a numeric column; {shock.column!r} is "
            f"{frame[shock.column].dtype}"
        )
    if shock.kind in _CATEGORICAL_ONLY and numeric:
        raise ScenarioError(
            f"{context}: a {shock.kind} shock needs a categorical column; {shock.column!r} is numeric"
        )
    if shock.kind == "set_value" and shock.value in ("mean", "median") and not numeric:
        raise ScenarioError(f"{context}: value {shock.value!r} needs a numeric column, not {shock.column!r}")
    if shock.kind == "set_value" and numeric and isinstance(shock.value, str) and shock.value not in _VALUE_KEYWORDS:
        raise ScenarioError(
            f"{context}: value {shock.value!r} for numeric column {shock.column!r}; expected a "
            f"number or one of {', '.join(_VALUE_KEYWORDS)}"
        )
    if shock.where is not None:
        for column in shock.where.columns:
            if column not in frame.columns:
                raise ScenarioError(f"{context}: filter column {column!r} is not in the data")


def resolve(
    suite: ScenarioSuite,
    *,
    frame: pd.DataFrame,
    features: Sequence[str],
    importance: Sequence[str] | None = None,
    tolerance: Tolerance | None = None,
) -> list[ResolvedScenario]:
    """Check a suite against the data and expand selectors and macro variables.

    ``features`` are the model's features (selectors choose among them);
    ``importance`` orders them most important first for ``@top_*``. Tolerance
    precedence: a scenario's own table, else the file's ``[tolerance]``, else
    ``tolerance`` (the run's). Macro elasticities are added up per column and
    family (a first-order, not compounded, combination) and applied in the
    order quantile_shift, relative, absolute, before the scenario's own shocks.
    A scenario whose selectors match no column, or whose macro columns are all
    absent under ``missing_columns = "skip"``, is marked not applicable.
    """
    base = tolerance or Tolerance()
    if suite.tolerance is not None:
        base = parse_tolerance(suite.tolerance, context=f"scenario file {suite.path} [tolerance]", base=base)
    resolved: list[ResolvedScenario] = []
    for scenario in suite.scenarios:
        context = f"scenario file {suite.path}, scenario {scenario.name!r}"
        notes: list[str] = []
        shocks: list[Shock] = []
        try:
            if scenario.population is not None:
                for column in scenario.population.columns:
                    if column not in frame.columns:
                        raise ScenarioError(f"{context}: population filter column {column!r} is not in the data")
            combined: dict[tuple[str, str], float] = {}
            for variable, level in scenario.macro.items():
                for column, families in suite.elasticities[variable].items():
                    if column not in frame.columns:
                        if suite.missing_columns == "error":
                            raise ScenarioError(
                                f"{context}: macro variable {variable!r} maps onto column "
                                f"{column!r}, which is not in the data"
                            )
                        notes.append(f"{variable}: column {column} not in the data, skipped")
                        continue
                    for family, coefficient in families.items():
                        key = (column, family)
                        combined[key] = combined.get(key, 0.0) + coefficient * level
            for family in MACRO_FAMILIES:
                for (column, kind), by in combined.items():
                    if kind == family and by != 0:
                        if kind == "quantile_shift":
                            by = min(max(by, -1.0), 1.0)
                        if kind == "relative":
                            by = max(by, -1.0)
                        shock = Shock(kind=kind, column=column, by=by)
                        _check_column(shock, frame, context)
                        shocks.append(shock)
            if scenario.macro and not combined:
                notes.append("no macro elasticity column is in the data")
            for number, shock in enumerate(scenario.shocks, start=1):
                where = f"{context} shock #{number}"
                if shock.column in SELECTORS:
                    columns = _selected(shock.column, shock.kind, frame, features, importance)
                    if not columns:
                        notes.append(f"shock #{number}: {shock.column} matches no {shock.kind} feature")
                    if shock.column.startswith("@top") and importance is None and columns:
                        notes.append(f"{shock.column} without importance: first such feature, {columns[0]}")
                    for column in columns:
                        concrete = replace(shock, column=column)
                        _check_column(concrete, frame, where)
                        shocks.append(concrete)
                else:
                    _check_column(shock, frame, where)
                    if shock.column not in features:
                        notes.append(f"{shock.column} is not a model feature: it cannot move scores")
                    shocks.append(shock)
            scenario_tolerance = base
            if scenario.tolerance is not None:
                scenario_tolerance = parse_tolerance(scenario.tolerance, context=f"{context} tolerance", base=base)
        except ScenarioError as exc:
            exc.scenario, exc.path = scenario.name, suite.path
            raise
        resolved.append(
            ResolvedScenario(
                name=scenario.name,
                description=scenario.description,
                shocks=tuple(shocks),
                population=scenario.population,
                tolerance=scenario_tolerance,
                notes=tuple(notes),
                applicable=bool(shocks),
                macro=dict(scenario.macro),
            )
        )
    return resolved


# ---------------------------------------------------------------- reference


@dataclass(frozen=True)
class ColumnReference:
    """What the shocks need to know about one column's reference distribution.

    Numeric columns keep a table of type-7 (linear) quantiles at 10,001 equally
    spaced probabilities: ``quantile(p)`` interpolates it linearly. ``rank(x)``
    is its inverse, with tied values sharing the middle of their probability
    interval (midrank), interpolated linearly between distinct values and
    clamped at the ends. On a reference of distinct values whose size n has
    (n - 1) dividing 10,000, these are exactly the linearly interpolated ECDF
    and its inverse.

    Numeric statistics are fitted on the finite values only: ±inf (a division
    by zero upstream) would make every interpolation next to it inf - inf.
    ``nonfinite`` counts the ±inf values left out.
    """

    numeric: bool
    mean: float = math.nan
    median: float = math.nan
    std: float = math.nan
    last: Any = None
    quantiles: np.ndarray | None = None
    rank_values: np.ndarray | None = None
    rank_probabilities: np.ndarray | None = None
    categories: tuple[str, ...] = ()
    nonfinite: int = 0

    @classmethod
    def fit(cls, series: pd.Series) -> "ColumnReference":
        present = series.dropna()
        last = present.iloc[-1] if len(present) else None
        if not is_numeric(series):
            return cls(numeric=False, last=last, categories=tuple(sorted(map(str, present.unique()))))
        values = present.to_numpy(dtype="float64")
        finite = np.isfinite(values)
        nonfinite = int(values.size - np.count_nonzero(finite))
        values = np.sort(values[finite]) if nonfinite else np.sort(values)
        if not len(values):
            return cls(numeric=True, nonfinite=nonfinite)
        quantiles = _type7(values, _QUANTILE_GRID)
        distinct, first = np.unique(quantiles, return_index=True)
        last_index = np.append(first[1:] - 1, len(quantiles) - 1)
        middle = (_QUANTILE_GRID[first] + _QUANTILE_GRID[last_index]) / 2
        return cls(
            numeric=True,
            mean=float(values.mean()),
            median=float(np.median(values)),
            std=float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            last=float(last),
            quantiles=quantiles,
            rank_values=distinct,
            rank_probabilities=middle,
            nonfinite=nonfinite,
        )

    def rank(self, values: np.ndarray) -> np.ndarray:
        """Reference probability rank of each value, in [0, 1]."""
        return np.interp(values, self.rank_values, self.rank_probabilities)

    def quantile(self, probabilities: np.ndarray) -> np.ndarray:
        """Reference quantile function (linear interpolation of the table)."""
        return np.interp(probabilities, _QUANTILE_GRID, self.quantiles)


def _type7(sorted_values: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Type-7 quantiles (numpy's default 'linear') of already sorted values."""
    position = probabilities * (len(sorted_values) - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + fraction * (sorted_values[high] - sorted_values[low])


class Reference:
    """Per-column reference statistics, fitted once and reused by every shock."""

    def __init__(self, columns: Mapping[str, ColumnReference]) -> None:
        self.columns = dict(columns)

    @classmethod
    def fit(cls, frame: pd.DataFrame, columns: Sequence[str] | None = None) -> "Reference":
        """Fit on ``frame`` (rows in time order, for "stale" values)."""
        names = list(columns) if columns is not None else list(frame.columns)
        return cls({name: ColumnReference.fit(frame[name]) for name in names})

    def extended(self, frame: pd.DataFrame, columns: Sequence[str]) -> "Reference":
        """This reference plus statistics for ``columns`` not fitted yet."""
        missing = [c for c in dict.fromkeys(columns) if c not in self.columns]
        if not missing:
            return self
        return Reference({**self.columns, **Reference.fit(frame, missing).columns})

    def __getitem__(self, column: str) -> ColumnReference:
        if column not in self.columns:
            raise ScenarioError(f"column {column!r} has no reference statistics (not fitted)")
        return self.columns[column]


# ---------------------------------------------------------------- applying


def scenario_rng(seed: int, key: str) -> np.random.Generator:
    """The random generator of one scenario: ``default_rng([seed, crc32(key)])``."""
    return np.random.default_rng([int(seed), zlib.crc32(key.encode("utf-8"))])


def _choose(rng: np.random.Generator, eligible: np.ndarray, share: float) -> np.ndarray:
    """Exactly round(share * n) of the eligible positions (half up), seeded."""
    count = int(math.floor(share * len(eligible) + 0.5))
    return rng.permutation(eligible)[:count]


def _numeric_result(values: np.ndarray, original: pd.Series) -> pd.Series:
    dtype = original.dtype
    if pd.api.types.is_integer_dtype(dtype):
        values = np.rint(values)
        if isinstance(dtype, np.dtype):
            if np.isnan(values).any():
                return pd.Series(values, index=original.index, name=original.name)
            return pd.Series(values.astype(dtype), index=original.index, name=original.name)
        # Nullable integers keep their dtype; NaN becomes <NA>.
        array = pd.array(np.where(np.isnan(values), 0, values).astype("int64"), dtype=dtype)
        array[np.isnan(values)] = pd.NA
        return pd.Series(array, index=original.index, name=original.name)
    if isinstance(dtype, np.dtype):
        return pd.Series(values.astype(dtype, copy=False), index=original.index, name=original.name)
    return pd.Series(pd.array(values, dtype=dtype), index=original.index, name=original.name)


def _settable(series: pd.Series, new: Sequence[str]) -> pd.Series:
    """A copy of a non-numeric column that accepts the labels ``new`` and missing.

    Categorical columns gain the new categories; boolean columns become object
    (a boolean column cannot hold a missing value or a new label).
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        extra = [c for c in dict.fromkeys(new) if c not in series.cat.categories]
        return series.cat.add_categories(extra) if extra else series.copy()
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(object)
    return series.copy()


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to ``total`` closest to ``shares * total``."""
    exact = shares * total
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        # Largest fractional parts first; ties to the earlier (sorted) category.
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def _reweight(
    values: np.ndarray, eligible: np.ndarray, shock: Shock, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Rows to relabel and their new labels, for exact target category counts.

    Only surplus categories lose rows (chosen by a seeded permutation) and only
    deficit categories gain them, so the fewest rows change.
    """
    labels = values[eligible].astype(str)
    present, counts = np.unique(labels, return_counts=True)
    total = int(counts.sum())
    if shock.shares == "uniform":
        categories = present
        targets = np.full(len(present), 1.0 / len(present)) if len(present) else np.array([])
    else:
        listed = dict(shock.shares)
        rest = [c for c in present if c not in listed]
        remaining = max(0.0, 1.0 - sum(listed.values()))
        rest_total = sum(int(counts[present == c][0]) for c in rest)
        categories = np.array(sorted(set(present) | set(listed)), dtype=object)
        targets = np.array(
            [
                listed[c]
                if c in listed
                else (remaining * int(counts[present == c][0]) / rest_total if rest_total else 0.0)
                for c in categories
            ]
        )
        if targets.sum() > 0:
            targets = targets / targets.sum()
    current = np.array([int(counts[present == c][0]) if c in present else 0 for c in categories])
    wanted = _largest_remainder(np.asarray(targets, dtype=float), total)
    moved: list[np.ndarray] = []
    for category, have, want in zip(categories, current, wanted):
        if have > want:
            rows = eligible[labels == category]
            moved.append(rng.permutation(rows)[: have - want])
    rows = np.concatenate(moved) if moved else np.array([], dtype=np.int64)
    destinations = np.repeat(
        np.array(categories, dtype=object), np.maximum(wanted - current, 0)
    )
    return rows, rng.permutation(destinations)


def apply_shock(
    frame: pd.DataFrame,
    shock: Shock,
    reference: Reference,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """``frame`` with one shock applied (a new frame; the input is unchanged).

    Only the shocked column is replaced, so the copy costs one column.
    """
    column = frame[shock.column]
    eligible = np.arange(len(frame))
    if shock.where is not None:
        eligible = np.flatnonzero(shock.where.mask(frame, context=f"shock {shock.describe()}"))
    out = frame.copy(deep=False)
    ref = reference[shock.column]

    if shock.kind in _NUMERIC_ONLY:
        values = column.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        target = values[eligible]
        if shock.kind == "relative":
            target = target * (1.0 + shock.by)
        elif shock.kind == "absolute":
            target = target + shock.by
        elif shock.kind == "quantile_shift":
            if shock.by != 0 and ref.quantiles is not None:
                # Missing and infinite values keep their place: an infinity has no rank to move.
                present = np.isfinite(target)
                moved = np.clip(ref.rank(target[present]) + shock.by, 0.0, 1.0)
                target[present] = ref.quantile(moved)
        elif shock.kind == "noise":
            # Draw for every eligible row (even missing ones) so draws do not
            # depend on where the gaps are.
            noise = rng.standard_normal(len(eligible)) * shock.sd * (ref.std if ref.std == ref.std else 0.0)
            target = target + noise
        values[eligible] = target
        out[shock.column] = _numeric_result(values, column)
        return out

    if shock.kind == "category_reweight":
        present = eligible[column.iloc[eligible].notna().to_numpy()]
        rows, labels = _reweight(column.to_numpy(dtype=object), present, shock, rng)
        series = _settable(column, [str(v) for v in labels])
        if len(rows):
            series.iloc[rows] = labels
        out[shock.column] = series
        return out

    if shock.kind == "category_remap" and shock.source is not None:
        keep = column.iloc[eligible].astype(str).isin(list(shock.source))
        eligible = eligible[keep.to_numpy(dtype=bool, na_value=False)]
    chosen = _choose(rng, eligible, shock.share)

    if shock.kind == "category_remap":
        series = _settable(column, [shock.to])
        series.iloc[chosen] = shock.to
        out[shock.column] = series
        return out

    value = shock.value
    if shock.kind == "set_value":
        if value == "stale":
            value = ref.last
        elif value == "mean":
            value = ref.mean
        elif value == "median":
            value = ref.median
    else:  # set_missing
        value = None
    if is_numeric(column):
        values = column.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        values[chosen] = np.nan if value is None else float(value)
        out[shock.column] = _numeric_result(values, column)
    else:
        series = _settable(column, [] if value is None else [str(value)])
        series.iloc[chosen] = value
        out[shock.column] = series
    return out


def apply_scenario(
    frame: pd.DataFrame,
    shocks: Sequence[Shock],
    reference: Reference,
    *,
    seed: int,
    key: str,
) -> pd.DataFrame:
    """Apply ``shocks`` in order with the generator of ``(seed, key)``.

    Later shocks see the earlier ones' output, including in their ``where``
    filters. The input frame is left unchanged.
    """
    rng = scenario_rng(seed, key)
    for shock in shocks:
        frame = apply_shock(frame, shock, reference, rng)
    return frame
