"""mlreport: investigation and incident reports for deployed decision models.

The public Python API is the one the CLI uses (``mlreport run`` calls
:func:`run`)::

    import mlreport
    mlreport.analyses()                                   # ['drift', 'stress', 'volume']
    result = mlreport.run("drift", {"current_path": "data/2026-03-14.parquet"}, out="outputs")
    result.status, result.exit_code, result.report_path, result.findings
    again = mlreport.load_run(result.run_id, out="outputs")   # or a run folder, or its run.json

:func:`run` returns a :class:`RunResult` (whose ``to_dict()`` is the
``mlreport run --json`` object); a run that could not finish carries a
:class:`Failure` in ``error``. Bad input raises the errors of
:mod:`mlreport.errors`.

The analyses themselves are importable rooms (:mod:`mlreport.drift`,
:mod:`mlreport.volume`, :mod:`mlreport.stress`); the driver that runs their
notebooks is :mod:`mlreport.driver`. ``import mlreport`` stays cheap: the
driver (papermill, nbconvert) is imported on first use of a name above.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = ["__version__", "run", "load_run", "analyses", "RunResult", "Failure", "CellFailure"]

if TYPE_CHECKING:
    from .driver import CellFailure, Failure, RunResult, analyses, load_run, run

_FROM_DRIVER = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> object:
    # PEP 562: the driver (papermill, nbconvert) loads only when the API is used.
    if name in _FROM_DRIVER:
        from . import driver

        return getattr(driver, name)
    raise AttributeError(f"module 'mlreport' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _register_report_tables() -> None:
    # Inside a Jupyter kernel, DataFrames display as report tables (see
    # mlreport.tables.register); elsewhere nothing is imported or changed.
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and hasattr(shell, "display_formatter"):
        from .tables import register

        register(shell)


_register_report_tables()
