"""The run folder, its manifest, and the outputs index.

A run is written into ``<out>/.tmp/<run id>/`` and renamed into
``<out>/<model>/<analysis>/<run id>/`` only when complete, so a crash or a
kill leaves no half-written run where readers look. Run ids are a UTC
timestamp plus random hex: concurrent runs never collide. ``index.html`` is
rebuilt under a file lock after each run, newest first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import hashlib
import html
import json
import os
import platform
import re
import secrets
import shutil
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator, Mapping

from .errors import OutputError

__all__ = [
    "new_run_id",
    "safe_name",
    "staging_dir",
    "commit_run",
    "discard",
    "write_json_atomic",
    "write_text_atomic",
    "package_versions",
    "list_runs",
    "write_index",
    "sha256_file",
    "identity",
]

_PACKAGES = (
    "mlreport", "pandas", "numpy", "scipy", "pyarrow", "statsmodels", "scikit-learn", "ruptures",
    "duckdb", "matplotlib", "papermill", "nbconvert", "nbclient", "nbformat", "ipykernel",
)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def new_run_id(now: dt.datetime | None = None) -> str:
    """``20260314T101500Z-3f9a1c2b``: sortable by time, unique by its random part."""
    now = now or dt.datetime.now(dt.timezone.utc)
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


def staging_dir(out_dir: Path, run_id: str) -> Path:
    """A fresh folder on the same file system as the outputs, for one run."""
    try:
        path = out_dir / ".tmp" / run_id
        path.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        raise OutputError(f"cannot create a run folder under {out_dir}: {exc}") from None
    return path


def discard(path: Path) -> None:
    """Remove a staging folder (after a failure or an interrupt)."""
    shutil.rmtree(path, ignore_errors=True)


def commit_run(staging: Path, out_dir: Path, *, model: str, analysis: str, run_id: str) -> Path:
    """Move a complete staging folder into place with one rename."""
    final = out_dir / safe_name(model) / safe_name(analysis, fallback="analysis") / run_id
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, final)
    except OSError as exc:
        discard(staging)
        raise OutputError(f"cannot move the run into {final}: {exc}") from None
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


def write_json_atomic(path: Path, data: Any) -> None:
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
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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


_WORDS = {"ok": "HEALTHY", "warning": "WARNING", "incident": "INCIDENT", "failed": "FAILED"}


def _index_html(runs: list[Mapping[str, Any]]) -> str:
    e = html.escape
    rows = []
    for run in runs:
        status = str(run.get("status", "failed"))
        link = f"{run['_dir']}/report.html"
        counts = run.get("counts") or {}
        rows.append(
            "<tr>"
            f'<td class="st st-{e(status)}">{e(_WORDS.get(status, status.upper()))}</td>'
            f"<td>{e(str(run.get('started_at', '')))}</td>"
            f"<td>{e(str(run.get('analysis', '')))}</td>"
            f"<td>{e(str(run.get('model', '')))}</td>"
            f"<td>{e(str(run.get('data_period', '') or ''))}</td>"
            f"<td>{e(str(counts.get('incident', 0)))} / {e(str(counts.get('warning', 0)))}</td>"
            f"<td>{e(str(run.get('headline', '')))}</td>"
            f'<td><a href="{e(link, quote=True)}">report</a></td>'
            "</tr>"
        )
    body = "".join(rows) or '<tr><td colspan="8">No runs yet.</td></tr>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<title>mlreport runs</title>
<style>
html{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:14px;color:#1f2328}}
body{{max-width:1200px;margin:0 auto;padding:16px 24px}}
table{{border-collapse:collapse;width:100%}} th,td{{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}}
th{{background:#f6f8fa}} .st{{font-weight:700;color:#fff;white-space:nowrap}}
.st-ok{{background:#1a7f37}} .st-warning{{background:#9a6700}} .st-incident{{background:#cf222e}} .st-failed{{background:#6e2b8f}}
</style></head>
<body><h1>mlreport runs</h1>
<p>{len(runs)} run(s), newest first. Status is written as a word; colour only repeats it.</p>
<table><thead><tr><th scope="col">Status</th><th scope="col">Started (UTC)</th><th scope="col">Analysis</th>
<th scope="col">Model</th><th scope="col">Data period</th><th scope="col">Incidents / warnings</th>
<th scope="col">Headline</th><th scope="col">Report</th></tr></thead>
<tbody>{body}</tbody></table></body></html>
"""


def write_index(out_dir: Path) -> Path:
    """Rebuild ``<out>/index.html`` from the runs on disk (under a lock)."""
    index = out_dir / "index.html"
    with _locked(out_dir / ".tmp" / "index.lock"):
        write_text_atomic(index, _index_html(list_runs(out_dir)))
    return index
