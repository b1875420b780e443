"""The run registry: one SQLite database per outputs folder recording every run.

``<out>/registry.sqlite`` (stdlib :mod:`sqlite3`, no server) holds one row per
committed run: identity (id, model, analysis), what it ran on (parameters and
their hash, input files with sha256, reference fingerprint, thresholds
version), what it concluded (status, counts by severity, findings), where it is
(run folder and report, relative to the outputs folder), how long it took,
who ran it where, and its key metrics (one row per metric and subject, e.g.
PSI per column) for trends.

Concurrency: many processes write at once (a batch, cron jobs overlapping).
The database runs in WAL mode (readers never block the writer), every
connection waits up to :data:`BUSY_TIMEOUT_MS` for a lock, and every write is
one short ``BEGIN IMMEDIATE`` transaction taken up front, so two writers never
deadlock upgrading a read lock. Connections are opened per operation and
closed at once: no process holds the database between runs.

A row is written only after the run folder has been moved into place (see
:func:`mlreport.driver.run`), so a row never points at a folder that was never
committed; pruning marks rows (``pruned_at``) before it deletes folders, so a
row without its folder is always marked pruned. WAL needs a local file
system: do not put the outputs folder on NFS or SMB.

The schema is versioned in the ``meta`` table (``schema_version``); a newer
database than this code understands is refused rather than misread.

The registry is an index of the record, not the record itself: everything in
it can be rebuilt from the run folders and the audit trail
(:func:`mlreport.record.rebuild_registry`), and it is rebuilt only when asked.
A registry found missing or emptied where runs were already recorded is never
silently recreated (that would start a second history beside the first).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, OutputError
from ..terminal import neutralise

__all__ = [
    "REGISTRY_FILE",
    "SCHEMA_VERSION",
    "BUSY_TIMEOUT_MS",
    "RunRecord",
    "Registry",
    "flatten_metrics",
    "record_from_manifest",
    "format_history",
    "format_record",
]

REGISTRY_FILE = "registry.sqlite"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 60_000
MAX_METRICS_PER_RUN = 2_000

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id                TEXT PRIMARY KEY,
    model                 TEXT NOT NULL,
    analysis              TEXT NOT NULL,
    status                TEXT NOT NULL,
    exit_code             INTEGER NOT NULL,
    fail_on               TEXT,
    headline              TEXT,
    data_period           TEXT,
    parameters_sha256     TEXT,
    parameters_json       TEXT NOT NULL,
    inputs_json           TEXT NOT NULL,
    findings_json         TEXT NOT NULL,
    metrics_json          TEXT,
    reference_fingerprint TEXT,
    thresholds_version    TEXT,
    n_ok                  INTEGER NOT NULL DEFAULT 0,
    n_warning             INTEGER NOT NULL DEFAULT 0,
    n_incident            INTEGER NOT NULL DEFAULT 0,
    run_dir               TEXT NOT NULL,
    report_path           TEXT NOT NULL,
    started_at            TEXT,
    finished_at           TEXT,
    execute_s             REAL,
    cells_s               REAL,
    render_s              REAL,
    total_s               REAL,
    user                  TEXT,
    host                  TEXT,
    cwd                   TEXT,
    command               TEXT,
    error_kind            TEXT,
    error_message         TEXT,
    notebook_sha256       TEXT,
    run_json_sha256       TEXT,
    report_sha256         TEXT,
    executed_sha256       TEXT,
    mlreport_version      TEXT,
    rerun_of              TEXT,
    batch_id              TEXT,
    job                   TEXT,
    origin                TEXT NOT NULL DEFAULT 'run',
    audit_seq             INTEGER,
    audit_hash            TEXT,
    recorded_at           TEXT NOT NULL,
    pruned_at             TEXT
);
CREATE INDEX IF NOT EXISTS runs_model_analysis ON runs (model, analysis, started_at);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status);
CREATE TABLE IF NOT EXISTS run_inputs (
    run_id  TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    name    TEXT,
    path    TEXT,
    sha256  TEXT,
    hash_of TEXT,
    rows    INTEGER,
    PRIMARY KEY (run_id, ordinal)
);
CREATE INDEX IF NOT EXISTS run_inputs_sha ON run_inputs (sha256);
CREATE TABLE IF NOT EXISTS run_metrics (
    run_id  TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    metric  TEXT NOT NULL,
    subject TEXT NOT NULL,
    value   REAL NOT NULL,
    PRIMARY KEY (run_id, metric, subject)
);
"""

