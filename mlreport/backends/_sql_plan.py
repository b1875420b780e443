"""What a SQL backend must count, and how its counts become the same Summaries.

A backend (DuckDB, Spark) computes, for each profiled column, one small table
of counts grouped by ``(group key, code)``:

* ``code >= 0``: the value's bin: for a numeric column, its bin on the
  :class:`CountEdges` (the fine edges plus one-value bins for the minimum,
  the sentinels and the modal value), i.e. the number of those edges strictly
  below the value (bins are right-closed, as in :func:`mlreport.profile.bin_index`);
  for a categorical column, the category index (``len(categories)`` for
  "other/new");
* ``code = -1`` missing (NULL or NaN), ``-2`` non-finite (+-inf), ``-3`` invalid
  (present but not readable as a number in a column of numbers).

with the aggregates ``n`` (rows) and ``s`` (sum of the values), then, for a
categorical column of numbers only, ``below`` / ``above`` (finite values
outside the reference range) and one count per sentinel, and a last ``modal``
field (numeric columns read all of these from their bins). This module builds
the plan of each column from its :class:`~mlreport.profile.ColumnProfile`
(:func:`plan_column`), the lookup table that turns a bin search into one
multiplication and an equi-join (:class:`GridLookup`), and turns the returned
rows into :class:`~mlreport.profile.ColumnSummary` exactly as
:meth:`ReferenceProfile.summarize` counts them (:func:`column_summaries`).
Counts are integers and equal the pandas path's; ``fine_sums`` are float sums in
another order, equal to about 1e-12 relative.

Fitting a profile from aggregate queries is in :mod:`mlreport.backends`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

from ..errors import ParameterError
from ..profile import ColumnProfile, ColumnSummary, ReferenceProfile, Summaries, categorical_labels

__all__ = [
    "SearchTree",
    "MISSING_CODE",
    "NONFINITE_CODE",
    "INVALID_CODE",
    "GridLookup",
    "CountEdges",
    "ColumnPlan",
    "plan_column",
    "search_tree",
    "column_summaries",
    "assemble",
]

MISSING_CODE = -1
NONFINITE_CODE = -2
INVALID_CODE = -3

SOURCE_KINDS = ("number", "bool", "string", "temporal", "other")
"""How a backend classifies a source column's type before planning it."""


# ---------------------------------------------------------------------------
# bin lookup


