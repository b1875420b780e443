"""The report's false-alarm budget: the allocation between families and each family's alphas."""

from __future__ import annotations

import math

import pytest
from scipy import stats as sps

from mlreport import drift
from mlreport.drift import _budget as budget_module
from mlreport.errors import ParameterError


def test_the_shares_spend_exactly_the_report_alpha_at_each_level():
    budget = drift.DEFAULT_BUDGET
    assert math.fsum(drift.FAMILY_SHARES.values()) == pytest.approx(1.0)
    for level, report in drift.REPORT_ALPHA.items():
        # Bonferroni across families: the chance that any family fires is at most the sum of theirs
        assert math.fsum(budget.alpha(family, level) for family in budget.shares) == pytest.approx(report)
    assert drift.REPORT_ALPHA == {"warning": 0.05, "incident": 0.01}
    assert budget.levels("feature_drift") == pytest.approx((0.05 * 0.15, 0.01 * 0.15))
    assert budget.levels("domain_classifier") == pytest.approx((0.0075, 0.0015))


def test_integrity_checks_share_the_integrity_family_equally():
    overrides = drift.DEFAULT_BUDGET.integrity_overrides({})
    checks = len(budget_module.INTEGRITY_CHECKS)
    assert checks == 10
    assert overrides["alpha"] == pytest.approx(0.05 * 0.25 / 10)  # 0.00125
    assert overrides["incident_alpha"] == pytest.approx(0.01 * 0.25 / 10)  # 0.00025
    assert overrides["version"].endswith("+budget")
    # an alpha set by the spec or a parameter stands, and the version is the user's (merge_thresholds marks it)
    mine = drift.DEFAULT_BUDGET.integrity_overrides({"alpha": 0.01})
    assert mine == {"alpha": 0.01}


def test_performance_is_bonferroni_over_its_tests_at_the_incident_level():
    overrides = drift.DEFAULT_BUDGET.performance_overrides({}, periods=4)
    per_test = 0.01 * 0.15 / (3 * 5)  # 3 checks x (window + 4 periods) = 1e-4
    assert overrides["alpha"] == pytest.approx(per_test)
    assert overrides["z"] == pytest.approx(sps.norm.isf(per_test / 2))
    assert overrides["z"] == pytest.approx(3.8906, abs=1e-4)
    assert drift.DEFAULT_BUDGET.performance_overrides({"z": 1.96}, periods=4)["z"] == 1.96


def test_drift_families_take_their_alphas_unless_the_thresholds_set_one():
    merged = drift.DEFAULT_BUDGET.drift_overrides("drift_over_time", {"correction": "bonferroni"})
    assert merged == {"correction": "bonferroni", "alpha": 0.0075, "incident_alpha": 0.0015}
    assert drift.DEFAULT_BUDGET.drift_overrides("drift_over_time", {"alpha": 0.05}) == {"alpha": 0.05}
    thresholds = drift.Thresholds.from_dict(merged)
    assert thresholds.alpha_for("warning") == 0.0075 and thresholds.alpha_for("incident") == 0.0015


def test_a_budget_is_checked():
    with pytest.raises(ParameterError, match="sum to 1"):
        drift.FalseAlarmBudget(shares={"integrity": 0.5})
    with pytest.raises(ParameterError, match="incident"):
        drift.FalseAlarmBudget(warning=0.01, incident=0.05)
    with pytest.raises(ParameterError, match="no false-alarm budget"):
        drift.DEFAULT_BUDGET.alpha("volume")
    table = drift.DEFAULT_BUDGET.table()
    assert list(table["family"]) == list(drift.FAMILY_SHARES)
    assert table["warning_alpha"].sum() == pytest.approx(0.05)
    assert "Benjamini-Hochberg" in table.set_index("family").loc["feature_drift", "within"]
    assert "5%" in drift.DEFAULT_BUDGET.describe() and "1%" in drift.DEFAULT_BUDGET.describe()
