"""SQL text for DuckDB: identifiers, literals that round-trip and type kinds."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["source_kind", "literal"]


_NUMBER_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL",
)


_PANDAS_DTYPE = {
    "TINYINT": "int8", "SMALLINT": "int16", "INTEGER": "int32", "BIGINT": "int64", "UTINYINT": "uint8",
    "USMALLINT": "uint16", "UINTEGER": "uint32", "UBIGINT": "uint64", "FLOAT": "float32",
    "DOUBLE": "float64", "BOOLEAN": "bool", "VARCHAR": "str",
}


def source_kind(sql_type: str) -> str:
    """``number``, ``bool``, ``string``, ``temporal`` or ``other`` for a DuckDB type name."""
    base = sql_type.upper().split("(")[0].strip()
    if base in _NUMBER_TYPES:
        return "number"
    if base == "BOOLEAN":
        return "bool"
    if base == "VARCHAR":
        return "string"
    if base.startswith(("TIMESTAMP", "DATE", "TIME", "INTERVAL")):
        return "temporal"
    return "other"


def literal(value: float) -> str:
    """A DOUBLE literal that round-trips exactly (17 significant digits, exponent form)."""
    value = float(value)
    if np.isnan(value):
        return "'nan'::DOUBLE"
    if np.isinf(value):
        return "'inf'::DOUBLE" if value > 0 else "'-inf'::DOUBLE"
    return f"{value:.17e}"


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _timestamp_literal(stamp: pd.Timestamp, kind: str = "TIMESTAMP_NS") -> str:
    """A literal of the timestamp expression's own type, so that comparisons push down to the scan."""
    stamp = pd.Timestamp(stamp)
    if kind == "TIMESTAMP" and not stamp.nanosecond:
        return f"TIMESTAMP '{stamp.strftime('%Y-%m-%d %H:%M:%S.%f')}'"
    return f"TIMESTAMP_NS '{stamp.strftime('%Y-%m-%d %H:%M:%S.%f')}{stamp.nanosecond:03d}'"
