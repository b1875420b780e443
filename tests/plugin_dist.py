"""A tiny third-party package, installed as a fake distribution: an analysis and a backend through entry points."""

from __future__ import annotations

from pathlib import Path

import nbformat

__all__ = ["write_plugin"]

LIBRARY = '''"""mlreport_churn: a churn analysis shipped as a separate package (a test fixture)."""
from dataclasses import dataclass

import pandas as pd

from mlreport.analysis import AnalysisParameters
from mlreport.backends import PandasBackend
from mlreport.errors import ParameterError
from mlreport.findings import Finding, summarize


@dataclass(frozen=True)
class ChurnParameters(AnalysisParameters):
    churn_rate: float = 0.02
    warning_rate: float = 0.05

    def __post_init__(self):
        if not 0 <= self.churn_rate <= 1:
            raise ParameterError(f"parameter 'churn_rate': {self.churn_rate!r}; expected 0 to 1", name="churn_rate")


def analyse(parameters):
    severity = "warning" if parameters.churn_rate >= parameters.warning_rate else "ok"
    finding = Finding("churn", "customers", severity, f"churn rate {parameters.churn_rate:.1%}",
                      value=parameters.churn_rate, threshold=parameters.warning_rate, method="share of customers")
    table = pd.DataFrame({"metric": ["churn rate"], "value": [parameters.churn_rate]})
    return summarize("churn", [finding], model="churn-model", metrics={"churn_rate": parameters.churn_rate}), table


class CountingBackend(PandasBackend):
    """The pandas backend under another name: what a third-party backend plugs in as."""

    name = "counting"
'''


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell("# Churn\n\nHow many customers left."))
    params = nbformat.v4.new_code_cell("churn_rate = 0.02  # share of customers who left\n"
                                       "warning_rate = 0.05  # churn rate that warns")
    params.metadata["tags"] = ["parameters"]
    nb.cells.append(params)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import mlreport_churn as churn\nfrom mlreport.findings import publish\n"
        "summary, table = churn.analyse(churn.ChurnParameters.from_namespace(globals()))\ntable"))
    nb.cells.append(nbformat.v4.new_code_cell("publish(summary)"))
    return nb


def write_plugin(site: Path, *, extra_entry_points: str = "") -> Path:
    """Write the package and its ``.dist-info`` into ``site`` (a folder to put on sys.path); return ``site``."""
    package = site / "mlreport_churn"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(LIBRARY)
    nbformat.write(_notebook(), str(package / "churn.ipynb"))
    (site / "mlreport_empty").mkdir()
    (site / "mlreport_empty" / "__init__.py").write_text("")
    info = site / "mlreport_churn-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mlreport-churn\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text(
        "[mlreport.analyses]\nchurn = mlreport_churn\nempty = mlreport_empty\ndrift = mlreport_churn\n\n"
        "[mlreport.backends]\ncounting = mlreport_churn:CountingBackend\nbroken = mlreport_missing:Backend\n"
        "pandas = mlreport_churn:CountingBackend\n" + extra_entry_points
    )
    return site
