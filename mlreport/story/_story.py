"""A run's story: its incidents in the summary, a headline naming them, and their HTML block."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping, Sequence
from typing import Any

from ..findings import Summary, severity_rank
from ..tables import format_date
from ._incidents import Incident, group_incidents

__all__ = ["tell", "incidents_of", "incident_headline", "incidents_html"]

_NAMED = 3  # other top-severity incidents named in a headline before counting the rest


def _context(summary: Summary) -> dict[str, Any]:
    return {"rows": summary.metrics.get("rows"), "data_period": summary.data_period}


def incidents_of(summary: Summary) -> list[Incident]:
    """The incidents of ``summary``'s findings, worst first."""
    return group_incidents(summary.findings, context=_context(summary))


def _names(incident: Incident) -> list[str]:
    lead = incident.evidence[0].finding.subject if incident.evidence else ""
    return [n for n in (incident.where, lead, lead.split("=", 1)[-1]) if n]


def incident_headline(status: str, incidents: Sequence[Incident], current: str = "") -> str:
    """A headline naming the worst incident and every other one of its severity (up to three), then the rest counted.

    ``current`` (the analysis' own headline) is kept when it already names every incident of the worst severity,
    or when they are all stress results.
    """
    if not incidents or status not in ("warning", "incident"):
        return current
    top = [i for i in incidents if i.severity == status]
    if current and all(any(n in current for n in _names(i)) for i in top):
        return current
    if current and all(i.kind == "stress" for i in top):
        # Stress results are properties of the model, which the stress analysis' own headline already sums up
        # (scenarios, reverse stress, monotonicity); its incidents are one per kind of test.
        return current
    lead, others = top[0], top[1:]
    text = f"{status.capitalize()}: {lead.what.rstrip('.')}"
    named = others[:_NAMED]
    if named:
        text += "; also " + "; ".join(i.short for i in named)
    rest = len(others) - len(named)
    lower = [i for i in incidents if severity_rank(i.severity) < severity_rank(status)]
    counts = []
    if rest:
        counts.append(f"{rest} more {status} incident{'s' if rest > 1 else ''}")
    if lower:
        shown = ", ".join(i.where for i in lower[:3]) + (", …" if len(lower) > 3 else "")
        counts.append(f"{len(lower)} warning incident{'s' if len(lower) > 1 else ''} ({shown})")
    return text + ("; " + "; ".join(counts) if counts else "") + "."


def tell(summary: Summary) -> Summary:
    """``summary`` with its incidents (``Summary.incidents``) and a headline that names them.

    Every other field is kept, so schedulers reading ``findings``, ``counts``
    or ``status`` see what they saw before. Telling a told summary again
    gives the same summary.
    """
    incidents = incidents_of(summary)
    headline = incident_headline(summary.status, incidents, summary.headline)
    return dataclasses.replace(summary, headline=headline, incidents=[i.to_dict() for i in incidents])


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _rows(incidents: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for n, incident in enumerate(incidents, 1):
        severity = str(incident.get("severity", "warning"))
        onset = incident.get("onset")
        since = format_date(onset) if onset else "–"
        checks = ", ".join(str(c) for c in incident.get("checks", []))
        evidence = incident.get("evidence") or []
        consequences = sum(1 for e in evidence if e.get("role") == "consequence")
        more = f"; {consequences} consequence finding(s) linked" if consequences else ""
        rows.append(
            "<tr>"
            f'<td class="mlr-sev mlr-sev-{_e(severity)}">{_e(severity.upper())}</td>'
            f'<td><strong>{_e(incident.get("where"))}</strong>: {_e(incident.get("label"))}'
            f'<div class="mlr-what">{_e(incident.get("what"))}</div></td>'
            f'<td title="{_e(incident.get("onset_note"))}">{_e(since)}</td>'
            f'<td>{_e(incident.get("size"))}</td>'
            f'<td>{_e(incident.get("next_step"))}</td>'
            f'<td>{_e(len(evidence))} finding(s): {_e(checks)}{_e(more)}</td>'
            "</tr>"
        )
        if n >= 30:
            break
    return "".join(rows)


def incidents_html(incidents: Sequence[Mapping[str, Any]]) -> str:
    """The key-findings block: one row per incident, worst first, with its next step; escaped."""
    if not incidents:
        return '<p class="mlr-none">No check reached a warning.</p>'
    more = len(incidents) - 30
    tail = f'<p class="mlr-more">{more} more incident(s) in the table of every finding below.</p>' if more > 0 else ""
    return (
        '<div class="mlr-scroll"><table class="mlr-findings mlr-incidents">'
        '<caption class="mlr-visually">Incidents, worst first, each once</caption>'
        '<thead><tr><th scope="col">Severity</th><th scope="col">What happened, where</th>'
        '<th scope="col">Since</th><th scope="col">How big</th><th scope="col">Next step (guidance to adapt)</th>'
        '<th scope="col">Evidence</th></tr></thead>'
        f"<tbody>{_rows(incidents)}</tbody></table></div>{tail}"
    )


