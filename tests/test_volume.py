"""The decision-volume analysis: statistics against references, incidents, edge cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from mlreport.errors import DataError, ParameterError
from mlreport.findings import SEVERITIES, summarize
from mlreport.sample import DEFAULT_SPEC, generate
from mlreport.spec import ModelSpec
from mlreport.volume import (
    DEFAULT_SEVERITY,
    SECTIONS,
    VolumeConfig,
    analyse_counts,
    analyse_volume,
    config_from_parameters,
    count_decisions,
    mix_test,
    resolve_roles,
    shift_share,
)

ROLES = {
    "timestamp_column": "timestamp",
    "decision_column": "decision",
    "segment_columns": ["channel", "region", "product"],
}


def analyse(frame: pd.DataFrame, config: VolumeConfig | None = None, **extra):
    return analyse_volume(frame, config, **{**ROLES, **extra})


@pytest.fixture(scope="module")
def clean():
    return generate(50_000, seed=7)


@pytest.fixture(scope="module")
def outage_and_jump():
    frame = generate(50_000, seed=7, incidents=["channel_outage", "approval_jump"])
    return analyse(frame, score_column="score")


@pytest.fixture(scope="module")
def refer_decay():
    return analyse(generate(50_000, seed=7, incidents=["refer_decay"]))


# --------------------------------------------------------------------------- configuration


def test_config_defaults_and_version():
    config = VolumeConfig()
    assert (config.baseline_weeks, config.ewma_lambda, config.ewma_L, config.cusum_k, config.cusum_h) == (
        4, 0.2, 3.0, 0.5, 5.0)
    assert config.severity == DEFAULT_SEVERITY
    assert config.version
    assert config.to_dict()["severity"]["volume_zero"] == "incident"


def test_config_severity_override_merges_over_defaults():
    config = VolumeConfig.from_mapping({"severity": {"cusum_signal": "ok"}, "holidays": ["2026-02-16"]})
    assert config.severity["cusum_signal"] == "ok"
    assert config.severity["volume_zero"] == "incident"
    assert config.holidays == ("2026-02-16",)


@pytest.mark.parametrize(
    "mapping, name",
    [
        ({"severity": {"no_such_rule": "warning"}}, "severity"),
        ({"severity": {"volume_zero": "critical"}}, "severity"),
        ({"ewma_lambda": 0.0}, "ewma_lambda"),
        ({"p_incident": 0.01}, "p_incident"),
        ({"baseline_weeks": 0}, "baseline_weeks"),
        ({"period": "month"}, "period"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"holidays": ["not a date"]}, "holidays"),
        ({"no_such_parameter": 1}, "no_such_parameter"),
    ],
)
def test_config_rejects_bad_values(mapping, name):
    with pytest.raises(ParameterError) as error:
        VolumeConfig.from_mapping(mapping)
    assert error.value.name == name


# --------------------------------------------------------------------------- statistics


def test_mix_test_matches_scipy():
    baseline = np.array([6000, 1500, 2500])
    current = np.array([6600, 900, 2500])
    result = mix_test(baseline, current)
    reference = sps.chi2_contingency(np.vstack([baseline, current]), correction=False)
    assert result.chi2 == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.dof == 2
    cramer = sps.contingency.association(np.vstack([baseline, current]), method="cramer", correction=False)
    assert result.cramers_v == pytest.approx(cramer)
    b, c = baseline / baseline.sum(), current / current.sum()
    assert result.psi == pytest.approx(np.sum((c - b) * np.log(c / b)))


def test_mix_test_drops_empty_categories_and_handles_empty_windows():
    result = mix_test([100, 0, 50], [120, 0, 30])
    assert result.dof == 1
    assert math.isnan(mix_test([0, 0], [5, 5]).p_value)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500), st.integers(0, 500)),
        min_size=1, max_size=6,
    )
)
def test_shift_share_contributions_add_up_to_the_overall_change(data):
    # Each segment: baseline total and count, current total and count (count <= total),
    # including segments absent from one window.
    nb = np.array([row[0] for row in data], dtype=float)
    xb = np.array([min(row[1], row[0]) for row in data], dtype=float)
    nc = np.array([row[2] for row in data], dtype=float)
    xc = np.array([min(row[3], row[2]) for row in data], dtype=float)
    if nb.sum() == 0 or nc.sum() == 0:
        return
    parts = shift_share(nb, xb, nc, xc)
    overall = xc.sum() / nc.sum() - xb.sum() / nb.sum()
    assert parts["contribution"].sum() == pytest.approx(overall, abs=1e-12)
    assert (parts["mix_effect"] + parts["within_effect"]).to_numpy() == pytest.approx(parts["contribution"].to_numpy())


def test_shift_share_worked_example():
    # Two segments: A 100 -> 300 decisions at rate 0.5 -> 0.5; B 100 -> 100 at 0.7 -> 0.8.
    parts = shift_share(np.array([100, 100]), np.array([50, 70]), np.array([300, 100]), np.array([150, 80]))
    # p^b = 0.6, p^c = 230/400 = 0.575. A: mix (0.75-0.5)(0.5-0.6) = -0.025, within 0.
    # B: mix (0.25-0.5)(0.7-0.6) = -0.025, within 0.25 * 0.1 = 0.025.
    np.testing.assert_allclose(parts["mix_effect"], [-0.025, -0.025])
    np.testing.assert_allclose(parts["within_effect"], [0.0, 0.025])
    assert parts["contribution"].sum() == pytest.approx(0.575 - 0.6)


# --------------------------------------------------------------------------- incidents


def test_channel_outage_is_found_in_the_broker_channel_on_the_day(outage_and_jump):
    result = outage_and_jump
    zero = [f for f in result.findings if f.check == "volume_zero"]
    assert [f.subject for f in zero] == ["channel=broker"]
    assert zero[0].severity == "incident"
    assert zero[0].period.startswith("2026-02-19/")
    assert zero[0].section == SECTIONS["volume"]
    broker = result.volume[(result.volume.series == "channel=broker") & (result.volume.window == "analysis")]
    flagged = broker[broker.rule == "volume_zero"]
    assert flagged.period.min() == pd.Timestamp("2026-02-19")
    assert (flagged.period.dt.day_of_week < 5).all()  # weekends expect no broker volume
    channels = result.segment_table("volume")
    channels = channels[channels.segment_column == "channel"]
    assert channels.iloc[0]["segment_value"] == "broker"


def test_approval_jump_is_found_in_the_approve_rate_since_the_day(outage_and_jump):
    result = outage_and_jump
    approve = [f for f in result.findings if f.check == "rate_laney" and f.subject == "decision=approve"]
    assert approve and approve[0].severity == "incident"
    assert approve[0].period.startswith("2026-02-19")
    assert 5.0 < approve[0].value < 11.0  # pp, the sample's jump is about +8 pp
    points = result.change_points[result.change_points.series == "approve rate"]
    assert pd.Timestamp("2026-02-19") in set(points.period)


def test_headline_names_the_outage_and_the_rate_change(outage_and_jump):
    headline = outage_and_jump.headline
    assert headline.startswith("Incident: broker channel volume 0 since 2026-02-19, expected about")
    assert "approve rate +" in headline and "since 2026-02-19" in headline


def test_refer_decay_is_found_in_the_refer_rate_after_the_start(refer_decay):
    refer = [f for f in refer_decay.findings if f.subject == "decision=refer" and f.severity != "ok"]
    assert refer
    assert all(f.value < 0 for f in refer)
    starts = {pd.Timestamp(f.period.split("/")[0]) for f in refer}
    assert all(pd.Timestamp("2026-02-19") <= start <= pd.Timestamp("2026-02-26") for start in starts)
    assert refer_decay.status in ("warning", "incident")
    # Nothing flagged before the incident starts.
    rates = refer_decay.rates
    early = rates[(rates.decision == "refer") & (rates.period < "2026-02-19")]
    assert (early.severity == "ok").all()


def test_clean_data_raises_no_incident_and_few_warnings():
    volume_periods = volume_warnings = rate_periods = rate_warnings = 0
    for seed in (7, 8, 9):
        result = analyse(generate(50_000, seed=seed), score_column="score")
        assert result.status != "incident", result.headline
        volume = result.volume[result.volume.p_value.notna()]
        volume_periods += len(volume)
        volume_warnings += int((volume.severity == "warning").sum())
        rates = result.rates[(result.rates.window == "analysis") & (result.rates.n > 0)]
        rate_periods += len(rates)
        rate_warnings += int((rates.severity == "warning").sum())
    assert volume_warnings / volume_periods < 0.01
    assert rate_warnings / rate_periods < 0.01


def test_findings_name_notebook_sections_and_summarize(outage_and_jump):
    assert {f.section for f in outage_and_jump.findings} <= set(SECTIONS.values())
    assert {f.severity for f in outage_and_jump.findings} <= set(SEVERITIES)
    summary = summarize("volume", outage_and_jump.findings, headline=outage_and_jump.headline,
                        thresholds=outage_and_jump.thresholds(), methods=outage_and_jump.methods())
    assert summary.status == "incident"
    summary.to_json()  # strict JSON, no NaN


def test_tables_are_tidy_and_complete(outage_and_jump):
    result = outage_and_jump
    series = result.volume.series.nunique()
    assert series == 1 + 4 + 5 + 3
    assert len(result.volume) == series * 56  # 8 weeks of days, none dropped
    assert set(result.rates.decision) == {"approve", "refer", "decline"}
    assert result.mix_tests.iloc[0]["scope"] == "overall"
    assert "score bands" in set(result.mix_tests.scope)
    assert result.score_bands.baseline_count.sum() == pytest.approx(result.mix_tests.iloc[0]["baseline_n"])
    methods = result.methods_table()
    assert {"seasonal baseline", "Laney p′ chart", "EWMA", "CUSUM", "change points"} <= set(methods.method)
    assert "λ 0.2" in methods.set_index("method").loc["EWMA", "parameters"]


def test_rate_contributions_add_up_per_segment_column(outage_and_jump):
    table = outage_and_jump.contributions
    mix = outage_and_jump.mix
    overall = mix[(mix.scope == "overall") & (mix.decision == "approve")].iloc[0]
    change = overall.current_share - overall.baseline_share
    for column in ("channel", "region", "product"):
        rows = table[(table.metric == "rate:approve") & (table.segment_column == column)]
        assert rows.contribution.sum() == pytest.approx(change, abs=1e-12)


# --------------------------------------------------------------------------- edge cases


def test_gap_days_are_zero_count_periods_not_dropped(clean):
    days = clean.timestamp.dt.normalize()
    gap = clean[~days.isin(pd.to_datetime(["2026-02-10", "2026-02-11"]))]
    result = analyse(gap)
    overall = result.volume[result.volume.series == "overall"]
    assert len(overall) == 56
    flagged = overall[overall.severity != "ok"]
    assert list(flagged.period) == list(pd.to_datetime(["2026-02-10", "2026-02-11"]))
    assert (flagged.observed == 0).all() and (flagged.rule == "volume_zero").all()
    zero = [f for f in result.findings if f.check == "volume_zero"]
    assert [f.subject for f in zero] == ["overall"]  # the segments' zeros are the same gap
    assert result.headline.startswith("Incident: overall volume 0 from 2026-02-10 to 2026-02-11")


def test_segment_appearing_mid_window_is_flagged_new_not_alarmed(clean):
    partner = clean[clean.timestamp >= "2026-02-16"].sample(1_500, random_state=1).assign(channel="partner")
    result = analyse(pd.concat([clean, partner], ignore_index=True))
    new = [f for f in result.findings if f.subject == "channel=partner"]
    assert [f.check for f in new] == ["segment_new"]
    assert new[0].severity == "warning" and "2026-02-16" in new[0].message
    row = result.contributions[(result.contributions.metric == "volume")
                               & (result.contributions.segment_value == "partner")].iloc[0]
    assert row["current"] == 1_500 and row["expected"] == 0 and "new since 2026-02-16" in row["flags"]
    series = result.volume[result.volume.series == "channel=partner"]
    assert series.expected.isna().all() and (series.severity == "ok").all()


def test_segment_appearing_mid_baseline_uses_only_the_weeks_it_existed(clean):
    partner = clean[clean.timestamp >= "2026-01-20"].sample(3_000, random_state=1).assign(channel="partner")
    result = analyse(pd.concat([clean, partner], ignore_index=True))
    series = result.volume[(result.volume.series == "channel=partner") & (result.volume.window == "analysis")]
    assert (series.severity == "ok").all()
    assert not any(f.subject == "channel=partner" and f.severity != "ok" for f in result.findings)


def _local_log(start: str, weeks: int, tz: str, per_hour: float = 60, seed: int = 0) -> pd.DataFrame:
    """Decisions that follow the local clock: busy 09-17 local, quiet otherwise."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range(pd.Timestamp(start, tz=tz).tz_convert("UTC"), periods=weeks * 168, freq="h")
    local_hour = hours.tz_convert(tz).hour.to_numpy()
    counts = rng.poisson(per_hour * np.where((local_hour >= 9) & (local_hour < 17), 1.0, 0.15))
    starts = np.repeat(hours.as_unit("ns").asi8, counts)
    stamps = pd.to_datetime(starts + rng.integers(0, 3600 * 10**9, starts.size), unit="ns", utc=True)
    return pd.DataFrame({
        "ts": stamps.tz_convert(tz),
        "decision": np.where(rng.random(starts.size) < 0.6, "approve", "decline"),
    })


