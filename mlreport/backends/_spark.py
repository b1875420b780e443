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
numeric bin by Spark ML's ``Bucketizer``, a binary search in the JVM: on the
sample it runs in half the time of the same search as nested ``CASE WHEN``,
whose large generated methods the client JIT leaves interpreted);
``inline`` stacks the records and one ``groupBy(group, column, code,
sentinel)`` job counts them all, and the segment columns of a report are
counted in one job together (:meth:`SparkBackend.summarize_by_each`). The
expressions are Spark SQL text, parsed once in the JVM (see
:mod:`._spark_sql`). Quantiles: ``approxQuantile`` with relative
error 0 (exact, asked at mid-rank probabilities) or ``relative_error``
(default 0.001: Spark guarantees the rank of each edge within 0.1 % of the
rows).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import data
from ..counts import CountGrid, DecisionCounts, DecisionRoles
from ..errors import DataError, ParameterError
from ..profile import ReferenceProfile, Summaries
from ._base import Backend
from ._source import Grouping, Source, SourceLike, as_source, check_group
from ._spark_fit import SparkFit
from ._spark_sql import _ntz, _to_pandas, spark_source_kind, sql_double, sql_name, sql_string
from ._spark_volume import decision_counts
from ._sql_fit import FitSettings, QuantileRequest, fit_with_reference
from ._sql_plan import (
    INVALID_CODE,
    MISSING_CODE,
    NONFINITE_CODE,
    ColumnPlan,
    assemble,
    column_summaries,
    plan_column,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = ["SparkBackend", "DEFAULT_RELATIVE_ERROR"]

DEFAULT_RELATIVE_ERROR = 1e-3
_PERIOD_FORMAT = {"D": "yyyy-MM-dd", "W": "yyyy-MM-dd", "M": "yyyy-MM"}
_INFINITY = sql_double(float("inf"))
_ZERO = sql_double(0.0)  # v + 0.0 turns -0.0 into 0.0, as pandas groups them


def _local_defaults(master: str) -> dict[str, str]:
    """Session settings for a session this backend starts in local mode (``config`` overrides them).

    Spark's defaults are a cluster's: 200 shuffle partitions make every
    ``groupBy`` of a fit's many small jobs schedule 200 tasks on one
    machine's few cores, and the web UI and console progress bar cost start-up
    time and fill a notebook's log. Locally: one shuffle partition per core,
    no adaptive execution (its re-planning after each stage costs a report's
    many small jobs 20 % of the JVM's CPU, measured on the sample's fit and
    summaries: 11.5 -> 9.0 CPU-s, and with one partition per core it has
    nothing to coalesce; the aggregates are the same), no UI, no progress bar,
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
        "spark.sql.adaptive.enabled": "false",
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
            "(bin = edges strictly below the value, Bucketizer binary search)"
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

    # -- codes (Spark SQL text: see _spark_sql) -------------------------------
    @staticmethod
    def _value(plan: ColumnPlan, raw: str) -> str:
        """The value as a double (NULL for label columns and unreadable types)."""
        if plan.source_kind in ("number", "bool") and (plan.read_numbers or plan.source_kind == "number"):
            return f"CAST({raw} AS DOUBLE)"
        if plan.read_numbers and plan.source_kind == "string":
            return f"TRY_CAST({raw} AS DOUBLE)"
        return "CAST(NULL AS DOUBLE)"

    def _code(self, plan: ColumnPlan, raw: str, value: str, bucket: str | None = None) -> str:
        """The code of one profiled column, from its raw and double columns (and its bin ``bucket``)."""
        kind = plan.source_kind
        infinite = f"abs({value}) = {_INFINITY}"
        unreadable = f"{value} IS NULL OR isnan({value})"
        if plan.read_numbers:
            if kind in ("number", "bool"):
                special = [(unreadable, MISSING_CODE), (infinite, NONFINITE_CODE)]
            elif kind == "string":
                special = [(f"{raw} IS NULL", MISSING_CODE), (unreadable, INVALID_CODE), (infinite, NONFINITE_CODE)]
            else:
                special = [(f"{raw} IS NULL", MISSING_CODE), ("TRUE", INVALID_CODE)]
            if plan.mode == "bins":
                otherwise = bucket or "0"  # no edges: one bin
            else:
                otherwise = self._category(plan, f"({value} + {_ZERO})", numbers=True)
            cases = " ".join(f"WHEN {condition} THEN {code}" for condition, code in special)
            return f"CASE {cases} ELSE {otherwise} END"
        if kind == "number":
            category = self._category(plan, f"({value} + {_ZERO})", numbers=True)
            return f"CASE WHEN {unreadable} THEN {MISSING_CODE} ELSE {category} END"
        key = f"(CASE WHEN {raw} THEN 'True' WHEN NOT {raw} THEN 'False' END)" if kind == "bool" else (
            f"CAST({raw} AS STRING)"
        )
        return f"CASE WHEN {key} IS NULL THEN {MISSING_CODE} ELSE {self._category(plan, key, numbers=False)} END"

    def _bucketize(self, staged: DataFrame, edges: Mapping[int, Any]) -> DataFrame:
        """Adds ``k{i}`` = Spark ML's ``Bucketizer`` bucket of ``n{i}`` (the negated value) for each ``edges[i]``.

        A binary search per value in the JVM. With splits ``-inf < -e_last <
        ... < -e_0 < +inf`` the bucket of ``-x`` is the number of edges ``>=
        x``, so ``len(edges) - bucket`` is the number strictly below
        (right-closed). The transformer is built in the JVM from its
        parameters as JSON (three Py4J calls, not one per split).
        """
        import json

        from pyspark.sql import DataFrame as SparkFrame

        jvm = self.spark.sparkContext._jvm
        assert jvm is not None
        bucketizer = jvm.org.apache.spark.ml.feature.Bucketizer()
        # Spark's JSON for infinite doubles is the strings "-Inf" and "Inf"; finite ones round-trip through repr.
        splits = [["-Inf", *sorted(-float(e) for e in edges[i]), "Inf"] for i in edges]
        bucketizer.setSplitsArray(bucketizer.splitsArray().jsonDecode(json.dumps(splits, allow_nan=False)))
        bucketizer.setInputCols(bucketizer.inputCols().jsonDecode(json.dumps([f"n{i}" for i in edges])))
        bucketizer.setOutputCols(bucketizer.outputCols().jsonDecode(json.dumps([f"k{i}" for i in edges])))
        return SparkFrame(bucketizer.transform(staged._jdf), self.spark)

    @staticmethod
    def _category(plan: ColumnPlan, key: str, *, numbers: bool) -> str:
        if numbers:
            pairs = plan.category_numbers
            if not pairs:
                return str(plan.other)
            table = "array(" + ", ".join(sql_double(n) for n, _ in pairs) + ")"
            index = "array(" + ", ".join(str(int(i)) for _, i in pairs) + ")"
            position = f"array_position({table}, {key})"
            return f"CASE WHEN {position} > 0 THEN element_at({index}, CAST({position} AS INT)) ELSE {plan.other} END"
        if not plan.categories:
            return str(plan.other)
        table = "array(" + ", ".join(sql_string(str(c)) for c in plan.categories) + ")"
        position = f"array_position({table}, {key})"
        return f"CASE WHEN {position} > 0 THEN CAST({position} - 1 AS INT) ELSE {plan.other} END"

    def _records(self, frame: DataFrame, keys: Sequence[Column], plans: Mapping[str, ColumnPlan]) -> DataFrame:
        """One record ``(keys..., c, code, v, b, a, st, m)`` per row and profiled column (module docstring).

        ``c`` is the plan's index, ``code`` its code, ``v`` the value when it
        is counted in a numeric bin (for the bins' sums), ``b`` / ``a`` whether
        a counted value lies below the minimum / above the maximum and ``st``
        the index of the sentinel it equals (-1: none), for categories over
        numbers. Keys are ``g0``, ``g1``... Written as SQL text (see
        :mod:`._spark_sql`); the same expressions as the rows of the pandas path.
        """
        from pyspark.sql import functions as F

        names = [f"g{k}" for k in range(len(keys))]
        plan_list = list(plans.values())
        binned = [i for i, plan in enumerate(plan_list) if plan.bins is not None and plan.edges.size]
        values = []
        for i, plan in enumerate(plan_list):
            raw = sql_name(plan.name)
            value = self._value(plan, raw)
            values.append(F.expr(f"{value} AS v{i}"))
            values.append(F.expr(f"{raw} AS r{i}"))
            if i in binned:
                finite = f"{value} IS NOT NULL AND NOT isnan({value}) AND abs({value}) != {_INFINITY}"
                values.append(F.expr(f"CASE WHEN {finite} THEN -({value}) ELSE {_ZERO} END AS n{i}"))
        staged = frame.select(*[key.alias(name) for key, name in zip(keys, names, strict=True)], *values)
        if binned:
            staged = self._bucketize(staged, {i: plan_list[i].edges for i in binned})
        coded = [f"v{i}" for i in range(len(plans))]
        for i, plan in enumerate(plan_list):
            bucket = None if i not in binned else f"CAST({plan.edges.size} - k{i} AS INT)"
            coded.append(f"{self._code(plan, f'r{i}', f'v{i}', bucket)} AS code{i}")
        staged = staged.selectExpr(*names, *coded)
        records = []
        for i, plan in enumerate(plans.values()):
            value, counted = f"v{i}", f"code{i} >= 0"
            sentinel, below, above = "-1", "0", "0"
            if plan.bins is None:
                # Numeric columns count these as bins (plan.bins); categories over numbers compare.
                if plan.sentinels:
                    cases = " ".join(
                        f"WHEN {counted} AND {value} = {sql_double(s)} THEN {j}" for j, s in enumerate(plan.sentinels)
                    )
                    sentinel = f"CASE {cases} ELSE -1 END"
                if plan.minimum is not None:
                    below = f"CASE WHEN {counted} AND {value} < {sql_double(plan.minimum)} THEN 1 ELSE 0 END"
                if plan.maximum is not None:
                    above = f"CASE WHEN {counted} AND {value} > {sql_double(plan.maximum)} THEN 1 ELSE 0 END"
            summed = f"CASE WHEN {counted} THEN {value} END" if plan.bins is not None else "NULL"
            records.append(
                f"named_struct('c', {i}, 'code', CAST(code{i} AS INT), 'v', CAST({summed} AS DOUBLE), "
                f"'b', {below}, 'a', {above}, 'st', CAST({sentinel} AS INT), 'm', 0)"
            )
        return staged.selectExpr(*names, f"inline(array({', '.join(records)}))")

    @staticmethod
    def _counted(
        rows: Sequence[Any], plans: Mapping[str, ColumnPlan]
    ) -> tuple[dict[Any, int], dict[int, list[list[Any]]]]:
        """Rows ``(g, c, code, st, n, s, b, a, m)`` of the records' aggregate: rows per group, rows per plan."""
        group_rows: dict[Any, int] = {}
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
        return group_rows, per_plan

    @staticmethod
    def _aggregate(records: DataFrame, keys: Sequence[str]) -> DataFrame:
        from pyspark.sql import functions as F

        return records.groupBy(*keys, "c", "code", "st").agg(
            F.count(F.lit(1)).alias("n"), F.sum("v"), F.sum("b"), F.sum("a"), F.sum("m")
        )

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

    def _plans(self, profile: ReferenceProfile, kinds: Mapping[str, str]) -> tuple[dict[str, ColumnPlan], list[str]]:
        plans = {
            name: plan_column(column, kinds[name], profile.sentinels)
            for name, column in profile.columns.items()
            if name in kinds
        }
        return plans, [name for name in profile.columns if name not in kinds]

    def _summaries(self, source: SourceLike, profile: ReferenceProfile, grouping: Grouping) -> dict[Any, Summaries]:
        frame = self._frame(source)
        kinds = self._kinds(frame)
        group, keep = self._group(frame, grouping)
        if not (grouping.untimed and grouping.code is not None):
            frame = frame.where(keep)  # else rows without a timestamp form the group None
        plans, absent = self._plans(profile, kinds)
        if not plans:
            rows = frame.groupBy(group.alias("g")).count().collect()
            group_rows = {row[0]: int(row[1]) for row in rows}
            return assemble(profile, plans, {}, group_rows, absent, single=grouping.single)
        rows = self._aggregate(self._records(frame, [group], plans), ["g0"]).collect()
        group_rows, per_plan = self._counted(rows, plans)
        per_column = {
            name: column_summaries(plan, profile.columns[name], per_plan[i])
            for i, (name, plan) in enumerate(plans.items())
        }
        return assemble(profile, plans, per_column, group_rows, absent, single=grouping.single)

    def summarize_by_each(
        self, source: SourceLike, profile: ReferenceProfile, by: Sequence[str]
    ) -> list[dict[Any, Summaries]]:
        """Summaries per value of each column of ``by``, in one Spark job for all of them.

        Each record is counted once per column of ``by`` (``b`` its index; the
        key of the other columns null), and rows whose key is missing (or NaN)
        are left out of that column's groups: the same rows and counts as
        :meth:`summarize_by` column by column, with one job's scheduling and
        one scan instead of one per column.
        """
        from pyspark.sql import functions as F

        for column in by:
            check_group(column, None, None)
        if len(by) < 2:
            return super().summarize_by_each(source, profile, by)
        with self._timed(f"summarize_by {', '.join(by)}"):
            frame = self._frame(source)
            plans, absent = self._plans(profile, self._kinds(frame))
            if not plans:
                return [self._summaries(source, profile, Grouping(by=column)) for column in by]
            grouped = [self._group(frame, Grouping(by=column)) for column in by]
            width = len(by)
            keys = [key for key, _ in grouped] + [keep for _, keep in grouped]  # g0.. the keys, g{width}.. kept
            kept = " ".join(f"WHEN {k} THEN g{width + k}" for k in range(width))
            chosen = [f"CASE WHEN byx = {k} THEN g{k} END AS k{k}" for k in range(width)]
            spread = (
                self._records(frame, keys, plans)
                .selectExpr("*", f"explode(sequence(0, {width - 1})) AS byx")
                .where(F.expr(f"CASE byx {kept} END"))
                .selectExpr("byx", *chosen, "c", "code", "v", "b", "a", "st", "m")
            )
            rows = self._aggregate(spread, ["byx", *[f"k{k}" for k in range(width)]]).collect()
            parts: list[list[tuple[Any, ...]]] = [[] for _ in by]
            for row in rows:
                k = int(row[0])
                parts[k].append((row[1 + k], *row[1 + width:]))
            result = []
            for k in range(width):
                group_rows, per_plan = self._counted(parts[k], plans)
                per_column = {
                    name: column_summaries(plan, profile.columns[name], per_plan[i])
                    for i, (name, plan) in enumerate(plans.items())
                }
                result.append(assemble(profile, plans, per_column, group_rows, absent))
            return result
    # -- the primitives of Backend -------------------------------------------
    def _decision_counts(self, source: Source, config: CountGrid, roles: DecisionRoles) -> DecisionCounts:
        return decision_counts(self, source, config, roles)

    def _fit(
        self, source: SourceLike, columns: Sequence[str] | None, settings: FitSettings, *, approximate: bool,
        sample_rows: int, seed: int,
    ) -> ReferenceProfile:
        """:meth:`Backend._fit`, with the reference counted on its bins from the fit's own jobs.

        An exact fit has already counted every column: the modal candidates'
        job counts and sums the values between a numeric column's fine edges,
        the label counts count the categories (:meth:`SparkFit.reference_summaries`),
        so no further job over the reference (about 1-3 s on the sample's
        30,000 rows: one scan, its scheduling and the records of every
        column); only columns not derived that way are counted by a job. The
        same summaries as counting them (sums in another order).
        """
        request = QuantileRequest(
            approximate, (int(settings.bins), int(settings.fine_bins)), int(sample_rows), int(seed)
        )
        fit, names, counted = self._fit_queries(source, columns, request)
        return fit_with_reference(fit, names, settings, lambda profile: self.summarize(counted, profile))

    def _fit_queries(
        self, source: SourceLike, columns: Sequence[str] | None, request: QuantileRequest
    ) -> tuple[SparkFit, list[str], Source]:
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


