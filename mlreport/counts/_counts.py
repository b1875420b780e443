"""Decision counts per period, decision label and segment level, on a complete wall-clock grid.

:func:`count_decisions` aggregates a decision log (one row per decision) into
:class:`DecisionCounts`: counts per period, decision label and segment level
(numpy ``bincount``; no per-row Python), on a complete period grid: a period
without rows is a zero-count period, never a dropped one. These counts are
mergeable summaries: a DuckDB or Spark backend can produce the same
:class:`DecisionCounts` (:mod:`mlreport.backends`).

Windows (:func:`analysis_windows`): the **baseline** is the ``baseline_weeks``
(K) weeks before ``analysis_start``; the **analysis** (current) window runs
from ``analysis_start`` to the end of the data, the period holding the last
decision included. **Partial periods**: the first and the last period of the
grid may be covered by the data only in part (a log that starts at 08:13, or
ends at 11:51 on its last day). Both stay on the grid, and
:meth:`DecisionCounts.coverage` says which share of each period's time lies
between the first decision and the last one; the volume analysis grades such
a period by its covered share of expected volume, never as complete
(:mod:`mlreport.volume`). Rows without a timestamp belong to no period: they
are counted (:attr:`DecisionCounts.untimed`) and reported, not dropped
silently. Periods are local wall-clock
hours, days or weeks (:func:`to_wall_clock`; see :mod:`mlreport.stats` for
daylight saving). A segment column with more than ``max_segment_levels``
levels keeps its most frequent ones and counts the rest as ``"(other)"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Unpack

import numpy as np
import pandas as pd

from ..errors import DataError
from ..stats import PERIOD_NS, PERIOD_WORDS, floor_to_period, infer_period, period_exposure
from ._grid import CountGrid
from ._roles import DecisionRoles, RoleArguments, _check_decisions, _check_rows, check_roles, decision_roles

__all__ = [
    "MISSING_LABEL",
    "OTHER_LABEL",
    "DecisionCounts",
    "count_decisions",
    "analysis_windows",
    "holiday_mask",
    "folded_levels_note",
    "to_wall_clock",
    "period_text",
    "period_coverage",
]

MISSING_LABEL = "(missing)"
OTHER_LABEL = "(other)"

_UNTIMED_NOTE = re.compile(r"^([\d,]+) rows without a timestamp were left out$")


# --------------------------------------------------------------------------- time


def to_wall_clock(
    values: pd.Series, timezone: str | None, *, column: str
) -> tuple[np.ndarray, str | None]:
    """Timestamps as int64 nanoseconds of the local wall clock, and the zone used.

    Time-zone aware values are converted to ``timezone`` (default: their own
    zone) and the zone dropped; naive values are taken as wall-clock times in
    ``timezone`` (which may be None: then there is no daylight saving to
    account for). Strings are parsed as ISO 8601. Missing values are
    ``np.iinfo(np.int64).min`` (NaT).
    """
    dtype = values.dtype
    if not (isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype)):
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise DataError(
                f"column {column!r} holds {dtype} values, expected timestamps", column=column
            )
        try:
            values = pd.to_datetime(values, format="ISO8601")
        except (ValueError, TypeError):
            try:
                values = pd.to_datetime(values, format="ISO8601", utc=True)
            except (ValueError, TypeError) as error:
                raise DataError(
                    f"column {column!r} has values that are not ISO 8601 timestamps ({error})",
                    column=column,
                ) from None
        dtype = values.dtype
    zone: str | None = timezone
    if isinstance(dtype, pd.DatetimeTZDtype):
        zone = timezone or str(dtype.tz)
        values = values.dt.tz_convert(zone).dt.tz_localize(None)
    nanoseconds = values.astype("datetime64[ns]").to_numpy().view(np.int64)
    return nanoseconds, zone


def period_text(timestamp: pd.Timestamp, period: str) -> str:
    """A period start as text: date and time for hourly periods, the date otherwise."""
    return timestamp.strftime("%Y-%m-%d %H:%M" if period == "H" else "%Y-%m-%d")


# --------------------------------------------------------------------------- counting


@dataclass
class DecisionCounts:
    """Decision counts per period on a complete wall-clock period grid.

    ``periods`` are the period starts (naive local wall clock) from the
    baseline start to the end of the analysis window; the first
    ``baseline_periods`` are the baseline. ``overall`` is ``[T, D]`` (periods x
    decision labels), ``segments[column]`` is ``(levels, [T, L, D])``.
    ``overrides``/``override_known`` count overridden decisions and decisions
    with a known override status; ``score_counts`` ``[T, B]`` counts score bands
    (``score_edges`` from baseline quantiles; the last band is "missing").
    ``roles`` are the columns that were counted (:class:`~mlreport.counts.DecisionRoles`).
    ``data_first`` / ``data_last`` are the first and last decision's wall-clock
    time (:meth:`coverage`). ``untimed`` counts the rows that had no timestamp
    and so belong to no period; a counter that leaves it ``None`` has said so
    in its note ("N rows without a timestamp were left out"), which it is read
    from.
    """

    period: str
    periods: pd.DatetimeIndex
    baseline_periods: int
    exposure: np.ndarray
    holiday: np.ndarray
    timezone: str | None
    labels: list[str]
    overall: np.ndarray
    segments: dict[str, tuple[list[str], np.ndarray]]
    overrides: np.ndarray | None = None
    override_known: np.ndarray | None = None
    score_edges: np.ndarray | None = None
    score_counts: np.ndarray | None = None
    data_first: pd.Timestamp | None = None
    data_last: pd.Timestamp | None = None
    rows: int = 0
    notes: list[str] = field(default_factory=list)
    roles: DecisionRoles = field(kw_only=True)
    untimed: int | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if self.untimed is None:
            found = (_UNTIMED_NOTE.match(note) for note in self.notes)
            self.untimed = next((int(m.group(1).replace(",", "")) for m in found if m), 0)

    @property
    def analysis_start(self) -> pd.Timestamp:
        return self.periods[self.baseline_periods]

    @property
    def baseline_start(self) -> pd.Timestamp:
        return self.periods[0]

    @property
    def end(self) -> pd.Timestamp:
        """Exclusive end of the analysis window."""
        return self.periods[-1] + pd.Timedelta(PERIOD_NS[self.period], unit="ns")

    def coverage(self, *, to_last: bool = True) -> np.ndarray:
        """Share of each period's wall-clock time that the data covers (:func:`period_coverage`).

        Without ``to_last`` (an ``analysis_end`` given explicitly says the
        window is meant to run to its end) silence after the last decision is
        data, not missing coverage.
        """
        return period_coverage(self.periods, self.period, self.data_first, self.data_last if to_last else None)


def period_coverage(
    periods: pd.DatetimeIndex, period: str, first: pd.Timestamp | None, last: pd.Timestamp | None
) -> np.ndarray:
    """Share of each period's wall-clock time between ``first`` and ``last`` (None: unbounded).

    1 for a period wholly inside, 0 for one wholly outside, the covered share
    for the period that holds ``first`` or ``last``.
    """
    step = PERIOD_NS[period]
    low = periods.as_unit("ns").asi8.astype(float)
    high = low + step
    start = float(first.value) if first is not None else -np.inf
    stop = float(last.value) if last is not None else np.inf
    covered = np.clip(np.minimum(high, stop) - np.maximum(low, start), 0.0, step)
    return np.asarray(covered / step, dtype=float)


def _codes(values: pd.Series) -> tuple[np.ndarray, list[object]]:
    """Integer codes (-1 for missing) and the levels they index, without per-row Python.

    Categorical columns keep their compact code dtype (int8 for few levels).
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), list(values.cat.categories)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, list(uniques)


