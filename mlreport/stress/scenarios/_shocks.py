"""Shocks: what a scenario does to a column, and the validation of a file's shock tables.

Shock types (``type``), with the key that sets their size:

- ``relative`` (``by``): x * (1 + by).
- ``absolute`` (``by``): x + by.
- ``quantile_shift`` (``by``): x -> Q(clip(F(x) + by, 0, 1)) with F the
  reference rank and Q the reference quantile function
  (:class:`~mlreport.stress.scenarios.ColumnReference`).
- ``noise`` (``sd``): x + N(0, (sd * reference std)^2), seeded.
- ``set_missing`` (``share``, default 1): a share of rows set missing.
- ``set_value`` (``share``, default 1): a share of rows set to ``value``: a
  number (0, -1, a sentinel such as -999), a category, or "mean" / "median"
  (of the reference) or "stale" (the reference's last non-missing value).
- ``category_reweight`` (``shares``): labels resampled to target shares
  (a table, unlisted categories sharing the rest pro rata, or "uniform"),
  exact counts, moving the fewest rows.
- ``category_remap`` (``share``, default 1): a share of rows (optionally only
  of categories ``from``) moved to category ``to`` (default an unseen one).

Every shock takes ``column`` (a column name or a selector: ``@numeric``,
``@categorical``, ``@all``, ``@top_numeric``, ``@top_categorical`` for the
model's features, the top ones by importance) and an optional ``where`` filter
restricting the rows shocked (:func:`~mlreport.stress.scenarios.parse_filter`).
They are applied by :func:`~mlreport.stress.scenarios.apply_shock`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ...errors import ScenarioError
from ._checks import _check_keys, _number, _scalar, _share
from ._filters import Filter, parse_filter

__all__ = ["SHOCK_TYPES", "SELECTORS", "UNSEEN", "Shock"]

UNSEEN = "__unseen__"

_NUMERIC_ONLY = ("relative", "absolute", "quantile_shift", "noise")
_CATEGORICAL_ONLY = ("category_reweight", "category_remap")

# type -> (required keys, optional keys) besides "type"
SHOCK_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "relative": (("column", "by"), ("where",)),
    "absolute": (("column", "by"), ("where",)),
    "quantile_shift": (("column", "by"), ("where",)),
    "noise": (("column", "sd"), ("where",)),
    "set_missing": (("column",), ("share", "where")),
    "set_value": (("column", "value"), ("share", "where")),
    "category_reweight": (("column", "shares"), ("where",)),
    "category_remap": (("column",), ("share", "from", "to", "where")),
}

SELECTORS = ("@numeric", "@categorical", "@all", "@top_numeric", "@top_categorical")

_VALUE_KEYWORDS = ("mean", "median", "stale")


@dataclass(frozen=True)
class Shock:
    """One shock to one column (or a selector, before :func:`resolve`)."""

    kind: str
    column: str
    by: float | None = None
    sd: float | None = None
    share: float = 1.0
    value: Any = None
    shares: Mapping[str, float] | str | None = None
    source: tuple[str, ...] | None = None
    to: str = UNSEEN
    where: Filter | None = None

    @property
    def magnitude(self) -> float | None:
        """The shock's size on its own scale (by, sd or share)."""
        if self.kind in ("relative", "absolute", "quantile_shift"):
            return self.by
        if self.kind == "noise":
            return self.sd
        if self.kind in ("set_missing", "set_value", "category_remap"):
            return self.share
        return None

    def with_magnitude(self, magnitude: float) -> Shock:
        """The same shock at another size (used by sweeps and bisection)."""
        if self.kind in ("relative", "absolute", "quantile_shift"):
            return replace(self, by=float(magnitude))
        if self.kind == "noise":
            return replace(self, sd=float(magnitude))
        if self.kind in ("set_missing", "set_value", "category_remap"):
            return replace(self, share=float(magnitude))
        raise ScenarioError(f"a {self.kind} shock has no single magnitude to vary")

    def describe(self) -> str:
        """The shock in words, e.g. ``income x (1 - 0.2)``."""
        c = self.column
        share = "" if self.share == 1 else f" for {self.share:.0%} of rows"
        by = math.nan if self.by is None else self.by
        if self.kind == "relative":
            text = f"{c} x (1 {'+' if by >= 0 else '-'} {abs(by):g})"
        elif self.kind == "absolute":
            text = f"{c} {'+' if by >= 0 else '-'} {abs(by):g}"
        elif self.kind == "quantile_shift":
            text = f"{c} moved {self.by:+g} quantiles"
        elif self.kind == "noise":
            text = f"{c} + gaussian noise, sd {self.sd:g} x reference sd"
        elif self.kind == "set_missing":
            text = f"{c} set missing{share or ' for all rows'}"
        elif self.kind == "set_value":
            text = f"{c} set to {self.value!r}{share}"
        elif self.kind == "category_reweight":
            shares = self.shares if isinstance(self.shares, str) else dict(self.shares or {})
            text = f"{c} reweighted to shares {shares}"
        else:
            source = f" (from {list(self.source)})" if self.source else ""
            text = f"{c} remapped to {self.to!r}{source}{share}"
        if self.where is not None:
            text += f" where {self.where.describe()}"
        return text


