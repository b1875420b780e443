"""Period labels: days, weeks, months and chunks of rows, and timestamps that cannot be read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlreport.errors import DataError, ParameterError
from mlreport.profile import period_labels


def test_unparsable_timestamps_and_bad_periods():
    with pytest.raises(DataError, match="could not be parsed"):
        period_labels(pd.Series(["not a date", "nor this"]), "W")
    with pytest.raises(ParameterError):
        period_labels(pd.Series(pd.to_datetime(["2026-01-01"])), "fortnight")
    labels = period_labels(pd.Series(range(25)), 10)
    assert labels.tolist()[::10] == ["chunk 001", "chunk 002", "chunk 003"]


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
@pytest.mark.parametrize("tz", [None, "Europe/London", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("every", ["D", "W", "M"])
def test_period_labels_equal_per_row_strftime(unit: str, tz: str | None, every: str) -> None:
    """Labels are formatted once per distinct day; they equal pandas' per-row strftime (the reference)."""
    import warnings

    rng = np.random.default_rng(3)
    values = (np.datetime64("1965-03-01", "s") + rng.integers(0, 3 * 10**9, 3000).astype("timedelta64[s]"))
    stamps = pd.Series(values.astype(f"datetime64[{unit}]"), index=np.arange(3000) * 3)
    stamps[rng.random(3000) < 0.05] = pd.NaT
    if tz is not None:
        stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(tz)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # to_period drops the zone: the local day is meant
        if every == "D":
            expected = stamps.dt.strftime("%Y-%m-%d")
        elif every == "W":
            expected = stamps.dt.to_period("W-SUN").dt.start_time.dt.strftime("%Y-%m-%d")
        else:
            expected = stamps.dt.strftime("%Y-%m")
    expected = expected.astype(object).where(stamps.notna(), None)
    labels = period_labels(stamps, every)
    pd.testing.assert_series_equal(labels, expected)
    assert labels.isna().sum() == stamps.isna().sum()
    # as a categorical: the same label on every row, missing where the time is, categories in time order
    coded = period_labels(stamps, every, categorical=True)
    assert coded.index.equals(stamps.index) and isinstance(coded.dtype, pd.CategoricalDtype)
    assert coded.astype(object).where(coded.notna(), None).equals(expected)
    assert list(coded.cat.categories) == sorted(expected.dropna().unique())


def test_chunk_labels_as_categorical_equal_the_labels():
    for rows, every in ((25, 10), (1000, 1), (0, 5), (7, 7)):
        plain = period_labels(pd.Series(range(rows)), every)
        coded = period_labels(pd.Series(range(rows)), every, categorical=True)
        assert coded.astype(object).tolist() == plain.tolist() == [
            f"chunk {i // every + 1:0{max(3, len(str((rows - 1) // every + 1)))}d}" for i in range(rows)]
        assert list(coded.cat.categories) == sorted(set(plain))
