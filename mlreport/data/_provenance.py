"""Provenance: what an analysis read, with a hash that says what it covers."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DataError
from ._fileset import FileSet, resolve_files

__all__ = [
    "InputRecord", "InputLog", "file_sha256", "frame_sha256", "files_sha256", "objects_sha256",
    "record_frame", "record_file", "record_bytes",
]


@dataclass(frozen=True)
class InputRecord:
    """One table an analysis read: where from, its hash and its size.

    ``hash_of`` says what ``sha256`` covers: ``"file"`` (the file's bytes; an
    object in a store: the bytes read), ``"files"`` (one digest over several
    local files, :func:`files_sha256`; ``files`` is their count),
    ``"objects"`` (objects a backend read from a store without this process
    reading their bytes: one digest over their listing, :func:`objects_sha256`),
    ``"result"`` (the rows a SQL query returned, :func:`mlreport.data.read_sql`),
    ``"content"`` (a frame built in memory, such as the built-in sample:
    :func:`frame_sha256`) or ``"written"`` (the bytes this run wrote to a file
    that later runs read, such as a saved reference profile:
    :func:`record_bytes`). ``rows`` and ``columns`` are what was read (None for
    a file that is not a table: a spec, a scenario file, a profile, a model);
    ``bytes`` is None for a frame or a query. ``path`` never holds credentials.
    ``etag`` and ``version`` are the object's, where its store gives them;
    ``query`` the SQL text of a query.
    """

    name: str
    path: str
    sha256: str
    hash_of: str
    bytes: int | None
    rows: int | None
    columns: int | None
    files: int | None = None
    etag: str | None = None
    version: str | None = None
    query: str | None = None

    def to_dict(self) -> dict[str, str | int | None]:
        """The JSON form recorded in ``run.json`` (``files``, ``etag``, ``version``, ``query`` only when set)."""
        entry: dict[str, str | int | None] = {
            "name": self.name, "path": self.path, "sha256": self.sha256, "hash_of": self.hash_of,
        }
        if self.files is not None:
            entry["files"] = self.files
        entry.update(bytes=self.bytes, rows=self.rows, columns=self.columns)
        for key in ("etag", "version", "query"):
            value = getattr(self, key)
            if value is not None:
                entry[key] = value
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


def objects_sha256(files: FileSet) -> str:
    """One digest over the listing of objects in a store: ``<etag> <version> <bytes> <relative key>`` a line.

    The store's ETag (for S3 an MD5 of the content, or of its parts) and
    version id stand for the bytes, which a DuckDB or Spark backend reads
    itself: the digest changes when an object is rewritten, added or removed.
    ``-`` stands for a value the store does not give.
    """
    digest = hashlib.sha256()
    for file in sorted(files.files, key=lambda f: f.relative):
        digest.update(f"{file.etag or '-'} {file.version or '-'} {file.bytes} {file.relative}\n".encode())
    return digest.hexdigest()


def record_file(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | FileSet,
    *,
    name: str,
    rows: int | None,
    columns: int | None,
    log: InputLog | None = None,
) -> InputRecord:
    """Record files read by something other than :func:`load_table` (a DuckDB or Spark backend).

    ``path`` is a file, glob or folder (resolved as :func:`load_table` does), a
    list of files, or a :class:`FileSet`. Local files: one file is recorded
    with its own sha256; several are one record with a combined digest
    (:func:`files_sha256`), their count (``files``) and total ``bytes``.
    Objects in a store are one record with the digest of their listing
    (:func:`objects_sha256`; one object also gets its ``etag`` and ``version``).
    ``rows`` and ``columns`` are what the reader found in the whole file(s).
    The record is added to ``log`` and returned.
    """
    if isinstance(path, FileSet) and path.remote:
        return _record_objects(path, name=name, rows=rows, columns=columns, log=log)
    if isinstance(path, FileSet):
        files = [Path(f.path) for f in path.files]
        label = path.label if len(files) > 1 else str(files[0])
    elif isinstance(path, (str, os.PathLike)):
        fileset = resolve_files(path)
        if fileset.remote:
            return _record_objects(fileset, name=name, rows=rows, columns=columns, log=log)
        files = [Path(f.path) for f in fileset.files]
        label = os.fspath(path)
    else:
        files = sorted(Path(f.path) for item in path for f in resolve_files(item).files)
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


def _record_objects(
    files: FileSet, *, name: str, rows: int | None, columns: int | None, log: InputLog | None
) -> InputRecord:
    one = files.files[0] if len(files.files) == 1 else None
    record = InputRecord(
        name=name,
        path=one.url if one is not None else files.label,
        sha256=objects_sha256(files),
        hash_of="objects",
        files=None if one is not None else len(files.files),
        bytes=files.bytes,
        rows=None if rows is None else int(rows),
        columns=None if columns is None else int(columns),
        etag=one.etag if one is not None else None,
        version=one.version if one is not None else None,
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
