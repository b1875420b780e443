"""The audit trail: an append-only, hash-chained log of what happened to runs.

``<out>/audit.log`` holds one JSON object per line::

    {"seq": 12, "time": "2026-03-14T02:00:41Z", "event": "run", "run_id": "20260314T020003Z-3f9a1c2b",
     "run_dir": "card-fraud/drift/20260314T020003Z-3f9a1c2b", "status": "incident",
     "files": {"run.json": "<sha256>", "report.html": "<sha256>", "notebook.ipynb": "<sha256>"},
     "prev": "<hash of entry 11>", "hash": "<sha256 of this entry without its hash>"}

Convention: ``hash`` is the sha256 (hex) of the entry's canonical JSON without
the ``hash`` key: keys sorted, separators ``,`` and ``:``, UTF-8, no ASCII
escaping. ``prev`` is the previous entry's ``hash`` (64 zeros for the first).
``seq`` counts from 1. Events: ``run`` (a committed run and the sha256 of its
manifest, report and executed notebook), ``import`` (a run folder written
before the trail existed, hashed when first seen), ``prune`` (a run folder
deleted by retention, with its files' hashes just before deletion).

Changing any byte of an entry breaks its hash; removing, inserting or
reordering entries breaks the next entry's ``prev`` link; rewriting the tail
consistently is caught by the registry, which stores each run's entry number
and hash. :func:`verify` rechecks all of it and every file of every run, and
says what changed. Appends happen under an exclusive file lock, so concurrent
runs extend one chain.

The chain makes tampering evident, not impossible: someone who can rewrite
both the log and the registry can forge a consistent history. Ship the log
to write-once storage (or print its last hash into a ticket) to anchor it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, OutputError
from ._registry import REGISTRY_FILE, Registry, RunRecord
from ._store import locked, sha256_file

__all__ = [
    "AUDIT_FILE",
    "AUDITED_FILES",
    "GENESIS",
    "canonical_json",
    "entry_hash",
    "file_hashes",
    "append",
    "read_log",
    "LogLine",
    "Problem",
    "VerifyReport",
    "verify",
]

AUDIT_FILE = "audit.log"
AUDITED_FILES = ("run.json", "report.html", "notebook.ipynb")
GENESIS = "0" * 64
_LOCK = Path(".tmp") / "audit.lock"
# A committed folder is recorded a moment later; younger unrecorded folders are
# reported as in flight rather than as planted.
IN_FLIGHT_S = 120.0
_REQUIRED = ("seq", "time", "event", "run_id", "prev", "hash")


def canonical_json(data: Mapping[str, Any]) -> bytes:
    """The bytes an entry's hash covers (see the module docstring)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """sha256 of the entry's canonical JSON without its ``hash`` key."""
    return hashlib.sha256(canonical_json({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def file_hashes(run_dir: Path) -> dict[str, str | None]:
    """sha256 of each audited file of a run folder (None for a missing file)."""
    return {name: (sha256_file(run_dir / name) if (run_dir / name).is_file() else None) for name in AUDITED_FILES}


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _tail(path: Path, block: int = 65_536) -> tuple[bytes, bool]:
    """The last line of ``path`` (without its newline) and whether the file ends with one."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size == 0:
            return b"", True
        start = max(0, size - block)
        while True:
            handle.seek(start)
            data = handle.read(size - start)
            stripped = data.rstrip(b"\n")
            cut = stripped.rfind(b"\n")
            if cut >= 0 or start == 0:
                return stripped[cut + 1:], data.endswith(b"\n")
            start = max(0, start - block)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


def _append_whole(fd: int, line: bytes) -> None:
    """Write ``line`` at the end of ``fd`` and fsync it, or leave the file as it was.

    A write that fails part-way (a full disk) would leave a torn last line that
    every later entry has to link past; the file is cut back to its size
    before the write instead, so the trail stays whole and the error is raised.
    """
    size = os.fstat(fd).st_size
    try:
        view = memoryview(line)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
            os.fsync(fd)
        raise


