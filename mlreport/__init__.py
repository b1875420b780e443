"""mlreport: investigation and incident reports for deployed decision models."""

from __future__ import annotations

__version__ = "0.1.0"


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
