"""The audit trail: hash chain, appends under concurrency, and verify's tamper detection."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from cli_runs import run_cli
from record_runs import append_many

from mlreport.errors import InputError
from mlreport.record import (
    AUDIT_FILE,
    AUDIT_KEY_ENV,
    GENESIS,
    append,
    canonical_json,
    entry_hash,
    entry_mac,
    key_id,
    legacy_canonical_json,
    open_registry,
    parse_anchor,
    prune,
    read_log,
    record_run,
    verify,
)
from mlreport.record import _audit as audit
from mlreport.record import _verify as verification


def make_run(out: Path, run_id: str, *, model: str = "card", analysis: str = "drift", status: str = "ok",
             started: str = "2026-03-14T02:00:00Z") -> Path:
    """A committed run folder (manifest, report, notebook), recorded like a real run."""
    folder = out / model / analysis / run_id
    folder.mkdir(parents=True)
    (folder / "report.html").write_text(f"<html><body>{status} report of {run_id}</body></html>\n")
    (folder / "notebook.ipynb").write_text(json.dumps({"cells": [], "run": run_id}))
    manifest = {"run_id": run_id, "model": model, "analysis": analysis, "status": status, "exit_code": 0,
                "started_at": started, "parameters": {}, "inputs": [], "findings": [], "counts": {}}
    (folder / "run.json").write_text(json.dumps(manifest))
    record_run(out, folder, manifest)
    return folder


@pytest.fixture
def three_runs(tmp_path: Path) -> tuple[Path, list[Path]]:
    folders = [make_run(tmp_path, f"2026031{i}T020000Z-0000000{i}", started=f"2026-03-1{i}T02:00:00Z")
               for i in range(3)]
    return tmp_path, folders


def lines_of(out: Path) -> list[str]:
    return (out / AUDIT_FILE).read_text().splitlines()


def test_entry_hash_is_sha256_of_canonical_json_without_hash():
    entry = {"seq": 1, "time": "2026-03-14T02:00:00Z", "event": "run", "run_id": "r", "prev": GENESIS,
             "files": {"report.html": "ab"}, "note": "é"}
    # Canonical form written out by hand: keys sorted, no spaces, UTF-8 (no \u escapes).
    by_hand = ('{"event":"run","files":{"report.html":"ab"},"note":"é","prev":"' + GENESIS
               + '","run_id":"r","seq":1,"time":"2026-03-14T02:00:00Z"}').encode("utf-8")
    assert canonical_json(entry) == by_hand
    assert entry_hash(entry) == hashlib.sha256(by_hand).hexdigest()
    assert entry_hash({**entry, "hash": "anything"}) == entry_hash(entry)


def test_runs_are_chained_with_file_hashes(three_runs):
    out, folders = three_runs
    entries = [line.entry for line in read_log(out)]
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev"] == GENESIS
    assert entries[1]["prev"] == entries[0]["hash"] and entries[2]["prev"] == entries[1]["hash"]
    for entry, folder in zip(entries, folders, strict=True):
        assert entry["event"] == "run" and entry["run_id"] == folder.name
        assert entry["run_dir"] == folder.relative_to(out).as_posix()
        for name in ("run.json", "report.html", "notebook.ipynb"):
            assert entry["files"][name] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert entry["hash"] == entry_hash(entry)
    # The registry knows each run's entry number and hash.
    registry = open_registry(out)
    assert [registry.get(f.name).audit_seq for f in folders] == [1, 2, 3]
    assert registry.get(folders[2].name).audit_hash == entries[2]["hash"]
    report = verify(out)
    assert report.clean and report.exit_code == 0 and report.runs_checked == 3 and report.head == entries[2]["hash"]


def test_one_byte_edited_in_an_old_report_is_named(three_runs):
    out, folders = three_runs
    report_file = folders[0] / "report.html"
    expected = hashlib.sha256(report_file.read_bytes()).hexdigest()
    data = bytearray(report_file.read_bytes())
    data[10] ^= 0x01
    report_file.write_bytes(bytes(data))
    result = verify(out)
    assert result.exit_code == 1
    (problem,) = result.problems
    assert problem.kind == "file-changed" and problem.run_id == folders[0].name and problem.file == "report.html"
    assert problem.expected == expected and problem.actual == hashlib.sha256(bytes(data)).hexdigest()
    assert folders[0].name in problem.message and expected in problem.message and problem.actual in problem.message
    # Verifying another run still checks the whole chain but not this run's files.
    assert verify(out, folders[1].name).clean
    assert not verify(out, folders[0].name).clean


def test_deleted_run_folder_and_deleted_file_are_reported(three_runs):
    out, folders = three_runs
    for path in folders[1].iterdir():
        path.unlink()
    folders[1].rmdir()
    (folders[2] / "notebook.ipynb").unlink()
    kinds = {(p.kind, p.run_id, p.file) for p in verify(out).problems}
    assert ("folder-deleted", folders[1].name, folders[1].relative_to(out).as_posix()) in kinds
    assert ("file-missing", folders[2].name, "notebook.ipynb") in kinds


def test_edited_audit_line_is_named(three_runs):
    out, _ = three_runs
    lines = lines_of(out)
    lines[0] = lines[0].replace('"status":"ok"', '"status":"incident"')
    (out / AUDIT_FILE).write_text("\n".join(lines) + "\n")
    (problem,) = verify(out).problems
    assert problem.kind == "entry-edited" and problem.seq == 1 and problem.line == 1


def test_edited_and_rehashed_entry_breaks_the_next_link(three_runs):
    out, _ = three_runs
    lines = lines_of(out)
    entry = json.loads(lines[1])
    entry["status"] = "incident"
    entry["hash"] = entry_hash(entry)  # a careful forger
    lines[1] = canonical_json(entry).decode()
    (out / AUDIT_FILE).write_text("\n".join(lines) + "\n")
    problems = verify(out).problems
    broken = [p for p in problems if p.kind == "chain-broken"]
    assert [p.seq for p in broken] == [3]
    assert "entry seq 3" in broken[0].message and "entry seq 2" in broken[0].message
    # And the registry still holds the original hash of entry 2.
    assert any(p.kind == "registry-mismatch" and p.seq == 2 for p in problems)


def test_removed_entry_and_truncated_tail_are_detected(three_runs):
    out, folders = three_runs
    lines = lines_of(out)
    (out / AUDIT_FILE).write_text("\n".join([lines[0], lines[2]]) + "\n")
    kinds = {(p.kind, p.run_id) for p in verify(out).problems}
    assert ("chain-broken", folders[2].name) in kinds and ("not-audited", folders[1].name) in kinds
    (out / AUDIT_FILE).write_text("\n".join(lines[:2]) + "\n")  # the last entry dropped: the chain alone is fine
    (problem,) = verify(out).problems
    assert problem.kind == "not-audited" and problem.run_id == folders[2].name and "seq 3" in problem.message


def test_unrecorded_folder_is_reported_unless_in_flight(three_runs):
    out, _ = three_runs
    planted = out / "card" / "drift" / "20260301T000000Z-deadbeef"
    planted.mkdir()
    (planted / "run.json").write_text(json.dumps({"run_id": planted.name}))
    report = verify(out)
    assert report.clean and any("not recorded yet" in note for note in report.notes)
    old = time.time() - 3600
    os.utime(planted / "run.json", (old, old))
    (problem,) = verify(out).problems
    assert problem.kind == "unrecorded-folder" and problem.run_id == planted.name


def test_pruned_runs_verify_as_pruned(three_runs):
    out, folders = three_runs
    result = prune(out, 30, now=dt.datetime(2026, 4, 10, tzinfo=dt.UTC))
    assert [r.run_id for r in result.runs] == [folders[0].name]  # started 2026-03-10, more than 30 days before
    assert not folders[0].exists() and folders[1].exists()
    report = verify(out)
    assert report.clean and report.pruned == 1
    prune_entry = read_log(out)[-1].entry
    assert prune_entry["event"] == "prune" and prune_entry["run_id"] == folders[0].name
    assert open_registry(out).get(folders[0].name).pruned


def test_tampering_before_pruning_is_still_detected(three_runs):
    out, folders = three_runs
    (folders[0] / "report.html").write_text("rewritten before the retention job ran")
    prune(out, 30, now=dt.datetime(2026, 4, 10, tzinfo=dt.UTC))
    (problem,) = verify(out).problems
    assert problem.kind == "file-changed" and problem.file == "report.html" and "when it was pruned" in problem.message


def test_torn_last_line_is_reported_and_the_chain_continues(tmp_path: Path):
    append(tmp_path, event="run", run_id="a", files={})
    with open(tmp_path / AUDIT_FILE, "ab") as handle:
        handle.write(b'{"seq": 2, "ti')  # a write cut short
    entry = append(tmp_path, event="run", run_id="b", files={})
    lines = read_log(tmp_path)
    assert lines[1].entry is None and entry["prev"] == hashlib.sha256(b'{"seq": 2, "ti').hexdigest()
    report = verification.VerifyReport()
    verification._check_chain(lines, report)
    assert [p.kind for p in report.problems] == ["bad-line"]


def test_concurrent_appends_keep_one_chain(tmp_path: Path):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        pool.map_async(append_many, [(str(tmp_path), worker, 50) for worker in range(4)]).get(timeout=300)
    lines = read_log(tmp_path)
    assert [line.entry["seq"] for line in lines] == list(range(1, 201))
    report = verification.VerifyReport()
    verification._check_chain(lines, report)
    assert report.clean and len({line.entry["run_id"] for line in lines}) == 200


def test_unknown_run_id_is_an_input_error(three_runs):
    out, _ = three_runs
    with pytest.raises(InputError, match="neither in the audit trail"):
        verify(out, "19990101")


@pytest.mark.e2e
def test_verify_cli_exit_codes(three_runs):
    out, folders = three_runs
    clean = run_cli("verify", "--all", "--out", str(out), "--json")
    assert clean.returncode == 0 and json.loads(clean.stdout)["clean"] is True
    (folders[1] / "run.json").write_text("{}")
    dirty = run_cli("verify", "--out", str(out))
    assert dirty.returncode == 1 and "run.json changed" in dirty.stdout and folders[1].name in dirty.stdout
    assert run_cli("verify", folders[0].name, "--all", "--out", str(out)).returncode == 2
    unknown = run_cli("verify", "nosuchrun", "--out", str(out), "--json")
    assert unknown.returncode == 2 and json.loads(unknown.stdout)["status"] == "error"


def test_a_write_that_fails_part_way_leaves_the_trail_as_it_was(three_runs, monkeypatch: pytest.MonkeyPatch):
    """A full disk mid-line: the torn bytes are cut off, the error raised, the chain still whole."""
    from mlreport.errors import OutputError

    out, _ = three_runs
    before = (out / AUDIT_FILE).read_bytes()
    real_write = os.write

    def half_then_full(fd: int, data) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audit.os, "write", half_then_full)
    with pytest.raises(OutputError, match=r"audit trail .*No space left on device"):
        append(out, event="run", run_id="torn")
    monkeypatch.undo()
    assert (out / AUDIT_FILE).read_bytes() == before
    assert verify(out).clean
    entry = append(out, event="note", run_id="after")  # the chain goes on from the last whole entry
    assert entry["seq"] == 4 and entry["prev"] == json.loads(before.splitlines()[-1])["hash"]


def test_short_writes_are_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    real_write = os.write
    monkeypatch.setattr(audit.os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    append(tmp_path, event="note", run_id="a")
    append(tmp_path, event="note", run_id="b")
    monkeypatch.undo()
    lines = read_log(tmp_path)
    assert [line.entry["run_id"] for line in lines] == ["a", "b"] and lines[1].entry["prev"] == lines[0].entry["hash"]


def test_a_run_the_audit_trail_cannot_take_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from mlreport.errors import OutputError

    make_run(tmp_path, "20260310T020000Z-00000001")

    def full(*args, **kwargs):
        raise OutputError("cannot append to the audit trail: [Errno 28] No space left on device")

    monkeypatch.setattr(audit, "append", full)
    with pytest.raises(OutputError, match="the run was not kept"):
        make_run(tmp_path, "20260311T020000Z-00000002")
    monkeypatch.undo()
    assert not (tmp_path / "card" / "drift" / "20260311T020000Z-00000002").exists()
    assert verify(tmp_path).clean


# ------------------------------------------------------------------ meaning, not only bytes (issue 16, class 4)


def test_canonical_json_is_rfc_8785():
    """The example of RFC 8785, section 3.2.2 (numbers as ECMAScript prints them, minimal escapes, sorted keys)."""
    data = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}'
    )
    expected = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')
    assert canonical_json(data) == expected.encode("utf-8")
    # Keys sorted by UTF-16 code units: U+FB33 (one unit) sorts after U+1F600 (a surrogate pair, 0xD83D...).
    assert canonical_json({"\ufb33": 1, "\U0001f600": 2}) == '{"😀":2,"דּ":1}'.encode()


def test_a_duplicate_key_is_not_an_entry(three_runs):
    """The issue's forgery: a second "status" key, which a lenient reader lets win, with the hash left as it was."""
    out, _folders = three_runs
    lines = lines_of(out)
    lines[1] = lines[1][:-1] + ',"status":"ok"}'  # the entry's own status stays first
    (out / AUDIT_FILE).write_text("\n".join(lines) + "\n")
    parsed = read_log(out)[1]
    assert parsed.entry is None and "duplicate key 'status'" in parsed.error
    kinds = [p.kind for p in verify(out).problems]
    assert "bad-line" in kinds and "chain-broken" in kinds  # the next entry no longer links to it


