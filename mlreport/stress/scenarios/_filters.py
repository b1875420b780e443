"""Population filters and a shock's ``where``: the rows a scenario or a shock touches.

Filters are small dicts, never code: ``{column: value}``, ``{column: [values]}``
or ``{column: {op: value}}`` with ops ``==``, ``!=``, ``>``, ``>=``, ``<``,
``<=``, ``in``, ``not_in``, ``missing``; several columns must all match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ScenarioError
from ._checks import _scalar

__all__ = ["Condition", "Filter", "parse_filter"]

_FILTER_OPS = ("==", "!=", ">", ">=", "<", "<=", "in", "not_in", "missing")


@dataclass(frozen=True)
class Condition:
    """One column test of a :class:`Filter`."""

    column: str
    op: str
    value: Any

    def describe(self) -> str:
        if self.op == "missing":
            return f"{self.column} is {'' if self.value else 'not '}missing"
        if self.op in ("in", "not_in"):
            word = "in" if self.op == "in" else "not in"
            return f"{self.column} {word} {list(self.value)}"
        return f"{self.column} {self.op} {self.value!r}"


@dataclass(frozen=True)
class Filter:
    """Rows matching every condition (a conjunction). Evaluated without eval."""

    conditions: tuple[Condition, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.column for c in self.conditions))

    def describe(self) -> str:
        return " and ".join(c.describe() for c in self.conditions) or "all rows"

    def mask(self, frame: pd.DataFrame, *, context: str = "filter") -> np.ndarray:
        """Boolean mask of matching rows; missing values never match a comparison."""
        result = np.ones(len(frame), dtype=bool)
        for condition in self.conditions:
            if condition.column not in frame.columns:
                raise ScenarioError(
                    f"{context}: filter column {condition.column!r} is not in the data"
                )
            column = frame[condition.column]
            try:
                if condition.op == "missing":
                    matched = column.isna() if condition.value else column.notna()
                elif condition.op == "in":
                    matched = column.isin(list(condition.value))
                elif condition.op == "not_in":
                    matched = ~column.isin(list(condition.value)) & column.notna()
                else:
                    matched = _COMPARE[condition.op](column, condition.value)
            except TypeError as exc:
                raise ScenarioError(
                    f"{context}: cannot compare column {condition.column!r} "
                    f"({column.dtype}) with {condition.value!r}: {exc}"
                ) from None
            result &= pd.Series(matched).to_numpy(dtype=bool, na_value=False)
        return result


_COMPARE = {
    "==": lambda s, v: s == v,
    "!=": lambda s, v: (s != v) & s.notna(),
    ">": lambda s, v: s > v,
    ">=": lambda s, v: s >= v,
    "<": lambda s, v: s < v,
    "<=": lambda s, v: s <= v,
}


def parse_filter(spec: Any, *, context: str) -> Filter | None:
    """Parse ``{column: value | [values] | {op: value}}`` into a :class:`Filter`."""
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        raise ScenarioError(f"{context}: a filter must be a table {{column = value}}, got {spec!r}")
    conditions: list[Condition] = []
    for column, test in spec.items():
        if _scalar(test):
            conditions.append(Condition(str(column), "==", test))
        elif isinstance(test, list):
            if not all(_scalar(v) for v in test):
                raise ScenarioError(f"{context}: filter values for {column!r} must be scalars")
            conditions.append(Condition(str(column), "in", tuple(test)))
        elif isinstance(test, Mapping):
            if not test:
                raise ScenarioError(f"{context}: empty filter for column {column!r}")
            for op, value in test.items():
                if op not in _FILTER_OPS:
                    raise ScenarioError(
                        f"{context}: unknown filter operator {op!r} for column {column!r}; "
                        f"expected one of {', '.join(_FILTER_OPS)}"
                    )
                if op in ("in", "not_in"):
                    if not isinstance(value, list) or not all(_scalar(v) for v in value):
                        raise ScenarioError(f"{context}: {column!r} {op} needs a list of values")
                    value = tuple(value)
                elif op == "missing":
                    if not isinstance(value, bool):
                        raise ScenarioError(f"{context}: {column!r} missing needs true or false")
                elif not _scalar(value):
                    raise ScenarioError(f"{context}: {column!r} {op} needs a scalar value")
                conditions.append(Condition(str(column), str(op), value))
        else:
            raise ScenarioError(f"{context}: cannot read filter for column {column!r}: {test!r}")
    return Filter(tuple(conditions))
