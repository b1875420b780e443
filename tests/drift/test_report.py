"""How a drift report shows what it found: the computation table, the headline; end-to-end drift runs on files."""

from __future__ import annotations

import json
import re
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


def test_headline_on_a_tiny_reference_says_the_statistics_are_unreliable():
    table = pd.DataFrame({"column": ["a"], "severity": ["ok"], "psi": [0.0]})
    tiny = Finding("reference_rows", "reference", "warning", "the reference holds only 3 rows", section="Coverage")
    other = _finding("warning", "Data integrity", "x")
    assert drift_headline([other, tiny], table, ["a"], reference_rows=3) == (
        "Warning: the reference holds only 3 rows; 1 more warning finding.")
    led = drift_headline([_finding("incident", "Data integrity", "x"), tiny], table, ["a"], reference_rows=3)
    assert led == ("Incident: x broke; the reference holds only 3 rows, so every drift statistic is unreliable.")
    assert drift_headline([other], table, ["a"], reference_rows=50).endswith("0 of 1 features drifted.")


@pytest.mark.e2e
@pytest.mark.parametrize("backend", ["pandas", "duckdb"])
def test_drift_on_two_plain_files_without_a_timestamp_is_a_full_report(tmp_path: Path, backend: str):
    """Files mlreport did not write: other names, no timestamp, y_pred beside the score, a year, lists."""
    from plain_frames import REFERENCE_MIX, SHIFTED_MIX, loan_book

    loan_book(4000, seed=51, mix=REFERENCE_MIX).to_parquet(tmp_path / "a.parquet", index=False)
    loan_book(4000, seed=52, year=2021, mix=SHIFTED_MIX).to_parquet(tmp_path / "loans-b.parquet", index=False)
    result = run_cli("run", "drift", "--out", str(tmp_path / "out"), "--json", "-p", f"backend={backend}",
                     "-p", f"reference_path={tmp_path / 'a.parquet'}",
                     "-p", f"current_path={tmp_path / 'loans-b.parquet'}", "-p", "classifier_sample=1000", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert result.returncode == 1 and data["status"] == "incident", (data["headline"], result.stderr[-2000:])
    assert data["model"] == "loans-b" and Path(data["run_dir"]).parts[-3:-1] == ("loans-b", "drift")
    incidents = {(f["section"], f["subject"]) for f in data["findings"] if f["severity"] == "incident"}
    assert ("Feature drift", "region") in incidents
    assert not {f["subject"] for f in data["findings"] if f["severity"] != "ok"} & {"year", "y", "tags"}
    page = (Path(data["run_dir"]) / "report.html").read_text()
    sections = re.findall(r'<h2 id="([^"]+)"', page)
    assert sections[:3] == ["Columns-and-roles", "Data", "Data-integrity"] and "Drift-by-segment" in sections
    assert "holds lists" in page
    assert "labels the window" in page
    periods = "chunks of 400 rows in file order" if backend == "pandas" else "drift over time is skipped"
    assert periods in page