def _forge(out: Path, **fields) -> dict:
    """A correctly chained, correctly hashed entry appended by hand: what someone with write access can do."""
    last = read_log(out)[-1].entry
    entry = {"seq": last["seq"] + 1, "time": "2026-03-15T00:00:00Z", "prev": last["hash"], **fields}
    entry["hash"] = entry_hash(entry)
    with open(out / AUDIT_FILE, "ab") as handle:
        handle.write(canonical_json(entry) + b"\n")
    return entry


def test_a_chained_entry_of_an_unknown_event_is_named(three_runs):
    out, _ = three_runs
    _forge(out, event="erase", run_id="20260310T020000Z-00000000")
    (problem,) = verify(out).problems
    assert problem.kind == "entry-schema" and "unknown event 'erase'" in problem.message and problem.seq == 4


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"event": "run", "run_id": "x", "run_dir": "card/drift/x", "files": {}, "status": "ok"}, "'files'"),
        ({"event": "prune", "run_id": "x", "run_dir": "../../etc/x", "keep_days": 1,
          "files": {"run.json": None, "report.html": None, "notebook.ipynb": None}}, "'run_dir'"),
        ({"event": "prune", "run_id": "x", "run_dir": "a/b/x", "keep_days": 1, "approved_by": "me",
          "files": {"run.json": None, "report.html": None, "notebook.ipynb": None}}, "unknown key 'approved_by'"),
        ({"event": "run", "run_id": "x", "run_dir": "a/b/x", "status": "fine",
          "files": {"run.json": None, "report.html": None, "notebook.ipynb": None}}, "'status'"),
        ({"event": "artifact", "run_id": "x", "run_dir": "a/b/x", "files": {"../report.pdf": "a" * 64}}, "'files'"),
        ({"event": "artifact", "run_id": "x", "run_dir": "a/b/x", "files": {"report.pdf": None}}, "'files'"),
    ],
)
def test_an_entry_that_does_not_match_its_schema_is_named(three_runs, fields, reason):
    out, _ = three_runs
    _forge(out, **fields)
    problems = [p for p in verify(out).problems if p.kind == "entry-schema"]
    assert problems and reason in problems[0].message, [p.message for p in verify(out).problems]


