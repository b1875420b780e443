"""Reading CSV and Parquet into pandas: local files and objects in a store, with their partition columns.

Every file is read once and recorded with the hash of the bytes it was read
from. Compressed CSV (``.csv.gz``, ``.csv.bz2``, ``.csv.zst``) is decompressed
with pyarrow's codecs. Parquet ``decimal`` columns are read as float64 (a
money column is a number: about 15 significant digits are kept), see
:func:`arrow_to_pandas`, which every backend uses to hand rows to pandas.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ._fileset import DataFile, FileSet, resolve_files
from ._provenance import InputLog, InputRecord, file_sha256

__all__ = [
    "load_table", "read_file", "arrow_to_pandas", "partition_columns", "parse_timestamps", "window",
]

_CODECS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}


def arrow_to_pandas(table: Any) -> pd.DataFrame:
    """An Arrow table as pandas, with ``decimal`` columns as float64 (numbers, not Python objects)."""
    import pyarrow as pa

    fields = table.schema
    decimal = [i for i, f in enumerate(fields) if pa.types.is_decimal(f.type)]
    for i in decimal:
        table = table.set_column(i, fields[i].name, table.column(i).cast(pa.float64()))
    # Not split_blocks: zero-copy views of Arrow's buffers measured 3x the system time of the copy at 10^6
    # rows (0.19 s against 0.07 s a file, 10 loads; mimalloc's pages are faulted in again) for no lower peak.
    return table.to_pandas()


def partition_columns(files: FileSet, file: DataFile, rows: int) -> dict[str, Any]:
    """The partition columns of ``file`` as Arrow arrays of ``rows`` equal values (types as :class:`FileSet` says)."""
    import pyarrow as pa

    types = {"int": pa.int64(), "timestamp": pa.timestamp("us"), "string": pa.string()}
    values = files.partition_values(file)
    columns = {}
    for key, kind in files.partitions:
        value = values[key]
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        columns[key] = pa.array([value] * rows, type=types[kind])
    return columns


def _check_columns(columns: Sequence[str], path: str) -> None:
    duplicates = sorted(name for name, count in Counter(map(str, columns)).items() if count > 1)
    if duplicates:
        raise DataError(
            f"{path}: duplicate column names {duplicates}; every column needs a unique name",
            path=path,
            column=duplicates[0],
        )
    if len(columns) == 0:
        raise DataError(f"{path}: no columns", path=path)


def _missing(columns: Sequence[str] | None, names: Sequence[str], path: str, what: str) -> None:
    if columns is None:
        return
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {missing}; {what} {list(names)}", path=path, column=missing[0]
        )


def _read_parquet(source: Any, path: str, columns: Sequence[str] | None) -> Any:
    """The Parquet file as an Arrow table (``source``: a local path or the bytes read)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def opened() -> Any:
        return pa.BufferReader(source) if isinstance(source, bytes) else source

    try:
        metadata = pq.read_metadata(opened())
        schema = metadata.schema.to_arrow_schema()
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({_first_line(exc)})", path=path) from None
    _check_columns(schema.names, path)
    _missing(columns, schema.names, path, "the file has")
    coded = [name for name in _dictionary_strings(metadata, schema) if columns is None or name in columns]
    try:
        reader = pq.ParquetFile(opened(), read_dictionary=coded or None)
        wanted = list(columns) if columns is not None else None
        if reader.metadata.num_row_groups > 1:
            # Row group by row group: one group's decode buffers live at a time (the same table as one read).
            # They go back to Arrow's allocator, which reuses them for the next group; handing them to the OS
            # after every group (release_unused) made the kernel unmap and zero them again for the next one,
            # seconds of system time at 5x10^6 rows for about 1% less peak memory.
            parts = [reader.read_row_group(group, columns=wanted) for group in range(reader.metadata.num_row_groups)]
            table = pa.concat_tables(parts)
            del parts
        else:
            table = reader.read(columns=wanted)
        # Back to the file's own string type: the same column as a plain read gives, built from the
        # dictionary (a gather of few strings) instead of decoding every row's string. Arrow casts without
        # the GIL: the columns of a large table are cast on two threads of this call's own.
        def plain(name: str) -> Any:
            return table.column(name).cast(schema.field(name).type)

        if len(coded) > 1 and table.num_rows >= _THREADED_CAST_ROWS:
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="mlreport-cast") as casts:
                strings = list(casts.map(plain, coded))
        else:
            strings = [plain(name) for name in coded]
        for name, column in zip(coded, strings, strict=True):
            index = table.schema.get_field_index(name)
            table = table.set_column(index, table.schema.field(index).with_type(column.type), column)
        return table
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(
            f"{path}: Parquet file could not be read ({_first_line(exc)}); is it truncated?", path=path
        ) from None


