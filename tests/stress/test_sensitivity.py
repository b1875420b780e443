"""Tests of mlreport.stress.SensitivitySweep: curves by hand, families by dtype, the cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stress_models import APPROVE_HALF, logistic_model, uniform_population

from mlreport.errors import ParameterError
from mlreport.stress import DEFAULT_GRIDS, Model, Population, SensitivitySweep, Shocked, StressTest
from mlreport.stress.scenarios import Tolerance


def test_sensitivity_curves_by_hand():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(10_001))
    curves = test.sensitivity(["x"], families=["relative"], grids={"relative": (-0.2, 0.25)})
    approve = curves[curves["decision"] == "approve"].set_index("magnitude")
    assert approve.at[0.0, "change_pp"] == 0.0
    # x (1 + 0.25) < 0.5 <=> x < 0.4: 4000 of 10001 rows (x = i / 10000, i < 4000).
    assert approve.at[0.25, "rate"] == pytest.approx(4_000 / 10_001)
    assert approve.at[0.25, "flip_rate"] == pytest.approx(1_000 / 10_001)
    assert bool(approve.at[0.25, "breaks"]) and not bool(approve.at[0.0, "breaks"])


def sweep(n: int = 10_001, **options) -> SensitivitySweep:
    return SensitivitySweep(Population(logistic_model(), APPROVE_HALF, uniform_population(n), **options))


def test_shocked_reads_out_one_feature_shocked_and_caches_it():
    shocks = sweep()
    result = shocks.shocked("x", "relative", 0.25)
    assert isinstance(result, Shocked)
    assert result.rates.tolist() == pytest.approx([4_000 / 10_001, 6_001 / 10_001])
    assert result.flip_rate == pytest.approx(1_000 / 10_001) and result.score_shift_mean > 0
    assert shocks.shocked("x", "relative", 0.25) is result
    baseline = shocks.shocked("x", "relative", 0.0)
    assert baseline.flip_rate == 0.0 and baseline.rates.tolist() == shocks.population.base_rates.tolist()


def test_breach_against_a_tolerance_and_the_label_that_moved_most():
    shocks = sweep()
    result = shocks.shocked("x", "relative", 0.25)  # approve -10 pp, decline +10 pp
    assert shocks.breach(result, Tolerance(5.0)) == (True, 0)
    assert shocks.breach(result, Tolerance(15.0)) == (False, 0)


def test_families_follow_the_feature_dtype():
    frame = uniform_population(100).assign(grade=["a", "b"] * 50)
    model = Model(lambda f: f["x"].to_numpy(), name="m", features=["x", "z", "grade"])
    shocks = SensitivitySweep(Population(model, APPROVE_HALF, frame))
    assert shocks.families_for("x") == ["relative", "quantile_shift", "set_missing"]
    assert shocks.families_for("grade") == ["category_remap", "set_missing"]
    assert shocks.families_for("x", ["relative", "category_remap", "noise"]) == ["relative", "noise"]
    assert shocks.families_for("grade", ["relative", "category_remap", "noise"]) == ["category_remap"]


def test_curves_default_to_the_population_tolerance_and_refuse_a_family_without_a_grid():
    strict, loose = sweep(2_001, tolerance=Tolerance(1.0)), sweep(2_001, tolerance=Tolerance(50.0))
    grid = {"relative": (0.1,)}
    assert strict.curves(["x"], families=["relative"], grids=grid)["breaks"].any()
    assert not loose.curves(["x"], families=["relative"], grids=grid)["breaks"].any()
    with pytest.raises(ParameterError, match="no magnitude grid for shock family 'absolute'"):
        strict.curves(["x"], families=["absolute"])


def test_curves_have_one_row_per_feature_family_magnitude_and_decision():
    curves = sweep(2_001).curves(["x", "z"], families=["noise"], grids={"noise": (0.5, 1.0)})
    assert len(curves) == 2 * 3 * 2  # features x (0, 0.5, 1) x decisions
    assert curves.columns.tolist() == ["feature", "family", "magnitude", "decision", "base_rate", "rate", "change_pp",
                                       "flip_rate", "score_shift_mean", "breaks"]
    z = curves[curves["feature"] == "z"]
    assert (z["change_pp"] == 0).all() and np.isclose(z["score_shift_mean"], 0).all()
    assert curves[curves["feature"] == "x"]["flip_rate"].iloc[-1] > 0
    again = sweep(2_001).curves(["x", "z"], families=["noise"], grids={"noise": (0.5, 1.0)})
    pd.testing.assert_frame_equal(curves, again)


def test_shocks_the_model_cannot_score_are_left_out_of_the_curves_with_a_note():
    # logistic_model has no rule for a missing x: every set_missing shock of x yields NaN scores.
    shocks = sweep(2_001)
    curves = shocks.curves(["x"], families=["relative", "set_missing"])
    assert set(curves["family"]) == {"relative"}
    assert len(curves) == 2 * (len(DEFAULT_GRIDS["relative"]) + 1)
    unscored = shocks.shocked("x", "set_missing", 0.1)
    assert not unscored.scored and unscored.failure is not None
    assert unscored.failure.count == round(0.1 * 2_001) and np.isnan(unscored.rates).all()
    (note,) = shocks.unscorable_findings()
    assert (note.check, note.subject, note.severity, note.section) == (
        "sensitivity_unscorable", "x set_missing", "ok", "Sensitivity"
    )
    assert note.value == len(DEFAULT_GRIDS["set_missing"])
    assert note.message.startswith("x set_missing: the model cannot score 8 shock size(s) (5% missing, 10% missing, ")
    assert "up to 2,001 of 2,001 rows: returned NaN for 2,001 rows" in note.message  # 100% missing
    assert "left out of the sensitivity curves and of reverse stress" in note.message
    assert sweep(2_001).unscorable_findings() == []  # nothing scored, nothing to say


def test_curves_of_nothing_have_the_columns_of_curves():
    assert list(sweep(101).curves([])) == ["feature", "family", "magnitude", "decision", "base_rate", "rate",
                                          "change_pp", "flip_rate", "score_shift_mean", "breaks"]
