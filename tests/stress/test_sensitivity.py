"""Tests of mlreport.stress: sensitivity curves by hand."""

from __future__ import annotations

import pytest
from stress_models import APPROVE_HALF, logistic_model, uniform_population

from mlreport.stress import StressTest


def test_sensitivity_curves_by_hand():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(10_001))
    curves = test.sensitivity(["x"], families=["relative"], grids={"relative": (-0.2, 0.25)})
    approve = curves[curves["decision"] == "approve"].set_index("magnitude")
    assert approve.at[0.0, "change_pp"] == 0.0
    # x (1 + 0.25) < 0.5 <=> x < 0.4: 4000 of 10001 rows (x = i / 10000, i < 4000).
    assert approve.at[0.25, "rate"] == pytest.approx(4_000 / 10_001)
    assert approve.at[0.25, "flip_rate"] == pytest.approx(1_000 / 10_001)
    assert bool(approve.at[0.25, "breaks"]) and not bool(approve.at[0.0, "breaks"])
