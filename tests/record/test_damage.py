"""Damage to the record: a registry emptied, truncated, garbled, missing or read-only, and its explicit rebuild.

The rules (issue 16, class 3): readers (history, show, verify) never write;
a registry that is missing or emptied where runs were recorded is never
silently recreated (which would re-import old runs as new audit entries and
make verify fail for ever); it is rebuilt on purpose, from the run folders and
the audit trail; an unusable registry stops a run before it starts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from cli_runs import run_cli

from mlreport.errors import InputError
from mlreport.record import (
    AUDIT_FILE,
    REGISTRY_FILE,
    open_registry,
    prune,
    read_log,
    read_registry,
    rebuild_registry,
    record_run,
    verify,
)


def make_run(out: Path, run_id: str, *, status: str = "ok", started: str = "2026-03-14T02:00:00Z") -> Path:
    folder = out / "card" / "drift" / run_id
    folder.mkdir(parents=True)
    (folder / "report.html").write_text(f"<html>{status} {run_id}</html>")
    (folder / "notebook.ipynb").write_text(json.dumps({"cells": []}))
    manifest = {"run_id": run_id, "model": "card", "analysis": "drift", "status": status, "exit_code": 0,
                "fail_on": "incident", "started_at": started, "headline": f"{status} headline",
                "parameters": {"seed": 1}, "inputs": [], "findings": [], "counts": {"ok": 2}}
    (folder / "run.json").write_text(json.dumps(manifest))
    record_run(out, folder, manifest)
    return folder


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, list[str]]:
    ids = [f"2026031{i}T020000Z-0000000{i}" for i in range(3)]
    for i, run_id in enumerate(ids):
        make_run(tmp_path, run_id, status=["ok", "warning", "incident"][i], started=f"2026-03-1{i}T02:00:00Z")
    return tmp_path, ids


def snapshot(out: Path) -> dict[str, str]:
    """sha256 of every file in the outputs folder except SQLite's coordination files (-wal, -shm)."""
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


