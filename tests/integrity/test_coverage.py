"""Partial first and last periods: covered shares from the reference's profile within a period, and their grading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from integrity_frames import daily_frame, only

from mlreport.integrity import check_integrity, edge_coverage, rows_per_period


def _daytime(start: str, days: int, per_day: int, *, last_day_until: str | None = None) -> pd.Series:
    """``per_day`` rows a day spread over 09:00-17:00 only (quiet nights), optionally cut on the last day."""
    stamps = []
    for day in range(days):
        base = pd.Timestamp(start) + pd.Timedelta(days=day)
        stamps += list(base + pd.Timedelta(hours=9) + pd.to_timedelta(np.linspace(0, 8 * 3600 - 1, per_day), unit="s"))
    times = pd.Series(pd.to_datetime(stamps))
    if last_day_until is not None:
        times = times[times < pd.Timestamp(last_day_until)]
    return times.reset_index(drop=True)


def test_edge_coverage_follows_the_reference_profile_within_the_period():
    reference = _daytime("2026-01-05", 28, 80)
    # data ending at 13:00 covers half of a working day's rows, though 54% of the day's hours
    current = _daytime("2026-02-02", 7, 80, last_day_until="2026-02-08 13:00")
    edges = edge_coverage(current, "D", reference_times=reference)
    assert edges.first == pytest.approx(1.0)
    assert edges.last == pytest.approx(0.5, abs=0.02)
    assert "reference rows" in edges.basis
    # without reference times, the share of the day's length up to the last row (12:59:...)
    plain = edge_coverage(current, "D")
    assert plain.last == pytest.approx(13 / 24, abs=0.01) and "length" in plain.basis
    # a declared end at midnight: the last day counts as complete, whatever the rows say
    assert edge_coverage(current, "D", reference_times=reference, end=pd.Timestamp("2026-02-09")).last == 1.0
    # a window starting at noon covers the afternoon's half of its first day
    late_start = current[current >= pd.Timestamp("2026-02-02 13:00")]
    assert edge_coverage(late_start, "D", reference_times=reference).first == pytest.approx(0.5, abs=0.02)
    # weekly periods (Monday to Sunday, every day alike): up to Sunday 13:00 is 6.5 of 7 days' rows
    assert edge_coverage(current, "W-SUN", reference_times=reference).last == pytest.approx(6.5 / 7, abs=0.01)


def test_a_last_day_ending_at_16_00_is_graded_on_its_covered_share_not_as_complete():
    reference = daily_frame("2026-01-05", 28, 240)  # rows spread evenly over each day
    current = daily_frame("2026-02-02", 14, 240)
    current = current[current["ts"] < pd.Timestamp("2026-02-15 16:00")]
    result = rows_per_period(reference, current, "ts")
    last = result.table.set_index("period").loc["2026-02-15"]
    assert last["coverage"] == pytest.approx(16 / 24, abs=0.01) and last["graded"] and last["partial"]
    assert last["expected"] == pytest.approx(240 * last["coverage"])
    assert last["severity"] == "ok" and not [f for f in result.findings if f.severity != "ok"]
    assert last["rows"] / 240 < 0.7  # graded as a complete day, as before, it was a 30% drop: a warning


def test_a_last_day_ending_at_11_51_is_left_out_with_a_note():
    reference = daily_frame("2026-01-05", 28, 240)
    current = daily_frame("2026-02-02", 14, 240)
    current = current[current["ts"] < pd.Timestamp("2026-02-15 11:51")]
    result = rows_per_period(reference, current, "ts")
    last = result.table.set_index("period").loc["2026-02-15"]
    assert last["coverage"] == pytest.approx(0.495, abs=0.005)
    assert not last["graded"] and last["severity"] == "ok"
    notes = only(result.findings, "rows_per_period")
    assert [f.severity for f in notes] == ["ok"] and "2026-02-15 not graded" in notes[0].message
    assert "50%" in notes[0].message or "49%" in notes[0].message


def test_a_declared_end_still_finds_the_rows_that_did_not_arrive():
    reference = daily_frame("2026-01-05", 28, 240)
    current = daily_frame("2026-02-02", 14, 240)
    current = current[current["ts"] < pd.Timestamp("2026-02-15 06:00")]
    # the window was declared to run to midnight: three quarters of the last day are missing
    result = rows_per_period(reference, current, "ts", expected_end="2026-02-16")
    last = result.table.set_index("period").loc["2026-02-15"]
    assert last["coverage"] == 1.0 and last["severity"] == "incident"


def test_check_integrity_without_an_expected_end_grades_the_partial_day_by_its_share():
    reference = daily_frame("2026-01-05", 28, 240).assign(x=1.0)
    current = daily_frame("2026-02-02", 14, 240).assign(x=1.0)
    current = current[current["ts"] < pd.Timestamp("2026-02-15 11:51")]
    result = check_integrity(reference, current, timestamp_column="ts", period="D")
    assert result.status == "ok"
    assert result.freshness.empty  # no declared end: freshness is not judged


def _pandas_edges(current: pd.Series, period: str, reference: pd.Series) -> tuple[float, float]:
    """edge_coverage's shares computed the slow way, through a pandas Period per row (independent of its numpy path)."""
    def positions(times: pd.Series) -> np.ndarray:
        spans = times.dt.to_period(period)
        start = spans.dt.start_time
        return ((times - start) / ((spans.dt.end_time - start) + pd.Timedelta(1, "ns"))).to_numpy(dtype=np.float64)

    spans = reference.dt.to_period(period)
    first, last = spans.min(), spans.max()
    inner = reference[(spans != first) & (spans != last)] if (last - first).n >= 2 else reference
    known = positions(inner)
    begin, end = current.min(), current.max()
    first_at = positions(pd.Series([begin]))[0]
    last_at = positions(pd.Series([end]))[0] + 1e-12
    return float(np.mean(known >= first_at)), float(np.mean(known <= last_at))


@pytest.mark.parametrize("unit", ["ns", "us", "ms", "s"])
@pytest.mark.parametrize("period", ["D", "h", "W-SUN"])
@pytest.mark.parametrize("year", [2026, 1965])  # before 1970 too: ticks below zero
def test_edge_coverage_of_days_hours_and_weeks_equals_the_pandas_periods_to_the_bit(unit, period, year):
    rng = np.random.default_rng(7)
    start = np.datetime64(f"{year}-01-05T00:00:00", "us")
    offsets = rng.integers(0, 35 * 86_400_000_000, 50_000).astype("timedelta64[us]")
    reference = pd.Series(start + offsets).astype(f"datetime64[{unit}]")
    # rows on period boundaries (midnight; a Monday in 1965, a Sunday in 2026) and a window cut mid-period
    reference.iloc[:20] = pd.Timestamp(f"{year}-01-11")
    current = (reference[(reference > pd.Timestamp(f"{year}-01-13 10:17:03"))
                         & (reference < pd.Timestamp(f"{year}-02-03 15:41:27"))].reset_index(drop=True))
    edges = edge_coverage(current, period, reference_times=reference)
    assert (edges.first, edges.last) == _pandas_edges(current, period, reference)
