"""drift.drill_down: a column by period and segment, against the reference, with the rows behind new values.

Data are built by hand so that every share is known: other column names than the sample's, hourly and daily
timestamps, no timestamp at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlreport import drift
from mlreport.errors import ParameterError


def windows() -> tuple[pd.DataFrame, pd.DataFrame]:
    # Reference: 100 rows, ratio 1..100 (no zero, no null), region a/b alternating.
    reference = pd.DataFrame({
        "booked": pd.date_range("2026-01-01", periods=100, freq="h"),
        "ratio": np.arange(1, 101, dtype=float),
        "region": ["a", "b"] * 50,
        "product": ["card"] * 50 + ["loan"] * 50,
    })
    # Current: 3 days of 10 rows. Day 1 clean; day 2: 3 zeros; day 3: 4 nulls, 2 values above 100.
    ratio = [10.0] * 10 + [0.0] * 3 + [20.0] * 7 + [np.nan] * 4 + [150.0, 200.0] + [30.0] * 4
    current = pd.DataFrame({
        "booked": pd.to_datetime(["2026-02-01"] * 10 + ["2026-02-02"] * 10 + ["2026-02-03"] * 10)
        + pd.to_timedelta(np.arange(30) % 10, unit="h"),
        "ratio": ratio,
        "region": ["a"] * 15 + ["b"] * 15,
        "product": ["card"] * 27 + ["auto", "auto", "lease"],
    })
    return reference, current


def test_numeric_column_by_day_counts_missing_zero_and_out_of_range_shares():
    reference, current = windows()
    down = drift.drill_down(reference, current, "ratio", timestamp="booked", segments=["region"])
    assert down.value == 0 and down.outside == "Outside the reference range"
    table = down.by_period.set_index("period")
    assert list(table.index) == ["reference (whole window)", "2026-02-01", "2026-02-02", "2026-02-03"]
    assert table["rows"].tolist() == [100, 10, 10, 10]
    assert table["missing_share"].tolist() == [0.0, 0.0, 0.0, 0.4]
    assert table["value_share"].tolist() == [0.0, 0.0, 0.3, 0.0]
    assert table["outside_share"].tolist() == [0.0, 0.0, 0.3, 0.2]  # 0 is below the reference's minimum (1) too
    assert table["median"].tolist() == [50.5, 10.0, 20.0, 30.0]  # day 3: median of 150, 200, 30 x4 -> 30
    assert down.rows_total == 5 and down.rows["ratio"].tolist() == [0.0, 0.0, 0.0, 150.0, 200.0]


def test_by_segment_sets_each_level_of_the_current_window_beside_the_reference():
    reference, current = windows()
    down = drift.drill_down(reference, current, "ratio", timestamp="booked", segments=["region", "ratio", "absent"])
    table = down.by_segment.set_index(["segment", "level"])
    assert list(table.index) == [("region", "a"), ("region", "b")]  # the column itself and absent ones skipped
    a, b = table.loc[("region", "a")], table.loc[("region", "b")]
    assert (a["rows_reference"], a["rows_current"]) == (50, 15)
    assert a["value_share_current"] == pytest.approx(3 / 15)  # the 3 zeros are rows 10-12, all in region a
    assert b["missing_share_current"] == pytest.approx(4 / 15) and b["outside_share_current"] == pytest.approx(2 / 15)
    assert a["outside_share_current"] == pytest.approx(3 / 15)
    assert a["missing_share_reference"] == 0.0


def test_categorical_column_lists_the_rows_behind_a_new_category():
    reference, current = windows()
    down = drift.drill_down(reference, current, "product", timestamp="booked")
    assert down.value is None and down.outside == "A category new to the reference"
    assert down.rows_total == 3 and down.rows["product"].tolist() == ["auto", "auto", "lease"]
    assert down.by_period.set_index("period").loc["2026-02-03", "outside_share"] == pytest.approx(0.3)
    assert down.by_period["value_share"].eq(0).all()
    assert "median" not in down.by_period.columns


def test_hourly_periods_weeks_and_no_timestamp():
    reference, current = windows()
    hourly = drift.drill_down(reference, current, "ratio", timestamp="booked", period="H")
    assert len(hourly.by_period) == 1 + 30 and hourly.by_period["rows"].iloc[1:].eq(1).all()
    weekly = drift.drill_down(reference, current, "ratio", timestamp="booked", period="W")
    assert weekly.by_period["period"].tolist()[1:] == ["2026-01-26", "2026-02-02"]  # weeks start on Monday
    untimed = drift.drill_down(reference, current.drop(columns="booked"), "ratio")
    assert untimed.by_period["period"].iloc[1] == "rows 1–3" and len(untimed.by_period) == 1 + 10
    assert "no timestamp" in untimed.note


def test_a_given_placeholder_value_and_a_decimal_column():
    reference, current = windows()
    current = current.assign(ratio=current["ratio"].replace(0.0, -1.0))
    down = drift.drill_down(reference, current, "ratio", timestamp="booked", value=-1.0)
    day2 = down.by_period.set_index("period").loc["2026-02-02"]
    assert day2["value_share"] == pytest.approx(0.3) and day2["outside_share"] == pytest.approx(0.3)


def test_an_unknown_column_names_it_and_the_window():
    reference, current = windows()
    with pytest.raises(ParameterError, match="'ratoi' is not in the reference window"):
        drift.drill_down(reference, current, "ratoi")


def test_html_is_escaped_and_shows_each_part():
    reference, current = windows()
    current = current.assign(product=current["product"].replace("lease", "<b>lease</b>"))
    page = drift.drill_down(reference, current, "product", timestamp="booked", segments=["region"])._repr_html_()
    assert "<b>lease</b>" not in page and "&lt;b&gt;lease&lt;/b&gt;" in page
    assert page.count("<table") == 3


def test_the_result_drills_into_the_worst_incident_column_of_a_section():
    result = drift.analyse(drift.DriftParameters(sample_rows=6000, classifier_sample=500,
                                                 sample_incidents=["utilisation_zero"]))
    down = result.drill_down(section="Data integrity")
    assert down.column == "credit_utilisation" and down.value == 0
    days = down.by_period.iloc[1:]
    assert days["value_share"].iloc[-1] > 0.2 > days["value_share"].iloc[0]  # zeros appear in the current window
    assert result.drill_down("income").column == "income"
    none = result.drill_down(section="No such section")
    assert none.column == "" and "name one" in none.note and "<table" not in none._repr_html_()


def test_the_result_counts_a_column_once_for_the_chart_and_every_section_that_drills_into_it():
    """The integrity chart and each section's drill-down name the same column: one pass over the rows, same tables."""
    result = drift.analyse(drift.DriftParameters(sample_rows=6000, classifier_sample=500,
                                                 sample_incidents=["utilisation_zero"]))
    first = result.drill_down(section="Data integrity")
    assert result.drill_down("credit_utilisation", value=0) is first
    fresh = drift.drill_down(result.reference, result.current, "credit_utilisation", value=0,
                             timestamp=result.spec.timestamp, segments=result.spec.segments)
    pd.testing.assert_frame_equal(first.by_period, fresh.by_period)
    pd.testing.assert_frame_equal(first.by_segment, fresh.by_segment)
    # Another placeholder (or the same number as text) is another drill-down.
    other = result.drill_down("credit_utilisation", value=-1)
    assert other is not first and other.value == -1
    assert result.drill_down("credit_utilisation", value=0.0) is not first
    assert result.drill_down("credit_utilisation", value=-1) is other


