"""Period labels that sort in time: how a batch is cut into the periods it is summarised by."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, ParameterError

__all__ = ["period_labels"]


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
