"""Reading a column's values: numbers with missing and invalid ones told apart, canonical labels.

Values. ``NaN``/``None``/``<NA>`` are *missing*; ``+-inf`` are *non-finite*
and counted apart; a non-missing value that cannot be read as a number in a
numeric column is *invalid* (a column of mixed types). Bin counts are over the
remaining (valid) values only. Categorical labels are strings: numbers that
are integers print without a decimal point (``12``, not ``12.0``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.extensions import ExtensionDtype

__all__ = ["categorical_labels"]


def _is_datetime(dtype: np.dtype | ExtensionDtype) -> bool:
    return pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)


def _is_numeric_dtype(dtype: np.dtype | ExtensionDtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _float_values(series: pd.Series) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_] | None]:
    """A column as float64 with NaN for missing, and the mask of invalid values.

    Numeric dtypes convert directly. Anything else (strings, objects, mixed)
    goes through ``pd.to_numeric(errors="coerce")``; values that were present
    but did not parse are returned as invalid (NaN in the array).
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return series.to_numpy(dtype=float, na_value=np.nan), None
    if isinstance(dtype, np.dtype) and dtype == np.float64:
        return series.to_numpy(), None  # NaN already marks missing: a view, not a copy (read only)
    if _is_numeric_dtype(dtype):
        return np.asarray(series.to_numpy(dtype=float, na_value=np.nan), dtype=float), None
    if _is_datetime(dtype):
        present = series.notna().to_numpy()
        return np.full(len(series), np.nan), present
    coerced = pd.to_numeric(series, errors="coerce")
    values = np.asarray(coerced.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    invalid = np.isnan(values) & series.notna().to_numpy()
    return values, (invalid if invalid.any() else None)


def _label_of(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isfinite(number) and number.is_integer() and abs(number) < 2**63:
            return str(int(number))
        return repr(number)
    return str(value)


def categorical_labels(values: Iterable[object]) -> npt.NDArray[np.object_]:
    """Canonical string labels of category values (``12.0`` -> ``"12"``, ``True`` -> ``"True"``)."""
    if isinstance(values, pd.Index) and pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return np.asarray(values.astype(object), dtype=object)
    return np.asarray([_label_of(v) for v in values], dtype=object)
