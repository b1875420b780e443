"""The stress analysis: the model under scenarios, sensitivity, reverse stress and monotonicity.

The one call a notebook makes (the shape of :mod:`mlreport.analysis`)::

    result = stress.analyse(stress.StressParameters.from_namespace(globals()))
    result.tables["scenarios"]            # a section's table (TABLES names them)
    show(result.figures["sensitivity"])   # a section's figure (FIGURES)
    publish(result.summary)               # the last cell

and the parts it is made of, each usable alone: a :class:`Population` (model,
decision rule and data scored once at baseline) that a :class:`ScenarioRunner`,
a :class:`SensitivitySweep`, a :class:`ReverseStress` bisector and
:func:`permutation_importance` take explicitly; :class:`StressTest` puts them
together. Scenario files, shocks and tolerances are in :mod:`mlreport.stress.scenarios`.
"""

from __future__ import annotations

from . import scenarios
from ._analysis import FIGURES, TABLES, StressResult, analyse
from ._importance import permutation_importance
from ._models import (
    DEFAULT_BATCH_SIZE,
    DecisionRule,
    Model,
    ModelDecisions,
    ModelSetup,
    default_model,
    load_model,
    setup_model,
)
from ._monotonicity import MonotonicityResult, check_directions, monotonicity
from ._parameters import StressParameters
from ._plots import ice_chart, reverse_chart, scenario_chart, sensitivity_chart
from ._population import Evaluation, Population, default_segments
from ._readouts import SECTIONS, LossModel, paired_rate_change, roc_auc
from ._reverse import ReverseResult, ReverseStress
from ._scenario_run import UNSCORABLE, ScenarioReadout, ScenarioRun, ScenarioRunner
from ._scoring import ScoringFailure
from ._sensitivity import CATEGORICAL_FAMILIES, DEFAULT_GRIDS, NUMERIC_FAMILIES, SensitivitySweep, Shocked
from ._settings import DEFAULT_LOSS_INCREASE_PCT, DEFAULT_TOLERANCE_PP, declared_monotone, run_tolerance
from ._stress import StressTest
from ._summary import stress_headline, stress_summary

__all__ = [
    "StressParameters",
    "StressResult",
    "analyse",
    "TABLES",
    "FIGURES",
    "StressTest",
    "Population",
    "Evaluation",
    "ScoringFailure",
    "UNSCORABLE",
    "ScenarioRunner",
    "ScenarioReadout",
    "SensitivitySweep",
    "Shocked",
    "ReverseStress",
    "permutation_importance",
    "run_tolerance",
    "declared_monotone",
    "DEFAULT_TOLERANCE_PP",
    "DEFAULT_LOSS_INCREASE_PCT",
    "stress_headline",
    "stress_summary",
    "MonotonicityResult",
    "check_directions",
    "monotonicity",
    "scenario_chart",
    "sensitivity_chart",
    "reverse_chart",
    "ice_chart",
    "default_segments",
    "SECTIONS",
    "LossModel",
    "paired_rate_change",
    "roc_auc",
    "ReverseResult",
    "ScenarioRun",
    "DEFAULT_GRIDS",
    "NUMERIC_FAMILIES",
    "CATEGORICAL_FAMILIES",
    "DEFAULT_BATCH_SIZE",
    "Model",
    "DecisionRule",
    "ModelDecisions",
    "ModelSetup",
    "load_model",
    "default_model",
    "setup_model",
    "scenarios",
]
