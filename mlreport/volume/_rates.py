"""Decision rates per period on control charts: Laney p′, EWMA and tabular CUSUM.

Each decision label's share (and the override rate, when an override column
is given) is charted with Laney p′ limits, an EWMA and a tabular CUSUM
(:mod:`mlreport.stats`) around a seasonal or flat centre
(``rate_baseline``), with an effect-size gate (``rate_min_pp``): the rules
``rate_shift``, ``rate_extreme``, ``rate_out``, ``ewma_out`` and
``cusum_signal`` (:mod:`mlreport.volume`). A flagged rate change is
dated from the change points and the CUSUM's onset estimate, and its size is
measured from that onset on.

Levels from the report's error budget (unless limits are given): over ``c``
charts of ``m`` analysed periods each, a period is ``rate_out`` when its
two-sided tail probability (:func:`mlreport.stats.laney_tails`: the larger of
a binomial with the chart's variance, which keeps the skew of a rate on a few
decisions, and Student's t on the degrees of freedom of ``σ_z``) is below the
``rate_laney`` warning share over ``c m`` periods, ``rate_extreme`` below the
incident share; ``rate_shift`` when ``rate_run`` consecutive periods have a
one-sided tail below ``q`` with ``2 c m q^run`` = its share; the EWMA's ``L``
and the CUSUM's ``h`` come from their in-control run-length distributions over
``m`` periods, averaged over the error of ``σ_z`` (:func:`mlreport.stats.ewma_limit`,
:func:`mlreport.stats.cusum_limit`). The limits drawn are the warning level's
(the t quantile times the chart's σ). The CUSUM is **not reset** after a
signal: a report reads its window once, as a whole, and the sum that stays
above ``h`` shows how long the excursion lasted and dates its start (``N``);
a reset would re-arm the chart and split one shift into several signals. The
budget concerns the first signal (the probability that the run length is at
most ``m``), which a reset does not change; the periods after it belong to
the same excursion, one finding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..counts import DecisionCounts, period_text
from ..findings import worst
from ..stats import (
    CUSUM_METHOD,
    EWMA_METHOD,
    LANEY_METHOD,
    LANEY_SEASONAL_METHOD,
    MOVING_RANGE_DF,
    PERIOD_WORDS,
    PERIODS_PER_WEEK,
    cusum_limit,
    ewma_chart,
    ewma_limit,
    laney_p_chart,
    laney_tails,
    normal_limit,
    tabular_cusum,
)
from ._budget import _Limits
from ._config import VolumeConfig
from ._events import SECTIONS, _episodes, _Event

__all__: list[str] = []

OVERRIDE_LABEL = "override"


@dataclass
class _RateState:
    label: str
    x: np.ndarray
    n: np.ndarray
    rate: np.ndarray
    center: np.ndarray
    pooled: float
    sigma_z: float
    lcl: np.ndarray
    ucl: np.ndarray
    z: np.ndarray
    ewma: Any
    cusum: Any
    rules: list[list[str]]
    severity: list[str]
    analysed: np.ndarray


def _runs_beyond(side: np.ndarray, analysed: np.ndarray, length: int) -> np.ndarray:
    """Periods in runs of >= ``length`` consecutive analysed periods beyond a limit on one side."""
    flagged = np.zeros(side.shape, dtype=bool)
    for start, stop in _episodes(side, ~analysed):
        if analysed[start : stop + 1].sum() >= length:
            flagged[start : stop + 1] = side[start : stop + 1]
    return flagged


def _cusum_shift(cusum: Any, deviation: np.ndarray, analysed: np.ndarray) -> np.ndarray:
    """Mean deviation over the excursion behind each CUSUM signal (NaN elsewhere).

    The signalling sum has been positive for N periods; the mean of the
    deviations over those periods is the size of the shift it detected.
    """
    shift = np.full(deviation.shape, np.nan)
    positions = np.flatnonzero(analysed)
    running = np.concatenate(([0.0], np.cumsum(deviation[positions])))
    for j, i in enumerate(positions):
        if not cusum.signal[i]:
            continue
        run = int(cusum.upper_run[i] if cusum.upper[i] > cusum.h else cusum.lower_run[i])
        run = max(min(run, j + 1), 1)
        shift[i] = (running[j + 1] - running[j + 1 - run]) / run
    return shift


@dataclass(frozen=True)
class _RateLevels:
    """Per-period tail levels of the Laney rules (NaN: the rule uses a given limit in σ instead)."""

    out: float  # two-sided p of rate_out
    extreme: float  # two-sided p of rate_extreme
    run: float  # one-sided p of each period of a rate_shift run


def _resolve_limits(counts: DecisionCounts, config: VolumeConfig, limits: _Limits, charts: int) -> _RateLevels:
    """The rate rules' levels and limits for ``charts`` charts over the analysed periods (module docstring)."""
    totals = counts.overall.sum(axis=1)
    B = counts.baseline_periods
    usable = (counts.exposure > 0) & ~counts.holiday & (totals > 0)
    periods = max(int(usable[B:].sum()), 1)
    moving_ranges = max(int(usable[:B].sum()) - 1, 0)
    df = MOVING_RANGE_DF * moving_ranges if moving_ranges else math.inf
    tests = charts * periods
    limits.rate_charts, limits.rate_periods = charts, periods
    out = config.alpha("rate_laney", "warning") / tests
    extreme = config.alpha("rate_laney", "incident") / tests
    run = (config.alpha("rate_shift", "incident") / (2.0 * tests)) ** (1.0 / config.rate_run)
    limits.laney_L = config.laney_L if config.laney_L is not None else normal_limit(
        config.alpha("rate_laney", "warning"), tests, df)
    limits.extreme_L = max(config.extreme_L if config.extreme_L is not None else normal_limit(
        config.alpha("rate_laney", "incident"), tests, df), limits.laney_L)
    limits.shift_L = config.laney_L if config.laney_L is not None else normal_limit(2.0 * run, 1, df)
    limits.ewma_L = config.ewma_L if config.ewma_L is not None else ewma_limit(
        config.ewma_lambda, periods, config.alpha("rate_ewma", "warning") / charts, df=df)
    limits.cusum_h = config.cusum_h if config.cusum_h is not None else cusum_limit(
        config.cusum_k, periods, config.alpha("rate_cusum", "warning") / charts, df=df)
    return _RateLevels(
        out=math.nan if config.laney_L is not None else out,
        extreme=math.nan if config.extreme_L is not None else extreme,
        run=math.nan if config.laney_L is not None else run,
    )