# Migrations from version N to N + 1, applied in order inside one transaction.
_MIGRATIONS: dict[int, str] = {}

_COLUMNS = (
    "run_id", "model", "analysis", "status", "exit_code", "fail_on", "headline", "data_period",
    "parameters_sha256", "parameters_json", "inputs_json", "findings_json", "metrics_json",
    "reference_fingerprint", "thresholds_version", "n_ok", "n_warning", "n_incident", "run_dir",
    "report_path", "started_at", "finished_at", "execute_s", "cells_s", "render_s", "total_s", "user",
    "host", "cwd", "command", "error_kind", "error_message", "notebook_sha256", "run_json_sha256",
    "report_sha256", "executed_sha256", "mlreport_version", "rerun_of", "batch_id", "job", "origin",
    "audit_seq", "audit_hash", "recorded_at", "pruned_at",
)


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)


@dataclass
class RunRecord:
    """One registry row, with its JSON columns decoded.

    Paths (``run_dir``, ``report_path``) are relative to the outputs folder,
    POSIX style, so the folder can be moved or mounted elsewhere.
    """

    run_id: str
    model: str
    analysis: str
    status: str
    exit_code: int
    run_dir: str
    report_path: str
    started_at: str | None = None
    finished_at: str | None = None
    headline: str = ""
    data_period: str = ""
    fail_on: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    parameters_sha256: str | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    reference_fingerprint: str | None = None
    thresholds_version: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    timings_s: dict[str, float | None] = field(default_factory=dict)
    user: str | None = None
    host: str | None = None
    cwd: str | None = None
    command: str | None = None
    error_kind: str | None = None
    error_message: str | None = None
    files: dict[str, str | None] = field(default_factory=dict)
    notebook_sha256: str | None = None
    mlreport_version: str | None = None
    rerun_of: str | None = None
    batch_id: str | None = None
    job: str | None = None
    origin: str = "run"
    audit_seq: int | None = None
    audit_hash: str | None = None
    recorded_at: str | None = None
    pruned_at: str | None = None

    @property
    def pruned(self) -> bool:
        return self.pruned_at is not None

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (``--json`` output of history and show)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["pruned"] = self.pruned
        return data

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> RunRecord:
        def load(text: str | None, empty: Any) -> Any:
            return json.loads(text) if text else empty

        return cls(
            run_id=row["run_id"], model=row["model"], analysis=row["analysis"], status=row["status"],
            exit_code=int(row["exit_code"]), run_dir=row["run_dir"], report_path=row["report_path"],
            started_at=row["started_at"], finished_at=row["finished_at"], headline=row["headline"] or "",
            data_period=row["data_period"] or "", fail_on=row["fail_on"],
            parameters=load(row["parameters_json"], {}), parameters_sha256=row["parameters_sha256"],
            inputs=load(row["inputs_json"], []), findings=load(row["findings_json"], []),
            metrics=load(row["metrics_json"], {}), reference_fingerprint=row["reference_fingerprint"],
            thresholds_version=row["thresholds_version"],
            counts={"ok": row["n_ok"], "warning": row["n_warning"], "incident": row["n_incident"]},
            timings_s={"execute": row["execute_s"], "cells": row["cells_s"], "render": row["render_s"],
                       "total": row["total_s"]},
            user=row["user"], host=row["host"], cwd=row["cwd"], command=row["command"],
            error_kind=row["error_kind"], error_message=row["error_message"],
            files={"run.json": row["run_json_sha256"], "report.html": row["report_sha256"],
                   "notebook.ipynb": row["executed_sha256"]},
            notebook_sha256=row["notebook_sha256"], mlreport_version=row["mlreport_version"],
            rerun_of=row["rerun_of"], batch_id=row["batch_id"], job=row["job"], origin=row["origin"],
            audit_seq=row["audit_seq"], audit_hash=row["audit_hash"], recorded_at=row["recorded_at"],
            pruned_at=row["pruned_at"],
        )


