"""The stress analysis end to end: :func:`analyse` turns :class:`StressParameters` into a :class:`StressResult`.

Nothing is computed when the result is made. Each part is computed on first
use and kept, so the notebook cell that shows a section is where its work
happens (and where a failure is reported):

- ``spec`` and ``setup``: the model spec, if any, and the model with its
  decision rule (the built-in model is trained here); the spec file and the
  model's file or module are recorded in ``inputs``, as is the scenario file;
- ``data`` and ``test``: the population as read (recorded in ``inputs``) and
  scored once at baseline; ``population`` is the test's scoring core;
- ``importance``: permutation importance on ``sweep_rows`` rows;
- ``suite`` and ``scenario_run``: the scenario file and its run;
- ``sweep_test``, ``top_features``, ``curves`` and ``reverse``: the test on
  ``sweep_rows`` sampled rows, the features it sweeps, their sensitivity
  curves and the reverse-stress search;
- ``monotone`` and ``monotonicity``: the features declared monotone and their
  ICE check.

``tables`` and ``figures`` are the report's sections by name (:data:`TABLES`,
:data:`FIGURES`); ``summary`` and ``findings`` need every part.
"""

from __future__ import annotations

from functools import cached_property, partial
from typing import TYPE_CHECKING

import pandas as pd

from .. import sample
from ..analysis import AnalysisResult, Sections
from ..data import InputLog, load_table, record_frame
from ..findings import Finding, Summary
from ..spec import ModelSpec, load_spec
from ..tables import Table, table
from ._models import ModelSetup, setup_model
from ._monotonicity import MonotonicityResult, monotonicity
from ._parameters import StressParameters
from ._plots import ice_chart, reverse_chart, scenario_chart, sensitivity_chart
from ._population import Population
from ._reverse import ReverseResult
from ._scenario_run import ScenarioRun
from ._settings import declared_monotone
from ._stress import StressTest
from ._summary import stress_summary
from .scenarios import ScenarioSuite, load_scenarios

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["TABLES", "FIGURES", "StressResult", "analyse"]

#: The report's tables, by name, and what each shows (its caption).
TABLES: dict[str, str] = {
    "overview": "Baseline: the model scored once on the unshocked population",
    "scenarios": "Scenarios: change in each decision rate with its paired confidence interval, and the verdict",
    "readouts": "Readouts per applicable scenario: decision flips, score shift, AUC and Gini, calibration, "
    "expected loss",
    "segments": "Segments hit hardest: the first label's rate per segment, largest moves first (first 20)",
    "importance": "Permutation importance on the sampled rows, most important first (first 20)",
    "reverse": "Reverse stress: the smallest shock per feature, family and direction that breaks the tolerance",
    "monotonicity": "Monotonicity of the declared features: ICE curves of sampled rows",
    "monotonicity_examples": "Rows whose score moves most against the declared direction",
    "definitions": "Scenario definitions, resolved against this model and data",
    "provenance": "What a replication needs: seed, scenario file and its sha256, tolerance",
}

#: The report's figures, by name, and what each shows (each has its own title).
FIGURES: dict[str, str] = {
    "scenarios": "decision-rate change per scenario with its confidence interval and the tolerance",
    "sensitivity": "sensitivity curves of the most important features, per shock family",
    "reverse": "the smallest relative shock that breaks the tolerance, per feature",
    "monotonicity": "ICE curves of the declared monotone features",
}


def analyse(parameters: StressParameters) -> StressResult:
    """The stress analysis of ``parameters``; every part is computed on first use (see the module docstring)."""
    return StressResult(parameters)