def append(
    out_dir: Path, *, event: str, run_id: str, run_dir: str | None = None,
    files: Mapping[str, str | None] | None = None, **extra: Any,
) -> dict[str, Any]:
    """Append one entry to ``<out>/audit.log`` under the lock and return it.

    The line is written with one ``write`` and fsynced before the lock is
    released. A last line that is not an entry (an edit, a torn write) is
    linked by the sha256 of its raw bytes, so the chain continues while
    :func:`verify` still reports the damage.
    """
    out_dir = Path(out_dir)
    path = out_dir / AUDIT_FILE
    try:
        with locked(out_dir / _LOCK):
            seq, prev, needs_newline = 1, GENESIS, False
            if path.exists() and path.stat().st_size:
                raw, ends_with_newline = _tail(path)
                needs_newline = not ends_with_newline
                try:
                    last = json.loads(raw)
                    seq, prev = int(last["seq"]) + 1, str(last["hash"])
                except (ValueError, KeyError, TypeError):
                    seq, prev = _count_lines(path) + 1, hashlib.sha256(raw).hexdigest()
            entry: dict[str, Any] = {"seq": seq, "time": _utc_now(), "event": event, "run_id": run_id}
            if run_dir is not None:
                entry["run_dir"] = run_dir
            if files is not None:
                entry["files"] = dict(files)
            entry.update(extra)
            entry["prev"] = prev
            entry["hash"] = entry_hash(entry)
            line = (b"\n" if needs_newline else b"") + canonical_json(entry) + b"\n"
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                _append_whole(fd, line)
            finally:
                os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot append to the audit trail {path}: {exc}") from None
    return entry


@dataclass
class LogLine:
    """One line of the log: its number, raw text, and the entry when it parses."""

    line: int
    raw: bytes
    entry: dict[str, Any] | None
    error: str = ""


def read_log(out_dir: Path) -> list[LogLine]:
    """Every non-empty line of ``<out>/audit.log``, parsed where possible."""
    path = Path(out_dir) / AUDIT_FILE
    if not path.exists():
        return []
    lines = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            raw = raw.rstrip(b"\n")
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
            except ValueError as exc:
                lines.append(LogLine(number, raw, None, f"not JSON ({exc.msg})"))
                continue
            if not isinstance(entry, dict) or any(key not in entry for key in _REQUIRED):
                lines.append(LogLine(number, raw, None, f"not an audit entry (needs {', '.join(_REQUIRED)})"))
                continue
            lines.append(LogLine(number, raw, entry))
    return lines


@dataclass
class Problem:
    """One thing verification found wrong, precise enough to act on."""

    kind: str  # entry-edited | chain-broken | bad-line | file-changed | file-missing | folder-deleted | ...
    message: str
    run_id: str | None = None
    file: str | None = None
    expected: str | None = None
    actual: str | None = None
    seq: int | None = None
    line: int | None = None


@dataclass
class VerifyReport:
    """What :func:`verify` checked and found."""

    entries: int = 0
    runs_checked: int = 0
    pruned: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    head: str = GENESIS

    @property
    def clean(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.clean else 1

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "clean": self.clean, "exit_code": self.exit_code, "entries": self.entries,
            "runs_checked": self.runs_checked, "pruned": self.pruned, "head": self.head,
            "problems": [asdict(p) for p in self.problems], "notes": self.notes,
        }

    def format(self) -> str:
        lines = [
            f"audit trail: {self.entries} entries, last hash {self.head}",
            f"runs checked: {self.runs_checked} ({self.pruned} pruned)",
        ]
        lines += [f"note: {note}" for note in self.notes]
        if self.clean:
            lines.append("verified: no tampering found")
        else:
            lines.append(f"TAMPERING OR DAMAGE FOUND: {len(self.problems)} problem(s)")
            lines += [f"  [{p.kind}] {p.message}" for p in self.problems]
        return "\n".join(lines)