def _rate_state(label: str, x: np.ndarray, n: np.ndarray, counts: DecisionCounts, config: VolumeConfig,
                limits: _Limits, levels: _RateLevels) -> _RateState:
    B = counts.baseline_periods
    t = np.arange(len(n))
    usable = (counts.exposure > 0) & ~counts.holiday & (n > 0)
    seasonal = config.rate_baseline == "seasonal"
    slots = t % PERIODS_PER_WEEK[counts.period] if seasonal else None
    chart = laney_p_chart(x, n, usable & (t < B), L=limits.laney_L, floor_sigma_z=config.laney_floor,
                          slots=slots)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, x / np.where(n > 0, n, 1.0), np.nan)
    analysed = usable & (t >= B) & np.isfinite(chart.ucl)
    deviation = np.where(analysed, rate - chart.center, np.nan)
    sigma2 = (chart.sigma_z * chart.sigma) ** 2
    # A flat centre is one estimate whose error every analysed period shares (seasonal
    # centres carry their own error inside sigma already).
    phase1_n = n[usable & (t < B)].sum()
    center_variance = (
        chart.sigma_z ** 2 * chart.pooled * (1 - chart.pooled) / phase1_n
        if not seasonal and math.isfinite(chart.pooled) and phase1_n > 0 else 0.0
    )
    ewma = ewma_chart(deviation, 0.0, np.where(analysed, sigma2, np.nan), lam=config.ewma_lambda,
                      L=limits.ewma_L, target_variance=center_variance)
    cusum = tabular_cusum(np.where(analysed, chart.z, np.nan), k=config.cusum_k, h=limits.cusum_h)
    # Effect-size gate: at bank volumes a tenth of a point is "significant" and immaterial.
    minimum = config.rate_min_pp / 100.0
    lower_tail, upper_tail = laney_tails(chart, x, n)
    two_sided = np.minimum(1.0, 2.0 * np.minimum(lower_tail, upper_tail))
    with np.errstate(invalid="ignore"):
        material = np.abs(deviation) >= minimum
        # The limits drawn and tested: the warning level's (t quantile x the chart's σ), or a given L.
        half_width = limits.laney_L * chart.sigma_z * chart.sigma
        chart = replace(chart, lcl=np.clip(chart.center - half_width, 0.0, 1.0),
                        ucl=np.clip(chart.center + half_width, 0.0, 1.0))
        if math.isnan(levels.out):
            above = analysed & (rate > chart.ucl) & material
            below = analysed & (rate < chart.lcl) & material
        else:
            above = analysed & (two_sided < levels.out) & (deviation > 0) & material
            below = analysed & (two_sided < levels.out) & (deviation < 0) & material
        if math.isnan(levels.extreme):
            extreme = analysed & (np.abs(chart.z) > limits.extreme_L) & material
        else:
            extreme = analysed & (two_sided < levels.extreme) & material
        ewma_out = analysed & ewma.out & (np.abs(ewma.statistic) >= minimum)
        if math.isnan(levels.run):
            run_above = analysed & (chart.z > limits.shift_L) & material
            run_below = analysed & (chart.z < -limits.shift_L) & material
        else:
            run_above = analysed & (upper_tail < levels.run) & material
            run_below = analysed & (lower_tail < levels.run) & material
    shift = _runs_beyond(run_above, analysed, config.rate_run) | _runs_beyond(run_below, analysed, config.rate_run)
    masks = {
        "rate_out": above | below,
        "rate_shift": shift,
        "rate_extreme": extreme,
        "ewma_out": ewma_out,
        "cusum_signal": analysed & cusum.signal & (np.abs(_cusum_shift(cusum, deviation, analysed)) >= minimum),
    }
    rules = [[name for name, mask in masks.items() if mask[i]] for i in range(len(n))]
    severity = [worst(config.severity[r] for r in fired) for fired in rules]
    return _RateState(label, x, n, rate, chart.center, chart.pooled, chart.sigma_z, chart.lcl, chart.ucl,
                      chart.z, ewma, cusum, rules, severity, analysed)


