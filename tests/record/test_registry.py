"""The run registry: schema, records, queries, metrics flattening, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from record_runs import record, write_many

from mlreport.errors import InputError
from mlreport.record import (
    REGISTRY_FILE,
    SCHEMA_VERSION,
    Registry,
    flatten_metrics,
    format_history,
    format_record,
)


def test_schema_is_versioned_and_wal(tmp_path: Path):
    registry = Registry(tmp_path)
    assert registry.created and registry.schema_version() == SCHEMA_VERSION
    conn = sqlite3.connect(tmp_path / REGISTRY_FILE)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"meta", "runs", "run_inputs", "run_metrics"} <= tables
    conn.close()
    assert not Registry(tmp_path).created  # reopening does not recreate


def test_newer_schema_is_refused(tmp_path: Path):
    Registry(tmp_path)
    conn = sqlite3.connect(tmp_path / REGISTRY_FILE)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    # An unusable registry stops a run before it starts: exit 2 (issue 16, class 3), no longer an OutputError.
    with pytest.raises(InputError, match="newer than this mlreport"):
        Registry(tmp_path)


def test_missing_registry_without_create_is_an_input_error(tmp_path: Path):
    with pytest.raises(InputError, match="no run registry"):
        Registry(tmp_path, create=False)


def test_record_round_trip(tmp_path: Path):
    registry = Registry(tmp_path)
    registry.record(record(tmp_path, "20260314T020000Z-aaaa0001", status="incident"))
    got = registry.get("20260314T020000Z-aaaa0001")
    assert got.status == "incident" and got.exit_code == 1 and got.model == "card"
    assert got.run_dir == "card/drift/20260314T020000Z-aaaa0001"
    assert got.report_path == "card/drift/20260314T020000Z-aaaa0001/report.html"
    assert got.parameters == {"current_path": "data/x.parquet", "psi_bins": 10}
    assert got.inputs[0]["sha256"] == "a" * 64 and got.counts == {"ok": 3, "warning": 1, "incident": 2}
    assert got.findings[0]["subject"] == "income" and got.findings[0]["severity"] == "incident"
    assert got.timings_s["cells"] == 1.0 and got.files["run.json"] == "j" * 64
    assert got.files["report.html"] == "r" * 64 and got.reference_fingerprint == "f" * 64
    assert got.thresholds_version == "drift=drift-thresholds/1" and got.user == "ops" and got.cwd == "/srv"
    assert registry.runs_using_input("a" * 64) == ["20260314T020000Z-aaaa0001"]
    # Recording again replaces, never duplicates.
    registry.record(record(tmp_path, "20260314T020000Z-aaaa0001", status="ok"))
    assert registry.count() == 1 and registry.get("20260314T020000Z-aaaa0001").status == "ok"
    json.dumps(got.to_dict())  # JSON-ready


def test_get_by_unique_prefix_and_clear_errors(tmp_path: Path):
    registry = Registry(tmp_path)
    registry.record(record(tmp_path, "20260314T020000Z-aaaa0001"))
    registry.record(record(tmp_path, "20260314T020000Z-aaaa0002"))
    registry.record(record(tmp_path, "20260315T020000Z-bbbb0001"))
    assert registry.get("20260315").run_id == "20260315T020000Z-bbbb0001"
    with pytest.raises(InputError, match="ambiguous"):
        registry.get("20260314T020000Z-aaaa")
    with pytest.raises(InputError, match="not in the registry"):
        registry.get("1999")
    with pytest.raises(InputError, match="not in the registry"):
        registry.get("%")  # LIKE wildcards are literal


def test_history_filters_and_orders_newest_first(tmp_path: Path):
    registry = Registry(tmp_path)
    for i, (model, analysis, status) in enumerate(
        [("card", "drift", "ok"), ("card", "volume", "warning"), ("loans", "drift", "incident"),
         ("card", "drift", "failed")]
    ):
        registry.record(record(tmp_path, f"2026031{i}T020000Z-0000000{i}", model=model, analysis=analysis,
                               status=status, started=f"2026-03-1{i}T02:00:00Z"))
    assert [r.run_id[:9] for r in registry.history()] == ["20260313T", "20260312T", "20260311T", "20260310T"]
    assert [r.status for r in registry.history(model="card", analysis="drift")] == ["failed", "ok"]
    assert [r.model for r in registry.history(status="incident")] == ["loans"]
    assert len(registry.history(limit=2)) == 2
    with pytest.raises(InputError):
        registry.history(limit=0)
    assert registry.groups() == [
        ("card", "drift", 2, "2026-03-13T02:00:00Z"), ("card", "volume", 1, "2026-03-11T02:00:00Z"),
        ("loans", "drift", 1, "2026-03-12T02:00:00Z"),
    ]
    table = format_history(registry.history())
    assert table.splitlines()[0].startswith("run id") and "INCIDENT" in table and "FAILED" in table


def test_mark_pruned_keeps_the_row(tmp_path: Path):
    registry = Registry(tmp_path)
    registry.record(record(tmp_path, "20260314T020000Z-aaaa0001"))
    assert registry.mark_pruned(["20260314T020000Z-aaaa0001"], at="2026-04-01T00:00:00Z") == 1
    assert registry.mark_pruned(["20260314T020000Z-aaaa0001"]) == 0  # once
    got = registry.get("20260314T020000Z-aaaa0001")
    assert got.pruned and got.pruned_at == "2026-04-01T00:00:00Z"
    assert registry.history(include_pruned=False) == []
    assert "(pruned on 2026-04-01T00:00:00Z)" in format_record(got)


def test_metric_series_oldest_first_without_failed_runs(tmp_path: Path):
    registry = Registry(tmp_path)
    for i in range(5):
        registry.record(record(tmp_path, f"2026031{i}T020000Z-0000000{i}", started=f"2026-03-1{i}T02:00:00Z",
                               status="failed" if i == 2 else "ok", metrics={"psi": {"income": i / 10}}))
    runs, metrics = registry.metric_series("card", "drift", last=3)
    assert [r.run_id[:9] for r in runs] == ["20260311T", "20260313T", "20260314T"]
    assert sorted((m[0][:9], m[3]) for m in metrics) == [("20260311T", 0.1), ("20260313T", 0.3), ("20260314T", 0.4)]


def test_flatten_metrics_convention():
    rows = flatten_metrics({
        "psi": {"income": 0.31, "age": float("nan")}, "mix_psi": 0.02, "flag": True, "name": "x",
        "flags": {"volume": {"warning": 2, "incident": 0}}, "list": [1, 2], "inf": float("inf"),
    })
    assert rows == [
        ("psi", "income", 0.31), ("mix_psi", "", 0.02),
        ("flags.volume", "warning", 2.0), ("flags.volume", "incident", 0.0),
    ]
    assert len(flatten_metrics({f"m{i}": i for i in range(50)}, limit=10)) == 10


@given(st.dictionaries(st.text(min_size=1, max_size=5),
                       st.one_of(st.floats(allow_nan=True), st.integers(-10, 10), st.booleans(), st.text(max_size=3),
                                 st.dictionaries(st.text(max_size=3), st.floats(allow_nan=False, allow_infinity=False),
                                                 max_size=3)),
                       max_size=6))
def test_flatten_metrics_yields_finite_unique_rows(metrics):
    rows = flatten_metrics(metrics)
    assert all(isinstance(v, float) and v == v and abs(v) != float("inf") for _, _, v in rows)
    assert len({(m, s) for m, s, _ in rows}) == len(rows)


def test_concurrent_writer_processes_lose_nothing(tmp_path: Path):
    # Separate processes, all creating the registry at once and writing in parallel.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        written = pool.map_async(write_many, [(str(tmp_path), worker, 40) for worker in range(4)]).get(timeout=300)
    registry = Registry(tmp_path)
    assert sum(written) == 160 and registry.count() == 160
    assert len(registry.run_ids()) == 160
    conn = sqlite3.connect(tmp_path / REGISTRY_FILE)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM run_metrics").fetchone()[0] == 160 * 3
    conn.close()
