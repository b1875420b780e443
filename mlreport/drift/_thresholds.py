"""Drift thresholds: warning and incident bands per metric, by column kind and per column.

Default bands (:data:`DEFAULT_BANDS`, version :data:`THRESHOLDS_VERSION`):

* PSI 0.10 warning / 0.25 incident on every column (the credit-risk convention);
* Wasserstein-1 over the reference std 0.15 / 0.20 on numeric columns: the
  average distance the population moved, in standard deviations, whatever the
  shape (a shift of d std gives exactly d). The incident band is Cohen's
  "small" effect, 0.2 std: a 0.3 std shift of one feature, which decile PSI
  (about 0.09 on a normal feature) and KS D (0.12) both leave at warning, is
  an incident at every size from 2,000 rows up. The warning band sits above
  the moves of about 0.1 std (PSI 0.01) that real features make from month to
  month without anything being wrong;
* KS D 0.075 / 0.15 on numeric columns and TVD 0.075 / 0.15 on categorical
  ones: both are "the share of the population that moved" (KS D across any
  cut point of an ordered feature, TVD across any set of categories). Decile
  PSI is blind to some material shifts: a 15 % rise of a lognormal income
  (the sample's ``income_shift``) gave PSI 0.04-0.10 but KS D 0.087-0.14 over
  17 sample runs of 10^4 to 10^6 rows; the second band catches it every time.
  On clean sample data (reference before, current after the default incident
  date) the largest KS D / TVD seen were 0.049 / 0.048 at 10^4 rows (10 seeds),
  0.014 / 0.025 at 10^5 (5 seeds) and 0.006 / 0.017 at 10^6 (2 seeds), with no
  column at warning or incident: the bands sit well above noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..errors import ParameterError

__all__ = [
    "THRESHOLDS_VERSION",
    "MIN_JUDGED_ROWS",
    "METRICS",
    "DEFAULT_BANDS",
    "Band",
    "Thresholds",
]


THRESHOLDS_VERSION = "drift-thresholds/2"
"""Version of the default bands and of the verdict rule; recorded in reports."""

METRICS: tuple[str, ...] = ("psi", "js", "hellinger", "tvd", "ks", "wasserstein_norm")
"""Metrics a band can be set on."""

# Which test must be significant for a metric's band to count.
_METRIC_TEST = {
    "psi": "chi2",
    "js": "chi2",
    "hellinger": "chi2",
    "tvd": "chi2",
    "ks": "ks",
    "wasserstein_norm": "ks",
}
_METRIC_LABEL = {
    "psi": "PSI",
    "js": "JS distance",
    "hellinger": "Hellinger",
    "tvd": "TVD",
    "ks": "KS D",
    "wasserstein_norm": "Wasserstein/std",
}
_TEST_LABEL = {"chi2": "chi-square", "ks": "KS"}
_SEVERITY_RANK = {"n/a": -1, "ok": 0, "warning": 1, "incident": 2}


def worst_first(table: pd.DataFrame) -> pd.DataFrame:
    """Rows by severity (incident first), then by PSI, largest first; ties keep their order; a fresh index."""
    rank = table["severity"].map(_SEVERITY_RANK)
    return (
        table.assign(_rank=rank)
        .sort_values(["_rank", "psi"], ascending=[False, False], na_position="last", kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


MIN_JUDGED_ROWS = 500
"""Fewest valid rows of a column in a period for drift over time to judge it (smaller periods are merged).

