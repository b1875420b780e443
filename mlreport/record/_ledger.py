"""Keeping run folders, the audit trail and the registry in step.

Every change to the set of runs goes through here, in an order chosen so that
an interruption leaves something :func:`mlreport.record.verify` can explain and
never a registry row pointing at a folder that was never there:

- a run: the folder is committed (renamed into place) first, then its audit
  entry is appended, then its registry row is written (with the entry's
  number and hash), all with SIGINT/SIGTERM held (:func:`record_run`);
- retention: the audit ``prune`` entry first, then the registry row is marked
  pruned, then the folder is deleted (:func:`prune`); the staging folder of a
  live run is never deleted, however old;
- the registry is created only in an outputs folder that holds no run yet:
  where the audit trail or run folders show a history, a missing or emptied
  registry stops every writer (exit 2) until someone rebuilds it on purpose,
  from the run folders and the trail (:func:`rebuild_registry`), which
  appends a ``rebuild`` entry saying so. Folders the trail never recorded
  (written before it existed, or copied in) are imported only when asked,
  each with an ``import`` entry.

Readers (history, show, verify) open the registry read-only
(:func:`read_registry`): they never create, migrate, import or repair.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, OutputError
from ..terminal import neutralise
from . import _audit as audit  # called through the module: a test replaces audit.append (a full disk)
from ._registry import REGISTRY_FILE, Registry, RunRecord, record_from_manifest
from ._store import deferred_signals, discard, is_live, live_lock_path, locked, sha256_file

__all__ = [
    "open_registry", "read_registry", "record_run", "PruneResult", "prune", "STALE_STAGING_S", "RebuildResult",
    "rebuild_registry",
]

log = logging.getLogger("mlreport")

#: Staging folders (``<out>/.tmp/<run id>``) untouched for this long belong to
#: runs killed outright (SIGKILL, power loss); prune deletes them.
STALE_STAGING_S = 24 * 3600.0


def _run_manifests(out_dir: Path) -> list[Path]:
    return sorted(out_dir.glob("*/*/*/run.json"))


def _creation_objection(out_dir: Path, skip: frozenset[str]) -> str | None:
    """Why a registry must not be created here (the folder already has a history), or None."""
    entries = audit.read_log(out_dir)
    folders = [m.parent.name for m in _run_manifests(out_dir) if m.parent.name not in skip]
    if not entries and not folders:
        return None
    held = []
    if entries:
        held.append(f"the audit trail has {len(entries)} entries")
    if folders:
        held.append(f"{len(folders)} run folder(s) are there")
    return (
        f"{out_dir / REGISTRY_FILE}: the run registry is missing or empty, but {' and '.join(held)}: it was "
        "deleted, emptied or damaged. Nothing was run: rebuild it on purpose with "
        f"`mlreport registry rebuild --out {out_dir}` (runs written before the audit trail existed: add "
        "--import-unrecorded)"
    )


def open_registry(out_dir: Path, *, create: bool = True, skip: Iterable[str] = ()) -> Registry:
    """The registry of ``out_dir`` for writing; created when missing only where no run was ever recorded.

    Raises an InputError naming the registry when it cannot be written (read-only,
    locked, damaged), when its schema is newer than this mlreport, when it is
    missing or emptied where the audit trail or run folders show a history
    (``mlreport registry rebuild``), or when ``$MLREPORT_AUDIT_KEY`` is unusable:
    a run checks this before it starts. ``skip``: run ids whose folders do not
    count as history (the run being recorded right now).
    """
    out_dir = Path(out_dir)
    skipped = frozenset(skip)
    audit.audit_key()  # a key that cannot sign stops a run here, not after it
    return Registry(out_dir, create=create, may_create=lambda: _creation_objection(out_dir, skipped))


def read_registry(out_dir: Path) -> Registry:
    """The registry of ``out_dir``, read-only: history, show and verify never write to the record."""
    return Registry(Path(out_dir), readonly=True)


def record_run(
    out_dir: Path, run_dir: Path, manifest: Mapping[str, Any], *, registry: Registry | None = None,
) -> RunRecord:
    """Append the audit entry of a committed run, then write its registry row.

    A run the audit trail cannot take is not kept: its folder is deleted and
    the error raised, since a run without an audit entry cannot be accounted
    for (``verify`` would report it). A registry row that cannot be written
    after the entry leaves the run and its entry in place; the error says so
    and ``verify`` lists the run as in the audit trail but not the registry.
    """
    out_dir = Path(out_dir).resolve()
    registry = registry or open_registry(out_dir, skip={str(manifest["run_id"])})
    files = audit.file_hashes(run_dir)
    relative = Path(run_dir).resolve().relative_to(out_dir).as_posix()
    try:
        entry = audit.append(
            out_dir, event="run", run_id=str(manifest["run_id"]), run_dir=relative, files=files,
            status=str(manifest.get("status", "")),
        )
    except OutputError as exc:
        discard(Path(run_dir))
        raise OutputError(f"{exc}; the run was not kept") from None
    record = record_from_manifest(
        manifest, out_dir=out_dir, run_dir=run_dir, audit_seq=entry["seq"], audit_hash=entry["hash"], files=files,
    )
    registry.record(record)
    return record


@dataclass
class PruneResult:
    """What :func:`prune` deleted (or, in a dry run, would delete)."""

    cutoff: str
    dry_run: bool
    runs: list[RunRecord] = field(default_factory=list)
    stale_staging: list[str] = field(default_factory=list)
    live_staging: list[str] = field(default_factory=list)
    bytes_freed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The ``mlreport prune --json`` object."""
        return {
            "cutoff": self.cutoff, "dry_run": self.dry_run, "bytes_freed": self.bytes_freed,
            "runs": [{"run_id": r.run_id, "model": r.model, "analysis": r.analysis, "started_at": r.started_at,
                      "run_dir": r.run_dir} for r in self.runs],
            "stale_staging": self.stale_staging, "live_staging": self.live_staging,
        }

    def format(self) -> str:
        verb = "would prune" if self.dry_run else "pruned"
        lines = [f"{verb} {len(self.runs)} run(s) started before {neutralise(self.cutoff)} "
                 f"({self.bytes_freed / 1e6:.1f} MB)"]
        lines += [f"  {neutralise(r.run_id)}  {neutralise(r.model)}/{neutralise(r.analysis)}  "
                  f"started {neutralise(r.started_at)}" for r in self.runs]
        if self.stale_staging:
            verb = "would delete" if self.dry_run else "deleted"
            lines.append(f"{verb} {len(self.stale_staging)} stale staging folder(s)")
        if self.live_staging:
            lines.append(f"kept {len(self.live_staging)} staging folder(s) of runs in progress: "
                         + ", ".join(neutralise(name) for name in self.live_staging))
        return "\n".join(lines)


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def prune(out_dir: Path, keep_days: float, *, dry_run: bool = False, now: dt.datetime | None = None) -> PruneResult:
    """Delete run folders started more than ``keep_days`` days ago; keep their records.

    Each pruned run gets an audit ``prune`` entry (with its files' hashes just
    before deletion) and its registry row is marked ``pruned_at``; only then is
    the folder deleted. A prune interrupted half way is finished by the next
    one: runs already marked in the trail are not entered twice.
    """
    if keep_days is None or keep_days < 0:
        raise InputError(f"--keep-days {keep_days!r}: expected zero or more days")
    out_dir = Path(out_dir).resolve()
    now = now or dt.datetime.now(dt.UTC)
    cutoff = (now - dt.timedelta(days=keep_days)).isoformat(timespec="seconds").replace("+00:00", "Z")
    registry = open_registry(out_dir, create=False)
    result = PruneResult(cutoff=cutoff, dry_run=dry_run)
    candidates = [
        r for r in registry.history(include_pruned=False, oldest_first=True)
        if r.started_at and r.started_at < cutoff
    ]
    already = {e.entry["run_id"] for e in audit.read_log(out_dir) if e.entry and e.entry["event"] == "prune"}
    for record in candidates:
        run_dir = out_dir / record.run_dir
        result.runs.append(record)
        result.bytes_freed += _folder_bytes(run_dir)
        if dry_run:
            continue
        with deferred_signals():
            if record.run_id not in already:
                audit.append(
                    out_dir, event="prune", run_id=record.run_id, run_dir=record.run_dir,
                    files=audit.file_hashes(run_dir), keep_days=keep_days,
                )
            registry.mark_pruned([record.run_id])
            shutil.rmtree(run_dir, ignore_errors=True)
    # Rows marked pruned whose deletion was interrupted.
    if not dry_run:
        for record in registry.history():
            if record.pruned and (out_dir / record.run_dir).is_dir() and record.run_id in already:
                shutil.rmtree(out_dir / record.run_dir, ignore_errors=True)
    staging_root = out_dir / ".tmp"
    if staging_root.is_dir():
        # A run holds its live lock until it commits: such a folder is never deleted, however old.
        # A dead run's folder goes once it is a day old (a younger one may be a run just starting).
        limit = time.time() - STALE_STAGING_S
        for folder in sorted(staging_root.iterdir()):
            if not folder.is_dir():
                continue
            if is_live(folder):
                result.live_staging.append(folder.name)
            elif folder.stat().st_mtime < limit:
                result.stale_staging.append(folder.name)
                if not dry_run:
                    discard(folder)
                    with contextlib.suppress(OSError):
                        live_lock_path(folder).unlink(missing_ok=True)
    return result


