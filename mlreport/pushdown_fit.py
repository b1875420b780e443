"""Fitting a reference profile from aggregate queries, with pandas' rules and numbers.

A SQL backend cannot sort a column the way :meth:`ReferenceProfile.fit` does;
it answers a few aggregate questions instead (:class:`FitQueries`: distinct
values, quantiles, counts of given values, label counts) and
:func:`profile_from_queries` applies the fit's rules to the answers: the same
kinds, edges, categories and modal values. Exact quantiles come from order
statistics asked for at mid-rank probabilities (:func:`mid_rank_probabilities`),
which any discrete quantile rule maps to the right rank; numpy's linear
interpolation is rebuilt from order statistics bit for bit
(:func:`linear_quantiles`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np
import pandas as pd

from .profile import ColumnProfile, categorical_labels

__all__ = [
    "inverted_cdf_ranks",
    "mid_rank_probabilities",
    "linear_quantiles",
    "ColumnStats",
    "FitQueries",
    "profile_from_queries",
]


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
    values = dict(zip(ranks.tolist(), np.asarray(order_statistics(ranks), dtype=float).tolist()))
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


class FitQueries(Protocol):
    """The queries a backend answers so that :func:`profile_from_queries` can fit."""

    def distinct_numbers(self, name: str, at_most: int) -> np.ndarray | None:
        """The distinct finite values if there are at most ``at_most``, else None."""

    def quantiles(self, name: str, n: int, count: int) -> np.ndarray:
        """The inverted-CDF quantiles at ``k / count`` of the ``n`` finite values (exact or approximate)."""

    def count_values(self, name: str, values: np.ndarray) -> np.ndarray:
        """How many rows equal each of ``values`` (finite numbers)."""

    def label_counts(self, name: str, numbers: bool) -> tuple[np.ndarray, np.ndarray]:
        """Distinct values (finite numbers when ``numbers``, else canonical labels) and counts."""


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
    fitted: dict[str, ColumnProfile] = {}
    for name, stat in stats.items():
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
            fitted[name] = _numeric_profile(common, stat, queries, bins, fine_bins)
        else:
            fitted[name] = _categorical_profile(common, stat, queries, max_categories)
    return fitted


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
    order = sorted(zip(table.index, table.to_numpy()), key=lambda item: (-int(item[1]), str(item[0])))
    kept = tuple(str(label) for label, _ in order[:max_categories])
    return ColumnProfile(
        **common,
        categories=kept,
        n_distinct=len(order),
        modal_value=order[0][0] if order else None,
        modal_count=int(order[0][1]) if order else 0,
    )
