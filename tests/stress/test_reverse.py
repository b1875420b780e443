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


@pytest.mark.parametrize("family, magnitude, text", [
    ("relative", -0.18, "-18%"), ("relative", 0.125, "+12.5%"), ("quantile_shift", 0.1, "+0.100 quantiles"),
    ("set_missing", 0.25, "25% missing"), ("category_remap", 0.5, "50% remapped to an unseen category"),
    ("noise", 0.5, "noise 0.5 sd"), ("absolute", 2.0, "absolute +2"),
])
def test_format_magnitude_in_words(family, magnitude, text):
    from mlreport.stress._reverse import format_magnitude

    assert format_magnitude(family, magnitude) == text
