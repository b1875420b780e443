"""Fitting a reference profile with DuckDB aggregates (the queries behind ``DuckDBBackend.fit_profile``).

One query gathers every column's counts, range, mean and standard deviation
(``stddev_samp``, ddof 1) and sentinel counts; one more the distinct-value
estimates (``approx_count_distinct``) of every column read as numbers; then,
per column, the kind check (the distinct values when the estimate is small),
the quantile edges and the modal candidates (numeric kind) or the label counts
(categorical kind).

Exact quantile edges without sorting a column (:meth:`DuckDBFit._order_statistics`):
one scan counts a histogram of up to ``HISTOGRAM_BUCKETS`` buckets (about one per
``VALUES_PER_BUCKET`` values, see :meth:`DuckDBFit._bucket_count`), even on
``sign(x) ln(1 + |x|)`` between the column's minimum and maximum, with each
bucket's minimum and maximum. The bucket index never decreases as the value
grows, so every value of a lower bucket lies strictly below every value of a
higher one, and the value of rank ``j`` is in the bucket where the cumulative
count passes ``j``. A bucket holding one repeated value answers directly; the
others holding a wanted rank are fetched together (one more scan, at most
``FETCH_VALUES`` values a query) and the ranks selected with
``numpy.partition``. A bucket over ``FETCH_VALUES`` values is histogrammed again,
evenly on its own range (after ``MAX_LEVELS`` levels, ``quantile_disc`` on it),
so memory stays bounded whatever the data (a column of at most ``WHOLE_VALUES``
finite values is fetched whole and selected instead). The result is the exact inverted-CDF
order statistics, pandas' edges: rank error 0. The same buckets give how many
values equal each edge, so the modal candidates need no count query, and they
count the reference on its bins (:meth:`DuckDBFit.reference_summaries`: a
bucket between two edges adds its count and sum whole, the buckets an edge cuts
were fetched), as the label counts count its categories: no second pass over
the reference. The distinct-value estimates that decide a column's kind are
taken in the stats scan. :func:`mlreport.backends.fit_from_queries` applies
:meth:`ReferenceProfile.fit`'s rules to the answers.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import numpy as np

from ..errors import DataError
from ..profile import ColumnProfile, ColumnSummary, ReferenceProfile
from ._duckdb_sql import _PANDAS_DTYPE, _ident, literal, source_kind
from ._sql_fit import (
    ColumnStats,
    QueryFit,
    derived_summaries,
    mid_rank_probabilities,
    numeric_summary,
    stats_from_row,
)

if TYPE_CHECKING:
    from ._duckdb import DuckDBBackend

__all__ = ["DuckDBFit"]

Item = TypeVar("Item")
Result = TypeVar("Result")

APPROX_METHOD = (
    "DuckDB quantile_disc on a {sampling} sample of about {m:,} values (USING SAMPLE {percent:.3g} PERCENT "
    "({sampling}, {seed})); each edge's rank error about sqrt(p(1-p)/m); measured on the whole reference: "
    "max_rank_error"
)
EXACT_METHOD = (
    "exact inverted-CDF quantiles, as pandas, without sorting a column: one scan counts a histogram of up to "
    "{buckets:,} buckets (about one per 128 values; on sign(x) ln(1 + |x|)), then the few values of the buckets "
    "holding a wanted rank are fetched and selected (a bucket over {fetch:,} values is histogrammed again); "
    "rank error 0"
)
# Buckets of the first histogram at most: 2^16 groups cost DuckDB about as much as a count, and put about
# n / 2^16 values in a bucket of a smooth distribution (76 at 5x10^6 rows), so the refinement fetches
# a hundred-odd small buckets. A bucket or a set of buckets over FETCH_VALUES values (8 bytes each) is
# histogrammed again on its own range instead: memory stays bounded whatever the data.
HISTOGRAM_BUCKETS = 1 << 16
VALUES_PER_BUCKET = 128  # fewer buckets for fewer values (see DuckDBFit._bucket_count), from MIN_BUCKETS
MIN_BUCKETS = 1 << 10
FETCH_VALUES = 1 << 21
# A column of at most this many finite values is fetched whole and selected in numpy; above it, the histogram
# first. Measured at 10^6 rows (500,000 values a column, one row group): the histogram and a fetch of the
# wanted buckets took 0.47 CPU-s for the whole fit, fetching each column whole and selecting 0.53.
WHOLE_VALUES = 1 << 16
MAX_LEVELS = 8  # then quantile_disc on the bucket's range (never reached by doubles in practice)
# Values of fetched buckets kept per column to count the reference on its bins afterwards
# (:meth:`DuckDBFit.reference_summaries`); beyond this the column is counted by a query instead.
KEEP_VALUES = 1 << 22  # 32 MiB for the whole fit
LABEL_BATCH = 16  # labelled columns counted in one scan (one hash table each) at most


@dataclass
class _Histogram:
    """What one histogram scan learned about the values in a range: per bucket, in value order.

    ``lo`` / ``hi`` are each bucket's minimum and maximum (buckets are
    disjoint: every value of a bucket lies below every value of the next),
    ``count`` and ``total`` its count and sum. ``detail`` holds, for the
    buckets looked into, all their values or their own histogram.
    """

    lo: np.ndarray
    hi: np.ndarray
    count: np.ndarray
    total: np.ndarray
    detail: dict[int, _Node] = field(default_factory=dict)


_Node: TypeAlias = "np.ndarray | _Histogram | None"
"""Every finite value of a range (an array), its histogram, or None (not known)."""


def _binned(node: _Node, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Counts and sums of the values of ``node`` per right-closed bin of ``edges``, or None if not known.

    A bin is the number of edges strictly below the value (as
    :func:`mlreport.profile.bin_index`). A bucket whose minimum and maximum
    fall in one bin adds its count and sum there; a bucket that an edge cuts
    needs its values (or its own histogram): each edge the fit asks for is
    a value that the refinement looked up, so its bucket was looked into.
    """
    n_bins = edges.size + 1
    if node is None:
        return None
    if isinstance(node, np.ndarray):
        index = np.searchsorted(edges, node, side="left")
        counts = np.bincount(index, minlength=n_bins).astype(np.int64)
        return counts, np.bincount(index, weights=node, minlength=n_bins).astype(np.float64)
    first = np.searchsorted(edges, node.lo, side="left")
    whole = first == np.searchsorted(edges, node.hi, side="left")
    counts = np.bincount(first[whole], weights=node.count[whole], minlength=n_bins).astype(np.int64)
    sums = np.bincount(first[whole], weights=node.total[whole], minlength=n_bins).astype(np.float64)
    for bucket in np.flatnonzero(~whole).tolist():
        inner = _binned(node.detail.get(int(bucket)), edges)
        if inner is None:
            return None
        counts += inner[0]
        sums += inner[1]
    return counts, sums


