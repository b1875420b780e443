"""Period labels: days, weeks, months and chunks of rows, and timestamps that cannot be read."""

from __future__ import annotations

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
