"""Drift metrics of a column: equal to the kernels on the summaries, and exact KS and Wasserstein from raw values."""

from __future__ import annotations

import numpy as np
import pytest
from drift_frames import (
    _fit,
    _row,
    incident_data_fixture,  # noqa: F401 - a fixture, taken by name
)
from scipy import stats as sps

from mlreport import drift, stats


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