@pytest.mark.parametrize("start, change", [("2026-02-23", "2026-03-29 01:00"), ("2026-09-28", "2026-10-25 01:00")])
def test_daylight_saving_week_in_local_time_raises_nothing(start, change):
    frame = _local_log(start, 6, "Europe/London")
    hourly = analyse_volume(frame, VolumeConfig(period="H"), timestamp_column="ts", decision_column="decision")
    assert hourly.status == "ok", hourly.headline
    row = hourly.volume[(hourly.volume.series == "overall") & (hourly.volume.period == change)].iloc[0]
    spring = start.startswith("2026-02")
    assert row.exposure == (0.0 if spring else 2.0)
    assert row.observed == (0 if spring else pytest.approx(row.expected, rel=0.5))
    daily = analyse_volume(frame, VolumeConfig(period="D"), timestamp_column="ts", decision_column="decision")
    assert daily.status == "ok", daily.headline
    day = daily.volume[(daily.volume.series == "overall") & (daily.volume.period == change[:10])].iloc[0]
    assert day.exposure == pytest.approx(23 / 24 if spring else 25 / 24)


def test_daylight_saving_in_utc_would_raise_false_alarms():
    # Why periods are local wall-clock: the same log aggregated in UTC shifts the busy
    # hours by one after the change and alarms against the winter baseline.
    frame = _local_log("2026-02-23", 6, "Europe/London")
    utc = frame.assign(ts=frame.ts.dt.tz_convert("UTC").dt.tz_localize(None))
    result = analyse_volume(utc, VolumeConfig(period="H"), timestamp_column="ts", decision_column="decision")
    assert result.status == "incident"


