"""Drift by segment: each feature within each level of each segment column, reference level against current level.

A mix change (more rows from one region) shows in feature drift, where the
segment column is a feature like any other. What it hides is drift *within* a
level: incomes moving in one region only, diluted in the whole. Here each
(segment level, feature) pair is compared as feature drift compares a column
(:func:`~mlreport.drift.compare`): the same metrics on the same
reference-quantile bins, the same bands, and a verdict that needs both an
effect size over its band and a significant test, with the multiple-testing
correction taken over the whole table (every level of every segment x every
feature: one family).

Levels are capped like the volume analysis caps them: per segment column the
:data:`MAX_SEGMENT_LEVELS` levels with most reference rows; a level needs
:data:`MIN_SEGMENT_ROWS` rows in each window to be judged; a column with more
than :data:`MAX_SEGMENT_DISTINCT` reference values is not cut at all. Each
cap is stated in the notes. Counts come from the backend
(:meth:`~mlreport.backends.Backend.summarize_by`), on every row.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import stats
from ..backends import Backend, Source
from ..findings import Finding, worst
from ..profile import ReferenceProfile, Summaries
from ._findings import findings_from_comparison
from ._metrics import _rows
from ._period_choice import MIN_PERIOD_ROWS
from ._thresholds import _SEVERITY_RANK, Thresholds, _thresholds, worst_first
from ._verdict import _COLUMN_ORDER, _assess, _finish

__all__ = [
    "SECTION", "MAX_SEGMENT_LEVELS", "MIN_SEGMENT_ROWS", "MAX_SEGMENT_DISTINCT", "SegmentDrift", "segment_drift",
    "compare_levels",
]

SECTION = "Drift by segment"

MAX_SEGMENT_LEVELS = 30
"""Levels judged per segment column, those with most reference rows (as the volume analysis' ``max_segment_levels``)."""

MIN_SEGMENT_ROWS = MIN_PERIOD_ROWS
"""Rows a level needs in each window to be judged: as many as a period of drift over time, for the same reason.

A level, like a period, is a part of the window compared on its own; below
this many rows a warning-sized move cannot be told from noise after the
correction, and small levels only add false alarms.
"""

MAX_SEGMENT_DISTINCT = 1000
"""A segment column with more distinct reference values than this is not cut by level (an id, not a segment)."""


@dataclass
class SegmentDrift:
    """Drift within each segment level: the table, one finding per level with a drifted feature, and the notes.

    ``table`` has the columns of :func:`~mlreport.drift.compare` led by
    ``segment``, ``level``, ``level_rows_ref`` and ``level_rows_cur``, worst
    first. ``notes`` say which segments or levels were capped or too small.
    ``assessed`` is False when there was no segment column to cut by.
    """

    table: pd.DataFrame
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)
    assessed: bool = True


def _level_text(level: Hashable) -> str:
    return str(level)


def compare_levels(
    profile: ReferenceProfile,
    levels: Mapping[tuple[str, Hashable], tuple[Summaries, Summaries]],
    *,
    features: Sequence[str],
    thresholds: Thresholds | Mapping[str, Any] | None = None,
    eps: float = stats.PSI_EPS,
) -> pd.DataFrame:
    """The drift table of ``{(segment, level): (reference summaries, current summaries)}``, one family.

    Each feature (less the segment column itself) of each level is compared
    on the profile's bins; p-values are adjusted over the whole table. Sorted
    worst first, then by PSI.
    """
    settings = _thresholds(thresholds)
    frames = []
    for (segment, level), (reference, current) in levels.items():
        columns = [c for c in features if c != segment and c in profile.columns]
        if not columns:
            continue
        frame = pd.DataFrame(_rows(profile, reference, current, columns=columns, exact=None, eps=eps))
        frame.insert(0, "level_rows_cur", current.rows)
        frame.insert(0, "level_rows_ref", reference.rows)
        frame.insert(0, "level", _level_text(level))
        frame.insert(0, "segment", segment)
        frames.append(frame)
    leading = ("segment", "level", "level_rows_ref", "level_rows_cur")
    if not frames:
        empty = pd.DataFrame(columns=[*leading, *_COLUMN_ORDER])
        return _finish(empty, settings, eps, leading=leading)
    table = _assess(pd.concat(frames, ignore_index=True), settings)
    table = worst_first(table)
    return _finish(table, settings, eps, leading=leading)


