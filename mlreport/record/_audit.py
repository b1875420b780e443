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
deleted by retention, with its files' hashes just before deletion), ``deliver``
(where a recorded run was sent on: notifications and metric exports, each
with its outcome; see ``_deliveries``).

Changing any byte of an entry breaks its hash; removing, inserting or
reordering entries breaks the next entry's ``prev`` link; rewriting the tail
consistently is caught by the registry, which stores each run's entry number
and hash. :func:`mlreport.record.verify` rechecks all of it and every file of
every run, and says what changed. Appends happen under an exclusive file lock,
so concurrent runs extend one chain.

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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OutputError
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
]

AUDIT_FILE = "audit.log"
AUDITED_FILES = ("run.json", "report.html", "notebook.ipynb")
GENESIS = "0" * 64
_LOCK = Path(".tmp") / "audit.lock"
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
            except json.JSONDecodeError as exc:
                lines.append(LogLine(number, raw, None, f"not JSON ({exc.msg})"))
                continue
            except UnicodeDecodeError as exc:  # json.loads decodes bytes first
                lines.append(LogLine(number, raw, None, f"not JSON (not UTF-8: {exc.reason})"))
                continue
            if not isinstance(entry, dict) or any(key not in entry for key in _REQUIRED):
                lines.append(LogLine(number, raw, None, f"not an audit entry (needs {', '.join(_REQUIRED)})"))
                continue
            lines.append(LogLine(number, raw, entry))
    return lines
