"""Tests of mlreport.stress.analyse: the result's parts and sections, and the notebook around it."""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from inprocess import run_notebook
from stress_models import FAST_PARAMETERS

from mlreport.driver import declared_parameters
from mlreport.errors import DataError
from mlreport.findings import Summary
from mlreport.plots import figure_alt
from mlreport.stress import (
    FIGURES,
    TABLES,
    MonotonicityResult,
    Population,
    ReverseResult,
    ScenarioRun,
    StressParameters,
    StressResult,
    StressTest,
    analyse,
    stress_summary,
)
from mlreport.tables import Table

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "stress.ipynb"


@pytest.fixture(scope="module")
def result() -> StressResult:
    return analyse(StressParameters(**FAST_PARAMETERS))


# ---------------------------------------------------------------- the result


def test_nothing_is_computed_until_a_section_is_shown():
    result = analyse(StressParameters(data_path="/no/such/population.parquet"))
    assert list(result.tables) == list(TABLES) and list(result.figures) == list(FIGURES)
    assert len(result.inputs) == 0
    with pytest.raises(DataError, match="no such file"):
        result.tables["overview"]


def test_a_section_computes_only_what_it_shows():
    result = analyse(StressParameters(**FAST_PARAMETERS))
    result.tables["overview"]
    computed = set(vars(result))
    assert {"setup", "data", "test"} <= computed
    assert not {"importance", "scenario_run", "curves", "reverse", "monotonicity", "summary"} & computed
    # The model's module is an input too (issue 16: every file that shapes a result), read when the model loads.
    assert [record.name for record in result.inputs] == ["model_module", "population"]


def test_every_table_is_captioned_and_every_figure_titled(result: StressResult):
    for name in TABLES:
        shown = result.tables[name]
        assert isinstance(shown, Table) and shown.caption == TABLES[name], name
        assert f"<caption>{html.escape(shown.caption)}</caption>" in shown._repr_html_()
    for name in FIGURES:
        assert figure_alt(result.figures[name]) not in ("", "figure"), name
    with pytest.raises(KeyError, match="no table 'drift'; the tables are overview, scenarios"):
        result.tables["drift"]


def test_tables_show_the_parts_as_the_report_always_has(result: StressResult):
    pd.testing.assert_frame_equal(result.tables["overview"].frame, result.test.overview())
    pd.testing.assert_frame_equal(result.tables["segments"].frame, result.scenario_run.segments.round(3).head(20))
    assert len(result.tables["importance"].frame) == min(20, len(result.importance))
    # As a notebook displays a DataFrame: the index too when it is not 0..n-1 (n/a scenarios left out).
    readouts = result.scenario_run.readouts()
    expected = readouts if isinstance(readouts.index, pd.RangeIndex) else readouts.reset_index()
    pd.testing.assert_frame_equal(result.tables["readouts"].frame, expected)


def test_the_parts_are_typed_and_reachable(result: StressResult):
    assert isinstance(result.test, StressTest) and isinstance(result.population, Population)
    assert result.population is result.test.population
    assert isinstance(result.scenario_run, ScenarioRun) and isinstance(result.reverse, ReverseResult)
    assert isinstance(result.monotonicity, MonotonicityResult)
    assert result.monotone == FAST_PARAMETERS["monotone"]
    assert len(result.sweep_test.population.frame) == FAST_PARAMETERS["sweep_rows"]
    assert result.top_features == list(result.importance["feature"][:2])
    pd.testing.assert_frame_equal(result.curves, result.sweep_test.sensitivity(result.top_features))
    assert set(result.curves["feature"]) == set(result.top_features)


def test_summary_records_inputs_thresholds_and_every_finding(result: StressResult):
    summary = result.summary
    assert isinstance(summary, Summary) and summary.analysis == "stress"
    # The scenario file is recorded in the result's input log when it is read (issue 16), not appended afterwards.
    scenarios = {"name": "scenarios", "path": result.suite.path, "sha256": result.suite.sha256, "hash_of": "text"}
    assert summary.inputs == result.inputs.to_list()
    assert [{k: item[k] for k in scenarios} for item in summary.inputs if item["name"] == "scenarios"] == [scenarios]
    population = next(item for item in summary.inputs if item["name"] == "population")
    assert population["hash_of"] == "content"
    assert summary.thresholds["version"] == "default" and summary.thresholds_version == "default"
    assert result.findings == summary.findings
    sections = {finding.section for finding in result.findings}
    assert sections == {"Scenarios", "Reverse stress", "Monotonicity"}
    by_hand = stress_summary(result.scenario_run, reverse=result.reverse, monotone=result.monotonicity,
                             inputs=result.inputs.to_list(), model=result.setup.model.name, rule=result.setup.rule,
                             methods={"model": result.setup.description}, spec=result.spec)
    assert by_hand.to_dict() == summary.to_dict()


# ---------------------------------------------------------------- the notebook


def test_notebook_contract():
    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    assert "parameters" in notebook.cells[1].metadata.get("tags", [])
    params = declared_parameters(notebook)
    for name in ("data_path", "model", "trust_model_file", "scenarios_path", "tolerance_pp", "sensitivity_features",
                 "seed"):
        assert name in params and params[name].help
    assert params["trust_model_file"].default is False and params["data_path"].default == ""
    # papermill parses the cell with a regex that gives up on a second "=" in a line.
    import papermill

    assert set(papermill.inspect_notebook(str(NOTEBOOK))) == set(params)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert code[-1].source == "publish(tell(result.summary))"  # issue 14: the story (incidents) is published
    headings = [c.source.splitlines()[0] for c in notebook.cells if c.cell_type == "markdown"]
    for section in ("## Scenarios", "## Sensitivity", "## Reverse stress", "## Monotonicity"):
        assert section in headings


def test_notebook_is_narrative_around_one_call():
    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    shown_tables, shown_figures = [], []
    for cell in notebook.cells[2:]:
        if cell.cell_type != "code":
            continue
        shown_tables += re.findall(r'result\.tables\["(\w+)"\]', cell.source)
        shown_figures += re.findall(r'result\.figures\["(\w+)"\]', cell.source)
    assert shown_tables == list(TABLES) and shown_figures == list(FIGURES)  # each once, in the report's order
    assert "stress.analyse(stress.StressParameters.from_namespace(globals()))" in notebook.cells[2].source


def test_notebook_runs_every_section_in_process():
    namespace, outputs = run_notebook("stress", FAST_PARAMETERS)
    result = namespace["result"]
    assert isinstance(result, StressResult) and result.summary.status in ("ok", "warning", "incident")
    shown = "\n".join(outputs)
    for caption in TABLES.values():
        assert f"<caption>{html.escape(caption)}</caption>" in shown
    assert html.escape(result.summary.headline) in shown  # publish's banner


def test_sensitivity_chart_shades_the_runs_tolerance_not_the_raw_parameter(result):
    # tolerance_pp 0 means "the spec's, else 5 pp": the chart said "tolerance ±0 pp" (issue 14).
    assert result.parameters.tolerance_pp == 0
    title = result.figures["sensitivity"].get_suptitle()
    assert "tolerance ±5 pp shaded" in title and "±0 pp" not in title
    wider = analyse(StressParameters(**{**FAST_PARAMETERS, "tolerance_pp": 7.5}))
    assert "tolerance ±7.5 pp shaded" in wider.figures["sensitivity"].get_suptitle()