def _finite_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def flatten_metrics(metrics: Mapping[str, Any], *, limit: int = MAX_METRICS_PER_RUN) -> list[tuple[str, str, float]]:
    """Numeric summary metrics as ``(metric, subject, value)`` rows.

    Convention: a number at the top level is ``(name, "", value)``; a mapping
    of numbers is one row per key (``("psi", "income", 0.31)``); one more level
    of nesting joins the names with a dot (``("rate_flags.x", "warning", 2)``).
    Booleans, strings, lists, NaN and infinities are not metrics and are
    skipped. At most ``limit`` rows, in the summary's order.
    """
    rows: list[tuple[str, str, float]] = []

    def add(name: str, subject: str, value: Any) -> None:
        number = _finite_number(value)
        if number is not None and len(rows) < limit:
            rows.append((name, subject, number))

    for name, value in metrics.items():
        if isinstance(value, Mapping):
            for subject, inner in value.items():
                if isinstance(inner, Mapping):
                    for key, leaf in inner.items():
                        add(f"{name}.{subject}", str(key), leaf)
                else:
                    add(str(name), str(subject), inner)
        else:
            add(str(name), "", value)
    # Duplicate (metric, subject) pairs would break the primary key: keep the first.
    seen: set[tuple[str, str]] = set()
    unique = []
    for row in rows:
        if (row[0], row[1]) not in seen:
            seen.add((row[0], row[1]))
            unique.append(row)
    return unique


