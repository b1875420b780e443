"""Keeping run folders, the audit trail and the registry in step.

Every change to the set of runs goes through here, in an order chosen so that
an interruption leaves something :func:`mlreport.record.verify` can explain and
never a registry row pointing at a folder that was never there:

- a run: the folder is committed (renamed into place) first, then its audit
  entry is appended, then its registry row is written (with the entry's
  number and hash), all with SIGINT/SIGTERM held (:func:`record_run`);
- retention: the audit ``prune`` entry first, then the registry row is marked
  pruned, then the folder is deleted (:func:`prune`);
- a registry created in an outputs folder that already holds runs (written
  before the registry existed) imports them, each with an ``import`` entry
  (:func:`open_registry`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, OutputError
from . import _audit as audit  # called through the module: a test replaces audit.append (a full disk)
from ._registry import Registry, RunRecord, record_from_manifest
from ._store import deferred_signals, discard

__all__ = ["open_registry", "record_run", "PruneResult", "prune", "STALE_STAGING_S"]

log = logging.getLogger("mlreport")

#: Staging folders (``<out>/.tmp/<run id>``) untouched for this long belong to
#: runs killed outright (SIGKILL, power loss); prune deletes them.
STALE_STAGING_S = 24 * 3600.0


def _legacy_runs(out_dir: Path, skip: frozenset[str]) -> list[RunRecord]:
    """Records (and ``import`` audit entries) for run folders that predate the registry."""
    records = []
    for manifest_path in sorted(out_dir.glob("*/*/*/run.json")):
        if manifest_path.parent.name in skip:
            continue
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            run_id = str(manifest["run_id"])
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("%s: not a readable run manifest; not imported into the registry", manifest_path)
            continue
        run_dir = manifest_path.parent
        files = audit.file_hashes(run_dir)
        entry = audit.append(
            out_dir, event="import", run_id=run_id, run_dir=run_dir.relative_to(out_dir).as_posix(), files=files,
            status=str(manifest.get("status", "")),
        )
        records.append(record_from_manifest(
            manifest, out_dir=out_dir, run_dir=run_dir, origin="import", audit_seq=entry["seq"],
            audit_hash=entry["hash"], files=files,
        ))
    return records


def open_registry(out_dir: Path, *, create: bool = True, skip: Iterable[str] = ()) -> Registry:
    """The registry of ``out_dir``, created (importing older run folders) when missing.

    ``skip``: run ids not to import (a run being recorded right now).
    """
    out_dir = Path(out_dir)
    skipped = frozenset(skip)
    return Registry(out_dir, create=create, legacy=lambda: _legacy_runs(out_dir, skipped))


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
    bytes_freed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The ``mlreport prune --json`` object."""
        return {
            "cutoff": self.cutoff, "dry_run": self.dry_run, "bytes_freed": self.bytes_freed,
            "runs": [{"run_id": r.run_id, "model": r.model, "analysis": r.analysis, "started_at": r.started_at,
                      "run_dir": r.run_dir} for r in self.runs],
            "stale_staging": self.stale_staging,
        }

    def format(self) -> str:
        verb = "would prune" if self.dry_run else "pruned"
        lines = [f"{verb} {len(self.runs)} run(s) started before {self.cutoff} ({self.bytes_freed / 1e6:.1f} MB)"]
        lines += [f"  {r.run_id}  {r.model}/{r.analysis}  started {r.started_at}" for r in self.runs]
        if self.stale_staging:
            verb = "would delete" if self.dry_run else "deleted"
            lines.append(f"{verb} {len(self.stale_staging)} stale staging folder(s)")
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
        # Never tied to keep_days: a staging folder younger than a day may be a run in flight.
        limit = time.time() - STALE_STAGING_S
        for folder in sorted(staging_root.iterdir()):
            if folder.is_dir() and folder.stat().st_mtime < limit:
                result.stale_staging.append(folder.name)
                if not dry_run:
                    discard(folder)
    return result
