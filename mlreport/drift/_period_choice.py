"""Which periods drift over time is cut into: the one asked for when it can apply, else one chosen from the data.

``period="auto"`` (the default) chooses:

* with a timestamp column, the finest of day, week and month whose typical
  period (the median over the periods with rows) holds at least
  :data:`MIN_PERIOD_ROWS` rows and that gives at most :data:`MAX_PERIODS`
  periods; when none does, months;
* without one, chunks of rows in file order where the backend keeps the
  rows' order (pandas): :data:`CHUNKS` chunks, each of at least
  :data:`MIN_PERIOD_ROWS` rows;
* without one on a backend that does not keep the order (DuckDB, Spark),
  nothing: drift over time is skipped and the report says why.

A period that was asked for but cannot apply (``"W"`` without a timestamp, a
number of rows per chunk on DuckDB) is replaced by the automatic choice, with
the reason, never a failed run. Rows per period are counted on the rows held
in memory, scaled to the window's rows when those are a sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..profile import period_labels
from ._parameters import AUTO, PERIODS, chunk_rows

__all__ = ["MIN_PERIOD_ROWS", "MAX_PERIODS", "CHUNKS", "PeriodChoice", "choose_period"]

MIN_PERIOD_ROWS = 300
"""Rows a period should hold before drift over time cuts at it (``period="auto"``).

At 300 rows a PSI of 0.1 (the default warning band, on 10 bins) is a
chi-square of about 30 (n x PSI) on 9 degrees of freedom, significant at
4.4e-4, that is at 5% after a Bonferroni correction over about 100 tests (10
columns x 10 periods). With fewer rows per period a warning-sized move cannot
be told from noise after correction, and small periods only add false alarms.
Tunable here (with the verdict rules of ``_verdict``).
"""

MAX_PERIODS = 14
"""At most this many periods from ``period="auto"``: the finest period that fits is taken.

Each period is compared with the whole reference, so a weekday pattern (a
weekend with another channel mix) makes single days "drift" with no change at
all; days are therefore used only for windows of up to two weeks, where weeks
would be too few to date an onset. Fourteen periods also keep the heatmap
readable. A longer window goes by week, then by month.
"""

CHUNKS = 10
"""Chunks of rows ``period="auto"`` cuts a window without a timestamp into (each of at least MIN_PERIOD_ROWS)."""

_UNITS = {"D": "day", "W": "week", "M": "month"}


@dataclass(frozen=True)
class PeriodChoice:
    """The periods of drift over time: what was asked, what is used, and why.

    ``period`` is ``"D"``, ``"W"``, ``"M"`` or a number of rows per chunk
    (as text), or None when drift over time is skipped. ``reason`` is one
    sentence for the report; ``replaced`` is True when the period asked for
    could not apply and another was chosen (or none).
    """

    requested: str
    period: str | None
    reason: str
    replaced: bool = False

    @property
    def skipped(self) -> bool:
        """True when there are no periods: no timestamp, and a backend that does not keep row order."""
        return self.period is None

    @property
    def by_date(self) -> bool:
        """True when periods are days, weeks or months of the timestamp (not chunks of rows)."""
        return self.period in PERIODS


def choose_period(
    requested: str,
    *,
    timestamps: pd.Series | None,
    rows: int,
    keeps_row_order: bool,
    backend: str,
) -> PeriodChoice:
    """The periods for ``requested`` (``"auto"``, D, W, M or a number of rows) on this window and backend.

    ``timestamps`` are the current window's timestamps held in memory (None
    without a timestamp column); ``rows`` is the window's number of rows (more
    than ``len(timestamps)`` when those are a sample); ``keeps_row_order``
    and ``backend`` say whether chunks of rows are possible, and where.
    """
    valid = timestamps.dropna() if timestamps is not None else None
    dated = valid is not None and (len(valid) > 0 or rows == 0)
    if requested in PERIODS:
        if dated:
            return PeriodChoice(requested, requested, f"by {_UNITS[requested]}, as asked (period {requested!r})")
        why = (
            f"period {requested!r} needs a timestamp column"
            + (" with values" if timestamps is not None else "")
            + " and the current window has none"
        )
        return _automatic(requested, None, rows, keeps_row_order, backend, why)
    if requested != AUTO:
        size = chunk_rows(requested)
        if keeps_row_order:
            return PeriodChoice(requested, requested, f"chunks of {size:,} rows in file order, as asked")
        why = f"chunks of rows (period {requested!r}) need the row order that the {backend} backend does not keep"
        return _automatic(requested, valid if dated else None, rows, keeps_row_order, backend, why)
    return _automatic(requested, valid if dated else None, rows, keeps_row_order, backend, "")


def _rows_per_day(valid: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Each calendar day with rows (local wall time, as :func:`~mlreport.profile.period_labels` cuts) and its rows;
    None for timestamps that are not date-times (they are parsed by ``period_labels``)."""
    if not pd.api.types.is_datetime64_any_dtype(valid.dtype) or not len(valid):
        return None
    local = valid.dt.tz_localize(None) if valid.dt.tz is not None else valid
    days = local.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").view(np.int64)
    first = int(days.min())
    counts = np.bincount(days - first)  # nanosecond times span at most about 213,000 days
    held = np.flatnonzero(counts)
    return (held + first).astype("datetime64[D]"), counts[held]