Each period's metrics are effect sizes measured on its rows, and their noise
grows as the period shrinks: with no change, decile PSI averages about
9 (1/n + 1/N) and KS D reaches 1.63 / sqrt(n) one time in a hundred. At 500
rows those are 0.018 and 0.073, below the warning bands (0.1, 0.075); at 100
rows they are 0.09 and 0.16, so a real but small move (a 0.15 std shift) read
on a small period could cross the incident band by noise alone."""


@dataclass(frozen=True)
class Band:
    """Warning and incident levels of one metric (value >= level fires)."""

    warning: float
    incident: float

    def __post_init__(self) -> None:
        for name in ("warning", "incident"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ParameterError(f"band {name} must be a finite number >= 0, got {value!r}", name=name)
        if self.incident < self.warning:
            raise ParameterError(
                f"band incident level {self.incident} is below its warning level {self.warning}",
                name="incident",
            )

    def level(self, value: float) -> str:
        if value is None or not np.isfinite(value):
            return "ok"
        if value >= self.incident:
            return "incident"
        if value >= self.warning:
            return "warning"
        return "ok"

    def to_list(self) -> list[float]:
        return [float(self.warning), float(self.incident)]

    @classmethod
    def parse(cls, value: Any, where: str) -> Band | None:
        """A band from ``[w, i]``, ``{"warning": w, "incident": i}``, a Band or None (off)."""
        if value is None or isinstance(value, Band):
            return value
        try:
            if isinstance(value, Mapping):
                return cls(float(value["warning"]), float(value["incident"]))
            warning, incident = value
            return cls(float(warning), float(incident))
        except (KeyError, TypeError, ValueError):
            raise ParameterError(
                f"thresholds {where}: expected [warning, incident] or "
                f"{{'warning': w, 'incident': i}} or null, got {value!r}",
                name=where,
            ) from None


DEFAULT_BANDS: dict[str, dict[str, Band | None]] = {
    "numeric": {"psi": Band(0.10, 0.25), "ks": Band(0.075, 0.15), "wasserstein_norm": Band(0.15, 0.20)},
    "categorical": {"psi": Band(0.10, 0.25), "tvd": Band(0.075, 0.15)},
}


def _parse_bands(data: Mapping[str, Any], where: str) -> dict[str, Band | None]:
    if not isinstance(data, Mapping):
        raise ParameterError(f"thresholds {where}: expected a mapping of metric to band", name=where)
    bands: dict[str, Band | None] = {}
    for metric, value in data.items():
        if metric not in METRICS:
            raise ParameterError(
                f"thresholds {where}: unknown metric {metric!r}; expected one of {', '.join(METRICS)}",
                name=where,
            )
        bands[metric] = Band.parse(value, f"{where}.{metric}")
    return bands


@dataclass(frozen=True)
class Thresholds:
    """Bands per metric (by column kind, overridable per column) and the test rule.

    ``numeric`` / ``categorical``: default bands by column kind; ``columns``:
    per-column overrides (a band of ``None`` switches that metric off for the
    column). ``alpha``: significance level of the adjusted p-values for a
    warning; ``incident_alpha``: for an incident (None: ``alpha``; never looser
    than ``alpha``), so that a report can hold incidents to a smaller share of
    its false-alarm budget (``_budget``); ``correction``: ``"fdr_bh"``
    (Benjamini-Hochberg) or ``"bonferroni"``. ``min_period_rows``: drift over
    time judges no period with fewer valid rows (smaller ones are merged with
    their neighbours, see ``_chunks``). ``source`` says where the bands came
    from (fixed or learned).
    """

    numeric: Mapping[str, Band | None] = field(default_factory=lambda: dict(DEFAULT_BANDS["numeric"]))
    categorical: Mapping[str, Band | None] = field(
        default_factory=lambda: dict(DEFAULT_BANDS["categorical"])
    )
    columns: Mapping[str, Mapping[str, Band | None]] = field(default_factory=dict)
    alpha: float = 0.05
    correction: str = "fdr_bh"
    source: str = "fixed bands"
    version: str = THRESHOLDS_VERSION
    incident_alpha: float | None = None
    min_period_rows: int = MIN_JUDGED_ROWS

    def __post_init__(self) -> None:
        for name in ("alpha", "incident_alpha"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < float(value) < 1):
                raise ParameterError(f"{name} must lie in (0, 1), got {value!r}", name=name)
        object.__setattr__(self, "correction", stats.correction_name(self.correction))
        rows = self.min_period_rows
        if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 1:
            raise ParameterError(f"min_period_rows must be a whole number >= 1, got {rows!r}", name="min_period_rows")

    @property
    def alpha_incident(self) -> float:
        """The significance level an incident needs: ``incident_alpha``, never looser than ``alpha``."""
        if self.incident_alpha is None:
            return float(self.alpha)
        return min(float(self.incident_alpha), float(self.alpha))

    def alpha_for(self, level: str) -> float:
        """The significance level of ``level`` (warning or incident)."""
        return self.alpha_incident if level == "incident" else float(self.alpha)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Thresholds:
        """Thresholds from a plain dict (a spec's TOML table, a notebook parameter).

        Keys: ``default`` (bands for both kinds, over the defaults),
        ``numeric``, ``categorical`` (bands by kind, over ``default``),
        ``columns`` (``{column: {metric: band}}``), ``alpha``, ``correction``.
        A band is ``[warning, incident]``, ``{"warning": w, "incident": i}`` or
        ``null`` (off). Unknown keys raise :class:`ParameterError`.
        """
        if data is None:
            return cls()
        if isinstance(data, Thresholds):
            return data
        if not isinstance(data, Mapping):
            raise ParameterError(f"thresholds must be a mapping, got {type(data).__name__}", name="thresholds")
        known = {"default", "numeric", "categorical", "columns", "alpha", "incident_alpha", "correction", "source",
                 "version", "min_period_rows"}
        unknown = set(data) - known
        if unknown:
            raise ParameterError(
                f"thresholds: unknown keys {sorted(unknown)}; expected {sorted(known)}", name="thresholds"
            )
        common = _parse_bands(data.get("default", {}), "default")
        numeric = {**DEFAULT_BANDS["numeric"], **common, **_parse_bands(data.get("numeric", {}), "numeric")}
        categorical = {
            **DEFAULT_BANDS["categorical"],
            **common,
            **_parse_bands(data.get("categorical", {}), "categorical"),
        }
        columns_data = data.get("columns", {})
        if not isinstance(columns_data, Mapping):
            raise ParameterError("thresholds columns: expected {column: {metric: band}}", name="columns")
        columns = {str(c): _parse_bands(b, f"columns.{c}") for c, b in columns_data.items()}
        incident_alpha = data.get("incident_alpha")
        rows: int = data.get("min_period_rows", MIN_JUDGED_ROWS)
        return cls(
            numeric=numeric,
            categorical=categorical,
            columns=columns,
            alpha=_probability(data.get("alpha", 0.05), "alpha"),
            incident_alpha=None if incident_alpha is None else _probability(incident_alpha, "incident_alpha"),
            correction=str(data.get("correction", "fdr_bh")),
            source=str(data.get("source", "fixed bands")),
            min_period_rows=rows,
        )

    def to_dict(self) -> dict[str, Any]:
        def bands(mapping: Mapping[str, Band | None]) -> dict[str, Any]:
            return {m: (b.to_list() if b is not None else None) for m, b in mapping.items()}

        return {
            "version": self.version,
            "source": self.source,
            "alpha": self.alpha,
            "incident_alpha": self.alpha_incident,
            "correction": self.correction,
            "min_period_rows": self.min_period_rows,
            "numeric": bands(self.numeric),
            "categorical": bands(self.categorical),
            "columns": {c: bands(b) for c, b in self.columns.items()},
        }

    def bands_for(self, column: str, kind: str) -> dict[str, Band]:
        """The active bands of one column: kind defaults, then column overrides."""
        base = self.numeric if kind == "numeric" else self.categorical
        merged = {**base, **self.columns.get(column, {})}
        return {m: b for m, b in merged.items() if b is not None}

    def describe(self) -> str:
        """One line for a report's methods appendix."""
        def text(mapping: Mapping[str, Band | None]) -> str:
            return ", ".join(
                f"{_METRIC_LABEL[m]} {b.warning:g}/{b.incident:g}" for m, b in mapping.items() if b is not None
            )

        extra = f"; {len(self.columns)} column override(s)" if self.columns else ""
        levels = (
            f"{self.alpha:g}" if self.alpha_incident == self.alpha
            else f"{self.alpha:g} for a warning and {self.alpha_incident:g} for an incident"
        )
        return (
            f"{self.source} ({self.version}): numeric {text(self.numeric)}; categorical "
            f"{text(self.categorical)} (warning/incident){extra}; a band counts only if the matching "
            f"test is significant at {levels} after {stats.CORRECTIONS[self.correction]} correction"
        )


def _probability(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"thresholds {name}: expected a number in (0, 1), got {value!r}", name=name)
    return float(value)


def _thresholds(value: Thresholds | Mapping[str, Any] | None) -> Thresholds:
    return value if isinstance(value, Thresholds) else Thresholds.from_dict(value)
