"""Tests of mlreport.stress: the analytic breaking point, and shocks that never break."""

from __future__ import annotations

import pytest
from stress_models import APPROVE_HALF, logistic_model, uniform_population

from mlreport.stress import StressTest
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
