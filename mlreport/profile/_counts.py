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


Factorized = tuple[npt.NDArray[np.intp], npt.NDArray[np.object_] | pd.Index]
"""A column's codes per row (-1 missing) and the labels they index, as :func:`_factorize` gives them."""

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


_Rows = npt.NDArray[np.bool_] | npt.NDArray[np.intp]
"""Rows of a block: a boolean mask, or the positions of its True values when they are few."""

_SPARSE_SHARE = 8
"""A mask holding fewer than 1/_SPARSE_SHARE True values is kept as their positions."""


def _rows_of(mask: npt.NDArray[np.bool_]) -> _Rows:
    """``mask``, or its True positions when few: ``groups[rows]`` is then the same values, in the same order.

    A mask is computed once per column and counted once per grouping; indexing by a
    few positions costs a fraction of scanning the mask again for every grouping
    (missing values, infinities, out-of-range values and sentinels are usually rare).
    """
    selected = int(np.count_nonzero(mask))
    if selected * _SPARSE_SHARE < mask.size:
        return np.flatnonzero(mask)
    return mask


class _Counter:
    """Per-group counts of row selections and bin indices (bincount, no Python loop)."""

    def __init__(self, groups: npt.NDArray[np.int64] | None, n_groups: int) -> None:
        self.groups = groups
        self.n_groups = n_groups
        self._rows: npt.NDArray[np.int64] | None = None

    def subset(self, rows: _Rows) -> _Counter:
        return _Counter(None if self.groups is None else self.groups[rows], self.n_groups)

    def count(self, rows: _Rows) -> npt.NDArray[np.int64]:
        if self.groups is None:
            selected = np.count_nonzero(rows) if rows.dtype == np.bool_ else rows.size
            return np.array([selected], dtype=np.int64)
        return np.bincount(self.groups[rows], minlength=self.n_groups).astype(np.int64, copy=False)

    def rows(self, size: int) -> npt.NDArray[np.int64]:
        if self.groups is None:
            return np.array([size], dtype=np.int64)
        if self._rows is None:  # the same for every column of the block: counted once
            self._rows = np.bincount(self.groups, minlength=self.n_groups).astype(np.int64, copy=False)
        return self._rows

    def _flat(self, index: npt.NDArray[np.integer], n_bins: int) -> npt.NDArray[np.integer]:
        return index if self.groups is None else self.groups * n_bins + index

    def binned(self, index: npt.NDArray[np.integer], n_bins: int) -> npt.NDArray[np.int64]:
        """Counts per group and bin, shape (groups, bins)."""
        counts = np.bincount(self._flat(index, n_bins), minlength=self.n_groups * n_bins)
        return counts.astype(np.int64, copy=False).reshape(self.n_groups, n_bins)

    def binned_with_sums(
        self, index: npt.NDArray[np.integer], n_bins: int, weights: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """:meth:`binned`, and the sums of ``weights`` per group and bin: each row's (group, bin) slot computed
        once for both. Shapes (groups, bins)."""
        flat = self._flat(index, n_bins)
        size = self.n_groups * n_bins
        counts = np.bincount(flat, minlength=size).astype(np.int64, copy=False).reshape(self.n_groups, n_bins)
        # bincount with weights sums in float64 (numpy's stubs say intp): no copy is made here.
        sums = np.asarray(np.bincount(flat, weights=weights, minlength=size), dtype=np.float64)
        return counts, sums.reshape(self.n_groups, n_bins)


class _NumberValues:
    """The per-row work every column of numbers gets, whatever its kind and grouping (masks of the rows)."""

    def __init__(self, column: ColumnProfile, series: pd.Series, sentinels: Sequence[float]) -> None:
        numbers, invalid_mask = _float_values(series)
        # Each selection of rows is kept as a mask or, when it holds few rows, as their positions (_rows_of):
        # the same counts, for less work in each grouping that counts them.
        self.invalid_mask = _rows_of(invalid_mask) if invalid_mask is not None else None
        self.nan_mask = _rows_of(np.isnan(numbers))
        self.inf_mask = _rows_of(np.isinf(numbers))
        finite_mask = np.isfinite(numbers)
        self.all_finite = bool(finite_mask.all())
        self.finite = numbers if self.all_finite else numbers[finite_mask]
        self.finite_mask = _rows_of(finite_mask)
        finite = self.finite
        self.below_mask = _rows_of(finite < column.min) if column.min is not None else None
        self.above_mask = _rows_of(finite > column.max) if column.max is not None else None
        # Counted only where the profile keeps sentinel counts (they are dropped otherwise).
        self.sentinel_masks = [_rows_of(finite == s) for s in sentinels] if column.sentinel_counts else []
        modal = column.modal_value
        is_number = isinstance(modal, (int, float)) and not isinstance(modal, bool)
        self.modal_mask = _rows_of(finite == modal) if is_number else None


class _NumberCounts:
    """The counts every column of numbers gets, whatever its kind, in one grouping."""

    def __init__(self, values: _NumberValues, counter: _Counter) -> None:
        zeros = np.zeros(counter.n_groups, dtype=np.int64)
        self.invalid = counter.count(values.invalid_mask) if values.invalid_mask is not None else zeros
        self.invalid_mask = values.invalid_mask
        self.finite = values.finite
        self.finite_counter = counter if values.all_finite else counter.subset(values.finite_mask)
        self.missing = counter.count(values.nan_mask) - self.invalid
        self.nonfinite = counter.count(values.inf_mask)
        count = self.finite_counter.count
        self.below = count(values.below_mask) if values.below_mask is not None else zeros
        self.above = count(values.above_mask) if values.above_mask is not None else zeros
        self.sentinels = (
            np.stack([count(mask) for mask in values.sentinel_masks], axis=1)
            if values.sentinel_masks
            else np.zeros((counter.n_groups, len(values.sentinel_masks)), dtype=np.int64)
        )
        self.modal = count(values.modal_mask) if values.modal_mask is not None else zeros


class _Encoded:
    """One column of a batch encoded once on the profile's bins: what any grouping of its rows is counted from.

    Numbers: the masks of :class:`_NumberValues` and, for a numeric column,
    each finite value's fine bin; categories: each kept row's category index
    (``len(categories)`` for other). Counting a grouping is then only
    ``bincount`` over these arrays (:func:`_count_encoded`), so several
    groupings of the same rows (the whole batch, its periods, each segment
    column) share the per-row work.
    """

    def __init__(
        self, column: ColumnProfile, series: pd.Series, sentinels: Sequence[float], factorized: Factorized | None = None
    ) -> None:
        self.column = column
        self.size = len(series)
        self.numbers = (
            _NumberValues(column, series, sentinels) if column.numeric_values or column.kind == "numeric" else None
        )
        self.index: npt.NDArray[np.intp] | None = None
        self.present: npt.NDArray[np.bool_] | None = None
        self.absent: _Rows | None = None
        self.codes: npt.NDArray[np.intp] | None = None
        if column.kind == "numeric":
            assert self.numbers is not None
            self.index = bin_index(column.fine_edges, self.numbers.finite)
            return
        uniques: npt.NDArray[np.float64] | npt.NDArray[np.object_] | pd.Index
        if self.numbers is not None:
            # Numbers treated as categories: finite values, labelled canonically;
            # values that are not numbers at all are new categories.
            codes, uniques = pd.factorize(self.numbers.finite)
        else:
            # The rows' codes and the labels they index, when the caller factorized the column already (a
            # grouping key of the same pass): any labels in any order give the same categories.
            codes, uniques = factorized if factorized is not None else _factorize(series)
            present = codes >= 0
            if not present.all():
                self.present = present
                self.absent = _rows_of(~present)
                codes = codes[present]
        other = len(column.categories)
        lookup = pd.Index(list(column.categories), dtype=object).get_indexer(pd.Index(categorical_labels(uniques)))
        lookup = np.where(lookup < 0, other, lookup)
        self.codes = lookup[codes] if codes.size else codes


def _count_encoded(encoded: _Encoded, counter: _Counter) -> list[ColumnSummary]:
    """Summaries of one encoded column per group of ``counter``."""
    column = encoded.column
    n_groups = counter.n_groups
    rows = counter.rows(encoded.size)
    zeros = np.zeros(n_groups, dtype=np.int64)
    fine_counts = np.zeros((n_groups, 0), dtype=np.int64)
    fine_sums = np.zeros((n_groups, 0), dtype=float)
    number_counts = _NumberCounts(encoded.numbers, counter) if encoded.numbers is not None else None
    invalid = number_counts.invalid if number_counts is not None else zeros
    nonfinite = number_counts.nonfinite if number_counts is not None else zeros

    if column.kind == "numeric":
        assert number_counts is not None and encoded.index is not None
        finite, finite_counter = number_counts.finite, number_counts.finite_counter
        missing = number_counts.missing
        n_fine = column.fine_edges.size + 1
        index = encoded.index
        fine_counts, fine_sums = finite_counter.binned_with_sums(index, n_fine, weights=finite)
        # PSI bins are unions of fine bins: aggregate instead of a second search.
        counts = np.zeros((n_groups, column.psi_edges.size + 1), dtype=np.int64)
        # On the transposed views each fine bin's row of group counts adds to its PSI bin's row.
        np.add.at(counts.T, column.psi_bin_of_fine(), fine_counts.T)
        modal = number_counts.modal
    else:
        assert encoded.codes is not None
        if number_counts is not None:
            missing = number_counts.missing
            kept_counter = number_counts.finite_counter
        elif encoded.present is not None:
            assert encoded.absent is not None
            missing = counter.count(encoded.absent)
            kept_counter = counter.subset(encoded.present)
        else:
            missing = zeros
            kept_counter = counter
        other = len(column.categories)
        counts = kept_counter.binned(encoded.codes, other + 1)
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
