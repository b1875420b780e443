"""What every integrity check reads and returns.

:func:`_context` validates both frames and the options (bad input raises
:class:`DataError` or :class:`ParameterError` naming the column or parameter),
resolves each column's type family and kind, parses the timestamps and indexes
current rows by period. :class:`_Context` caches per-column arrays, so the checks
share one pass over each column. Every check returns a :class:`CheckResult`.

Timestamps are compared as naive UTC; time-zone-aware columns are converted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from ..errors import DataError, ParameterError
from ..findings import Finding
from ._thresholds import _limit, merge_thresholds

__all__ = ["SECTION", "CheckResult"]

SECTION = "Data integrity"

# Above this many values the modal candidates of a numeric column are found on an
# evenly spaced sample (their shares are then counted exactly on all rows): a
# value holding 2% of rows appears about 1,000 times in the sample.
_MODE_SAMPLE = 50_000

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


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(rows if rows else None, columns=list(columns))


def _result(rows: list[dict[str, Any]], columns: Sequence[str], findings: list[Finding],
            timeline: list[dict[str, Any]]) -> CheckResult:
    return CheckResult(_frame(rows, columns), findings, _frame(timeline, _TIMELINE_COLUMNS))


def _family(series: pd.Series) -> str:
    """Type family of a column: numeric, boolean, string, datetime, timedelta, mixed or null."""
    dtype = series.dtype
    if len(series) == 0:
        return _dtype_family(dtype)
    if not series.notna().any():
        return "null"
    if ptypes.is_object_dtype(dtype):
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


_FIXED_PERIODS = {"D": "D", "h": "h"}
"""Period aliases whose ordinal is the whole number of such units since 1970-01-01 (numpy's floor of the time)."""


def _ordinals(times: pd.Series, period: str) -> np.ndarray:
    """Period ordinals of ``times``; NaT becomes the minimum int64.

    Days and hours of naive datetimes are numpy's floor to that unit (the
    same numbers as ``to_period(...).asi8``, several times faster); other
    periods go through pandas.
    """
    unit = _FIXED_PERIODS.get(period)
    if unit is not None and ptypes.is_datetime64_dtype(times.dtype):
        values = times.to_numpy()
        return values.astype(f"datetime64[{unit}]").view(np.int64)
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

    def release(self) -> None:
        """Drop the per-column arrays (masks, numbers, counts): the checks that read them have run."""
        self._cache.clear()

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
            if isinstance(series.dtype, np.dtype) and series.dtype == np.float64:
                return series.to_numpy()  # NaN already marks missing: a view, not a copy (read only)
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

    def alphas(self, check: str, column: str | None) -> tuple[float, float]:
        """The significance levels of a warning and of an incident (never looser than the warning's)."""
        alpha = float(self.limit(check, column, "alpha"))
        return alpha, min(alpha, float(self.limit(check, column, "incident_alpha")))

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
                                          if c is not None and c in reference.columns and c in current.columns]):
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
    # pandas-stubs lacks PeriodIndex.from_ordinals (pandas >= 2.2 has it)
    return list(pd.PeriodIndex.from_ordinals(ordinals, freq=period).astype(str))  # type: ignore[attr-defined]


def _numeric_counts(ctx: _Context, column: str, which: str) -> tuple[np.ndarray, np.ndarray]:
    """Distinct finite values and their counts, most frequent first.

    On an evenly spaced sample of ``_MODE_SAMPLE`` values when the column is
    longer, so the counts are then relative; callers count exact shares.
    """
    def compute() -> tuple[np.ndarray, np.ndarray]:
        numbers, finite = ctx.numbers(column, which), ctx.finite(column, which)
        count = int(np.count_nonzero(finite))
        if count > _MODE_SAMPLE:
            # Every k-th finite value, without first copying all of them (a view when every value is finite).
            step = math.ceil(count / _MODE_SAMPLE)
            values = numbers[::step] if count == len(numbers) else numbers[np.flatnonzero(finite)[::step]]
        else:
            values = numbers[finite]
        uniques, counts = np.unique(values, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return uniques[order], counts[order]
    return ctx.cached((column, which, "numeric_counts"), compute)


def _top_numeric(ctx: _Context, column: str, which: str, k: int) -> list[float]:
    """The ``k`` most frequent finite values (on an evenly spaced sample when large)."""
    return [float(v) for v in _numeric_counts(ctx, column, which)[0][:k]]


_COLUMN_OPTIONS = """

    ``columns`` defaults to every column of the reference; ``categorical`` names
    numeric columns to treat as categories; ``timestamp_column`` and ``period``
    (pandas period alias) date the onset of each finding; ``thresholds``
    overrides :data:`~mlreport.integrity.DEFAULT_THRESHOLDS`.
    """


def column_check(check: Callable[[_Context], CheckResult], name: str, doc: str,
                 ) -> Callable[..., CheckResult]:
    """The public form of a per-column check: reference and current frames in, a :class:`CheckResult` out.

    Every per-column check takes the same options (documented once, in
    ``_COLUMN_OPTIONS``, and appended to ``doc``); ``check`` reads them from
    the :class:`_Context` built here.
    """
    def run(reference: pd.DataFrame, current: pd.DataFrame, *,
            columns: Sequence[str] | None = None, categorical: Sequence[str] | None = None,
            timestamp_column: str | None = None, period: str | None = None,
            thresholds: Mapping[str, Any] | None = None) -> CheckResult:
        return check(_context(reference, current, columns=columns, id_column=None,
                              timestamp_column=timestamp_column, categorical=categorical,
                              expected_end=None, period=period, thresholds=thresholds))

    run.__name__ = run.__qualname__ = name
    run.__doc__ = doc.rstrip() + _COLUMN_OPTIONS
    run.__module__ = check.__module__
    return run
