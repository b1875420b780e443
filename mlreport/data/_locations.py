"""Where data lives: local paths, fsspec URLs and SQL sources, and keeping credentials out of the record.

A data parameter is one string (so that the command line, jobs files and the
Python API take the same thing):

- a local path, glob or folder (``data/2026-03/*.parquet``), or ``file://`` URL;
- an fsspec URL (``s3://bucket/decisions/``, ``gs://...``, ``abfs://container/...``,
  ``https://host/file.parquet``): the driver for its protocol comes from an
  extra (``mlreport[s3]``, ``[gcs]``, ``[azure]``), credentials from the
  environment and the store's usual config files (``AWS_*`` and
  ``~/.aws/config``, ``GOOGLE_APPLICATION_CREDENTIALS``, ``AZURE_STORAGE_*``);
- ``sql:URL TABLE`` or ``sql:URL SELECT ...``: a SQLAlchemy URL, a space, then
  a table name or a read-only query (:mod:`mlreport.data._sql`).

Credentials never come from a parameter: a URL holding a password
(``postgresql://user:secret@host/db``, ``s3://key:secret@bucket``) or a
signed query string (``X-Amz-Signature``, an Azure SAS ``sig``,
``X-Goog-Signature``) is refused by :func:`credentials_problem` before
anything runs, because parameters are recorded in run.json and the executed
notebook. :func:`redact` is what every message and record shows of a URL.
"""

from __future__ import annotations

import datetime
import functools
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import DataError

__all__ = [
    "Location",
    "parse_location",
    "redact",
    "credentials_problem",
    "is_url",
    "EXTRAS",
    "open_filesystem",
]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
SQL_PREFIX = "sql:"

# Query-string keys that carry a signature or a secret (presigned S3 and GCS URLs, Azure SAS tokens).
_SECRET_KEYS = {
    "x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature", "awsaccesskeyid",
    "x-goog-signature", "x-goog-credential", "sig", "password", "passwd", "pwd", "secret", "token",
    "access_token", "sas", "client_secret", "account_key", "accountkey",
}

EXTRAS = {
    "s3": ("s3fs", "s3"), "s3a": ("s3fs", "s3"), "gs": ("gcsfs", "gcs"), "gcs": ("gcsfs", "gcs"),
    "abfs": ("adlfs", "azure"), "abfss": ("adlfs", "azure"), "az": ("adlfs", "azure"),
    "http": ("aiohttp", "http"), "https": ("aiohttp", "http"),
}
"""Protocol -> (the fsspec driver package, the mlreport extra that installs it)."""


def is_url(text: str) -> bool:
    """True for ``scheme://...`` (fsspec chains such as ``simplecache::s3://`` included)."""
    return bool(_URL.match(text)) or ("::" in text and bool(_URL.match(text.rsplit("::", 1)[-1])))


