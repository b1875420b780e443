"""Render an executed notebook into a self-contained HTML report with nbconvert.

Layout, top to bottom: status banner (a word and a colour, never colour
alone), headline, counts and the key findings table; contents; the notebook's
sections (outputs only); an appendix with parameters, inputs, thresholds,
methods, package versions and run id.

Self-contained means no request leaves the file: the template loads no script,
font, stylesheet or image, figures are embedded as data URIs, and a
Content-Security-Policy forbids anything else. Every string that comes from
data or parameters is escaped here with :func:`html.escape`; cell outputs are
escaped by their producers (pandas escapes DataFrame HTML, mlreport's own HTML
helpers escape) and stream text by nbconvert's ``ansi2html``.
"""

from __future__ import annotations

import base64
import copy
import html
import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..findings import Finding, Summary
from ..story import glossary_html, glossary_terms, incidents_html, incidents_of, plain_words, value_text
from ..tables import format_count, format_date, format_window
from ._resources import templates_dir
from ._results import CellFailure, Failure, is_summary_output

if TYPE_CHECKING:
    from nbconvert import HTMLExporter
    from nbformat import NotebookNode

__all__ = ["render_report", "warm_renderer", "findings_table_html", "appendix_html", "header_html"]

log = logging.getLogger("mlreport")

_HIDDEN_TAGS = {"parameters", "injected-parameters", "papermill-error-cell-tag", "remove-cell", "mlreport-hide"}
_H2 = re.compile(r'<h2 id="([^"]+)">(.*?)<a class="anchor-link"', re.S)
_TAG = re.compile(r"<[^>]+>")
_TABLE_PART = re.compile(r"<(thead|tbody)\b.*?</\1>", re.S)
_TH_WITHOUT_SCOPE = re.compile(r"<th(?=[\s>])(?![^>]*\bscope=)")


#: How a failure's kind reads in the report (others are shown as they are).
_FAILURE_KINDS = {"input": "bad input (the data, parameters or files named below need fixing)"}

def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value == 0 or 1e-3 <= abs(value) < 1e6:
            return f"{value:.4g}"
        if abs(value) >= 1e6:
            return format_count(value)  # a count or an amount: never 2.50e+06
        return f"{value:.3e}"
    return str(value)


def _data_period(text: object) -> str:
    """A run's data period for people: ``2026-02-02 to 2026-03-02`` (exclusive end) -> ``2 Feb 2026 to 1 Mar 2026``."""
    start, sep, end = str(text or "").partition(" to ")
    return format_window(start, end) if sep else str(text or "")


def _period(period: str | None) -> str:
    """A finding's period in words, both ends inclusive: ``2026-02-19/2026-02-27`` -> ``19 Feb 2026 to 27 Feb 2026``."""
    if not period:
        return ""
    start, _, end = period.partition("/")
    if not end or end == start:
        return format_date(start)
    return f"{format_date(start)} to {format_date(end)}"


def _short_method(method: str, width: int = 90) -> str:
    """The first clause of a method string; the whole is in the appendix and the cell's title."""
    head = method.split(";")[0].strip()
    return head if len(head) <= width else head[: width - 1].rstrip() + "…"


def findings_table_html(findings: Iterable[Finding], *, limit: int = 30) -> str:
    """The key findings table, worst first, at most ``limit`` rows (rest counted)."""
    rows = [f for f in findings if f.severity != "ok"]
    if not rows:
        return '<p class="mlr-none">No check reached a warning.</p>'
    shown, hidden = rows[:limit], len(rows) - limit
    body = "".join(
        "<tr>"
        f'<td class="mlr-sev mlr-sev-{_e(f.severity)}">{_e(f.severity.upper())}</td>'
        f"<td>{_e(f.section)}</td><td>{_e(f.subject)}</td><td>{_e(f.message)}"
        + (f'<div class="mlr-what">{_e(words)}</div>' if (words := plain_words(f)) else "")
        + "</td>"
        f"<td>{_e(value_text(f.value, f.check))}</td><td>{_e(_fmt(f.threshold))}</td>"
        f"<td>{_e(_period(f.period))}</td><td title=\"{_e(f.method)}\">{_e(_short_method(f.method))}</td>"
        "</tr>"
        for f in shown
    )
    more = f'<p class="mlr-more">{hidden} more finding(s) in the sections below.</p>' if hidden > 0 else ""
    return (
        '<div class="mlr-scroll"><table class="mlr-findings">'
        '<caption class="mlr-visually">Key findings, worst first</caption>'
        "<thead><tr><th scope=\"col\">Severity</th><th scope=\"col\">Section</th><th scope=\"col\">Subject</th>"
        "<th scope=\"col\">Finding</th><th scope=\"col\">Value</th><th scope=\"col\">Threshold</th>"
        "<th scope=\"col\">Since</th><th scope=\"col\">Method</th></tr></thead>"
        f"<tbody>{body}</tbody></table></div>{more}"
    )


