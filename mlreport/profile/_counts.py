"""Counting a batch on the profile's bins, vectorised over rows and groups.

One pass per column, no per-row Python: :func:`bin_index` finds each value's
bin, ``bincount`` counts per group and bin. Large frames are counted block by
block (``_BLOCK_ROWS``) and the blocks added.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._column import ColumnProfile
from ._summaries import ColumnSummary
from ._values import _float_values, categorical_labels

__all__ = ["bin_index"]


def _factorize(series: pd.Series) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_] | pd.Index]:
    """``pd.factorize(series, use_na_sentinel=True)`` with uniques in any order; Arrow strings faster.

    For Arrow-backed strings (what Parquet reads as ``str``) Arrow's own
    dictionary encoding on the unchanged buffers is about twice as fast as
    pandas' path through it; codes of missing values are -1 as pandas gives.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        encoded = pc.dictionary_encode(pa.chunked_array(pa.array(series.array)).combine_chunks())
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
        return codes, encoded.dictionary.to_numpy(zero_copy_only=False)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, uniques


_GRID_CELLS = 1 << 16
_GRID_MIN_VALUES = 20_000
_BLOCK_ROWS = 1 << 20
"""Rows counted at a time: temporaries stay small and are reused, not page-faulted."""


def bin_index(edges: npt.ArrayLike, values: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """``np.searchsorted(edges, values, side="left")`` for finite values, faster.

    The bin of ``x`` is the number of edges strictly below it, i.e. ``x`` falls
    in ``(e_{j-1}, e_j]``. On large arrays a lookup table over a uniform grid of
    65,536 cells between the first and last edge answers most values with one
    multiplication and two gathers: for each cell, widened by one cell on both
    sides so that floating-point rounding of the cell number cannot matter, the
    table holds the number of edges below it and, when exactly one edge lies
    inside, that edge (``x`` adds one if it is above it). Values in cells with
    two or more edges fall back to the binary search. Identical to
    ``searchsorted`` (tested), about twice as fast on continuous and discrete data.
    """
    edges = np.asarray(edges, dtype=float)
    if values.size < _GRID_MIN_VALUES or edges.size < 4:
        return np.searchsorted(edges, values, side="left")
    low, high = float(edges[0]), float(edges[-1])
    cells = _GRID_CELLS
    width = (high - low) / cells
    if not (width > 0 and np.isfinite(width)) or width < 1e-9 * max(abs(low), abs(high)):
        return np.searchsorted(edges, values, side="left")
    # Table slots: 0 for x < low (bin 0); 1 + c for cell c = 0..cells, covering
    # [low + c w, low + (c + 1) w); cells + 2 for x >= low + (cells + 1) w, which
    # is above the last edge by about a cell (bin = number of edges).
    grid = np.arange(cells + 1, dtype=float)
    below = np.searchsorted(edges, low + (grid - 1.0) * width, side="left")
    upto = np.searchsorted(edges, low + (grid + 2.0) * width, side="right")
    inside = upto - below
    base = np.empty(cells + 3, dtype=np.int64)
    base[0] = 0
    base[1:-1] = np.where(inside <= 1, below, -1)
    base[-1] = edges.size
    threshold = np.full(cells + 3, np.inf)
    single = np.flatnonzero(inside == 1)
    threshold[1 + single] = edges[below[single]]

    position = values - low
    position *= 1.0 / width
    np.floor(position, out=position)
    np.clip(position, -1.0, float(cells + 1), out=position)
    cell = position.astype(np.int64)
    cell += 1
    index = base[cell]
    unresolved = np.flatnonzero(index < 0)
    index += values > threshold[cell]  # unresolved cells have an infinite threshold
    if unresolved.size:
        index[unresolved] = np.searchsorted(edges, values[unresolved], side="left")
    return index


class _Counter:
    """Per-group counts of boolean masks and bin indices (bincount, no Python loop)."""

    def __init__(self, groups: npt.NDArray[np.int64] | None, n_groups: int) -> None:
        self.groups = groups
        self.n_groups = n_groups

    def subset(self, mask: npt.NDArray[np.bool_]) -> _Counter:
        return _Counter(None if self.groups is None else self.groups[mask], self.n_groups)

    def count(self, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        if self.groups is None:
            return np.array([np.count_nonzero(mask)], dtype=np.int64)
        return np.bincount(self.groups[mask], minlength=self.n_groups).astype(np.int64)

    def rows(self, size: int) -> npt.NDArray[np.int64]:
        if self.groups is None:
            return np.array([size], dtype=np.int64)
        return np.bincount(self.groups, minlength=self.n_groups).astype(np.int64)

    def _flat(self, index: npt.NDArray[np.integer], n_bins: int) -> npt.NDArray[np.integer]:
        return index if self.groups is None else self.groups * n_bins + index

    def binned(self, index: npt.NDArray[np.integer], n_bins: int) -> npt.NDArray[np.int64]:
        """Counts per group and bin, shape (groups, bins)."""
        counts = np.bincount(self._flat(index, n_bins), minlength=self.n_groups * n_bins)
        return counts.astype(np.int64).reshape(self.n_groups, n_bins)

    def binned_sums(
        self, index: npt.NDArray[np.integer], n_bins: int, weights: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """Sums of ``weights`` per group and bin, shape (groups, bins)."""
        sums = np.bincount(self._flat(index, n_bins), weights=weights, minlength=self.n_groups * n_bins)
        # bincount with weights sums in float64 (numpy's stubs say intp): no copy is made here.
        return np.asarray(sums, dtype=np.float64).reshape(self.n_groups, n_bins)


class _NumberCounts:
    """The counts every column of numbers gets, whatever its kind."""

    def __init__(
        self,
        column: ColumnProfile,
        series: pd.Series,
        counter: _Counter,
        sentinels: Sequence[float],
    ) -> None:
        numbers, invalid_mask = _float_values(series)
        zeros = np.zeros(counter.n_groups, dtype=np.int64)
        self.invalid = counter.count(invalid_mask) if invalid_mask is not None else zeros
        self.invalid_mask = invalid_mask
        self.finite_mask = np.isfinite(numbers)
        self.finite = numbers[self.finite_mask]
        self.finite_counter = counter.subset(self.finite_mask)
        self.missing = counter.count(np.isnan(numbers)) - self.invalid
        self.nonfinite = counter.count(np.isinf(numbers))
        count = self.finite_counter.count
        self.below = count(self.finite < column.min) if column.min is not None else zeros
        self.above = count(self.finite > column.max) if column.max is not None else zeros
        self.sentinels = (
            np.stack([count(self.finite == s) for s in sentinels], axis=1)
            if sentinels
            else np.zeros((counter.n_groups, 0), dtype=np.int64)
        )
        modal = column.modal_value
        is_number = isinstance(modal, (int, float)) and not isinstance(modal, bool)
        self.modal = count(self.finite == modal) if is_number else zeros


def _column_summaries(
    column: ColumnProfile,
    series: pd.Series,
    counter: _Counter,
    sentinels: Sequence[float],
) -> list[ColumnSummary]:
    """Summaries of one column per group (a vectorised pass, no per-row Python)."""
    n_groups = counter.n_groups
    rows = counter.rows(len(series))
    zeros = np.zeros(n_groups, dtype=np.int64)
    fine_counts = np.zeros((n_groups, 0), dtype=np.int64)
    fine_sums = np.zeros((n_groups, 0), dtype=float)
    number_counts = (
        _NumberCounts(column, series, counter, sentinels)
        if column.numeric_values or column.kind == "numeric"
        else None
    )
    invalid = number_counts.invalid if number_counts is not None else zeros
    nonfinite = number_counts.nonfinite if number_counts is not None else zeros

    if column.kind == "numeric":
        assert number_counts is not None
        finite, finite_counter = number_counts.finite, number_counts.finite_counter
        missing = number_counts.missing
        n_fine = column.fine_edges.size + 1
        index = bin_index(column.fine_edges, finite)
        fine_counts = finite_counter.binned(index, n_fine)
        fine_sums = finite_counter.binned_sums(index, n_fine, weights=finite)
        # PSI bins are unions of fine bins: aggregate instead of a second search.
        counts = np.zeros((n_groups, column.psi_edges.size + 1), dtype=np.int64)
        # On the transposed views each fine bin's row of group counts adds to its PSI bin's row.
        np.add.at(counts.T, column.psi_bin_of_fine(), fine_counts.T)
        modal = number_counts.modal
    else:
        uniques: npt.NDArray[np.float64] | npt.NDArray[np.object_] | pd.Index
        if number_counts is not None:
            # Numbers treated as categories: finite values, labelled canonically;
            # values that are not numbers at all are new categories.
            missing = number_counts.missing
            codes, uniques = pd.factorize(number_counts.finite)
            kept_counter = number_counts.finite_counter
        else:
            codes, uniques = _factorize(series)
            present = codes >= 0
            missing = counter.count(~present)
            kept_counter = counter.subset(present)
            codes = codes[present]
        other = len(column.categories)
        lookup = pd.Index(list(column.categories), dtype=object).get_indexer(pd.Index(categorical_labels(uniques)))
        lookup = np.where(lookup < 0, other, lookup)
        counts = kept_counter.binned(lookup[codes] if codes.size else codes, other + 1)
        if number_counts is not None and number_counts.invalid_mask is not None:
            counts[:, other] += invalid
            invalid = zeros
        # The modal category is the first one (categories sorted by reference count).
        modal = counts[:, 0].copy() if column.categories else zeros

    below = number_counts.below if number_counts is not None else zeros
    above = number_counts.above if number_counts is not None else zeros
    sentinel_counts = (
        number_counts.sentinels
        if number_counts is not None and column.sentinel_counts
        else np.zeros((n_groups, len(column.sentinel_counts)), dtype=np.int64)
    )
    return [
        ColumnSummary(
            kind=column.kind,
            n=int(rows[g]),
            missing=int(missing[g]),
            nonfinite=int(nonfinite[g]),
            invalid=int(invalid[g]),
            counts=counts[g].copy(),
            fine_counts=fine_counts[g].copy(),
            fine_sums=fine_sums[g].copy(),
            below_min=int(below[g]),
            above_max=int(above[g]),
            sentinel_counts=sentinel_counts[g].copy(),
            modal_count=int(modal[g]),
        )
        for g in range(n_groups)
    ]
