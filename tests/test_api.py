"""The public Python API: ``mlreport.run``, ``load_run`` and ``analyses``, the same thing the CLI does."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runs import run_cli, run_dirs

import mlreport
from mlreport.driver import demo
from mlreport.errors import InputError, ParameterError
from mlreport.findings import Finding
from mlreport.record import open_registry, prune

FIXTURES = ["dies", "echo", "failing", "fixture", "silent", "slow"]


@pytest.fixture
def notebooks(fixture_notebooks: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The API runs the fixture notebooks (as the CLI tests do), in this process."""
    monkeypatch.setenv("MLREPORT_NOTEBOOKS", str(fixture_notebooks))
    monkeypatch.delenv("MLREPORT_OUT", raising=False)
    return fixture_notebooks


def test_import_mlreport_loads_no_heavy_module_until_the_api_is_used():
    probe = (
        "import json, sys\n"
        "import mlreport\n"
        "heavy = ('papermill', 'nbconvert', 'nbclient', 'nbformat', 'jupyter_client', 'pandas', 'numpy')\n"
        "before = sorted(name for name in heavy if name in sys.modules)\n"
        "from mlreport import run, load_run, analyses, RunResult, Failure, CellFailure\n"
        "print(json.dumps({'before': before, 'all': mlreport.__all__, 'run': run.__module__,\n"
        "                  'same': run is sys.modules['mlreport.driver'].run}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout)
    assert data["before"] == []
    assert {"run", "load_run", "analyses", "RunResult", "Failure", "CellFailure", "__version__"} == set(data["all"])
    assert data["run"] == "mlreport.driver._run" and data["same"]


def test_every_public_name_resolves_and_nothing_else_does():
    assert all(getattr(mlreport, name) is not None for name in mlreport.__all__)
    assert set(mlreport.__all__) <= set(dir(mlreport))
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        _ = mlreport.nosuch


def test_analyses_are_the_notebooks(notebooks: Path):
    assert mlreport.analyses() == FIXTURES


@pytest.mark.parametrize(
    ("analysis", "params", "options", "error", "match"),
    [
        ("nosuch", {}, {}, InputError, "unknown analysis 'nosuch'; available: dies, echo"),
        ("fixture", {"stauts": "ok"}, {}, ParameterError, "did you mean 'status'"),
        ("fixture", {"rows": "many"}, {}, ParameterError, "parameter 'rows'.*expected int"),
        ("fixture", {}, {"fail_on": "sometimes"}, InputError, "--fail-on 'sometimes'"),
        ("fixture", {}, {"timeout": 0}, InputError, "--timeout 0"),
        ("fixture", {}, {"params_file": "missing.yaml"}, ParameterError, "missing.yaml: parameters file not found"),
    ],
)
def test_bad_input_raises_the_typed_error_and_writes_nothing(
    notebooks: Path, tmp_path: Path, analysis, params, options, error, match
):
    with pytest.raises(error, match=match):
        mlreport.run(analysis, params, out=tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


def test_load_run_says_clearly_when_there_is_no_such_run(tmp_path: Path):
    with pytest.raises(InputError, match=r"no such run folder or run\.json"):
        mlreport.load_run(tmp_path / "nowhere")
    with pytest.raises(InputError, match="not a run folder"):
        mlreport.load_run(tmp_path)
    with pytest.raises(InputError, match="no run registry"):
        mlreport.load_run("20260314T020000Z-0badcafe", out=tmp_path)
    open_registry(tmp_path)
    with pytest.raises(InputError, match="'20260314T020000Z-0badcafe' is not in the registry"):
        mlreport.load_run("20260314T020000Z-0badcafe", out=tmp_path)
    (tmp_path / "run.json").write_text("{not json")
    with pytest.raises(InputError, match="not a readable run manifest"):
        mlreport.load_run(tmp_path / "run.json")


@pytest.mark.e2e
def test_run_returns_a_typed_result_that_load_run_gives_back(notebooks: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = mlreport.run("fixture", {"status": "incident", "subject": "income"}, out=out)
    assert isinstance(result, mlreport.RunResult)
    verdict = (result.analysis, result.model, result.status, result.exit_code)
    assert verdict == ("fixture", "fixture-model", "incident", 1)
    assert result.error is None and result.headline == "Incident: column_a drifted."
    assert result.counts == {"ok": 0, "warning": 0, "incident": 1}
    (finding,) = result.findings
    assert isinstance(finding, Finding)
    assert (finding.subject, finding.severity, finding.value, finding.threshold) == ("income", "incident", 0.3, 0.25)
    (folder,) = run_dirs(out)
    assert result.run_dir == folder.resolve() and result.report_path == folder.resolve() / "report.html"
    assert result.report_path.is_file() and result.manifest["parameters"]["subject"] == "income"

    for reference in (result.run_dir, result.run_dir / "run.json", str(result.run_dir)):
        assert mlreport.load_run(reference) == result
    loaded = mlreport.load_run(result.run_id, out=out)
    assert loaded == result and loaded.to_dict() == result.to_dict() and loaded.manifest == result.manifest
    assert mlreport.load_run(result.run_id[:-2], out=out) == result  # a unique prefix is enough

    prune(out, 0, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    with pytest.raises(InputError, match=f"run {result.run_id} was pruned"):
        mlreport.load_run(result.run_id, out=out)


@pytest.mark.e2e
def test_out_defaults_like_the_cli(notebooks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MLREPORT_OUT", str(tmp_path / "env-out"))
    result = mlreport.run("fixture")
    assert run_dirs(tmp_path / "env-out") and result.run_dir.is_relative_to((tmp_path / "env-out").resolve())
    assert mlreport.load_run(result.run_id) == result
    monkeypatch.delenv("MLREPORT_OUT")
    monkeypatch.chdir(tmp_path)
    assert mlreport.run("fixture").run_dir.is_relative_to((tmp_path / "outputs").resolve())


@pytest.mark.e2e
def test_the_result_is_the_cli_json_object(notebooks: Path, tmp_path: Path):
    out = tmp_path / "out"
    cli = run_cli("run", "fixture", "-p", "status=warning", "--out", str(out), "--json",
                  env={"MLREPORT_NOTEBOOKS": str(notebooks)}, cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr[-3000:]
    printed = json.loads(cli.stdout)
    assert mlreport.load_run(printed["run_id"], out=out).to_dict() == printed

    result = mlreport.run("fixture", {"status": "warning"}, out=out)
    assert json.loads(json.dumps(result.to_dict())) == result.to_dict()  # JSON-ready as it is

    def same_run(data: dict) -> dict:
        return {k: v for k, v in data.items() if k not in ("run_id", "run_dir", "report")}

    assert same_run(result.to_dict()) == same_run(printed)


@pytest.mark.e2e
def test_a_run_that_fails_is_a_result_with_its_failure(notebooks: Path, tmp_path: Path):
    result = mlreport.run("failing", {"error": "DataError"}, out=tmp_path / "out")
    assert (result.status, result.exit_code, result.findings, result.counts) == ("failed", 2, [], {})
    error = result.error
    assert isinstance(error, mlreport.CellFailure)
    assert (error.kind, error.ename, error.section) == ("input", "DataError", "Loading data")
    assert error.message in result.headline and "current data has no rows" in error.message
    assert error.to_dict() == result.manifest["error"]
    assert mlreport.load_run(result.run_dir) == result


@pytest.mark.e2e
def test_demo_runs_every_analysis_through_run(fixture_notebooks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("fixture", "failing"):
        shutil.copy(fixture_notebooks / f"{name}.ipynb", folder)
    monkeypatch.setenv("MLREPORT_NOTEBOOKS", str(folder))
    started: list[str] = []
    finished: list[mlreport.RunResult] = []
    result = demo(out=tmp_path / "out", on_start=started.append, on_result=finished.append)
    assert started == ["failing", "fixture"] and finished == result.runs
    assert [r.status for r in result.runs] == ["failed", "ok"] and result.exit_code == 3
    assert result.index == tmp_path / "out" / "index.html" and result.index.is_file()
    data = result.to_dict()
    assert data["exit_code"] == 3 and data["runs"] == [mlreport.load_run(r.run_dir).to_dict() for r in result.runs]
