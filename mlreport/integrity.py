"""Data-integrity checks: the first section of every drift report.

Integration failures are the commonest incident behind a model that "drifted":
a feature silently defaulted to 0, a bureau call timing out to nulls, a renamed
column, a feed that stopped. These checks compare the current data with the
reference and say what broke, in which column, by how much and since when.

Checks (each a public function returning :class:`CheckResult`; all of them at
once through :func:`check_integrity`):

``schema_diff``       missing, new and type-changed columns; mixed-type columns
``missing_change``    share of null rows, reference against current
``sentinel_spikes``   share of the modal value and of sentinels (0, -1, 999999,
                      "unknown", ...): "defaulted to 0" shows up here
``out_of_range``      share of current values outside the reference's [min, max]
``category_changes``  new categories (with their share) and vanished ones
``constant_columns``  a column that varied in the reference is constant now
``non_finite``        infinities in numeric columns
``duplicate_ids``     repeated ids in the current data
``freshness``         latest timestamp against the expected end of the window
``rows_per_period``   current rows per period against the reference's typical count

Conventions (also in :func:`methods`, printed in the report's appendix):

* Shares are fractions of rows in tables and percentages in messages; thresholds
  on shares are in percentage points (``*_pp``).
* Every rate check needs an absolute effect AND statistical significance, so the
  same thresholds work at 10^3 and 10^6 rows: at 10^3 rows noise never reaches
  significance, at 10^6 rows a significant but tiny change never reaches the
  absolute threshold. Significance is one-sided (only increases are alarms) at
  ``alpha`` (default 0.001), Bonferroni-corrected over the columns (and for
  spikes the values, for volume the periods) a check looks at, so a clean
  dataset of twenty columns raises an alarm in about one run in a thousand.
* Two-proportion comparisons use the pooled z-test, or Fisher's exact test
  (hypergeometric tail) when an expected cell count is below 5.
* Out-of-range and new-category shares have no reference share to compare with;
  they are tested against the rate expected if current rows came from the
  reference distribution: ``2 / (n + 1)`` for falling outside the range of ``n``
  reference values, and the Good-Turing unseen mass ``singletons / n`` (at
  least ``1 / (n + 1)``) for an unseen category. So an id-like column whose
  values are all new is not flagged.
* When the current data has a timestamp, a finding's ``period`` is the onset:
  the first period of the most likely single step in the rate (Bernoulli
  likelihood, reference rows counted as before the step).
* Timestamps are compared as naive UTC; time-zone-aware columns are converted.

Thresholds live in :data:`DEFAULT_THRESHOLDS` (with a version string) and can be
overridden per check (``{"missing": {"incident_pp": 10}}``) and per column
(``{"columns": {"bureau_score": {"missing": {"warning_pp": 2}}}}``).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from scipy import special, stats

from .errors import DataError, ParameterError
from .findings import Finding, severity_rank, worst

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SECTION",
    "CheckResult",
    "IntegrityResult",
    "check_integrity",
    "schema_diff",
    "missing_change",
    "sentinel_spikes",
    "out_of_range",
    "category_changes",
    "constant_columns",
    "non_finite",
    "duplicate_ids",
    "freshness",
    "rows_per_period",
    "merge_thresholds",
    "methods",
    "increase_pvalue",
]

SECTION = "Data integrity"

DEFAULT_THRESHOLDS: dict[str, Any] = {
    "version": "integrity-1",
    # One-sided significance level of every test; a check or column may override it.
    "alpha": 0.001,
    # Below this many current rows the tests have little power: a warning says so.
    "min_rows": 30,
    # Longest list of categories or ids quoted in a message or table cell.
    "max_listed": 5,
    "missing": {"warning_pp": 1.0, "incident_pp": 5.0},
    # A spike also needs the share to grow by min_ratio, so that a common value
    # growing with ordinary drift (40% -> 48%) is left to the drift checks.
    "sentinel": {
        "warning_pp": 2.0,
        "incident_pp": 5.0,
        "min_ratio": 1.5,
        "top_values": 5,
        "values": [0, -1, -9, -99, -999, -9999, 99, 999, 9999, 99999, 999999, 9999999],
        "strings": ["", "unknown", "n/a", "na", "nan", "null", "none", "missing", "-", "?"],
    },
    "out_of_range": {"warning_pp": 1.0, "incident_pp": 5.0},
    "new_category": {"warning_pp": 1.0, "incident_pp": 5.0},
    # Share of reference rows whose category is absent from the current data.
    "vanished_category": {"warning_pp": 1.0, "incident_pp": 5.0},
    # Any infinity where the reference had none is a warning.
    "non_finite": {"incident_pp": 1.0},
    # Any duplicate id is an incident unless the reference had the same rate.
    "duplicate_ids": {},
    "constant": {},
    # Lag of the latest timestamp behind the expected end, in periods.
    "freshness": {"warning_periods": 1.0, "incident_periods": 2.0},
    # Fractional drop of a period's rows below the reference's typical count;
    # a surge (rows >= (1 + surge) x typical) is a warning.
    "rows_per_period": {"warning_drop": 0.3, "incident_drop": 0.5, "surge": 1.0},
    "columns": {},
}

_CHECKS = tuple(k for k, v in DEFAULT_THRESHOLDS.items() if isinstance(v, dict) and k != "columns")
_SCALARS = ("alpha", "min_rows", "max_listed")

# Above this many values the modal candidates of a numeric column are found on an
# evenly spaced sample (their shares are then counted exactly on all rows): a
# value holding 2% of rows appears about 1,000 times in the sample.
_MODE_SAMPLE = 50_000
# Sentinel strings are looked for among this many most frequent categories.
_SENTINEL_SCAN = 1_000

_SCHEMA_COLUMNS = ["column", "in_reference", "in_current", "reference_dtype", "current_dtype",
                   "reference_type", "current_type", "status", "severity"]
_VOLUME_COLUMNS = ["period", "reference_typical", "expected", "rows", "ratio", "partial",
                   "severity"]
_TIMELINE_COLUMNS = ["check", "column", "period", "rows", "count", "share", "reference_share"]


class CheckResult(NamedTuple):
    """What one check found: a tidy table, its findings and per-period rates.

    ``timeline`` holds, for each finding with an onset, the current share per
    period (columns ``check, column, period, rows, count, share,
    reference_share``); it is empty without a timestamp.
    """

    table: pd.DataFrame
    findings: list[Finding]
    timeline: pd.DataFrame


@dataclass
class IntegrityResult:
    """All integrity checks of one reference/current comparison.

    ``schema``: one row per column (presence, dtypes, type family, status).
    ``columns``: one row per checked column with every per-column figure.
    ``volume``: rows per period, reference typical against current.
    ``freshness``: one row (latest timestamp, expected end, lag).
    ``thresholds``: every threshold used, with the policy version.
    ``methods``: one convention string per check, for the appendix.
    """

    findings: list[Finding]
    schema: pd.DataFrame
    columns: pd.DataFrame
    volume: pd.DataFrame
    freshness: pd.DataFrame
    timeline: pd.DataFrame
    thresholds: dict[str, Any]
    methods: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The worst severity among the findings (``ok`` when there are none)."""
        return worst(f.severity for f in self.findings)


# --------------------------------------------------------------------------- thresholds


def merge_thresholds(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """:data:`DEFAULT_THRESHOLDS` with ``overrides`` applied, validated.

    Unknown checks or keys raise :class:`ParameterError`. When anything is
    overridden and no ``version`` is given, the version gains ``+custom`` so the
    report's appendix shows that the policy differs from the defaults.
    """
    merged = copy.deepcopy(DEFAULT_THRESHOLDS)
    if not overrides:
        return merged
    if not isinstance(overrides, Mapping):
        raise ParameterError("thresholds must be a dict of check -> {key: value}",
                             name="thresholds")
    for key, value in overrides.items():
        if key == "version":
            merged["version"] = str(value)
        elif key in _SCALARS:
            merged[key] = _number(value, f"thresholds[{key!r}]")
        elif key in _CHECKS:
            _merge_check(merged[key], value, f"thresholds[{key!r}]")
        elif key == "columns":
            if not isinstance(value, Mapping):
                raise ParameterError("thresholds['columns'] must map column -> "
                                     "{check: {key: value}}", name="thresholds")
            for column, checks in value.items():
                if not isinstance(checks, Mapping):
                    raise ParameterError(f"thresholds['columns'][{column!r}] must map check -> "
                                         "{key: value}", name="thresholds")
                target = merged["columns"].setdefault(str(column), {})
                for check, limits in checks.items():
                    where = f"thresholds['columns'][{column!r}][{check!r}]"
                    if check not in _CHECKS:
                        raise ParameterError(f"{where}: unknown check; expected one of "
                                             f"{', '.join(_CHECKS)}", name="thresholds")
                    template = {**DEFAULT_THRESHOLDS[check], "alpha": 0.0}
                    _merge_check(target.setdefault(check, {}), limits, where, template)
        else:
            raise ParameterError(f"thresholds: unknown key {key!r}; expected version, "
                                 f"{', '.join(_SCALARS)}, columns or a check "
                                 f"({', '.join(_CHECKS)})", name="thresholds")
    if "version" not in overrides:
        merged["version"] = f"{DEFAULT_THRESHOLDS['version']}+custom"
    return merged


def _merge_check(target: dict[str, Any], limits: Any, where: str,
                 template: Mapping[str, Any] | None = None) -> None:
    template = template if template is not None else {**target, "alpha": 0.0}
    if not isinstance(limits, Mapping):
        raise ParameterError(f"{where} must be a dict of threshold -> value", name="thresholds")
    for name, value in limits.items():
        if name not in template:
            raise ParameterError(f"{where}: unknown threshold {name!r}; expected one of "
                                 f"{', '.join(sorted(template))}", name="thresholds")
        if isinstance(template[name], list):
            if not isinstance(value, (list, tuple)):
                raise ParameterError(f"{where}[{name!r}] must be a list", name="thresholds")
            target[name] = list(value)
        else:
            target[name] = _number(value, f"{where}[{name!r}]")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"{where} must be a finite number, got {value!r}", name="thresholds")
    return value


