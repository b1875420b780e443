"""The kernel started before its notebook (driver/_kernel.py): its warm-up, its parameter check, its end.

A run launches its kernel first; the kernel imports what the notebook imports
and runs the analysis's parameter checks while the driver prepares. What must
hold: the warm-up defines nothing in the notebook's namespace and cannot be
broken out of by a parameter value; a check that fails in the kernel is the
same error, exit code 2 and nothing written as a check in the driver; no
kernel outlives its run; the notebook is written at the start and end of
execution, not around every cell.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import psutil
import pytest

import mlreport
import mlreport.analysis
from mlreport.driver import check_domains
from mlreport.driver._kernel import StartedKernel, warm_code, warm_modules
from mlreport.errors import ParameterError

HOSTILE = ["'); import os; os._exit(9) #", '"""\nraise SystemExit(7)\n"""', "\\'\\\"", "{modules!r}", "\u202e\x1b[31m"]


def _kernels_of(pid: int) -> list[psutil.Process]:
    kernels = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "ipykernel_launcher" in " ".join(child.cmdline()):
                kernels.append(child)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return kernels


def test_warm_modules_are_the_top_level_imports_of_the_code_cells():
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("import should_not_appear\nx = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("import nothing_in_markdown"),
        params,
        nbformat.v4.new_code_cell("from mlreport import drift\nimport json, os.path as p\nfrom . import relative"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport magic_cell"),
        nbformat.v4.new_code_cell("def f():\n    import inside_function\nfrom mlreport.plots import show"),
    ]
    assert warm_modules(nb) == ["mlreport", "mlreport.drift", "json", "os.path", "mlreport.plots",
                                "mlreport.plots.show"]


def test_the_drift_notebook_warms_up_its_analysis_room():
    from mlreport.driver import notebook_path

    modules = warm_modules(nbformat.read(str(notebook_path("drift")), as_version=4))
    assert "mlreport.drift" in modules and "mlreport.story" in modules


@pytest.mark.parametrize("value", HOSTILE)
def test_warm_code_hands_parameters_over_as_data(value, monkeypatch):
    seen = []
    monkeypatch.setattr(mlreport.analysis, "check_parameters", lambda analysis, params: seen.append((analysis, params)))
    namespace: dict[str, object] = {}
    exec(warm_code(["json", "no_such_module_anywhere"], "drift", {"current_path": value, "n": [1, 2.5]}), namespace)
    assert seen == [("drift", {"current_path": value, "n": [1, 2.5]})]
    assert set(namespace) == {"__builtins__"}  # the warm-up defines nothing where it runs


def test_warm_code_raises_what_the_parameters_class_raises():
    with pytest.raises(ParameterError) as in_code:
        exec(warm_code([], "drift", {"psi_bins": 1}), {})
    with pytest.raises(ParameterError) as in_driver:
        check_domains("drift", {"psi_bins": 1})
    assert str(in_code.value) == str(in_driver.value)


@pytest.mark.e2e
def test_started_kernel_checks_in_the_kernel_and_shuts_down(tmp_path: Path):
    log = tmp_path / "kernel.log"
    good = StartedKernel(cwd=tmp_path, kernel_log=log, start_timeout=120, warm_timeout=300,
                         code=warm_code(["mlreport.errors"], "drift", {"psi_bins": 10}))
    bad = StartedKernel(cwd=tmp_path, kernel_log=log, start_timeout=120, warm_timeout=300,
                        code=warm_code([], "drift", {"psi_bins": 1}))
    try:
        assert len(_kernels_of(os.getpid())) >= 2
        assert good.wait() is True
        assert bad.wait() is False and "ParameterError" in bad.reason and "psi_bins" in bad.reason
    finally:
        good.shutdown()
        bad.shutdown()
    assert not [k for k in _kernels_of(os.getpid()) if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
    assert not Path(good.manager.ip).parent.exists()  # its socket folder is gone


@pytest.mark.e2e
def test_a_domain_error_found_in_the_kernel_is_the_drivers_error_with_nothing_written(tmp_path: Path):
    out = tmp_path / "out"
    with pytest.raises(ParameterError) as raised:
        mlreport.run("drift", {"psi_bins": 1}, out=out)
    with pytest.raises(ParameterError) as expected:
        check_domains("drift", {"psi_bins": 1})
    assert str(raised.value) == str(expected.value)
    assert not out.exists()
    assert _kernels_of(os.getpid()) == [] or all(
        k.status() == psutil.STATUS_ZOMBIE for k in _kernels_of(os.getpid())
    )


@pytest.mark.e2e
def test_the_cli_exits_2_on_a_domain_error_leaving_no_kernel(tmp_path: Path):
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "mlreport", "run", "drift", "-p", "psi_bins=1", "--out", str(tmp_path / "out"),
         "--json"], capture_output=True, text=True, timeout=300, cwd=tmp_path, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["type"] == "ParameterError"
    assert "psi_bins" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
    assert _kernels_in(tmp_path) == []


def _kernels_in(folder: Path) -> list[psutil.Process]:
    """Live kernel processes whose working folder is ``folder`` (a run's kernel starts in the run's cwd)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if ("ipykernel_launcher" in " ".join(process.info["cmdline"] or [])
                    and Path(process.cwd()) == folder and process.status() != psutil.STATUS_ZOMBIE):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


