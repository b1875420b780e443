"""Fitting a reference profile with Spark aggregates (the queries behind ``SparkBackend.fit_profile``).

The same steps as :mod:`mlreport.duckdb_fit`: one aggregation for every
column's counts, range, mean, ``stddev_samp`` and sentinel counts; then the
kind check, quantile edges and modal candidates, or label counts, per column.
Quantiles come from ``DataFrame.approxQuantile``: relative error 0 gives the
exact order statistics (asked at mid-rank probabilities, so the inverted-CDF
edges equal pandas'); a positive relative error ``r`` bounds each edge's rank
within ``r`` times the number of values (Spark's Greenwald-Khanna guarantee).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from .errors import DataError
from .profile import ReferenceProfile, Summaries
from .pushdown_fit import ColumnStats, inverted_cdf_ranks, mid_rank_probabilities, profile_from_queries

if TYPE_CHECKING:
    from .spark_backend import SparkBackend

__all__ = ["SparkFit"]

_DTYPES = {
    "tinyint": "int8", "smallint": "int16", "int": "int32", "bigint": "int64", "float": "float32",
    "double": "float64", "boolean": "bool", "string": "str",
}


class SparkFit:
    """Answers :class:`mlreport.pushdown_fit.FitQueries` for one Spark DataFrame."""

    def __init__(
        self,
        backend: "SparkBackend",
        frame: Any,
        kinds: Mapping[str, str],
        *,
        relative_error: float | None,
        counts: Sequence[int],
    ) -> None:
        self.backend = backend
        self.frame = frame
        self.kinds = kinds
        self.relative_error = relative_error
        self.counts = tuple(int(c) for c in counts)
        self._quantiles: dict[str, dict[int, np.ndarray]] = {}

    def _value(self, name: str) -> Any:
        raw = self.frame[name]
        return raw.try_cast("double") if self.kinds[name] == "string" else raw.cast("double")

    def _finite(self, name: str) -> Any:
        from pyspark.sql import functions as F

        v = F.col("v")
        finite = v.isNotNull() & ~F.isnan(v) & (F.abs(v) != F.lit(float("inf")))
        # + 0.0 turns -0.0 into 0.0, as pandas groups them.
        return self.frame.select(self._value(name).alias("v")).where(finite).select((v + F.lit(0.0)).alias("v"))

    def stats(self, names: Sequence[str], numeric: set[str], sentinels: Sequence[float]) -> dict[str, ColumnStats]:
        from pyspark.sql import functions as F

        def count_if(condition: Any) -> Any:
            return F.count(F.when(condition, 1))

        parts: list[Any] = [F.count(F.lit(1))]
        layout: list[tuple[str, bool, int]] = []
        infinity = F.lit(float("inf"))
        for name in names:
            if name not in self.kinds:
                raise DataError(f"column {name!r} is not in the reference data", column=name)
            kind = self.kinds[name]
            if kind == "temporal":
                raise DataError(
                    f"column {name!r} holds timestamps; drift is profiled on features, "
                    "use timestamps to cut periods instead",
                    column=name,
                )
            raw = self.frame[name]
            if kind == "number" or name in numeric:
                v = self._value(name)
                finite = v.isNotNull() & ~F.isnan(v) & (F.abs(v) != infinity)
                if kind == "string":
                    parts += [count_if(raw.isNull()), count_if(F.abs(v) == infinity),
                              count_if(raw.isNotNull() & (v.isNull() | F.isnan(v)))]
                else:
                    parts += [count_if(v.isNull() | F.isnan(v)), count_if(F.abs(v) == infinity), F.lit(0)]
                finite_value = F.when(finite, v)
                parts += [count_if(finite), F.min(finite_value), F.max(finite_value), F.avg(finite_value),
                          F.stddev_samp(finite_value)]
                parts += [count_if(finite & (v == F.lit(float(s)))) for s in sentinels]
                layout.append((name, True, 8 + len(sentinels)))
            else:
                parts.append(count_if(raw.isNull()))
                layout.append((name, False, 1))
        row = self.frame.agg(*parts).collect()[0]
        rows = int(row[0])
        if rows == 0:
            raise DataError("reference data has no rows: nothing to fit a profile on")
        result: dict[str, ColumnStats] = {}
        position = 1
        for name, numbers, width in layout:
            values = row[position : position + width]
            position += width
            type_name = self.frame.schema[name].dataType.simpleString()
            dtype = _DTYPES.get(type_name, type_name)
            if numbers:
                missing = int(values[0])
                if dtype.startswith("int") and missing:
                    dtype = "float64"
                result[name] = ColumnStats(
                    name=name, dtype=dtype, numeric_values=True, rows=rows, missing=missing,
                    nonfinite=int(values[1]), invalid=int(values[2]), finite=int(values[3]),
                    minimum=_float(values[4]), maximum=_float(values[5]), mean=_float(values[6]),
                    std=_float(values[7]) if int(values[3]) >= 2 else None,
                    sentinel_counts=tuple(int(v) for v in values[8:]),
                )
            else:
                result[name] = ColumnStats(
                    name=name, dtype=dtype, numeric_values=False, rows=rows, missing=int(values[0]),
                    nonfinite=0, invalid=0,
                )
        return result

    # -- FitQueries ----------------------------------------------------------
    def distinct_numbers(self, name: str, at_most: int) -> np.ndarray | None:
        from pyspark.sql import functions as F

        finite = self._finite(name)
        estimate = finite.agg(F.approx_count_distinct("v")).collect()[0][0]
        if estimate is not None and int(estimate) > 4 * at_most + 16:
            return None
        rows = finite.distinct().limit(int(at_most) + 1).collect()
        if len(rows) > at_most:
            return None
        return np.sort(np.array([r[0] for r in rows], dtype=float))

    def quantiles(self, name: str, n: int, count: int) -> np.ndarray:
        cached = self._quantiles.get(name)
        if cached is None:
            cached = self._quantiles[name] = self._all_quantiles(name, n)
        return cached[count]

    def _all_quantiles(self, name: str, n: int) -> dict[int, np.ndarray]:
        finite = self._finite(name)
        if self.relative_error is not None:
            probabilities = sorted({k / c for c in self.counts for k in range(1, c)})
            values = finite.approxQuantile("v", probabilities, self.relative_error)
            found = dict(zip(probabilities, values))
            return {c: np.array([found[k / c] for k in range(1, c)], dtype=float) for c in self.counts}
        ranks = np.unique(np.concatenate([inverted_cdf_ranks(n, c) for c in self.counts]))
        values = finite.approxQuantile("v", mid_rank_probabilities(ranks, n), 0.0)
        found = dict(zip(ranks.tolist(), values))
        return {c: np.array([found[int(j)] for j in inverted_cdf_ranks(n, c)], dtype=float) for c in self.counts}

    def count_values(self, name: str, values: np.ndarray) -> np.ndarray:
        from pyspark.sql import functions as F

        if values.size == 0:
            return np.zeros(0, dtype=np.int64)
        rows = (
            self._finite(name).where(F.col("v").isin([float(v) for v in values]))
            .groupBy("v").count().collect()
        )
        found = {float(v): int(c) for v, c in rows}
        return np.array([found.get(float(v) + 0.0, 0) for v in values], dtype=np.int64)

    def label_counts(self, name: str, numbers: bool) -> tuple[np.ndarray, np.ndarray]:
        from pyspark.sql import functions as F

        if numbers:
            rows = self._finite(name).groupBy("v").count().collect()
            return np.array([r[0] for r in rows], dtype=float), np.array([r[1] for r in rows], dtype=np.int64)
        raw = self.frame[name]
        if self.kinds[name] == "bool":
            key = F.when(raw, F.lit("True")).when(~raw, F.lit("False"))
        else:
            key = raw.cast("string")
        rows = self.frame.select(key.alias("k")).where(F.col("k").isNotNull()).groupBy("k").count().collect()
        return np.array([r[0] for r in rows], dtype=object), np.array([r[1] for r in rows], dtype=np.int64)

    # -- the profile ---------------------------------------------------------
    def profile(
        self,
        names: Sequence[str],
        *,
        categorical: Sequence[str] | None,
        numeric: Sequence[str] | None,
        bins: int,
        fine_bins: int,
        max_categories: int,
        sentinels: Sequence[float],
        discrete_max: int,
    ) -> ReferenceProfile:
        """A profile whose ``reference`` is still empty: the backend counts it next."""
        from .duckdb_fit import _check_settings

        _check_settings(bins, fine_bins, max_categories, discrete_max, categorical, numeric)
        sentinel_values = tuple(float(s) for s in sentinels)
        stats = self.stats(list(names), set(numeric or ()), sentinel_values)
        columns = profile_from_queries(
            stats, self, categorical=list(categorical or ()), numeric=list(numeric or ()), bins=bins,
            fine_bins=fine_bins, max_categories=max_categories, sentinels=sentinel_values,
            discrete_max=discrete_max,
        )
        rows = next(iter(stats.values())).rows if stats else 0
        settings = {
            "bins": int(bins), "fine_bins": int(fine_bins), "max_categories": int(max_categories),
            "sentinels": list(sentinel_values), "discrete_max": int(discrete_max),
        }
        return ReferenceProfile(columns=columns, reference=Summaries(rows=rows, columns={}), rows=rows, settings=settings)

    def description(self, bins: int) -> dict[str, Any]:
        if self.relative_error is None:
            return {
                "backend": "spark", "quantiles": "exact",
                "method": "Spark approxQuantile with relative error 0 at mid-rank probabilities: the "
                          "inverted-CDF quantiles, as pandas",
                "max_rank_error": 0.0,
            }
        return {
            "backend": "spark", "quantiles": "approx",
            "method": f"Spark approxQuantile, relative error {self.relative_error:g} (each edge's rank "
                      f"within {self.relative_error:g} x the number of values)",
            "max_rank_error": float(self.relative_error),
        }


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
