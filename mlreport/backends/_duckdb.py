"""The DuckDB backend: drift and volume summaries as SQL over Parquet and CSV files.

Embedded (no server), streaming over ``read_parquet([...])`` so the data can
be larger than memory. Sources (:class:`~mlreport.backends.Source`): local
files, and objects in a store read through their fsspec filesystem
(registered with DuckDB, so its credentials are the environment's) once into
a temporary table (:meth:`DuckDBBackend._load_objects`); partition
columns are added as typed literals per group of files (DuckDB's own
``hive_partitioning``, which infers other types, is off). CSV is loaded once
into a temporary table (each count then reads columns, not text; it spills to
``temp_directory``), its types sniffed on the whole file as pandas reads it. A
``sql:`` query is read through SQLAlchemy (:func:`mlreport.data.read_sql`) and
counted here. Settings: ``threads`` (default: all
cores), ``memory_limit`` (e.g. ``"3GB"``; DuckDB's default is 80 % of RAM) and
``temp_directory`` (where hash tables spill when over the limit; default a folder
under the system's temporary folder, not DuckDB's ``./.tmp``).

How the columns are counted (one scan for all of them, see
:mod:`mlreport.backends._duckdb_batches`): one query selects the group key and,
per column, the value read as a number, the label key and the special code of
missing / non-finite / invalid values; DuckDB streams the rows as Arrow batches
of :data:`~mlreport.backends._duckdb_batches.BATCH_ROWS` rows (memory bounded
whatever the window's size), a thread reading the next batch while numpy counts
this one. A numeric value's bin is the number of fine edges strictly below it
(right-closed bins, as ``numpy.searchsorted(edges, x, side="left")``), found
with one multiplication and two gathers on a grid table
(:class:`~mlreport.backends.GridLookup`, a binary search for the few cells
holding two edges); categories are matched by value (numbers) or with Arrow's
``index_in`` (labels); rows are counted per (group, code) with ``bincount``.
The rows handed on are those a ``GROUP BY group, code`` query returns, so the
summaries are built as before. At 5x10^6 rows this took 1.0 CPU-s where one
query per column (a grid join and a ``CASE`` per value) took 1.9. SQL text
never holds data values: numbers in it are printed with 17 significant digits,
which round-trips a double exactly.

Quantiles for :meth:`DuckDBBackend.fit_profile`: ``"exact"`` finds the
inverted-CDF order statistics (identical to pandas) from a histogram of each
column refined once, fetching only the few values of the buckets holding a
wanted rank (no sort; at most 2^21 values in memory at a time, see
:mod:`mlreport.backends._duckdb_fit`); ``"approx"`` takes ``quantile_disc`` on a
system sample of about ``sample_rows`` values (default 10^6: each edge's rank
off by about ``sqrt(p (1 - p) / 10^6)``, under 0.2 % for all 99 fine edges
here; five times faster than ``approx_quantile``'s t-digest for the same
error), and records the largest rank error measured on the whole reference in
``settings["fit"]["max_rank_error"]``; ``"sample"`` fits pandas on a
reservoir sample.

Parquet files written by pyarrow keep NaN as a value and leave it out of
their min/max statistics; DuckDB then folds ``isnan()`` to false unless the
file is read with ``can_have_nan = true`` (duckdb/duckdb#25521), which this
backend does.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from .. import data
from ..counts import CountGrid, DecisionCounts, DecisionRoles
from ..errors import DataError, ParameterError
from ..profile import ReferenceProfile, Summaries
from ._base import Backend
from ._duckdb_batches import BATCH_ROWS, ColumnFetch, count_batches, prefetched
from ._duckdb_fit import DuckDBFit
from ._duckdb_pool import QueryPool
from ._duckdb_sql import _ident, _text, _timestamp_literal, source_kind
from ._duckdb_volume import decision_counts
from ._source import Grouping, Source, SourceLike, as_source
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

__all__ = ["DuckDBBackend"]

MAX_WORKERS = 8
"""Queries run at once at most, whatever DuckDB's threads (a many-row-group scan is parallel by itself)."""

# Periods are grouped by their start (cheap) and labelled afterwards, as mlreport.profile.period_labels does.
_PERIOD_SQL = {"D": "date_trunc('day', {ts})", "W": "date_trunc('week', {ts})", "M": "date_trunc('month', {ts})"}
_PERIOD_LABEL = {"D": "%Y-%m-%d", "W": "%Y-%m-%d", "M": "%Y-%m"}


