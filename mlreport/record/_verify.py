"""Verification: recheck the audit trail's chain, every run's files, and the registry against the trail.

:func:`verify` reads what :mod:`the audit trail <mlreport.record>` and the run
registry hold and compares them with each other and with the run folders on
disk. Every discrepancy is a :class:`Problem` precise enough to act on (which
run, which file, the hash expected and the one found, the entry number); a
:class:`VerifyReport` collects them with what was checked.

What it proves, and what it does not:

- every line of the trail is a strictly parsed entry in canonical form
  (RFC 8785), of a known event with exactly its keys, whose hash matches its
  content and whose ``prev`` is the hash of the line before: nobody edited,
  removed, inserted or reordered an entry without it showing;
- every run's manifest, report and executed notebook have the sha256 their
  entry recorded (or, for a pruned run, had it when pruned), and the registry
  agrees with the trail;
- it does **not** prove that the newest entries were written by mlreport: a
  well-formed, correctly chained entry appended by someone with write access
  passes. An anchor outside the folder closes that gap: ``expect_head`` (an
  earlier head, kept where the writer cannot reach) and, with
  ``$MLREPORT_AUDIT_KEY`` set, the HMAC of every entry.

It never writes: the registry is opened read-only, and a damaged one is a
problem (``registry-damaged``), not something to repair here
(``mlreport registry rebuild`` does that, when asked).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, MlreportError
from ..terminal import neutralise
from ._audit import (
    AUDIT_KEY_ENV,
    AUDITED_FILES,
    GENESIS,
    LogLine,
    audit_key,
    check_entry,
    entry_mac,
    file_hashes,
    key_id,
    read_log,
)
from ._inputs import InputReview
from ._registry import REGISTRY_FILE, Registry, RunRecord

__all__ = ["IN_FLIGHT_S", "Problem", "VerifyReport", "verify", "parse_anchor"]

# A committed folder is recorded a moment later; younger unrecorded folders are
# reported as in flight rather than as planted.
IN_FLIGHT_S = 120.0
_ANCHOR = re.compile(r"(?:(\d+)[: ])?\s*([0-9a-fA-F]{64})")


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
    head_seq: int = 0
    signed: int = 0

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
            "runs_checked": self.runs_checked, "pruned": self.pruned, "head": self.head, "head_seq": self.head_seq,
            "signed": self.signed, "problems": [asdict(p) for p in self.problems], "notes": self.notes,
        }

    def format(self) -> str:
        lines = [
            f"audit trail: {self.entries} entries, head seq {self.head_seq} hash {neutralise(self.head)}"
            + (f" ({self.signed} signed)" if self.signed else ""),
            f"runs checked: {self.runs_checked} ({self.pruned} pruned)",
        ]
        lines += [f"note: {neutralise(note)}" for note in self.notes]
        if self.clean:
            lines.append("verified: no tampering found")
        else:
            lines.append(f"TAMPERING OR DAMAGE FOUND: {len(self.problems)} problem(s)")
            lines += [f"  [{neutralise(p.kind)}] {neutralise(p.message)}" for p in self.problems]
        return "\n".join(lines)


def _label(item: LogLine, entry: Mapping[str, Any]) -> str:
    run = f" of run {entry['run_id']}" if "run_id" in entry else ""
    return f"entry seq {entry['seq']} (line {item.line}, {entry['event']}{run})"


def _run_of(entry: Mapping[str, Any]) -> str | None:
    value = entry.get("run_id")
    return None if value is None else str(value)


def _check_chain(lines: list[LogLine], report: VerifyReport) -> None:
    """Each line an entry in canonical form whose hash matches its content and whose prev is the hash before it."""
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
        label = _label(item, entry)
        run_id, seq = _run_of(entry), _int(entry["seq"])
        if not item.form:
            report.problems.append(Problem(
                "entry-not-canonical",
                f"{label}: the line is not the canonical JSON (RFC 8785) of what it holds: it was rewritten by "
                "something other than mlreport (reformatted, keys reordered, escapes changed)",
                run_id=run_id, seq=seq, line=item.line,
            ))
        recomputed = item.recomputed_hash()
        if recomputed != entry["hash"]:
            report.problems.append(Problem(
                "entry-edited",
                f"{label}: its content does not match its hash (recorded {entry['hash']}, recomputed {recomputed}): "
                "the entry was edited",
                run_id=run_id, expected=str(entry["hash"]), actual=recomputed, seq=seq, line=item.line,
            ))
        if entry["prev"] != prev_hash:
            report.problems.append(Problem(
                "chain-broken",
                f"{label}: its prev hash {entry['prev']} is not the hash of {prev_label} ({prev_hash}): an entry "
                "before it was edited, removed, inserted or reordered",
                run_id=run_id, expected=prev_hash, actual=str(entry["prev"]), seq=seq, line=item.line,
            ))
        if seq != prev_seq + 1:
            report.problems.append(Problem(
                "chain-broken",
                f"{label}: seq {entry['seq']} follows seq {prev_seq}: entries are missing or reordered",
                run_id=run_id, seq=seq, line=item.line,
            ))
        prev_hash, prev_label = str(entry["hash"]), f"entry seq {entry['seq']}"
        prev_seq = seq if seq is not None else prev_seq + 1
    report.entries = len(lines)
    report.head = prev_hash
    report.head_seq = prev_seq


def _check_meaning(lines: list[LogLine], report: VerifyReport, key: bytes | None) -> None:
    """Each entry of a known event with exactly its keys; with a key, every entry from the first signed one signed."""
    first_signed: int | None = None
    unsigned_before = 0
    foreign: set[str] = set()
    for item in lines:
        entry = item.entry
        if entry is None:
            continue
        label, run_id, seq = _label(item, entry), _run_of(entry), _int(entry["seq"])
        for reason in check_entry(entry):
            report.problems.append(Problem(
                "entry-schema", f"{label}: {reason}: not an entry mlreport writes", run_id=run_id, seq=seq,
                line=item.line,
            ))
        signed = "mac" in entry
        if signed:
            report.signed += 1
            if first_signed is None:
                first_signed = item.line
        if key is None:
            continue
        if signed:
            if entry.get("key_id") != key_id(key):
                foreign.add(str(entry.get("key_id")))
                report.problems.append(Problem(
                    "mac-invalid",
                    f"{label}: signed with key {entry.get('key_id')}, not with ${AUDIT_KEY_ENV} (key {key_id(key)})",
                    run_id=run_id, seq=seq, line=item.line,
                ))
            elif not hmac.compare_digest(str(entry["mac"]), entry_mac(key, str(entry["hash"]))):
                report.problems.append(Problem(
                    "mac-invalid",
                    f"{label}: its signature does not match its hash: written or rewritten without the key",
                    run_id=run_id, seq=seq, line=item.line,
                ))
        elif first_signed is not None or "key_id" in entry:
            report.problems.append(Problem(
                "unsigned-entry",
                f"{label}: not signed, after signed entries: appended or rewritten by someone without "
                f"${AUDIT_KEY_ENV}",
                run_id=run_id, seq=seq, line=item.line,
            ))
        else:
            unsigned_before += 1
    if key is not None:
        if first_signed is None and lines:
            report.problems.append(Problem(
                "unsigned-entry",
                f"${AUDIT_KEY_ENV} is set but no entry of the trail is signed: runs were made without the key, or "
                "the trail was rewritten without it",
            ))
        elif unsigned_before:
            report.notes.append(f"{unsigned_before} entries before line {first_signed} are not signed (written before "
                                "the key was set)")
    elif report.signed:
        report.notes.append(f"{report.signed} entries are signed; set ${AUDIT_KEY_ENV} to check their signatures")


def parse_anchor(text: str) -> tuple[int | None, str]:
    """``HASH``, ``SEQ:HASH`` or ``SEQ HASH`` (as ``verify --head`` prints it) -> (seq or None, hash)."""
    match = _ANCHOR.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InputError(f"--expect-head {text!r}: expected the head's hash (64 hex digits), optionally SEQ:HASH")
    return (int(match.group(1)) if match.group(1) else None), match.group(2).lower()


def _check_anchor(lines: list[LogLine], report: VerifyReport, anchor: str) -> None:
    seq, digest = parse_anchor(anchor)
    for position, item in enumerate(lines):
        entry = item.entry
        if entry is not None and entry["hash"] == digest and (seq is None or _int(entry["seq"]) == seq):
            after = lines[position + 1:]
            if after:
                report.notes.append(
                    f"{len(after)} entries were appended after the anchor (seq {entry['seq']}): lines "
                    f"{after[0].line}-{after[-1].line}; compare them with the scheduler's log"
                )
            else:
                report.notes.append(f"the head is the anchor (seq {entry['seq']}): nothing appended since")
            return
    where = f"at seq {seq} " if seq is not None else ""
    report.problems.append(Problem(
        "anchor-missing",
        f"the anchored head {digest} {where}is not in the audit trail: the trail was rewritten or truncated before "
        "it (the anchor was taken outside the folder, so the trail cannot vouch for itself)",
        expected=digest, seq=seq,
    ))


def _inside(run_dir: object, run_id: str) -> bool:
    """An entry's run folder as mlreport writes it: model/analysis/run id, inside the outputs folder."""
    if not isinstance(run_dir, str):
        return False
    parts = run_dir.split("/")
    return len(parts) == 3 and parts[2] == run_id and all(p and p not in (".", "..") and "\\" not in p for p in parts)


