"""End-to-end runs of the CLI on fixture notebooks: exit codes, failures, JSON, concurrency."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
import yaml
from cli_runs import load_manifest, run_cli, run_dirs

pytestmark = pytest.mark.e2e


def test_version_and_help():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("mlreport ")
    helptext = run_cli("run", "--help").stdout
    assert "exit codes" in helptext and "3  the run failed" in helptext and "MLREPORT_OUT" in helptext


def test_no_command_is_a_usage_error():
    assert run_cli().returncode == 2


def test_list_shows_parameters_with_type_default_and_help(cli):
    result = cli("list")
    assert result.returncode == 0
    assert "fixture" in result.stdout and "ratio" in result.stdout and "float" in result.stdout
    assert "ok, warning or incident" in result.stdout


def test_healthy_run_exit_0_and_run_folder(cli, tmp_path: Path):
    result = cli("run", "fixture", "--out", "out")
    assert result.returncode == 0, result.stderr
    (run_dir,) = run_dirs(tmp_path / "out")
    assert run_dir.parent.name == "fixture" and run_dir.parent.parent.name == "fixture-model"
    manifest = load_manifest(run_dir)
    assert manifest["status"] == "ok" and manifest["exit_code"] == 0
    for key in ("run_id", "analysis", "model", "parameters", "parameters_sha256", "inputs", "notebook", "versions",
                "timings_s", "user", "host", "started_at", "finished_at", "files", "thresholds", "counts"):
        assert key in manifest, key
    assert manifest["parameters"]["rows"] == 3  # defaults recorded explicitly
    assert manifest["files"]["report.html"]["sha256"]
    assert (tmp_path / "out" / "index.html").exists()
    assert not list((tmp_path / "out" / ".tmp").glob("2*")), "staging folder left behind"


@pytest.mark.parametrize(
    ("status", "fail_on", "code"),
    [("incident", "incident", 1), ("warning", "incident", 0), ("warning", "warning", 1), ("incident", "never", 0)],
)
def test_exit_code_follows_fail_on(cli, status, fail_on, code):
    result = cli("run", "fixture", "--out", "out", "-p", f"status={status}", "--fail-on", fail_on)
    assert result.returncode == code, result.stderr


def test_json_prints_one_object_and_nothing_else(cli):
    result = cli("run", "fixture", "--out", "out", "-p", "status=incident", "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)  # raises if anything else is on stdout
    assert data["status"] == "incident" and data["exit_code"] == 1
    assert data["findings"][0]["subject"] == "column_a" and Path(data["report"]).exists()


def test_failing_notebook_writes_failure_report_exit_3(cli, tmp_path: Path):
    result = cli("run", "failing", "--out", "out", "--json")
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert data["status"] == "failed" and "current data has no rows" in data["error"]["message"]
    assert data["error"]["section"] == "Loading data"
    html = Path(data["report"]).read_text()
    assert "RUN FAILED" in html and "current data has no rows" in html and "Loading data" in html


@pytest.mark.parametrize("error", ["DataError", "ParameterError", "SpecError", "ScenarioError", "ModelError"])
def test_input_error_raised_in_the_notebook_is_exit_2_with_a_failure_report(cli, error: str):
    result = cli("run", "failing", "--out", "out", "-p", f"error={error}", "--json")
    assert result.returncode == 2, result.stderr[-3000:]
    data = json.loads(result.stdout)
    assert data["status"] == "failed" and data["exit_code"] == 2
    assert (data["error"]["kind"], data["error"]["ename"]) == ("input", error)
    html = Path(data["report"]).read_text()
    assert "RUN FAILED" in html and "current data has no rows" in html


def test_exit_code_for_each_status_and_failure_kind():
    from mlreport.driver import Failure, exit_code_for

    assert [exit_code_for(s, "incident") for s in ("ok", "warning", "incident")] == [0, 0, 1]
    assert [exit_code_for(s, "warning") for s in ("ok", "warning", "incident")] == [0, 1, 1]
    assert exit_code_for("incident", "never") == 0
    assert exit_code_for("failed", "never", Failure("error", "")) == 3
    assert exit_code_for("failed", "incident", Failure("input", "")) == 2
    assert exit_code_for("failed", "incident", Failure("timeout", "")) == 3 == exit_code_for("failed", "incident")


def test_timeout_is_a_failure_exit_3(cli):
    result = cli("run", "slow", "--out", "out", "--timeout", "2", "--json")
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert data["error"]["kind"] == "timeout" and data["error"]["section"] == "Slow section"


def test_dead_kernel_is_a_failure_exit_3(cli):
    result = cli("run", "dies", "--out", "out", "--json")
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert data["error"]["kind"] == "kernel died" and data["error"]["section"] == "Dying section"


def test_notebook_without_summary_is_a_failure(cli):
    result = cli("run", "silent", "--out", "out", "--json")
    assert result.returncode == 3 and json.loads(result.stdout)["error"]["kind"] == "no summary"


@pytest.mark.parametrize(
    "args",
    [
        ("run", "fixture", "-p", "stauts=ok"),
        ("run", "fixture", "-p", "rows=many"),
        ("run", "fixture", "-p", "x=0; import os; y=1"),
        ("run", "nosuch"),
        ("run", "fixture", "--params-file", "missing.yaml"),
        ("run", "fixture", "--timeout", "0"),
    ],
)
def test_bad_invocation_exit_2_and_nothing_written(cli, tmp_path: Path, args):
    result = cli(*args, "--out", "out")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("mlreport: error:")
    assert not run_dirs(tmp_path / "out")


def test_injection_through_values_and_params_file_runs_no_code(cli, tmp_path: Path):
    marker = tmp_path / "pwned"
    payload = f'"; import pathlib; pathlib.Path("{marker}").touch(); "'
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"items": [f"'); import os; os.system('touch {marker}'); ('", "\\"]}))
    result = cli("run", "echo", "--out", "out", "-p", f"value={payload}", "--params-file", str(params), "--json",
                 env={"MLREPORT_PWNED": str(marker)})
    assert result.returncode == 0, result.stdout + result.stderr
    metrics = load_manifest(Path(json.loads(result.stdout)["run_dir"]))["metrics"]
    assert metrics["value"] == payload  # arrived as data, byte for byte
    assert metrics["items"][1] == "\\" and "touch" in metrics["items"][0]
    assert not marker.exists()


def test_prepare_writes_parameterised_notebook(cli, tmp_path: Path):
    result = cli("prepare", "fixture", "-p", "rows=9", "-o", "prepared.ipynb")
    assert result.returncode == 0, result.stderr
    nb = nbformat.read(tmp_path / "prepared.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "rows = 9" in injected[0].source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_prepare_writes_only_the_parameters_that_differ_from_the_defaults(tmp_path: Path):
    """A data scientist sees what this investigation changed; the rest stays the notebook's own defaults."""
    from mlreport.driver import prepare_notebook

    out = prepare_notebook("drift", tmp_path / "one.ipynb", {"psi_bins": 20, "seed": 0, "model": ""})
    (injected,) = [c for c in nbformat.read(out, as_version=4).cells
                   if "injected-parameters" in c.metadata.get("tags", [])]
    assigned = [line.split(" = ")[0] for line in injected.source.splitlines() if " = " in line]
    assert assigned == ["psi_bins"]  # seed 0 and an empty model are the defaults: not repeated
    plain = prepare_notebook("drift", tmp_path / "none.ipynb", {"seed": 0})
    assert not [c for c in nbformat.read(plain, as_version=4).cells
                if "injected-parameters" in c.metadata.get("tags", [])]


def test_mlreport_out_environment_variable(cli, tmp_path: Path):
    result = cli("run", "fixture", env={"MLREPORT_OUT": str(tmp_path / "env-out")})
    assert result.returncode == 0, result.stderr
    assert run_dirs(tmp_path / "env-out")


def test_concurrent_runs_never_collide(fixture_notebooks: Path, tmp_path: Path):
    env = {**os.environ, "MLREPORT_NOTEBOOKS": str(fixture_notebooks)}

    def one(i: int) -> int:
        return subprocess.run(
            [sys.executable, "-m", "mlreport", "run", "fixture", "--out", str(tmp_path / "out"), "-p", f"subject=s{i}"],
            env=env, capture_output=True, timeout=300, stdin=subprocess.DEVNULL,
        ).returncode

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(one, range(6)))
    assert codes == [0] * 6
    dirs = run_dirs(tmp_path / "out")
    assert len(dirs) == 6 and len({d.name for d in dirs}) == 6
    index = (tmp_path / "out" / "index.html").read_text()
    assert len(set(re.findall(r'href="([^"]*report\.html)"', index))) == 6