def test_too_short_history_names_the_history_needed(clean):
    recent = clean[clean.timestamp >= "2026-02-02"]
    with pytest.raises(DataError, match=r"baseline needs 4 weeks before 2026-02-19; data starts 2026-02-02"):
        analyse(recent, VolumeConfig(analysis_start="2026-02-19"))
    with pytest.raises(DataError, match=r"baseline needs 4 weeks before the first analysed day"):
        analyse(recent[recent.timestamp < "2026-02-21"])


def test_duplicate_and_unsorted_timestamps_count_every_row(clean):
    once = analyse(clean)
    twice = analyse(pd.concat([clean, clean]).sample(frac=1.0, random_state=3))
    np.testing.assert_array_equal(twice.volume.observed.to_numpy(), 2 * once.volume.observed.to_numpy())
    assert twice.status == once.status


def test_categorical_and_string_columns_give_the_same_counts(clean):
    as_categories = clean.astype({"channel": "category", "decision": "category"})
    a = count_decisions(clean, **ROLES)
    b = count_decisions(as_categories, **ROLES)
    assert a.labels == b.labels
    np.testing.assert_array_equal(a.overall, b.overall)
    np.testing.assert_array_equal(a.segments["channel"][1], b.segments["channel"][1])


def test_decision_labels_order_and_missing_labels(clean):
    frame = clean.assign(decision=clean.decision.where(clean.index % 100 != 0))
    counts = count_decisions(frame, decision_labels=["decline", "approve", "escalate"], **ROLES)
    assert counts.labels[:3] == ["decline", "approve", "escalate"]
    assert counts.labels[-1] == "(missing)"
    assert counts.overall[:, 2].sum() == 0
    assert counts.overall.sum() == len(frame)


