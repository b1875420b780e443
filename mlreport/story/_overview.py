"""The verdict and the incidents at the top of a notebook: what a data scientist reads before the evidence.

The rendered report has its own banner and key-findings block (the driver
builds them from the published summary), so the notebook cell that shows
:func:`overview` is tagged ``mlreport-hide``: JupyterLab and ``mlreport
prepare`` show it, the report does not repeat it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..findings import Summary
from ._story import incidents_html, tell

__all__ = ["HasSummary", "StoryView", "overview"]

#: Banner colours per status (the report's palette: Okabe-Ito blue-green, orange, vermillion), with the word
#: always beside the colour.
_COLOURS = {"ok": "#009E73", "warning": "#E69F00", "incident": "#D55E00", "failed": "#000000"}
_WORDS = {"ok": "HEALTHY", "warning": "WARNING", "incident": "INCIDENT", "failed": "RUN FAILED"}


class HasSummary(Protocol):
    """An analysis result: its summary is computed when first read (and may raise)."""

    @property
    def summary(self) -> Summary: ...


@dataclass(frozen=True)
class StoryView:
    """A run's verdict, headline and incidents (worst first), displayed as HTML in a notebook.

    ``incidents`` are :attr:`~mlreport.findings.Summary.incidents`' dicts, as
    :func:`tell` fills them. Every value is escaped.
    """

    status: str
    headline: str
    incidents: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    #: Why there is no verdict yet: the error computing the summary raised (that section's cell raises it again).
    pending: str = ""

    def _repr_html_(self) -> str:
        if self.pending:
            return ('<div class="mlr-story"><p><strong>No verdict yet.</strong> '
                    f"{html.escape(self.pending)}</p></div>")
        colour = _COLOURS.get(self.status, "#000000")
        word = _WORDS.get(self.status, self.status.upper())
        count = len(self.incidents)
        return (
            '<div class="mlr-story">'
            f'<p style="border-left:8px solid {colour};padding:4px 8px;margin:0 0 6px 0">'
            f"<strong>{html.escape(word)}</strong> {html.escape(self.headline)}</p>"
            f"<p>{count} incident{'s' if count != 1 else ''}, worst first; the sections below hold the "
            "evidence, and each incident section ends with a drill-down to extend.</p>"
            f"{incidents_html(self.incidents)}</div>"
        )

    def __repr__(self) -> str:
        if self.pending:
            return f"No verdict yet. {self.pending}"
        lines = [f"{_WORDS.get(self.status, self.status.upper())}: {self.headline}"]
        for incident in self.incidents:
            lines.append(f"- {str(incident.get('severity', '')).upper()} {incident.get('where')}: "
                         f"{incident.get('what')} Next: {incident.get('next_step')}")
        return "\n".join(lines)


def overview(result: Summary | HasSummary) -> StoryView:
    """The verdict and incidents of ``result`` (a summary, or an analysis result), to show at a notebook's top.

    Reading an analysis result's summary computes every section. When that
    raises, the view says so instead of raising: the section whose cell
    computes the failing part raises the same error below, so a failed run is
    reported in the section that failed, with its kind (bad input or a broken run).
    """
    if isinstance(result, Summary):
        summary = result
    else:
        try:
            summary = result.summary
        except Exception as error:  # shown here, raised again by the section that computes it
            return StoryView(status="failed", headline="", pending=(
                f"Computing the findings stopped with {type(error).__name__}: {error}. The section that "
                "computes that part fails below with the full error."))
    told = tell(summary)
    return StoryView(status=told.status, headline=told.headline, incidents=tuple(told.incidents))
