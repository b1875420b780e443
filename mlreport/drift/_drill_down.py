"""A drill-down into one column: the first place a data scientist looks after an incident.

For the column behind an incident: its missing share, the share of one value
(a placeholder such as 0), the share outside the reference's range (numeric)
or of categories the reference never had (categorical), and its median, per
period of the current window and per segment level, against the reference;
then the current rows behind the out-of-range values or new categories. Rows
are those in memory (every row with pandas, the bounded sample otherwise).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..tables import Table, table

__all__ = ["DrillDown", "drill_down", "MAX_LEVELS", "ROW_CHUNKS"]

MAX_LEVELS = 30  #: segment levels shown per segment column, the largest in the current window first
ROW_CHUNKS = 10  #: chunks of rows in file order when there is no timestamp

_UNIT = {"D": "day", "M": "month", "h": "hour"}
_SHARES = ("missing_share", "value_share", "outside_share")


@dataclass(frozen=True)
class DrillDown:
    """One column by period and by segment level, and the current rows behind its unusual values.

    ``by_period`` has one row for the reference window, then one per period
    (or chunk of rows) of the current window: ``rows``, ``missing_share``,
    ``value_share`` (rows equal to ``value``), ``outside_share`` (outside the
    reference's range, or a category the reference never had) and
    ``median`` (numeric columns). ``by_segment`` has the same shares per
    segment column and level, reference and current side by side. ``rows``
    holds up to ``limit`` current rows with an outside value, ``rows_total``
    how many there are. Shares are fractions of all rows of the period or level.
    """

    column: str
    value: object = None
    outside: str = ""
    by_period: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_segment: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows_total: int = 0
    note: str = ""

    @property
    def tables(self) -> dict[str, Table]:
        """The three parts as report tables, captioned."""
        value = "–" if self.value is None else repr(self.value)
        names = {"missing_share": "Missing", "value_share": f"Equal to {value}",
                 "outside_share": self.outside or "Outside", "median": "Median", "rows": "Rows"}
        segment_names = {"segment": "Segment", "level": "Level"}
        for window in ("reference", "current"):
            segment_names[f"rows_{window}"] = f"Rows ({window})"
            for share in _SHARES:
                segment_names[f"{share}_{window}"] = f"{names[share]} ({window})"
        return {
            "by_period": table(self.by_period, {"period": "Period", **names},
                               caption=f"{self.column} by period: shares of all rows of the period", limit=None),
            "by_segment": table(self.by_segment, segment_names,
                                caption=f"{self.column} by segment level: shares of the level's rows", limit=60),
            "rows": table(self.rows, caption=f"Current rows with {self.outside.lower() or 'an unusual value'} in "
                          f"{self.column}: {self.rows_total:,} in all, the first {len(self.rows)} shown", limit=None),
        }

    def _repr_html_(self) -> str:
        head = f"<h4>Drill-down: {html.escape(self.column or 'no column')}</h4>"
        note = f"<p>{html.escape(self.note)}</p>" if self.note else ""
        if not self.column:
            return head + note
        parts = self.tables
        shown = [parts["by_period"]._repr_html_()]
        if not self.by_segment.empty:
            shown.append(parts["by_segment"]._repr_html_())
        if self.rows_total:
            shown.append(parts["rows"]._repr_html_())
        return head + note + "".join(shown)


def _numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series.dtype)) and not pd.api.types.is_bool_dtype(series.dtype)


def _flags(series: pd.Series, reference: pd.Series, value: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: missing, equal to ``value``, outside the reference (range, or categories)."""
    missing = series.isna().to_numpy()
    equal = (series == value).fillna(False).to_numpy(dtype=bool) if value is not None else np.zeros(len(series), bool)
    if _numeric(series) and _numeric(reference):
        known = pd.to_numeric(reference, errors="coerce").dropna()
        if known.empty:
            outside = np.zeros(len(series), dtype=bool)
        else:
            values = pd.to_numeric(series, errors="coerce")
            outside = ((values < known.min()) | (values > known.max())).fillna(False).to_numpy(dtype=bool)
    else:
        categories = pd.Index(reference.dropna().astype(str).unique())
        outside = (~missing) & ~series.astype(str).isin(categories).to_numpy()
    return missing, equal, outside


def _shares(series: pd.Series, reference: pd.Series, value: object) -> dict[str, float]:
    rows = len(series)
    if rows == 0:
        return {"rows": 0, **{share: float("nan") for share in _SHARES}}
    missing, equal, outside = _flags(series, reference, value)
    shares: dict[str, float] = {"rows": rows, "missing_share": _real(missing.mean()),
                                "value_share": _real(equal.mean()), "outside_share": _real(outside.mean())}
    if _numeric(series):
        shares["median"] = _real(pd.to_numeric(series, errors="coerce").median())
    return shares


def _record(shares: pd.Series) -> dict[str, float]:
    """One group's row of :func:`_grouped_shares` as :func:`_shares` gives it: ``rows`` an int."""
    record: dict[str, float] = {"rows": int(shares["rows"])}
    record.update({name: _real(shares[name]) for name in shares.index if name != "rows"})
    return record


def _real(value: object) -> float:
    """A statistic as a float: NaN where pandas answers NA (a nullable column with no value in a period)."""
    if value is None or value is pd.NA:
        return float("nan")
    number = float(value)  # type: ignore[arg-type]  # a numpy or Python number from a mean or median
    return number


def _period_keys(current: pd.DataFrame, timestamp: str | None, period: str) -> tuple[pd.Series, str]:
    """Each current row's period label, and how the periods were cut."""
    if timestamp and timestamp in current.columns:
        times = pd.to_datetime(current[timestamp], errors="coerce", utc=False)
        if isinstance(times.dtype, pd.DatetimeTZDtype):
            times = times.dt.tz_localize(None)
        if times.notna().any():
            alias = {"D": "D", "W": "W-SUN", "M": "M", "H": "h"}.get(period, "D")
            weekly = alias == "W-SUN"
            periods = times[times.notna()].dt.to_period(alias)
            # Label each distinct period once, not each row (a million Period objects took seconds).
            codes, distinct = pd.factorize(periods)
            labels = np.array([str(p.start_time.date()) if weekly else str(p) for p in distinct], dtype=object)
            text = pd.Series(labels[codes], index=periods.index, dtype=object)
            unit = "week (starting Monday)" if weekly else _UNIT.get(alias, "day")
            return text.reindex(current.index, fill_value="no timestamp"), f"by {unit} of {timestamp}"
    size = max(1, -(-len(current) // ROW_CHUNKS))
    order = np.arange(len(current)) // size
    chunks = np.array([f"rows {i * size + 1:,}–{min((i + 1) * size, len(current)):,}"
                       for i in range(int(order[-1]) + 1 if len(order) else 0)], dtype=object)
    return pd.Series(chunks[order], index=current.index, dtype=object), \
        f"in {ROW_CHUNKS} chunks of rows in file order (no timestamp)"


def _flag_frame(series: pd.Series, reference: pd.Series, value: object) -> pd.DataFrame:
    """Per row of ``series``: the three flags of :func:`_flags` and, for a numeric column, its value."""
    missing, equal, outside = _flags(series, reference, value)
    columns: dict[str, object] = {"missing_share": missing, "value_share": equal, "outside_share": outside}
    if _numeric(series):
        columns["median"] = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return pd.DataFrame(columns, index=series.index)


def _grouped_shares(flags: pd.DataFrame, keys: np.ndarray, *, sort: bool) -> pd.DataFrame:
    """:func:`_shares` of every group of rows at once: one pass over the flags, not one per group.

    The shares are means of 0/1 flags (integer sums over a count, the
    numbers ``ndarray.mean`` gives) and the median the middle value or the
    mean of the two middle ones, as ``Series.median``: the same floats.
    """
    grouped = flags.groupby(keys, sort=sort)
    out = grouped[list(_SHARES)].mean()
    if "median" in flags.columns:
        out["median"] = grouped["median"].median()
    out.insert(0, "rows", grouped.size())
    return out


def drill_down(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    column: str,
    *,
    timestamp: str | None = None,
    segments: Sequence[str] = (),
    value: object = None,
    period: str = "D",
    limit: int = 20,
) -> DrillDown:
    """``column`` by period and by segment level, current against reference, and the rows behind its new values.

    ``value`` is the placeholder whose share is counted (default 0 for a
    numeric column, none for another); ``timestamp`` cuts the current window
    into periods (``period``: ``H``, ``D``, ``W`` or ``M``), else into
    :data:`ROW_CHUNKS` chunks of rows; ``segments`` are the columns to break
    it down by (at most :data:`MAX_LEVELS` levels each). Raises
    :class:`~mlreport.errors.ParameterError` naming the column when a window lacks it.
    """
    for name, frame in (("reference", reference), ("current", current)):
        if column not in frame.columns:
            known = ", ".join(map(str, list(frame.columns)[:20]))
            raise ParameterError(f"drill_down: column {column!r} is not in the {name} window (its columns: {known})")
    numeric = _numeric(current[column]) and _numeric(reference[column])
    if value is None and numeric:
        value = 0
    outside = "Outside the reference range" if numeric else "A category new to the reference"
    keys, how = _period_keys(current, timestamp, period)
    records = [{"period": "reference (whole window)", **_shares(reference[column], reference[column], value)}]
    flags = _flag_frame(current[column], reference[column], value)
    by_key = _grouped_shares(flags, keys.to_numpy(), sort=bool(timestamp and how.startswith("by")))
    for label, shares in by_key.iterrows():
        records.append({"period": str(label), **_record(shares)})
    by_period = pd.DataFrame.from_records(records)
    segment_rows = []
    reference_flags = _flag_frame(reference[column], reference[column], value).drop(columns="median",
                                                                                   errors="ignore")
    current_flags = flags.drop(columns="median", errors="ignore")
    for segment in segments:
        if segment == column or segment not in current.columns or segment not in reference.columns:
            continue
        current_levels = current[segment].astype(str)
        levels = current_levels.value_counts().index[:MAX_LEVELS]
        by_window = {
            "reference": _grouped_shares(reference_flags, reference[segment].astype(str).to_numpy(), sort=False),
            "current": _grouped_shares(current_flags, current_levels.to_numpy(), sort=False),
        }
        for level in levels:
            row: dict[str, object] = {"segment": segment, "level": level}
            for window, levels_shares in by_window.items():
                found = _record(levels_shares.loc[level]) if level in levels_shares.index else _shares(
                    reference[column].iloc[:0], reference[column], value)
                row.update({f"{k}_{window}": v for k, v in found.items() if k != "median"})
            segment_rows.append(row)
    flagged = flags["outside_share"].to_numpy()
    total = int(flagged.sum())
    note = (f"Current window {how}; {outside.lower()}: {total:,} of {len(current):,} current rows. "
            "Rows are those held in memory.")
    return DrillDown(column=column, value=value, outside=outside, by_period=by_period,
                     by_segment=pd.DataFrame(segment_rows), rows=current.loc[flagged].head(limit),
                     rows_total=total, note=note)
