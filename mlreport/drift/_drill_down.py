"""A drill-down into one column: the first place a data scientist looks after an incident.

For the column behind an incident: its missing share, the share of one value
(a placeholder such as 0), the share outside the reference's range (numeric)
or of categories the reference never had (categorical), and its median, per
period of the current window and per segment level, against the reference;
then the current rows behind the out-of-range values or new categories. Rows
are those in memory (every row with pandas, the bounded sample otherwise).
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..tables import Table, table

__all__ = ["DrillDown", "drill_down", "MAX_LEVELS", "ROW_CHUNKS"]

MAX_LEVELS = 30  #: segment levels shown per segment column, the largest in the current window first
ROW_CHUNKS = 10  #: chunks of rows in file order when there is no timestamp

_Task = TypeVar("_Task")
_Done = TypeVar("_Done")
_UNIT = {"D": "day", "M": "month", "h": "hour"}
_SHARES = ("missing_share", "value_share", "outside_share")


@dataclass(frozen=True)
class DrillDown:
    """One column by period and by segment level, and the current rows behind its unusual values.

    ``by_period`` has one row for the reference window, then one per period
    (or chunk of rows) of the current window: ``rows``, ``missing_share``,
    ``value_share`` (rows equal to ``value``), ``outside_share`` (outside the
    reference's range, or a category the reference never had) and
    ``median`` (numeric columns). ``by_segment`` has the same shares per
    segment column and level, reference and current side by side. ``rows``
    holds up to ``limit`` current rows with an outside value, ``rows_total``
    how many there are. Shares are fractions of all rows of the period or level.
    """

    column: str
    value: object = None
    outside: str = ""
    by_period: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_segment: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows_total: int = 0
    note: str = ""

    @property
    def tables(self) -> dict[str, Table]:
        """The three parts as report tables, captioned."""
        value = "–" if self.value is None else repr(self.value)
        names = {"missing_share": "Missing", "value_share": f"Equal to {value}",
                 "outside_share": self.outside or "Outside", "median": "Median", "rows": "Rows"}
        segment_names = {"segment": "Segment", "level": "Level"}
        for window in ("reference", "current"):
            segment_names[f"rows_{window}"] = f"Rows ({window})"
            for share in _SHARES:
                segment_names[f"{share}_{window}"] = f"{names[share]} ({window})"
        return {
            "by_period": table(self.by_period, {"period": "Period", **names},
                               caption=f"{self.column} by period: shares of all rows of the period", limit=None),
            "by_segment": table(self.by_segment, segment_names,
                                caption=f"{self.column} by segment level: shares of the level's rows", limit=60),
            "rows": table(self.rows, caption=f"Current rows with {self.outside.lower() or 'an unusual value'} in "
                          f"{self.column}: {self.rows_total:,} in all, the first {len(self.rows)} shown", limit=None),
        }

    def _repr_html_(self) -> str:
        head = f"<h4>Drill-down: {html.escape(self.column or 'no column')}</h4>"
        note = f"<p>{html.escape(self.note)}</p>" if self.note else ""
        if not self.column:
            return head + note
        parts = self.tables
        shown = [parts["by_period"]._repr_html_()]
        if not self.by_segment.empty:
            shown.append(parts["by_segment"]._repr_html_())
        if self.rows_total:
            shown.append(parts["rows"]._repr_html_())
        return head + note + "".join(shown)


def _numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series.dtype)) and not pd.api.types.is_bool_dtype(series.dtype)


def _plain_numbers(series: pd.Series) -> bool:
    """A column of numpy integers or floats (no nullable or Arrow type: NaN is its only missing value)."""
    return isinstance(series.dtype, np.dtype) and series.dtype.kind in "iuf"


def _flags(series: pd.Series, reference: pd.Series, value: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: missing, equal to ``value``, outside the reference (range, or categories)."""
    if (_plain_numbers(series) and _plain_numbers(reference)
            and (value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)))):
        # The same comparisons on the numpy arrays (a NaN compares False, as pandas' fillna(False) makes it),
        # without pandas' temporaries: three passes over the rows fewer at 5x10^6.
        numbers, reference_numbers = series.to_numpy(), reference.to_numpy()
        missing = np.isnan(numbers) if numbers.dtype.kind == "f" else np.zeros(numbers.size, dtype=bool)
        equal = numbers == value if value is not None else np.zeros(numbers.size, dtype=bool)
        present = (reference_numbers[~np.isnan(reference_numbers)] if reference_numbers.dtype.kind == "f"
                   else reference_numbers)
        if present.size == 0:
            return missing, equal, np.zeros(numbers.size, dtype=bool)
        return missing, equal, (numbers < present.min()) | (numbers > present.max())
    missing = series.isna().to_numpy()
    equal = (series == value).fillna(False).to_numpy(dtype=bool) if value is not None else np.zeros(len(series), bool)
    if _numeric(series) and _numeric(reference):
        known = pd.to_numeric(reference, errors="coerce").dropna()
        if known.empty:
            outside = np.zeros(len(series), dtype=bool)
        else:
            values = pd.to_numeric(series, errors="coerce")
            outside = ((values < known.min()) | (values > known.max())).fillna(False).to_numpy(dtype=bool)
    else:
        categories = pd.Index(reference.dropna().astype(str).unique())
        outside = (~missing) & ~series.astype(str).isin(categories).to_numpy()
    return missing, equal, outside


