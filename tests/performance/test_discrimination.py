"""AUC, its DeLong and Hanley-McNeil standard errors, Gini and KS against scipy, sklearn and hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from performance_frames import frame_of, synthetic
from scipy import stats
from sklearn.metrics import roc_auc_score

from mlreport.errors import DataError, ParameterError
from mlreport.performance import auc_se_delong, auc_se_hanley_mcneil, ks_statistic, performance


def test_tiny_example_auc_and_delong_by_hand():
    # Bads 0.8, 0.6, 0.4; goods 0.5, 0.3. Placements: V10 = (1, 1, 1/2), V01 = (2/3, 1).
    # AUC = 5/6; s²(V10) = 1/12, s²(V01) = 1/18; Var = (1/12)/3 + (1/18)/2 = 1/18.
    frame = frame_of([0.8, 0.6, 0.4, 0.5, 0.3], [1, 1, 1, 0, 0])
    result = performance(frame, score="score", target="bad")
    assert result.auc == pytest.approx(5 / 6)
    assert result.gini == pytest.approx(2 / 3)
    assert result.auc_se == pytest.approx(math.sqrt(1 / 18))
    z = stats.norm.ppf(0.975)
    assert result.auc_ci_low == pytest.approx(5 / 6 - z * math.sqrt(1 / 18))
    assert result.auc_ci_high == 1.0  # clipped
    assert (result.n, result.n_bad, result.n_good) == (5, 3, 2)
    assert result.default_rate == pytest.approx(0.6)
    # KS: F_bad jumps at .4,.6,.8 and F_good at .3,.5; the largest gap is 2/3 - 0 ... at 0.5.
    assert result.ks == pytest.approx(stats.ks_2samp([0.8, 0.6, 0.4], [0.5, 0.3]).statistic)
    assert result.ks == pytest.approx(2 / 3)


def test_ties_count_one_half():
    # Pairs (bad, good): (.5,.5)=1/2, (.5,.2)=1, (.7,.5)=1, (.7,.2)=1 -> AUC 3.5/4.
    auc, _ = auc_se_delong(np.array([1, 1, 0, 0]), np.array([0.5, 0.7, 0.5, 0.2]))
    assert auc == pytest.approx(0.875)


def _delong_brute_force(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """DeLong's variance from the pairwise kernel, O(m·n): the textbook definition."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    var = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    return float(psi.mean()), math.sqrt(var)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_delong_midranks_equal_pairwise_definition_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.normal(size=300) + y, 1)  # rounding makes many ties
    auc, se = auc_se_delong(y, s)
    expected_auc, expected_se = _delong_brute_force(y, s)
    assert auc == pytest.approx(expected_auc, rel=1e-12)
    assert se == pytest.approx(expected_se, rel=1e-10)
    assert auc == pytest.approx(roc_auc_score(y, s), rel=1e-12)


def test_hanley_mcneil_published_example():
    # Hanley & McNeil (1982), Radiology 143:29-36, Table 1: CT ratings (1 = definitely
    # normal .. 5 = definitely abnormal) of 58 normal and 51 abnormal patients.
    # Published: area W = 0.893, SE(W) = 0.032.
    normal, abnormal = [33, 6, 6, 11, 2], [3, 2, 2, 11, 33]
    ratings = np.r_[np.repeat(np.arange(1, 6), normal), np.repeat(np.arange(1, 6), abnormal)]
    labels = np.r_[np.zeros(58, dtype=int), np.ones(51, dtype=int)]
    result = performance(frame_of(ratings, labels), score="score", target="bad",
                         ci_method="hanley-mcneil")
    assert round(result.auc, 3) == 0.893
    assert round(result.auc_se, 3) == 0.032
    assert auc_se_hanley_mcneil(result.auc, 51, 58) == result.auc_se
    assert result.ci_method == "Hanley-McNeil"