def _limit(thresholds: Mapping[str, Any], check: str, column: str | None, key: str) -> Any:
    """A threshold for one check and column: column override, check value, global."""
    if column is not None:
        per_column = thresholds.get("columns", {}).get(column, {}).get(check, {})
        if key in per_column:
            return per_column[key]
    check_limits = thresholds.get(check, {})
    if key in check_limits:
        return check_limits[key]
    return thresholds[key]


def methods(thresholds: Mapping[str, Any] | None = None) -> dict[str, str]:
    """One convention string per check, with the thresholds in force."""
    t = merge_thresholds(None) if thresholds is None else thresholds
    a = t["alpha"]
    test = (f"one-sided two-proportion z-test (pooled), Fisher exact when an expected "
            f"count < 5; Bonferroni over the columns checked; alpha {a:g}")
    m, s, o = t["missing"], t["sentinel"], t["out_of_range"]
    nc, vc, nf = t["new_category"], t["vanished_category"], t["non_finite"]
    fr, rp = t["freshness"], t["rows_per_period"]
    return {
        "schema": "column presence and type family (numeric, boolean, string, datetime, "
                  "mixed) compared; missing column or changed type incident, new column "
                  "warning, mixed types incident (warning if the reference was mixed too)",
        "missing": f"share of null rows; {test}; warning >= {m['warning_pp']:g} pp increase and "
                   f"significant, incident >= {m['incident_pp']:g} pp and significant or the "
                   "column entirely null",
        "sentinel": f"share of rows equal to each modal value (top {s['top_values']:g} of each "
                    "window) and each sentinel value; "
                    f"{test} and the distinct current values; spike also needs share >= "
                    f"{s['min_ratio']:g} x reference; warning "
                    f">= {s['warning_pp']:g} pp, incident >= {s['incident_pp']:g} pp",
        "out_of_range": "share of non-null finite current values below the reference minimum or "
                        "above its maximum; one-sided binomial test against 2/(n+1), the rate "
                        "expected for exchangeable data, Bonferroni over the columns checked, "
                        f"alpha {a:g}; warning >= "
                        f"{o['warning_pp']:g} pp, incident >= {o['incident_pp']:g} pp",
        "new_category": "share of non-null current values in categories absent from the "
                        "reference; one-sided binomial test against the Good-Turing unseen mass "
                        "max(singletons/n, 1/(n+1)), Bonferroni over the columns checked, "
                        f"alpha {a:g}; warning >= "
                        f"{nc['warning_pp']:g} pp, incident >= {nc['incident_pp']:g} pp",
        "vanished_category": "reference categories with no current row, significant when "
                             f"(1 - p)^n < alpha {a:g} / (categories x columns); graded on "
                             "their summed reference share: "
                             f"warning >= {vc['warning_pp']:g} pp, incident >= "
                             f"{vc['incident_pp']:g} pp",
        "constant": "a column with one distinct non-null value in current and more in the "
                    "reference; incident when the chance of that under the reference, bounded "
                    f"by p_max^(n-1) x columns, is below alpha {a:g}",
        "non_finite": f"share of +/-inf in numeric columns; warning when the reference had none, "
                      f"incident >= {nf['incident_pp']:g} pp and significant ({test})",
        "duplicate_ids": "rows repeating an earlier id in the same window; incident when the "
                         "reference had none or the share rose significantly "
                         f"({test}), warning when the reference had the same rate",
        "freshness": "lag of the latest current timestamp behind the expected end, in periods; "
                     "significant when exp(-rate x lag) < alpha at the reference's rows per "
                     f"unit time; warning >= {fr['warning_periods']:g}, incident >= "
                     f"{fr['incident_periods']:g} periods",
        "rows_per_period": "current rows per period against the reference median for the same "
                           "weekday (daily periods) or hour of day (hourly), else the overall "
                           "median; edge periods of the reference excluded, a period shared with "
                           "the reference window not graded; one-sided Poisson test, "
                           "Bonferroni over the periods graded, alpha "
                           f"{a:g}; warning on a drop >= {rp['warning_drop']:.0%}, incident >= "
                           f"{rp['incident_drop']:.0%}; surge >= +{rp['surge']:.0%} warning",
        "onset": "first period of the most likely single step in the rate (Bernoulli "
                 "likelihood over current periods, reference rows counted as before the step)",
    }


# --------------------------------------------------------------------------- statistics


def increase_pvalue(k_ref: Any, n_ref: Any, k_cur: Any,
                    n_cur: Any) -> tuple[np.ndarray, np.ndarray]:
    """One-sided p-value that the current share ``k_cur/n_cur`` exceeds ``k_ref/n_ref``.

    Vectorised. Pooled two-proportion z-test (``statsmodels``' ``proportions_ztest``
    with ``alternative="larger"``); Fisher's exact test (``scipy.stats.fisher_exact``,
    ``alternative="greater"`` on ``[[k_cur, n_cur - k_cur], [k_ref, n_ref - k_ref]]``)
    wherever an expected cell count is below 5. A comparison with an empty window
    has p-value 1. Returns ``(p_values, fisher_used)``.
    """
    k1, n1, k2, n2 = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64)
                                           for x in (k_ref, n_ref, k_cur, n_cur)))
    p_values = np.ones(k1.shape)
    usable = (n1 > 0) & (n2 > 0)
    total = np.where(usable, n1 + n2, 1.0)
    pooled = np.where(usable, (k1 + k2) / total, 0.0)
    expected = np.minimum.reduce([n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)])
    fisher = usable & (expected < 5)
    large = usable & ~fisher
    if large.any():
        p, a, b = pooled[large], n1[large], n2[large]
        z = (k2[large] / b - k1[large] / a) / np.sqrt(p * (1 - p) * (1 / a + 1 / b))
        p_values[large] = stats.norm.sf(z)
    if fisher.any():
        # P(X >= k_cur) for X the current window's count given both margins.
        p_values[fisher] = stats.hypergeom.sf(
            k2[fisher].astype(np.int64) - 1,
            (n1[fisher] + n2[fisher]).astype(np.int64),
            (k1[fisher] + k2[fisher]).astype(np.int64),
            n2[fisher].astype(np.int64),
        )
    return np.clip(p_values, 0.0, 1.0), fisher


def _bonferroni(p_values: Any, tests: int) -> np.ndarray:
    """Bonferroni-adjusted p-values: ``min(1, p x tests)``."""
    return np.minimum(np.asarray(p_values, dtype=np.float64) * max(tests, 1), 1.0)


def _binomial_pvalue(k: float, n: float, p0: float) -> float:
    """One-sided P(X >= k) for X ~ Binomial(n, p0); 1 when there is nothing to test."""
    if n <= 0 or k <= 0:
        return 1.0
    if p0 >= 1:
        return 1.0
    return float(stats.binom.sf(k - 1, n, max(p0, 0.0)))


