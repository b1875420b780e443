"""Tests of mlreport.stress.ReverseStress: the analytic breaking point, shocks that never break, the sweep it shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stress_models import APPROVE_HALF, logistic_model, uniform_population

from mlreport.stress import Model, Population, ReverseStress, SensitivitySweep, StressTest
from mlreport.stress.scenarios import Tolerance


@pytest.mark.parametrize(
    "family, direction, expected",
    [
        # approval share = 0.5 / (1 + r); breaks when it moves by more than 0.05.
        ("relative", "down", 0.5 / 0.55 - 1),  # -0.0909
        ("relative", "up", 0.5 / 0.45 - 1),  # +0.1111
        # Reference = the uniform population: shifting by q approves x < 0.5 - q.
        ("quantile_shift", "up", 0.05),
        ("quantile_shift", "down", -0.05),
    ],
)
def test_reverse_stress_finds_the_analytic_breaking_point(family, direction, expected):
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(), tolerance=Tolerance(5.0))
    precision = 1e-3
    result = test.reverse_stress(["x"], families=[family], precision=precision)
    row = result.table.set_index("direction").loc[direction]
    assert bool(row["breaks"])
    low, high = sorted([abs(row["bracket_low"]), abs(row["bracket_high"])])
    assert high - low <= precision
    slack = 1e-4  # the x grid is discrete (1e-5 steps)
    assert low - slack <= abs(expected) <= high + slack
    assert row["magnitude"] == row["bracket_high"]
    assert abs(row["change_pp"]) > 5.0


def test_reverse_stress_reports_never_breaks():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(2_001))
    result = test.reverse_stress(["z"], families=["relative"])  # z is not used by the model
    assert not result.table["breaks"].any()
    assert set(result.table["note"]) == {"never breaks within -50%", "never breaks within +50%"}
    assert result.findings[-1].message.startswith("2 of 2 feature/shock combinations never break")


def test_a_bisector_searches_through_its_sweep_and_shares_its_scores():
    calls = []

    def predict(frame):
        calls.append(len(frame))
        return 1.0 / (1.0 + np.exp(-10 * (frame["x"].to_numpy(dtype=float) - 0.5)))

    model = Model(predict, name="counted", features=["x"])
    sweep = SensitivitySweep(Population(model, APPROVE_HALF, uniform_population(2_001)))
    sweep.curves(["x"], families=["relative"])
    scored = len(calls)
    first = ReverseStress(sweep).search(["x"], families=["relative"], precision=0.05)
    # Bisecting to 0.05 within the 0.05-step grid needs no shock the curves did not score.
    assert len(calls) == scored
    assert first.table["breaks"].all() and first.method == first.findings[0].method
    again = ReverseStress(sweep).search(["x"], families=["relative"], precision=0.05)
    pd.testing.assert_frame_equal(first.table, again.table)


def test_breaks_within_fragile_at_are_warnings_and_the_tolerance_defaults_to_the_population():
    population = Population(logistic_model(), APPROVE_HALF, uniform_population(2_001), tolerance=Tolerance(5.0))
    bisector = ReverseStress(SensitivitySweep(population))
    result = bisector.search(["x"], families=["quantile_shift"], precision=0.01)
    assert [f.severity for f in result.findings] == ["warning", "warning"]  # break at 0.05 quantiles, within 0.10
    assert "(fragile: within 0.1)" in result.findings[0].message
    relaxed = bisector.search(["x"], families=["quantile_shift"], precision=0.01, fragile_at=0.01)
    assert [f.severity for f in relaxed.findings] == ["ok", "ok"]
    loose = ReverseStress(SensitivitySweep(Population(logistic_model(), APPROVE_HALF, uniform_population(2_001),
                                                      tolerance=Tolerance(90.0))))
    assert not loose.search(["x"], families=["quantile_shift"]).table["breaks"].any()


def test_a_search_stopped_by_a_shock_the_model_cannot_score_is_not_never_breaks():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(2_001))  # NaN for a missing x
    result = test.reverse_stress(["x", "z"], families=["set_missing"])
    row = result.table.set_index("feature").loc["x"]
    assert not bool(row["scored"]) and not bool(row["breaks"]) and np.isnan(row["magnitude"])
    assert row["note"] == "search stopped: the model cannot score x 5% missing"
    assert row["evaluations"] == 1
    assert bool(result.table.set_index("feature").loc["z", "scored"])  # z is not used: its shocks score
    (never,) = [f for f in result.findings if f.subject == "never breaks"]
    assert never.message == ("1 of 2 feature/shock combinations never break the tolerance within the plausible "
                             "range (1 more stopped at a shock the model cannot score)")


def test_a_break_stands_when_the_bisection_meets_a_shock_the_model_cannot_score():
    def picky(frame: pd.DataFrame) -> np.ndarray:
        x = frame["x"].to_numpy(dtype=float)
        score = 1.0 / (1.0 + np.exp(-10 * (x - 0.5)))
        # NaN only when the largest x lies in (1.11, 1.13): relative +12.5% on x in [0, 1], nowhere else on the grid
        return score * np.nan if 1.11 < x.max() < 1.13 else score

    population = Population(Model(picky, name="picky", features=["x"]), APPROVE_HALF, uniform_population(2_001),
                            tolerance=Tolerance(5.0))
    result = ReverseStress(SensitivitySweep(population)).search(["x"], families=["relative"], precision=0.005)
    up = result.table.set_index("direction").loc["up"]
    # approval 0.5 / (1 + r) moves 6.5 pp at +15% (breaks), 4.5 pp at +10% (holds); +12.5% cannot be scored
    assert bool(up["breaks"]) and bool(up["scored"]) and up["magnitude"] == pytest.approx(0.15)
    assert (up["bracket_low"], up["bracket_high"]) == pytest.approx((0.10, 0.15))
    assert up["note"] == "bracket +10% to +15% not narrowed further: the model cannot score x +12.5%"
    down = result.table.set_index("direction").loc["down"]
    assert bool(down["breaks"]) and down["note"] == "" and abs(down["bracket_high"] - down["bracket_low"]) <= 0.005


@pytest.mark.parametrize("family, magnitude, text", [
    ("relative", -0.18, "-18%"), ("relative", 0.125, "+12.5%"), ("quantile_shift", 0.1, "+0.100 quantiles"),
    ("set_missing", 0.25, "25% missing"), ("category_remap", 0.5, "50% remapped to an unseen category"),
    ("noise", 0.5, "noise 0.5 sd"), ("absolute", 2.0, "absolute +2"),
])
def test_format_magnitude_in_words(family, magnitude, text):
    from mlreport.stress._reverse import format_magnitude

    assert format_magnitude(family, magnitude) == text
