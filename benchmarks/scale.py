"""Scale benchmark: drift and volume summaries at 10^7 and 10^8 rows, pandas against DuckDB.

Run::

    python benchmarks/scale.py                          # 10^7 and 10^8 rows under /tmp/mlreport-scale
    python benchmarks/scale.py --rows 10000000 --backends pandas duckdb
    python benchmarks/scale.py --rows 100000000 --memory-limit 1.5GB --threads 2 --no-approx

Data. A Parquet file per size with a timestamp and 10 columns: ``channel``,
``region``, ``product`` (dictionary-encoded strings), ``decision`` (from the
score), ``age`` (integer), ``income`` (lognormal, 3 % missing, +15 % in the
second half), ``loan_amount``, ``credit_utilisation`` (0 for 30 % of the
second half), ``bureau_score`` (1 % missing) and ``score``; 8 weeks of
timestamps in row order. It is generated in chunks of 5 million rows with
numpy and written in row groups of a million rows with ``pyarrow.parquet.ParquetWriter``,
so 10^8 rows are never in memory at once; timestamps are microseconds (Spark
cannot read nanoseconds). Files are kept and reused (``--data-dir``; delete
them to regenerate).

Work per backend, timed separately: fit the reference profile on the first 4
weeks with exact quantiles (pandas: ``ReferenceProfile.fit``, a sort per column;
DuckDB: a 2^16-bucket histogram per column refined once by fetching only the
buckets that hold a wanted rank, no sort; the reference's own bin counts come
from those scans, not a second pass) and, for DuckDB (unless ``--no-approx``), again with sampled
quantiles (``quantiles="approx"``: its measured rank error is printed); with
the exact profile, the drift summaries of the last 4 weeks, per week (drift
over time) and for the whole window (their merge:
``Backend.summarize_periods``, one pass; DuckDB streams every column from one
scan as Arrow batches and bins them in numpy), and the decision counts of the whole file
(hourly periods, 3 segment columns, score bands). DuckDB runs a fit's
per-column queries, its stats scan (split by columns) and the decision
counts' per-segment scans on one cursor per thread at once: a Parquet file
of one row group (10^6 rows here) is read by one thread per query. pandas
first loads the file (``mlreport.data.load_table``: timed as ``load``); it is
skipped at 10^8 rows (about 9 GiB as a DataFrame, more with temporaries).

Memory: each backend runs in its own subprocess, which reports its peak
resident set size, ``VmHWM`` from ``/proc/self/status`` (the same figure as
``getrusage().ru_maxrss``). DuckDB allocates outside Python, so
``tracemalloc`` would not see it; the resident-set peak covers the
interpreter, the libraries, Arrow and DuckDB buffers. Seconds are wall clock
and CPU seconds (user + system of the process): on a shared machine the wall
clock includes waiting for a core, so the load average is printed too.
``--backends spark`` runs the Spark backend too; its memory is then the
Python driver's only (the JVM is another process).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

COLUMNS = ["channel", "region", "product", "decision", "age", "income", "loan_amount",
           "credit_utilisation", "bureau_score", "score"]
SEGMENTS = ["channel", "region", "product"]
START = np.datetime64("2026-01-05T00:00:00", "us")
WEEKS = 8
CHUNK = 5_000_000
ROW_GROUP = 1_000_000  # a usual row group size (about 60 MB here): DuckDB reads row groups in parallel


# ---------------------------------------------------------------------------
# data


def _dictionary(codes: np.ndarray, levels: list[str]):
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(levels))


def generate(path: Path, rows: int, *, seed: int = 7) -> None:
    """Write ``rows`` rows to ``path`` in row groups of :data:`CHUNK` rows (bounded memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    span_us = WEEKS * 7 * 24 * 3600 * 10**6
    temporary = path.with_suffix(".part")
    writer = None
    rng = np.random.default_rng(seed)
    try:
        for first in range(0, rows, CHUNK):
            n = min(CHUNK, rows - first)
            index = np.arange(first, first + n, dtype=np.float64)
            offsets = ((index + rng.random(n)) * (span_us / rows)).astype(np.int64)
            timestamps = START + offsets.astype("timedelta64[us]")
            late = index >= rows / 2  # the second half drifts
            income = np.round(rng.lognormal(10.8, 0.5, n) * np.where(late, 1.15, 1.0), -2)
            income[rng.random(n) < 0.03] = np.nan
            utilisation = np.round(rng.beta(2, 5, n) * 1.2, 4)
            utilisation[late & (rng.random(n) < 0.3)] = 0.0
            bureau = np.round(rng.normal(680, 60, n).clip(300, 850))
            bureau[rng.random(n) < 0.01] = np.nan
            age = rng.integers(18, 90, n)
            loan = np.round(rng.lognormal(9.5, 0.8, n), -2)
            z = -2.0 + 0.6 * (utilisation - 0.3) / 0.2 - 0.01 * (np.nan_to_num(bureau, nan=600) - 680) / 6
            score = 1 / (1 + np.exp(-z))
            decision = np.where(score < 0.25, 0, np.where(score < 0.35, 1, 2))
            table = pa.table({
                "timestamp": pa.array(timestamps, type=pa.timestamp("us")),
                "channel": _dictionary(
                    rng.choice(4, n, p=[0.45, 0.3, 0.15, 0.1]), ["online", "mobile", "branch", "broker"]
                ),
                "region": _dictionary(rng.integers(0, 5, n), ["north", "south", "east", "west", "central"]),
                "product": _dictionary(
                    rng.choice(3, n, p=[0.5, 0.3, 0.2]), ["personal_loan", "credit_card", "auto_loan"]
                ),
                "decision": _dictionary(decision, ["approve", "refer", "decline"]),
                "age": age,
                "income": income,
                "loan_amount": loan,
                "credit_utilisation": utilisation,
                "bureau_score": bureau,
                "score": score,
            })
            if writer is None:
                writer = pq.ParquetWriter(temporary, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=ROW_GROUP)
            del table
        if writer is not None:
            writer.close()
            writer = None
        os.replace(temporary, path)
    finally:
        if writer is not None:
            writer.close()


# ---------------------------------------------------------------------------
# one backend, in its own process


def _peak_rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def run_backend(name: str, path: str, options: dict) -> dict:
    """Time each step on one backend; returns seconds, CPU seconds and the peak RSS."""
    from mlreport.backends import as_source, get_backend
    from mlreport.volume import VolumeConfig

    steps: dict[str, dict[str, float]] = {}

    def timed(step: str, call):
        wall, cpu = time.perf_counter(), _cpu()
        result = call()
        steps[step] = {"seconds": time.perf_counter() - wall, "cpu": _cpu() - cpu}
        return result

    middle = str((START + np.timedelta64(WEEKS * 7 // 2, "D")).astype("datetime64[D]"))
    if name == "pandas":
        from mlreport import data
        from mlreport.backends import PandasBackend

        backend = PandasBackend()
        source = timed("load", lambda: data.load_table(path))
    else:
        backend = get_backend(name, **{k: v for k, v in options.items() if k != "approx"})
        source = as_source(path)
    reference = as_source(source, timestamp="timestamp", end=middle)
    current = as_source(source, timestamp="timestamp", start=middle)
    profile = timed("fit profile (exact)", lambda: backend.fit_profile(reference, COLUMNS))
    approximate = None
    if name != "pandas" and options.pop("approx", True):
        approximate = timed("fit profile (approx)", lambda: backend.fit_profile(reference, COLUMNS, quantiles="approx"))
    summary, weekly = timed("drift summaries", lambda: backend.summarize_periods(
        current, profile, period="W", timestamp="timestamp"))
    counts = timed("decision counts", lambda: backend.decision_counts(
        source, VolumeConfig(period="H"), timestamp_column="timestamp", decision_column="decision",
        segment_columns=SEGMENTS, score_column="score",
    ))
    return {
        "backend": name,
        "describe": backend.describe(),
        "steps": steps,
        "peak_rss_mib": _peak_rss_mib(),
        "rows_current": summary.rows,
        "weeks": len(weekly),
        "decisions_counted": int(counts.overall.sum()),
        "fit": dict(approximate.settings.get("fit", {})) if approximate is not None else {},
    }


# ---------------------------------------------------------------------------
# driver


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10**7, 10**8])
    parser.add_argument("--backends", nargs="+", default=["pandas", "duckdb"])
    parser.add_argument("--data-dir", default="/tmp/mlreport-scale")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="DuckDB threads and Spark local cores (default: every core)")
    parser.add_argument("--memory-limit", default="1.5GB",
                        help="DuckDB memory_limit (it spills to --data-dir/duckdb-spill above it)")
    parser.add_argument("--pandas-max-rows", type=int, default=3 * 10**7,
                        help="skip pandas above this many rows (it must hold the whole table)")
    parser.add_argument("--no-approx", action="store_true",
                        help="skip the approximate fit (fit + drift + volume summaries only)")
    parser.add_argument("--child", nargs=2, metavar=("BACKEND", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(run_backend(args.child[0], args.child[1], json.loads(args.options))))
        return 0

    folder = Path(args.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    for rows in args.rows:
        path = folder / f"scale-{rows}.parquet"
        if not path.exists():
            began = time.perf_counter()
            generate(path, rows)
            print(f"generated {path} in {time.perf_counter() - began:.0f} s")
        size = path.stat().st_size / 2**30
        print(f"\n== {rows:,} rows x {len(COLUMNS)} columns + timestamp: {path} ({size:.2f} GiB Parquet)")
        results = []
        for name in args.backends:
            if name == "pandas" and rows > args.pandas_max_rows:
                print(f"   pandas: skipped above {args.pandas_max_rows:,} rows (the whole table must fit in memory)")
                continue
            options: dict = {"approx": not args.no_approx}
            if name == "duckdb":
                options.update(threads=args.threads, memory_limit=args.memory_limit,
                               temp_directory=str(folder / "duckdb-spill"))
            elif name == "spark":
                options.update(master=f"local[{args.threads}]", config={"spark.ui.enabled": "false"})
            load = os.getloadavg()[0]
            child = subprocess.run(
                [sys.executable, __file__, "--child", name, str(path), "--options", json.dumps(options)],
                capture_output=True, text=True,
            )
            if child.returncode != 0:
                print(f"   {name}: failed\n{child.stderr[-2000:]}")
                continue
            result = json.loads(child.stdout.strip().splitlines()[-1])
            result["load"] = load
            results.append(result)
        steps = list(dict.fromkeys(step for r in results for step in r["steps"]))
        header = f"   {'step':<20}" + "".join(f"{r['backend'] + ' s (cpu)':>22}" for r in results)
        print(header)
        for step in steps:
            cells = "".join(
                f"{r['steps'][step]['seconds']:>13.1f} ({r['steps'][step]['cpu']:>5.1f})"
                if step in r["steps"]
                else f"{'-':>22}"
                for r in results
            )
            print(f"   {step:<20}{cells}")
        total = "".join(
            f"{sum(s['seconds'] for s in r['steps'].values()):>13.1f}"
            f" ({sum(s['cpu'] for s in r['steps'].values()):>5.1f})"
            for r in results
        )
        print(f"   {'total':<20}{total}")
        if any("load" in r["steps"] for r in results):  # pandas' total without reading the file
            analysis = "".join(
                f"{sum(s['seconds'] for k, s in r['steps'].items() if k != 'load'):>13.1f}"
                f" ({sum(s['cpu'] for k, s in r['steps'].items() if k != 'load'):>5.1f})"
                for r in results
            )
            print(f"   {'total without load':<20}{analysis}")
        # CPU seconds per wall second: how many cores a backend kept busy (at most the threads it was given)
        cores = []
        for r in results:
            wall = sum(s["seconds"] for s in r["steps"].values())
            cores.append(f"{sum(s['cpu'] for s in r['steps'].values()) / max(wall, 1e-9):>22.2f}")
        print(f"   {'cores used':<20}" + "".join(cores))
        print(f"   {'peak RSS (VmHWM)':<20}" + "".join(f"{r['peak_rss_mib'] / 1024:>18.2f} GiB" for r in results))
        print(f"   {'load at start':<20}" + "".join(f"{r['load']:>22.1f}" for r in results))
        for r in results:
            print(f"   {r['backend']}: {r['describe']}")
            print(f"      current rows {r['rows_current']:,}, weeks {r['weeks']}, decisions counted "
                  f"{r['decisions_counted']:,}")
            if r["fit"]:
                print(f"      approximate fit: max rank error of the PSI edges {r['fit']['max_rank_error']:.4f} "
                      f"({r['fit']['method']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
