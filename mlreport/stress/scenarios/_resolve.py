"""Resolving a scenario suite against the data and the model's features.

:func:`resolve` checks the columns, expands selectors, turns macro variables
into shocks and sets each scenario's tolerance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from ...errors import ScenarioError
from ._checks import is_numeric
from ._filters import Filter
from ._shocks import _CATEGORICAL_ONLY, _NUMERIC_ONLY, _VALUE_KEYWORDS, SELECTORS, Shock
from ._suite import MACRO_FAMILIES, ScenarioSuite
from ._tolerance import Tolerance, parse_tolerance

__all__ = ["ResolvedScenario", "resolve"]


@dataclass(frozen=True)
class ResolvedScenario:
    """A scenario ready to apply: concrete columns, macro expanded, tolerance set."""

    name: str
    description: str
    shocks: tuple[Shock, ...]
    population: Filter | None
    tolerance: Tolerance
    notes: tuple[str, ...] = ()
    applicable: bool = True
    macro: Mapping[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        text = "; ".join(s.describe() for s in self.shocks) or "no shocks"
        if self.population is not None:
            text += f" (population: {self.population.describe()})"
        return text


def _selected(
    selector: str,
    kind: str,
    frame: pd.DataFrame,
    features: Sequence[str],
    importance: Sequence[str] | None,
) -> list[str]:
    numeric = [f for f in features if is_numeric(frame[f])]
    categorical = [f for f in features if not is_numeric(frame[f])]
    if kind in _NUMERIC_ONLY:
        categorical = []
    if kind in _CATEGORICAL_ONLY:
        numeric = []
    if selector == "@numeric":
        return numeric
    if selector == "@categorical":
        return categorical
    if selector == "@all":
        return [f for f in features if f in numeric or f in categorical]
    pool = numeric if selector == "@top_numeric" else categorical
    order = [f for f in (importance or features) if f in pool]
    return order[:1]


def _check_column(shock: Shock, frame: pd.DataFrame, context: str) -> None:
    if shock.column not in frame.columns:
        raise ScenarioError(f"{context}: column {shock.column!r} is not in the data")
    numeric = is_numeric(frame[shock.column])
    if shock.kind in _NUMERIC_ONLY and not numeric:
        raise ScenarioError(
            f"{context}: a {shock.kind} shock needs a numeric column; {shock.column!r} is "
            f"{frame[shock.column].dtype}"
        )
    if shock.kind in _CATEGORICAL_ONLY and numeric:
        raise ScenarioError(
            f"{context}: a {shock.kind} shock needs a categorical column; {shock.column!r} is numeric"
        )
    if shock.kind == "set_value" and shock.value in ("mean", "median") and not numeric:
        raise ScenarioError(f"{context}: value {shock.value!r} needs a numeric column, not {shock.column!r}")
    if shock.kind == "set_value" and numeric and isinstance(shock.value, str) and shock.value not in _VALUE_KEYWORDS:
        raise ScenarioError(
            f"{context}: value {shock.value!r} for numeric column {shock.column!r}; expected a "
            f"number or one of {', '.join(_VALUE_KEYWORDS)}"
        )
    if shock.where is not None:
        for column in shock.where.columns:
            if column not in frame.columns:
                raise ScenarioError(f"{context}: filter column {column!r} is not in the data")


def resolve(
    suite: ScenarioSuite,
    *,
    frame: pd.DataFrame,
    features: Sequence[str],
    importance: Sequence[str] | None = None,
    tolerance: Tolerance | None = None,
) -> list[ResolvedScenario]:
    """Check a suite against the data and expand selectors and macro variables.

    ``features`` are the model's features (selectors choose among them);
    ``importance`` orders them most important first for ``@top_*``. Tolerance
    precedence: a scenario's own table, else the file's ``[tolerance]``, else
    ``tolerance`` (the run's). Macro elasticities are added up per column and
    family (a first-order, not compounded, combination) and applied in the
    order quantile_shift, relative, absolute, before the scenario's own shocks.
    A scenario whose selectors match no column, or whose macro columns are all
    absent under ``missing_columns = "skip"``, is marked not applicable.
    """
    base = tolerance or Tolerance()
    if suite.tolerance is not None:
        base = parse_tolerance(suite.tolerance, context=f"scenario file {suite.path} [tolerance]", base=base)
    resolved: list[ResolvedScenario] = []
    for scenario in suite.scenarios:
        context = f"scenario file {suite.path}, scenario {scenario.name!r}"
        notes: list[str] = []
        shocks: list[Shock] = []
        try:
            if scenario.population is not None:
                for column in scenario.population.columns:
                    if column not in frame.columns:
                        raise ScenarioError(f"{context}: population filter column {column!r} is not in the data")
            combined: dict[tuple[str, str], float] = {}
            for variable, level in scenario.macro.items():
                for column, families in suite.elasticities[variable].items():
                    if column not in frame.columns:
                        if suite.missing_columns == "error":
                            raise ScenarioError(
                                f"{context}: macro variable {variable!r} maps onto column "
                                f"{column!r}, which is not in the data"
                            )
                        notes.append(f"{variable}: column {column} not in the data, skipped")
                        continue
                    for family, coefficient in families.items():
                        key = (column, family)
                        combined[key] = combined.get(key, 0.0) + coefficient * level
            for family in MACRO_FAMILIES:
                for (column, kind), by in combined.items():
                    if kind == family and by != 0:
                        if kind == "quantile_shift":
                            by = min(max(by, -1.0), 1.0)
                        if kind == "relative":
                            by = max(by, -1.0)
                        shock = Shock(kind=kind, column=column, by=by)
                        _check_column(shock, frame, context)
                        shocks.append(shock)
            if scenario.macro and not combined:
                notes.append("no macro elasticity column is in the data")
            for number, shock in enumerate(scenario.shocks, start=1):
                where = f"{context} shock #{number}"
                if shock.column in SELECTORS:
                    columns = _selected(shock.column, shock.kind, frame, features, importance)
                    if not columns:
                        notes.append(f"shock #{number}: {shock.column} matches no {shock.kind} feature")
                    if shock.column.startswith("@top") and importance is None and columns:
                        notes.append(f"{shock.column} without importance: first such feature, {columns[0]}")
                    for column in columns:
                        concrete = replace(shock, column=column)
                        _check_column(concrete, frame, where)
                        shocks.append(concrete)
                else:
                    _check_column(shock, frame, where)
                    if shock.column not in features:
                        notes.append(f"{shock.column} is not a model feature: it cannot move scores")
                    shocks.append(shock)
            scenario_tolerance = base
            if scenario.tolerance is not None:
                scenario_tolerance = parse_tolerance(scenario.tolerance, context=f"{context} tolerance", base=base)
        except ScenarioError as exc:
            exc.scenario, exc.path = scenario.name, suite.path
            raise
        resolved.append(
            ResolvedScenario(
                name=scenario.name,
                description=scenario.description,
                shocks=tuple(shocks),
                population=scenario.population,
                tolerance=scenario_tolerance,
                notes=tuple(notes),
                applicable=bool(shocks),
                macro=dict(scenario.macro),
            )
        )
    return resolved
