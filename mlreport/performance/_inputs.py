"""Reading the labels, scores and timestamps that performance is computed from.

- **Labels.** The target is binary: 1 = bad (the event: default, fraud), 0 = good.
  Missing labels (``NaN``/``<NA>``) mean "not known yet" and are excluded and
  counted, never read as goods. Scores increase with risk (a probability of
  default, a fraud score), so a useful model has AUC above 0.5.
- **Scores.** Rows with a missing or infinite score are excluded and counted.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, ParameterError

__all__: list[str] = []


def _require(frame: pd.DataFrame, column: str, what: str) -> None:
    if column not in frame.columns:
        raise DataError(
            f"{what} column {column!r} not found; columns are {', '.join(map(str, frame.columns))}",
            column=column,
        )


def _label_array(series: pd.Series) -> np.ndarray:
    """Labels as float (1.0 bad, 0.0 good, NaN unknown); anything else is an error."""
    if series.dtype == object:
        # Object columns (read from CSV or JSON) may still hold 0/1 and None.
        with contextlib.suppress(TypeError, ValueError):
            series = pd.to_numeric(series)
    if not (
        pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)
    ):
        raise DataError(
            f"target column {series.name!r} has dtype {series.dtype}; expected 0/1 labels "
            "(1 = bad) with missing values for labels not yet known",
            column=str(series.name),
        )
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    known = values[~np.isnan(values)]
    bad = known[(known != 0.0) & (known != 1.0)]
    if bad.size:
        raise DataError(
            f"target column {series.name!r} holds values other than 0 and 1 "
            f"(for example {bad[0]!r}); expected 0/1 labels with 1 = bad",
            column=str(series.name),
        )
    return values


def _score_array(series: pd.Series) -> np.ndarray:
    """Scores as float with NaN for missing and infinite values."""
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(
        series.dtype
    ):
        raise DataError(
            f"score column {series.name!r} has dtype {series.dtype}; expected numbers",
            column=str(series.name),
        )
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _as_timedelta(value: Any, name: str) -> pd.Timedelta:
    """A delay given as a Timedelta, a string ("30D") or a number of days."""
    try:
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            delay = pd.Timedelta(days=float(value))
        else:
            delay = pd.Timedelta(value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{name}={value!r} is not a duration; expected days as a number, "
            "a string such as '30D' or a pandas Timedelta",
            name=name,
        ) from None
    if pd.isna(delay) or delay < pd.Timedelta(0):
        raise ParameterError(f"{name}={value!r} must be a non-negative duration", name=name)
    return delay


def _timestamps(frame: pd.DataFrame, column: str) -> pd.Series:
    _require(frame, column, "timestamp")
    series = frame[column]
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        raise DataError(
            f"timestamp column {column!r} has dtype {series.dtype}; expected datetimes "
            "(parse it when loading the data)",
            column=column,
        )
    return series