def _parse_shock(spec: Any, *, context: str) -> Shock:
    if not isinstance(spec, Mapping):
        raise ScenarioError(f"{context}: a shock must be a table with a 'type', got {spec!r}")
    kind = spec.get("type")
    if kind not in SHOCK_TYPES:
        hint = " (macro variables go in the scenario's 'macro' table)" if kind == "macro" else ""
        raise ScenarioError(
            f"{context}: unknown shock type {kind!r}; valid types: {', '.join(SHOCK_TYPES)}{hint}"
        )
    required, optional = SHOCK_TYPES[kind]
    body = {k: v for k, v in spec.items() if k != "type"}
    _check_keys(body, required, optional, f"{context} ({kind})")
    column = body["column"]
    if not isinstance(column, str) or not column:
        raise ScenarioError(f"{context}: column must be a column name or selector, got {column!r}")
    if column.startswith("@") and column not in SELECTORS:
        raise ScenarioError(
            f"{context}: unknown column selector {column!r}; expected one of {', '.join(SELECTORS)}"
        )
    where = parse_filter(body.get("where"), context=f"{context} where")
    fields: dict[str, Any] = {"kind": kind, "column": column, "where": where}
    if "by" in required:
        by = body["by"]
        if not _number(by):
            raise ScenarioError(f"{context}: 'by' must be a number, got {by!r}")
        if kind == "relative" and by < -1:
            raise ScenarioError(f"{context}: relative by={by} < -1 would flip signs; expected >= -1")
        if kind == "quantile_shift" and not -1 <= by <= 1:
            raise ScenarioError(f"{context}: quantile_shift by={by} must be between -1 and 1")
        fields["by"] = float(by)
    if kind == "noise":
        sd = body["sd"]
        if not _number(sd) or sd < 0:
            raise ScenarioError(f"{context}: 'sd' must be a non-negative number, got {sd!r}")
        fields["sd"] = float(sd)
    if "share" in body:
        fields["share"] = _share(body["share"], context)
    if kind == "set_value":
        value = body["value"]
        if not (_number(value) or isinstance(value, str)):
            raise ScenarioError(
                f"{context}: value must be a number, a category or one of "
                f"{', '.join(_VALUE_KEYWORDS)}; got {value!r}"
            )
        fields["value"] = value
    if kind == "category_reweight":
        shares = body["shares"]
        if shares == "uniform":
            fields["shares"] = "uniform"
        elif isinstance(shares, Mapping) and shares:
            for label, share in shares.items():
                _share(share, context, key=f"share of {label!r}")
            total = sum(shares.values())
            if total > 1 + 1e-9:
                raise ScenarioError(f"{context}: target shares sum to {total:g}, more than 1")
            fields["shares"] = {str(k): float(v) for k, v in shares.items()}
        else:
            raise ScenarioError(
                f"{context}: shares must be a table {{category = share}} or \"uniform\", got {shares!r}"
            )
    if kind == "category_remap":
        if "from" in body:
            source = body["from"]
            if isinstance(source, str):
                source = [source]
            if not isinstance(source, list) or not source or not all(_scalar(v) for v in source):
                raise ScenarioError(f"{context}: 'from' must be a category or a list of categories")
            fields["source"] = tuple(str(v) for v in source)
        if "to" in body:
            if not isinstance(body["to"], str) or not body["to"]:
                raise ScenarioError(f"{context}: 'to' must be a category name")
            fields["to"] = body["to"]
    return Shock(**fields)
