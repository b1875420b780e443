"""A stress test: the scoring core and the parts that stress it, put together.

:class:`StressTest` is a composition, one part per job, each usable alone:

``population``
    the :class:`~mlreport.stress.Population`: model, decision rule, data,
    reference, tolerance and seed, scored once at baseline;
``runner``
    a :class:`~mlreport.stress.ScenarioRunner` evaluating scenario suites;
``sweep``
    a :class:`~mlreport.stress.SensitivitySweep` shocking one feature at a time;
``bisector``
    a :class:`~mlreport.stress.ReverseStress` searching the sweep's shocks
    for the smallest that breaks the tolerance.

Its methods (:meth:`~StressTest.run`, :meth:`~StressTest.sensitivity`,
:meth:`~StressTest.reverse_stress`, :meth:`~StressTest.importance`,
:meth:`~StressTest.subsample`) are the parts' verbs under one name.
Everything is seeded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from ._importance import permutation_importance
from ._models import DecisionRule, Model, ModelDecisions
from ._population import Population
from ._readouts import LossModel
from ._reverse import DEFAULT_PRECISION, FRAGILE_AT, ReverseResult, ReverseStress
from ._scenario_run import ScenarioRun, ScenarioRunner
from ._sensitivity import SensitivitySweep
from .scenarios import ResolvedScenario, ScenarioSuite, Tolerance

if TYPE_CHECKING:
    from ..spec import ModelSpec
    from ._models import ModelSetup

__all__ = ["StressTest"]


class StressTest:
    """A model, its decision rule and a population, scored once at baseline, and the parts that stress it.

    The arguments are those of :class:`~mlreport.stress.Population` (the
    scoring core) and of :class:`~mlreport.stress.ScenarioRunner`
    (``confidence``, ``top_segments``, ``min_segment_rows``).
    """

    def __init__(
        self,
        model: Model,
        rule: DecisionRule | ModelDecisions,
        population: pd.DataFrame,
        *,
        features: Sequence[str] | None = None,
        reference: pd.DataFrame | None = None,
        label: str | None = None,
        loss: LossModel | None = None,
        segments: Sequence[str] = (),
        tolerance: Tolerance | None = None,
        seed: int = 0,
        confidence: float = 0.95,
        top_segments: int = 3,
        min_segment_rows: int = 30,
    ) -> None:
        core = Population(
            model, rule, population, features=features, reference=reference, label=label, loss=loss,
            segments=segments, tolerance=tolerance, seed=seed,
        )
        self._compose(core, ScenarioRunner(
            core, confidence=confidence, top_segments=top_segments, min_segment_rows=min_segment_rows))

    def _compose(self, population: Population, runner: ScenarioRunner) -> None:
        self.population = population
        self.runner = runner
        self.sweep = SensitivitySweep(population)
        self.bisector = ReverseStress(self.sweep)

    @classmethod
    def of(
        cls,
        population: Population,
        *,
        confidence: float = 0.95,
        top_segments: int = 3,
        min_segment_rows: int = 30,
    ) -> StressTest:
        """A test of an already scored :class:`~mlreport.stress.Population`."""
        test = cls.__new__(cls)
        test._compose(population, ScenarioRunner(
            population, confidence=confidence, top_segments=top_segments, min_segment_rows=min_segment_rows))
        return test

    @classmethod
    def from_setup(
        cls,
        setup: ModelSetup,
        population: pd.DataFrame,
        *,
        features: Sequence[str] = (),
        label: str = "",
        exposure: str = "",
        lgd: float = 0.45,
        segments: Sequence[str] = (),
        tolerance_pp: float = 0.0,
        loss_tolerance_pct: float = 0.0,
        seed: int = 0,
        spec: ModelSpec | None = None,
    ) -> StressTest:
        """A test from notebook parameters.

        See :meth:`Population.from_setup <mlreport.stress.Population.from_setup>`.
        """
        return cls.of(Population.from_setup(
            setup, population, features=features, label=label, exposure=exposure, lgd=lgd, segments=segments,
            tolerance_pp=tolerance_pp, loss_tolerance_pct=loss_tolerance_pct, seed=seed, spec=spec,
        ))

    def overview(self) -> pd.DataFrame:
        """The baseline: rows, features, decision mix, mean score, AUC when labelled."""
        return self.population.overview()

    def subsample(self, rows: int, *, seed: int | None = None) -> StressTest:
        """The same test on a seeded random subset of rows (reference and readout settings kept).

        Sweeps and bisection score many variants; a few thousand rows are
        enough for curves and breaking points, at a fraction of the cost.
        With ``rows`` at least the population's size, the test itself.
        """
        core = self.population.subsample(rows, seed=seed)
        if core is self.population:
            return self
        runner = self.runner
        return StressTest.of(core, confidence=runner.confidence, top_segments=runner.top_segments,
                             min_segment_rows=runner.min_segment_rows)

    def importance(self, *, sample_rows: int = 5_000) -> pd.DataFrame:
        """Permutation importance of each feature (:func:`~mlreport.stress.permutation_importance`)."""
        return permutation_importance(self.population, sample_rows=sample_rows)

    def run(
        self,
        scenarios: ScenarioSuite | Sequence[ResolvedScenario],
        *,
        importance: Sequence[str] | None = None,
    ) -> ScenarioRun:
        """Evaluate every scenario of a suite (:meth:`ScenarioRunner.run <mlreport.stress.ScenarioRunner.run>`)."""
        return self.runner.run(scenarios, importance=importance)

    def sensitivity(
        self,
        features: Sequence[str],
        *,
        families: Sequence[str] | None = None,
        grids: Mapping[str, Sequence[float]] | None = None,
        tolerance: Tolerance | None = None,
    ) -> pd.DataFrame:
        """Sensitivity curves (:meth:`SensitivitySweep.curves <mlreport.stress.SensitivitySweep.curves>`)."""
        return self.sweep.curves(features, families=families, grids=grids, tolerance=tolerance)

    def reverse_stress(
        self,
        features: Sequence[str],
        *,
        families: Sequence[str] | None = None,
        grids: Mapping[str, Sequence[float]] | None = None,
        precision: float | Mapping[str, float] = DEFAULT_PRECISION,
        tolerance: Tolerance | None = None,
        fragile_at: float = FRAGILE_AT,
    ) -> ReverseResult:
        """Smallest breaking shocks (:meth:`ReverseStress.search <mlreport.stress.ReverseStress.search>`)."""
        return self.bisector.search(features, families=families, grids=grids, precision=precision,
                                    tolerance=tolerance, fragile_at=fragile_at)