def test_an_artifact_entry_verifies(three_runs):
    """``mlreport pdf`` records the PDF it printed from a run: an entry of its own schema, not a problem."""
    out, folders = three_runs
    append(out, event="artifact", run_id=folders[0].name, run_dir=str(folders[0].relative_to(out)),
           files={"report.pdf": "b" * 64})
    assert verify(out).clean, [p.message for p in verify(out).problems]


def test_a_reformatted_line_is_not_canonical(three_runs):
    out, _ = three_runs
    lines = lines_of(out)
    lines[0] = json.dumps(json.loads(lines[0]), indent=None, sort_keys=False)  # same content, other bytes
    (out / AUDIT_FILE).write_text("\n".join(lines) + "\n")
    problems = verify(out).problems
    assert [p.kind for p in problems] == ["entry-not-canonical"] and problems[0].line == 1


def test_an_entry_of_mlreport_0_1_still_verifies(tmp_path: Path):
    """Written with Python's canonical form (keep_days 15.0, not 15): verified in the form it was written in."""
    entry = {"seq": 1, "time": "2026-03-14T02:00:00Z", "event": "prune", "run_id": "r1", "run_dir": "m/a/r1",
             "files": {"run.json": None, "report.html": None, "notebook.ipynb": None}, "keep_days": 15.0,
             "prev": GENESIS}
    entry["hash"] = hashlib.sha256(legacy_canonical_json(entry)).hexdigest()
    (tmp_path / AUDIT_FILE).write_bytes(legacy_canonical_json(entry) + b"\n")
    (line,) = read_log(tmp_path)
    assert line.form == "legacy" and line.recomputed_hash() == entry["hash"]
    report = verification.VerifyReport()
    verification._check_chain([line], report)
    assert report.clean


