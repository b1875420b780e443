"""Mergeable counts of one batch on the profile's fixed bins: :class:`ColumnSummary`, :class:`Summaries`.

Summaries add (``a + b``, :func:`merge`: files, periods, partitions) and
subtract (``a - b``: leave-one-out comparisons), and read and write JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DataError, ParameterError
from ._column import ColumnKind, _column_kind

__all__ = ["ColumnSummary", "Summaries", "merge"]


_FLOAT_MAX = float(np.finfo(np.float64).max)


def _json_sum(value: float) -> float | str:
    """A bin sum for JSON: a number, or "inf"/"-inf" for a sum that overflowed (JSON has no inf)."""
    value = float(value)
    return value if math.isfinite(value) else str(value)


def _add_sums(
    left: npt.NDArray[np.float64], right: npt.NDArray[np.float64], sign: int
) -> npt.NDArray[np.float64]:
    """``left + sign * right`` for bin sums, where an overflowed (infinite) sum stays infinite.

    Subtracting an overflowed part from an overflowed whole (inf - inf) keeps
    the whole's inf rather than NaN: what is left of the bin still sums
    beyond the float range, or is empty (its mean is then not used).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        total = left + sign * right
    undefined = np.isnan(total) & ~np.isnan(left) & ~np.isnan(right)
    return np.where(undefined, left, total) if undefined.any() else total


@dataclass(frozen=True, eq=False)
class ColumnSummary:
    """Counts of one column in one batch, on the profile's fixed bins.

    ``counts``: per PSI bin (numeric) or per reference category plus a last
    "other/new" bin (categorical), over valid values. ``fine_counts`` /
    ``fine_sums``: count and sum of the values in each fine bin (numeric kind
    only; sums give within-bin means for Wasserstein; a sum beyond the float
    range, from a sentinel such as 1.8e308, is ±inf and stays so when
    summaries are merged or subtracted). ``below_min`` /
    ``above_max``: finite values outside the reference range.
    ``sentinel_counts``: rows equal to each of the profile's sentinels;
    ``modal_count``: rows equal to the reference's modal value. All fields add.
    """

    kind: ColumnKind
    n: int
    missing: int
    nonfinite: int
    invalid: int
    counts: npt.NDArray[np.int64]
    fine_counts: npt.NDArray[np.int64]
    fine_sums: npt.NDArray[np.float64]
    below_min: int
    above_max: int
    sentinel_counts: npt.NDArray[np.int64]
    modal_count: int

    @property
    def valid(self) -> int:
        """Values counted in the bins."""
        return int(self.counts.sum())

    def _combine(self, other: ColumnSummary, sign: int) -> ColumnSummary:
        if self.kind != other.kind or self.counts.shape != other.counts.shape:
            raise DataError("cannot merge summaries fitted on different profiles")
        return ColumnSummary(
            kind=self.kind,
            n=self.n + sign * other.n,
            missing=self.missing + sign * other.missing,
            nonfinite=self.nonfinite + sign * other.nonfinite,
            invalid=self.invalid + sign * other.invalid,
            counts=self.counts + sign * other.counts,
            fine_counts=self.fine_counts + sign * other.fine_counts,
            fine_sums=_add_sums(self.fine_sums, other.fine_sums, sign),
            below_min=self.below_min + sign * other.below_min,
            above_max=self.above_max + sign * other.above_max,
            sentinel_counts=self.sentinel_counts + sign * other.sentinel_counts,
            modal_count=self.modal_count + sign * other.modal_count,
        )

    def __add__(self, other: ColumnSummary) -> ColumnSummary:
        return self._combine(other, 1)

    def __sub__(self, other: ColumnSummary) -> ColumnSummary:
        """Counts of ``self`` minus a part of it (leave-one-out comparisons)."""
        return self._combine(other, -1)

    def fine_means(self) -> npt.NDArray[np.float64]:
        """Mean value in each fine bin (NaN for empty bins).

        A bin whose sum overflowed (±inf) holds values at the edge of the float
        range: its mean reads as ±1.8e308, the nearest finite value.
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            means = self.fine_sums / np.maximum(self.fine_counts, 1)
            means = np.clip(means, -_FLOAT_MAX, _FLOAT_MAX)
            return np.where(self.fine_counts > 0, means, np.nan)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "n": self.n,
            "missing": self.missing,
            "nonfinite": self.nonfinite,
            "invalid": self.invalid,
            "counts": self.counts.tolist(),
            "fine_counts": self.fine_counts.tolist(),
            "fine_sums": [_json_sum(v) for v in self.fine_sums],
            "below_min": self.below_min,
            "above_max": self.above_max,
            "sentinel_counts": self.sentinel_counts.tolist(),
            "modal_count": self.modal_count,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSummary:
        return cls(
            kind=_column_kind(data["kind"]),
            n=int(data["n"]),
            missing=int(data["missing"]),
            nonfinite=int(data["nonfinite"]),
            invalid=int(data.get("invalid", 0)),
            counts=np.asarray(data["counts"], dtype=np.int64),
            fine_counts=np.asarray(data.get("fine_counts", []), dtype=np.int64),
            fine_sums=np.asarray([float(v) for v in data.get("fine_sums", [])], dtype=float),
            below_min=int(data.get("below_min", 0)),
            above_max=int(data.get("above_max", 0)),
            sentinel_counts=np.asarray(data.get("sentinel_counts", []), dtype=np.int64),
            modal_count=int(data.get("modal_count", 0)),
        )


@dataclass(frozen=True, eq=False)
class Summaries:
    """Column summaries of one batch; ``a + b`` adds counts column by column.

    ``rows`` is the number of rows seen; ``absent`` lists profiled columns the
    batch did not contain (a merge keeps a column absent only if every part
    lacked it).
    """

    rows: int
    columns: Mapping[str, ColumnSummary]
    absent: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> ColumnSummary:
        return self.columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def _combine(self, other: Summaries, sign: int) -> Summaries:
        if not isinstance(other, Summaries):
            return NotImplemented
        names = list(self.columns) + [c for c in other.columns if c not in self.columns]
        combined: dict[str, ColumnSummary] = {}
        for name in names:
            mine, theirs = self.columns.get(name), other.columns.get(name)
            if mine is not None and theirs is not None:
                combined[name] = mine._combine(theirs, sign)
            elif mine is not None:
                combined[name] = mine
            elif sign > 0 and theirs is not None:
                combined[name] = theirs
        absent = tuple(
            c for c in dict.fromkeys(self.absent + other.absent) if c not in combined
        )
        return Summaries(rows=self.rows + sign * other.rows, columns=combined, absent=absent)

    def __add__(self, other: Summaries) -> Summaries:
        return self._combine(other, 1)

    def __sub__(self, other: Summaries) -> Summaries:
        return self._combine(other, -1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "absent": list(self.absent),
            "columns": {name: summary.to_dict() for name, summary in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summaries:
        return cls(
            rows=int(data["rows"]),
            columns={
                str(name): ColumnSummary.from_dict(value)
                for name, value in dict(data["columns"]).items()
            },
            absent=tuple(data.get("absent", ())),
        )


def merge(parts: Iterable[Summaries]) -> Summaries:
    """Sum of summaries (of files, periods, partitions) on one profile."""
    parts = list(parts)
    if not parts:
        raise ParameterError("merge() needs at least one Summaries", name="parts")
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
