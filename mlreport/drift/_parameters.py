"""The drift notebook's parameters: one field each, checked when they are made."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import sample, stats
from ..analysis import AnalysisParameters
from ..backends import backend_names, naive_utc
from ..errors import ParameterError
from ._multivariate import MIN_ROWS

__all__ = ["DriftParameters", "AUTO", "PERIODS", "THRESHOLD_MODES", "DEFAULT_SAMPLE_INCIDENTS", "chunk_rows"]

PERIODS = ("D", "W", "M")
"""Periods by date: day, week (from Monday), month. A number of rows per chunk is the other kind."""

AUTO = "auto"
"""The default period: chosen from the data and the backend (``_period_choice``)."""

THRESHOLD_MODES = ("fixed", "learned")

DEFAULT_SAMPLE_INCIDENTS = ("utilisation_zero", "bureau_timeout_nulls", "income_shift")
"""The incidents the built-in sample carries by default: a defaulted feature, a timeout, a real shift."""

Bound = pd.Timestamp | None


def chunk_rows(period: str) -> int | None:
    """Rows per chunk when ``period`` is a number of rows, None for auto, D, W or M.

    Anything else is a :class:`~mlreport.errors.ParameterError` naming ``period``.
    """
    if period in PERIODS or period == AUTO:
        return None
    try:
        size = int(period)
    except (TypeError, ValueError):
        raise ParameterError(
            f"parameter 'period': {period!r}; expected D, W, M or a number of rows, or auto", name="period"
        ) from None
    if size < 1:
        raise ParameterError(f"parameter 'period': {size}; a chunk needs at least 1 row", name="period")
    return size


def _whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class DriftParameters(AnalysisParameters):
    """The parameters of ``notebooks/drift.ipynb``: same names, defaults and meaning.

    Paths and windows
        ``reference_path`` and ``current_path`` (CSV or Parquet file, glob or
        folder; both empty for the built-in sample, ``current_path`` empty to
        cut one source by dates), ``reference_start`` / ``reference_end`` /
        ``current_start`` / ``current_end`` (ISO dates, end exclusive),
        ``spec_path``, ``timestamp_column``, ``model``.
    Drift
        ``period`` (``"auto"``, ``"D"``, ``"W"``, ``"M"`` or a number of rows
        per chunk; a number is kept as text, ``"5000"``; ``"auto"`` and a
        period that cannot apply are chosen from the data, see
        ``_period_choice``), ``psi_bins``,
        ``threshold_mode`` (``"fixed"`` or ``"learned"``) and ``learned_k``,
        ``correction``, the threshold overrides ``drift_thresholds``,
        ``integrity_thresholds`` and ``performance_thresholds``,
        ``reference_profile`` (load) and ``save_profile``.
    Computation
        ``backend`` and ``backend_options``, ``row_sample`` (rows per window
        held in memory when the backend is not pandas), ``classifier_sample``
        and ``seed`` (the domain classifier).
    Built-in sample
        ``sample_rows``, ``sample_incidents``, ``sample_seed``.

    A bad value is a :class:`~mlreport.errors.ParameterError` naming the
    parameter. A parameter is checked where it is used, as the notebook did:
    ``psi_bins`` when a profile is fitted (not loaded), ``learned_k`` when
    thresholds are learned, the sample's parameters when there is no
    ``reference_path``. The threshold overrides must be dicts; their contents
    are checked against the spec's when they are merged.
    """

    reference_path: str = ""
    current_path: str = ""
    reference_start: str = ""
    reference_end: str = ""
    current_start: str = ""
    current_end: str = ""
    spec_path: str = ""
    timestamp_column: str = ""
    model: str = ""
    period: str = AUTO
    psi_bins: int = 10
    threshold_mode: str = "fixed"
    learned_k: float = 3.0
    correction: str = "fdr_bh"
    drift_thresholds: dict[str, Any] = field(default_factory=dict)
    integrity_thresholds: dict[str, Any] = field(default_factory=dict)
    performance_thresholds: dict[str, Any] = field(default_factory=dict)
    reference_profile: str = ""
    save_profile: str = ""
    backend: str = "pandas"
    backend_options: dict[str, Any] = field(default_factory=dict)
    row_sample: int = 200000
    classifier_sample: int = 20000
    seed: int = 0
    sample_rows: int = 60000
    sample_incidents: list[str] = field(default_factory=lambda: list(DEFAULT_SAMPLE_INCIDENTS))
    sample_seed: int = 7

    def __post_init__(self) -> None:
        for name in ("reference_path", "current_path", "spec_path", "timestamp_column", "model",
                     "reference_profile", "save_profile"):
            if not isinstance(getattr(self, name), str):
                raise ParameterError(f"parameter {name!r}: {getattr(self, name)!r}; expected text", name=name)
        if self.current_path and not self.reference_path:
            raise ParameterError(
                "current_path was given without reference_path: name the reference data too", name="reference_path"
            )
        self.window_bounds()
        self._check_period()
        if not self.reference_profile and (not _whole_number(self.psi_bins) or self.psi_bins < 2):
            raise ParameterError(f"parameter 'psi_bins': {self.psi_bins} bins; expected at least 2", name="psi_bins")
        if self.threshold_mode not in THRESHOLD_MODES:
            raise ParameterError(
                f"parameter 'threshold_mode': {self.threshold_mode!r}; expected 'fixed' or 'learned'",
                name="threshold_mode",
            )
        if self.threshold_mode == "learned":
            k = self.learned_k
            if isinstance(k, bool) or not isinstance(k, (int, float)) or not math.isfinite(k) or k <= 0:
                raise ParameterError(f"parameter 'learned_k': {k!r}; expected a positive number", name="learned_k")
            object.__setattr__(self, "learned_k", float(k))
        if not isinstance(self.correction, str):
            raise ParameterError(f"parameter 'correction': {self.correction!r}; expected fdr_bh or bonferroni",
                                 name="correction")
        stats.correction_name(self.correction)
        for name in ("drift_thresholds", "integrity_thresholds", "performance_thresholds"):
            if not isinstance(getattr(self, name), Mapping):
                raise ParameterError(
                    f"parameter {name!r}: {getattr(self, name)!r}; expected a dict of overrides", name=name
                )
        self._check_backend()
        for name, least, expected in (
            ("row_sample", 1, "a positive number of rows"),
            ("classifier_sample", MIN_ROWS, f"a number of rows >= {MIN_ROWS}"),
            ("seed", 0, "an integer >= 0"),
        ):
            value = getattr(self, name)
            if not _whole_number(value) or value < least:
                raise ParameterError(f"parameter {name!r}: {value!r}; expected {expected}", name=name)
        if not self.reference_path:
            self._check_sample()

    def window_bounds(self) -> tuple[Bound, Bound, Bound, Bound]:
        """``reference_start``, ``reference_end``, ``current_start``, ``current_end``: naive UTC, None when empty."""
        return (
            naive_utc(self.reference_start, "reference_start", what="parameter 'reference_start'"),
            naive_utc(self.reference_end, "reference_end", what="parameter 'reference_end'"),
            naive_utc(self.current_start, "current_start", what="parameter 'current_start'"),
            naive_utc(self.current_end, "current_end", what="parameter 'current_end'"),
        )

    def _check_period(self) -> None:
        period: object = self.period
        if _whole_number(period):  # a number typed in JupyterLab: rows per chunk, kept as text like the CLI's
            object.__setattr__(self, "period", str(period))
        chunk_rows(self.period)

    def _check_backend(self) -> None:
        names = backend_names()
        if not isinstance(self.backend, str) or self.backend not in ("auto", *names):
            raise ParameterError(
                f"parameter 'backend': {self.backend!r}; expected one of {', '.join(names)} or auto", name="backend"
            )
        options = self.backend_options
        if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
            raise ParameterError(
                f"parameter 'backend_options': expected a dict of settings such as "
                f'{{"threads": 2, "memory_limit": "4GB"}}, got {options!r}',
                name="backend_options",
            )

    def _check_sample(self) -> None:
        if not _whole_number(self.sample_rows) or self.sample_rows < 1:
            raise ParameterError(
                f"parameter 'sample_rows': {self.sample_rows!r}; expected a number of rows >= 1", name="sample_rows"
            )
        if not _whole_number(self.sample_seed) or self.sample_seed < 0:
            raise ParameterError(
                f"parameter 'sample_seed': {self.sample_seed!r}; expected an integer >= 0", name="sample_seed"
            )
        incidents = self.sample_incidents
        if isinstance(incidents, str) or not all(isinstance(name, str) for name in incidents):
            raise ParameterError(
                f"parameter 'sample_incidents': {incidents!r}; expected a list of incident names",
                name="sample_incidents",
            )
        unknown = [name for name in incidents if name not in sample.INCIDENTS]
        if unknown:
            raise ParameterError(
                f"parameter 'sample_incidents': unknown incident(s) {unknown}; expected some of "
                f"{', '.join(sample.INCIDENTS)}",
                name="sample_incidents",
            )
