"""What the reference says about one column: :class:`ColumnProfile`, and its JSON form.

Shares in the profile (missing, non-finite, modal, sentinel) are fractions of
**all** reference rows, missing ones included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt

from ..errors import DataError, ParameterError

__all__ = ["OTHER_LABEL", "ColumnKind", "ColumnProfile"]

OTHER_LABEL = "<other/new>"
"""Label of the bin holding every category outside the reference's top ones."""

ColumnKind = Literal["numeric", "categorical"]
"""How a column is compared: on quantile bins (numeric) or per category (categorical)."""


def _column_kind(value: object) -> ColumnKind:
    """``value`` (read back from JSON) as a :data:`ColumnKind`; a ValueError for anything else."""
    if value == "numeric":
        return "numeric"
    if value == "categorical":
        return "categorical"
    raise ValueError(f"kind {value!r} is not one of {', '.join(get_args(ColumnKind))}")


def _json_float(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True, eq=False)
class ColumnProfile:
    """What the reference says about one column.

    ``psi_edges`` / ``fine_edges`` are the interior edges of right-closed bins
    with open outer bins (numeric kind); ``categories`` the reference's top
    labels (categorical kind; the "other/new" bin is implicit, last).
    ``min``..``std`` and the sentinel shares are filled whenever the values are
    numbers (also for a discrete numeric column treated as categorical).
    """

    name: str
    kind: ColumnKind
    dtype: str
    kind_rule: str
    rows: int
    missing: int
    nonfinite: int
    invalid: int
    numeric_values: bool
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    modal_value: float | str | None = None
    modal_count: int = 0
    sentinel_counts: tuple[int, ...] = ()
    psi_edges: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    fine_edges: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    categories: tuple[str, ...] = ()
    n_distinct: int | None = None

    # -- derived -----------------------------------------------------------
    @property
    def valid(self) -> int:
        """Reference values counted in the bins (not missing, finite, readable)."""
        return self.rows - self.missing - self.nonfinite - self.invalid

    @property
    def missing_share(self) -> float:
        return self.missing / self.rows if self.rows else float("nan")

    @property
    def nonfinite_share(self) -> float:
        return self.nonfinite / self.rows if self.rows else float("nan")

    @property
    def modal_share(self) -> float:
        """Share of all rows holding the modal value (0 when none is recorded)."""
        return self.modal_count / self.rows if self.rows else float("nan")

    def sentinel_shares(self, sentinels: Sequence[float]) -> dict[float, float]:
        """Share of all rows equal to each sentinel value.

        ``sentinels`` are the values the profile counted, in its order
        (:attr:`ReferenceProfile.sentinels <mlreport.profile.ReferenceProfile.sentinels>`).
        """
        if not self.sentinel_counts or not self.rows:
            return {}
        if len(sentinels) != len(self.sentinel_counts):
            raise ParameterError(
                f"column {self.name!r} counted {len(self.sentinel_counts)} sentinel values, "
                f"got {len(sentinels)}: pass the profile's own sentinels",
                name="sentinels",
            )
        return {s: c / self.rows for s, c in zip(sentinels, self.sentinel_counts, strict=True)}

    @property
    def n_bins(self) -> int:
        """Number of PSI bins (numeric) or categories plus "other/new" (categorical)."""
        if self.kind == "numeric":
            return self.psi_edges.size + 1
        return len(self.categories) + 1

    @property
    def bin_labels(self) -> list[str]:
        """Readable labels of the PSI bins or categories (``other/new`` last)."""
        if self.kind == "categorical":
            return [*self.categories, OTHER_LABEL]
        return _interval_labels(self.psi_edges)

    @property
    def high_cardinality(self) -> bool:
        """More distinct reference labels than categories kept."""
        return self.kind == "categorical" and (self.n_distinct or 0) > len(self.categories)

    def psi_bin_of_fine(self) -> npt.NDArray[np.intp]:
        """Index of the PSI bin containing each fine bin (PSI edges are fine edges)."""
        uppers = np.append(self.fine_edges, np.inf)
        return np.searchsorted(self.psi_edges, uppers, side="left")

    # -- serialisation -----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        modal = self.modal_value
        if isinstance(modal, float):
            modal = _json_float(modal)
        return {
            "name": self.name,
            "kind": self.kind,
            "dtype": self.dtype,
            "kind_rule": self.kind_rule,
            "rows": self.rows,
            "missing": self.missing,
            "nonfinite": self.nonfinite,
            "invalid": self.invalid,
            "numeric_values": self.numeric_values,
            "min": _json_float(self.min),
            "max": _json_float(self.max),
            "mean": _json_float(self.mean),
            "std": _json_float(self.std),
            "modal_value": modal,
            "modal_count": self.modal_count,
            "sentinel_counts": list(self.sentinel_counts),
            "psi_edges": [float(e) for e in self.psi_edges],
            "fine_edges": [float(e) for e in self.fine_edges],
            "categories": list(self.categories),
            "n_distinct": self.n_distinct,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        try:
            return cls(
                name=str(data["name"]),
                kind=_column_kind(data["kind"]),
                dtype=str(data["dtype"]),
                kind_rule=str(data.get("kind_rule", "")),
                rows=int(data["rows"]),
                missing=int(data["missing"]),
                nonfinite=int(data["nonfinite"]),
                invalid=int(data.get("invalid", 0)),
                numeric_values=bool(data["numeric_values"]),
                min=data.get("min"),
                max=data.get("max"),
                mean=data.get("mean"),
                std=data.get("std"),
                modal_value=data.get("modal_value"),
                modal_count=int(data.get("modal_count", 0)),
                sentinel_counts=tuple(int(c) for c in data.get("sentinel_counts", ())),
                psi_edges=np.asarray(data.get("psi_edges", []), dtype=float),
                fine_edges=np.asarray(data.get("fine_edges", []), dtype=float),
                categories=tuple(str(c) for c in data.get("categories", ())),
                n_distinct=data.get("n_distinct"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(
                f"reference profile column {data.get('name', '?')!r} is malformed: {error}"
            ) from None


def _interval_labels(edges: npt.NDArray[np.float64]) -> list[str]:
    if edges.size == 0:
        return ["all values"]
    text = [f"{e:.4g}" for e in edges]
    labels = [f"<= {text[0]}"]
    labels += [f"({a}, {b}]" for a, b in pairwise(text)]
    labels.append(f"> {text[-1]}")
    return labels
