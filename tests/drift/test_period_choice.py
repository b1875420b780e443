"""Which periods drift over time uses: asked for when it applies, else chosen from the data, never a failed run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlreport.drift import CHUNKS, MAX_PERIODS, MIN_PERIOD_ROWS, choose_period
from mlreport.errors import ParameterError


def _times(start: str, periods: int, freq: str) -> pd.Series:
    return pd.Series(pd.date_range(start, periods=periods, freq=freq))


def _auto(times: pd.Series | None, rows: int | None = None, *, ordered: bool = True, backend: str = "pandas"):
    total = len(times) if rows is None and times is not None else int(rows or 0)
    return choose_period("auto", timestamps=times, rows=total, keeps_row_order=ordered, backend=backend)


def test_auto_takes_the_finest_date_period_with_enough_rows_and_few_enough_periods():
    # every 6 minutes for 10 days: 240 rows a day is below the minimum, a week holds enough
    assert _auto(_times("2026-03-02", 2400, "6min")).period == "W"
    # hourly for 10 days: 24 rows a day, 168 a week: months, the coarsest
    assert _auto(_times("2026-03-02", 240, "h")).period == "M"
    # every 3 minutes for 10 days: 480 rows a day, 10 days -> days
    days = _auto(_times("2026-03-02", 4800, "3min"))
    assert days.period == "D" and days.by_date and "median 480" in days.reason and not days.replaced
    # the same rate for 8 weeks: 56 days are too many periods, weeks are not
    assert _auto(_times("2026-01-05", 56 * 480, "3min")).period == "W"
    # daily rows over three years: days and weeks hold too few rows, months do
    assert _auto(_times("2023-01-01", 3 * 365 * 20, "72min")).period == "M"


def test_a_partial_last_day_does_not_change_the_choice():
    full = _times("2026-03-02", 10 * 400, "216s")  # 400 rows a day for ten days
    partial = pd.concat([full, _times("2026-03-12", 20, "min")], ignore_index=True)  # and 20 rows of an 11th
    assert _auto(full).period == _auto(partial).period == "D"


def test_too_few_rows_for_any_period_falls_back_to_months_and_says_so():
    sparse = _times("2026-01-01", 200, "6h")  # 50 days, 200 rows
    choice = _auto(sparse)
    assert choice.period == "M" and f"no period holds {MIN_PERIOD_ROWS}" in choice.reason


def test_rows_per_period_are_scaled_when_the_timestamps_are_a_sample():
    # 1,000 sampled timestamps of a window of 100,000 rows over 10 days: 10,000 rows a day
    sampled = _times("2026-03-02", 1000, "864s")
    assert _auto(sampled).period == "W"  # 100 rows a day, 700 a week
    assert _auto(sampled, rows=100_000).period == "D"


def test_without_a_timestamp_chunks_of_rows_where_the_backend_keeps_the_order():
    for rows, size, count in ((500, MIN_PERIOD_ROWS, 2), (20_000, 2_000, 10), (10**6, 100_000, 10), (120, 300, 1)):
        choice = _auto(None, rows)
        assert choice.period == str(size) and not choice.by_date, rows
        assert f"{count} chunk" in choice.reason and "file order" in choice.reason
    assert CHUNKS == 10


def test_without_a_timestamp_on_duckdb_or_spark_over_time_is_skipped_with_the_reason():
    for backend in ("duckdb", "spark"):
        choice = _auto(None, 5000, ordered=False, backend=backend)
        assert choice.skipped and choice.period is None and choice.replaced
        assert f"the {backend} backend does not keep" in choice.reason and "timestamp_column" in choice.reason


def test_a_period_asked_for_that_cannot_apply_is_replaced_not_a_failure():
    week = choose_period("W", timestamps=None, rows=5000, keeps_row_order=True, backend="pandas")
    assert week.period == "500" and week.replaced and week.reason.startswith("period 'W' needs a timestamp column")
    chunks = choose_period("1000", timestamps=_times("2026-03-02", 4800, "3min"), rows=4800,
                           keeps_row_order=False, backend="duckdb")
    assert chunks.period == "D" and chunks.replaced and "the duckdb backend does not keep" in chunks.reason
    nowhere = choose_period("1000", timestamps=None, rows=4800, keeps_row_order=False, backend="duckdb")
    assert nowhere.skipped
    empty = choose_period("D", timestamps=pd.Series(pd.to_datetime([None, None])), rows=2, keeps_row_order=True,
                          backend="pandas")
    assert empty.period == str(MIN_PERIOD_ROWS) and "with values" in empty.reason


def test_a_period_that_applies_is_kept_as_asked():
    times = _times("2026-03-02", 100, "h")
    assert choose_period("D", timestamps=times, rows=100, keeps_row_order=False, backend="duckdb").period == "D"
    kept = choose_period("25", timestamps=times, rows=100, keeps_row_order=True, backend="pandas")
    assert kept.period == "25" and not kept.replaced
    with pytest.raises(ParameterError, match="'period'"):
        choose_period("fortnight", timestamps=times, rows=100, keeps_row_order=True, backend="pandas")


def test_the_minimum_matches_its_stated_reason():
    """300 rows: a PSI of 0.1 on 10 bins (chi-square ~ n * PSI, 9 dof) is significant at 5% over 100 tests."""
    from scipy.stats import chi2

    assert chi2.sf(MIN_PERIOD_ROWS * 0.1, 9) < 0.05 / 100 < chi2.sf(0.8 * MIN_PERIOD_ROWS * 0.1, 9)
    assert MAX_PERIODS == 14 and np.isfinite(MIN_PERIOD_ROWS)


def _choice_by_labels(times: pd.Series, rows: int) -> list[tuple[float, int]]:
    """Median rows per period and periods of D, W and M, counted on every row's label (independent of the
    rows-per-day path choose_period takes)."""
    from mlreport.profile import period_labels

    scale = rows / len(times)
    sizes = []
    for code in ("D", "W", "M"):
        counts = period_labels(times, code).value_counts()
        sizes.append((float(counts.median()) * scale, len(counts)))
    return sizes


@pytest.mark.parametrize("case", ["minutes", "sparse_years", "tz_aware", "us_partial", "one_day", "far_apart"])
def test_auto_counts_periods_from_rows_per_day_as_from_each_rows_label(case):
    rng = np.random.default_rng(3)
    if case == "minutes":
        times = _times("2026-03-02 07:13", 25_000, "97s")
    elif case == "sparse_years":
        times = pd.Series(pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.integers(0, 4 * 365, 3000), unit="D"))
    elif case == "tz_aware":  # labels by local wall time: 23:30 UTC is the next day in Paris
        times = _times("2026-03-28 23:30", 9000, "4min").dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
    elif case == "us_partial":
        offsets = rng.integers(0, 40 * 86_400_000_000, 60_000).astype("timedelta64[us]")
        times = pd.Series(np.datetime64("2026-01-05T11:51", "us") + offsets)
    elif case == "one_day":
        times = _times("2026-03-02 00:00", 500, "1min")
    else:  # two clusters three centuries apart
        times = pd.concat([_times("1900-01-01", 400, "h"), _times("2200-01-01", 400, "h")], ignore_index=True)
    rows = 3 * len(times)  # a sample of a third of the window: sizes scale
    choice = choose_period("auto", timestamps=times, rows=rows, keeps_row_order=True, backend="pandas")
    sizes = dict(zip(("D", "W", "M"), _choice_by_labels(times, rows), strict=True))
    expected = next((code for code, (typical, periods) in sizes.items()
                     if typical >= MIN_PERIOD_ROWS and periods <= MAX_PERIODS), "M")
    assert choice.period == expected
    typical, periods = sizes[expected]
    assert f"median {typical:,.0f}" in choice.reason or f"median of {typical:,.0f} rows" in choice.reason
    assert f"({periods})" in choice.reason or f"over {periods} month" in choice.reason
