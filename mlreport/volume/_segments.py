"""Segment drill-down: which segment levels the change in volume and in decision rates comes from.

Tests per segment level, each **from the level's own onset** (the scans of
:mod:`mlreport.volume`, ``_onset``), Benjamini-Hochberg across all segment
levels of all segment columns, at the ``segment_volume`` / ``segment_mix``
shares of the report's error budget: the volume against the sum of its
seasonal expectations (quasi-Poisson with the shared baseline error of
same-slot periods); the decision mix (``_mix``); a decision share of 0 % or
100 % that the baseline makes improbable; new segment levels.

Attribution, **from the onset of the change being explained**: the change
in each decision rate split by shift-share decomposition (:func:`shift_share`)
into mix and within effects that add up to the overall change over the same
window, and each level's volume against its expectation, both measured from
the onset of the report's most severe rate (volume) finding; the analysis
start when nothing was flagged. A change in the last days of the window is so
attributed to its segment, not diluted over the whole window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..counts import DecisionCounts, period_text
from ..findings import worst
from ._budget import _Limits
from ._config import VolumeConfig
from ._events import SECTIONS, _about, _Event, _phrase
from ._mix import SEGMENT_MIX_FRACTION, _bh, _levels
from ._onset import _MixScan, _volume_scan, _VolumeScan
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


@dataclass
class _SegmentVolume:
    """The volume tests of the segment levels: each level's scan, BH q-value, rule and severity."""

    scans: dict[int, _VolumeScan]
    q_values: np.ndarray  # [S], NaN for overall and untested levels
    rules: dict[int, tuple[str, str]]


def _segment_volume(counts: DecisionCounts, state: _VolumeState, config: VolumeConfig,
                    limits: _Limits) -> tuple[_SegmentVolume, list[_Event]]:
    """Each segment level's volume from its onset against its seasonal expectation; new levels."""
    series = state.series
    y = series.counts
    B = counts.baseline_periods
    segment_index = [s for s in range(len(series.names)) if series.columns[s] is not None]
    scans: dict[int, _VolumeScan] = {}
    adjusted = np.full(len(series.names), np.nan)
    for s in segment_index:
        if not state.assessed[:, s].any():
            continue  # a level new in the analysis window: nothing to compare with
        scans[s] = _volume_scan(y[:, s], state.expected[:, s], state.assessed[:, s], float(state.dispersion[s]),
                                float(state.df[s]), state.lags[:, s], counts, min_size=config.changepoint_min_size)
        adjusted[s] = scans[s].adjusted
    q_values = np.full(len(series.names), np.nan)
    q_values[segment_index] = _bh(adjusted[segment_index])
    warning, incident = _levels(config, "segment_volume")
    limits.segment_onsets = max((scan.candidates for scan in scans.values()), default=0)
    rules: dict[int, tuple[str, str]] = {}
    events: list[_Event] = []
    baseline_volume = y[:B].sum(axis=0)
    current_volume = y[B:].sum(axis=0)
    for s in segment_index:
        phrase = _phrase(series.columns[s], series.values[s])
        if baseline_volume[s] == 0 and current_volume[s] > 0:
            rules[s] = ("segment_new", config.severity["segment_new"])
            since = period_text(counts.periods[int(state.first_seen[s])], counts.period)
            events.append(_Event(
                kind="segment", check="segment_new", subject=series.names[s],
                severity=config.severity["segment_new"],
                message=f"{phrase}: no volume in the baseline, {current_volume[s]:,.0f} decisions since "
                f"{since} (not tested: no baseline)",
                phrase=f"new segment {phrase}", value=float(current_volume[s]), method="baseline volume = 0",
                section=SECTIONS["segments"], magnitude=float(current_volume[s]),
            ))
            continue
        scan = scans.get(s)
        q = q_values[s]
        if scan is None or not math.isfinite(q) or scan.expected <= 0:
            continue
        change = scan.observed - scan.expected
        relative = change / scan.expected
        if abs(change) < config.min_change:
            continue
        if q < incident and abs(relative) >= config.rel_incident:
            rule = "segment_volume_large"
        elif q < warning and abs(relative) >= config.rel_warning:
            rule = "segment_volume"
        else:
            continue
        level = config.severity[rule]
        rules[s] = (rule, level)
        if level == "ok":
            continue
        since = period_text(counts.periods[scan.onset], counts.period)
        events.append(_Event(
            kind="segment", check=rule, subject=series.names[s], severity=level,
            message=f"{phrase} volume {relative:+.0%} since {since} ({scan.observed:,.0f} observed, about "
            f"{_about(scan.expected)} expected; BH q = {q:.1e}, {scan.candidates} onsets scanned)",
            phrase=f"{phrase} volume {relative:+.0%} since {since}",
            value=relative, threshold=config.rel_incident if level == "incident" else config.rel_warning,
            method="volume from the most significant onset on against the sum of seasonal expectations, "
            "quasi-Poisson with the shared baseline error of same-slot periods, Bonferroni over the onsets, "
            f"Benjamini-Hochberg across all segment levels at q < {warning:.2g} (warning) / {incident:.2g} "
            f"(incident), with abs(obs/exp - 1) >= {config.rel_warning:g} / {config.rel_incident:g}",
            section=SECTIONS["segments"], magnitude=abs(relative), onset=scan.onset,
        ))
    return _SegmentVolume(scans, q_values, rules), events


