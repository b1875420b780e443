"""Tests of mlreport.integrity: the one-sided rate test against statsmodels and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from mlreport.integrity import increase_pvalue


def test_increase_pvalue_matches_statsmodels_ztest_on_large_counts():
    p, fisher = increase_pvalue([40, 200], [1000, 5000], [70, 260], [1000, 5000])
    for i, (k1, n1, k2, n2) in enumerate([(40, 1000, 70, 1000), (200, 5000, 260, 5000)]):
        _, expected = proportions_ztest([k2, k1], [n2, n1], alternative="larger")
        assert p[i] == pytest.approx(expected, rel=1e-9)
    assert not fisher.any()


def test_increase_pvalue_uses_fisher_exact_on_small_counts():
    p, fisher = increase_pvalue(1, 200, 4, 30)
    expected = stats.fisher_exact([[4, 26], [1, 199]], alternative="greater").pvalue
    assert bool(fisher) and float(p) == pytest.approx(expected, rel=1e-9)


def test_increase_pvalue_is_one_for_an_empty_window():
    p, _ = increase_pvalue(5, 100, 0, 0)
    assert float(p) == 1.0


@settings(max_examples=60, deadline=None)
@given(n_ref=st.integers(1, 400), n_cur=st.integers(1, 400), data=st.data())
def test_increase_pvalue_falls_as_the_current_count_rises(n_ref, n_cur, data):
    k_ref = data.draw(st.integers(0, n_ref))
    k_cur = np.arange(n_cur + 1)
    p, _ = increase_pvalue(k_ref, n_ref, k_cur, n_cur)
    assert ((p >= 0) & (p <= 1)).all()
    # Within one test family (z or Fisher) more current successes never raise p.
    _, fisher = increase_pvalue(k_ref, n_ref, k_cur, n_cur)
    for family in (fisher, ~fisher):
        assert (np.diff(p[family]) <= 1e-12).all()
