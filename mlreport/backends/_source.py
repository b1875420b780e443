"""What a backend reads: sources (files, frames, tables), groupings and bounded row samples."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd

from .. import data
from ..errors import DataError, ParameterError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame  # untyped: Any to mypy

__all__ = [
    "AUTO_THRESHOLD_BYTES", "PERIODS", "QUANTILE_MODES", "Source", "naive_utc", "as_source", "Grouping",
    "RowSample", "check_quantile_mode", "check_group", "PathLike", "SourceLike",
]

PathLike: TypeAlias = "str | os.PathLike[str]"
"""A file, glob, folder or URL of Parquet or CSV files, or a ``sql:`` source (:func:`mlreport.data.parse_location`)."""

SourceLike: TypeAlias = "Source | PathLike | Sequence[PathLike] | pd.DataFrame | SparkDataFrame"
"""What every backend method reads: a :class:`Source`, paths, a pandas frame, or a Spark frame (Spark only)."""


AUTO_THRESHOLD_BYTES = 1 << 30
"""Files larger than this in total go to DuckDB under ``backend="auto"``."""


PERIODS = ("D", "W", "M")
"""Period keys every backend understands: day, week (from Monday), month."""


QUANTILE_MODES = ("exact", "approx", "sample")


@dataclass(frozen=True)
class Source:
    """What a backend reads, and the time window it keeps.

    One of: ``files`` (a :class:`~mlreport.data.FileSet`: Parquet or CSV
    files, local or in object storage, with their partition columns), ``sql``
    (a ``sql:`` :class:`~mlreport.data.Location`: a table or query read through
    SQLAlchemy), ``frame`` (a pandas DataFrame, or a Spark DataFrame for the
    Spark backend) or ``table`` (a table name in the backend's catalogue).
    ``timestamp``, ``start`` and ``end`` keep rows with ``start <= timestamp <
    end`` (either bound optional; naive UTC, as :mod:`mlreport.data` reads
    timestamps); a window on a partition column keeps only the files whose
    partition can hold its rows (:meth:`~mlreport.data.FileSet.within`).
    ``name`` is what the run's inputs record it as; ``label`` what error
    messages call it (the location as the user gave it, without credentials;
    ``name`` when empty).
    """

    files: data.FileSet | None = None
    sql: data.Location | None = None
    frame: Any = None
    table: str | None = None
    timestamp: str | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    name: str = "data"
    label: str = ""

    @property
    def paths(self) -> tuple[str, ...]:
        """The files' paths (local) or URLs (object storage); empty for other sources."""
        return tuple(f.path for f in self.files.files) if self.files is not None else ()

    @property
    def format(self) -> str | None:
        return self.files.format if self.files is not None else None

    @property
    def bytes(self) -> int:
        """Total size of the files (0 for frames, tables and queries)."""
        return self.files.bytes if self.files is not None else 0

    @property
    def is_spark(self) -> bool:
        return self.frame is not None and type(self.frame).__module__.startswith("pyspark")

    def window(self, timestamp: str | None, start: Any = None, end: Any = None) -> Source:
        """The same source restricted to ``start <= timestamp < end`` (files outside a partition window dropped)."""
        first, last = naive_utc(start, "start"), naive_utc(end, "end")
        files = self.files
        if files is not None and timestamp:
            files = files.within(timestamp, first, last)
        return replace(self, files=files, timestamp=timestamp or None, start=first, end=last)

    def describe(self) -> str:
        if self.files is not None:
            what = self.files.describe()
        elif self.sql is not None:
            what = self.sql.shown
        elif self.table:
            what = f"table {self.table}"
        else:
            what = f"{type(self.frame).__name__}"
        if self.timestamp and (self.start is not None or self.end is not None):
            what += f", {self.timestamp} in [{self.start or '-inf'}, {self.end or '+inf'})"
        return what


def naive_utc(value: Any, name: str, *, what: str | None = None) -> pd.Timestamp | None:
    """A window bound as a naive UTC timestamp, as :mod:`mlreport.data` reads timestamps; None when empty.

    ``what`` names the value in the error (default ``window NAME``); the
    ParameterError names ``name``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ParameterError(
            f"{what or f'window {name}'}: {value!r} is not an ISO 8601 date (e.g. 2026-03-14 or 2026-03-14T10:00)",
            name=name,
        ) from None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def _combined(sets: Sequence[data.FileSet], label: str) -> data.FileSet:
    """Several locations read together as one set of files (one format, one store)."""
    if len(sets) == 1:
        return sets[0]
    formats = {s.format for s in sets}
    if len(formats) != 1:
        raise DataError(f"{label}: mixes CSV and Parquet files; point at one format", path=label)
    if len({s.protocol for s in sets}) != 1 or len({id(s.filesystem) for s in sets if s.remote}) > 1:
        raise DataError(f"{label}: files from several stores cannot be read as one source", path=label)
    kinds: dict[str, str] = {}
    for s in sets:
        for key, kind in s.partitions:
            kinds[key] = kind if kinds.get(key, kind) == kind else "string"
    files = tuple(f for s in sets for f in s.files)
    return data.FileSet(files, formats.pop(), label, sets[0].protocol, sets[0].filesystem, tuple(kinds.items()))


def as_source(
    source: SourceLike,
    *,
    name: str = "data",
    timestamp: str | None = None,
    start: Any = None,
    end: Any = None,
    table: str | None = None,
) -> Source:
    """A :class:`Source` from a location (path, glob, folder, URL, ``sql:`` source or a list), a frame or a table.

    Locations are parsed by :func:`mlreport.data.parse_location` and their files resolved once, here.
    """
    if table:
        result = Source(table=table, name=name)
    elif isinstance(source, Source):
        result = source
    elif isinstance(source, (str, os.PathLike)) or (
        isinstance(source, (list, tuple)) and source and all(isinstance(s, (str, os.PathLike)) for s in source)
    ):
        items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
        locations = [data.parse_location(item) for item in items]
        label = ", ".join(location.shown for location in locations)
        queries = [location for location in locations if location.kind == "sql"]
        if queries:
            if len(locations) > 1:
                raise DataError(f"{label}: a sql: source is read on its own, not in a list", path=label)
            result = Source(sql=queries[0], name=name, label=label)
        else:
            files = _combined([data.resolve_files(location) for location in locations], label)
            result = Source(files=files, name=name, label=label)
    elif source is not None and hasattr(source, "columns"):
        result = Source(frame=source, name=name)
    else:
        raise DataError(
            f"cannot read {type(source).__name__} as data: expected a path, glob, folder or URL of "
            "Parquet or CSV files, a sql: source, a list of paths, a DataFrame, or table=..."
        )
    if timestamp or start is not None or end is not None:
        result = result.window(timestamp or result.timestamp, start, end)
    return result


@dataclass(frozen=True)
class Grouping:
    """How a backend groups the rows it counts: not at all, by a column (``by``) or by ``period`` of ``timestamp``.

    ``untimed``: rows without a timestamp form the group ``None`` instead of
    being left out (the window of :meth:`Backend.summarize_periods` counts them).
    """

    by: str | None = None
    period: str | None = None
    timestamp: str | None = None
    untimed: bool = False

    @property
    def code(self) -> str | None:
        """The period key, upper case (``D``, ``W`` or ``M``)."""
        return str(self.period).upper() if self.period is not None else None

    @property
    def single(self) -> bool:
        """No grouping: the whole source is one group."""
        return self.by is None and self.period is None


@dataclass(frozen=True)
class RowSample:
    """Rows of a source held in memory: every row, or a uniform sample of them.

    ``total`` is the number of rows in the source (its window); the sample is
    ``complete`` when it holds all of them, in the source's order. Sections of
    a report that need row-level data (integrity, performance, the domain
    classifier) run on it; when it is not complete they say so.
    """

    frame: pd.DataFrame
    total: int
    seed: int = 0

    @property
    def complete(self) -> bool:
        return len(self.frame) == self.total

    def describe(self) -> str:
        if self.complete:
            return f"all {self.total:,} rows"
        return f"a uniform sample of {len(self.frame):,} of {self.total:,} rows (seed {self.seed})"


def check_quantile_mode(quantiles: str) -> None:
    if quantiles not in QUANTILE_MODES:
        raise ParameterError(
            f"quantiles must be one of {', '.join(QUANTILE_MODES)}, got {quantiles!r}", name="quantiles"
        )


def check_group(by: str | None, period: str | None, timestamp: str | None) -> None:
    if (by is None) == (period is None):
        raise ParameterError("give exactly one of by= (a column) or period= (D, W or M)", name="by")
    if period is not None:
        if str(period).upper() not in PERIODS:
            raise ParameterError(
                f"period must be one of {', '.join(PERIODS)} on a SQL backend, got {period!r} "
                "(chunks of rows need a row order: use the pandas backend)",
                name="period",
            )
        if not timestamp:
            raise ParameterError("period= needs the timestamp column (timestamp=...)", name="timestamp")


def _window_frame(src: Source) -> pd.DataFrame:
    """A pandas source's frame restricted to its window."""
    frame = src.frame
    if src.timestamp and (src.start is not None or src.end is not None):
        times = frame[src.timestamp]
        if not pd.api.types.is_datetime64_any_dtype(times.dtype) or isinstance(times.dtype, pd.DatetimeTZDtype):
            times = data.parse_timestamps(frame, src.timestamp, source=src.label or src.name)
        keep = np.ones(len(frame), dtype=bool)
        if src.start is not None:
            keep &= (times >= src.start).to_numpy()
        if src.end is not None:
            keep &= (times < src.end).to_numpy()
        frame = frame.loc[keep]
    return frame


def _bounded_frame(frame: pd.DataFrame, rows: int, seed: int) -> RowSample:
    sampled = frame if len(frame) <= rows else frame.sample(n=rows, random_state=seed).sort_index()
    return RowSample(sampled.reset_index(drop=True), len(frame), seed)
