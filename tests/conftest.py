"""Shared fixtures: the pipeline's fixture notebooks and a CLI runner (helpers: ``tests/cli_runs.py``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli_runs import run_cli
from make_fixture_notebooks import write_all


@pytest.fixture(scope="session")
def fixture_notebooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fixture-notebooks")
    write_all(folder)
    return folder


@pytest.fixture
def cli(fixture_notebooks: Path, tmp_path: Path):
    """Run the CLI against the fixture notebooks, outputs in a temporary folder."""

    def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env={"MLREPORT_NOTEBOOKS": str(fixture_notebooks), **(env or {})}, cwd=tmp_path)

    return _run
