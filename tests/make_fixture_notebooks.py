"""Build the small analysis notebooks the pipeline tests run (see conftest.py).

They exercise the pipeline, not an analysis: one publishes a status chosen by
parameter, one raises, one sleeps past a timeout, one kills its kernel, one
publishes nothing, one echoes its parameters (for the injection tests).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _notebook(parameters: str, *cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.cells.append(nbformat.v4.new_markdown_cell("# Fixture report\n\nA pipeline test notebook."))
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells.append(params)
    for source in cells:
        if source.startswith("## "):
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source))
    return nb


PUBLISH = (
    "from mlreport.findings import Finding, summarize, publish\n"
    "findings = [Finding('fixture', subject, status, message, value=0.3, threshold=0.25, method='fixture method', "
    "section='Checks')] if status != 'ok' else []\n"
    "publish(summarize('fixture', findings, model=model, "
    "inputs=[{'name': 'current', 'path': subject, 'sha256': 'x', 'rows': 3}]))"
)

NOTEBOOKS = {
    "fixture": _notebook(
        'status = "ok"  # ok, warning or incident\n'
        'subject = "column_a"  # subject of the finding\n'
        'message = "column_a drifted"  # finding message\n'
        'model = "fixture-model"  # model name\n'
        "rows = 3  # number of rows\n"
        "ratio = 0.5  # a float\n"
        "flag = False  # a bool\n"
        "columns = []  # a list\n"
        "options = {}  # a dict\n"
        'as_of_date = "2026-03-14"  # a date',
        "## Checks\n\nWhat the fixture checked.",
        "import pandas as pd\npd.DataFrame({'subject': [subject], 'value': [message]})",
        PUBLISH,
    ),
    "failing": _notebook(
        'model = "fixture-model"  # model name\n'
        'error = "ValueError"  # what to raise: ValueError, or an error of mlreport.errors such as DataError',
        "## Loading data\n\nThis section fails.",
        "import mlreport.errors\nraise getattr(mlreport.errors, error, ValueError)('current data has no rows')",
        "## Never reached",
        "print('unreachable')",
    ),
    "slow": _notebook(
        "seconds = 30  # how long to sleep",
        "## Slow section",
        "import time\ntime.sleep(seconds)",
    ),
    "dies": _notebook(
        'model = "fixture-model"  # model name',
        "## Dying section",
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    ),
    "silent": _notebook('model = "x"  # model name', "## Nothing published", "1 + 1"),
    "echo": _notebook(
        'value = ""  # any string\nitems = []  # any list\nmapping = {}  # any dict\nmodel = "echo"  # model name',
        "import json, os\n"
        "from mlreport.findings import summarize, publish\n"
        "assert not os.path.exists(os.environ.get('MLREPORT_PWNED', '/nonexistent/pwned')), 'injected code ran'\n"
        "publish(summarize('echo', [], model=model, metrics={'value': value, 'items': items, 'mapping': mapping}))",
    ),
}


def write_all(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in NOTEBOOKS.items():
        nbformat.write(nb, folder / f"{name}.ipynb")


if __name__ == "__main__":
    write_all(Path(__file__).parent / "notebooks")