def _rows_per_period(valid: pd.Series, per_day: tuple[np.ndarray, np.ndarray] | None, code: str) -> pd.Series:
    """Rows in each period of ``code`` with rows: ``period_labels(valid, code).value_counts()`` (in another order),
    from the rows per day, labelling each day once instead of every row."""
    if per_day is None:
        return period_labels(valid, code).value_counts()
    days, counts = per_day
    labels = period_labels(pd.Series(days), code).to_numpy()
    return pd.Series(counts).groupby(labels, sort=False).sum()


def _automatic(
    requested: str, valid: pd.Series | None, rows: int, keeps_row_order: bool, backend: str, why: str
) -> PeriodChoice:
    replaced = bool(why)
    lead = f"{why}; instead " if why else "chosen automatically: "
    if valid is not None:
        if not len(valid):
            return PeriodChoice(requested, "D", f"{lead}by day (the current window has no rows)", replaced)
        scale = rows / len(valid) if len(valid) else 1.0
        sizes: dict[str, tuple[float, int]] = {}
        per_day = _rows_per_day(valid)
        for code in PERIODS:
            counts = _rows_per_period(valid, per_day, code)
            sizes[code] = (float(counts.median()) * scale, len(counts))
            typical, periods = sizes[code]
            if typical >= MIN_PERIOD_ROWS and periods <= MAX_PERIODS:
                return PeriodChoice(requested, code, (
                    f"{lead}by {_UNITS[code]}, the finest period with at least {MIN_PERIOD_ROWS:,} rows in a "
                    f"typical period (median {typical:,.0f}) and at most {MAX_PERIODS} periods ({periods})"
                ), replaced)
        typical, periods = sizes["M"]
        return PeriodChoice(requested, "M", (
            f"{lead}by month: no period holds {MIN_PERIOD_ROWS:,} rows in a typical period within "
            f"{MAX_PERIODS} periods (a month holds a median of {typical:,.0f} rows over {periods} month(s)), "
            "so the periods are small and their verdicts weak"
        ), replaced)
    if keeps_row_order:
        size = max(MIN_PERIOD_ROWS, math.ceil(rows / CHUNKS)) if rows else MIN_PERIOD_ROWS
        count = max(1, math.ceil(rows / size))
        return PeriodChoice(requested, str(size), (
            f"{lead}no timestamp column, so {count} chunk{'s' if count != 1 else ''} of {size:,} rows in file "
            f"order (at most {CHUNKS}, each of at least {MIN_PERIOD_ROWS:,} rows)"
        ), replaced)
    return PeriodChoice(requested, None, (
        f"{why + '; ' if why else ''}drift over time is skipped: the data has no timestamp column and the "
        f"{backend} backend does not keep the files' row order, so there are no periods to cut. Name the "
        "timestamp (timestamp in the model spec, or the timestamp_column parameter), or use backend=pandas "
        "for chunks of rows in file order"
    ), True)
