"""Drift findings: the message names the column, the metric values and the bands."""

from __future__ import annotations

import pytest
from drift_frames import FEATURES, incident_data_fixture, incident_table_fixture  # noqa: F401 - fixtures, taken by name

from mlreport.drift import _findings as drift_findings


def test_findings_name_column_values_and_thresholds(incident_table):
    findings = drift_findings.findings_from_comparison(incident_table)
    by_subject = {f.subject: f for f in findings}
    assert set(by_subject) == {"income", "credit_utilisation"}
    income = by_subject["income"]
    assert income.section == "Feature drift" and income.check == "feature_drift"
    assert "income" in income.message and "KS D" in income.message and "0.075" in income.message
    # a 15% rise of income moves it 0.25 std (Wasserstein/std), the incident band 0.2
    assert "Wasserstein/std" in income.message and income.severity == "incident"
    assert income.threshold == pytest.approx(0.2) and income.value >= 0.2
    assert "smoothing" in income.method and "BH" in income.message
    assert by_subject["credit_utilisation"].severity == "incident"
    with_ok = drift_findings.findings_from_comparison(incident_table, include_ok=True)
    assert len(with_ok) == len(FEATURES)