def _check_chain(lines: list[LogLine], report: VerifyReport) -> None:
    prev_hash, prev_seq, prev_label = GENESIS, 0, "the start of the log"
    for item in lines:
        entry = item.entry
        if entry is None:
            report.problems.append(Problem(
                "bad-line", f"audit.log line {item.line} is {item.error}: the log was edited or a write was torn",
                line=item.line,
            ))
            prev_hash, prev_label = hashlib.sha256(item.raw).hexdigest(), f"line {item.line}"
            prev_seq = prev_seq + 1
            continue
        label = f"entry seq {entry['seq']} (line {item.line}, {entry['event']} of run {entry['run_id']})"
        recomputed = entry_hash(entry)
        if recomputed != entry["hash"]:
            report.problems.append(Problem(
                "entry-edited",
                f"{label}: its content does not match its hash (recorded {entry['hash']}, recomputed {recomputed}): "
                "the entry was edited",
                run_id=str(entry["run_id"]), expected=str(entry["hash"]), actual=recomputed, seq=_int(entry["seq"]),
                line=item.line,
            ))
        if entry["prev"] != prev_hash:
            report.problems.append(Problem(
                "chain-broken",
                f"{label}: its prev hash {entry['prev']} is not the hash of {prev_label} ({prev_hash}): an entry "
                "before it was edited, removed, inserted or reordered",
                run_id=str(entry["run_id"]), expected=prev_hash, actual=str(entry["prev"]), seq=_int(entry["seq"]),
                line=item.line,
            ))
        if _int(entry["seq"]) != prev_seq + 1:
            report.problems.append(Problem(
                "chain-broken",
                f"{label}: seq {entry['seq']} follows seq {prev_seq}: entries are missing or reordered",
                run_id=str(entry["run_id"]), seq=_int(entry["seq"]), line=item.line,
            ))
        prev_hash, prev_label = str(entry["hash"]), f"entry seq {entry['seq']}"
        prev_seq = _int(entry["seq"]) if _int(entry["seq"]) is not None else prev_seq + 1
    report.entries = len(lines)
    report.head = prev_hash


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _compare_files(
    run_id: str, expected: Mapping[str, Any], actual: Mapping[str, str | None], *, where: str, report: VerifyReport,
    seq: int | None,
) -> None:
    for name in AUDITED_FILES:
        want, got = expected.get(name), actual.get(name)
        if want == got:
            continue
        if want and got is None:
            report.problems.append(Problem(
                "file-missing", f"run {run_id}: {name} is missing{where} (audit entry seq {seq} recorded sha256 {want})",
                run_id=run_id, file=name, expected=want, actual=None, seq=seq,
            ))
        elif want is None:
            report.problems.append(Problem(
                "file-added", f"run {run_id}: {name} appeared{where} (the run had none; now sha256 {got})",
                run_id=run_id, file=name, expected=None, actual=got, seq=seq,
            ))
        else:
            report.problems.append(Problem(
                "file-changed",
                f"run {run_id}: {name} changed{where}: expected sha256 {want} (audit entry seq {seq}), found {got}",
                run_id=run_id, file=name, expected=want, actual=got, seq=seq,
            ))


def _resolve_run_id(run_id: str, known: set[str]) -> str:
    if run_id in known:
        return run_id
    matches = sorted(r for r in known if r.startswith(run_id))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InputError(f"run {run_id!r} is neither in the audit trail nor in the registry")
    raise InputError(f"run id prefix {run_id!r} is ambiguous: {', '.join(matches[:5])}")


