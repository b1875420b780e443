"""Decision volumes and decision mix over time, against a seasonal baseline, by segment.

:func:`analyse_volume` takes a decision log (one row per decision) and answers:
did volume stop or jump somewhere, did the share of a decision move, in which
segment, and since when. It works in two steps that can be used separately:

1. :func:`~mlreport.counts.count_decisions` aggregates the log into
   :class:`~mlreport.counts.DecisionCounts`, mergeable counts on a
   complete period grid that a DuckDB or Spark backend can produce too;
2. :func:`analyse_counts` tests them and returns a :class:`VolumeResult` of
   tidy tables, findings and a headline.

The tests, one module each (every method is also printed in the report's
methods table, :meth:`VolumeResult.methods_table`):

* :mod:`mlreport.volume`: volume per period against the seasonal baseline;
* :mod:`mlreport.volume`: decision rates on Laney p′, EWMA and CUSUM charts;
* :mod:`mlreport.volume`: decision-mix and score-band change, chi-square gated by effect size;
* :mod:`mlreport.volume`: segment drill-down by shift-share decomposition;
* :mod:`mlreport.volume`: change-point dating.

Parameters, thresholds and the rule -> severity mapping live in
:mod:`mlreport.volume`, column roles and input checks in
:mod:`mlreport.counts`. This module runs the two steps and assembles
the result: tables, findings (one ``ok`` finding for each section that raised
nothing), the headline and the methods table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..counts import OTHER_LABEL, DecisionCounts, count_decisions, period_text
from ..findings import Finding, severity_rank, worst
from ..stats import BASELINE_METHOD, CHANGEPOINT_METHOD, CUSUM_METHOD, DISPERSION_METHOD, EWMA_METHOD, PERIOD_WORDS
from ._changes import _change_events, _change_points
from ._config import VolumeConfig
from ._events import SECTIONS, _Event
from ._mix import _mix_events, _mix_tables, _score_band_table
from ._rates import _laney_method, _rate_events, _rate_states, _rates_table, _RateState
from ._seasonal import _analyse_volume_series, _volume_events, _volume_table, _VolumeState
from ._segments import _contributions

__all__ = ["VolumeResult", "analyse_counts", "analyse_volume"]


# --------------------------------------------------------------------------- result


@dataclass
class VolumeResult:
    """Tidy tables, findings and headline of one volume analysis.

    Tables (one row per ...):

    ``volume``
        series x period: ``series`` ("overall" or "column=value"),
        ``segment_column``, ``segment_value``, ``period``, ``window``
        ("baseline" / "analysis"), ``exposure``, ``holiday``, ``observed``,
        ``expected``, ``lower`` / ``upper`` (central band at ``p_warning``),
        ``p_value`` (two-sided), ``dispersion`` (φ), ``rule``, ``severity``.
    ``rates``
        decision label (and "override") x period: ``n``, ``count``, ``rate``,
        ``center``, ``lcl`` / ``ucl`` (Laney p′), ``sigma_z``, ``z``, ``ewma``,
        ``ewma_lcl`` / ``ewma_ucl``, ``cusum_upper`` / ``cusum_lower``, ``rule``,
        ``severity``.
    ``mix``
        scope x decision: baseline and current counts and shares, ``change_pp``.
    ``mix_tests``
        scope (overall, each segment level, score bands): chi-square, dof,
        ``p_value``, ``q_value`` (BH across segment levels), ``cramers_v``,
        ``psi``, ``rule``, ``severity``.
    ``contributions``
        segment level x metric ("volume" or "rate:<label>"): see
        :meth:`segment_table`.
    ``score_bands``
        score band: edges, baseline and current counts and shares.
    ``change_points``
        series x change point: ``period``, ``before``, ``after``, ``unit``.
    """

    config: VolumeConfig
    counts: DecisionCounts
    volume: pd.DataFrame
    rates: pd.DataFrame
    mix: pd.DataFrame
    mix_tests: pd.DataFrame
    contributions: pd.DataFrame
    score_bands: pd.DataFrame
    change_points: pd.DataFrame
    findings: list[Finding]
    headline: str
    events: list[_Event] = field(default_factory=list, repr=False)

    @property
    def period(self) -> str:
        return self.counts.period

    @property
    def status(self) -> str:
        return worst(f.severity for f in self.findings)

    def windows(self) -> dict[str, str]:
        """Baseline and analysis windows as ISO text (end exclusive)."""
        c = self.counts
        return {
            "baseline_start": c.baseline_start.isoformat(),
            "analysis_start": c.analysis_start.isoformat(),
            "analysis_end": c.end.isoformat(),
            "period": c.period,
            "timezone": c.timezone or "",
        }

    def thresholds(self) -> dict[str, Any]:
        """Every parameter, threshold and the severity mapping, with the resolved windows."""
        return {**self.config.to_dict(), **self.windows()}

    def methods(self) -> dict[str, str]:
        """Method name -> convention string, for ``summarize(methods=...)``."""
        return {row.method: f"{row.description}; {row.parameters}" for row in self.methods_table().itertuples()}

    def methods_table(self) -> pd.DataFrame:
        """Every method with its parameters and thresholds (the report's methods section)."""
        return _methods_table(self.config, self.counts)

    def overview(self) -> pd.DataFrame:
        """What was analysed: rows, period, windows, series and labels (one column of facts)."""
        c = self.counts
        last = c.end - pd.Timedelta(1, unit="ns")
        facts = {
            "decisions counted": f"{c.rows:,}",
            "period": f"{PERIOD_WORDS[c.period]} ({'inferred' if self.config.period == 'auto' else 'given'})",
            "time zone": c.timezone or "none (naive timestamps taken as local)",
            "baseline window": f"{period_text(c.baseline_start, c.period)} to "
            f"{period_text(c.analysis_start - pd.Timedelta(1, unit='ns'), c.period)} "
            f"({self.config.baseline_weeks} weeks, {self.config.baseline_mode})",
            "analysis window": f"{period_text(c.analysis_start, c.period)} to {period_text(last, c.period)} "
            f"({len(c.periods) - c.baseline_periods} {PERIOD_WORDS[c.period]}s)",
            "decision labels": ", ".join(c.labels),
            "segment columns": ", ".join(f"{k} ({len(v[0])})" for k, v in c.segments.items()) or "none",
            "score bands": f"{len(c.score_edges) + 1} + missing" if c.score_edges is not None else "no score",
            "override rate": "yes" if c.overrides is not None else "no override column",
            "policy version": self.config.version,
        }
        return pd.DataFrame({"value": list(facts.values())}, index=pd.Index(list(facts), name="item"))

    def flagged_volume(self, *, top: int = 20) -> pd.DataFrame:
        """Flagged series-periods, most severe first, then in time order."""
        table = self.volume[self.volume["severity"] != "ok"]
        table = table.assign(rank=-table["severity"].map(severity_rank).astype("int64")).sort_values(["rank", "period", "series"])
        columns = ["series", "period", "observed", "expected", "lower", "upper", "p_value", "rule", "severity"]
        return table[columns].head(top).round({"expected": 1, "lower": 0, "upper": 0}).reset_index(drop=True)

    def change_point_table(self) -> pd.DataFrame:
        """The change points for display: series, when, the means before and after."""
        table = self.change_points.drop(columns=["method"])
        return table.round({"before": 4, "after": 4, "change": 4})

    def most_moved_decision(self) -> str | None:
        """The decision label whose overall share moved most between the windows."""
        overall = self.mix[self.mix["scope"] == "overall"]
        if overall.empty or overall["change_pp"].isna().all():
            return None
        return str(overall.loc[overall["change_pp"].abs().idxmax(), "decision"])

    def metrics(self) -> dict[str, Any]:
        """Key figures for the run record."""
        analysed = self.volume[self.volume["p_value"].notna()]
        rates = self.rates[(self.rates["window"] == "analysis") & (self.rates["n"] > 0)]
        overall = self.mix_tests[self.mix_tests["scope"] == "overall"].iloc[0]
        return {
            "rows": self.counts.rows,
            "period": self.counts.period,
            "series": int(self.volume["series"].nunique()),
            "series_periods_tested": len(analysed),
            "volume_flags": {level: int((analysed["severity"] == level).sum()) for level in ("warning", "incident")},
            "rate_periods": len(rates),
            "rate_flags": {level: int((rates["severity"] == level).sum()) for level in ("warning", "incident")},
            "mix_psi": float(overall["psi"]),
            "mix_cramers_v": float(overall["cramers_v"]),
        }

    def segment_table(self, metric: str = "volume", *, top: int = 20) -> pd.DataFrame:
        """Segment levels ranked by their contribution to the change in ``metric``.

        ``metric`` is "volume", "rate:<label>" (for example "rate:approve") or
        "rate" (the decision whose overall share moved most).
        Volume: observed and expected counts over the analysed periods, their
        difference (the contribution) and its share of the column's total
        change, BH-adjusted q-value. Rates: baseline and current rate of the
        segment (%), mix and within effects and their sum (pp) from
        :func:`~mlreport.volume.shift_share`; they add up to the overall change.
        """
        if metric == "rate":
            label = self.most_moved_decision()
            metric = f"rate:{label}" if label is not None else metric
        table = self.contributions
        table = table[table["metric"] == metric]
        if table.empty:
            return table
        if metric == "volume":
            view = table[[
                "segment_column", "segment_value", "baseline", "expected", "current", "contribution",
                "relative_change", "share_of_change", "q_value", "flags", "severity",
            ]].rename(columns={
                "baseline": "baseline volume", "expected": "expected", "current": "observed",
                "contribution": "observed - expected", "relative_change": "change %",
                "share_of_change": "share of change %",
            })
            view = view.assign(**{
                "change %": view["change %"] * 100, "share of change %": view["share of change %"] * 100,
            })
        else:
            view = table[[
                "segment_column", "segment_value", "baseline", "current", "mix_effect",
                "within_effect", "contribution", "q_value", "flags", "severity",
            ]].rename(columns={
                "baseline": "baseline rate %", "current": "current rate %",
                "mix_effect": "mix effect pp", "within_effect": "within effect pp",
                "contribution": "contribution pp",
            })
            for column in ("baseline rate %", "current rate %", "mix effect pp", "within effect pp", "contribution pp"):
                view[column] = view[column] * 100
        order = table["contribution"].abs().sort_values(ascending=False).index
        return view.loc[order].head(top).round(3).reset_index(drop=True)


# --------------------------------------------------------------------------- assembly


def _ok_events(events: list[_Event], counts: DecisionCounts, state: _VolumeState,
               rates: list[_RateState], mix_tests: pd.DataFrame) -> list[_Event]:
    """One ``ok`` finding per section that raised nothing, saying what was checked."""
    raised = {e.section for e in events if e.severity != "ok"}
    period_word = PERIOD_WORDS[counts.period]
    n_analysed = int(len(counts.periods) - counts.baseline_periods)
    extra = []
    if SECTIONS["volume"] not in raised:
        extra.append(_Event(kind="volume", check="volume", subject="all series", severity="ok",
                            message=f"volume of {len(state.series.names)} series within the seasonal band in "
                            f"all {n_analysed} analysed {period_word}s", section=SECTIONS["volume"]))
    if SECTIONS["rates"] not in raised:
        labels = ", ".join(st.label for st in rates)
        extra.append(_Event(kind="rate", check="rates", subject="all decisions", severity="ok",
                            message=f"decision rates ({labels}) within the Laney p′, EWMA and CUSUM limits",
                            section=SECTIONS["rates"]))
    if SECTIONS["mix"] not in raised:
        overall = mix_tests[mix_tests["scope"] == "overall"].iloc[0]
        extra.append(_Event(kind="mix", check="mix_change", subject="overall", severity="ok",
                            message=f"decision mix stable between baseline and current windows (PSI "
                            f"{overall['psi']:.4f}, Cramér's V {overall['cramers_v']:.3f}, p = "
                            f"{overall['p_value']:.1e})", value=float(overall["psi"]), section=SECTIONS["mix"]))
    if SECTIONS["segments"] not in raised:
        extra.append(_Event(kind="segment", check="segments", subject="all segments", severity="ok",
                            message="no segment's volume or decision mix moved beyond the gates "
                            "(Benjamini-Hochberg across segment levels)", section=SECTIONS["segments"]))
    for note in counts.notes:
        extra.append(_Event(kind="volume", check="coverage", subject="data", severity="ok", message=note,
                            section=SECTIONS["volume"]))
    return extra


def _rate_headline(flagged: list[_Event]) -> tuple[int, str] | None:
    """The one or two most severe, largest rate moves, joined when they share a date.

    A threshold change usually moves two shares at once (refer into approve),
    and the headline should say both.
    """
    best: dict[str, _Event] = {}
    for event in flagged:
        if event.kind != "rate":
            continue
        kept = best.get(event.subject)
        if kept is None or (severity_rank(event.severity), event.magnitude) > (severity_rank(kept.severity), kept.magnitude):
            best[event.subject] = event
    if not best:
        return None
    ranked = sorted(best.values(), key=lambda e: (-severity_rank(e.severity), -e.magnitude))
    lead = ranked[0]
    second = ranked[1] if len(ranked) > 1 and ranked[1].severity == lead.severity else None
    if second is None:
        return severity_rank(lead.severity), lead.phrase
    if second.since == lead.since:
        return severity_rank(lead.severity), f"{lead.what} and {second.what} since {lead.since}"
    return severity_rank(lead.severity), f"{lead.phrase}, {second.phrase}"


def _headline(events: list[_Event], counts: DecisionCounts) -> str:
    status = worst(e.severity for e in events)
    if status == "ok":
        last = counts.end - pd.Timedelta(1, unit="ns")
        return (f"Healthy: volume within the seasonal baseline and decision rates within control limits, "
                f"{period_text(counts.analysis_start, counts.period)} to {period_text(last, counts.period)}.")
    flagged = [e for e in events if e.severity != "ok" and e.phrase]
    def top(kinds: tuple[str, ...], checks: tuple[str, ...] | None = None) -> _Event | None:
        pool = [e for e in flagged if e.kind in kinds and (checks is None or e.check in checks)]
        if not pool:
            return None
        return max(pool, key=lambda e: (severity_rank(e.severity), e.magnitude))
    parts: list[tuple[int, str]] = []
    volume = top(("volume",)) or top(("segment",), ("segment_volume", "segment_volume_large"))
    if volume is not None:
        parts.append((severity_rank(volume.severity), volume.phrase))
    rate_parts = _rate_headline(flagged)
    if rate_parts:
        parts.append(rate_parts)
    parts = [text for _, text in sorted(parts, key=lambda part: -part[0])]
    if not parts:
        other = top(("mix", "segment", "volume", "rate"))
        parts.append(other.phrase if other else "see findings")
    return f"{status.capitalize()}: " + "; ".join(parts)


def analyse_counts(counts: DecisionCounts, config: VolumeConfig | None = None) -> VolumeResult:
    """Test :class:`DecisionCounts` and return a :class:`VolumeResult` (see the module docstring)."""
    config = config or VolumeConfig()
    state = _analyse_volume_series(counts, config)
    volume = _volume_table(counts, state, config)
    events = _volume_events(counts, state, config)
    rates = _rate_states(counts, config)
    mix, mix_tests = _mix_tables(counts, config)
    contributions, segment_events = _contributions(counts, state, mix_tests, config)
    events += segment_events
    events += _mix_events(mix, mix_tests, counts, config)
    flagged_series = [0] + [
        s for s in range(1, len(state.series.names))
        if any(e.subject == state.series.names[s] and e.severity != "ok" for e in events)
    ]
    changes, rate_changes = _change_points(counts, state, rates, config, flagged_series)
    events += _rate_events(counts, rates, config, rate_changes)
    subjects = {state.series.names[s] for s in flagged_series if s > 0}
    subjects |= {f"{e.subject.split('=', 1)[-1]} rate" for e in events if e.kind == "rate" and e.severity != "ok"}
    subjects |= {"override rate"} if any(e.subject == "override" and e.severity != "ok" for e in events) else set()
    events += _change_events(changes, counts, config, subjects | {"overall"})
    events += _ok_events(events, counts, state, rates, mix_tests)
    ordered = sorted(events, key=lambda e: -severity_rank(e.severity))
    return VolumeResult(
        config=config,
        counts=counts,
        volume=volume,
        rates=_rates_table(counts, rates),
        mix=mix,
        mix_tests=mix_tests,
        contributions=contributions,
        score_bands=_score_band_table(counts),
        change_points=changes,
        findings=[e.finding() for e in ordered],
        headline=_headline(events, counts),
        events=ordered,
    )


def analyse_volume(frame: pd.DataFrame, config: VolumeConfig | None = None, **roles: Any) -> VolumeResult:
    """Decision-volume analysis of a decision log: :func:`count_decisions` then :func:`analyse_counts`.

    ``roles`` are :func:`count_decisions`' column arguments (``timestamp_column``,
    ``decision_column``, ...; :func:`~mlreport.counts.resolve_roles` fills
    them from a model spec); ``config`` holds the method parameters and thresholds.
    """
    config = config or VolumeConfig()
    return analyse_counts(count_decisions(frame, config, **roles), config)


# --------------------------------------------------------------------------- methods


def _methods_table(config: VolumeConfig, counts: DecisionCounts) -> pd.DataFrame:
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
         "per segment level; Benjamini-Hochberg (statsmodels fdr_bh) across all levels of all segment columns",
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
