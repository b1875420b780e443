"""Reverse stress finds, by bisection, the smallest shock that breaks the tolerance.

:class:`ReverseStress` takes a :class:`~mlreport.stress.SensitivitySweep` and
searches its grids (the plausible range of each shock family), scoring through
the sweep so that a search after the curves reuses their scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..findings import Finding
from ._readouts import SECTIONS
from ._sensitivity import DEFAULT_GRIDS, SensitivitySweep, format_magnitude
from .scenarios import Tolerance

__all__ = ["ReverseResult", "ReverseStress", "format_magnitude"]

_SIGNED = ("relative", "absolute", "quantile_shift")

# Bisection stops when the bracket is this narrow (in the family's own units).
DEFAULT_PRECISION = 0.005

# A break at or below this magnitude is flagged as fragile (a warning).
FRAGILE_AT = 0.10


@dataclass
class ReverseResult:
    """Reverse stress: one row per feature, family and direction, plus findings."""

    table: pd.DataFrame
    findings: list[Finding]
    method: str


class ReverseStress:
    """Bisects, per feature, shock family and direction, to the smallest shock that breaks the tolerance."""

    def __init__(self, sweep: SensitivitySweep) -> None:
        self.sweep = sweep

    def search(
        self,
        features: Sequence[str],
        *,
        families: Sequence[str] | None = None,
        grids: Mapping[str, Sequence[float]] | None = None,
        precision: float | Mapping[str, float] = DEFAULT_PRECISION,
        tolerance: Tolerance | None = None,
        fragile_at: float = FRAGILE_AT,
    ) -> ReverseResult:
        """Smallest shock per feature, family and direction that breaks the tolerance.

        The family's grid (the plausible range) is scanned outwards from 0; the
        first breaking grid point and the point before it bracket the break,
        and bisection narrows the bracket until it is at most ``precision``
        wide. ``magnitude`` is the bracket's outer end: the smallest shock
        found to break. Assumes the effect does not cross the tolerance and
        back between adjacent grid points. Features that never break within
        the grid say so. Breaks at or below ``fragile_at`` are warnings.
        ``tolerance`` defaults to the population's.
        """
        tolerance = tolerance or self.sweep.population.tolerance
        grids = {**DEFAULT_GRIDS, **(grids or {})}
        rows: list[dict[str, Any]] = []
        findings: list[Finding] = []
        for feature in features:
            for family in self.sweep.families_for(feature, families):
                step = precision[family] if isinstance(precision, Mapping) else float(precision)
                grid = [float(m) for m in grids[family]]
                directions = [("down", -1.0), ("up", 1.0)] if family in _SIGNED else [("up", 1.0)]
                for direction, sign in directions:
                    points = sorted(abs(m) for m in grid if m * sign > 0)
                    if not points:
                        continue
                    row = self._bisect(feature, family, direction, sign, points, step, tolerance)
                    rows.append(row)
                    if row["breaks"]:
                        findings.append(self._reverse_finding(row, fragile_at))
        columns = ["feature", "family", "direction", "breaks", "magnitude", "bracket_low", "bracket_high",
                   "precision", "decision", "base_rate", "rate", "change_pp", "searched_to", "evaluations", "scored",
                   "note"]
        table = pd.DataFrame(rows, columns=columns)
        # Searches stopped at a shock the model cannot score are not "never breaks" (the sweep's notes say why).
        never = table[~table["breaks"].astype(bool) & table["scored"].astype(bool)] if len(table) else table
        unscored = int((~table["scored"].astype(bool)).sum()) if len(table) else 0
        if len(never):
            findings.append(
                Finding(
                    check="reverse_stress",
                    subject="never breaks",
                    severity="ok",
                    message=(
                        f"{len(never)} of {len(table)} feature/shock combinations never break the "
                        f"tolerance within the plausible range"
                        + (f" ({unscored} more stopped at a shock the model cannot score)" if unscored else "")
                    ),
                    method=REVERSE_METHOD,
                    section=SECTIONS["reverse"],
                )
            )
        return ReverseResult(table=table, findings=findings, method=REVERSE_METHOD)

    def _bisect(
        self,
        feature: str,
        family: str,
        direction: str,
        sign: float,
        points: Sequence[float],
        step: float,
        tolerance: Tolerance,
    ) -> dict[str, Any]:
        sweep = self.sweep
        population = sweep.population
        evaluations = 0
        low = 0.0
        high = None
        base = {"feature": feature, "family": family, "direction": direction, "precision": step,
                "searched_to": sign * points[-1], "scored": True}
        for point in points:
            evaluations += 1
            shocked = sweep.shocked(feature, family, sign * point)
            if not shocked.scored:
                return self._unscored(base, low, sign * point, evaluations)
            breaks, _ = sweep.breach(shocked, tolerance)
            if breaks:
                high = point
                break
            low = point
        if high is None:
            return {**base, "breaks": False, "magnitude": math.nan, "bracket_low": math.nan,
                    "bracket_high": math.nan, "decision": "", "base_rate": math.nan, "rate": math.nan,
                    "change_pp": math.nan, "evaluations": evaluations,
                    "note": f"never breaks within {format_magnitude(family, sign * points[-1])}"}
        note = ""
        while high - low > step:
            middle = (low + high) / 2
            evaluations += 1
            shocked = sweep.shocked(feature, family, sign * middle)
            if not shocked.scored:
                # The break at `high` stands; the bracket just cannot be narrowed further.
                note = (f"bracket {format_magnitude(family, sign * low)} to {format_magnitude(family, sign * high)} "
                        f"not narrowed further: the model cannot score {feature} "
                        f"{format_magnitude(family, sign * middle)}")
                break
            breaks, _ = sweep.breach(shocked, tolerance)
            if breaks:
                high = middle
            else:
                low = middle
        result = sweep.shocked(feature, family, sign * high)
        _, worst = sweep.breach(result, tolerance)
        return {**base, "breaks": True, "magnitude": sign * high, "bracket_low": sign * low,
                "bracket_high": sign * high, "decision": population.decision_labels[worst],
                "base_rate": float(population.base_rates[worst]), "rate": float(result.rates[worst]),
                "change_pp": 100 * float(result.rates[worst] - population.base_rates[worst]),
                "evaluations": evaluations, "note": note}

    @staticmethod
    def _unscored(base: Mapping[str, Any], low: float, magnitude: float, evaluations: int) -> dict[str, Any]:
        """The row of a search stopped at a shock the model cannot score: not known to break, not known not to."""
        sign = 1.0 if magnitude > 0 else -1.0
        family = str(base["family"])
        reached = f"held up to {format_magnitude(family, sign * low)}; " if low > 0 else ""
        return {**base, "scored": False, "breaks": False, "magnitude": math.nan, "bracket_low": sign * low,
                "bracket_high": math.nan, "decision": "", "base_rate": math.nan, "rate": math.nan,
                "change_pp": math.nan, "evaluations": evaluations, "searched_to": sign * low,
                "note": f"{reached}search stopped: the model cannot score {base['feature']} "
                        f"{format_magnitude(family, magnitude)}"}

    def _reverse_finding(self, row: Mapping[str, Any], fragile_at: float) -> Finding:
        fragile = abs(row["magnitude"]) <= fragile_at
        verb = "falls" if row["change_pp"] < 0 else "rises"
        return Finding(
            check="reverse_stress",
            subject=f"{row['feature']} {row['family']} {row['direction']}",
            severity="warning" if fragile else "ok",
            message=(
                f"{row['decision']} rate {verb} to {100 * row['rate']:.1f}% "
                f"({row['change_pp']:+.1f} pp) at {row['feature']} "
                f"{format_magnitude(row['family'], row['magnitude'])}"
                f"{' (fragile: within ' + format(fragile_at, 'g') + ')' if fragile else ''}"
            ),
            value=abs(row["magnitude"]),
            threshold=fragile_at,
            method=REVERSE_METHOD,
            section=SECTIONS["reverse"],
        )


#: How reverse stress searches, for the report's method notes.
REVERSE_METHOD = (
    "grid scan outwards from 0 over the plausible range, then bisection of the first breaking "
    "interval to the stated precision; magnitude = smallest shock found to break"
)
