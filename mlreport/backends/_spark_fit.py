"""Fitting a reference profile with Spark aggregates (the queries behind ``SparkBackend.fit_profile``).

The same steps as :mod:`mlreport.backends`: one aggregation for every
column's counts, range, mean, ``stddev_samp`` and sentinel counts; then the
kind check, quantile edges and modal candidates, or label counts, per column.
Quantiles come from ``DataFrame.approxQuantile``: relative error 0 gives the
exact order statistics (asked at mid-rank probabilities, so the inverted-CDF
edges equal pandas'); a positive relative error ``r`` bounds each edge's rank
within ``r`` times the number of values (Spark's Greenwald-Khanna guarantee).

Few jobs: each Spark job costs a scheduling round trip however small the
data, and a fit asks several questions per column. So the questions that
can be are asked for every column at once, with the same expressions and
hence the same answers as one column at a time: the distinct-count
estimates (HyperLogLog++ ignores nulls and the order of values) ride in the
one aggregation of :meth:`SparkFit.stats`; the exact order statistics of
every numeric column come from one multi-column ``approxQuantile`` (non-finite
values as nulls, which it ignores per column) at the mid-rank probabilities
the fit will ask for, while the columns' finite values together are at most
:data:`BATCH_VALUES` (relative error 0 holds every value in memory); the label
counts of every text and boolean column from one ``groupBy``; the counts of
every numeric column's candidate modal values (its fine edges, known from
those order statistics) from one ``groupBy``. A question the batch did not
foresee is asked on its own, as before. The candidates' job also counts and sums
the values between consecutive candidates, and the label counts are kept: an
exact fit's reference summaries follow from them, with no job of their own
(:meth:`SparkFit.reference_summaries`). Expressions are Spark SQL text
(:mod:`._spark_sql`): built with ``pyspark.sql.functions`` the sample's fit
made about 17,000 Py4J round trips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ..profile import ColumnProfile, ColumnSummary, ReferenceProfile
from ._spark_sql import sql_double, sql_name
from ._sql_fit import (
    ColumnStats,
    QueryFit,
    derived_summaries,
    inverted_cdf_ranks,
    mid_rank_probabilities,
    numeric_summary,
    stats_from_row,
)
from ._sql_plan import plan_column

if TYPE_CHECKING:
    from ._spark import SparkBackend

__all__ = ["SparkFit", "BATCH_VALUES"]

BATCH_VALUES = 5_000_000
"""At most this many finite values (all columns together) have their exact quantiles found in one job."""

_INFINITY = sql_double(float("inf"))
_ZERO = sql_double(0.0)


def _finite(value: str) -> str:
    """``value`` (SQL text, a double) is a finite number."""
    return f"({value} IS NOT NULL AND NOT isnan({value}) AND abs({value}) != {_INFINITY})"


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
        self._stats: dict[str, ColumnStats] = {}
        self._estimates: dict[str, int | None] = {}
        self._exact: dict[str, dict[float, float]] | None = None
        self._labels: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
        self._counted: dict[str, dict[float, int]] | None = None
        self._between: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._label_counts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._few: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
        self._sentinels: tuple[float, ...] = ()

    def _value(self, name: str) -> str:
        """The column read as a double, as Spark SQL text (strings through ``TRY_CAST``)."""
        raw = sql_name(name)
        return f"TRY_CAST({raw} AS DOUBLE)" if self.kinds[name] == "string" else f"CAST({raw} AS DOUBLE)"

    def _finite_value(self, name: str) -> str:
        """The column's value as a double where it is finite (``+ 0.0``: -0.0 is 0.0), else null (SQL text)."""
        v = self._value(name)
        return f"CASE WHEN {_finite(v)} THEN {v} + {_ZERO} END"

    def _finite(self, name: str) -> Any:
        """The column's finite values as one column ``v``, -0.0 as 0.0, as pandas groups them."""
        return self.frame.selectExpr(f"{self._finite_value(name)} AS v").where("v IS NOT NULL")

    def stats(self, names: Sequence[str], numeric: set[str], sentinels: Sequence[float]) -> dict[str, ColumnStats]:
        self._sentinels = tuple(float(s) for s in sentinels)
        def count_if(condition: str) -> str:
            return f"count(CASE WHEN {condition} THEN 1 END)"

        parts: list[str] = ["count(1)"]
        layout: list[tuple[str, bool, int]] = []
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
            raw = sql_name(name)
            if kind == "number" or name in numeric:
                v = self._value(name)
                finite = _finite(v)
                infinite = f"abs({v}) = {_INFINITY}"
                if kind == "string":
                    parts += [count_if(f"{raw} IS NULL"), count_if(infinite),
                              count_if(f"{raw} IS NOT NULL AND ({v} IS NULL OR isnan({v}))")]
                else:
                    parts += [count_if(f"{v} IS NULL OR isnan({v})"), count_if(infinite), "0"]
                finite_value = f"CASE WHEN {finite} THEN {v} END"
                parts += [count_if(finite), f"min({finite_value})", f"max({finite_value})", f"avg({finite_value})",
                          f"stddev_samp({finite_value})"]
                parts += [count_if(f"{finite} AND {v} = {sql_double(float(s))}") for s in sentinels]
                layout.append((name, True, 8 + len(sentinels)))
            else:
                parts.append(count_if(f"{raw} IS NULL"))
                layout.append((name, False, 1))
        numbers = [name for name, reads_numbers, _ in layout if reads_numbers]
        estimates = [f"approx_count_distinct({self._finite_value(name)})" for name in numbers]
        row = self.frame.selectExpr(*parts, *estimates).collect()[0]
        dtypes = {}
        for name, _, _ in layout:
            type_name = self.frame.schema[name].dataType.simpleString()
            dtypes[name] = _DTYPES.get(type_name, type_name)
        self._estimates = dict(zip(numbers, row[len(parts):], strict=True))
        self._stats = stats_from_row(row[: len(parts)], layout, dtypes, len(sentinels))
        return self._stats

    # -- FitQueries ----------------------------------------------------------
    def _distinct_estimate(self, name: str) -> int | None:
        if name in self._estimates:
            return self._estimates[name]
        return self._finite(name).selectExpr("approx_count_distinct(v)").collect()[0][0]

    def _distinct_values(self, name: str, limit: int) -> list[float]:
        if self._few is None:
            self._few = self._batch_few(limit - 1)
        if name in self._few:
            return self._few[name][0][: int(limit)].tolist()
        return [r[0] for r in self._finite(name).distinct().limit(int(limit)).collect()]

    def _batch_few(self, at_most: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every finite value and its count, for each numeric column with few distinct values, in one job.

        The columns :meth:`QueryFit.distinct_numbers` looks into (those whose
        distinct-count estimate is at most ``4 * at_most + 16``): their first
        ``limit`` distinct values (:meth:`_distinct_values`) and, when the
        column turns out categorical, its label counts (:meth:`label_counts`)
        come from here instead of two jobs per column. The same values and
        counts as those jobs (``v + 0.0``: -0.0 counted as 0.0, as there).
        """
        names = [
            name for name, stat in self._stats.items()
            if stat.numeric_values and stat.finite and (estimate := self._estimates.get(name)) is not None
            and int(estimate) <= 4 * at_most + 16
        ]
        if len(names) < 2:
            return {}
        records = ", ".join(f"named_struct('c', {i}, 'v', {self._finite_value(n)})" for i, n in enumerate(names))
        stacked = self.frame.selectExpr(f"inline(array({records}))").where("v IS NOT NULL")
        found: dict[int, list[tuple[float, int]]] = {i: [] for i in range(len(names))}
        for c, v, n in stacked.groupBy("c", "v").count().collect():
            found[int(c)].append((float(v), int(n)))
        return {
            name: (np.array([v for v, _ in found[i]], dtype=float), np.array([n for _, n in found[i]], dtype=np.int64))
            for i, name in enumerate(names)
        }

    def _exact_values(self, name: str, probabilities: list[float]) -> Sequence[float]:
        if self._exact is None:
            self._exact = self._batch_exact(name, probabilities)
        found = self._exact.get(name, {})
        if all(p in found for p in probabilities):
            return [found[p] for p in probabilities]
        return self._finite(name).approxQuantile("v", probabilities, 0.0)

    def _batch_exact(self, name: str, probabilities: list[float]) -> dict[str, dict[float, float]]:
        """Exact order statistics of every numeric column in one job (module docstring), by column and probability.

        The probabilities of each column are those :class:`QueryFit` asks for
        its ``n`` finite values (every count's inverted-CDF ranks, at mid-rank
        probabilities), and ``probabilities`` for ``name``; every column is
        asked at their union (an exact quantile does not depend on the
        others asked). Empty when the values are too many for one job.
        """
        wanted = {name: list(probabilities)}
        for other, stat in self._stats.items():
            if other != name and stat.numeric_values and stat.finite:
                ranks = np.unique(np.concatenate([inverted_cdf_ranks(stat.finite, c) for c in self.counts]))
                wanted[other] = mid_rank_probabilities(ranks, stat.finite)
        finite = sum(self._stats[c].finite if c in self._stats else BATCH_VALUES for c in wanted)
        if len(wanted) < 2 or finite > BATCH_VALUES:
            return {}
        names = list(wanted)
        union = sorted({p for asked in wanted.values() for p in asked})
        columns = [f"{self._finite_value(c)} AS q{i}" for i, c in enumerate(names)]
        answers = self.frame.selectExpr(*columns).approxQuantile([f"q{i}" for i in range(len(names))], union, 0.0)
        return {c: dict(zip(union, values, strict=True)) for c, values in zip(names, answers, strict=True) if values}

    def _approximate_values(self, name: str, n: int, probabilities: list[float]) -> Sequence[float] | None:
        if self.relative_error is None:
            return None
        return self._finite(name).approxQuantile("v", probabilities, self.relative_error)

    def count_values(self, name: str, values: np.ndarray) -> np.ndarray:
        if values.size == 0:
            return np.zeros(0, dtype=np.int64)
        if self._counted is None:
            self._counted = self._batch_counts()
        keys = [float(v) + 0.0 for v in values]
        candidates = self._counted.get(name)
        if candidates is not None and all(key in candidates for key in keys):
            return np.array([candidates[key] for key in keys], dtype=np.int64)
        listed = ", ".join(sql_double(v) for v in values)
        rows = self._finite(name).where(f"v IN ({listed})").groupBy("v").count().collect()
        found = {float(v): int(c) for v, c in rows}
        return np.array([found.get(key, 0) for key in keys], dtype=np.int64)

    def _batch_counts(self) -> dict[str, dict[float, int]]:
        """How often each candidate modal value occurs, for every numeric column in one job (by column, value).

        A numeric column's candidates are its fine edges (:func:`_numeric_profile`):
        its quantiles at every count and its maximum, all known once the exact
        order statistics are (:meth:`_batch_exact`, no job). Each column's
        values among its candidates are counted, so any later question about
        a subset of them is answered exactly (a value not found occurs 0
        times); empty when the quantiles are not known yet or approximate.

        The same job counts and sums the values between consecutive
        candidates (``k``: how many candidates lie strictly below the value,
        by Spark ML's ``Bucketizer`` as :meth:`SparkBackend._records` bins;
        ``e``: the value is the candidate ``k``), kept in ``_between``: the
        profile's fine edges are among the candidates, so the reference's
        fine-bin counts and sums follow without another pass
        (:meth:`reference_summaries`).
        """
        if self.relative_error is not None or not self._exact:
            return {}
        wanted: dict[str, np.ndarray] = {}
        for name, stat in self._stats.items():
            if not (stat.numeric_values and stat.finite and name in self._exact):
                continue
            asked = [self.quantiles(name, stat.finite, count) for count in self.counts]
            wanted[name] = np.unique(np.concatenate([*asked, [float(stat.maximum)]]) + 0.0)  # type: ignore[arg-type]
        if len(wanted) < 2:
            return {}
        from pyspark.sql import functions as F

        names = list(wanted)
        staged = []
        records = []
        for i, name in enumerate(names):
            listed = ", ".join(sql_double(v) for v in wanted[name])
            staged += [f"{self._finite_value(name)} AS q{i}", f"CASE WHEN {_finite(self._value(name))} THEN "
                       f"-({self._value(name)} + {_ZERO}) ELSE {_ZERO} END AS n{i}"]
            records.append(
                f"named_struct('c', {i}, 'k', CAST({wanted[name].size} - k{i} AS INT), "
                f"'e', q{i} IN ({listed}), 'v', q{i})"
            )
        bucketed = self.backend._bucketize(self.frame.selectExpr(*staged), {i: wanted[n] for i, n in enumerate(names)})
        rows = (
            bucketed.selectExpr(f"inline(array({', '.join(records)}))")
            .where("v IS NOT NULL").groupBy("c", "k", "e").agg(F.expr("count(1)"), F.expr("sum(v)")).collect()
        )
        found: dict[str, dict[float, int]] = {name: dict.fromkeys(wanted[name].tolist(), 0) for name in names}
        between = {name: (np.zeros(wanted[name].size + 1, dtype=np.int64), np.zeros(wanted[name].size + 1))
                   for name in names}
        for c, k, e, n, total in rows:
            name = names[int(c)]
            if e:
                found[name][float(wanted[name][int(k)])] = int(n)
            between[name][0][int(k)] += int(n)
            between[name][1][int(k)] += float(total)
        self._between = {name: (wanted[name], *between[name]) for name in names}
        return found

    def label_counts(self, name: str, numbers: bool) -> tuple[np.ndarray, np.ndarray]:
        found = self._label_counts[name] = self._label_counts_of(name, numbers)
        return found

    def _label_counts_of(self, name: str, numbers: bool) -> tuple[np.ndarray, np.ndarray]:
        if numbers:
            if self._few and name in self._few:
                return self._few[name]
            rows = self._finite(name).groupBy("v").count().collect()
            return np.array([r[0] for r in rows], dtype=float), np.array([r[1] for r in rows], dtype=np.int64)
        if self._labels is None:
            self._labels = self._batch_labels()
        if name in self._labels:
            return self._labels[name]
        rows = self.frame.selectExpr(f"{self._label(name)} AS k").where("k IS NOT NULL").groupBy("k").count()
        found = rows.collect()
        return np.array([r[0] for r in found], dtype=object), np.array([r[1] for r in found], dtype=np.int64)

    def _label(self, name: str) -> str:
        """The column's label as Spark SQL text (booleans as ``True`` / ``False``, as pandas labels them)."""
        raw = sql_name(name)
        if self.kinds[name] == "bool":
            return f"(CASE WHEN {raw} THEN 'True' WHEN NOT {raw} THEN 'False' END)"
        return f"CAST({raw} AS STRING)"

    def _batch_labels(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Label counts of every column not read as numbers, in one ``groupBy`` (module docstring)."""
        names = [name for name, stat in self._stats.items() if not stat.numeric_values]
        if len(names) < 2:
            return {}
        records = ", ".join(f"named_struct('c', {i}, 'k', {self._label(n)})" for i, n in enumerate(names))
        stacked = self.frame.selectExpr(f"inline(array({records}))").where("k IS NOT NULL")
        rows = stacked.groupBy("c", "k").count().collect()
        found: dict[int, list[tuple[Any, int]]] = {i: [] for i in range(len(names))}
        for c, k, n in rows:
            found[int(c)].append((k, int(n)))
        return {
            name: (np.array([k for k, _ in found[i]], dtype=object), np.array([n for _, n in found[i]], dtype=np.int64))
            for i, name in enumerate(names)
        }

    # -- the profile ---------------------------------------------------------
    def reference_summaries(self, profile: ReferenceProfile) -> dict[str, ColumnSummary]:
        """The reference's summaries of the columns the fit's own jobs already counted: no pass over the rows.

        A numeric column's fine bins from the counts and sums between its
        modal candidates (:meth:`_batch_counts`; its fine edges are among
        them); its sentinel counts from :meth:`stats`, where the counting plan
        counts them (:func:`plan_column`: a sentinel with its own exact bin);
        its modal count from the candidates' counts. A categorical column from
        its label counts (:func:`categorical_summary`). Values outside the
        reference's range: none, by definition. Only exact fits; a column
        not derived here (approximate quantiles, a fine edge not among the
        candidates, counts that do not add up to the column's finite values)
        is left out, for the caller to count (:meth:`Backend.summarize`).
        Counts equal the counting job's; sums add in another order (about
        1e-12 relative).
        """
        if self.relative_error is not None:
            return {}
        return derived_summaries(profile, self._stats, self._numeric_summary, self._label_counts, self._sentinels)

    def _numeric_summary(self, column: ColumnProfile, stat: ColumnStats) -> ColumnSummary | None:
        n_fine = column.fine_edges.size + 1
        modal_count = 0
        plan = plan_column(column, self.kinds[column.name], self._sentinels)
        if stat.finite == 0:
            fine_counts, fine_sums = np.zeros(n_fine, dtype=np.int64), np.zeros(n_fine)
        elif column.name in self._between and plan.bins is not None:
            candidates, counts_at, sums_at = self._between[column.name]
            fine = np.asarray(column.fine_edges, dtype=float) + 0.0
            if counts_at[-1] or not np.isin(fine, candidates).all() or int(counts_at.sum()) != stat.finite:
                return None
            # the values of candidate k's interval (and those equal to it) lie in the fine bin holding candidate k
            fine_of = np.searchsorted(fine, candidates, side="left")
            fine_counts = np.bincount(fine_of, weights=counts_at[:-1], minlength=n_fine).astype(np.int64)
            fine_sums = np.asarray(np.bincount(fine_of, weights=sums_at[:-1], minlength=n_fine), dtype=np.float64)
            if plan.bins.modal_bin is not None and plan.modal is not None:
                counted = self._counted or {}
                if plan.modal + 0.0 not in counted.get(column.name, {}):
                    return None
                modal_count = counted[column.name][plan.modal + 0.0]
        else:
            return None
        sentinels = np.zeros(len(column.sentinel_counts), dtype=np.int64)
        if plan.bins is not None and plan.sentinels:
            sentinels = np.array([stat.sentinel_counts[i] if j is not None else 0
                                  for i, j in enumerate(plan.bins.sentinel_bins)], dtype=np.int64)
        return numeric_summary(column, stat, fine_counts, fine_sums, sentinels, modal_count)

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

