"""Fitting a reference profile with DuckDB aggregates (the queries behind ``DuckDBBackend.fit_profile``).

One query gathers every column's counts, range, mean and standard deviation
(``stddev_samp``, ddof 1) and sentinel counts; then, per column, the kind
check (distinct values, screened by ``approx_count_distinct``), the quantile
edges and the modal candidates (numeric kind) or the label counts
(categorical kind). :func:`mlreport.backends.fit_from_queries` applies
:meth:`ReferenceProfile.fit`'s rules to the answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ..profile import ReferenceProfile
from ._duckdb_sql import _PANDAS_DTYPE, _ident, literal, source_kind
from ._sql_fit import ColumnStats, QueryFit, stats_from_row

if TYPE_CHECKING:
    from ._duckdb import DuckDBBackend

__all__ = ["DuckDBFit"]

APPROX_METHOD = (
    "DuckDB quantile_disc on a {sampling} sample of about {m:,} values (USING SAMPLE {percent:.3g} PERCENT "
    "({sampling}, {seed})); each edge's rank error about sqrt(p(1-p)/m); measured on the whole reference: "
    "max_rank_error"
)
EXACT_METHOD = "DuckDB quantile_disc at mid-rank probabilities: the inverted-CDF quantiles, as pandas"


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
        self._sampling = "system"
        self._numeric: set[str] = set()
        self._equal_counts: dict[str, dict[float, int]] = {}

    def _sql(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return self.backend.con.execute(sql).fetchall()
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

        projected: list[str] = []
        parts: list[str] = ["count(*)"]
        layout: list[tuple[str, bool, int]] = []
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
                projected += [
                    f"CASE WHEN isfinite({v}) THEN {v} END AS f{index}",
                    f"isinf({v}) AS inf{index}",
                    # missing: NULL or NaN in the source; invalid: present but unreadable (strings)
                    (f"{q} IS NULL AS null{index}" if kind == "string"
                     else f"({v} IS NULL OR isnan({v})) AS null{index}"),
                    (f"({q} IS NOT NULL AND ({v} IS NULL OR isnan({v}))) AS bad{index}" if kind == "string"
                     else f"FALSE AS bad{index}"),
                ]
                parts += [
                    f"count(*) FILTER (WHERE null{index})",
                    f"count(*) FILTER (WHERE inf{index})",
                    f"count(*) FILTER (WHERE bad{index})",
                    f"count(f{index})",
                    f"min(f{index})",
                    f"max(f{index})",
                    f"avg(f{index})",
                    f"stddev_samp(f{index})",
                ]
                layout.append((name, True, 8))
            else:
                projected.append(f"{q} IS NULL AS null{index}")
                parts.append(f"count(*) FILTER (WHERE null{index})")
                layout.append((name, False, 1))
        select = ", ".join(projected) if projected else "1 AS one"
        row = self._sql(
            f"SELECT {', '.join(parts)} FROM (SELECT {select} FROM {self.relation} WHERE {self.where})"
        )[0]
        dtypes = {}
        for name, _, _ in layout:
            sql_type = self.schema[name].upper().split("(")[0]
            dtypes[name] = _PANDAS_DTYPE.get(sql_type, sql_type.lower())
        return stats_from_row(row, layout, dtypes, len(sentinels))

    # -- FitQueries ----------------------------------------------------------
    def _distinct_estimate(self, name: str) -> int | None:
        return self._sql(f"SELECT approx_count_distinct(v) FROM {self._finite(name)}")[0][0]

    def _distinct_values(self, name: str, limit: int) -> list[float]:
        return [r[0] for r in self._sql(f"SELECT DISTINCT v + 0.0 FROM {self._finite(name)} LIMIT {int(limit)}")]

    def _exact_values(self, name: str, probabilities: list[float]) -> Sequence[float]:
        return self._sql(f"SELECT quantile_disc(v, {_list(probabilities)}) FROM {self._finite(name)}")[0][0]

    def _approximate_values(self, name: str, n: int, probabilities: list[float]) -> Sequence[float] | None:
        percent = 100.0 * self.sample_values / n if n else 100.0
        if not (self.approximate and percent < 100.0):
            return None
        # A system sample reads whole vectors of rows: about five times faster than
        # approx_quantile's t-digest here, with the same rank error (about 0.1 %).
        self._percent = max(self._percent, percent)
        # system sampling takes whole vectors of 2048 rows: on small data, row by row
        method = "system" if n > 200 * 2048 else "bernoulli"
        self._sampling = method
        # None (a sample without values) falls back to every value
        return self._sql(
            f"SELECT quantile_disc(v, {_list(probabilities)}) FROM (SELECT v FROM {self._finite(name)}) "
            f"USING SAMPLE {percent:.6f} PERCENT ({method}, {self.seed})"
        )[0][0]

    def count_values(self, name: str, values: np.ndarray) -> np.ndarray:
        if values.size == 0:
            return np.zeros(0, dtype=np.int64)
        wanted = ", ".join(literal(v) for v in values)
        rows = self._sql(f"SELECT v + 0.0, count(*) FROM {self._finite(name)} AND v IN ({wanted}) GROUP BY 1")
        found = {float(v): int(c) for v, c in rows}
        self._equal_counts[name] = found
        return np.array([found.get(float(v) + 0.0, 0) for v in values], dtype=np.int64)

    def label_counts(self, name: str, numbers: bool) -> tuple[np.ndarray, np.ndarray]:
        if numbers:
            rows = self._sql(f"SELECT v + 0.0, count(*) FROM {self._finite(name)} GROUP BY 1")
            return np.array([r[0] for r in rows], dtype=float), np.array([r[1] for r in rows], dtype=np.int64)
        q = _ident(name)
        kind = source_kind(self.schema[name])
        if kind == "bool":
            key = f"CASE WHEN {q} THEN 'True' WHEN NOT {q} THEN 'False' END"
        else:
            key = q if kind == "string" else f"CAST({q} AS VARCHAR)"
        rows = self._sql(
            f"SELECT k, count(*) FROM (SELECT {key} AS k FROM {self.relation} WHERE {self.where}) "
            "WHERE k IS NOT NULL GROUP BY k"
        )
        return np.array([r[0] for r in rows], dtype=object), np.array([r[1] for r in rows], dtype=np.int64)

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
        return {
            "backend": "duckdb",
            "quantiles": "approx" if self.approximate and self._percent else "exact",
            "method": (
                APPROX_METHOD.format(
                    m=self.sample_values, percent=self._percent, seed=self.seed, sampling=self._sampling
                )
                if self.approximate and self._percent
                else EXACT_METHOD
            ),
            "max_rank_error": round(self.max_rank_error(profile, bins), 6),
        }


def _list(values: Sequence[float]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"

