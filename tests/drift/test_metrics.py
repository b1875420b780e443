"""Drift metrics of a column: equal to the kernels on the summaries, and exact KS and Wasserstein from raw values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from drift_frames import (
    _fit,
    _row,
    incident_data_fixture,  # noqa: F401 - a fixture, taken by name
)
from scipy import stats as sps

from mlreport import drift, stats
from mlreport.profile import ReferenceProfile


def test_metrics_match_the_kernels_on_the_summaries(incident_data):
    profile, _, current = _fit(incident_data)
    summaries = profile.summarize(current)
    table = drift.compare(profile, None, summaries)
    ref, cur = profile.reference["income"], summaries["income"]
    row = _row(table, "income")
    assert row["psi"] == pytest.approx(stats.psi(ref.counts, cur.counts, smoothing=0.5))
    assert row["js"] == pytest.approx(stats.js_distance(ref.counts, cur.counts))
    assert row["ks"] == pytest.approx(stats.ks_binned(ref.fine_counts, cur.fine_counts).statistic)
    chi2 = stats.chi2_homogeneity(profile.reference["channel"].counts, summaries["channel"].counts)
    assert _row(table, "channel")["chi2_pvalue"] == pytest.approx(chi2.pvalue)


def test_exact_ks_and_wasserstein_from_raw_values(incident_data):
    profile, reference, current = _fit(incident_data)
    table = drift.compare(profile, None, profile.summarize(current), exact=(reference, current))
    row = _row(table, "income")
    a, b = reference["income"].dropna().to_numpy(), current["income"].dropna().to_numpy()
    expected = sps.ks_2samp(a, b)
    assert row["ks_method"] == "exact"
    assert row["ks"] == expected.statistic and row["ks_pvalue"] == expected.pvalue
    assert row["wasserstein_norm"] == pytest.approx(sps.wasserstein_distance(a, b) / np.std(a, ddof=1))
    binned = _row(drift.compare(profile, None, profile.summarize(current)), "income")
    assert binned["ks"] <= row["ks"] <= binned["ks"] + binned["ks_max_error"]
    assert binned["wasserstein_norm"] == pytest.approx(row["wasserstein_norm"], abs=0.02)


def _categories(counts: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"c": [label for label, count in counts.items() for _ in range(count)]})


def test_rare_categories_are_pooled_with_other_new_by_hand():
    """a, b common; c and d rare (5 and 1 rows in both windows), e new: pooled on both sides before any test."""
    from scipy.stats import chi2_contingency

    reference = _categories({"a": 50, "b": 30, "c": 3, "d": 1})
    current = _categories({"a": 48, "b": 29, "c": 2, "e": 5})
    profile = ReferenceProfile.fit(reference, categorical=["c"])
    ref, cur = profile.reference["c"], profile.summarize(current)["c"]
    # every reference category has a bin (b = 0): a bin needs 3 (0 + 1) (84 + 84) / 84 = 6 rows in both windows
    pooled_ref, pooled_cur, pooled = drift.comparable_counts(profile.columns["c"], ref, cur)
    assert pooled == 2
    assert list(pooled_ref) == [50, 30, 4] and list(pooled_cur) == [48, 29, 7]
    row = _row(drift.compare(profile, None, profile.summarize(current)), "c")
    expected = chi2_contingency(np.array([[50, 30, 4], [48, 29, 7]]), correction=False)
    assert row["chi2_pvalue"] == pytest.approx(expected.pvalue)
    assert row["psi"] == pytest.approx(stats.psi([50, 30, 4], [48, 29, 7], smoothing=0.5))
    assert "2 rare categories pooled with other/new" in row["notes"]


def test_pooling_holds_the_chi_square_at_its_level_on_a_long_tail():
    """400 Zipf levels at 500 rows per window: without pooling the test rejected 61% at 5%."""
    rng = np.random.default_rng(2)
    weights = 1.0 / np.arange(1, 401) ** 1.1
    weights /= weights.sum()
    labels = np.array([f"c{i:03d}" for i in range(400)])
    pvalues = []
    for _ in range(150):
        reference = pd.DataFrame({"city": labels[rng.choice(400, 500, p=weights)]})
        current = pd.DataFrame({"city": labels[rng.choice(400, 500, p=weights)]})
        profile = ReferenceProfile.fit(reference)
        assert profile.columns["city"].high_cardinality
        pvalues.append(_row(drift.compare(profile, None, profile.summarize(current)), "city")["chi2_pvalue"])
    assert np.mean(np.array(pvalues) < 0.05) <= 0.09
