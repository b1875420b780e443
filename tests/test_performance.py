"""Tests of mlreport.performance against scipy, sklearn, statsmodels and hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import roc_auc_score
from statsmodels.stats.proportion import proportions_ztest

from mlreport import sample
from mlreport.errors import DataError, ParameterError
from mlreport.performance import (
    DEFAULT_THRESHOLDS,
    auc_se_delong,
    auc_se_hanley_mcneil,
    calibration_by_decile,
    compare_performance,
    fit_score_edges,
    ks_statistic,
    matured,
    performance,
    target_drift,
)


def frame_of(scores, labels) -> pd.DataFrame:
    return pd.DataFrame({"score": np.asarray(scores, dtype=float),
                         "bad": pd.array(labels, dtype="Int8")})


def synthetic(n: int, *, seed: int, separation: float = 1.5, start: str = "2026-01-05",
              days: int = 28, calibrated: bool = True) -> pd.DataFrame:
    """Labels from a logistic model; score = the true probability (calibrated) or a noisy one."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-2.2 + separation * x)))
    y = (rng.uniform(size=n) < p).astype("int8")
    stamps = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.uniform(0, days, n)), unit="D")
    return pd.DataFrame({"timestamp": stamps, "score": p, "bad": pd.array(y, dtype="Int8")})


# --------------------------------------------------------------------------- AUC, Gini, CI


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


# --------------------------------------------------------------------------- calibration


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


# --------------------------------------------------------------------------- maturity


def test_matured_excludes_recent_and_unlabelled_rows():
    stamps = pd.date_range("2026-01-01", periods=10, freq="D")
    labels = pd.array([0, 1, pd.NA, 0, 1, 0, pd.NA, 0, pd.NA, pd.NA], dtype="Int8")
    frame = pd.DataFrame({"ts": stamps, "bad": labels, "row": range(10)})
    result = matured(frame, timestamp="ts", target="bad", as_of="2026-01-10", label_delay=3)
    # cutoff 2026-01-07: rows 0..6 old enough; of those 2 and 6 have no label.
    assert result.cutoff == pd.Timestamp("2026-01-07")
    assert result.frame["row"].tolist() == [0, 1, 3, 4, 5]
    assert (result.n_rows, result.n_matured, result.n_immature) == (10, 5, 5)
    assert (result.n_too_recent, result.n_missing_label) == (3, 2)
    # Labels that arrived early (row 7) are still excluded: their period is not complete.
    assert 7 not in result.frame["row"].tolist()
    # The default as_of is the latest timestamp; "3D" and a Timedelta mean the same.
    same = matured(frame, timestamp="ts", target="bad", label_delay="3D")
    assert same.frame["row"].tolist() == [0, 1, 3, 4, 5]
    # Without a delay, only the label matters.
    plain = matured(frame, timestamp="ts", target="bad")
    assert plain.frame["row"].tolist() == [0, 1, 3, 4, 5, 7]
    assert plain.n_immature == 4 and plain.n_too_recent == 0


def test_matured_rejects_bad_delay_and_unparsed_timestamps():
    frame = pd.DataFrame({"ts": ["2026-01-01"], "bad": [1]})
    with pytest.raises(DataError, match="expected datetimes"):
        matured(frame, timestamp="ts", target="bad", label_delay=1)
    frame["ts"] = pd.to_datetime(frame["ts"])
    with pytest.raises(ParameterError, match="label_delay"):
        matured(frame, timestamp="ts", target="bad", label_delay="soon")
    with pytest.raises(ParameterError, match="non-negative"):
        matured(frame, timestamp="ts", target="bad", label_delay=-1)


def test_matured_on_sample_data_matches_the_generators_label_delay():
    frame = sample.generate(3_000, seed=1, label_delay_days=30)
    result = matured(frame, timestamp="timestamp", target="default_flag", label_delay=30)
    # The generator leaves labels missing within 30 days of the window end; the same
    # delay keeps exactly the labelled rows (up to the gap between the last row and the end).
    assert result.n_matured == int(frame["default_flag"].notna().sum()) - (
        frame["default_flag"].notna() & (frame["timestamp"] > result.cutoff)).sum()
    assert result.frame["timestamp"].max() <= result.cutoff
    assert result.frame["default_flag"].notna().all()


# --------------------------------------------------------------------------- target drift


@pytest.mark.parametrize("counts", [(120, 1000, 150, 1000), (5, 80, 0, 60), (30, 300, 30, 300)])
def test_target_drift_equals_statsmodels(counts):
    bad_ref, n_ref, bad_cur, n_cur = counts
    result = target_drift(bad_ref, n_ref, bad_cur, n_cur)
    z, p = proportions_ztest([bad_cur, bad_ref], [n_cur, n_ref])
    assert result.z == pytest.approx(z)
    assert result.p_value == pytest.approx(p)
    assert result.relative_change == pytest.approx((bad_cur / n_cur) / (bad_ref / n_ref) - 1)


# --------------------------------------------------------------------------- comparison


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
    from mlreport import performance_plots

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