def test_auc_gini_ks_match_sklearn_and_scipy_on_larger_data():
    frame = synthetic(5_000, seed=3)
    result = performance(frame, score="score", target="bad")
    y = frame["bad"].to_numpy(dtype=int)
    s = frame["score"].to_numpy()
    assert result.auc == pytest.approx(roc_auc_score(y, s), rel=1e-12)
    assert result.gini == pytest.approx(2 * roc_auc_score(y, s) - 1, rel=1e-12)
    assert result.ks == pytest.approx(stats.ks_2samp(s[y == 1], s[y == 0]).statistic, rel=1e-12)
    assert result.n_bad == int(y.sum())
    assert result.auc_ci_low < result.auc < result.auc_ci_high


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=30),
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=30),
)
def test_ks_statistic_equals_scipy(first, second):
    with np.errstate(divide="ignore"):  # scipy's own p-value warns on degenerate samples
        expected = stats.ks_2samp(first, second, method="asymp").statistic
    assert ks_statistic(np.array(first), np.array(second)) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_auc_invariant_to_row_order_and_monotone_transform(seed):
    rng = np.random.default_rng(seed)
    y = np.r_[0, 1, rng.integers(0, 2, 40)]
    s = np.round(rng.uniform(size=y.size), 2)
    auc, se = auc_se_delong(y, s)
    order = rng.permutation(y.size)
    auc2, se2 = auc_se_delong(y[order], s[order])
    auc3, se3 = auc_se_delong(y, np.exp(3 * s))  # strictly increasing transform
    assert auc == pytest.approx(auc2) == pytest.approx(auc3)
    assert se == pytest.approx(se2) == pytest.approx(se3)
    assert 0.0 <= auc <= 1.0
    # Reversing the score mirrors the AUC.
    assert auc_se_delong(y, -s)[0] == pytest.approx(1 - auc)


def test_missing_scores_and_labels_are_excluded_and_counted():
    frame = frame_of([0.9, np.nan, 0.2, 0.7, np.inf, 0.1, 0.3], [1, 1, 0, pd.NA, 0, 0, 1])
    result = performance(frame, score="score", target="bad")
    assert result.n_missing_label == 1
    assert result.n_missing_score == 2  # NaN and inf among labelled rows
    assert (result.n, result.n_bad) == (4, 2)
    # Remaining: bads 0.9, 0.3; goods 0.2, 0.1 -> AUC 1.
    assert result.auc == pytest.approx(1.0)


def test_single_class_and_no_labels_give_a_status_not_an_error():
    only_goods = performance(frame_of([0.1, 0.2, 0.3], [0, 0, 0]), score="score", target="bad")
    assert only_goods.status == "single class"
    assert math.isnan(only_goods.auc) and math.isnan(only_goods.gini)
    assert only_goods.default_rate == 0.0
    nothing = performance(frame_of([0.1, 0.2], [pd.NA, pd.NA]), score="score", target="bad")
    assert nothing.status == "no labels" and nothing.n == 0 and nothing.n_missing_label == 2


def test_bad_labels_and_columns_raise_clear_errors():
    with pytest.raises(DataError, match="values other than 0 and 1"):
        performance(frame_of([0.1, 0.2], [0, 2]), score="score", target="bad")
    with pytest.raises(DataError, match="'nope'"):
        performance(frame_of([0.1], [0]), score="nope", target="bad")
    strings = pd.DataFrame({"score": [0.1, 0.2], "bad": ["yes", "no"]})
    with pytest.raises(DataError, match="0/1 labels"):
        performance(strings, score="score", target="bad")
    with pytest.raises(ParameterError):
        performance(frame_of([0.1], [0]), score="score", target="bad", ci_method="bootstrap")
    # Object columns holding 0/1 and None (as read from JSON) are accepted.
    objects = pd.DataFrame({"score": [0.9, 0.1, 0.5], "bad": [1, 0, None]}, dtype=object)
    objects["score"] = objects["score"].astype(float)
    assert performance(objects, score="score", target="bad").n == 2
