"""Run ids, safe names, atomic writes and the outputs index."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from mlreport.errors import OutputError
from mlreport.record import commit_run, list_runs, new_run_id, safe_name, staging_dir, write_index, write_text_atomic


def test_run_ids_sort_by_time_and_are_unique():
    early = new_run_id(dt.datetime(2026, 3, 14, 10, 0, tzinfo=dt.UTC))
    late = new_run_id(dt.datetime(2026, 3, 14, 10, 1, tzinfo=dt.UTC))
    assert early.startswith("20260314T100000Z-") and early < late
    assert len({new_run_id() for _ in range(1000)}) == 1000


@pytest.mark.parametrize(
    ("raw", "expected"), [("card fraud", "card-fraud"), ("../../etc", "etc"), ("", "default"), ("<b>", "b")]
)
def test_safe_name_keeps_runs_inside_outputs(raw, expected):
    assert safe_name(raw) == expected


def test_commit_moves_a_complete_folder(tmp_path: Path):
    staging = staging_dir(tmp_path, "r1")
    (staging / "run.json").write_text(json.dumps({"run_id": "r1", "status": "ok", "started_at": "1"}))
    final = commit_run(staging, tmp_path, model="../m", analysis="drift", run_id="r1")
    assert final == tmp_path / "m" / "drift" / "r1" and (final / "run.json").exists() and not staging.exists()
    with pytest.raises(OutputError):
        staging_dir(tmp_path, "r1") and staging_dir(tmp_path, "r1")


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path):
    target = tmp_path / "a.txt"
    write_text_atomic(target, "one")
    write_text_atomic(target, "two")
    assert target.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    with pytest.raises(OutputError):
        write_text_atomic(tmp_path / "missing-dir" / "x.txt", "x")


def test_index_lists_runs_newest_first_escaped(tmp_path: Path):
    for i, status in enumerate(["ok", "incident"]):
        folder = tmp_path / "m" / "drift" / f"r{i}"
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps({
            "run_id": f"r{i}", "status": status, "analysis": "drift", "model": "<script>x</script>",
            "started_at": f"2026-03-1{i}T00:00:00Z", "headline": "<img src=x onerror=alert(1)>",
            "counts": {"incident": i},
        }))
    assert [r["run_id"] for r in list_runs(tmp_path)] == ["r1", "r0"]
    html = write_index(tmp_path).read_text()
    assert html.index("r1/report.html") < html.index("r0/report.html")
    assert "<script>x" not in html and "<img src=x" not in html and "INCIDENT" in html and "HEALTHY" in html
