"""Target drift: the two-proportion test of the default rate against statsmodels."""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportions_ztest

from mlreport.performance import target_drift


@pytest.mark.parametrize("counts", [(120, 1000, 150, 1000), (5, 80, 0, 60), (30, 300, 30, 300)])
def test_target_drift_equals_statsmodels(counts):
    bad_ref, n_ref, bad_cur, n_cur = counts
    result = target_drift(bad_ref, n_ref, bad_cur, n_cur)
    z, p = proportions_ztest([bad_cur, bad_ref], [n_cur, n_ref])
    assert result.z == pytest.approx(z)
    assert result.p_value == pytest.approx(p)
    assert result.relative_change == pytest.approx((bad_cur / n_cur) / (bad_ref / n_ref) - 1)
