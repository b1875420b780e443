"""Verification: recheck the audit trail's chain, every run's files, and the registry against the trail.

:func:`verify` reads what :mod:`the audit trail <mlreport.record>` and the run
registry hold and compares them with each other and with the run folders on
disk. Every discrepancy is a :class:`Problem` precise enough to act on (which
run, which file, the hash expected and the one found, the entry number); a
:class:`VerifyReport` collects them with what was checked.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ._audit import AUDITED_FILES, GENESIS, LogLine, entry_hash, file_hashes, read_log
from ._inputs import InputReview
from ._registry import REGISTRY_FILE, Registry, RunRecord

__all__ = ["IN_FLIGHT_S", "Problem", "VerifyReport", "verify"]

# A committed folder is recorded a moment later; younger unrecorded folders are
# reported as in flight rather than as planted.
IN_FLIGHT_S = 120.0


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

    def to_dict(self) -> dict[str, Any]:
        """The ``mlreport verify --json`` object."""
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
        seq = _int(entry["seq"])
        prev_seq = seq if seq is not None else prev_seq + 1
    report.entries = len(lines)
    report.head = prev_hash


def _int(value: object) -> int | None:
    """A JSON value as an entry number, or None when it is not one."""
    if not isinstance(value, (int, float, str)):
        return None
    try:
        return int(value)
    except (ValueError, OverflowError):
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
                "file-missing",
                f"run {run_id}: {name} is missing{where} (audit entry seq {seq} recorded sha256 {want})",
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
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: no such outputs folder")
    report = VerifyReport()
    lines = read_log(out_dir)
    _check_chain(lines, report)

    registry_path = out_dir / REGISTRY_FILE
    records: dict[str, RunRecord] = {}
    if registry_path.exists():
        records = {r.run_id: r for r in Registry(out_dir).history()}
    elif lines:
        report.problems.append(
            Problem("registry-missing", f"{registry_path} is missing but the audit trail has entries")
        )

    runs: dict[str, dict[str, Any]] = {}
    prunes: dict[str, dict[str, Any]] = {}
    for item in lines:
        entry = item.entry
        if entry is None:
            continue
        if entry["event"] in ("run", "import"):
            if entry["run_id"] in runs:
                report.problems.append(Problem(
                    "duplicate-entry",
                    f"run {entry['run_id']} has a second {entry['event']} entry (seq {entry['seq']})",
                    run_id=str(entry["run_id"]), seq=_int(entry["seq"]),
                ))
            runs.setdefault(str(entry["run_id"]), entry)
        elif entry["event"] == "prune":
            prunes.setdefault(str(entry["run_id"]), entry)

    if run_id is not None:
        selected = {_resolve_run_id(run_id, set(runs) | set(records))}
    else:
        selected = set(runs) | set(records)

    inputs = InputReview()  # the files each run read, re-hashed: notes, and registry inputs that differ
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
                report.notes.append(
                    f"run {rid} was pruned (seq {pruned['seq']}) but its folder {run_dir} is still present"
                )
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
        inputs.run(rid, run_dir, record.inputs if record is not None else None, record.cwd if record else None)
    report.problems += [Problem(kind, message, run_id=rid) for rid, kind, message in inputs.problems]
    report.notes += inputs.notes()

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