def _share_extreme(counts: DecisionCounts, scans: dict[str, _MixScan], config: VolumeConfig
                   ) -> tuple[dict[tuple[str, str], str], list[_Event]]:
    """A segment's decision share at 0 % or 100 % from its onset while its baseline share makes that improbable.

    The binomial probability ``(1 - p_b)^n`` (or ``p_b^n``) below the tenth of
    the ``segment_mix`` incident share over levels x labels x onsets.
    """
    flags: dict[tuple[str, str], str] = {}
    events: list[_Event] = []
    segment_scans = {scope: scan for scope, scan in scans.items() if scope != "overall"}
    tests = sum(scan.candidates * len(counts.labels) for scan in segment_scans.values())
    level = config.p_incident if config.p_incident is not None else (
        config.alpha("segment_mix", "incident") * (1.0 - SEGMENT_MIX_FRACTION) / max(tests, 1))
    for scope, scan in segment_scans.items():
        n_current = float(np.nansum(scan.observed))
        n_base = float(scan.baseline.sum())
        if n_current <= 0 or n_base <= 0:
            continue
        name, value = scope.split("=", 1)
        for d, label in enumerate(counts.labels):
            pb = scan.baseline[d] / n_base
            pc = scan.observed[d] / n_current
            if not (0.0 < pb < 1.0 and pc in (0.0, 1.0)):
                continue
            probability = (1.0 - pb) ** n_current if pc == 0.0 else pb ** n_current
            if probability >= level:
                continue
            flags[(scope, label)] = f"{label} share {pc:.0%} (baseline {pb:.1%})"
            since = period_text(counts.periods[scan.onset], counts.period)
            events.append(_Event(
                kind="segment", check="segment_share_extreme", subject=scope,
                severity=config.severity["segment_share_extreme"],
                message=f"{_phrase(name, value)}: {label} share {pc:.0%} since {since} ({n_current:,.0f} "
                f"decisions) against {pb:.1%} in the baseline",
                phrase=f"{_phrase(name, value)} {label} share {pc:.0%}", value=pc * 100, threshold=level,
                method="binomial probability of a 0 % or 100 % share under the baseline share, below the "
                "report's segment_mix incident share over levels x labels x onsets",
                section=SECTIONS["segments"], magnitude=abs(pc - pb), onset=scan.onset, decision=label,
            ))
    return flags, events


