"""SQL sources: ``sql:URL TABLE`` or ``sql:URL SELECT ...`` read through SQLAlchemy.

The parameter shape is one string, so that it works on the command line, in
jobs files and from Python alike::

    sql:postgresql+psycopg://report@db.internal:5432/lending public.decisions
    sql:postgresql+psycopg://report@db.internal/lending select * from decisions where day >= '2026-03-01'
    sql:sqlite:////data/decisions.db decisions

The SQLAlchemy URL runs up to the first space (URLs hold no spaces: escape
one in a database name as ``%20``); after it comes a table name (``table`` or
``schema.table``, quoted by the database's own rules) or one query starting
with ``SELECT`` or ``WITH``. The query runs in a read-only transaction where
the database has one (PostgreSQL ``SET TRANSACTION READ ONLY``, SQLite
``PRAGMA query_only``). Add ``ORDER BY`` when the hash of the result must not
depend on the order the database returns rows in.

Passwords never come from the parameter (it is recorded in run.json and the
notebook; one holding a password is refused before anything runs): the
database driver's own mechanisms supply them (``PGPASSWORD``, ``~/.pgpass``,
``PGSERVICE`` for PostgreSQL), or ``MLREPORT_SQL_PASSWORD`` for any database,
which is put into the connection in memory only. Every message and record
shows the URL without it.

What is recorded (:class:`~mlreport.data.InputRecord`): the location as
given, the query text, the row and column counts and the sha256 of the result
(``hash_of = "result"``: :func:`mlreport.data.frame_sha256` of the rows as
read). Column types: ``NUMERIC``/``DECIMAL`` values are read as float64,
``DATE`` values as timestamps, a column with no value at all as float64 (as a
CSV column with no value is).
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import re
from typing import Any

import pandas as pd

from ..errors import DataError
from ._locations import SQL_PREFIX, Location, redact
from ._provenance import InputLog, InputRecord, frame_sha256

__all__ = ["parse_sql", "read_sql", "query_text", "sql_location", "PASSWORD_VARIABLE"]

PASSWORD_VARIABLE = "MLREPORT_SQL_PASSWORD"
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")
_QUERY = re.compile(r"^\(*\s*(select|with)\b", re.IGNORECASE)
_ROWS_PER_FETCH = 50_000


def sql_location(url: str, *, table: str = "", query: str = "") -> str:
    """The data parameter naming a table or a query at ``url`` (exactly one of ``table`` and ``query``)."""
    if bool(table) == bool(query):
        raise DataError("give exactly one of table= or query=")
    return f"{SQL_PREFIX}{url} {table or query}"


def parse_sql(text: str) -> Location:
    """The :class:`Location` of a ``sql:`` parameter; a DataError saying what is expected when it is malformed."""
    body = text.strip()[len(SQL_PREFIX):].strip()
    parts = body.split(None, 1)
    url = parts[0] if parts else ""
    rest = parts[1].strip() if len(parts) > 1 else ""
    shown = f"{SQL_PREFIX}{redact(url)}"
    expected = (
        "expected 'sql:URL TABLE' or 'sql:URL SELECT ...' (a SQLAlchemy URL, a space, then a table name or a query)"
    )
    if not url or "://" not in url:
        raise DataError(f"{shown}: no SQLAlchemy URL; {expected}", path=shown)
    if not rest:
        raise DataError(f"{shown}: no table or query after the URL; {expected}", path=shown)
    if _TABLE.match(rest):
        return Location(text=text, kind="sql", target=url, protocol=url.split("://", 1)[0], table=rest)
    query = rest.rstrip().rstrip(";").rstrip()
    if not _QUERY.match(query):
        raise DataError(
            f"{shown} {rest[:60]!r}: neither a table name nor a query starting with SELECT or WITH; {expected}",
            path=shown,
        )
    if ";" in query:
        raise DataError(f"{shown}: give one query, not several statements", path=shown)
    return Location(text=text, kind="sql", target=url, protocol=url.split("://", 1)[0], query=query)


def _engine(location: Location) -> Any:
    try:
        import sqlalchemy as sa
    except ImportError:
        raise DataError(
            f"{location.shown}: reading a SQL source needs SQLAlchemy and the database's driver: "
            "pip install 'mlreport[sql]' (psycopg for PostgreSQL)", path=location.shown,
        ) from None
    try:
        url = sa.engine.make_url(location.target)
    except sa.exc.ArgumentError as error:
        raise DataError(f"{location.shown}: not a SQLAlchemy URL ({error})", path=location.shown) from None
    password = os.environ.get(PASSWORD_VARIABLE)
    if password and url.password is None and url.username:
        url = url.set(password=password)
    try:
        return sa.create_engine(url, poolclass=sa.pool.NullPool)
    except ImportError as error:
        raise DataError(
            f"{location.shown}: the database driver is not installed ({error.name or error}); "
            "pip install 'mlreport[sql]' installs psycopg for PostgreSQL", path=location.shown,
        ) from None
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as error:
        raise DataError(f"{location.shown}: {error}", path=location.shown) from None


def query_text(location: Location, engine: Any) -> str:
    """The query a location runs: its own, or ``SELECT * FROM`` its table quoted by the database's rules."""
    if location.query:
        return location.query
    quote = engine.dialect.identifier_preparer.quote
    return "SELECT * FROM " + ".".join(quote(part) for part in location.table.split("."))


def _read_only(connection: Any, dialect: str) -> None:
    if dialect == "postgresql":
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif dialect == "sqlite":
        connection.exec_driver_sql("PRAGMA query_only = ON")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimals as float64, dates as timestamps, columns without a value as float64 (see the module docstring)."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object:
            continue
        present = values.dropna()
        if present.empty or all(isinstance(v, decimal.Decimal) for v in present):
            frame[column] = values.astype("float64")
        elif all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in present):
            frame[column] = pd.to_datetime(values)
    return frame


def _error(location: Location, error: BaseException) -> DataError:
    lines = [line for line in str(getattr(error, "orig", None) or error).strip().splitlines() if line.strip()]
    text = redact(lines[0][:300]) if lines else type(error).__name__
    password = os.environ.get(PASSWORD_VARIABLE)
    if password:
        text = text.replace(password, "***")
    return DataError(f"{location.shown}: the query failed ({text})", path=location.shown)


def read_sql(location: Location | str, *, name: str = "data", log: InputLog | None = None) -> pd.DataFrame:
    """The rows of a ``sql:`` location as a DataFrame, recorded in ``log`` (query, rows, result hash)."""
    if isinstance(location, str):
        from ._locations import parse_location

        location = parse_location(location)

    engine = _engine(location)  # a DataError naming the extra when SQLAlchemy is missing
    query = query_text(location, engine)
    import sqlalchemy as sa

    try:
        with engine.connect() as connection:
            _read_only(connection, engine.dialect.name)
            result = connection.execution_options(stream_results=True).execute(sa.text(query))
            columns = list(map(str, result.keys()))
            rows = [tuple(row) for chunk in result.partitions(_ROWS_PER_FETCH) for row in chunk]
    except sa.exc.SQLAlchemyError as error:
        raise _error(location, error) from None
    finally:
        engine.dispose()
    if len(set(columns)) != len(columns):
        raise DataError(f"{location.shown}: the query returns duplicate column names {columns}", path=location.shown)
    frame = _typed(pd.DataFrame.from_records(rows, columns=columns))
    if log is not None:
        log.add(InputRecord(
            name=name, path=location.shown, sha256=frame_sha256(frame), hash_of="result", bytes=None,
            rows=len(frame), columns=int(frame.shape[1]), query=query,
        ))
    return frame
