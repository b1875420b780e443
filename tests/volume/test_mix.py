"""The decision-mix test against scipy: chi-square, Cramér's V and PSI."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from mlreport.volume import mix_test


def test_mix_test_matches_scipy():
    baseline = np.array([6000, 1500, 2500])
    current = np.array([6600, 900, 2500])
    result = mix_test(baseline, current)
    reference = sps.chi2_contingency(np.vstack([baseline, current]), correction=False)
    assert result.chi2 == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.dof == 2
    cramer = sps.contingency.association(np.vstack([baseline, current]), method="cramer", correction=False)
    assert result.cramers_v == pytest.approx(cramer)
    b, c = baseline / baseline.sum(), current / current.sum()
    assert result.psi == pytest.approx(np.sum((c - b) * np.log(c / b)))


def test_mix_test_drops_empty_categories_and_handles_empty_windows():
    result = mix_test([100, 0, 50], [120, 0, 30])
    assert result.dof == 1
    assert math.isnan(mix_test([0, 0], [5, 5]).p_value)