_THREADED_CAST_ROWS = 200_000
"""Rows from which a table's dictionary-coded string columns are cast back to strings on two threads."""

_CODED_BYTES_PER_ROW = 2.0
"""Uncompressed bytes per row below which a dictionary-coded string column holds few distinct strings."""


def _dictionary_strings(metadata: Any, schema: Any) -> list[str]:
    """Top-level string columns stored dictionary-coded with few distinct values in every row group.

    Reading those as Arrow dictionaries and casting back to strings costs a
    fraction of decoding each row's string (3 to 4 times less on a category
    column of 10^6 rows); columns of many distinct strings (ids, free text,
    a writer that fell back to plain pages) are read as they are.
    """
    import pyarrow as pa

    wanted = {
        name for name in schema.names
        if pa.types.is_string(schema.field(name).type) or pa.types.is_large_string(schema.field(name).type)
    }
    if not wanted or metadata.num_row_groups == 0:
        return []
    chosen = set(wanted)
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for position in range(row_group.num_columns):
            chunk = row_group.column(position)
            name = chunk.path_in_schema
            if name not in chosen:
                continue
            small = chunk.num_values > 0 and chunk.total_uncompressed_size / chunk.num_values < _CODED_BYTES_PER_ROW
            if not (chunk.has_dictionary_page and small):
                chosen.discard(name)
    return [name for name in schema.names if name in chosen]


_DELIMITERS = (",", ";", "\t", "|")


def _sniff_delimiter(name: str, head: str, *, truncated: bool = False) -> str:
    """The delimiter that splits every record of ``head`` into the same number of fields.

    The file's own convention (tab for ``.tsv``, else comma) wins whenever it
    is consistent and gives more than one column: free text holding ``;`` or
    ``|`` must not make a comma file look like a semicolon one (csv.Sniffer
    counts characters and does). Otherwise the consistent candidate with the
    most columns and no unnamed header field; a file that fits none is read
    with the default and the parser names its first bad line.
    """
    default = "\t" if name.lower().endswith(".tsv") else ","
    records = head.splitlines(keepends=True)
    if truncated and len(records) > 1:
        records = records[:-1]  # the head may end inside a line
    text = "".join(records)
    fields: dict[str, tuple[int, bool]] = {}
    for delimiter in _DELIMITERS:
        try:
            rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
        except csv.Error:
            continue
        counts = {len(row) for row in (rows[:-1] if truncated and len(rows) > 1 else rows)}
        if len(counts) == 1 and rows:
            fields[delimiter] = (counts.pop(), all(name.strip() for name in rows[0]))
    if fields.get(default, (0, False))[0] > 1:
        return default
    named = [(count, -_DELIMITERS.index(d), d) for d, (count, header_ok) in fields.items() if count > 1 and header_ok]
    if named:
        return max(named)[2]
    return default


def _codec(name: str) -> str | None:
    lower = name.lower()
    return next((codec for suffix, codec in _CODECS.items() if lower.endswith(suffix)), None)


def _csv_stream(source: Any, name: str) -> Any:
    """A readable stream of the CSV's text bytes, decompressed (``source``: a local path or the bytes read)."""
    import pyarrow as pa

    raw = pa.BufferReader(source) if isinstance(source, bytes) else pa.OSFile(str(source), "rb")
    codec = _codec(name)
    return pa.CompressedInputStream(raw, codec) if codec else raw


