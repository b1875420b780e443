"""A run's recorded inputs rechecked: re-hashing by kind, files a run wrote, and what verify says of them."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from mlreport import data
from mlreport.record import InputReview, open_registry, recheck_inputs, record_run, verify
from mlreport.record import _inputs as inputs_module


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_each_kind_is_rechecked_as_it_was_recorded(tmp_path: Path):
    (tmp_path / "card.toml").write_bytes(b"model = 'card'\n")
    (tmp_path / "ref.json").write_bytes(b"{}")
    recorded = [
        {"name": "spec", "path": "card.toml", "sha256": sha(b"model = 'card'\n"), "hash_of": "file"},
        {"name": "saved_profile", "path": "ref.json", "sha256": sha(b"{}"), "hash_of": "written"},
        {"name": "saved_profile", "path": "gone.json", "sha256": sha(b"{}"), "hash_of": "written"},
        {"name": "current", "path": f"{tmp_path} (3 files)", "sha256": "c" * 64, "hash_of": "files"},
        {"name": "sample", "path": "built-in sample", "sha256": "d" * 64, "hash_of": "content"},
    ]
    checks = recheck_inputs(recorded, cwd=tmp_path)
    assert [(c.name, c.ok, c.checkable) for c in checks] == [
        ("spec", True, True), ("saved_profile", True, True), ("saved_profile", True, False), ("current", True, False),
    ]
    assert "(written by the run) is gone: a rerun writes it again" in checks[2].note
    assert "recorded by count" in checks[3].note
    (tmp_path / "card.toml").write_bytes(b"model = 'card'\nscore = 'p'\n")
    (tmp_path / "ref.json").write_bytes(b"{ }")
    spec, written, *_ = recheck_inputs(recorded, cwd=tmp_path)
    assert not spec.ok and spec.current == sha(b"model = 'card'\nscore = 'p'\n")
    before = sha(b"model = 'card'\n")
    assert spec.problem() == (
        f"input 'spec' {tmp_path / 'card.toml'} changed: recorded sha256 {before}, current {spec.current}"
    )
    assert not written.ok and "which the run wrote, changed since" in written.problem()
    assert "a rerun would overwrite it" in written.problem()
    (tmp_path / "card.toml").unlink()
    gone = recheck_inputs(recorded[:1], cwd=tmp_path)[0]
    assert gone.missing and "is missing" in gone.problem()


def test_a_file_several_runs_read_is_hashed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "data.csv").write_bytes(b"x\n1\n")
    calls = []

    def counted(entry, *, base="."):
        calls.append(entry["path"])
        return data.current_sha256(entry, base=base)

    monkeypatch.setattr(inputs_module, "current_sha256", counted)
    entry = {"name": "current", "path": str(tmp_path / "data.csv"), "sha256": sha(b"x\n1\n"), "hash_of": "file"}
    cache: dict = {}
    assert all(c.ok for c in recheck_inputs([entry], cache=cache) + recheck_inputs([entry], cache=cache))
    assert len(calls) == 1
    (tmp_path / "data.csv").write_bytes(b"x\n2\n")  # a new size: a new key, hashed again
    assert not recheck_inputs([entry], cache=cache)[0].ok and len(calls) == 2


def recorded_run(out: Path, run_id: str, inputs: list[dict], cwd: Path) -> Path:
    folder = out / "card" / "drift" / run_id
    folder.mkdir(parents=True)
    (folder / "report.html").write_text(f"report {run_id}")
    manifest = {"run_id": run_id, "model": "card", "analysis": "drift", "status": "ok", "exit_code": 0,
                "started_at": "2026-04-01T00:00:00Z", "parameters": {}, "inputs": inputs, "findings": [],
                "counts": {}, "cwd": str(cwd)}
    (folder / "run.json").write_text(json.dumps(manifest))
    record_run(out, folder, manifest)
    return folder


def test_verify_reports_inputs_changed_since_their_runs_without_failing(tmp_path: Path):
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    (work / "card.toml").write_bytes(b"model = 'card'\n")
    (work / "data.csv").write_bytes(b"x\n1\n")
    inputs = [{"name": "spec", "path": "card.toml", "sha256": sha(b"model = 'card'\n"), "hash_of": "file"},
              {"name": "current", "path": "data.csv", "sha256": sha(b"x\n1\n"), "hash_of": "file"}]
    for day in (1, 2):
        recorded_run(out, f"2026040{day}T000000Z-0000000{day}", inputs, work)
    report = verify(out)
    assert report.clean
    assert "inputs: 4 recorded input(s) of 2 run(s) re-hashed, 0 changed or missing since their run" in report.notes[0]
    (work / "card.toml").write_bytes(b"model = 'card'\ntimestamp = 'ts'\n")
    report = verify(out)
    assert report.clean and report.exit_code == 0  # the record is intact; the inputs are the user's to change
    assert "2 changed or missing since their run" in report.notes[0]
    (line,) = [n for n in report.notes if "card.toml" in n]
    assert line.startswith("run 20260401T000000Z-00000001 and 1 more run(s) (20260402T000000Z-00000002): input 'spec'")
    assert sha(b"model = 'card'\ntimestamp = 'ts'\n") in line and "changed" in line
    one = verify(out, "20260402")  # one run: its inputs only
    assert one.notes[0].startswith("inputs: 2 recorded input(s) of 1 run(s) re-hashed, 1 changed or missing")


def test_verify_finds_registry_inputs_that_differ_from_the_audited_manifest(tmp_path: Path):
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    (work / "card.toml").write_bytes(b"model = 'card'\n")
    entry = {"name": "spec", "path": "card.toml", "sha256": sha(b"model = 'card'\n"), "hash_of": "file"}
    recorded_run(out, "20260401T000000Z-00000001", [entry], work)
    # Someone points the registry's record at another file (rerun reads the registry, not run.json)
    forged = json.dumps([{**entry, "path": "other.toml"}])
    with sqlite3.connect(out / "registry.sqlite") as connection:
        connection.execute("UPDATE runs SET inputs_json = ?", (forged,))
    assert open_registry(out, create=False).get("20260401T000000Z-00000001").inputs[0]["path"] == "other.toml"
    (problem,) = verify(out).problems
    assert problem.kind == "registry-mismatch" and problem.run_id == "20260401T000000Z-00000001"
    assert "the registry's inputs differ from those in its run.json" in problem.message


def test_an_unreadable_manifest_is_left_to_the_file_checks(tmp_path: Path):
    review = InputReview()
    (tmp_path / "run.json").write_text("{not json")
    review.run("r", tmp_path, None)
    assert review.notes() == [] and review.problems == []
