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
from ..findings import Finding
from ._population import Population
from ._readouts import SECTIONS
from ._scenario_run import SCORING_METHOD
from ._scoring import ScoringFailure
from .scenarios import Shock, Tolerance, apply_scenario, is_numeric

__all__ = [
    "DEFAULT_GRIDS", "NUMERIC_FAMILIES", "CATEGORICAL_FAMILIES", "Shocked", "SensitivitySweep", "format_magnitude",
]

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
    """The population scored with one feature shocked: decision rates, flip rate, mean score shift.

    When the model cannot score some of the shocked rows, ``failure`` says
    which and why, and the rates and shifts are NaN: that shock is left out
    of the curves and stops the reverse-stress search.
    """

    rates: npt.NDArray[np.float64]
    flip_rate: float
    score_shift_mean: float
    failure: ScoringFailure | None = None

    @property
    def scored(self) -> bool:
        """Whether the model scored every shocked row."""
        return self.failure is None


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
        Rows the model cannot score make a :class:`Shocked` with a ``failure``,
        not an error.
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
            scores, codes, failure = population.try_evaluate(stressed, name)
            if failure is not None:
                result = Shocked(rates=np.full(len(population.decision_labels), np.nan), flip_rate=np.nan,
                                 score_shift_mean=np.nan, failure=failure)
            else:
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
        the population's) fails. Magnitudes the model cannot score are left
        out, and a family with none scored but the baseline altogether
        (:meth:`unscorable_findings` says which).
        """
        population = self.population
        tolerance = tolerance or population.tolerance
        grids = {**DEFAULT_GRIDS, **(grids or {})}
        rows = []
        for feature in features:
            for family in self.families_for(feature, families):
                if family not in grids:
                    raise ParameterError(f"no magnitude grid for shock family {family!r}", name="grids")
                magnitudes = sorted({0.0, *map(float, grids[family])})
                scored = [(m, r) for m in magnitudes if (r := self.shocked(feature, family, m)).scored]
                if all(m == 0 for m, _ in scored):
                    continue  # only the baseline: no curve to draw
                for magnitude, result in scored:
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
        columns = ["feature", "family", "magnitude", "decision", "base_rate", "rate", "change_pp", "flip_rate",
                   "score_shift_mean", "breaks"]
        return pd.DataFrame(rows, columns=columns)

    def unscorable_findings(self) -> list[Finding]:
        """A note per feature and shock family with shocks the model could not score (among those scored so far).

        Those shocks are left out of the curves and stop the reverse-stress
        search; the note says which sizes and why (the scenario findings say
        what it means: an integration risk).
        """
        failed: dict[tuple[str, str], list[tuple[float, ScoringFailure]]] = {}
        for (feature, family, magnitude), result in self._cache.items():
            if result.failure is not None:
                failed.setdefault((feature, family), []).append((magnitude, result.failure))
        findings = []
        for (feature, family), points in sorted(failed.items()):
            points.sort(key=lambda point: (abs(point[0]), point[0]))
            sizes = ", ".join(format_magnitude(family, m) for m, _ in points[:6])
            if len(points) > 6:
                sizes += f" and {len(points) - 6} more"
            worst = max(points, key=lambda point: point[1].count)[1]
            findings.append(Finding(
                check="sensitivity_unscorable",
                subject=f"{feature} {family}",
                severity="ok",
                message=(
                    f"{feature} {family}: the model cannot score {len(points)} shock size(s) ({sizes}; up to "
                    f"{worst.count:,} of {worst.total:,} rows: {'; '.join(worst.problems)}): left out of the "
                    "sensitivity curves and of reverse stress"
                ),
                value=float(len(points)),
                threshold=0.0,
                method=SCORING_METHOD,
                section=SECTIONS["sensitivity"],
            ))
        return findings


def format_magnitude(family: str, magnitude: float) -> str:
    """A shock size in words: ``-18%``, ``+0.10 quantiles``, ``25% missing``."""
    if family == "relative":
        return f"{100 * magnitude:+.1f}%".replace(".0%", "%")
    if family == "quantile_shift":
        return f"{magnitude:+.3f} quantiles"
    if family == "set_missing":
        return f"{100 * magnitude:.1f}% missing".replace(".0%", "%")
    if family == "category_remap":
        return f"{100 * magnitude:.1f}% remapped to an unseen category".replace(".0%", "%")
    if family == "noise":
        return f"noise {magnitude:g} sd"
    return f"{family} {magnitude:+g}"
