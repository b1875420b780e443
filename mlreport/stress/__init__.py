"""The stress analysis: the model under scenarios, sensitivity, reverse stress and monotonicity."""

from __future__ import annotations

from ._stress import StressTest, run_tolerance, declared_monotone, stress_headline, stress_summary
from ._monotonicity import MonotonicityResult, check_directions, monotonicity
from ._plots import scenario_chart, sensitivity_chart, reverse_chart, ice_chart
from ._population import default_segments
from ._readouts import SECTIONS, LossModel, paired_rate_change, roc_auc
from ._reverse import ReverseResult
from ._scenario_run import ScenarioRun
from ._sensitivity import DEFAULT_GRIDS, NUMERIC_FAMILIES, CATEGORICAL_FAMILIES
from ._models import (
    DEFAULT_BATCH_SIZE,
    Model,
    DecisionRule,
    ModelDecisions,
    ModelSetup,
    load_model,
    default_model,
    setup_model,
)
from . import scenarios

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
