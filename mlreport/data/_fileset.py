"""The files a data location names: local or in object storage, with their Hive-style partitions.

:func:`resolve_files` turns a location (a file, glob or folder, local or an
fsspec URL) into a :class:`FileSet`: every file once (a ``**`` glob or a
folder walked through a symlink loop does not repeat one), its size and,
where the store gives them, its ETag and version id, and the values of its
``key=value`` folders below the location's base (the folder given, or a
glob's fixed prefix).

Partition values become columns in every backend with one type, decided here
from all values of the key: ``int`` (every value an integer), ``timestamp``
(every value an ISO date or date-time: ``date=2026-03-14`` is midnight, naive
UTC as :mod:`mlreport.data` reads timestamps) or ``string``;
``__HIVE_DEFAULT_PARTITION__`` and empty values are missing. Deciding once
keeps the backends equal (pyarrow, DuckDB and Spark each infer partition types
their own way). A key that is also a column inside the files is not a
partition column: the files' own values win.

:meth:`FileSet.within` keeps the files whose partition value can hold rows of
a window on that column: filters on partition columns are applied to the
file list, so the objects outside a window are never opened.
"""

from __future__ import annotations

import builtins
import fnmatch
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pandas as pd

from ..errors import DataError
from ._locations import Location, open_filesystem, parse_location

__all__ = [
    "DataFile", "FileSet", "resolve_files", "resolve_paths", "format_of", "PARQUET_SUFFIXES", "CSV_SUFFIXES",
]

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv", ".csv.bz2", ".csv.zst")
_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
_INTEGER = re.compile(r"^[+-]?\d{1,18}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?$")


def format_of(name: str) -> str | None:
    """``"parquet"``, ``"csv"`` or None for a file name."""
    lower = name.lower()
    if lower.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if lower.endswith(CSV_SUFFIXES):
        return "csv"
    return None


@dataclass(frozen=True)
class DataFile:
    """One file of a :class:`FileSet`.

    ``path`` is what to open (a local path, or the path inside the fsspec
    filesystem); ``url`` what records and messages show (credentials
    stripped); ``relative`` the path below the set's base. ``partition`` maps
    each partition key to its raw text (None: missing).
    """

    path: str
    url: str
    relative: str
    bytes: int
    etag: str | None = None
    version: str | None = None
    partition: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class FileSet:
    """Files of one format named by a data location (see the module docstring)."""

    files: tuple[DataFile, ...]
    format: str
    label: str
    protocol: str = "file"
    filesystem: Any = field(default=None, compare=False, repr=False)
    partitions: tuple[tuple[str, str], ...] = ()
    """(key, kind) of each partition column, kind ``int``, ``timestamp`` or ``string``."""

    def __str__(self) -> str:
        return self.label

    def only(self, file: DataFile) -> FileSet:
        """The set of ``file`` alone (its partition columns kept), labelled by its URL."""
        return replace(self, files=(file,), label=file.url)

    @property
    def remote(self) -> bool:
        return self.filesystem is not None

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    @property
    def partition_kinds(self) -> dict[str, str]:
        return dict(self.partitions)

    def partition_values(self, file: DataFile) -> dict[str, Any]:
        """The typed partition values of ``file`` (None for missing): int, pandas Timestamp or str."""
        raw = dict(file.partition)
        return {key: _typed(raw.get(key), kind) for key, kind in self.partitions}

    def without_partitions(self, columns: Iterable[str]) -> FileSet:
        """The set with keys that are also file columns dropped from its partition columns."""
        inside = set(columns)
        return replace(self, partitions=tuple((k, kind) for k, kind in self.partitions if k not in inside))

    def within(self, column: str, start: pd.Timestamp | None, end: pd.Timestamp | None) -> FileSet:
        """Files whose partition ``column`` lies in ``[start, end)``; all files when ``column`` is no partition.

        A window on a partition column can only hold rows of the files whose
        value is inside it. When no file is left the first one is kept, so that
        the window is an empty read of the right columns, not an error.
        """
        if self.partition_kinds.get(column) != "timestamp" or (start is None and end is None):
            return self
        kept = []
        for file in self.files:
            stamp = self.partition_values(file)[column]
            if stamp is not None and (start is None or stamp >= start) and (end is None or stamp < end):
                kept.append(file)
        return replace(self, files=tuple(kept) if kept else self.files[:1])

    def open(self, file: DataFile) -> Any:
        """A binary file object for ``file`` (the caller closes it)."""
        if self.filesystem is None:
            return open(file.path, "rb")
        if file.version and getattr(self.filesystem, "version_aware", False):
            return self.filesystem.open(file.path, "rb", version_id=file.version)
        return self.filesystem.open(file.path, "rb")

    def read_bytes(self, file: DataFile) -> builtins.bytes:
        """The whole of ``file`` (the version recorded, where the store has versions); a DataError naming it."""
        try:
            with self.open(file) as handle:
                return bytes(handle.read())
        except (OSError, ValueError) as error:
            raise DataError(f"{file.url}: cannot read ({_first_line(error)})", path=file.url) from None

    def describe(self) -> str:
        head = self.files[0].url if len(self.files) == 1 else f"{len(self.files)} {self.format} files in {self.label}"
        return f"{head} ({self.bytes / 2**20:,.1f} MiB)"