#: Longest headline shown in the banner; a longer one (a huge error message, a
#: column name that is a pasted payload) is cut there. The whole text stays in
#: run.json, the findings table and the failure section.
HEADLINE_LIMIT = 300


def _clip(text: str, limit: int = HEADLINE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_STATUS_WORDS = {"ok": "HEALTHY", "warning": "WARNING", "incident": "INCIDENT", "failed": "RUN FAILED"}


def header_html(
    *, title: str, status: str, headline: str, summary: Summary | None, manifest: Mapping[str, Any],
    failure: Failure | Mapping[str, Any] | None = None,
) -> str:
    """Banner, headline, run facts and key findings (or the failure, typed or as run.json holds it)."""
    if isinstance(failure, Mapping):
        failure = Failure.from_dict(failure)
    word = _STATUS_WORDS.get(status, status.upper())
    facts = [
        ("Analysis", manifest.get("analysis")),
        ("Model", manifest.get("model")),
        ("Data period", _data_period((summary.data_period if summary else "") or manifest.get("data_period"))),
        ("Run", manifest.get("run_id")),
        ("Generated (UTC)", manifest.get("finished_at") or manifest.get("started_at")),
    ]
    meta = "".join(f"<span><strong>{_e(k)}:</strong> {_e(v)}</span>" for k, v in facts if v)
    parts = [
        f"<h1>{_e(title)}</h1>",
        f'<div class="mlr-banner {_e(status)}" role="status" aria-label="Status: {_e(word)}">'
        f'<span class="mlr-word">{_e(word)}</span><span class="mlr-headline">{_e(_clip(headline))}</span></div>',
        f'<p class="mlr-meta">{meta}</p>',
    ]
    if failure is not None:
        section = failure.section if isinstance(failure, CellFailure) else None
        cell_index = failure.cell_index if isinstance(failure, CellFailure) else None
        parts.append(
            '<section id="failure" class="mlr-failure"><h2>Why the run failed</h2>'
            f"<p><strong>{_e(_FAILURE_KINDS.get(failure.kind, failure.kind))}</strong>"
            + (f" in section <em>{_e(section)}</em>" if section else "")
            + (f" (cell {_e(cell_index)})" if cell_index is not None else "")
            + f'</p><pre class="mlr-text">{_e(failure.message)}</pre>'
            "<p>The sections below show the notebook as far as it ran. Findings are incomplete: "
            "do not read the absence of a finding as healthy.</p></section>"
        )
    if summary is not None:
        counts = summary.counts()
        chips = "".join(
            f'<span class="mlr-chip {_e(s)}">{_e(counts[s])} {_e(s)}</span>' for s in ("incident", "warning", "ok")
        )
        incidents = summary.incidents or [i.to_dict() for i in incidents_of(summary)]
        parts.append(
            '<section id="key-findings"><h2>Key findings</h2>'
            "<p>One row per incident, worst first: findings from several checks that share a column or segment "
            "and an onset are one incident. Next steps are guidance for your organisation to adapt.</p>"
            f"{incidents_html(incidents)}</section>"
        )
        parts.append(
            '<section id="all-findings"><h2>Every finding, by check</h2>'
            f'<div class="mlr-counts">{chips}</div>{findings_table_html(summary.findings)}</section>'
        )
    return "\n".join(parts)


def _definition_table(rows: Iterable[tuple[str, object]], *, caption: str) -> str:
    body = "".join(
        f'<tr><th scope="row">{_e(k)}</th><td class="mlr-mono">{_e(_as_text(v))}</td></tr>' for k, v in rows
    )
    return f'<table><caption>{_e(caption)}</caption><tbody>{body or "<tr><td>none</td></tr>"}</tbody></table>'


def _as_text(value: object) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return "" if value is None else str(value)


def appendix_html(manifest: Mapping[str, Any], summary: Summary | None) -> str:
    """Parameters, inputs, thresholds, methods, versions and identifiers."""
    sections = []
    if summary is not None:
        texts = [f"{f.message} {f.method}" for f in summary.findings] + list(summary.methods.values())
        sections.append(glossary_html(glossary_terms(texts)))
    sections.append('<section id="appendix"><h2>Appendix: how this report was produced</h2>')
    sections.append("<h3>Parameters</h3>")
    parameters = sorted((manifest.get("parameters") or {}).items())
    sections.append(_definition_table(parameters, caption="Parameters as executed"))
    inputs = (summary.inputs if summary and summary.inputs else None) or manifest.get("inputs") or []
    sections.append("<h3>Inputs</h3>")
    if inputs:
        rows = "".join(
            f"<tr><td>{_e(i.get('name'))}</td><td class=\"mlr-mono\">{_e(i.get('path'))}</td>"
            f"<td class=\"mlr-mono\">{_e(i.get('sha256'))}</td><td>{_e(i.get('rows'))}</td></tr>"
            for i in inputs
        )
        sections.append(
            '<div class="mlr-scroll"><table><thead><tr><th scope="col">Role</th><th scope="col">Path</th>'
            f'<th scope="col">SHA-256</th><th scope="col">Rows</th></tr></thead><tbody>{rows}</tbody></table></div>'
        )
    else:
        sections.append("<p>No input was recorded.</p>")
    if summary is not None:
        sections.append("<h3>Thresholds</h3>")
        sections.append(_definition_table(sorted(summary.thresholds.items()), caption="Thresholds and their version"))
        sections.append("<h3>Methods</h3>")
        sections.append(_definition_table(sorted(summary.methods.items()), caption="Methods and conventions"))
    sections.append("<h3>Run</h3>")
    notebook = manifest.get("notebook")
    notebook = notebook if isinstance(notebook, dict) else {}
    run_rows = [
        ("run id", manifest.get("run_id")),
        ("analysis", manifest.get("analysis")),
        ("notebook", notebook.get("path")),
        ("notebook sha256", notebook.get("sha256")),
        ("parameters sha256", manifest.get("parameters_sha256")),
        ("started (UTC)", manifest.get("started_at")),
        ("user@host", f"{manifest.get('user', '')}@{manifest.get('host', '')}"),
        ("command", manifest.get("command")),
    ]
    sections.append(_definition_table([r for r in run_rows if r[1]], caption="Run identity"))
    sections.append("<h3>Package versions</h3>")
    sections.append(_definition_table(sorted((manifest.get("versions") or {}).items()), caption="Python and packages"))
    sections.append("</section>")
    return "\n".join(sections)


def _report_copy(notebook: NotebookNode) -> tuple[NotebookNode, str]:
    """A copy of the notebook with hidden cells and outputs removed, and its title."""
    nb = copy.deepcopy(notebook)
    title = ""
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & _HIDDEN_TAGS:
            continue
        if cell.cell_type == "markdown" and not title:
            lines = cell.source.splitlines()
            for i, line in enumerate(lines):
                if line.startswith("# "):
                    title = line[2:].strip()
                    cell.source = "\n".join(lines[:i] + lines[i + 1:])
                    break
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if not is_summary_output(o)]
        cells.append(cell)
    nb.cells = cells
    return nb, title


