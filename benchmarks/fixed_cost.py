"""Benchmark of the fixed cost of one report: a 1,000-row drift run end to end, broken down.

Run::

    python benchmarks/fixed_cost.py                 # 5 runs of `mlreport run drift`, then a batch of 50 with --jobs 2
    python benchmarks/fixed_cost.py --runs 7 --batch 0

Each run is a separate ``python -m mlreport run drift`` process on the
built-in sample data cut to ``--rows`` rows per window (``sample_rows`` is
twice that: the sample is split into a reference and a current window at its
midpoint), exactly what a scheduler starts. Its time is split, from the
process's own clock and the run's ``run.json`` timings and the executed
notebook's per-cell durations (papermill's ``metadata.papermill.duration``):

- *kernel start*: execute time minus the cells' own run time (from the
  kernel's launch, which comes before the driver's own preparations and
  overlaps them: the kernel_info handshake, the warm-up that imports what the
  notebook imports and checks the parameters, papermill's bookkeeping and its
  shutdown);
- *import cell*: the notebook's first code cell after the parameters (its
  imports and the ``analyse()`` call, which reads the windows; every section
  is computed later, when its cell reads it);
- *analysis*: every other cell (the sections, tables and figures);
- *HTML render*: nbconvert and the report's header and appendix;
- *rest of driver*: the process's wall time minus the above (with
  ``--zygote``: the command's own start, which hands the run to the zygote,
  and the forked driver's work outside the notebook; else interpreter start
  and the driver's imports, parameter checks, the run folder, registry, audit
  trail and index; what the driver does while the kernel starts is not here).

*CPU* is the user + system time of the run's processes (the driver and the
kernel it reaped, ``RUSAGE_CHILDREN``; with ``--zygote`` the command's, plus
the driver and kernel the zygote forked and reaped): on a shared machine the better
measure of what a report costs, since a batch of them is bound by it.

Also printed: the imports of the import cell alone, timed in a fresh
interpreter (what ``from mlreport import drift`` and friends cost before any
data is read). Each figure is the median of ``--runs`` runs with its min-max,
and the machine's load average (``os.getloadavg()``) before and after: the
machine may be shared. Then ``--batch`` drift jobs of the same size through
``mlreport batch --jobs 2`` (wall time, reports per minute).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORTS = (
    "import time; t = time.perf_counter(); "
    "from mlreport import drift; from mlreport.findings import publish; from mlreport.story import tell; "
    "from mlreport.plots import show; print(time.perf_counter() - t)"
)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far: the driver and the kernel it reaped."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Served:
    """``mlreport kernels serve`` for the single runs (``--zygote``): the kernels it forks, and their CPU time."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / "kernels" / "kernels.sock"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlreport", "kernels", "serve", "--socket", str(self.socket)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != b"ready":
            raise SystemExit("mlreport kernels serve did not start")

    def kernels_cpu(self) -> float:
        """CPU seconds of the kernels the zygote forked and reaped so far (its children's times, /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime + cstime

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def one_run(out: Path, rows: int, served: Served | None = None) -> dict[str, float]:
    env = {**os.environ, "MLREPORT_KERNEL_ZYGOTE": str(served.socket)} if served else None
    kernels = served.kernels_cpu() if served else 0.0
    started, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run(
        [sys.executable, "-m", "mlreport", "run", "drift", "-p", f"sample_rows={2 * rows}", "--out", str(out),
         "--fail-on", "never", "--json"],
        capture_output=True, text=True, check=False, env=env,
    )
    wall, cpu = time.perf_counter() - started, children_cpu() - cpu
    if served:
        time.sleep(0.2)  # the zygote reaps the killed kernel and the driver as they exit (it watches their pidfds)
        cpu += served.kernels_cpu() - kernels
    if proc.returncode != 0:
        raise SystemExit(f"mlreport run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout)
    run_dir = Path(result["run_dir"])
    timings = json.loads((run_dir / "run.json").read_text())["timings_s"]
    notebook = json.loads((run_dir / "notebook.ipynb").read_text())
    durations: list[float] = []
    import_cell: float | None = None
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        duration = float(cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0)
        tags = set(cell.get("metadata", {}).get("tags", []))
        if import_cell is None and not tags & {"parameters", "injected-parameters"}:
            import_cell = duration
        durations.append(duration)
    cells = sum(durations)
    import_cell = import_cell or 0.0
    kernel = json.loads((run_dir / "run.json").read_text()).get("kernel", {}).get("start", "fresh")
    if served and kernel != "forked":
        raise SystemExit(f"the run's kernel was not forked from the zygote ({kernel}); see mlreport kernels serve")
    driver = json.loads((run_dir / "run.json").read_text()).get("kernel", {}).get("driver")
    if served and not driver:
        raise SystemExit("the run was not handed to the zygote (its own process ran it); see mlreport kernels serve")
    execute = float(timings["execute"])
    render = float(timings["render"])
    return {
        "wall": wall,
        "cpu": cpu,
        "load": os.getloadavg()[0],
        "kernel start": execute - cells,
        "import cell": import_cell,
        "analysis": cells - import_cell,
        "HTML render": render,
        "rest of driver": wall - execute - render,
    }


def fresh_imports() -> float:
    proc = subprocess.run([sys.executable, "-c", IMPORTS], capture_output=True, text=True, check=True)
    return float(proc.stdout.strip().splitlines()[-1])


def batch(work: Path, jobs: int, count: int, rows: int, fresh: bool) -> tuple[float, float, int, int]:
    parts = [
        f'[[job]]\nname = "drift-{i:02d}"\nanalysis = "drift"\n[job.params]\nsample_rows = {2 * rows}\n'
        f'seed = {i}\nmodel = "drift-{i % 3}"\n'
        for i in range(count)
    ]
    jobs_file = work / "jobs.toml"
    jobs_file.write_text("\n".join(parts))
    started, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run(
        [sys.executable, "-m", "mlreport", "batch", str(jobs_file), "--jobs", str(jobs), "--out", str(work / "batch"),
         "--fail-on", "never", "--json", *(["--fresh-kernels"] if fresh else [])],
        capture_output=True, text=True, check=False,
    )
    wall, cpu = time.perf_counter() - started, children_cpu() - cpu
    try:
        results = json.loads(proc.stdout).get("jobs", [])
    except json.JSONDecodeError:
        raise SystemExit(f"mlreport batch printed no JSON ({proc.returncode}): {proc.stderr[-2000:]}") from None
    failed = sum(1 for r in results if r.get("status") in ("failed", "not started"))
    return wall, cpu, len(results), failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="single runs to take the median of (default 5)")
    parser.add_argument("--rows", type=int, default=1000, help="rows per window (default 1000)")
    parser.add_argument("--batch", type=int, default=50, help="drift jobs in the batch, 0 to skip (default 50)")
    parser.add_argument("--jobs", type=int, default=2, help="batch jobs at once (default 2)")
    parser.add_argument("--zygote", action="store_true",
                        help="single runs fork their kernels from `mlreport kernels serve` (started first, not timed)")
    parser.add_argument("--fresh-kernels", action="store_true",
                        help="the batch starts a fresh kernel per job (`mlreport batch --fresh-kernels`)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mlreport-fixed-cost-"))
    try:
        print(f"machine: {os.cpu_count()} CPU(s); python {sys.version.split()[0]}; {load()} before")
        served = Served(work) if args.zygote and args.runs else None
        try:
            one_run(work / "warm", args.rows, served)  # page cache and .pyc files warm, as on a scheduler's 2nd night
            imports = sorted(fresh_imports() for _ in range(args.runs))
            runs = [one_run(work / "single", args.rows, served) for _ in range(args.runs)]
        finally:
            if served:
                served.stop()
        kernels = "driver and kernel forked from a warm `mlreport kernels serve`" if served else "fresh kernels"
        print(f"one drift report, {args.rows} rows per window, median of {args.runs} runs [min-max], {kernels}, "
              "seconds:")
        for key in ("wall", "cpu", "kernel start", "import cell", "analysis", "HTML render", "rest of driver"):
            values = [r[key] for r in runs]
            label = {"wall": "end to end", "cpu": "CPU (all procs)"}.get(key, key)
            print(f"  {label:<16} {statistics.median(values):6.2f}  [{min(values):.2f}-{max(values):.2f}]")
        print("  each run: " + "; ".join(f"{r['wall']:.2f} s wall {r['cpu']:.2f} s CPU at load {r['load']:.2f}"
                                        for r in runs))
        print(f"  (imports of the import cell alone, fresh interpreter: {statistics.median(imports):.2f} s)")
        print(f"  {load()}")
        if args.batch:
            wall, cpu, total, failed = batch(work, args.jobs, args.batch, args.rows, args.fresh_kernels)
            how = "fresh kernels" if args.fresh_kernels else "kernels forked from the batch's zygote"
            print(f"batch of {total} drift reports ({args.rows} rows per window, {how}), --jobs {args.jobs}: "
                  f"{wall:.1f} s wall, {cpu:.1f} s CPU ({total / wall * 60:.1f} reports/min, "
                  f"{wall / max(total, 1):.2f} s each), {failed} failed; {load()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
