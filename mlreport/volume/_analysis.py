"""Decision volumes and decision mix over time, against a seasonal baseline, by segment.

:func:`analyse_volume` takes a decision log (one row per decision) and answers:
did volume stop or jump somewhere, did the share of a decision move, in which
segment, and since when. It works in two steps that can be used separately:

1. :func:`~mlreport.counts.count_decisions` (or a backend's
   :meth:`~mlreport.backends.Backend.decision_counts`) aggregates the log into
   :class:`~mlreport.counts.DecisionCounts`, mergeable counts on a complete
   period grid;
2. :func:`analyse_counts` tests them and returns a
   :class:`~mlreport.volume.VolumeResult` of tidy tables, findings and a headline.

The tests, one module each (every method is also printed in the report's
methods table, :meth:`~mlreport.volume.VolumeResult.methods_table`):

* ``_seasonal``: volume per period against the seasonal baseline;
* ``_rates``: decision rates on Laney p′, EWMA and CUSUM charts;
* ``_mix``: decision-mix and score-band change, chi-square gated by effect size;
* ``_segments``: segment drill-down by shift-share decomposition;
* ``_changes``: change-point dating.

Parameters, thresholds and the rule -> severity mapping live in ``_config``,
column roles and input checks in :mod:`mlreport.counts`. This module runs the
tests and assembles the result: tables, findings (one ``ok`` finding for each
section that raised nothing) and the headline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

import pandas as pd

from ..counts import DecisionCounts, RoleArguments, count_decisions, period_text
from ..data import InputLog
from ..findings import severity_rank, worst
from ..stats import PERIOD_WORDS
from ._changes import _change_events, _change_points
from ._config import VolumeConfig
from ._events import SECTIONS, _Event
from ._mix import _mix_events, _mix_tables, _score_band_table
from ._rates import _rate_events, _rate_states, _rates_table, _RateState
from ._result import VolumeResult
from ._seasonal import _analyse_volume_series, _volume_events, _volume_table, _VolumeState
from ._segments import _contributions

if TYPE_CHECKING:
    from ..backends import Backend

__all__ = ["analyse_counts", "analyse_volume"]


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
    def strength(event: _Event) -> tuple[int, float]:
        return severity_rank(event.severity), event.magnitude

    best: dict[str, _Event] = {}
    for event in flagged:
        if event.kind != "rate":
            continue
        kept = best.get(event.subject)
        if kept is None or strength(event) > strength(kept):
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
    texts = [text for _, text in sorted(parts, key=lambda part: -part[0])]
    if not texts:
        other = top(("mix", "segment", "volume", "rate"))
        texts.append(other.phrase if other else "see findings")
    return f"{status.capitalize()}: " + "; ".join(texts)


def analyse_counts(
    counts: DecisionCounts,
    config: VolumeConfig | None = None,
    *,
    backend: Backend | None = None,
    inputs: InputLog | None = None,
    model: str = "",
) -> VolumeResult:
    """Test :class:`~mlreport.counts.DecisionCounts` and return a :class:`~mlreport.volume.VolumeResult`.

    ``backend`` (what counted), ``inputs`` (what it read) and ``model`` are the
    provenance the result's summary and computation table report; without
    them the result has neither.
    """
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
        headline=_headline(events, counts),
        events=ordered,
        backend=backend,
        inputs=inputs if inputs is not None else InputLog(),
        model=model,
    )


def analyse_volume(
    frame: pd.DataFrame,
    config: VolumeConfig | None = None,
    **roles: Unpack[RoleArguments],
) -> VolumeResult:
    """Decision-volume analysis of a decision log: :func:`count_decisions` then :func:`analyse_counts`.

    The column roles are :func:`~mlreport.counts.count_decisions`' (a
    :class:`~mlreport.counts.DecisionRoles` from
    :func:`~mlreport.counts.resolve_roles` passes as ``**roles``); ``config``
    holds the method parameters and thresholds.
    """
    config = config or VolumeConfig()
    counts = count_decisions(frame, config, **roles)
    return analyse_counts(counts, config)
