"""Benchmark of a report's analysis cells in-process: where the analysis of one notebook goes, cell by cell.

Run::

    python benchmarks/cells.py                                  # drift, sample_rows=2000 (fixed_cost.py's report)
    python benchmarks/cells.py --analysis volume --runs 5
    python benchmarks/cells.py --param sample_rows=60000 --profile drift.prof

The committed notebook's code cells run in this process, in order, in an
IPython shell (the display formatter computes every representation of each
output, as a kernel's does; nothing is sent anywhere), after the parameters
are validated as on the CLI. The first run warms the imports and caches (as
in a kernel forked from ``mlreport kernels serve``) and is not counted; each
cell's time is the median of ``--runs`` runs, wall clock and CPU
(``time.process_time``), with the load average. What this leaves out of a
real run: the kernel's messages and papermill's bookkeeping per cell (see
``fixed_cost.py``). ``--profile FILE`` writes a cProfile of the last run's
cells after the import cell, for ``python -m pstats FILE``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import statistics
import sys
import time
from typing import Any


def _load() -> str:
    return "load " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run_cells(analysis: str, params: dict[str, Any], profile: cProfile.Profile | None = None) -> list[dict[str, Any]]:
    """Each code cell of ``analysis``' notebook run once: its code (without comments), wall and CPU seconds."""
    import nbformat
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    from mlreport.driver import declared_parameters, notebook_path, validate_parameters

    class Quiet(DisplayPublisher):
        """Formats every output as a kernel would, and keeps it to itself."""

        def publish(self, data: Any, metadata: Any = None, source: Any = None, *, transient: Any = None,
                    update: Any = False, **kwargs: Any) -> None:
            self.last = data

    notebook = nbformat.read(notebook_path(analysis), as_version=4)
    declared = declared_parameters(notebook)
    shell = InteractiveShell.instance()
    shell.display_pub = Quiet(shell=shell)
    shell.displayhook.write_output_prompt = lambda: None  # type: ignore[method-assign]
    shell.displayhook.write_format_data = lambda *args, **kwargs: None  # type: ignore[method-assign]
    shell.reset(new_session=False)
    shell.user_ns.update({name: parameter.default for name, parameter in declared.items()})
    shell.user_ns.update(validate_parameters(params, declared, analysis=analysis))
    timings: list[dict[str, Any]] = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        measured = profile if timings else None  # every cell after the import cell
        wall, cpu = time.perf_counter(), time.process_time()
        if measured is not None:
            measured.enable()
        outcome = shell.run_cell(cell.source, store_history=False)
        if measured is not None:
            measured.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if outcome.error_in_exec is not None:
            raise outcome.error_in_exec
        code = [line.split("  #")[0] for line in cell.source.splitlines() if line.strip() and not line.startswith("#")]
        timings.append({"cell": "; ".join(code)[:90], "wall": wall, "cpu": cpu})
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--analysis", default="drift", help="drift, volume or stress (default drift)")
    parser.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE",
                        help="a notebook parameter (JSON value), as on the CLI; default sample_rows=2000 for drift")
    parser.add_argument("--runs", type=int, default=3, help="timed runs, after one warm-up run (default 3)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the last run's analysis cells")
    args = parser.parse_args()
    params = dict(item.split("=", 1) for item in args.param)
    if args.analysis == "drift" and not params:
        params = {"sample_rows": "2000"}
    values = {name: _value(text) for name, text in params.items()}

    print(f"{args.analysis} {values}: code cells in-process, median of {args.runs} runs after a warm-up; {_load()}")
    run_cells(args.analysis, values)
    profile = cProfile.Profile() if args.profile else None
    runs = [run_cells(args.analysis, values, profile if run == args.runs - 1 else None) for run in range(args.runs)]
    print(f"{'wall s':>8} {'cpu s':>8}  cell")
    totals = []
    for number, first in enumerate(runs[0]):
        wall = statistics.median(run[number]["wall"] for run in runs)
        cpu = statistics.median(run[number]["cpu"] for run in runs)
        print(f"{wall:8.3f} {cpu:8.3f}  {first['cell']}")
    for run in runs:
        totals.append((sum(c["wall"] for c in run[1:]), sum(c["cpu"] for c in run[1:])))
    wall = statistics.median(t[0] for t in totals)
    cpu = statistics.median(t[1] for t in totals)
    print(f"analysis (every cell after the import cell): {wall:.3f} s wall, {cpu:.3f} s CPU "
          f"[{min(t[0] for t in totals):.3f}-{max(t[0] for t in totals):.3f} wall]; {_load()}")
    if profile is not None:
        profile.dump_stats(args.profile)
        print(f"profile of the last run's analysis cells: {args.profile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
