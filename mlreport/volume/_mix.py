"""Decision-mix change between the baseline and current windows, overall, per segment and in score bands.

Methods:

* decision-mix change from its onset: the scan of :mod:`mlreport.volume`
  (``_onset``): the decisions from the most significant onset on against the
  baseline's slot shares, a chi-square corrected for the baseline's error and
  its day-to-day overdispersion, Bonferroni over the candidate onsets, gated
  by effect size. Defaults: warning at PSI >= 0.002 and Cramér's V >= 0.01, incident at
  PSI >= 0.01 and V >= 0.025. Why: at bank volumes every difference is
  significant, so the gate decides. Moving 2 pp from a 60 % decision to a
  25 % one gives PSI ≈ 0.0023; 5 pp gives PSI ≈ 0.015, which a credit book
  notices. For equal-sized windows V ≈ sqrt(PSI) / 2 (0.024 and 0.06 for those
  shifts); V's gates are set at half of that so that PSI is the binding gate
  for comparable windows and V only vetoes when the current window is a
  sliver of the baseline (V shrinks with the size ratio, PSI does not);
* the score-band mix: baseline score quantile bands (+ a missing band),
  chi-square and PSI against ``score_psi_warning`` / ``score_psi_incident``;
* segment mix tests are adjusted by Benjamini-Hochberg across all segment
  levels of all segment columns (``mlreport.stats.adjust_pvalues``, ``fdr_bh``);
* levels: the report's error budget (``mix``, ``score_mix`` and
  ``segment_mix`` shares of ``alpha_warning`` / ``alpha_incident``; nine
  tenths of the ``segment_mix`` share for the BH levels, one tenth for the
  0 %/100 % share rule of the segments), unless ``p_warning`` /
  ``p_incident`` are given.

:func:`mix_test` is the plain two-window test (a public helper).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats as sps

from ..counts import MISSING_LABEL, DecisionCounts, period_text
from ..stats import adjust_pvalues
from ..stats import psi as psi_of_counts
from ._budget import _Limits
from ._config import VolumeConfig
from ._events import SECTIONS, _Event, _phrase
from ._onset import _mix_scan, _MixScan

__all__ = ["MixTest", "mix_test"]


@dataclass(frozen=True)
class MixTest:
    """Chi-square test of a 2 x k table (baseline, current) with effect sizes."""

    chi2: float
    dof: int
    p_value: float
    cramers_v: float
    psi: float


def mix_test(baseline: npt.ArrayLike, current: npt.ArrayLike, *, eps: float = 1e-4) -> MixTest:
    """Pearson chi-square (no continuity correction), Cramér's V and PSI of two count vectors.

    Categories empty in both windows are dropped before the chi-square
    (``scipy.stats.chi2_contingency(..., correction=False)``);
    ``V = sqrt(χ² / (N (min(2, k) - 1)))``; PSI ``Σ (c - b) ln(c / b)`` over
    shares floored at ``eps`` (:func:`mlreport.stats.psi`). NaN when either
    window is empty or fewer than two categories are used.
    """
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(current, dtype=float)
    used = (b + c) > 0
    if b.sum() <= 0 or c.sum() <= 0 or used.sum() < 2:
        return MixTest(math.nan, 0, math.nan, math.nan, math.nan)
    table = np.vstack([b[used], c[used]])
    result = sps.chi2_contingency(table, correction=False)
    chi2 = float(result.statistic)
    v = math.sqrt(chi2 / (table.sum() * (min(table.shape) - 1)))
    return MixTest(chi2, int(result.dof), float(result.pvalue), v, float(psi_of_counts(b, c, eps=eps)))


def _bh(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values (``fdr_bh``); NaN and infinities stay NaN."""
    finite = np.where(np.isfinite(p_values), p_values, np.nan)
    return adjust_pvalues(finite, "fdr_bh")


def _window_sums(table: np.ndarray, counts: DecisionCounts) -> tuple[np.ndarray, np.ndarray]:
    """Baseline and current totals of a ``[T, ...]`` count table over usable periods."""
    usable = (counts.exposure > 0) & ~counts.holiday
    B = counts.baseline_periods
    base = table[:B][usable[:B]].sum(axis=0)
    current = table[B:][usable[B:]].sum(axis=0)
    return base.astype(float), current.astype(float)


