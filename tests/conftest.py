"""Shared fixtures: the pipeline's fixture notebooks and a CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from make_fixture_notebooks import write_all  # noqa: E402


@pytest.fixture(scope="session")
def fixture_notebooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fixture-notebooks")
    write_all(folder)
    return folder


def runtime_missing(name: str, reason: str | None) -> None:
    """Skip the calling module when an optional runtime is missing, unless CI requires it.

    ``name`` is a runtime such as ``spark`` or ``browser``; ``reason`` says what
    is missing, or is None when it is there. ``.ci/run`` installs the runtimes
    and sets ``MLREPORT_TEST_REQUIRE=spark,browser``: there a missing runtime is
    a failure, so a broken install cannot pass as a green run of skips.
    """
    if reason is None:
        return
    required = {part.strip() for part in os.environ.get("MLREPORT_TEST_REQUIRE", "").split(",") if part.strip()}
    if name in required:
        pytest.fail(f"{name} tests are required here (MLREPORT_TEST_REQUIRE) but cannot run: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m mlreport ARGS`` in a subprocess, as a scheduler would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mlreport", *args],
        capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def cli(fixture_notebooks: Path, tmp_path: Path):
    """Run the CLI against the fixture notebooks, outputs in a temporary folder."""

    def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env={"MLREPORT_NOTEBOOKS": str(fixture_notebooks), **(env or {})}, cwd=tmp_path)

    return _run


def run_dirs(out: Path) -> list[Path]:
    return sorted(p.parent for p in out.glob("*/*/*/run.json"))


def load_manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())