def _shares(series: pd.Series, reference: pd.Series, value: object) -> dict[str, float]:
    return _shares_of(series, _flags(series, reference, value) if len(series) else None)


def _shares_of(series: pd.Series, flags: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> dict[str, float]:
    """:func:`_shares` of ``series`` from its :func:`_flags`."""
    rows = len(series)
    if rows == 0 or flags is None:
        return {"rows": 0, **{share: float("nan") for share in _SHARES}}
    missing, equal, outside = flags
    shares: dict[str, float] = {"rows": rows, "missing_share": _real(missing.mean()),
                                "value_share": _real(equal.mean()), "outside_share": _real(outside.mean())}
    if _numeric(series):
        shares["median"] = _real(pd.to_numeric(series, errors="coerce").median())
    return shares


def _real(value: object) -> float:
    """A statistic as a float: NaN where pandas answers NA (a nullable column with no value in a period)."""
    if value is None or value is pd.NA:
        return float("nan")
    number = float(value)  # type: ignore[arg-type]  # a numpy or Python number from a mean or median
    return number


def _period_keys(current: pd.DataFrame, timestamp: str | None, period: str) -> tuple[np.ndarray, list[str], str]:
    """Each current row's period, how the periods were cut.

    Returns the rows' codes into the labels, the labels in the order the
    drill-down lists them (by text with a timestamp, as a sorted groupby would;
    chunks in file order), and how the periods were cut. Each distinct period
    is labelled once (a Period object per row took seconds at 10^6 rows).
    """
    if timestamp and timestamp in current.columns:
        times = pd.to_datetime(current[timestamp], errors="coerce", utc=False)
        if isinstance(times.dtype, pd.DatetimeTZDtype):
            times = times.dt.tz_localize(None)
        if times.notna().any():
            alias = {"D": "D", "W": "W-SUN", "M": "M", "H": "h"}.get(period, "D")
            weekly = alias == "W-SUN"
            present = times.notna().to_numpy()
            codes, distinct = _period_codes(times.to_numpy()[present], alias)
            labels = [str(p.start_time.date()) if weekly else str(p) for p in distinct]
            rows = np.full(len(current), len(labels), dtype="int64")
            rows[present] = codes
            if not present.all():
                labels.append("no timestamp")
            order = sorted(range(len(labels)), key=labels.__getitem__)
            rank = np.empty(len(labels), dtype="int64")
            rank[order] = np.arange(len(labels))
            unit = "week (starting Monday)" if weekly else _UNIT.get(alias, "day")
            return rank[rows], [labels[i] for i in order], f"by {unit} of {timestamp}"
    size = max(1, -(-len(current) // ROW_CHUNKS))
    chunks = np.arange(len(current)) // size
    labels = [f"rows {i * size + 1:,}–{min((i + 1) * size, len(current)):,}"
              for i in range(int(chunks[-1]) + 1 if len(chunks) else 0)]
    return chunks, labels, f"in {ROW_CHUNKS} chunks of rows in file order (no timestamp)"


_MAX_THREADS = 4  #: at most this many columns encoded at once (each holds a few arrays of its rows)
_THREADED_ROWS = 200_000  #: fewer rows in both windows: encoded one after the other (a pool costs more)


def _side_by_side(function: Callable[[_Task], _Done], tasks: list[_Task], *, threads: bool = True) -> list[_Done]:
    """``[function(task) for task in tasks]`` over the machine's cores (threads), in the tasks' order."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    workers = min(cores, _MAX_THREADS, len(tasks)) if threads else 1
    if workers <= 1:
        return [function(task) for task in tasks]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mlreport-drill-down") as pool:
        return list(pool.map(function, tasks))


#: Widest span of days (or hours) whose rows are grouped through a lookup table rather than a hash.
_DIRECT_SPAN = 10_000_000


def _period_codes(times: np.ndarray, alias: str) -> tuple[np.ndarray, list[pd.Period]]:
    """Each timestamp's period (codes into the distinct periods, in order of first appearance) and the periods.

    What ``pd.factorize(Series(times).dt.to_period(alias))`` gives, up to the
    order of the distinct periods (the caller orders them by label): the
    timestamps (tz-naive) are floored to the day, or the hour for ``h``, which
    every period of ``alias`` is a union of; only the distinct floors are made
    into periods (a period per row took 0.2 s at 5x10^6 rows).
    """
    unit = "h" if alias == "h" else "D"
    floors = times.astype(f"datetime64[{unit}]").view("int64")
    low = int(floors.min())
    if int(floors.max()) - low < _DIRECT_SPAN:
        offsets = floors - low
        present = np.flatnonzero(np.bincount(offsets))
        where = np.empty(int(present[-1]) + 1, dtype="int64")
        where[present] = np.arange(present.size)
        floor_codes, distinct_floors = where[offsets], present + low
    else:
        floor_codes, distinct_floors = pd.factorize(floors)
    floored = np.asarray(distinct_floors, dtype="int64").view(f"datetime64[{unit}]")
    starts = pd.DatetimeIndex(floored.astype("datetime64[s]"))
    period_codes, periods = pd.factorize(starts.to_period(alias))
    return period_codes[floor_codes], list(periods)


def _flag_arrays(
    series: pd.Series, reference: pd.Series, value: object, *,
    found: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None, values: bool = True,
) -> dict[str, np.ndarray]:
    """Per row of ``series``: the three flags of :func:`_flags` (or ``found``) and, with ``values``, its numbers."""
    missing, equal, outside = _flags(series, reference, value) if found is None else found
    flags = {"missing_share": missing, "value_share": equal, "outside_share": outside}
    if values and _numeric(series):
        flags["median"] = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return flags


def _grouped_shares(flags: dict[str, np.ndarray], codes: np.ndarray, groups: int) -> list[dict[str, float]]:
    """:func:`_shares` of each group of rows (``codes`` 0..groups-1, -1 for none) in one pass over the flags.

    The shares are counts of 0/1 flags over a count (exact integers, so the
    floats ``ndarray.mean`` gives) and the median that of the group's
    present values (``Series.median``'s: ``np.median`` of them): the numbers
    of :func:`_shares` on each group, without one pass per group. The three
    flags of a row make one of 8 patterns: one ``bincount`` of (group,
    pattern) counts every flag of every group (one pass over the rows, not
    one per flag).
    """
    kept = codes >= 0
    every = bool(kept.all())
    codes = codes if every else codes[kept]
    pattern = np.zeros(codes.size, dtype="uint8")
    for bit, name in enumerate(_SHARES):
        flag = flags[name] if every else flags[name][kept]
        pattern |= np.asarray(flag, dtype=bool).view(np.uint8) << np.uint8(bit)
    keys = codes * 8
    keys += pattern
    by_pattern = np.bincount(keys, minlength=groups * 8).reshape(groups, 8)
    counts = by_pattern.sum(axis=1)
    patterns = np.arange(8)
    shares: dict[str, np.ndarray] = {}
    for bit, name in enumerate(_SHARES):
        with np.errstate(invalid="ignore", divide="ignore"):
            shares[name] = by_pattern[:, (patterns >> bit) & 1 == 1].sum(axis=1) / counts
    medians = None
    if "median" in flags:
        values = flags["median"] if every else flags["median"][kept]
        # The same order as a stable sort of the codes, by numpy's radix sort (the codes as small integers).
        order = np.argsort(codes.astype(np.min_scalar_type(max(groups - 1, 0))), kind="stable")
        bounds = np.cumsum(counts)[:-1]
        medians = [_real(np.median(part[~np.isnan(part)])) if (~np.isnan(part)).any() else float("nan")
                   for part in np.split(values[order], bounds)]
    out = []
    for group in range(groups):
        if counts[group] == 0:
            out.append({"rows": 0, **{name: float("nan") for name in _SHARES}})
            continue
        record: dict[str, float] = {"rows": int(counts[group]),
                                    **{name: float(shares[name][group]) for name in _SHARES}}
        if medians is not None:
            record["median"] = medians[group]
        out.append(record)
    return out


def drill_down(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    column: str,
    *,
    timestamp: str | None = None,
    segments: Sequence[str] = (),
    value: object = None,
    period: str = "D",
    limit: int = 20,
) -> DrillDown:
    """``column`` by period and by segment level, current against reference, and the rows behind its new values.

    ``value`` is the placeholder whose share is counted (default 0 for a
    numeric column, none for another); ``timestamp`` cuts the current window
    into periods (``period``: ``H``, ``D``, ``W`` or ``M``), else into
    :data:`ROW_CHUNKS` chunks of rows; ``segments`` are the columns to break
    it down by (at most :data:`MAX_LEVELS` levels each). Raises
    :class:`~mlreport.errors.ParameterError` naming the column when a window lacks it.
    """
    for name, frame in (("reference", reference), ("current", current)):
        if column not in frame.columns:
            known = ", ".join(map(str, list(frame.columns)[:20]))
            raise ParameterError(f"drill_down: column {column!r} is not in the {name} window (its columns: {known})")
    numeric = _numeric(current[column]) and _numeric(reference[column])
    if value is None and numeric:
        value = 0
    outside = "Outside the reference range" if numeric else "A category new to the reference"
    codes, labels, how = _period_keys(current, timestamp, period)
    # The reference's flags once: for its whole-window shares and for its shares by segment level.
    reference_flags = _flags(reference[column], reference[column], value) if len(reference) else None
    records = [{"period": "reference (whole window)", **_shares_of(reference[column], reference_flags)}]
    flags = _flag_arrays(current[column], reference[column], value)
    for label, shares in zip(labels, _grouped_shares(flags, codes, len(labels)), strict=True):
        records.append({"period": label, **shares})
    by_period = pd.DataFrame.from_records(records)
    segment_rows = []
    shares_of = {"reference": _flag_arrays(reference[column], reference[column], value, found=reference_flags,
                                           values=False),
                 "current": {name: flags[name] for name in _SHARES}}  # the median is not shown by segment
    shown = [segment for segment in segments
             if segment != column and segment in current.columns and segment in reference.columns]
    windows = (("reference", reference), ("current", current))
    # Each segment column's levels in each window: Arrow's dictionary encoding (hashing every row's text)
    # releases the GIL, so the columns are encoded side by side, one thread per core.
    encoded = _side_by_side(lambda task: pd.factorize(task[1][task[0]].astype(str)),
                            [(segment, frame) for segment in shown for _, frame in windows],
                            threads=len(reference) + len(current) >= _THREADED_ROWS)
    for number, segment in enumerate(shown):
        factorized = {window: encoded[2 * number + at] for at, (window, _) in enumerate(windows)}
        # The current window's largest levels first: value_counts' order (counts descending, ties in order
        # of first appearance, a stable sort), from the codes the grouping needs anyway.
        codes, found = factorized["current"]
        counts = np.bincount(codes[codes >= 0], minlength=len(found))
        levels = pd.Series(counts, index=found).sort_values(ascending=False, kind="stable").index[:MAX_LEVELS]
        by_window = {}
        for window, (level_codes, found) in factorized.items():
            grouped = _grouped_shares(shares_of[window], level_codes, len(found))
            at = pd.Index(found).get_indexer(levels)
            by_window[window] = [grouped[i] if i >= 0 else {"rows": 0, **{name: float("nan") for name in _SHARES}}
                                 for i in at]
        for index, level in enumerate(levels):
            row: dict[str, object] = {"segment": segment, "level": level}
            for window, per_level in by_window.items():
                row.update({f"{k}_{window}": v for k, v in per_level[index].items()})
            segment_rows.append(row)
    flagged = flags["outside_share"]
    total = int(flagged.sum())
    note = (f"Current window {how}; {outside.lower()}: {total:,} of {len(current):,} current rows. "
            "Rows are those held in memory.")
    return DrillDown(column=column, value=value, outside=outside, by_period=by_period,
                     by_segment=pd.DataFrame(segment_rows), rows=current.iloc[np.flatnonzero(flagged)[:limit]],
                     rows_total=total, note=note)
