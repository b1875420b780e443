"""Tables for reports: compact, escaped, with headers and a caption.

pandas' notebook HTML truncates long text, shows the index and every column,
and leaves numbers at full precision. :func:`table` selects and renames
columns, formats numbers to a few significant digits, writes severities as
words, and escapes every cell (values are untrusted data). The result displays
as HTML in JupyterLab and in the report, and as text elsewhere.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, SupportsFloat, SupportsInt, cast

if TYPE_CHECKING:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

__all__ = [
    "Table",
    "table",
    "format_value",
    "format_pp",
    "format_percent",
    "format_change",
    "format_count",
    "format_p",
    "format_date",
    "format_window",
    "header_words",
]

_SEVERITIES = {"ok", "warning", "incident", "failed", "n/a"}


def _scalar_types() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """Python's and, where numpy is loaded already, numpy's bool, integer and float types."""
    numpy = sys.modules.get("numpy")
    if numpy is None:
        return (bool,), (int,), (float,)
    return (bool, numpy.bool_), (int, numpy.integer), (float, numpy.floating)


def format_value(value: object, digits: int = 4) -> str:
    """A cell as text: numbers to ``digits`` significant digits, missing as an en dash."""
    # pandas is imported only where it is already loaded (a value cannot be one of its types otherwise): the
    # driver formats dates and counts with this module and must not pay pandas' import for it.
    # numpy likewise (the driver's import of it was 0.1 s of every run's start).
    pandas = sys.modules.get("pandas")
    if value is None or (pandas is not None and (value is pandas.NA or value is pandas.NaT)):
        return "–"
    bools, ints, floats = _scalar_types()
    if isinstance(value, bools):
        return "yes" if value else "no"
    if isinstance(value, ints):
        return f"{int(cast('SupportsInt', value)):,}"
    if isinstance(value, floats):
        number = float(cast("SupportsFloat", value))
        if math.isnan(number):
            return "–"
        if math.isinf(number):
            return "∞" if number > 0 else "−∞"
        if number == 0:
            return "0"
        if abs(number) >= 10 ** digits:
            # Large figures are counts or amounts: whole, with thousands separators, never 2.50e+04.
            return f"{number:,.0f}"
        if abs(number) < 10 ** -(digits - 1):
            return f"{number:.{max(digits - 2, 1)}e}"
        return f"{number:.{digits}g}"
    if pandas is not None and isinstance(value, pandas.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M").replace(" 00:00", "")
    if isinstance(value, (list, tuple, set)):
        return ", ".join(format_value(v, digits) for v in value)
    return str(value)


def _signed(number: float, decimals: int) -> str:
    text = f"{number:+,.{decimals}f}"
    # A change that rounds to zero has no direction: "0.0", not "+0.0" or "-0.0".
    return text[1:] if float(text.replace(",", "")) == 0 else text


def format_pp(value: float | None, decimals: int = 1) -> str:
    """A change of a rate in percentage points, signed: ``-32.5 pp``, ``+8.2 pp``, ``0.0 pp``."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{_signed(float(value), decimals)} pp"


def format_percent(share: float | None, decimals: int = 1) -> str:
    """A share given as a fraction, as a percentage: ``0.26`` -> ``26.0%``."""
    if share is None or not math.isfinite(share):
        return "–"
    return f"{float(share) * 100:,.{decimals}f}%"


def format_change(ratio: float | None, decimals: int = 0) -> str:
    """A relative change given as a fraction, signed: ``-0.364`` -> ``-36%``, ``0.495`` -> ``+50%``."""
    if ratio is None or not math.isfinite(ratio):
        return "–"
    return f"{_signed(float(ratio) * 100, decimals)}%"


def format_count(value: float | None) -> str:
    """A count or amount, whole, with thousands separators: ``25000.0`` -> ``25,000``."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{round(float(value)):,}"


def format_p(p: float | None) -> str:
    """A p-value for people: ``p < 0.001`` below 0.001 (never ``p = 0``), else two significant digits."""
    if p is None or not math.isfinite(p):
        return "p –"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {float(p):.2g}"


_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?")


def _parse_date(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    match = _ISO_DATE.match(str(value).strip())
    if match is None:
        return None
    day = dt.date.fromisoformat(match.group(1))
    hour, minute = (int(match.group(2)), int(match.group(3))) if match.group(2) else (0, 0)
    return dt.datetime(day.year, day.month, day.day, hour, minute)


def _human(moment: dt.datetime) -> str:
    text = f"{moment.day} {moment.strftime('%b')} {moment.year}"
    return text if (moment.hour, moment.minute) == (0, 0) else f"{text} {moment:%H:%M}"


def format_date(value: object) -> str:
    """A date (or ISO text) for people: ``2026-03-01`` -> ``1 Mar 2026``; a time of day is kept when not midnight."""
    moment = _parse_date(value)
    return str(value) if moment is None else _human(moment)


def format_window(start: object, end: object, *, end_exclusive: bool = True) -> str:
    """A window with both ends inclusive: ``2026-02-02`` to an exclusive ``2026-03-02`` -> ``2 Feb 2026 to 1 Mar 2026``.

    An exclusive end at midnight means the data ends the day before, which is what a reader expects to see.
    """
    first, last = _parse_date(start), _parse_date(end)
    if first is None or last is None:
        return f"{start} to {end}"
    if end_exclusive and (last.hour, last.minute) == (0, 0) and last > first:
        last -= dt.timedelta(days=1)
    return _human(first) if first == last else f"{_human(first)} to {_human(last)}"


#: Abbreviations that stay in capitals when an identifier becomes a header.
_ACRONYMS = {
    "psi", "ks", "js", "tvd", "auc", "bh", "ewma", "cusum", "id", "ids", "pp", "ci", "cv", "w1", "hl", "pelt",
    "utc", "ece", "roc", "sha256", "csv", "url",
}


_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def header_words(name: str) -> str:
    """An identifier as a column header in words: ``first_warning`` -> ``First warning``, ``psi_max`` -> ``PSI max``.

    Anything but a lower-case snake_case identifier (words, a header with capitals, data) is left as it is.
    """
    if not _IDENTIFIER.fullmatch(name):
        return name
    words = [w.upper() if w in _ACRONYMS else w for w in name.split("_") if w]
    first = words[0]
    words[0] = first if first.isupper() else first[:1].upper() + first[1:]
    return " ".join(words)


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
        bools, ints, floats = _scalar_types()
        if isinstance(value, ints + floats) and not isinstance(value, bools):
            classes.append("num")
        if isinstance(value, str) and value.lower() in _SEVERITIES and "severity" in column.lower():
            classes.append(f"mlr-sevcell mlr-sev-{value.lower().replace('/', '')}")
            text = value.upper()
        cls = f' class="{" ".join(classes)}"' if classes else ""
        return f"<td{cls}>{html.escape(text)}</td>"

    def _repr_html_(self) -> str:
        head = "".join(f'<th scope="col">{html.escape(header_words(str(c)))}</th>' for c in self.frame.columns)
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
        shown = self.frame.map(lambda v: format_value(v, self.digits))
        shown.columns = [header_words(str(c)) for c in self.frame.columns]
        text = shown.to_string(index=False)
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
    import pandas as pd

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
    import pandas as pd

    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(pd.DataFrame, _frame_html)
    formatter.for_type(pd.Series, lambda series: _frame_html(series.to_frame()))
