"""Stress scenarios: the file format, shocks, filters, tolerances and applying them to a frame."""

from __future__ import annotations

from ._apply import apply_scenario, apply_shock, scenario_rng
from ._checks import is_numeric
from ._filters import Condition, Filter, parse_filter
from ._reference import ColumnReference, Reference
from ._resolve import ResolvedScenario, resolve
from ._shocks import SELECTORS, SHOCK_TYPES, UNSEEN, Shock
from ._suite import MACRO_FAMILIES, Scenario, ScenarioSuite, load_scenarios, parse_scenarios
from ._tolerance import Tolerance, parse_tolerance

__all__ = [
    "MACRO_FAMILIES",
    "Scenario",
    "ScenarioSuite",
    "parse_scenarios",
    "load_scenarios",
    "apply_shock",
    "apply_scenario",
    "scenario_rng",
    "is_numeric",
    "Condition",
    "Filter",
    "parse_filter",
    "ColumnReference",
    "Reference",
    "ResolvedScenario",
    "resolve",
    "SHOCK_TYPES",
    "SELECTORS",
    "UNSEEN",
    "Shock",
    "Tolerance",
    "parse_tolerance",
]
