"""Is a verdict a promise? False alarms on unchanged data and power on injected changes, drift and volume.

Run::

    python benchmarks/false_alarms.py            # both analyses, a short plan (about 10 min on 2 cores)
    python benchmarks/false_alarms.py --full     # the plans of trials_drift.py and trials_volume.py (longer)
    python benchmarks/false_alarms.py --only volume --aa 100

It runs the A/A and power trials of :mod:`trials_drift` and
:mod:`trials_volume` in-process and prints, per analysis and cell, the
observed share of reports at warning or worse and at incident, with a
**one-sided 95% Clopper-Pearson upper bound** on the true rate: a report's
budget (warning or worse in at most 5% of unchanged runs, incident in at most
1%) is *shown* only where that bound is below it, and merely *not contradicted*
where the observed rate is within the budget but the trials are too few to
bound it (0 alarms in 60 trials bounds the rate at 4.9%; showing 1% needs
about 300 clean trials). Power rows give the share of injected changes found
at incident level.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from scipy.stats import beta

sys.path.insert(0, str(Path(__file__).resolve().parent))

import trials_drift  # the benchmarks folder is not a package: its siblings by path
import trials_volume

WARNING_BUDGET = 0.05
INCIDENT_BUDGET = 0.01


def upper_bound(alarms: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound on a rate seen as ``alarms`` in ``trials``."""
    if trials <= 0:
        return float("nan")
    return 1.0 if alarms >= trials else float(beta.ppf(confidence, alarms + 1, trials - alarms))


def verdict(observed: float, bound: float, budget: float) -> str:
    """``shown``: the upper bound is within the budget; ``not contradicted``: only the rate is; else over."""
    if bound <= budget:
        return "shown"
    return "not contradicted" if observed <= budget else "OVER BUDGET"


def _aa_rows(analysis: str, cells: pd.DataFrame, label: Sequence[str], warn: str, incident: str) -> list[dict]:
    rows = []
    for record in cells.to_dict("records"):
        trials = int(record["trials"])
        warned, incidents = round(float(record[warn]) * trials), round(float(record[incident]) * trials)
        w_bound, i_bound = upper_bound(warned, trials), upper_bound(incidents, trials)
        rows.append({
            "analysis": analysis, "cell": " ".join(str(record[c]) for c in label), "trials": trials,
            "warning+": f"{warned}/{trials}", "warning+ 95% bound": f"{w_bound:.1%}",
            "warning budget": verdict(warned / trials, w_bound, WARNING_BUDGET),
            "incident": f"{incidents}/{trials}", "incident 95% bound": f"{i_bound:.1%}",
            "incident budget": verdict(incidents / trials, i_bound, INCIDENT_BUDGET),
            "alarms": warned, "incidents": incidents,  # the counts, for pooling (not printed)
        })
    return rows


def drift_tables(full: bool, scale: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A/A and power cells of the drift report (every shape; sizes short unless ``full``)."""
    sizes = (500, 2_000, 10_000, 50_000) if full else (500, 2_000)
    per = (lambda s: max(1, round(scale * (12 if s <= 2_000 else 6 if s <= 10_000 else 3)))) if full else (
        lambda s: max(1, round(scale * 4)))
    aa = pd.concat([
        trials_drift.aa_trials(sizes, trials=per, progress=print),
        trials_drift.aa_trials((2_000,), trials=lambda s: max(1, round(scale * 3)), timestamp=False, progress=print),
    ], ignore_index=True)
    power_sizes = (2_000, 10_000, 50_000, 1_000_000) if full else (2_000, 10_000)
    power = trials_drift.power_trials(power_sizes, trials=lambda s: max(1, round(scale * (4 if s <= 10_000 else 1))),
                                      progress=print)
    return aa, power


def volume_table(full: bool, aa: int | None, power: int | None) -> pd.DataFrame:
    """A/A and power rows of the volume report, hourly, daily and weekly."""
    return trials_volume.trials_table(
        ("H", "D", "W"), aa=aa if aa is not None else (20 if full else 8), power=power if power is not None else (
            5 if full else 2))


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("drift", "volume"), action="append")
    parser.add_argument("--full", action="store_true", help="the longer plans (more sizes and trials)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the drift trials per cell")
    parser.add_argument("--aa", type=int, help="volume A/A trials per period")
    parser.add_argument("--power", type=int, help="volume trials per injected change and period")
    args = parser.parse_args(argv)
    parts = args.only or ["drift", "volume"]
    aa_rows: list[dict] = []
    power_rows: list[dict] = []
    if "drift" in parts:
        aa, power = drift_tables(args.full, args.scale)
        aa_rows += _aa_rows("drift", aa, ("size", "shape", "timestamp", "mode"), "warning_or_worse", "incident")
        for record in power.to_dict("records"):
            power_rows.append({"analysis": "drift", "cell": f"{record['size']} {record['shape']}",
                               "change": record["change"], "trials": record["trials"],
                               "found at incident": f"{record['detected']:.0%}"})
    if "volume" in parts:
        table = volume_table(args.full, args.aa, args.power)
        clean = table[table["scenario"].str.startswith("A/A")]
        aa_rows += _aa_rows("volume", clean, ("period",), "warning+", "incident")
        for record in table[~table["scenario"].str.startswith("A/A")].to_dict("records"):
            attributed = record["attributed"]
            power_rows.append({"analysis": "volume", "cell": f"period {record['period']}",
                               "change": record["scenario"], "trials": record["trials"],
                               "found at incident": f"{record['incident']:.0%}"
                               + (f" (attributed {attributed:.0%})" if attributed == attributed else "")})
    summary = pd.DataFrame(aa_rows)
    with pd.option_context("display.width", 220, "display.max_colwidth", 60, "display.max_rows", 500):
        print("\nFalse alarms on unchanged data (budget: warning+ <= 5%, incident <= 1% of reports)")
        print(summary.drop(columns=["alarms", "incidents"], errors="ignore").to_string(index=False))
        print("\nDetection of injected changes")
        print(pd.DataFrame(power_rows).to_string(index=False))
    if not summary.empty:
        pooled = summary.groupby("analysis")[["alarms", "incidents", "trials"]].sum()
        print("\nPooled over cells (bounds the average rate over the cells run)")
        for analysis, row in pooled.iterrows():
            w, i, n = int(row["alarms"]), int(row["incidents"]), int(row["trials"])
            print(f"  {analysis}: warning+ {w}/{n} (95% bound {upper_bound(w, n):.1%}), "
                  f"incident {i}/{n} (95% bound {upper_bound(i, n):.1%})")
    return summary


if __name__ == "__main__":
    main()