def _toc(body: str) -> str:
    entries = [(anchor, html.unescape(_TAG.sub("", text)).strip()) for anchor, text in _H2.findall(body)]
    if not entries:
        return ""
    items = "".join(f'<li><a href="#{_e(html.unescape(a))}">{_e(t)}</a></li>' for a, t in entries)
    return f'<nav id="contents" aria-label="Contents"><h2>Contents</h2><ol>{items}</ol></nav>'


def _scope_headers(body: str) -> str:
    """Give every ``<th>`` a scope: ``col`` in a table head, ``row`` in its body.

    pandas writes DataFrame headers without one, so screen readers cannot tell
    which cells a header labels. Cell text cannot hold a literal ``<th``: every
    producer escapes it (pandas, mlreport's own tables), so rewriting the tags
    in place cannot touch data.
    """

    def scope(part: re.Match[str]) -> str:
        kind = "col" if part.group(1) == "thead" else "row"
        return _TH_WITHOUT_SCOPE.sub(f'<th scope="{kind}"', part.group(0))

    return _TABLE_PART.sub(scope, body)


#: One exporter per process, built once (nbconvert's import, its template environment and the filters it loads on
#: first use cost about a second; a second render with the same exporter takes milliseconds). Renders hold the
#: lock: an exporter is reused one notebook at a time, as nbconvert's own command does.
_EXPORTER_LOCK = threading.Lock()
_EXPORTERS: list[HTMLExporter] = []

