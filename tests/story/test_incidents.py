"""Incidents from findings: grouping, consequences, onset, headline, next steps.

Findings are written by hand in the shapes the analyses emit (checks, subjects,
periods, values), including names other than the sample's.
"""

from __future__ import annotations

import json

from mlreport.findings import Finding, summarize
from mlreport.story import group_incidents, incident_headline, incidents_html, tell


def f(check: str, subject: str, severity: str = "incident", value: float | None = 1.0, period: str | None = None,
      message: str = "") -> Finding:
    return Finding(check, subject, severity, message or f"{subject}: {check}", value=value, period=period)


def drift_findings() -> list[Finding]:
    return [
        f("missing", "bureau", value=9.5, period="2026-03-11",
          message="bureau: 26.0% of rows are null since 2026-03-11"),
        f("sentinel", "util_ratio", value=11.5, period="2026-03-11",
          message="util_ratio: 30.5% of rows are exactly 0 since 2026-03-11 (reference 0.5%)"),
        f("drift_over_time", "util_ratio", value=0.151, period="2026-03-09",
          message="util_ratio: incident first in period 2026-03-09 (KS D 0.151 >= incident 0.15)"),
        f("feature_drift", "util_ratio", "warning", 0.114, message="util_ratio: KS D 0.114 reached the warning band"),
        f("domain_classifier", "util_ratio", "warning", 0.595, message="domain classifier AUC 0.595"),
        f("drift_over_time", "salary", "warning", 0.0908, "2026-03-16",
          message="salary: warning first in period 2026-03-16 (KS D 0.0908 >= warning 0.075)"),
        f("feature_drift", "age", "ok", 0.01),
    ]


def test_one_column_is_one_incident_with_evidence_from_every_check():
    incidents = group_incidents(drift_findings())
    assert [(i.where, i.severity) for i in incidents] == [
        ("util_ratio", "incident"), ("bureau", "incident"), ("salary", "warning")]
    util = incidents[0]
    assert util.checks == ["sentinel", "drift_over_time", "feature_drift", "domain_classifier"]
    assert util.kind == "feed_default" and util.label == "feed defaulting to 0"
    assert [e.role for e in util.evidence] == ["cause", "supporting", "supporting", "supporting"]
    # Every flagged finding is in exactly one incident; ok findings are in none.
    used = [e.finding for i in incidents for e in i.evidence]
    assert len(used) == 6 and len({id(x) for x in used}) == 6


def test_onset_is_the_earliest_daily_date_and_says_which_check_dated_it():
    util = group_incidents(drift_findings())[0]
    # The weekly period starting 9 Mar contains 11 Mar: the daily dating wins and the note says so.
    assert (util.onset, util.onset_by) == ("2026-03-11", "sentinel")
    assert util.onset_note == ("dated by sentinel; drift_over_time flags the period starting 9 Mar 2026, "
                               "which contains it")
    salary = group_incidents(drift_findings())[2]
    assert (salary.onset, salary.onset_by) == ("2026-03-16", "drift_over_time")


def test_next_step_is_specific_to_the_kind_and_names_where_and_when():
    util, bureau, salary = group_incidents(drift_findings())
    assert "upstream field mapping of util_ratio" in util.next_step and "11 Mar 2026" in util.next_step
    assert "feed that fills bureau" in bureau.next_step
    assert "consider recalibration" in salary.next_step
    with_drop = group_incidents([*drift_findings(), f("auc_drop", "score", "warning", -0.05)])
    salary_again = next(i for i in with_drop if i.where == "salary")
    assert "Performance dropped in the same run: consider recalibration or retraining." in salary_again.next_step


def volume_findings() -> list[Finding]:
    rate = "2026-03-05/2026-03-20"
    return [
        f("volume_zero", "partner=acme", value=0.0, period="2026-03-05/2026-03-20",
          message="acme partner volume 0 since 2026-03-05, expected about 42 per day"),
        f("segment_mix_large", "partner=web", value=0.011),
        f("rate_laney", "decision=accept", value=8.2, period=rate, message="accept rate +8.2 pp since 2026-03-05"),
        f("rate_laney", "decision=review", value=-7.8, period=rate, message="review rate -7.8 pp since 2026-03-05"),
        f("volume_tail", "product=car", "warning", -0.36, "2026-03-07/2026-03-07"),
        f("segment_volume", "partner=acme", "warning", -0.34),
        f("mix_change", "overall", "warning", 0.007),
        f("segment_mix", "region=n", "warning", 0.008),
        f("rate_ewma", "decision=accept", "warning", 8.2, rate),
        f("rate_cusum", "decision=accept", "warning", 8.2, rate),
        f("rate_ewma", "decision=review", "warning", -7.8, rate),
    ]