KEY = "k" * 8 + "an audit secret"


def test_signed_entries_and_what_the_key_catches(three_runs, monkeypatch: pytest.MonkeyPatch):
    out, _ = three_runs
    monkeypatch.setenv(AUDIT_KEY_ENV, KEY)
    folder = make_run(out, "20260320T020000Z-0000000a")
    signed = read_log(out)[-1].entry
    assert signed["key_id"] == key_id(KEY.encode()) and signed["mac"] == entry_mac(KEY.encode(), signed["hash"])
    report = verify(out)
    assert report.clean and report.signed == 1 and any("before line 4 are not signed" in n for n in report.notes)
    # Someone with write access but without the key appends a perfectly chained entry: caught.
    _forge(out, event="run", run_id="20260321T000000Z-0000000b", run_dir="card/drift/20260321T000000Z-0000000b",
           files={"run.json": None, "report.html": None, "notebook.ipynb": None}, status="ok")
    kinds = [p.kind for p in verify(out).problems]
    assert "unsigned-entry" in kinds
    # Without the key, verify says the signatures are there to check, and cannot see the forgery by itself.
    monkeypatch.delenv(AUDIT_KEY_ENV)
    assert "unsigned-entry" not in [p.kind for p in verify(out).problems]
    assert any("set $MLREPORT_AUDIT_KEY" in n for n in verify(out).notes)
    # A signature that does not match (the entry re-signed with another key) is named.
    monkeypatch.setenv(AUDIT_KEY_ENV, "another key of enough length")
    assert "mac-invalid" in [p.kind for p in verify(out).problems]
    assert folder.exists()