def _typed(raw: str | None, kind: str) -> Any:
    if raw is None:
        return None
    if kind == "int":
        return int(raw)
    if kind == "timestamp":
        return pd.Timestamp(raw)
    return raw


def _kind(values: Sequence[str | None]) -> str:
    present = [v for v in values if v is not None]
    if present and all(_INTEGER.match(v) for v in present):
        return "int"
    if present and all(_DATE.match(v) for v in present):
        try:
            for value in present:
                pd.Timestamp(value)
        except ValueError:
            return "string"
        return "timestamp"
    return "string"


def _partition(relative: str) -> tuple[tuple[str, str | None], ...]:
    found = []
    for segment in relative.replace("\\", "/").split("/")[:-1]:
        key, sep, value = segment.partition("=")
        if sep and key:
            text = unquote(value)
            found.append((unquote(key), None if text in ("", _NULL_PARTITION) else text))
    return tuple(found)


def _partition_kinds(files: Sequence[DataFile]) -> tuple[tuple[str, str], ...]:
    keys: dict[str, list[str | None]] = {}
    for file in files:
        for key, value in file.partition:
            keys.setdefault(key, []).append(value)
    return tuple((key, _kind(values)) for key, values in keys.items())


def _glob_base(text: str) -> str:
    """The fixed folder before a glob's first wildcard segment."""
    segments = text.replace("\\", "/").split("/")
    fixed = []
    for segment in segments:
        if any(ch in segment for ch in "*?["):
            break
        fixed.append(segment)
    return "/".join(fixed) if fixed else "."


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob over ``/``-separated relative paths: ``*`` within a segment, ``**`` any number of segments."""
    parts = []
    segments = pattern.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "**":
            parts.append("(?:.*/)?" if not last else ".*")
            continue
        parts.append(fnmatch.translate(segment)[4:-3].replace(".*", "[^/]*") + ("" if last else "/"))
    return re.compile("^" + "".join(parts) + r"\Z")


def _walk(root: Path) -> list[Path]:
    """Every file below ``root``, each real folder entered once.

    Real folders are walked first; a symlink to a folder is followed only when
    its target was not reached already, so a loop (``logs/day1/loop -> logs``)
    ends and a file keeps the path that does not go through a link.
    """
    seen: set[str] = set()
    found: list[Path] = []

    def visit(top: str) -> None:
        links: list[str] = []
        for folder, dirs, names in os.walk(top, followlinks=False):
            real = os.path.realpath(folder)
            if real in seen:
                dirs[:] = []
                continue
            seen.add(real)
            dirs.sort()
            links += [os.path.join(folder, d) for d in dirs if os.path.islink(os.path.join(folder, d))]
            found.extend(Path(folder) / name for name in sorted(names))
        for link in links:
            visit(link)

    visit(str(root))
    return found


def _unique_real(files: Iterable[Path]) -> list[Path]:
    """Files in order, each real file once (the first path that reached it)."""
    seen: set[str] = set()
    unique = []
    for file in files:
        real = os.path.realpath(file)
        if real not in seen and file.is_file():
            seen.add(real)
            unique.append(file)
    return unique


def _hidden(relative: str) -> bool:
    return any(part.startswith((".", "_")) for part in relative.split("/"))


def _local_files(location: Location) -> tuple[list[Path], Path]:
    text = location.target
    candidate = Path(text).expanduser()
    if any(ch in text for ch in "*?["):
        base = Path(_glob_base(str(candidate)))
        if not base.is_dir():
            raise DataError(f"{text}: no file matches this pattern", path=text)
        rest = os.path.relpath(str(candidate), str(base)).replace("\\", "/")
        pattern = _glob_regex(rest)
        walked = _walk(base)
        files = [f for f in walked if pattern.match(f.relative_to(base).as_posix())]
        files = _unique_real(sorted(files))
        if not files:
            raise DataError(f"{text}: no file matches this pattern", path=text)
        return files, base
    if candidate.is_dir():
        files = _unique_real(sorted(
            p for p in _walk(candidate)
            if format_of(p.name) is not None and not _hidden(p.relative_to(candidate).as_posix())
        ))
        if not files:
            raise DataError(f"{text}: folder holds no .parquet or .csv file", path=text)
        return files, candidate
    if candidate.is_file():
        return [candidate], candidate.parent
    raise DataError(f"{text}: no such file or folder", path=text)


def _check_formats(names: Sequence[str], label: str) -> str:
    formats = {format_of(n) for n in names}
    if None in formats:
        bad = next(n for n in names if format_of(n) is None)
        raise DataError(
            f"{bad}: unknown file type; expected one of {', '.join(PARQUET_SUFFIXES + CSV_SUFFIXES)}", path=bad
        )
    if len(formats) > 1:
        raise DataError(f"{label}: mixes CSV and Parquet files; point at one format", path=label)
    return str(formats.pop())


def resolve_paths(path: str | os.PathLike[str]) -> list[Path]:
    """Local files named by ``path``: a file, a glob, or a folder of Parquet/CSV files (see :func:`resolve_files`)."""
    location = parse_location(path)
    if location.kind != "local":
        raise DataError(f"{location.shown}: expected a local file, glob or folder", path=location.shown)
    files, _ = _local_files(location)
    _check_formats([f.name for f in files], location.target)
    return files


def resolve_files(path: str | os.PathLike[str] | Location) -> FileSet:
    """The :class:`FileSet` of a location: a file, glob or folder, local or an fsspec URL.

    A folder is read recursively (Hive-style ``date=2026-03-14/`` partitions
    included; names starting with ``.`` or ``_`` such as ``_SUCCESS`` are
    skipped) and must hold files of a single format.
    """
    location = path if isinstance(path, Location) else parse_location(path)
    if location.kind == "sql":
        raise DataError(f"{location.shown}: a SQL source holds no files", path=location.shown)
    if location.kind == "local":
        paths, base = _local_files(location)
        fmt = _check_formats([p.name for p in paths], location.target)
        files = []
        for p in paths:
            relative = os.path.relpath(p, base).replace("\\", "/")
            files.append(DataFile(
                path=str(p), url=str(p), relative=relative, bytes=p.stat().st_size, partition=_partition(relative),
            ))
        return FileSet(tuple(files), fmt, location.target, partitions=_partition_kinds(files))
    return _remote_files(location)


def _remote_files(location: Location) -> FileSet:
    fs, inner = open_filesystem(location)
    shown = location.shown
    protocol = location.protocol
    scheme = location.target.rsplit("::", 1)[-1].split("://", 1)[0]

    def url_of(key: str) -> str:
        return fs.unstrip_protocol(key) if hasattr(fs, "unstrip_protocol") else f"{scheme}://{key}"

    try:
        if any(ch in inner for ch in "*?["):
            base = _glob_base(inner)
            found = fs.glob(inner, detail=True)
            entries = {k: v for k, v in found.items() if v.get("type") != "directory"}
            if not entries:
                raise DataError(f"{shown}: no object matches this pattern", path=shown)
        elif fs.isdir(inner):
            base = inner.rstrip("/")
            entries = {
                k: v for k, v in fs.find(inner, detail=True).items()
                if format_of(k) is not None and not _hidden(k[len(base):].lstrip("/"))
            }
            if not entries:
                raise DataError(f"{shown}: folder holds no .parquet or .csv file", path=shown)
        else:
            entries = {inner: fs.info(inner)}
            base = inner.rsplit("/", 1)[0] if "/" in inner else ""
    except FileNotFoundError:
        raise DataError(f"{shown}: no such object or folder", path=shown) from None
    except PermissionError as error:
        raise DataError(
            f"{shown}: access denied ({_first_line(error)}); credentials come from the environment and the "
            "store's config files", path=shown,
        ) from None
    except OSError as error:
        raise DataError(f"{shown}: cannot list ({_first_line(error)})", path=shown) from None
    keys = sorted(entries)
    fmt = _check_formats(keys, shown)
    files = []
    for key in keys:
        info = entries[key]
        relative = key[len(base):].lstrip("/") if base and key.startswith(base) else key.rsplit("/", 1)[-1]
        etag = info.get("ETag") or info.get("etag") or info.get("md5Hash") or info.get("etag_hash")
        version = info.get("VersionId") or info.get("generation") or info.get("version_id")
        files.append(DataFile(
            path=key, url=_strip_url(url_of(key)), relative=relative, bytes=int(info.get("size") or 0),
            etag=str(etag).strip('"') if etag else None, version=str(version) if version else None,
            partition=_partition(relative),
        ))
    if protocol in ("s3", "s3a"):
        files = [_with_version(fs, f) for f in files]
    return FileSet(tuple(files), fmt, shown, protocol=protocol, filesystem=fs, partitions=_partition_kinds(files))


def _with_version(fs: Any, file: DataFile) -> DataFile:
    """The S3 object's version id (listings leave it out), when the bucket is versioned."""
    if file.version is not None:
        return file
    try:
        info = fs.info(file.path)
    except OSError:
        return file
    version = info.get("VersionId")
    return replace(file, version=str(version) if version and version != "null" else None)


def _strip_url(url: str) -> str:
    from ._locations import redact

    return redact(url)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
