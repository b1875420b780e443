"""Calibration by reference score decile and the Hosmer-Lemeshow test, by hand and against scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from performance_frames import frame_of, synthetic
from scipy import stats

from mlreport.performance import calibration_by_decile, fit_score_edges


def test_fit_score_edges_by_hand():
    # numpy's linear quantiles of 1..10 at 0.2, 0.4, 0.6, 0.8: positions 1.8, 3.6, 5.4, 7.2.
    assert fit_score_edges(np.arange(1, 11), bins=5) == pytest.approx([2.8, 4.6, 6.4, 8.2])
    # Tied edges are merged.
    assert fit_score_edges(np.r_[np.ones(50), 2 * np.ones(50)]) == pytest.approx([1.0, 1.5, 2.0])


def test_calibration_bins_and_hosmer_lemeshow_by_hand():
    scores = [0.1, 0.2, 0.2, 0.1, 0.3, 0.4, 0.5, 0.4, 0.6, 0.8, 0.9]
    labels = [0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0]
    frame = frame_of(scores, labels)
    result = calibration_by_decile(frame, score="score", target="bad", edges=np.array([0.25, 0.5]))
    table = result.table
    # Right-closed bins: 0.5 falls in (0.25, 0.5].
    assert table["n"].tolist() == [4, 4, 3]
    assert table["n_bad"].tolist() == [1, 2, 2]
    assert table["mean_predicted"].tolist() == pytest.approx([0.15, 0.4, 2.3 / 3])
    assert table["observed_rate"].tolist() == pytest.approx([0.25, 0.5, 2 / 3])
    # HL terms (O - E)^2 / (E (1 - pbar)): bin 1 0.4²/(0.6·0.85), bin 2 0.4²/(1.6·0.6),
    # bin 3 0.3²/(2.3·(1 - 2.3/3)).
    terms = [0.16 / (0.6 * 0.85), 0.16 / (1.6 * 0.6), 0.09 / (2.3 * (1 - 2.3 / 3))]
    assert table["hl_term"].tolist() == pytest.approx(terms)
    assert result.hl_statistic == pytest.approx(sum(terms))
    assert result.hl_dof == 3  # external validation: g bins
    assert result.hl_pvalue == pytest.approx(stats.chi2.sf(sum(terms), 3))
    assert result.expected_observed == pytest.approx(4.5 / 5)
    assert table["expected_observed"].tolist() == pytest.approx([0.6, 0.8, 2.3 / 2])
    # z = (O - E)/sqrt(sum p(1-p)) = 0.5 / sqrt(0.5 + 0.94 + 0.49).
    assert result.z == pytest.approx(0.5 / math.sqrt(1.93))
    development = calibration_by_decile(frame, score="score", target="bad",
                                        edges=np.array([0.25, 0.5]), hl_dof_reduction=2)
    assert development.hl_dof == 1
    assert development.hl_pvalue == pytest.approx(stats.chi2.sf(sum(terms), 1))


def test_calibration_reuses_reference_edges_for_current():
    reference = synthetic(4_000, seed=5)
    ref = calibration_by_decile(reference, score="score", target="bad")
    assert ref.edges.size == 9
    assert ref.table["n"].tolist() == pytest.approx([400] * 10, abs=1)  # deciles of itself
    current = reference.assign(score=np.clip(reference["score"] * 1.5, 0, 1))
    cur = calibration_by_decile(current, score="score", target="bad", edges=ref.edges)
    np.testing.assert_array_equal(cur.edges, ref.edges)
    expected_counts = np.bincount(np.searchsorted(ref.edges, current["score"], side="left"),
                                  minlength=10)
    assert cur.table["n"].tolist() == expected_counts.tolist()
    assert cur.expected_observed == pytest.approx(
        current["score"].sum() / current["bad"].astype(int).sum())
    assert cur.expected_observed > 1.3  # scores inflated by half


def test_calibration_with_scores_outside_unit_interval_is_flagged_not_tested():
    frame = frame_of([-1.0, 2.0, 3.0, 0.5], [0, 1, 1, 0])
    result = calibration_by_decile(frame, score="score", target="bad")
    assert result.status == "scores not probabilities"
    assert math.isnan(result.hl_pvalue) and math.isnan(result.expected_observed)
