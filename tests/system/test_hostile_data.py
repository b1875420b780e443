"""Hostile data and parameters: inert text in every report kind and in the index.

The reports come from real CLI runs on data whose column names, category
values, scenario names, model name and error message carry HTML, script,
``javascript:`` links, right-to-left and zero-width characters, emoji and very
long strings (see ``browser.py``). Here the HTML source is parsed: no element
or attribute may come from data, and the hostile strings must still be there,
as text. ``test_browser.py`` opens the same files in Chromium.

Item 3 of the issue (parameter injection) is extended from the fixture
notebooks of ``test_cli.py`` to the three real notebooks.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import browser
import nbformat
import pandas as pd
import pytest
import yaml
from browser import (
    EMOJI,
    FAILURE_MESSAGE,
    FEATURE,
    HOSTILE,
    IMG,
    JS_LINK,
    LONG,
    MODEL_NAME,
    RTL,
    SCENARIO_NAME,
    SCRIPT,
    SVG,
    ZERO_WIDTH,
)
from cli_runs import run_cli

from mlreport.driver import findings_table_html, header_html
from mlreport.findings import Finding, banner_html, summarize
from mlreport.tables import table

pytestmark = pytest.mark.e2e

PAGES = ("drift", "volume", "stress", "failed", "index")

#: Elements a report or the index may contain; anything else came from somewhere it should not.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "footer", "nav", "section", "div", "span",
    "p", "strong", "em", "b", "i", "code", "pre", "br", "hr", "h1", "h2", "h3", "h4", "ol", "ul", "li", "a",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "figure", "figcaption", "img", "sup", "sub",
    "blockquote", "small", "abbr", "details", "summary", "dl", "dt", "dd",
    # the index draws sparklines as inline SVG
    "svg", "polyline", "line", "circle", "rect", "path", "g", "text",
}

#: Strings each page must show as text: proof the hostile data reached it.
EXPECTED_TEXT = {
    "drift": [FEATURE, MODEL_NAME],
    "volume": [IMG, SCRIPT, MODEL_NAME],
    "stress": [SCENARIO_NAME, IMG, "Unseen channel " + JS_LINK],
    "failed": [FAILURE_MESSAGE, SCRIPT, IMG, JS_LINK, SVG, RTL, ZERO_WIDTH, EMOJI],
    "index": [IMG, MODEL_NAME],
}

#: Raw markup that must never appear unescaped in any page (quotes in text are harmless:
#: whether an attribute came from data is the structural test's job).
RAW_PAYLOADS = ("<script>window.__pwned", "<img src=x", "<svg onload")


@pytest.fixture(scope="session")
def reports(tmp_path_factory: pytest.TempPathFactory) -> browser.Reports:
    return browser.hostile_reports(tmp_path_factory.mktemp("hostile"))


def _page(reports: browser.Reports, name: str) -> str:
    assert not reports.errors, reports.errors
    return reports.pages()[name].read_text(encoding="utf-8")


def test_every_hostile_run_wrote_its_report(reports: browser.Reports):
    assert not reports.errors, reports.errors
    for name in ("drift", "volume", "stress"):
        assert reports.results[name]["status"] in ("ok", "warning", "incident"), reports.results[name]
    assert reports.results["failed"]["status"] == "failed" and reports.results["failed"]["exit_code"] == 3
    # the hostile names were used, not dropped: each analysis reported on them
    # (the drift headline now leads with the broker channel's outage: segments are drift-tested since issue 13)
    assert FEATURE in {f["subject"] for f in reports.results["drift"]["findings"] if f["severity"] != "ok"}
    assert IMG in reports.results["volume"]["headline"]  # the broker channel, renamed, went silent
    assert SCENARIO_NAME in reports.results["stress"]["headline"]


@pytest.mark.parametrize("name", PAGES)
def test_no_element_or_attribute_comes_from_data(reports: browser.Reports, name: str):
    parsed = browser.parse(_page(reports, name))
    for tag, attributes in parsed.tags:
        assert tag in ALLOWED_TAGS, f"{name}: unexpected <{tag} {attributes}>"
        for attribute, value in attributes.items():
            assert not attribute.startswith("on"), f"{name}: event handler {attribute}={value!r} on <{tag}>"
            if attribute == "href":
                assert value.startswith("#") or re.fullmatch(r"[A-Za-z0-9._/-]+\.html", value), (
                    f"{name}: href {value!r}"
                )
            if attribute in ("src", "srcset", "action", "formaction", "xlink:href", "poster", "data"):
                assert value.startswith("data:image/png;base64,") and tag == "img", (
                    f"{name}: {attribute}={value[:80]!r}"
                )
            if attribute == "style":
                assert "url(" not in value and "expression(" not in value, f"{name}: style {value!r}"
    metas = [a for t, a in parsed.tags if t == "meta"]
    assert all(set(m) <= {"charset", "name", "content", "http-equiv"} for m in metas)
    assert not [m for m in metas if m.get("http-equiv", "").lower() == "refresh"]


@pytest.mark.parametrize("name", PAGES)
def test_hostile_strings_arrive_as_text(reports: browser.Reports, name: str):
    text = browser.parse(_page(reports, name)).text
    for expected in EXPECTED_TEXT[name]:
        assert expected in text, f"{name}: {expected[:60]!r} is not shown as text"


@pytest.mark.parametrize("name", PAGES)
def test_raw_payloads_never_appear_unescaped(reports: browser.Reports, name: str):
    page = _page(reports, name)
    for payload in RAW_PAYLOADS:
        assert payload not in page, f"{name}: {payload!r} written unescaped"
    # an escaped form is there instead (the test would be vacuous otherwise)
    assert "&lt;script&gt;" in page or "&lt;img" in page


def test_every_hostile_string_reaches_some_page(reports: browser.Reports):
    texts = "".join(browser.parse(_page(reports, name)).text for name in PAGES)
    missing = [key for key, value in HOSTILE.items() if value not in texts]
    assert not missing, f"never shown: {missing}"


def test_long_strings_are_kept_whole_in_the_failure_report(reports: browser.Reports):
    text = browser.parse(_page(reports, "failed")).text
    assert LONG in text  # truncation would hide what the data held; wrapping is the browser test's job


def test_run_folders_and_links_are_safe_names(reports: browser.Reports):
    for name in ("drift", "volume", "stress", "failed"):
        run_dir = Path(reports.results[name]["run_dir"]).relative_to(reports.out)
        assert all(re.fullmatch(r"[A-Za-z0-9._-]+", part) for part in run_dir.parts), run_dir
        assert ".." not in run_dir.parts


def test_run_json_keeps_hostile_values_byte_for_byte(reports: browser.Reports):
    manifest = json.loads((Path(reports.results["drift"]["run_dir"]) / "run.json").read_text(encoding="utf-8"))
    assert manifest["model"] == MODEL_NAME
    assert manifest["parameters"]["model"] == MODEL_NAME
    assert any(f["subject"] == FEATURE for f in manifest["findings"])


# ------------------------------------------------------------------ the HTML helpers, one by one


def _tags(fragment: str) -> list[str]:
    return [tag for tag, _ in browser.parse(fragment).tags]


def test_table_escapes_column_names_and_values():
    frame = pd.DataFrame({SCRIPT: [IMG, JS_LINK], IMG: [SVG, RTL + EMOJI]})
    fragment = table(frame, caption=SCRIPT)._repr_html_()
    assert set(_tags(fragment)) <= {"div", "table", "caption", "thead", "tbody", "tr", "th", "td", "p"}
    text = browser.parse(fragment).text
    for value in (SCRIPT, IMG, JS_LINK, SVG, RTL + EMOJI):
        assert value in text


def test_findings_table_banner_and_header_escape_everything():
    finding = Finding(SCRIPT, IMG, "incident", f"{SVG} moved", value=1.0, threshold=0.5, method=f"{JS_LINK}; x",
                      section=SCRIPT, period=IMG)
    summary = summarize("drift", [finding], model=MODEL_NAME, data_period=SVG)
    fragments = [
        findings_table_html([finding]),
        banner_html("incident", IMG),
        header_html(title=SCRIPT, status="failed", headline=IMG, summary=summary,
                    manifest={"analysis": SCRIPT, "model": MODEL_NAME, "run_id": IMG},
                    failure={"kind": SCRIPT, "message": FAILURE_MESSAGE, "section": IMG, "cell_index": 3}),
    ]
    for fragment in fragments:
        assert not {"script", "img", "svg"} & set(_tags(fragment)), fragment[:300]
        for tag, attributes in browser.parse(fragment).tags:
            assert not [a for a in attributes if a.startswith("on")], (tag, attributes)
    assert FAILURE_MESSAGE in browser.parse(fragments[2]).text


# ------------------------------------------------------------------ parameter injection, real notebooks

BREAKOUTS = [
    '"; import pathlib; pathlib.Path("{marker}").touch(); "',
    "'; import pathlib; pathlib.Path('{marker}').touch(); '",
    '"""; import pathlib; pathlib.Path("{marker}").touch(); """',
    '\\"; import pathlib; pathlib.Path("{marker}").touch(); x = "',
    "\n__import__('pathlib').Path('{marker}').touch()\n",
    "{SCRIPT}\u2028__import__('os')",
]

#: A string, a list and a dict parameter of each real notebook whose items are free text (None: it has none).
TARGETS: dict[str, tuple[str, str | None, str | None]] = {
    "drift": ("model", None, "drift_thresholds"),
    "volume": ("decision_column", "segment_columns", "backend_options"),
    "stress": ("otherwise_label", "segments", None),
}

#: A list or dict parameter whose values have a domain (known incidents, dates, directions): a hostile value is
#: refused before papermill sees it (issue 16), which is stronger than reaching the notebook as a literal.
VALIDATED = {"drift": "sample_incidents", "volume": "holidays", "stress": "monotone"}


@pytest.mark.parametrize("analysis", sorted(TARGETS))
def test_breakout_values_reach_the_real_notebooks_as_literals(analysis: str, tmp_path: Path):
    """``mlreport prepare`` writes exactly what ``run`` would inject: one literal assignment per parameter."""
    marker = tmp_path / "pwned"
    text, listed, mapping = TARGETS[analysis]
    values = [b.replace("{marker}", str(marker)).replace("{SCRIPT}", SCRIPT) for b in BREAKOUTS]
    free: dict[str, object] = {}
    if listed:
        free[listed] = values
    if mapping:
        free[mapping] = {v: v for v in values}
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(free), encoding="utf-8")
    out = tmp_path / "prepared.ipynb"
    result = run_cli("prepare", analysis, "-p", f"{text}={values[0]}", "--params-file", str(params), "-o", str(out),
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    nb = nbformat.read(out, as_version=4)
    (cell,) = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    tree = ast.parse(cell.source)
    assert all(isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) for node in tree.body)
    injected = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body}
    assert injected[text] == values[0]
    assert all(injected[name] == value for name, value in free.items())
    # A parameter with a domain refuses the same values before papermill, naming itself; nothing is written.
    validated = VALIDATED[analysis]
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(yaml.safe_dump({validated: values if validated != "monotone" else {v: v for v in values}}),
                       encoding="utf-8")
    refused = run_cli("prepare", analysis, "--params-file", str(hostile), "-o", str(tmp_path / "refused.ipynb"),
                      cwd=tmp_path)
    assert refused.returncode == 2 and validated.rstrip("s") in refused.stderr, refused.stderr  # "holiday '...'"
    assert not (tmp_path / "refused.ipynb").exists()
    assert not marker.exists()


@pytest.mark.parametrize(
    ("analysis", "assignment"),
    [
        ("drift", "x=0; import os; y=1"),
        ("volume", "__import__('os').system('true')=1"),
        ("stress", "seed;import os=1"),
    ],
)
def test_injection_through_names_is_refused_by_the_real_notebooks(analysis: str, assignment: str, tmp_path: Path):
    result = run_cli("run", analysis, "-p", assignment, "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "unknown parameter" in result.stderr and "Valid parameters:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("run.json"))


def test_yaml_python_tags_in_a_params_file_are_refused_for_a_real_notebook(tmp_path: Path):
    marker = tmp_path / "pwned"
    params = tmp_path / "params.yaml"
    params.write_text(f"model: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    result = run_cli("run", "drift", "--params-file", str(params), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2 and "not valid YAML" in result.stderr, result.stderr
    assert not marker.exists() and "Traceback" not in result.stderr

