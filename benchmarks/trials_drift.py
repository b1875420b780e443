"""A/A and power trials of the drift report: its false-alarm budget and what it still finds.

Run::

    python benchmarks/trials_drift.py                 # the default plan, a few minutes
    python benchmarks/trials_drift.py --scale 5       # five times the trials per cell
    python benchmarks/trials_drift.py --only aa --sizes 500 2000

**A/A trials** (:func:`aa_trials`): reference and current windows drawn from
one distribution, each run through the whole report in-process
(:func:`mlreport.drift.analyse` on two Parquet files, pandas backend, period
by week with a timestamp, chunks of a tenth of the window without one). A
report's status is its worst finding; the budget (``mlreport/drift/_budget.py``)
promises a warning or worse in at most 5% of them and an incident in at most 1%.
Data of five shapes, none of them the report's own sample only:

``credit``  the built-in sample (segments, skewed incomes, integer terms, a score, decisions, labels)
``skewed``  lognormal, exponential and beta features, a five-level segment
``heavy``   Student t with 2 and 1.5 degrees of freedom (no variance), Pareto claims
``rare``    a 40-level Zipf category and a 400-level one (beyond the 50 a profile keeps)
``counts``  Poisson and negative-binomial counts with many zeros, a 1-5 integer

Every synthetic shape has an id, a timestamp over four weeks per window (or
none: ``timestamp=False``), a score from two of its features, a decision from
the score and a 0/1 target drawn from it. ``threshold_mode="learned"`` learns
the bands from the reference's weeks.

**Power trials** (:func:`power_trials`): the same windows with one change in
the current window, on one continuous feature of the shape (``credit``:
loan_amount, ``skewed``: income, ``heavy``: level, ``rare``: amount,
``counts``: balance):

``new_nulls``     10% of its values set to missing
``zero_default``  5% of its values silently set to 0
``shift``         every value moved by 0.3 reference standard deviations

A change is found when a finding at incident level names the changed column.

**10^7 rows** (:func:`large_trials`): the summaries path of a report at scale,
as the DuckDB or Spark backend would run it: a profile fitted on the first
10^6 reference rows, both windows counted on its bins chunk by chunk and the
counts added, feature drift, drift over time (ten chunks) and prediction drift
judged at their shares of the budget; integrity, performance and the domain
classifier on 200,000 rows of each window (``row_sample``), as the report runs
them beyond that.

Every function returns a table (one row per cell): ``kind``, ``size`` (rows per
window), ``shape``, ``timestamp``, ``mode``, ``change``, ``trials``,
``warning_or_worse`` and ``incident`` (shares of trials), ``detected`` (power
trials: share with an incident naming the changed column), ``checks`` (per
check, the trials with a finding at warning or worse, and among them at
incident: ``feature_drift 2 (1)``) and ``seconds``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mlreport import drift, sample
from mlreport.drift import DEFAULT_BUDGET, judged_periods
from mlreport.findings import Finding, worst
from mlreport.integrity import check_integrity
from mlreport.performance import compare_performance
from mlreport.profile import ReferenceProfile, Summaries, merge

SHAPES: tuple[str, ...] = ("credit", "skewed", "heavy", "rare", "counts")
CHANGES: tuple[str, ...] = ("new_nulls", "zero_default", "shift")
#: The continuous feature each shape's changes are made on.
CHANGED_COLUMN = {"credit": "loan_amount", "skewed": "income", "heavy": "level", "rare": "amount",
                  "counts": "balance"}
_TIMESTAMP = {"credit": "timestamp"}
_DAYS = 28


# ---------------------------------------------------------------------------
# data


def _scored(frame: dict[str, np.ndarray], drivers: Sequence[str], rng: np.random.Generator) -> None:
    """A score from the ranks of two features, a decision from it and a 0/1 target drawn from it."""
    z = np.zeros(len(frame[drivers[0]]))
    for name in drivers:
        z += pd.Series(frame[name]).rank(pct=True).to_numpy() - 0.5
    score = 1 / (1 + np.exp(-(2.0 * z - 2.0)))
    frame["score"] = score
    frame["decision"] = np.where(score < 0.15, "approve", np.where(score < 0.3, "refer", "decline"))
    frame["target"] = (rng.random(score.size) < score).astype(np.int64)


def _features(shape: str, rows: int, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], list[str]]:
    out: dict[str, np.ndarray] = {}
    if shape == "skewed":
        out["income"] = rng.lognormal(10, 0.8, rows)
        out["wait_days"] = rng.exponential(3.0, rows)
        out["ratio"] = rng.beta(0.7, 3.0, rows)
        out["segment"] = rng.choice(np.array(["a", "b", "c", "d", "e"]), rows, p=[0.5, 0.2, 0.15, 0.1, 0.05])
        return out, ["income", "ratio"]
    if shape == "heavy":
        out["returns"] = rng.standard_t(2.0, rows)
        out["spread"] = rng.standard_t(1.5, rows)
        out["claim"] = (rng.pareto(1.8, rows) + 1) * 100
        out["level"] = rng.normal(50, 10, rows)
        return out, ["returns", "level"]
    if shape == "rare":
        for name, levels, exponent in (("merchant_type", 40, 1.2), ("city", 400, 1.1)):
            weights = 1.0 / np.arange(1, levels + 1) ** exponent
            labels = np.array([f"{name[0]}{i:03d}" for i in range(levels)])
            out[name] = labels[rng.choice(levels, rows, p=weights / weights.sum())]
        out["amount"] = rng.gamma(2.0, 50.0, rows)
        out["age"] = rng.normal(40, 12, rows).round()
        return out, ["amount", "age"]
    if shape == "counts":
        out["late_payments"] = rng.poisson(0.7, rows)
        out["inquiries"] = rng.negative_binomial(2, 0.4, rows)
        out["products"] = rng.integers(1, 6, rows)
        out["balance"] = rng.normal(1000, 300, rows)
        return out, ["late_payments", "balance"]
    raise ValueError(f"unknown shape {shape!r}; expected one of {', '.join(SHAPES)}")


def window_frame(shape: str, rows: int, seed: int, *, start: str, ids: bool = True) -> pd.DataFrame:
    """One window of a synthetic shape: ``rows`` rows over four weeks from ``start``, sorted by time."""
    rng = np.random.default_rng(seed)
    columns, drivers = _features(shape, rows, rng)
    _scored(columns, drivers, rng)
    frame = pd.DataFrame(columns)
    offsets = np.sort(rng.random(rows)) * _DAYS * 86_400
    frame.insert(0, "event_time", pd.Timestamp(start) + pd.to_timedelta(offsets, unit="s"))
    if ids:
        frame.insert(0, "row_id", pd.Series(np.char.add(f"s{seed}-", np.arange(rows).astype(str))))
    return frame


def windows(shape: str, rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current windows of ``rows`` rows each, drawn from one distribution."""
    if shape == "credit":
        whole = sample.generate(2 * rows, seed=seed, weeks=8, label_delay_days=0)
        middle = whole["timestamp"].min().floor("D") + pd.Timedelta(weeks=4)
        early = whole["timestamp"] < middle
        return whole[early].reset_index(drop=True), whole[~early].reset_index(drop=True)
    return (window_frame(shape, rows, 2 * seed + 1, start="2026-01-05"),
            window_frame(shape, rows, 2 * seed + 2, start="2026-02-02"))