def _read_csv(source: Any, path: str, name: str, columns: Sequence[str] | None) -> pd.DataFrame:
    import pyarrow as pa

    head_size = 65536
    try:
        with _csv_stream(source, name) as stream:
            raw = stream.read(head_size)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: cannot read file ({_first_line(exc)})", path=path) from None
    if not raw.strip():
        raise DataError(f"{path}: file is empty; expected a header row and data", path=path)
    try:
        head = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # The last bytes of the head may cut a character in two: only a
        # failure well inside the block is a real encoding problem.
        if exc.start < len(raw) - 4:
            raise DataError(
                f"{path}: not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}); "
                "save the CSV as UTF-8",
                path=path,
            ) from None
        head = raw[: exc.start].decode("utf-8-sig")
    delimiter = _sniff_delimiter(name, head, truncated=len(raw) >= head_size)
    header = next(csv.reader(io.StringIO(head.splitlines()[0] if head else ""), delimiter=delimiter), [])
    _check_columns(header, path)
    _missing(columns, header, path, "the header has")
    try:
        with _csv_stream(source, name) as stream:
            frame = pd.read_csv(
                stream,
                sep=delimiter,
                usecols=list(columns) if columns is not None else None,
                encoding="utf-8-sig",
                engine="pyarrow" if delimiter != "|" else "c",
            )
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({_first_line(exc)}); save the CSV as UTF-8", path=path) from None
    except Exception as exc:  # pyarrow and pandas raise many types for malformed CSV
        raise DataError(f"{path}: CSV could not be parsed ({_first_line(exc)})", path=path) from None
    return frame


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def read_file(
    files: FileSet, file: DataFile, *, name: str = "data", columns: Sequence[str] | None = None,
    log: InputLog | None = None,
) -> pd.DataFrame:
    """One file of ``files`` as a DataFrame with its partition columns, recorded in ``log``.

    A local file is read from its path and hashed; an object in a store is
    read once, whole (the version listed, where the store has versions), and
    the bytes read are what is hashed and parsed. Partition keys that are also
    columns of the file are left to the file (:meth:`FileSet.without_partitions`).
    """
    hashing: Future[str] | None = None
    hasher: ThreadPoolExecutor | None = None
    if files.remote:
        content = files.read_bytes(file)
        source: Any = content
        sha256 = hashlib.sha256(content).hexdigest()
    else:
        source = file.path
        sha256 = ""
        if log is not None:
            # The file's hash, computed while it is parsed (hashlib and Arrow both run without the GIL).
            # A thread of this call's own: nothing outlives the read (safe in a process forked later).
            hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlreport-hash")
            hashing = hasher.submit(file_sha256, file.path)
    try:
        frame = _parse(files, file, source, columns)
    finally:
        if hasher is not None:
            hasher.shutdown(wait=True)  # on a failed parse too: no read of the file is left running behind
    if log is not None:
        log.add(InputRecord(
            name=name, path=file.url, sha256=sha256 or (hashing.result() if hashing else file_sha256(file.path)),
            hash_of="file", bytes=file.bytes, rows=len(frame), columns=int(frame.shape[1]), etag=file.etag,
            version=file.version,
        ))
    return frame


def _parse(files: FileSet, file: DataFile, source: Any, columns: Sequence[str] | None) -> pd.DataFrame:
    """The file's rows as a DataFrame with its partition columns (``source``: its local path or its bytes)."""
    import pyarrow as pa

    if files.format == "parquet":
        table = _read_parquet(source, file.url, columns)
        files = files.without_partitions(table.column_names)
        for key, array in partition_columns(files, file, table.num_rows).items():
            if columns is None or key in columns:
                table = table.append_column(key, array)
        frame = arrow_to_pandas(table)
        del table
        # Hand back what decoding used (page buffers kept by Arrow's allocator) before the next file is read.
        pa.default_memory_pool().release_unused()
    else:
        frame = _read_csv(source, file.url, file.url, columns)
        files = files.without_partitions([str(c) for c in frame.columns])
        extra = partition_columns(files, file, len(frame))
        if extra:
            frame = pd.concat([frame, arrow_to_pandas(pa.table(extra)).set_axis(frame.index)], axis=1)
    return frame