@dataclass(frozen=True)
class GridLookup:
    """A uniform grid over a span of the edges that finds a value's bin with one join.

    The grid has ``cells`` cells of width ``w`` over ``[low, high]`` (default:
    the first and last edge). A value's cell is ``(x - low) / w`` rounded to an
    integer (floor or nearest: either is fine) and clipped to ``[-1, cells + 1]``.
    The table row of cell ``c`` covers ``[low + (c - 2) w, low + (c + 3) w)``:
    a cell number one off (rounding to nearest, floating-point error at a cell
    boundary) still lands in a row whose range holds the value, with a cell to
    spare; row ``-1`` covers everything below ``low + 2w`` and row
    ``cells + 1`` everything from ``high - 2w`` up. Each row holds
    ``base``, the number of edges below its range, and ``threshold``, the one
    edge inside it (``+inf`` when none), so ``bin = base + (x > threshold)``:
    the number of edges strictly below ``x`` (right-closed bins). Rows whose
    range holds two or more edges have ``base = -1``: their values go through a
    binary search (:func:`search_tree`). The construction of
    :func:`mlreport.profile.bin_index`, so the same bins (tested).
    """

    low: float
    scale: float
    cells: int
    cell: np.ndarray
    base: np.ndarray
    threshold: np.ndarray

    @property
    def has_fallback(self) -> bool:
        return bool((self.base < 0).any())

    @classmethod
    def from_edges(
        cls, edges: np.ndarray, *, span: tuple[float, float] | None = None, cells: int = 1 << 14
    ) -> GridLookup | None:
        """The lookup for ``edges`` over ``span``, or None when a plain search is as good."""
        edges = np.asarray(edges, dtype=float)
        if span is None:
            if edges.size == 0:
                return None
            span = (float(edges[0]), float(edges[-1]))
        low, high = float(span[0]), float(span[1])
        if np.count_nonzero((edges >= low) & (edges <= high)) < 4:
            return None
        # Grow the grid until few cells hold two edges (heavy tails crowd the body).
        for size in (cells, cells << 2, cells << 4):
            width = (high - low) / size
            if not (width > 0 and np.isfinite(width)) or width < 1e-9 * max(abs(low), abs(high)):
                return None
            slots = np.arange(-1, size + 2, dtype=float)
            start = low + (slots - 2.0) * width
            stop = low + (slots + 3.0) * width
            start[0], stop[-1] = -np.inf, np.inf
            below = np.searchsorted(edges, start, side="left")
            inside = np.searchsorted(edges, stop, side="left") - below
            if np.count_nonzero(inside[1:-1] > 1) <= 2:
                break
        base = np.where(inside <= 1, below, -1)
        threshold = np.full(size + 3, np.inf)
        single = np.flatnonzero(inside == 1)
        threshold[single] = edges[below[single]]
        return cls(
            low=low,
            scale=1.0 / width,
            cells=size,
            cell=np.arange(-1, size + 2, dtype=np.int32),
            base=base.astype(np.int32),
            threshold=threshold,
        )

    def bins(self, values: np.ndarray, edges: np.ndarray, *, shift: int = 0) -> np.ndarray:
        """The bins of finite ``values``: the SQL arithmetic in numpy (DuckDB's batches count with it).

        ``shift`` moves every computed cell by -1, 0 or +1 before clipping: the
        table must give the same bins (the rounding it is built to absorb).
        """
        with np.errstate(over="ignore", invalid="ignore"):
            position = values - self.low
            position *= self.scale
            np.floor(position, out=position)
        if shift:
            position += shift
        np.clip(position, -1.0, float(self.cells + 1), out=position)
        cell = position.astype(np.int64)
        cell += 1
        result = self.base[cell].astype(np.int64)
        fallback = np.flatnonzero(result < 0)
        result += values > self.threshold[cell]  # fallback cells have an infinite threshold
        if fallback.size:
            result[fallback] = np.searchsorted(edges, values[fallback], side="left")
        return result


@dataclass(frozen=True)
class CountEdges:
    """The edges a backend bins a numeric column on: fine edges plus exact-value edges.

    Besides the fine edges, ``edges`` holds the largest double below the
    reference minimum and below each sentinel and the modal value, and those
    values themselves, so that one ``GROUP BY bin`` also counts what
    ``summarize`` counts with comparisons: values below the minimum (the bins
    up to ``below_bins``), above the maximum (bins from ``above_from``), equal
    to a sentinel or to the modal value (the one-value bin ``(prev(s), s]``).
    ``fine_of[j]`` is the fine bin holding bin ``j`` (fine edges are among the
    edges, so each bin lies in one fine bin). ``lookup`` covers the span of the
    fine edges; the few values outside it take the binary search.
    """

    edges: np.ndarray
    fine_of: np.ndarray
    below_bins: int
    above_from: int | None
    sentinel_bins: tuple[int | None, ...]
    modal_bin: int | None
    lookup: GridLookup | None

    @classmethod
    def build(
        cls,
        fine_edges: np.ndarray,
        minimum: float | None,
        maximum: float | None,
        sentinels: Sequence[float],
        modal: float | None,
    ) -> CountEdges:
        fine = np.asarray(fine_edges, dtype=float)

        def previous(value: float) -> float:
            return float(np.nextafter(value, -np.inf))

        extra: list[float] = []
        if minimum is not None:
            extra.append(previous(minimum))
        if maximum is not None:
            extra.append(float(maximum))
        for value in [*sentinels, *([modal] if modal is not None else [])]:
            extra += [previous(float(value)), float(value)]
        edges = np.unique(np.concatenate([fine, np.asarray(extra, dtype=float)]))
        edges = edges[np.isfinite(edges)]
        fine_of = np.concatenate([[0], np.searchsorted(fine, edges, side="right")]).astype(np.int64)

        def exact_bin(value: float) -> int | None:
            # the bin (prev(value), value] holds exactly the values equal to ``value``
            if not np.isfinite(value) or not np.isfinite(previous(value)):
                return None
            return int(np.searchsorted(edges, value, side="left"))

        below_bins = 0
        if minimum is not None and np.isfinite(previous(minimum)):
            below_bins = int(np.searchsorted(edges, previous(minimum), side="left")) + 1
        above_from = int(np.searchsorted(edges, maximum, side="left")) + 1 if maximum is not None else None
        span = (float(fine[0]), float(fine[-1])) if fine.size else None
        return cls(
            edges=edges,
            fine_of=fine_of,
            below_bins=below_bins,
            above_from=above_from,
            sentinel_bins=tuple(exact_bin(float(s)) for s in sentinels),
            modal_bin=exact_bin(modal) if modal is not None else None,
            lookup=GridLookup.from_edges(edges, span=span) if span is not None else None,
        )