def test_holidays_are_not_flagged_and_leave_the_baseline(clean):
    days = clean.timestamp.dt.normalize()
    holiday = clean[days != pd.Timestamp("2026-02-16")]
    flagged = analyse(holiday)
    assert flagged.status == "incident"
    excused = analyse(holiday, VolumeConfig(holidays=("2026-02-16",)))
    row = excused.volume[(excused.volume.series == "overall") & (excused.volume.period == "2026-02-16")].iloc[0]
    assert bool(row.holiday) and row.severity == "ok"
    assert not any(f.check == "volume_zero" for f in excused.findings)


def test_override_rate_from_a_flag_or_a_final_decision(clean):
    rng = np.random.default_rng(1)
    overridden = rng.random(len(clean)) < 0.05
    frame = clean.assign(
        flag=overridden,
        final=np.where(overridden & (clean.decision != "approve"), "approve", clean.decision),
    )
    by_flag = analyse(frame, override_column="flag").rates
    rate = by_flag[by_flag.decision == "override"]
    assert rate["count"].sum() / rate.n.sum() == pytest.approx(overridden.mean(), abs=1e-12)
    by_final = analyse(frame, override_column="final").rates
    rate = by_final[by_final.decision == "override"]
    assert rate["count"].sum() == (overridden & (clean.decision != "approve")).sum()


