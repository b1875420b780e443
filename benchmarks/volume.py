"""Benchmark of the decision-volume analysis on a large decision log.

Run::

    python benchmarks/volume.py                   # 10^7 decisions, hourly (inferred)
    python benchmarks/volume.py --rows 1000000 --period D
    python benchmarks/volume.py --tracemalloc     # also the analysis' own allocation peak
    python benchmarks/volume.py --file --backend pandas duckdb   # from a Parquet file, end to end, per backend

The log is built cheaply with numpy (the sample generator is not used: it
builds twenty feature columns): eight weeks of timestamps drawn over the hours
with weekly and intraday seasonality, three segment columns (channel 4 levels,
region 5, merchant category 30) and a decision (3 labels) as pandas
categoricals (what reading Parquet with dictionary encoding gives), and a
score. A broker-like channel goes silent for the last ten days, so the
analysis has an incident to find.

Printed: rows, the period, wall-clock seconds for counting (one pass of
``bincount`` over the rows) and for the analysis of the counts, CPU seconds,
the headline, and memory as the **peak resident set size of the process**
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, interpreter, libraries and
data included) after building the data and after the analysis. With
``--tracemalloc`` a second, untimed pass runs under :mod:`tracemalloc` and
prints the peak that the analysis itself allocates (numpy reports its buffers
to tracemalloc; pandas' Arrow-backed buffers are not traced).

With ``--file`` the log is written once to a Parquet file (``--path``, by
default under the temporary directory, reused when it exists) and each
``--backend`` runs the whole analysis from it as a report does,
:func:`mlreport.volume.analyse` (open the backend, infer nothing: the roles are
given; read, count, on a daily or weekly grid count the hourly grid too, test
the counts), **in a fresh interpreter per backend and round**, so that each
gets its own peak RSS and no backend warms a cache for the next. Backends are
interleaved over ``--rounds``. Printed per run: wall and CPU seconds of the
analysis (CPU of the process: DuckDB's worker threads included), the
backend's own operations (``run_info``), peak RSS of that process and the
load average beside each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from mlreport.counts import count_decisions
from mlreport.volume import VolumeConfig, VolumeParameters, analyse, analyse_counts

START = pd.Timestamp("2026-01-05")
WEEKS = 8


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def build_log(rows: int, seed: int = 1) -> pd.DataFrame:
    """A decision log of ``rows`` rows with seasonality, 3 segment columns and an outage."""
    rng = np.random.default_rng(seed)
    hours = WEEKS * 168
    hour_of_day = np.arange(hours) % 24
    weekday = (np.arange(hours) // 24) % 7
    intensity = (0.15 + np.exp(-0.5 * ((hour_of_day - 14) / 4.0) ** 2)) * np.where(weekday >= 5, 0.6, 1.0)
    intensity *= np.repeat(rng.lognormal(0.0, 0.05, WEEKS * 7), 24)
    cell = rng.choice(hours, size=rows, p=intensity / intensity.sum())
    nanoseconds = START.value + cell * 3_600_000_000_000 + rng.integers(0, 3_600_000_000_000, size=rows)
    channel = rng.choice(4, size=rows, p=[0.4, 0.3, 0.2, 0.1]).astype(np.int8)
    outage = nanoseconds >= (START + pd.Timedelta(weeks=WEEKS) - pd.Timedelta(days=10)).value
    channel = np.where(outage & (channel == 3), 0, channel).astype(np.int8)
    region = rng.choice(5, size=rows).astype(np.int8)
    merchant = rng.zipf(1.6, size=rows) % 30
    score = rng.beta(2.0, 8.0, size=rows)
    decision = np.searchsorted([0.15, 0.30], score).astype(np.int8)  # approve / refer / decline
    return pd.DataFrame({
        "timestamp": pd.Series(nanoseconds.view("datetime64[ns]")),
        "channel": pd.Categorical.from_codes(channel, ["online", "mobile", "branch", "broker"]),
        "region": pd.Categorical.from_codes(region, ["north", "south", "east", "west", "central"]),
        "merchant_category": pd.Categorical.from_codes(merchant.astype(np.int16), [f"mcc{i:02d}" for i in range(30)]),
        "decision": pd.Categorical.from_codes(decision, ["approve", "refer", "decline"]),
        "score": score,
    })


def run(frame: pd.DataFrame, config: VolumeConfig):
    counts = count_decisions(
        frame, config, timestamp_column="timestamp", decision_column="decision",
        segment_columns=["channel", "region", "merchant_category"], score_column="score",
    )
    return counts, analyse_counts(counts, config)


def _load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def write_log(rows: int, path: Path) -> None:
    """The log of :func:`build_log` as a Parquet file (written once; reused when it exists)."""
    if path.exists():
        return
    started = time.perf_counter()
    frame = build_log(rows)
    partial = path.with_suffix(".partial")
    frame.to_parquet(partial, index=False)
    partial.rename(path)
    print(f"wrote {path} ({rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)


def run_file(path: Path, backend: str, period: str) -> dict[str, object]:
    """One end-to-end volume analysis of ``path`` with ``backend``: wall, CPU, operations, peak RSS."""
    load_before = os.getloadavg()[0]
    parameters = VolumeParameters(
        data_path=str(path), backend=backend, period=period, timestamp_column="timestamp",
        decision_column="decision", segment_columns=["channel", "region", "merchant_category"],
        score_column="score",
    )
    wall, cpu = time.perf_counter(), time.process_time()
    result = analyse(parameters)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    operations = result.backend.run_info()["operations"] if result.backend is not None else []
    return {
        "backend": backend, "wall": wall, "cpu": cpu, "rss": _peak_rss_mb(), "operations": operations,
        "load": [load_before, *os.getloadavg()], "period": result.period, "rows": result.counts.rows,
        "headline": result.headline,
    }


def main_file(args: argparse.Namespace) -> int:
    path = Path(args.path or Path(tempfile.gettempdir()) / f"mlreport-volume-{args.rows}.parquet")
    write_log(args.rows, path)
    if args.child:
        print(json.dumps(run_file(path, args.backend[0], args.period)))
        return 0
    print(f"file                 {path} ({path.stat().st_size / 2**20:.0f} MiB, {args.rows:,} rows)")
    headlines = set()
    for round_ in range(args.rounds):
        for backend in args.backend:
            command = [sys.executable, __file__, "--file", "--child", "--path", str(path), "--rows", str(args.rows),
                       "--period", args.period, "--backend", backend]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            run = json.loads(out.strip().splitlines()[-1])
            headlines.add(run["headline"])
            ops = ", ".join(f"{op['operation']} {op['seconds']:.2f}" for op in run["operations"])
            load = run["load"]
            print(f"round {round_ + 1} {backend:<7} {run['wall']:6.2f} s wall {run['cpu']:6.2f} s CPU  "
                  f"peak RSS {run['rss']:5.0f} MiB  [{ops}]  period {run['period']}  "
                  f"load {load[0]:.2f} -> {load[1]:.2f} {load[2]:.2f} {load[3]:.2f}", flush=True)
    for headline in sorted(headlines):
        print(f"headline             {headline}")
    return 0 if len(headlines) == 1 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--period", default="auto", help="H, D, W or auto")
    parser.add_argument("--tracemalloc", action="store_true", help="second pass under tracemalloc")
    parser.add_argument("--file", action="store_true", help="from a Parquet file, end to end, per backend")
    parser.add_argument("--path", default="", help="the Parquet file of --file (default: under the temp dir)")
    parser.add_argument("--backend", nargs="+", default=["pandas", "duckdb"], help="backends of --file")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of --file (backends interleaved)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.file:
        return main_file(args)

    started = time.perf_counter()
    frame = build_log(args.rows)
    built = time.perf_counter() - started
    rss_data = _peak_rss_mb()
    config = VolumeConfig(period=args.period)

    wall, cpu = time.perf_counter(), time.process_time()
    counts = count_decisions(
        frame, config, timestamp_column="timestamp", decision_column="decision",
        segment_columns=["channel", "region", "merchant_category"], score_column="score",
    )
    counted = time.perf_counter() - wall
    result = analyse_counts(counts, config)
    total = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    rss_after = _peak_rss_mb()

    print(f"rows                 {len(frame):,}")
    print("segment columns      3 (channel 4, region 5, merchant_category 30 levels); decisions 3; score")
    series = result.volume["series"].nunique()
    print(f"period               {result.period} ({len(counts.periods)} periods, {series} series)")
    print(f"build data           {built:.1f} s (not part of the analysis)")
    print(f"count_decisions      {counted:.2f} s")
    print(f"analyse_counts       {total - counted:.2f} s")
    print(f"total                {total:.2f} s wall, {cpu:.2f} s CPU")
    print(f"frame in memory      {frame.memory_usage(deep=True).sum() / 2**20:.0f} MiB")
    print(f"peak RSS (ru_maxrss) {rss_data:.0f} MiB after building the data, {rss_after:.0f} MiB after the analysis")
    print(f"{_load()}")
    print(f"headline             {result.headline}")
    if args.tracemalloc:
        tracemalloc.start()
        run(frame, config)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"tracemalloc peak     {peak / 2**20:.0f} MiB allocated by count_decisions + analyse_counts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