SearchTree: TypeAlias = "int | tuple[int, SearchTree, SearchTree]"
"""A bin (leaf) or ``(edge index, left subtree, right subtree)``."""


def search_tree(n_edges: int) -> SearchTree:
    """A balanced binary search over ``n_edges`` sorted edges, as nested tuples.

    A node is ``(j, left, right)``: go ``left`` when ``x <= edges[j]``; a leaf
    is the bin (the number of edges strictly below ``x``). Backends render it
    as nested ``CASE WHEN`` (depth ``ceil(log2(n_edges + 1))``).
    """

    def build(lo: int, hi: int) -> SearchTree:
        if lo == hi:
            return lo
        mid = (lo + hi) // 2
        return (mid, build(lo, mid), build(mid + 1, hi))

    return build(0, n_edges)


# ---------------------------------------------------------------------------
# column plans


@dataclass(frozen=True)
class ColumnPlan:
    """How to count one profiled column in a source column of a given kind.

    ``mode``: ``"bins"`` (numeric kind: fine bins of finite numbers),
    ``"numbers"`` (categorical kind over numbers: finite values matched to the
    categories by value; invalid values go to "other/new", as pandas does) or
    ``"labels"`` (categorical kind over labels). ``read_numbers``: the value is
    read as a number (``v``) and missing / non-finite / invalid are told
    apart; ``category_numbers`` maps the value of each category that is the
    canonical label of a number to its index (``"12"`` -> 12.0).
    """

    name: str
    kind: str
    mode: str
    source_kind: str
    read_numbers: bool
    bins: CountEdges | None
    categories: tuple[str, ...]
    category_numbers: tuple[tuple[float, int], ...]
    other: int
    minimum: float | None
    maximum: float | None
    sentinels: tuple[float, ...]
    modal: float | None

    @property
    def n_codes(self) -> int:
        """Number of non-negative codes (count bins, or categories plus "other/new")."""
        return self.bins.edges.size + 1 if self.bins is not None else self.other + 1

    @property
    def edges(self) -> np.ndarray:
        """The edges a numeric column is binned on (:class:`CountEdges`; empty otherwise)."""
        return self.bins.edges if self.bins is not None else np.empty(0)

    @property
    def aggregates(self) -> list[str]:
        """Names of the aggregate columns after ``group`` and ``code``, in order.

        For a numeric column only ``n`` and ``s`` carry information (the rest
        comes from the bins); the others are counted with comparisons.
        """
        names = ["n", "s", "below", "above"]
        names += [f"sentinel_{i}" for i in range(len(self.sentinels))]
        return [*names, "modal"]


