"""The drift kernels against scipy, statsmodels and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon
from scipy.stats.contingency import association

from mlreport import stats
from mlreport.errors import ParameterError

# ---------------------------------------------------------------------------
# PSI


def test_psi_two_bin_hand_example():
    # p = (0.5, 0.5), q = (0.25, 0.75)
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert stats.psi([50, 50], [25, 75]) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.274653, abs=1e-6)


def test_psi_floors_empty_bins_at_eps_without_renormalising():
    # p = (1, 0 -> 1e-4), q = (0.9, 0.1)
    expected = (0.9 - 1.0) * math.log(0.9 / 1.0) + (0.1 - 1e-4) * math.log(0.1 / 1e-4)
    assert stats.psi([100, 0], [90, 10]) == pytest.approx(expected, rel=1e-12)
    # another eps changes the floored term only
    other = (0.9 - 1.0) * math.log(0.9) + (0.1 - 1e-3) * math.log(0.1 / 1e-3)
    assert stats.psi([100, 0], [90, 10], eps=1e-3) == pytest.approx(other, rel=1e-12)


def test_smoothed_psi_hand_example():
    # counts (100, 0) and (90, 10), 0.5 added to each of the 2 bins on both sides:
    # p = (100.5, 0.5) / 101, q = (90.5, 10.5) / 101
    p, q = (100.5 / 101, 0.5 / 101), (90.5 / 101, 10.5 / 101)
    expected = sum((b - a) * math.log(b / a) for a, b in zip(p, q, strict=True))
    assert expected == pytest.approx(0.31181, abs=1e-5)
    assert stats.psi([100, 0], [90, 10], smoothing=0.5) == pytest.approx(expected, rel=1e-12)
    # the floor at 1e-4 gives the empty bin more than twice the weight: 0.7006
    assert stats.psi([100, 0], [90, 10]) == pytest.approx(0.7006, abs=1e-4)
    terms = stats.psi_contributions([100, 0], [90, 10], smoothing=0.5)
    assert terms.sum() == pytest.approx(expected) and (terms >= 0).all()


def test_smoothed_psi_fades_into_the_plain_psi_as_counts_grow_and_rejects_a_bad_pseudo_count():
    ref, cur = np.array([300, 500, 200]), np.array([250, 500, 250])
    plain = stats.psi(ref, cur)
    assert stats.psi(ref * 1000, cur * 1000, smoothing=0.5) == pytest.approx(plain, rel=1e-5)
    assert stats.psi([5, 5], [5, 5], smoothing=0.5) == 0.0
    for bad in (0, -1, float("nan")):
        with pytest.raises(ParameterError):
            stats.psi([1, 2], [1, 2], smoothing=bad)


def test_psi_contributions_sum_to_psi_and_are_non_negative():
    terms = stats.psi_contributions([10, 20, 30, 40], [40, 30, 20, 10])
    assert terms.sum() == pytest.approx(stats.psi([10, 20, 30, 40], [40, 30, 20, 10]))
    assert (terms >= 0).all()


def test_psi_of_an_empty_side_is_nan_and_bad_input_raises():
    assert math.isnan(stats.psi([0, 0], [1, 2]))
    with pytest.raises(ParameterError):
        stats.psi([1, 2], [1, 2, 3])
    with pytest.raises(ParameterError):
        stats.psi([1, -2], [1, 2])
    with pytest.raises(ParameterError):
        stats.psi([1, 2], [1, 2], eps=0)


# ---------------------------------------------------------------------------
# JS, Hellinger, TVD


@pytest.mark.parametrize(
    "p, q",
    [
        ([1, 2, 3], [3, 2, 1]),
        ([10, 0, 5], [0, 10, 5]),
        ([1, 0], [0, 1]),
        ([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]),
        ([100, 1, 1, 1], [1, 1, 1, 100]),
    ],
)
def test_js_distance_equals_scipy_base_2(p, q):
    expected = jensenshannon(np.asarray(p, float), np.asarray(q, float), base=2)
    assert stats.js_distance(p, q) == pytest.approx(float(expected), abs=1e-12)


def test_hellinger_and_tvd_hand_values():
    assert stats.hellinger([1, 0], [0, 1]) == pytest.approx(1.0)
    assert stats.tvd([1, 0], [0, 1]) == pytest.approx(1.0)
    # p = (0.5, 0.5), q = (0.25, 0.75): Bhattacharyya form sqrt(1 - sum sqrt(p q))
    bc = math.sqrt(0.5 * 0.25) + math.sqrt(0.5 * 0.75)
    assert stats.hellinger([2, 2], [1, 3]) == pytest.approx(math.sqrt(1 - bc), rel=1e-12)
    assert stats.tvd([2, 2], [1, 3]) == pytest.approx(0.25)


counts = st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12)


def _pairs():
    return counts.flatmap(
        lambda first: st.tuples(
            st.just(first),
            st.lists(st.integers(min_value=0, max_value=1000), min_size=len(first), max_size=len(first)),
        )
    ).filter(lambda pair: sum(pair[0]) > 0 and sum(pair[1]) > 0)


@settings(max_examples=150, deadline=None)
@given(_pairs())
def test_distance_properties(pair):
    p, q = pair
    assert stats.psi(p, q) >= 0
    for distance in (stats.js_distance, stats.hellinger, stats.tvd):
        forward, backward = distance(p, q), distance(q, p)
        assert 0.0 <= forward <= 1.0
        assert forward == pytest.approx(backward, abs=1e-12)
    # PSI is symmetric too (a symmetrised KL)
    assert stats.psi(p, q) == pytest.approx(stats.psi(q, p), rel=1e-9, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(counts.filter(lambda c: sum(c) > 0), st.integers(min_value=1, max_value=50))
def test_identical_distributions_give_zero(values, factor):
    scaled = [v * factor for v in values]  # same proportions, other sample size
    assert stats.psi(values, scaled) == pytest.approx(0.0, abs=1e-12)
    assert stats.js_distance(values, scaled) == pytest.approx(0.0, abs=1e-7)
    assert stats.hellinger(values, scaled) == pytest.approx(0.0, abs=1e-7)
    assert stats.tvd(values, scaled) == pytest.approx(0.0, abs=1e-12)
    assert stats.ks_binned(values, scaled).statistic == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(_pairs(), st.randoms(use_true_random=False))
def test_bin_order_does_not_matter_to_the_unordered_distances(pair, rng):
    p, q = pair
    order = list(range(len(p)))
    rng.shuffle(order)
    p2, q2 = [p[i] for i in order], [q[i] for i in order]
    for distance in (stats.psi, stats.js_distance, stats.hellinger, stats.tvd):
        assert distance(p, q) == pytest.approx(distance(p2, q2), rel=1e-9, abs=1e-12)


# ---------------------------------------------------------------------------
# KS


def test_ks_exact_is_ks_2samp():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=300), rng.normal(0.2, size=200)
    expected = sps.ks_2samp(a, b)
    result = stats.ks_exact(np.append(a, [np.nan, np.inf]), b)
    assert result.statistic == expected.statistic
    assert result.pvalue == expected.pvalue
    assert (result.n_reference, result.n_current) == (300, 200)


def _counts_on_edges(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.bincount(np.searchsorted(edges, values, side="left"), minlength=edges.size + 1)


def test_ks_binned_is_exact_when_every_value_is_an_edge():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 40, 3000).astype(float)
    b = rng.integers(3, 45, 2000).astype(float)
    edges = np.unique(np.concatenate([a, b]))
    result = stats.ks_binned(_counts_on_edges(a, edges), _counts_on_edges(b, edges))
    assert result.statistic == pytest.approx(sps.ks_2samp(a, b).statistic, abs=1e-12)
    en = 3000 * 2000 / 5000
    assert result.pvalue == pytest.approx(sps.kstwobign.sf(result.statistic * math.sqrt(en)), rel=1e-12)


def test_ks_binned_pvalue_is_close_to_ks_2samp_asymptotic():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=20_000), rng.normal(0.03, size=10_000)
    edges = np.unique(np.concatenate([a, b]))
    result = stats.ks_binned(_counts_on_edges(a, edges), _counts_on_edges(b, edges))
    reference = sps.ks_2samp(a, b, method="asymp")
    assert result.statistic == pytest.approx(reference.statistic, abs=1e-12)
    assert result.pvalue == pytest.approx(reference.pvalue, rel=0.02)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=10_000),
    st.floats(min_value=-1.0, max_value=1.0),
    st.floats(min_value=0.5, max_value=2.0),
    st.integers(min_value=5, max_value=120),
)
def test_ks_binned_is_a_lower_bound_within_its_error_bound(seed, shift, spread, n_bins):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=800)
    b = rng.normal(shift, spread, size=500)
    edges = np.unique(np.quantile(a, np.arange(1, n_bins) / n_bins, method="inverted_cdf"))
    result = stats.ks_binned(_counts_on_edges(a, edges), _counts_on_edges(b, edges))
    true_d = sps.ks_2samp(a, b).statistic
    assert result.statistic <= true_d + 1e-12
    assert true_d - result.statistic <= result.max_error + 1e-12


# ---------------------------------------------------------------------------
# Wasserstein


def test_wasserstein_exact_is_scipy_over_reference_std():
    rng = np.random.default_rng(4)
    a, b = rng.lognormal(size=500), rng.lognormal(0.1, size=400)
    expected = sps.wasserstein_distance(a, b) / np.std(a, ddof=1)
    assert stats.wasserstein_exact(a, b) == pytest.approx(expected, rel=1e-12)
    assert math.isnan(stats.wasserstein_exact(np.ones(10), b))  # std 0


@pytest.mark.parametrize("shift, spread", [(0.0, 1.0), (0.3, 1.0), (0.0, 1.5), (-1.0, 0.7)])
def test_wasserstein_binned_is_close_to_exact_on_continuous_data(shift, spread):
    rng = np.random.default_rng(5)
    a = rng.normal(size=50_000)
    b = rng.normal(shift, spread, size=20_000)
    edges = np.unique(np.quantile(a, np.arange(1, 100) / 100, method="inverted_cdf"))
    a_idx, b_idx = np.searchsorted(edges, a), np.searchsorted(edges, b)
    a_counts = np.bincount(a_idx, minlength=edges.size + 1)
    b_counts = np.bincount(b_idx, minlength=edges.size + 1)
    a_means = np.bincount(a_idx, weights=a, minlength=edges.size + 1) / np.maximum(a_counts, 1)
    b_means = np.bincount(b_idx, weights=b, minlength=edges.size + 1) / np.maximum(b_counts, 1)
    scale = np.std(a, ddof=1)
    binned = stats.wasserstein_binned(a_counts, b_counts, a_means, b_means, scale=scale)
    exact = sps.wasserstein_distance(a, b) / scale
    # within 0.01 reference std, and the documented bound holds on interior bins
    assert binned == pytest.approx(exact, abs=0.01)
    widths = np.diff(edges)
    interior = (a_counts[1:-1] / a.size + b_counts[1:-1] / b.size) * widths
    outer = sum(
        np.abs(values[index == k] - values[index == k].mean()).mean() * (index == k).mean()
        for values, index in ((a, a_idx), (b, b_idx))
        for k in (0, edges.size)
        if (index == k).any()
    )
    assert abs(binned - exact) <= (interior.sum() + outer) / scale + 1e-12


# ---------------------------------------------------------------------------
# chi-square test of homogeneity


def test_chi2_equals_chi2_contingency_without_pooling():
    reference, current = [120, 90, 60, 30], [50, 40, 45, 20]
    table = np.array([reference, current])
    expected = sps.chi2_contingency(table, correction=False)
    result = stats.chi2_homogeneity(reference, current)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.pvalue == pytest.approx(expected.pvalue, rel=1e-12)
    assert result.dof == expected.dof == 3
    assert result.pooled == 0
    assert result.cramers_v == pytest.approx(association(table, method="cramer"), rel=1e-12)


def test_chi2_pools_small_expected_counts_by_the_stated_rule():
    reference, current = [500, 400, 2, 1], [100, 120, 0, 3]
    result = stats.chi2_homogeneity(reference, current)
    # categories 3 and 4 (expected < 5) pool to [3, 3]; that cell's expected
    # current count 226 * 6 / 1129 = 1.2 is still < 5, so it merges into the
    # smallest remaining category (400 + 120): the 2 x 2 table below.
    pooled = np.array([[500, 403], [100, 123]])
    expected = sps.chi2_contingency(pooled, correction=False)
    assert result.pooled == 3
    assert result.cells == 2
    assert result.dof == 1
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.pvalue == pytest.approx(expected.pvalue, rel=1e-12)


def test_chi2_is_not_a_goodness_of_fit_test():
    # Treating the reference as exact would use expected = n_cur * p_ref; the
    # homogeneity test accounts for the reference's own sampling noise too.
    reference, current = [60, 40], [45, 55]
    gof = sps.chisquare(current, f_exp=np.array(reference) / 100 * 100).statistic
    result = stats.chi2_homogeneity(reference, current)
    assert result.statistic < gof
    assert result.statistic == pytest.approx(
        sps.chi2_contingency(np.array([reference, current]), correction=False).statistic
    )


def test_chi2_with_nothing_to_test():
    result = stats.chi2_homogeneity([10, 0], [5, 0])
    assert result.cells == 1 and result.dof == 0 and math.isnan(result.pvalue)
    assert math.isnan(stats.chi2_homogeneity([0, 0], [1, 1]).pvalue)


# ---------------------------------------------------------------------------
# multiple testing


def test_benjamini_hochberg_hand_example():
    adjusted = stats.adjust_pvalues([0.01, 0.04, 0.03, 0.5])
    # sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, 0.06, 0.0533, 0.5 -> step-up minimum
    assert adjusted == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])


def test_bonferroni_and_nan_passthrough():
    assert stats.adjust_pvalues([0.01, 0.04, 0.03, 0.5], "bonferroni") == pytest.approx(
        [0.04, 0.16, 0.12, 1.0]
    )
    adjusted = stats.adjust_pvalues([0.01, float("nan"), 0.04], "bh")
    assert adjusted[0] == pytest.approx(0.02) and adjusted[2] == pytest.approx(0.04)
    assert math.isnan(adjusted[1])
    assert np.isnan(stats.adjust_pvalues([float("nan")])).all()
    with pytest.raises(ParameterError):
        stats.adjust_pvalues([0.1], "holm-ish")