def _ordered_levels(
    codes: np.ndarray, levels: Sequence[object], preferred: Sequence[str] | None
) -> tuple[np.ndarray, list[str]]:
    """Recode so that ``preferred`` labels come first, then the rest by frequency; missing last.

    Levels with equal counts are ordered by label, so the order does not depend
    on row order (and equals the SQL backends', :mod:`mlreport.backends`).
    """
    names = [str(level) for level in levels]
    frequency = np.bincount(codes[codes >= 0], minlength=len(names)) if len(names) else np.zeros(0)
    order: list[str] = [str(label) for label in (preferred or [])]
    order = list(dict.fromkeys(order))
    rest = sorted(
        (i for i, name in enumerate(names) if name not in order), key=lambda i: (-frequency[i], names[i])
    )
    order += [names[i] for i in rest if names[i] not in order]
    has_missing = bool((codes < 0).any())
    if has_missing and MISSING_LABEL not in order:
        order.append(MISSING_LABEL)
    position = {name: i for i, name in enumerate(order)}
    lookup = np.array([position[name] for name in names] + [position.get(MISSING_LABEL, 0)], dtype=np.int32)
    # Code -1 (missing) indexes the last entry of the lookup: the missing label.
    return lookup[codes], order


def holiday_mask(periods: pd.DatetimeIndex, period: str, holidays: Sequence[str]) -> np.ndarray:
    """True for each period holding one of ``holidays`` (a week holds seven days)."""
    if not holidays:
        return np.zeros(len(periods), dtype=bool)
    days = pd.DatetimeIndex([pd.Timestamp(day).normalize() for day in holidays])
    starts = periods.normalize()
    if period != "W":
        return np.asarray(starts.isin(days))
    mask = np.zeros(len(periods), dtype=bool)
    for offset in range(7):
        mask |= np.asarray((starts + pd.Timedelta(days=offset)).isin(days))
    return mask


