"""Tests of mlreport.integrity: missing values, modal and sentinel spikes and
infinities on hand-built frames with hand-computed shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from integrity_frames import INCIDENT_START, missing_frames, only, row
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from mlreport import sample
from mlreport.integrity import check_integrity, missing_change, non_finite, sentinel_spikes

# --------------------------------------------------------------------------- missing


def test_missing_change_hand_computed_shares():
    reference, current = missing_frames(1000, 20, 100)
    result = missing_change(reference, current)
    figures = row(result.table, "x")
    assert figures["reference_missing_share"] == 0.02
    assert figures["current_missing_share"] == 0.10
    assert figures["missing_change_pp"] == pytest.approx(8.0)
    _, p = proportions_ztest([100, 20], [1000, 1000], alternative="larger")
    assert figures["missing_p_value"] == pytest.approx(p, rel=1e-9)
    finding = result.findings[0]
    assert finding.severity == "incident" and finding.value == pytest.approx(8.0)
    assert finding.threshold == 5.0 and "z-test" in finding.method
    assert finding.message == "x: 10.0% of rows are null (reference 2.0%)"


def test_missing_change_two_levels_and_scale():
    # +2 pp at 10^4 rows: significant, above 1 pp, below 5 pp -> warning.
    reference, current = missing_frames(10_000, 200, 400)
    assert [f.severity for f in missing_change(reference, current).findings] == ["warning"]
    # +0.5 pp at 10^6 rows: highly significant, but below the absolute threshold.
    reference, current = missing_frames(1_000_000, 10_000, 15_000)
    result = missing_change(reference, current)
    assert row(result.table, "x")["missing_p_value"] < 1e-10 and result.findings == []
    # +8 pp at 50 rows: not significant (4 of 50 vs 0 of 50 nulls) -> no finding.
    reference, current = missing_frames(50, 0, 4)
    assert missing_change(reference, current).findings == []


def test_missing_only_change_is_found_while_distribution_checks_see_nothing():
    """The lesson of issue 3: 10% newly null, the rest of the column unchanged."""
    frame = sample.generate(20_000, seed=11)
    reference, current = sample.split(frame, INCIDENT_START)
    rng = np.random.default_rng(0)
    current = current.copy()
    current.loc[rng.random(len(current)) < 0.10, "debt_to_income"] = np.nan
    result = check_integrity(reference, current, columns=["debt_to_income"])
    missing = only(result.findings, "missing", "debt_to_income")
    assert len(missing) == 1 and missing[0].severity in ("warning", "incident")
    assert [f.check for f in result.findings] == ["missing"]
    figures = row(result.columns, "debt_to_income")
    assert figures["sentinel_severity"] == "ok" and figures["out_of_range_severity"] == "ok"
    # Independent confirmation that the non-null values did not move.
    ks = stats.ks_2samp(reference["debt_to_income"].dropna(), current["debt_to_income"].dropna())
    assert ks.pvalue > 0.01


def test_column_entirely_null_is_an_incident():
    reference = pd.DataFrame({"x": np.r_[np.full(50, np.nan), np.ones(950)]})
    current = pd.DataFrame({"x": np.full(40, np.nan)})
    finding = missing_change(reference, current).findings[0]
    assert finding.severity == "incident"
    assert finding.message == "x: entirely null in the current data (40 rows; reference 5.0% null)"


# --------------------------------------------------------------------------- sentinels


def test_sentinel_spike_defaulted_to_zero():
    n = 1000
    reference = pd.DataFrame({"u": np.r_[np.zeros(10), np.linspace(0.01, 1, n - 10)]})
    current = pd.DataFrame({"u": np.r_[np.zeros(310), np.linspace(0.01, 1, n - 310)]})
    result = sentinel_spikes(reference, current)
    figures = row(result.table, "u")
    assert figures["sentinel_value"] == 0.0
    assert figures["reference_sentinel_share"] == 0.01
    assert figures["current_sentinel_share"] == 0.31
    assert figures["current_modal_value"] == 0.0 and figures["current_modal_share"] == 0.31
    finding = result.findings[0]
    assert finding.severity == "incident" and finding.value == pytest.approx(30.0)
    assert finding.message == "u: 31.0% of rows are exactly 0 (reference 1.0%)"


def test_sentinel_spike_of_a_new_modal_value_and_of_a_placeholder_string():
    n = 2000
    values = np.linspace(1, 100, n)
    current_values = values.copy()
    current_values[:200] = 42.5  # defaulted to a mean-like constant for 10% of rows
    reference = pd.DataFrame({"v": values, "s": np.where(np.arange(n) % 4 == 0, "a", "b")})
    current = pd.DataFrame({"v": current_values,
                            "s": np.where(np.arange(n) < 160, "UNKNOWN",
                                          np.where(np.arange(n) % 4 == 0, "a", "b"))})
    reference.loc[:1, "s"] = "unknown"  # 0.1% placeholder in the reference
    result = sentinel_spikes(reference, current)
    by_column = {f.subject: f for f in result.findings}
    assert by_column["v"].severity == "incident" and "exactly 42.5" in by_column["v"].message
    assert row(result.table, "v")["current_sentinel_share"] == 0.1
    assert by_column["s"].severity == "incident"
    assert "8.0% of rows are exactly 'UNKNOWN'" in by_column["s"].message


def test_common_value_growing_with_ordinary_drift_is_not_a_spike():
    n = 5000
    # 40% -> 48% of 'a': +8 pp and significant, but only 1.2x: drift, not a default.
    reference = pd.DataFrame({"c": np.where(np.arange(n) < 0.40 * n, "a", "b")})
    current = pd.DataFrame({"c": np.where(np.arange(n) < 0.48 * n, "a", "b")})
    result = sentinel_spikes(reference, current)
    assert result.findings == []
    assert row(result.table, "c")["sentinel_p_value"] < 1e-6


# --------------------------------------------------------------------------- infinities


def test_infinities_are_counted_and_a_finding():
    reference = pd.DataFrame({"x": np.arange(1000.0)})
    values = np.arange(1000.0)
    values[:3], values[3:5] = np.inf, -np.inf
    result = non_finite(reference, pd.DataFrame({"x": values}))
    figures = row(result.table, "x")
    assert (figures["current_positive_inf"], figures["current_negative_inf"]) == (3, 2)
    assert figures["current_non_finite_share"] == 0.005
    finding = result.findings[0]
    assert finding.severity == "warning" and "5 infinite values" in finding.message
    values[:50] = np.inf  # 5.2% -> incident
    assert non_finite(reference, pd.DataFrame({"x": values})).findings[0].severity == "incident"


def test_sentinel_candidates_are_counted_as_one_comparison_each_would():
    # the numeric candidates' rows counted in one pass: -0.0 is 0.0, NaN and infinities equal nothing but themselves
    rng = np.random.default_rng(5)
    values = rng.integers(-2, 4, 120_000).astype(float)
    values[::7], values[::11], values[::13] = np.nan, -0.0, np.inf
    reference = pd.DataFrame({"x": values})
    current = pd.DataFrame({"x": np.where(rng.random(120_000) < 0.3, -1.0, values)})
    found = sentinel_spikes(reference, current).table.set_index("column").loc["x"]
    value = found["sentinel_value"]
    assert value == -1.0
    assert found["reference_sentinel_share"] == np.count_nonzero(values == value) / len(values)
    assert found["current_sentinel_share"] == np.count_nonzero(current["x"].to_numpy() == value) / len(values)
    modal = found["reference_modal_value"]
    largest = max(np.count_nonzero(values == v) for v in (-2.0, -1.0, 0.0, 1.0, 2.0, 3.0))
    assert found["reference_modal_share"] == largest / len(values) == np.count_nonzero(values == modal) / len(values)