def empty(out: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (out / (REGISTRY_FILE + suffix)).unlink(missing_ok=True)
    (out / REGISTRY_FILE).write_bytes(b"")


def truncate(out: Path) -> None:
    path = out / REGISTRY_FILE
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGE = {
    "emptied": empty,
    "truncated": truncate,
    "garbled": lambda out: (out / REGISTRY_FILE).write_bytes(b"not a database at all " * 200),
    "deleted": lambda out: (out / REGISTRY_FILE).unlink(),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_readers_never_write_to_a_damaged_registry(recorded, damage: str):
    out, _ids = recorded
    DAMAGE[damage](out)
    before = snapshot(out)
    with pytest.raises(InputError, match="registry"):
        read_registry(out)
    report = verify(out)
    assert not report.clean and report.exit_code == 1
    kinds = {p.kind for p in report.problems}
    assert kinds == ({"registry-missing"} if damage == "deleted" else {"registry-damaged"}), report.format()
    assert snapshot(out) == before  # no schema written, no run imported, no audit entry appended
    assert len(read_log(out)) == 3


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_registry_stops_a_run_before_it_starts(recorded, damage: str):
    out, _ = recorded
    DAMAGE[damage](out)
    before = snapshot(out)
    with pytest.raises(InputError, match=r"registry(.|\n)*(rebuild|damaged|cannot be used)") as info:
        open_registry(out)  # what a run does first
    assert str(out / REGISTRY_FILE) in str(info.value)
    assert snapshot(out) == before and len(read_log(out)) == 3


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_rebuild_restores_every_run_from_the_trail_and_keeps_the_old_file(recorded, damage: str):
    out, ids = recorded
    before = {r.run_id: r for r in read_registry(out).history()}
    DAMAGE[damage](out)
    result = rebuild_registry(out)
    assert result.runs == 3 and result.imported == [] and result.unrecorded == []
    assert (result.replaced is None) == (damage == "deleted")
    if result.replaced:
        assert (out / result.replaced["path"]).is_file()  # the damaged file is kept as evidence
    after = {r.run_id: r for r in read_registry(out).history()}
    assert set(after) == set(ids)
    for run_id in ids:  # the same entry numbers and hashes as when they ran: verify agrees with the trail
        assert (after[run_id].audit_seq, after[run_id].audit_hash) == (before[run_id].audit_seq,
                                                                       before[run_id].audit_hash)
        assert (after[run_id].status, after[run_id].headline, after[run_id].parameters) == (
            before[run_id].status, before[run_id].headline, before[run_id].parameters)
        assert after[run_id].files == before[run_id].files
    events = [line.entry["event"] for line in read_log(out)]
    assert events == ["run", "run", "run", "rebuild"]  # one rebuild entry; no run entered twice
    report = verify(out)
    assert report.clean, report.format()
    make_run(out, "20260320T020000Z-00000009")  # runs go on
    assert verify(out).clean and read_registry(out).count() == 4


def test_an_emptied_registry_no_longer_re_imports_runs_as_new_entries(recorded):
    """The issue's case: the next run (or history) used to import old runs again; verify then failed for ever."""
    out, _ = recorded
    empty(out)
    with pytest.raises(InputError):
        make_run(out, "20260320T020000Z-00000009")  # the run's record is refused, not re-imported around it
    assert [line.entry["event"] for line in read_log(out)] == ["run", "run", "run"]


def test_pruned_runs_are_rebuilt_as_pruned_from_the_trail_alone(recorded):
    out, ids = recorded
    prune(out, 10, now=dt.datetime(2026, 4, 10, 12, tzinfo=dt.UTC))  # all three are older than 10 days
    (out / REGISTRY_FILE).unlink()
    result = rebuild_registry(out)
    assert result.pruned == 3 and sorted(result.from_audit_only) == ids
    records = {r.run_id: r for r in read_registry(out).history()}
    assert all(r.pruned and r.origin == "audit" and r.exit_code == -1 for r in records.values())
    assert records[ids[2]].status == "incident" and records[ids[2]].started_at == "2026-03-12T02:00:00Z"
    assert verify(out).clean


def test_unrecorded_folders_are_imported_only_on_request(recorded):
    out, _ = recorded
    planted = out / "card" / "drift" / "20260301T000000Z-deadbeef"
    planted.mkdir()
    (planted / "run.json").write_text(json.dumps({"run_id": planted.name, "status": "ok", "model": "card",
                                                  "analysis": "drift"}))
    empty(out)
    result = rebuild_registry(out)
    assert result.unrecorded == [planted.name] and planted.name not in read_registry(out).run_ids()
    result = rebuild_registry(out, import_unrecorded=True)
    assert result.imported == [planted.name] and planted.name in read_registry(out).run_ids()
    imports = [line.entry for line in read_log(out) if line.entry["event"] == "import"]
    assert [e["run_id"] for e in imports] == [planted.name]


def test_a_registry_newer_than_this_code_is_refused_by_readers_and_writers(recorded):
    out, _ = recorded
    conn = sqlite3.connect(out / REGISTRY_FILE)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    for opener in (read_registry, open_registry):
        with pytest.raises(InputError, match="newer than this mlreport"):
            opener(out)


@pytest.fixture
def read_only(tmp_path: Path):
    """Make a file read-only for this process: the immutable attribute for root (who writes through mode bits)."""
    made: list[Path] = []

    def make(path: Path) -> None:
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
                pytest.skip("cannot make a file read-only for root here (chattr +i refused)")
        else:
            path.chmod(0o444)
        made.append(path)

    yield make
    for path in made:
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        path.chmod(0o644)


def test_a_read_only_registry_stops_a_run_before_it_starts(recorded, read_only):
    out, _ = recorded
    conn = sqlite3.connect(out / REGISTRY_FILE)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    read_only(out / REGISTRY_FILE)
    assert read_registry(out).count() == 3  # readers still read
    with pytest.raises(InputError) as info:
        open_registry(out)
    assert str(out / REGISTRY_FILE) in str(info.value) and "cannot be used for writing" in str(info.value)
    assert "readonly" in str(info.value)  # SQLite's own reason, for the operator


def test_a_fresh_folder_gets_a_registry_without_ceremony(tmp_path: Path):
    registry = open_registry(tmp_path / "new")
    assert registry.created and registry.count() == 0


def test_verify_reports_a_damaged_registry_with_its_documented_exit_code(recorded):
    out, ids = recorded
    truncate(out)
    report = verify(out)
    (problem,) = report.problems
    assert problem.kind == "registry-damaged" and problem.file == REGISTRY_FILE and report.exit_code == 1
    assert "registry rebuild" in problem.message
    assert report.runs_checked == 3  # the runs are still checked against the trail
    (out / "card" / "drift" / ids[0] / "report.html").write_text("edited")
    assert {p.kind for p in verify(out).problems} == {"registry-damaged", "file-changed"}


@pytest.mark.e2e
def test_registry_damage_through_the_cli(recorded):
    out, ids = recorded
    truncate(out)
    checked = run_cli("verify", "--out", str(out), "--json")
    data = json.loads(checked.stdout)
    assert checked.returncode == 1 and data["exit_code"] == 1
    assert [p["kind"] for p in data["problems"]] == ["registry-damaged"]
    history = run_cli("history", "--out", str(out), "--json")
    assert history.returncode == 2 and "registry rebuild" in json.loads(history.stdout)["error"]
    rebuilt = run_cli("registry", "rebuild", "--out", str(out), "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["runs"] == 3
    assert run_cli("verify", "--out", str(out)).returncode == 0
    shown = run_cli("history", "--out", str(out))
    assert shown.returncode == 0 and all(run_id in shown.stdout for run_id in ids)
    assert (out / AUDIT_FILE).read_text().count('"event":"rebuild"') == 1