def _bernoulli_loglik(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    safe_n = np.where(n > 0, n, 1.0)
    rate = k / safe_n
    return special.xlogy(k, rate) + special.xlogy(n - k, 1 - rate)


def _onset_index(k_t: np.ndarray, n_t: np.ndarray, k_before: float, n_before: float,
                 increase: bool = True) -> int | None:
    """Index of the period that starts the most likely single step of a rate.

    Periods before the step share one rate with the reference (``k_before`` of
    ``n_before``); periods from the step on share another, higher (or lower when
    ``increase`` is false) rate.
    """
    if n_t.sum() <= 0:
        return None
    cum_k = np.concatenate([[0.0], np.cumsum(k_t)[:-1]])
    cum_n = np.concatenate([[0.0], np.cumsum(n_t)[:-1]])
    pre_k, pre_n = k_before + cum_k, n_before + cum_n
    post_k, post_n = k_t.sum() - cum_k, n_t.sum() - cum_n
    valid = post_n > 0
    pre_rate = np.divide(pre_k, pre_n, out=np.zeros_like(pre_k), where=pre_n > 0)
    post_rate = np.divide(post_k, post_n, out=np.zeros_like(post_k), where=post_n > 0)
    valid &= (post_rate > pre_rate) if increase else (post_rate < pre_rate)
    if not valid.any():
        return None
    loglik = _bernoulli_loglik(pre_k, pre_n) + _bernoulli_loglik(post_k, post_n)
    loglik = np.where(valid, loglik, -np.inf)
    return int(np.argmax(loglik))


# --------------------------------------------------------------------------- formatting


def _pct(share: float) -> str:
    if share is None or not np.isfinite(share):
        return "n/a"
    if share == 0 or share >= 0.001:
        return f"{share:.1%}"
    return f"{share * 100:.2g}%"


def _value_text(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    return repr(value.item() if isinstance(value, np.generic) else value)


def _rows(count: float) -> str:
    count = int(count)
    return f"{count:,} row{'' if count == 1 else 's'}"


def _listing(items: Sequence[str], total: int, limit: int) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {total - limit:,} more" if total > limit else "")


# --------------------------------------------------------------------------- data preparation


def _family(series: pd.Series) -> str:
    """Type family of a column: numeric, boolean, string, datetime, timedelta, mixed or null."""
    dtype = series.dtype
    if len(series) == 0:
        return _dtype_family(dtype)
    if not series.notna().any():
        return "null"
    if dtype == object:
        inferred = ptypes.infer_dtype(series, skipna=True)
        return {
            "string": "string", "integer": "numeric", "floating": "numeric",
            "mixed-integer-float": "numeric", "decimal": "numeric", "boolean": "boolean",
            "datetime": "datetime", "datetime64": "datetime", "date": "datetime",
            "timedelta": "timedelta", "timedelta64": "timedelta", "empty": "null",
            "categorical": "string",
        }.get(inferred, "mixed")
    return _dtype_family(dtype)


def _dtype_family(dtype: Any) -> str:
    if ptypes.is_bool_dtype(dtype):
        return "boolean"
    if ptypes.is_numeric_dtype(dtype):
        return "numeric"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if ptypes.is_timedelta64_dtype(dtype):
        return "timedelta"
    if isinstance(dtype, pd.CategoricalDtype) or ptypes.is_string_dtype(dtype):
        return "string"
    return "mixed"


def _check_frame(frame: Any, which: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{which} data must be a pandas DataFrame, got {type(frame).__name__}")
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        names = ", ".join(repr(str(c)) for c in dict.fromkeys(duplicated))
        raise DataError(f"{which} data has duplicate column names: {names}; each column "
                        "must appear once", column=str(duplicated[0]))
    return frame


def _parse_timestamps(series: pd.Series, column: str, which: str) -> pd.Series:
    """``series`` as naive-UTC datetimes; DataError naming an unparseable value."""
    if ptypes.is_datetime64_any_dtype(series.dtype):
        parsed = series
    elif _family(series) in ("numeric", "boolean"):
        example = series.dropna().iloc[0]
        raise DataError(f"timestamp column {column!r} in {which} data holds numbers "
                        f"(e.g. {example!r}); expected date-times", column=column)
    else:
        parsed = pd.to_datetime(series, errors="coerce", format="ISO8601", utc=True)
        bad = series.notna().to_numpy() & parsed.isna().to_numpy()
        if bad.any():
            example = series[bad].iloc[0]
            raise DataError(f"timestamp column {column!r} in {which} data: {int(bad.sum()):,} "
                            f"value(s) do not parse as ISO 8601 date-times, e.g. {example!r}",
                            column=column)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed


def _period_alias(period: str | None) -> str:
    period = period or "D"
    try:
        pd.Period("2026-01-01", freq=period)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"period {period!r} is not a pandas period alias ({exc}); "
                             "expected for example 'D', 'W', 'M' or 'h'", name="period") from None
    return period


def _as_timestamp(value: Any, name: str) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and value == ""):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ParameterError(f"{name} {value!r} is not a date-time", name=name) from None
    if ts is pd.NaT:
        raise ParameterError(f"{name} {value!r} is not a date-time", name=name)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _ordinals(times: pd.Series, period: str) -> np.ndarray:
    """Period ordinals of ``times``; NaT becomes the minimum int64."""
    return times.dt.to_period(period).array.asi8


@dataclass
class _Context:
    """Both frames, the resolved column kinds and cached per-column arrays."""

    reference: pd.DataFrame
    current: pd.DataFrame
    thresholds: dict[str, Any]
    checked: list[str]                      # common columns whose values are checked
    families: dict[str, tuple[str, str]]    # column -> (reference, current) type family
    kinds: dict[str, str]                   # numeric / categorical / datetime / other
    id_column: str | None
    timestamp_column: str | None
    period: str
    expected_end: pd.Timestamp | None
    reference_times: pd.Series | None = None
    current_times: pd.Series | None = None
    codes: np.ndarray | None = None         # current row -> period index, -1 without time
    labels: list[str] = field(default_factory=list)
    first_ordinal: int = 0
    _cache: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    @property
    def n_ref(self) -> int:
        return len(self.reference)

    @property
    def n_cur(self) -> int:
        return len(self.current)

    def frame(self, which: str) -> pd.DataFrame:
        return self.reference if which == "ref" else self.current

    def cached(self, key: tuple[str, str, str], compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def isna(self, column: str, which: str) -> np.ndarray:
        return self.cached((column, which, "isna"),
                           lambda: self.frame(which)[column].isna().to_numpy())

    def numbers(self, column: str, which: str) -> np.ndarray:
        """Column as float64 (NaN for nulls); object columns of numbers converted."""
        def compute() -> np.ndarray:
            series = self.frame(which)[column]
            if series.dtype == object:
                series = pd.to_numeric(series, errors="coerce")
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        return self.cached((column, which, "numbers"), compute)

    def finite(self, column: str, which: str) -> np.ndarray:
        return self.cached((column, which, "finite"),
                           lambda: np.isfinite(self.numbers(column, which)))

    def counts(self, column: str, which: str) -> pd.Series:
        """Value counts of non-null values, most frequent first."""
        return self.cached((column, which, "counts"),
                           lambda: self.frame(which)[column].value_counts(dropna=True))

    def limit(self, check: str, column: str | None, key: str) -> Any:
        return _limit(self.thresholds, check, column, key)

    def columns_of(self, *kinds: str) -> list[str]:
        return [c for c in self.checked if self.kinds[c] in kinds]


def _context(reference: pd.DataFrame, current: pd.DataFrame, *, columns: Sequence[str] | None,
             id_column: str | None, timestamp_column: str | None,
             categorical: Sequence[str] | None, expected_end: Any, period: str | None,
             thresholds: Mapping[str, Any] | None) -> _Context:
    reference = _check_frame(reference, "reference")
    current = _check_frame(current, "current")
    merged = merge_thresholds(thresholds)
    period = _period_alias(period)
    end = _as_timestamp(expected_end, "expected_end")
    known = set(map(str, reference.columns)) | set(map(str, current.columns))
    for name, value in (("id_column", id_column), ("timestamp_column", timestamp_column)):
        if value is not None and value not in known:
            raise DataError(f"{name} {value!r} is in neither the reference nor the current data",
                            column=value)
    if columns is not None:
        absent = [c for c in columns if c not in known]
        if absent:
            raise DataError(f"columns not found in reference or current data: "
                            f"{', '.join(map(repr, absent))}", column=str(absent[0]))
    categorical_set = set(categorical or ())
    absent = sorted(categorical_set - known)
    if absent:
        raise DataError(f"categorical columns not found: {', '.join(map(repr, absent))}",
                        column=absent[0])
    wanted = list(columns) if columns is not None else [c for c in reference.columns
                                                        if c not in (id_column, timestamp_column)]
    common = [c for c in wanted if c in reference.columns and c in current.columns]
    families: dict[str, tuple[str, str]] = {}
    kinds: dict[str, str] = {}
    for column in dict.fromkeys(common + [c for c in (id_column, timestamp_column)
                                          if c in reference.columns and c in current.columns]):
        fam_ref, fam_cur = _family(reference[column]), _family(current[column])
        families[column] = (fam_ref, fam_cur)
        kinds[column] = _kind(fam_ref, fam_cur, column in categorical_set)
    ctx = _Context(reference, current, merged, common, families, kinds, id_column,
                   timestamp_column, period, end)
    if timestamp_column is not None:
        if timestamp_column in reference.columns:
            ctx.reference_times = _parse_timestamps(reference[timestamp_column], timestamp_column,
                                                    "reference")
        if timestamp_column in current.columns:
            ctx.current_times = _parse_timestamps(current[timestamp_column], timestamp_column,
                                                  "current")
            _index_periods(ctx)
        if timestamp_column in ctx.families:
            # Text that parses as date-times is not a type change (CSV against Parquet).
            ctx.families[timestamp_column] = ("datetime", "datetime")
            ctx.kinds[timestamp_column] = "datetime"
    return ctx


def _kind(fam_ref: str, fam_cur: str, categorical: bool) -> str:
    families = {fam_ref, fam_cur} - {"null"}
    if len(families) > 1:
        return "other"            # type changed: only presence and nulls are comparable
    family = families.pop() if families else "null"
    if family == "numeric":
        return "categorical" if categorical else "numeric"
    if family in ("string", "boolean"):
        return "categorical"
    if family == "datetime":
        return "datetime"
    return "other"


def _index_periods(ctx: _Context) -> None:
    times = ctx.current_times
    assert times is not None
    ordinals = _ordinals(times, ctx.period)
    valid = times.notna().to_numpy()
    if not valid.any():
        ctx.codes = np.full(len(times), -1, dtype=np.int64)
        return
    first, last = int(ordinals[valid].min()), int(ordinals[valid].max())
    ctx.first_ordinal = first
    ctx.codes = np.where(valid, ordinals - first, -1)
    ctx.labels = _period_labels(np.arange(first, last + 1), ctx.period)


def _period_labels(ordinals: np.ndarray, period: str) -> list[str]:
    return list(pd.PeriodIndex.from_ordinals(ordinals, freq=period).astype(str))


# --------------------------------------------------------------------------- onset and findings


def _onset(ctx: _Context, check: str, column: str, flags: np.ndarray, valid: np.ndarray,
           k_ref: float, n_ref: float, timeline: list[dict[str, Any]],
           increase: bool = True) -> tuple[str | None, float | None]:
    """Onset period label and the current share from it on; records the timeline."""
    if ctx.codes is None or not ctx.labels:
        return None, None
    use = valid & (ctx.codes >= 0)
    size = len(ctx.labels)
    n_t = np.bincount(ctx.codes[use], minlength=size).astype(np.float64)
    k_t = np.bincount(ctx.codes[use], weights=flags[use].astype(np.float64), minlength=size)
    ref_share = k_ref / n_ref if n_ref > 0 else float("nan")
    for label, n, k in zip(ctx.labels, n_t, k_t):
        timeline.append({"check": check, "column": column, "period": label, "rows": int(n),
                         "count": int(k), "share": k / n if n > 0 else float("nan"),
                         "reference_share": ref_share})
    index = _onset_index(k_t, n_t, k_ref, n_ref, increase)
    if index is None:
        return None, None
    since_n = n_t[index:].sum()
    return ctx.labels[index], (k_t[index:].sum() / since_n if since_n > 0 else None)


def _since(label: str | None) -> str:
    """' since <period>' (at the current window's start: since at least then)."""
    return "" if label is None else f" since {label}"


def _grade(increase_pp: float, p_value: float, warning_pp: float, incident_pp: float,
           alpha: float) -> str:
    if not (increase_pp > 0) or not (p_value < alpha):
        return "ok"
    if increase_pp >= incident_pp:
        return "incident"
    if increase_pp >= warning_pp:
        return "warning"
    return "ok"


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(rows if rows else None, columns=list(columns))


def _result(rows: list[dict[str, Any]], columns: Sequence[str], findings: list[Finding],
            timeline: list[dict[str, Any]]) -> CheckResult:
    return CheckResult(_frame(rows, columns), findings, _frame(timeline, _TIMELINE_COLUMNS))


# --------------------------------------------------------------------------- checks


def _schema(ctx: _Context, wanted: Sequence[str] | None) -> CheckResult:
    ref, cur = ctx.reference, ctx.current
    if wanted is None:
        names = list(dict.fromkeys(list(ref.columns) + list(cur.columns)))
    else:
        names = list(dict.fromkeys([c for c in (ctx.timestamp_column, ctx.id_column) if c]
                                   + list(wanted)))
    rows, findings = [], []
    method = methods(ctx.thresholds)["schema"]
    for column in names:
        in_ref, in_cur = column in ref.columns, column in cur.columns
        known = ctx.families.get(column)
        fam_ref = (known[0] if known else _family(ref[column])) if in_ref else None
        fam_cur = (known[1] if known else _family(cur[column])) if in_cur else None
        status, severity, message = "ok", "ok", ""
        if in_ref and not in_cur:
            status, severity = "missing_in_current", "incident"
            message = (f"{column}: column missing from the current data "
                       f"(present in the reference as {ref[column].dtype})")
        elif in_cur and not in_ref:
            status, severity = "new_in_current", "warning"
            message = (f"{column}: new column in the current data ({cur[column].dtype}), "
                       "not in the reference")
        elif fam_cur == "mixed":
            status = "mixed_types"
            severity = "warning" if fam_ref == "mixed" else "incident"
            message = _mixed_message(column, cur[column], fam_ref)
        elif fam_ref != fam_cur and "null" not in (fam_ref, fam_cur) and ctx.n_cur > 0:
            # From mixed to one type is a clean-up, worth a note rather than an alarm.
            status, severity = "type_changed", "warning" if fam_ref == "mixed" else "incident"
            example = cur[column].dropna().iloc[0]
            message = (f"{column}: type changed from {fam_ref} ({ref[column].dtype}) in the "
                       f"reference to {fam_cur} ({cur[column].dtype}) in the current data, "
                       f"e.g. {_value_text(example)}")
        rows.append({"column": column, "in_reference": in_ref, "in_current": in_cur,
                     "reference_dtype": str(ref[column].dtype) if in_ref else None,
                     "current_dtype": str(cur[column].dtype) if in_cur else None,
                     "reference_type": fam_ref, "current_type": fam_cur,
                     "status": status, "severity": severity})
        if severity != "ok":
            findings.append(Finding("schema", column, severity, message, method=method,
                                    section=SECTION))
    return _result(rows, _SCHEMA_COLUMNS, findings, [])


def _mixed_message(column: str, series: pd.Series, fam_ref: str | None) -> str:
    values = series.dropna()
    kinds = values.map(lambda v: "number" if isinstance(v, (int, float, np.number))
                       and not isinstance(v, (bool, np.bool_)) else type(v).__name__)
    counts = kinds.value_counts()
    parts = [f"{n:,} {kind}{'s' if kind == 'number' else ' values'}" for kind, n in counts.items()]
    minority = counts.index[-1]
    example = values[(kinds == minority).to_numpy()].iloc[0]
    ref_note = "as in the reference" if fam_ref == "mixed" else f"reference: {fam_ref}"
    return (f"{column}: mixed types in the current data: {', '.join(parts)} "
            f"(e.g. {_value_text(example)}; {ref_note}); expected one type")


def _missing(ctx: _Context) -> CheckResult:
    names = list(dict.fromkeys(ctx.checked + [c for c in (ctx.id_column, ctx.timestamp_column)
                                              if c in ctx.families]))
    rows, findings, timeline = [], [], []
    if not names:
        return _result(rows, _MISSING_COLUMNS, findings, timeline)
    k_ref = np.array([ctx.isna(c, "ref").sum() for c in names], dtype=np.float64)
    k_cur = np.array([ctx.isna(c, "cur").sum() for c in names], dtype=np.float64)
    p_values, fisher = increase_pvalue(k_ref, ctx.n_ref, k_cur, ctx.n_cur)
    p_values = _bonferroni(p_values, len(names))
    method = methods(ctx.thresholds)["missing"]
    for i, column in enumerate(names):
        share_ref = k_ref[i] / ctx.n_ref if ctx.n_ref else float("nan")
        share_cur = k_cur[i] / ctx.n_cur if ctx.n_cur else float("nan")
        change = (share_cur - share_ref) * 100
        alpha = ctx.limit("missing", column, "alpha")
        warn, inc = (ctx.limit("missing", column, k) for k in ("warning_pp", "incident_pp"))
        severity = _grade(change, p_values[i], warn, inc, alpha)
        all_null = ctx.n_cur > 0 and k_cur[i] == ctx.n_cur and share_ref < 1
        if all_null and p_values[i] < alpha:
            severity = "incident"
        rows.append({"column": column, "reference_missing_share": share_ref,
                     "current_missing_share": share_cur, "missing_change_pp": change,
                     "missing_p_value": p_values[i], "missing_severity": severity})
        if severity == "ok":
            continue
        flags = ctx.isna(column, "cur")
        label, since = _onset(ctx, "missing", column, flags, np.ones(ctx.n_cur, bool),
                              k_ref[i], ctx.n_ref, timeline)
        if all_null:
            text = (f"{column}: entirely null in the current data ({_rows(k_cur[i])}; "
                    f"reference {_pct(share_ref)} null)")
        else:
            text = _share_text(column, "of rows are null", share_cur, share_ref, label, since, ctx)
        findings.append(Finding("missing", column, severity, text, value=round(change, 4),
                                threshold=inc if severity == "incident" else warn,
                                method=method + ("; Fisher exact used" if fisher[i] else ""),
                                section=SECTION, period=label))
    return _result(rows, _MISSING_COLUMNS, findings, timeline)


_MISSING_COLUMNS = ["column", "reference_missing_share", "current_missing_share",
                    "missing_change_pp", "missing_p_value", "missing_severity"]


def _share_text(column: str, what: str, share_cur: float, share_ref: float, label: str | None,
                since: float | None, ctx: _Context) -> str:
    """'col: 31.2% of rows are ... since 2026-02-19 (reference 0.4%; 18.0% over the window)'."""
    if label is not None and ctx.labels and label != ctx.labels[0] and since is not None:
        return (f"{column}: {_pct(since)} {what} since {label} (reference {_pct(share_ref)}; "
                f"{_pct(share_cur)} over the current window)")
    return f"{column}: {_pct(share_cur)} {what}{_since(label)} (reference {_pct(share_ref)})"


_SENTINEL_COLUMNS = ["column", "reference_modal_value", "reference_modal_share",
                     "current_modal_value", "current_modal_share", "sentinel_value",
                     "reference_sentinel_share", "current_sentinel_share", "sentinel_change_pp",
                     "sentinel_p_value", "sentinel_tests", "sentinel_severity"]


def _numeric_counts(ctx: _Context, column: str, which: str) -> tuple[np.ndarray, np.ndarray]:
    """Distinct finite values and their counts, most frequent first.

    On an evenly spaced sample of ``_MODE_SAMPLE`` values when the column is
    longer, so the counts are then relative; callers count exact shares.
    """
    def compute() -> tuple[np.ndarray, np.ndarray]:
        values = ctx.numbers(column, which)[ctx.finite(column, which)]
        if len(values) > _MODE_SAMPLE:
            values = values[:: math.ceil(len(values) / _MODE_SAMPLE)]
        uniques, counts = np.unique(values, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return uniques[order], counts[order]
    return ctx.cached((column, which, "numeric_counts"), compute)


def _top_numeric(ctx: _Context, column: str, which: str, k: int) -> list[float]:
    """The ``k`` most frequent finite values (on an evenly spaced sample when large)."""
    return [float(v) for v in _numeric_counts(ctx, column, which)[0][:k]]


def _candidate_counts(ctx: _Context, column: str) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """Candidate default values of a column and their row counts in reference and current."""
    top = int(ctx.limit("sentinel", column, "top_values"))
    if ctx.kinds[column] == "numeric":
        # Sentinels absent from both (sampled) windows cannot hold a share worth a
        # finding, so only those present are counted on all rows.
        sentinels = np.array([float(v) for v in ctx.limit("sentinel", column, "values")])
        present = (np.isin(sentinels, _numeric_counts(ctx, column, "ref")[0])
                   | np.isin(sentinels, _numeric_counts(ctx, column, "cur")[0]))
        candidates = list(dict.fromkeys(
            _top_numeric(ctx, column, "ref", top) + _top_numeric(ctx, column, "cur", top)
            + [float(v) for v in sentinels[present]]))
        ref, cur = ctx.numbers(column, "ref"), ctx.numbers(column, "cur")
        k_ref = np.array([np.count_nonzero(ref == v) for v in candidates], dtype=np.float64)
        k_cur = np.array([np.count_nonzero(cur == v) for v in candidates], dtype=np.float64)
        return candidates, k_ref, k_cur
    ref_counts, cur_counts = ctx.counts(column, "ref"), ctx.counts(column, "cur")
    strings = {str(s).strip().lower() for s in ctx.limit("sentinel", column, "strings")}
    candidates = list(ref_counts.index[:top]) + list(cur_counts.index[:top])
    for counts in (ref_counts, cur_counts):
        candidates += [v for v in counts.index[:_SENTINEL_SCAN]
                       if isinstance(v, str) and v.strip().lower() in strings]
    candidates = list(dict.fromkeys(candidates))
    return candidates, _lookup(ref_counts, candidates), _lookup(cur_counts, candidates)


def _lookup(counts: pd.Series, values: list[Any]) -> np.ndarray:
    """Counts of ``values`` (0 when absent) in a value-counts Series."""
    if not values:
        return np.zeros(0)
    try:
        # One reindex: a lookup per value is slow on a 10^6-category index.
        found = counts.reindex(pd.Index(values, dtype=counts.index.dtype), fill_value=0)
        return found.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([counts.get(v, 0) for v in values], dtype=np.float64)


def _sentinels(ctx: _Context) -> CheckResult:
    rows, findings, timeline = [], [], []
    method = methods(ctx.thresholds)["sentinel"]
    checked = ctx.columns_of("numeric", "categorical")
    for column in checked:
        candidates, k_ref, k_cur = _candidate_counts(ctx, column)
        if not candidates:
            continue
        n_ref, n_cur = ctx.n_ref, ctx.n_cur
        share_ref = k_ref / n_ref if n_ref else np.full(len(k_ref), np.nan)
        share_cur = k_cur / n_cur if n_cur else np.full(len(k_cur), np.nan)
        # The current's most frequent values are picked because they are high, so
        # Bonferroni-correct over every value that could have been picked.
        if ctx.kinds[column] == "numeric":
            distinct = len(_numeric_counts(ctx, column, "cur")[0])
        else:
            distinct = len(ctx.counts(column, "cur"))
        tests = max(len(candidates), distinct)
        p_values = _bonferroni(increase_pvalue(k_ref, n_ref, k_cur, n_cur)[0],
                               tests * len(checked))
        alpha = ctx.limit("sentinel", column, "alpha")
        warn, inc, ratio = (ctx.limit("sentinel", column, k)
                            for k in ("warning_pp", "incident_pp", "min_ratio"))
        change = (share_cur - share_ref) * 100
        severities = [
            _grade(change[i], p_values[i], warn, inc, alpha)
            if n_cur and share_cur[i] >= ratio * share_ref[i] else "ok"
            for i in range(len(candidates))
        ]
        # The worst candidate: highest severity, then largest increase.
        order = sorted(range(len(candidates)), key=lambda i: (-severity_rank(severities[i]),
                                                              -np.nan_to_num(change[i], nan=-1e9)))
        best = order[0]
        modal_ref = int(np.argmax(k_ref)) if k_ref.max() > 0 else None
        modal_cur = int(np.argmax(k_cur)) if k_cur.max() > 0 else None
        rows.append({
            "column": column,
            "reference_modal_value": candidates[modal_ref] if modal_ref is not None else None,
            "reference_modal_share": share_ref[modal_ref] if modal_ref is not None else np.nan,
            "current_modal_value": candidates[modal_cur] if modal_cur is not None else None,
            "current_modal_share": share_cur[modal_cur] if modal_cur is not None else np.nan,
            "sentinel_value": candidates[best], "reference_sentinel_share": share_ref[best],
            "current_sentinel_share": share_cur[best], "sentinel_change_pp": change[best],
            "sentinel_p_value": p_values[best], "sentinel_tests": tests,
            "sentinel_severity": severities[best],
        })
        if severities[best] == "ok":
            continue
        value = candidates[best]
        if ctx.kinds[column] == "numeric":
            flags = ctx.numbers(column, "cur") == value
        else:
            flags = (ctx.current[column] == value).fillna(False).to_numpy(dtype=bool)
        label, since = _onset(ctx, "sentinel", column, flags, np.ones(n_cur, bool), k_ref[best],
                              n_ref, timeline)
        text = _share_text(column, f"of rows are exactly {_value_text(value)}", share_cur[best],
                           share_ref[best], label, since, ctx)
        findings.append(Finding("sentinel", column, severities[best], text,
                                value=round(float(change[best]), 4),
                                threshold=inc if severities[best] == "incident" else warn,
                                method=method, section=SECTION, period=label))
    return _result(rows, _SENTINEL_COLUMNS, findings, timeline)


_RANGE_COLUMNS = ["column", "reference_min", "reference_max", "below_range_share",
                  "above_range_share", "out_of_range_share", "expected_share",
                  "out_of_range_p_value", "out_of_range_severity"]


def _out_of_range(ctx: _Context) -> CheckResult:
    rows, findings, timeline = [], [], []
    method = methods(ctx.thresholds)["out_of_range"]
    checked = ctx.columns_of("numeric")
    for column in checked:
        ref_values = ctx.numbers(column, "ref")[ctx.finite(column, "ref")]
        if len(ref_values) == 0:
            continue
        low, high = float(ref_values.min()), float(ref_values.max())
        cur = ctx.numbers(column, "cur")
        valid = ctx.finite(column, "cur")
        n = int(valid.sum())
        below_mask, above_mask = valid & (cur < low), valid & (cur > high)
        below, above = int(below_mask.sum()), int(above_mask.sum())
        expected = 2.0 / (len(ref_values) + 1)
        share = (below + above) / n if n else float("nan")
        p_value = float(_bonferroni(_binomial_pvalue(below + above, n, expected), len(checked)))
        warn, inc = (ctx.limit("out_of_range", column, k) for k in ("warning_pp", "incident_pp"))
        severity = _grade(share * 100 if n else float("nan"), p_value, warn, inc,
                          ctx.limit("out_of_range", column, "alpha"))
        rows.append({"column": column, "reference_min": low, "reference_max": high,
                     "below_range_share": below / n if n else np.nan,
                     "above_range_share": above / n if n else np.nan,
                     "out_of_range_share": share, "expected_share": expected,
                     "out_of_range_p_value": p_value, "out_of_range_severity": severity})
        if severity == "ok":
            continue
        label, since = _onset(ctx, "out_of_range", column, below_mask | above_mask, valid, 0.0,
                              float(len(ref_values)), timeline)
        sides = []
        if above:
            sides.append(f"{_pct(above / n)} above the reference maximum {_value_text(high)}")
        if below:
            sides.append(f"{_pct(below / n)} below the reference minimum {_value_text(low)}")
        text = (f"{column}: {_pct(share)} of non-null values outside the reference range"
                f"{_since(label)}: {'; '.join(sides)}")
        findings.append(Finding("out_of_range", column, severity, text, value=round(share * 100, 4),
                                threshold=inc if severity == "incident" else warn, method=method,
                                section=SECTION, period=label))
    return _result(rows, _RANGE_COLUMNS, findings, timeline)


_CATEGORY_COLUMNS = ["column", "reference_categories", "current_categories", "new_categories",
                     "new_category_share", "new_examples", "new_p_value", "vanished_categories",
                     "vanished_reference_share", "vanished_examples", "category_severity"]


def _isin(values: pd.Series | pd.Index, categories: pd.Index) -> np.ndarray:
    """Membership of ``values`` in ``categories`` (unique), fast at 10^6 distinct values."""
    if len(categories) == 0 or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    if len(categories) <= 1_000:
        return np.asarray(values.isin(categories), dtype=bool)
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        found = pc.is_in(pa.array(np.asarray(values, dtype=object), from_pandas=True)
                         if values.dtype == object else pa.array(values, from_pandas=True),
                         value_set=pa.array(categories, from_pandas=True))
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    except (ImportError, TypeError, ValueError, NotImplementedError):
        # pyarrow cannot type the values (mixed objects, categoricals): hash in pandas.
        return categories.get_indexer(values) >= 0


def _categories(ctx: _Context) -> CheckResult:
    rows, findings, timeline = [], [], []
    texts = methods(ctx.thresholds)
    limit = int(ctx.thresholds["max_listed"])
    checked = ctx.columns_of("categorical")
    for column in checked:
        ref_counts, cur_counts = ctx.counts(column, "ref"), ctx.counts(column, "cur")
        n_ref, n_cur = float(ref_counts.sum()), float(cur_counts.sum())
        alpha = ctx.limit("new_category", column, "alpha")
        # New categories: tested against the Good-Turing unseen mass of the reference.
        is_new = ~_isin(cur_counts.index, ref_counts.index)
        new_counts = cur_counts[is_new]
        new_rows = float(new_counts.sum())
        new_share = new_rows / n_cur if n_cur else float("nan")
        singletons = float((ref_counts == 1).sum())
        unseen = max(singletons / n_ref, 1.0 / (n_ref + 1)) if n_ref else 1.0
        new_p = float(_bonferroni(_binomial_pvalue(new_rows, n_cur, unseen), len(checked)))
        warn, inc = (ctx.limit("new_category", column, k) for k in ("warning_pp", "incident_pp"))
        new_severity = _grade(new_share * 100 if n_cur else float("nan"), new_p, warn, inc, alpha)
        new_examples = [f"{_value_text(v)} ({_pct(c / n_cur)})"
                        for v, c in new_counts.head(limit).items()]
        # Vanished categories: absent now although the reference made them likely.
        vanished_severity, vanished, vanished_share = "ok", pd.Series(dtype=np.float64), 0.0
        if n_cur and len(ref_counts):  # a reference without categories has none to lose
            v_alpha = ctx.limit("vanished_category", column, "alpha")
            # P(no current row | reference share p) = (1 - p)^n, Bonferroni over the
            # reference categories of every categorical column. Only categories
            # common enough to pass are looked up (ref_counts is sorted).
            tests = len(ref_counts) * len(checked)
            shares = ref_counts / n_ref
            likely = shares[n_cur * np.log1p(-shares.clip(upper=1 - 1e-12))
                            < math.log(v_alpha / tests)]
            vanished = likely[~_isin(likely.index, cur_counts.index)]
            vanished_share = float(vanished.sum())
            v_warn, v_inc = (ctx.limit("vanished_category", column, k)
                             for k in ("warning_pp", "incident_pp"))
            vanished_severity = _grade(vanished_share * 100, 0.0, v_warn, v_inc, 1.0)
        vanished_examples = [f"{_value_text(v)} ({_pct(s)})"
                             for v, s in vanished.head(limit).items()]
        rows.append({"column": column, "reference_categories": len(ref_counts),
                     "current_categories": len(cur_counts), "new_categories": len(new_counts),
                     "new_category_share": new_share, "new_examples": ", ".join(new_examples),
                     "new_p_value": new_p, "vanished_categories": len(vanished),
                     "vanished_reference_share": vanished_share,
                     "vanished_examples": ", ".join(vanished_examples),
                     "category_severity": worst([new_severity, vanished_severity])})
        if new_severity != "ok":
            series = ctx.current[column]
            valid = series.notna().to_numpy()
            flags = valid & ~_isin(series, ref_counts.index)
            label, since = _onset(ctx, "new_category", column, flags, valid, 0.0, n_ref, timeline)
            text = (f"{column}: {_pct(new_share)} of non-null values in {len(new_counts):,} "
                    f"categor{'y' if len(new_counts) == 1 else 'ies'} absent from the reference"
                    f"{_since(label)}: "
                    f"{_listing(new_examples, len(new_counts), limit)}")
            findings.append(Finding("new_category", column, new_severity, text,
                                    value=round(new_share * 100, 4),
                                    threshold=inc if new_severity == "incident" else warn,
                                    method=texts["new_category"], section=SECTION, period=label))
        if vanished_severity != "ok":
            text = (f"{column}: {len(vanished):,} reference categor"
                    f"{'y' if len(vanished) == 1 else 'ies'} ({_pct(vanished_share)} of reference "
                    f"rows) absent from the current data ({int(n_cur):,} rows): "
                    f"{_listing(vanished_examples, len(vanished), limit)}")
            v_warn, v_inc = (ctx.limit("vanished_category", column, k)
                             for k in ("warning_pp", "incident_pp"))
            findings.append(Finding("vanished_category", column, vanished_severity, text,
                                    value=round(vanished_share * 100, 4),
                                    threshold=v_inc if vanished_severity == "incident" else v_warn,
                                    method=texts["vanished_category"], section=SECTION,
                                    period=ctx.labels[0] if ctx.labels else None))
    return _result(rows, _CATEGORY_COLUMNS, findings, timeline)


_CONSTANT_COLUMNS = ["column", "reference_constant", "current_constant", "current_value",
                     "reference_top_share", "constant_p_bound", "constant_severity"]


def _constants(ctx: _Context) -> CheckResult:
    rows, findings = [], []
    method = methods(ctx.thresholds)["constant"]
    checked = ctx.columns_of("numeric", "categorical", "datetime")
    for column in checked:
        summaries = []
        for which in ("ref", "cur"):
            if ctx.kinds[column] == "numeric":
                values = ctx.numbers(column, which)
                values = values[~np.isnan(values)]
                n = len(values)
                constant = n > 0 and values.min() == values.max()
                top = _top_numeric(ctx, column, which, 1)
                modal = float(np.count_nonzero(values == top[0])) / n if top and n else float("nan")
                value = values[0] if n else None
            else:
                counts = ctx.counts(column, which)
                n = int(counts.sum())
                constant = len(counts) == 1
                modal = float(counts.iloc[0]) / n if n else float("nan")
                value = counts.index[0] if n else None
            summaries.append((n, constant, modal, value))
        (n_ref, ref_constant, ref_modal, _), (n_cur, cur_constant, _, cur_value) = summaries
        severity, bound = "ok", float("nan")
        if cur_constant and n_cur >= 2 and n_ref > 0 and not ref_constant:
            # P(n draws from the reference all equal) <= p_max^(n-1).
            bound = float(np.exp((n_cur - 1) * np.log(ref_modal))) if ref_modal > 0 else 0.0
            bound = float(_bonferroni(bound, len(checked)))
            if bound < ctx.limit("constant", column, "alpha"):
                severity = "incident"
        rows.append({"column": column, "reference_constant": bool(ref_constant),
                     "current_constant": bool(cur_constant),
                     "current_value": cur_value if cur_constant else None,
                     "reference_top_share": ref_modal, "constant_p_bound": bound,
                     "constant_severity": severity})
        if severity != "ok":
            findings.append(Finding(
                "constant", column, severity,
                f"{column}: constant in the current data: all {n_cur:,} non-null values are "
                f"{_value_text(cur_value)} (reference: most common value {_pct(ref_modal)})",
                value=100.0, threshold=ctx.limit("constant", column, "alpha"), method=method,
                section=SECTION, period=ctx.labels[0] if ctx.labels else None))
    return _result(rows, _CONSTANT_COLUMNS, findings, [])


_NON_FINITE_COLUMNS = ["column", "reference_non_finite_share", "current_non_finite_share",
                       "current_positive_inf", "current_negative_inf", "non_finite_p_value",
                       "non_finite_severity"]


def _non_finite(ctx: _Context) -> CheckResult:
    rows, findings, timeline = [], [], []
    method = methods(ctx.thresholds)["non_finite"]
    checked = ctx.columns_of("numeric")
    for column in checked:
        ref, cur = ctx.numbers(column, "ref"), ctx.numbers(column, "cur")
        k_ref = float(np.count_nonzero(np.isinf(ref)))
        pos, neg = int(np.count_nonzero(cur == np.inf)), int(np.count_nonzero(cur == -np.inf))
        k_cur = float(pos + neg)
        p_value = float(_bonferroni(increase_pvalue(k_ref, ctx.n_ref, k_cur, ctx.n_cur)[0],
                                    len(checked))[()])
        share_ref = k_ref / ctx.n_ref if ctx.n_ref else float("nan")
        share_cur = k_cur / ctx.n_cur if ctx.n_cur else float("nan")
        inc = ctx.limit("non_finite", column, "incident_pp")
        alpha = ctx.limit("non_finite", column, "alpha")
        severity = "ok"
        if k_cur > 0 and (k_ref == 0 or p_value < alpha):
            severity = "warning"
        if k_cur > 0 and p_value < alpha and (share_cur - share_ref) * 100 >= inc:
            severity = "incident"
        rows.append({"column": column, "reference_non_finite_share": share_ref,
                     "current_non_finite_share": share_cur, "current_positive_inf": pos,
                     "current_negative_inf": neg, "non_finite_p_value": p_value,
                     "non_finite_severity": severity})
        if severity == "ok":
            continue
        label, since = _onset(ctx, "non_finite", column, np.isinf(cur), np.ones(ctx.n_cur, bool),
                              k_ref, ctx.n_ref, timeline)
        text = (f"{column}: {int(k_cur):,} infinite values in the current data "
                f"({_pct(share_cur)} of rows: {pos:,} +inf, {neg:,} -inf)"
                f"{_since(label)} (reference {_pct(share_ref)})")
        findings.append(Finding("non_finite", column, severity, text,
                                value=round(share_cur * 100, 6),
                                threshold=inc if severity == "incident" else 0.0, method=method,
                                section=SECTION, period=label))
    return _result(rows, _NON_FINITE_COLUMNS, findings, timeline)


_DUPLICATE_COLUMNS = ["column", "reference_duplicate_share", "current_duplicate_share",
                      "current_duplicates", "examples", "duplicate_p_value", "duplicate_severity"]


def _duplicates(ctx: _Context) -> CheckResult:
    column = ctx.id_column
    rows, findings, timeline = [], [], []
    if column is None or column not in ctx.current.columns:
        return _result(rows, _DUPLICATE_COLUMNS, findings, timeline)
    cur = ctx.current[column]
    cur_dup = (cur.duplicated(keep="first") & cur.notna()).to_numpy()
    n_cur = int(cur.notna().sum())
    if column in ctx.reference.columns:
        ref = ctx.reference[column].dropna()
        k_ref, n_ref = float(ref.duplicated(keep="first").sum()), float(len(ref))
    else:
        k_ref, n_ref = 0.0, 0.0
    k_cur = float(cur_dup.sum())
    p_value = float(increase_pvalue(k_ref, n_ref, k_cur, n_cur)[0][()]) if n_ref else 0.0
    share_ref = k_ref / n_ref if n_ref else float("nan")
    share_cur = k_cur / n_cur if n_cur else float("nan")
    severity = "ok"
    if k_cur > 0:
        alpha = ctx.limit("duplicate_ids", column, "alpha")
        severity = "incident" if (k_ref == 0 or p_value < alpha) else "warning"
    limit = int(ctx.thresholds["max_listed"])
    repeated = cur[cur_dup].value_counts() if k_cur else pd.Series(dtype=np.int64)
    examples = [f"{_value_text(v)} (x{c + 1})" for v, c in repeated.head(limit).items()]
    rows.append({"column": column, "reference_duplicate_share": share_ref,
                 "current_duplicate_share": share_cur, "current_duplicates": int(k_cur),
                 "examples": ", ".join(examples), "duplicate_p_value": p_value,
                 "duplicate_severity": severity})
    if severity != "ok":
        label, since = _onset(ctx, "duplicate_ids", column, cur_dup, cur.notna().to_numpy(),
                              k_ref, n_ref, timeline)
        ref_text = (f"reference {_pct(share_ref)}, the same rate" if severity == "warning"
                    else f"reference {_pct(share_ref)}" if n_ref else "no reference ids")
        text = (f"{column}: {int(k_cur):,} rows repeat an earlier id in the current data "
                f"({_pct(share_cur)}){_since(label)} ({ref_text}); "
                f"e.g. {_listing(examples, int(repeated.size), limit)}")
        findings.append(Finding("duplicate_ids", column, severity, text,
                                value=round(share_cur * 100, 6),
                                threshold=round(share_ref * 100, 6) if n_ref else 0.0,
                                method=methods(ctx.thresholds)["duplicate_ids"], section=SECTION,
                                period=label))
    return _result(rows, _DUPLICATE_COLUMNS, findings, timeline)


_FRESHNESS_COLUMNS = ["latest", "expected_end", "lag_hours", "lag_periods", "rows_per_hour",
                      "p_value", "rows_after_end", "severity"]


def _period_length(period: str, at: pd.Timestamp) -> pd.Timedelta:
    span = pd.Period(at, freq=period)
    return span.end_time - span.start_time + pd.Timedelta(1, "ns")


def _freshness(ctx: _Context) -> CheckResult:
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    times = ctx.current_times
    if times is None or ctx.expected_end is None:
        return _result(rows, _FRESHNESS_COLUMNS, findings, [])
    valid = times.dropna()
    end = ctx.expected_end
    column = ctx.timestamp_column or ""
    if len(valid) == 0:
        rows.append({"latest": None, "expected_end": end, "lag_hours": np.nan,
                     "lag_periods": np.nan, "rows_per_hour": np.nan, "p_value": np.nan,
                     "rows_after_end": 0, "severity": "ok"})
        return _result(rows, _FRESHNESS_COLUMNS, findings, [])
    latest = valid.max()
    lag = end - latest
    length = _period_length(ctx.period, end - pd.Timedelta(1, "ns"))
    lag_periods = lag / length
    # Rate of arrivals: the reference's (the current one may be what broke).
    basis = ctx.reference_times.dropna() if ctx.reference_times is not None else valid
    if len(basis) < 2:
        basis = valid
    seconds = (basis.max() - basis.min()).total_seconds()
    rate = len(basis) / seconds if seconds > 0 else float("nan")
    lag_seconds = max(lag.total_seconds(), 0.0)
    p_value = float(math.exp(-rate * lag_seconds)) if np.isfinite(rate) else 1.0
    warn = ctx.limit("freshness", column, "warning_periods")
    inc = ctx.limit("freshness", column, "incident_periods")
    alpha = ctx.limit("freshness", column, "alpha")
    severity = "ok"
    if p_value < alpha and lag_periods >= warn:
        severity = "incident" if lag_periods >= inc else "warning"
    after = int((valid >= end).sum())
    rows.append({"latest": latest, "expected_end": end, "lag_hours": lag.total_seconds() / 3600,
                 "lag_periods": lag_periods, "rows_per_hour": rate * 3600, "p_value": p_value,
                 "rows_after_end": after, "severity": severity})
    method = methods(ctx.thresholds)["freshness"]
    if severity != "ok":
        findings.append(Finding(
            "freshness", column, severity,
            f"{column}: stale data: latest row at {latest} is {_duration(lag)} before the "
            f"expected end {end} ({lag_periods:.1f} periods of {_duration(length)}; about "
            f"{rate * lag_seconds:,.0f} rows expected in that time)",
            value=round(float(lag_periods), 4), threshold=inc if severity == "incident" else warn,
            method=method, section=SECTION, period=str(pd.Period(latest, freq=ctx.period))))
    if after:
        findings.append(Finding(
            "freshness", column, "warning",
            f"{column}: {after:,} rows at or after the expected end {end} (latest {latest}); "
            "clock skew or a wrong window", value=float(after), threshold=0.0, method=method,
            section=SECTION))
    return _result(rows, _FRESHNESS_COLUMNS, findings, [])


def _duration(delta: pd.Timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if abs(hours) >= 48 else f"{hours:.1f} hours"


def _typical_counts(ctx: _Context) -> tuple[Callable[[np.ndarray], np.ndarray], str] | None:
    """Function from period ordinals to the reference's typical rows, and how it was made."""
    times = ctx.reference_times
    if times is None:
        return None
    ordinals = _ordinals(times, ctx.period)[times.notna().to_numpy()]
    if len(ordinals) == 0:
        return None
    first = int(ordinals.min())
    counts = np.bincount(ordinals - first).astype(np.float64)
    span = np.arange(first, first + len(counts))
    if len(counts) >= 3:  # the first and last reference periods may be partial
        counts, span = counts[1:-1], span[1:-1]
    freq = pd.Period("2026-01-01", freq=ctx.period).freqstr
    seasons = {"D": ("day_of_week", 7, "same weekday"), "h": ("hour", 24, "same hour of day")}
    if freq in seasons and len(counts) >= 2 * seasons[freq][1]:
        attribute, size, name = seasons[freq]

        def season(o: np.ndarray) -> np.ndarray:
            return getattr(pd.PeriodIndex.from_ordinals(o, freq=freq), attribute).to_numpy()

        keys = season(span)
        medians = np.array([np.median(counts[keys == k]) if (keys == k).sum() else np.nan
                            for k in range(size)])
        if (np.bincount(keys, minlength=size) >= 2).all():
            return (lambda o: medians[season(o)]), f"reference median, {name}"
    overall = float(np.median(counts))
    return (lambda o: np.full(len(o), overall)), "reference median"


def _rows_per_period(ctx: _Context) -> CheckResult:
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    times = ctx.current_times
    typical = _typical_counts(ctx)
    if times is None or typical is None or ctx.codes is None or not ctx.labels:
        return _result(rows, _VOLUME_COLUMNS, findings, [])
    expected_of, basis = typical
    first = ctx.first_ordinal
    last = first + len(ctx.labels) - 1
    end = ctx.expected_end
    if end is not None:
        last = max(last, int(pd.Period(end - pd.Timedelta(1, "ns"), freq=ctx.period).ordinal))
    ordinals = np.arange(first, last + 1)
    counts = np.bincount(ctx.codes[ctx.codes >= 0], minlength=len(ordinals)).astype(np.float64)
    counts = counts[: len(ordinals)]
    coverage = np.ones(len(ordinals))
    partial = np.zeros(len(ordinals), dtype=bool)
    if ctx.reference_times is not None and ctx.reference_times.notna().any():
        ref_last = pd.Period(ctx.reference_times.max(), freq=ctx.period).ordinal
        partial[0] = ref_last >= first  # the period straddles the reference window
    if end is not None:
        last_period = pd.Period(ordinal=int(ordinals[-1]), freq=ctx.period)
        length = last_period.end_time - last_period.start_time + pd.Timedelta(1, "ns")
        coverage[-1] = float(np.clip((end - last_period.start_time) / length, 0.0, 1.0))
    typical_rows = expected_of(ordinals)
    expected = typical_rows * coverage
    alpha = ctx.limit("rows_per_period", None, "alpha")
    warn_drop, inc_drop, surge = (ctx.limit("rows_per_period", None, k)
                                  for k in ("warning_drop", "incident_drop", "surge"))
    ratio = np.divide(counts, expected, out=np.full(len(counts), np.nan), where=expected > 0)
    graded = ~partial & (expected > 0)
    safe = np.where(expected > 0, expected, 1.0)
    tests = max(int(graded.sum()), 1)
    p_low = np.where(graded, _bonferroni(stats.poisson.cdf(counts, safe), tests), 1.0)
    p_high = np.where(graded, _bonferroni(stats.poisson.sf(counts - 1, safe), tests), 1.0)
    severities = []
    for i in range(len(ordinals)):
        severity = "ok"
        if not partial[i] and expected[i] > 0:
            if p_low[i] < alpha and ratio[i] <= 1 - inc_drop:
                severity = "incident"
            elif p_low[i] < alpha and ratio[i] <= 1 - warn_drop:
                severity = "warning"
            elif p_high[i] < alpha and ratio[i] >= 1 + surge:
                severity = "warning"
        severities.append(severity)
    labels = _period_labels(ordinals, ctx.period)
    for i in range(len(ordinals)):
        rows.append({"period": labels[i], "reference_typical": typical_rows[i],
                     "expected": expected[i], "rows": int(counts[i]), "ratio": ratio[i],
                     "partial": bool(partial[i] or coverage[i] < 1), "severity": severities[i]})
    column = ctx.timestamp_column or ""
    method = methods(ctx.thresholds)["rows_per_period"] + f" ({basis})"
    drops = [i for i, s in enumerate(severities) if s != "ok" and ratio[i] < 1]
    if drops:
        top = worst(severities[i] for i in drops)
        first_bad = drops[0]
        lowest = min(drops, key=lambda i: ratio[i])
        threshold = 1 - (inc_drop if top == "incident" else warn_drop)
        findings.append(Finding(
            "rows_per_period", column, top,
            f"rows per period: {len(drops)} of {len(ordinals)} periods below the reference's "
            f"typical count, first {labels[first_bad]} ({_rows(counts[first_bad])} against "
            f"about {expected[first_bad]:,.0f}); lowest {labels[lowest]} at "
            f"{ratio[lowest]:.0%} of typical",
            value=round(float(ratio[lowest]), 4), threshold=threshold, method=method,
            section=SECTION, period=labels[first_bad]))
    surges = [i for i, s in enumerate(severities) if s != "ok" and ratio[i] > 1]
    if surges:
        highest = max(surges, key=lambda i: ratio[i])
        findings.append(Finding(
            "rows_per_period", column, "warning",
            f"rows per period: {len(surges)} of {len(ordinals)} periods above "
            f"{1 + surge:.0%} of the reference's typical count, first {labels[surges[0]]}; "
            f"highest {labels[highest]} ({_rows(counts[highest])}, {ratio[highest]:.0%} of "
            "typical); duplicated loads?",
            value=round(float(ratio[highest]), 4), threshold=1 + surge, method=method,
            section=SECTION, period=labels[surges[0]]))
    return _result(rows, _VOLUME_COLUMNS, findings, [])


# --------------------------------------------------------------------------- public API


def _run(check: Callable[[_Context], CheckResult], reference: pd.DataFrame,
         current: pd.DataFrame, **options: Any) -> CheckResult:
    return check(_context(reference, current, **options))


def schema_diff(reference: pd.DataFrame, current: pd.DataFrame, *,
                columns: Sequence[str] | None = None, categorical: Sequence[str] | None = None,
                id_column: str | None = None, timestamp_column: str | None = None,
                thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Missing, new and type-changed columns, and columns of mixed types.

    A column missing from the current data or whose type family changed
    (numeric, boolean, string, datetime) is an incident; a new column is a
    warning; an object column mixing numbers and strings is an incident
    (a warning if the reference was mixed as well). Without ``columns`` the
    union of both frames' columns is compared. A column entirely null on one
    side is compatible with any type (the missing-rate check reports it).
    """
    ctx = _context(reference, current, columns=columns, id_column=id_column,
                   timestamp_column=None, categorical=categorical, expected_end=None,
                   period="D", thresholds=thresholds)
    return _schema(ctx, columns)


def missing_change(reference: pd.DataFrame, current: pd.DataFrame, *,
        columns: Sequence[str] | None = None, categorical: Sequence[str] | None = None,
        timestamp_column: str | None = None, period: str | None = None,
        thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Share of null rows per column, reference against current.

    Warning when the share rose by >= 1 pp and significantly, incident when it
    rose by >= 5 pp and significantly, or the column is entirely null now (and
    significantly so). This catches a column 10% newly null whose non-null
    values are unchanged, which distribution checks cannot see.

    ``columns`` defaults to every column of the reference; ``categorical`` names
    numeric columns to treat as categories; ``timestamp_column`` and ``period``
    (pandas period alias) date the onset of each finding; ``thresholds``
    overrides :data:`DEFAULT_THRESHOLDS`.
    """
    return _run(_missing, reference, current, columns=columns, id_column=None,
                timestamp_column=timestamp_column, categorical=categorical,
                expected_end=None, period=period, thresholds=thresholds)


def sentinel_spikes(reference: pd.DataFrame, current: pd.DataFrame, *,
        columns: Sequence[str] | None = None, categorical: Sequence[str] | None = None,
        timestamp_column: str | None = None, period: str | None = None,
        thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Spikes in the share of a single value: modal values and sentinels.

    Numeric candidates: the most frequent values of each window and the
    sentinels ``0, -1, -9 ... 9999999``; categorical candidates: the most
    frequent categories and placeholder strings (``""``, ``"unknown"``,
    ``"n/a"`` ...). Each candidate's share of all rows is compared with the
    reference; the table keeps the worst candidate per column. A feature
    "defaulted to 0" shows up here as 0 or as the new modal value.

    ``columns`` defaults to every column of the reference; ``categorical`` names
    numeric columns to treat as categories; ``timestamp_column`` and ``period``
    (pandas period alias) date the onset of each finding; ``thresholds``
    overrides :data:`DEFAULT_THRESHOLDS`.
    """
    return _run(_sentinels, reference, current, columns=columns, id_column=None,
                timestamp_column=timestamp_column, categorical=categorical,
                expected_end=None, period=period, thresholds=thresholds)


def out_of_range(reference: pd.DataFrame, current: pd.DataFrame, *,
        columns: Sequence[str] | None = None, categorical: Sequence[str] | None = None,
        timestamp_column: str | None = None, period: str | None = None,
        thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Share of current values outside the reference's [min, max], per numeric column.

    Shares are of non-null finite values; the reference range is over its
    finite values.

    ``columns`` defaults to every column of the reference; ``categorical`` names
    numeric columns to treat as categories; ``timestamp_column`` and ``period``
    (pandas period alias) date the onset of each finding; ``thresholds``
    overrides :data:`DEFAULT_THRESHOLDS`.
    """
    return _run(_out_of_range, reference, current, columns=columns, id_column=None,
                timestamp_column=timestamp_column, categorical=categorical,
                expected_end=None, period=period, thresholds=thresholds)


def category_changes(reference: pd.DataFrame, current: pd.DataFrame, *,
        columns: Sequence[str] | None = None, categorical: Sequence[str] | None = None,
        timestamp_column: str | None = None, period: str | None = None,
        thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """New and vanished categories of categorical columns, with their shares.

    Lists are capped at ``max_listed`` entries, so a column of 10^6 distinct
    values costs a hash pass per window and yields a short table.

    ``columns`` defaults to every column of the reference; ``categorical`` names
    numeric columns to treat as categories; ``timestamp_column`` and ``period``
    (pandas period alias) date the onset of each finding; ``thresholds``
    overrides :data:`DEFAULT_THRESHOLDS`.
    """
    return _run(_categories, reference, current, columns=columns, id_column=None,
                timestamp_column=timestamp_column, categorical=categorical,
                expected_end=None, period=period, thresholds=thresholds)


def constant_columns(reference: pd.DataFrame, current: pd.DataFrame, *,
        columns: Sequence[str] | None = None, categorical: Sequence[str] | None = None,
        timestamp_column: str | None = None, period: str | None = None,
        thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Columns with a single non-null value in current that varied in the reference.

    ``columns`` defaults to every column of the reference; ``categorical`` names
    numeric columns to treat as categories; ``timestamp_column`` and ``period``
    (pandas period alias) date the onset of each finding; ``thresholds``
    overrides :data:`DEFAULT_THRESHOLDS`.
    """
    return _run(_constants, reference, current, columns=columns, id_column=None,
                timestamp_column=timestamp_column, categorical=categorical,
                expected_end=None, period=period, thresholds=thresholds)


def non_finite(reference: pd.DataFrame, current: pd.DataFrame, *,
        columns: Sequence[str] | None = None, categorical: Sequence[str] | None = None,
        timestamp_column: str | None = None, period: str | None = None,
        thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Infinities (+inf, -inf) in numeric columns, counted per column.

    ``columns`` defaults to every column of the reference; ``categorical`` names
    numeric columns to treat as categories; ``timestamp_column`` and ``period``
    (pandas period alias) date the onset of each finding; ``thresholds``
    overrides :data:`DEFAULT_THRESHOLDS`.
    """
    return _run(_non_finite, reference, current, columns=columns, id_column=None,
                timestamp_column=timestamp_column, categorical=categorical,
                expected_end=None, period=period, thresholds=thresholds)


def duplicate_ids(reference: pd.DataFrame, current: pd.DataFrame, id_column: str, *,
                  timestamp_column: str | None = None, period: str | None = None,
                  thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Rows of the current data repeating an earlier id.

    Incident when the reference had no duplicates or the share rose
    significantly; warning when the reference had the same rate.
    """
    ctx = _context(reference, current, columns=[], id_column=id_column,
                   timestamp_column=timestamp_column, categorical=None, expected_end=None,
                   period=period, thresholds=thresholds)
    return _duplicates(ctx)


def freshness(current: pd.DataFrame, timestamp_column: str, *, expected_end: Any,
              reference: pd.DataFrame | None = None, period: str | None = None,
              thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Latest current timestamp against ``expected_end`` (the end of the current window).

    Stale when the lag is at least ``warning_periods`` periods and no row in
    that time is implausible at the reference's arrival rate (or the current
    one without a reference). Rows at or after ``expected_end`` are a warning.
    Without ``expected_end`` nothing can be judged and the table is empty.
    """
    reference = current.iloc[0:0] if reference is None else reference
    ctx = _context(reference, current, columns=[], id_column=None,
                   timestamp_column=timestamp_column, categorical=None,
                   expected_end=expected_end, period=period, thresholds=thresholds)
    return _freshness(ctx)


def rows_per_period(reference: pd.DataFrame, current: pd.DataFrame, timestamp_column: str, *,
                    period: str | None = None, expected_end: Any = None,
                    thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Current rows per period against the reference's typical count; a drop is a finding.

    The typical count is the median over the reference's inner periods (its
    first and last may be partial), by weekday for daily periods and by hour
    of day for hourly ones when the reference has at least two of each. A
    current period that shares its span with the reference window is shown
    but not graded; the last period is scaled by its coverage when
    ``expected_end`` cuts it. Periods with no rows count as zero.
    """
    ctx = _context(reference, current, columns=[], id_column=None,
                   timestamp_column=timestamp_column, categorical=None,
                   expected_end=expected_end, period=period, thresholds=thresholds)
    return _rows_per_period(ctx)


def check_integrity(reference: pd.DataFrame, current: pd.DataFrame, *,
                    columns: Sequence[str] | None = None, id_column: str | None = None,
                    timestamp_column: str | None = None, categorical: Sequence[str] | None = None,
                    expected_end: Any = None, period: str | None = None,
                    thresholds: Mapping[str, Any] | None = None) -> IntegrityResult:
    """Run every integrity check of ``current`` against ``reference``.

    ``columns`` limits the checks (default: every column); ``id_column`` enables
    the duplicate check; ``timestamp_column`` enables freshness (against
    ``expected_end``, the end of the current window: without it freshness is
    not judged), rows per ``period`` (pandas period alias, default ``"D"``)
    and the onset of each finding;
    ``categorical`` names numeric columns to treat as categories. Columns in
    only one frame are reported by the schema check and the rest are checked on
    the common columns. Bad input raises :class:`DataError` or
    :class:`ParameterError` naming the column or parameter.
    """
    ctx = _context(reference, current, columns=columns, id_column=id_column,
                   timestamp_column=timestamp_column, categorical=categorical,
                   expected_end=expected_end, period=period, thresholds=thresholds)
    if ctx.n_ref == 0:
        raise DataError("reference data has no rows; integrity checks need a reference to "
                        "compare with")
    findings: list[Finding] = []
    if ctx.n_cur == 0:
        findings.append(Finding("rows", "current", "incident",
                                f"current data has no rows (reference {ctx.n_ref:,} rows)",
                                value=0.0, threshold=1.0, method="row count", section=SECTION))
    elif ctx.n_cur < ctx.thresholds["min_rows"]:
        findings.append(Finding("rows", "current", "warning",
                                f"current data has only {_rows(ctx.n_cur)}; the tests have little "
                                f"power below {ctx.thresholds['min_rows']:g} rows",
                                value=float(ctx.n_cur), threshold=float(ctx.thresholds["min_rows"]),
                                method="row count", section=SECTION))
    schema = _schema(ctx, columns)
    parts = [_missing(ctx), _sentinels(ctx), _out_of_range(ctx), _categories(ctx),
             _constants(ctx), _non_finite(ctx)]
    duplicates, fresh, volume = _duplicates(ctx), _freshness(ctx), _rows_per_period(ctx)
    # A column now constant also shows a value spike and vanished categories:
    # report the one root cause (the tables keep every figure).
    constant = {f.subject for f in parts[4].findings}
    for part in [schema] + parts + [duplicates, fresh, volume]:
        findings.extend(f for f in part.findings if not (
            f.subject in constant and f.check in ("sentinel", "vanished_category")))
    table = pd.DataFrame({"column": list(ctx.checked)
                          + [c for c in (ctx.id_column, ctx.timestamp_column)
                             if c in ctx.families and c not in ctx.checked]})
    table["kind"] = [ctx.kinds.get(c) for c in table["column"]]
    for part in parts:
        if len(part.table):
            table = table.merge(part.table, on="column", how="left")
    severity_columns = [c for c in table.columns if c.endswith("severity")]
    table["severity"] = [worst(s for s in row if isinstance(s, str)) for row in
                         table[severity_columns].itertuples(index=False)] if len(table) else []
    timelines = [p.timeline for p in parts + [duplicates] if len(p.timeline)]
    timeline = (pd.concat(timelines, ignore_index=True) if timelines
                else _frame([], _TIMELINE_COLUMNS))
    return IntegrityResult(findings=findings, schema=schema.table, columns=table,
                           volume=volume.table, freshness=fresh.table, timeline=timeline,
                           thresholds=ctx.thresholds, methods=methods(ctx.thresholds))