def _category_numbers(categories: Sequence[str]) -> tuple[tuple[float, int], ...]:
    pairs = []
    for index, label in enumerate(categories):
        try:
            number = float(label)
        except ValueError:
            continue
        # Only canonical labels: "7" matches 7.0, "007" or "7.0" do not (pandas labels 7 as "7").
        if not math.isnan(number) and categorical_labels([number])[0] == label:
            pairs.append((number, index))
    return tuple(pairs)


def plan_column(column: ColumnProfile, source_kind: str, sentinels: Sequence[float]) -> ColumnPlan:
    """The counting plan of ``column`` over a source column of ``source_kind``.

    ``source_kind`` is one of :data:`SOURCE_KINDS` as the backend reads the
    source's type. Mirrors the pandas path: a column profiled with numeric
    values (``column.numeric_values``) or of numeric kind reads numbers (strings
    through a cast; unreadable ones are invalid); a categorical column of
    labels over a numeric source matches numbers to canonical labels.
    """
    if source_kind not in SOURCE_KINDS:
        raise ParameterError(f"unknown source kind {source_kind!r}", name="source_kind")
    read_numbers = column.kind == "numeric" or column.numeric_values
    if column.kind == "numeric":
        mode = "bins"
    elif read_numbers:
        mode = "numbers"
    else:
        mode = "labels"
    counted_sentinels = tuple(sentinels) if read_numbers and column.sentinel_counts else ()
    modal = column.modal_value
    numeric_modal = (
        float(modal)
        if mode == "bins" and isinstance(modal, (int, float)) and not isinstance(modal, bool)
        else None
    )
    minimum = column.min if read_numbers else None
    maximum = column.max if read_numbers else None
    bins = (
        CountEdges.build(column.fine_edges, minimum, maximum, counted_sentinels, numeric_modal)
        if mode == "bins"
        else None
    )
    return ColumnPlan(
        name=column.name,
        kind=column.kind,
        mode=mode,
        source_kind=source_kind,
        read_numbers=read_numbers,
        bins=bins,
        categories=tuple(column.categories),
        category_numbers=_category_numbers(column.categories) if mode != "bins" else (),
        other=len(column.categories),
        minimum=minimum,
        maximum=maximum,
        sentinels=counted_sentinels,
        modal=numeric_modal,
    )


# ---------------------------------------------------------------------------
# from counted rows to summaries


def column_summaries(
    plan: ColumnPlan, column: ColumnProfile, rows: Iterable[Sequence[Any]]
) -> dict[Any, ColumnSummary]:
    """ColumnSummary per group from rows ``(group, code, *plan.aggregates)``.

    Follows :meth:`ReferenceProfile.summarize` field by field: PSI counts are
    the fine counts aggregated onto the PSI bins; a categorical column over
    numbers counts invalid values in "other/new"; sentinel counts are zeros of
    the profile's length when the column does not count them.
    """
    n_codes = plan.n_codes
    n_sentinels = len(plan.sentinels)
    state: dict[Any, dict[str, Any]] = {}
    for row in rows:
        group, code = row[0], int(row[1])
        n, total, below, above = (int(row[2]), row[3], int(row[4] or 0), int(row[5] or 0))
        sentinel = [int(v or 0) for v in row[6 : 6 + n_sentinels]]
        modal = int(row[6 + n_sentinels] or 0)
        entry = state.get(group)
        if entry is None:
            entry = state[group] = {
                "codes": np.zeros(n_codes, dtype=np.int64),
                "sums": np.zeros(n_codes),
                "special": {MISSING_CODE: 0, NONFINITE_CODE: 0, INVALID_CODE: 0},
                "below": 0,
                "above": 0,
                "sentinels": np.zeros(n_sentinels, dtype=np.int64),
                "modal": 0,
            }
        if code >= 0:
            entry["codes"][code] += n
            entry["sums"][code] += float(total or 0.0)
        else:
            entry["special"][code] += n
        entry["below"] += below
        entry["above"] += above
        entry["sentinels"] += np.asarray(sentinel, dtype=np.int64)
        entry["modal"] += modal
    return {group: _summary(plan, column, entry) for group, entry in state.items()}