def _files_of(entry: Mapping[str, Any]) -> dict[str, Any]:
    files = entry.get("files")
    return files if isinstance(files, dict) else {}


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


def _read_registry(out_dir: Path, lines: list[LogLine], report: VerifyReport) -> dict[str, RunRecord] | None:
    """The registry's records, read-only; None (with a problem) when it is missing where it should be, or damaged."""
    registry_path = out_dir / REGISTRY_FILE
    if not registry_path.exists():
        if lines:
            report.problems.append(
                Problem("registry-missing", f"{registry_path} is missing but the audit trail has entries")
            )
            return None
        return {}
    try:
        registry = Registry(out_dir, readonly=True)
        damage = registry.quick_check()
        if damage:
            raise InputError(f"{registry_path}: SQLite's integrity check found: {'; '.join(damage[:5])}")
        return {r.run_id: r for r in registry.history()}
    except MlreportError as exc:
        report.problems.append(Problem(
            "registry-damaged",
            f"{exc.message.rstrip('.')}; its runs are checked against the audit trail alone "
            f"(`mlreport registry rebuild --out {out_dir}` rebuilds it)",
            file=REGISTRY_FILE,
        ))
        return None


def verify(
    out_dir: Path, run_id: str | None = None, *, now: float | None = None, expect_head: str | None = None,
) -> VerifyReport:
    """Recheck the chain, every entry's meaning, every audited file, and the registry against the trail.

    With ``run_id`` the whole chain is still checked (an entry is only as
    trustworthy as the chain before it) but files and records of that run
    only. Pruned runs are checked as pruned: their folder may be gone, and the
    hashes taken at pruning must equal those recorded when they ran.
    ``expect_head`` is an earlier head (``HASH`` or ``SEQ:HASH``) kept outside
    the folder: the trail must still hold it. With ``$MLREPORT_AUDIT_KEY`` set,
    signatures are checked too. Nothing is written.
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: no such outputs folder")
    if expect_head is not None:
        parse_anchor(expect_head)  # a malformed anchor is a usage error, before anything is read
    key = audit_key()
    report = VerifyReport()
    lines = read_log(out_dir)
    _check_chain(lines, report)
    _check_meaning(lines, report, key)
    if expect_head is not None:
        _check_anchor(lines, report, expect_head)

    registry_records = _read_registry(out_dir, lines, report)
    registry_usable = registry_records is not None
    records: dict[str, RunRecord] = registry_records or {}

    runs: dict[str, dict[str, Any]] = {}
    prunes: dict[str, dict[str, Any]] = {}
    for item in lines:
        entry = item.entry
        if entry is None or "run_id" not in entry:
            continue
        if entry["event"] in ("run", "import"):
            if str(entry["run_id"]) in runs:
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
        if not _inside(entry.get("run_dir"), rid):
            continue  # reported as entry-schema: a folder outside the outputs is never read
        run_dir = out_dir / str(entry["run_dir"])
        recorded_files = _files_of(entry)
        if record is None and not registry_usable:
            pass  # the registry's damage is one problem, not one per run
        elif record is None:
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
            pruned_files = _files_of(pruned)
            _compare_files(rid, recorded_files, pruned_files, where=" when it was pruned",
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
