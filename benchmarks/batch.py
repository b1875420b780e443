"""Benchmark of ``mlreport batch``: 50 jobs, wall time, per-report overhead, peak memory.

Run::

    python benchmarks/batch.py                        # 40 light + 10 drift jobs, 2 at a time
    python benchmarks/batch.py --light 0 --drift 50   # 50 real drift reports (slow)
    python benchmarks/batch.py --jobs 4 --keep

The jobs: ``--light`` runs of a small notebook written here (it builds a
200-row frame, computes a PSI-like figure per column and publishes findings
and metrics: about the cost of a trivial analysis) and ``--drift`` runs of
the real drift notebook on the built-in sample data (``--rows`` rows, a
smaller domain-classifier sample), every job a separate ``mlreport run``
process as the batch runner starts it.

Printed:

- wall-clock seconds for the whole batch and reports per minute;
- per report, from each run's ``run.json`` timings and the batch's own
  clock: *computation* = the notebook cells' own run time (papermill's cell
  durations); *overhead* = the job's wall time minus its computation, split
  into process start and imports (+ registry and audit writes, after the
  run's own clock stops), kernel start and papermill bookkeeping
  (execute - cells), and rendering the HTML report;
- the registry and audit-trail cost per run, timed in-process on 20
  synthetic run folders (two fsyncs: the audit line and the SQLite commit),
  and the time to rebuild the index from the batch's registry;
- memory: the peak resident set size of the largest single process (driver
  or kernel; ``RUSAGE_CHILDREN``) and the peak of the sum over the whole
  process tree, sampled every 0.2 s from ``/proc`` (Linux).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

from mlreport.driver import load_jobs, notebooks_dir, run_batch
from mlreport.record import open_registry

LIGHT = """\
import numpy as np, pandas as pd
from mlreport.findings import Finding, summarize, publish
rng = np.random.default_rng(seed)
frame = pd.DataFrame(rng.normal(size=(200, 5)), columns=[f"f{i}" for i in range(5)])
psi = {c: float(abs(frame[c].mean())) for c in frame.columns}
findings = [Finding("psi", c, "warning" if v > 0.1 else "ok", f"{c}: {v:.3f}", value=v, threshold=0.1,
                    method="|mean| as a stand-in", section="Checks") for c, v in psi.items()]
publish(summarize("light", findings, model=model, metrics={"psi": psi}))"""


def write_light(folder: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell("# Light\n\nA trivial analysis."))
    params = nbformat.v4.new_code_cell('seed = 0  # random seed\nmodel = "light"  # model name')
    params.metadata["tags"] = ["parameters"]
    nb.cells += [params, nbformat.v4.new_markdown_cell("## Checks"), nbformat.v4.new_code_cell(LIGHT)]
    nbformat.write(nb, folder / "light.ipynb")


def jobs_file(folder: Path, light: int, drift: int, rows: int) -> Path:
    parts = []
    for i in range(light):
        parts.append(f'[[job]]\nname = "light-{i:02d}"\nanalysis = "light"\n[job.params]\nseed = {i}\n'
                     f'model = "light-{i % 5}"\n')
    for i in range(drift):
        parts.append(f'[[job]]\nname = "drift-{i:02d}"\nanalysis = "drift"\n[job.params]\nsample_rows = {rows}\n'
                     f'classifier_sample = {min(rows, 2000)}\nseed = {i}\nmodel = "drift-{i % 3}"\n')
    path = folder / "jobs.toml"
    path.write_text("\n".join(parts))
    return path


class TreeSampler(threading.Thread):
    """Peak of the summed RSS of this process and all its descendants, from /proc."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_kb = 0
        self.done = threading.Event()

    @staticmethod
    def _tree_rss_kb(root: int) -> int:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status") as handle:
                    fields = dict(line.split(":", 1) for line in handle if ":" in line)
            except OSError:
                continue
            pid = int(entry)
            parents[pid] = int(fields.get("PPid", "0").strip() or 0)
            rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
        total, stack = 0, [root]
        children: dict[int, list[int]] = {}
        for pid, parent in parents.items():
            children.setdefault(parent, []).append(pid)
        while stack:
            pid = stack.pop()
            total += rss.get(pid, 0)
            stack.extend(children.get(pid, []))
        return total

    def run(self) -> None:
        while not self.done.is_set():
            self.peak_kb = max(self.peak_kb, self._tree_rss_kb(os.getpid()))
            self.done.wait(self.interval)


