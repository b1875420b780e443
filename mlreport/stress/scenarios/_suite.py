"""Stress scenario files: the format and its validation.

A scenario file (TOML or YAML) holds a list of scenarios; each names shocks to
apply to the population, an optional population filter, optional macro
variables and optional tolerances::

    [tolerance]                      # optional; else the run's tolerance applies
    max_rate_change_pp = 5.0         # any decision rate moving more fails

    [macro.elasticities.unemployment_pp]   # feature change per unit of the variable
    income = { relative = -0.01 }          # income -1% per pp of unemployment

    [[scenario]]
    name = "Recession"
    macro = { unemployment_pp = 3 }
    population = { channel = ["online", "mobile"], age = { ">=" = 25 } }
    shocks = [ { type = "set_missing", column = "bureau_score", share = 0.2 } ]

A scenario's ``macro`` table sets named macro variables; the file's
``[macro.elasticities.<variable>]`` tables map one unit of each onto relative,
absolute or quantile shocks of columns (see :func:`~mlreport.stress.scenarios.resolve`).

Shocks are defined in ``_shocks.py``, filters in ``_filters.py`` and
tolerances in ``_tolerance.py``. A parsed suite is checked against the data by
:func:`~mlreport.stress.scenarios.resolve` (``_resolve.py``) and applied by
:func:`~mlreport.stress.scenarios.apply_scenario` (``_apply.py``), with
reference statistics from :class:`~mlreport.stress.scenarios.Reference`
(``_reference.py``).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from ...data import InputLog, InputRecord, record_bytes
from ...errors import ScenarioError
from ._checks import _check_keys, _number
from ._filters import Filter, parse_filter
from ._shocks import Shock, _parse_shock
from ._tolerance import parse_tolerance

__all__ = [
    "MACRO_FAMILIES",
    "Scenario",
    "ScenarioSuite",
    "parse_scenarios",
    "load_scenarios",
]

# Families a macro elasticity may map onto, applied in this order.
MACRO_FAMILIES = ("quantile_shift", "relative", "absolute")


@dataclass(frozen=True)
class Scenario:
    """A scenario as written in the file (selectors and macro unresolved)."""

    name: str
    description: str = ""
    shocks: tuple[Shock, ...] = ()
    macro: Mapping[str, float] = field(default_factory=dict)
    population: Filter | None = None
    tolerance: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ScenarioSuite:
    """A validated scenario file: scenarios, elasticities, tolerance, provenance.

    ``sha256`` covers what ``hash_of`` says: ``"file"``, the bytes of the file
    :func:`load_scenarios` read (and parsed); ``"text"``, the UTF-8 of the
    text given to :func:`parse_scenarios` (the built-in suite).
    """

    scenarios: tuple[Scenario, ...]
    path: str
    sha256: str
    text: str
    tolerance: Mapping[str, Any] | None = None
    elasticities: Mapping[str, Mapping[str, Mapping[str, float]]] = field(default_factory=dict)
    macro_variables: Mapping[str, str] = field(default_factory=dict)
    missing_columns: str = "error"
    hash_of: str = "text"

    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]


_TOP_KEYS = ("version", "description", "tolerance", "macro", "scenario", "scenarios")
_SCENARIO_KEYS = ("name", "description", "shocks", "macro", "population", "tolerance")


def _parse_macro(spec: Any, *, context: str) -> tuple[dict, dict, str]:
    if not isinstance(spec, Mapping):
        raise ScenarioError(f"{context}: [macro] must be a table")
    _check_keys(spec, (), ("variables", "elasticities", "missing_columns"), context)
    variables = spec.get("variables", {})
    if not isinstance(variables, Mapping) or not all(isinstance(v, str) for v in variables.values()):
        raise ScenarioError(f"{context}: macro.variables must map names to descriptions")
    missing_columns = spec.get("missing_columns", "error")
    if missing_columns not in ("error", "skip"):
        raise ScenarioError(f"{context}: missing_columns must be \"error\" or \"skip\", got {missing_columns!r}")
    elasticities: dict[str, dict[str, dict[str, float]]] = {}
    table = spec.get("elasticities", {})
    if not isinstance(table, Mapping):
        raise ScenarioError(f"{context}: macro.elasticities must be a table per macro variable")
    for variable, columns in table.items():
        where = f"{context} elasticities.{variable}"
        if not isinstance(columns, Mapping) or not columns:
            raise ScenarioError(f"{where}: expected a table {{column = {{relative = e}}}}")
        elasticities[str(variable)] = {}
        for column, families in columns.items():
            if not isinstance(families, Mapping) or not families:
                raise ScenarioError(f"{where}.{column}: expected {{relative|absolute|quantile_shift = e}}")
            for family, coefficient in families.items():
                if family not in MACRO_FAMILIES:
                    raise ScenarioError(
                        f"{where}.{column}: unknown elasticity type {family!r}; expected one of "
                        f"{', '.join(MACRO_FAMILIES)}"
                    )
                if not _number(coefficient):
                    raise ScenarioError(f"{where}.{column}.{family}: must be a number, got {coefficient!r}")
            elasticities[str(variable)][str(column)] = {k: float(v) for k, v in families.items()}
    return elasticities, dict(variables), missing_columns


def parse_scenarios(text: str, *, fmt: str = "toml", path: str = "<string>") -> ScenarioSuite:
    """Parse and validate scenario file text (``fmt`` "toml" or "yaml").

    Validates everything that does not need the data: keys, shock types,
    magnitudes, filters, macro variables against the elasticity table.
    Column names are checked against the data by :func:`resolve`.
    """
    where = f"scenario file {path}"
    try:
        if fmt == "toml":
            document = tomllib.loads(text)
        elif fmt == "yaml":
            import yaml

            document = yaml.safe_load(text)
        else:
            raise ScenarioError(f"{where}: unknown format {fmt!r}; expected toml or yaml", path=path)
    except ScenarioError:
        raise
    except Exception as exc:  # TOMLDecodeError, YAMLError: report position and cause
        raise ScenarioError(f"{where}: not valid {fmt.upper()}: {exc}", path=path) from None
    if not isinstance(document, Mapping):
        raise ScenarioError(f"{where}: expected a table at the top level", path=path)
    try:
        return _parse_document(document, text=text, path=path)
    except ScenarioError as exc:
        if exc.path is None:
            exc.path = path
        raise


def _parse_document(document: Mapping[str, Any], *, text: str, path: str) -> ScenarioSuite:
    where = f"scenario file {path}"
    _check_keys(document, (), _TOP_KEYS, where)
    if "scenario" in document and "scenarios" in document:
        raise ScenarioError(f"{where}: give either 'scenario' or 'scenarios', not both")
    entries = document.get("scenario", document.get("scenarios"))
    if not isinstance(entries, list) or not entries:
        raise ScenarioError(f"{where}: no scenarios; add [[scenario]] tables with a name and shocks")
    tolerance = document.get("tolerance")
    if tolerance is not None:
        parse_tolerance(tolerance, context=f"{where} [tolerance]")
    elasticities, variables, missing_columns = _parse_macro(
        document.get("macro", {}), context=f"{where} [macro]"
    )
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise ScenarioError(f"{where}: scenario #{number} must be a table")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ScenarioError(f"{where}: scenario #{number} needs a non-empty name")
        context = f"{where}, scenario {name!r}"
        if name in seen:
            raise ScenarioError(f"{context}: duplicate scenario name", scenario=name)
        seen.add(name)
        try:
            _check_keys(entry, ("name",), _SCENARIO_KEYS, context)
            shocks_spec = entry.get("shocks", [])
            if not isinstance(shocks_spec, list):
                raise ScenarioError(f"{context}: shocks must be a list of tables")
            shocks = tuple(
                _parse_shock(spec, context=f"{context} shock #{i}")
                for i, spec in enumerate(shocks_spec, start=1)
            )
            macro = entry.get("macro", {})
            if not isinstance(macro, Mapping):
                raise ScenarioError(f"{context}: macro must be a table {{variable = level}}")
            for variable, level in macro.items():
                if variable not in elasticities:
                    known = ", ".join(elasticities) or "none declared"
                    raise ScenarioError(
                        f"{context}: macro variable {variable!r} has no elasticities in "
                        f"[macro.elasticities]; known: {known}"
                    )
                if not _number(level):
                    raise ScenarioError(f"{context}: macro {variable} must be a number, got {level!r}")
            if not shocks and not macro:
                raise ScenarioError(f"{context}: no shocks and no macro variables")
            scenario_tolerance = entry.get("tolerance")
            if scenario_tolerance is not None:
                parse_tolerance(scenario_tolerance, context=f"{context} tolerance")
            description = entry.get("description", "")
            if not isinstance(description, str):
                raise ScenarioError(f"{context}: description must be text")
            scenarios.append(
                Scenario(
                    name=name,
                    description=description,
                    shocks=shocks,
                    macro={str(k): float(v) for k, v in macro.items()},
                    population=parse_filter(entry.get("population"), context=f"{context} population"),
                    tolerance=scenario_tolerance,
                )
            )
        except ScenarioError as exc:
            exc.scenario = name
            raise
    return ScenarioSuite(
        scenarios=tuple(scenarios),
        path=path,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        text=text,
        tolerance=tolerance,
        elasticities=elasticities,
        macro_variables=variables,
        missing_columns=missing_columns,
    )


BUILTIN_SCENARIOS = "default_scenarios.toml"


def load_scenarios(path: str | None = None, *, log: InputLog | None = None) -> ScenarioSuite:
    """Read and validate a scenario file; ``None`` or "" is the built-in suite.

    The format follows the extension: ``.toml``, or ``.yaml`` / ``.yml``. The
    file is read once: the bytes parsed are the bytes hashed, recorded in
    ``log`` (name ``"scenarios"``, ``hash_of`` ``"file"``) and in the suite's
    ``sha256``, so a rerun can tell when the file changed since. The built-in
    suite is recorded by the sha256 of its text (``hash_of`` ``"text"``).
    """
    if not path:
        text = resources.files(__package__).joinpath(BUILTIN_SCENARIOS).read_text("utf-8")
        suite = parse_scenarios(text, fmt="toml", path=f"mlreport/stress/scenarios/{BUILTIN_SCENARIOS} (built-in)")
        if log is not None:
            log.add(InputRecord(name="scenarios", path=suite.path, sha256=suite.sha256, hash_of="text",
                                bytes=len(text.encode("utf-8")), rows=None, columns=None))
        return suite
    lowered = path.lower()
    if lowered.endswith(".toml"):
        fmt = "toml"
    elif lowered.endswith((".yaml", ".yml")):
        fmt = "yaml"
    else:
        raise ScenarioError(f"scenario file {path}: expected a .toml, .yaml or .yml file", path=path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ScenarioError(f"scenario file {path}: cannot read: {exc.strerror}", path=path) from None
    record = record_bytes(raw, name="scenarios", path=path, log=log)
    try:
        # Newlines as a text-mode read gives them (universal newlines), so positions in errors are the same.
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"scenario file {path}: not UTF-8 text (byte {exc.start}); save it as UTF-8", path=path
        ) from None
    suite = parse_scenarios(text, fmt=fmt, path=path)
    return replace(suite, sha256=record.sha256, hash_of="file")
