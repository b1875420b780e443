"""The Prometheus textfile, read back with prometheus_client's own parser (an independent reader)."""

from __future__ import annotations

import os
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mlreport.errors import OutputError
from mlreport.export import key_metrics, prometheus_text, textfile_name, write_textfile

HOSTILE = 'in"come\\ \n<b>€'


def _manifest(**extra):
    manifest = {
        "run_id": "20260314T020003Z-3f9a1c2b", "analysis": "drift", "model": 'card "fraud"', "status": "incident",
        "exit_code": 1, "finished_at": "2026-03-14T02:00:41Z", "timings_s": {"total": 12.5},
        "counts": {"ok": 7, "warning": 3, "incident": 2},
        "metrics": {
            "psi": {"age": 0.0004, HOSTILE: 0.31, "nan_column": None},
            "ks": {"age": 0.01, HOSTILE: 0.2},
            "missing_rate": {"age": 0.0, HOSTILE: 0.125},
            "rows": 30058, "reference_rows": 29942,
            "backend": {"backend": "pandas", "seconds": 0.2},
            "custom score": {"a": 2.5},
        },
    }
    manifest.update(extra)
    return manifest


def _samples(text: str) -> dict[tuple[str, frozenset], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge"
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in found, f"sample twice: {key}"
            found[key] = sample.value
    return found


def _get(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


def test_the_textfile_parses_and_holds_every_key_number():
    text = prometheus_text(_manifest())
    samples = _samples(text)
    common = {"model": 'card "fraud"', "analysis": "drift"}
    assert _get(samples, "mlreport_run_status", **common, status="incident") == 1
    assert {_get(samples, "mlreport_run_status", **common, status=s) for s in ("ok", "warning", "failed")} == {0}
    assert _get(samples, "mlreport_run_exit_code", **common) == 1
    assert _get(samples, "mlreport_run_finished_timestamp_seconds", **common) == 1773453641  # date -d ... +%s
    assert _get(samples, "mlreport_run_duration_seconds", **common) == 12.5
    assert _get(samples, "mlreport_run_findings", **common, severity="incident") == 2
    # Data values are label values, escaped by the format and read back intact.
    assert _get(samples, "mlreport_drift_psi", **common, column=HOSTILE) == 0.31
    assert _get(samples, "mlreport_drift_ks_statistic", **common, column=HOSTILE) == 0.2
    assert _get(samples, "mlreport_drift_missing_ratio", **common, column=HOSTILE) == 0.125
    assert _get(samples, "mlreport_input_rows", **common) == 30058
    assert _get(samples, "mlreport_metric", **common, metric="custom score", subject="a") == 2.5
    # No NaN sample for a metric the run could not compute; the backend's timings are not key numbers.
    assert not any(dict(labels).get("column") == "nan_column" for _, labels in samples)
    assert not any(dict(labels).get("metric") == "backend" for _, labels in samples)


def test_names_follow_the_exposition_rules_and_every_family_has_help_and_type():
    text = prometheus_text(_manifest())
    families = re.findall(r"^# TYPE (\S+) gauge$", text, flags=re.M)
    helps = re.findall(r"^# HELP (\S+) \S", text, flags=re.M)
    assert families == helps and len(families) == len(set(families))  # each once, HELP before TYPE
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name = line.split("{", 1)[0]
        assert re.fullmatch(r"mlreport_[a-z0-9_]+", name), name
        assert name in families
        assert not re.search(r"\} \S+ \d+$", line), "no sample timestamps in a textfile"
    for label in re.findall(r'[{,]([A-Za-z_][A-Za-z0-9_]*)="', text):
        assert not label.startswith("__")


def test_volume_and_stress_numbers_get_their_families():
    volume = _manifest(analysis="volume", metrics={
        "volume_observed": 24134.0, "volume_expected": 25098.0, "volume_last_observed": 444.0,
        "volume_last_expected": 403.5, "decision_rate": {"approve": 0.62}, "decision_rate_baseline": {"approve": 0.6},
        "volume_flags": {"warning": 3, "incident": 7}, "mix_psi": 0.007,
    })
    samples = _samples(prometheus_text(volume))
    common = {"model": 'card "fraud"', "analysis": "volume"}
    assert _get(samples, "mlreport_volume_decisions", **common, window="analysis") == 24134
    assert _get(samples, "mlreport_volume_decisions", **common, window="last_period") == 444
    assert _get(samples, "mlreport_volume_expected_decisions", **common, window="last_period") == 403.5
    assert _get(samples, "mlreport_decision_rate_ratio", **common, decision="approve", window="baseline") == 0.6
    assert _get(samples, "mlreport_volume_flagged_periods", **common, severity="incident") == 7
    stress = _manifest(analysis="stress", status="warning", metrics={"scenarios": 17, "scenarios_failing": 9})
    samples = _samples(prometheus_text(stress))
    assert _get(samples, "mlreport_stress_failing_scenarios", model='card "fraud"', analysis="stress") == 9


def test_a_failed_run_still_exports_its_status():
    failed = {"run_id": "r", "analysis": "drift", "model": "m", "status": "failed", "exit_code": 3,
              "counts": {}, "metrics": {}}
    samples = _samples(prometheus_text(failed))
    assert _get(samples, "mlreport_run_status", model="m", analysis="drift", status="failed") == 1
    assert _get(samples, "mlreport_run_findings", model="m", analysis="drift", severity="incident") == 0


def test_write_replaces_the_models_own_file_atomically(tmp_path):
    other = tmp_path / "node_other.prom"
    other.write_text("# another exporter's file\n")
    first = write_textfile(_manifest(), tmp_path)
    assert first.name == textfile_name(_manifest()) == "mlreport_card-fraud_drift.prom"
    second = write_textfile(_manifest(status="ok", counts={"ok": 9}), tmp_path)
    assert second == first
    assert sorted(os.listdir(tmp_path)) == sorted([first.name, other.name])  # no temporary file left behind
    samples = _samples(first.read_text())
    assert _get(samples, "mlreport_run_status", model='card "fraud"', analysis="drift", status="ok") == 1
    assert other.read_text() == "# another exporter's file\n"


def test_a_missing_folder_is_an_error_naming_it(tmp_path):
    with pytest.raises(OutputError, match="does-not-exist"):
        write_textfile(_manifest(), tmp_path / "does-not-exist")


def test_key_metrics_skip_what_is_not_a_number():
    rows = key_metrics(_manifest(metrics={"period": "D", "flag": True, "n": 3}))
    assert [(r.metric, r.subject, r.value) for r in rows if r.metric == "n"] == [("n", "", 3.0)]
    assert not [r for r in rows if r.metric in ("period", "flag")]
