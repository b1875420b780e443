"""How much of its first and last period a window covers, in rows a typical period would hold.

A window rarely starts and ends on period boundaries: data extracted at 11:51
holds about half of its last day's rows, and that day must not be graded as a
complete one (a "rows per period" incident, a day "drifting" because its
morning customers differ from its evening ones). The covered share of an edge
period is the share of a typical period's rows that fall in the covered part:
each reference row's position within its own period (0 at the period's start,
1 at its end) gives the reference's profile over the period (quiet nights,
busy weekdays), and the covered share is the share of reference rows whose
position lies in the covered span. Without reference times the span's share of
the period's length is used.

The covered span of the first period runs from the window's declared start (or
its first row) to the period's end; that of the last period from the period's
start to the window's declared end (or just after its last row).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["EdgeCoverage", "edge_coverage", "COMPLETE_COVERAGE", "MIN_COVERAGE"]

COMPLETE_COVERAGE = 0.98
"""An edge period covering at least this share of a typical period's rows is treated as complete."""

MIN_COVERAGE = 0.5
"""An edge period covering less than this share is not graded on its own (left out, or merged, with a note)."""


class EdgeCoverage(NamedTuple):
    """The covered share of the window's first and last period (1.0 = complete), and how it was estimated."""

    first: float
    last: float
    basis: str

    def of(self, index: int, count: int) -> float:
        """The covered share of period ``index`` of ``count`` periods (1.0 for every inner period)."""
        share = 1.0
        if index == 0:
            share = min(share, self.first)
        if index == count - 1:
            share = min(share, self.last)
        return share


_FIXED_UNITS = {"D": "D", "h": "h", "W-SUN": "W"}
"""Period aliases of fixed length computed in int64 ticks: days and hours (the floor of a naive time to that
unit) and weeks ending on Sunday (weeks start on Monday; 1970-01-01 was a Thursday, 3 days after one)."""

_UNIT_NS = {"h": 3_600 * 10**9, "D": 86_400 * 10**9, "W": 7 * 86_400 * 10**9}

_TICK_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
"""Nanoseconds in a tick of each resolution pandas keeps date-times in."""

_NS_BOUNDS = (np.datetime64("1678-01-01", "ns"), np.datetime64("2261-12-31", "ns"))


def _fixed_ordinals(times: pd.Series, period: str) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Days, hours and weeks of naive times within the nanosecond range, in the times' own ticks: each time's
    period number and its ticks since 1970 shifted to the periods' origin, and the ticks of a tick in
    nanoseconds and of a period; None otherwise (other periods go through pandas).

    The shifted ticks less ``period number x period ticks`` are each time's ticks since its period's start.
    """
    unit = _FIXED_UNITS.get(period)
    if unit is None or not pd.api.types.is_datetime64_dtype(times.dtype) or not len(times):
        return None
    values = times.to_numpy()
    if values.min() < _NS_BOUNDS[0] or values.max() > _NS_BOUNDS[1]:
        return None
    tick_unit, count = np.datetime_data(values.dtype)
    if tick_unit not in _TICK_NS or _UNIT_NS[unit] % (_TICK_NS[tick_unit] * count):
        return None
    tick_ns = _TICK_NS[tick_unit] * count
    per = _UNIT_NS[unit] // tick_ns
    ticks = values.view(np.int64)
    if unit == "W":
        ticks = ticks + 3 * (_UNIT_NS["D"] // tick_ns)  # Monday 1969-12-29 is tick 0 of week 0
    return ticks // per, ticks, per


def _period_length_ns(period: str) -> int:
    """The length pandas divides by in :func:`_positions` (``end_time - start_time + 1 ns`` of a period; its
    end_time is one tick of pandas' period resolution before the next period starts), in nanoseconds."""
    span = pd.Period("2026-01-01", freq=period)
    return int((span.end_time - span.start_time + pd.Timedelta(1, "ns")).value)


def _positions(times: pd.Series, period: str) -> np.ndarray:
    """Each time's position within its own period: 0 at the start, 1 at the end."""
    fixed = _fixed_ordinals(times, period)
    if fixed is not None:
        # The same numbers as pandas' (time - start) / (end_time - start + 1 ns) below: the time since the
        # period's start in int64 nanoseconds, divided as float64 (tested), without a Period per row; in
        # place, two arrays of the times' size at most.
        ordinals, ticks, per = fixed
        tick_ns = _UNIT_NS[_FIXED_UNITS[period]] // per
        np.multiply(ordinals, per, out=ordinals)
        since = np.subtract(ticks, ordinals)
        since *= tick_ns
        return np.divide(since, np.float64(_period_length_ns(period)), out=ordinals.view(np.float64))
    spans = times.dt.to_period(period)
    start = spans.dt.start_time
    length = (spans.dt.end_time - start) + pd.Timedelta(1, "ns")
    return ((times - start) / length).to_numpy(dtype=np.float64)


def _position(at: pd.Timestamp, period: str) -> float:
    span = pd.Period(at, freq=period)
    length = span.end_time - span.start_time + pd.Timedelta(1, "ns")
    return float((at - span.start_time) / length)


def _inner(times: pd.Series, period: str) -> pd.Series:
    """The times of the reference's inner periods (its first and last may be partial), when it has three or more."""
    fixed = _fixed_ordinals(times, period)
    if fixed is not None:
        ordinals = fixed[0]
        first_ordinal, last_ordinal = ordinals.min(), ordinals.max()
        if last_ordinal - first_ordinal >= 2:
            return times[(ordinals != first_ordinal) & (ordinals != last_ordinal)]
        return times
    spans = times.dt.to_period(period)
    first, last = spans.min(), spans.max()
    if (last - first).n >= 2:  # a period offset
        return times[(spans != first) & (spans != last)]
    return times


def edge_coverage(
    current_times: pd.Series,
    period: str,
    *,
    reference_times: pd.Series | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> EdgeCoverage:
    """The covered share of the first and the last period of a window (see the module docstring).

    ``current_times`` are the window's timestamps (naive UTC; missing ones
    ignored), ``period`` a pandas period alias (``"D"``, ``"W"``, ``"M"``,
    ``"h"``). ``start`` and ``end`` are the window's declared bounds (end
    exclusive); without them its first row and its last are. Both shares are
    1.0 when there is nothing to measure.
    """
    times = current_times.dropna()
    if not len(times):
        return EdgeCoverage(1.0, 1.0, "no timestamps")
    first, last = times.min(), times.max()
    begin = start if start is not None and start <= first else first
    first_at = _position(begin, period)
    if end is not None and end > last:
        last_period = pd.Period(end - pd.Timedelta(1, "ns"), freq=period)
        last_at = 1.0 if last_period.end_time + pd.Timedelta(1, "ns") <= end else _position(end, period)
    else:
        last_period = pd.Period(last, freq=period)
        last_at = _position(last, period) + 1e-12  # up to and including the last row
    same = pd.Period(begin, freq=period) == last_period
    known = reference_times.dropna() if reference_times is not None else None
    if known is not None and len(known) >= 2:
        positions = _positions(_inner(known, period), period)
        if same:
            share = float(np.mean((positions >= first_at) & (positions <= last_at)))
            return EdgeCoverage(share, share, "reference rows by position within the period")
        return EdgeCoverage(float(np.mean(positions >= first_at)), float(np.mean(positions <= last_at)),
                            "reference rows by position within the period")
    if same:
        share = max(last_at - first_at, 0.0)
        return EdgeCoverage(share, share, "share of the period's length")
    return EdgeCoverage(1.0 - first_at, min(last_at, 1.0), "share of the period's length")