def test_a_short_key_is_refused_before_anything_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(AUDIT_KEY_ENV, "short")
    with pytest.raises(InputError, match="MLREPORT_AUDIT_KEY"):
        open_registry(tmp_path)
    assert not (tmp_path / AUDIT_FILE).exists()


def test_the_head_as_an_anchor(three_runs):
    out, _folders = three_runs
    report = verify(out)
    anchor = f"{report.head_seq}:{report.head}"
    assert report.head_seq == 3 and verify(out, expect_head=anchor).clean
    make_run(out, "20260320T020000Z-0000000a")  # a legitimate run after the anchor: noted, for the scheduler's log
    later = verify(out, expect_head=report.head)
    assert later.clean and any("1 entries were appended after the anchor (seq 3)" in n for n in later.notes)
    # The trail rewritten consistently from entry 2 on (and the registry with it): only the anchor tells.
    lines = lines_of(out)
    (out / AUDIT_FILE).write_text("\n".join(lines[:1]) + "\n")
    (problem,) = [p for p in verify(out, expect_head=anchor).problems if p.kind == "anchor-missing"]
    assert report.head in problem.message
    with pytest.raises(InputError, match="--expect-head"):
        verify(out, expect_head="not a hash")
    assert parse_anchor(f"3 {report.head.upper()}") == (3, report.head)
