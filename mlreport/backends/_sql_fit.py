"""Fitting a reference profile from aggregate queries, with pandas' rules and numbers.

A SQL backend cannot sort a column the way :meth:`ReferenceProfile.fit` does;
it answers a few aggregate questions instead (:class:`FitQueries`: distinct
values, quantiles, counts of given values, label counts) and
:func:`profile_from_queries` applies the fit's rules to the answers: the same
kinds, edges, categories and modal values. Exact quantiles come from order
statistics asked for at mid-rank probabilities (:func:`mid_rank_probabilities`),
which any discrete quantile rule maps to the right rank; numpy's linear
interpolation is rebuilt from order statistics bit for bit
(:func:`linear_quantiles`). :class:`FitSettings` declares the fit's settings
once for every backend, and :func:`fit_from_queries` is the whole fit of a
backend that answers :class:`FitQueries`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from ..errors import DataError, ParameterError
from ..profile import (
    DEFAULT_SENTINELS,
    ColumnProfile,
    ColumnSummary,
    ReferenceProfile,
    Summaries,
    categorical_labels,
)
from ._base import settings_with_fit, with_reference

__all__ = [
    "categorical_summary",
    "inverted_cdf_ranks",
    "mid_rank_probabilities",
    "linear_quantiles",
    "ColumnStats",
    "stats_from_row",
    "FitSettings",
    "QuantileRequest",
    "FitQueries",
    "QueryFit",
    "profile_from_queries",
    "fit_from_queries",
    "ReferenceFit",
    "fit_with_reference",
    "numeric_summary",
    "derived_summaries",
]


Item = TypeVar("Item")
Result = TypeVar("Result")


# ---------------------------------------------------------------------------
# exact quantiles from order statistics


def inverted_cdf_ranks(n: int, count: int) -> np.ndarray:
    """0-based ranks of the inverted-CDF quantiles at ``k / count`` (``k = 1..count-1``).

    ``ceil(k n / count) - 1`` in integer arithmetic, the ranks
    :meth:`ReferenceProfile.fit` takes (``numpy.quantile(method="inverted_cdf")``).
    """
    if n <= 0 or count < 2:
        return np.empty(0, dtype=np.int64)
    k = np.arange(1, count, dtype=np.int64)
    return (k * n + count - 1) // count - 1


def mid_rank_probabilities(ranks: np.ndarray, n: int) -> list[float]:
    """Probabilities that select exactly the order statistics ``ranks`` of ``n`` values.

    ``(j + 0.5) / n`` sits half a rank away from every rounding boundary, so any
    discrete quantile rule (``ceil(p n) - 1``, ``floor(p n)``, ``floor(p (n-1))``
    within half a rank) returns the value of rank ``j``: DuckDB's
    ``quantile_disc`` and Spark's exact ``approxQuantile`` are asked this way.
    """
    return [float((int(j) + 0.5) / n) for j in ranks]


def linear_quantiles(
    order_statistics: Callable[[np.ndarray], np.ndarray], n: int, quantiles: Sequence[float]
) -> np.ndarray:
    """``numpy.quantile(values, quantiles)`` (linear, method 7) from order statistics.

    ``order_statistics(ranks)`` returns the sorted values at those 0-based
    ranks. numpy's arithmetic is replicated (virtual index ``(n - 1) q``,
    interpolation from the nearer end), so the result is bit-identical.
    """
    q = np.asarray(quantiles, dtype=float)
    if n <= 0:
        return np.full(q.shape, np.nan)
    virtual = (n - 1) * q
    previous = np.clip(np.floor(virtual), 0, n - 1).astype(np.int64)
    following = np.clip(previous + 1, 0, n - 1)
    ranks = np.unique(np.concatenate([previous, following]))
    values = dict(zip(ranks.tolist(), np.asarray(order_statistics(ranks), dtype=float).tolist(), strict=True))
    a = np.array([values[int(i)] for i in previous])
    b = np.array([values[int(i)] for i in following])
    gamma = virtual - np.floor(virtual)
    diff = b - a
    result = a + diff * gamma
    upper = gamma >= 0.5
    result[upper] = (b - diff * (1 - gamma))[upper]
    return result


# ---------------------------------------------------------------------------
# fitting a profile from aggregate queries


@dataclass(frozen=True)
class FitSettings:
    """The settings of a reference profile's fit, as :meth:`ReferenceProfile.fit` takes them.

    ``categorical`` / ``numeric``: columns whose kind is declared rather than
    inferred; ``bins``: PSI bins (reference quantiles); ``fine_bins``: the
    finer bins behind KS and Wasserstein; ``max_categories``: categories kept
    (the rest are "other/new"); ``sentinels``: values counted as defaults;
    ``discrete_max``: a column of at most this many distinct integers is
    categorical. Checked on creation, with the pandas fit's messages.
    """

    categorical: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    bins: int = 10
    fine_bins: int = 100
    max_categories: int = 50
    sentinels: tuple[float, ...] = DEFAULT_SENTINELS
    discrete_max: int = 12

    def __post_init__(self) -> None:
        for value, label, minimum in (
            (self.bins, "bins", 2), (self.fine_bins, "fine_bins", 2), (self.max_categories, "max_categories", 1),
        ):
            if not isinstance(value, (int, np.integer)) or value < minimum:
                raise ParameterError(f"{label} must be an integer >= {minimum}, got {value!r}", name=label)
        if not isinstance(self.discrete_max, (int, np.integer)) or self.discrete_max < 0:
            raise ParameterError(
                f"discrete_max must be an integer >= 0, got {self.discrete_max!r}", name="discrete_max"
            )
        object.__setattr__(self, "categorical", tuple(self.categorical or ()))
        object.__setattr__(self, "numeric", tuple(self.numeric or ()))
        object.__setattr__(self, "sentinels", tuple(float(s) for s in self.sentinels))
        both = set(self.categorical) & set(self.numeric)
        if both:
            raise ParameterError(f"columns declared both categorical and numeric: {sorted(both)}", name="categorical")

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> FitSettings:
        """From keyword arguments; an unknown name is a ParameterError listing the known ones."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise ParameterError(
                f"unknown profile setting(s) {unknown}; expected some of {', '.join(known)}", name=unknown[0]
            )
        return cls(**{k: v for k, v in settings.items() if v is not None})

    def fit_arguments(self) -> dict[str, Any]:
        """Keyword arguments of :meth:`ReferenceProfile.fit`."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def stored(self) -> dict[str, Any]:
        """``ReferenceProfile.settings`` as the pandas fit stores them."""
        return {
            "bins": int(self.bins), "fine_bins": int(self.fine_bins), "max_categories": int(self.max_categories),
            "sentinels": list(self.sentinels), "discrete_max": int(self.discrete_max),
        }


@dataclass(frozen=True)
class ColumnStats:
    """One column's whole-source aggregates, as :meth:`ReferenceProfile.fit` needs them.

    ``missing``/``nonfinite``/``invalid`` follow the code convention above;
    ``finite`` counts readable finite numbers; ``mean`` and ``std`` (ddof 1) are
    over them; ``sentinel_counts`` has one count per sentinel (numbers only).
    """

    name: str
    dtype: str
    numeric_values: bool
    rows: int
    missing: int
    nonfinite: int
    invalid: int
    finite: int = 0
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    std: float | None = None
    sentinel_counts: tuple[int, ...] = ()


@dataclass(frozen=True)
class QuantileRequest:
    """The quantiles a fit asks a backend for: exact or ``approximate``, at ``k / c`` for each ``c`` in ``counts``.

    ``sample_values`` and ``seed`` steer a backend's sampled approximation
    (DuckDB); Spark's approximation takes its own relative error.
    """

    approximate: bool
    counts: tuple[int, ...]
    sample_values: int = 1_000_000
    seed: int = 0


def stats_from_row(
    row: Sequence[Any], layout: Sequence[tuple[str, bool, int]], dtypes: Mapping[str, str], n_sentinels: int
) -> dict[str, ColumnStats]:
    """Every column's :class:`ColumnStats` from the one aggregate row a backend computes.

    ``row`` is ``count(*)`` then, per ``layout`` entry ``(name, numbers,
    width)``, ``width`` values: for a column read as numbers the missing,
    non-finite, invalid and finite counts, min, max, mean and std of the
    finite values, and optionally one count per sentinel (zeros when not
    given); for another column its missing count. ``dtypes`` are the pandas
    names of the source types; as pyarrow reads them, an integer column with
    nulls is ``float64`` and a boolean one ``object``.
    """
    rows = int(row[0])
    if rows == 0:
        raise DataError("reference data has no rows: nothing to fit a profile on")
    result: dict[str, ColumnStats] = {}
    position = 1
    for name, numbers, width in layout:
        values = row[position : position + width]
        position += width
        missing = int(values[0])
        dtype = dtypes[name]
        if numbers:
            finite = int(values[3])
            result[name] = ColumnStats(
                name=name, dtype="float64" if dtype.startswith(("int", "uint")) and missing else dtype,
                numeric_values=True, rows=rows, missing=missing, nonfinite=int(values[1]), invalid=int(values[2]),
                finite=finite, minimum=_float(values[4]), maximum=_float(values[5]), mean=_float(values[6]),
                std=_float(values[7]) if finite >= 2 else None,
                sentinel_counts=tuple(int(v) for v in values[8:]) or (0,) * n_sentinels,
            )
        else:
            result[name] = ColumnStats(
                name=name, dtype="object" if dtype == "bool" and missing else dtype, numeric_values=False,
                rows=rows, missing=missing, nonfinite=0, invalid=0,
            )
    return result


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


class FitQueries(Protocol):
    """The queries a backend answers so that :func:`profile_from_queries` can fit."""

    def stats(self, names: Sequence[str], numeric: set[str], sentinels: Sequence[float]) -> dict[str, ColumnStats]:
        """Every column's :class:`ColumnStats` (one scan); ``numeric`` columns are read as numbers."""

    def distinct_numbers(self, name: str, at_most: int) -> np.ndarray | None:
        """The distinct finite values if there are at most ``at_most``, else None."""

    def quantiles(self, name: str, n: int, count: int) -> np.ndarray:
        """The inverted-CDF quantiles at ``k / count`` of the ``n`` finite values (exact or approximate)."""

    def count_values(self, name: str, values: np.ndarray) -> np.ndarray:
        """How many rows equal each of ``values`` (finite numbers)."""

    def label_counts(self, name: str, numbers: bool) -> tuple[np.ndarray, np.ndarray]:
        """Distinct values (finite numbers when ``numbers``, else canonical labels) and counts."""

    def map(self, function: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
        """``[function(item) for item in items]``, each item one column's queries: a backend may run several at
        once (results in the items' order)."""


class QueryFit:
    """The part of :class:`FitQueries` that every SQL backend answers the same way.

    A subclass says how to read one column's finite values: an estimate of
    how many distinct ones there are (:meth:`_distinct_estimate`), the first
    ``limit`` distinct ones (:meth:`_distinct_values`), the exact order
    statistics at given probabilities (:meth:`_exact_values`; asked at
    mid-rank probabilities) and, when it approximates, the values at given
    probabilities (:meth:`_approximate_values`). This class screens the
    distinct values and asks each column's quantiles once for every count.
    """

    def __init__(self, counts: Sequence[int]) -> None:
        self.counts = tuple(int(c) for c in counts)
        self._quantiles: dict[str, dict[int, np.ndarray]] = {}

    def map(self, function: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
        """One column after another (a backend that can run several columns' queries at once overrides this)."""
        return [function(item) for item in items]

    def distinct_numbers(self, name: str, at_most: int) -> np.ndarray | None:
        estimate = self._distinct_estimate(name)
        if estimate is not None and int(estimate) > 4 * at_most + 16:
            return None
        values = self._distinct_values(name, int(at_most) + 1)
        if len(values) > at_most:
            return None
        return np.sort(np.asarray(values, dtype=float))

    def quantiles(self, name: str, n: int, count: int) -> np.ndarray:
        cached = self._quantiles.get(name)
        if cached is None:
            cached = self._quantiles[name] = self._all_quantiles(name, n)
        return cached[count]

    def _all_quantiles(self, name: str, n: int) -> dict[int, np.ndarray]:
        probabilities = sorted({k / c for c in self.counts for k in range(1, c)})
        approximate = self._approximate_values(name, n, probabilities)
        if approximate is not None:
            found = dict(zip(probabilities, approximate, strict=True))
            return {c: np.array([found[k / c] for k in range(1, c)], dtype=float) for c in self.counts}
        ranks = np.unique(np.concatenate([inverted_cdf_ranks(n, c) for c in self.counts]))
        exact = dict(zip(ranks.tolist(), self._order_statistics(name, n, ranks), strict=True))
        return {c: np.array([exact[int(j)] for j in inverted_cdf_ranks(n, c)], dtype=float) for c in self.counts}

    def _order_statistics(self, name: str, n: int, ranks: np.ndarray) -> Sequence[float]:
        """The sorted finite values at the 0-based ``ranks`` (ascending, unique) of the ``n`` finite values.

        By default :meth:`_exact_values` at mid-rank probabilities; a backend
        may find them another way (DuckDB: a histogram refined once).
        """
        return self._exact_values(name, mid_rank_probabilities(ranks, n))

    def _distinct_estimate(self, name: str) -> int | None:
        raise NotImplementedError

    def _distinct_values(self, name: str, limit: int) -> list[float]:
        raise NotImplementedError

    def _exact_values(self, name: str, probabilities: list[float]) -> Sequence[float]:
        raise NotImplementedError

    def _approximate_values(self, name: str, n: int, probabilities: list[float]) -> Sequence[float] | None:
        """Approximate quantiles at ``probabilities``, or None to take exact ones."""
        return None


def profile_from_queries(
    stats: Mapping[str, ColumnStats],
    queries: FitQueries,
    *,
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    bins: int = 10,
    fine_bins: int = 100,
    max_categories: int = 50,
    sentinels: Sequence[float],
    discrete_max: int = 12,
) -> dict[str, ColumnProfile]:
    """ColumnProfiles with the rules of :meth:`ReferenceProfile.fit` (kinds, edges, categories, mode).

    With exact quantiles the edges, categories and counts equal the pandas
    fit's; ``mean`` and ``std`` are sums in another order (about 1e-12 relative).
    """
    declared_cat, declared_num = set(categorical), set(numeric)

    def fit_column(name: str) -> ColumnProfile:
        stat = stats[name]
        kind, rule = _kind(stat, queries, declared_cat, declared_num, discrete_max)
        common: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "dtype": stat.dtype,
            "kind_rule": rule,
            "rows": stat.rows,
            "numeric_values": stat.numeric_values,
            "missing": stat.missing,
            "nonfinite": stat.nonfinite,
            "invalid": stat.invalid,
        }
        if stat.numeric_values:
            common["sentinel_counts"] = tuple(stat.sentinel_counts)
            if stat.finite:
                common.update(min=stat.minimum, max=stat.maximum, mean=stat.mean, std=stat.std)
        if kind == "numeric":
            return _numeric_profile(common, stat, queries, bins, fine_bins)
        return _categorical_profile(common, stat, queries, max_categories)

    # Each column's kind, edges or categories are its own queries: the backend may run several columns at once.
    names = list(stats)
    return dict(zip(names, queries.map(fit_column, names), strict=True))


def _kind(
    stat: ColumnStats, queries: FitQueries, categorical: set[str], numeric: set[str], discrete_max: int
) -> tuple[str, str]:
    if stat.name in categorical:
        return "categorical", "declared categorical"
    if stat.name in numeric:
        return "numeric", "declared numeric"
    if not stat.numeric_values:
        return "categorical", f"non-numeric dtype {stat.dtype}"
    if discrete_max > 0 and stat.finite:
        distinct = queries.distinct_numbers(stat.name, discrete_max)
        if distinct is not None and distinct.size and np.all(np.floor(distinct) == distinct):
            return "categorical", f"numeric with {distinct.size} distinct integer values (<= {discrete_max})"
    return "numeric", f"numeric dtype {stat.dtype}"


def _numeric_profile(
    common: dict[str, Any], stat: ColumnStats, queries: FitQueries, bins: int, fine_bins: int
) -> ColumnProfile:
    psi_edges = np.empty(0)
    fine_edges = np.empty(0)
    if stat.finite:
        top = float(stat.maximum)  # type: ignore[arg-type]
        psi_edges = np.unique(queries.quantiles(stat.name, stat.finite, bins))
        psi_edges = psi_edges[psi_edges < top]
        if psi_edges.size == 0:
            psi_edges = np.array([top])
        fine_quantiles = queries.quantiles(stat.name, stat.finite, fine_bins)
        fine_edges = np.union1d(np.union1d(fine_quantiles, psi_edges), [top])
        candidates = queries.count_values(stat.name, fine_edges)
        best = int(np.argmax(candidates))
        if candidates[best] * fine_bins >= stat.finite:
            common.update(modal_value=float(fine_edges[best]), modal_count=int(candidates[best]))
    return ColumnProfile(**common, psi_edges=psi_edges, fine_edges=fine_edges)


def _categorical_profile(
    common: dict[str, Any], stat: ColumnStats, queries: FitQueries, max_categories: int
) -> ColumnProfile:
    values, counts = queries.label_counts(stat.name, stat.numeric_values)
    labels = categorical_labels(values) if stat.numeric_values else np.asarray(values, dtype=object)
    table = (
        pd.Series(np.asarray(counts, dtype=np.int64), index=pd.Index(labels, dtype=object))
        .groupby(level=0, sort=False)
        .sum()
    )
    order = sorted(zip(table.index, table.to_numpy(), strict=True), key=lambda item: (-int(item[1]), str(item[0])))
    kept = tuple(str(label) for label, _ in order[:max_categories])
    return ColumnProfile(
        **common,
        categories=kept,
        n_distinct=len(order),
        modal_value=order[0][0] if order else None,
        modal_count=int(order[0][1]) if order else 0,
    )


def fit_from_queries(queries: FitQueries, names: Sequence[str], settings: FitSettings) -> ReferenceProfile:
    """The profile of ``names`` from a backend's answers; its ``reference`` is still empty.

    The backend counts the reference on the fitted bins next
    (:func:`mlreport.backends.with_reference`).
    """
    stats = queries.stats(list(names), set(settings.numeric), settings.sentinels)
    columns = profile_from_queries(
        stats, queries, categorical=settings.categorical, numeric=settings.numeric, bins=settings.bins,
        fine_bins=settings.fine_bins, max_categories=settings.max_categories, sentinels=settings.sentinels,
        discrete_max=settings.discrete_max,
    )
    rows = next(iter(stats.values())).rows if stats else 0
    return ReferenceProfile(
        columns=columns, reference=Summaries(rows=rows, columns={}), rows=rows, settings=settings.stored()
    )


def categorical_summary(
    column: ColumnProfile, stat: ColumnStats, values: np.ndarray, numbers: np.ndarray, sentinels: Sequence[float]
) -> ColumnSummary:
    """As :meth:`ReferenceProfile.summarize` counts a categorical column, from its label counts in the reference.

    ``values`` / ``numbers``: each label (or finite number, for a column read
    as numbers) and how many rows hold it; ``stat`` the column's aggregates,
    ``sentinels`` the fit's. Values outside the reference: none, by definition.
    """
    other = len(column.categories)
    labels = categorical_labels(values) if stat.numeric_values else np.asarray(values, dtype=object)
    lookup = pd.Index(list(column.categories), dtype=object).get_indexer(pd.Index(labels, dtype=object))
    lookup = np.where(lookup < 0, other, lookup)
    counts = np.bincount(lookup, weights=numbers, minlength=other + 1).astype(np.int64)
    invalid = stat.invalid
    counted = np.zeros(len(column.sentinel_counts), dtype=np.int64)
    if stat.numeric_values:
        counts[other] += invalid  # as pandas: values that are not numbers are new categories
        invalid = 0
        if column.sentinel_counts:
            numeric = np.asarray(values, dtype=float)
            counted = np.array([int(numbers[numeric == value].sum()) for value in sentinels], dtype=np.int64)
    return ColumnSummary(
        kind=column.kind, n=stat.rows, missing=stat.missing, nonfinite=stat.nonfinite, invalid=invalid,
        counts=counts, fine_counts=np.zeros(0, dtype=np.int64), fine_sums=np.zeros(0, dtype=np.float64),
        below_min=0, above_max=0, sentinel_counts=counted,
        modal_count=int(counts[0]) if column.categories else 0,
    )


def numeric_summary(
    column: ColumnProfile, stat: ColumnStats, fine_counts: np.ndarray, fine_sums: np.ndarray,
    sentinels: np.ndarray, modal_count: int,
) -> ColumnSummary:
    """A numeric column's reference summary from its fine bins' counts and sums (its PSI bins add fine bins).

    Values outside the reference's range: none, by definition.
    """
    counts = np.zeros(column.psi_edges.size + 1, dtype=np.int64)
    np.add.at(counts, column.psi_bin_of_fine(), fine_counts)
    return ColumnSummary(
        kind=column.kind, n=stat.rows, missing=stat.missing, nonfinite=stat.nonfinite, invalid=stat.invalid,
        counts=counts, fine_counts=fine_counts, fine_sums=fine_sums, below_min=0, above_max=0,
        sentinel_counts=sentinels, modal_count=int(modal_count),
    )


def derived_summaries(
    profile: ReferenceProfile, stats: Mapping[str, ColumnStats],
    numeric: Callable[[ColumnProfile, ColumnStats], ColumnSummary | None],
    label_counts: Mapping[str, tuple[np.ndarray, np.ndarray]], sentinels: Sequence[float],
) -> dict[str, ColumnSummary]:
    """The reference summaries a fit's own scans give: ``numeric`` derives a numeric column's (None: it cannot),
    a categorical column's come from its ``label_counts`` (:func:`categorical_summary`); other columns are left
    out, for the caller to count."""
    derived: dict[str, ColumnSummary] = {}
    for name, column in profile.columns.items():
        stat = stats.get(name)
        if stat is None:
            continue
        if column.kind == "numeric":
            summary = numeric(column, stat)
            if summary is not None:
                derived[name] = summary
        elif name in label_counts:
            derived[name] = categorical_summary(column, stat, *label_counts[name], sentinels)
    return derived


class ReferenceFit(FitQueries, Protocol):
    """A fit's queries that also derive reference summaries from the scans they made, and describe the fit."""

    def reference_summaries(self, profile: ReferenceProfile) -> Mapping[str, ColumnSummary]:
        """The columns whose reference summaries the fit's own scans counted (exact fits; {} otherwise)."""

    def description(self, profile: ReferenceProfile, bins: int) -> dict[str, Any]:
        """How the profile was fitted (the report's methods line)."""


def fit_with_reference(
    fit: ReferenceFit, names: Sequence[str], settings: FitSettings,
    summarize: Callable[[ReferenceProfile], Summaries],
) -> ReferenceProfile:
    """The profile of ``fit``'s queries with its reference summaries and its description.

    The summaries the fit's own scans counted are taken as they are (no
    second pass over the reference); ``summarize`` counts only the columns
    not derived that way (one pass over those, or none). The same summaries
    as counting every column (sums in another order).
    """
    profile = fit_from_queries(fit, names, settings)
    summaries = dict(fit.reference_summaries(profile))
    rest = {name: column for name, column in profile.columns.items() if name not in summaries}
    if rest or not profile.columns:
        summaries.update(summarize(replace(profile, columns=rest)).columns)
    reference = Summaries(rows=profile.rows, columns={name: summaries[name] for name in profile.columns})
    profile = with_reference(profile, reference)
    return settings_with_fit(profile, fit.description(profile, int(settings.bins)))
