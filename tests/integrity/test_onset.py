"""Tests of mlreport.integrity: the onset period of a finding and its timeline."""

from __future__ import annotations

import numpy as np
import pytest
from integrity_frames import daily_frame

from mlreport.integrity import missing_change


def test_onset_period_of_a_hand_built_step():
    reference = daily_frame("2026-01-05", 28, 50)
    reference["x"] = 1.0
    current = daily_frame("2026-02-02", 10, 50)
    current["x"] = 1.0
    on_or_after = current["ts"] >= "2026-02-07"
    current.loc[on_or_after & (np.arange(len(current)) % 4 == 0), "x"] = np.nan
    result = missing_change(reference, current, columns=["x"], timestamp_column="ts")
    finding = result.findings[0]
    assert finding.period == "2026-02-07"
    assert "since 2026-02-07" in finding.message and "over the current window" in finding.message
    timeline = result.timeline.set_index("period")
    assert timeline.loc["2026-02-06", "share"] == 0.0
    # Rows 250..299 fall on 2026-02-07; every fourth (252, 256, ..., 296) is null.
    assert timeline.loc["2026-02-07", "share"] == pytest.approx(12 / 50)