def inject(frame: pd.DataFrame, change: str, column: str, *, scale: float, seed: int) -> pd.DataFrame:
    """``frame`` with one change on ``column`` (see the module docstring); ``scale`` is the reference std."""
    rng = np.random.default_rng(10_000 + seed)
    changed = frame.copy()
    values = changed[column].astype(float).to_numpy(copy=True)
    if change == "new_nulls":
        values[rng.random(values.size) < 0.10] = np.nan
    elif change == "zero_default":
        values[rng.random(values.size) < 0.05] = 0.0
    elif change == "shift":
        values = values + 0.3 * scale
    else:
        raise ValueError(f"unknown change {change!r}; expected one of {', '.join(CHANGES)}")
    changed[column] = values
    return changed


# ---------------------------------------------------------------------------
# one report


@dataclass(frozen=True)
class Outcome:
    """What one report said: its status and its findings at warning or worse."""

    status: str
    flagged: tuple[tuple[str, str, str], ...]  # (check, subject, severity)

    def found(self, column: str) -> bool:
        """True when a finding at incident level names ``column``."""
        return any(severity == "incident" and subject == column for _, subject, severity in self.flagged)


def _outcome(findings: Iterable[Finding]) -> Outcome:
    flagged = tuple((f.check, f.subject, f.severity) for f in findings if f.severity in ("warning", "incident"))
    return Outcome(worst(severity for _, _, severity in flagged), flagged)


