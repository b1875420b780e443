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
    for schema in ("manifest", "result", "jobs", "spec", "notification"):
        assert f"mlreport/schema/{schema}.schema.json" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    # Every subpackage ships (pyproject lists them one by one: a new room left out imports nowhere but here).
    rooms = sorted(str(init.relative_to(ROOT)) for init in (ROOT / "mlreport").rglob("__init__.py"))
    assert [room for room in rooms if room not in names] == []
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
        [str(python), "-c", "import mlreport, mlreport.driver as d, mlreport.schema as s; print(mlreport.__file__); "
         "print(d.notebooks_dir()); print(d.templates_dir()); print(mlreport.analyses()); "
         "print(s.schema('manifest')['$id'])"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, env=lent,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    package, notebooks, templates, names_line, schema_id = probe.stdout.splitlines()
    assert str(venv) in package and str(venv) in notebooks and str(venv) in templates
    assert names_line == "['drift', 'stress', 'volume']"
    assert schema_id == "urn:mlreport:schema:manifest:1"


# -- what `pip install mlreport` brings ---------------------------------------------------------------

#: Modules that only an optional extra brings, imported lazily where they are used.
#: Imported only where a feature needs them (a DataError names the extra when missing).
OPTIONAL_MODULES = {"pyspark": "spark", "mlflow": "mlflow", "fsspec": "s3", "sqlalchemy": "sql"}
#: The notebook front ends: a scheduler's install runs every report without them.
FRONT_ENDS = {"jupyterlab", "notebook", "jupyter-server", "jupyterlab-server", "jupyter-lsp"}


def _project() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _name(requirement: str) -> str:
    from packaging.requirements import Requirement

    return Requirement(requirement).name.lower().replace("_", "-")


def _closure(requirements: list[str]) -> set[str]:
    """Every distribution ``requirements`` bring, following installed metadata (markers evaluated, no extras)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = requirement.name.lower().replace("_", "-")
        if name in seen or (requirement.marker is not None and not requirement.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        try:
            todo.extend(Requirement(r) for r in metadata.requires(requirement.name) or [])
        except metadata.PackageNotFoundError:
            pytest.fail(f"{requirement.name} (required by mlreport) is not installed")
    return seen


def test_the_scheduler_install_brings_no_jupyterlab():
    project = _project()
    closure = _closure(project["dependencies"])
    assert closure.isdisjoint(FRONT_ENDS), sorted(closure & FRONT_ENDS)
    assert "statsmodels" not in closure  # a test reference only
    assert {_name(r) for r in project["optional-dependencies"]["lab"]} == {"jupyterlab"}


def test_every_module_mlreport_imports_is_declared():
    # A direct import must be a declared dependency, not something another one happens to bring.
    import ast
    from importlib import metadata

    project = _project()
    declared = {_name(r) for r in project["dependencies"]}
    extras = {extra: {_name(r) for r in reqs} for extra, reqs in project["optional-dependencies"].items()}
    providers = metadata.packages_distributions()
    imported: dict[str, str] = {}
    for path in sorted((ROOT / "mlreport").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                imported.setdefault(name.partition(".")[0], str(path.relative_to(ROOT)))
    undeclared = []
    for module, where in sorted(imported.items()):
        if module in sys.stdlib_module_names or module == "mlreport" or module == "__future__":
            continue
        if module in OPTIONAL_MODULES:
            extra = OPTIONAL_MODULES[module]
            assert any(module.replace("_", "-") in name for name in extras[extra]), (module, extra)
            continue
        distributions = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        if not distributions & declared:
            undeclared.append(f"{module} ({where}; from {sorted(distributions) or 'nothing installed'})")
    assert undeclared == []
