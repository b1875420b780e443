"""How a decision log is laid out for counting: periods, windows, time zone and input limits.

:class:`CountGrid` is the part of the volume policy that every counter (pandas,
DuckDB, Spark) needs; the volume analysis' :class:`~mlreport.volume.VolumeConfig`
extends it with its tests, thresholds and severities. Keeping it here lets the
backends count decisions without depending on the analysis that reads the counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..errors import ParameterError
from ..stats import parse_period

__all__ = ["CountGrid", "hourly_grid"]


def _optional_text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class CountGrid:
    """The period grid and input limits of decision counting.

    ``period`` "H", "D", "W" or "auto" (the finest period with a mean of at
    least ``infer_min_count`` decisions per period); ``baseline_weeks`` K = 4
    weeks of history before ``analysis_start``; ``analysis_start`` /
    ``analysis_end`` (wall-clock dates; default: data start + K weeks, end of
    data, the period holding the last decision included however little of it
    the data covers: see :meth:`~mlreport.counts.DecisionCounts.coverage`);
    ``holidays`` dates left out of the baseline and not flagged;
    ``timezone`` for local wall-clock periods (default: the data's own zone;
    naive data without it is taken as is); ``score_bands`` the number of
    baseline score quantile bands; ``max_decision_labels`` 50: a decision column
    with more distinct values is refused (an id or a free-text column passed by
    mistake); ``max_segment_levels`` 30: a segment column with more levels keeps
    its 30 most frequent (ties by label) and counts the rest as ``"(other)"``.
    """

    period: str = "auto"
    baseline_weeks: int = 4
    analysis_start: str | None = None
    analysis_end: str | None = None
    holidays: tuple[str, ...] = ()
    timezone: str | None = None
    infer_min_count: float = 100.0
    score_bands: int = 10
    max_decision_labels: int = 50
    max_segment_levels: int = 30

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "period", parse_period(self.period))
        set_(self, "analysis_start", _optional_text(self.analysis_start))
        set_(self, "analysis_end", _optional_text(self.analysis_end))
        set_(self, "timezone", _optional_text(self.timezone))
        if isinstance(self.holidays, str):
            raise ParameterError("holidays must be a list of dates, not a string", name="holidays")
        set_(self, "holidays", tuple(str(day) for day in self.holidays))
        for day in self.holidays:
            try:
                pd.Timestamp(day)
            except (TypeError, ValueError):
                raise ParameterError(
                    f"holiday {day!r} is not a date such as 2026-12-25", name="holidays"
                ) from None
        for name in ("analysis_start", "analysis_end"):
            value = getattr(self, name)
            if value is not None:
                try:
                    pd.Timestamp(value)
                except (TypeError, ValueError):
                    raise ParameterError(
                        f"{name} {value!r} is not a date or timestamp such as 2026-02-19",
                        name=name,
                    ) from None
        if self.analysis_start and self.analysis_end:
            start, end = (pd.Timestamp(v) for v in (self.analysis_start, self.analysis_end))
            if start.tzinfo is None and end.tzinfo is None and end <= start:
                raise ParameterError(
                    f"analysis_end {self.analysis_end} is not after analysis_start {self.analysis_start}",
                    name="analysis_end",
                )
        if self.timezone is not None:
            try:
                pd.Timestamp("2026-01-01", tz=self.timezone)
            except Exception:  # zoneinfo raises several types for unknown zones
                raise ParameterError(
                    f"timezone {self.timezone!r} is not an IANA time zone such as Europe/London",
                    name="timezone",
                ) from None
        weeks = self.baseline_weeks
        if isinstance(weeks, bool) or int(weeks) != weeks or weeks < 1:
            raise ParameterError(
                f"baseline_weeks must be a whole number >= 1, got {self.baseline_weeks!r}",
                name="baseline_weeks",
            )
        set_(self, "baseline_weeks", int(self.baseline_weeks))
        self._check_range("infer_min_count", 0.0, math.inf)
        for name, minimum in (("score_bands", 2), ("max_decision_labels", 1), ("max_segment_levels", 1)):
            self._check_whole(name, minimum)

    def _check_range(
        self,
        name: str,
        low: float,
        high: float,
        *,
        lower_inclusive: bool = False,
        upper_inclusive: bool = False,
    ) -> None:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ParameterError(f"{name} must be a number, got {value!r}", name=name)
        above = value >= low if lower_inclusive else value > low
        below = value <= high if upper_inclusive else value < high
        if not (above and below):
            left = "[" if lower_inclusive else "("
            right = "]" if upper_inclusive else ")"
            raise ParameterError(f"{name} must be in {left}{low}, {high}{right}, got {value}", name=name)

    def _check_whole(self, name: str, minimum: int) -> None:
        value = getattr(self, name)
        if isinstance(value, bool) or int(value) != value or value < minimum:
            raise ParameterError(f"{name} must be a whole number >= {minimum}, got {value!r}", name=name)
        object.__setattr__(self, name, int(value))


def hourly_grid(grid: CountGrid, analysis_start: pd.Timestamp) -> CountGrid:
    """The hourly grid under a daily or weekly one: the same windows, time zone, holidays and limits.

    ``analysis_start`` is the coarse grid's (so both baselines start at the
    same wall-clock time); the end is the coarse grid's given end, or the end
    of the data. The volume analysis finds runs of zero hours on it, and the
    share of expected volume a partial day or week covers.
    """
    return CountGrid(
        period="H", baseline_weeks=grid.baseline_weeks, analysis_start=pd.Timestamp(analysis_start).isoformat(),
        analysis_end=grid.analysis_end, holidays=grid.holidays, timezone=grid.timezone,
        infer_min_count=grid.infer_min_count, score_bands=grid.score_bands,
        max_decision_labels=grid.max_decision_labels, max_segment_levels=grid.max_segment_levels,
    )
