"""A column's finite values, sorted once: quantiles, counts of a value, runs, moments and bins.

Fitting sorts each numeric column once; the reference quantiles, the mode's
candidates, the distinct values, the mean and standard deviation and the
reference's bin counts all come from that sorted array.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__: list[str] = []


def _sorted_quantiles(ordered: npt.NDArray[np.float64], count: int) -> npt.NDArray[np.float64]:
    """Inverted-CDF quantiles at ``k / count`` (``k = 1..count-1``) of sorted values.

    The smallest value ``x`` with ``F(x) >= k / count``: ``ordered[ceil(k n / count) - 1]``,
    in integer arithmetic (equal to ``numpy.quantile(method="inverted_cdf")``).
    """
    n = ordered.size
    if count < 2 or n == 0:
        return np.empty(0)
    k = np.arange(1, count, dtype=np.int64)
    return ordered[(k * n + count - 1) // count - 1]


class _SortedNumbers:
    """The finite values of a column, sorted once (a SIMD sort beats repeated selection)."""

    def __init__(self, finite: npt.NDArray[np.float64]) -> None:
        finite.sort()  # ``finite`` is a fresh copy made by boolean indexing
        self.sorted = finite

    @property
    def size(self) -> int:
        return int(self.sorted.size)

    def count_equal(self, value: float) -> int:
        return int(
            np.searchsorted(self.sorted, value, side="right")
            - np.searchsorted(self.sorted, value, side="left")
        )

    def runs(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Distinct values and their counts."""
        if not self.size:
            return np.empty(0), np.zeros(0, dtype=np.int64)
        starts = np.concatenate([[0], np.flatnonzero(self.sorted[1:] != self.sorted[:-1]) + 1])
        return self.sorted[starts], np.diff(np.append(starts, self.size))

    def distinct_values(self, at_most: int) -> npt.NDArray[np.float64] | None:
        """The distinct values if there are at most ``at_most``, else None (cheaply)."""
        if not self.size:
            return np.empty(0)
        # Distinct quantiles are distinct values: too many of them settles it without a pass.
        if np.unique(_sorted_quantiles(self.sorted, 4 * at_most + 4)).size > at_most:
            return None
        if np.count_nonzero(self.sorted[1:] != self.sorted[:-1]) + 1 > at_most:
            return None
        return self.runs()[0]

    def moments(self) -> tuple[float | None, float | None]:
        """Mean and standard deviation (ddof 1), without overflow; None when undefined.

        Values are scaled by a power of two that brings the largest magnitude
        into [0.5, 1) before summing, and the results scaled back. A power of
        two scales exactly, so ordinary data gets numpy's ``mean()`` and
        ``std(ddof=1)`` to the last bit, while a sentinel such as the float
        maximum (1.8e308, "no value" in some feeds) no longer overflows the sum
        or the squares: the mean of finite values is always finite. Only a
        spread beyond the float range (values near both -1.8e308 and +1.8e308)
        gives an infinite std.
        """
        if not self.size:
            return None, None
        largest = max(abs(float(self.sorted[0])), abs(float(self.sorted[-1])))
        if largest == 0.0:
            return 0.0, (0.0 if self.size > 1 else None)
        exponent = math.frexp(largest)[1]
        scaled = np.ldexp(self.sorted, -exponent)
        scaled_mean = scaled.mean()
        mean = math.ldexp(float(scaled_mean), exponent)  # |mean| <= largest: finite
        if self.size < 2:
            return mean, None
        deviations = scaled - scaled_mean
        scaled_std = math.sqrt(float(np.dot(deviations, deviations)) / (self.size - 1))
        try:
            std = math.ldexp(scaled_std, exponent)
        except OverflowError:
            std = math.inf
        return mean, std

    def binned(self, edges: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Counts and sums over right-closed bins ``(e_{j-1}, e_j]`` with open outer bins."""
        n = self.size
        bounds = np.concatenate([[0], np.searchsorted(self.sorted, edges, side="right"), [n]])
        counts = np.diff(bounds).astype(np.int64)
        sums = np.zeros(counts.size)
        filled = counts > 0
        if filled.any():
            # A bin of sentinels at the float maximum sums to inf, as bincount's weighted sums do.
            with np.errstate(over="ignore"):
                sums[filled] = np.add.reduceat(self.sorted, bounds[:-1][filled])
        return counts, sums
