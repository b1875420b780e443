"""Rechecking a recorded input: its hash now, computed the way the record says it was."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import DataError
from ._fileset import resolve_files
from ._locations import parse_location
from ._provenance import file_sha256, files_sha256, frame_sha256, objects_sha256

__all__ = ["current_sha256", "RECHECKABLE"]

RECHECKABLE = ("file", "written", "text", "files", "objects", "result")
"""The ``hash_of`` kinds whose sha256 can be recomputed from where the input lives (:func:`current_sha256`)."""


def current_sha256(entry: Mapping[str, object], *, base: str | os.PathLike[str] = ".") -> str | None:
    """The sha256 that ``entry`` (an input record of run.json) has now, by its own ``hash_of``; None when it is gone.

    ``file`` and ``written``: the bytes of a local file, or of the object at a
    URL (its current version); ``text``: a local file's UTF-8 text as a
    text-mode read gives it (scenario files recorded so before their bytes
    were); ``files``: the combined digest of the local files its glob or
    folder names now (:func:`files_sha256`); ``objects``: the digest of the
    listing at its URL (ETags, versions, sizes); ``result``: the rows its
    ``sql:`` query returns now. A relative local path is resolved against
    ``base`` (the recording run's working folder). A :class:`ValueError` when
    the input cannot be recomputed: a built-in or in-memory input
    (``content``), or several files recorded by count only
    (``"<folder> (N files)"``), whose list was not kept.
    """
    hash_of = str(entry.get("hash_of") or "file")
    raw = str(entry.get("path") or "")
    if hash_of not in RECHECKABLE:
        raise ValueError(f"a {hash_of!r} input is regenerated, not read from a file")
    if hash_of == "files" and raw.endswith(" files)"):
        raise ValueError(f"{raw}: the files were recorded by count, not by name or pattern")
    if not raw:
        return None
    try:
        if hash_of == "result":
            from ._sql import read_sql

            return frame_sha256(read_sql(raw))
        location = parse_location(raw)
        if location.kind == "local":
            target = Path(location.target)
            if not target.is_absolute():
                target = Path(base) / target
            if hash_of == "files":
                return files_sha256([f.path for f in resolve_files(str(target)).files])
            if not target.is_file():
                return None
            if hash_of == "text":
                try:
                    with open(target, encoding="utf-8") as handle:
                        return hashlib.sha256(handle.read().encode("utf-8")).hexdigest()
                except UnicodeDecodeError:
                    return file_sha256(target)  # no longer UTF-8 text: changed, and its bytes say how
            return file_sha256(target)
        files = resolve_files(location)
        if hash_of == "objects":
            return objects_sha256(files)
        if len(files.files) != 1:
            return None
        return hashlib.sha256(files.read_bytes(files.files[0])).hexdigest()
    except DataError:
        return None
