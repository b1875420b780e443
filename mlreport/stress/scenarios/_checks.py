"""Checks shared by the scenario file's parsers, and what counts as a numeric column.

A file value must be a finite number (not a boolean), a scalar or a share in
[0, 1], and a table may hold only its known keys. :func:`is_numeric` decides
which data columns the numeric shocks apply to.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ...errors import ScenarioError

__all__ = ["is_numeric"]


def is_numeric(series: pd.Series) -> bool:
    """Numeric for shocking purposes: a numeric dtype that is not boolean."""
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _check_keys(
    spec: Mapping[str, Any], required: Sequence[str], optional: Sequence[str], context: str
) -> None:
    unknown = [k for k in spec if k not in required and k not in optional]
    if unknown:
        raise ScenarioError(
            f"{context}: unknown key {unknown[0]!r}; expected "
            f"{', '.join(list(required) + list(optional))}"
        )
    missing = [k for k in required if k not in spec]
    if missing:
        raise ScenarioError(f"{context}: missing required key {missing[0]!r}")


def _share(value: Any, context: str, key: str = "share") -> float:
    if not _number(value) or not 0 <= value <= 1:
        raise ScenarioError(f"{context}: {key} must be a number between 0 and 1, got {value!r}")
    return float(value)
