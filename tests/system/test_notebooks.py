"""The committed notebooks: clean, parameterised, runnable as JupyterLab runs them."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from cli_runs import run_cli

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