def _mix_severity(psi: float, cramers_v: float, p: float, levels: tuple[float, float], config: VolumeConfig,
                  large: str, small: str, psi_gates: tuple[float, float],
                  v_gates: tuple[float, float] | None) -> tuple[str, str]:
    """Rule and severity of a mix test: p below the level and the effect gates; ``levels`` (warning, incident)."""
    if not math.isfinite(p):
        return "", "ok"
    def passes(i: int) -> bool:
        ok = p < levels[i] and psi >= psi_gates[i]
        return ok and (v_gates is None or cramers_v >= v_gates[i])
    if passes(1):
        return large, config.severity[large]
    if passes(0):
        return small, config.severity[small]
    return "", "ok"


def _levels(config: VolumeConfig, family: str, fraction: float = 1.0) -> tuple[float, float]:
    """(warning, incident) levels of a family: ``p_warning`` / ``p_incident`` when given, else its budget share."""
    return (
        config.p_warning if config.p_warning is not None else config.alpha(family, "warning") * fraction,
        config.p_incident if config.p_incident is not None else config.alpha(family, "incident") * fraction,
    )


SEGMENT_MIX_FRACTION = 0.9
"""The part of the ``segment_mix`` share the segment mix tests spend; the 0 %/100 % share rule has the rest."""


def _mix_tables(
    counts: DecisionCounts, config: VolumeConfig, limits: _Limits
) -> tuple[dict[str, _MixScan], pd.DataFrame]:
    """The onset scans of the overall and every segment level's decision mix, and the tests' table."""
    scopes: list[tuple[str, str | None, str | None, np.ndarray]] = [("overall", None, None, counts.overall)]
    for name, (levels, cube) in counts.segments.items():
        scopes += [(f"{name}={level}", name, level, cube[:, j, :]) for j, level in enumerate(levels)]
    scans: dict[str, _MixScan] = {}
    tests = []
    for scope, column, value, table in scopes:
        scan = _mix_scan(table, counts, min_size=config.changepoint_min_size, eps=config.psi_epsilon)
        scans[scope] = scan
        tests.append({"test": "decision mix", "scope": scope, "segment_column": column, "segment_value": value,
                      "since": counts.periods[scan.onset], "onsets": scan.candidates,
                      "baseline_n": float(scan.baseline.sum()), "current_n": float(np.nansum(scan.observed)),
                      "chi2": scan.chi2, "dof": scan.dof, "dispersion": scan.dispersion,
                      "p_onset": scan.p_value, "p_value": scan.adjusted, "cramers_v": scan.cramers_v,
                      "psi": scan.psi})
    mix_tests = pd.DataFrame(tests)
    segment = mix_tests["segment_column"].notna().to_numpy()
    q = np.full(len(mix_tests), np.nan)
    q[segment] = _bh(mix_tests.loc[segment, "p_value"].to_numpy(dtype=float))
    q[~segment] = mix_tests.loc[~segment, "p_value"].to_numpy(dtype=float)
    mix_tests["q_value"] = q
    overall_levels = _levels(config, "mix")
    segment_levels = _levels(config, "segment_mix", SEGMENT_MIX_FRACTION)
    limits.mix_p_warning, limits.mix_p_incident = overall_levels
    limits.segment_q_warning, limits.segment_q_incident = segment_levels
    limits.mix_onsets = int(scans["overall"].candidates)
    outcome = []
    psi_values = mix_tests["psi"].to_numpy(dtype=float)
    v_values = mix_tests["cramers_v"].to_numpy(dtype=float)
    for row, psi_value, v_value, q_value in zip(tests, psi_values, v_values, q, strict=True):
        overall = row["segment_column"] is None
        outcome.append(_mix_severity(
            float(psi_value), float(v_value), q_value, overall_levels if overall else segment_levels, config,
            "mix_change_large" if overall else "segment_mix_large", "mix_change" if overall else "segment_mix",
            (config.mix_psi_warning, config.mix_psi_incident), (config.mix_v_warning, config.mix_v_incident)))
    mix_tests["rule"] = [o[0] for o in outcome]
    mix_tests["severity"] = [o[1] for o in outcome]
    if counts.score_counts is not None and counts.score_edges is not None:
        base, current = _window_sums(counts.score_counts, counts)
        test = mix_test(base, current, eps=config.psi_epsilon)
        score_levels = _levels(config, "score_mix")
        limits.score_p_warning, limits.score_p_incident = score_levels
        rule, level = _mix_severity(test.psi, test.cramers_v, test.p_value, score_levels, config,
                                    "score_mix_large", "score_mix",
                                    (config.score_psi_warning, config.score_psi_incident), None)
        score_row = pd.DataFrame([{"test": "score bands", "scope": "score bands", "segment_column": None,
                                   "segment_value": None, "since": counts.analysis_start, "onsets": 1,
                                   "baseline_n": base.sum(), "current_n": current.sum(),
                                   "chi2": test.chi2, "dof": test.dof, "dispersion": 1.0, "p_onset": test.p_value,
                                   "p_value": test.p_value, "cramers_v": test.cramers_v, "psi": test.psi,
                                   "q_value": test.p_value, "rule": rule, "severity": level}])
        mix_tests = pd.concat([mix_tests, score_row], ignore_index=True)
    return scans, mix_tests


