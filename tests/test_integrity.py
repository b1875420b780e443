"""Tests of mlreport.integrity: each check on hand-built frames with hand-computed
shares, the injected sample incidents, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from mlreport import integrity, sample
from mlreport.errors import DataError, ParameterError
from mlreport.findings import summarize
from mlreport.integrity import (
    DEFAULT_THRESHOLDS,
    category_changes,
    check_integrity,
    constant_columns,
    duplicate_ids,
    freshness,
    increase_pvalue,
    merge_thresholds,
    missing_change,
    non_finite,
    out_of_range,
    rows_per_period,
    schema_diff,
    sentinel_spikes,
)

INCIDENT_START = "2026-02-19"
SAMPLE_END = "2026-03-02"  # start 2026-01-05 + 8 weeks


def only(findings, check, subject=None):
    """The findings of one check (and subject)."""
    return [f for f in findings if f.check == check and (subject is None or f.subject == subject)]


def row(table: pd.DataFrame, column: str) -> pd.Series:
    return table.set_index("column").loc[column]


def sample_columns(frame: pd.DataFrame) -> list[str]:
    # default_flag is a delayed label: null at the end of any window by design.
    return [c for c in frame.columns if c not in ("default_flag", "application_id", "timestamp")]


def sample_check(rows: int, incidents=(), split_at: str = INCIDENT_START, seed: int = 7):
    frame = sample.generate(rows, incidents=incidents, seed=seed)
    reference, current = sample.split(frame, split_at)
    result = check_integrity(reference, current, columns=sample_columns(frame),
                             id_column="application_id", timestamp_column="timestamp",
                             expected_end=SAMPLE_END)
    return reference, current, result


# --------------------------------------------------------------------------- statistics


def test_increase_pvalue_matches_statsmodels_ztest_on_large_counts():
    p, fisher = increase_pvalue([40, 200], [1000, 5000], [70, 260], [1000, 5000])
    for i, (k1, n1, k2, n2) in enumerate([(40, 1000, 70, 1000), (200, 5000, 260, 5000)]):
        _, expected = proportions_ztest([k2, k1], [n2, n1], alternative="larger")
        assert p[i] == pytest.approx(expected, rel=1e-9)
    assert not fisher.any()


def test_increase_pvalue_uses_fisher_exact_on_small_counts():
    p, fisher = increase_pvalue(1, 200, 4, 30)
    expected = stats.fisher_exact([[4, 26], [1, 199]], alternative="greater").pvalue
    assert bool(fisher) and float(p) == pytest.approx(expected, rel=1e-9)


def test_increase_pvalue_is_one_for_an_empty_window():
    p, _ = increase_pvalue(5, 100, 0, 0)
    assert float(p) == 1.0


@settings(max_examples=60, deadline=None)
@given(n_ref=st.integers(1, 400), n_cur=st.integers(1, 400), data=st.data())
def test_increase_pvalue_falls_as_the_current_count_rises(n_ref, n_cur, data):
    k_ref = data.draw(st.integers(0, n_ref))
    k_cur = np.arange(n_cur + 1)
    p, _ = increase_pvalue(k_ref, n_ref, k_cur, n_cur)
    assert ((p >= 0) & (p <= 1)).all()
    # Within one test family (z or Fisher) more current successes never raise p.
    _, fisher = increase_pvalue(k_ref, n_ref, k_cur, n_cur)
    for family in (fisher, ~fisher):
        assert (np.diff(p[family]) <= 1e-12).all()


# --------------------------------------------------------------------------- thresholds


def test_default_thresholds_have_a_version_and_overrides_are_recorded():
    assert DEFAULT_THRESHOLDS["version"]
    merged = merge_thresholds({"missing": {"incident_pp": 10},
                               "columns": {"x": {"missing": {"warning_pp": 3}}}})
    assert merged["missing"]["incident_pp"] == 10
    assert merged["columns"]["x"]["missing"]["warning_pp"] == 3
    assert merged["version"] == DEFAULT_THRESHOLDS["version"] + "+custom"
    assert DEFAULT_THRESHOLDS["missing"]["incident_pp"] == 5.0  # defaults untouched


@pytest.mark.parametrize("bad", [{"missng": {}}, {"missing": {"incident": 3}},
                                 {"columns": {"x": {"nope": {}}}}, {"alpha": "0.01"}])
def test_unknown_or_mistyped_thresholds_raise_parameter_error(bad):
    with pytest.raises(ParameterError):
        merge_thresholds(bad)


def missing_frames(n: int = 1000, ref_null: int = 20, cur_null: int = 100):
    reference = pd.DataFrame({"x": np.where(np.arange(n) < ref_null, np.nan, 1.0)})
    current = pd.DataFrame({"x": np.where(np.arange(n) < cur_null, np.nan, 1.0)})
    return reference, current


def test_thresholds_override_per_check_and_per_column():
    reference, current = missing_frames()  # +8 pp
    assert missing_change(reference, current).findings[0].severity == "incident"
    per_check = missing_change(reference, current, thresholds={"missing": {"incident_pp": 10}})
    assert per_check.findings[0].severity == "warning"
    assert per_check.findings[0].threshold == 1.0
    per_column = missing_change(reference, current,
                                thresholds={"columns": {"x": {"missing": {"warning_pp": 9,
                                                                          "incident_pp": 20}}}})
    assert per_column.findings == []


# --------------------------------------------------------------------------- schema


def test_schema_diff_missing_new_changed_and_mixed_columns():
    reference = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "c": [1, 2], "d": [1.5, 2.5],
                              "e": [1.0, 2.0]})
    current = pd.DataFrame({"b": ["x", "y"], "c": ["1", "2"],
                            "d": pd.Series([1.5, "n/a"], dtype=object),
                            "e": [np.nan, np.nan], "f": [0, 1]})
    result = schema_diff(reference, current)
    status = result.table.set_index("column")["status"].to_dict()
    assert status == {"a": "missing_in_current", "b": "ok", "c": "type_changed",
                      "d": "mixed_types", "e": "ok", "f": "new_in_current"}
    severity = {f.subject: f.severity for f in result.findings}
    assert severity == {"a": "incident", "c": "incident", "d": "incident", "f": "warning"}
    mixed = only(result.findings, "schema", "d")[0].message
    assert "1 numbers, 1 str values" in mixed and "'n/a'" in mixed
    changed = only(result.findings, "schema", "c")[0].message
    assert "numeric (int64)" in changed and "string" in changed


def test_mixed_types_already_in_reference_is_a_warning():
    mixed = pd.Series([1, "a", 2, "b"], dtype=object)
    result = schema_diff(pd.DataFrame({"m": mixed}), pd.DataFrame({"m": mixed}))
    assert [f.severity for f in result.findings] == ["warning"]


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


# --------------------------------------------------------------------------- out of range


def test_out_of_range_hand_computed_shares():
    reference = pd.DataFrame({"x": np.tile(np.arange(100.0), 10)})  # 0..99
    current_values = np.tile(np.arange(100.0), 10)
    current_values[:80] = 150.0  # 8% above the maximum
    current_values[80:100] = -5.0  # 2% below the minimum
    current_values[100:110] = np.nan  # nulls do not count
    result = out_of_range(reference, pd.DataFrame({"x": current_values}))
    figures = row(result.table, "x")
    assert (figures["reference_min"], figures["reference_max"]) == (0.0, 99.0)
    assert figures["above_range_share"] == pytest.approx(80 / 990)
    assert figures["below_range_share"] == pytest.approx(20 / 990)
    assert figures["expected_share"] == pytest.approx(2 / 1001)
    expected_p = stats.binomtest(100, 990, 2 / 1001, alternative="greater").pvalue
    assert figures["out_of_range_p_value"] == pytest.approx(expected_p, rel=1e-6)
    finding = result.findings[0]
    assert finding.severity == "incident" and finding.value == pytest.approx(100 / 990 * 100)
    assert "8.1% above the reference maximum 99" in finding.message


def test_out_of_range_noise_of_a_continuous_column_is_ok():
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(size=1000)})
    current = pd.DataFrame({"x": rng.normal(size=1000)})
    assert out_of_range(reference, current).findings == []


# --------------------------------------------------------------------------- categories


def test_new_and_vanished_categories_with_their_shares():
    reference = pd.DataFrame({"c": ["a"] * 500 + ["b"] * 300 + ["c"] * 200})
    current = pd.DataFrame({"c": ["a"] * 600 + ["c"] * 300 + ["z"] * 80 + ["y"] * 20})
    result = category_changes(reference, current)
    figures = row(result.table, "c")
    assert figures["new_categories"] == 2 and figures["new_category_share"] == pytest.approx(0.10)
    assert figures["new_examples"] == "'z' (8.0%), 'y' (2.0%)"
    assert figures["vanished_categories"] == 1
    assert figures["vanished_reference_share"] == pytest.approx(0.30)
    new = only(result.findings, "new_category")[0]
    assert new.severity == "incident" and new.value == pytest.approx(10.0)
    assert new.message.startswith("c: 10.0% of non-null values in 2 categories absent")
    vanished = only(result.findings, "vanished_category")[0]
    assert vanished.severity == "incident" and "'b' (30.0%)" in vanished.message


def test_id_like_column_of_all_new_values_is_not_flagged():
    reference = pd.DataFrame({"k": [f"r{i}" for i in range(2000)]})
    current = pd.DataFrame({"k": [f"c{i}" for i in range(2000)]})
    result = category_changes(reference, current)
    assert row(result.table, "k")["new_category_share"] == 1.0
    assert result.findings == []


def test_rare_vanished_category_is_not_significant():
    reference = pd.DataFrame({"c": ["a"] * 995 + ["rare"] * 5})
    current = pd.DataFrame({"c": ["a"] * 100})
    result = category_changes(reference, current)
    assert result.findings == [] and row(result.table, "c")["vanished_categories"] == 0


# --------------------------------------------------------------------------- constant, inf, ids


def test_constant_column_that_varied_in_reference():
    reference = pd.DataFrame({"n": np.arange(100.0) % 5, "c": ["x", "y"] * 50, "k": [1.0] * 100})
    current = pd.DataFrame({"n": [3.0] * 50, "c": ["x", "y"] * 25, "k": [1.0] * 50})
    result = constant_columns(reference, current)
    assert [(f.subject, f.severity) for f in result.findings] == [("n", "incident")]
    assert "all 50 non-null values are 3" in result.findings[0].message
    table = result.table.set_index("column")
    assert table.loc["n", "current_constant"] and not table.loc["n", "reference_constant"]
    assert table.loc["k", "reference_constant"] and table.loc["k", "constant_severity"] == "ok"
    # Bound p_max^(n-1): the modal share 0.2 over 49 draws, x 3 columns.
    assert table.loc["n", "constant_p_bound"] == pytest.approx(3 * 0.2 ** 49)


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


def test_duplicate_ids_incident_and_warning_when_reference_had_the_same_rate():
    reference = pd.DataFrame({"id": [f"r{i}" for i in range(1000)]})
    current = pd.DataFrame({"id": [f"c{i}" for i in range(990)] + [f"c{i}" for i in range(10)]})
    result = duplicate_ids(reference, current, "id")
    figures = row(result.table, "id")
    assert figures["current_duplicates"] == 10 and figures["current_duplicate_share"] == 0.01
    assert result.findings[0].severity == "incident"
    assert "10 rows repeat an earlier id" in result.findings[0].message
    assert "and 5 more" in result.findings[0].message  # 10 ids, 5 listed
    reference = pd.DataFrame({"id": [f"r{i}" for i in range(990)] + [f"r{i}" for i in range(10)]})
    assert duplicate_ids(reference, current, "id").findings[0].severity == "warning"


# --------------------------------------------------------------------------- time


def daily_frame(start: str, days: int, per_day, hour: int = 12) -> pd.DataFrame:
    """``per_day[i]`` rows on day i, spread over the day."""
    counts = per_day if isinstance(per_day, list) else [per_day] * days
    stamps = []
    for day, count in enumerate(counts):
        base = pd.Timestamp(start) + pd.Timedelta(days=day)
        offsets = pd.to_timedelta(np.linspace(0, 86_399, count), unit="s")
        stamps += list(base + offsets)
    return pd.DataFrame({"ts": pd.to_datetime(stamps)})


def test_rows_per_period_drop_is_a_finding_with_its_first_period():
    reference = daily_frame("2026-01-05", 28, 100)
    current = daily_frame("2026-02-02", 7, [100, 98, 102, 30, 60, 101, 99])
    result = rows_per_period(reference, current, "ts")
    table = result.table.set_index("period")
    assert table.loc["2026-02-05", "rows"] == 30 and table.loc["2026-02-05", "expected"] == 100
    assert table.loc["2026-02-05", "severity"] == "incident"
    assert table.loc["2026-02-06", "severity"] == "warning"
    finding = result.findings[0]
    assert finding.severity == "incident" and finding.period == "2026-02-05"
    assert finding.value == pytest.approx(0.30) and finding.threshold == pytest.approx(0.5)


def test_rows_per_period_uses_the_weekday_profile():
    # Weekends at 40% of weekdays in both windows: no finding.
    profile = [100, 100, 100, 100, 100, 40, 40]
    reference = daily_frame("2026-01-05", 28, profile * 4)  # 2026-01-05 is a Monday
    current = daily_frame("2026-02-02", 14, profile * 2)
    result = rows_per_period(reference, current, "ts")
    assert result.findings == []
    assert result.table.set_index("period").loc["2026-02-07", "expected"] == 40


def test_missing_days_count_as_zero_and_expected_end_extends_the_window():
    reference = daily_frame("2026-01-05", 28, 100)
    current = daily_frame("2026-02-02", 3, 100)
    result = rows_per_period(reference, current, "ts", expected_end="2026-02-07")
    table = result.table.set_index("period")
    assert list(table.index) == ["2026-02-02", "2026-02-03", "2026-02-04", "2026-02-05",
                                 "2026-02-06"]
    assert table.loc["2026-02-05", "rows"] == 0
    assert result.findings[0].period == "2026-02-05"


def test_freshness_stale_and_fresh():
    reference = daily_frame("2026-01-05", 28, 100)
    current = daily_frame("2026-02-02", 4, 100)  # last row 2026-02-05 23:59:59
    stale = freshness(current, "ts", expected_end="2026-02-09", reference=reference)
    figures = stale.table.iloc[0]
    assert figures["lag_periods"] == pytest.approx(3.0, abs=1e-4)
    finding = stale.findings[0]
    assert finding.severity == "incident" and finding.check == "freshness"
    assert "3.0 periods" in finding.message
    fresh = freshness(current, "ts", expected_end="2026-02-06", reference=reference)
    assert fresh.findings == [] and fresh.table.iloc[0]["severity"] == "ok"
    # Without an expected end nothing can be judged.
    assert freshness(current, "ts", expected_end=None).table.empty
    # A row after the expected end is a warning.
    late = freshness(current, "ts", expected_end="2026-02-05", reference=reference)
    assert [f.severity for f in late.findings] == ["warning"]


def test_onset_period_of_a_hand_built_step():
    reference = daily_frame("2026-01-05", 28, 50)
    reference["x"] = 1.0
    current = daily_frame("2026-02-02", 10, 50)
    current["x"] = 1.0
    on_or_after = current["ts"] >= "2026-02-07"
    current.loc[on_or_after & (np.arange(len(current)) % 4 == 0), "x"] = np.nan
    result = missing_change(reference, current, columns=["x"], timestamp_column="ts")
    finding = result.findings[0]
    assert finding.period == "2026-02-07"
    assert "since 2026-02-07" in finding.message and "over the current window" in finding.message
    timeline = result.timeline.set_index("period")
    assert timeline.loc["2026-02-06", "share"] == 0.0
    # Rows 250..299 fall on 2026-02-07; every fourth (252, 256, ..., 296) is null.
    assert timeline.loc["2026-02-07", "share"] == pytest.approx(12 / 50)


# --------------------------------------------------------------------------- sample incidents


def test_utilisation_zero_found_on_credit_utilisation_with_its_first_day():
    _, _, result = sample_check(3000, ["utilisation_zero"], split_at="2026-02-05")
    finding = [f for f in result.findings if f.subject == "credit_utilisation"
               and f.check == "sentinel"][0]
    assert finding.severity == "incident" and finding.period == INCIDENT_START
    assert "exactly 0 since 2026-02-19" in finding.message
    assert result.status == "incident"
    assert {f.subject for f in result.findings if f.severity == "incident"} == {
        "credit_utilisation"}


def test_bureau_timeout_nulls_found_on_bureau_score():
    reference, current, result = sample_check(3000, ["bureau_timeout_nulls"],
                                              split_at="2026-02-12")
    finding = only(result.findings, "missing", "bureau_score")[0]
    assert finding.severity == "incident" and finding.period == INCIDENT_START
    after = current["timestamp"] >= INCIDENT_START
    since = current.loc[after, "bureau_score"].isna().mean()
    assert f"{since:.1%} of rows are null since 2026-02-19" in finding.message
    assert {f.subject for f in result.findings} == {"bureau_score"}


def test_channel_outage_shows_the_broker_channel_vanished():
    _, _, result = sample_check(5000, ["channel_outage"])
    vanished = only(result.findings, "vanished_category", "channel")
    assert vanished and "'broker'" in vanished[0].message


@pytest.mark.parametrize("rows,seed", [(1000, 7), (3000, 7), (3000, 8), (20_000, 7)])
def test_clean_sample_split_gives_no_incident(rows, seed):
    _, _, result = sample_check(rows, seed=seed)
    assert [f.message for f in result.findings if f.severity == "incident"] == []


def test_result_tables_and_thresholds_for_the_appendix():
    _, _, result = sample_check(3000, ["utilisation_zero"])
    assert list(result.schema.columns[:6]) == ["column", "in_reference", "in_current",
                                               "reference_dtype", "current_dtype",
                                               "reference_type"]
    columns = result.columns.set_index("column")
    assert columns.loc["credit_utilisation", "severity"] == "incident"
    assert columns.loc["income", "kind"] == "numeric"
    assert columns.loc["channel", "kind"] == "categorical"
    assert {"reference_missing_share", "current_modal_share", "new_category_share",
            "current_constant", "current_non_finite_share"} <= set(result.columns.columns)
    assert result.volume["rows"].sum() > 0
    assert result.thresholds["version"] == DEFAULT_THRESHOLDS["version"]
    assert set(result.methods) >= {"missing", "sentinel", "out_of_range", "freshness"}
    assert all(f.section == integrity.SECTION for f in result.findings)
    summary = summarize("drift", result.findings, thresholds=result.thresholds,
                        methods=result.methods)
    assert json.loads(summary.to_json())["status"] == "incident"


# --------------------------------------------------------------------------- robustness


@pytest.fixture(scope="module")
def windows():
    frame = sample.generate(3000)
    reference, current = sample.split(frame, INCIDENT_START)
    return reference, current


OPTIONS = {"id_column": "application_id", "timestamp_column": "timestamp"}


def test_empty_current_is_a_no_rows_incident(windows):
    reference, current = windows
    result = check_integrity(reference, current.iloc[0:0], **OPTIONS)
    rows = only(result.findings, "rows")
    assert rows[0].severity == "incident" and rows[0].message.startswith("current data has no rows")
    assert len(result.findings) == 1


def test_one_row_current_warns_about_power(windows):
    reference, current = windows
    result = check_integrity(reference, current.iloc[:1], columns=sample_columns(reference),
                             **OPTIONS)
    assert only(result.findings, "rows")[0].severity == "warning"
    assert only(result.findings, "missing") == only(result.findings, "sentinel") == []


def test_all_null_column(windows):
    reference, current = windows
    current = current.assign(income=np.nan)
    result = check_integrity(reference, current, columns=["income", "age"], **OPTIONS)
    assert [(f.check, f.subject, f.severity) for f in result.findings] == [
        ("missing", "income", "incident")]


def test_object_column_of_numbers_and_strings_is_a_type_problem(windows):
    reference, current = windows
    mixed = current["income"].astype(object)
    mixed.iloc[:20] = "n/a"
    result = check_integrity(reference, current.assign(income=mixed), columns=["income"],
                             **OPTIONS)
    schema = only(result.findings, "schema", "income")[0]
    assert schema.severity == "incident" and "mixed types" in schema.message
    assert row(result.schema, "income")["status"] == "mixed_types"


def test_infinities_in_a_sample_column(windows):
    reference, current = windows
    values = current["debt_to_income"].copy()
    values.iloc[:4] = np.inf
    result = check_integrity(reference, current.assign(debt_to_income=values),
                             columns=["debt_to_income"], **OPTIONS)
    finding = only(result.findings, "non_finite", "debt_to_income")[0]
    assert "4 infinite values" in finding.message
    assert row(result.columns, "debt_to_income")["out_of_range_severity"] == "ok"


def test_categorical_with_a_million_distinct_values_stays_small():
    n = 1_000_000
    reference = pd.DataFrame({"key": pd.Series([f"r{i}" for i in range(n)], dtype="str")})
    current = pd.DataFrame({"key": pd.Series([f"c{i}" for i in range(n)], dtype="str")})
    result = check_integrity(reference, current)
    figures = row(result.columns, "key")
    assert figures["new_categories"] == n and figures["new_category_share"] == 1.0
    assert figures["new_examples"].count("(") == DEFAULT_THRESHOLDS["max_listed"]
    assert result.findings == []


def test_unparseable_timestamp_names_the_column_and_a_bad_value(windows):
    reference, current = windows
    stamps = current["timestamp"].astype(str)
    stamps.iloc[5] = "31/02/2026 10:00"
    with pytest.raises(DataError) as error:
        check_integrity(reference, current.assign(timestamp=stamps), **OPTIONS)
    assert error.value.column == "timestamp"
    assert "'timestamp'" in str(error.value) and "'31/02/2026 10:00'" in str(error.value)


def test_timestamps_as_iso_strings_parse(windows):
    reference, current = windows
    as_text = current.assign(timestamp=current["timestamp"].astype(str))
    result = check_integrity(reference, as_text, columns=["age"], **OPTIONS)
    assert result.volume["rows"].sum() == len(current)
    assert result.findings == []  # parseable text is not a type change


def test_different_columns_give_schema_findings_and_the_rest_is_checked(windows):
    reference, current = windows
    current = current.drop(columns=["income"]).rename(columns={"bureau_score": "bureau_v2"})
    current = current.assign(age=current["age"].where(np.arange(len(current)) % 5 != 0))
    result = check_integrity(reference, current, columns=None, **OPTIONS)
    schema = {(f.subject, f.severity) for f in only(result.findings, "schema")}
    assert schema == {("income", "incident"), ("bureau_score", "incident"),
                      ("bureau_v2", "warning")}
    assert only(result.findings, "missing", "age")[0].severity == "incident"
    assert "income" not in set(result.columns["column"])


def test_duplicate_column_names_raise_data_error(windows):
    reference, current = windows
    doubled = pd.concat([current, current[["age"]]], axis=1)
    with pytest.raises(DataError, match="duplicate column names: 'age'"):
        check_integrity(reference, doubled)
    with pytest.raises(DataError, match="reference data has duplicate"):
        check_integrity(pd.concat([reference, reference[["age"]]], axis=1), current)


@pytest.mark.parametrize("kwargs,error", [
    ({"columns": ["nope"]}, DataError),
    ({"id_column": "nope"}, DataError),
    ({"period": "MS"}, ParameterError),
    ({"expected_end": "not a date"}, ParameterError),
])
def test_bad_arguments_raise_clear_errors(windows, kwargs, error):
    reference, current = windows
    with pytest.raises(error):
        check_integrity(reference, current, **kwargs)


def test_empty_reference_and_non_frames_raise_data_error(windows):
    reference, current = windows
    with pytest.raises(DataError, match="reference data has no rows"):
        check_integrity(reference.iloc[0:0], current)
    with pytest.raises(DataError, match="DataFrame"):
        check_integrity([1, 2], current)


# --------------------------------------------------------------------------- invariants


def test_identical_windows_give_no_findings(windows):
    reference, _ = windows
    result = check_integrity(reference, reference.copy(), columns=sample_columns(reference),
                             id_column="application_id")
    assert result.findings == [] and result.status == "ok"
    assert (result.columns["missing_change_pp"] == 0).all()


def test_findings_do_not_depend_on_row_order():
    frame = sample.generate(4000, incidents=["utilisation_zero", "bureau_timeout_nulls"])
    reference, current = sample.split(frame, INCIDENT_START)
    shuffled = current.sample(frac=1.0, random_state=3).reset_index(drop=True)
    options = {"columns": sample_columns(frame), "id_column": "application_id"}
    ordered = check_integrity(reference, current, **options)
    permuted = check_integrity(reference, shuffled, **options)
    assert [f.to_dict() for f in ordered.findings] == [f.to_dict() for f in permuted.findings]
    assert len(ordered.findings) == 2


def test_every_finding_names_its_column_figures_and_method(windows):
    reference, current = windows
    broken = current.copy()
    broken.loc[: len(broken) // 3, "credit_utilisation"] = 0.0
    broken.loc[: len(broken) // 5, "income"] = np.nan
    broken.loc[:10, "debt_to_income"] = np.inf
    broken.loc[:60, "loan_amount"] = 1e9
    broken.loc[:60, "housing"] = "caravan"
    broken = pd.concat([broken, broken.iloc[:20]], ignore_index=True)
    result = check_integrity(reference, broken, columns=sample_columns(reference), **OPTIONS)
    checks = {f.check for f in result.findings}
    assert {"sentinel", "missing", "non_finite", "out_of_range", "new_category",
            "duplicate_ids"} <= checks
    for finding in result.findings:
        assert finding.message.startswith(f"{finding.subject}: ")
        assert finding.value is not None and finding.threshold is not None
        assert finding.method and finding.period is not None
        assert "%" in finding.message