def test_rate_charts_and_mix_consequences_are_one_incident():
    incidents = group_incidents(volume_findings(), context={"rows": 28_000, "data_period": "2026-02-20 to 2026-03-21"})
    assert [(i.where, i.severity, i.kind) for i in incidents] == [
        ("acme partner", "incident", "outage"), ("decision rates", "incident", "rate"),
        ("car product", "warning", "volume")]
    rates = incidents[1]
    assert rates.checks[:3] == ["rate_laney", "rate_ewma", "rate_cusum"]
    roles = {(e.finding.check, e.finding.subject): e.role for e in rates.evidence}
    assert roles[("segment_mix_large", "partner=web")] == "consequence"
    assert roles[("mix_change", "overall")] == "consequence" and roles[("segment_mix", "region=n")] == "consequence"
    # One reconciled figure: the lead rate's, with the other rate and the decisions a day (28,000 over 29 days).
    assert rates.size == ("accept rate +8.2 pp; review rate -7.8 pp; about 79 more accept decisions a day, "
                          "of about 966 decisions a day")
    assert incidents[0].size == "about 42 decisions per day missing"
    assert "integration with acme partner" in incidents[0].next_step


def test_segment_mix_without_a_rate_shift_or_overall_change_stays_an_incident():
    incidents = group_incidents([f("segment_mix_large", "branch=7", value=0.02)])
    assert [(i.where, i.kind) for i in incidents] == [("7 branch", "mix")]


def test_unknown_checks_group_by_subject_with_the_default_kind():
    # At equal severity a known cause leads an unknown check.
    incidents = group_incidents([f("brand_new_check", "x"), f("missing", "x", "incident", 2.0, "2026-01-02")])
    assert len(incidents) == 1 and incidents[0].kind == "feed_nulls"
    alone = group_incidents([f("brand_new_check", "y")])[0]
    assert alone.kind == "other" and "decide with the model owner" in alone.next_step


def test_headline_names_every_incident_of_the_worst_severity():
    summary = summarize("drift", drift_findings(), headline="Incident: bureau: nulls; 2 more incident findings.")
    told = tell(summary)
    assert told.headline == (
        "Incident: util_ratio: 30.5% of rows are exactly 0 since 2026-03-11 (reference 0.5%); "
        "also bureau: values missing since 11 Mar 2026; 1 warning incident (salary).")
    assert tell(told).headline == told.headline  # telling twice changes nothing
    assert [i["where"] for i in told.incidents] == ["util_ratio", "bureau", "salary"]
    assert (told.findings, told.counts(), told.status) == (summary.findings, summary.counts(), summary.status)
    data = json.loads(told.to_json())
    assert data["incidents"][0]["onset"] == "2026-03-11" and "findings" in data and "counts" in data


def test_an_analysis_headline_that_names_every_incident_is_kept():
    incidents = group_incidents(volume_findings())
    current = "Incident: acme partner volume 0 since 2026-03-05; accept rate +8.2 pp since 2026-03-05"
    assert incident_headline("incident", incidents, current) == current
    assert incident_headline("ok", [], "Healthy: fine.") == "Healthy: fine."


def test_incidents_block_escapes_and_lists_each_incident_once():
    hostile = f("sentinel", "<script>x</script>", value=3.0, period="2026-01-01", message="<img src=x> exactly 0")
    block = incidents_html([i.to_dict() for i in group_incidents([hostile, *drift_findings()])])
    assert "<script>" not in block and "&lt;script&gt;" in block and "<img" not in block
    assert block.count("<tr>") == 1 + 4  # header row and four incidents
    assert "11 Mar 2026" in block
    assert incidents_html([]) == '<p class="mlr-none">No check reached a warning.</p>'


def test_stress_results_are_one_incident_per_test_led_by_the_largest_effect():
    findings = [
        f("stress_scenario", "Income -10%", "warning", 11.1), f("stress_scenario", "Recession", "warning", 32.5),
        f("monotonicity", "dti", "warning", 0.38), f("reverse_stress", "bur relative up", "warning", 0.1),
        f("reverse_stress", "dti relative down", "warning", 0.04),
    ]
    incidents = group_incidents(findings)
    # The largest scenario move leads, but the smallest breaking shock (the most fragile input).
    assert [(i.where, len(i.evidence)) for i in incidents] == [
        ("Recession", 2), ("dti relative down", 2), ("dti", 1)]
    current = "Warning: 2 of 9 scenarios break tolerance (worst: 'Recession')."
    assert incident_headline("warning", incidents, current) == current
