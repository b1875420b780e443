"""The decision-volume analysis end to end: incidents found, tables, findings and headline, edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from volume_logs import analyse

from mlreport.findings import SEVERITIES, summarize
from mlreport.sample import generate
from mlreport.volume import SECTIONS, VolumeConfig, analyse_volume, change_point_timeline, flagged_series


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


def test_segment_appearing_mid_window_is_flagged_new_not_alarmed(clean):
    partner = clean[clean.timestamp >= "2026-02-16"].sample(1_500, random_state=1).assign(channel="partner")
    result = analyse(pd.concat([clean, partner], ignore_index=True))
    new = [f for f in result.findings if f.subject == "channel=partner"]
    assert [f.check for f in new] == ["segment_new"]
    assert new[0].severity == "warning" and "2026-02-16" in new[0].message
    row = result.contributions[(result.contributions.metric == "volume")
                               & (result.contributions.segment_value == "partner")].iloc[0]
    # Issue 13: the drill-down counts from the onset of the report's volume change (its "since").
    since = pd.Timestamp(row["since"])
    assert since >= pd.Timestamp("2026-02-16")
    assert row["current"] == (partner.timestamp >= since).sum() and row["expected"] == 0
    assert "new since 2026-02-16" in row["flags"]
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


def test_holidays_are_not_flagged_and_leave_the_baseline(clean):
    days = clean.timestamp.dt.normalize()
    holiday = clean[days != pd.Timestamp("2026-02-16")]
    flagged = analyse(holiday)
    assert flagged.status == "incident"
    excused = analyse(holiday, VolumeConfig(holidays=("2026-02-16",)))
    row = excused.volume[(excused.volume.series == "overall") & (excused.volume.period == "2026-02-16")].iloc[0]
    assert bool(row.holiday) and row.severity == "ok"
    assert not any(f.check == "volume_zero" for f in excused.findings)


def test_rolling_baseline_also_finds_the_outage():
    frame = generate(50_000, seed=7, incidents=["channel_outage"])
    result = analyse(frame, VolumeConfig(baseline_mode="rolling"))
    assert [f.subject for f in result.findings if f.check == "volume_zero"] == ["channel=broker"]


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
    assert flagged_series(result) == ["overall"]
    change_point_timeline(result)


