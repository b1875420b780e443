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

* ``_seasonal``: volume per period against the seasonal baseline, runs of zeros;
* ``_rates``: decision rates on Laney p′, EWMA and CUSUM charts;
* ``_onset``: changes from their most significant onset to the end of the window;
* ``_mix``: decision-mix and score-band change, chi-square gated by effect size;
* ``_segments``: segment tests and the drill-down by shift-share decomposition,
  from the onset of the change being explained;
* ``_changes``: change-point dating.

All at thresholds that keep the whole report within its false-alarm budget
(``_config``, "Error budget"; resolved per report in ``_budget``). A daily or
weekly report is also given the hourly counts of its windows
(:func:`~mlreport.counts.hourly_grid`), where runs of zero hours are found.

**Partial periods.** The first and the last period of the grid may be covered
by the data only in part (:meth:`~mlreport.counts.DecisionCounts.coverage`).
Each is graded by its **covered share of expected volume**: the hourly
profile of the baseline (when hourly counts are given; the share of its time
otherwise) says which part of a day's or week's decisions fall before the
last decision (after the first), and the period's exposure is scaled by it.
A log that ends at 11:51 is graded against the decisions expected by 11:51,
never as a complete day. A first period covering less than half of its
expected volume is left out of the baseline; both are noted in the report.
With an explicit ``analysis_end`` the window is taken as meant: silence after
the last decision is then data (a zero run), not missing coverage.

Parameters, thresholds and the rule -> severity mapping live in ``_config``,
column roles and input checks in :mod:`mlreport.counts`. This module runs the
tests and assembles the result: tables, findings (one ``ok`` finding for each
section that raised nothing) and the headline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

import numpy as np
import pandas as pd

from ..counts import (
    DecisionCounts,
    DecisionRoles,
    RoleArguments,
    count_decisions,
    decision_roles,
    hourly_grid,
    period_coverage,
    period_text,
)
from ..data import InputLog
from ..findings import severity_rank, worst
from ..stats import PERIOD_NS, PERIOD_WORDS, PERIODS_PER_WEEK, period_exposure
from ._budget import _Limits
from ._changes import _change_events, _change_points
from ._config import VolumeConfig
from ._events import SECTIONS, _Event
from ._mix import _mix_events, _mix_shares, _mix_tables, _moved, _score_band_table
from ._rates import _rate_events, _rate_states, _rates_table, _RateState
from ._result import VolumeResult
from ._seasonal import _analyse_volume_series, _volume_events, _volume_table, _VolumeState
from ._segments import _contributions, _segment_volume, _share_extreme

if TYPE_CHECKING:
    from ..backends import Backend

__all__ = ["analyse_counts", "analyse_volume"]


# --------------------------------------------------------------------------- coverage


_BASELINE_MIN_SHARE = 0.5
"""A baseline period covering less than this share of its expected volume is left out of the baseline."""


def _hourly_profile(hourly: DecisionCounts, covered: np.ndarray) -> np.ndarray:
    """Median rate per hour of the week of the hourly baseline (overall decisions per unit exposure)."""
    B = hourly.baseline_periods
    exposure = hourly.exposure[:B] * covered[:B]
    y = hourly.overall[:B].sum(axis=1).astype(float)
    usable = (exposure > 0) & ~hourly.holiday[:B]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(usable, y / np.where(usable, exposure, 1.0), np.nan)
    weeks = B // 168
    if weeks < 1:
        return np.ones(168)
    table = rate[: weeks * 168].reshape(weeks, 168)
    seen = ~np.isnan(table).all(axis=0)
    profile = np.zeros(168)
    profile[seen] = np.nanmedian(table[:, seen], axis=0)
    return profile