def test_rolling_baseline_also_finds_the_outage():
    frame = generate(50_000, seed=7, incidents=["channel_outage"])
    result = analyse(frame, VolumeConfig(baseline_mode="rolling"))
    assert [f.subject for f in result.findings if f.check == "volume_zero"] == ["channel=broker"]


def test_partial_last_period_is_left_out(clean):
    cut = clean[clean.timestamp < "2026-03-01 09:00"]
    result = analyse(cut)
    assert result.volume.period.max() == pd.Timestamp("2026-02-28")
    assert any("left out as incomplete" in f.message for f in result.findings)


def test_missing_columns_and_bad_types_are_data_errors(clean):
    with pytest.raises(DataError, match="'when' not found"):
        analyse_volume(clean, timestamp_column="when", decision_column="decision")
    with pytest.raises(DataError, match="expected timestamps"):
        analyse_volume(clean, timestamp_column="age", decision_column="decision")


def test_empty_log_says_no_rows_before_any_other_check(clean):
    empty = clean.iloc[:0]
    with pytest.raises(DataError, match="has no rows") as info:
        resolve_roles(empty)  # nothing to infer roles from: the rows are the problem
    assert "decision column" not in str(info.value)
    with pytest.raises(DataError, match="has no rows"):
        count_decisions(empty[["age"]], **ROLES)  # before the missing columns


def test_empty_log_names_the_file_it_was_read_from(clean, tmp_path):
    from mlreport import data

    path = tmp_path / "log.parquet"
    clean.iloc[:0].to_parquet(path)
    data.reset_inputs()
    try:
        log = data.load_table(str(path), name="decisions")
        with pytest.raises(DataError, match="has no rows") as info:
            resolve_roles(log)
    finally:
        data.reset_inputs()
    assert str(path) in str(info.value) and info.value.path == str(path)


