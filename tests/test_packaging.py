"""A non-editable install ships the notebooks and templates and finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.e2e
def test_wheel_ships_notebooks_and_templates_and_cli_finds_them(tmp_path: Path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("mlreport-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for analysis in ("drift", "volume", "stress"):
        assert f"mlreport/_notebooks/{analysis}.ipynb" in names
    assert "mlreport/_templates/mlreport/index.html.j2" in names and "mlreport/_templates/mlreport/report.css" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True, timeout=300)
    probe = subprocess.run(
        [str(python), "-c", "import mlreport.resources as r, sys; print(r.notebooks_dir()); print(r.templates_dir()); print(r.analyses())"],
        capture_output=True, text=True, cwd=tmp_path, check=True, timeout=120,
    )
    notebooks, templates, names_line = probe.stdout.splitlines()
    assert str(venv) in notebooks and str(venv) in templates
    assert "drift" in names_line
