"""Rendering: layout, self-containment and escaping of the HTML report."""

from __future__ import annotations

import re

import nbformat
import pandas as pd

from mlreport.driver import CellFailure, render_report
from mlreport.findings import SUMMARY_MIMETYPE, Finding, summarize

HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


def _executed_notebook(summary) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("secret_source_code = 1")
    params.metadata["tags"] = ["parameters"]
    table = pd.DataFrame({HOSTILE: [HOSTILE, "javascript:alert(3)"]})
    code = nbformat.v4.new_code_cell("visible_source_code()")
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": table.to_html(), "text/plain": "t"}),
        nbformat.v4.new_output("stream", name="stdout", text=HOSTILE),
        nbformat.v4.new_output("stream", name="stderr", text="a warning for developers"),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "fig"},
                               metadata={"image/png": {"alt": HOSTILE}}),
    ]
    last = nbformat.v4.new_code_cell("publish(summary)")
    last.outputs = [nbformat.v4.new_output(
        "display_data", data={SUMMARY_MIMETYPE: summary.to_dict(), "text/html": "<div>banner in notebook</div>"}
    )]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Drift report\n\nWhy this report exists."),
        params,
        nbformat.v4.new_markdown_cell("## Data integrity\n\nChecks first."),
        code,
        nbformat.v4.new_markdown_cell("## Feature drift"),
        last,
    ]
    return nb


def _render(**kw) -> str:
    summary = summarize(
        "drift",
        [Finding("psi", HOSTILE, "incident", f"{HOSTILE} moved", value=0.4, threshold=0.25, method="PSI",
                 section="Feature drift")],
        inputs=[{"name": "current", "path": HOSTILE, "sha256": "ab" * 32, "rows": 10}],
        thresholds={"psi": {"warning": 0.1, "incident": 0.25}, "version": "t1"},
        methods={"PSI": "10 reference-quantile bins"},
        model=HOSTILE,
    )
    manifest = {"run_id": "r1", "analysis": "drift", "model": HOSTILE, "parameters": {"current_path": HOSTILE},
                "versions": {"python": "3.11"}, "started_at": "2026-03-14T10:00:00Z"}
    return render_report(_executed_notebook(summary), summary=summary, manifest=manifest, **kw)


def test_banner_headline_and_findings_come_first():
    html = _render()
    body = html[html.index("<body"):]
    assert (body.index("mlr-banner") < body.index("Key findings") < body.index('id="contents"')
            < body.index("Data integrity"))
    assert "INCIDENT" in body[: body.index("Key findings")]  # a word, not colour alone
    assert body.index("Data integrity") < body.index('id="appendix"')
    assert html.count("<h1") == 1


def test_no_code_no_prompts_no_stderr_no_summary_payload():
    html = _render()
    assert "visible_source_code" not in html and "secret_source_code" not in html
    assert "In&nbsp;[" not in html and "Out[" not in html
    assert "a warning for developers" not in html
    assert "banner in notebook" not in html


def test_self_contained_and_csp():
    html = _render()
    assert 'http-equiv="Content-Security-Policy"' in html and "script-src 'none'" in html
    for attribute in re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html):
        assert not re.match(r"\s*(https?:|//|javascript:)", attribute, re.I), attribute
    assert not re.search(r"url\(\s*['\"]?\s*(https?:|//)", html)
    assert "<script" not in html.lower().replace("&lt;script", "")
    assert "<link" not in html.lower()


def test_data_is_escaped_everywhere():
    html = _render()
    assert HOSTILE not in html
    assert "<img src=x" not in html and "onerror=alert(1)>" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_appendix_lists_parameters_inputs_thresholds_versions_run_id():
    html = _render()
    appendix = html[html.index('id="appendix"'):]
    for text in ("Parameters", "current_path", "Inputs", "ab" * 32, "Thresholds", "t1", "Methods",
                 "10 reference-quantile bins", "Package versions", "r1"):
        assert text in appendix, text


def test_contents_link_to_sections():
    html = _render()
    nav = html[html.index('id="contents"'):html.index("</nav>")]
    assert 'href="#Data-integrity"' in nav and 'href="#Feature-drift"' in nav
    assert 'id="Data-integrity"' in html


def test_failed_run_banner_and_reason():
    failure = CellFailure("timeout", "a cell ran longer than 5 s", section="Feature drift", cell_index=5)
    html = _render(failure=failure)
    assert "RUN FAILED" in html and "a cell ran longer than 5 s" in html and "mlr-banner failed" in html
    assert "Why the run failed" in html


def test_key_findings_list_incidents_then_every_finding_and_a_glossary():
    # Issue 14: one row per incident first, the per-check table below it, the methods explained in words.
    html = _render()
    body = html[html.index("<body"):]
    key = body[body.index('id="key-findings"'):body.index('id="all-findings"')]
    assert "mlr-incidents" in key and "Next step" in key and "decide with the model owner" in key
    assert body.index('id="key-findings"') < body.index('id="all-findings"') < body.index('id="contents"')
    assert body.index('id="glossary"') < body.index('id="appendix"')
    glossary = body[body.index('id="glossary"'):body.index('id="appendix"')]
    assert "Population stability index" in glossary and "Laney" not in glossary  # only the methods it names


def test_run_result_carries_incidents_into_the_json():
    from pathlib import Path

    from mlreport.driver import RunResult

    incident = {"kind": "outage", "where": "broker channel", "onset": "2026-02-19"}
    manifest = {"run_id": "r1", "status": "incident", "exit_code": 1, "incidents": [incident]}
    result = RunResult.from_manifest(manifest, Path("/tmp/r1"))
    assert result.incidents == [incident] and result.to_dict()["incidents"] == [incident]
    assert RunResult.from_manifest({"run_id": "r2"}, Path("/tmp/r2")).to_dict()["incidents"] == []


def test_data_period_is_inclusive_and_human():
    from mlreport.driver._render import _data_period

    assert _data_period("2026-02-02 to 2026-03-02") == "2 Feb 2026 to 1 Mar 2026"
    assert _data_period("2026-01-05T00:00:00 to 2026-03-02T00:00:00") == "5 Jan 2026 to 1 Mar 2026"
    assert _data_period("rows 0 to 999") == "rows 0 to 999" and _data_period(None) == ""


def test_a_reused_warmed_exporter_renders_what_a_fresh_one_renders(monkeypatch):
    """The driver renders with one exporter per process, warmed in a thread while the kernel runs (issue 17).

    Reusing it must leave nothing of one notebook in the next: a failed run, a
    healthy one and the warm-up's own notebook render exactly as each does with
    a fresh exporter.
    """
    from mlreport.driver import _render as render_module

    failure = CellFailure("notebook", "ValueError: boom", section="Data integrity", cell_index=3,
                          ename="ValueError", evalue="boom")
    monkeypatch.setattr(render_module, "_EXPORTERS", [])
    fresh_failed = _render(failure=failure)
    monkeypatch.setattr(render_module, "_EXPORTERS", [])
    fresh_ok = _render()
    monkeypatch.setattr(render_module, "_EXPORTERS", [])
    render_module.warm_renderer().join(timeout=120)
    assert len(render_module._EXPORTERS) == 1
    warmed = render_module._EXPORTERS[0]
    assert _render() == fresh_ok
    assert _render(failure=failure) == fresh_failed
    assert _render() == fresh_ok
    assert len(render_module._EXPORTERS) == 1 and render_module._EXPORTERS[0] is warmed  # served every render
