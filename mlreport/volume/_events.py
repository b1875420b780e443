"""The flagged facts of the volume analysis before they become findings, and the words they share.

Every test of the volume analysis (volume, rates, mix, segments, change
points; :mod:`mlreport.volume`) reports what it flagged as an ``_Event``: a
:class:`~mlreport.findings.Finding` and what the headline needs (a phrase, a magnitude, since
when). :data:`SECTIONS` are the notebook sections every finding belongs to; ``_episodes`` joins flagged
periods into maximal runs, one event each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..findings import Finding

__all__ = ["SECTIONS"]


SECTIONS: dict[str, str] = {
    "data": "Data and windows",
    "volume": "Volume timeline",
    "rates": "Decision rates",
    "mix": "Decision mix",
    "segments": "Segments",
    "changes": "Change points",
    "methods": "Methods",
}
"""Notebook section headings; every finding's ``section`` is one of them."""


@dataclass
class _Event:
    """A flagged fact before it becomes a Finding; carries what the headline needs."""

    kind: str  # volume | rate | mix | segment | change
    check: str
    subject: str
    severity: str
    message: str
    phrase: str = ""
    value: float | None = None
    threshold: float | None = None
    method: str = ""
    section: str = ""
    period: str | None = None
    magnitude: float = 0.0
    what: str = ""  # the phrase without its date, for headlines that join two events
    since: str = ""
    onset: int | None = None  # the report period the flagged change starts in (onset-aware attribution)
    decision: str = ""  # the decision label a rate or mix event is mostly about

    def finding(self) -> Finding:
        return Finding(
            check=self.check,
            subject=self.subject,
            severity=self.severity,
            message=self.message,
            value=None if self.value is None or not math.isfinite(self.value) else float(self.value),
            threshold=self.threshold,
            method=self.method,
            section=self.section,
            period=self.period,
        )


def _episodes(flag: np.ndarray, transparent: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of flagged positions; transparent positions neither break nor join a run."""
    keep = np.flatnonzero(flag | ~transparent)
    if keep.size == 0:
        return []
    marks = flag[keep].astype(np.int8)
    edges = np.diff(np.concatenate(([0], marks, [0])))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1) - 1
    return [(int(keep[a]), int(keep[b])) for a, b in zip(starts, stops, strict=True)]


def _phrase(column: str | None, value: str | None) -> str:
    return "overall" if column is None else f"{value} {column}"


def _about(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if value >= 1000:
        return f"{round(value, -2):,.0f}"
    if value >= 100:
        return f"{round(value, -1):,.0f}"
    if value >= 10:
        return f"{value:,.0f}"
    return f"{value:,.1f}"
