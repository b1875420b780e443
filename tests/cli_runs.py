"""Running the CLI as a scheduler would, and reading what a run left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

__all__ = ["runtime_missing", "run_cli", "run_dirs", "load_manifest"]


def runtime_missing(name: str, reason: str | None) -> None:
    """Skip the calling module when an optional runtime is missing, unless CI requires it.

    ``name`` is a runtime such as ``spark``, ``browser``, ``s3`` or ``postgres``;
    ``reason`` says what is missing, or is None when it is there. ``.ci/run``
    installs the runtimes and sets ``MLREPORT_TEST_REQUIRE=spark,browser,s3,postgres,mlflow``:
    there a missing runtime is a failure, so a broken install cannot pass as a
    green run of skips.
    """
    if reason is None:
        return
    required = {part.strip() for part in os.environ.get("MLREPORT_TEST_REQUIRE", "").split(",") if part.strip()}
    if name in required:
        pytest.fail(f"{name} tests are required here (MLREPORT_TEST_REQUIRE) but cannot run: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m mlreport ARGS`` in a subprocess, as a scheduler would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mlreport", *args],
        capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def run_dirs(out: Path) -> list[Path]:
    return sorted(p.parent for p in out.glob("*/*/*/run.json"))


def load_manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())
