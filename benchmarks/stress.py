"""Benchmark: stress scenarios on a large population in bounded memory.

Scores ``--rows`` rows of sample data (default 10^6) at baseline and under
``--scenarios`` scenarios (default 20: the built-in suite plus generic extras)
with the built-in default model, scoring in batches of ``--batch-size`` rows.

Prints rows, scenarios, seconds per phase and peak memory as ``ru_maxrss``
(peak resident set size of the whole process, from the OS), before and after
the stress phase, and on Linux the peak of the stress phase alone (VmHWM,
reset through /proc/self/clear_refs before the phase). With ``--tracemalloc`` it also prints the tracemalloc peak
of the stress phase alone (Python and numpy allocations; numpy reports its
buffers to tracemalloc); tracing every allocation slows the run several-fold,
so timings from such a run are not comparable. Memory is bounded in the
number of scenarios: each scenario's shocked columns, scores and decisions
are freed before the next, and the model sees one batch at a time.

Usage: python benchmarks/stress.py [--rows 1000000] [--scenarios 20] [--batch-size 100000] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import time
import tracemalloc

from mlreport import sample
from mlreport.stress import StressTest, default_model
from mlreport.stress.scenarios import load_scenarios, parse_scenarios

EXTRA = """
[[scenario]]
name = "Strong noise"
shocks = [{ type = "noise", column = "@numeric", sd = 0.5 }]

[[scenario]]
name = "20% missing everywhere"
shocks = [{ type = "set_missing", column = "@all", share = 0.20 }]

[[scenario]]
name = "Broker channel: top feature down 0.2 quantile"
population = { channel = "broker" }
shocks = [{ type = "quantile_shift", column = "@top_numeric", by = -0.2 }]

[[scenario]]
name = "Top feature +10%, categorical mix uniform"
shocks = [
  { type = "relative", column = "@top_numeric", by = 0.10 },
  { type = "category_reweight", column = "@top_categorical", shares = "uniform" },
]
"""


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def reset_high_water_mark() -> bool:
    """Reset Linux's peak-RSS counter (VmHWM) so a phase's own peak can be read."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def proc_status_mb(field: str) -> float | None:
    """A memory field of /proc/self/status (VmHWM, VmRSS) in MB; None off Linux."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scenarios", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace allocations (slow)")
    args = parser.parse_args()

    started = time.perf_counter()
    setup = default_model(args.seed)
    model = setup.model
    model.batch_size = args.batch_size
    trained = time.perf_counter()
    population = sample.generate(args.rows, seed=args.seed + 1)
    generated = time.perf_counter()
    rss_before = peak_rss_mb()
    rss_at_start = proc_status_mb("VmRSS")
    reset = reset_high_water_mark()

    builtin = load_scenarios("")
    extra = parse_scenarios(EXTRA, path="benchmark extras")
    scenarios = (builtin.scenarios + extra.scenarios)[: args.scenarios]
    suite = dataclasses.replace(builtin, scenarios=scenarios)

    if args.tracemalloc:
        tracemalloc.start()
    test = StressTest(
        model,
        setup.rule,
        population,
        label=setup.target,
        segments=("channel", "region", "product"),
        seed=args.seed,
    )
    baseline = time.perf_counter()
    importance = test.importance(sample_rows=5_000)
    run = test.run(suite, importance=list(importance["feature"]))
    finished = time.perf_counter()
    phase_peak = proc_status_mb("VmHWM") if reset else None
    traced_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
    tracemalloc.stop()

    applicable = int(run.table["applicable"].sum())
    failing = int((run.table["result"] == "fail").sum())
    print(f"rows                 {len(population):,}")
    print(f"scenarios            {len(run.table)} ({applicable} applicable, {failing} break tolerance)")
    print(f"batch size           {args.batch_size:,}")
    print(f"train default model  {trained - started:.1f} s")
    print(f"generate sample      {generated - trained:.1f} s")
    print(f"baseline scoring     {baseline - generated:.1f} s (reference fit + one scoring pass)")
    print(f"scenarios            {finished - baseline:.1f} s ({(finished - baseline) / len(run.table):.2f} s each)")
    print(f"total                {finished - started:.1f} s")
    print(f"peak RSS, setup      {rss_before:,.0f} MB (ru_maxrss after training and data generation)")
    if phase_peak is not None:
        print(
            f"peak RSS, stress     {phase_peak:,.0f} MB (VmHWM, reset at the start of the stress phase "
            f"when RSS was {rss_at_start:,.0f} MB: +{phase_peak - rss_at_start:,.0f} MB)"
        )
    else:
        print(f"peak RSS, whole run  {peak_rss_mb():,.0f} MB (ru_maxrss)")
    if traced_peak is not None:
        print(f"tracemalloc peak     {traced_peak / 2**20:,.0f} MB (stress phase only)")
    population_mb = population.memory_usage(deep=True).sum() / 2**20
    print(f"population in memory {population_mb:,.0f} MB (pandas deep memory usage)")


if __name__ == "__main__":
    main()