def test_analysis_start_after_the_data_names_the_parameter_and_the_range(clean):
    with pytest.raises(DataError) as info:
        analyse(clean, VolumeConfig(analysis_start="2027-01-01"))
    message = str(info.value)
    for fragment in ("analysis_start 2027-01-01", "data starts 2026-01-05", "ends 2026-03-01", "baseline_weeks"):
        assert fragment in message, message
    with pytest.raises(ParameterError, match="analysis_end 2026-02-01 is not after analysis_start"):
        VolumeConfig(analysis_start="2026-02-09", analysis_end="2026-02-01")


def test_all_missing_decisions_are_refused_with_the_column_named(clean):
    with pytest.raises(DataError, match="decision column 'decision' has no values") as info:
        analyse(clean.assign(decision=None))
    assert info.value.column == "decision"


def test_a_decision_column_with_too_many_labels_is_refused(clean):
    with pytest.raises(DataError, match=r"'application_id' has 50,000 distinct values .*expected a few decision labels"):
        analyse(clean, decision_column="application_id")
    few = clean.assign(decision=clean.index % 5)
    assert count_decisions(few, VolumeConfig(max_decision_labels=5), **ROLES).labels == ["0", "1", "2", "3", "4"]
    with pytest.raises(DataError, match="at most 4, the max_decision_labels setting"):
        count_decisions(few, VolumeConfig(max_decision_labels=4), **ROLES)


def test_segment_levels_are_capped_to_the_most_frequent_and_the_rest_folded(clean):
    rng = np.random.default_rng(0)
    weights = np.arange(1, 41, dtype=float)
    merchant = rng.choice([f"s{k:02d}" for k in range(40)], size=len(clean), p=weights / weights.sum())
    frame = clean.assign(merchant=pd.Series(merchant, index=clean.index).where(clean.index % 50 != 0))
    roles = {"timestamp_column": "timestamp", "decision_column": "decision", "segment_columns": ["merchant"]}
    full = count_decisions(frame, VolumeConfig(max_segment_levels=50), **roles)
    capped = count_decisions(frame, VolumeConfig(max_segment_levels=12), **roles)
    full_names, full_table = full.segments["merchant"]
    names, table = capped.segments["merchant"]
    in_window = dict(zip(full_names, full_table.sum(axis=(0, 2))))
    ranked = sorted((n for n in full_names if n != "(missing)"), key=lambda n: (-in_window[n], n))
    assert "(other)" not in full_names and not any("merchant" in n for n in full.notes)
    assert set(names) == set(ranked[:12]) | {"(other)", "(missing)"}
    for name in ranked[:12] + ["(missing)"]:
        np.testing.assert_array_equal(table[:, names.index(name)], full_table[:, full_names.index(name)])
    folded = [full_names.index(n) for n in ranked[12:]]
    np.testing.assert_array_equal(table[:, names.index("(other)")], full_table[:, folded].sum(axis=1))
    np.testing.assert_array_equal(table.sum(axis=1), capped.overall)
    note = next(n for n in capped.notes if "merchant" in n)
    assert "40 distinct values" in note and "12 most frequent" in note and "other 28" in note and "'(other)'" in note


def test_segment_cap_breaks_ties_by_label_and_keeps_missing_apart():
    from mlreport.volume import _cap_levels

    levels = ["d", "c", "b", "a", "e"]
    codes = np.array([4, 4, 4, 0, 0, 1, 1, 2, 2, 3, 3, -1, -1])  # e 3 rows; a, b, c, d 2 each; 2 missing
    recoded, kept, note = _cap_levels(codes, levels, 3, "merchant")
    assert kept == ["e", "a", "b", "(other)"]
    np.testing.assert_array_equal(recoded, [0, 0, 0, 3, 3, 3, 3, 2, 2, 1, 1, -1, -1])
    assert "5 distinct values" in note and "other 2 (4 rows)" in note
    same, unchanged, none = _cap_levels(codes, levels, 5, "merchant")
    assert same is codes and unchanged == levels and none is None


