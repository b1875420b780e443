"""What a notification says, and how each channel is sent it.

A :class:`Message` is read from the recorded run (run.json and where its folder
is): status, headline, counts per severity, the worst findings, the error of a
failed run, and where the report is: ``report_url`` when the outputs folder is
served (``<report_url>/<model>/<analysis>/<run id>/report.html``), else the
report's path on this machine.

Headlines, subjects and messages come from the data (column names, values), so
every channel gets them escaped for what it renders: Slack blocks take them as
``plain_text`` (never mrkdwn, so ``<!channel>`` or ``<http://x|y>`` in a column
name stays text) and its fallback text has ``&``, ``<``, ``>`` escaped; Teams
Adaptive Cards render Markdown, so its special characters are backslash
escaped; e-mail HTML is HTML escaped, and header lines lose their line breaks.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..findings import SEVERITIES

__all__ = ["NOTIFICATION_SCHEMA_VERSION", "Message", "webhook_payload", "slack_payload", "teams_payload",
           "email_message"]

#: Version of the generic webhook's JSON body (``mlreport schema notification``).
NOTIFICATION_SCHEMA_VERSION = 1
_TOP_FINDINGS = 5
_WORDS = {"ok": "HEALTHY", "warning": "WARNING", "incident": "INCIDENT", "failed": "RUN FAILED"}
_TEAMS_COLOURS = {"ok": "Good", "warning": "Warning", "incident": "Attention", "failed": "Attention"}
_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class Message:
    """A recorded run, as every channel tells it."""

    run_id: str
    analysis: str
    model: str
    status: str
    exit_code: int
    headline: str
    counts: dict[str, int]
    report_path: str
    report_url: str = ""
    run_dir: str = ""
    data_period: str = ""
    started_at: str = ""
    finished_at: str = ""
    error: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def word(self) -> str:
        """The status as the report's banner says it."""
        return _WORDS.get(self.status, self.status.upper())

    @property
    def link(self) -> str:
        """The report's URL, else its path."""
        return self.report_url or self.report_path

    @property
    def title(self) -> str:
        return _one_line(f"{self.word}: {self.model} {self.analysis}", 150)

    @classmethod
    def from_manifest(
        cls, manifest: Mapping[str, Any], run_dir: str | Path, *, out_dir: str | Path | None = None,
        report_url: str = "",
    ) -> Message:
        """The message of the run whose run.json is ``manifest`` and whose folder is ``run_dir``."""
        folder = Path(run_dir)
        url = ""
        if report_url:
            try:
                relative = folder.resolve().relative_to(Path(out_dir).resolve()).as_posix() if out_dir else folder.name
            except ValueError:
                relative = folder.name
            url = f"{report_url.rstrip('/')}/{quote(relative)}/report.html"
        error = manifest.get("error")
        counts = manifest.get("counts") or {}
        findings = [
            {key: finding.get(key) for key in ("severity", "check", "subject", "message", "value", "threshold")}
            for finding in (manifest.get("findings") or [])[:_TOP_FINDINGS]
            if isinstance(finding, Mapping) and finding.get("severity") != "ok"
        ]
        return cls(
            run_id=str(manifest.get("run_id") or ""), analysis=str(manifest.get("analysis") or ""),
            model=str(manifest.get("model") or ""), status=str(manifest.get("status") or "failed"),
            exit_code=int(manifest.get("exit_code", 3)), headline=str(manifest.get("headline") or ""),
            counts={severity: int(counts.get(severity) or 0) for severity in SEVERITIES},
            report_path=str(folder / "report.html"), report_url=url, run_dir=str(folder),
            data_period=str(manifest.get("data_period") or ""), started_at=str(manifest.get("started_at") or ""),
            finished_at=str(manifest.get("finished_at") or ""),
            error=str(error.get("message") or "") if isinstance(error, Mapping) else "", findings=findings,
        )

    def counts_text(self) -> str:
        return ", ".join(f"{self.counts.get(s, 0)} {s}" for s in reversed(SEVERITIES))


def webhook_payload(message: Message) -> dict[str, Any]:
    """The generic webhook's JSON body (``mlreport schema notification``)."""
    return {
        "schema_version": NOTIFICATION_SCHEMA_VERSION,
        "event": "run.recorded",
        "run_id": message.run_id,
        "analysis": message.analysis,
        "model": message.model,
        "status": message.status,
        "exit_code": message.exit_code,
        "headline": message.headline,
        "counts": dict(message.counts),
        "findings": list(message.findings),
        "error": message.error or None,
        "report": {"path": message.report_path, "url": message.report_url or None},
        "run_dir": message.run_dir,
        "data_period": message.data_period,
        "started_at": message.started_at,
        "finished_at": message.finished_at,
    }


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _finding_line(finding: Mapping[str, Any]) -> str:
    return f"{str(finding.get('severity', '')).upper()} {finding.get('subject', '')}: {finding.get('message', '')}"