#: A 1x1 PNG: the warm-up renders an image output the way a figure is rendered.
_PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082"
    )
).decode()


def _exporter() -> HTMLExporter:
    """The process's exporter (call with ``_EXPORTER_LOCK`` held)."""
    if not _EXPORTERS:
        from nbconvert import HTMLExporter

        _EXPORTERS.append(
            HTMLExporter(
                template_name="mlreport",
                extra_template_basedirs=[str(templates_dir())],
                exclude_input=True,
                exclude_input_prompt=True,
                exclude_output_prompt=True,
            )
        )
    return _EXPORTERS[0]


#: The exporter a warm-up render succeeded with in this process (or in the zygote it was forked from): a
#: later warm-up of that same exporter is skipped; a new exporter (the list above replaced) is warmed again.
_WARMED: list[HTMLExporter] = []


def _warm() -> None:
    if _WARMED and _EXPORTERS and _WARMED[-1] is _EXPORTERS[0]:
        return
    import nbformat

    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="text\n"),
        nbformat.v4.new_output("display_data", data={"text/html": "<table><tr><td>1</td></tr></table>"}),
        nbformat.v4.new_output("display_data", data={"image/png": _PIXEL, "text/plain": "figure"}),
    ]
    notebook.cells = [nbformat.v4.new_markdown_cell("## Section\n\nA *sentence*."), cell]
    resources = {"mlreport": {"title": "", "status": "ok", "version": __version__, "run_id": "",
                              "header_html": "", "appendix_html": ""}}
    try:
        with _EXPORTER_LOCK:
            exporter = _exporter()
            exporter.from_notebook_node(notebook, resources=resources)
        _WARMED[:] = [exporter]
    except Exception as exc:  # a warm-up only: the real render reports any problem itself
        log.debug("rendering warm-up failed: %s", exc)


def warm_synchronously() -> None:
    """Build the exporter and render a tiny notebook in this thread (a kernel zygote, before it forks drivers)."""
    _warm()


def warm_renderer() -> threading.Thread:
    """Build the exporter and render a tiny notebook in a background thread; returns the started thread.

    The driver calls this as the kernel starts: while the kernel computes, the
    driver's own process is idle, so the report's rendering costs only its own
    milliseconds once the notebook is done. Safe to call more than once.
    """
    thread = threading.Thread(target=_warm, name="mlreport-render-warm-up", daemon=True)
    thread.start()
    return thread


def render_report(
    notebook: NotebookNode,
    *,
    summary: Summary | None,
    manifest: Mapping[str, Any],
    failure: Failure | None = None,
) -> str:
    """The report HTML for an executed notebook (complete or failed)."""
    report_nb, title = _report_copy(notebook)
    analysis = str(manifest.get("analysis") or "analysis")
    title = title or f"{analysis.capitalize()} report"
    if failure is not None:
        status = "failed"
        headline = f"Run failed: {failure.message}"
    elif summary is None:
        status = "failed"
        headline = "Run failed: the notebook published no summary (mlreport.findings.publish was not called)."
    else:
        status, headline = summary.status, summary.headline
    resources = {
        "mlreport": {
            "title": title,
            "status": status,
            "version": __version__,
            "run_id": manifest.get("run_id", ""),
            "header_html": header_html(
                title=title, status=status, headline=headline, summary=summary, manifest=manifest, failure=failure
            ),
            "appendix_html": appendix_html(manifest, summary),
        }
    }
    with _EXPORTER_LOCK:
        body, _ = _exporter().from_notebook_node(report_nb, resources=resources)
    return _scope_headers(body.replace("<!--mlreport:toc-->", _toc(body), 1))