def _coverage(counts: DecisionCounts, config: VolumeConfig, hourly: DecisionCounts | None
              ) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Covered share of expected volume of each report period (and hourly period), and notes.

    The module docstring, "Partial periods": time coverage between the first
    and last decision, weighted for daily and weekly periods by the baseline's
    hourly profile when hourly counts are given.
    """
    to_last = config.analysis_end is None
    time = counts.coverage(to_last=to_last)
    hourly_covered = hourly.coverage(to_last=to_last) if hourly is not None else None
    covered = time.copy()
    per = PERIOD_NS[counts.period] // PERIOD_NS["H"]
    partial = np.flatnonzero((time > 0) & (time < 1))
    if hourly is not None and hourly_covered is not None and counts.period != "H" and partial.size:
        profile = _hourly_profile(hourly, hourly_covered)
        n_hours = len(counts.periods) * per
        hours = pd.DatetimeIndex(counts.baseline_start + pd.to_timedelta(np.arange(n_hours), unit="h"))
        hour_exposure = period_exposure(counts.baseline_start, n_hours, "H", counts.timezone)
        hour_time = period_coverage(hours, "H", counts.data_first, counts.data_last if to_last else None)
        offset = int((counts.baseline_start - hourly.baseline_start) / pd.Timedelta(hours=1))
        slot = (np.arange(n_hours) + offset) % PERIODS_PER_WEEK["H"]
        weight = (profile[slot] * hour_exposure).reshape(len(counts.periods), per)
        full = weight.sum(axis=1)
        inside = (weight * hour_time.reshape(len(counts.periods), per)).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            covered = np.where(full > 0, inside / np.where(full > 0, full, 1.0), time)
    B = counts.baseline_periods
    notes: list[str] = []
    word = PERIOD_WORDS[counts.period]
    uncovered = np.flatnonzero(time[:B] == 0)
    if uncovered.size:
        many = uncovered.size > 1
        notes.append(
            f"{uncovered.size} {word}{'s' if many else ''} of the baseline before the first decision "
            f"({counts.data_first:%Y-%m-%d %H:%M}) {'are' if many else 'is'} not covered by the data and "
            f"left out of the baseline"
        )
    for t in np.flatnonzero((time[:B] > 0) & (covered[:B] < 1.0 - 1e-9)):
        how = ("left out of the baseline" if covered[t] < _BASELINE_MIN_SHARE
               else "counted in the baseline for that share")
        notes.append(
            f"the first {word} ({period_text(counts.periods[int(t)], counts.period)}) is covered only from "
            f"{counts.data_first:%Y-%m-%d %H:%M} (about {covered[t]:.0%} of its expected volume): {how}"
        )
    for t in np.flatnonzero((covered[B:] < 1.0 - 1e-9) & (time[B:] > 0)) + B:
        notes.append(
            f"the last {word} ({period_text(counts.periods[int(t)], counts.period)}) is covered only to "
            f"{counts.data_last:%Y-%m-%d %H:%M} (about {covered[t]:.0%} of its expected volume): it is graded "
            f"against that share of its expected count, not as a complete {word}"
        )
    covered[:B] = np.where(covered[:B] < _BASELINE_MIN_SHARE, 0.0, covered[:B])
    if hourly is not None and hourly_covered is not None:
        hb = hourly.baseline_periods
        hourly_covered[:hb] = np.where(hourly_covered[:hb] < _BASELINE_MIN_SHARE, 0.0, hourly_covered[:hb])
    return covered, hourly_covered, notes


def _untimed_events(counts: DecisionCounts, config: VolumeConfig) -> list[_Event]:
    """Rows without a timestamp belong to no period: their count, as a finding graded by their share."""
    untimed = int(counts.untimed or 0)
    if not untimed:
        return []
    total = untimed + counts.rows
    share = untimed / total if total else 1.0
    if share >= config.untimed_incident:
        rule, severity, threshold = ("timestamp_missing_large", config.severity["timestamp_missing_large"],
                                     config.untimed_incident)
    elif share >= config.untimed_warning:
        rule, severity, threshold = "timestamp_missing", config.severity["timestamp_missing"], config.untimed_warning
    else:
        rule, severity, threshold = "timestamp_missing", "ok", config.untimed_warning
    column = counts.roles["timestamp_column"]
    text = f"{untimed:,} decisions ({share:.1%}) without a timestamp"
    return [_Event(
        kind="data", check=rule, subject=column, severity=severity,
        message=f"{untimed:,} decisions ({share:.1%} of the rows) have no {column} and so belong to no period: "
        f"every volume, rate and mix in this report leaves them out (warning from {config.untimed_warning:.1%}, "
        f"incident from {config.untimed_incident:.0%} of the rows)",
        phrase=text, value=share, threshold=threshold,
        method="rows with a missing or unparseable timestamp / all rows", section=SECTIONS["data"],
        magnitude=share,
    )]


# --------------------------------------------------------------------------- assembly


def _ok_events(events: list[_Event], counts: DecisionCounts, state: _VolumeState,
               rates: list[_RateState], mix_tests: pd.DataFrame, coverage_notes: list[str]) -> list[_Event]:
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
    untimed = f"{counts.untimed:,} rows without a timestamp were left out" if counts.untimed else None
    for note in [*(note for note in counts.notes if note != untimed), *coverage_notes]:
        extra.append(_Event(kind="data", check="coverage", subject="data", severity="ok", message=note,
                            section=SECTIONS["data"]))
    return extra


def _attribution_onsets(events: list[_Event], counts: DecisionCounts) -> tuple[int, int]:
    """The onsets the drill-down measures from: of the most severe rate (or mix) and volume findings.

    Rates: among flagged decision-mix, rate-chart and segment mix or share
    findings, the most severe (the overall mix first, then an overall rate
    chart, then a segment, at equal severity); volume: the most severe volume
    or segment-volume finding. Without any, the analysis start.
    """
    B = counts.baseline_periods
    order = {"mix": 2, "rate": 1}

    def pick(pool: list[_Event]) -> int:
        if not pool:
            return B
        best = max(pool, key=lambda e: (severity_rank(e.severity), order.get(e.kind, 0), e.magnitude))
        return int(best.onset) if best.onset is not None else B

    flagged = [e for e in events if e.severity != "ok" and e.onset is not None]
    rate_pool = [e for e in flagged if (e.kind == "rate" or e.check.startswith(("mix_change", "segment_mix",
                                                                                  "segment_share")))]
    volume_pool = [e for e in flagged if e.kind == "volume" or e.check.startswith("segment_volume")]
    return pick(rate_pool), pick(volume_pool)


def _moved_decision(events: list[_Event], overall: list[tuple[str, float, float]]) -> str | None:
    """The decision the report's rate findings are about: the most severe flagged one, else the most moved.

    Flagged rate and mix findings name their decision; the most severe wins
    (an overall rate chart before a mix test at the same severity). Without
    any, the label whose overall share moved most in standard errors since the
    overall mix scan's onset; None without decisions.
    """
    order = {"rate": 1}
    flagged = [e for e in events if e.severity != "ok" and e.decision]
    if flagged:
        best = max(flagged, key=lambda e: (severity_rank(e.severity), order.get(e.kind, 0), e.magnitude))
        return best.decision
    return overall[0][0] if overall else None



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
    data = top(("data",))
    if data is not None:
        parts.append((severity_rank(data.severity), data.phrase))
    texts = [text for _, text in sorted(parts, key=lambda part: -part[0])]
    if not texts:
        other = top(("mix", "segment", "volume", "rate", "data"))
        texts.append(other.phrase if other else "see findings")
    return f"{status.capitalize()}: " + "; ".join(texts)


def analyse_counts(
    counts: DecisionCounts,
    config: VolumeConfig | None = None,
    *,
    hourly: DecisionCounts | None = None,
    backend: Backend | None = None,
    inputs: InputLog | None = None,
    model: str = "",
) -> VolumeResult:
    """Test :class:`~mlreport.counts.DecisionCounts` and return a :class:`~mlreport.volume.VolumeResult`.

    ``hourly``: for daily or weekly ``counts``, the same log counted on the
    hourly grid of the same windows (a backend's ``decision_counts(source,
    hourly_grid(config, counts.analysis_start), ...)``): runs of zero hours
    are then found on it (an outage of a few hours in a day that still had
    decisions), and a partial first or last period is graded by the share of
    its expected volume that the data covers. Without it, zero runs are found
    on the report's own periods and partial periods graded by their share of
    time. ``backend`` (what counted), ``inputs`` (what it read) and ``model``
    are the provenance the result's summary and computation table report;
    without them the result has neither.
    """
    config = config or VolumeConfig()
    if hourly is not None and (counts.period == "H" or hourly.period != "H"):
        hourly = None  # only an hourly grid under a coarser report adds anything
    limits = _Limits()
    covered, hourly_covered, coverage_notes = _coverage(counts, config, hourly)
    state = _analyse_volume_series(counts, config, limits, covered=covered, hourly=hourly,
                                   hourly_covered=hourly_covered)
    volume = _volume_table(counts, state, limits)
    events = _volume_events(counts, state, config, limits, hourly)
    rates = _rate_states(counts, config, limits)
    scans, mix_tests = _mix_tables(counts, config, limits)
    segment_tests, segment_events = _segment_volume(counts, state, config, limits)
    share_flags, share_events = _share_extreme(counts, scans, config)
    events += segment_events + share_events
    events += _mix_events(scans, mix_tests, counts, config, limits)
    flagged_series = [0] + [
        s for s in range(1, len(state.series.names))
        if any(e.subject == state.series.names[s] and e.severity != "ok" for e in events)
    ]
    changes, rate_changes = _change_points(counts, state, rates, config, flagged_series)
    events += _rate_events(counts, rates, config, limits, rate_changes)
    rate_onset, volume_onset = _attribution_onsets(events, counts)
    contributions = _contributions(counts, state, segment_tests, mix_tests, share_flags,
                                   volume_onset=volume_onset, rate_onset=rate_onset)
    mix = _mix_shares(counts, scans, rate_onset)
    events += _untimed_events(counts, config)
    subjects = {state.series.names[s] for s in flagged_series if s > 0}
    subjects |= {f"{e.subject.split('=', 1)[-1]} rate" for e in events if e.kind == "rate" and e.severity != "ok"}
    subjects |= {"override rate"} if any(e.subject == "override" and e.severity != "ok" for e in events) else set()
    events += _change_events(changes, counts, config, subjects | {"overall"})
    events += _ok_events(events, counts, state, rates, mix_tests, coverage_notes)
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
        limits=limits,
        moved_decision=_moved_decision(events, _moved(scans["overall"], counts.labels)),
        hourly=hourly,
    )


def analyse_volume(
    frame: pd.DataFrame,
    config: VolumeConfig | None = None,
    **roles: Unpack[RoleArguments],
) -> VolumeResult:
    """Decision-volume analysis of a decision log: :func:`count_decisions` then :func:`analyse_counts`.

    A daily or weekly report also counts the log on the hourly grid of its
    windows, for the zero runs and partial periods (:func:`analyse_counts`).

    The column roles are :func:`~mlreport.counts.count_decisions`' (a
    :class:`~mlreport.counts.DecisionRoles` from
    :func:`~mlreport.counts.resolve_roles` passes as ``**roles``); ``config``
    holds the method parameters and thresholds.
    """
    config = config or VolumeConfig()
    counts = count_decisions(frame, config, **roles)
    hourly = None
    if counts.period != "H":
        hourly = count_decisions(frame, hourly_grid(config, counts.analysis_start), **_hourly_roles(counts.roles))
    return analyse_counts(counts, config, hourly=hourly)


def _hourly_roles(roles: DecisionRoles) -> DecisionRoles:
    """The roles the hourly counts need: decisions and segments (no score bands, no override rate)."""
    return decision_roles(
        timestamp_column=roles["timestamp_column"], decision_column=roles["decision_column"],
        segment_columns=list(roles["segment_columns"]), decision_labels=roles["decision_labels"],
    )
