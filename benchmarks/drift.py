"""Benchmark of the drift statistics: fit, summarise, compare and drift over time.

Run::

    python benchmarks/drift.py                      # 10^6 rows
    python benchmarks/drift.py --rows 1000000 10000000

For each size N it builds a reference and a current frame of N rows each
(2N rows in all) with 20 mixed columns: 12 numeric (normal, lognormal,
heavy-tailed, integer, with missing values, infinities and a spike at 0) and
8 categorical (pandas ``str`` dtype, as read from Parquet; 2 to 100 levels,
one with missing values). The current frame has three drifted columns. Each
size runs in a fresh subprocess so that memory figures do not mix.

Printed per size: wall-clock seconds for ``ReferenceProfile.fit`` on the
reference, ``summarize`` of the current, ``compare``, their total (the
univariate statistics) and its CPU time (``time.process_time``: on a shared
machine wall time includes waiting for a core), and ``drift_over_time`` over
10 periods of the current frame;
the in-memory size of the two frames (``DataFrame.memory_usage(deep=True)``);
and memory as **peak resident set size of the process** from
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (includes the interpreter,
libraries and the data), taken after the data is built and again after the
analysis, so their difference is what the analysis added at its peak; and,
from a second untimed pass under ``tracemalloc``, the peak of what the analysis
itself allocates (numpy arrays and Python objects; Arrow buffers are not
traced).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

N_PERIODS = 10


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _strings(codes: np.ndarray, levels: list[str]) -> pd.Series:
    """A pandas ``str`` (Arrow-backed) column from integer codes; -1 is missing."""
    mask = codes < 0
    indices = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask)
    array = pa.DictionaryArray.from_arrays(indices, pa.array(levels)).cast(pa.large_string())
    return pd.Series(pd.array(array, dtype="str"))


def make_frame(rows: int, seed: int, *, drifted: bool) -> pd.DataFrame:
    """20 mixed columns; ``drifted`` shifts three of them."""
    rng = np.random.default_rng(seed)
    shift = 1.0 if drifted else 0.0
    columns: dict[str, object] = {}
    columns["num_normal"] = rng.normal(0.0, 1.0, rows) + 0.1 * shift
    columns["num_lognormal"] = rng.lognormal(10.0, 0.5, rows) * (1.15 if drifted else 1.0)
    columns["num_uniform"] = rng.uniform(0.0, 1.0, rows)
    columns["num_exponential"] = rng.exponential(2.0, rows)
    columns["num_age"] = rng.integers(18, 90, rows)
    with_missing = rng.normal(50.0, 10.0, rows)
    with_missing[rng.random(rows) < 0.03] = np.nan
    columns["num_with_missing"] = with_missing
    columns["num_gamma"] = rng.gamma(2.0, 2.0, rows)
    spike = rng.beta(2.0, 5.0, rows) * 1.2
    spike[rng.random(rows) < (0.30 if drifted else 0.005)] = 0.0
    columns["num_spike"] = spike
    columns["num_heavy"] = rng.standard_t(3, rows)
    columns["num_count"] = rng.poisson(6.0, rows)
    with_inf = rng.lognormal(0.0, 1.0, rows)
    with_inf[rng.random(rows) < 0.001] = np.inf
    columns["num_with_inf"] = with_inf
    columns["num_large"] = rng.normal(1e6, 2e5, rows)
    shares = {
        "cat_channel": [0.4, 0.3, 0.2, 0.1],
        "cat_region": [0.2] * 5,
        "cat_product": [0.45, 0.35, 0.2],
        "cat_month": [1 / 12] * 12,
        "cat_branch": list(np.full(30, 1 / 30)),
        "cat_flag": [0.7, 0.3],
        "cat_merchant": list(np.full(100, 1 / 100)),
        "cat_with_missing": [0.3, 0.2, 0.15, 0.1, 0.1, 0.1, 0.05],
    }
    for name, probabilities in shares.items():
        probabilities = np.asarray(probabilities, dtype=float)
        if drifted and name == "cat_channel":
            probabilities = np.array([0.5, 0.35, 0.15, 0.0])
        probabilities = probabilities / probabilities.sum()
        codes = rng.choice(probabilities.size, size=rows, p=probabilities)
        if name == "cat_with_missing":
            codes[rng.random(rows) < 0.02] = -1
        levels = [f"{name[4:]}_{i:03d}" for i in range(probabilities.size)]
        columns[name] = _strings(codes, levels)
    return pd.DataFrame(columns)


def run_child(rows: int, seed: int) -> dict[str, float]:
    from mlreport import drift
    from mlreport.profile import ReferenceProfile

    reference = make_frame(rows, seed, drifted=False)
    current = make_frame(rows, seed + 1, drifted=True)
    periods = pd.Series(
        [f"p{i:02d}" for i in np.arange(rows) * N_PERIODS // rows], index=current.index, dtype="str"
    )
    data_mb = (reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum()) / 2**20
    rss_data = _peak_rss_mb()

    timings: dict[str, float] = {}
    cpu_start = time.process_time()
    start = time.perf_counter()
    profile = ReferenceProfile.fit(reference)
    timings["fit"] = time.perf_counter() - start

    start = time.perf_counter()
    summaries = profile.summarize(current)
    timings["summarize"] = time.perf_counter() - start

    start = time.perf_counter()
    table = drift.compare(profile, None, summaries)
    timings["compare"] = time.perf_counter() - start
    timings["univariate"] = timings["fit"] + timings["summarize"] + timings["compare"]
    timings["univariate_cpu"] = time.process_time() - cpu_start

    start = time.perf_counter()
    over_time = drift.drift_over_time(profile, None, current, periods)
    timings["over_time"] = time.perf_counter() - start

    rss_peak = _peak_rss_mb()
    # Second, untimed pass under tracemalloc: the peak of memory the analysis itself
    # allocates (numpy arrays and Python objects; not Arrow buffers).
    periods_seen = int(over_time["period"].nunique())
    del profile, summaries, table, over_time
    tracemalloc.start()
    profile = ReferenceProfile.fit(reference)
    table = drift.compare(profile, None, profile.summarize(current))
    drift.drift_over_time(profile, None, current, periods)
    analysis_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    flagged = table.loc[table["severity"].isin(["warning", "incident"]), "column"].tolist()
    return {
        "rows": rows,
        "columns": reference.shape[1],
        **timings,
        "data_mb": data_mb,
        "rss_after_data_mb": rss_data,
        "rss_peak_mb": rss_peak,
        "analysis_peak_mb": analysis_peak,
        "flagged": flagged,
        "periods": periods_seen,
    }


def run_whole(rows: int, seed: int, classifier_sample: int) -> dict[str, float]:
    """Every section of the drift report, as the notebook runs it, without rendering.

    Data: the built-in sample (19 columns: 11 features, score, decision,
    label, segments, id, timestamp) with three injected incidents, ``rows``
    in all, split in half by date: ``drift.analyse`` with the notebook's
    defaults but for the size and seeds. Timed sections, in the notebook's
    order (each part of the result is computed when first asked for): load
    (generate, record and cut the windows), integrity, profile fit, current
    summaries, feature drift, drift over time (weekly), prediction drift,
    performance over matured periods, and the domain classifier on
    ``classifier_sample`` rows per window.
    """
    from mlreport import drift

    parameters = drift.DriftParameters(
        sample_rows=rows, sample_seed=seed + 7, classifier_sample=classifier_sample, seed=seed
    )
    timings: dict[str, float] = {}
    total = time.perf_counter()

    def timed(name: str, call: Callable[[], object]) -> object:
        start = time.perf_counter()
        result = call()
        timings[name] = time.perf_counter() - start
        return result

    result = drift.analyse(parameters)
    timings["load"] = time.perf_counter() - total
    data_mb = sum(w.memory_usage(deep=True).sum() for w in (result.reference, result.current)) / 2**20
    timed("integrity", lambda: result.integrity)
    timed("fit", lambda: result.profile)
    timed("summarize", lambda: result.current_summaries)
    timed("compare", lambda: result.drift_table)
    timed("over_time", lambda: result.over_time)
    timed("prediction", lambda: result.prediction)
    timed("performance", lambda: result.performance)
    timed("classifier", lambda: result.classifier)
    timings["whole"] = time.perf_counter() - total
    return {"rows": rows, "data_mb": data_mb, "rss_peak_mb": _peak_rss_mb(), "classifier_sample": classifier_sample,
            **timings}


FILE_COLUMNS = 12
DATA_DIR = Path("/tmp/mlreport-bench-drift")


def write_files(rows: int, seed: int, data_dir: Path = DATA_DIR) -> tuple[Path, Path]:
    """A reference and a current Parquet file of ``rows`` rows each, 12 columns, written once and reused.

    Columns: a timestamp (4 weeks per window, row order), three segment strings
    (channel, region, product), age (integer), income (lognormal, 3 % missing),
    loan_amount, debt_to_income, credit_utilisation (0 for 30 % of the current
    window), bureau_score (1 % missing), score and decision. The current window
    has income +15 % and the utilisation spike.
    """
    import pyarrow.parquet as pq

    data_dir.mkdir(parents=True, exist_ok=True)
    paths = (data_dir / f"reference-{rows}.parquet", data_dir / f"current-{rows}.parquet")
    for index, path in enumerate(paths):
        if path.exists():
            continue
        rng = np.random.default_rng(seed + index)
        drifted = index == 1
        start = np.datetime64("2026-01-05T00:00:00", "us") + np.timedelta64(28 * index, "D")
        offsets = np.sort(rng.integers(0, 28 * 86_400_000_000, rows))
        income = rng.lognormal(10.5, 0.5, rows) * (1.15 if drifted else 1.0)
        income[rng.random(rows) < 0.03] = np.nan
        utilisation = rng.beta(2.0, 5.0, rows)
        if drifted:
            utilisation[rng.random(rows) < 0.30] = 0.0
        bureau = rng.normal(650.0, 80.0, rows)
        bureau[rng.random(rows) < 0.01] = np.nan
        score = 1.0 / (1.0 + np.exp(-rng.normal(0.0, 1.5, rows)))

        def labels(levels: list[str], p: list[float], rng: np.random.Generator = rng) -> pa.Array:
            codes = rng.choice(len(levels), size=rows, p=p).astype(np.int32)
            return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(levels)).cast(pa.large_string())

        table = pa.table({
            "timestamp": pa.array(start + offsets.astype("timedelta64[us]")),
            "channel": labels(["web", "branch", "broker", "mobile"], [0.4, 0.3, 0.2, 0.1]),
            "region": labels(["north", "south", "east", "west", "central"], [0.2] * 5),
            "product": labels(["card", "loan", "mortgage"], [0.45, 0.35, 0.2]),
            "age": rng.integers(18, 90, rows),
            "income": income,
            "loan_amount": rng.lognormal(9.0, 0.8, rows),
            "debt_to_income": rng.gamma(2.0, 0.15, rows),
            "credit_utilisation": utilisation,
            "bureau_score": bureau,
            "score": score,
            "decision": pa.array(np.where(score > 0.7, "decline", np.where(score > 0.4, "refer", "approve")))
            .cast(pa.large_string()),
        })
        assert table.num_columns == FILE_COLUMNS
        pq.write_table(table, path, row_group_size=1_000_000)
    return paths


def run_files(rows: int, seed: int, classifier_sample: int) -> dict[str, float]:
    """``drift.analyse`` end to end on two 12-column Parquet files, every section and figure, per stage.

    Stages (each part of the result is computed when first asked for, in the
    notebook's order): read (open, hash and read both files, cut the windows),
    integrity, profile (fit), summaries (current window, whole and per period),
    drift metrics (compare), over time, segments + prediction + performance,
    multivariate (domain classifier), plots (every figure), tables (every
    table and the summary).
    """
    from mlreport import drift

    reference_path, current_path = write_files(rows, seed)
    parameters = drift.DriftParameters(
        reference_path=str(reference_path), current_path=str(current_path), classifier_sample=classifier_sample,
        seed=seed,
    )
    rss_base = _peak_rss_mb()  # the interpreter and the libraries, before any data
    timings: dict[str, float] = {}
    total, total_cpu = time.perf_counter(), time.process_time()

    def timed(name: str, call: Callable[[], object]) -> object:
        start, cpu = time.perf_counter(), time.process_time()
        result = call()
        timings[name] = time.perf_counter() - start
        timings[f"cpu_{name}"] = time.process_time() - cpu
        return result

    result = drift.analyse(parameters)
    timed("read", lambda: (result.reference, result.current))
    timings["read"] = time.perf_counter() - total
    timings["cpu_read"] = time.process_time() - total_cpu
    data_mb = sum(w.memory_usage(deep=True).sum() for w in (result.reference, result.current)) / 2**20
    timed("integrity", lambda: result.integrity)
    timed("fit", lambda: result.profile)
    timed("summaries", lambda: result.period_summaries)
    timed("metrics", lambda: result.drift_table)
    timed("over_time", lambda: result.over_time)
    rss_read = _peak_rss_mb()
    timed("segments", lambda: (result.segments, result.prediction, result.performance))
    timed("multivariate", lambda: result.classifier)
    timed("plots", lambda: [result.figures[name] for name in result.figures])
    timed("tables", lambda: ([result.tables[name] for name in result.tables], result.summary))
    timings["whole"] = time.perf_counter() - total
    timings["cpu_whole"] = time.process_time() - total_cpu
    return {"rows": rows, "data_mb": data_mb, "rss_peak_mb": _peak_rss_mb(), "rss_base_mb": rss_base,
            "rss_read_mb": rss_read, **timings}


def _kernels_cpu(pid: int) -> float:
    """CPU seconds of the processes ``pid`` (a zygote) forked and reaped so far: its children's times, /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime + cstime


def run_cli(rows: int, seed: int, zygote: bool = False) -> dict[str, float]:
    """``mlreport run drift`` on the same files: kernel, analysis, HTML; wall clock and the children's peak RSS.

    ``zygote``: the run is handed to a warm ``mlreport kernels serve`` (started first, not timed), which forks
    its driver and kernel, as ``fixed_cost.py --zygote`` does; its CPU then includes theirs (the zygote reaps
    them), and the peak RSS is that of the command alone (the kernel is not its child).
    """
    import tempfile

    reference_path, current_path = write_files(rows, seed)
    with tempfile.TemporaryDirectory() as out:
        env = None
        served: subprocess.Popen[bytes] | None = None
        if zygote:
            socket_path = Path(out) / "kernels" / "kernels.sock"
            served = subprocess.Popen(
                [sys.executable, "-m", "mlreport", "kernels", "serve", "--socket", str(socket_path)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
            assert served.stdout is not None
            if served.stdout.readline().strip() != b"ready":
                raise SystemExit("mlreport kernels serve did not start")
            env = {**os.environ, "MLREPORT_KERNEL_ZYGOTE": str(socket_path)}
        try:
            kernels = _kernels_cpu(served.pid) if served else 0.0
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            completed = subprocess.run(
                [sys.executable, "-m", "mlreport", "run", "drift", "--out", str(Path(out) / "runs"), "--json",
                 "--param", f"reference_path={reference_path}", "--param", f"current_path={current_path}"],
                capture_output=True, text=True, env=env,
            )
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            kernel_cpu = 0.0
            if served:
                time.sleep(0.3)  # the zygote reaps the killed kernel at once, the driver when it exits
                kernel_cpu = _kernels_cpu(served.pid) - kernels
                try:
                    run_dir = Path(json.loads(completed.stdout)["run_dir"])
                    kernel = json.loads((run_dir / "run.json").read_text()).get("kernel", {})
                except (ValueError, KeyError, OSError):
                    kernel = {}
                if kernel.get("start") != "forked" or not kernel.get("driver"):
                    raise SystemExit(f"the run was not served by the zygote (kernel: {kernel}); exit "
                                     f"{completed.returncode}: {completed.stderr[-500:]}")
        finally:
            if served:
                served.terminate()
                served.wait()
                if served.stdout is not None:
                    served.stdout.close()
    # CPU of the command and of the processes it waited for (the kernel), user + system
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) + kernel_cpu
    peak = after.ru_maxrss / 1024.0
    return {"rows": rows, "cli": wall, "cli_cpu": cpu, "cli_rss_peak_mb": peak, "exit": completed.returncode,
            "served": zygote}


def _child(mode: str, rows: int, seed: int, classifier_sample: int, zygote: bool = False) -> dict | None:
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--rows", str(rows), "--seed", str(seed),
         "--classifier-sample", str(classifier_sample), *(["--zygote"] if zygote else [])],
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        reason = completed.stderr.strip().splitlines()[-1] if completed.stderr else completed.returncode
        print(f"{rows:>11} failed: {reason}")
        return None
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000],
                        help="rows per side (reference and current)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classifier-sample", type=int, default=20_000, help="domain classifier rows per window")
    parser.add_argument("--child", choices=["univariate", "whole", "files", "cli"], help=argparse.SUPPRESS)
    parser.add_argument("--files", action="store_true",
                        help="only the end-to-end run on 12-column Parquet files (drift.analyse and mlreport run)")
    parser.add_argument("--no-cli", action="store_true", help="with --files, skip `mlreport run drift`")
    parser.add_argument("--zygote", action="store_true",
                        help="with --files, `mlreport run drift` through a warm `mlreport kernels serve` (started "
                             "first, not timed): its driver and kernel forked, as fixed_cost.py --zygote")
    args = parser.parse_args(argv)
    if args.child == "files":
        print(json.dumps(run_files(args.rows[0], args.seed, args.classifier_sample)))
        return 0
    if args.child == "cli":
        print(json.dumps(run_cli(args.rows[0], args.seed, zygote=args.zygote)))
        return 0
    if args.files:
        return files_main(args)
    if args.child == "univariate":
        print(json.dumps(run_child(args.rows[0], args.seed)))
        return 0
    if args.child == "whole":
        print(json.dumps(run_whole(args.rows[0], args.seed, args.classifier_sample)))
        return 0
    header = (
        f"{'rows/side':>11} {'cols':>4} {'fit s':>7} {'summ s':>7} {'cmp s':>6} {'univar s':>9} {'(cpu s)':>8} "
        f"{'overtime s':>10} {'data MiB':>9} {'RSS data':>9} {'RSS peak':>9} {'alloc peak':>10}"
    )
    print(
        "seconds are wall clock (cpu: process CPU time of fit+summarize+compare); memory: process "
        "peak RSS (getrusage ru_maxrss) in MiB after building the data and after the analysis; "
        "data: both frames' memory_usage(deep=True); alloc peak: tracemalloc peak of what the "
        "analysis allocates (second, untimed pass)"
    )
    print(header)
    for rows in args.rows:
        result = _child("univariate", rows, args.seed, args.classifier_sample)
        if result is None:
            continue
        print(
            f"{result['rows']:>11,} {result['columns']:>4} {result['fit']:>7.2f} {result['summarize']:>7.2f} "
            f"{result['compare']:>6.3f} {result['univariate']:>9.2f} {result['univariate_cpu']:>8.2f} "
            f"{result['over_time']:>10.2f} "
            f"{result['data_mb']:>9.0f} {result['rss_after_data_mb']:>9.0f} {result['rss_peak_mb']:>9.0f} "
            f"{result['analysis_peak_mb']:>10.0f}"
        )
        print(f"{'':>11} drifted columns found: {', '.join(result['flagged'])}; periods: {result['periods']}")
    print()
    print(
        "whole drift analysis (every report section, no rendering) on the sample generator's schema, "
        f"rows in all (half reference, half current); classifier on {args.classifier_sample:,} rows per window"
    )
    sections = ["load", "integrity", "fit", "summarize", "compare", "over_time", "prediction", "performance",
                "classifier", "whole"]
    print(f"{'rows':>11} " + " ".join(f"{name:>11}" for name in sections) + f" {'data MiB':>9} {'RSS peak':>9}")
    for rows in args.rows:
        result = _child("whole", rows, args.seed, args.classifier_sample)
        if result is None:
            continue
        print(f"{result['rows']:>11,} " + " ".join(f"{result[name]:>11.2f}" for name in sections)
              + f" {result['data_mb']:>9.0f} {result['rss_peak_mb']:>9.0f}")
    return 0


