"""The volume notebook's parameters as one checked value: :class:`VolumeParameters`.

One field per line of the notebook's ``parameters`` cell, with its name, type
and default (a test holds them equal), so that a notebook, the CLI and a
Python caller hand :func:`~mlreport.volume.analyse` the same thing.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from ..analysis import AnalysisParameters
from ..backends import backend_names
from ..errors import ParameterError
from ..sample import INCIDENTS
from ._config import VolumeConfig, config_from_parameters

if TYPE_CHECKING:
    from ..spec import ModelSpec

__all__ = ["VolumeParameters"]

_KINDS: dict[str, type[str] | type[list[Any]] | type[dict[str, Any]]] = {
    "data_path": str, "spec_path": str, "timestamp_column": str, "decision_column": str, "segment_columns": list,
    "score_column": str, "override_column": str, "decision_labels": list, "period": str, "baseline_mode": str,
    "analysis_start": str, "analysis_end": str, "holidays": list, "timezone": str, "thresholds": dict,
    "backend": str, "backend_options": dict, "sample_incidents": list,
}
"""The type of each text, list and dict parameter."""

_NUMBERS = ("baseline_weeks", "sample_rows", "seed")
"""Parameters that hold numbers (whole numbers: checked by their own rules)."""


def _default_incidents() -> list[str]:
    return ["channel_outage", "approval_jump"]


@dataclass(frozen=True)
class VolumeParameters(AnalysisParameters):
    """The parameters of the volume report, checked when made.

    ``data_path``
        decision log: CSV or Parquet file, glob or folder; empty means the
        built-in sample data (``sample_rows``, ``sample_incidents``, ``seed``).
    ``spec_path``
        model spec (TOML) naming the columns, with ``[thresholds.volume]``
        overrides; empty means none (the sample's own spec for the sample).
    ``timestamp_column``, ``decision_column``, ``segment_columns``, ``score_column``, ``decision_labels``
        column roles; empty means from the spec, else inferred.
    ``override_column``
        override flag (0/1) or final manual decision column; empty means none.
    ``period``, ``baseline_weeks``, ``baseline_mode``, ``analysis_start``, ``analysis_end``, ``holidays``, ``timezone``
        the windows and period grid (:class:`~mlreport.volume.VolumeConfig`).
    ``thresholds``
        overrides of :class:`~mlreport.volume.VolumeConfig`, e.g. ``{"cusum_h": 6}``.
    ``backend``, ``backend_options``
        what counts the decisions (:func:`mlreport.backends.open_backend`).

    Every value is checked here (a :class:`~mlreport.errors.ParameterError`
    naming the parameter): types, the window and period parameters with
    :class:`~mlreport.volume.VolumeConfig`'s own checks, the names in
    ``thresholds``, the backend's name, and the sample's parameters when the
    sample is used. The values in ``thresholds`` are checked when the
    analysis merges them over the model spec's policy (:meth:`config`), since
    the spec may move the bounds they are checked against. ``None`` for a
    text, list or dict parameter (a JSON ``null``) means "not given", as an
    empty value does.
    """

    data_path: str = ""
    spec_path: str = ""
    timestamp_column: str = ""
    decision_column: str = ""
    segment_columns: list[str] = field(default_factory=list)
    score_column: str = ""
    override_column: str = ""
    decision_labels: list[str] = field(default_factory=list)
    period: str = "auto"
    baseline_weeks: int = 4
    baseline_mode: str = "fixed"
    analysis_start: str = ""
    analysis_end: str = ""
    holidays: list[str] = field(default_factory=list)
    timezone: str = ""
    thresholds: dict[str, Any] = field(default_factory=dict)
    backend: str = "pandas"
    backend_options: dict[str, Any] = field(default_factory=dict)
    sample_rows: int = 50000
    sample_incidents: list[str] = field(default_factory=_default_incidents)
    seed: int = 7

    def __post_init__(self) -> None:
        self._check_types()
        if not self.data_path:
            self._check_sample()
        if self.backend not in ("auto", *backend_names()):
            raise ParameterError(
                f"parameter 'backend': {self.backend!r}; expected one of {', '.join(backend_names())} or auto",
                name="backend",
            )
        if not all(isinstance(key, str) for key in self.backend_options):
            raise ParameterError(
                f"parameter 'backend_options': expected a dict of settings such as "
                f'{{"threads": 2, "memory_limit": "4GB"}}, got {self.backend_options!r}',
                name="backend_options",
            )
        VolumeConfig.check_names(self.thresholds)
        # The window and period parameters come last in the policy: checked on the default one.
        config_from_parameters(None, None, **self._grid())

    def config(self, spec: ModelSpec | None) -> VolumeConfig:
        """The analysis' policy: the spec's ``[thresholds.volume]``, then ``thresholds``, then the window parameters.

        :func:`~mlreport.volume.config_from_parameters`: empty values mean "not given".
        """
        return config_from_parameters(spec, self.thresholds, **self._grid())

    def _grid(self) -> dict[str, Any]:
        """The window and period parameters, by name."""
        return {
            "period": self.period, "baseline_weeks": self.baseline_weeks, "baseline_mode": self.baseline_mode,
            "analysis_start": self.analysis_start, "analysis_end": self.analysis_end, "holidays": self.holidays,
            "timezone": self.timezone,
        }

    def _check_types(self) -> None:
        """Each parameter holds its type: text, list, dict or number (None becomes the empty value, a tuple a list)."""
        for item in fields(self):
            kind = _KINDS.get(item.name)
            if kind is None:
                continue
            value = getattr(self, item.name)
            if value is None:
                object.__setattr__(self, item.name, kind())
            elif kind is list and isinstance(value, tuple):
                object.__setattr__(self, item.name, list(value))
            elif not isinstance(value, kind):
                raise ParameterError(
                    f"parameter {item.name!r}: {value!r} has the wrong type; expected {kind.__name__}",
                    name=item.name,
                )
        for name in _NUMBERS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ParameterError(f"parameter {name!r}: {value!r} has the wrong type; expected int", name=name)

    def _check_sample(self) -> None:
        """The built-in sample's parameters, as :func:`mlreport.sample.generate` would refuse them."""
        for name, minimum in (("sample_rows", 1), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
                raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}", name=name)
        unknown = [name for name in self.sample_incidents if name not in INCIDENTS]
        if unknown:
            raise ParameterError(
                f"unknown incident(s) {unknown} in sample_incidents; valid incidents are: {', '.join(INCIDENTS)}",
                name="sample_incidents",
            )