def test_segment_cap_does_not_depend_on_row_order(clean):
    frame = clean.assign(merchant=[f"m{i % 997}" for i in range(len(clean))])
    config = VolumeConfig(max_segment_levels=20)
    roles = {"timestamp_column": "timestamp", "decision_column": "decision", "segment_columns": ["merchant"]}
    a = count_decisions(frame, config, **roles)
    b = count_decisions(frame.sample(frac=1.0, random_state=1), config, **roles)
    assert set(a.segments["merchant"][0]) == set(b.segments["merchant"][0])
    assert len(a.segments["merchant"][0]) == 21
    result = analyse_counts(a, config)
    assert any(f.check == "coverage" and "merchant" in f.message for f in result.findings)


def test_roles_from_parameters_spec_or_inference(clean):
    from_spec = resolve_roles(clean, spec=ModelSpec.from_dict(DEFAULT_SPEC))
    assert from_spec["segment_columns"] == ["channel", "region", "product"]
    assert from_spec["decision_labels"] == ["approve", "refer", "decline"]
    given = resolve_roles(clean, spec=ModelSpec.from_dict(DEFAULT_SPEC), segment_columns=["region"])
    assert given["segment_columns"] == ["region"]
    inferred = resolve_roles(clean)
    assert (inferred["timestamp_column"], inferred["decision_column"]) == ("timestamp", "decision")
    with pytest.raises(DataError, match="no decision column"):
        resolve_roles(clean[["timestamp", "age"]])


def test_hourly_outage_is_dated_to_the_first_business_hour():
    frame = generate(300_000, seed=7, weeks=6, incidents=["channel_outage"], incident_start="2026-02-05")
    result = analyse(frame, VolumeConfig(period="H"))
    zero = [f for f in result.findings if f.check == "volume_zero"]
    assert [f.subject for f in zero] == ["channel=broker"]
    assert zero[0].period.startswith("2026-02-05 09:00/")  # brokers submit 09-17 on weekdays
    assert result.headline.startswith("Incident: broker channel volume 0 since 2026-02-05 09:00, expected about")


def test_rate_effect_size_gate_silences_immaterial_moves(outage_and_jump):
    frame = generate(50_000, seed=7, incidents=["approval_jump"])
    gated = analyse(frame, VolumeConfig(rate_min_pp=20.0))
    assert not any(f.section == SECTIONS["rates"] and f.severity != "ok" for f in gated.findings)
    assert (gated.rates.severity == "ok").all()


def test_missing_scores_get_their_own_band(clean):
    frame = clean.assign(score=clean.score.where(clean.index % 10 != 0))
    result = analyse(frame, score_column="score")
    bands = result.score_bands.set_index("band")
    assert bands.loc["(missing)", "baseline_share"] == pytest.approx(0.1, abs=0.01)
    assert bands["baseline_count"].sum() == result.mix_tests.iloc[0]["baseline_n"]


def test_config_from_parameters_precedence():
    spec = ModelSpec.from_dict({"thresholds": {"version": "2026-03", "volume": {"cusum_h": 6, "ewma_L": 2.8}}})
    config = config_from_parameters(spec, {"ewma_L": 3.2}, period="D", analysis_start="", holidays=[])
    assert (config.cusum_h, config.ewma_L, config.period) == (6, 3.2, "D")
    assert config.version == "spec 2026-03" and config.analysis_start is None
    assert config_from_parameters(None, {}).to_dict() == VolumeConfig().to_dict()


def test_result_helpers_for_the_notebook(outage_and_jump):
    result = outage_and_jump
    overview = result.overview()
    assert overview.loc["period", "value"] == "day (inferred)"
    assert overview.loc["analysis window", "value"] == "2026-02-02 to 2026-03-01 (28 days)"
    flagged = result.flagged_volume()
    assert flagged.iloc[0]["series"] == "channel=broker" and flagged.iloc[0]["severity"] == "incident"
    assert result.most_moved_decision() in ("approve", "refer")
    rates = result.segment_table("rate")
    assert "contribution pp" in rates.columns and len(rates) == 12
    metrics = result.metrics()
    assert metrics["volume_flags"]["incident"] == 7 and metrics["period"] == "D"
    assert result.change_point_table().columns.tolist() == ["series", "metric", "period", "before", "after",
                                                            "unit", "change"]


