"""A/A and power trials of the decision-volume analysis (issue 13), in-process.

Run::

    python benchmarks/trials_volume.py                      # all periods, default trial counts
    python benchmarks/trials_volume.py --aa 100 --power 20  # more trials (about 3 s each)
    python benchmarks/trials_volume.py --periods H D

Every trial generates a fresh decision log that :mod:`mlreport.sample` did not
make (other column names, other shapes): ``weeks`` weeks of hourly traffic of
3 channels x 3 regions with an intraday and weekly profile, a day-to-day
level wobble (lognormal, 5 %), and **overdispersed Poisson counts** (a gamma
mixture, variance ``phi`` x mean with ``phi`` 1.6 per hour and cell, as the
issue measured on real logs), and decision rates per region (3 labels) that
wobble from day to day on the logit scale. The same log is analysed as an
hourly, a daily or a weekly report (``VolumeConfig(period=...)``, all other
settings the defaults).

* **A/A** (:func:`aa_trials`): no change at all. The share of reports that are
  warning or worse must stay at most 5 %, incident at most 1 % (the report's
  error budget, ``alpha_warning`` / ``alpha_incident``); the per-rule columns
  say which rule raised the reports that alarmed (share of trials).
* **Power** (:func:`power_trials`): ``outage``, the partner channel (10
  decisions an hour, flat over the day) silent for 8 hours on a weekday of
  the last week; ``jump``, the approval ("accept") rate of the east region
  +12 pp over the last 6 days. Detection is the share of reports at incident
  level; for the jump also the share that attribute it to the east region
  (top of the segment rate drill-down) and name "accept" as the most moved
  decision.

:func:`trials_table` returns both as one table (one row per period and
scenario); :func:`main` prints it. ``benchmarks/false_alarms.py`` calls
:func:`trials_table`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from mlreport.volume import VolumeConfig, VolumeResult, analyse_volume

START = pd.Timestamp("2026-01-05")
CHANNELS = ("web", "app", "partner")
CHANNEL_RATE = np.array([30.0, 20.0, 10.0])
"""Mean decisions per hour of each channel (the partner channel is flat over the day)."""
REGIONS = ("north", "south", "east")
REGION_SHARE = np.array([0.45, 0.35, 0.20])
LABELS = ("accept", "review", "reject")
REGION_RATES = np.array([[0.62, 0.14, 0.24], [0.58, 0.16, 0.26], [0.55, 0.15, 0.30]])
_HOUR = np.array([0.3, 0.2, 0.15, 0.12, 0.12, 0.2, 0.4, 0.7, 1.0, 1.2, 1.3, 1.3,
                  1.25, 1.3, 1.3, 1.25, 1.2, 1.2, 1.15, 1.1, 1.0, 0.9, 0.7, 0.45])
HOUR_PROFILE = _HOUR / _HOUR.mean()
DAY_PROFILE = np.array([1.0, 1.0, 1.0, 1.0, 1.05, 0.8, 0.65])
ROLES = {"timestamp_column": "event_time", "decision_column": "outcome", "segment_columns": ["source", "area"]}
_HOUR_NS = 3_600_000_000_000


def decision_log(
    seed: int,
    *,
    weeks: int = 6,
    phi: float = 1.6,
    day_noise: float = 0.05,
    rate_noise: float = 0.05,
    outage: tuple[str, pd.Timestamp, pd.Timestamp] | None = None,
    jump: tuple[str, pd.Timestamp, float] | None = None,
) -> pd.DataFrame:
    """A decision log of ``weeks`` weeks from :data:`START` (module docstring).

    ``phi`` the hourly overdispersion of each channel x region cell (1: Poisson);
    ``outage`` (channel, start, end) removes that channel's decisions in
    ``[start, end)``; ``jump`` (region, since, pp) moves ``pp`` of the
    region's decisions from review/reject to accept from ``since`` on.
    """
    rng = np.random.default_rng(seed)
    hours = weeks * 168
    h = np.arange(hours)
    hour_of_day, weekday, day = h % 24, (h // 24) % 7, h // 24
    profile = np.empty((hours, 3))
    profile[:, 0] = profile[:, 1] = HOUR_PROFILE[hour_of_day] * DAY_PROFILE[weekday]
    profile[:, 2] = 1.0
    level = np.exp(rng.normal(0.0, day_noise, weeks * 7) - day_noise**2 / 2)[day]
    mean = (profile * CHANNEL_RATE * level[:, None])[:, :, None] * REGION_SHARE[None, None, :]
    intensity = rng.gamma(mean / (phi - 1.0), phi - 1.0) if phi > 1.0 else mean
    counts = rng.poisson(intensity)
    cells = np.repeat(np.arange(counts.size), counts.ravel())
    hour, channel, region = np.unravel_index(cells, counts.shape)
    stamps = START.value + hour * _HOUR_NS + rng.integers(0, _HOUR_NS, cells.size)
    logits = np.log(REGION_RATES)[None] + rng.normal(0.0, rate_noise, (weeks * 7, 3, 3))
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=2, keepdims=True)
    p = probabilities[hour // 24, region]
    if jump is not None:
        name, since, pp = jump
        after = (stamps >= pd.Timestamp(since).value) & (region == REGIONS.index(name))
        q = p[after].copy()
        moved = np.minimum(pp, q[:, 1] + q[:, 2])
        rest = q[:, 1:] / q[:, 1:].sum(axis=1, keepdims=True)
        q[:, 0] += moved
        q[:, 1:] -= rest * moved[:, None]
        p[after] = q
    decision = np.minimum((rng.random(cells.size)[:, None] > np.cumsum(p, axis=1)).sum(axis=1), 2)
    frame = pd.DataFrame({
        "event_time": pd.to_datetime(stamps), "outcome": np.array(LABELS)[decision],
        "source": np.array(CHANNELS)[channel], "area": np.array(REGIONS)[region],
    })
    if outage is not None:
        name, begin, end = outage
        frame = frame[~((frame["source"] == name) & (frame["event_time"] >= begin) & (frame["event_time"] < end))]
    return frame.sort_values("event_time", ignore_index=True)


def _report(frame: pd.DataFrame, period: str) -> VolumeResult:
    return analyse_volume(frame, VolumeConfig(period=period), **ROLES)  # type: ignore[arg-type]


def _flagged_rules(result: VolumeResult, severities: tuple[str, ...]) -> set[str]:
    return {f.check for f in result.findings if f.severity in severities}


def aa_trials(period: str, trials: int, *, weeks: int = 6, first_seed: int = 1000) -> dict[str, object]:
    """``trials`` reports on clean logs: shares warning+ and incident, and per rule (share of trials)."""
    statuses: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    began = time.perf_counter()
    for seed in range(first_seed, first_seed + trials):
        result = _report(decision_log(seed, weeks=weeks), period)
        statuses[result.status] += 1
        for rule in _flagged_rules(result, ("warning", "incident")):
            rules[rule] += 1
    return {
        "period": period, "scenario": "A/A (no change)", "trials": trials,
        "warning+": (statuses["warning"] + statuses["incident"]) / trials,
        "incident": statuses["incident"] / trials,
        "rules": ", ".join(f"{rule} {count / trials:.0%}" for rule, count in rules.most_common()) or "-",
        "attributed": np.nan,
        "seconds": round(time.perf_counter() - began, 1),
    }


def power_trials(
    period: str, scenario: str, trials: int, *, weeks: int = 6, first_seed: int = 2000
) -> dict[str, object]:
    """``trials`` reports with an injected change (``"outage"`` or ``"jump"``): detection and attribution."""
    end = START + pd.Timedelta(weeks=weeks)
    statuses: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    attributed = 0
    began = time.perf_counter()
    for seed in range(first_seed, first_seed + trials):
        if scenario == "outage":
            begin = end - pd.Timedelta(days=5) + pd.Timedelta(hours=9)  # a weekday of the last week, 09:00
            frame = decision_log(seed, weeks=weeks, outage=("partner", begin, begin + pd.Timedelta(hours=8)))
        elif scenario == "jump":
            frame = decision_log(seed, weeks=weeks, jump=("east", end - pd.Timedelta(days=6), 0.12))
        else:
            raise ValueError(f"scenario {scenario!r} is not 'outage' or 'jump'")
        result = _report(frame, period)
        statuses[result.status] += 1
        for rule in _flagged_rules(result, ("incident",)):
            rules[rule] += 1
        if scenario == "jump":
            top = result.segment_table("rate")
            attributed += bool(
                result.most_moved_decision() == "accept" and not top.empty and top.iloc[0]["segment_value"] == "east"
            )
    label = ("outage: partner channel (10/h) silent 8 h" if scenario == "outage"
             else "jump: east accept rate +12 pp, last 6 days")
    return {
        "period": period, "scenario": label, "trials": trials,
        "warning+": (statuses["warning"] + statuses["incident"]) / trials,
        "incident": statuses["incident"] / trials,
        "rules": ", ".join(f"{rule} {count / trials:.0%}" for rule, count in rules.most_common()) or "-",
        "attributed": attributed / trials if scenario == "jump" else np.nan,
        "seconds": round(time.perf_counter() - began, 1),
    }


def trials_table(
    periods: Sequence[str] = ("H", "D", "W"), *, aa: int = 20, power: int = 5, weeks: int = 6
) -> pd.DataFrame:
    """A/A and power trials per period, one row per period and scenario.

    Columns: period, scenario, trials, ``warning+`` and ``incident`` (shares of
    reports; for A/A the false-alarm rates, for the injected changes the
    detection rates), rules (share of trials each rule flagged: warning or
    worse for A/A, incident for the changes), attributed (jump: share naming
    the east region and "accept"), seconds. The weekly report has only
    ``weeks - 4`` analysed weeks; the outage and jump are intraday/late-window
    changes it is not meant to grade at incident level, so its power rows are
    informative only.
    """
    rows: list[dict[str, object]] = []
    for period in periods:
        if aa:
            rows.append(aa_trials(period, aa, weeks=weeks))
        if power:
            rows.append(power_trials(period, "outage", power, weeks=weeks))
            rows.append(power_trials(period, "jump", power, weeks=weeks))
    return pd.DataFrame(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--periods", nargs="+", default=["H", "D", "W"], choices=["H", "D", "W"])
    parser.add_argument("--aa", type=int, default=20, help="A/A trials per period")
    parser.add_argument("--power", type=int, default=5, help="trials per injected change and period")
    parser.add_argument("--weeks", type=int, default=6, help="weeks of data (4 are the baseline)")
    args = parser.parse_args(argv)
    table = trials_table(args.periods, aa=args.aa, power=args.power, weeks=args.weeks)
    shown = table.copy()
    for column in ("warning+", "incident", "attributed"):
        shown[column] = [f"{v:.1%}" if v == v else "-" for v in table[column]]
    with pd.option_context("display.max_colwidth", 120, "display.width", 200):
        print(shown.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
