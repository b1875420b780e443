"""Tables for reports: compact, escaped, with headers and a caption.

pandas' notebook HTML truncates long text, shows the index and every column,
and leaves numbers at full precision. :func:`table` selects and renames
columns, formats numbers to a few significant digits, writes severities as
words, and escapes every cell (values are untrusted data). The result displays
as HTML in JupyterLab and in the report, and as text elsewhere.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["Table", "table", "format_value"]

_SEVERITIES = {"ok", "warning", "incident", "failed", "n/a"}


def format_value(value: object, digits: int = 4) -> str:
    """A cell as text: numbers to ``digits`` significant digits, missing as an en dash."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isnan(number):
            return "–"
        if math.isinf(number):
            return "∞" if number > 0 else "−∞"
        if number == 0:
            return "0"
        if abs(number) >= 10 ** digits or abs(number) < 10 ** -(digits - 1):
            return f"{number:.{max(digits - 2, 1)}e}"
        return f"{number:.{digits}g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M").replace(" 00:00", "")
    if isinstance(value, (list, tuple, set)):
        return ", ".join(format_value(v, digits) for v in value)
    return str(value)


class Table:
    """A displayable table (``_repr_html_``), built by :func:`table`."""

    def __init__(
        self, frame: pd.DataFrame, *, caption: str = "", digits: int = 4, total: int | None = None
    ) -> None:
        self.frame = frame
        self.caption = caption
        self.digits = digits
        self.total = len(frame) if total is None else total

    def _cell(self, column: str, value: object) -> str:
        text = format_value(value, self.digits)
        classes = []
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
            classes.append("num")
        if isinstance(value, str) and value.lower() in _SEVERITIES and "severity" in column.lower():
            classes.append(f"mlr-sevcell mlr-sev-{value.lower().replace('/', '')}")
            text = value.upper()
        cls = f' class="{" ".join(classes)}"' if classes else ""
        return f"<td{cls}>{html.escape(text)}</td>"

    def _repr_html_(self) -> str:
        head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in self.frame.columns)
        rows = "".join(
            "<tr>" + "".join(self._cell(str(c), v) for c, v in zip(self.frame.columns, row, strict=True)) + "</tr>"
            for row in self.frame.itertuples(index=False, name=None)
        )
        if not rows:
            # A producer may say why a table is empty (frame.attrs["empty_text"]: "not assessed ...").
            empty = html.escape(str(self.frame.attrs.get("empty_text", "none")))
            rows = f'<tr><td colspan="{max(len(self.frame.columns), 1)}">{empty}</td></tr>'
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        more = ""
        if self.total > len(self.frame):
            more = f'<p class="mlr-more">Showing {len(self.frame)} of {self.total} rows.</p>'
        return (
            f'<div class="mlr-scroll"><table class="mlr-table">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>{more}"
        )

    def __repr__(self) -> str:
        text = self.frame.map(lambda v: format_value(v, self.digits)).to_string(index=False)
        return f"{self.caption}\n{text}" if self.caption else text


def table(
    frame: pd.DataFrame,
    columns: Sequence[str] | Mapping[str, str] | None = None,
    *,
    caption: str = "",
    limit: int | None = 30,
    digits: int = 4,
    index: bool = False,
) -> Table:
    """A report table of ``frame``.

    ``columns`` selects columns in order, or maps column name to header text;
    names absent from ``frame`` are skipped (tables differ by data kind).
    ``limit`` keeps the first rows and says how many were left out.
    """
    data = frame.reset_index() if index else frame
    if columns is not None:
        mapping = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
        present = {k: v for k, v in mapping.items() if k in data.columns}
        data = data[list(present)].rename(columns=present)
    total = len(data)
    if limit is not None:
        data = data.head(limit)
    return Table(data, caption=caption, digits=digits, total=total)


def _frame_html(frame: pd.DataFrame) -> str:
    keep_index = not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None
    return table(frame, index=keep_index, limit=50)._repr_html_()


def register(shell: InteractiveShell) -> None:
    """Display every DataFrame and Series in ``shell`` (an IPython shell) as a report table.

    Called when mlreport is imported inside a kernel, so that every table in
    every report has one look: escaped, wrapped, numbers to four significant
    digits, at most 50 rows with the rest counted.
    """
    if shell.display_formatter is None:  # a shell that displays nothing rich has nothing to format
        return
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(pd.DataFrame, _frame_html)
    formatter.for_type(pd.Series, lambda series: _frame_html(series.to_frame()))
