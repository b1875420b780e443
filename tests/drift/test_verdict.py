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


def _metrics_row(column: str, kind: str, ks_p: float, chi2_p: float, **metrics) -> dict:
    row = {"column": column, "kind": kind, "n_ref": 1000, "n_cur": 1000, "ks_pvalue": ks_p, "chi2_pvalue": chi2_p,
           "unavailable": "", "psi": 0.0, "js": 0.0, "hellinger": 0.0, "tvd": 0.0, "ks": 0.0,
           "wasserstein_norm": 0.0}
    return {**row, **metrics}


def test_an_incident_needs_significance_at_the_incident_alpha():
    from mlreport.drift._verdict import _assess

    thresholds = drift.Thresholds(alpha=0.01, incident_alpha=0.001, correction="bonferroni")
    table = pd.DataFrame([
        # Bonferroni over the 6 p-values of the table.
        # PSI at the incident band, significant for a warning only (0.001 x 6 = 0.006)
        _metrics_row("a", "numeric", 0.5, 0.001, psi=0.3),
        # the same effect, significant for an incident (0.0001 x 6 = 0.0006)
        _metrics_row("b", "numeric", 0.5, 0.0001, psi=0.3),
        # significant for nothing (0.01 x 6 = 0.06)
        _metrics_row("c", "numeric", 0.5, 0.01, psi=0.3),
    ])
    assessed = _assess(table, thresholds).set_index("column")
    assert list(assessed["severity"]) == ["warning", "incident", "ok"]
    assert assessed.loc["a", "threshold"] == 0.10  # graded at the warning band it has the evidence for
    assert "reached incident 0.25" in assessed.loc["a", "reason"] and ">= 0.001" in assessed.loc["a", "reason"]
    assert ">= 0.01" in assessed.loc["c", "reason"]
    # without an incident alpha the one level serves both, as before
    one_level = _assess(table, drift.Thresholds(alpha=0.01, correction="bonferroni")).set_index("column")
    assert list(one_level["severity"]) == ["incident", "incident", "ok"]


def test_wasserstein_over_std_makes_a_third_of_a_std_shift_an_incident_that_psi_and_ks_leave_at_warning():
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": rng.normal(size=50_000)})
    current = pd.DataFrame({"x": rng.normal(0.3, size=50_000)})
    profile = ReferenceProfile.fit(reference)
    row = _row(drift.compare(profile, None, profile.summarize(current)), "x")
    assert row["psi"] < 0.25 and row["ks"] < 0.15  # decile PSI about 0.09, KS D about 0.12
    assert row["wasserstein_norm"] == pytest.approx(0.3, abs=0.03)
    assert row["severity"] == "incident" and row["trigger"] == "wasserstein_norm"