def segment_drift(
    engine: Backend,
    reference: Source,
    current: Source,
    profile: ReferenceProfile,
    *,
    segments: Sequence[str],
    features: Sequence[str],
    thresholds: Thresholds | Mapping[str, Any] | None = None,
    distinct: Mapping[str, int] | None = None,
    overall: Mapping[str, str] | None = None,
    current_parts: Mapping[str, Mapping[Hashable, Summaries]] | None = None,
) -> SegmentDrift:
    """Drift of every feature within every level of every segment column (see the module docstring).

    ``engine`` counts ``reference`` and ``current`` by each segment column;
    ``distinct`` (segment -> distinct reference values, from the rows in
    memory) guards against cutting by an id-like column; ``overall``
    (feature -> severity in the whole window) keeps findings to drift that
    the whole window does not show as strongly (the table has every pair).
    ``current_parts`` (segment -> level -> summaries) are the current
    window's, when already counted in its periods' pass; the segments it
    lacks are counted here.
    """
    settings = _thresholds(thresholds)
    if not segments:
        table = compare_levels(profile, {}, features=features, thresholds=settings)
        table.attrs["empty_text"] = "no segment column: drift by segment not assessed"
        return SegmentDrift(table, [], [], assessed=False)
    levels: dict[tuple[str, Hashable], tuple[Summaries, Summaries]] = {}
    cut = [s for s in segments if (distinct or {}).get(s, 0) <= MAX_SEGMENT_DISTINCT]
    # Every segment column of a window counted together: one pass over its rows where the backend can.
    reference_parts = dict(zip(cut, engine.summarize_by_each(reference, profile, cut), strict=True)) if cut else {}
    given = current_parts or {}
    counted: dict[str, Mapping[Hashable, Summaries]] = {s: given[s] for s in cut if s in given}
    uncounted = [segment for segment in cut if segment not in counted]
    if uncounted:
        counted.update(zip(uncounted, engine.summarize_by_each(current, profile, uncounted), strict=True))
    notes: list[str] = []
    for segment in segments:
        if segment not in reference_parts:
            count = (distinct or {}).get(segment, 0)
            notes.append(f"{segment}: {count:,} distinct reference values (more than {MAX_SEGMENT_DISTINCT:,}), "
                         "not cut by level")
            continue
        by_reference, by_current = reference_parts[segment], counted[segment]
        ordered = sorted(by_reference.items(), key=lambda item: (-item[1].rows, str(item[0])))
        kept, capped = ordered[:MAX_SEGMENT_LEVELS], ordered[MAX_SEGMENT_LEVELS:]
        if capped:
            rows = sum(part.rows for _, part in capped)
            notes.append(f"{segment}: {len(ordered):,} levels; the {MAX_SEGMENT_LEVELS} with most reference rows "
                         f"are judged, the other {len(capped):,} ({rows:,} reference rows) are not")
        small = []
        for level, ref_part in kept:
            cur_part = by_current.get(level)
            if ref_part.rows < MIN_SEGMENT_ROWS or cur_part is None or cur_part.rows < MIN_SEGMENT_ROWS:
                small.append(f"{_level_text(level)} ({ref_part.rows:,} / {cur_part.rows if cur_part else 0:,})")
                continue
            levels[(segment, level)] = (ref_part, cur_part)
        if small:
            notes.append(f"{segment}: {len(small)} level(s) with fewer than {MIN_SEGMENT_ROWS} rows in a window "
                         f"(reference / current) not judged: {', '.join(small[:8])}"
                         f"{', ...' if len(small) > 8 else ''}")
        unseen = [level for level in by_current if level not in by_reference]
        if unseen:
            notes.append(f"{segment}: {len(unseen)} level(s) only in the current window (no reference to compare "
                         f"with; see new categories under Data integrity): "
                         f"{', '.join(_level_text(v) for v in unseen[:8])}{', ...' if len(unseen) > 8 else ''}")
    table = compare_levels(profile, levels, features=features, thresholds=settings)
    if table.empty:
        table.attrs["empty_text"] = "no segment level with enough rows in both windows" + (
            f" ({'; '.join(notes)})" if notes else "")
    return SegmentDrift(table, _level_findings(table, settings, overall), notes)


def _level_findings(
    table: pd.DataFrame, thresholds: Thresholds, overall: Mapping[str, str] | None = None
) -> list[Finding]:
    """One finding per segment level whose features drifted beyond what the whole window shows.

    A (level, feature) pair counts when its severity is warning or above and
    worse than the feature's own in the whole window (``overall``: column ->
    severity, from feature drift): a drift of every level alike is feature
    drift, reported there once; the table keeps every pair.
    """
    findings: list[Finding] = []
    if table.empty:
        return findings
    whole = table["column"].map(lambda c: _SEVERITY_RANK.get((overall or {}).get(str(c), "ok"), 0))
    rank = table["severity"].map(_SEVERITY_RANK)
    flagged = table[table["severity"].isin(["warning", "incident"]) & (rank > whole)]
    for (segment, level), group in flagged.groupby(["segment", "level"], sort=False):
        per_feature = findings_from_comparison(group, SECTION, check="segment_drift", thresholds=thresholds)
        if not per_feature:
            continue
        lead = per_feature[0]
        severity = worst(f.severity for f in per_feature)
        shown = "; ".join(f.message.rstrip(".") for f in per_feature[:3])
        more = f"; and {len(per_feature) - 3} more" if len(per_feature) > 3 else ""
        rows = group.iloc[0]
        findings.append(Finding(
            check="segment_drift",
            subject=f"{segment}={level}",
            severity=severity,
            message=(f"{segment}={level} ({int(rows['level_rows_ref']):,} reference rows, "
                     f"{int(rows['level_rows_cur']):,} current): {len(per_feature)} feature"
                     f"{'s' if len(per_feature) != 1 else ''} drifted within this level more than in the whole "
                     f"window: {shown}{more}."),
            value=lead.value,
            threshold=lead.threshold,
            method=lead.method,
            section=SECTION,
        ))
    return findings
