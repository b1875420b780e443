"""Findings grouped into incidents: one root cause, its evidence from every check, one onset.

Grouping works from a finding's generic fields only (check, subject, severity,
period, value, message), so it survives analyses adding or renaming checks:

1. findings at warning or above that name the same subject (a column, or a
   segment such as ``channel=broker``) are one incident, whatever the checks
   (integrity, drift over time, feature drift, multivariate);
2. decision-rate incidents that start on the same day are one shift of the
   decision mix (approve up and refer down are the same event);
3. decision-mix changes (overall or by segment) are consequences, attached as
   evidence, when a decision-rate incident or the overall mix change explains
   them;
4. an incident's kind is its most causal finding's kind (integrity before
   volume, rates, performance, drift, mix, stress; see :mod:`._kinds`), and
   that finding leads it;
5. its onset is the earliest date of the checks that date by day; a check that
   dates by period (drift over time) dates it only when no daily check does.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding, severity_rank
from ..tables import format_count, format_date, format_pp
from ._kinds import FAMILY_ORDER, Kind, kind_of
from ._words import defaulted_value, per_day, plain_words

__all__ = ["Incident", "Evidence", "group_incidents"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Evidence:
    """One finding behind an incident, and its part in it (``cause``, ``supporting`` or ``consequence``)."""

    finding: Finding
    role: str
    meaning: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**self.finding.to_dict(), "role": self.role, "meaning": self.meaning}


@dataclass(frozen=True)
class Incident:
    """One root cause, worst first among a run's incidents.

    ``what`` says what happened in a sentence, ``where`` the column or
    segment, ``onset`` the reconciled first date (ISO) and ``onset_by`` the
    check that dated it, ``size`` how big in the reader's units, ``next_step``
    guidance to adapt, ``evidence`` every finding behind it.
    """

    kind: str
    label: str
    severity: str
    where: str
    what: str
    size: str
    next_step: str
    onset: str | None = None
    onset_by: str | None = None
    onset_note: str = ""
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    @property
    def checks(self) -> list[str]:
        """The checks behind the incident, each once, in evidence order."""
        return list(dict.fromkeys(e.finding.check for e in self.evidence))

    @property
    def short(self) -> str:
        """A few words for a headline: ``credit_utilisation: feed defaulting to 0 since 19 Feb 2026``."""
        since = f" since {format_date(self.onset)}" if self.onset else ""
        return f"{self.where}: {self.label}{since}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "severity": self.severity,
            "where": self.where,
            "what": self.what,
            "size": self.size,
            "next_step": self.next_step,
            "onset": self.onset,
            "onset_by": self.onset_by,
            "onset_note": self.onset_note,
            "checks": self.checks,
            "evidence": [e.to_dict() for e in self.evidence],
        }


def _family_rank(kind: Kind) -> int:
    return FAMILY_ORDER.index(kind.family) if kind.family in FAMILY_ORDER else len(FAMILY_ORDER)


def _start(finding: Finding) -> str | None:
    match = _DATE.search(finding.period or "")
    return match.group(0) if match else None


def _lead_key(finding: Finding) -> tuple[int, int]:
    return (-severity_rank(finding.severity), _family_rank(kind_of(finding.check)))


def _lead_and_size(finding: Finding) -> tuple[int, int, float]:
    # Among stress findings of one test the largest effect leads; elsewhere the analysis' order stands.
    size = abs(finding.value or 0) if kind_of(finding.check).family == "stress" else 0.0
    if finding.check == "reverse_stress":
        size = -size  # the smallest breaking shock is the most fragile
    return (*_lead_key(finding), -size)


def _onset(findings: Sequence[Finding]) -> tuple[str | None, str | None, str]:
    """The reconciled onset, the check that dated it, and a note on the others' dates."""
    dated = [(d, f) for f in findings if (d := _start(f)) is not None]
    if not dated:
        return None, None, ""
    daily = [(d, f) for d, f in dated if kind_of(f.check).dating == "day"]
    pool = daily or dated
    date, by = min(pool, key=lambda pair: (pair[0], _lead_key(pair[1])))
    others = sorted({(d, f.check) for d, f in dated if f.check != by.check})
    notes = []
    for other_date, check in others:
        if other_date == date:
            notes.append(f"{check} agrees")
        elif kind_of(check).dating == "period" and other_date < date:
            notes.append(f"{check} flags the period starting {format_date(other_date)}, which contains it")
        else:
            notes.append(f"{check} first flags {format_date(other_date)}")
    note = f"dated by {by.check}" + (f"; {', '.join(notes)}" if notes else "")
    return date, by.check, note


def _label(kind: Kind, lead: Finding) -> str:
    if kind.name == "feed_default":
        value = defaulted_value(lead)
        if value is not None:
            return f"feed defaulting to {value}"
    if kind.name == "outage":
        return "no volume"
    return kind.label


def _days(data_period: str) -> float | None:
    dates = _DATE.findall(data_period)
    if len(dates) < 2:
        return None
    days = (dt.date.fromisoformat(dates[-1]) - dt.date.fromisoformat(dates[0])).days
    return float(days) if days > 0 else None


