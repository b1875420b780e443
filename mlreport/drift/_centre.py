"""Where each column's centre went, in the data's own units: the number a reader checks first.

From the same summaries as the metrics (so every backend gives the same
numbers): a numeric column's mean in each window (the sum and count of its
valid finite values, exact), and for a categorical one the level whose share
of valid values moved most, with both shares.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..profile import ColumnSummary, ReferenceProfile, Summaries

__all__ = ["CENTRE_COLUMNS", "with_centres", "centre_phrase"]

#: The columns :func:`with_centres` adds to a comparison table.
CENTRE_COLUMNS = ("mean_ref", "mean_cur", "moved_level", "share_ref", "share_cur")

_NEW = "a category new to the reference"
_LEVEL_CHARS = 30  # a level named in a sentence is cut here; the table holds it whole


def _mean(summary: ColumnSummary | None) -> float:
    if summary is None or summary.fine_counts.size == 0:
        return math.nan
    count = int(summary.fine_counts.sum())
    total = float(summary.fine_sums.sum())
    return total / count if count and math.isfinite(total) else math.nan


def _moved_level(categories: tuple[str, ...], ref: ColumnSummary | None, cur: ColumnSummary | None,
                 ) -> tuple[str | None, float, float]:
    if ref is None or cur is None or ref.counts.size == 0 or ref.counts.size != cur.counts.size:
        return None, math.nan, math.nan
    ref_total, cur_total = ref.counts.sum(), cur.counts.sum()
    if not ref_total or not cur_total:
        return None, math.nan, math.nan
    ref_share, cur_share = ref.counts / ref_total, cur.counts / cur_total
    best = int(np.argmax(np.abs(cur_share - ref_share)))
    label = categories[best] if best < len(categories) else _NEW
    return label, float(ref_share[best]), float(cur_share[best])


def with_centres(table: pd.DataFrame, profile: ReferenceProfile, reference: Summaries,
                 current: Summaries) -> pd.DataFrame:
    """``table`` (one row per ``column``) with :data:`CENTRE_COLUMNS` filled from the summaries; attrs kept."""
    rows: dict[str, list[Any]] = {name: [] for name in CENTRE_COLUMNS}
    for column in table["column"] if "column" in table.columns else []:
        name = str(column)
        known = profile.columns.get(name)
        ref = reference.columns.get(name)
        cur = current.columns.get(name)
        numeric = known is not None and known.kind == "numeric"
        level, share_ref, share_cur = (None, math.nan, math.nan) if numeric or known is None else _moved_level(
            known.categories, ref, cur)
        rows["mean_ref"].append(_mean(ref) if numeric else math.nan)
        rows["mean_cur"].append(_mean(cur) if numeric else math.nan)
        rows["moved_level"].append(level)
        rows["share_ref"].append(share_ref)
        rows["share_cur"].append(share_cur)
    for name, values in rows.items():
        table[name] = pd.Series(values, index=table.index, dtype=object if name == "moved_level" else float)
    return table


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.4g}"


def centre_phrase(record: Any) -> str:
    """"mean 41,200 against 35,800 in the reference", or "share of 'broker' 4.1% against 12.0% in the reference"."""
    mean_ref, mean_cur = record.get("mean_ref"), record.get("mean_cur")
    if isinstance(mean_ref, float) and isinstance(mean_cur, float) and math.isfinite(mean_ref) and math.isfinite(
            mean_cur):
        return f"mean {_number(mean_cur)} against {_number(mean_ref)} in the reference"
    level, share_ref, share_cur = record.get("moved_level"), record.get("share_ref"), record.get("share_cur")
    if level is not None and isinstance(share_ref, float) and math.isfinite(share_ref) and math.isfinite(share_cur):
        text = str(level)
        text = text if len(text) <= _LEVEL_CHARS else text[:_LEVEL_CHARS - 1] + "…"  # a long label stays in the table
        named = level if level == _NEW else repr(text)
        return f"share of {named} {share_cur:.1%} against {share_ref:.1%} in the reference"
    return ""