def _mix_shares(counts: DecisionCounts, scans: dict[str, _MixScan], overall_onset: int) -> pd.DataFrame:
    """Baseline and current decision shares per scope: the overall one from ``overall_onset``, each segment
    level's from its own onset.

    ``baseline_share`` is the pooled baseline's, ``expected_share`` the
    baseline's slot shares over the scope's current window (what the test
    compares with), ``change_pp`` current minus baseline.
    """
    usable = (counts.exposure > 0) & ~counts.holiday
    rows = []
    scopes: list[tuple[str, str | None, str | None, np.ndarray]] = [("overall", None, None, counts.overall)]
    for name, (levels, cube) in counts.segments.items():
        scopes += [(f"{name}={level}", name, level, cube[:, j, :]) for j, level in enumerate(levels)]
    for scope, column, value, table in scopes:
        scan = scans[scope]
        onset = overall_onset if column is None else scan.onset
        current = table[onset:][usable[onset:]].sum(axis=0).astype(float)
        base = scan.baseline.astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            base_share = base / base.sum() if base.sum() else np.full(base.shape, np.nan)
            current_share = current / current.sum() if current.sum() else np.full(current.shape, np.nan)
            expected_share = scan.expected / np.nansum(scan.expected) if np.nansum(scan.expected) else (
                np.full(base.shape, np.nan))
        for d, label in enumerate(counts.labels):
            rows.append({"scope": scope, "segment_column": column, "segment_value": value, "decision": label,
                         "since": counts.periods[onset], "baseline_count": base[d], "current_count": current[d],
                         "baseline_share": base_share[d], "current_share": current_share[d],
                         "expected_share": expected_share[d],
                         "change_pp": (current_share[d] - base_share[d]) * 100})
    return pd.DataFrame(rows)