def _equal(node: _Node, value: float) -> int | None:
    """How many values of ``node`` equal ``value``, or None if not known."""
    if node is None:
        return None
    if isinstance(node, np.ndarray):
        return int(np.count_nonzero(node == value))
    bucket = int(np.searchsorted(node.hi, value, side="left"))
    if bucket >= node.lo.size or node.lo[bucket] > value:
        return 0  # between two buckets, or beyond the last
    if node.lo[bucket] == node.hi[bucket]:
        return int(node.count[bucket])
    return _equal(node.detail.get(bucket), value)


class DuckDBFit(QueryFit):
    """Answers :class:`mlreport.backends.FitQueries` for one relation and window."""

    def __init__(
        self,
        backend: DuckDBBackend,
        relation: str,
        where: str,
        schema: Mapping[str, str],
        *,
        approximate: bool,
        counts: Sequence[int],
        sample_values: int = 1_000_000,
        seed: int = 0,
        buckets: int | None = None,
        fetch_values: int | None = None,
    ) -> None:
        self.backend = backend
        self.relation = relation
        self.where = where
        self.schema = schema
        self.approximate = approximate
        super().__init__(counts)
        self.sample_values = int(sample_values)
        self.seed = int(seed)
        self._percent = 0.0
        self._samplings: dict[str, str] = {}  # each sampled column's method
        self._numeric: set[str] = set()
        self._equal_counts: dict[str, dict[float, int]] = {}
        self._range: dict[str, tuple[float, float]] = {}
        # how many values equal each order statistic found by refinement (all of its bucket was seen)
        self._equal_known: dict[str, dict[float, int]] = {}
        self._estimates: dict[str, int | None] | None = None
        # what the scans learned, to count the reference on its bins without another pass
        self._stats: dict[str, ColumnStats] = {}
        self._trees: dict[str, _Node] = {}
        self._kept = 0
        self._labels: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.buckets = int(buckets if buckets is not None else HISTOGRAM_BUCKETS)
        self.fetch_values = int(fetch_values if fetch_values is not None else FETCH_VALUES)
        self.whole_values = min(WHOLE_VALUES, self.fetch_values)
        self.scans: dict[str, int] = {}
        # queries over the relation run this many at once (one column each; see _duckdb_pool)
        self.workers = backend._workers(relation)
        self._lock = threading.Lock()
        self._batch_lock = threading.Lock()
        self._label_batch: dict[str, tuple[np.ndarray, np.ndarray]] | None = None

    def _sql(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return self.backend._connection().execute(sql).fetchall()
        except self.backend._duckdb.Error as error:
            raise DataError(f"profile fit query failed: {error}") from None

    def _value(self, name: str) -> str:
        q = _ident(name)
        if source_kind(self.schema[name]) == "string":
            return f"TRY_CAST({q} AS DOUBLE)"
        return f"CAST({q} AS DOUBLE)"

    def _finite(self, name: str) -> str:
        return f"(SELECT {self._value(name)} AS v FROM {self.relation} WHERE {self.where}) WHERE isfinite(v)"

    # -- the whole-column aggregates -----------------------------------------
    def stats(self, names: Sequence[str], numeric: set[str], sentinels: Sequence[float]) -> dict[str, ColumnStats]:
        """Counts, range, mean and std of every column in one scan.

        Each column of numbers is read once into its finite value (NULL
        otherwise) and two flags, so the aggregates are plain ``count`` /
        ``min`` / ``avg``... rather than repeated conditions. Sentinel counts are
        left at zero here: they come from the reference's own summary, which
        counts them as bins (:meth:`DuckDBBackend.fit_profile`).
        """

        # per column: (projected items, aggregates, layout entry, distinct estimate or None, whether the
        # non-finite and invalid counts are derived rather than aggregated)
        columns: list[tuple[list[str], list[str], tuple[str, bool, int], str | None, bool]] = []
        for index, name in enumerate(names):
            if name not in self.schema:
                raise DataError(f"column {name!r} is not in the reference data", column=name)
            kind = source_kind(self.schema[name])
            if kind == "temporal":
                raise DataError(
                    f"column {name!r} holds timestamps; drift is profiled on features, "
                    "use timestamps to cut periods instead",
                    column=name,
                )
            q = _ident(name)
            if kind == "number" or name in numeric:
                self._numeric.add(name)
                v = self._value(name)
                f = f"CASE WHEN isfinite({v}) THEN {v} END AS f{index}"
                tail = [f"count(f{index})", f"min(f{index})", f"max(f{index})", f"avg(f{index})",
                        f"stddev_samp(f{index})"]
                if kind == "string":
                    # missing: NULL in the source; invalid: present but unreadable; non-finite: +-inf
                    projected = [
                        f, f"isinf({v}) AS inf{index}", f"{q} IS NULL AS null{index}",
                        f"({q} IS NOT NULL AND ({v} IS NULL OR isnan({v}))) AS bad{index}",
                    ]
                    parts = [f"count(*) FILTER (WHERE null{index})", f"count(*) FILTER (WHERE inf{index})",
                             f"count(*) FILTER (WHERE bad{index})", *tail]
                else:
                    # Read as numbers, a row is missing (NULL or NaN), +-inf or finite: the non-finite count
                    # is the rest (rows - missing - finite) and none is invalid; two fewer aggregates
                    # (a quarter of this scan's CPU).
                    projected = [f, f"({v} IS NULL OR isnan({v})) AS null{index}"]
                    parts = [f"count(*) FILTER (WHERE null{index})", *tail]
                # the distinct-value estimate that decides the column's kind, in the same scan (not when declared)
                estimate = f"approx_count_distinct(f{index})" if name not in numeric else None
                columns.append((projected, parts, (name, True, 8), estimate, kind != "string"))
            else:
                columns.append(([f"{q} IS NULL AS null{index}"], [f"count(*) FILTER (WHERE null{index})"],
                                (name, False, 1), None, False))
        layout = [column[2] for column in columns]
        # The columns' aggregates in one scan, or split in as many scans as queries may run at once
        # (DuckDB aggregates one row group on one thread; each scan reads only its own columns).
        groups = _balanced(columns, self.workers, lambda c: len(c[1]) + 3 * (c[3] is not None))

        def aggregate(group: list[tuple[list[str], list[str], tuple[str, bool, int], str | None, bool]]) -> list[Any]:
            parts = ["count(*)", *(p for c in group for p in c[1]), *(c[3] for c in group if c[3] is not None)]
            select = ", ".join(p for c in group for p in c[0]) or "1 AS one"
            return list(self._sql(
                f"SELECT {', '.join(parts)} FROM (SELECT {select} FROM {self.relation} WHERE {self.where})"
            )[0])

        answers = self.map(aggregate, groups) if groups else [aggregate([])]
        row: list[Any] = [answers[0][0]]
        estimates: dict[str, Any] = {}
        for group, answer in zip(groups, answers, strict=True):
            position = 1
            for _, parts, _, _, derived in group:
                values = answer[position : position + len(parts)]
                position += len(parts)
                if derived:  # missing, finite, min, max, mean, std: the non-finite and invalid counts follow
                    missing, finite = int(values[0]), int(values[1])
                    values = [missing, int(answer[0]) - missing - finite, 0, *values[1:]]
                row += values
            for _, _, (name, _, _), estimate, _ in group:
                if estimate is not None:
                    estimates[name] = answer[position]
                    position += 1
        if estimates:
            self._estimates = {name: estimates[name] for name, _, _ in layout if name in estimates}
        dtypes = {}
        for name, _, _ in layout:
            sql_type = self.schema[name].upper().split("(")[0]
            dtypes[name] = _PANDAS_DTYPE.get(sql_type, sql_type.lower())
        stats = stats_from_row(row, layout, dtypes, len(sentinels))
        self._stats = dict(stats)
        self._sentinels = tuple(float(s) for s in sentinels)
        for name, stat in stats.items():
            if stat.minimum is not None and stat.maximum is not None:
                self._range[name] = (stat.minimum, stat.maximum)
        return stats

    # -- FitQueries ----------------------------------------------------------
    def _distinct_estimate(self, name: str) -> int | None:
        """``approx_count_distinct`` of the finite values; every column read as numbers in one scan."""
        with self._lock:  # columns are fitted on several threads at once (stats() usually answered this)
            if self._estimates is None or name not in self._estimates:
                names = sorted(self._numeric | {name})
                parts = [
                    f"approx_count_distinct(CASE WHEN isfinite({self._value(n)}) THEN {self._value(n)} END)"
                    for n in names
                ]
                row = self._sql(f"SELECT {', '.join(parts)} FROM {self.relation} WHERE {self.where}")[0]
                self._estimates = dict(zip(names, row, strict=True))
            return self._estimates[name]

    def _distinct_values(self, name: str, limit: int) -> list[float]:
        return [r[0] for r in self._sql(f"SELECT DISTINCT v + 0.0 FROM {self._finite(name)} LIMIT {int(limit)}")]

    def _exact_values(self, name: str, probabilities: list[float]) -> Sequence[float]:
        return self._sql(f"SELECT quantile_disc(v, {_list(probabilities)}) FROM {self._finite(name)}")[0][0]

    def _order_statistics(self, name: str, n: int, ranks: np.ndarray) -> Sequence[float]:
        """Exact order statistics by histogram refinement (see EXACT_METHOD): no sort of the column.

        A bucket index that is a non-decreasing function of the value puts
        every value of a lower bucket strictly below every value of a higher
        one, so rank ``j`` lies in the bucket where the cumulative count
        passes ``j``, at rank ``j - (rows in lower buckets)`` within it.
        """
        found: dict[int, float] = {}
        bounds = self._range.get(name)
        if bounds is None:  # stats() not asked (not reached by fit_from_queries)
            return self._exact_values(name, mid_rank_probabilities(ranks, n))
        # the maximum too: it is a fine edge, and its count is then known without a scan (count_values)
        wanted = sorted({int(j) for j in ranks} | {n - 1})
        self._equal_known[name] = {}
        self._trees[name] = self._refine(name, bounds[0], bounds[1], 0, n, wanted, found, level=0)
        return [found[int(j)] for j in ranks]

    def _keep(self, name: str, values: np.ndarray) -> np.ndarray | None:
        """``values`` if the fit's budget of kept values allows (see KEEP_VALUES), else None."""
        with self._lock:  # columns are refined on several threads at once
            if self._kept + values.size > KEEP_VALUES:
                return None
            self._kept += int(values.size)
        return values

    def map(self, function: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
        """One column's queries per item, :attr:`workers` columns at once (results in the items' order)."""
        return self.backend.pool.map(function, items, workers=self.workers)

    def _know(self, name: str, value: float, equal: int) -> None:
        self._equal_known.setdefault(name, {})[float(value) + 0.0] = int(equal)

    def _scan(self, name: str, sql: str) -> list[tuple[Any, ...]]:
        self._count_scan(name)
        return self._sql(sql)

    def _count_scan(self, name: str) -> None:
        with self._lock:
            self.scans[name] = self.scans.get(name, 0) + 1

    def _scan_columns(self, name: str, sql: str) -> dict[str, np.ndarray]:
        """A query's columns as numpy arrays (fetched values: no Python tuple per row)."""
        self._count_scan(name)
        try:
            fetched = self.backend._connection().execute(sql).fetchnumpy()
        except self.backend._duckdb.Error as error:
            raise DataError(f"profile fit query failed: {error}") from None
        return {key: np.asarray(column) for key, column in fetched.items()}

    def _bucket_count(self, count: int, wanted: int) -> int:
        """Buckets of the histogram of ``count`` values holding ``wanted`` ranks: about one per
        ``VALUES_PER_BUCKET`` values (at least ``MIN_BUCKETS``), enough that the wanted buckets hold
        well under ``fetch_values`` values together, at most :attr:`buckets` (a power of two).

        Grouping costs DuckDB more the more buckets there are (measured on 500,000 values: 0.066
        CPU-s with 65,536, 0.039 with 4,096, 0.020 to count them), and fewer buckets only make the
        fetch of the wanted ones larger; the quantiles are exact either way.
        """
        target = max(MIN_BUCKETS, count / VALUES_PER_BUCKET, 8.0 * count * wanted / max(self.fetch_values, 1))
        k = 1 << max(0, math.ceil(math.log2(target)))
        return max(1, min(self.buckets, k))

    def _bucket_sql(self, lo: float, hi: float, level: int, k: int) -> str:
        """A non-decreasing bucket index in ``[0, k)`` of ``v`` in ``[lo, hi]`` (as SQL)."""
        if level == 0:  # skewed and heavy-tailed data: buckets even on a log scale on both sides of 0
            t_lo, t_hi = (float(np.sign(x) * np.log1p(abs(x))) for x in (lo, hi))
            value, low, width = "sign(v) * ln(1 + abs(v))", t_lo, t_hi - t_lo
        else:  # halves: hi - lo may overflow a double
            value, low, width = "v * 0.5", lo * 0.5, hi * 0.5 - lo * 0.5
        if not width > 0:
            return "0"
        scale = k / width
        return (
            f"greatest(0, least({k - 1}, CAST(floor(({value} - {literal(low)}) * {literal(scale)}) AS BIGINT)))"
        )

    def _within(self, name: str, lo: float, hi: float) -> str:
        return f"{self._finite(name)} AND v >= {literal(lo)} AND v <= {literal(hi)}"

    def _refine(
        self, name: str, lo: float, hi: float, below: int, count: int, ranks: list[int],
        found: dict[int, float], *, level: int,
    ) -> _Node:
        """Fill ``found`` with the values of ``ranks``, all among the ``count`` values in ``[lo, hi]``.

        ``below`` values are under ``lo``. Small ranges are fetched and
        selected with numpy; larger ones histogrammed and refined. Returns
        what was learned of the range's values (for :meth:`reference_summaries`).
        """
        if lo == hi:
            found.update((j, float(lo)) for j in ranks)
            self._know(name, lo, count)
            one = np.array([float(lo)])
            return _Histogram(lo=one, hi=one, count=np.array([count], dtype=np.int64), total=one * count)
        if count <= self.whole_values:  # (deeper levels refine only ranges over fetch_values)
            values = self._scan_columns(name, f"SELECT v FROM {self._within(name, lo, hi)}")["v"].astype(float)
            if values.size != count:
                raise DataError(f"column {name!r}: the reference changed while its profile was fitted", column=name)
            self._select(name, values, np.array(ranks, dtype=np.int64) - below, ranks, found)
            return self._keep(name, values)
        if level >= MAX_LEVELS:
            probabilities = mid_rank_probabilities(np.array(ranks) - below, count)
            values = self._sql(
                f"SELECT quantile_disc(v, [{', '.join(literal(p) for p in probabilities)}]) "
                f"FROM {self._within(name, lo, hi)}"
            )[0][0]
            found.update((j, float(v)) for j, v in zip(ranks, values, strict=True))
            return None
        bucket = self._bucket_sql(lo, hi, level, self._bucket_count(count, len(ranks)))
        within = self._within(name, lo, hi)
        rows = sorted(self._scan(
            name,
            f"SELECT b, count(*), min(v), max(v), sum(v) FROM (SELECT v, {bucket} AS b FROM {within}) GROUP BY b",
        ))
        counts = np.array([r[1] for r in rows], dtype=np.int64)
        tree = _Histogram(
            lo=np.array([r[2] for r in rows], dtype=float), hi=np.array([r[3] for r in rows], dtype=float),
            count=counts, total=np.array([r[4] for r in rows], dtype=float),
        )
        ends = below + np.cumsum(counts)  # values below the end of each bucket
        where = np.searchsorted(ends, np.array(ranks, dtype=np.int64), side="right")
        wanted: dict[int, list[int]] = {}
        for j, w in zip(ranks, where.tolist(), strict=True):
            wanted.setdefault(w, []).append(j)
        small: list[int] = []
        for w, members in wanted.items():
            _, c, b_lo, b_hi, _ = rows[w]
            if b_lo == b_hi:
                found.update((j, float(b_lo)) for j in members)
                self._know(name, b_lo, c)
            elif c > self.fetch_values:
                tree.detail[w] = self._refine(name, float(b_lo), float(b_hi), int(ends[w] - c), int(c), members,
                                              found, level=level + 1)
            else:
                small.append(w)
        # the small buckets together, in as few fetches as fit FETCH_VALUES
        batch: list[int] = []
        total = 0
        for w in [*small, None]:
            if w is None or (batch and total + rows[w][1] > self.fetch_values):
                if batch:
                    inside = self._fetch_buckets(
                        name, lo, hi, level, bucket, [rows[x] for x in batch],
                        [int(ends[x] - rows[x][1]) for x in batch], [wanted[x] for x in batch], found,
                    )
                    tree.detail.update(zip(batch, inside, strict=True))
                batch, total = [], 0
            if w is not None:
                batch.append(w)
                total += rows[w][1]
        return tree

    def _fetch_buckets(
        self, name: str, lo: float, hi: float, level: int, bucket: str, rows: list[tuple[Any, ...]],
        starts: list[int], members: list[list[int]], found: dict[int, float],
    ) -> list[np.ndarray | None]:
        """Select the ranks in each bucket of ``rows`` from its fetched values; returns those values (if kept)."""
        ids = ", ".join(str(int(r[0])) for r in rows)
        fetched = self._scan_columns(
            name, f"SELECT b, v FROM (SELECT v, {bucket} AS b FROM {self._within(name, lo, hi)}) WHERE b IN ({ids})"
        )
        keys = fetched["b"].astype(np.int64)
        values = fetched["v"].astype(float)
        kept: list[np.ndarray | None] = []
        for row, start, ranks in zip(rows, starts, members, strict=True):
            inside = values[keys == int(row[0])]
            if inside.size != int(row[1]):
                raise DataError(f"column {name!r}: the reference changed while its profile was fitted", column=name)
            self._select(name, inside, np.array(ranks, dtype=np.int64) - start, ranks, found)
            kept.append(self._keep(name, inside))
        return kept

    def _select(
        self, name: str, values: np.ndarray, offsets: np.ndarray, ranks: list[int], found: dict[int, float]
    ) -> None:
        """The values at ``offsets`` of ``values`` (every value of their buckets) and how many equal each."""
        values.partition(offsets)
        for j, o in zip(ranks, offsets.tolist(), strict=True):
            value = float(values[o])
            found[j] = value
            self._know(name, value, int(np.count_nonzero(values == value)))

    def _approximate_values(self, name: str, n: int, probabilities: list[float]) -> Sequence[float] | None:
        percent = 100.0 * self.sample_values / n if n else 100.0
        if not (self.approximate and percent < 100.0):
            return None
        # A system sample reads whole vectors of rows: about five times faster than
        # approx_quantile's t-digest here, with the same rank error (about 0.1 %).
        # system sampling takes whole vectors of 2048 rows: on small data, row by row
        method = "system" if n > 200 * 2048 else "bernoulli"
        with self._lock:  # columns are sampled on several threads at once
            self._percent = max(self._percent, percent)
            self._samplings[name] = method
        # None (a sample without values) falls back to every value
        return self._sql(
            f"SELECT quantile_disc(v, {_list(probabilities)}) FROM (SELECT v FROM {self._finite(name)}) "
            f"USING SAMPLE {percent:.6f} PERCENT ({method}, {self.seed})"
        )[0][0]

    def count_values(self, name: str, values: np.ndarray) -> np.ndarray:
        if values.size == 0:
            return np.zeros(0, dtype=np.int64)
        known = self._equal_known.get(name, {})
        keys = [float(v) + 0.0 for v in values]
        if all(key in known for key in keys):  # every candidate is an order statistic the refinement counted
            self._equal_counts[name] = {key: known[key] for key in keys}
            return np.array([known[key] for key in keys], dtype=np.int64)
        wanted = ", ".join(literal(v) for v in values)
        rows = self._sql(f"SELECT v + 0.0, count(*) FROM {self._finite(name)} AND v IN ({wanted}) GROUP BY 1")
        found = {float(v): int(c) for v, c in rows}
        self._equal_counts[name] = found
        return np.array([found.get(float(v) + 0.0, 0) for v in values], dtype=np.int64)

    def label_counts(self, name: str, numbers: bool) -> tuple[np.ndarray, np.ndarray]:
        counted = self._labels[name] = self._label_counts(name, numbers)
        return counted

    def _label_counts(self, name: str, numbers: bool) -> tuple[np.ndarray, np.ndarray]:
        if numbers:
            rows = self._sql(f"SELECT v + 0.0, count(*) FROM {self._finite(name)} GROUP BY 1")
            return np.array([r[0] for r in rows], dtype=float), np.array([r[1] for r in rows], dtype=np.int64)
        with self._batch_lock:  # the first column asked counts every labelled column (others wait for it)
            if self._label_batch is None:
                self._label_batch = self._all_label_counts()
        if name in self._label_batch:
            return self._label_batch[name]
        rows = self._sql(
            f"SELECT k, count(*) FROM (SELECT {self._key(name)} AS k FROM {self.relation} WHERE {self.where}) "
            "WHERE k IS NOT NULL GROUP BY k"
        )
        return np.array([r[0] for r in rows], dtype=object), np.array([r[1] for r in rows], dtype=np.int64)

    def _key(self, name: str) -> str:
        """A column's label as SQL text: booleans as 'True' / 'False', other non-strings cast to VARCHAR."""
        q = _ident(name)
        kind = source_kind(self.schema[name])
        if kind == "bool":
            return f"CASE WHEN {q} THEN 'True' WHEN NOT {q} THEN 'False' END"
        return q if kind == "string" else f"CAST({q} AS VARCHAR)"

    def _all_label_counts(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every labelled column's (label, count) pairs from one scan (``GROUPING SETS``), by column.

        The columns not read as numbers are categorical whatever their
        values, so all their label counts will be asked: one scan with a
        grouping set per column costs less than half of one scan each
        (measured on 4 columns of 500,000 rows: 0.028 CPU-s against 0.064).
        The same pairs as the query per column (NULL labels left out).
        """
        names = [name for name in self._stats if name not in self._numeric]
        if len(names) < 2:
            return {}
        found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for first in range(0, len(names), LABEL_BATCH):  # a bounded number of hash tables at once
            found.update(self._label_batch_counts(names[first : first + LABEL_BATCH]))
        return found

    def _label_batch_counts(self, names: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        keys = ", ".join(f"{self._key(name)} AS k{i}" for i, name in enumerate(names))
        grouped = ", ".join(f"k{i}" for i in range(len(names)))
        sets = ", ".join(f"(k{i})" for i in range(len(names)))
        rows = self._sql(
            f"SELECT grouping_id({grouped}), {grouped}, count(*) FROM "
            f"(SELECT {keys} FROM {self.relation} WHERE {self.where}) GROUP BY GROUPING SETS ({sets})"
        )
        # grouping_id has a bit per key, the first key's the highest, set when the key is not grouped
        full = (1 << len(names)) - 1
        which = {full ^ (1 << (len(names) - 1 - i)): i for i in range(len(names))}
        pairs: list[tuple[list[Any], list[int]]] = [([], []) for _ in names]
        for row in rows:
            i = which[int(row[0])]
            label = row[1 + i]
            if label is not None:
                pairs[i][0].append(label)
                pairs[i][1].append(int(row[-1]))
        return {
            name: (np.array(labels, dtype=object), np.array(counts, dtype=np.int64))
            for name, (labels, counts) in zip(names, pairs, strict=True)
        }

    # -- the reference's own summaries ----------------------------------------
    def reference_summaries(self, profile: ReferenceProfile) -> dict[str, ColumnSummary]:
        """The reference's summaries of the columns the fit's scans already counted: no pass over the rows.

        A numeric column's fine bins are counted from its refinement
        (:func:`_binned`: buckets between two edges add whole, the buckets that
        an edge cuts were looked into); its sentinel counts too where their
        buckets were (else one query for the rest). A categorical column's
        counts come from its label counts, matched to the categories as
        :meth:`ReferenceProfile.summarize` matches them. Values outside the
        reference's range: none, by definition. Only exact fits (an
        approximate one never looks into buckets); a column not derived
        here is left out, for the caller to count (:meth:`Backend.summarize`).
        Counts equal the counting query's; sums add in another order (about
        1e-12 relative).
        """
        if self.approximate:
            return {}
        derived = derived_summaries(profile, self._stats, self._numeric_summary, self._labels, self._sentinels)
        # Sentinel counts the refinement's buckets could not tell (-1): one query for all of them.
        parts = [
            (name, i, f"count(*) FILTER (WHERE {self._value(name)} = {literal(self._sentinels[i])})")
            for name, summary in derived.items() if profile.columns[name].kind == "numeric"
            for i, count in enumerate(summary.sentinel_counts.tolist()) if count < 0
        ]
        if parts:
            row = self._sql(f"SELECT {', '.join(p for _, _, p in parts)} FROM {self.relation} WHERE {self.where}")[0]
            for (name, i, _), count in zip(parts, row, strict=True):
                derived[name].sentinel_counts[i] = int(count)
        return derived

    def _numeric_summary(self, column: ColumnProfile, stat: ColumnStats) -> ColumnSummary | None:
        n_fine = column.fine_edges.size + 1
        if stat.finite == 0:
            fine_counts, fine_sums = np.zeros(n_fine, dtype=np.int64), np.zeros(n_fine)
        elif column.name in self._trees:
            binned = _binned(self._trees[column.name], column.fine_edges)
            if binned is None or int(binned[0].sum()) != stat.finite:
                return None
            fine_counts, fine_sums = binned
        else:
            return None
        sentinels = np.zeros(len(column.sentinel_counts), dtype=np.int64)
        if column.sentinel_counts and stat.finite:
            tree = self._trees.get(column.name)
            low, high = stat.minimum, stat.maximum
            for i, value in enumerate(self._sentinels):
                if low is None or high is None or not low <= value <= high:
                    continue  # outside the range: none
                equal = _equal(tree, value)
                sentinels[i] = -1 if equal is None else equal  # -1: counted by a query (reference_summaries)
        modal = column.modal_value
        numeric_modal = isinstance(modal, (int, float)) and not isinstance(modal, bool)
        return numeric_summary(column, stat, fine_counts, fine_sums, sentinels,
                               int(column.modal_count) if numeric_modal else 0)

    # -- the profile ---------------------------------------------------------
    def max_rank_error(self, profile: ReferenceProfile, bins: int) -> float:
        """Largest distance between ``k / bins`` and the reference share its edge reaches.

        For an edge ``e`` of quantile ``k / bins`` the exact inverted-CDF value
        has ``P(x < e) < k / bins <= P(x <= e)``; the error is how far
        ``k / bins`` lies outside ``[P(x < e), P(x <= e)]``: 0 for exact
        quantiles. Measured on the reference itself, without another scan:
        ``P(x <= e)`` from its bin counts (PSI edges are fine edges) and
        ``P(x = e)`` from the modal-candidate counts of the fine edges.
        """
        if not self.approximate:
            return 0.0
        worst = 0.0
        for name, per_count in self._quantiles.items():
            raw = per_count.get(bins)
            column = profile.columns.get(name)
            summary = profile.reference.columns.get(name)
            equal = self._equal_counts.get(name, {})
            if raw is None or column is None or summary is None or column.kind != "numeric":
                continue
            valid = int(summary.fine_counts.sum())
            if valid == 0:
                continue
            cumulative = np.cumsum(summary.fine_counts)
            for k, edge in enumerate(raw, start=1):
                position = int(np.searchsorted(column.fine_edges, edge, side="left"))
                if position >= column.fine_edges.size or column.fine_edges[position] != edge:
                    continue  # an edge at or above the maximum was dropped
                upto = cumulative[position] / valid
                below = upto - equal.get(float(edge) + 0.0, 0) / valid
                worst = max(worst, k / bins - upto, below - k / bins)
        return float(worst)

    def description(self, profile: ReferenceProfile, bins: int) -> dict[str, Any]:
        # the method of the last sampled column in column order (columns are sampled on several threads)
        sampled = [self._samplings[name] for name in profile.columns if name in self._samplings]
        sampling = sampled[-1] if sampled else "system"
        return {
            "backend": "duckdb",
            "quantiles": "approx" if self.approximate and self._percent else "exact",
            "method": (
                APPROX_METHOD.format(
                    m=self.sample_values, percent=self._percent, seed=self.seed, sampling=sampling
                )
                if self.approximate and self._percent
                else EXACT_METHOD.format(buckets=self.buckets, fetch=self.fetch_values)
            ),
            "max_rank_error": round(self.max_rank_error(profile, bins), 6),
        }


def _balanced(items: Sequence[Item], parts: int, weight: Callable[[Item], int]) -> list[list[Item]]:
    """``items`` cut into at most ``parts`` runs of consecutive items of about equal total ``weight`` (in order)."""
    total = sum(weight(item) for item in items)
    groups: list[list[Item]] = []
    done = 0
    for item in items:
        # start a new run when this item's middle lies past the next equal share
        share = len(groups) * total / max(1, min(parts, len(items)))
        if not groups or (len(groups) < parts and done + weight(item) / 2 > share):
            groups.append([])
        groups[-1].append(item)
        done += weight(item)
    return groups


def _list(values: Sequence[float]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"

