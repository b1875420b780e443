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


# ---------------------------------------------------------------------------
# the null distributions behind out-of-range and new categories, and the two-level grade


def _outside_by_enumeration(n: int, m: int) -> np.ndarray:
    """P(K = k) by listing every order of n reference and m current values (all equally likely)."""
    from itertools import combinations

    counts = np.zeros(m + 1)
    for ref_places in combinations(range(n + m), n):
        low, high = ref_places[0], ref_places[-1]
        counts[low + (n + m - 1 - high)] += 1  # current values before the first and after the last reference one
    return counts / counts.sum()


@pytest.mark.parametrize(("n", "m"), [(2, 3), (3, 4), (5, 5), (6, 3)])
def test_outside_range_pvalue_is_the_exact_permutation_tail(n, m):
    from mlreport.integrity._stats import _outside_range_pvalue

    pmf = _outside_by_enumeration(n, m)
    for k in range(m + 2):
        assert _outside_range_pvalue(k, n, m) == pytest.approx(pmf[k:].sum(), abs=1e-12)
    # mean 2m/(n+1), the rate the binomial test used to assume
    assert (np.arange(m + 1) * pmf).sum() == pytest.approx(2 * m / (n + 1))


def test_outside_range_pvalue_matches_a_simulation_at_scale_and_is_wider_than_the_binomial():
    from mlreport.integrity._stats import _outside_range_pvalue

    rng = np.random.default_rng(3)
    n, m, k = 500, 500, 8
    draws = [(lambda r, c: int(((c < r.min()) | (c > r.max())).sum()))(rng.random(n), rng.random(m))
             for _ in range(20_000)]
    simulated = np.mean(np.array(draws) >= k)
    exact = _outside_range_pvalue(k, n, m)
    assert exact == pytest.approx(simulated, abs=0.004)
    # the binomial at the mean rate 2/(n+1) calls 8 of 500 far rarer than it is
    assert stats.binom.sf(k - 1, m, 2 / (n + 1)) < exact / 5


def test_unseen_pvalue_is_binomial_without_estimation_variance_and_beta_binomial_with_esty_variance():
    from mlreport.integrity._stats import _unseen_pvalue

    # no singletons, no doubletons: the unseen mass is 1/(n+1) and the count binomial
    p, unseen = _unseen_pvalue(4, 500, 500, 0, 0)
    assert unseen == pytest.approx(1 / 501) and p == pytest.approx(stats.binom.sf(3, 500, 1 / 501))
    # 40 singletons and 10 doubletons of 500: U = 0.08, Var(U) by Esty = (40/500^2)(1 - 0.08) + 20/500^2
    n, m, n1, n2, k = 500, 500, 40, 10, 70
    p, unseen = _unseen_pvalue(k, m, n, n1, n2)
    extra = (n1 / n**2) * (1 - n1 / n) + 2 * n2 / n**2
    rho = m * extra / ((m - 1) * unseen * (1 - unseen))
    a, b = unseen * (1 / rho - 1), (1 - unseen) * (1 / rho - 1)
    mean, variance = stats.betabinom.stats(m, a, b, moments="mv")
    assert float(mean) == pytest.approx(m * unseen)
    assert float(variance) == pytest.approx(m * unseen * (1 - unseen) + m**2 * extra, rel=1e-9)
    assert p == pytest.approx(stats.betabinom.sf(k - 1, m, a, b))
    assert p > stats.binom.sf(k - 1, m, unseen)  # the estimate's own uncertainty widens the tail


def test_unseen_pvalue_holds_its_level_on_a_long_tail_of_levels():
    """400 Zipf levels, 500 rows per window: the binomial test rejected often, this one at about its level."""
    from mlreport.integrity._stats import _unseen_pvalue

    rng = np.random.default_rng(11)
    weights = 1.0 / np.arange(1, 401) ** 1.1
    weights /= weights.sum()
    pvalues = []
    for _ in range(400):
        reference = np.bincount(rng.choice(400, 500, p=weights), minlength=400)
        current = rng.choice(400, 500, p=weights)
        new = int((reference[current] == 0).sum())
        pvalues.append(_unseen_pvalue(new, 500, 500, (reference == 1).sum(), (reference == 2).sum())[0])
    assert np.mean(np.array(pvalues) < 0.05) <= 0.075
    assert np.mean(np.array(pvalues) < 0.01) <= 0.025


def test_grade_needs_the_incident_level_for_an_incident():
    from mlreport.integrity._stats import _grade

    assert _grade(6.0, 1e-4, 1.0, 5.0, 1e-3, 1e-5) == "warning"  # significant for a warning only
    assert _grade(6.0, 1e-6, 1.0, 5.0, 1e-3, 1e-5) == "incident"
    assert _grade(6.0, 1e-2, 1.0, 5.0, 1e-3, 1e-5) == "ok"
    assert _grade(2.0, 1e-6, 1.0, 5.0, 1e-3, 1e-5) == "warning"
    assert _grade(6.0, 1e-4, 1.0, 5.0, 1e-3) == "incident"  # one level when no incident alpha is given
    assert _grade(6.0, 1e-4, 1.0, 5.0, 1e-5, 1e-3) == "ok"  # an incident alpha looser than alpha does not loosen