@pytest.mark.e2e
def test_the_notebook_runs_with_counts_from_1_and_is_written_at_its_ends_only(
    tmp_path: Path, fixture_notebooks: Path, monkeypatch
):
    import papermill.engines

    writes: list[str] = []
    real = papermill.engines.write_ipynb

    def counting(nb: nbformat.NotebookNode, path: str) -> None:
        writes.append(path)
        real(nb, path)

    monkeypatch.setattr(papermill.engines, "write_ipynb", counting)
    monkeypatch.setenv("MLREPORT_NOTEBOOKS", str(fixture_notebooks))
    result = mlreport.run("fixture", {"status": "warning"}, out=tmp_path / "out", fail_on="never")
    assert result.status == "warning"
    executed = nbformat.read(str(result.run_dir / "notebook.ipynb"), as_version=4)
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    assert all(cell.metadata.papermill["status"] == "completed" for cell in executed.cells)
    assert len(writes) == 2, writes  # papermill used to write it before and after each of the cells too
    assert (result.run_dir / "kernel.log").is_file()
    assert _kernels_of(os.getpid()) == [] or all(
        k.status() == psutil.STATUS_ZOMBIE for k in _kernels_of(os.getpid())
    )


@pytest.mark.e2e
def test_a_run_that_stops_during_the_warm_up_kills_the_kernel_at_once(tmp_path: Path):
    import time

    kernel = StartedKernel(cwd=tmp_path, kernel_log=None, start_timeout=120, warm_timeout=600,
                           code="import time\ntime.sleep(120)")
    try:
        deadline = time.monotonic() + 120
        while not _kernels_of(os.getpid()) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # the warm-up is (about to be) sleeping in the kernel
    finally:
        started = time.monotonic()
        kernel.shutdown()
        took = time.monotonic() - started
    assert took < 15, took  # not the warm-up's 600 s, nor its 120 s sleep
    assert not kernel._thread.is_alive()
    assert not kernel.passed and kernel.reason
    assert not [k for k in _kernels_of(os.getpid()) if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.e2e
def test_shutdown_works_inside_a_running_event_loop(tmp_path: Path):
    """mlreport.run called from a Jupyter notebook runs inside the notebook kernel's event loop."""
    import asyncio

    kernel = StartedKernel(cwd=tmp_path, kernel_log=None, start_timeout=120, warm_timeout=300,
                           code=warm_code([], None, {}))
    assert kernel.wait() is True

    async def stop_from_a_coroutine() -> None:
        kernel.shutdown()

    asyncio.run(stop_from_a_coroutine())
    assert not [k for k in _kernels_of(os.getpid()) if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
