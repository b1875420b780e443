"""The stress analysis: the model under scenarios, sensitivity, reverse stress and monotonicity."""

from __future__ import annotations

from . import scenarios
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
from ._plots import ice_chart, reverse_chart, scenario_chart, sensitivity_chart
from ._population import default_segments
from ._readouts import SECTIONS, LossModel, paired_rate_change, roc_auc
from ._reverse import ReverseResult
from ._scenario_run import ScenarioRun
from ._sensitivity import CATEGORICAL_FAMILIES, DEFAULT_GRIDS, NUMERIC_FAMILIES
from ._stress import StressTest, declared_monotone, run_tolerance, stress_headline, stress_summary

__all__ = [
    "StressTest",
    "run_tolerance",
    "declared_monotone",
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