def _load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def files_main(args: argparse.Namespace) -> int:
    print(
        f"end to end on two {FILE_COLUMNS}-column Parquet files (rows per window) in {DATA_DIR}: drift.analyse in "
        "a fresh process, every section, figure and table; seconds wall clock (time.perf_counter); "
        "(cpu s): process CPU time of each stage (time.process_time: on a shared machine wall time includes waiting "
        "for a core); RSS peak: getrusage ru_maxrss of the process, MiB; data: both windows' memory_usage(deep=True)"
    )
    sections = ["read", "integrity", "fit", "summaries", "metrics", "over_time", "segments", "multivariate",
                "plots", "tables", "whole"]
    print(f"{'rows':>11} " + " ".join(f"{name:>9}" for name in sections) + f" {'data MiB':>9} {'RSS peak':>9}")
    for rows in args.rows:
        write_files(rows, args.seed)
        before = _load()
        result = _child("files", rows, args.seed, args.classifier_sample)
        if result is not None:
            print(f"{result['rows']:>11,} " + " ".join(f"{result[name]:>9.2f}" for name in sections)
                  + f" {result['data_mb']:>9.0f} {result['rss_peak_mb']:>9.0f}   ({before})")
            print(f"{'(cpu s)':>11} " + " ".join(f"{result['cpu_' + name]:>9.2f}" for name in sections))
            added = result["rss_peak_mb"] - result["rss_base_mb"]
            print(f"{'(memory)':>11} RSS before the data {result['rss_base_mb']:.0f} MiB (interpreter and libraries); "
                  f"peak through over_time {result['rss_read_mb']:.0f} MiB; peak added by the run {added:.0f} MiB "
                  f"= {added / result['data_mb']:.2f}x the data")
        if not args.no_cli:
            before = _load()
            cli = _child("cli", rows, args.seed, args.classifier_sample, zygote=args.zygote)
            if cli is not None and cli.get("served"):
                print(f"{'':>11} mlreport run drift, served by a warm `mlreport kernels serve` (driver and kernel "
                      f"forked): {cli['cli']:.2f} s (cpu {cli['cli_cpu']:.2f} s of the command and the forked "
                      f"driver and kernel), exit {cli['exit']}   ({before})")
            elif cli is not None:
                print(f"{'':>11} mlreport run drift: {cli['cli']:.2f} s (cpu {cli.get('cli_cpu', float('nan')):.2f} s "
                      f"of it and its children), exit {cli['exit']}, "
                      f"peak RSS of a child {cli['cli_rss_peak_mb']:.0f} MiB   ({before})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
