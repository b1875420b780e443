"""The drift report's glue (windows, columns, headline) and end-to-end drift runs on files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from cli_runs import run_cli

from mlreport import sample
from mlreport.drift import (
    computation_methods,
    computation_table,
    current_summaries,
    drift_headline,
    drift_thresholds,
    findings_frame,
    load_windows,
    monitored_columns,
    moved,
    periods,
    reference_profile,
    row_level_arguments,
)
from mlreport.errors import DataError, ParameterError
from mlreport.findings import Finding
from mlreport.spec import ModelSpec


def test_monitored_columns_leave_out_target_id_and_timestamp():
    spec = ModelSpec.from_dict(sample.DEFAULT_SPEC)
    columns = monitored_columns(spec, sample.generate(500, seed=1))
    assert "default_flag" not in columns and "application_id" not in columns and "timestamp" not in columns
    assert columns[-2:] == ["score", "decision"] and "credit_utilisation" in columns


def test_sample_windows_split_at_the_midpoint_and_record_inputs():
    windows = load_windows(sample_rows=5000, sample_incidents=["utilisation_zero"])
    assert windows.reference["timestamp"].max() < pd.Timestamp("2026-02-02") <= windows.current["timestamp"].min()
    assert windows.data_period == "2026-02-02 to 2026-03-02"
    assert windows.inputs.to_list()[0]["name"] == "sample" and windows.inputs.to_list()[0]["rows"] == 5000


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


@pytest.mark.parametrize("layout", ["sample", "one source", "two files"])
def test_windows_through_duckdb_are_the_rows_pandas_cuts(tmp_path: Path, layout: str):
    frame = sample.generate(4000, seed=4, incidents=("utilisation_zero",))
    if layout == "sample":
        arguments: dict = {"sample_rows": 4000, "sample_seed": 4, "sample_incidents": ["utilisation_zero"]}
    elif layout == "one source":
        frame.to_parquet(tmp_path / "log.parquet", index=False)
        arguments = {"reference_path": str(tmp_path / "log.parquet"), "current_start": "2026-02-16",
                     "reference_start": "2026-01-12"}
    else:
        reference, current = sample.split(frame, "2026-02-02")
        reference.to_parquet(tmp_path / "reference.parquet", index=False)
        current.to_parquet(tmp_path / "current.parquet", index=False)
        arguments = {"reference_path": str(tmp_path / "reference.parquet"),
                     "current_path": str(tmp_path / "current.parquet"), "current_end": "2026-02-23"}
    expected = load_windows(**arguments)
    got = load_windows(**arguments, backend="duckdb", backend_options={"threads": 1})
    assert got.engine.name == "duckdb" and got.complete and expected.engine.name == "pandas"
    for name in ("reference", "current"):
        pd.testing.assert_frame_equal(getattr(expected, name), getattr(got, name), check_dtype=False, obj=name)
    assert (got.reference_span, got.current_span, got.spec.to_dict()) == (
        expected.reference_span, expected.current_span, expected.spec.to_dict())
    pd.testing.assert_frame_equal(expected.overview(), got.overview())
    assert row_level_arguments(got) == row_level_arguments(expected)
    # the windows the backend counts hold the same rows
    assert got.engine.summarize(got.current_source, _profile(expected)).rows == len(expected.current)


def _profile(windows):
    from mlreport.profile import ReferenceProfile

    return ReferenceProfile.fit(windows.reference, ["income", "channel", "credit_utilisation"])


def test_beyond_row_sample_the_row_level_sections_run_on_a_sample(tmp_path: Path):
    frame = sample.generate(4000, seed=4, incidents=("utilisation_zero",))
    reference, current = sample.split(frame, "2026-02-02")
    reference.to_parquet(tmp_path / "reference.parquet", index=False)
    current.to_parquet(tmp_path / "current.parquet", index=False)
    arguments = {"reference_path": str(tmp_path / "reference.parquet"), "current_path": str(tmp_path / "current.parquet")}
    windows = load_windows(**arguments, backend="duckdb", row_sample=500, row_seed=1)
    assert not windows.complete and len(windows.reference) == len(windows.current) == 500
    assert windows.reference_rows.total == len(reference) and windows.current_rows.total == len(current)
    overview = windows.overview()
    assert overview.loc["current", "rows"] == len(current) and overview.loc["current", "rows in memory"] == 500
    assert row_level_arguments(windows) == {"id_column": None, "timestamp_column": None, "expected_end": None}
    text = computation_table(windows).loc["row-level sections", "value"]
    assert "uniform sample of 500" in text and "duplicate ids, freshness" in text and "not run" in text
    assert computation_methods(windows)["backend"].startswith("duckdb ")
    # counts still come from every row: the same drift as pandas on the whole windows
    full = load_windows(**arguments)
    profile = reference_profile(windows.reference, ["income", "channel", "credit_utilisation"],
                                engine=windows.engine, source=windows.reference_source)
    assert profile.rows == len(reference) and profile.settings["fit"]["quantiles"] == "exact"
    summaries, weekly = current_summaries(windows, profile, "W")
    expected, expected_weekly = current_summaries(full, profile, "W")
    assert summaries.rows == expected.rows == len(current) and list(weekly) == list(expected_weekly)
    with pytest.raises(ParameterError, match="'period'.*pandas backend") as info:
        current_summaries(windows, profile, "500")
    assert info.value.name == "period"
    with pytest.raises(ParameterError, match="'learned' needs every reference row"):
        drift_thresholds({}, mode="learned", profile=profile, reference=windows.reference, columns=["income"],
                         timestamp="timestamp", complete=windows.complete)
    with pytest.raises(ParameterError, match="'backend'"):
        load_windows(**arguments, backend="polars")


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
