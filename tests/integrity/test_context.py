"""The shared per-column arrays of the integrity checks: period ordinals and numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlreport.integrity._context import _Context, _ordinals


@pytest.mark.parametrize("unit", ["ns", "us", "ms", "s"])
@pytest.mark.parametrize("period", ["D", "h", "W", "M"])
def test_period_ordinals_equal_pandas_periods_before_and_after_1970_with_missing_times(unit, period):
    rng = np.random.default_rng(0)
    micros = rng.integers(-4 * 10**9, 4 * 10**9, 20_000) * 10**6 + rng.integers(0, 10**6, 20_000)
    times = pd.Series(pd.to_datetime(micros, unit="us")).astype(f"datetime64[{unit}]")
    times[::7] = pd.NaT
    np.testing.assert_array_equal(_ordinals(times, period), times.dt.to_period(period).array.asi8)


def test_numbers_of_a_float_column_are_its_values_and_of_others_converted():
    frame = pd.DataFrame({
        "x": [1.5, np.nan, np.inf, -2.0],
        "n": pd.array([1, None, 3, 4], dtype="Int64"),
        "i": [1, 2, 3, 4],
        "o": pd.Series(["1", "a", None, "2.5"], dtype=object),
    })
    ctx = _Context(frame, frame, {}, list(frame.columns), {}, {}, None, None, "D", None)
    np.testing.assert_array_equal(ctx.numbers("x", "ref"), [1.5, np.nan, np.inf, -2.0])
    np.testing.assert_array_equal(ctx.numbers("n", "ref"), [1.0, np.nan, 3.0, 4.0])
    np.testing.assert_array_equal(ctx.numbers("i", "ref"), [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(ctx.numbers("o", "ref"), [1.0, np.nan, np.nan, 2.5])
    assert all(ctx.numbers(c, "ref").dtype == np.float64 for c in frame.columns)
