"""The run folder, its manifest, and the outputs index.

A run is written into ``<out>/.tmp/<run id>/`` and renamed into
``<out>/<model>/<analysis>/<run id>/`` only when complete, so a crash or a
kill leaves no half-written run where readers look. Run ids are a UTC
timestamp plus random hex: concurrent runs never collide. ``index.html`` is
rebuilt from the run registry under a file lock after each run
(:mod:`mlreport.record`); the registry and the audit trail are kept in step
with the folders by :mod:`mlreport.record`.

A run in progress holds a lock, ``<out>/.tmp/<run id>.live``, from the moment
its staging folder is made until it is committed or discarded: the operating
system releases it when the process ends, however it ends (SIGKILL and power
loss included), so :func:`is_live` tells a live run from a dead one's leftovers
and ``prune`` never deletes the first. Locks are :mod:`filelock` locks (flock
on POSIX, msvcrt locking on Windows): nothing here is POSIX-only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any, TypeAlias

from filelock import FileLock, Timeout

from ..errors import InputError, OutputError

__all__ = [
    "new_run_id",
    "safe_name",
    "make_out_dir",
    "staging_dir",
    "commit_run",
    "discard",
    "write_json_atomic",
    "write_text_atomic",
    "package_versions",
    "list_runs",
    "sha256_file",
    "identity",
    "locked",
    "deferred_signals",
    "live_lock_path",
    "is_live",
]

_PACKAGES = (
    "mlreport", "pandas", "numpy", "scipy", "pyarrow", "statsmodels", "scikit-learn", "ruptures",
    "duckdb", "matplotlib", "papermill", "nbconvert", "nbclient", "nbformat", "ipykernel",
)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: What :func:`signal.signal` returns: a handler, SIG_DFL or SIG_IGN, or None (set outside Python).
_Handler: TypeAlias = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


def new_run_id(now: dt.datetime | None = None) -> str:
    """``20260314T101500Z-3f9a1c2b``: sortable by time, unique by its random part."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


def safe_name(value: str, *, fallback: str = "default") -> str:
    """A path component made from an untrusted name (model or analysis)."""
    cleaned = _SAFE.sub("-", value or "").strip(".-")[:80]
    return cleaned or fallback


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_out_dir(out_dir: Path) -> None:
    """Create the output folder, or say why it cannot be one (an InputError naming ``--out``)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "it is a file" if out_dir.is_file() else (exc.strerror or str(exc))
        raise InputError(
            f"output folder {out_dir} (--out or $MLREPORT_OUT): cannot be used: {reason}; expected a folder "
            "that exists or can be created"
        ) from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise InputError(f"output folder {out_dir} (--out or $MLREPORT_OUT): not writable by this user")


#: The live locks this process holds, by staging folder (released at commit or discard).
_LIVE: dict[Path, FileLock] = {}
_LIVE_GUARD = threading.Lock()


def live_lock_path(staging: Path) -> Path:
    """The lock a run holds while its staging folder is in use: ``<out>/.tmp/<run id>.live``."""
    return staging.with_name(staging.name + ".live")


def staging_dir(out_dir: Path, run_id: str) -> Path:
    """A fresh folder on the same file system as the outputs, for one run, held live until committed or discarded."""
    path = out_dir / ".tmp" / run_id
    lock = FileLock(str(live_lock_path(path)), timeout=0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()  # before the folder exists: prune never sees it unlocked
        path.mkdir(exist_ok=False)
    except (OSError, Timeout) as exc:
        with contextlib.suppress(OSError):
            lock.release()
        raise OutputError(f"cannot create a run folder under {out_dir}: {exc}") from None
    with _LIVE_GUARD:
        _LIVE[path] = lock
    return path


def _release_live(staging: Path) -> None:
    with _LIVE_GUARD:
        lock = _LIVE.pop(staging, None)
    if lock is not None:
        with contextlib.suppress(OSError):
            lock.release()
        with contextlib.suppress(OSError):
            live_lock_path(staging).unlink(missing_ok=True)


def is_live(staging: Path) -> bool:
    """True while a process holds the staging folder's live lock (a run in progress, in any process)."""
    with _LIVE_GUARD:
        if staging in _LIVE:
            return True
    lock_file = live_lock_path(staging)
    if not lock_file.exists():
        return False
    probe = FileLock(str(lock_file), timeout=0)
    try:
        probe.acquire()
    except Timeout:
        return True
    except OSError:
        return True  # cannot tell (permissions): treat as live, never delete what may be running
    probe.release()
    return False


def discard(path: Path) -> None:
    """Remove a staging folder (after a failure or an interrupt) and release its live lock."""
    shutil.rmtree(path, ignore_errors=True)
    _release_live(path)


def commit_run(staging: Path, out_dir: Path, *, model: str, analysis: str, run_id: str) -> Path:
    """Move a complete staging folder into place with one rename; the run is no longer live."""
    final = out_dir / safe_name(model) / safe_name(analysis, fallback="analysis") / run_id
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, final)
    except OSError as exc:
        discard(staging)
        raise OutputError(f"cannot move the run into {final}: {exc}") from None
    _release_live(staging)
    return final


def write_text_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and rename: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(f"cannot write {path}: {exc}") from None


def write_json_atomic(path: Path, data: object) -> None:
    """Write ``data`` as indented JSON, atomically (strict JSON: NaN is refused)."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False, default=str, allow_nan=False) + "\n")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def identity() -> dict[str, str]:
    """Who ran it, where, and with which command line."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return {"user": user, "host": platform.node(), "command": " ".join(sys.argv)}


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) across processes and threads, waiting for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path)):
        yield


@contextlib.contextmanager
def deferred_signals(signums: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver them.

    Committing a run folder, appending its audit entry and recording its
    registry row belong together: an interrupt between them would leave a
    folder without its records. Signal handlers can only be set in the main
    thread; elsewhere this is a no-op. SIGKILL cannot be held; ``mlreport
    verify`` reports what such a kill leaves behind.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous: dict[int, _Handler] = {}

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    for signum in signums:
        previous[signum] = signal.signal(signum, hold)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        if received:
            signal.raise_signal(received[0])  # now handled as it would have been


def list_runs(out_dir: Path) -> list[dict[str, Any]]:
    """Manifests of every run under ``out_dir``, newest first."""
    runs = []
    for manifest_path in out_dir.glob("*/*/*/run.json"):
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        manifest["_dir"] = str(manifest_path.parent.relative_to(out_dir))
        runs.append(manifest)
    runs.sort(key=lambda m: (str(m.get("started_at", "")), str(m.get("run_id", ""))), reverse=True)
    return runs