class StressResult(AnalysisResult):
    """What the stress analysis found, section by section (see :func:`analyse`).

    Each typed attribute is a part of the analysis, computed on first use and
    kept; ``inputs`` records every table read, in order.
    """

    analysis = "stress"

    def __init__(self, parameters: StressParameters) -> None:
        self.parameters = parameters
        self.inputs = InputLog()
        self._tables: Sections[Table] = Sections(
            {name: partial(self._table, name) for name in TABLES}, kind="table"
        )
        self._figures: Sections[Figure] = Sections(
            {
                "scenarios": lambda: scenario_chart(self.scenario_run),
                # The band is the run's tolerance for the charted decision (the spec's, the parameter's or 5 pp),
                # not the tolerance_pp parameter as given, whose default 0 means "the spec's, else 5 pp".
                "sensitivity": lambda: sensitivity_chart(
                    self.curves, tolerance_pp=self.population.tolerance.limit_pp(str(self.curves["decision"].iloc[0]))
                ),
                "reverse": lambda: reverse_chart(self.reverse.table),
                "monotonicity": lambda: ice_chart(self.monotonicity),
            },
            kind="figure",
        )

    # ------------------------------------------------------------ the parts

    @cached_property
    def spec(self) -> ModelSpec | None:
        """The model spec of ``spec_path``; None without one."""
        return load_spec(self.parameters.spec_path, log=self.inputs) if self.parameters.spec_path else None

    @cached_property
    def setup(self) -> ModelSetup:
        """The model and its decision rule (:func:`~mlreport.stress.setup_model`)."""
        p = self.parameters
        return setup_model(p.model, trust=p.trust_model_file, thresholds=p.thresholds, otherwise=p.otherwise_label,
                           features=p.features, seed=p.seed, log=self.inputs)

    @cached_property
    def data(self) -> pd.DataFrame:
        """The population as read from ``data_path`` (or the built-in sample), recorded in ``inputs``."""
        p = self.parameters
        if p.data_path:
            return load_table(p.data_path, name="population", log=self.inputs)
        frame = sample.generate(p.sample_rows, seed=p.seed + 1)
        record_frame(frame, name="population", source=f"mlreport.sample.generate({p.sample_rows}, seed={p.seed + 1})",
                     log=self.inputs)
        return frame

    @cached_property
    def test(self) -> StressTest:
        """The stress test: the population scored once at baseline, and the parts that stress it."""
        p = self.parameters
        spec, setup = self.spec, self.setup  # in this order: a bad spec is reported before the model loads
        return StressTest.from_setup(setup, self.data, features=p.features, label=p.label_column,
                                     exposure=p.exposure_column, lgd=p.lgd, segments=p.segments,
                                     tolerance_pp=p.tolerance_pp, loss_tolerance_pct=p.loss_tolerance_pct,
                                     seed=p.seed, spec=spec)

    @property
    def population(self) -> Population:
        """The scoring core of :attr:`test`: baseline scores and decisions, reference, tolerance, seed."""
        return self.test.population

    @cached_property
    def importance(self) -> pd.DataFrame:
        """Permutation importance of every feature on ``sweep_rows`` sampled rows."""
        return self.test.importance(sample_rows=self.parameters.sweep_rows)

    @cached_property
    def suite(self) -> ScenarioSuite:
        """The scenario suite of ``scenarios_path`` (the built-in suite without one)."""
        return load_scenarios(self.parameters.scenarios_path, log=self.inputs)

    @cached_property
    def scenario_run(self) -> ScenarioRun:
        """Every scenario of :attr:`suite` run; ``@top_*`` selectors follow :attr:`importance`."""
        importance = list(self.importance["feature"])
        return self.test.run(self.suite, importance=importance)

    @cached_property
    def sweep_test(self) -> StressTest:
        """The test on ``sweep_rows`` seeded sample rows: what the sweep and reverse stress score."""
        return self.test.subsample(self.parameters.sweep_rows)

    @cached_property
    def top_features(self) -> list[str]:
        """The ``sensitivity_features`` most important features: swept and reverse-stressed."""
        return list(self.importance["feature"][: self.parameters.sensitivity_features])

    @cached_property
    def curves(self) -> pd.DataFrame:
        """Sensitivity curves of :attr:`top_features` (one row per feature, family, magnitude, decision)."""
        return self.sweep_test.sensitivity(self.top_features)

    @cached_property
    def reverse(self) -> ReverseResult:
        """Reverse stress of :attr:`top_features`: the smallest breaking shocks."""
        return self.sweep_test.reverse_stress(self.top_features)

    @cached_property
    def monotone(self) -> dict[str, str]:
        """Features declared monotone: the parameter's, else the spec's, else the model's."""
        return declared_monotone(self.parameters.monotone, self.spec, self.setup)

    @cached_property
    def monotonicity(self) -> MonotonicityResult:
        """The ICE check of :attr:`monotone` on ``monotone_rows`` sampled rows."""
        return monotonicity(self.setup.model, self.data, self.monotone, sample_rows=self.parameters.monotone_rows,
                            seed=self.parameters.seed)

    # ------------------------------------------------------------ the report

    @cached_property
    def summary(self) -> Summary:
        """Status, headline, findings and provenance (:func:`~mlreport.stress.stress_summary`)."""
        run, _, reverse, monotone = self.scenario_run, self.curves, self.reverse, self.monotonicity
        setup = self.setup
        # After the curves and the reverse search: the shocks the model could not score in either.
        notes = self.sweep_test.sweep.unscorable_findings()
        return stress_summary(run, reverse=reverse, monotone=monotone, inputs=self.inputs.to_list(),
                              model=setup.model.name, rule=setup.rule, methods={"model": setup.description},
                              spec=self.spec, notes=notes)

    @property
    def findings(self) -> list[Finding]:
        """Every finding, worst first: scenarios, reverse stress, monotonicity."""
        return self.summary.findings

    @property
    def tables(self) -> Sections[Table]:
        """The report's tables by name (:data:`TABLES`), each captioned."""
        return self._tables

    @property
    def figures(self) -> Sections[Figure]:
        """The report's figures by name (:data:`FIGURES`), each titled."""
        return self._figures

    def _table(self, name: str) -> Table:
        return _report_table(self._frame(name), TABLES[name])

    def _frame(self, name: str) -> pd.DataFrame:
        """The frame behind table ``name``, rounded as the report shows it."""
        match name:
            case "overview":
                return self.test.overview()
            case "scenarios":
                return self.scenario_run.display_table()
            case "readouts":
                return self.scenario_run.readouts()
            case "segments":
                return self.scenario_run.segments.round(3).head(20)
            case "importance":
                return self.importance.round(4).head(20)
            case "reverse":
                return self.reverse.table.round(4)
            case "monotonicity":
                return self.monotonicity.table
            case "monotonicity_examples":
                return self.monotonicity.examples.round(4)
            case "definitions":
                return self.scenario_run.definitions
            case "provenance":
                return self.scenario_run.provenance()
        raise KeyError(name)


def _report_table(frame: pd.DataFrame, caption: str) -> Table:
    # As a notebook displays a DataFrame (mlreport.tables.register): at most 50 rows, the index only when it says
    # something (not a plain 0..n-1 range).
    keep_index = not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None
    return table(frame, caption=caption, index=keep_index, limit=50)
