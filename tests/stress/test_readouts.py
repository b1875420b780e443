"""Tests of mlreport.stress: the paired rate-change interval and the AUC."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from mlreport.stress import paired_rate_change, roc_auc


def test_paired_rate_change_matches_the_matched_pairs_formula():
    # 10 rows: 2 leave the label (b), 4 join it (c).
    before = np.array([1, 1, 0, 0, 0, 0, 1, 1, 0, 0], dtype=bool)
    after = np.array([0, 0, 1, 1, 1, 1, 1, 1, 0, 0], dtype=bool)
    change, low, high = paired_rate_change(before, after)
    z = stats.norm.ppf(0.975)
    half = z * math.sqrt(2 + 4 - (4 - 2) ** 2 / 10) / 10
    assert change == pytest.approx(0.2)
    assert (low, high) == pytest.approx((0.2 - half, 0.2 + half))


def test_paired_interval_covers_at_the_stated_rate():
    # Simulation: the 95% interval covers the true change about 95% of the time.
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(400):
        before = rng.uniform(size=2_000) < 0.6
        flip = rng.uniform(size=2_000) < 0.1
        after = np.where(flip, ~before, before)
        true_change = 0.1 * (0.4 - 0.6)  # 10% of rows flip either way
        _, low, high = paired_rate_change(before, after)
        covered += low <= true_change <= high
    assert 0.92 <= covered / 400 <= 0.98


def test_roc_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, size=500)
    scores = np.round(rng.uniform(size=500) + 0.3 * labels, 1)  # many ties
    assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))
    assert math.isnan(roc_auc(scores, np.zeros(500)))
