"""The volume report's methods section: every method, its parameters and thresholds, one row each."""

from __future__ import annotations

import pandas as pd

from ..counts import OTHER_LABEL, DecisionCounts
from ..stats import BASELINE_METHOD, CHANGEPOINT_METHOD, CUSUM_METHOD, DISPERSION_METHOD, EWMA_METHOD, PERIOD_WORDS
from ._config import VolumeConfig
from ._rates import _laney_method

__all__ = ["methods_table"]


def methods_table(config: VolumeConfig, counts: DecisionCounts) -> pd.DataFrame:
    """Every method of the volume analysis with its parameters and thresholds (the report's methods section)."""
    period = counts.period
    slot = {"H": "weekday and hour", "D": "weekday", "W": "week"}[period]
    rows = [
        ("periods", f"local wall-clock {PERIOD_WORDS[period]}s on a complete grid (missing periods count 0); "
         "exposure = real length / nominal length (daylight saving)",
         f"period {period} ({'inferred' if config.period == 'auto' else 'given'}), time zone "
         f"{counts.timezone or 'none (naive timestamps)'}"),
        ("windows", "baseline = the K weeks before the analysis start; analysis = from there to the end",
         f"baseline {counts.baseline_start:%Y-%m-%d} to {counts.analysis_start:%Y-%m-%d}, analysis "
         f"{counts.analysis_start:%Y-%m-%d} to {counts.end:%Y-%m-%d} (end exclusive); holidays "
         f"{list(config.holidays) or 'none'}"),
        ("seasonal baseline", BASELINE_METHOD.format(K=config.baseline_weeks, slot=slot, mode=config.baseline_mode),
         f"K {config.baseline_weeks}, mode {config.baseline_mode}"),
        ("overdispersion and tail probability", DISPERSION_METHOD, f"band at p {config.p_warning:g}"),
        ("volume rules", "zero rule; tail probability with effect gates",
         f"zero: expected >= {config.zero_expected_min:g} (run total >= {config.zero_run_expected:g}); "
         f"warning p < {config.p_warning:g} and abs(rel) >= {config.rel_warning:g}; incident p < "
         f"{config.p_incident:g} and abs(rel) >= {config.rel_incident:g}; abs(obs - exp) >= {config.min_change:g}"),
        ("Laney p′ chart", _laney_method(config, period),
         f"L {config.laney_L:g}; incident: {config.rate_run} consecutive beyond one limit or one beyond "
         f"{config.extreme_L:g} σ; every rate flag also needs a move of >= {config.rate_min_pp:g} pp"),
        ("EWMA", EWMA_METHOD.format(lam=config.ewma_lambda, L=config.ewma_L),
         f"λ {config.ewma_lambda:g}, L {config.ewma_L:g}"),
        ("CUSUM", CUSUM_METHOD.format(k=config.cusum_k, h=config.cusum_h),
         f"k {config.cusum_k:g}, h {config.cusum_h:g}"),
        ("decision-mix change", "Pearson chi-square on the 2 x k table (scipy chi2_contingency, no continuity "
         "correction), Cramér's V, PSI of the decision shares",
         f"warning p < {config.p_warning:g}, PSI >= {config.mix_psi_warning:g}, V >= {config.mix_v_warning:g}; "
         f"incident p < {config.p_incident:g}, PSI >= {config.mix_psi_incident:g}, V >= {config.mix_v_incident:g}; "
         f"PSI eps {config.psi_epsilon:g}"),
        ("score-band mix", "baseline score quantile bands (+ a missing band), chi-square and PSI",
         f"{config.score_bands} bands; warning PSI >= {config.score_psi_warning:g}, incident PSI >= "
         f"{config.score_psi_incident:g}"),
        ("segment contributions", "volume: observed - expected per segment level, share of the column's "
         "change; rates: shift-share Δp = Σ (w^c - w^b)(p_s^b - p^b) + w^c (p_s^c - p_s^b)",
         f"ranked by absolute contribution; at most {config.max_segment_levels} levels per column (the rest "
         f"counted as {OTHER_LABEL!r}); at most {config.max_decision_labels} decision labels"),
        ("segment tests", "window volume (quasi-Poisson, shared baseline error) and decision mix (chi-square) "
         "per segment level; Benjamini-Hochberg (fdr_bh) across all levels of all segment columns",
         f"q < {config.p_warning:g} warning, < {config.p_incident:g} incident, with the effect gates above; "
         "0 %/100 % share: binomial probability < p_incident"),
        ("change points", CHANGEPOINT_METHOD.format(min_size=config.changepoint_min_size,
                                                    factor=config.changepoint_penalty),
         "volume: (obs - exp)/sd; rates: Laney-standardised z"),
        ("severity mapping", "rule -> severity, overridable by the model spec",
         ", ".join(f"{rule} {level}" for rule, level in config.severity.items())),
        ("policy version", "VolumeConfig.version", config.version),
    ]
    return pd.DataFrame(rows, columns=["method", "description", "parameters"])