class DuckDBBackend(Backend):
    """SQL over files with an embedded DuckDB (see the module docstring).

    ``connection`` reuses an open DuckDB connection (its settings are left as
    they are); otherwise one is opened with ``threads``, ``memory_limit`` and
    ``temp_directory``. Sources may also be pandas DataFrames or Arrow tables
    (registered as views), which the tests use.
    """

    name = "duckdb"
    batch_rows = BATCH_ROWS
    """Rows per Arrow batch streamed from the drift summaries' scan (bounds their memory)."""

    def __init__(
        self,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | os.PathLike[str] | None = None,
        connection: Any = None,
    ) -> None:
        super().__init__()
        import duckdb

        self._duckdb = duckdb
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ParameterError(f"threads must be a positive integer, got {threads!r}", name="threads")
        self.threads = threads
        self.memory_limit = memory_limit
        # DuckDB's default spills to ./.tmp, i.e. into a report's working folder: spill under the
        # system's temporary folder instead, one folder per backend (DuckDB creates it when it spills).
        self.temp_directory = str(temp_directory) if temp_directory else os.path.join(
            tempfile.gettempdir(), f"mlreport-duckdb-{os.getpid()}-{id(self):x}"
        )
        if connection is None:
            config: dict[str, Any] = {"preserve_insertion_order": False, "temp_directory": self.temp_directory}
            if threads is not None:
                config["threads"] = threads
            if memory_limit:
                config["memory_limit"] = str(memory_limit)
            try:
                connection = duckdb.connect(config=config)
            except duckdb.Error as error:
                raise ParameterError(f"DuckDB settings rejected: {error}", name="memory_limit") from None
            connection.execute("SET TimeZone = 'UTC'").fetchall()
        self.con = connection
        # Independent queries over files run on this many cursors at once (see _duckdb_pool): DuckDB's
        # threads, at most MAX_WORKERS (each may hold a fit's fetch of up to FETCH_VALUES values).
        workers = int(self.con.execute("SELECT current_setting('threads')").fetchall()[0][0])
        self.pool = QueryPool(connection, min(workers, MAX_WORKERS))
        self._shared: set[str] = set()  # relations any cursor of the connection can read (files, not temp tables)
        self._views = 0
        self._frame_views: list[str] = []
        self._relations: dict[tuple[str, tuple[str, ...]], str] = {}
        self._filesystems: set[str] = set()
        self._held: list[pd.DataFrame] = []

    @contextmanager
    def _timed(self, operation: str) -> Iterator[None]:
        # Frames registered as views for one call are released when the outermost call ends.
        try:
            with super()._timed(operation):
                yield
        finally:
            if self._depth == 0:
                for view in self._frame_views:
                    self.con.unregister(view)
                self._frame_views.clear()

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.con.close()

    def describe(self) -> str:
        settings = self.con.execute(
            "SELECT current_setting('threads'), current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchall()[0]
        return (
            f"duckdb {self._duckdb.__version__} (threads={settings[0]}, memory_limit={settings[1]}, "
            f"temp_directory={settings[2] or 'none'}): one SQL scan streamed as Arrow batches, counted on the "
            "reference bins in numpy (bin = edges strictly below the value, by grid table)"
        )

    def _connection(self) -> Any:
        """The connection the calling thread queries through: its cursor inside :meth:`QueryPool.map`."""
        return self.pool.connection()

    def _workers(self, relation: str) -> int:
        """How many queries over ``relation`` may run at once: DuckDB's threads for files, else 1.

        A cursor sees the database's files and tables, not the connection's
        temporary tables (CSV, objects) or registered frames.
        """
        return self.pool.workers if relation in self._shared else 1

    # -- sources -------------------------------------------------------------
    def _relation(self, src: Source) -> str:
        if src.files is not None:
            key = ("files", src.paths)
            if key not in self._relations:
                relation = self._relations[key] = self._files_relation(src.files, src.describe())
                if src.files.format == "parquet" and not src.files.remote:
                    self._shared.add(relation)
            return self._relations[key]
        if src.sql is not None:
            key = ("sql", (src.sql.text,))
            if key not in self._relations:
                # Read through SQLAlchemy (recorded with the query, row count and result hash), then counted here.
                frame = data.read_sql(src.sql, name=src.name, log=self.inputs)
                self._views += 1
                view = f"_mlreport_query_{self._views}"
                self.con.register(view, frame)
                self._held.append(frame)
                self._relations[key] = view
            return self._relations[key]
        if src.table:
            return ".".join(_ident(part) for part in src.table.split("."))
        if src.is_spark:
            raise DataError("a Spark DataFrame needs the spark backend")
        self._views += 1
        view = f"_mlreport_source_{self._views}"
        self.con.register(view, src.frame)
        self._frame_views.append(view)
        return view

    def _files_relation(self, files: data.FileSet, label: str) -> str:
        """SQL reading ``files`` with their partition columns (see :meth:`_reader`); CSV is loaded into a table once."""
        if files.remote:
            protocol = files.filesystem.protocol
            protocol = protocol[0] if isinstance(protocol, (tuple, list)) else protocol
            if protocol not in self._filesystems:
                # DuckDB reads through the fsspec filesystem (its credentials: the environment's).
                self.con.register_filesystem(files.filesystem)
                self._filesystems.add(protocol)
        if files.partitions:
            inside = self._schema(self._reader(files, files.files[:1]))
            files = files.without_partitions(inside)
        groups: dict[tuple[Any, ...], list[data.DataFile]] = {}
        for file in files.files:
            groups.setdefault(tuple(files.partition_values(file).values()), []).append(file)
        if files.format == "parquet":
            branches = [self._with_partitions(files, group) for group in groups.values()]
            relation = branches[0] if len(branches) == 1 and not files.partitions else (
                "(" + " UNION ALL BY NAME ".join(branches) + ")"
            )
            return self._load_objects(relation, label) if files.remote else relation
        return self._load_csv(files, groups, label)

    def _load_objects(self, relation: str, label: str) -> str:
        """Parquet objects in a store, read once into a temporary table (it spills to ``temp_directory``).

        Each count is one query per column, and DuckDB opens every file anew
        for each query: over a store that is a metadata request and range
        requests per object per column (measured: 69 s for one daily count of
        28 objects on a local S3 server, against one read of each object).
        Reading each object once, as pandas does, costs their bytes once; a
        window on a partition column has already left the other objects out.
        """
        self._views += 1
        table = f"_mlreport_objects_{self._views}"
        # In the objects' order, as pandas reads them (a sample of rows, such as the classifier's, depends on it).
        kept = self.con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
        self.con.execute("SET preserve_insertion_order = true")
        try:
            self.con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {relation}")
        except self._duckdb.Error as error:
            raise DataError(f"{label}: objects could not be read ({str(error).splitlines()[0][:300]})") from None
        finally:
            self.con.execute(f"SET preserve_insertion_order = {'true' if kept else 'false'}")
        return table

    def _path(self, files: data.FileSet, file: data.DataFile) -> str:
        return files.filesystem.unstrip_protocol(file.path) if files.remote else file.path

    def _reader(self, files: data.FileSet, group: Sequence[data.DataFile]) -> str:
        listed = "[" + ", ".join(_text(self._path(files, f)) for f in group) + "]"
        if files.format == "parquet":
            # can_have_nan: Parquet min/max statistics leave NaN out, and without this
            # DuckDB folds isnan() to false on files written by pyarrow (duckdb#25521).
            # hive_partitioning off: partition columns are added with the types mlreport.data decides.
            return f"read_parquet({listed}, can_have_nan = true, hive_partitioning = false)"
        # The whole file is sniffed (as pandas reads the whole file to choose a type), not a sample.
        return f"read_csv({listed}, header = true, auto_detect = true, sample_size = -1, hive_partitioning = false)"

    def _with_partitions(self, files: data.FileSet, group: Sequence[data.DataFile]) -> str:
        """``SELECT *`` of a group of files sharing partition values, those values as typed literals."""
        if not files.partitions:
            return self._reader(files, group)
        values = files.partition_values(group[0])
        types = {"int": "BIGINT", "timestamp": "TIMESTAMP", "string": "VARCHAR"}
        literals = []
        for key, kind in files.partitions:
            value = values[key]
            if value is None:
                text = "NULL"
            elif kind == "int":
                text = str(int(value))
            elif kind == "timestamp":
                text = _text(pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S.%f"))
            else:
                text = _text(str(value))
            literals.append(f"CAST({text} AS {types[kind]}) AS {_ident(key)}")
        return f"SELECT *, {', '.join(literals)} FROM {self._reader(files, group)}"

    def _load_csv(self, files: data.FileSet, groups: Mapping[tuple[Any, ...], list[data.DataFile]], label: str) -> str:
        """CSV files loaded into a temporary table once, so that each count reads columns, not text.

        The table spills to ``temp_directory`` beyond ``memory_limit``. A
        column without any value is DOUBLE, as pandas reads it (DuckDB's
        sniffer would make it VARCHAR). ``.csv.bz2``, which DuckDB cannot
        decompress, is read through :func:`mlreport.data.read_file`.
        """
        self._views += 1
        table = f"_mlreport_csv_{self._views}"
        kept = self.con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
        self.con.execute("SET preserve_insertion_order = true")
        try:
            if any(f.path.lower().endswith(".bz2") for f in files.files):
                for i, file in enumerate(files.files):
                    frame = data.read_file(files, file)
                    self.con.register("_mlreport_csv_part", frame)
                    verb = "CREATE TEMP TABLE" if i == 0 else "INSERT INTO"
                    tail = " AS " if i == 0 else " "
                    self.con.execute(f"{verb} {table}{tail}SELECT * FROM _mlreport_csv_part")
                    self.con.unregister("_mlreport_csv_part")
            else:
                union = " UNION ALL BY NAME ".join(
                    f"SELECT * FROM ({self._with_partitions(files, g)})" if files.partitions
                    else f"SELECT * FROM {self._reader(files, g)}"
                    for g in groups.values()
                )
                self.con.execute(f"CREATE TEMP TABLE {table} AS {union}")
        except self._duckdb.Error as error:
            raise DataError(f"{label}: CSV could not be read ({str(error).splitlines()[0][:300]})") from None
        finally:
            self.con.execute(f"SET preserve_insertion_order = {'true' if kept else 'false'}")
        schema = self._schema(table)
        partitions = files.partition_kinds
        text = [name for name, kind in schema.items() if kind.upper() == "VARCHAR" and name not in partitions]
        if text:
            counts = self.con.execute(
                f"SELECT {', '.join(f'count({_ident(c)})' for c in text)} FROM {table}"
            ).fetchall()[0]
            for name, present in zip(text, counts, strict=True):
                if not present:
                    self.con.execute(f"ALTER TABLE {table} ALTER {_ident(name)} TYPE DOUBLE")
        return table

    def _schema(self, relation: str) -> dict[str, str]:
        rows = self.con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        return {str(row[0]): str(row[1]) for row in rows}

    def _timestamp_sql(self, column: str, schema: Mapping[str, str], zone: str | None = None) -> tuple[str, str]:
        """(expression of naive UTC / wall-clock timestamps, its type for literals).

        ``TIMESTAMP`` and ``TIMESTAMP_NS`` columns are used as they are, so that
        window filters are pushed into the Parquet scan (row groups skipped).
        """
        if column not in schema:
            raise DataError(
                f"timestamp column {column!r} is not in the data; columns are {list(schema)[:30]}", column=column
            )
        sql_type = schema[column].upper()
        q = _ident(column)
        if sql_type in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
            return f"CAST(timezone({_text(zone or 'UTC')}, {q}) AS TIMESTAMP_NS)", "TIMESTAMP_NS"
        if sql_type in ("TIMESTAMP", "TIMESTAMP_NS"):
            return q, sql_type
        if sql_type.startswith("TIMESTAMP") or sql_type == "DATE":
            return f"CAST({q} AS TIMESTAMP_NS)", "TIMESTAMP_NS"
        if source_kind(sql_type) == "string":
            return f"TRY_CAST({q} AS TIMESTAMP_NS)", "TIMESTAMP_NS"
        raise DataError(f"column {column!r} holds {schema[column]} values, expected timestamps", column=column)

    def _prepare(self, source: SourceLike) -> tuple[Source, str, dict[str, str], str]:
        """Source, relation, schema and the WHERE clause of its window."""
        src = as_source(source)
        relation = self._relation(src)
        schema = self._schema(relation)
        self._record_files(
            src, columns=len(schema),
            rows=lambda: int(self.con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]),
        )
        clauses = ["TRUE"]
        if src.timestamp and (src.start is not None or src.end is not None):
            ts, kind = self._timestamp_sql(src.timestamp, schema)
            if src.start is not None:
                clauses.append(f"{ts} >= {_timestamp_literal(src.start, kind)}")
            if src.end is not None:
                clauses.append(f"{ts} < {_timestamp_literal(src.end, kind)}")
        return src, relation, schema, " AND ".join(clauses)

    # -- column expressions --------------------------------------------------
    @staticmethod
    def _value_sql(plan: ColumnPlan, suffix: str = "") -> tuple[str, str, str]:
        """(value as DOUBLE or NULL, label key or NULL, CASE branches for the special codes).

        The branches refer to the column as ``raw``, its value as ``v`` and its
        key as ``k``, each followed by ``suffix``.
        """
        q = _ident(plan.name)
        kind = plan.source_kind
        raw, v, k = f"raw{suffix}", f"v{suffix}", f"k{suffix}"
        if plan.read_numbers:
            if kind in ("number", "bool"):
                return f"CAST({q} AS DOUBLE)", "NULL", (
                    f"WHEN {v} IS NULL OR isnan({v}) THEN {MISSING_CODE} WHEN isinf({v}) THEN {NONFINITE_CODE}"
                )
            if kind == "string":
                return f"TRY_CAST({q} AS DOUBLE)", "NULL", (
                    f"WHEN {raw} IS NULL THEN {MISSING_CODE} WHEN {v} IS NULL OR isnan({v}) THEN {INVALID_CODE} "
                    f"WHEN isinf({v}) THEN {NONFINITE_CODE}"
                )
            unreadable = f"WHEN {raw} IS NULL THEN {MISSING_CODE} WHEN TRUE THEN {INVALID_CODE}"
            return "CAST(NULL AS DOUBLE)", "NULL", unreadable
        if kind == "number":
            return f"CAST({q} AS DOUBLE)", "NULL", f"WHEN {v} IS NULL OR isnan({v}) THEN {MISSING_CODE}"
        if kind == "bool":
            key = f"CASE WHEN {q} THEN 'True' WHEN NOT {q} THEN 'False' END"
        elif kind == "string":
            key = q
        else:
            key = f"CAST({q} AS VARCHAR)"
        return "CAST(NULL AS DOUBLE)", key, f"WHEN {k} IS NULL THEN {MISSING_CODE}"

    def _register(self, prefix: str, table: dict[str, Any]) -> str:
        import pyarrow as pa

        self._views += 1
        name = f"_mlreport_{prefix}_{self._views}"
        self.con.register(name, pa.table(table))
        return name

    def _group(self, schema: Mapping[str, str], group: Grouping) -> tuple[str, str]:
        """(group expression, filter keeping rows whose key is present)."""
        by = group.by
        if by is not None:
            if by not in schema:
                raise DataError(f"period key column {by!r} is not in the data", column=by)
            q = _ident(by)
            if schema[by].upper() in ("DOUBLE", "FLOAT", "REAL"):
                return q, f"{q} IS NOT NULL AND NOT isnan({q})"
            return q, f"{q} IS NOT NULL"
        if group.code is not None:
            ts, _ = self._timestamp_sql(str(group.timestamp), schema)
            return _PERIOD_SQL[group.code].format(ts=ts), f"{ts} IS NOT NULL"
        return "0", "TRUE"

    def _summaries(self, source: SourceLike, profile: ReferenceProfile, group: Grouping) -> dict[Any, Summaries]:
        src, relation, schema, where = self._prepare(source)
        group_sql, keep = self._group(schema, group)
        if not (group.untimed and group.code is not None):
            where = f"{where} AND {keep}"

        def labelled(rows: list[Any]) -> list[Any]:
            # Periods are grouped by their start and labelled as mlreport.profile.period_labels does
            # (None: no timestamp).
            if group.code is None:
                return rows
            form = _PERIOD_LABEL[group.code]
            return [(None if row[0] is None else row[0].strftime(form), *row[1:]) for row in rows]

        plans = {
            name: plan_column(column, source_kind(schema[name]), profile.sentinels)
            for name, column in profile.columns.items()
            if name in schema
        }
        absent = [name for name in profile.columns if name not in schema]
        if not plans:
            rows = labelled(self.con.execute(
                f"SELECT {group_sql} AS g, count(*) FROM {relation} WHERE {where} GROUP BY g"
            ).fetchall())
            return assemble(profile, plans, {}, {row[0]: int(row[1]) for row in rows}, absent, single=group.single)
        fetches = [
            ColumnFetch.build(plan, i, *self._value_sql(plan, str(i))) for i, plan in enumerate(plans.values())
        ]
        inner = [f"{group_sql} AS g", *(item for fetch in fetches for item in fetch.inner())]
        outer = ["g", *(item for fetch in fetches for item in fetch.outer())]
        sql = f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {relation} WHERE {where})"
        try:
            reader = self.con.sql(sql).to_arrow_reader(self.batch_rows)
            keys, counted_rows, counters = count_batches(prefetched(reader), fetches)
        except self._duckdb.Error as error:
            raise DataError(f"{src.describe()}: the columns could not be counted: {error}") from None
        labels = [row[0] for row in labelled([(key,) for key in keys])]
        per_column = {name: column_summaries(plan, profile.columns[name], counter.rows(labels))
                      for (name, plan), counter in zip(plans.items(), counters, strict=True)}
        group_rows = {label: int(n) for label, n in zip(labels, counted_rows, strict=True) if n}
        return assemble(profile, plans, per_column, group_rows, absent, single=group.single)

    # -- the primitives of Backend -------------------------------------------
    def _decision_counts(self, source: Source, config: CountGrid, roles: DecisionRoles) -> DecisionCounts:
        return decision_counts(self, source, config, roles)

    def _fit(
        self, source: SourceLike, columns: Sequence[str] | None, settings: FitSettings, *, approximate: bool,
        sample_rows: int, seed: int,
    ) -> ReferenceProfile:
        """:meth:`Backend._fit`, with the reference counted on its bins from the fit's own scans.

        An exact fit has already scanned every column: the refinement's
        histograms count the numeric columns' bins, the label counts the
        categories (:meth:`DuckDBFit.reference_summaries`), so no second pass
        over the reference; only columns not derived that way are counted by
        query. The same summaries as counting them (sums in another order).
        """
        request = QuantileRequest(
            approximate, (int(settings.bins), int(settings.fine_bins)), int(sample_rows), int(seed)
        )
        fit, names, counted = self._fit_queries(source, columns, request)
        return fit_with_reference(fit, names, settings, lambda profile: self.summarize(counted, profile))

    def _fit_queries(
        self, source: SourceLike, columns: Sequence[str] | None, request: QuantileRequest
    ) -> tuple[DuckDBFit, list[str], Source]:
        src, relation, schema, where = self._prepare(source)
        names = list(columns) if columns is not None else [
            name for name, sql_type in schema.items() if source_kind(sql_type) != "temporal"
        ]
        fit = DuckDBFit(self, relation, where, schema, approximate=request.approximate, counts=request.counts,
                        sample_values=request.sample_values, seed=request.seed)
        return fit, names, src

    def _count(self, src: Source) -> int:
        _, relation, _, where = self._prepare(src)
        return int(self.con.execute(f"SELECT count(*) FROM {relation} WHERE {where}").fetchall()[0][0])

    def _rows(self, src: Source) -> pd.DataFrame:
        _, relation, _, where = self._prepare(src)
        # Rows in file order, as pandas reads them: insertion order is kept for this query only.
        kept = self.con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
        self.con.execute("SET preserve_insertion_order = true")
        try:
            return data.arrow_to_pandas(self.con.sql(f"SELECT * FROM {relation} WHERE {where}").to_arrow_table())
        finally:
            self.con.execute(f"SET preserve_insertion_order = {'true' if kept else 'false'}")

    def _sample(self, src: Source, rows: int, seed: int) -> pd.DataFrame:
        _, relation, _, where = self._prepare(src)
        sql = (
            f"SELECT * FROM (SELECT * FROM {relation} WHERE {where}) "
            f"USING SAMPLE reservoir({int(rows)} ROWS) REPEATABLE ({int(seed)})"
        )
        return data.arrow_to_pandas(self.con.sql(sql).to_arrow_table())

    def head(self, source: SourceLike, rows: int = 10_000) -> pd.DataFrame:
        with self._timed("head"):
            _, relation, _, where = self._prepare(source)
            table = self.con.sql(f"SELECT * FROM {relation} WHERE {where} LIMIT {int(rows)}").to_arrow_table()
            return data.arrow_to_pandas(table)

    def columns(self, source: SourceLike) -> list[str]:
        with self._timed("columns"):
            _, _, schema, _ = self._prepare(source)
            return list(schema)
