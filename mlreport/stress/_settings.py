"""Run settings taken from the parameters, the model spec and the model: tolerance and monotone declarations.

A parameter given wins; then the model spec; then what the model setup knows
(the built-in model's declarations) or the analysis' default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import ParameterError, ScenarioError, SpecError
from ._monotonicity import check_directions
from .scenarios import Tolerance, parse_tolerance

if TYPE_CHECKING:
    from ..spec import ModelSpec
    from ._models import ModelSetup

__all__ = [
    "DEFAULT_TOLERANCE_PP",
    "DEFAULT_LOSS_INCREASE_PCT",
    "check_tolerance_pp",
    "check_loss_tolerance_pct",
    "run_tolerance",
    "declared_monotone",
]

#: Largest decision-rate move allowed when neither a parameter nor the spec sets one.
DEFAULT_TOLERANCE_PP = 5.0
#: Largest rise of expected loss (percent of the baseline's) a scenario may cause before it fails.
DEFAULT_LOSS_INCREASE_PCT = Tolerance.max_loss_increase_pct


def check_tolerance_pp(tolerance_pp: object) -> None:
    """Refuse a ``tolerance_pp`` that is not a finite number >= 0 (a :class:`ParameterError` naming it)."""
    if not isinstance(tolerance_pp, (int, float)) or isinstance(tolerance_pp, bool) or not math.isfinite(tolerance_pp) \
            or tolerance_pp < 0:
        raise ParameterError(
            f"parameter 'tolerance_pp': {tolerance_pp!r}; expected a number of percentage points > 0, "
            "or 0 for the model spec's [thresholds.stress] (else 5)",
            name="tolerance_pp",
        )


def check_loss_tolerance_pct(loss_tolerance_pct: object) -> None:
    """Refuse a ``loss_tolerance_pct`` that is not a finite number >= 0 (a :class:`ParameterError` naming it)."""
    if not isinstance(loss_tolerance_pct, (int, float)) or isinstance(loss_tolerance_pct, bool) \
            or not math.isfinite(loss_tolerance_pct) or loss_tolerance_pct < 0:
        raise ParameterError(
            f"parameter 'loss_tolerance_pct': {loss_tolerance_pct!r}; expected a percentage >= 0 "
            f"(0 means the spec's [thresholds.stress] max_loss_increase_pct, else {DEFAULT_LOSS_INCREASE_PCT:g})",
            name="loss_tolerance_pct",
        )


def run_tolerance(spec: ModelSpec | None, tolerance_pp: float = 0.0, loss_tolerance_pct: float = 0.0) -> Tolerance:
    """The run's tolerance: the spec's ``[thresholds.stress]`` table, with ``tolerance_pp`` (when > 0) on top.

    The table takes the keys of a scenario file's ``[tolerance]``
    (``max_rate_change_pp``, a number or a table per decision label;
    ``max_flip_rate``; ``min_rate`` and ``max_rate`` per label, as shares).
    ``tolerance_pp`` replaces only ``max_rate_change_pp``; with neither, it is
    :data:`DEFAULT_TOLERANCE_PP`. A scenario file's own tables still take
    precedence over the result, per file and per scenario.

    Expected loss is judged too: a scenario fails when the expected loss of the
    accepted book rises by more than ``max_loss_increase_pct`` percent
    (``loss_tolerance_pct`` when > 0, else the spec's, else
    :data:`DEFAULT_LOSS_INCREASE_PCT`).
    """
    check_tolerance_pp(tolerance_pp)
    check_loss_tolerance_pct(loss_tolerance_pct)
    tolerance = Tolerance(max_rate_change_pp=DEFAULT_TOLERANCE_PP)
    table = spec.thresholds.get("stress") if spec is not None else None
    if spec is not None and table is not None:
        try:
            tolerance = parse_tolerance(table, context=f"{spec.source} [thresholds.stress]", base=tolerance)
        except ScenarioError as exc:
            raise SpecError(str(exc), path=spec.source, key="thresholds.stress") from None
    if tolerance_pp > 0:
        tolerance = replace(tolerance, max_rate_change_pp=float(tolerance_pp))
    if loss_tolerance_pct > 0:
        tolerance = replace(tolerance, max_loss_increase_pct=float(loss_tolerance_pct))
    return tolerance


def declared_monotone(
    monotone: Mapping[str, str], spec: ModelSpec | None, setup: ModelSetup | None = None,
) -> dict[str, str]:
    """Monotone declarations: the parameter's, else the spec's ``[monotone]``, else the model setup's."""
    for source, declared in (("parameter 'monotone'", monotone), ("model spec", spec.monotone if spec else {}),
                             ("model", getattr(setup, "monotone", None) or {})):
        if declared:
            check_directions(declared, source)
            return dict(declared)
    return {}