def test_a_period_where_a_nullable_column_has_no_value_is_all_missing_not_an_error():
    """A Float64 column that is <NA> throughout a period: shares of that period, the median NaN (pandas answers NA)."""
    from mlreport.drift._drill_down import _shares

    period = pd.Series([pd.NA] * 4, dtype="Float64")
    reference = pd.Series([1.0, 2.0, 3.0], dtype="Float64")
    shares = _shares(period, reference, 0.0)
    assert shares["rows"] == 4 and shares["missing_share"] == 1.0 and shares["value_share"] == 0.0
    assert shares["outside_share"] == 0.0 and np.isnan(shares["median"])


@pytest.mark.parametrize("timestamp", ["booked", None])
def test_shares_by_period_and_level_are_those_of_each_groups_rows(timestamp):
    """One pass for every period and level gives each group's own shares and median, computed row by row here.

    Mixed shapes: a nullable integer column, missing timestamps, a segment level the reference never had
    and missing segment values, more than ten chunks of rows in file order when there is no timestamp.
    """
    rng = np.random.default_rng(3)
    n = 2_003
    booked = pd.Series(pd.Timestamp("2026-03-01") + pd.to_timedelta(rng.integers(0, 12 * 24, n), unit="h"))
    booked[rng.uniform(size=n) < 0.02] = pd.NaT
    current = pd.DataFrame({
        "booked": booked,
        "count": pd.array(rng.integers(-1, 9, n), dtype="Int64"),
        "desk": pd.Series(rng.choice(np.array(["n", "s", "e", "new"], dtype=object), n)).where(
            rng.uniform(size=n) > 0.05),
    })
    current.loc[current.index[::11], "count"] = pd.NA
    reference = pd.DataFrame({"count": pd.array(rng.integers(0, 7, 500), dtype="Int64"),
                              "desk": rng.choice(np.array(["n", "s", "e"], dtype=object), 500)})
    down = drift.drill_down(reference, current, "count", timestamp=timestamp, segments=["desk"], value=-1)
    values = pd.to_numeric(current["count"]).astype("float64")
    if timestamp:
        label = booked.dt.strftime("%Y-%m-%d").fillna("no timestamp")
    else:
        size = -(-n // 10)
        label = pd.Series([f"rows {i // size * size + 1:,}–{min((i // size + 1) * size, n):,}" for i in range(n)])
    expected = sorted(set(label)) if timestamp else list(dict.fromkeys(label))  # days in order; chunks in file order
    assert list(down.by_period["period"])[1:] == expected
    for row in down.by_period.iloc[1:].itertuples():
        part = values[(label == row.period).to_numpy()]
        assert row.rows == len(part)
        assert row.missing_share == part.isna().mean()
        assert row.value_share == (part == -1).mean()
        assert row.outside_share == ((part < 0) | (part > 6)).mean()
        assert row.median == part.median() or (np.isnan(row.median) and part.isna().all())
    levels = down.by_segment.set_index("level")
    assert set(levels.index) == {"n", "s", "e", "new"}
    assert levels.loc["new", "rows_reference"] == 0 and np.isnan(levels.loc["new", "missing_share_reference"])
    for level in ("n", "new"):
        part = values[(current["desk"] == level).to_numpy()]
        assert levels.loc[level, "rows_current"] == len(part)
        assert levels.loc[level, "outside_share_current"] == ((part < 0) | (part > 6)).mean()
        assert levels.loc[level, "missing_share_current"] == part.isna().mean()


@pytest.mark.parametrize("alias", ["D", "W-SUN", "M", "h"])
@pytest.mark.parametrize("direct_span", [None, 1])
def test_period_codes_are_pandas_periods_of_each_timestamp(alias, direct_span, monkeypatch):
    """Timestamps floored to the day (hour) and only the distinct floors made periods: each row's Period as pandas'."""
    from mlreport.drift import _drill_down
    from mlreport.drift._drill_down import _period_codes

    if direct_span is not None:  # the hash path, used when the timestamps span too many days for a lookup table
        monkeypatch.setattr(_drill_down, "_DIRECT_SPAN", direct_span)
    rng = np.random.default_rng(4)
    seconds = rng.integers(-3 * 86_400, 90 * 86_400, 5_000)  # around the epoch: floors of negative times too
    times = (np.datetime64("1970-01-01T00:00:00", "us") + seconds.astype("timedelta64[s]")).astype("datetime64[us]")
    times[:3] = np.datetime64("1901-05-06T07:08:09", "us")  # a stray old date: a wide span
    codes, periods = _period_codes(times, alias)
    expected = pd.Series(times).dt.to_period(alias)
    assert [periods[c] for c in codes] == list(expected)
    assert len(periods) == expected.nunique()


def test_segment_levels_encoded_on_threads_give_the_same_drill_down(monkeypatch):
    """Large windows encode their segment columns side by side: the tables are those of one after the other."""
    from mlreport import sample
    from mlreport.drift import _drill_down

    frame = sample.generate(4_000, seed=2, incidents=["utilisation_zero"])
    reference, current = sample.split(frame, "2026-02-19")
    segments = ["channel", "region", "product"]
    serial = drift.drill_down(reference, current, "credit_utilisation", timestamp="timestamp", segments=segments)
    monkeypatch.setattr(_drill_down, "_THREADED_ROWS", 0)
    threaded = drift.drill_down(reference, current, "credit_utilisation", timestamp="timestamp", segments=segments)
    assert threaded.by_segment.equals(serial.by_segment) and threaded.by_period.equals(serial.by_period)
    assert len(serial.by_segment) > 6  # every segment column's levels: not a vacuous comparison


@pytest.mark.parametrize("value", [None, 0, 2.5, -1])
def test_numeric_flags_on_numpy_columns_are_pandas_comparisons(value):
    """Missing, equal and outside flags of numpy columns: those of pandas' comparisons with NaN as False."""
    from mlreport.drift._drill_down import _flags

    rng = np.random.default_rng(9)
    floats = pd.Series(np.round(rng.normal(1, 2, 400), 1))
    floats.iloc[::11] = np.nan
    floats.iloc[5], floats.iloc[6] = np.inf, -np.inf
    ints = pd.Series(rng.integers(-3, 6, 400))
    references = [pd.Series(np.r_[np.linspace(-2, 3, 50), np.nan]), pd.Series(np.arange(0, 4)),
                  pd.Series([np.nan, np.nan])]
    for series in (floats, ints):
        for reference in references:
            missing, equal, outside = _flags(series, reference, value)
            known = pd.to_numeric(reference, errors="coerce").dropna()
            expected_outside = (np.zeros(len(series), dtype=bool) if known.empty else
                                ((series < known.min()) | (series > known.max())).fillna(False).to_numpy(dtype=bool))
            expected_equal = (np.zeros(len(series), dtype=bool) if value is None
                              else (series == value).fillna(False).to_numpy(dtype=bool))
            assert np.array_equal(missing, series.isna().to_numpy())
            assert np.array_equal(equal, expected_equal)
            assert np.array_equal(outside, expected_outside)
