"""Analyses and backends installed by another package (entry points) appear in mlreport list and run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from plugin_dist import write_plugin

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_plugin(tmp_path_factory.mktemp("site"))


def python(site: Path, *args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter that sees the fake distribution (and kernels it starts inherit PYTHONPATH)."""
    paths = [str(site), os.environ.get("PYTHONPATH", str(ROOT))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    env.pop("MLREPORT_NOTEBOOKS", None)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_mlreport_list_shows_the_plugins_analysis_and_backend(site):
    result = python(site, "-m", "mlreport", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "churn  (from mlreport-churn 0.3)" in lines
    churn = lines.index("churn  (from mlreport-churn 0.3)")
    assert lines[churn + 1].split()[:2] == ["churn_rate", "float"]
    assert "drift" in lines and "volume" in lines  # the built-in analyses stay, and keep their names
    assert "  counting                   mlreport-churn 0.3" in lines
    assert "  pandas                     built-in" in lines
    # What cannot be used is said once, on stderr, naming the entry point, and left out.
    assert "empty = 'mlreport_empty': no empty.ipynb in that package; ignored" in result.stderr
    assert "the analysis 'drift' exists already (built-in); ignored" in result.stderr
    assert "the backend name 'pandas' is taken (built-in); ignored" in result.stderr
    assert "empty" not in lines


def test_the_python_api_lists_them_without_importing_them(site):
    probe = python(site, "-c", (
        "import sys, json, mlreport\n"
        "from mlreport.driver import analysis_sources\n"
        "from mlreport.backends import backend_names\n"
        "sources = analysis_sources()\n"
        "print(json.dumps([mlreport.analyses(), str(sources['churn'].notebook), backend_names(),\n"
        "                  'mlreport_churn' in sys.modules]))\n"
    ))
    assert probe.returncode == 0, probe.stderr
    names, notebook, backends, imported = json.loads(probe.stdout)
    assert names == ["churn", "drift", "stress", "volume"]
    assert notebook == str(site / "mlreport_churn" / "churn.ipynb")
    assert backends == ["pandas", "duckdb", "spark", "counting", "broken"]
    assert imported is False


def test_a_plugin_backend_computes_a_drift_report_and_a_broken_one_is_named(site):
    probe = python(site, "-c", (
        "import json\n"
        "from mlreport import drift\n"
        "from mlreport.errors import ParameterError\n"
        "small = dict(sample_rows=4000, classifier_sample=300)\n"
        "plugin = drift.analyse(drift.DriftParameters(backend='counting', **small))\n"
        "pandas = drift.analyse(drift.DriftParameters(**small))\n"
        "try:\n"
        "    drift.analyse(drift.DriftParameters(backend='broken', **small)).drift_table\n"
        "    broken = ''\n"
        "except ParameterError as exc:\n"
        "    broken = str(exc)\n"
        "print(json.dumps([type(plugin.backend).__module__, plugin.summary.metrics['psi'],\n"
        "                  pandas.summary.metrics['psi'], broken]))\n"
    ))
    assert probe.returncode == 0, probe.stderr[-3000:]
    module, plugin_psi, pandas_psi, broken = json.loads(probe.stdout)
    assert module == "mlreport_churn" and plugin_psi == pandas_psi
    assert broken.startswith("backend 'broken' (entry point 'mlreport_missing:Backend') cannot be loaded: "
                             "ModuleNotFoundError")


@pytest.mark.e2e
def test_the_plugin_analysis_runs_end_to_end(site, tmp_path):
    result = python(site, "-m", "mlreport", "run", "churn", "-p", "churn_rate=0.08", "--out", str(tmp_path / "out"),
                    "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]  # warning is below the default --fail-on
    data = json.loads(result.stdout)
    assert (data["analysis"], data["model"], data["status"]) == ("churn", "churn-model", "warning")
    report = Path(data["report"]).read_text()
    assert "churn rate 8.0%" in report
    manifest = json.loads((Path(data["run_dir"]) / "run.json").read_text())
    assert manifest["notebook"]["path"] == str(site / "mlreport_churn" / "churn.ipynb")
    assert manifest["metrics"] == {"churn_rate": 0.08}
