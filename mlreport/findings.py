"""Findings and the run summary a notebook publishes.

A :class:`Finding` is one checked fact (a column's PSI over its band, a channel
with no volume). A :class:`Summary` is what a whole analysis concluded: a status,
a one-sentence headline and its findings, plus the provenance the report's
appendix needs (inputs, thresholds and their version, methods, key metrics, the
reference profile's fingerprint).

Severities are ordered ``ok < warning < incident``. A run that could not finish
has status ``failed``, which is not a severity of a finding but of a run.

:func:`publish` is the one way a notebook hands its summary to the driver: it
displays a banner for the person in JupyterLab and, in the same output, a JSON
payload under :data:`SUMMARY_MIMETYPE` that :mod:`mlreport.driver` reads back
from the executed notebook.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import InputError

__all__ = [
    "SEVERITIES",
    "STATUSES",
    "SUMMARY_MIMETYPE",
    "Finding",
    "Summary",
    "thresholds_version",
    "severity_rank",
    "worst",
    "summarize",
    "publish",
]

SEVERITIES: tuple[str, ...] = ("ok", "warning", "incident")
STATUSES: tuple[str, ...] = (*SEVERITIES, "failed")
SUMMARY_MIMETYPE = "application/vnd.mlreport.summary+json"

_RANK = {name: rank for rank, name in enumerate(STATUSES)}


def severity_rank(severity: str) -> int:
    """Rank of a severity or status: ok 0, warning 1, incident 2, failed 3."""
    try:
        return _RANK[severity]
    except KeyError:
        raise InputError(
            f"unknown severity {severity!r}; expected one of {', '.join(STATUSES)}"
        ) from None


def worst(severities: Iterable[str]) -> str:
    """The most severe of ``severities`` (``ok`` when there are none)."""
    result = "ok"
    for severity in severities:
        if severity_rank(severity) > severity_rank(result):
            result = severity
    return result


def _json_number(value: object) -> object:
    """A JSON-safe number: NaN and infinities become None, numpy scalars Python."""
    if value is None:
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Finding:
    """One checked fact about the data or the model.

    ``value`` and ``threshold`` are the measured figure and the limit it was
    compared with; ``method`` names the statistic and its convention (for
    example ``"PSI, 10 reference-quantile bins, eps 1e-4"``) so that a reader
    can reproduce it.
    """

    check: str
    subject: str
    severity: str
    message: str
    value: float | None = None
    threshold: float | None = None
    method: str = ""
    section: str = ""
    period: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise InputError(
                f"finding {self.check}/{self.subject}: severity {self.severity!r} "
                f"is not one of {', '.join(SEVERITIES)}"
            )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["value"] = _json_number(self.value)
        data["threshold"] = _json_number(self.threshold)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})


def _sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    # Worst first; within a severity keep the order the analysis produced.
    indexed = list(enumerate(findings))
    indexed.sort(key=lambda pair: (-severity_rank(pair[1].severity), pair[0]))
    return [finding for _, finding in indexed]


@dataclass
class Summary:
    """What one analysis run concluded, and what it was computed from."""

    analysis: str
    status: str
    headline: str
    findings: list[Finding] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    thresholds: dict[str, Any] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    data_period: str = ""
    thresholds_version: str = "unversioned"
    profile_fingerprint: str | None = None
    #: The findings grouped into incidents, worst first (``mlreport.story.tell`` fills it): JSON-ready dicts
    #: with kind, where, what, onset, size, next step and evidence. Empty when nobody told the story.
    incidents: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InputError(
                f"summary status {self.status!r} is not one of {', '.join(STATUSES)}"
            )

    def counts(self) -> dict[str, int]:
        """Number of findings per severity."""
        counts = {severity: 0 for severity in SEVERITIES}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": self.analysis,
            "status": self.status,
            "headline": self.headline,
            "model": self.model,
            "data_period": self.data_period,
            "thresholds_version": self.thresholds_version,
            "profile_fingerprint": self.profile_fingerprint,
            "counts": self.counts(),
            "findings": [finding.to_dict() for finding in self.findings],
            "inputs": self.inputs,
            "thresholds": self.thresholds,
            "methods": self.methods,
            "metrics": self.metrics,
            "incidents": _clean(self.incidents),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=_json_default, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summary:
        thresholds = dict(data.get("thresholds", {}))
        fingerprint = data.get("profile_fingerprint")
        return cls(
            thresholds_version=str(data.get("thresholds_version") or thresholds_version(thresholds)),
            profile_fingerprint=None if fingerprint is None else str(fingerprint),
            analysis=str(data.get("analysis", "")),
            status=str(data.get("status", "ok")),
            headline=str(data.get("headline", "")),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            inputs=list(data.get("inputs", [])),
            thresholds=thresholds,
            methods=dict(data.get("methods", {})),
            metrics=dict(data.get("metrics", {})),
            model=str(data.get("model", "")),
            data_period=str(data.get("data_period", "")),
            incidents=[dict(i) for i in data.get("incidents") or []],
        )


def thresholds_version(thresholds: Mapping[str, object]) -> str:
    """The version(s) of a thresholds policy, e.g. ``spec v2, drift=drift-thresholds/1``.

    The top-level ``version`` first, then ``name=version`` for every table
    that carries its own; ``unversioned`` when none does.
    """
    versions = []
    if "version" in thresholds:
        versions.append(str(thresholds["version"]))
    for name, value in thresholds.items():
        if isinstance(value, Mapping) and "version" in value:
            versions.append(f"{name}={value['version']}")
    return ", ".join(versions) or "unversioned"


def _json_default(value: object) -> object:
    """Serialise numpy scalars, timestamps and paths found in summaries."""
    if hasattr(value, "item"):
        return _json_number(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _clean(value: object) -> object:
    """Recursively replace non-finite floats by None so the JSON stays strict."""
    if isinstance(value, Mapping):
        return _clean_mapping(value)
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return _json_number(value) if isinstance(value, float) or hasattr(value, "item") else value


def _clean_mapping(mapping: Mapping[str, object]) -> dict[str, object]:
    """:func:`_clean` of every value, with the keys as strings."""
    return {str(k): _clean(v) for k, v in mapping.items()}


def _default_headline(status: str, findings: Sequence[Finding], analysis: str) -> str:
    if status == "ok":
        return f"Healthy: no {analysis} check reached a warning."
    top = [f for f in findings if f.severity == status]
    lead = top[0].message.rstrip(".")
    more = len(top) - 1
    word = status.capitalize()
    if more:
        return f"{word}: {lead}; {more} more {status} finding{'s' if more > 1 else ''}."
    return f"{word}: {lead}."


def summarize(
    analysis: str,
    findings: Iterable[Finding],
    *,
    headline: str | None = None,
    inputs: Sequence[Mapping[str, object]] = (),
    thresholds: Mapping[str, object] | None = None,
    methods: Mapping[str, str] | None = None,
    metrics: Mapping[str, object] | None = None,
    model: str = "",
    data_period: str = "",
    profile_fingerprint: str | None = None,
) -> Summary:
    """Build a :class:`Summary` whose status is the worst finding's severity.

    Findings are sorted worst first. Without ``headline`` one is written from
    the worst findings, naming what broke rather than counting columns. The
    thresholds' version is read from ``thresholds`` (:func:`thresholds_version`).
    """
    ordered = _sorted_findings(findings)
    status = worst(f.severity for f in ordered)
    return Summary(
        analysis=analysis,
        status=status,
        headline=headline or _default_headline(status, ordered, analysis),
        findings=ordered,
        inputs=[_clean_mapping(dict(i)) for i in inputs],
        thresholds=_clean_mapping(dict(thresholds or {})),
        methods=dict(methods or {}),
        metrics=_clean_mapping(dict(metrics or {})),
        model=model,
        data_period=data_period,
        thresholds_version=thresholds_version(thresholds or {}),
        profile_fingerprint=profile_fingerprint,
    )


_STATUS_COLOURS = {
    "ok": "#1a7f37",
    "warning": "#9a6700",
    "incident": "#cf222e",
    "failed": "#6e2b8f",
}


def banner_html(status: str, headline: str) -> str:
    """The status banner: a word and a colour, never colour alone. Escaped."""
    colour = _STATUS_COLOURS.get(status, "#57606a")
    return (
        f'<div class="mlr-banner mlr-{html.escape(status)}" role="status" '
        f'style="border-left:8px solid {colour};padding:8px 12px;margin:4px 0;'
        f'background:#f6f8fa">'
        f'<strong style="color:{colour}">{html.escape(status.upper())}</strong> '
        f"{html.escape(headline)}</div>"
    )


def publish(summary: Summary) -> None:
    """Display the summary in the notebook and hand it to the driver.

    One display output carries both a banner (``text/html``, for people) and
    the JSON payload (:data:`SUMMARY_MIMETYPE`, for :mod:`mlreport.driver`).
    Call it once, in the last cell of an analysis notebook.
    """
    from IPython.display import display  # imported lazily: the library runs without IPython

    payload = json.loads(summary.to_json())
    counts = summary.counts()
    text = f"{summary.status.upper()}: {summary.headline} ({counts})"
    display(
        {
            SUMMARY_MIMETYPE: payload,
            "text/html": banner_html(summary.status, summary.headline),
            "text/plain": text,
        },
        raw=True,
        metadata={"mlreport": {"summary": True}},
    )
    # Returns nothing: a notebook's last cell ``publish(summary)`` must not
    # also print the summary's repr into the report.
