"""Loading data: CSV and Parquet files, globs and folders, with provenance.

What an analysis read is recorded in an :class:`InputLog` that the analysis
owns and hands to its loaders (there is no module-level state): every file
read through :func:`load_table` is an :class:`InputRecord` (path, sha256,
bytes, rows, columns) so the report's appendix and ``run.json`` can say exactly
what data produced them. Built-in sample data is recorded through
:func:`record_frame` with a content hash instead of a file hash; files that a
DuckDB or Spark backend reads without loading them here are recorded through
:func:`record_file` (several files: one combined digest).

Errors are :class:`~mlreport.errors.DataError` naming the file or column and
what was expected; nothing here lets a pandas or pyarrow traceback through.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = [
    "InputRecord",
    "InputLog",
    "load_table",
    "record_frame",
    "record_file",
    "record_bytes",
    "RECHECKABLE",
    "current_sha256",
    "file_sha256",
    "files_sha256",
    "parse_timestamps",
    "resolve_paths",
    "window",
]

_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv", ".csv.bz2", ".csv.zst")


@dataclass(frozen=True)
class InputRecord:
    """One table an analysis read: where from, its hash and its size.

    ``hash_of`` says what ``sha256`` covers: ``"file"`` (the file's bytes),
    ``"files"`` (one digest over several files, :func:`files_sha256`; ``files``
    is their count), ``"content"`` (a frame built in memory, such as the
    built-in sample: :func:`frame_sha256`) or ``"written"`` (the bytes this run
    wrote to a file that later runs read, such as a saved reference profile:
    :func:`record_bytes`). ``rows`` and ``columns`` are what was read (None
    for a file that is not a table: a spec, a scenario file, a profile, a
    model); ``bytes`` is None for a frame.
    """

    name: str
    path: str
    sha256: str
    hash_of: str
    bytes: int | None
    rows: int | None
    columns: int | None
    files: int | None = None

    def to_dict(self) -> dict[str, str | int | None]:
        """The JSON form recorded in ``run.json`` (``files`` only for several files)."""
        entry: dict[str, str | int | None] = {
            "name": self.name, "path": self.path, "sha256": self.sha256, "hash_of": self.hash_of,
        }
        if self.files is not None:
            entry["files"] = self.files
        entry.update(bytes=self.bytes, rows=self.rows, columns=self.columns)
        return entry


class InputLog:
    """The provenance of every table an analysis read, in the order it read them.

    An analysis creates one and passes it to the loaders (:func:`load_table`,
    :func:`record_frame`, :func:`record_file`) and to its backend; its summary
    then lists :meth:`to_list`. Nothing is shared between analyses or runs.
    """

    def __init__(self, records: Sequence[InputRecord] = ()) -> None:
        self._records: list[InputRecord] = list(records)

    def add(self, record: InputRecord) -> InputRecord:
        """Append ``record``; returns it."""
        self._records.append(record)
        return record

    def __iter__(self) -> Iterator[InputRecord]:
        return iter(list(self._records))

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> InputRecord:
        return self._records[index]

    def to_list(self) -> list[dict[str, str | int | None]]:
        """Every record as JSON (for a summary's ``inputs``)."""
        return [record.to_dict() for record in self._records]


def file_sha256(path: str | os.PathLike[str], *, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, streamed so large files use little memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_sha256(frame: pd.DataFrame) -> str:
    """A content hash of a DataFrame (values, index and column names)."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode("utf-8"))
    if len(frame):
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def record_frame(frame: pd.DataFrame, *, name: str, source: str, log: InputLog | None = None) -> InputRecord:
    """Record a table that did not come from a file (the built-in sample) in ``log``; returns the record."""
    record = InputRecord(
        name=name, path=source, sha256=frame_sha256(frame), hash_of="content", bytes=None,
        rows=len(frame), columns=int(frame.shape[1]),
    )
    if log is not None:
        log.add(record)
    return record


def files_sha256(files: Sequence[str | os.PathLike[str]]) -> str:
    """One digest over several files: their sha256, size and path, in sorted path order.

    Each file is one line ``<sha256> <bytes> <path relative to the files' common
    folder>``, so the digest changes when any file's bytes change, when a file
    is added or removed, or when one is renamed, and not when the whole folder
    moves. ``sha256sum``-style: hash the file list to check it by hand.
    """
    paths = sorted(Path(f) for f in files)
    if not paths:
        raise DataError("no files to hash")
    root = Path(os.path.commonpath([str(p.resolve().parent) for p in paths]))
    digest = hashlib.sha256()
    for file in paths:
        relative = os.path.relpath(file.resolve(), root)
        digest.update(f"{file_sha256(file)} {file.stat().st_size} {relative}\n".encode())
    return digest.hexdigest()


def record_file(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    name: str,
    rows: int | None,
    columns: int | None,
    log: InputLog | None = None,
) -> InputRecord:
    """Record files read by something other than :func:`load_table` (a DuckDB or Spark backend).

    ``path`` is a file, glob or folder (resolved as :func:`load_table` does) or
    a list of files. One file is recorded with its own sha256; several are one
    record with a combined digest (:func:`files_sha256`), their count
    (``files``) and total ``bytes``. ``rows`` and ``columns`` are what the
    reader found in the whole file(s). The record is added to ``log`` and returned.
    """
    if isinstance(path, (str, os.PathLike)):
        files = resolve_paths(path)
        label = os.fspath(path)
    else:
        files = sorted(Path(p) for item in path for p in resolve_paths(item))
        if len(files) == 1:
            label = str(files[0])
        else:
            label = f"{os.path.commonpath([str(f.parent) for f in files])} ({len(files)} files)"
    several = len(files) > 1
    record = InputRecord(
        name=name,
        path=label if several else str(files[0]),
        sha256=files_sha256(files) if several else file_sha256(files[0]),
        hash_of="files" if several else "file",
        files=len(files) if several else None,
        bytes=sum(f.stat().st_size for f in files),
        rows=None if rows is None else int(rows),
        columns=None if columns is None else int(columns),
    )
    if log is not None:
        log.add(record)
    return record


def record_bytes(
    content: bytes, *, name: str, path: str | os.PathLike[str], log: InputLog | None = None, written: bool = False,
) -> InputRecord:
    """Record a file that is not a table (a model spec, a scenario file, a profile, a model) from its bytes.

    ``content`` is what was read (or, with ``written``, what this run wrote to
    ``path``): the caller reads the file once, hands the same bytes to its
    parser and here, so the sha256 is that of the bytes analysed and a file
    replaced in between cannot be recorded for what was not read. The record
    (``hash_of`` ``"file"``, or ``"written"``) is added to ``log`` and returned.
    """
    record = InputRecord(
        name=name, path=os.fspath(path), sha256=hashlib.sha256(content).hexdigest(),
        hash_of="written" if written else "file", bytes=len(content), rows=None, columns=None,
    )
    if log is not None:
        log.add(record)
    return record


#: The ``hash_of`` kinds whose sha256 can be recomputed from the files as they are now (:func:`current_sha256`).
RECHECKABLE = ("file", "written", "text", "files")


def current_sha256(entry: Mapping[str, object], *, base: str | os.PathLike[str] = ".") -> str | None:
    """The sha256 that a recorded input (an :meth:`InputRecord.to_dict`) has now, by its own ``hash_of``.

    A relative ``path`` is resolved against ``base`` (the recording run's
    working folder). ``"file"`` and ``"written"``: the file's bytes;
    ``"text"``: its UTF-8 text as a text-mode read gives it (scenario files
    recorded so before their bytes were); ``"files"``: the combined digest of
    the files the recorded glob or folder names now (:func:`files_sha256`).
    None when the file (or every file) is gone. A :class:`ValueError` when the
    input cannot be recomputed from files: a built-in or in-memory input
    (``"content"``), or several files recorded by count only
    (``"<folder> (N files)"``), whose list was not kept.
    """
    hash_of = str(entry.get("hash_of") or "file")
    raw = str(entry.get("path") or "")
    if hash_of not in RECHECKABLE:
        raise ValueError(f"a {hash_of!r} input is regenerated, not read from a file")
    path = Path(raw) if Path(raw).is_absolute() else Path(base) / raw
    if hash_of == "files":
        if raw.endswith(" files)"):
            raise ValueError(f"{raw}: the files were recorded by count, not by name or pattern")
        try:
            return files_sha256(resolve_paths(path))
        except DataError:
            return None
    if not path.is_file():
        return None
    if hash_of == "text":
        try:
            with open(path, encoding="utf-8") as handle:
                return hashlib.sha256(handle.read().encode("utf-8")).hexdigest()
        except UnicodeDecodeError:
            return file_sha256(path)  # no longer UTF-8 text: changed, and its bytes say how
    return file_sha256(path)


def resolve_paths(path: str | os.PathLike[str]) -> list[Path]:
    """Files named by ``path``: a file, a glob, or a folder of Parquet/CSV files.

    A folder is read recursively (Hive-style ``date=2026-03-14/`` partitions
    included) and must hold files of a single format.
    """
    text = os.fspath(path).strip()
    if not text:
        raise DataError("no data path given: expected a CSV or Parquet file, glob or folder")
    candidate = Path(text).expanduser()
    if any(ch in text for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(str(candidate), recursive=True) if Path(p).is_file())
        if not files:
            raise DataError(f"{text}: no file matches this pattern", path=text)
    elif candidate.is_dir():
        files = sorted(
            p for p in candidate.rglob("*")
            if p.is_file() and _format_of(p) is not None and not p.name.startswith((".", "_"))
        )
        if not files:
            raise DataError(f"{text}: folder holds no .parquet or .csv file", path=text)
    elif candidate.is_file():
        files = [candidate]
    else:
        raise DataError(f"{text}: no such file or folder", path=text)
    formats = {_format_of(p) for p in files}
    if None in formats:
        bad = next(p for p in files if _format_of(p) is None)
        raise DataError(
            f"{bad}: unknown file type; expected one of {', '.join(_PARQUET_SUFFIXES + _CSV_SUFFIXES)}",
            path=str(bad),
        )
    if len(formats) > 1:
        raise DataError(f"{text}: mixes CSV and Parquet files; point at one format", path=text)
    return files


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    return None


def _check_columns(columns: Sequence[str], path: Path) -> None:
    duplicates = sorted(name for name, count in Counter(map(str, columns)).items() if count > 1)
    if duplicates:
        raise DataError(
            f"{path}: duplicate column names {duplicates}; every column needs a unique name",
            path=str(path),
            column=duplicates[0],
        )
    if len(columns) == 0:
        raise DataError(f"{path}: no columns", path=str(path))


def _read_parquet(path: Path, columns: Sequence[str] | None) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            f"{path}: not a readable Parquet file ({_first_line(exc)})", path=str(path)
        ) from None
    _check_columns(schema.names, path)
    if columns is not None:
        missing = [c for c in columns if c not in schema.names]
        if missing:
            raise DataError(
                f"{path}: missing column(s) {missing}; the file has {schema.names}",
                path=str(path),
                column=missing[0],
            )
    try:
        table = pq.read_table(path, columns=list(columns) if columns is not None else None)
        return table.to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(
            f"{path}: Parquet file could not be read ({_first_line(exc)}); is it truncated?",
            path=str(path),
        ) from None


_DELIMITERS = (",", ";", "\t", "|")


def _sniff_delimiter(path: Path, head: str, *, truncated: bool = False) -> str:
    """The delimiter that splits every record of ``head`` into the same number of fields.

    The file's own convention (tab for ``.tsv``, else comma) wins whenever it
    is consistent and gives more than one column: free text holding ``;`` or
    ``|`` must not make a comma file look like a semicolon one (csv.Sniffer
    counts characters and does). Otherwise the consistent candidate with the
    most columns and no unnamed header field; a file that fits none is read
    with the default and the parser names its first bad line.
    """
    default = "\t" if path.name.lower().endswith(".tsv") else ","
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


def _read_head(path: Path, size: int = 65536) -> bytes:
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        return handle.read(size)


def _read_csv(path: Path, columns: Sequence[str] | None) -> pd.DataFrame:
    head_size = 65536
    try:
        raw = _read_head(path, head_size)
    except OSError as exc:
        raise DataError(f"{path}: cannot read file ({_first_line(exc)})", path=str(path)) from None
    if not raw.strip():
        raise DataError(f"{path}: file is empty; expected a header row and data", path=str(path))
    try:
        head = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # The last bytes of the head may cut a character in two: only a
        # failure well inside the block is a real encoding problem.
        if exc.start < len(raw) - 4:
            raise DataError(
                f"{path}: not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}); "
                "save the CSV as UTF-8",
                path=str(path),
            ) from None
        head = raw[: exc.start].decode("utf-8-sig")
    delimiter = _sniff_delimiter(path, head, truncated=len(raw) >= head_size)
    header = next(csv.reader(io.StringIO(head.splitlines()[0] if head else ""), delimiter=delimiter), [])
    _check_columns(header, path)
    if columns is not None:
        missing = [c for c in columns if c not in header]
        if missing:
            raise DataError(
                f"{path}: missing column(s) {missing}; the header has {header}",
                path=str(path),
                column=missing[0],
            )
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            usecols=list(columns) if columns is not None else None,
            encoding="utf-8-sig",
            engine="pyarrow" if delimiter != "|" else "c",
        )
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({_first_line(exc)}); save the CSV as UTF-8", path=str(path)) from None
    except Exception as exc:  # pyarrow and pandas raise many types for malformed CSV
        raise DataError(f"{path}: CSV could not be parsed ({_first_line(exc)})", path=str(path)) from None
    return frame


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def load_table(
    path: str | os.PathLike[str],
    *,
    name: str = "data",
    columns: Sequence[str] | None = None,
    log: InputLog | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet file, glob or folder into one DataFrame.

    Several files are concatenated in path order and must share their columns.
    Each file is recorded in ``log`` (when given) with its sha256 and row
    count under ``name`` (``"reference"``, ``"current"``...).
    """
    files = resolve_paths(path)
    frames: list[pd.DataFrame] = []
    first_columns: list[str] | None = None
    for file in files:
        frame = _read_parquet(file, columns) if _format_of(file) == "parquet" else _read_csv(file, columns)
        if first_columns is None:
            first_columns = [str(c) for c in frame.columns]
        elif [str(c) for c in frame.columns] != first_columns:
            raise DataError(
                f"{file}: columns {list(frame.columns)} differ from {files[0]}'s {first_columns}; "
                "files read together must share their columns",
                path=str(file),
            )
        if log is not None:
            log.add(InputRecord(
                name=name, path=str(file), sha256=file_sha256(file), hash_of="file", bytes=file.stat().st_size,
                rows=len(frame), columns=int(frame.shape[1]),
            ))
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
