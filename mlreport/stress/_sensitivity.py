"""Sensitivity curves: one feature at a time, swept over a magnitude grid per shock family.

:class:`SensitivitySweep` takes a :class:`~mlreport.stress.Population` and
scores it with one feature shocked (:meth:`SensitivitySweep.shocked`, cached);
:class:`~mlreport.stress.ReverseStress` searches the same shocks for the
smallest that breaks the tolerance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import ParameterError
from ._population import Population
from .scenarios import Shock, Tolerance, apply_scenario, is_numeric

__all__ = ["DEFAULT_GRIDS", "NUMERIC_FAMILIES", "CATEGORICAL_FAMILIES", "Shocked", "SensitivitySweep"]

# Sensitivity grids per shock family (0, the baseline, is added). Their ends are
# the "plausible range" that reverse stress searches.
DEFAULT_GRIDS: dict[str, tuple[float, ...]] = {
    "relative": tuple(round(x, 2) for x in np.arange(-0.5, 0.501, 0.05) if abs(x) > 1e-9),
    "quantile_shift": (-0.3, -0.25, -0.2, -0.15, -0.1, -0.05, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3),
    "set_missing": (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0),
    "category_remap": (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0),
    "noise": (0.1, 0.25, 0.5, 0.75, 1.0),
}
NUMERIC_FAMILIES = ("relative", "quantile_shift", "set_missing")
CATEGORICAL_FAMILIES = ("category_remap", "set_missing")
_NUMERIC_KINDS = ("relative", "absolute", "quantile_shift", "noise")


@dataclass(frozen=True)
class Shocked:
    """The population scored with one feature shocked: decision rates, flip rate, mean score shift."""

    rates: npt.NDArray[np.float64]
    flip_rate: float
    score_shift_mean: float


class SensitivitySweep:
    """Shocks one feature of a :class:`~mlreport.stress.Population` at a time and reads out the decisions.

    Results are cached per (feature, family, magnitude), so curves and the
    reverse-stress search over the same population share their scoring.
    """

    def __init__(self, population: Population) -> None:
        self.population = population
        self._cache: dict[tuple[str, str, float], Shocked] = {}

    def families_for(self, feature: str, families: Sequence[str] | None = None) -> list[str]:
        """Shock families that apply to ``feature`` (by its dtype)."""
        numeric = is_numeric(self.population.frame[feature])
        default = NUMERIC_FAMILIES if numeric else CATEGORICAL_FAMILIES
        chosen = list(families) if families is not None else list(default)
        if numeric:
            return [f for f in chosen if f not in ("category_remap", "category_reweight")]
        return [f for f in chosen if f not in _NUMERIC_KINDS]

    def shocked(self, feature: str, family: str, magnitude: float) -> Shocked:
        """Rates, flip rate and mean score shift with one feature shocked.

        Seeded by feature and family (not magnitude), so share-based shocks at
        a larger share hit a superset of the rows hit at a smaller one. Cached.
        """
        key = (feature, family, float(magnitude))
        if key in self._cache:
            return self._cache[key]
        population = self.population
        if magnitude == 0:
            result = Shocked(rates=population.base_rates.copy(), flip_rate=0.0, score_shift_mean=0.0)
        else:
            shock = Shock(kind=family, column=feature).with_magnitude(magnitude)
            reference = population.reference_for([feature])
            name = f"{feature} {family} {magnitude:+g}"
            stressed = apply_scenario(
                population.frame, [shock], reference, seed=population.seed, key=f"sweep:{feature}:{family}"
            )
            scores, codes = population.evaluate(stressed, name)
            result = Shocked(
                rates=np.bincount(codes, minlength=len(population.decision_labels)) / len(codes),
                flip_rate=float(np.mean(codes != population.codes)),
                score_shift_mean=float(np.mean(scores - population.scores)),
            )
        self._cache[key] = result
        return result

    def breach(self, result: Shocked, tolerance: Tolerance) -> tuple[bool, int]:
        """Whether ``result`` breaks ``tolerance``, and the index of the decision that moved most."""
        population = self.population
        changes = 100 * (result.rates - population.base_rates)
        breaches = tolerance.breaches(population.decision_labels, list(result.rates), list(changes), result.flip_rate)
        worst = int(np.argmax(np.abs(changes)))
        return bool(breaches), worst

    def curves(
        self,
        features: Sequence[str],
        *,
        families: Sequence[str] | None = None,
        grids: Mapping[str, Sequence[float]] | None = None,
        tolerance: Tolerance | None = None,
    ) -> pd.DataFrame:
        """Sensitivity curves: one row per feature, family, magnitude and decision.

        Each feature is shocked alone over the family's grid (plus 0, the
        baseline); ``breaks`` marks magnitudes where the tolerance (default:
        the population's) fails.
        """
        population = self.population
        tolerance = tolerance or population.tolerance
        grids = {**DEFAULT_GRIDS, **(grids or {})}
        rows = []
        for feature in features:
            for family in self.families_for(feature, families):
                if family not in grids:
                    raise ParameterError(f"no magnitude grid for shock family {family!r}", name="grids")
                for magnitude in sorted({0.0, *map(float, grids[family])}):
                    result = self.shocked(feature, family, magnitude)
                    breaks, _ = self.breach(result, tolerance)
                    for code, label in enumerate(population.decision_labels):
                        rows.append(
                            {
                                "feature": feature,
                                "family": family,
                                "magnitude": magnitude,
                                "decision": label,
                                "base_rate": float(population.base_rates[code]),
                                "rate": float(result.rates[code]),
                                "change_pp": 100 * float(result.rates[code] - population.base_rates[code]),
                                "flip_rate": result.flip_rate,
                                "score_shift_mean": result.score_shift_mean,
                                "breaks": breaks,
                            }
                        )
        return pd.DataFrame(rows)