def _rate_states(counts: DecisionCounts, config: VolumeConfig, limits: _Limits) -> list[_RateState]:
    totals = counts.overall.sum(axis=1).astype(float)
    override = counts.overrides is not None and counts.override_known is not None
    levels = _resolve_limits(counts, config, limits, len(counts.labels) + int(override))
    states = [
        _rate_state(label, counts.overall[:, d].astype(float), totals, counts, config, limits, levels)
        for d, label in enumerate(counts.labels)
    ]
    if counts.overrides is not None and counts.override_known is not None:
        states.append(_rate_state(OVERRIDE_LABEL, counts.overrides, counts.override_known, counts, config,
                                  limits, levels))
    return states


def _rates_table(counts: DecisionCounts, states: list[_RateState]) -> pd.DataFrame:
    frames = []
    window = np.where(np.arange(len(counts.periods)) < counts.baseline_periods, "baseline", "analysis")
    for st in states:
        frames.append(pd.DataFrame({
            "decision": st.label,
            "period": counts.periods,
            "window": window,
            "n": st.n,
            "count": st.x,
            "rate": st.rate,
            "center": st.center,
            "lcl": st.lcl,
            "ucl": st.ucl,
            "sigma_z": st.sigma_z,
            "z": st.z,
            "ewma": st.ewma.statistic,
            "ewma_lcl": st.ewma.lcl,
            "ewma_ucl": st.ewma.ucl,
            "cusum_upper": st.cusum.upper,
            "cusum_lower": st.cusum.lower,
            "rule": [",".join(r) for r in st.rules],
            "severity": st.severity,
        }))
    return pd.concat(frames, ignore_index=True)


def _rate_onset(st: _RateState, first: int, change_indices: Sequence[int], B: int, window: int) -> int:
    """When a flagged rate change began, from the change points and the CUSUM.

    Candidates: the latest change point between the analysis start and
    ``first`` (the first period at the finding's severity), and the CUSUM's
    onset estimate for the excursion signalling at ``first`` or starting
    within ``window`` periods after it. The earliest candidate wins (a slow
    drift's change point falls mid-ramp, its CUSUM onset near the start);
    without any, ``first``.
    """
    candidates = [max(i for i in change_indices if B <= i <= first)] if any(
        B <= i <= first for i in change_indices) else []
    signal = st.cusum.signal
    run_start = None
    if signal[first]:
        run_start = first
        while run_start > B and (signal[run_start - 1] or np.isnan(st.cusum.upper[run_start - 1])):
            run_start -= 1
        while not signal[run_start]:
            run_start += 1
    else:
        later = np.flatnonzero(signal[first : first + window + 1])
        run_start = first + int(later[0]) if later.size else None
    if run_start is not None:
        onset = st.cusum.onset(run_start)
        if onset >= B:
            candidates.append(min(onset, first))
    return min(candidates) if candidates else first


