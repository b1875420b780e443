"""Spark column expressions: type kinds, bin lookups as CASE trees, timestamps and frames to pandas.

Expressions over many columns are written as Spark SQL text (``sql_*``) and
parsed once in the JVM: built with ``pyspark.sql.functions`` every ``when``,
``lit`` and comparison is a Py4J round trip (about 8,500 for one summaries
query over the sample's 16 columns, 2.2 of its 3.2 s), as text a handful.
Literals are rendered so that the JVM reads back exactly the Python value:
doubles through ``CAST('<repr>' AS DOUBLE)`` (``repr`` is the shortest string
that round-trips, Java parses it correctly rounded), strings as their UTF-8
bytes in hex (``decode(unhex(...), 'UTF-8')``: no escaping of untrusted data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._sql_plan import SearchTree

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import DataType

__all__ = ["spark_source_kind", "sql_name", "sql_double", "sql_string"]


def spark_source_kind(data_type: DataType) -> str:
    """``number``, ``bool``, ``string``, ``temporal`` or ``other`` for a Spark data type."""
    from pyspark.sql import types as T

    if isinstance(data_type, T.BooleanType):
        return "bool"
    if isinstance(data_type, T.NumericType):
        return "number"
    if isinstance(data_type, (T.StringType, T.VarcharType, T.CharType)):
        return "string"
    if isinstance(data_type, (T.TimestampType, T.TimestampNTZType, T.DateType)):
        return "temporal"
    return "other"


def sql_name(name: str) -> str:
    """A column name as a Spark SQL identifier (backquoted, backquotes doubled)."""
    return "`" + str(name).replace("`", "``") + "`"


def sql_double(value: float) -> str:
    """A double literal the JVM reads as exactly ``value`` (infinities included, -0.0 kept)."""
    number = float(value)
    if np.isnan(number):
        return "CAST('NaN' AS DOUBLE)"
    if np.isinf(number):
        return "CAST('Infinity' AS DOUBLE)" if number > 0 else "CAST('-Infinity' AS DOUBLE)"
    return f"CAST('{number!r}' AS DOUBLE)"


def sql_string(value: str) -> str:
    """A string literal from the value's UTF-8 bytes in hex: exact for any text, nothing to escape."""
    return f"decode(unhex('{str(value).encode('utf-8').hex()}'), 'UTF-8')"


def _tree(node: SearchTree, value: Column, edges: np.ndarray, strict: bool = False) -> Column:
    from pyspark.sql import functions as F

    if isinstance(node, int):
        return F.lit(node)
    index, left, right = node
    edge = F.lit(float(edges[index]))
    condition = value < edge if strict else value <= edge
    return F.when(condition, _tree(left, value, edges, strict)).otherwise(_tree(right, value, edges, strict))


def _to_pandas(frame: DataFrame) -> pd.DataFrame:
    """Collect a (small) Spark DataFrame as pandas; instants as naive UTC, as :mod:`mlreport.data` reads them.

    The session time zone is UTC, so casting ``TIMESTAMP`` to ``TIMESTAMP_NTZ``
    gives the UTC wall clock (``collect`` alone would convert instants to the
    driver's local time).
    """
    from pyspark.sql import types as T

    columns = [
        frame[field.name].cast("timestamp_ntz").alias(field.name)
        if isinstance(field.dataType, T.TimestampType) else frame[field.name]
        for field in frame.schema.fields
    ]
    collected = frame.select(*columns).collect()
    result = pd.DataFrame([row.asDict() for row in collected], columns=frame.columns)
    for field in frame.schema.fields:
        # Python objects lose the type of a column whose values are all null (or Decimal): restore it.
        if result[field.name].dtype != object:
            continue
        if isinstance(field.dataType, T.NumericType):
            result[field.name] = pd.to_numeric(result[field.name], errors="coerce")
        elif isinstance(field.dataType, (T.TimestampType, T.TimestampNTZType, T.DateType)):
            result[field.name] = pd.to_datetime(result[field.name])
    return result


def _ntz(stamp: pd.Timestamp) -> Column:
    from pyspark.sql import functions as F

    return F.lit(pd.Timestamp(stamp).strftime("%Y-%m-%d %H:%M:%S.%f")).cast("timestamp_ntz")
