"""The first period each column crossed a band (periods are labelled by :func:`mlreport.profile.period_labels`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._metrics import _NAN
from ._thresholds import _SEVERITY_RANK

__all__ = ["first_crossing"]


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
                "periods_flagged": len(flagged),
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