def time_recording(folder: Path, runs: int = 20) -> float:
    """Median seconds of :func:`mlreport.record.record_run` (audit entry + registry row)."""
    import json

    from mlreport.record import record_run

    registry = open_registry(folder)
    times = []
    for i in range(runs):
        run_dir = folder / "m" / "drift" / f"20260314T000000Z-{i:08d}"
        run_dir.mkdir(parents=True)
        (run_dir / "report.html").write_bytes(os.urandom(300_000))
        (run_dir / "notebook.ipynb").write_bytes(os.urandom(600_000))
        manifest = {"run_id": run_dir.name, "model": "m", "analysis": "drift", "status": "ok", "exit_code": 0,
                    "started_at": "2026-03-14T00:00:00Z", "metrics": {"psi": {f"c{j}": 0.1 for j in range(20)}}}
        (run_dir / "run.json").write_text(json.dumps(manifest))
        started = time.perf_counter()
        record_run(folder, run_dir, manifest, registry=registry)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--light", type=int, default=40, help="light jobs (default 40)")
    parser.add_argument("--drift", type=int, default=10, help="drift jobs on sample data (default 10)")
    parser.add_argument("--rows", type=int, default=5000, help="sample rows per drift job (default 5000)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the outputs folder and print where")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mlreport-batch-bench-"))
    notebooks = work / "notebooks"
    notebooks.mkdir()
    write_light(notebooks)
    shutil.copy(notebooks_dir() / "drift.ipynb", notebooks / "drift.ipynb")
    os.environ["MLREPORT_NOTEBOOKS"] = str(notebooks)
    out = work / "out"
    tasks = load_jobs(jobs_file(work, args.light, args.drift, args.rows), date=dt.date(2026, 3, 14))

    sampler = TreeSampler()
    sampler.start()
    started = time.perf_counter()
    result = run_batch(tasks, out=out, jobs=args.jobs)
    wall = time.perf_counter() - started
    sampler.done.set()
    sampler.join()

    records = {r.run_id: r for r in open_registry(out).batch_runs(result.batch_id)}
    rows: dict[str, list[dict[str, float]]] = {"light": [], "drift": []}
    for item in result.results:
        record = records.get(item.run_id or "")
        if record is None or record.status == "failed":
            continue
        t = record.timings_s
        cells = t.get("cells") or 0.0
        rows[item.analysis].append({
            "job": item.seconds, "cells": cells, "overhead": item.seconds - cells,
            "process": item.seconds - (t.get("total") or 0.0),
            "kernel": (t.get("execute") or 0.0) - cells, "render": t.get("render") or 0.0,
        })

    failed = sum(1 for r in result.results if r.status in ("failed", "not started"))
    print(f"jobs: {len(tasks)} ({args.light} light, {args.drift} drift on {args.rows} sample rows), "
          f"{args.jobs} at a time, on {os.cpu_count()} CPU(s); {failed} failed")
    print(f"wall time: {wall:.1f} s ({len(tasks) / wall * 60:.1f} reports/min); batch exit code {result.exit_code}")
    print("per report, median seconds [min-max]:")
    for kind, items in rows.items():
        if not items:
            continue

        def stat(key: str, items: list[dict[str, float]] = items) -> str:
            values = [i[key] for i in items]
            return f"{statistics.median(values):6.2f} [{min(values):.2f}-{max(values):.2f}]"

        print(f"  {kind} ({len(items)} runs)")
        print(f"    job wall time           {stat('job')}")
        print(f"    computation (cells)     {stat('cells')}")
        print(f"    overhead beyond it      {stat('overhead')}")
        print(f"      process start, imports, registry and audit  {stat('process')}")
        print(f"      kernel start and papermill                  {stat('kernel')}")
        print(f"      HTML rendering                              {stat('render')}")
    from mlreport.record import write_index

    index_started = time.perf_counter()
    write_index(out)
    index_s = time.perf_counter() - index_started
    record_s = time_recording(work / "recording")
    print(f"registry + audit trail per run: {record_s * 1000:.0f} ms (median of 20, 0.9 MB of files hashed); "
          f"index rebuild over {len(records)} runs: {index_s * 1000:.0f} ms")
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"peak memory: largest single process {largest:.0f} MB (driver or kernel); batch runner {own:.0f} MB; "
          f"whole process tree at once {sampler.peak_kb / 1024.0:.0f} MB")
    if args.keep:
        print(f"outputs kept in {out}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