def run_report(reference: pd.DataFrame, current: pd.DataFrame, folder: Path, *, timestamp: str = "",
               threshold_mode: str = "fixed") -> Outcome:
    """The whole drift report on two windows written as Parquet files, in-process."""
    if not timestamp:
        reference = reference.drop(columns=[c for c in ("event_time", "timestamp") if c in reference.columns])
        current = current.drop(columns=[c for c in ("event_time", "timestamp") if c in current.columns])
    reference_path, current_path = folder / "reference.parquet", folder / "current.parquet"
    reference.to_parquet(reference_path)
    current.to_parquet(current_path)
    period = "W" if timestamp else str(max(len(current) // 10, 1))
    parameters = drift.DriftParameters(
        reference_path=str(reference_path), current_path=str(current_path), period=period,
        timestamp_column=timestamp, threshold_mode=threshold_mode,
    )
    return _outcome(drift.analyse(parameters).summary.findings)


# ---------------------------------------------------------------------------
# tables


def _checks(outcomes: Sequence[Outcome]) -> str:
    """Per check: the trials with a finding at warning or worse (and at incident), worst first."""
    warned: Counter[str] = Counter()
    incidents: Counter[str] = Counter()
    for outcome in outcomes:
        for check in {check for check, _, _ in outcome.flagged}:
            warned[check] += 1
        for check in {check for check, _, severity in outcome.flagged if severity == "incident"}:
            incidents[check] += 1
    return ", ".join(f"{check} {count} ({incidents[check]})" for check, count in warned.most_common())


def _row(kind: str, size: int, shape: str, timestamp: bool, mode: str, change: str,
         outcomes: Sequence[Outcome], seconds: float, detected: float = float("nan")) -> dict[str, object]:
    trials = len(outcomes)
    return {
        "kind": kind, "size": size, "shape": shape, "timestamp": timestamp, "mode": mode, "change": change,
        "trials": trials,
        "warning_or_worse": sum(o.status != "ok" for o in outcomes) / trials if trials else float("nan"),
        "incident": sum(o.status == "incident" for o in outcomes) / trials if trials else float("nan"),
        "detected": detected, "checks": _checks(outcomes), "seconds": round(seconds, 1),
    }


def _trials(size: int) -> int:
    """Default trials per (size, shape) cell: as many as a few minutes allow."""
    return 12 if size <= 2_000 else 6 if size <= 10_000 else 3 if size <= 50_000 else 1


def aa_trials(
    sizes: Sequence[int] = (500, 2_000, 10_000, 50_000),
    shapes: Sequence[str] = SHAPES,
    *,
    trials: int | Callable[[int], int] = _trials,
    timestamp: bool = True,
    threshold_mode: str = "fixed",
    first_seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """A/A trials: one row per (size, shape), the share of reports at warning or worse and at incident."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            count = trials(size) if callable(trials) else trials
            for shape in shapes:
                started = time.perf_counter()
                outcomes = []
                for seed in range(first_seed, first_seed + count):
                    reference, current = windows(shape, size, seed)
                    ts = _TIMESTAMP.get(shape, "event_time") if timestamp else ""
                    outcomes.append(run_report(reference, current, Path(tmp), timestamp=ts,
                                               threshold_mode=threshold_mode))
                rows.append(_row("A/A", size, shape, timestamp, threshold_mode, "none", outcomes,
                                 time.perf_counter() - started))
                if progress:
                    progress(_line(rows[-1]))
    return pd.DataFrame(rows)


def power_trials(
    sizes: Sequence[int] = (2_000, 10_000, 50_000, 1_000_000),
    changes: Sequence[str] = CHANGES,
    shapes: Sequence[str] = ("skewed", "credit"),
    *,
    trials: int | Callable[[int], int] = lambda size: 4 if size <= 10_000 else 2 if size <= 50_000 else 1,
    first_seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Power trials: one row per (size, change, shape), the share of reports with an incident on the changed column."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            count = trials(size) if callable(trials) else trials
            for change in changes:
                for shape in shapes:
                    started = time.perf_counter()
                    column = CHANGED_COLUMN[shape]
                    outcomes = []
                    for seed in range(first_seed, first_seed + count):
                        reference, current = windows(shape, size, seed)
                        scale = float(reference[column].std())
                        changed = inject(current, change, column, scale=scale, seed=seed)
                        outcomes.append(run_report(reference, changed, Path(tmp),
                                                   timestamp=_TIMESTAMP.get(shape, "event_time")))
                    found = sum(o.found(column) for o in outcomes) / len(outcomes)
                    rows.append(_row("power", size, shape, True, "fixed", change, outcomes,
                                     time.perf_counter() - started, detected=found))
                    if progress:
                        progress(_line(rows[-1]))
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# 10^7 rows: the summaries path


def _large_findings(shape: str, rows: int, seed: int, chunk: int) -> list[Finding]:
    """The findings of a report at scale on two unchanged windows of ``rows`` rows (see the module docstring)."""
    budget = DEFAULT_BUDGET
    chunks = max(rows // chunk, 1)
    features = [c for c in window_frame(shape, 10, 0, start="2026-01-05", ids=False).columns
                if c not in ("event_time", "score", "decision", "target")]
    columns = [*features, "score", "decision"]

    def part(window: int, index: int) -> pd.DataFrame:
        start = "2026-01-05" if window == 0 else "2026-02-02"
        return window_frame(shape, chunk, seed * 1_000_003 + window * 1_009 + index, start=start, ids=False)

    first = part(0, 0)
    profile = ReferenceProfile.fit(first, columns)
    reference = merge([profile.summarize(first), *(profile.summarize(part(0, i)) for i in range(1, chunks))])
    periods: dict[str, Summaries] = {}
    for i in range(chunks):
        periods[f"chunk {i + 1:03d}"] = profile.summarize(part(1, i))
    current = merge(periods.values())
    base = drift.Thresholds()

    def family(name: str) -> drift.Thresholds:
        warning, incident = budget.levels(name)
        return drift.Thresholds(alpha=warning, incident_alpha=incident, correction=base.correction)

    table = drift.compare(profile, reference, current, thresholds=family("feature_drift"), columns=features)
    findings = drift.findings_from_comparison(table)
    judged = judged_periods(periods, min_rows=base.min_period_rows)
    over_time = drift.drift_over_time(profile, reference, judged.parts, thresholds=family("drift_over_time"),
                                      columns=features)
    findings += drift.findings_from_over_time(over_time)
    findings += drift.prediction_drift(profile, reference, current, score="score", decision="decision",
                                       thresholds=family("prediction_drift")).findings
    # The row-level sections on row_sample rows of each window, as the report runs them at this scale.
    held = drift.DEFAULT_ROW_SAMPLE
    ref_rows = window_frame(shape, held, seed * 7 + 1, start="2026-01-05")
    cur_rows = window_frame(shape, held, seed * 7 + 2, start="2026-02-02")
    findings += check_integrity(ref_rows, cur_rows, columns=features, period="D",
                                thresholds=budget.integrity_overrides({})).findings
    findings += compare_performance(ref_rows, cur_rows, score="score", target="target",
                                    thresholds=budget.performance_overrides({}, periods=0)).findings
    findings += drift.domain_classifier(ref_rows, cur_rows, features=features, sample=20_000,
                                        alpha=budget.levels("domain_classifier")).findings
    return findings


def large_trials(rows: int = 10_000_000, shapes: Sequence[str] = ("skewed", "rare"), *, trials: int = 2,
                 chunk: int = 1_000_000, progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """A/A trials at ``rows`` rows per window on the summaries path: one row per shape."""
    table = []
    for shape in shapes:
        started = time.perf_counter()
        outcomes = [_outcome(_large_findings(shape, rows, seed, chunk)) for seed in range(trials)]
        table.append(_row("A/A summaries", rows, shape, False, "fixed", "none", outcomes,
                          time.perf_counter() - started))
        if progress:
            progress(_line(table[-1]))
    return pd.DataFrame(table)


# ---------------------------------------------------------------------------
# command line


def _line(row: dict[str, object]) -> str:
    detected = row["detected"]
    found = f" detected {detected:.0%}" if isinstance(detected, float) and detected == detected else ""
    return (f"{row['kind']:>13} {row['size']:>10,} {row['shape']:>7} ts={row['timestamp']!s:5} {row['mode']:7} "
            f"{row['change']:12} n={row['trials']:<4} warning+ {row['warning_or_worse']:6.1%} incident "
            f"{row['incident']:6.1%}{found}  [{row['checks']}] {row['seconds']}s")


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    """Run the trials of the plan (or a part of it), print each cell as it finishes and the table at the end."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("aa", "learned", "untimed", "power", "large"), action="append")
    parser.add_argument("--sizes", type=int, nargs="*")
    parser.add_argument("--shapes", nargs="*", choices=SHAPES)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the trials per cell")
    parser.add_argument("--seed", type=int, default=0, help="first seed (for more trials beyond a run)")
    args = parser.parse_args(argv)
    parts = args.only or ["aa", "learned", "untimed", "power", "large"]
    shapes = args.shapes or SHAPES

    def scaled(base: Callable[[int], int]) -> Callable[[int], int]:
        return lambda size: max(1, round(base(size) * args.scale))

    tables = []
    if "aa" in parts:
        tables.append(aa_trials(args.sizes or (500, 2_000, 10_000, 50_000), shapes, trials=scaled(_trials),
                                first_seed=args.seed, progress=print))
    if "untimed" in parts:
        tables.append(aa_trials(args.sizes or (500, 10_000), shapes, trials=scaled(lambda s: 6 if s <= 2_000 else 2),
                                timestamp=False, first_seed=args.seed, progress=print))
    if "learned" in parts:
        tables.append(aa_trials(args.sizes or (2_000, 50_000), shapes, trials=scaled(lambda s: 6 if s <= 2_000 else 2),
                                threshold_mode="learned", first_seed=args.seed, progress=print))
    if "power" in parts:
        tables.append(power_trials(args.sizes or (2_000, 10_000, 50_000, 1_000_000),
                                   trials=scaled(lambda s: 4 if s <= 10_000 else 2 if s <= 50_000 else 1),
                                   first_seed=args.seed, progress=print))
    if "large" in parts:
        tables.append(large_trials(trials=max(1, round(2 * args.scale)), progress=print))
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    with pd.option_context("display.width", 200, "display.max_colwidth", 80, "display.max_rows", 500):
        print(table.drop(columns=["checks"]).to_string(index=False))
    return table


if __name__ == "__main__":
    main()