def analysis_windows(
    first: pd.Timestamp, last: pd.Timestamp, n_rows: int, config: CountGrid
) -> tuple[str, pd.Timestamp, pd.Timestamp, pd.Timestamp, list[str]]:
    """Period, baseline start, analysis start, exclusive end, and notes.

    From the first and last wall-clock timestamp and the number of rows that
    have one: all :func:`count_decisions` needs to lay its period grid, so a
    backend that only knows ``min``, ``max`` and ``count`` lays the same one.
    By default the grid runs to the end of the period holding the last
    decision, however little of it the data covers (the analysis grades such
    a partial period by its covered share). A given ``analysis_start`` may put
    the baseline's start before the first decision within its first week
    (those periods are uncovered and left out of the baseline, see
    :meth:`DecisionCounts.coverage`), not earlier.
    """
    _check_analysis_start(first, last, config)
    notes: list[str] = []
    period = config.period
    if period == "auto":
        period = infer_period(n_rows, last - first, min_mean_count=config.infer_min_count)
    step = pd.Timedelta(PERIOD_NS[period], unit="ns")
    weeks = pd.Timedelta(weeks=config.baseline_weeks)
    data_start = floor_to_period(first, period)
    if config.analysis_start:
        analysis_start = floor_to_period(pd.Timestamp(config.analysis_start), period)
    else:
        analysis_start = floor_to_period(data_start + weeks, period)
        if analysis_start < data_start + weeks:
            analysis_start += step
    baseline_start = analysis_start - weeks
    if config.analysis_end:
        end = floor_to_period(pd.Timestamp(config.analysis_end), period)
    else:
        end = floor_to_period(last, period) + step
    K = config.baseline_weeks
    if baseline_start < floor_to_period(first, "W") and config.analysis_start:
        raise DataError(
            f"baseline needs {K} week{'s' if K > 1 else ''} before {period_text(analysis_start, period)}; "
            f"data starts {first:%Y-%m-%d}. Start the analysis on or after "
            f"{period_text(data_start + weeks, period)} or lower baseline_weeks"
        )
    if end <= analysis_start:
        raise DataError(
            f"baseline needs {K} week{'s' if K > 1 else ''} before the first analysed "
            f"{PERIOD_WORDS[period]} ({period_text(analysis_start, period)}); data starts "
            f"{first:%Y-%m-%d} and ends {last:%Y-%m-%d %H:%M}, so no "
            f"{PERIOD_WORDS[period]} is left to analyse: need data from "
            f"{period_text(analysis_start, period)} on or a smaller baseline_weeks"
        )
    return period, baseline_start, analysis_start, end, notes