def _compact_findings(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    keep = ("check", "subject", "severity", "value", "threshold", "section", "period", "message")
    return [{k: f.get(k) for k in keep} for f in findings]


def record_from_manifest(
    manifest: Mapping[str, Any], *, out_dir: Path, run_dir: Path, origin: str = "run",
    audit_seq: int | None = None, audit_hash: str | None = None, files: Mapping[str, str | None] | None = None,
) -> RunRecord:
    """The registry row of a committed run, from its ``run.json`` manifest.

    ``files`` maps the run folder's file names to their sha256 (as appended to
    the audit trail); without it the hashes in the manifest are used.
    """
    counts = manifest.get("counts") or {}
    timings = manifest.get("timings_s") or {}
    error = manifest.get("error") or {}
    recorded_files = {name: (info or {}).get("sha256") for name, info in (manifest.get("files") or {}).items()}
    files = dict(files or {})
    relative = run_dir.resolve().relative_to(out_dir.resolve()).as_posix()
    batch = manifest.get("batch") or {}
    return RunRecord(
        run_id=str(manifest["run_id"]),
        model=str(manifest.get("model") or "default"),
        analysis=str(manifest.get("analysis") or ""),
        status=str(manifest.get("status") or "failed"),
        exit_code=int(manifest.get("exit_code", 3)),
        run_dir=relative,
        report_path=f"{relative}/report.html",
        started_at=manifest.get("started_at"),
        finished_at=manifest.get("finished_at"),
        headline=str(manifest.get("headline") or ""),
        data_period=str(manifest.get("data_period") or ""),
        fail_on=manifest.get("fail_on"),
        parameters=dict(manifest.get("parameters") or {}),
        parameters_sha256=manifest.get("parameters_sha256"),
        inputs=list(manifest.get("inputs") or []),
        findings=_compact_findings(manifest.get("findings") or []),
        metrics=dict(manifest.get("metrics") or {}),
        reference_fingerprint=manifest.get("reference_fingerprint"),
        thresholds_version=manifest.get("thresholds_version"),
        counts={k: int(counts.get(k, 0) or 0) for k in ("ok", "warning", "incident")},
        timings_s={k: timings.get(k) for k in ("execute", "cells", "render", "total")},
        user=manifest.get("user"), host=manifest.get("host"), cwd=manifest.get("cwd"),
        command=manifest.get("command"),
        error_kind=error.get("kind"), error_message=error.get("message"),
        files={
            "run.json": files.get("run.json"),
            "report.html": files.get("report.html", recorded_files.get("report.html")),
            "notebook.ipynb": files.get("notebook.ipynb", recorded_files.get("notebook.ipynb")),
        },
        notebook_sha256=(manifest.get("notebook") or {}).get("sha256"),
        mlreport_version=(manifest.get("versions") or {}).get("mlreport"),
        rerun_of=manifest.get("rerun_of"),
        batch_id=batch.get("id"), job=batch.get("job"),
        origin=origin, audit_seq=audit_seq, audit_hash=audit_hash,
    )


class Registry:
    """The run registry of one outputs folder; see the module docstring.

    Two ways to open it:

    - for writing (the default: runs, batches, prune): a missing or empty
      database is created only when ``may_create`` (called inside the creating
      transaction, other processes waiting) returns no objection; then the
      registry is checked usable at once, so that a read-only, locked or
      damaged registry stops a run before it starts (an
      :class:`~mlreport.errors.InputError` naming the file and the way out);
    - read-only (``readonly=True``: history, show, verify): nothing is created,
      migrated or written; a registry without its tables is an error, never
      a fresh schema. SQLite may create its ``-wal`` and ``-shm`` coordination
      files beside a WAL database; the database itself is not changed.

    Every method opens its own short-lived connection.
    """

    def __init__(
        self, out_dir: Path, *, create: bool = True, readonly: bool = False,
        may_create: Callable[[], str | None] | None = None, path: Path | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.path = Path(path) if path is not None else self.out_dir / REGISTRY_FILE
        self.readonly = readonly
        if (readonly or not create) and not self.path.exists():
            raise InputError(f"{self.path}: no run registry here; run something first or check --out")
        #: True when this open created the database.
        self.created = False
        if readonly:
            self._check_readable()
            return
        if not self.path.exists() and may_create is not None:
            objection = may_create()  # before connecting, which would leave an empty file behind
            if objection:
                raise InputError(objection)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._ensure_schema(may_create)
            self._probe_write()
        except OutputError as exc:
            raise InputError(
                f"{self.path}: the run registry cannot be used for writing ({exc}); nothing was run. Check its "
                "permissions and disk, or move it aside and run `mlreport registry rebuild`"
            ) from None

    # -- connections -----------------------------------------------------------------------------

    def _uri(self) -> str:
        """A read-only URI; ``immutable`` where the folder is read-only (nobody can be writing there)."""
        quoted = urllib.parse.quote(str(self.path.resolve()))
        writable_folder = os.access(self.path.parent, os.W_OK)
        return f"file:{quoted}?mode=ro" + ("" if writable_folder else "&immutable=1")

    @contextlib.contextmanager
    def _connect(self, *, peek: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection; read-only, setting nothing, when opened read-only or to ``peek`` before writing."""
        readonly = self.readonly or peek
        try:
            if readonly:
                conn = sqlite3.connect(self._uri(), uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            else:
                conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise OutputError(f"{self.path}: cannot open the run registry: {exc}") from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not readonly:
                conn.execute("PRAGMA journal_mode = WAL")
                # FULL: a committed row survives a power cut (audit-grade, one fsync per run).
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        except sqlite3.Error as exc:
            raise OutputError(f"{self.path}: run registry error: {exc}") from None
        finally:
            conn.close()

    @contextlib.contextmanager
    def _write(self, *, creating: bool = False) -> Iterator[sqlite3.Connection]:
        """One short write transaction, its lock taken up front (BEGIN IMMEDIATE).

        Unless ``creating`` the schema, the file is checked first, read-only, to
        still be a registry of this schema: one emptied, replaced or deleted
        since it was opened (during a run) is never written to, which would
        leave a half-made file or recreate it silently.
        """
        if self.readonly:
            raise OutputError(f"{self.path}: opened read-only; this command does not write the registry")
        if not creating:
            self._still_a_registry()
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @staticmethod
    def _version(conn: sqlite3.Connection) -> int:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone():
            return 0
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row["value"]) if row else 0

    def _check_readable(self) -> None:
        """A read-only open: the file must be a registry of a schema this code reads."""
        try:
            with self._connect() as conn:
                version = self._version(conn)
                if version:
                    conn.execute("SELECT COUNT(*) FROM runs").fetchone()
        except OutputError as exc:
            raise InputError(
                f"{self.path}: the run registry is damaged or unreadable ({exc}); `mlreport verify` says what the "
                "audit trail still holds and `mlreport registry rebuild` rebuilds it"
            ) from None
        if version == 0:
            raise InputError(
                f"{self.path}: the run registry holds no tables (emptied or damaged); `mlreport registry rebuild` "
                "rebuilds it from the run folders and the audit trail"
            )
        if version > SCHEMA_VERSION:
            raise InputError(self._newer(version))

    def _newer(self, version: int) -> str:
        return (f"{self.path}: the run registry has schema version {version}, newer than this mlreport "
                f"understands ({SCHEMA_VERSION}); upgrade mlreport")

    def _ensure_schema(self, may_create: Callable[[], str | None] | None) -> None:
        # Peek first, read-only: an up-to-date registry is opened without the write lock, and a damaged,
        # emptied or newer one is refused before anything (even the journal mode) is written to it.
        with self._connect(peek=self.path.exists()) as conn:
            version = self._version(conn)
            if version == SCHEMA_VERSION:
                conn.execute("SELECT COUNT(*) FROM runs").fetchone()  # a damaged file fails here, before a run
                return
        if version > SCHEMA_VERSION:
            raise InputError(self._newer(version))
        if version == 0 and may_create is not None:
            objection = may_create()
            if objection:
                raise InputError(objection)
        with self._write(creating=True) as conn:
            version = self._version(conn)  # again, under the lock: another process may have created it
            if version > SCHEMA_VERSION:
                raise InputError(self._newer(version))
            if version == 0:
                objection = may_create() if may_create is not None else None
                if objection:
                    raise InputError(objection)
                for statement in _SCHEMA_V1.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
                conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)", (_utc_now(),))
                self.created = True
                return
            while version < SCHEMA_VERSION:
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                version += 1
                conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))

    def _still_a_registry(self) -> None:
        problem = None
        if not self.path.exists():
            problem = "it was deleted"
        else:
            try:
                with self._connect(peek=True) as conn:
                    version = self._version(conn)
            except OutputError as exc:
                problem = f"it cannot be read ({exc})"
            else:
                if version == 0:
                    problem = "it holds no tables (emptied or replaced)"
                elif version != SCHEMA_VERSION:
                    problem = f"its schema is now version {version}, not {SCHEMA_VERSION}"
        if problem:
            raise OutputError(
                f"{self.path}: the run registry changed after it was opened: {problem}; nothing was written to it. "
                "What the audit trail recorded stays in place: `mlreport registry rebuild --out "
                f"{self.out_dir}` rebuilds the registry from it and the run folders"
            )

    def _probe_write(self) -> None:
        """Take the write lock and write a row, then roll back: a read-only file or folder fails here, not after a run.

        (Taking the lock alone is not enough: SQLite opens a file it cannot
        write read-only, and an empty transaction commits.)
        """
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("UPDATE meta SET value = value WHERE key = 'schema_version'")
            finally:
                conn.execute("ROLLBACK")

    def quick_check(self) -> list[str]:
        """SQLite's ``PRAGMA quick_check``: an empty list when the file is sound, else what it found."""
        with self._connect() as conn:
            rows = [str(row[0]) for row in conn.execute("PRAGMA quick_check(20)")]
        return [] if rows == ["ok"] else rows

    def schema_version(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()["value"])

    # -- writes ----------------------------------------------------------------------------------

    def record(self, record: RunRecord) -> None:
        """Insert (or replace) one run with its inputs and metrics, in one transaction."""
        with self._write() as conn:
            self._insert(conn, record)

    @staticmethod
    def _insert(conn: sqlite3.Connection, record: RunRecord) -> None:
        values = {
            "run_id": record.run_id, "model": record.model, "analysis": record.analysis,
            "status": record.status, "exit_code": record.exit_code, "fail_on": record.fail_on,
            "headline": record.headline, "data_period": record.data_period,
            "parameters_sha256": record.parameters_sha256, "parameters_json": _dumps(record.parameters),
            "inputs_json": _dumps(record.inputs), "findings_json": _dumps(record.findings),
            "metrics_json": _dumps(record.metrics),
            "reference_fingerprint": record.reference_fingerprint, "thresholds_version": record.thresholds_version,
            "n_ok": record.counts.get("ok", 0), "n_warning": record.counts.get("warning", 0),
            "n_incident": record.counts.get("incident", 0), "run_dir": record.run_dir,
            "report_path": record.report_path, "started_at": record.started_at, "finished_at": record.finished_at,
            "execute_s": record.timings_s.get("execute"), "cells_s": record.timings_s.get("cells"),
            "render_s": record.timings_s.get("render"), "total_s": record.timings_s.get("total"),
            "user": record.user, "host": record.host, "cwd": record.cwd, "command": record.command,
            "error_kind": record.error_kind, "error_message": record.error_message,
            "notebook_sha256": record.notebook_sha256, "run_json_sha256": record.files.get("run.json"),
            "report_sha256": record.files.get("report.html"), "executed_sha256": record.files.get("notebook.ipynb"),
            "mlreport_version": record.mlreport_version, "rerun_of": record.rerun_of,
            "batch_id": record.batch_id, "job": record.job, "origin": record.origin,
            "audit_seq": record.audit_seq, "audit_hash": record.audit_hash,
            "recorded_at": record.recorded_at or _utc_now(), "pruned_at": record.pruned_at,
        }
        placeholders = ", ".join(f":{name}" for name in _COLUMNS)
        metrics = flatten_metrics(record.metrics)
        conn.execute("DELETE FROM runs WHERE run_id = ?", (record.run_id,))
        conn.execute(f"INSERT INTO runs ({', '.join(_COLUMNS)}) VALUES ({placeholders})", values)
        conn.executemany(
            "INSERT INTO run_inputs (run_id, ordinal, name, path, sha256, hash_of, rows) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (record.run_id, i, str(item.get("name", "")), str(item.get("path", "")), item.get("sha256"),
                 item.get("hash_of"), item.get("rows") if isinstance(item.get("rows"), int) else None)
                for i, item in enumerate(record.inputs)
            ],
        )
        conn.executemany(
            "INSERT INTO run_metrics (run_id, metric, subject, value) VALUES (?, ?, ?, ?)",
            [(record.run_id, metric, subject, value) for metric, subject, value in metrics],
        )

    def mark_pruned(self, run_ids: Sequence[str], *, at: str | None = None) -> int:
        """Mark runs pruned (their rows stay); returns how many rows changed."""
        when = at or _utc_now()
        with self._write() as conn:
            changed = 0
            for run_id in run_ids:
                changed += conn.execute(
                    "UPDATE runs SET pruned_at = ? WHERE run_id = ? AND pruned_at IS NULL", (when, run_id)
                ).rowcount
        return changed

    # -- reads -----------------------------------------------------------------------------------

    def get(self, run_id: str) -> RunRecord:
        """The run ``run_id`` (a unique prefix is enough), or an InputError."""
        text = (run_id or "").strip()
        if not text:
            raise InputError("no run id given")
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (text,)).fetchone()
            if row is not None:
                return RunRecord.from_row(row)
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            rows = conn.execute(
                "SELECT * FROM runs WHERE run_id LIKE ? ESCAPE '\\' ORDER BY run_id LIMIT 6", (escaped + "%",)
            ).fetchall()
        if len(rows) == 1:
            return RunRecord.from_row(rows[0])
        if not rows:
            raise InputError(f"run {text!r} is not in the registry {self.path} (see `mlreport history`)")
        raise InputError(
            f"run id prefix {text!r} is ambiguous: {', '.join(r['run_id'] for r in rows[:5])}"
            + (" ..." if len(rows) > 5 else "")
        )

    def history(
        self, *, model: str | None = None, analysis: str | None = None, status: str | None = None,
        limit: int | None = None, include_pruned: bool = True, oldest_first: bool = False,
    ) -> list[RunRecord]:
        """Runs matching the filters, newest first (by start time, then id)."""
        clauses: list[str] = []
        args: list[str | int] = []
        for column, value in (("model", model), ("analysis", analysis), ("status", status)):
            if value:
                clauses.append(f"{column} = ?")
                args.append(value)
        if not include_pruned:
            clauses.append("pruned_at IS NULL")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        order = "ASC" if oldest_first else "DESC"
        query = f"SELECT * FROM runs {where} ORDER BY started_at {order}, run_id {order}"
        if limit is not None:
            if limit < 1:
                raise InputError(f"--limit {limit}: expected at least 1")
            query += " LIMIT ?"
            args.append(limit)
        with self._connect() as conn:
            return [RunRecord.from_row(row) for row in conn.execute(query, args).fetchall()]

    def groups(self) -> list[tuple[str, str, int, str | None]]:
        """``(model, analysis, runs, last started)`` for every pair, by model then analysis."""
        with self._connect() as conn:
            return [
                (row[0], row[1], int(row[2]), row[3])
                for row in conn.execute(
                    "SELECT model, analysis, COUNT(*), MAX(started_at) FROM runs GROUP BY model, analysis "
                    "ORDER BY model, analysis"
                )
            ]

    def batch_runs(self, batch_id: str) -> list[RunRecord]:
        """The runs a batch recorded (by the id the batch runner passed them)."""
        with self._connect() as conn:
            return [RunRecord.from_row(row) for row in conn.execute(
                "SELECT * FROM runs WHERE batch_id = ? ORDER BY started_at, run_id", (batch_id,)
            )]

    def count(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def run_ids(self) -> set[str]:
        with self._connect() as conn:
            return {row[0] for row in conn.execute("SELECT run_id FROM runs")}

    def metric_series(
        self, model: str, analysis: str, *, last: int = 30
    ) -> tuple[list[RunRecord], list[tuple[str, str, str, float]]]:
        """The last ``last`` runs of a model's analysis (oldest first) and their metric rows.

        Metric rows are ``(run_id, metric, subject, value)``.
        """
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT * FROM runs WHERE model = ? AND analysis = ? AND status != 'failed' "
                "ORDER BY started_at DESC, run_id DESC LIMIT ?",
                (model, analysis, last),
            ).fetchall()
            runs = [RunRecord.from_row(row) for row in reversed(rows)]
            if not runs:
                return [], []
            marks = ", ".join("?" for _ in runs)
            metrics = conn.execute(
                f"SELECT run_id, metric, subject, value FROM run_metrics WHERE run_id IN ({marks})",
                [r.run_id for r in runs],
            ).fetchall()
        return runs, [(m[0], m[1], m[2], float(m[3])) for m in metrics]

    def runs_using_input(self, sha256: str) -> list[str]:
        """Ids of the runs that read an input with this sha256 (lineage questions)."""
        with self._connect() as conn:
            return [row[0] for row in conn.execute(
                "SELECT DISTINCT run_id FROM run_inputs WHERE sha256 = ? ORDER BY run_id", (sha256,)
            )]


