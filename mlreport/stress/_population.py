"""The population a stress test scores: its checks, segments and seeded samples.

The label column must hold 0/1 values; infinite feature values are counted
for the report; :func:`default_segments` picks the columns to break readouts
down by.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import DataError
from .scenarios import is_numeric

__all__ = ["default_segments"]


def default_segments(
    frame: pd.DataFrame,
    *,
    exclude: Sequence[str] = (),
    decision_labels: Sequence[str] = (),
    max_values: int = 20,
) -> tuple[str, ...]:
    """Segment candidates: non-numeric columns with 2 to ``max_values`` values.

    Left out: columns whose values are all distinct (identifiers), and columns
    whose values are all decision labels (past decisions: an outcome, not a
    segment).
    """
    chosen = []
    labels = set(map(str, decision_labels))
    for column in frame.columns:
        if column in exclude or is_numeric(frame[column]):
            continue
        if pd.api.types.is_datetime64_any_dtype(frame[column].dtype):
            continue
        present = frame[column].dropna()
        values = present.unique()
        if not 2 <= len(values) <= max_values or len(values) == len(present):
            continue
        if labels and set(map(str, values)) <= labels:
            continue
        chosen.append(str(column))
    return tuple(chosen)


def _rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(key.encode("utf-8"))])


def _label_array(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A 0/1 label column as float with NaN for missing; DataError otherwise."""
    if column not in frame.columns:
        raise DataError(f"label column {column!r} is not in the data", column=column)
    series = frame[column]
    try:
        values = pd.to_numeric(series, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise DataError(f"label column {column!r} must hold 0/1 values", column=column) from None
    present = values[~np.isnan(values)]
    if not np.isin(present, (0.0, 1.0)).all():
        raise DataError(f"label column {column!r} must hold 0/1 values (or be missing)", column=column)
    return values


def _nonfinite_counts(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Numeric columns holding ±inf: column -> (+inf rows, -inf rows)."""
    counts: dict[str, tuple[int, int]] = {}
    for column in columns:
        series = frame[column]
        if not is_numeric(series):
            continue
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        positive, negative = int(np.count_nonzero(values == np.inf)), int(np.count_nonzero(values == -np.inf))
        if positive or negative:
            counts[column] = (positive, negative)
    return counts


def _infinities(positive: int, negative: int) -> str:
    return " and ".join(text for count, text in ((positive, f"{positive:,} +inf"), (negative, f"{negative:,} -inf"))
                        if count)
