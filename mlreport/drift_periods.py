"""Periods of the current data: labels that sort in time, and the first period each column crossed a band."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .drift_metrics import _NAN
from .drift_thresholds import _SEVERITY_RANK
from .errors import DataError, ParameterError

__all__ = ["period_labels", "first_crossing"]


def period_labels(timestamps: pd.Series, every: str | int) -> pd.Series:
    """Period labels that sort in time: ``"D"``/``"W"`` start dates, ``"M"`` months, or chunks.

    ``every`` is ``"D"`` (day, ``2026-02-19``), ``"W"`` (week starting Monday,
    labelled by its Monday), ``"M"`` (``2026-02``), or an integer: fixed-size
    chunks of that many rows in row order (``"chunk 001"``...).
    """
    if isinstance(every, (int, np.integer)) and not isinstance(every, bool):
        if every < 1:
            raise ParameterError(f"chunk size must be >= 1, got {every}", name="every")
        index = np.arange(len(timestamps)) // int(every)
        width = max(3, len(str(int(index.max()) + 1 if len(index) else 1)))
        return pd.Series([f"chunk {i + 1:0{width}d}" for i in index], index=timestamps.index, dtype=object)
    if pd.api.types.is_datetime64_any_dtype(timestamps.dtype):
        times = timestamps
    else:
        times = pd.to_datetime(timestamps, errors="coerce", format="mixed")
    if times.notna().sum() == 0 and len(times):
        raise DataError("timestamps could not be parsed: no period can be cut", column=str(timestamps.name))
    code = str(every).upper()
    if code == "D":
        labels = times.dt.strftime("%Y-%m-%d")
    elif code == "W":
        labels = times.dt.to_period("W-SUN").dt.start_time.dt.strftime("%Y-%m-%d")
    elif code == "M":
        labels = times.dt.strftime("%Y-%m")
    else:
        raise ParameterError(f"period must be 'D', 'W', 'M' or a chunk size, got {every!r}", name="every")
    return labels.astype(object).where(times.notna(), None)


def first_crossing(over_time: pd.DataFrame) -> pd.DataFrame:
    """Per column, the first period at warning or above and the first at incident.

    Columns: ``column``, ``worst`` (severity), ``first_warning`` (first period
    whose severity is warning or incident, or None), ``first_incident``,
    ``periods_flagged`` (number of periods at warning or above), ``trigger``,
    ``value`` and ``threshold`` at the first flagged period. Sorted worst first,
    then earliest.
    """
    records = []
    if over_time.empty:
        return pd.DataFrame(
            columns=[
                "column",
                "worst",
                "first_warning",
                "first_incident",
                "periods_flagged",
                "trigger",
                "value",
                "threshold",
            ]
        )
    ordered = over_time.sort_values("period_index", kind="stable")
    for name, group in ordered.groupby("column", sort=False):
        rank = group["severity"].map(_SEVERITY_RANK)
        flagged = group[rank >= 1]
        incidents = group[rank >= 2]
        first = flagged.iloc[0] if len(flagged) else None
        records.append(
            {
                "column": name,
                "worst": group["severity"].iloc[int(np.argmax(rank.to_numpy()))] if len(group) else "n/a",
                "first_warning": first["period"] if first is not None else None,
                "first_incident": incidents["period"].iloc[0] if len(incidents) else None,
                "periods_flagged": int(len(flagged)),
                "trigger": first["trigger"] if first is not None else "",
                "value": float(first["value"]) if first is not None else _NAN,
                "threshold": float(first["threshold"]) if first is not None else _NAN,
                "_first_index": int(first["period_index"]) if first is not None else 10**9,
            }
        )
    table = pd.DataFrame(records)
    for name in ("first_warning", "first_incident"):
        # keep None (not NaN) for "never": these are labels, not numbers
        table[name] = pd.Series([r[name] for r in records], index=table.index, dtype=object)
    table["_rank"] = table["worst"].map(_SEVERITY_RANK)
    table = table.sort_values(["_rank", "_first_index"], ascending=[False, True], kind="stable")
    return table.drop(columns=["_rank", "_first_index"]).reset_index(drop=True)
