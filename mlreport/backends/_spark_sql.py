"""Spark column expressions: type kinds, bin lookups as CASE trees, timestamps and frames to pandas."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._sql_plan import SearchTree

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql.types import DataType

__all__ = ["spark_source_kind"]


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
