"""The drift report's glue (windows, columns, headline) and end-to-end drift runs on files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlreport import sample
from mlreport.drift_report import drift_headline, findings_frame, monitored_columns, moved, periods
from mlreport.errors import DataError, ParameterError
from mlreport.findings import Finding
from mlreport.spec import ModelSpec
from mlreport.windows import load_windows

from conftest import run_cli


def test_monitored_columns_leave_out_target_id_and_timestamp():
    spec = ModelSpec.from_dict(sample.DEFAULT_SPEC)
    columns = monitored_columns(spec, sample.generate(500, seed=1))
    assert "default_flag" not in columns and "application_id" not in columns and "timestamp" not in columns
    assert columns[-2:] == ["score", "decision"] and "credit_utilisation" in columns


def test_sample_windows_split_at_the_midpoint_and_record_inputs():
    from mlreport import data

    data.reset_inputs()
    windows = load_windows(sample_rows=5000, sample_incidents=["utilisation_zero"])
    assert windows.reference["timestamp"].max() < pd.Timestamp("2026-02-02") <= windows.current["timestamp"].min()
    assert windows.data_period == "2026-02-02 to 2026-03-02"
    assert data.inputs()[0]["name"] == "sample" and data.inputs()[0]["rows"] == 5000


def test_one_source_cut_by_dates(tmp_path: Path):
    frame = sample.generate(3000, seed=2)
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    windows = load_windows(reference_path=str(path), current_start="2026-02-16", reference_start="2026-01-12")
    assert windows.reference["timestamp"].min() >= pd.Timestamp("2026-01-12")
    assert windows.reference["timestamp"].max() < pd.Timestamp("2026-02-16") <= windows.current["timestamp"].min()
    assert windows.spec.timestamp == "timestamp" and windows.spec.source == "inferred"
    with pytest.raises(ParameterError, match="current_start"):
        load_windows(reference_path=str(path))
    with pytest.raises(DataError, match="current window .* holds no rows"):
        load_windows(reference_path=str(path), current_start="2027-01-01")


def test_current_without_reference_is_refused():
    with pytest.raises(ParameterError, match="reference_path"):
        load_windows(current_path="x.parquet")


def test_periods_by_date_or_chunk():
    frame = sample.generate(2000, seed=3)
    assert periods(frame, "timestamp", "W").nunique() == 8
    assert periods(frame, "", "500").nunique() == 4
    with pytest.raises(ParameterError, match="'period'"):
        periods(frame, "timestamp", "fortnight")


def _finding(severity: str, section: str, subject: str) -> Finding:
    return Finding("c", subject, severity, f"{subject} broke", section=section)


def test_headline_leads_with_integrity_and_counts_drifted_features():
    table = pd.DataFrame({"column": ["a", "b", "c"], "severity": ["incident", "warning", "ok"], "psi": [0.3, 0.1, 0.0]})
    findings = [_finding("incident", "Feature drift", "a"), _finding("incident", "Data integrity", "x")]
    assert drift_headline(findings, table, ["a", "b", "c"]) == "Incident: x broke; 1 more incident finding; 2 of 3 features drifted."
    assert drift_headline([], table.assign(severity="ok"), ["a"]).startswith("Healthy")
    assert moved(table, pd.DataFrame({"column": ["c"], "worst": ["warning"]})) == ["a", "b", "c"]
    assert list(findings_frame(findings)["severity"]) == ["INCIDENT", "INCIDENT"]


@pytest.mark.e2e
def test_drift_on_two_parquet_files_finds_the_defaulted_feature(tmp_path: Path):
    written = run_cli("sample-data", str(tmp_path / "d"), "--rows", "20000", "--incident", "utilisation_zero", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    result = run_cli(
        "run", "drift", "--out", str(tmp_path / "out"), "--json",
        "-p", f"reference_path={tmp_path / 'd' / 'reference.parquet'}",
        "-p", f"current_path={tmp_path / 'd' / 'current.parquet'}",
        "-p", "classifier_sample=3000", cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    data = json.loads(result.stdout)
    incidents = {(f["section"], f["subject"]) for f in data["findings"] if f["severity"] == "incident"}
    assert ("Data integrity", "credit_utilisation") in incidents
    manifest = json.loads((Path(data["run_dir"]) / "run.json").read_text())
    assert {i["name"] for i in manifest["inputs"]} == {"reference", "current"}
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert manifest["reference_fingerprint"] and "drift=" in manifest["thresholds_version"]


@pytest.mark.e2e
def test_drift_on_clean_sample_raises_no_incident(tmp_path: Path):
    result = run_cli("run", "drift", "--out", str(tmp_path / "out"), "--json", "-p", "sample_incidents=[]",
                     "-p", "classifier_sample=5000", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["status"] in ("ok", "warning"), data["headline"]
    assert data["counts"]["incident"] == 0


@pytest.mark.e2e
def test_saved_reference_profile_is_reused(tmp_path: Path):
    profile = tmp_path / "ref.json"
    first = run_cli("run", "drift", "--out", "out", "--json", "-p", f"save_profile={profile}", "-p", "classifier_sample=3000", cwd=tmp_path)
    assert first.returncode in (0, 1) and profile.exists()
    second = run_cli("run", "drift", "--out", "out", "--json", "-p", f"reference_profile={profile}", "-p", "classifier_sample=3000", cwd=tmp_path)
    one, two = (json.loads((Path(json.loads(r.stdout)["run_dir"]) / "run.json").read_text()) for r in (first, second))
    assert one["reference_fingerprint"] == two["reference_fingerprint"]
    assert [f["subject"] for f in one["findings"]] == [f["subject"] for f in two["findings"]]