def _score_band_table(counts: DecisionCounts) -> pd.DataFrame:
    if counts.score_counts is None or counts.score_edges is None:
        return pd.DataFrame(columns=["band", "lower", "upper", "baseline_count", "current_count",
                                     "baseline_share", "current_share", "change_pp"])
    edges = counts.score_edges
    lower = np.concatenate(([-np.inf], edges, [np.nan]))
    upper = np.concatenate((edges, [np.inf], [np.nan]))
    names = [*(f"[{lo:.4g}, {hi:.4g})" for lo, hi in zip(lower[:-1], upper[:-1], strict=True)), MISSING_LABEL]
    base, current = _window_sums(counts.score_counts, counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        bs = base / base.sum() if base.sum() else base * np.nan
        cs = current / current.sum() if current.sum() else current * np.nan
    return pd.DataFrame({"band": names, "lower": lower, "upper": upper, "baseline_count": base,
                         "current_count": current, "baseline_share": bs, "current_share": cs,
                         "change_pp": (cs - bs) * 100})


def _moved(scan: _MixScan, labels: list[str]) -> list[tuple[str, float, float]]:
    """Labels by how far they moved in the scan's window: (label, pp against the expected share, z)."""
    n = float(np.nansum(scan.observed))
    if not n:
        return []
    moved = []
    for d, label in enumerate(labels):
        expected = float(scan.expected[d])
        share = expected / n if n else math.nan
        if not (0.0 < share < 1.0):
            continue
        pp = (float(scan.observed[d]) - expected) / n * 100
        z = (float(scan.observed[d]) - expected) / math.sqrt(n * share * (1 - share) * scan.dispersion)
        moved.append((label, pp, z))
    return sorted(moved, key=lambda item: -abs(item[2]))


def _mix_events(
    scans: dict[str, _MixScan], mix_tests: pd.DataFrame, counts: DecisionCounts, config: VolumeConfig,
    limits: _Limits,
) -> list[_Event]:
    events: list[_Event] = []
    end = period_text(counts.end - pd.Timedelta(1, unit="ns"), counts.period)
    baseline = (f"baseline {period_text(counts.baseline_start, counts.period)} to "
                f"{period_text(counts.analysis_start - pd.Timedelta(1, unit='ns'), counts.period)}")
    for row in mix_tests.to_dict("records"):
        rule, severity, psi = str(row["rule"]), str(row["severity"]), float(row["psi"])
        if severity == "ok":
            continue
        p_value, q_value, cramers_v = float(row["p_value"]), float(row["q_value"]), float(row["cramers_v"])
        if row["test"] == "score bands":
            windows = f"{baseline}, current {period_text(counts.analysis_start, counts.period)} to {end}"
            events.append(_Event(
                kind="mix", check=rule, subject="score bands", severity=severity,
                message=f"score-band mix changed ({windows}): PSI {psi:.3f}, chi-square p = {p_value:.1e}",
                phrase=f"score-band mix PSI {psi:.3f}", value=psi,
                threshold=config.score_psi_incident if severity == "incident" else config.score_psi_warning,
                method=f"{config.score_bands} baseline score quantile bands (+ missing); chi-square without "
                f"continuity correction at p < {limits.score_p_warning:.2g} (warning) / "
                f"{limits.score_p_incident:.2g} (incident); PSI eps {config.psi_epsilon:g}",
                section=SECTIONS["mix"], magnitude=psi,
            ))
            continue
        scan = scans[str(row["scope"])]
        since = period_text(counts.periods[scan.onset], counts.period)
        moved = _moved(scan, counts.labels)
        detail = ", ".join(f"{label} {pp:+.1f} pp" for label, pp, _ in moved[:2])
        column = row["segment_column"]
        overall = column is None or (isinstance(column, float) and math.isnan(column))
        subject = "overall" if overall else str(row["scope"])
        where = "decision mix" if overall else f"{_phrase(str(column), str(row['segment_value']))} decision mix"
        p_text = f"p = {p_value:.1e}" if overall else f"BH q = {q_value:.1e}"
        levels = (limits.mix_p_warning, limits.mix_p_incident) if overall else (
            limits.segment_q_warning, limits.segment_q_incident)
        events.append(_Event(
            kind="mix" if overall else "segment", check=rule, subject=subject, severity=severity,
            message=f"{where} changed since {since} ({baseline}; {scan.candidates} onsets scanned): {detail} "
            f"against the baseline's shares (chi-square {p_text}, PSI {psi:.4f}, Cramér's V {cramers_v:.3f})",
            phrase=f"{where} since {since}: {detail}", value=psi,
            threshold=config.mix_psi_incident if severity == "incident" else config.mix_psi_warning,
            method=f"decisions from the most significant onset on against the baseline shares of each period's "
            f"slot; chi-square / (1 + N_c/N_b) / φ (φ = {scan.dispersion:.2f}, the baseline's day-to-day "
            f"dispersion), Bonferroni over the onsets, at {'p' if overall else 'BH q'} < {levels[0]:.2g} "
            f"(warning) / {levels[1]:.2g} (incident), gated by PSI >= {config.mix_psi_warning:g}/"
            f"{config.mix_psi_incident:g} and Cramér's V >= {config.mix_v_warning:g}/{config.mix_v_incident:g}; "
            f"PSI eps {config.psi_epsilon:g}" + ("" if overall else "; Benjamini-Hochberg across segment levels"),
            section=SECTIONS["mix"] if overall else SECTIONS["segments"], magnitude=psi, onset=scan.onset,
            decision=moved[0][0] if moved else "",
        ))
    return events