def _contributions(
    counts: DecisionCounts, state: _VolumeState, tests: _SegmentVolume, mix_tests: pd.DataFrame,
    shares: dict[tuple[str, str], str], *, volume_onset: int, rate_onset: int,
) -> pd.DataFrame:
    """Each segment level's contribution to the change in volume and in each decision rate (module docstring).

    Volume from ``volume_onset``: observed minus expected over the assessed
    periods from it, and its share of the column's change; the level's own
    test (its scan's BH q) beside it. Rates from ``rate_onset``: shift-share
    of the change since then against the baseline, which adds up to the
    overall change over the same window.
    """
    series = state.series
    y = series.counts
    B = counts.baseline_periods
    usable = (counts.exposure > 0) & ~counts.holiday
    rows: list[dict[str, Any]] = []
    segment_index = [s for s in range(len(series.names)) if series.columns[s] is not None]
    window = np.arange(len(counts.periods)) >= volume_onset
    observed = np.zeros(len(series.names))
    expected = np.zeros(len(series.names))
    for s in segment_index:
        assessed = state.assessed[:, s] & window
        if state.assessed[:, s].any():
            observed[s] = y[assessed, s].sum()
            expected[s] = np.nansum(np.where(assessed, state.expected[:, s], 0.0))
        else:
            observed[s] = y[max(volume_onset, B):, s].sum()  # new level: all of it is change against 0
    baseline_volume = y[:B].sum(axis=0)
    column_change: dict[str | None, float] = {}
    for s in segment_index:
        column_change[series.columns[s]] = column_change.get(series.columns[s], 0.0) + (observed[s] - expected[s])
    volume_since = counts.periods[volume_onset]
    for s in segment_index:
        column, value = series.columns[s], series.values[s]
        change = observed[s] - expected[s]
        relative = change / expected[s] if expected[s] > 0 else math.nan
        flags = []
        if baseline_volume[s] == 0 and y[B:, s].sum() > 0:
            flags.append(f"new since {period_text(counts.periods[int(state.first_seen[s])], counts.period)}")
        zero_periods = np.flatnonzero(state.zero[B:, s])
        if zero_periods.size and not (y[B + zero_periods[-1] + 1 :, s] > 0).any():
            flags.append(f"0 since {period_text(counts.periods[B + zero_periods[0]], counts.period)}")
        scan = tests.scans.get(s)
        if scan is not None and scan.candidates:
            flags.append(f"own onset {period_text(counts.periods[scan.onset], counts.period)}")
        rule, level = tests.rules.get(s, ("", "ok"))
        total = column_change[column]
        rows.append({"segment_column": column, "segment_value": value, "metric": "volume", "since": volume_since,
                     "baseline": float(baseline_volume[s]), "current": observed[s], "expected": expected[s],
                     "change": change, "relative_change": relative, "mix_effect": np.nan,
                     "within_effect": np.nan, "contribution": change,
                     "share_of_change": change / total if total else np.nan,
                     "p_value": scan.adjusted if scan is not None else np.nan, "q_value": tests.q_values[s],
                     "flags": "; ".join(flags), "rule": rule, "severity": level})
    # Rates: shift-share per decision label and segment column, from the rate onset.
    by_scope = {str(test["scope"]): test for test in mix_tests.to_dict("records")}
    rate_since = counts.periods[rate_onset]
    for name, (levels, cube) in counts.segments.items():
        base = cube[:B][usable[:B]].sum(axis=0).astype(float)  # [L, D]
        current = cube[rate_onset:][usable[rate_onset:]].sum(axis=0).astype(float)
        nb, nc = base.sum(axis=1), current.sum(axis=1)
        for d, label in enumerate(counts.labels):
            parts = {key: parts_column.to_numpy() for key, parts_column in
                     shift_share(nb, base[:, d], nc, current[:, d]).items()}
            overall_change = (current[:, d].sum() / nc.sum() if nc.sum() else math.nan) - (
                base[:, d].sum() / nb.sum() if nb.sum() else math.nan)
            for j, level_name in enumerate(levels):
                scope = f"{name}={level_name}"
                test = by_scope.get(scope)
                pb, pc = parts["baseline_rate"][j], parts["current_rate"][j]
                flag = shares.get((scope, label), "")
                rule = "segment_share_extreme" if flag else (str(test["rule"]) if test is not None else "")
                severity = worst(["incident" if flag else "ok", test["severity"] if test is not None else "ok"])
                rows.append({
                    "segment_column": name, "segment_value": level_name, "metric": f"rate:{label}",
                    "since": rate_since, "baseline": pb, "current": pc, "expected": np.nan,
                    "change": pc - pb if math.isfinite(pb) and math.isfinite(pc) else np.nan,
                    "relative_change": np.nan, "mix_effect": parts["mix_effect"][j],
                    "within_effect": parts["within_effect"][j], "contribution": parts["contribution"][j],
                    "share_of_change": parts["contribution"][j] / overall_change if overall_change else np.nan,
                    "p_value": float(test["p_value"]) if test is not None else np.nan,
                    "q_value": float(test["q_value"]) if test is not None else np.nan,
                    "flags": flag, "rule": rule, "severity": severity,
                })
    table = pd.DataFrame(rows, columns=[
        "segment_column", "segment_value", "metric", "since", "baseline", "current", "expected", "change",
        "relative_change", "mix_effect", "within_effect", "contribution", "share_of_change", "p_value",
        "q_value", "flags", "rule", "severity"])
    if not table.empty:
        table["rank"] = table.groupby("metric")["contribution"].transform(
            lambda c: c.abs().rank(ascending=False, method="first")).astype(int)
    else:
        table["rank"] = pd.Series(dtype=int)
    return table
