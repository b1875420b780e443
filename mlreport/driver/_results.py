"""Read what a notebook published back out of the executed notebook."""

from __future__ import annotations

from typing import Any

import nbformat

from ..findings import SUMMARY_MIMETYPE, Summary

__all__ = ["read_summary", "is_summary_output"]


def is_summary_output(output: Any) -> bool:
    """True for the display output that :func:`mlreport.findings.publish` wrote."""
    return output.get("output_type") in ("display_data", "execute_result") and SUMMARY_MIMETYPE in output.get("data", {})


def read_summary(notebook: nbformat.NotebookNode) -> Summary | None:
    """The last summary published in ``notebook``, or None when it published none."""
    found: Summary | None = None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if is_summary_output(output):
                found = Summary.from_dict(output["data"][SUMMARY_MIMETYPE])
    return found
