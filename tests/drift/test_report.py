"""How a drift report shows what it found: the computation table, the headline; end-to-end drift runs on files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from cli_runs import run_cli
from drift_frames import read_windows

from mlreport import sample
from mlreport.drift._report import computation_methods, computation_table, drift_headline, findings_frame, moved
from mlreport.findings import Finding


def test_beyond_row_sample_the_computation_says_what_the_row_level_sections_ran_on(tmp_path: Path):
    frame = sample.generate(4000, seed=4, incidents=("utilisation_zero",))
    reference, current = sample.split(frame, "2026-02-02")
    reference.to_parquet(tmp_path / "reference.parquet", index=False)
    current.to_parquet(tmp_path / "current.parquet", index=False)
    arguments = {"reference_path": str(tmp_path / "reference.parquet"),
                 "current_path": str(tmp_path / "current.parquet")}
    windows = read_windows(**arguments, backend="duckdb", row_sample=500, seed=1)
    text = computation_table(windows).loc["row-level sections", "value"]
    assert "uniform sample of 500" in text and "duplicate ids, freshness" in text and "not run" in text
    assert computation_methods(windows)["backend"].startswith("duckdb ")
    full = computation_table(read_windows(**arguments))
    assert full.loc["backend", "value"] == "pandas"
    assert "ran on every row of both windows" in full.loc["row-level sections", "value"]


def _finding(severity: str, section: str, subject: str) -> Finding:
    return Finding("c", subject, severity, f"{subject} broke", section=section)


def test_headline_leads_with_integrity_and_counts_drifted_features():
    table = pd.DataFrame({"column": ["a", "b", "c"], "severity": ["incident", "warning", "ok"], "psi": [0.3, 0.1, 0.0]})
    findings = [_finding("incident", "Feature drift", "a"), _finding("incident", "Data integrity", "x")]
    headline = drift_headline(findings, table, ["a", "b", "c"])
    assert headline == "Incident: x broke; 1 more incident finding; 2 of 3 features drifted."
    assert drift_headline([], table.assign(severity="ok"), ["a"]).startswith("Healthy")
    assert moved(table, pd.DataFrame({"column": ["c"], "worst": ["warning"]})) == ["a", "b", "c"]
    assert list(findings_frame(findings)["severity"]) == ["INCIDENT", "INCIDENT"]


@pytest.mark.e2e
def test_drift_on_two_parquet_files_finds_the_defaulted_feature(tmp_path: Path):
    written = run_cli("sample-data", str(tmp_path / "d"), "--rows", "20000", "--incident", "utilisation_zero",
                      cwd=tmp_path)
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
    first = run_cli("run", "drift", "--out", "out", "--json", "-p", f"save_profile={profile}",
                    "-p", "classifier_sample=3000", cwd=tmp_path)
    assert first.returncode in (0, 1) and profile.exists()
    second = run_cli("run", "drift", "--out", "out", "--json", "-p", f"reference_profile={profile}",
                     "-p", "classifier_sample=3000", cwd=tmp_path)
    one, two = (json.loads((Path(json.loads(r.stdout)["run_dir"]) / "run.json").read_text()) for r in (first, second))
    assert one["reference_fingerprint"] == two["reference_fingerprint"]
    assert [f["subject"] for f in one["findings"]] == [f["subject"] for f in two["findings"]]