def _rate_events(
    counts: DecisionCounts, states: list[_RateState], config: VolumeConfig, limits: _Limits,
    rate_changes: Mapping[str, Sequence[int]],
) -> list[_Event]:
    events: list[_Event] = []
    period = counts.period
    B = counts.baseline_periods
    groups = {
        "laney": ("rate_shift", "rate_extreme", "rate_out"),
        "ewma": ("ewma_out",),
        "cusum": ("cusum_signal",),
    }
    budget = (f" (the report's error budget over {limits.rate_charts} charts x {limits.rate_periods} "
              f"{PERIOD_WORDS[period]}s)")
    methods = {
        "laney": _laney_method(config, counts.period, limits.laney_L)
        + f"; incident: {config.rate_run} consecutive periods beyond {limits.shift_L:.2f} σ on one side or one "
        f"beyond {limits.extreme_L:.2f} σ" + budget,
        "ewma": EWMA_METHOD.format(lam=config.ewma_lambda, L=f"{limits.ewma_L:.2f}") + budget,
        "cusum": CUSUM_METHOD.format(k=config.cusum_k, h=f"{limits.cusum_h:.2f}") + budget,
    }
    for st in states:
        if not math.isfinite(st.pooled):
            continue
        subject = f"decision={st.label}" if st.label != OVERRIDE_LABEL else "override"
        name = f"{st.label} rate" if st.label != OVERRIDE_LABEL else "override rate"
        for group, rules in groups.items():
            fired = np.array([any(r in rules for r in fired) for fired in st.rules])
            if not fired.any():
                continue
            levels = [worst(config.severity[r] for r in st.rules[i] if r in rules) for i in range(len(st.n))]
            level = worst(levels)
            if level == "ok":
                continue
            # Date the finding from its most severe periods, not from an early stray warning.
            first = levels.index(level)
            onset = _rate_onset(st, first, rate_changes.get(st.label, ()), B, PERIODS_PER_WEEK[period])
            # The shift is measured against each period's own centre (seasonally adjusted).
            since_mask = st.analysed & (np.arange(len(st.n)) >= onset)
            weight = st.n[since_mask].sum()
            delta = (st.x[since_mask] - st.n[since_mask] * st.center[since_mask]).sum() / weight
            if level == "warning" and abs(delta) * 100 < config.rate_min_pp:
                continue  # isolated excursions without a sustained move: left in the chart only
            pooled = st.pooled + delta
            since = period_text(counts.periods[onset], period)
            k = int(fired.sum())
            phrase = f"{name} {delta * 100:+.1f} pp since {since}"
            what = {"laney": "beyond the Laney p′ limits", "ewma": "with the EWMA beyond its limits",
                    "cusum": "with the CUSUM above h"}[group]
            message = (
                f"{phrase} ({st.pooled:.1%} in the baseline, {pooled:.1%} since, seasonally adjusted); {k} of "
                f"{int(st.analysed.sum())} {PERIOD_WORDS[period]}s {what}, first at {level} level on "
                f"{period_text(counts.periods[first], period)}"
            )
            threshold = round({"laney": limits.laney_L, "ewma": limits.ewma_L, "cusum": limits.cusum_h}[group], 3)
            events.append(_Event(
                kind="rate", check=f"rate_{group}", subject=subject, severity=level, message=message,
                phrase=phrase, what=f"{name} {delta * 100:+.1f} pp", since=since,
                value=delta * 100, threshold=threshold, method=methods[group],
                section=SECTIONS["rates"],
                period=f"{since}/{period_text(counts.periods[-1], period)}", magnitude=abs(delta), onset=onset,
                decision=st.label if st.label != OVERRIDE_LABEL else "",
            ))
    return events


def _laney_method(config: VolumeConfig, period: str, L: float) -> str:
    floor = ", floored at 1" if config.laney_floor else ""
    if config.rate_baseline == "flat":
        return LANEY_METHOD.format(L=f"{L:.2f}", floor=floor)
    slot = {"H": "hour of the week", "D": "weekday", "W": "every week"}[period]
    return LANEY_SEASONAL_METHOD.format(L=f"{L:.2f}", floor=floor, slot=slot)
