"""mlreport: investigation and incident reports for deployed decision models.

The public Python API is the one the CLI uses::

    import mlreport
    mlreport.analyses()                                   # ['drift', 'stress', 'volume']
    result = mlreport.run("drift", {"current_path": "data/2026-03-14.parquet"}, out="outputs")
    result.status, result.exit_code, result.report_path

The analyses themselves are importable rooms (:mod:`mlreport.drift`,
:mod:`mlreport.volume`, :mod:`mlreport.stress`); the driver that runs their
notebooks is :mod:`mlreport.driver`. ``import mlreport`` stays cheap: the
driver is imported on first use of :func:`run` or :func:`analyses`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "analyses", "run"]

if TYPE_CHECKING:
    from .driver import analyses, run


def __getattr__(name: str) -> Any:
    # PEP 562: the driver (papermill, nbconvert) loads only when the API is used.
    if name in ("run", "analyses"):
        from . import driver

        return getattr(driver, name)
    raise AttributeError(f"module 'mlreport' has no attribute {name!r}")


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
