"""Run records and writers for the record room's tests, in a module of their own.

The concurrency tests start worker processes with the spawn method, which
imports the worker function by its module's name. Test modules are imported
by pytest's importlib mode under names a child process cannot import, so a
worker defined in a test module is lost in the child and ``Pool.map`` waits
forever. Functions here live on the tests' ``pythonpath``: a child finds them.
"""

from __future__ import annotations

from pathlib import Path

from mlreport.record import Registry, RunRecord, append, record_from_manifest


def manifest(run_id: str, *, model: str = "card", analysis: str = "drift", status: str = "ok",
             started: str = "2026-03-14T02:00:00Z", metrics: dict | None = None) -> dict:
    return {
        "run_id": run_id, "model": model, "analysis": analysis, "status": status,
        "exit_code": {"ok": 0, "warning": 0, "incident": 1, "failed": 3}[status], "fail_on": "incident",
        "started_at": started, "finished_at": started, "headline": f"{status} headline",
        "parameters": {"current_path": "data/x.parquet", "psi_bins": 10}, "parameters_sha256": "p" * 64,
        "inputs": [{"name": "current", "path": "data/x.parquet", "sha256": "a" * 64, "hash_of": "file", "rows": 10}],
        "counts": {"ok": 3, "warning": 1, "incident": 2},
        "findings": [{"check": "psi", "subject": "income", "severity": "incident", "message": "income drifted",
                      "value": 0.31, "threshold": 0.25, "method": "PSI", "section": "Drift", "period": None}],
        "metrics": metrics if metrics is not None else {"psi": {"income": 0.31, "age": 0.01}, "rows": 10},
        "reference_fingerprint": "f" * 64, "thresholds_version": "drift=drift-thresholds/1",
        "timings_s": {"execute": 3.0, "cells": 1.0, "render": 0.5, "total": 3.6},
        "user": "ops", "host": "box", "cwd": "/srv", "versions": {"mlreport": "0.1.0"},
        "notebook": {"path": "drift.ipynb", "sha256": "n" * 64},
        "files": {"report.html": {"sha256": "r" * 64}, "notebook.ipynb": {"sha256": "e" * 64}},
    }


def record(out: Path, run_id: str, **kwargs) -> RunRecord:
    m = manifest(run_id, **kwargs)
    folder = out / m["model"] / m["analysis"] / run_id
    return record_from_manifest(m, out_dir=out, run_dir=folder, files={"run.json": "j" * 64})


def write_many(args: tuple[str, int, int]) -> int:
    out, worker, n = args
    registry = Registry(Path(out))
    for i in range(n):
        registry.record(record(Path(out), f"20260314T020000Z-w{worker:02d}{i:05d}", model=f"m{worker % 3}",
                               started=f"2026-03-14T02:{i % 60:02d}:00Z"))
    return n


def append_many(args: tuple[str, int, int]) -> None:
    out, worker, n = args
    for i in range(n):
        append(Path(out), event="run", run_id=f"w{worker}-{i}", files={})