@dataclass(frozen=True)
class Location:
    """A data parameter, parsed: ``kind`` is ``"local"``, ``"url"`` or ``"sql"``.

    ``target`` is what to open: a local path (``file://`` stripped), the URL,
    or for SQL the SQLAlchemy URL; ``query`` the SQL text (a table name
    becomes ``SELECT * FROM`` it) and ``table`` the table when one was named.
    ``shown`` is the location with credentials stripped, for messages and records.
    """

    text: str
    kind: str
    target: str
    protocol: str = "file"
    query: str = ""
    table: str = ""

    @property
    def shown(self) -> str:
        if self.kind == "sql":
            return f"{SQL_PREFIX}{redact(self.target)} {self.table or self.query}"
        return redact(self.target) if self.kind == "url" else self.target


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` and the values of secret query parameters by ``***``.

    Anything else is left exactly as written (``sqlite:////data/x.db`` keeps its slashes).
    """
    if not is_url(url):
        return url
    scheme, sep, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    if "@" in authority:
        userinfo, _, host = authority.rpartition("@")
        if ":" in userinfo:
            authority = f"{userinfo.split(':', 1)[0]}:***@{host}"
    if "?" in tail:
        path, _, query = tail.partition("?")
        query, hash_sign, fragment = query.partition("#")
        pairs = []
        for pair in query.split("&"):
            key, equals, _value = pair.partition("=")
            pairs.append(f"{key}=***" if equals and unquote(key).lower() in _SECRET_KEYS else pair)
        tail = f"{path}?{'&'.join(pairs)}{hash_sign}{fragment}"
    return f"{scheme}{sep}{authority}{slash}{tail}"


def credentials_problem(value: str) -> str | None:
    """Why ``value`` must not be a parameter (it holds a password or a signature), or None.

    Looks at every URL inside the string (a ``sql:`` location holds one).
    """
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"]+", value):
        parts = urlsplit(match.group(0))
        userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
        if ":" in userinfo and userinfo.split(":", 1)[1]:
            return (
                f"{redact(match.group(0))} holds a password: parameters are recorded in run.json and the "
                "notebook, so credentials must come from the environment instead (PGPASSWORD or ~/.pgpass "
                "for PostgreSQL, MLREPORT_SQL_PASSWORD for any database, AWS_* / ~/.aws for S3, "
                "GOOGLE_APPLICATION_CREDENTIALS for GCS, AZURE_STORAGE_* for Azure)"
            )
        secret = [k for k, _ in parse_qsl(parts.query, keep_blank_values=True) if k.lower() in _SECRET_KEYS]
        if secret:
            return (
                f"{redact(match.group(0))} carries a signature or secret ({', '.join(secret)}): parameters are "
                "recorded in run.json, so give the plain URL and let the store's credentials come from "
                "the environment"
            )
    return None


def parse_location(text: str | os.PathLike[str]) -> Location:
    """The :class:`Location` of a data parameter (see the module docstring); a DataError when it is malformed."""
    raw = os.fspath(text).strip()
    if not raw:
        raise DataError("no data path given: expected a CSV or Parquet file, glob, folder, URL or sql: source")
    problem = credentials_problem(raw)
    if problem:
        raise DataError(problem, path=redact(raw))
    if raw.lower().startswith(SQL_PREFIX):
        from ._sql import parse_sql

        return parse_sql(raw)
    if raw.lower().startswith("file://"):
        parts = urlsplit(raw)
        if parts.netloc not in ("", "localhost"):
            raise DataError(f"{raw}: a file:// URL names a local path (file:///data/x.parquet)", path=raw)
        return Location(text=raw, kind="local", target=unquote(parts.path))
    if is_url(raw):
        protocol = raw.rsplit("::", 1)[-1].split("://", 1)[0].lower()
        return Location(text=raw, kind="url", target=raw, protocol=protocol)
    return Location(text=raw, kind="local", target=raw)


def open_filesystem(location: Location) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) of a URL location; a DataError naming the extra when its driver is missing.

    The filesystem takes its credentials from the environment and config files
    (nothing is passed from parameters). S3 is version-aware, so that an
    object's version id is recorded and read.
    """
    try:
        import fsspec
        from fsspec.core import url_to_fs
    except ImportError:
        raise DataError(
            f"{location.shown}: reading URLs needs fsspec: pip install 'mlreport[s3]' (or [gcs], [azure])",
            path=location.shown,
        ) from None
    options: dict[str, Any] = {}
    if location.protocol in ("s3", "s3a"):
        options["version_aware"] = True
    try:
        if location.protocol in ("s3", "s3a") and "::" not in location.target:
            fs = fsspec.filesystem("s3", **options)
            return fs, fs._strip_protocol(location.target)
        if location.protocol in ("http", "https") and "::" not in location.target:
            fs = _http_filesystem()()
            return fs, fs._strip_protocol(location.target)
        return url_to_fs(location.target, **options)
    except ImportError as error:
        package, extra = EXTRAS.get(location.protocol, (str(error.name or "its fsspec driver"), ""))
        hint = f"pip install 'mlreport[{extra}]'" if extra else f"pip install {package}"
        raise DataError(
            f"{location.shown}: reading {location.protocol}:// needs {package}: {hint}", path=location.shown
        ) from None
    except (ValueError, TypeError) as error:
        raise DataError(f"{location.shown}: cannot open this URL ({_first_line(error)})", path=location.shown) from None


@functools.cache
def _http_filesystem() -> type:
    """fsspec's HTTP filesystem with ``modified()``, which DuckDB asks of every file it opens.

    fsspec's own raises NotImplementedError, so DuckDB could not read an
    ``https://`` object through it. The time is the server's
    ``Last-Modified`` (a HEAD request); without one it is the Unix epoch,
    which only means DuckDB keeps what it read of the object for the life of
    its connection (one run).
    """
    from email.utils import parsedate_to_datetime

    from fsspec.asyn import sync_wrapper
    from fsspec.implementations.http import HTTPFileSystem

    class ModifiedHTTPFileSystem(HTTPFileSystem):
        async def _modified(self, path: str) -> datetime.datetime:
            session = await self.set_session()
            async with session.head(self.encode_url(path), allow_redirects=True, **self.kwargs) as response:
                header = response.headers.get("Last-Modified")
            try:
                stamp = parsedate_to_datetime(header) if header else None
            except (TypeError, ValueError):
                stamp = None
            epoch = datetime.datetime.fromtimestamp(0, datetime.UTC)
            return epoch if stamp is None else (stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.UTC))

        modified = sync_wrapper(_modified)

    return ModifiedHTTPFileSystem


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
