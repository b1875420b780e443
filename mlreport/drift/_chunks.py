"""The periods drift over time judges: small periods merged, partial edge periods merged or noted.

Each period is compared with the whole reference, and a period's metrics are
effect sizes measured on its own rows. On a small period they are mostly noise
(see :data:`~mlreport.drift.MIN_JUDGED_ROWS`): a real but small shift read on
285 rows crossed the incident band in 76% of runs at 2,000 rows per window,
and never at 50,000. So before drift over time is judged:

* a first or last period that the window covers only partly (data ending at
  11:51 on its last day: :func:`mlreport.integrity.edge_coverage`) is merged
  into its neighbour when it covers less than half of a typical period's
  rows, and judged on its own rows with a note when it covers more;
* consecutive periods are merged, in time order, until each judged period
  holds at least ``min_rows`` rows; a small remainder at the end joins the
  period before it. A merged period is labelled ``first to last``;
* when that leaves a single period, drift over time would only repeat feature
  drift (and spend the report's false-alarm budget twice on the same rows):
  nothing is judged, and a note says why.

The periods' summaries add up (:class:`~mlreport.profile.Summaries`), so a
merged period's metrics are exactly those of its rows counted together.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from ..integrity import COMPLETE_COVERAGE, MIN_COVERAGE, EdgeCoverage
from ..profile import Summaries, merge

__all__ = ["JudgedPeriods", "judged_periods"]


@dataclass(frozen=True)
class JudgedPeriods:
    """The periods drift over time judges (label to summaries, in time order) and what was done to get them.

    ``merged`` maps each judged label made of several periods to those
    periods; ``notes`` are sentences for the report (why periods were merged,
    which one is partial, or why nothing is judged).
    """

    parts: dict[str, Summaries]
    merged: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def judged(self) -> bool:
        """True when there are periods to judge."""
        return bool(self.parts)


def _label(labels: Sequence[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{labels[0]} to {labels[-1]}"


def judged_periods(
    parts: Mapping[str, Summaries] | Mapping[Hashable, Summaries],
    *,
    min_rows: int,
    coverage: EdgeCoverage | None = None,
) -> JudgedPeriods:
    """Group the per-period summaries ``parts`` (in time order) into the periods drift over time judges.

    ``min_rows`` is the fewest rows a judged period holds; ``coverage`` the
    covered share of the first and last period (see the module docstring).
    Periods without a label (rows without a timestamp) are left out.
    """
    labels = [str(label) for label in parts if label is not None]
    summaries = {str(label): part for label, part in parts.items() if label is not None}
    notes: list[str] = []
    if not labels:
        return JudgedPeriods({}, {}, notes)
    groups: list[list[str]] = [[label] for label in labels]
    edges = coverage or EdgeCoverage(1.0, 1.0, "")
    # Partial edge periods: merged into their neighbour below half a typical period, else noted.
    for which, share in (("first", edges.first), ("last", edges.last)):
        if share >= COMPLETE_COVERAGE:
            continue
        label = labels[0] if which == "first" else labels[-1]
        if share < MIN_COVERAGE and len(groups) > 1:
            if which == "first":
                groups[1] = groups[0] + groups[1]
                groups.pop(0)
            else:
                groups[-2] = groups[-2] + groups[-1]
                groups.pop()
            notes.append(f"the {which} period {label} covers about {share:.0%} of a typical period's rows "
                         f"({edges.basis}): merged with its neighbour")
        else:
            notes.append(f"the {which} period {label} covers about {share:.0%} of a typical period's rows "
                         f"({edges.basis}): judged on its own rows")
    # Small periods: merged forward until each holds min_rows; a small remainder joins the one before.
    sized: list[list[str]] = []
    pending: list[str] = []
    for group in groups:
        pending = pending + group
        if sum(summaries[label].rows for label in pending) >= min_rows:
            sized.append(pending)
            pending = []
    if pending:
        if sized:
            sized[-1] = sized[-1] + pending
        else:
            sized.append(pending)
    small = [label for label in labels if summaries[label].rows < min_rows]
    if small:
        notes.append(
            f"{len(small)} of {len(labels)} periods hold fewer than {min_rows:,} rows, too few to judge alone "
            "(their metrics would be mostly noise): merged with the periods that follow"
        )
    if len(sized) == 1:
        total = sum(summaries[label].rows for label in labels)
        why = (
            f"the current window's {total:,} rows do not make two periods of {min_rows:,} rows"
            if len(labels) > 1 else f"the current window is one period ({labels[0]})"
        )
        notes.append(f"not judged: {why}; feature drift judges the window as a whole")
        return JudgedPeriods({}, {}, notes)
    judged = {_label(group): merge(summaries[label] for label in group) for group in sized}
    merged = {_label(group): list(group) for group in sized if len(group) > 1}
    return JudgedPeriods(judged, merged, notes)
