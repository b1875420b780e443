"""The drift verdict: adjusted p-values across the table, effect size gated by significance, per-column bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from drift_frames import _fit, _row, incident_data_fixture, incident_table_fixture  # noqa: F401 - fixtures, taken by name
from statsmodels.stats.multitest import multipletests

from mlreport import drift
from mlreport.profile import ReferenceProfile


def test_adjusted_pvalues_are_benjamini_hochberg_over_the_table(incident_table):
    raw = np.concatenate([incident_table["ks_pvalue"], incident_table["chi2_pvalue"]])
    present = ~np.isnan(raw)
    expected = np.full(raw.shape, np.nan)
    expected[present] = multipletests(raw[present], method="fdr_bh")[1]
    adjusted = np.concatenate([incident_table["ks_pvalue_adj"], incident_table["chi2_pvalue_adj"]])
    np.testing.assert_allclose(adjusted, expected, rtol=1e-12)
    assert incident_table.attrs["correction"] == "fdr_bh"
    assert "Benjamini-Hochberg" in incident_table.attrs["methods"]["multiple_testing"]


def test_bonferroni_is_an_option(incident_data):
    profile, _, current = _fit(incident_data)
    table = drift.compare(profile, None, profile.summarize(current), thresholds={"correction": "bonferroni"})
    n_tests = table["ks_pvalue"].notna().sum() + table["chi2_pvalue"].notna().sum()
    row = _row(table, "age")
    assert row["ks_pvalue_adj"] == pytest.approx(min(1.0, row["ks_pvalue"] * n_tests))
    assert table.attrs["correction"] == "bonferroni"


def test_effect_size_without_significance_is_not_an_alarm():
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.normal(size=400)})
    current = pd.DataFrame({"x": rng.normal(0.3, size=12)})  # D likely > 0.15 on 12 rows
    profile = ReferenceProfile.fit(reference)
    table = drift.compare(profile, None, profile.summarize(current))
    row = _row(table, "x")
    assert row["ks"] >= 0.15 or row["psi"] >= 0.25
    assert row["severity"] == "ok"
    assert "p_adj" in row["reason"] and ">= 0.05" in row["reason"]


def test_per_column_thresholds_change_the_verdict(incident_data):
    profile, _, current = _fit(incident_data)
    summaries = profile.summarize(current)
    relaxed = {"columns": {"income": {"ks": [0.3, 0.5], "wasserstein_norm": [0.5, 0.8]}}}
    table = drift.compare(profile, None, summaries, thresholds=relaxed)
    assert _row(table, "income")["severity"] == "ok"
    strict = {"columns": {"income": {"ks": [0.01, 0.05]}}}
    assert _row(drift.compare(profile, None, summaries, thresholds=strict), "income")["severity"] == "incident"
