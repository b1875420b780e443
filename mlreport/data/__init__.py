"""Loading data where it lives: local files, object storage and SQL databases, with provenance.

A data parameter is one string (:func:`parse_location`):

- a CSV or Parquet file, glob (``**`` included) or folder, local or as a
  ``file://`` URL;
- an fsspec URL: ``s3://``, ``gs://``, ``abfs://``, ``https://``... (drivers
  from the extras ``mlreport[s3]``, ``[gcs]``, ``[azure]``; credentials from
  the environment and the store's usual config files, never from parameters);
- ``sql:URL TABLE`` or ``sql:URL SELECT ...``: a SQLAlchemy URL and a table or
  a read-only query (``mlreport[sql]``; see :func:`read_sql`).

Folders named ``key=value`` below the location (Hive-style partitions, such
as ``date=2026-03-14/``) become columns with one type in every backend, and a
window on a partition column opens only the files it needs
(:class:`FileSet`).

What an analysis read is recorded in an :class:`InputLog` that the analysis
owns and hands to its loaders (there is no module-level state): every file
read through :func:`load_table` is an :class:`InputRecord` (location without
credentials, sha256 of the bytes read, bytes, rows, columns, and an object's
ETag and version id where its store gives them); a query records its text, its
row count and the hash of its result. Built-in sample data is recorded through
:func:`record_frame` with a content hash; files that a DuckDB or Spark backend
reads without loading them here are recorded through :func:`record_file`
(several local files: one combined digest; objects in a store: a digest of
their listing). :func:`current_sha256` recomputes any record's hash the way it
was made, for a rerun or a verify to compare.

Errors are :class:`~mlreport.errors.DataError` naming the file, object, query
or column and what was expected; nothing here lets a pandas, pyarrow, fsspec
or database traceback through.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Where data lives is light (no pandas): the driver checks parameter values
# with it before a run. Everything else loads pandas and pyarrow, and is
# imported on first use (the kernel that reads the data, not the driver).
from ._locations import EXTRAS, Location, credentials_problem, is_url, open_filesystem, parse_location, redact

if TYPE_CHECKING:
    from ._fileset import CSV_SUFFIXES, PARQUET_SUFFIXES, DataFile, FileSet, format_of, resolve_files, resolve_paths
    from ._provenance import (
        InputLog,
        InputRecord,
        file_sha256,
        files_sha256,
        frame_sha256,
        objects_sha256,
        record_bytes,
        record_file,
        record_frame,
    )
    from ._read import arrow_to_pandas, load_table, parse_timestamps, partition_columns, read_file, read_files, window
    from ._recheck import RECHECKABLE, current_sha256
    from ._sql import PASSWORD_VARIABLE, parse_sql, query_text, read_sql, sql_location

#: The module of each name imported on first use.
_LAZY = {
    **dict.fromkeys(
        ("CSV_SUFFIXES", "PARQUET_SUFFIXES", "DataFile", "FileSet", "format_of", "resolve_files", "resolve_paths"),
        "_fileset",
    ),
    **dict.fromkeys(
        ("InputLog", "InputRecord", "file_sha256", "files_sha256", "frame_sha256", "objects_sha256", "record_bytes",
         "record_file", "record_frame"),
        "_provenance",
    ),
    **dict.fromkeys(
        ("arrow_to_pandas", "load_table", "parse_timestamps", "partition_columns", "read_file", "read_files",
         "window"),
        "_read",
    ),
    **dict.fromkeys(("RECHECKABLE", "current_sha256"), "_recheck"),
    **dict.fromkeys(("PASSWORD_VARIABLE", "parse_sql", "query_text", "read_sql", "sql_location"), "_sql"),
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "InputRecord",
    "InputLog",
    "load_table",
    "record_frame",
    "record_file",
    "record_bytes",
    "RECHECKABLE",
    "file_sha256",
    "files_sha256",
    "frame_sha256",
    "objects_sha256",
    "current_sha256",
    "parse_timestamps",
    "resolve_paths",
    "window",
    # where data lives
    "Location",
    "parse_location",
    "is_url",
    "redact",
    "credentials_problem",
    "open_filesystem",
    "EXTRAS",
    "DataFile",
    "FileSet",
    "resolve_files",
    "format_of",
    "PARQUET_SUFFIXES",
    "CSV_SUFFIXES",
    "read_file",
    "read_files",
    "partition_columns",
    "arrow_to_pandas",
    # SQL
    "read_sql",
    "parse_sql",
    "query_text",
    "sql_location",
    "PASSWORD_VARIABLE",
]
