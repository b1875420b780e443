"""The committed notebooks: clean, parameterised, runnable as JupyterLab runs them."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
from pathlib import Path

import nbformat
import pytest
from cli_runs import run_cli

from mlreport.analysis import AnalysisParameters, AnalysisResult
from mlreport.driver import analyses, declared_parameters, notebooks_dir
from mlreport.findings import SUMMARY_MIMETYPE

NOTEBOOKS = sorted(notebooks_dir().glob("*.ipynb"))


def test_the_three_analyses_exist():
    assert {"drift", "volume", "stress"} <= set(analyses())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs_with_tagged_parameters(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs committed"
    declared = declared_parameters(nb)
    assert declared, f"{path.name}: no cell tagged 'parameters'"
    assert all(p.help for p in declared.values()), f"{path.name}: every parameter needs a help comment"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert "publish(" in nb.cells[-1].source


CELL_LINES = 8  # a code cell is a call and its display, not a computation


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_are_narrative_no_definitions_and_short(path: Path):
    """Logic lives in mlreport/: a cell defines nothing and stays within a few lines (parameters aside)."""
    nb = nbformat.read(path, as_version=4)
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        lines = [line for line in cell.source.splitlines() if line.strip()]
        assert len(lines) <= CELL_LINES, f"{path.name} cell {number}: {len(lines)} lines\n{cell.source}"
        definitions = [
            node for node in ast.walk(ast.parse(cell.source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
        ]
        assert not definitions, f"{path.name} cell {number} defines code; move it into mlreport/\n{cell.source}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_analysis_has_one_shape_whose_parameters_are_the_notebooks(path: Path):
    """mlreport.NAME has NAMEParameters (the notebook's parameters, same defaults), analyse() and a NAMEResult."""
    room = importlib.import_module(f"mlreport.{path.stem}")
    parameters = getattr(room, f"{path.stem.capitalize()}Parameters")
    result = getattr(room, f"{path.stem.capitalize()}Result")
    assert issubclass(parameters, AnalysisParameters) and issubclass(result, AnalysisResult)
    assert callable(room.analyse) and {"analyse", parameters.__name__, result.__name__} <= set(room.__all__)
    declared = declared_parameters(path)
    assert [field.name for field in dataclasses.fields(parameters)] == list(declared)
    defaults = parameters()
    assert {name: getattr(defaults, name) for name in declared} == {n: p.default for n, p in declared.items()}
    source = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
    assert source.count(f"{path.stem}.analyse(") == 1, "one call computes the analysis"


@pytest.mark.e2e
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom_with_defaults_without_papermill(path: Path, tmp_path: Path):
    """As JupyterLab's "Run All" would: nbclient alone, default parameters, the sample data."""
    from nbclient import NotebookClient

    from mlreport.driver import SameInterpreterKernelManager

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_manager_class=SameInterpreterKernelManager,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    payloads = [
        o["data"][SUMMARY_MIMETYPE]
        for c in nb.cells for o in c.get("outputs", []) if SUMMARY_MIMETYPE in o.get("data", {})
    ]
    assert len(payloads) == 1
    assert payloads[0]["status"] in ("warning", "incident"), (
        "the default sample carries an incident the analysis should find"
    )
    assert payloads[0]["inputs"], "inputs must be recorded for the appendix"
    assert not list(tmp_path.iterdir()), "a notebook must not write files into its working directory"


@pytest.mark.e2e
def test_demo_writes_every_report_and_the_index(tmp_path: Path):
    result = run_cli("demo", "--out", str(tmp_path / "out"), "--json", cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout)
    assert {r["analysis"] for r in data["runs"]} == set(analyses())
    for run in data["runs"]:
        assert run["status"] in ("warning", "incident"), run
        report = Path(run["report"])
        assert report.stat().st_size < 1_000_000, f"{report} is {report.stat().st_size} bytes"
        html = report.read_text()
        assert "Content-Security-Policy" in html and "Key findings" in html
    assert Path(data["index"]).exists()
