"""Decision counts with Spark: the same three steps as :mod:`mlreport.backends`.

Time range (``min``/``max``/``count``), baseline score order statistics
(``approxQuantile`` with relative error 0 at mid-rank probabilities), then one
``groupingSets`` job over ``(period, decision)``, ``(period, segment,
decision)`` per segment column and ``(period, score band)``. Timestamps:
``TIMESTAMP`` (an instant) is read in ``config.timezone`` or UTC;
``TIMESTAMP_NTZ`` and strings are wall-clock times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..counts import CountGrid, DecisionCounts, DecisionRoles
from ..errors import DataError
from ._source import Source
from ._spark_sql import _ntz, _tree, spark_source_kind
from ._sql_fit import mid_rank_probabilities
from ._sql_plan import search_tree
from ._sql_volume import NO_TIME, OUTSIDE, OverallRow, ScoreRow, SegmentRow, check_roles, plan_windows, score_edges
from ._sql_volume import decision_counts as build_counts

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from ._spark import SparkBackend

__all__ = ["decision_counts"]


def _label(frame: DataFrame, column: str) -> Column:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    value = frame[column]
    if isinstance(frame.schema[column].dataType, (T.DoubleType, T.FloatType)):
        return F.when(~F.isnan(value), value)  # pandas: NaN is a missing label
    return value


def _ntz_sql(stamp: pd.Timestamp) -> str:
    return f"TIMESTAMP_NTZ '{pd.Timestamp(stamp).strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def decision_counts(backend: SparkBackend, source: Source, config: CountGrid, roles: DecisionRoles) -> DecisionCounts:
    """:class:`~mlreport.counts.DecisionCounts` of a Spark source (= :func:`mlreport.counts.count_decisions`).

    ``roles`` as :func:`mlreport.counts.decision_roles` builds them.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    timestamp_column, decision_column = roles["timestamp_column"], roles["decision_column"]
    score_column, override_column = roles["score_column"], roles["override_column"]
    frame = backend._frame(source)
    check_roles(list(frame.columns), roles)
    ts_type = frame.schema[timestamp_column].dataType
    aware = isinstance(ts_type, T.TimestampType)
    zone = (config.timezone or "UTC") if aware else config.timezone
    ts = backend._timestamp(frame, timestamp_column, zone)
    raw_ts = frame[timestamp_column]

    first, last, present, total, unread = frame.agg(
        F.min(ts), F.max(ts), F.count(ts), F.count(F.lit(1)), F.count(F.when(raw_ts.isNotNull() & ts.isNull(), 1))
    ).collect()[0]
    if unread:
        raise DataError(
            f"column {timestamp_column!r} has {unread} value(s) that are not ISO 8601 timestamps",
            column=timestamp_column,
        )
    plan = plan_windows(first, last, int(present), int(total), config, column=timestamp_column)
    # Exact integer period codes: SQL ``div`` on whole nanoseconds (doubles would round).
    period_sql = (
        f"CASE WHEN __ts IS NULL THEN {NO_TIME} "
        f"WHEN __ts < {_ntz_sql(plan.baseline_start)} OR __ts >= {_ntz_sql(plan.end)} THEN {OUTSIDE} "
        f"ELSE (unix_micros(CAST(__ts AS TIMESTAMP)) * 1000 - {int(plan.baseline_start.value)}) div {plan.step_ns} END"
    )
    start = _ntz(plan.baseline_start)

    edges = None
    band = F.lit(None).cast("int")
    if score_column:
        if spark_source_kind(frame.schema[score_column].dataType) != "number":
            raise DataError(
                f"score column {score_column!r} holds {frame.schema[score_column].dataType.simpleString()} "
                "values, expected numbers",
                column=score_column,
            )
        score = frame[score_column].cast("double")
        finite = score.isNotNull() & ~F.isnan(score) & (F.abs(score) != F.lit(float("inf")))
        baseline = frame.where((ts >= start) & (ts < _ntz(plan.analysis_start)) & finite).select(score.alias("v"))
        n_scores = baseline.count()

        def order_statistics(ranks: np.ndarray) -> np.ndarray:
            return np.array(baseline.approxQuantile("v", mid_rank_probabilities(ranks, n_scores), 0.0), dtype=float)

        edges = score_edges(order_statistics, n_scores, config.score_bands)
        if edges is not None:
            band = F.when(~finite, edges.size + 1).otherwise(_tree(search_tree(edges.size), score, edges, strict=True))

    flag, known = F.lit(0.0), F.lit(0.0)
    if override_column:
        raw = frame[override_column]
        if spark_source_kind(frame.schema[override_column].dataType) in ("number", "bool"):
            value = raw.cast("double")
            is_known = value.isNotNull() & ~F.isnan(value)
            odd = frame.where(is_known & ~value.isin([0.0, 1.0])).count()
            if odd:
                raise DataError(
                    f"override column {override_column!r} holds numbers other than 0 and 1; expected an "
                    "override flag or a final decision label",
                    column=override_column,
                )
            known = F.when(is_known, 1.0).otherwise(0.0)
            flag = F.when(is_known, value).otherwise(0.0)
        else:
            decision_text = F.coalesce(frame[decision_column].cast("string"), F.lit(""))
            known = F.when(raw.isNotNull(), 1.0).otherwise(0.0)
            flag = F.when(raw.isNotNull() & (raw.cast("string") != decision_text), 1.0).otherwise(0.0)

    segments = roles["segment_columns"]
    names = [f"s{i}" for i in range(len(segments))]
    selected = frame.select(
        ts.alias("__ts"), _label(frame, decision_column).alias("d"),
        *[_label(frame, c).alias(n) for c, n in zip(segments, names, strict=True)],
        band.alias("band"), flag.alias("f"), known.alias("kn"),
    ).withColumn("p", F.expr(period_sql))
    sets = [["p", "d"]] + [["p", n, "d"] for n in names] + ([["p", "band"]] if edges is not None else [])
    rows = (
        selected.groupingSets(sets, "p", "d", *names, "band")
        .agg(*[F.grouping(c).alias(f"g_{c}") for c in ["d", *names, "band"]],
             F.count(F.lit(1)).alias("n"), F.sum("f").alias("sf"), F.sum("kn").alias("sk"))
        .collect()
    )
    overall: list[OverallRow] = []
    by_segment: dict[str, list[SegmentRow]] = {c: [] for c in segments}
    scores: list[ScoreRow] = []
    for row in rows:
        record = row.asDict()
        n = int(record["n"])
        if not record["g_band"]:
            scores.append((int(record["p"]), int(record["band"]), n))
        elif record["g_d"]:
            continue
        elif all(record[f"g_{name}"] for name in names):
            overall.append((int(record["p"]), record["d"], n, float(record["sf"] or 0), float(record["sk"] or 0)))
        else:
            i = next(i for i, name in enumerate(names) if not record[f"g_{name}"])
            by_segment[segments[i]].append((int(record["p"]), record[names[i]], record["d"], n))
    return build_counts(
        plan, config, roles=roles, zone=zone, overall=overall, segments=by_segment,
        scores=scores if edges is not None else None, edges=edges,
    )
