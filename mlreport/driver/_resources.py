"""Where the notebooks and templates are (in a checkout, in an installed wheel, in plugins), and where runs go.

In a source checkout (and an editable install) they sit beside the package, at
``notebooks/`` and ``templates/``. A wheel ships them inside the package as
``mlreport/_notebooks`` and ``mlreport/_templates`` (see pyproject.toml).

Other installed packages add analyses through the ``mlreport.analyses`` entry
point group: the entry point's name is the analysis, its value the package
that holds ``<name>.ipynb`` (and, as a rule, the analysis' library)::

    [project.entry-points."mlreport.analyses"]
    churn = "mlreport_churn"          # mlreport_churn/churn.ipynb

Found without importing the package. A built-in analysis keeps its name (a
plugin that takes it is ignored with a warning), and so does the first of two
plugins with one name.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..errors import InputError

__all__ = [
    "ANALYSES_GROUP", "AnalysisSource", "notebooks_dir", "templates_dir", "analyses", "analysis_sources",
    "notebook_path", "default_out_dir",
]

log = logging.getLogger("mlreport")

ANALYSES_GROUP = "mlreport.analyses"

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


@dataclass(frozen=True)
class AnalysisSource:
    """Where an analysis comes from: its notebook, and ``built-in`` or the distribution that installed it."""

    name: str
    notebook: Path
    origin: str = "built-in"


def _plugin_notebook(entry: metadata.EntryPoint) -> Path | None:
    """The notebook an ``mlreport.analyses`` entry point names, or None (with a warning) when it names none."""
    if entry.attr:
        log.warning("entry point %s = %r: expected a package (holding %s.ipynb), not an object; ignored",
                    entry.name, entry.value, entry.name)
        return None
    try:
        found = importlib.util.find_spec(entry.module)
    except (ImportError, ValueError) as exc:
        log.warning("entry point %s = %r: its package cannot be found (%s); ignored", entry.name, entry.value, exc)
        return None
    folders = list(found.submodule_search_locations or []) if found is not None else []
    for folder in folders:
        notebook = Path(folder) / f"{entry.name}.ipynb"
        if notebook.is_file():
            return notebook
    log.warning("entry point %s = %r: no %s.ipynb in that package; ignored", entry.name, entry.value, entry.name)
    return None


def analysis_sources() -> dict[str, AnalysisSource]:
    """Every available analysis by name, sorted: the built-in notebooks, then plugins (module docstring)."""
    folder = notebooks_dir()
    sources = {
        p.stem: AnalysisSource(p.stem, p) for p in folder.glob("*.ipynb") if not p.name.startswith(("_", "."))
    }
    for entry in metadata.entry_points(group=ANALYSES_GROUP):
        if entry.name in sources:
            log.warning("entry point %s = %r: the analysis %r exists already (%s); ignored", entry.name,
                        entry.value, entry.name, sources[entry.name].origin)
            continue
        notebook = _plugin_notebook(entry)
        if notebook is not None:
            dist = entry.dist
            origin = f"{dist.name} {dist.version}" if dist is not None else entry.value
            sources[entry.name] = AnalysisSource(entry.name, notebook, origin)
    return dict(sorted(sources.items()))


def analyses() -> list[str]:
    """Names of the available analyses: one per notebook, built-in or installed by a plugin."""
    return list(analysis_sources())


def notebook_path(analysis: str) -> Path:
    """The notebook of ``analysis``, or an InputError listing the valid names."""
    sources = analysis_sources()
    if analysis not in sources:
        raise InputError(
            f"unknown analysis {analysis!r}; available: "
            + (", ".join(sources) or f"(none found in {notebooks_dir()})")
        )
    return sources[analysis].notebook


def default_out_dir() -> Path:
    """The outputs folder when none is given: ``$MLREPORT_OUT`` when set, else ``./outputs``."""
    return Path(os.environ.get("MLREPORT_OUT") or "outputs")
