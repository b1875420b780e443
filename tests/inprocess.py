"""Running a committed notebook's code in the test process, as a kernel would, in a second.

Parameters are validated as on the CLI; each code cell runs in order, and a
cell's last expression is rendered to HTML the way a kernel displays it. Used
where a test needs the exception or the findings of a real notebook without a
kernel start (the CLI end-to-end tests show what a user gets around that).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import nbformat

from mlreport.driver import declared_parameters, notebook_path, validate_parameters

__all__ = ["run_notebook", "summary_of"]



@contextmanager
def _captured_display(outputs: list[str]) -> Iterator[None]:
    def display(*objects: Any, raw: bool = False, **_: Any) -> None:
        outputs.extend(_as_html(obj) for obj in objects)

    with mock.patch("IPython.display.display", display):
        yield


def _as_html(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text/html", obj.get("text/plain", "")))
    if hasattr(obj, "_repr_html_"):
        return obj._repr_html_() or ""
    return repr(obj)


def run_notebook(analysis: str, params: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Execute the committed notebook of ``analysis`` in this process; its namespace and HTML outputs.

    Parameters go through :func:`validate_parameters` as on the CLI. Each code
    cell runs in order; a cell's last expression is rendered as a kernel would
    (``_repr_html_``), so an exception in a table's HTML surfaces too.
    """
    notebook = nbformat.read(notebook_path(analysis), as_version=4)
    declared = declared_parameters(notebook)
    namespace: dict[str, Any] = {name: parameter.default for name, parameter in declared.items()}
    namespace.update(validate_parameters(params or {}, declared, analysis=analysis))
    outputs: list[str] = []
    with _captured_display(outputs):
        for number, cell in enumerate(notebook.cells):
            if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
                continue
            tree = ast.parse(cell.source)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, f"<{analysis} cell {number}>", "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), f"<{analysis} cell {number}>", "eval"), namespace)
                if value is not None:
                    outputs.append(_as_html(value))
    return namespace, outputs


def summary_of(namespace: dict[str, Any]) -> Any:
    """The summary a notebook published: its ``result``'s (an AnalysisResult), or a ``summary`` variable."""
    return namespace["summary"] if "summary" in namespace else namespace["result"].summary