def _summary(plan: ColumnPlan, column: ColumnProfile, entry: Mapping[str, Any]) -> ColumnSummary:
    special = entry["special"]
    codes = entry["codes"]
    n = int(codes.sum()) + sum(special.values())
    invalid = special[INVALID_CODE]
    below, above, sentinels = entry["below"], entry["above"], entry["sentinels"]
    if plan.bins is not None:
        bins = plan.bins
        n_fine = column.fine_edges.size + 1
        fine_counts = np.bincount(bins.fine_of, weights=codes, minlength=n_fine).astype(np.int64)
        # bincount with weights returns float64 (numpy's stubs say int)
        fine_sums = np.asarray(np.bincount(bins.fine_of, weights=entry["sums"], minlength=n_fine), dtype=np.float64)
        counts = np.zeros(column.psi_edges.size + 1, dtype=np.int64)
        np.add.at(counts, column.psi_bin_of_fine(), fine_counts)
        below = int(codes[: bins.below_bins].sum())
        above = int(codes[bins.above_from :].sum()) if bins.above_from is not None else 0
        sentinels = np.array([codes[j] if j is not None else 0 for j in bins.sentinel_bins], dtype=np.int64)
        modal = int(codes[bins.modal_bin]) if bins.modal_bin is not None else 0
    else:
        fine_counts = np.zeros(0, dtype=np.int64)
        fine_sums = np.zeros(0, dtype=np.float64)
        counts = codes.copy()
        counts[plan.other] += invalid  # as pandas: unreadable values are new categories
        invalid = 0
        modal = int(counts[0]) if plan.categories else 0
    if not plan.sentinels:
        sentinels = np.zeros(len(column.sentinel_counts), dtype=np.int64)
    return ColumnSummary(
        kind=column.kind,
        n=n,
        missing=special[MISSING_CODE],
        nonfinite=special[NONFINITE_CODE],
        invalid=invalid,
        counts=counts,
        fine_counts=fine_counts,
        fine_sums=fine_sums,
        below_min=int(below) if plan.read_numbers else 0,
        above_max=int(above) if plan.read_numbers else 0,
        sentinel_counts=np.asarray(sentinels, dtype=np.int64),
        modal_count=int(modal),
    )


def _empty_summary(plan: ColumnPlan, column: ColumnProfile) -> ColumnSummary:
    """All-zero counts (a group in which the column had no row at all)."""
    row = (None, MISSING_CODE, 0, None, 0, 0, *([0] * len(plan.sentinels)), 0)
    return column_summaries(plan, column, [row])[None]


def assemble(
    profile: ReferenceProfile,
    plans: Mapping[str, ColumnPlan],
    per_column: Mapping[str, Mapping[Any, ColumnSummary]],
    group_rows: Mapping[Any, int],
    absent: Sequence[str],
    *,
    single: bool = False,
) -> dict[Any, Summaries]:
    """Summaries per group (sorted keys), with empty columns where a group had none.

    ``group_rows`` gives every group's row count (groups come from it).
    ``single``: the whole source is one group, which exists even when it has
    no rows (key ``0``).
    """
    if single and not group_rows:
        group_rows = {0: 0}
    result: dict[Any, Summaries] = {}
    for group in sorted(group_rows, key=_sort_key):
        columns: dict[str, ColumnSummary] = {}
        for name, plan in plans.items():
            found = per_column.get(name, {}).get(group)
            columns[name] = found if found is not None else _empty_summary(plan, profile.columns[name])
        result[group] = Summaries(rows=int(group_rows[group]), columns=columns, absent=tuple(absent))
    return result


def _sort_key(value: Any) -> Any:
    # Keys of one column share a type; numbers and strings never mix within a key.
    return (0, value) if not isinstance(value, str) else (1, value)
