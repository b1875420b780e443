"""Where the notebooks and templates are (in a checkout and in an installed wheel), and where runs go.

In a source checkout (and an editable install) they sit beside the package, at
``notebooks/`` and ``templates/``. A wheel ships them inside the package as
``mlreport/_notebooks`` and ``mlreport/_templates`` (see pyproject.toml).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError

__all__ = ["notebooks_dir", "templates_dir", "analyses", "notebook_path", "default_out_dir"]

_PACKAGE = Path(__file__).resolve().parent.parent  # mlreport/, beside notebooks/ and templates/ in a checkout


def _locate(env: str, checkout: str, installed: str) -> Path:
    override = os.environ.get(env)
    if override:
        return Path(override)
    beside = _PACKAGE.parent / checkout
    if beside.is_dir():
        return beside
    return _PACKAGE / installed


def notebooks_dir() -> Path:
    """Folder of the analysis notebooks (override: MLREPORT_NOTEBOOKS)."""
    return _locate("MLREPORT_NOTEBOOKS", "notebooks", "_notebooks")


def templates_dir() -> Path:
    """Folder of the nbconvert templates (override: MLREPORT_TEMPLATES)."""
    return _locate("MLREPORT_TEMPLATES", "templates", "_templates")


def analyses() -> list[str]:
    """Names of the available analyses: one per notebook."""
    folder = notebooks_dir()
    return sorted(p.stem for p in folder.glob("*.ipynb") if not p.name.startswith(("_", ".")))


def notebook_path(analysis: str) -> Path:
    """The notebook of ``analysis``, or an InputError listing the valid names."""
    names = analyses()
    if analysis not in names:
        raise InputError(
            f"unknown analysis {analysis!r}; available: "
            + (", ".join(names) or f"(none found in {notebooks_dir()})")
        )
    return notebooks_dir() / f"{analysis}.ipynb"


def default_out_dir() -> Path:
    """The outputs folder when none is given: ``$MLREPORT_OUT`` when set, else ``./outputs``."""
    return Path(os.environ.get("MLREPORT_OUT") or "outputs")
