"""Hand-built frames and lookups shared by the tests of the integrity modules."""

from __future__ import annotations

import numpy as np
import pandas as pd

INCIDENT_START = "2026-02-19"


def only(findings, check, subject=None):
    """The findings of one check (and subject)."""
    return [f for f in findings if f.check == check and (subject is None or f.subject == subject)]


def row(table: pd.DataFrame, column: str) -> pd.Series:
    return table.set_index("column").loc[column]


def missing_frames(n: int = 1000, ref_null: int = 20, cur_null: int = 100):
    reference = pd.DataFrame({"x": np.where(np.arange(n) < ref_null, np.nan, 1.0)})
    current = pd.DataFrame({"x": np.where(np.arange(n) < cur_null, np.nan, 1.0)})
    return reference, current


def daily_frame(start: str, days: int, per_day, hour: int = 12) -> pd.DataFrame:
    """``per_day[i]`` rows on day i, spread over the day."""
    counts = per_day if isinstance(per_day, list) else [per_day] * days
    stamps = []
    for day, count in enumerate(counts):
        base = pd.Timestamp(start) + pd.Timedelta(days=day)
        offsets = pd.to_timedelta(np.linspace(0, 86_399, count), unit="s")
        stamps += list(base + offsets)
    return pd.DataFrame({"ts": pd.to_datetime(stamps)})