def test_figures_build_without_warnings_and_state_their_method(outage_and_jump):
    from mlreport import volume_plots

    figures = {
        "volume": volume_plots.volume_timeline(outage_and_jump),
        "rates": volume_plots.rate_chart(outage_and_jump),
        "ewma": volume_plots.ewma_chart(outage_and_jump),
        "cusum": volume_plots.cusum_chart(outage_and_jump),
        "mix": volume_plots.mix_chart(outage_and_jump),
        "contributions": volume_plots.contribution_chart(outage_and_jump, "rate:approve"),
        "changes": volume_plots.change_point_timeline(outage_and_jump),
    }
    titles = {name: figure._suptitle.get_text() for name, figure in figures.items()}
    assert "p < 0.001" in titles["volume"] and "Laney p′" in titles["rates"]
    assert "λ 0.2" in titles["ewma"] and "h 5" in titles["cusum"] and "PELT" in titles["changes"]
    assert volume_plots.flagged_series(outage_and_jump)[:2] == ["overall", "channel=broker"]
    for figure in figures.values():
        assert all(ax.get_ylabel() for ax in figure.axes)


def test_notebook_follows_the_contract():
    from pathlib import Path

    import nbformat

    from mlreport.params import declared_parameters

    path = Path(__file__).parents[1] / "notebooks" / "volume.ipynb"
    notebook = nbformat.read(path, as_version=4)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    assert notebook.cells[1].metadata.get("tags") == ["parameters"]
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert "publish(" in code[-1].source
    declared = declared_parameters(path)
    assert {"data_path", "timestamp_column", "decision_column", "segment_columns", "period", "baseline_weeks",
            "analysis_start", "holidays", "sample_rows", "sample_incidents", "seed"} <= set(declared)
    headings = {cell.source.splitlines()[0][3:] for cell in notebook.cells
                if cell.cell_type == "markdown" and cell.source.startswith("## ")}
    assert set(SECTIONS.values()) <= headings


def test_naive_local_timestamps_with_a_time_zone_get_daylight_saving_exposure():
    frame = _local_log("2026-02-23", 6, "Europe/London")
    naive = frame.assign(ts=frame.ts.dt.tz_localize(None))  # local wall clock, zone dropped
    result = analyse_volume(naive, VolumeConfig(period="H", timezone="Europe/London"),
                            timestamp_column="ts", decision_column="decision")
    assert result.status == "ok", result.headline
    row = result.volume[(result.volume.series == "overall") & (result.volume.period == "2026-03-29 01:00")]
    assert row.exposure.iloc[0] == 0.0
    assert result.windows()["timezone"] == "Europe/London"


def test_helpers_work_when_nothing_is_flagged(clean):
    result = analyse(clean, score_column="score")
    assert result.flagged_volume().empty
    assert result.headline.startswith("Healthy: volume within the seasonal baseline")
    from mlreport import volume_plots

    assert volume_plots.flagged_series(result) == ["overall"]
    volume_plots.change_point_timeline(result)


def test_levels_with_equal_counts_are_ordered_by_label_whatever_the_row_order():
    """Decision labels and segment levels: by count, ties by label, so the order is deterministic."""
    from mlreport.volume import count_decisions

    times = pd.date_range("2026-01-05", periods=24 * 7 * 6, freq="h")
    frame = pd.DataFrame({
        "timestamp": times,
        "decision": np.tile(["refer", "approve"], len(times) // 2),
        "segment": np.tile(["c", "b", "a"], len(times) // 3),
    })
    orders = []
    for rows in (frame, frame.iloc[::-1], frame.sample(frac=1.0, random_state=1)):
        counts = count_decisions(rows, VolumeConfig(period="D"), timestamp_column="timestamp",
                                 decision_column="decision", segment_columns=["segment"])
        orders.append((counts.labels, counts.segments["segment"][0]))
    assert orders == [(["approve", "refer"], ["a", "b", "c"])] * 3
