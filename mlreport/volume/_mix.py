"""Decision-mix change between the baseline and current windows, overall, per segment and in score bands.

Methods:

* decision-mix change baseline vs current: Pearson chi-square
  (``scipy.stats.chi2_contingency``, no continuity correction) gated by effect
  size. Defaults: warning at PSI >= 0.002 and Cramér's V >= 0.01, incident at
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
  levels of all segment columns (``mlreport.stats.adjust_pvalues``, ``fdr_bh``).
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
from ._config import VolumeConfig
from ._events import SECTIONS, _Event, _phrase

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


def _mix_severity(test: MixTest, p: float, config: VolumeConfig, large: str, small: str,
                  psi_gates: tuple[float, float], v_gates: tuple[float, float] | None) -> tuple[str, str]:
    if not math.isfinite(p):
        return "", "ok"
    def passes(i: int, alpha: float) -> bool:
        ok = p < alpha and test.psi >= psi_gates[i]
        return ok and (v_gates is None or test.cramers_v >= v_gates[i])
    if passes(1, config.p_incident):
        return large, config.severity[large]
    if passes(0, config.p_warning):
        return small, config.severity[small]
    return "", "ok"


def _mix_tables(counts: DecisionCounts, config: VolumeConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, tests = [], []
    scopes: list[tuple[str, str | None, str | None, np.ndarray]] = [("overall", None, None, counts.overall)]
    for name, (levels, cube) in counts.segments.items():
        scopes += [(f"{name}={level}", name, level, cube[:, j, :]) for j, level in enumerate(levels)]
    for scope, column, value, table in scopes:
        base, current = _window_sums(table, counts)
        test = mix_test(base, current, eps=config.psi_epsilon)
        tests.append({"test": "decision mix", "scope": scope, "segment_column": column, "segment_value": value,
                      "baseline_n": base.sum(), "current_n": current.sum(), "chi2": test.chi2, "dof": test.dof,
                      "p_value": test.p_value, "cramers_v": test.cramers_v, "psi": test.psi})
        with np.errstate(divide="ignore", invalid="ignore"):
            base_share = base / base.sum() if base.sum() else np.full(base.shape, np.nan)
            current_share = current / current.sum() if current.sum() else np.full(current.shape, np.nan)
        for d, label in enumerate(counts.labels):
            rows.append({"scope": scope, "segment_column": column, "segment_value": value, "decision": label,
                         "baseline_count": base[d], "current_count": current[d],
                         "baseline_share": base_share[d], "current_share": current_share[d],
                         "change_pp": (current_share[d] - base_share[d]) * 100})
    mix = pd.DataFrame(rows)
    mix_tests = pd.DataFrame(tests)
    segment = mix_tests["segment_column"].notna()
    q = np.full(len(mix_tests), np.nan)
    q[segment.to_numpy()] = _bh(mix_tests.loc[segment, "p_value"].to_numpy(dtype=float))
    q[~segment.to_numpy()] = mix_tests.loc[~segment, "p_value"].to_numpy(dtype=float)
    mix_tests["q_value"] = q
    outcome = []
    for row, q_value in zip(tests, q, strict=True):
        test = MixTest(row["chi2"], row["dof"], row["p_value"], row["cramers_v"], row["psi"])
        if row["segment_column"] is None:
            outcome.append(_mix_severity(test, q_value, config, "mix_change_large", "mix_change",
                                         (config.mix_psi_warning, config.mix_psi_incident),
                                         (config.mix_v_warning, config.mix_v_incident)))
        else:
            outcome.append(_mix_severity(test, q_value, config, "segment_mix_large", "segment_mix",
                                         (config.mix_psi_warning, config.mix_psi_incident),
                                         (config.mix_v_warning, config.mix_v_incident)))
    mix_tests["rule"] = [o[0] for o in outcome]
    mix_tests["severity"] = [o[1] for o in outcome]
    if counts.score_counts is not None and counts.score_edges is not None:
        base, current = _window_sums(counts.score_counts, counts)
        test = mix_test(base, current, eps=config.psi_epsilon)
        rule, level = _mix_severity(test, test.p_value, config, "score_mix_large", "score_mix",
                                    (config.score_psi_warning, config.score_psi_incident), None)
        score_row = pd.DataFrame([{"test": "score bands", "scope": "score bands", "segment_column": None,
                                   "segment_value": None, "baseline_n": base.sum(), "current_n": current.sum(),
                                   "chi2": test.chi2, "dof": test.dof, "p_value": test.p_value,
                                   "cramers_v": test.cramers_v, "psi": test.psi, "q_value": test.p_value,
                                   "rule": rule, "severity": level}])
        mix_tests = pd.concat([mix_tests, score_row], ignore_index=True)
    return mix, mix_tests


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


def _mix_events(
    mix: pd.DataFrame, mix_tests: pd.DataFrame, counts: DecisionCounts, config: VolumeConfig
) -> list[_Event]:
    events: list[_Event] = []
    windows = (f"baseline {period_text(counts.baseline_start, counts.period)} to "
               f"{period_text(counts.analysis_start - pd.Timedelta(1, unit='ns'), counts.period)}, current "
               f"{period_text(counts.analysis_start, counts.period)} to "
               f"{period_text(counts.end - pd.Timedelta(1, unit='ns'), counts.period)}")
    for row in mix_tests.to_dict("records"):
        rule, severity, psi = str(row["rule"]), str(row["severity"]), float(row["psi"])
        if severity == "ok":
            continue
        p_value, q_value, cramers_v = float(row["p_value"]), float(row["q_value"]), float(row["cramers_v"])
        if row["test"] == "score bands":
            events.append(_Event(
                kind="mix", check=rule, subject="score bands", severity=severity,
                message=f"score-band mix changed ({windows}): PSI {psi:.3f}, chi-square p = {p_value:.1e}",
                phrase=f"score-band mix PSI {psi:.3f}", value=psi,
                threshold=config.score_psi_incident if severity == "incident" else config.score_psi_warning,
                method=f"{config.score_bands} baseline score quantile bands (+ missing); chi-square without "
                f"continuity correction; PSI eps {config.psi_epsilon:g}",
                section=SECTIONS["mix"], magnitude=psi,
            ))
            continue
        shares = mix[mix["scope"] == row["scope"]]
        moved = shares.reindex(shares["change_pp"].abs().sort_values(ascending=False).index).head(2)
        detail = ", ".join(f"{r.decision} {r.change_pp:+.1f} pp" for r in moved.itertuples())
        column = row["segment_column"]
        overall = column is None or (isinstance(column, float) and math.isnan(column))
        subject = "overall" if overall else str(row["scope"])
        where = "decision mix" if overall else f"{_phrase(str(column), str(row['segment_value']))} decision mix"
        p_text = f"p = {p_value:.1e}" if overall else f"BH q = {q_value:.1e}"
        events.append(_Event(
            kind="mix" if overall else "segment", check=rule, subject=subject, severity=severity,
            message=f"{where} changed ({windows}): {detail} (chi-square {p_text}, PSI {psi:.4f}, "
            f"Cramér's V {cramers_v:.3f})",
            phrase=f"{where}: {detail}", value=psi,
            threshold=config.mix_psi_incident if severity == "incident" else config.mix_psi_warning,
            method=f"chi-square (scipy chi2_contingency, no continuity correction) gated by PSI >= "
            f"{config.mix_psi_warning:g}/{config.mix_psi_incident:g} and Cramér's V >= "
            f"{config.mix_v_warning:g}/{config.mix_v_incident:g} (warning/incident); PSI eps "
            f"{config.psi_epsilon:g}" + ("" if overall else "; Benjamini-Hochberg across segment levels"),
            section=SECTIONS["mix"] if overall else SECTIONS["segments"], magnitude=psi,
        ))
    return events