def _size(kind: Kind, lead: Finding, findings: Sequence[Finding], context: Mapping[str, Any]) -> str:
    """How big, in the reader's units, from what the findings and the run's metrics carry."""
    value = lead.value if lead.value is not None and math.isfinite(lead.value) else None
    if kind.name == "outage":
        expected = per_day(lead)
        if expected:
            return f"about {expected[0]} decisions per {expected[1]} missing"
    if kind.family == "rate" and value is not None:
        decision = lead.subject.split("=", 1)[-1]
        parts = [f"{decision} rate {format_pp(value)}"]
        parts += [f"{f.subject.split('=', 1)[-1]} rate {format_pp(f.value)}"
                  for f in findings if f.check == lead.check and f.subject != lead.subject and f.value is not None]
        rows, days = context.get("rows"), _days(str(context.get("data_period", "")))
        if isinstance(rows, (int, float)) and rows > 0 and days:
            daily = rows / days
            parts.append(f"about {format_count(abs(value) / 100 * daily)} {'more' if value > 0 else 'fewer'} "
                         f"{decision} decisions a day, of about {format_count(daily)} decisions a day")
        return "; ".join(parts)
    words = plain_words(lead)
    return words


def _evidence(findings: Sequence[Finding], lead: Finding, consequences: Sequence[Finding]) -> tuple[Evidence, ...]:
    ordered = [lead, *sorted((f for f in findings if f is not lead), key=_lead_key)]
    items = [Evidence(f, "cause" if f is lead else "supporting", plain_words(f)) for f in ordered]
    items += [Evidence(f, "consequence", plain_words(f)) for f in consequences]
    return tuple(items)


def _incident(findings: Sequence[Finding], consequences: Sequence[Finding], context: Mapping[str, Any],
              performance_dropped: bool) -> Incident:
    lead = min(findings, key=_lead_and_size)
    kind = kind_of(lead.check)
    severity = max((f.severity for f in findings), key=severity_rank)
    onset, onset_by, note = _onset(findings)
    since = format_date(onset) if onset else "the start of the current window"
    rate_shift = kind.family == "rate" and len({f.subject for f in findings if kind_of(f.check).family == "rate"}) > 1
    where = "decision rates" if rate_shift else _where(lead.subject)
    step = kind.next_step.format(where=where, since=since)
    if kind.family == "drift" and performance_dropped:
        step += " Performance dropped in the same run: consider recalibration or retraining."
    return Incident(
        kind=kind.name, label=_label(kind, lead), severity=severity, where=where, what=lead.message,
        size=_size(kind, lead, findings, context), next_step=step, onset=onset, onset_by=onset_by,
        onset_note=note, evidence=_evidence(findings, lead, consequences),
    )


def _where(subject: str) -> str:
    """A subject as a reader says it: ``channel=broker`` -> ``broker channel``; a column stays its name."""
    if "=" in subject and "," not in subject:
        name, value = subject.split("=", 1)
        return f"{value} {name}" if name != "decision" else f"{value} rate"
    return subject


def _overlaps(a: str | None, b: str | None, days: int = 1) -> bool:
    if a is None or b is None:
        return a == b
    return abs((dt.date.fromisoformat(a) - dt.date.fromisoformat(b)).days) <= days


def group_incidents(findings: Iterable[Finding], *, context: Mapping[str, Any] | None = None) -> list[Incident]:
    """The incidents behind ``findings`` (warning and above), worst first, each finding in exactly one.

    ``context`` may carry the run's ``rows`` and ``data_period`` to size rate
    incidents in decisions a day.
    """
    context = dict(context or {})
    flagged = [f for f in findings if f.severity != "ok"]
    by_subject: dict[str, list[Finding]] = {}
    for finding in flagged:
        # Stress findings are properties of the model, not of one subject's data: one incident per kind of test.
        stress = kind_of(finding.check).family == "stress"
        by_subject.setdefault(f"stress:{finding.check}" if stress else finding.subject, []).append(finding)
    groups = list(by_subject.values())

    def family(group: Sequence[Finding]) -> str:
        return kind_of(min(group, key=_lead_key).check).family

    # Decision rates that move on the same day are one shift of the decision mix.
    rates = [g for g in groups if family(g) == "rate"]
    merged: list[list[Finding]] = []
    for group in sorted(rates, key=lambda g: -max(abs(f.value or 0) for f in g)):
        onset = _onset(group)[0]
        home = next((m for m in merged if _overlaps(_onset(m)[0], onset)), None)
        if home is None:
            merged.append(list(group))
        else:
            home.extend(group)
    groups = [g for g in groups if family(g) != "rate"] + merged

    # Mix changes are consequences of a rate shift, or of the overall mix change.
    mixes = [g for g in groups if family(g) == "mix"]
    overall = next((g for g in mixes if any(f.subject == "overall" for f in g)), None)
    cause = merged[0] if merged else overall
    consequences: dict[int, list[Finding]] = {}
    if cause is not None:
        for group in mixes:
            if group is not cause:
                consequences.setdefault(id(cause), []).extend(group)
        groups = [g for g in groups if g is cause or g not in mixes]

    performance_dropped = any(kind_of(f.check).family == "performance" for f in flagged)
    incidents = [_incident(g, consequences.get(id(g), []), context, performance_dropped) for g in groups]
    order = {id(i): n for n, i in enumerate(incidents)}
    incidents.sort(key=lambda i: (-severity_rank(i.severity), _family_rank(kind_of(i.evidence[0].finding.check)),
                                  -len(i.evidence), order[id(i)]))
    return incidents
