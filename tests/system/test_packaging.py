"""A non-editable install ships the notebooks and templates and finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # pip must see only the new venv
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True, timeout=300, env=clean)
    # The wheel was installed without its dependencies; this interpreter's site-packages lends them
    # (PYTHONPATH holds no mlreport: an editable install is a .pth hook that PYTHONPATH does not run).
    lent = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    probe = subprocess.run(
        [str(python), "-c", "import mlreport, mlreport.driver as d; print(mlreport.__file__); "
         "print(d.notebooks_dir()); print(d.templates_dir()); print(mlreport.analyses())"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, env=lent,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    package, notebooks, templates, names_line = probe.stdout.splitlines()
    assert str(venv) in package and str(venv) in notebooks and str(venv) in templates
    assert names_line == "['drift', 'stress', 'volume']"
