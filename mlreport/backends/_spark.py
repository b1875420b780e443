"""The Spark backend: the same SQL-shaped aggregates with the PySpark DataFrame API.

Sources: a Spark DataFrame, a table name (``Source(table="db.decisions")``),
local Parquet / CSV paths (read with ``spark.read``, partition columns added
with the types :mod:`mlreport.data` decides), or objects in a store and
``sql:`` queries, which are read on the driver through :mod:`mlreport.data`
and then counted here (Spark's own Hadoop connectors and JDBC drivers are not
assumed; on a cluster, register such data as a table and pass its name). Spark reads timestamps with
microsecond precision: Parquet files must not hold nanosecond timestamps
(write them with ``coerce_timestamps="us"``).

Session: pass ``spark=`` (an existing ``SparkSession``, e.g. on a cluster), or
let the backend build one with ``master`` (default ``$MLREPORT_SPARK_MASTER``,
else ``local[*]``) and ``config`` (extra ``spark.*`` settings). The session
time zone is set to UTC so that timestamps read as naive UTC, as
:mod:`mlreport.data` reads them.

Counting: every profiled column becomes, per row, one record ``(column, code,
value, below, above, sentinel, modal)`` (:mod:`mlreport.backends` codes; a
numeric bin by a ``CASE WHEN`` binary search, which Spark compiles to JVM
code); ``inline`` stacks the records and one ``groupBy(group, column, code,
sentinel)`` job counts them all. Quantiles: ``approxQuantile`` with relative
error 0 (exact, asked at mid-rank probabilities) or ``relative_error``
(default 0.001: Spark guarantees the rank of each edge within 0.1 % of the
rows).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import data
from ..counts import CountGrid, DecisionCounts, DecisionRoles
from ..errors import DataError, ParameterError
from ..profile import ReferenceProfile, Summaries
from ._base import Backend
from ._source import Grouping, Source, SourceLike, as_source
from ._spark_fit import SparkFit
from ._spark_sql import _ntz, _to_pandas, spark_source_kind
from ._spark_volume import decision_counts
from ._sql_fit import QuantileRequest
from ._sql_plan import INVALID_CODE, MISSING_CODE, NONFINITE_CODE, ColumnPlan, assemble, column_summaries, plan_column

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = ["SparkBackend", "DEFAULT_RELATIVE_ERROR"]

DEFAULT_RELATIVE_ERROR = 1e-3
_PERIOD_FORMAT = {"D": "yyyy-MM-dd", "W": "yyyy-MM-dd", "M": "yyyy-MM"}


def _local_defaults(master: str) -> dict[str, str]:
    """Session settings for a session this backend starts in local mode (``config`` overrides them).

    Spark's defaults are a cluster's: 200 shuffle partitions make every
    ``groupBy`` of a fit's many small jobs schedule 200 tasks on one
    machine's few cores, and the web UI and console progress bar cost start-up
    time and fill a notebook's log. Locally: one shuffle partition per core
    (adaptive execution is on and still coalesces), no UI, no progress bar,
    and a driver JVM that compiles with the client JIT only and collects
    garbage on one thread (``-XX:TieredStopAtLevel=1 -XX:+UseSerialGC``):
    a report's few dozen small jobs run in a JVM that lives for seconds,
    where the optimising compiler's threads cost more CPU than they win
    (measured on the sample's fit and summaries: JVM CPU 55 s -> 30 s; Java
    arithmetic is the same IEEE arithmetic at every JIT level, so the
    answers are too). A long job on large data in local mode may prefer the
    full JIT: pass ``config={"spark.driver.extraJavaOptions": ""}``. A session
    passed in (``spark=``) or on a cluster keeps its own settings.
    """
    if not master.startswith("local"):
        return {}
    threads = master[len("local"):].strip("[]").split(",")[0].strip()  # local, local[4], local[*], local[4, 2]
    cores = 1 if master == "local" else int(threads) if threads.isdigit() else os.cpu_count() or 2
    return {
        "spark.sql.shuffle.partitions": str(max(cores, 1)),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    }


class SparkBackend(Backend):
    """PySpark, local or on a cluster (see the module docstring)."""

    name = "spark"

    def __init__(
        self,
        *,
        spark: SparkSession | None = None,
        master: str | None = None,
        config: Mapping[str, str] | None = None,
        app_name: str = "mlreport",
        relative_error: float = DEFAULT_RELATIVE_ERROR,
    ) -> None:
        super().__init__()
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise ParameterError(
                "the spark backend needs pyspark and a Java runtime: pip install 'mlreport[spark]' "
                "(and e.g. apt-get install openjdk-17-jre-headless)",
                name="backend",
            ) from None
        if not (0 < relative_error < 1):
            raise ParameterError(f"relative_error must be in (0, 1), got {relative_error!r}", name="relative_error")
        self.relative_error = float(relative_error)
        if spark is None:
            master = master or os.environ.get("MLREPORT_SPARK_MASTER", "local[*]")
            builder = SparkSession.builder.appName(app_name).master(master)
            settings = {"spark.sql.session.timeZone": "UTC", **_local_defaults(master), **dict(config or {})}
            for key, value in settings.items():
                builder = builder.config(key, value)
            spark = builder.getOrCreate()
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        self.spark = spark
        self._converted: dict[int, tuple[pd.DataFrame, DataFrame]] = {}
        self._read: dict[str, pd.DataFrame] = {}

    def describe(self) -> str:
        context = self.spark.sparkContext
        return (
            f"pyspark {self.spark.version} (master={context.master}, default parallelism "
            f"{context.defaultParallelism}): DataFrame groupBy on the reference bins "
            "(bin = edges strictly below the value, CASE WHEN binary search)"
        )

    # -- sources -------------------------------------------------------------
    def _frame(self, source: SourceLike) -> DataFrame:
        src = as_source(source)
        if src.files is not None and not src.files.remote:
            frame = self._read_files(src.files)
            self._record_files(src, columns=len(frame.columns), rows=frame.count)
        elif src.files is not None or src.sql is not None:
            # Objects in a store (Spark's own Hadoop connectors are not assumed) and SQL queries are read
            # through mlreport.data on the driver, recorded there, then counted here.
            key = src.sql.text if src.sql is not None else "\n".join(src.paths)
            if key not in self._read:
                rows = (data.read_sql(src.sql, name=src.name, log=self.inputs) if src.sql is not None
                        else data.read_files(src.files, name=src.name, log=self.inputs))  # type: ignore[arg-type]
                self._read[key] = rows
            frame = self._from_pandas(self._read[key])
        elif src.table:
            frame = self.spark.table(src.table)
        elif src.is_spark:
            frame = src.frame
        else:
            frame = self._from_pandas(src.frame)
        if src.timestamp and (src.start is not None or src.end is not None):
            ts = self._timestamp(frame, src.timestamp)
            if src.start is not None:
                frame = frame.where(ts >= _ntz(src.start))
            if src.end is not None:
                frame = frame.where(ts < _ntz(src.end))
        return frame

    def _read_files(self, files: data.FileSet) -> DataFrame:
        """Local Parquet or CSV files with their partition columns (typed as :mod:`mlreport.data` decides).

        Files sharing partition values are read together and the values added
        as literals; Spark's own partition discovery (which infers other
        types) is not used. A CSV column without any value is a double, as
        pandas reads it.
        """
        from functools import reduce

        from pyspark.sql import functions as F

        reader = self.spark.read

        def read(paths: list[str]) -> DataFrame:
            if files.format == "parquet":
                return reader.parquet(*paths)
            return reader.csv(paths, header=True, inferSchema=True)

        if files.partitions:
            files = files.without_partitions(read([files.files[0].path]).columns)
        groups: dict[tuple[Any, ...], list[str]] = {}
        for file in files.files:
            groups.setdefault(tuple(files.partition_values(file).values()), []).append(file.path)
        types = {"int": "bigint", "timestamp": "timestamp_ntz", "string": "string"}
        parts = []
        for values, paths in groups.items():
            frame = read(paths)
            for (key, kind), value in zip(files.partitions, values, strict=True):
                literal = F.lit(None if value is None else str(value)).cast(types[kind])
                frame = frame.withColumn(key, literal)
            parts.append(frame)
        frame = reduce(lambda a, b: a.unionByName(b), parts)
        if files.format == "csv":
            text = [f.name for f in frame.schema.fields if f.dataType.simpleString() == "string"
                    and f.name not in files.partition_kinds]
            if text:
                counts = frame.select(*[F.count(frame[c]).alias(c) for c in text]).collect()[0]
                for column in text:
                    if not counts[column]:
                        frame = frame.withColumn(column, frame[column].cast("double"))
        return frame

    def _from_pandas(self, frame: pd.DataFrame) -> DataFrame:
        """A pandas frame as a cached Spark DataFrame, converted once per frame (a fit runs many jobs on it).

        Converted through Arrow (``spark.sql.execution.arrow.pyspark.enabled``,
        set for this call only and restored): the same schema and values as
        the row-by-row conversion, 5-6 times faster (60,000 sample rows: 2.2 s
        against 12.5 s on a loaded 2-core machine). A frame Arrow cannot
        convert falls back to the row-by-row path (Spark's own fallback,
        left on).
        """
        held = self._converted.get(id(frame))
        if held is None or held[0] is not frame:
            conf = self.spark.conf
            key = "spark.sql.execution.arrow.pyspark.enabled"
            before = conf.get(key, "false") or "false"
            conf.set(key, "true")
            try:
                converted = self.spark.createDataFrame(frame)
            finally:
                conf.set(key, before)
            held = self._converted[id(frame)] = (frame, converted.cache())
        return held[1]

    def _kinds(self, frame: DataFrame) -> dict[str, str]:
        return {field.name: spark_source_kind(field.dataType) for field in frame.schema.fields}

    def _timestamp(self, frame: DataFrame, column: str, zone: str | None = None) -> Column:
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        if column not in frame.columns:
            raise DataError(
                f"timestamp column {column!r} is not in the data; columns are {frame.columns[:30]}", column=column
            )
        data_type = frame.schema[column].dataType
        value = frame[column]
        if isinstance(data_type, T.TimestampType):
            if zone and zone != "UTC":
                value = F.from_utc_timestamp(value, zone)
            return value.cast("timestamp_ntz")
        if isinstance(data_type, (T.TimestampNTZType, T.DateType)):
            return value.cast("timestamp_ntz")
        if isinstance(data_type, T.StringType):
            return value.try_cast("timestamp_ntz")
        raise DataError(
            f"column {column!r} holds {data_type.simpleString()} values, expected timestamps", column=column
        )

    # -- codes ---------------------------------------------------------------
    @staticmethod
    def _value(plan: ColumnPlan, raw: Column) -> Column:
        """The value as a double (NULL for label columns and unreadable types)."""
        from pyspark.sql import functions as F

        if plan.source_kind in ("number", "bool") and (plan.read_numbers or plan.source_kind == "number"):
            return raw.cast("double")
        if plan.read_numbers and plan.source_kind == "string":
            return raw.try_cast("double")
        return F.lit(None).cast("double")

    def _code(self, plan: ColumnPlan, raw: Column, value: Column, bucket: Column) -> Column:
        """The code of one profiled column, from its raw and double columns (and bin bucket)."""
        from pyspark.sql import functions as F

        kind = plan.source_kind
        infinity = F.lit(float("inf"))
        if plan.read_numbers:
            if kind in ("number", "bool"):
                special = F.when(value.isNull() | F.isnan(value), MISSING_CODE).when(
                    F.abs(value) == infinity, NONFINITE_CODE
                )
            elif kind == "string":
                special = (
                    F.when(raw.isNull(), MISSING_CODE)
                    .when(value.isNull() | F.isnan(value), INVALID_CODE)
                    .when(F.abs(value) == infinity, NONFINITE_CODE)
                )
            else:
                special = F.when(raw.isNull(), MISSING_CODE).when(F.lit(True), INVALID_CODE)
            if plan.mode == "bins":
                return special.otherwise(bucket)
            return special.otherwise(self._category(plan, value + F.lit(0.0), numbers=True))
        if kind == "number":
            return F.when(value.isNull() | F.isnan(value), MISSING_CODE).otherwise(
                self._category(plan, value + F.lit(0.0), numbers=True)
            )
        if kind == "bool":
            key = F.when(raw, F.lit("True")).when(~raw, F.lit("False"))
        else:
            key = raw.cast("string")
        return F.when(key.isNull(), MISSING_CODE).otherwise(self._category(plan, key, numbers=False))

    def _coded(self, frame: DataFrame, group: Column, plans: Mapping[str, ColumnPlan]) -> DataFrame:
        """``g``, and per plan ``v{i}`` (double) and ``code{i}``.

        Numeric bins come from Spark ML's ``Bucketizer`` (a binary search per
        value, in the JVM) on the negated value: with splits ``-inf < -e_last <
        ... < -e_0 < +inf`` the bucket of ``-x`` is the number of edges ``>= x``,
        so ``len(edges) - bucket`` is the number strictly below (right-closed).
        """
        from pyspark.ml.feature import Bucketizer
        from pyspark.sql import functions as F

        columns = [group.alias("g")]
        bins: list[int] = []
        for i, plan in enumerate(plans.values()):
            raw = frame[plan.name]
            value = self._value(plan, raw)
            columns += [raw.alias(f"r{i}"), value.alias(f"v{i}")]
            if plan.bins is not None and plan.edges.size:
                finite = value.isNotNull() & ~F.isnan(value) & (F.abs(value) != F.lit(float("inf")))
                columns.append(F.when(finite, -value).otherwise(F.lit(0.0)).alias(f"n{i}"))
                bins.append(i)
        staged = frame.select(*columns)
        plan_list = list(plans.values())
        if bins:
            bucketizer = Bucketizer(
                splitsArray=[
                    [float("-inf"), *np.sort(-plan_list[i].edges).tolist(), float("inf")] for i in bins
                ],
                inputCols=[f"n{i}" for i in bins],
                outputCols=[f"k{i}" for i in bins],
            )
            staged = bucketizer.transform(staged)
        codes = [F.col("g")]
        for i, plan in enumerate(plan_list):
            bucket = (
                (F.lit(plan.edges.size) - F.col(f"k{i}")).cast("int")
                if i in bins
                else F.lit(0)
            )
            codes += [F.col(f"v{i}"), self._code(plan, F.col(f"r{i}"), F.col(f"v{i}"), bucket).alias(f"code{i}")]
        return staged.select(*codes)

    @staticmethod
    def _category(plan: ColumnPlan, key: Column, *, numbers: bool) -> Column:
        from pyspark.sql import functions as F

        if numbers:
            pairs = plan.category_numbers
            if not pairs:
                return F.lit(plan.other)
            table = F.array(*[F.lit(float(n)) for n, _ in pairs])
            index = F.array(*[F.lit(int(i)) for _, i in pairs])
            position = F.array_position(table, key)
            return F.when(position > 0, F.element_at(index, position.cast("int"))).otherwise(plan.other)
        if not plan.categories:
            return F.lit(plan.other)
        table = F.array(*[F.lit(str(c)) for c in plan.categories])
        position = F.array_position(table, key)
        return F.when(position > 0, (position - 1).cast("int")).otherwise(plan.other)

    # -- summaries -----------------------------------------------------------
    def _group(self, frame: DataFrame, group: Grouping) -> tuple[Column, Column]:
        """(the group key of each row, which rows to keep) as Spark columns."""
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        by = group.by
        if by is not None:
            if by not in frame.columns:
                raise DataError(f"period key column {by!r} is not in the data", column=by)
            key = frame[by]
            keep = key.isNotNull()
            if isinstance(frame.schema[by].dataType, (T.DoubleType, T.FloatType)):
                keep = keep & ~F.isnan(key)
            return key, keep
        if group.code is not None:
            ts = self._timestamp(frame, str(group.timestamp))
            code = group.code
            moment = F.date_trunc("week", ts) if code == "W" else ts
            return F.date_format(moment, _PERIOD_FORMAT[code]), ts.isNotNull()
        return F.lit(0), F.lit(True)

    def _summaries(self, source: SourceLike, profile: ReferenceProfile, grouping: Grouping) -> dict[Any, Summaries]:
        from pyspark.sql import functions as F

        frame = self._frame(source)
        kinds = self._kinds(frame)
        group, keep = self._group(frame, grouping)
        if not (grouping.untimed and grouping.code is not None):
            frame = frame.where(keep)  # else rows without a timestamp form the group None
        plans = {
            name: plan_column(column, kinds[name], profile.sentinels)
            for name, column in profile.columns.items()
            if name in kinds
        }
        absent = [name for name in profile.columns if name not in kinds]
        if not plans:
            rows = frame.groupBy(group.alias("g")).count().collect()
            group_rows = {row[0]: int(row[1]) for row in rows}
        else:
            coded = self._coded(frame, group, plans)
            records = []
            for index, plan in enumerate(plans.values()):
                value, code = F.col(f"v{index}"), F.col(f"code{index}")
                counted = code >= 0
                none = F.lit(0)
                sentinel = F.lit(-1)
                below = above = none
                if plan.bins is None:
                    # Numeric columns count these as bins (plan.bins); categories over numbers compare.
                    for j in reversed(range(len(plan.sentinels))):
                        sentinel = F.when(counted & (value == F.lit(plan.sentinels[j])), j).otherwise(sentinel)
                    if plan.minimum is not None:
                        below = F.when(counted & (value < F.lit(plan.minimum)), 1).otherwise(0)
                    if plan.maximum is not None:
                        above = F.when(counted & (value > F.lit(plan.maximum)), 1).otherwise(0)
                records.append(F.struct(
                    F.lit(index).alias("c"),
                    code.cast("int").alias("code"),
                    (F.when(counted, value) if plan.bins is not None else F.lit(None)).cast("double").alias("v"),
                    below.alias("b"),
                    above.alias("a"),
                    sentinel.cast("int").alias("st"),
                    none.alias("m"),
                ))
            rows = (
                coded.select("g", F.inline(F.array(*records)))
                .groupBy("g", "c", "code", "st")
                .agg(F.count(F.lit(1)).alias("n"), F.sum("v"), F.sum("b"), F.sum("a"), F.sum("m"))
                .collect()
            )
            group_rows = {}
            plan_list = list(plans.values())
            per_plan: dict[int, list[list[Any]]] = {i: [] for i in range(len(plans))}
            for g, c, code, st, n, s, b, a, m in rows:
                plan = plan_list[c]
                sentinels = [0] * len(plan.sentinels)
                if st is not None and st >= 0:
                    sentinels[st] = n
                per_plan[c].append([g, code, n, s, b, a, *sentinels, m])
                if c == 0:
                    group_rows[g] = group_rows.get(g, 0) + int(n)
        per_column = {
            name: column_summaries(plan, profile.columns[name], per_plan[i])
            for i, (name, plan) in enumerate(plans.items())
        } if plans else {}
        return assemble(profile, plans, per_column, group_rows, absent, single=grouping.single)

    # -- the primitives of Backend -------------------------------------------
    def _decision_counts(self, source: Source, config: CountGrid, roles: DecisionRoles) -> DecisionCounts:
        return decision_counts(self, source, config, roles)

    def _fit_queries(
        self, source: SourceLike, columns: Sequence[str] | None, request: QuantileRequest
    ) -> tuple[Any, list[str], Any]:
        frame = self._frame(source)
        kinds = self._kinds(frame)
        names = list(columns) if columns is not None else [n for n, k in kinds.items() if k != "temporal"]
        relative_error = self.relative_error if request.approximate else None
        fit = SparkFit(self, frame, kinds, relative_error=relative_error, counts=request.counts)
        return fit, names, Source(frame=frame)

    def _count(self, src: Source) -> int:
        return int(self._frame(src).count())

    def _rows(self, src: Source) -> pd.DataFrame:
        return _to_pandas(self._frame(src))

    def _sample(self, src: Source, rows: int, seed: int) -> pd.DataFrame:
        frame = self._frame(src)
        total = frame.count()
        if total > rows:
            frame = frame.sample(fraction=min(1.0, 1.2 * rows / total), seed=seed).limit(int(rows))
        return _to_pandas(frame)

    def head(self, source: SourceLike, rows: int = 10_000) -> pd.DataFrame:
        return _to_pandas(self._frame(source).limit(int(rows)))

    def columns(self, source: SourceLike) -> list[str]:
        return list(self._frame(source).columns)


