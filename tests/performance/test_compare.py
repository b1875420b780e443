"""Tests of mlreport.performance: the reference against the current window and its periods, and the figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from performance_frames import synthetic
from sklearn.metrics import roc_auc_score

from mlreport import sample
from mlreport.errors import DataError, ParameterError
from mlreport.performance import DEFAULT_THRESHOLDS, compare_performance


def findings_by_check(comparison, period=None):
    return {f.check: f for f in comparison.findings if f.period == period}


def test_identical_windows_give_only_ok_findings():
    reference = synthetic(6_000, seed=11)
    current = synthetic(6_000, seed=12, start="2026-02-02")
    result = compare_performance(reference, current, score="score", target="bad",
                                 timestamp="timestamp", period="W")
    assert all(f.severity == "ok" for f in result.findings), [f.message for f in result.findings]
    assert {"auc_drop", "calibration", "target_drift"} <= set(findings_by_check(result))
    table = result.table
    assert table["window"].tolist() == ["reference", "current"] + ["period"] * 4
    assert table.loc[table["window"] == "period", "n_rows"].sum() == len(current)
    assert table.loc[1, "auc"] == pytest.approx(
        roc_auc_score(current["bad"].astype(int), current["score"]))
    assert all(f.section == "Performance" for f in result.findings)


def test_auc_drop_is_an_incident_when_beyond_noise():
    reference = synthetic(20_000, seed=1)
    current = synthetic(20_000, seed=2, start="2026-02-02")
    # A noisier score: discrimination falls, calibration on average holds.
    rng = np.random.default_rng(0)
    logit = np.log(current["score"] / (1 - current["score"]))
    current["score"] = 1 / (1 + np.exp(-(0.4 * logit - 1.3 + rng.normal(0, 0.6, len(current)))))
    result = compare_performance(reference, current, score="score", target="bad")
    finding = findings_by_check(result)["auc_drop"]
    drop = result.reference.auc - result.current.auc
    assert drop > 0.05
    assert finding.severity == "incident"
    assert finding.value == pytest.approx(drop)
    assert finding.threshold == DEFAULT_THRESHOLDS["auc_drop"][1]


def test_auc_drop_within_noise_is_not_raised():
    reference = synthetic(20_000, seed=1)
    # A small current window: its AUC is noisy, a 0.03-0.05 drop is not evidence.
    current = synthetic(400, seed=4, start="2026-02-02", separation=1.2)
    result = compare_performance(reference, current, score="score", target="bad",
                                 thresholds={"min_bads": 10})
    drop = result.reference.auc - result.current.auc
    noise = 1.96 * math.hypot(result.reference.auc_se, result.current.auc_se)
    assert drop >= 0.03 and drop <= noise, (drop, noise)
    finding = findings_by_check(result)["auc_drop"]
    assert finding.severity == "ok" and "within noise" in finding.message


def test_calibration_and_target_drift_findings():
    reference = synthetic(20_000, seed=1)
    current = synthetic(20_000, seed=2, start="2026-02-02")
    current["score"] = current["score"] * 0.7  # under-predicts risk by 30%
    result = compare_performance(reference, current, score="score", target="bad")
    calibration = findings_by_check(result)["calibration"]
    assert calibration.severity == "incident"
    assert calibration.value == pytest.approx(
        current["score"].sum() / current["bad"].astype(int).sum())
    assert findings_by_check(result)["target_drift"].severity == "ok"

    # Twice the defaults at the same scores: target drift.
    shifted = synthetic(20_000, seed=3, start="2026-02-02")
    rng = np.random.default_rng(9)
    flip = (shifted["bad"] == 0).to_numpy() & (rng.uniform(size=len(shifted)) < 0.12)
    shifted.loc[flip, "bad"] = 1
    result = compare_performance(reference, shifted, score="score", target="bad")
    drift = findings_by_check(result)["target_drift"]
    assert drift.severity == "incident"
    assert result.target_drift.relative_change > 0.5
    assert result.target_drift.p_value < 1e-6


def test_periods_with_few_bads_are_marked_not_judged():
    reference = synthetic(10_000, seed=1)
    current = synthetic(10_000, seed=2, start="2026-02-02")
    # Keep almost no labels in the last two weeks.
    late = current["timestamp"] >= "2026-02-16"
    keep = np.where(late, np.arange(len(current)) % 50 == 0, True)
    current.loc[~keep, "bad"] = pd.NA
    result = compare_performance(reference, current, score="score", target="bad",
                                 timestamp="timestamp", period="W")
    periods = result.table[result.table["window"] == "period"]
    assert periods["status"].tolist() == ["ok", "ok", "insufficient labels",
                                          "insufficient labels"]
    assert (periods.loc[periods["status"] != "ok", "n_bad"] < 30).all()
    note = findings_by_check(result)["performance_periods"]
    assert "2 week(s) not judged" in note.message and "2026-02-16" in note.message
    # No finding judges an unjudged period.
    assert not [f for f in result.findings if f.period and "2026-02-16" in f.period]


def test_label_delay_marks_recent_periods_immature_on_sample_data():
    frame = sample.generate(20_000, seed=3, label_delay_days=30)
    reference, current = sample.split(frame, "2026-01-26")
    result = compare_performance(reference, current, score="score", target="default_flag",
                                 timestamp="timestamp", period="W", label_delay="30D")
    periods = result.table[result.table["window"] == "period"]
    # Data end ~2026-03-01, cutoff ~2026-01-30: every current week ends after it.
    maturity = result.maturity["current"]
    assert maturity.cutoff == current["timestamp"].max() - pd.Timedelta(days=30)
    assert set(periods["status"]) == {"immature"}
    assert maturity.n_too_recent == int((current["timestamp"] > maturity.cutoff).sum())
    # The first days of the window did mature: the whole window is judged over them alone.
    assert 0 < maturity.n_matured < len(current) / 4
    assert result.current.n == maturity.n_matured
    assert (f"{maturity.n_immature:,} of {len(current):,} current rows excluded as immature"
            in findings_by_check(result)["label_maturity"].message)
    assert "immature: " in findings_by_check(result)["performance_periods"].message
    assert result.table.loc[0, "n"] > 1000  # the reference is matured


def test_missing_target_and_all_missing_labels_give_findings():
    reference = synthetic(2_000, seed=1)
    no_target = compare_performance(reference, reference.drop(columns="bad"), score="score",
                                    target="bad")
    assert no_target.findings[0].severity == "warning"
    assert "missing from the current data" in no_target.findings[0].message
    assert no_target.table.empty
    none = compare_performance(reference, reference, score="score", target=None)
    assert none.findings[0].severity == "ok" and "No target" in none.findings[0].message
    unlabelled = reference.assign(bad=pd.array([pd.NA] * len(reference), dtype="Int8"))
    result = compare_performance(reference, unlabelled, score="score", target="bad",
                                 timestamp="timestamp", period="W")
    assert findings_by_check(result)["performance"].severity == "ok"
    assert "No matured labels" in findings_by_check(result)["performance"].message
    assert set(result.table.loc[result.table["window"] == "period", "status"]) == {"no labels"}


def test_single_class_current_window_is_a_clear_finding():
    reference = synthetic(5_000, seed=1)
    current = synthetic(5_000, seed=2).assign(bad=pd.array([0] * 5_000, dtype="Int8"))
    result = compare_performance(reference, current, score="score", target="bad")
    finding = findings_by_check(result)["performance"]
    assert finding.severity == "warning"
    assert "AUC undefined" in finding.message and "goods" in finding.message
    # Losing every bad is also a default-rate collapse.
    assert findings_by_check(result)["target_drift"].severity == "incident"
    assert result.table.loc[1, "status"] == "single class"


def test_nan_scores_are_counted_in_the_table():
    reference = synthetic(5_000, seed=1)
    current = synthetic(5_000, seed=2)
    current.loc[current.index[:250], "score"] = np.nan
    result = compare_performance(reference, current, score="score", target="bad")
    assert result.table.loc[1, "n_missing_score"] == 250
    assert result.table.loc[1, "n"] == 4_750
    assert "250 for a missing score" in findings_by_check(result)["label_maturity"].message


def test_parameters_are_validated():
    reference = synthetic(500, seed=1)
    with pytest.raises(ParameterError, match="period"):
        compare_performance(reference, reference, score="score", target="bad",
                            timestamp="timestamp", period="Q")
    with pytest.raises(ParameterError, match="timestamp"):
        compare_performance(reference, reference, score="score", target="bad", period="W")
    with pytest.raises(ParameterError, match="unknown performance threshold"):
        compare_performance(reference, reference, score="score", target="bad",
                            thresholds={"auc": 0.1})
    with pytest.raises(ParameterError, match="warning <= incident"):
        compare_performance(reference, reference, score="score", target="bad",
                            thresholds={"auc_drop": (0.05, 0.03)})
    with pytest.raises(DataError, match="score column 'p'"):
        compare_performance(reference, reference, score="p", target="bad")


def test_tz_aware_timestamps_and_monthly_periods():
    reference = synthetic(3_000, seed=1)
    current = synthetic(3_000, seed=2, start="2026-01-20", days=40)
    for frame in (reference, current):
        frame["timestamp"] = frame["timestamp"].dt.tz_localize("UTC")
    result = compare_performance(reference, current, score="score", target="bad",
                                 timestamp="timestamp", period="M", label_delay=0)
    assert result.table.loc[result.table["window"] == "period", "period"].tolist() == [
        "2026-01", "2026-02"]


def test_performance_plots_draw_without_warnings():
    from mlreport.performance import _plots as performance_plots

    reference = synthetic(5_000, seed=1)
    current = synthetic(5_000, seed=2, start="2026-02-02")
    current.loc[current["timestamp"] >= "2026-02-23", "bad"] = pd.NA
    result = compare_performance(reference, current, score="score", target="bad",
                                 timestamp="timestamp", period="W")
    fig = performance_plots.auc_by_period(result)
    assert "AUC per period" in fig.axes[0].get_title()
    fig = performance_plots.calibration_plot(result.reference_calibration,
                                             result.current_calibration)
    assert len(fig.axes[0].lines) == 3  # reference, current, diagonal
    empty = compare_performance(reference, current, score="score", target=None)
    assert "not available" in performance_plots.auc_by_period(empty).axes[0].get_title()