def count_decisions(
    frame: pd.DataFrame,
    config: CountGrid | None = None,
    **roles: Unpack[RoleArguments],
) -> DecisionCounts:
    """Aggregate a decision log into :class:`DecisionCounts` (see the module docstring).

    Rows without a timestamp are dropped (and noted); rows before the baseline
    start or after the analysis end are outside the windows. Duplicate and
    unsorted timestamps need no care: every row counts once in its period.
    Missing decisions and segment values count under the label ``"(missing)"``.
    The override column is either a flag (bool or 0/1: True means overridden)
    or a final decision (overridden where it differs from the decision).
    """
    config = config or CountGrid()
    _check_rows(frame)
    checked = decision_roles(**roles)
    check_roles(list(frame.columns), checked)
    timestamp_column, decision_column = checked["timestamp_column"], checked["decision_column"]
    score_column, override_column = checked["score_column"], checked["override_column"]
    decision_labels = checked["decision_labels"]
    nanoseconds, zone = to_wall_clock(frame[timestamp_column], config.timezone, column=timestamp_column)
    nat = np.iinfo(np.int64).min
    present = nanoseconds != nat
    if not present.any():
        raise DataError(f"column {timestamp_column!r} has no timestamps", column=timestamp_column)
    notes: list[str] = []
    missing_times = int((~present).sum())
    if missing_times:
        notes.append(f"{missing_times:,} rows without a timestamp were left out")
    valid_ns = nanoseconds[present] if missing_times else nanoseconds
    first = pd.Timestamp(int(valid_ns.min()))
    last = pd.Timestamp(int(valid_ns.max()))
    period, baseline_start, analysis_start, end, window_notes = analysis_windows(
        first, last, int(present.sum()), config
    )
    notes += window_notes
    step = PERIOD_NS[period]
    n_periods = int((end - baseline_start).value // step)
    n_baseline = int((analysis_start - baseline_start).value // step)
    codes = nanoseconds - baseline_start.value
    codes //= step
    keep = present & (codes >= 0) & (codes < n_periods)
    outside = int(present.sum() - keep.sum())
    if outside:
        notes.append(
            f"{outside:,} rows outside {period_text(baseline_start, period)} to "
            f"{period_text(end, period)} (baseline and analysis windows) were left out"
        )
    all_kept = bool(keep.all())
    codes = codes if all_kept else codes[keep]

    raw, levels = _codes(frame[decision_column])
    _check_decisions(raw, levels, decision_column, config.max_decision_labels)
    decision, labels = _ordered_levels(raw if all_kept else raw[keep], levels, decision_labels)
    del raw
    n_labels = len(labels)
    # One int64 cell index per row at a time (built in place), small codes otherwise:
    # at 10^7 rows every temporary is 40-80 MB.
    cell = codes * n_labels
    cell += decision
    overall = np.bincount(cell, minlength=n_periods * n_labels).reshape(n_periods, n_labels)
    del cell

    segments: dict[str, tuple[list[str], np.ndarray]] = {}
    for column in checked["segment_columns"]:
        raw, levels = _codes(frame[column])
        raw, levels, note = _cap_levels(raw if all_kept else raw[keep], levels, config.max_segment_levels, column)
        if note:
            notes.append(note)
        level, names = _ordered_levels(raw, levels, None)
        del raw
        n_levels = len(names)
        cell = codes * (n_levels * n_labels)
        cell += level * np.int32(n_labels)
        cell += decision
        del level
        table = np.bincount(cell, minlength=n_periods * n_levels * n_labels)
        del cell
        segments[column] = (names, table.reshape(n_periods, n_levels, n_labels))

    overrides = override_known = None
    if override_column:
        flag, known = _override_flags(frame, override_column, decision_column)
        if not all_kept:
            flag, known = flag[keep], known[keep]
        overrides = np.bincount(codes, weights=flag, minlength=n_periods)
        override_known = np.bincount(codes, weights=known, minlength=n_periods)

    score_edges = score_counts = None
    if score_column:
        values = _score_values(frame[score_column], score_column)
        values = values if all_kept else values[keep]
        baseline_scores = values[codes < n_baseline]
        baseline_scores = baseline_scores[np.isfinite(baseline_scores)]
        if baseline_scores.size:
            quantiles = np.linspace(0.0, 1.0, config.score_bands + 1)[1:-1]
            score_edges = np.unique(np.quantile(baseline_scores, quantiles))
            del baseline_scores
            n_bands = score_edges.size + 2
            cell = codes * n_bands
            cell += np.searchsorted(score_edges, values, side="right")
            missing = ~np.isfinite(values)
            cell[missing] += score_edges.size + 1 - np.searchsorted(score_edges, values[missing], side="right")
            score_counts = np.bincount(cell, minlength=n_periods * n_bands).reshape(n_periods, n_bands)
            del cell
        else:
            notes.append(f"score column {score_column!r} has no values in the baseline: no score bands")

    periods = pd.DatetimeIndex(
        baseline_start + pd.to_timedelta(np.arange(n_periods) * step, unit="ns")
    )
    return DecisionCounts(
        period=period,
        periods=periods,
        baseline_periods=n_baseline,
        exposure=period_exposure(baseline_start, n_periods, period, zone),
        holiday=holiday_mask(periods, period, config.holidays),
        timezone=zone,
        labels=labels,
        overall=overall,
        segments=segments,
        overrides=overrides,
        override_known=override_known,
        score_edges=score_edges,
        score_counts=score_counts,
        data_first=first,
        data_last=last,
        rows=int(keep.sum()),
        notes=notes,
        roles=checked,
        untimed=missing_times,
    )


_NUMBER_KINDS = frozenset({"decimal", "floating", "integer", "mixed-integer-float", "empty"})
"""What :func:`pandas.api.types.infer_dtype` calls a column of Python numbers (``Decimal`` included)."""


def _score_values(scores: pd.Series, column: str) -> np.ndarray:
    """A score column as float64 with NaN for missing.

    Numbers of any numeric dtype, and also Python ``Decimal`` objects (what
    ``pyarrow`` gives for a Parquet ``decimal(p, s)`` column converted to
    pandas) or an Arrow decimal dtype: a money or probability column stored as
    a decimal is a number. Anything else (text, booleans) is refused naming
    the column.
    """
    dtype = scores.dtype
    if pd.api.types.is_bool_dtype(dtype):
        raise DataError(f"score column {column!r} holds {dtype} values, expected numbers", column=column)
    if pd.api.types.is_numeric_dtype(dtype):
        return np.asarray(scores.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    if pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(scores, skipna=True) in _NUMBER_KINDS:
        numeric = pd.to_numeric(scores, errors="coerce")
        return np.asarray(numeric.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    raise DataError(f"score column {column!r} holds {dtype} values, expected numbers", column=column)


def _check_analysis_start(first: pd.Timestamp, last: pd.Timestamp, config: CountGrid) -> None:
    """Refuse an ``analysis_start`` after the last decision, naming the data's range."""
    if not config.analysis_start:
        return
    start = pd.Timestamp(config.analysis_start)
    start = start.tz_localize(None) if start.tzinfo is not None else start
    if start <= last:
        return
    K = config.baseline_weeks
    raise DataError(
        f"analysis_start {config.analysis_start} is after the end of the data: data starts "
        f"{first:%Y-%m-%d} and ends {last:%Y-%m-%d %H:%M}, so the analysis window would hold no rows. "
        f"Give an analysis_start inside the data and at least baseline_weeks ({K}) after its start "
        f"(on or after {first + pd.Timedelta(weeks=K):%Y-%m-%d}), or leave it empty"
    )


def folded_levels_note(column: str, distinct: int, kept: int, folded: int, folded_rows: int, cap: int) -> str:
    """The report's note on a segment column whose rarer levels were counted as ``"(other)"``."""
    return (
        f"segment column {column!r} has {distinct:,} distinct values: its {kept} most frequent are "
        f"analysed and the other {folded:,} ({folded_rows:,} rows) are counted together as "
        f"{OTHER_LABEL!r} (the max_segment_levels setting, {cap})"
    )


def _cap_levels(
    codes: np.ndarray, levels: list[object], cap: int, column: str
) -> tuple[np.ndarray, list[object], str | None]:
    """Keep a segment column's ``cap`` most frequent levels and fold the rest into ``"(other)"``.

    Frequency counts the rows given (those inside the windows); ties are broken
    by label, so the cut does not depend on row order. Missing values (code
    -1) stay missing. Returns the codes and levels unchanged when the column
    has at most ``cap`` levels, and a note for the report when levels were folded.
    Why: the counts are a dense periods x levels x labels array, which an
    id-like column (a million merchants) would make tens of GiB.
    """
    if len(levels) <= cap:
        return codes, levels, None
    frequency = np.bincount(codes[codes >= 0], minlength=len(levels))
    used = np.flatnonzero(frequency)
    if used.size <= cap:
        kept = used  # the surplus levels are unused categories: nothing to fold
    else:
        cut = np.partition(frequency, frequency.size - cap)[frequency.size - cap]  # the cap-th largest count
        above = np.flatnonzero(frequency > cut)
        tied = np.flatnonzero(frequency == cut)
        tied = np.array(sorted(tied, key=lambda i: str(levels[i]))[: cap - above.size], dtype=np.intp)
        kept = np.concatenate([above, tied])
    kept = np.array(sorted(kept, key=lambda i: (-frequency[i], str(levels[i]))), dtype=np.intp)
    folded = np.setdiff1d(used, kept, assume_unique=True)
    folded_rows = int(frequency[folded].sum())
    # Position len(levels) is looked up by code -1 (missing), which stays missing.
    lookup = np.full(len(levels) + 1, len(kept), dtype=np.int32)
    lookup[kept] = np.arange(len(kept), dtype=np.int32)
    lookup[-1] = -1
    kept_levels = [levels[i] for i in kept]
    if not folded.size:
        return lookup[codes], kept_levels, None
    note = folded_levels_note(column, int(used.size), len(kept), int(folded.size), folded_rows, cap)
    return lookup[codes], [*kept_levels, OTHER_LABEL], note


def _override_flags(
    frame: pd.DataFrame, column: str, decision_column: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: overridden (1.0/0.0) and override status known (1.0/0.0)."""
    values = frame[column]
    known = values.notna().to_numpy()
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        numeric = values.astype("float64").to_numpy(na_value=np.nan)
        odd = known & ~np.isin(numeric, (0.0, 1.0))
        if odd.any():
            raise DataError(
                f"override column {column!r} holds numbers other than 0 and 1; expected an "
                "override flag or a final decision label",
                column=column,
            )
        flag = np.where(known, numeric, 0.0)
    else:
        final = values.astype("str")
        flag = (known & (final != frame[decision_column].astype("str")).to_numpy()).astype(float)
    return flag, known.astype(float)