def load_table(
    path: Any,
    *,
    name: str = "data",
    columns: Sequence[str] | None = None,
    log: InputLog | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet file, glob or folder (local or an fsspec URL, or a resolved :class:`FileSet`).

    Several files are concatenated in path order and must share their columns;
    Hive-style partition folders add their columns. Each file is recorded in
    ``log`` (when given) with its sha256 and row count under ``name``
    (``"reference"``, ``"current"``...). A ``sql:`` location is read with
    :func:`mlreport.data.read_sql`.
    """
    from ._locations import parse_location

    if isinstance(path, FileSet):
        return read_files(path, name=name, columns=columns, log=log)
    location = parse_location(path)
    if location.kind == "sql":
        from ._sql import read_sql

        return read_sql(location, name=name, log=log)
    files = resolve_files(location)
    return read_files(files, name=name, columns=columns, log=log)


def read_files(
    files: FileSet, *, name: str = "data", columns: Sequence[str] | None = None, log: InputLog | None = None
) -> pd.DataFrame:
    """Every file of ``files`` as one DataFrame (:func:`read_file` each, in order; columns must agree)."""
    frames: list[pd.DataFrame] = []
    first: list[str] | None = None
    for file in files.files:
        frame = read_file(files, file, name=name, columns=columns, log=log)
        names = [str(c) for c in frame.columns]
        if first is None:
            first = names
        elif names != first:
            raise DataError(
                f"{file.url}: columns {names} differ from {files.files[0].url}'s {first}; "
                "files read together must share their columns",
                path=file.url,
            )
        frames.append(frame)
    if len(frames) == 1:
        return frames[0]
    return pd.concat(frames, ignore_index=True)


def parse_timestamps(frame: pd.DataFrame, column: str, *, source: str = "data") -> pd.Series:
    """The column as naive UTC ``datetime64[ns]``, or a DataError with an example.

    Time-zone aware values (or strings with offsets) are converted to UTC and
    made naive, so that values from several zones compare correctly.
    """
    if column not in frame.columns:
        raise DataError(
            f"{source}: timestamp column {column!r} not found; columns are {list(frame.columns)[:30]}",
            column=column,
        )
    values = frame[column]
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.astype("datetime64[ns]")
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        raise DataError(
            f"{source}: column {column!r} holds numbers ({values.dtype}), expected timestamps "
            "(ISO 8601 strings or a datetime type)",
            column=column,
        )
    text = values.astype("string")
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    bad = parsed.isna() & text.notna()
    if bad.any():
        example = text[bad].iloc[0]
        raise DataError(
            f"{source}: column {column!r} has {int(bad.sum())} value(s) that are not timestamps, "
            f"for example {str(example)[:80]!r}; expected ISO 8601 such as 2026-03-14T10:00:00",
            column=column,
        )
    return parsed.dt.tz_localize(None).astype("datetime64[ns]")


def window(
    frame: pd.DataFrame,
    timestamps: pd.Series,
    start: str | pd.Timestamp | None,
    end: str | pd.Timestamp | None,
    *,
    label: str,
) -> pd.DataFrame:
    """Rows with ``start <= timestamp < end``; a DataError when none are left."""
    mask = np.ones(len(frame), dtype=bool)
    try:
        if start not in (None, ""):
            mask &= (timestamps >= pd.Timestamp(start)).to_numpy()
        if end not in (None, ""):
            mask &= (timestamps < pd.Timestamp(end)).to_numpy()
    except (ValueError, TypeError) as exc:
        raise DataError(f"{label} window {start!r}..{end!r}: not a date ({_first_line(exc)})") from None
    selected = frame.loc[mask]
    if selected.empty:
        span = f"{timestamps.min()} to {timestamps.max()}" if len(timestamps) else "no rows"
        raise DataError(
            f"{label} window {start or '-inf'} to {end or '+inf'} holds no rows; the data spans {span}"
        )
    return selected