# -- text output (the CLI prints these) ------------------------------------------------------------

_WORDS = {"ok": "HEALTHY", "warning": "WARNING", "incident": "INCIDENT", "failed": "FAILED"}


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def format_history(records: Sequence[RunRecord]) -> str:
    """A plain-text table of runs, newest first, for a terminal or a log: one line per run.

    Every cell is neutralised (:func:`mlreport.terminal.neutralise`): a model
    name or headline from data cannot move the cursor or add a line.
    """
    if not records:
        return "no runs match"
    header = ("run id", "started (UTC)", "model", "analysis", "status", "exit", "inc/warn", "seconds", "report")
    rows = [
        tuple(neutralise(cell) for cell in (
            r.run_id, r.started_at or "", r.model, r.analysis, _WORDS.get(r.status, r.status.upper()),
            str(r.exit_code), f"{r.counts.get('incident', 0)}/{r.counts.get('warning', 0)}",
            _seconds(r.timings_s.get("total")), "(pruned)" if r.pruned else r.report_path,
        ))
        for r in records
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in (header, *rows)]
    return "\n".join(lines)


def format_record(record: RunRecord, *, out_dir: Path | None = None) -> str:
    """A run's registry record as readable text (``mlreport show``): one line per field, input, finding and file.

    Every value is neutralised (:func:`mlreport.terminal.neutralise`), so no
    value from data or parameters can act on the terminal or add a line.
    """
    safe = neutralise
    report = "(pruned on " + str(record.pruned_at) + ")" if record.pruned else str(
        (out_dir / record.report_path) if out_dir is not None else record.report_path
    )
    status = _WORDS.get(record.status, record.status.upper())
    lines = [
        f"run        {safe(record.run_id)}",
        f"status     {safe(status)} (exit code {record.exit_code}, fail-on {safe(record.fail_on)})",
        f"headline   {safe(record.headline)}",
        f"model      {safe(record.model)}",
        f"analysis   {safe(record.analysis)}",
        f"period     {safe(record.data_period or '-')}",
        f"started    {safe(record.started_at)}   finished {safe(record.finished_at)}",
        "timings    " + ", ".join(f"{safe(k)} {_seconds(v)} s" for k, v in record.timings_s.items()),
        f"findings   {record.counts.get('incident', 0)} incident, {record.counts.get('warning', 0)} warning, "
        f"{record.counts.get('ok', 0)} ok",
        f"by         {safe(record.user)}@{safe(record.host)} in {safe(record.cwd or '-')}",
        f"report     {safe(report)}",
        f"parameters sha256 {safe(record.parameters_sha256)}",
        f"reference  {safe(record.reference_fingerprint or '-')}",
        f"thresholds {safe(record.thresholds_version or '-')}",
    ]
    if record.rerun_of:
        lines.append(f"rerun of   {safe(record.rerun_of)}")
    if record.batch_id:
        lines.append(f"batch      {safe(record.batch_id)} job {safe(record.job)}")
    if record.error_kind:
        lines.append(f"error      {safe(record.error_kind)}: {safe(record.error_message)}")
    lines.append("inputs")
    for item in record.inputs or []:
        lines.append(f"  {safe(item.get('name', ''))}: {safe(item.get('path', ''))} sha256 {safe(item.get('sha256'))} "
                     f"({safe(item.get('hash_of', 'file'))}, {safe(item.get('rows'))} rows)")
    lines.append("parameters")
    for name, value in record.parameters.items():
        lines.append(f"  {safe(name)} = {safe(json.dumps(value, ensure_ascii=False))}")
    worst = [f for f in record.findings if f.get("severity") in ("incident", "warning")]
    if worst:
        lines.append("findings")
        for item in worst[:30]:
            lines.append(f"  {safe(item.get('severity', '')):8} {safe(item.get('check', ''))} / "
                         f"{safe(item.get('subject', ''))}: {safe(item.get('message', ''))}")
    lines.append("files (sha256 as recorded)")
    for name, digest in record.files.items():
        lines.append(f"  {safe(name):15} {safe(digest or '-')}")
    return "\n".join(lines)
