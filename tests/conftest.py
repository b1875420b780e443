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


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server for the session, its credentials and endpoint in the environment (``tests/servers.py``)."""
    import os

    from servers import start_s3

    with start_s3() as server:
        saved = {key: os.environ.get(key) for key in server.env}
        os.environ.update(server.env)
        try:
            yield server
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL cluster for the session (``tests/servers.py``); its password is not in the environment."""
    from servers import start_postgres

    with start_postgres() as server:
        yield server
