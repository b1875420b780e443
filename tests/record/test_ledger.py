"""Keeping folders, audit trail and registry in step: recording, importing older runs, pruning."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runs import run_cli

from mlreport.errors import InputError
from mlreport.record import (
    STALE_STAGING_S,
    discard,
    is_live,
    live_lock_path,
    open_registry,
    prune,
    read_log,
    rebuild_registry,
    record_run,
    staging_dir,
    verify,
)

NOW = dt.datetime(2026, 4, 30, 12, tzinfo=dt.UTC)


def folder_with_manifest(out: Path, run_id: str, started: str, status: str = "ok") -> tuple[Path, dict]:
    folder = out / "card" / "drift" / run_id
    folder.mkdir(parents=True)
    (folder / "report.html").write_text(f"report {run_id}")
    manifest = {"run_id": run_id, "model": "card", "analysis": "drift", "status": status, "exit_code": 0,
                "started_at": started, "parameters": {"a": 1}, "inputs": [], "findings": [], "counts": {}}
    (folder / "run.json").write_text(json.dumps(manifest))
    return folder, manifest


def test_record_run_writes_entry_then_row(tmp_path: Path):
    folder, manifest = folder_with_manifest(tmp_path, "20260401T000000Z-00000001", "2026-04-01T00:00:00Z")
    record = record_run(tmp_path, folder, manifest)
    (entry,) = [line.entry for line in read_log(tmp_path)]
    assert entry["event"] == "run" and entry["files"]["notebook.ipynb"] is None  # no executed notebook
    assert record.audit_seq == 1 and record.audit_hash == entry["hash"] and record.origin == "run"
    assert open_registry(tmp_path).get(record.run_id).files["run.json"] == entry["files"]["run.json"]
    assert verify(tmp_path).clean


def test_runs_from_before_the_registry_are_imported_once(tmp_path: Path):
    for i in range(2):
        folder_with_manifest(tmp_path, f"2026040{i + 1}T000000Z-0000000{i}", f"2026-04-0{i + 1}T00:00:00Z")
    (tmp_path / "card" / "drift" / "broken").mkdir()
    (tmp_path / "card" / "drift" / "broken" / "run.json").write_text("{not json")
    # Issue 16, class 3: never silently. Opening a registry here refuses; importing is an explicit rebuild.
    with pytest.raises(InputError, match="registry rebuild"):
        open_registry(tmp_path)
    assert not (tmp_path / "registry.sqlite").exists()
    rebuild_registry(tmp_path, import_unrecorded=True)
    registry = open_registry(tmp_path)
    assert registry.count() == 2
    assert {r.origin for r in registry.history()} == {"import"}
    assert [line.entry["event"] for line in read_log(tmp_path)] == ["import", "import", "rebuild"]
    assert open_registry(tmp_path).count() == 2 and len(read_log(tmp_path)) == 3  # not again
    old = time.time() - 3600
    os.utime(tmp_path / "card" / "drift" / "broken" / "run.json", (old, old))
    (problem,) = verify(tmp_path).problems  # the imported runs verify; the unreadable folder is named
    assert problem.kind == "unrecorded-folder" and problem.run_id == "broken"


def seeded(out: Path) -> list[str]:
    ids = []
    for day in (1, 10, 20, 29):
        folder, manifest = folder_with_manifest(
            out, f"202604{day:02d}T000000Z-000000{day:02d}", f"2026-04-{day:02d}T00:00:00Z"
        )
        record_run(out, folder, manifest)
        ids.append(folder.name)
    return ids


def test_dry_run_changes_nothing(tmp_path: Path):
    ids = seeded(tmp_path)
    result = prune(tmp_path, 15, dry_run=True, now=NOW)
    assert [r.run_id for r in result.runs] == ids[:2] and result.bytes_freed > 0
    assert result.cutoff == "2026-04-15T12:00:00Z"
    assert all((tmp_path / "card" / "drift" / i).exists() for i in ids)
    assert not open_registry(tmp_path).get(ids[0]).pruned and len(read_log(tmp_path)) == 4
    assert "would prune 2 run(s)" in result.format()


def test_prune_marks_rows_appends_entries_deletes_folders(tmp_path: Path):
    ids = seeded(tmp_path)
    result = prune(tmp_path, 15, now=NOW)
    assert [r.run_id for r in result.runs] == ids[:2]
    registry = open_registry(tmp_path)
    assert registry.count() == 4  # rows are kept
    assert [registry.get(i).pruned for i in ids] == [True, True, False, False]
    events = [(e.entry["event"], e.entry["run_id"]) for e in read_log(tmp_path)]
    assert events[4:] == [("prune", ids[0]), ("prune", ids[1])]
    assert not (tmp_path / "card" / "drift" / ids[0]).exists() and (tmp_path / "card" / "drift" / ids[2]).exists()
    assert verify(tmp_path).clean
    assert prune(tmp_path, 15, now=NOW).runs == []  # idempotent
    assert len(read_log(tmp_path)) == 6


def test_interrupted_prune_is_finished_without_a_second_entry(tmp_path: Path):
    ids = seeded(tmp_path)
    from mlreport.record import _audit as audit

    # As if the previous prune died right after its audit entry.
    audit.append(tmp_path, event="prune", run_id=ids[0], run_dir=f"card/drift/{ids[0]}",
                 files=audit.file_hashes(tmp_path / "card" / "drift" / ids[0]))
    prune(tmp_path, 15, now=NOW)
    assert [e.entry["run_id"] for e in read_log(tmp_path) if e.entry["event"] == "prune"] == [ids[0], ids[1]]
    assert verify(tmp_path).clean


def test_stale_staging_folders_are_removed_fresh_ones_kept(tmp_path: Path):
    seeded(tmp_path)
    stale, fresh = tmp_path / ".tmp" / "20260101T000000Z-killed00", tmp_path / ".tmp" / "20260430T115900Z-running0"
    stale.mkdir(parents=True)
    fresh.mkdir()
    old = time.time() - STALE_STAGING_S - 60
    os.utime(stale, (old, old))
    result = prune(tmp_path, 0, now=NOW)
    assert result.stale_staging == [stale.name] and not stale.exists() and fresh.exists()


def test_a_live_run_is_never_pruned_however_old_its_staging_folder(tmp_path: Path):
    """A run holds ``<run id>.live`` from staging to commit; prune keeps its folder while another process holds it.

    A run longer than STALE_STAGING_S (a big stress sweep) looks stale by its folder's age alone.
    """
    seeded(tmp_path)
    staging = tmp_path / ".tmp" / "20260101T000000Z-longrun0"
    staging.mkdir(parents=True)
    lock = live_lock_path(staging)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, filelock; lock = filelock.FileLock(sys.argv[1]); lock.acquire(); "
         "print('held', flush=True); sys.stdin.read()", str(lock)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        old = time.time() - STALE_STAGING_S - 3600
        os.utime(staging, (old, old))
        assert is_live(staging)
        result = prune(tmp_path, 0, now=NOW)
        assert result.live_staging == [staging.name] and result.stale_staging == [] and staging.exists()
        assert "kept 1 staging folder(s) of runs in progress" in result.format()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
        if holder.stdout is not None:
            holder.stdout.close()
    # The holder is gone (a run killed with SIGKILL releases its lock the same way): now it is a dead run's leftovers.
    assert not is_live(staging)
    assert prune(tmp_path, 0, now=NOW).stale_staging == [staging.name] and not staging.exists()


def test_a_run_in_this_process_is_live_from_staging_to_commit(tmp_path: Path):
    staging = staging_dir(tmp_path, "20260430T115900Z-inproc00")
    assert is_live(staging) and live_lock_path(staging).exists()
    discard(staging)
    assert not is_live(staging) and not staging.exists() and not live_lock_path(staging).exists()


def test_prune_needs_a_registry_and_a_sane_number(tmp_path: Path):
    with pytest.raises(InputError, match="no run registry"):
        prune(tmp_path, 10)
    seeded(tmp_path)
    with pytest.raises(InputError, match="keep-days"):
        prune(tmp_path, -1)


@pytest.mark.e2e
def test_prune_history_and_show_cli(tmp_path: Path):
    ids = seeded(tmp_path)
    dry = run_cli("prune", "--keep-days", "100000", "--dry-run", "--out", str(tmp_path), "--json")
    assert dry.returncode == 0 and json.loads(dry.stdout)["runs"] == []
    pruned = run_cli("prune", "--keep-days", "0", "--out", str(tmp_path), "--json")
    assert pruned.returncode == 0 and len(json.loads(pruned.stdout)["runs"]) == 4
    history = run_cli("history", "--out", str(tmp_path), "--limit", "2", "--json")
    data = json.loads(history.stdout)
    assert history.returncode == 0 and data["count"] == 2 and all(r["pruned"] for r in data["runs"])
    assert [r["run_id"] for r in data["runs"]] == [ids[3], ids[2]]
    shown = run_cli("show", ids[0][:12], "--out", str(tmp_path))
    assert shown.returncode == 0 and ids[0] in shown.stdout and "pruned on" in shown.stdout
    assert run_cli("show", "nosuch", "--out", str(tmp_path)).returncode == 2
    assert run_cli("history", "--out", str(tmp_path / "empty")).returncode == 2


@pytest.mark.e2e
def test_run_interrupted_before_its_commit_leaves_no_record(fixture_notebooks: Path, tmp_path: Path):
    import signal
    import subprocess
    import sys

    out = tmp_path / "out"
    env = {**os.environ, "MLREPORT_NOTEBOOKS": str(fixture_notebooks)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlreport", "run", "slow", "--out", str(out)], env=env, cwd=tmp_path,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / ".tmp").glob("*/notebook.ipynb")):
        time.sleep(0.2)  # the executed notebook appears once papermill runs cells
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)  # a scheduler's timeout
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode != 0, stderr
    assert open_registry(out).count() == 0 and read_log(out) == []
    assert not list(out.glob("*/*/*/run.json")) and not [p for p in (out / ".tmp").iterdir() if p.is_dir()]
    assert verify(out).clean
