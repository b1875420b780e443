"""The reference distribution the shocks draw on, fitted once per column.

Quantile shifts need its quantiles and ranks, noise its standard deviation,
``set_value`` its mean, median or last value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ...errors import ScenarioError
from ._checks import is_numeric

__all__ = ["ColumnReference", "Reference"]

# Reference quantile table: type-7 quantiles at 0%, 0.01%, ..., 100%.
_QUANTILE_GRID = np.linspace(0.0, 1.0, 10_001)


@dataclass(frozen=True)
class ColumnReference:
    """What the shocks need to know about one column's reference distribution.

    Numeric columns keep a table of type-7 (linear) quantiles at 10,001 equally
    spaced probabilities: ``quantile(p)`` interpolates it linearly. ``rank(x)``
    is its inverse, with tied values sharing the middle of their probability
    interval (midrank), interpolated linearly between distinct values and
    clamped at the ends. On a reference of distinct values whose size n has
    (n - 1) dividing 10,000, these are exactly the linearly interpolated ECDF
    and its inverse.

    Numeric statistics are fitted on the finite values only: ±inf (a division
    by zero upstream) would make every interpolation next to it inf - inf.
    ``nonfinite`` counts the ±inf values left out.
    """

    numeric: bool
    mean: float = math.nan
    median: float = math.nan
    std: float = math.nan
    last: Any = None
    quantiles: np.ndarray | None = None
    rank_values: np.ndarray | None = None
    rank_probabilities: np.ndarray | None = None
    categories: tuple[str, ...] = ()
    nonfinite: int = 0

    @classmethod
    def fit(cls, series: pd.Series) -> ColumnReference:
        present = series.dropna()
        if not is_numeric(series):
            last = present.iloc[-1] if len(present) else None
            return cls(numeric=False, last=last, categories=tuple(sorted(map(str, present.unique()))))
        values = present.to_numpy(dtype="float64")
        finite = np.isfinite(values)
        nonfinite = int(values.size - np.count_nonzero(finite))
        values = np.sort(values[finite]) if nonfinite else np.sort(values)
        if not len(values):
            return cls(numeric=True, nonfinite=nonfinite)
        quantiles = _type7(values, _QUANTILE_GRID)
        distinct, first = np.unique(quantiles, return_index=True)
        last_index = np.append(first[1:] - 1, len(quantiles) - 1)
        middle = (_QUANTILE_GRID[first] + _QUANTILE_GRID[last_index]) / 2
        return cls(
            numeric=True,
            mean=float(values.mean()),
            median=float(np.median(values)),
            std=float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            last=float(present.iloc[-1]),
            quantiles=quantiles,
            rank_values=distinct,
            rank_probabilities=middle,
            nonfinite=nonfinite,
        )

    def rank(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Reference probability rank of each value, in [0, 1]."""
        if self.rank_values is None or self.rank_probabilities is None:
            raise ScenarioError("no finite reference values to rank against")
        return np.interp(values, self.rank_values, self.rank_probabilities)

    def quantile(self, probabilities: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Reference quantile function (linear interpolation of the table)."""
        if self.quantiles is None:
            raise ScenarioError("no finite reference values to take quantiles of")
        return np.interp(probabilities, _QUANTILE_GRID, self.quantiles)


def _type7(sorted_values: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Type-7 quantiles (numpy's default 'linear') of already sorted values."""
    position = probabilities * (len(sorted_values) - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + fraction * (sorted_values[high] - sorted_values[low])


class Reference:
    """Per-column reference statistics, fitted once and reused by every shock."""

    def __init__(self, columns: Mapping[str, ColumnReference]) -> None:
        self.columns = dict(columns)

    @classmethod
    def fit(cls, frame: pd.DataFrame, columns: Sequence[str] | None = None) -> Reference:
        """Fit on ``frame`` (rows in time order, for "stale" values)."""
        names = list(columns) if columns is not None else list(frame.columns)
        return cls({name: ColumnReference.fit(frame[name]) for name in names})

    def extended(self, frame: pd.DataFrame, columns: Sequence[str]) -> Reference:
        """This reference plus statistics for ``columns`` not fitted yet."""
        missing = [c for c in dict.fromkeys(columns) if c not in self.columns]
        if not missing:
            return self
        return Reference({**self.columns, **Reference.fit(frame, missing).columns})

    def __getitem__(self, column: str) -> ColumnReference:
        if column not in self.columns:
            raise ScenarioError(f"column {column!r} has no reference statistics (not fitted)")
        return self.columns[column]
