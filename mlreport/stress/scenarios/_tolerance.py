"""When a stressed population fails: :class:`Tolerance` and the ``[tolerance]`` table.

The table comes from a scenario file, one of its scenarios, or a model spec's
``[thresholds.stress]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ...errors import ScenarioError
from ._checks import _check_keys, _number, _share

__all__ = ["Tolerance", "parse_tolerance"]


@dataclass(frozen=True)
class Tolerance:
    """When a stressed population fails.

    ``max_rate_change_pp``: largest allowed move of any decision rate, in
    percentage points (a number for all labels or a table per label).
    ``max_flip_rate``: largest allowed share of rows whose decision changes.
    ``min_rate`` / ``max_rate``: floors and caps on a label's stressed rate
    (shares, e.g. ``{"approve": 0.40}``). Point estimates are compared.
    ``max_loss_increase_pct``: largest allowed rise of the expected loss of
    the accepted book, in percent of its baseline (default 20; None: loss is
    reported but not judged). Only a rise fails: a loss that falls because fewer loans are
    approved is explained, not failed (the rate limits judge that).
    """

    max_rate_change_pp: float | Mapping[str, float] = 5.0
    max_flip_rate: float | None = None
    min_rate: Mapping[str, float] = field(default_factory=dict)
    max_rate: Mapping[str, float] = field(default_factory=dict)
    max_loss_increase_pct: float | None = 20.0

    def limit_pp(self, label: str) -> float:
        if isinstance(self.max_rate_change_pp, Mapping):
            return float(self.max_rate_change_pp.get(label, math.inf))
        return float(self.max_rate_change_pp)

    def breaches(
        self,
        labels: Sequence[str],
        stressed_rates: Sequence[float],
        changes_pp: Sequence[float],
        flip_rate: float,
        loss_change_pct: float | None = None,
    ) -> list[str]:
        """Reasons the readouts fail, worst rate move first; empty when they pass.

        ``loss_change_pct`` (the expected loss's change in percent, when the
        run computes it) fails above ``max_loss_increase_pct``.
        """
        reasons: list[tuple[float, str]] = []
        limit_loss = self.max_loss_increase_pct
        if limit_loss is not None and loss_change_pct is not None and math.isfinite(loss_change_pct) \
                and loss_change_pct > limit_loss:
            reasons.append((math.inf, f"expected loss {loss_change_pct:+.1f}% (limit +{limit_loss:g}%)"))
        for label, rate, change in zip(labels, stressed_rates, changes_pp, strict=True):
            limit = self.limit_pp(label)
            if abs(change) > limit:
                reasons.append((abs(change), f"{label} rate {change:+.1f} pp (limit ±{limit:g} pp)"))
            if label in self.min_rate and rate < self.min_rate[label]:
                reasons.append((0.0, f"{label} rate {rate:.1%} below floor {self.min_rate[label]:.0%}"))
            if label in self.max_rate and rate > self.max_rate[label]:
                reasons.append((0.0, f"{label} rate {rate:.1%} above cap {self.max_rate[label]:.0%}"))
        if self.max_flip_rate is not None and flip_rate > self.max_flip_rate:
            reasons.append((0.0, f"flip rate {flip_rate:.1%} above {self.max_flip_rate:.0%}"))
        reasons.sort(key=lambda pair: -pair[0])
        return [text for _, text in reasons]

    def describe(self) -> str:
        if isinstance(self.max_rate_change_pp, Mapping):
            parts = [f"{k} ±{v:g} pp" for k, v in self.max_rate_change_pp.items()]
            text = "decision rate moves: " + ", ".join(parts)
        else:
            text = f"any decision rate moving more than {self.max_rate_change_pp:g} pp"
        if self.max_flip_rate is not None:
            text += f"; flip rate above {self.max_flip_rate:.0%}"
        for label, floor in self.min_rate.items():
            text += f"; {label} rate below {floor:.0%}"
        for label, cap in self.max_rate.items():
            text += f"; {label} rate above {cap:.0%}"
        if self.max_loss_increase_pct is not None:
            text += f"; expected loss rising more than {self.max_loss_increase_pct:g}%"
        return text

    def to_dict(self) -> dict[str, Any]:
        limit = self.max_rate_change_pp
        return {
            "max_rate_change_pp": dict(limit) if isinstance(limit, Mapping) else limit,
            "max_flip_rate": self.max_flip_rate,
            "min_rate": dict(self.min_rate),
            "max_rate": dict(self.max_rate),
            "max_loss_increase_pct": self.max_loss_increase_pct,
        }


def parse_tolerance(spec: Any, *, context: str, base: Tolerance | None = None) -> Tolerance:
    """Parse a ``[tolerance]`` table; keys not given keep ``base``'s values."""
    base = base or Tolerance()
    if not isinstance(spec, Mapping):
        raise ScenarioError(f"{context}: tolerance must be a table, got {spec!r}")
    _check_keys(spec, (), ("max_rate_change_pp", "max_flip_rate", "min_rate", "max_rate", "max_loss_increase_pct"),
                context)
    fields: dict[str, Any] = {}
    if "max_rate_change_pp" in spec:
        limit = spec["max_rate_change_pp"]
        if isinstance(limit, Mapping):
            if not all(_number(v) and v >= 0 for v in limit.values()):
                raise ScenarioError(f"{context}: max_rate_change_pp values must be numbers >= 0")
            fields["max_rate_change_pp"] = {str(k): float(v) for k, v in limit.items()}
        elif _number(limit) and limit >= 0:
            fields["max_rate_change_pp"] = float(limit)
        else:
            raise ScenarioError(f"{context}: max_rate_change_pp must be a number >= 0, got {limit!r}")
    if "max_loss_increase_pct" in spec:
        limit = spec["max_loss_increase_pct"]
        if not (_number(limit) and limit >= 0):
            raise ScenarioError(f"{context}: max_loss_increase_pct must be a number >= 0, got {limit!r}")
        fields["max_loss_increase_pct"] = float(limit)
    if "max_flip_rate" in spec:
        fields["max_flip_rate"] = _share(spec["max_flip_rate"], context, "max_flip_rate")
    for key in ("min_rate", "max_rate"):
        if key in spec:
            table = spec[key]
            if not isinstance(table, Mapping):
                raise ScenarioError(f"{context}: {key} must be a table {{label = share}}")
            fields[key] = {str(k): _share(v, context, f"{key} of {k!r}") for k, v in table.items()}
    return replace(base, **fields)