def slack_payload(message: Message) -> dict[str, Any]:
    """A Slack incoming webhook's body: blocks of plain text, a fallback ``text``, a link button when served."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title, "emoji": False}},
        {"type": "section", "text": {"type": "plain_text", "text": _one_line(message.headline, 2900) or message.word,
                                     "emoji": False}},
        {"type": "section", "fields": [
            {"type": "plain_text", "text": f"Findings: {message.counts_text()}", "emoji": False},
            {"type": "plain_text", "text": f"Run {message.run_id} (exit {message.exit_code})", "emoji": False},
        ]},
    ]
    if message.findings:
        lines = "\n".join(_one_line(_finding_line(f), 300) for f in message.findings)
        blocks.append({"type": "section", "text": {"type": "plain_text", "text": lines[:2900], "emoji": False}})
    if message.error:
        blocks.append({"type": "section", "text": {"type": "plain_text", "text": _one_line(message.error, 2900),
                                                   "emoji": False}})
    if message.report_url:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open the report"}, "url": message.report_url},
        ]})
    else:
        blocks.append({"type": "context", "elements": [
            {"type": "plain_text", "text": _one_line(f"Report: {message.report_path}", 2900), "emoji": False},
        ]})
    fallback = _slack_escape(_one_line(f"{message.title}: {message.headline}", 2900))
    return {"text": fallback, "mrkdwn": False, "blocks": blocks}


def _teams_escape(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def teams_payload(message: Message) -> dict[str, Any]:
    """A Microsoft Teams incoming webhook's body: one Adaptive Card (Workflows and connector webhooks take it)."""
    facts = [
        {"title": "Findings", "value": _teams_escape(message.counts_text())},
        {"title": "Run", "value": _teams_escape(f"{message.run_id} (exit {message.exit_code})")},
    ]
    if message.data_period:
        facts.append({"title": "Data", "value": _teams_escape(message.data_period)})
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": _teams_escape(message.title), "weight": "Bolder", "size": "Medium",
         "color": _TEAMS_COLOURS.get(message.status, "Default"), "wrap": True},
        {"type": "TextBlock", "text": _teams_escape(_one_line(message.headline, 2000)), "wrap": True},
        {"type": "FactSet", "facts": facts},
    ]
    for finding in message.findings:
        body.append({"type": "TextBlock", "text": _teams_escape(_one_line(_finding_line(finding), 300)),
                     "wrap": True, "spacing": "Small"})
    if message.error:
        body.append({"type": "TextBlock", "text": _teams_escape(_one_line(message.error, 2000)), "wrap": True})
    actions: list[dict[str, Any]] = []
    if message.report_url:
        actions.append({"type": "Action.OpenUrl", "title": "Open the report", "url": message.report_url})
    else:
        body.append({"type": "TextBlock", "text": _teams_escape(f"Report: {message.report_path}"), "wrap": True,
                     "isSubtle": True})
    card = {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.4", "body": body, "actions": actions}
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card},
    ]}


def email_message(
    message: Message, *, sender: str, recipients: Sequence[str], attach: Path | None = None,
) -> EmailMessage:
    """The e-mail: a plain-text and an HTML part, the report attached when ``attach`` is given."""
    mail = EmailMessage()
    mail["Subject"] = _one_line(f"[mlreport] {message.title}: {message.headline}", 200)
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    lines = [
        f"{message.word}: {message.headline}", "",
        f"Model: {message.model}", f"Analysis: {message.analysis}", f"Run: {message.run_id} (exit {message.exit_code})",
        f"Findings: {message.counts_text()}",
    ]
    if message.data_period:
        lines.append(f"Data: {message.data_period}")
    if message.findings:
        lines += ["", "Worst findings:", *(f"  {_finding_line(f)}" for f in message.findings)]
    if message.error:
        lines += ["", f"Error: {message.error}"]
    where = "attached, and at " if attach is not None else ""
    lines += ["", f"Report: {where}{message.link}"]
    mail.set_content("\n".join(lines) + "\n")
    escape = html.escape
    items = "".join(f"<li>{escape(_finding_line(f))}</li>" for f in message.findings)
    link = (f'<a href="{escape(message.report_url)}">{escape(message.report_url)}</a>' if message.report_url
            else f"<code>{escape(message.report_path)}</code>")
    body = (
        f"<p><strong>{escape(message.word)}</strong> {escape(message.headline)}</p>"
        f"<p>Model {escape(message.model)}, analysis {escape(message.analysis)}, run {escape(message.run_id)} "
        f"(exit {message.exit_code}). Findings: {escape(message.counts_text())}.</p>"
        + (f"<ul>{items}</ul>" if items else "")
        + (f"<p>Error: {escape(message.error)}</p>" if message.error else "")
        + f"<p>Report: {'attached, and at ' if attach is not None else ''}{link}</p>"
    )
    mail.add_alternative(f"<!doctype html><html><body>{body}</body></html>", subtype="html")
    if attach is not None:
        name = _FILENAME.sub("-", f"{message.model}-{message.analysis}-{message.run_id}")
        mail.add_attachment(attach.read_bytes(), maintype="text", subtype="html", filename=f"{name}.html")
    return mail
