"""Tests of mlreport.stress: the label column and the default segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stress_models import APPROVE_HALF, logistic_model, uniform_population

from mlreport.errors import DataError
from mlreport.stress import StressTest, default_segments


def test_label_column_must_be_binary():
    frame = uniform_population(10).assign(y=[0, 1, 2] + [0] * 7)
    with pytest.raises(DataError, match="label column 'y' must hold 0/1"):
        StressTest(logistic_model(), APPROVE_HALF, frame, label="y")


def test_default_segments_skip_numbers_ids_and_decisions():
    frame = pd.DataFrame(
        {
            "channel": ["a", "b"] * 50,
            "id": [str(i) for i in range(100)],
            "short_id": [str(i) for i in range(10)] * 10,
            "decision": ["approve", "decline"] * 50,
            "amount": np.arange(100.0),
        }
    )
    assert default_segments(frame, decision_labels=("approve", "decline")) == ("channel", "short_id")
    assert default_segments(frame.head(10)) == ("channel", "decision")  # ids: all values distinct
