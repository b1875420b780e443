"""Fitting a reference profile with Spark aggregates (the queries behind ``SparkBackend.fit_profile``).

The same steps as :mod:`mlreport.backends`: one aggregation for every
column's counts, range, mean, ``stddev_samp`` and sentinel counts; then the
kind check, quantile edges and modal candidates, or label counts, per column.
Quantiles come from ``DataFrame.approxQuantile``: relative error 0 gives the
exact order statistics (asked at mid-rank probabilities, so the inverted-CDF
edges equal pandas'); a positive relative error ``r`` bounds each edge's rank
within ``r`` times the number of values (Spark's Greenwald-Khanna guarantee).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ._sql_fit import ColumnStats, QueryFit, stats_from_row

if TYPE_CHECKING:
    from ._spark import SparkBackend

__all__ = ["SparkFit"]

_DTYPES = {
    "tinyint": "int8", "smallint": "int16", "int": "int32", "bigint": "int64", "float": "float32",
    "double": "float64", "boolean": "bool", "string": "str",
}


class SparkFit(QueryFit):
    """Answers :class:`mlreport.backends.FitQueries` for one Spark DataFrame."""

    def __init__(
        self,
        backend: SparkBackend,
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
        super().__init__(counts)

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
        dtypes = {}
        for name, _, _ in layout:
            type_name = self.frame.schema[name].dataType.simpleString()
            dtypes[name] = _DTYPES.get(type_name, type_name)
        return stats_from_row(row, layout, dtypes, len(sentinels))

    # -- FitQueries ----------------------------------------------------------
    def _distinct_estimate(self, name: str) -> int | None:
        from pyspark.sql import functions as F

        return self._finite(name).agg(F.approx_count_distinct("v")).collect()[0][0]

    def _distinct_values(self, name: str, limit: int) -> list[float]:
        return [r[0] for r in self._finite(name).distinct().limit(int(limit)).collect()]

    def _exact_values(self, name: str, probabilities: list[float]) -> Sequence[float]:
        return self._finite(name).approxQuantile("v", probabilities, 0.0)

    def _approximate_values(self, name: str, n: int, probabilities: list[float]) -> Sequence[float] | None:
        if self.relative_error is None:
            return None
        return self._finite(name).approxQuantile("v", probabilities, self.relative_error)

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
    def description(self, profile: Any, bins: int) -> dict[str, Any]:
        """``settings["fit"]``: how the quantiles were found and the rank error they may carry."""
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