# -- rebuilding the registry ------------------------------------------------------------------------


@dataclass
class RebuildResult:
    """What :func:`rebuild_registry` restored, imported, left out, and where the old registry went."""

    registry: str
    runs: int = 0
    from_audit_only: list[str] = field(default_factory=list)
    pruned: int = 0
    imported: list[str] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    replaced: dict[str, str | None] | None = None
    audit_seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``mlreport registry rebuild --json`` object."""
        return {
            "registry": self.registry, "runs": self.runs, "from_audit_only": self.from_audit_only,
            "pruned": self.pruned, "imported": self.imported, "unrecorded": self.unrecorded,
            "unreadable": self.unreadable, "replaced": self.replaced, "audit_seq": self.audit_seq, "exit_code": 0,
        }

    def format(self) -> str:
        safe = neutralise
        lines = [f"rebuilt {safe(self.registry)}: {self.runs} run(s) from the audit trail and their folders "
                 f"({self.pruned} pruned)"]
        if self.from_audit_only:
            lines.append(f"  {len(self.from_audit_only)} run(s) restored from their audit entry alone (folder or "
                         "run.json gone: status and folder only): " + ", ".join(map(safe, self.from_audit_only[:20])))
        if self.imported:
            lines.append(f"  imported {len(self.imported)} run folder(s) the audit trail never recorded, each with an "
                         "'import' entry: " + ", ".join(map(safe, self.imported[:20])))
        if self.unrecorded:
            lines.append(f"  left out {len(self.unrecorded)} run folder(s) the audit trail never recorded (verify "
                         "reports them; --import-unrecorded imports them): "
                         + ", ".join(map(safe, self.unrecorded[:20])))
        if self.unreadable:
            lines.append(f"  {len(self.unreadable)} run.json file(s) could not be read: "
                         + ", ".join(map(safe, self.unreadable[:20])))
        if self.replaced:
            lines.append(f"  the previous registry was kept as {safe(self.replaced['path'])} "
                         f"(sha256 {safe(self.replaced['sha256'])})")
        lines.append(f"  audit entry seq {self.audit_seq} records the rebuild; `mlreport verify` rechecks everything")
        return "\n".join(lines)


def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("run_id") else None


def _started_from_id(run_id: str) -> str | None:
    """A run id begins with its start time (``20260314T020003Z-...``)."""
    try:
        return dt.datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None


def _record_from_entry(out_dir: Path, entry: Mapping[str, Any], result: RebuildResult) -> RunRecord | None:
    run_id, run_dir = str(entry["run_id"]), entry.get("run_dir")
    if not isinstance(run_dir, str) or len(run_dir.split("/")) != 3 or ".." in run_dir.split("/"):
        return None  # not an entry mlreport wrote; verify names it
    files: dict[str, Any] = entry["files"] if isinstance(entry.get("files"), dict) else {}
    folder = out_dir / run_dir
    manifest = _read_manifest(folder / "run.json") if folder.is_dir() else None
    origin = "import" if entry["event"] == "import" else "run"
    if manifest is not None and str(manifest["run_id"]) == run_id:
        return record_from_manifest(
            manifest, out_dir=out_dir, run_dir=folder, origin=origin, audit_seq=int(entry["seq"]),
            audit_hash=str(entry["hash"]), files=files,
        )
    # The folder (or its run.json) is gone: what the entry itself holds, and nothing invented.
    result.from_audit_only.append(run_id)
    model, analysis, _ = run_dir.split("/")
    status = str(entry.get("status") or "failed")
    return RunRecord(
        run_id=run_id, model=model, analysis=analysis, status=status, exit_code=-1, run_dir=run_dir,
        report_path=f"{run_dir}/report.html", started_at=_started_from_id(run_id),
        headline="(restored from the audit trail: the run's manifest was gone; exit code unknown)",
        files={name: files.get(name) for name in audit.AUDITED_FILES}, origin="audit",
        audit_seq=int(entry["seq"]), audit_hash=str(entry["hash"]),
    )


def _replay(out_dir: Path, lines: list[audit.LogLine], registry: Registry, seen: set[int],
            result: RebuildResult) -> None:
    """Rows for the entries not yet replayed: the first run/import entry of each run, then prunes."""
    done = set(registry.run_ids())
    for item in lines:
        entry = item.entry
        if entry is None or item.line in seen or not isinstance(entry.get("run_id"), str):
            continue
        seen.add(item.line)
        if entry["event"] in ("run", "import") and entry["run_id"] not in done:
            record = _record_from_entry(out_dir, entry, result)
            if record is not None:
                registry.record(record)
                done.add(record.run_id)
        elif entry["event"] == "prune" and entry["run_id"] in done:
            result.pruned += registry.mark_pruned([str(entry["run_id"])], at=str(entry.get("time") or ""))


def rebuild_registry(out_dir: Path, *, import_unrecorded: bool = False) -> RebuildResult:
    """Rebuild ``<out>/registry.sqlite`` from the audit trail and the run folders (``mlreport registry rebuild``).

    Each run's row comes from its first ``run`` or ``import`` entry (entry
    number, hash and file hashes as the trail recorded them) and its run.json;
    a run whose folder is gone keeps what the entry holds (status, folder), and
    ``prune`` entries mark rows pruned. Run folders the trail never recorded are
    left out (``verify`` keeps reporting them) unless ``import_unrecorded``,
    which appends an ``import`` entry for each first: importing is recorded,
    never silent. The new registry is built aside and moved into place under the
    audit trail's lock (entries appended meanwhile are replayed); the old file,
    damaged or not, is kept beside it as ``registry.sqlite.replaced-<time>``. A
    ``rebuild`` entry records all of it. Nothing is run.
    """
    out_dir = Path(out_dir).resolve()
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: no such outputs folder (--out)")
    audit.audit_key()
    target = out_dir / REGISTRY_FILE
    result = RebuildResult(registry=str(target))
    lines = audit.read_log(out_dir)
    recorded = {str(e.entry["run_id"]) for e in lines
                if e.entry is not None and e.entry["event"] in ("run", "import") and "run_id" in e.entry}
    for manifest_path in _run_manifests(out_dir):
        folder = manifest_path.parent
        if folder.name in recorded:
            continue
        manifest = _read_manifest(manifest_path)
        if manifest is None or str(manifest["run_id"]) != folder.name:
            result.unreadable.append(folder.relative_to(out_dir).as_posix())
            continue
        if not import_unrecorded:
            result.unrecorded.append(folder.name)
            continue
        audit.append(
            out_dir, event="import", run_id=folder.name, run_dir=folder.relative_to(out_dir).as_posix(),
            files=audit.file_hashes(folder), status=str(manifest.get("status") or "failed"),
        )
        result.imported.append(folder.name)
    staging = out_dir / ".tmp" / f"registry-rebuild-{secrets.token_hex(4)}"
    staging.mkdir(parents=True)
    try:
        fresh = Registry(out_dir, path=staging / REGISTRY_FILE)
        seen: set[int] = set()
        _replay(out_dir, audit.read_log(out_dir), fresh, seen, result)
        with deferred_signals(), locked(out_dir / ".tmp" / "audit.lock"):
            # No entry can be appended now: replay what was appended while we built, then swap.
            _replay(out_dir, audit.read_log(out_dir), fresh, seen, result)
            result.runs = fresh.count()
            result.replaced = _set_aside(target)
            os.replace(staging / REGISTRY_FILE, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    entry = audit.append(out_dir, event="rebuild", runs=result.runs, imported=result.imported,
                         replaced=result.replaced)
    result.audit_seq = int(entry["seq"])
    return result


def _set_aside(target: Path) -> dict[str, str | None] | None:
    """Move the old registry (and its WAL files) aside, kept as evidence; its path and sha256."""
    if not target.exists():
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = target.with_name(f"{target.name}.replaced-{stamp}-{secrets.token_hex(2)}")
    digest = sha256_file(target)
    for suffix in ("-wal", "-shm"):
        companion = target.with_name(target.name + suffix)
        if companion.exists():
            os.replace(companion, kept.with_name(kept.name + suffix))
    os.replace(target, kept)
    return {"path": kept.name, "sha256": digest}
