"""The volume report's methods section: every method, its parameters and the thresholds it applied, one row each."""

from __future__ import annotations

import pandas as pd

from ..counts import OTHER_LABEL, DecisionCounts
from ..stats import (
    BASELINE_METHOD,
    CHANGEPOINT_METHOD,
    CUSUM_METHOD,
    DISPERSION_METHOD,
    EWMA_METHOD,
    PERIOD_WORDS,
    ZERO_RUN_METHOD,
)
from ._budget import _Limits
from ._config import VolumeConfig
from ._rates import _laney_method

__all__ = ["methods_table"]


def _budget_text(config: VolumeConfig) -> str:
    shares = ", ".join(f"{family} {share:g}" for family, share in config.alpha_shares.items())
    return (f"warning or worse on unchanged data with probability <= {config.alpha_warning:g}, an incident "
            f"<= {config.alpha_incident:g}; each family spends its share of both (union bound): {shares}")


def _resolved(given: float | None, applied: float, periods: int, word: str) -> str:
    """A chart limit as given, or as the budget resolved it over the charted periods."""
    if given is not None:
        return f"{given:g}"
    return f"{applied:.2f} (from its run-length distribution over {periods} {word}s)"


def methods_table(config: VolumeConfig, counts: DecisionCounts, limits: _Limits | None = None) -> pd.DataFrame:
    """Every method of the volume analysis with its parameters and the thresholds it applied.

    ``limits`` are the thresholds the report's error budget resolved to (a
    result's :attr:`~mlreport.volume.VolumeResult.limits`); without them the
    rows give the policy only.
    """
    limits = limits or _Limits()
    period = counts.period
    word = PERIOD_WORDS[period]
    slot = {"H": "weekday and hour", "D": "weekday", "W": "week"}[period]
    zero_word = PERIOD_WORDS.get(limits.zero_period, word)
    fixed_zero = config.zero_expected_min is not None or config.zero_run_expected is not None
    minimum = limits.zero_minimum
    if fixed_zero:
        zero_rule = (f"fixed rule: one zero where the baseline expects >= {config.zero_expected_min or 5.0:g}, "
                     f"a run expecting >= {config.zero_run_expected or 20.0:g}")
    else:
        spread = (f"{min(minimum.values()):.1f} to {max(minimum.values()):.1f}" if minimum else "n/a")
        zero_rule = (f"{ZERO_RUN_METHOD}; α {config.alpha('volume_zero', 'incident'):.2g} over m "
                     f"{limits.zero_tests:,} {zero_word}ly tests: a run is flagged below probability "
                     f"{limits.zero_probability:.2g}, so one zero {zero_word} needs an expected count of "
                     f"{spread} (by the series' dispersion)")
    where = " (found on the hourly counts of the same windows)" if limits.zero_period not in ("", period) else ""
    rows = [
        ("periods", f"local wall-clock {word}s on a complete grid (missing periods count 0); "
         "exposure = real length / nominal length (daylight saving); a first or last period the data covers "
         "in part is graded by its covered share of expected volume",
         f"period {period} ({'inferred' if config.period == 'auto' else 'given'}), time zone "
         f"{counts.timezone or 'none (naive timestamps)'}"),
        ("windows", "baseline = the K weeks before the analysis start; analysis = from there to the end",
         f"baseline {counts.baseline_start:%Y-%m-%d} to {counts.analysis_start:%Y-%m-%d}, analysis "
         f"{counts.analysis_start:%Y-%m-%d} to {counts.end:%Y-%m-%d} (end exclusive); holidays "
         f"{list(config.holidays) or 'none'}"),
        ("error budget", "one false-alarm budget for the whole report, shared between the families of checks",
         _budget_text(config)),
        ("seasonal baseline", BASELINE_METHOD.format(K=config.baseline_weeks, slot=slot, mode=config.baseline_mode),
         f"K {config.baseline_weeks}, mode {config.baseline_mode}"),
        ("overdispersion and tail probability", DISPERSION_METHOD,
         f"band and flags at p {limits.volume_p_warning:.2g} (warning) / {limits.volume_p_incident:.2g} "
         f"(incident) per test: Bonferroni over m {limits.volume_tests:,} series-periods"),
        ("volume rules", f"zero runs{where}; tail probability with effect gates",
         f"zero: {zero_rule}; tail: warning abs(rel) >= {config.rel_warning:g}, incident abs(rel) >= "
         f"{config.rel_incident:g}, both abs(obs - exp) >= {config.min_change:g}"),
        ("Laney p′ chart", _laney_method(config, period, limits.laney_L),
         f"L {limits.laney_L:.2f} (warning); incident: {config.rate_run} consecutive beyond {limits.shift_L:.2f} σ "
         f"on one side or one beyond {limits.extreme_L:.2f} σ; over {limits.rate_charts} charts x "
         f"{limits.rate_periods} {word}s; every rate flag also needs a move of >= {config.rate_min_pp:g} pp"),
        ("EWMA", EWMA_METHOD.format(lam=config.ewma_lambda, L=f"{limits.ewma_L:.2f}"),
         f"λ {config.ewma_lambda:g}, L " + _resolved(config.ewma_L, limits.ewma_L, limits.rate_periods, word)),
        ("CUSUM", CUSUM_METHOD.format(k=config.cusum_k, h=f"{limits.cusum_h:.2f}"),
         f"k {config.cusum_k:g}, h " + _resolved(config.cusum_h, limits.cusum_h, limits.rate_periods, word)),
        ("decision-mix change", "from the most significant onset: the decisions since then against the "
         "baseline's slot shares, chi-square / (1 + N_c/N_b) / φ (day-to-day dispersion of the baseline), labels "
         "below 2 % pooled, Bonferroni over the onsets; Cramér's V and PSI",
         f"warning p < {limits.mix_p_warning:.2g}, PSI >= {config.mix_psi_warning:g}, V >= "
         f"{config.mix_v_warning:g}; incident p < {limits.mix_p_incident:.2g}, PSI >= {config.mix_psi_incident:g}, "
         f"V >= {config.mix_v_incident:g}; {limits.mix_onsets} onsets; PSI eps {config.psi_epsilon:g}"),
        ("score-band mix", "baseline score quantile bands (+ a missing band), chi-square and PSI, baseline "
         "against the current window",
         f"{config.score_bands} bands; warning p < {limits.score_p_warning:.2g} and PSI >= "
         f"{config.score_psi_warning:g}, incident p < {limits.score_p_incident:.2g} and PSI >= "
         f"{config.score_psi_incident:g}"),
        ("segment contributions", "from the onset of the change explained: volume observed - expected per "
         "segment level and its share of the column's change; rates: shift-share "
         "Δp = Σ (w^c - w^b)(p_s^b - p^b) + w^c (p_s^c - p_s^b)",
         f"ranked by absolute contribution; at most {config.max_segment_levels} levels per column (the rest "
         f"counted as {OTHER_LABEL!r}); at most {config.max_decision_labels} decision labels"),
        ("segment tests", "each level from its own most significant onset: volume (quasi-Poisson, shared "
         "baseline error) and decision mix (as above); Benjamini-Hochberg (fdr_bh) across all levels "
         "of all segment columns",
         f"q < {limits.segment_q_warning:.2g} warning, < {limits.segment_q_incident:.2g} incident, with the "
         f"effect gates above; up to {limits.segment_onsets} onsets; 0 %/100 % share: binomial probability "
         "below a tenth of the segment_mix incident share over levels x labels x onsets"),
        ("change points", CHANGEPOINT_METHOD.format(min_size=config.changepoint_min_size,
                                                    factor=config.changepoint_penalty),
         "volume: (obs - exp)/sd; rates: Laney-standardised z; dating only (severity ok): no share of the budget"),
        ("timestamps", "rows without a timestamp belong to no period and are reported with their count",
         f"warning from {config.untimed_warning:.1%} of the rows, incident from {config.untimed_incident:.0%}"),
        ("severity mapping", "rule -> severity, overridable by the model spec",
         ", ".join(f"{rule} {level}" for rule, level in config.severity.items())),
        ("policy version", "VolumeConfig.version", config.version),
    ]
    return pd.DataFrame(rows, columns=["method", "description", "parameters"])
