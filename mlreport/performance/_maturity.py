"""Label delay: the rows whose label has had time to arrive, and what was left out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._inputs import _as_timedelta, _label_array, _require, _timestamps

__all__ = ["MaturedResult", "matured"]


@dataclass(frozen=True)
class MaturedResult:
    """Rows whose label has had time to arrive, and what was left out.

    ``n_immature`` counts every excluded row: ``n_too_recent`` (timestamp after
    ``cutoff`` = ``as_of − label_delay``, or no timestamp, when a delay is given)
    plus ``n_missing_label`` (old enough, but still no label).
    """

    frame: pd.DataFrame
    n_rows: int
    n_matured: int
    n_immature: int
    n_too_recent: int
    n_missing_label: int
    as_of: pd.Timestamp | None
    cutoff: pd.Timestamp | None
    method: str


def matured(
    frame: pd.DataFrame,
    *,
    timestamp: str,
    target: str,
    as_of: Any = None,
    label_delay: Any = None,
) -> MaturedResult:
    """Keep the rows whose label has had time to arrive.

    A row is matured when its label is present and, when ``label_delay`` is
    given, its timestamp is at or before ``as_of − label_delay`` (``as_of``
    defaults to the latest timestamp in ``frame``, the end of the data).
    ``label_delay`` is a Timedelta, a string such as ``"30D"`` or a number of
    days. Rows without a timestamp cannot be shown to be old enough and count
    as too recent when a delay is given.
    """
    _require(frame, target, "target")
    labels = _label_array(frame[target])
    has_label = ~np.isnan(labels)
    cutoff: pd.Timestamp | None = None
    stamp: pd.Timestamp | None = None
    if label_delay is not None:
        delay = _as_timedelta(label_delay, "label_delay")
        times = _timestamps(frame, timestamp)
        stamp = pd.Timestamp(as_of) if as_of is not None else times.max()
        zone = getattr(times.dtype, "tz", None)
        if not pd.isna(stamp) and zone is not None and stamp.tzinfo is None:
            stamp = stamp.tz_localize(zone)  # a naive as_of is read in the data's zone
        elif not pd.isna(stamp) and zone is None and stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)  # naive data are read as UTC
        if pd.isna(stamp):
            old_enough = np.zeros(len(frame), dtype=bool)
        else:
            cutoff = stamp - delay
            old_enough = (times <= cutoff).to_numpy(dtype=bool, na_value=False)
        method = (
            f"matured: label present and {timestamp} <= as_of − label_delay "
            f"({stamp} − {delay})"
        )
    else:
        old_enough = np.ones(len(frame), dtype=bool)
        if as_of is not None:
            stamp = pd.Timestamp(as_of)
        method = "matured: label present (no label delay given)"
    keep = has_label & old_enough
    n_rows = len(frame)
    n_matured = int(keep.sum())
    n_too_recent = int((~old_enough).sum())
    return MaturedResult(
        frame=frame.loc[keep],
        n_rows=n_rows,
        n_matured=n_matured,
        n_immature=n_rows - n_matured,
        n_too_recent=n_too_recent,
        n_missing_label=int((old_enough & ~has_label).sum()),
        as_of=stamp,
        cutoff=cutoff,
        method=method,
    )
