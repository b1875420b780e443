"""Segment drill-down: which segment levels the change in volume and in decision rates comes from.

Per segment level: the window volume against the sum of its seasonal
expectations (quasi-Poisson with the shared baseline error of same-slot
periods), and the change in each decision rate split by shift-share
decomposition (:func:`shift_share`) into mix and within effects that add up
to the overall change; Benjamini-Hochberg across all segment levels of all
segment columns. Also flags new segment levels and a decision share of 0 % or
100 % that the baseline makes improbable.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..counts import DecisionCounts, period_text
from ..findings import worst
from ..stats import PERIODS_PER_WEEK, count_tail
from ._config import VolumeConfig
from ._events import SECTIONS, _about, _Event, _phrase
from ._mix import _bh, _window_sums
from ._seasonal import _VolumeState

__all__ = ["shift_share"]


def shift_share(
    baseline_totals: np.ndarray,
    baseline_counts: np.ndarray,
    current_totals: np.ndarray,
    current_counts: np.ndarray,
) -> pd.DataFrame:
    """Shift-share decomposition of the change in an overall rate across segments.

    With segment weights ``w_s = n_s / n`` and rates ``p_s = x_s / n_s`` in the
    baseline (b) and current (c) windows, and ``p^b`` the overall baseline rate::

        p^c - p^b = Σ_s [ (w_s^c - w_s^b)(p_s^b - p^b)   mix effect: volume moved
                                                          towards segments whose
                                                          rate is above average
                        + w_s^c (p_s^c - p_s^b) ]         within effect: the segment's
                                                          own rate moved

    exactly (the mix term is centred on ``p^b``, which changes nothing in the
    sum because Σ (w^c - w^b) = 0, and makes each segment's term readable). A
    segment new in the current window takes ``p_s^b = p^b``; one absent from
    it has ``w_s^c = 0``. Returns a frame with columns ``baseline_weight,
    current_weight, baseline_rate, current_rate, mix_effect, within_effect,
    contribution`` (rates as fractions), one row per segment.
    """
    nb = np.asarray(baseline_totals, dtype=float)
    xb = np.asarray(baseline_counts, dtype=float)
    nc = np.asarray(current_totals, dtype=float)
    xc = np.asarray(current_counts, dtype=float)
    wb = nb / nb.sum() if nb.sum() > 0 else np.zeros_like(nb)
    wc = nc / nc.sum() if nc.sum() > 0 else np.zeros_like(nc)
    overall_b = xb.sum() / nb.sum() if nb.sum() > 0 else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        pb = np.where(nb > 0, xb / np.where(nb > 0, nb, 1.0), np.nan)
        pc = np.where(nc > 0, xc / np.where(nc > 0, nc, 1.0), np.nan)
    pb_filled = np.where(nb > 0, pb, overall_b)
    mix = (wc - wb) * (pb_filled - overall_b)
    within = np.where(nc > 0, wc * (np.where(nc > 0, pc, 0.0) - pb_filled), 0.0)
    return pd.DataFrame(
        {
            "baseline_weight": wb,
            "current_weight": wc,
            "baseline_rate": pb,
            "current_rate": pc,
            "mix_effect": mix,
            "within_effect": within,
            "contribution": mix + within,
        }
    )


def _contributions(
    counts: DecisionCounts, state: _VolumeState, mix_tests: pd.DataFrame, config: VolumeConfig
) -> tuple[pd.DataFrame, list[_Event]]:
    events: list[_Event] = []
    series = state.series
    y = series.counts
    B = counts.baseline_periods
    ppw = PERIODS_PER_WEEK[counts.period]
    n_periods = y.shape[0]
    rows: list[dict[str, Any]] = []
    # Volume: observed vs expected over the assessed periods of each segment level.
    segment_index = [s for s in range(len(series.names)) if series.columns[s] is not None]
    slot = np.arange(n_periods) % ppw
    p_values = np.full(len(series.names), np.nan)
    observed = np.zeros(len(series.names))
    expected = np.zeros(len(series.names))
    for s in segment_index:
        assessed = state.assessed[:, s]
        if not assessed.any():
            # Nothing to compare with (a level new in the analysis window): all of its
            # volume is change against an expectation of 0, untested.
            observed[s] = y[B:, s].sum()
            continue
        mu = np.where(assessed, state.expected[:, s], 0.0)
        observed[s] = y[assessed, s].sum()
        expected[s] = mu.sum()
        # Fixed-baseline errors are shared by analysed periods of the same slot (see baseline.py).
        same_slot = np.bincount(slot[assessed], minlength=ppw)[slot]
        with np.errstate(divide="ignore", invalid="ignore"):
            inflation = 1.0 + math.pi / (2.0 * np.maximum(state.lags[:, s], 1)) * same_slot
        variance = state.dispersion[s] * np.sum(mu * inflation)
        if expected[s] > 0:
            _, _, p = count_tail(np.array([observed[s]]), np.array([expected[s]]),
                                 np.array([variance / expected[s]]), state.df[s])
            p_values[s] = p[0]
    q_values = np.full(len(series.names), np.nan)
    q_values[segment_index] = _bh(p_values[segment_index])
    baseline_volume = y[:B].sum(axis=0)
    current_volume = y[B:].sum(axis=0)
    column_change: dict[str | None, float] = {}
    for s in segment_index:
        column_change[series.columns[s]] = column_change.get(series.columns[s], 0.0) + (observed[s] - expected[s])
    for s in segment_index:
        column, value = series.columns[s], series.values[s]
        change = observed[s] - expected[s]
        relative = change / expected[s] if expected[s] > 0 else math.nan
        flags = []
        new = baseline_volume[s] == 0 and current_volume[s] > 0
        if new:
            flags.append(f"new since {period_text(counts.periods[int(state.first_seen[s])], counts.period)}")
        zero_periods = np.flatnonzero(state.zero[B:, s])
        if zero_periods.size and not (y[B + zero_periods[-1] + 1 :, s] > 0).any():
            flags.append(f"0 since {period_text(counts.periods[B + zero_periods[0]], counts.period)}")
        rule, level = ("segment_new", config.severity["segment_new"]) if new else ("", "ok")
        q = q_values[s]
        big = abs(change) >= config.min_change
        if math.isfinite(q) and big:
            if q < config.p_incident and abs(relative) >= config.rel_incident:
                rule, level = "segment_volume_large", config.severity["segment_volume_large"]
            elif q < config.p_warning and abs(relative) >= config.rel_warning:
                rule, level = "segment_volume", config.severity["segment_volume"]
        total = column_change[column]
        rows.append({"segment_column": column, "segment_value": value, "metric": "volume",
                     "baseline": float(baseline_volume[s]), "current": observed[s], "expected": expected[s],
                     "change": change, "relative_change": relative, "mix_effect": np.nan,
                     "within_effect": np.nan, "contribution": change,
                     "share_of_change": change / total if total else np.nan, "p_value": p_values[s],
                     "q_value": q, "flags": "; ".join(flags), "rule": rule, "severity": level})
        phrase = _phrase(column, value)
        if new:
            events.append(_Event(
                kind="segment", check="segment_new", subject=series.names[s],
                severity=config.severity["segment_new"],
                message=f"{phrase}: no volume in the baseline, {current_volume[s]:,.0f} decisions since "
                f"{period_text(counts.periods[int(state.first_seen[s])], counts.period)} (not tested: no baseline)",
                phrase=f"new segment {phrase}", value=float(current_volume[s]), method="baseline volume = 0",
                section=SECTIONS["segments"], magnitude=float(current_volume[s]),
            ))
        if level != "ok" and rule != "segment_new":
            events.append(_Event(
                kind="segment", check=rule, subject=series.names[s], severity=level,
                message=f"{phrase} volume {relative:+.0%} over the analysis window ({observed[s]:,.0f} "
                f"observed, about {_about(expected[s])} expected; BH q = {q:.1e})",
                phrase=f"{phrase} volume {relative:+.0%} over the analysis window",
                value=relative, threshold=config.rel_incident if level == "incident" else config.rel_warning,
                method="window total vs the sum of seasonal expectations, quasi-Poisson with the shared "
                "baseline error of same-slot periods, Benjamini-Hochberg across all segment levels",
                section=SECTIONS["segments"], magnitude=abs(relative),
            ))
    # Rates: shift-share per decision label and segment column.
    tests = {str(test["scope"]): test for test in mix_tests.to_dict("records")}
    for name, (levels, cube) in counts.segments.items():
        base, current = _window_sums(cube, counts)  # [L, D]
        nb, nc = base.sum(axis=1), current.sum(axis=1)
        for d, label in enumerate(counts.labels):
            parts = {key: parts_column.to_numpy() for key, parts_column in
                     shift_share(nb, base[:, d], nc, current[:, d]).items()}
            overall_change = (current[:, d].sum() / nc.sum() if nc.sum() else math.nan) - (
                base[:, d].sum() / nb.sum() if nb.sum() else math.nan)
            for j, level in enumerate(levels):
                scope = f"{name}={level}"
                test = tests.get(scope)
                flags = []
                pb, pc = parts["baseline_rate"][j], parts["current_rate"][j]
                rule, severity = "", "ok"
                if test is not None and nc[j] > 0 and math.isfinite(pb) and 0.0 < pb < 1.0 and pc in (0.0, 1.0):
                    probability = (1.0 - pb) ** nc[j] if pc == 0.0 else pb ** nc[j]
                    if probability < config.p_incident:
                        flags.append(f"{label} share {pc:.0%} (baseline {pb:.1%})")
                        rule, severity = "segment_share_extreme", config.severity["segment_share_extreme"]
                        events.append(_Event(
                            kind="segment", check=rule, subject=scope, severity=severity,
                            message=f"{_phrase(name, level)}: {label} share {pc:.0%} in the current window "
                            f"({nc[j]:,.0f} decisions) against {pb:.1%} in the baseline",
                            phrase=f"{_phrase(name, level)} {label} share {pc:.0%}", value=pc * 100,
                            threshold=config.p_incident,
                            method="binomial probability of a 0 % or 100 % share under the baseline share",
                            section=SECTIONS["segments"], magnitude=abs(pc - pb),
                        ))
                rows.append({
                    "segment_column": name, "segment_value": level, "metric": f"rate:{label}",
                    "baseline": pb, "current": pc, "expected": np.nan,
                    "change": pc - pb if math.isfinite(pb) and math.isfinite(pc) else np.nan,
                    "relative_change": np.nan, "mix_effect": parts["mix_effect"][j],
                    "within_effect": parts["within_effect"][j], "contribution": parts["contribution"][j],
                    "share_of_change": parts["contribution"][j] / overall_change if overall_change else np.nan,
                    "p_value": float(test["p_value"]) if test is not None else np.nan,
                    "q_value": float(test["q_value"]) if test is not None else np.nan,
                    "flags": "; ".join(flags), "rule": rule or (test["rule"] if test is not None else ""),
                    "severity": worst([severity, test["severity"] if test is not None else "ok"]),
                })
    table = pd.DataFrame(rows, columns=[
        "segment_column", "segment_value", "metric", "baseline", "current", "expected", "change",
        "relative_change", "mix_effect", "within_effect", "contribution", "share_of_change", "p_value",
        "q_value", "flags", "rule", "severity"])
    if not table.empty:
        table["rank"] = table.groupby("metric")["contribution"].transform(
            lambda c: c.abs().rank(ascending=False, method="first")).astype(int)
    else:
        table["rank"] = pd.Series(dtype=int)
    return table, events