def verify(out_dir: Path, run_id: str | None = None, *, now: float | None = None) -> VerifyReport:
    """Recheck the chain, every audited file, and the registry against the trail.

    With ``run_id`` the whole chain is still checked (an entry is only as
    trustworthy as the chain before it) but files and records of that run
    only. Pruned runs are checked as pruned: their folder may be gone, and the
    hashes taken at pruning must equal those recorded when they ran.
    """
    out_dir = Path(out_dir)
    report = VerifyReport()
    lines = read_log(out_dir)
    _check_chain(lines, report)

    registry_path = out_dir / REGISTRY_FILE
    records: dict[str, RunRecord] = {}
    if registry_path.exists():
        records = {r.run_id: r for r in Registry(out_dir).history()}
    elif lines:
        report.problems.append(Problem("registry-missing", f"{registry_path} is missing but the audit trail has entries"))

    runs: dict[str, dict[str, Any]] = {}
    prunes: dict[str, dict[str, Any]] = {}
    for item in lines:
        entry = item.entry
        if entry is None:
            continue
        if entry["event"] in ("run", "import"):
            if entry["run_id"] in runs:
                report.problems.append(Problem(
                    "duplicate-entry", f"run {entry['run_id']} has a second {entry['event']} entry (seq {entry['seq']})",
                    run_id=str(entry["run_id"]), seq=_int(entry["seq"]),
                ))
            runs.setdefault(str(entry["run_id"]), entry)
        elif entry["event"] == "prune":
            prunes.setdefault(str(entry["run_id"]), entry)

    if run_id is not None:
        selected = {_resolve_run_id(run_id, set(runs) | set(records))}
    else:
        selected = set(runs) | set(records)

    for rid in sorted(selected):
        entry = runs.get(rid)
        record = records.get(rid)
        if entry is None:
            report.problems.append(Problem(
                "not-audited",
                f"run {rid} is in the registry ({record.run_dir if record else '?'}) but has no audit entry"
                + (f"; the registry says entry seq {record.audit_seq}: the log was truncated or rewritten"
                   if record is not None and record.audit_seq else ""),
                run_id=rid, seq=record.audit_seq if record else None,
            ))
            continue
        report.runs_checked += 1
        seq = _int(entry["seq"])
        run_dir = out_dir / str(entry.get("run_dir", ""))
        recorded_files = entry.get("files") or {}
        if record is None:
            report.problems.append(Problem(
                "not-registered", f"run {rid} is in the audit trail (seq {seq}) but not in the registry",
                run_id=rid, seq=seq,
            ))
        else:
            if record.audit_hash and record.audit_hash != entry["hash"]:
                report.problems.append(Problem(
                    "registry-mismatch",
                    f"run {rid}: the registry holds audit hash {record.audit_hash} for entry seq {record.audit_seq}, "
                    f"the log has {entry['hash']} at seq {seq}: the log was rewritten",
                    run_id=rid, expected=record.audit_hash, actual=str(entry["hash"]), seq=seq,
                ))
            for name in AUDITED_FILES:
                want = record.files.get(name)
                if want is not None and want != recorded_files.get(name):
                    report.problems.append(Problem(
                        "registry-mismatch",
                        f"run {rid}: the registry records {name} sha256 {want}, the audit entry seq {seq} "
                        f"{recorded_files.get(name)}",
                        run_id=rid, file=name, expected=str(recorded_files.get(name)), actual=want, seq=seq,
                    ))
        pruned = prunes.get(rid)
        if pruned is not None:
            report.pruned += 1
            _compare_files(rid, recorded_files, pruned.get("files") or {}, where=" when it was pruned",
                           report=report, seq=seq)
            if record is not None and not record.pruned:
                report.problems.append(Problem(
                    "registry-mismatch",
                    f"run {rid}: audit entry seq {pruned['seq']} pruned it but the registry does not mark it pruned",
                    run_id=rid, seq=_int(pruned["seq"]),
                ))
            if run_dir.exists():
                report.notes.append(f"run {rid} was pruned (seq {pruned['seq']}) but its folder {run_dir} is still present")
            continue
        if record is not None and record.pruned:
            report.problems.append(Problem(
                "registry-mismatch",
                f"run {rid}: the registry marks it pruned on {record.pruned_at} but the audit trail has no prune entry",
                run_id=rid, seq=seq,
            ))
        if not run_dir.is_dir():
            report.problems.append(Problem(
                "folder-deleted",
                f"run {rid}: its run folder {run_dir} is missing (deleted without `mlreport prune`); "
                f"audit entry seq {seq}",
                run_id=rid, file=str(entry.get("run_dir", "")), seq=seq,
            ))
            continue
        _compare_files(rid, recorded_files, file_hashes(run_dir), where="", report=report, seq=seq)

    # Run folders nobody recorded: planted, copied in, or a run killed between
    # its commit and its record.
    now = time.time() if now is None else now
    for manifest in sorted(out_dir.glob("*/*/*/run.json")):
        folder_id = manifest.parent.name
        if folder_id in runs or folder_id in records:
            continue
        if run_id is not None and folder_id not in selected:
            continue
        relative = manifest.parent.relative_to(out_dir).as_posix()
        if now - manifest.stat().st_mtime < IN_FLIGHT_S:
            report.notes.append(f"run folder {relative} is not recorded yet (written in the last {IN_FLIGHT_S:g} s)")
            continue
        report.problems.append(Problem(
            "unrecorded-folder",
            f"run folder {relative} is neither in the audit trail nor in the registry: copied in by hand, or a run "
            "killed between its commit and its record",
            run_id=folder_id, file=relative,
        ))
    return report
