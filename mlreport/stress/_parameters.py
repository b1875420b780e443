"""The stress notebook's parameters, as one checked value.

:class:`StressParameters` has one field per line of the notebook's
``parameters`` cell, with the same name, type and default; ``""``, ``[]``,
``{}`` and ``0`` mean "use what is known" as the notebook's comments say
(the model spec, the built-in model, the defaults). ``None`` for a text, list
or table parameter (which the driver lets through) means the same as empty.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from ..analysis import AnalysisParameters
from ..errors import ModelError, ParameterError
from ._models import DecisionRule
from ._monotonicity import check_directions
from ._settings import check_loss_tolerance_pct, check_tolerance_pp

__all__ = ["StressParameters"]


@dataclass(frozen=True)
class StressParameters(AnalysisParameters):
    """The parameters of a stress run (see the notebook's ``parameters`` cell for each one's meaning).

    Checked when made: a :class:`~mlreport.errors.ParameterError` names the
    parameter and says what was expected. Decision ``thresholds`` are checked
    as the decision rule checks them (a :class:`~mlreport.errors.ModelError`,
    as when the rule is built).
    """

    data_path: str = ""
    model: str = ""
    trust_model_file: bool = False
    spec_path: str = ""
    thresholds: dict[str, float] = field(default_factory=dict)
    otherwise_label: str = "decline"
    features: list[str] = field(default_factory=list)
    label_column: str = ""
    exposure_column: str = ""
    lgd: float = 0.45
    scenarios_path: str = ""
    tolerance_pp: float = 0.0
    loss_tolerance_pct: float = 0.0
    segments: list[str] = field(default_factory=list)
    sensitivity_features: int = 5
    sweep_rows: int = 5000
    monotone: dict[str, str] = field(default_factory=dict)
    monotone_rows: int = 200
    seed: int = 0
    sample_rows: int = 20000

    def __post_init__(self) -> None:
        for spec in fields(self):
            kind = str(spec.type).partition("[")[0]  # "dict[str, float]" -> "dict", as the driver reads defaults
            value = getattr(self, spec.name)
            if value is None and kind in _EMPTY:
                value = _EMPTY[kind]()
            elif kind == "list" and isinstance(value, tuple):
                value = list(value)
            _check_kind(spec.name, value, kind)
            object.__setattr__(self, spec.name, value)
        for name, smallest in (("sensitivity_features", 0), ("sweep_rows", 1), ("monotone_rows", 1),
                               ("sample_rows", 1), ("seed", 0)):
            if getattr(self, name) < smallest:
                raise ParameterError(
                    f"parameter {name!r}: {getattr(self, name)!r}; expected a whole number >= {smallest}", name=name
                )
        if not math.isfinite(self.lgd) or self.lgd < 0:
            raise ParameterError(f"parameter 'lgd': {self.lgd!r}; expected a share of exposure >= 0", name="lgd")
        check_tolerance_pp(self.tolerance_pp)
        check_loss_tolerance_pct(self.loss_tolerance_pct)
        check_directions(self.monotone)
        if self.thresholds:
            try:
                DecisionRule(self.thresholds, otherwise=self.otherwise_label)
            except ModelError as exc:
                # The rule's own error type, as when the model setup builds it; named after the parameter.
                raise ModelError(f"parameter 'thresholds': {exc}") from None


#: What an empty text, list or table parameter is (``None`` stands for it).
_EMPTY: dict[str, Callable[[], object]] = {"str": str, "list": list, "dict": dict}

_EXPECTED = {
    "str": "text", "bool": "true or false", "float": "a number", "int": "a whole number",
    "list": "a list of column names", "dict": "a table",
}


def _check_kind(name: str, value: object, kind: str) -> None:
    """A ParameterError unless ``value`` is of ``kind`` (lists of text; tables with text keys)."""
    if kind == "str":
        ok = isinstance(value, str)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "list":
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    else:
        ok = isinstance(value, dict) and all(isinstance(key, str) for key in value)
    if not ok:
        raise ParameterError(f"parameter {name!r}: {value!r}; expected {_EXPECTED[kind]}", name=name)
