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

__all__ = ["current_sha256"]


def current_sha256(entry: Mapping[str, object], *, base: str | os.PathLike[str] | None = None) -> str | None:
    """The sha256 that ``entry`` (an input record of run.json) would have now; None when it is gone.

    Computed as the record's ``hash_of`` says: ``file`` (the bytes of a local
    file or of the object at a URL, its current version), ``files`` (the digest
    of the local files its path names), ``objects`` (the digest of the listing
    at its URL: ETags, versions, sizes), ``result`` (the rows its ``sql:`` query
    returns now). Relative local paths are taken from ``base``. Built-in
    content (``content``, ``text``) is not rechecked here: None is returned.
    A rerun or a verify compares the result with the recorded ``sha256``.
    """
    hash_of = str(entry.get("hash_of") or "file")
    path = str(entry.get("path") or "")
    if not path or hash_of not in ("file", "files", "objects", "result"):
        return None
    try:
        if hash_of == "result":
            from ._sql import read_sql

            return frame_sha256(read_sql(path))
        location = parse_location(path)
        if location.kind == "local":
            target = Path(location.target)
            if not target.is_absolute() and base is not None:
                target = Path(base) / target
            if hash_of == "file":
                return file_sha256(target) if target.is_file() else None
            files = resolve_files(str(target))
            return files_sha256([f.path for f in files.files])
        files = resolve_files(location)
        if hash_of == "objects":
            return objects_sha256(files)
        if len(files.files) != 1:
            return None
        return hashlib.sha256(files.read_bytes(files.files[0])).hexdigest()
    except DataError:
        return None
