"""Decision volumes and decision mix over time, against a seasonal baseline, by segment.

:func:`analyse_volume` takes a decision log (one row per decision) and answers:
did volume stop or jump somewhere, did the share of a decision move, in which
segment, and since when. It works in two steps that can be used separately:

1. :func:`count_decisions` aggregates the log into counts per period, decision
   label and segment level (numpy ``bincount``; no per-row Python), on a
   complete period grid: a period without rows is a zero-count period, never a
   dropped one. These counts are mergeable summaries: a DuckDB or Spark
   backend can produce the same :class:`DecisionCounts`.
2. :func:`analyse_counts` tests them and returns a :class:`VolumeResult` of
   tidy tables, findings and a headline.

Windows: the **baseline** is the ``baseline_weeks`` (K) weeks before
``analysis_start``; the **analysis** (current) window runs from
``analysis_start`` to the end of the data. Periods are local wall-clock hours,
days or weeks (see :mod:`mlreport.baseline` for daylight saving).

Methods (every one is also printed in the report's methods table):

* volume per period against the seasonal median of the baseline, quasi-Poisson
  tail probabilities and the hard zero rule (:mod:`mlreport.baseline`);
* decision rates with Laney p′, EWMA and tabular CUSUM charts (:mod:`mlreport.control`);
* decision-mix change baseline vs current: Pearson chi-square
  (``scipy.stats.chi2_contingency``, no continuity correction) gated by effect
  size. Defaults: warning at PSI >= 0.002 and Cramér's V >= 0.01, incident at
  PSI >= 0.01 and V >= 0.025. Why: at bank volumes every difference is
  significant, so the gate decides. Moving 2 pp from a 60 % decision to a
  25 % one gives PSI ≈ 0.0023; 5 pp gives PSI ≈ 0.015, which a credit book
  notices. For equal-sized windows V ≈ sqrt(PSI) / 2 (0.024 and 0.06 for those
  shifts); V's gates are set at half of that so that PSI is the binding gate
  for comparable windows and V only vetoes when the current window is a
  sliver of the baseline (V shrinks with the size ratio, PSI does not);
* segment drill-down by shift-share decomposition (:func:`shift_share`) with
  Benjamini-Hochberg across all segment levels of all segment columns;
* change-point dating with ruptures PELT (:func:`mlreport.control.change_points`).

Severity mapping
----------------
Rules fire on tests and thresholds of :class:`VolumeConfig`; the mapping from
rule to severity is ``VolumeConfig.severity`` (a model spec may override any
entry, including to ``"ok"`` to silence a rule). Defaults:

=====================  =========  ==========================================================
rule                   severity   fires when
=====================  =========  ==========================================================
volume_zero            incident   zero volume in a period whose baseline expects >= 5, or in a
                                  run of zero periods whose expected total is >= 20
volume_extreme         incident   tail p < p_incident, abs(obs/exp - 1) >= rel_incident and
                                  abs(obs - exp) >= min_change
volume_unusual         warning    tail p < p_warning, abs(obs/exp - 1) >= rel_warning and
                                  abs(obs - exp) >= min_change
rate_shift             incident   rate_run consecutive periods beyond the Laney p′ limits on
                                  the same side
rate_extreme           incident   a period beyond the Laney limits widened to extreme_L σ
rate_out               warning    a period beyond the Laney p′ limits (laney_L σ)
ewma_out               warning    the EWMA of the rate beyond its limits
cusum_signal           warning    tabular CUSUM C⁺ or C⁻ above h
                                  (all rate rules: and at least rate_min_pp from the centre)
mix_change_large       incident   chi-square p < p_incident, PSI >= mix_psi_incident and
                                  Cramér's V >= mix_v_incident (overall decision mix)
mix_change             warning    p < p_warning, PSI >= mix_psi_warning, V >= mix_v_warning
score_mix_large        incident   score-band mix: p < p_incident and PSI >= score_psi_incident
score_mix              warning    score-band mix: p < p_warning and PSI >= score_psi_warning
segment_volume_large   incident   segment window volume: BH q < p_incident and the incident
                                  effect gates of volume_extreme
segment_volume         warning    BH q < p_warning and the warning effect gates
segment_mix_large      incident   segment decision mix: BH q and the incident gates of mix
segment_mix            warning    BH q and the warning gates of mix
segment_share_extreme  incident   a decision share of a segment is 0 % or 100 % in the
                                  current window while the baseline share makes that
                                  improbable (binomial probability < p_incident)
segment_new            warning    a segment level with no baseline volume appears
change_point           ok         a change point of a monitored series (for dating only)
=====================  =========  ==========================================================
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from .baseline import (
    BASELINE_METHOD,
    BASELINE_MODES,
    DISPERSION_METHOD,
    PERIOD_NS,
    PERIOD_WORDS,
    PERIODS_PER_WEEK,
    count_band,
    count_tail,
    floor_to_period,
    infer_period,
    median_inflation,
    parse_period,
    pearson_dispersion,
    period_exposure,
    seasonal_expected,
)
from .control import (
    CHANGEPOINT_METHOD,
    CUSUM_METHOD,
    EWMA_METHOD,
    LANEY_METHOD,
    LANEY_SEASONAL_METHOD,
    change_points,
    ewma_chart,
    laney_p_chart,
    tabular_cusum,
)
from .errors import DataError, ParameterError
from .findings import SEVERITIES, Finding, severity_rank, worst
from .stats import psi as psi_of_counts

__all__ = [
    "SECTIONS",
    "DEFAULT_SEVERITY",
    "VolumeConfig",
    "DecisionCounts",
    "VolumeResult",
    "MixTest",
    "resolve_roles",
    "config_from_parameters",
    "count_decisions",
    "decision_roles",
    "analysis_windows",
    "holiday_mask",
    "check_roles",
    "check_decision_labels",
    "folded_levels_note",
    "analyse_counts",
    "analyse_volume",
    "mix_test",
    "shift_share",
    "to_wall_clock",
]

SECTIONS: dict[str, str] = {
    "volume": "Volume timeline",
    "rates": "Decision rates",
    "mix": "Decision mix",
    "segments": "Segments",
    "changes": "Change points",
    "methods": "Methods",
}
"""Notebook section headings; every finding's ``section`` is one of them."""

DEFAULT_SEVERITY: dict[str, str] = {
    "volume_zero": "incident",
    "volume_extreme": "incident",
    "volume_unusual": "warning",
    "rate_shift": "incident",
    "rate_extreme": "incident",
    "rate_out": "warning",
    "ewma_out": "warning",
    "cusum_signal": "warning",
    "mix_change_large": "incident",
    "mix_change": "warning",
    "score_mix_large": "incident",
    "score_mix": "warning",
    "segment_volume_large": "incident",
    "segment_volume": "warning",
    "segment_mix_large": "incident",
    "segment_mix": "warning",
    "segment_share_extreme": "incident",
    "segment_new": "warning",
    "change_point": "ok",
}
"""Rule -> severity (the table in the module docstring)."""

MISSING_LABEL = "(missing)"
OTHER_LABEL = "(other)"
OVERRIDE_LABEL = "override"


# --------------------------------------------------------------------------- configuration


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class VolumeConfig:
    """Parameters and thresholds of the volume analysis (a versioned policy).

    Windows and periods
        ``period`` "H", "D", "W" or "auto" (the finest period with a mean of at
        least ``infer_min_count`` decisions per period); ``baseline_weeks`` K = 4;
        ``baseline_mode`` "fixed" (the K weeks before ``analysis_start``) or
        "rolling" (the K weeks before each period); ``analysis_start`` / ``analysis_end``
        (wall-clock dates; default: data start + K weeks, end of data; a final
        period the data covers less than 90 % of is dropped as incomplete);
        ``holidays`` dates left out of the baseline and not flagged;
        ``timezone`` for local wall-clock periods (default: the data's own zone;
        naive data without it is taken as is).
    Volume
        ``p_warning`` 1e-3 / ``p_incident`` 1e-6 (two-sided tail probability,
        also the BH q-value gates for segments), ``rel_warning`` 0.2 /
        ``rel_incident`` 0.5 (abs(observed/expected - 1)), ``min_change`` 10 counts,
        ``zero_expected_min`` 5, ``zero_run_expected`` 20.
    Rates
        ``rate_baseline`` "seasonal" (each period's centre is its slot's baseline
        rate: weekday, or hour of week for hourly data) or "flat" (one centre,
        the textbook chart); ``rate_min_pp`` 1 (effect-size gate: a rate flag
        needs the rate, its EWMA or the shift behind a CUSUM signal to be at
        least one percentage point from the centre); ``laney_L`` 3, ``laney_floor`` True (σ_z >= 1), ``extreme_L`` 6,
        ``rate_run`` 3, ``ewma_lambda`` 0.2, ``ewma_L`` 3, ``cusum_k`` 0.5,
        ``cusum_h`` 5 (sigma units).
    Mix
        ``mix_psi_warning`` 0.002 / ``mix_psi_incident`` 0.01, ``mix_v_warning``
        0.01 / ``mix_v_incident`` 0.025, ``psi_epsilon`` 1e-4 (PSI floor of
        empty cells), ``score_bands`` 10 (baseline score quantiles),
        ``score_psi_warning`` 0.1 / ``score_psi_incident`` 0.25 (the usual PSI bands).
    Change points
        ``changepoint_min_size`` 2 periods, ``changepoint_penalty`` 3 (× σ̂² ln n).
    Input limits
        ``max_decision_labels`` 50: a decision column with more distinct values
        is refused (an id or a free-text column passed by mistake);
        ``max_segment_levels`` 30: a segment column with more levels keeps its
        30 most frequent (ties by label) and counts the rest as ``"(other)"``,
        with a note, so that an id-like column cannot blow up the counts.
    Severity
        ``severity``: rule -> severity, merged over :data:`DEFAULT_SEVERITY`.
    """

    period: str = "auto"
    baseline_weeks: int = 4
    baseline_mode: str = "fixed"
    analysis_start: str | None = None
    analysis_end: str | None = None
    holidays: tuple[str, ...] = ()
    timezone: str | None = None
    infer_min_count: float = 100.0
    p_warning: float = 1e-3
    p_incident: float = 1e-6
    rel_warning: float = 0.2
    rel_incident: float = 0.5
    min_change: float = 10.0
    zero_expected_min: float = 5.0
    zero_run_expected: float = 20.0
    rate_baseline: str = "seasonal"
    rate_min_pp: float = 1.0
    laney_L: float = 3.0
    laney_floor: bool = True
    extreme_L: float = 6.0
    rate_run: int = 3
    ewma_lambda: float = 0.2
    ewma_L: float = 3.0
    cusum_k: float = 0.5
    cusum_h: float = 5.0
    mix_psi_warning: float = 0.002
    mix_psi_incident: float = 0.01
    mix_v_warning: float = 0.01
    mix_v_incident: float = 0.025
    psi_epsilon: float = 1e-4
    score_bands: int = 10
    score_psi_warning: float = 0.1
    score_psi_incident: float = 0.25
    changepoint_min_size: int = 2
    changepoint_penalty: float = 3.0
    max_decision_labels: int = 50
    max_segment_levels: int = 30
    severity: Mapping[str, str] = field(default_factory=dict)
    version: str = "volume-1"

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
        if isinstance(self.baseline_weeks, bool) or int(self.baseline_weeks) != self.baseline_weeks or self.baseline_weeks < 1:
            raise ParameterError(
                f"baseline_weeks must be a whole number >= 1, got {self.baseline_weeks!r}",
                name="baseline_weeks",
            )
        set_(self, "baseline_weeks", int(self.baseline_weeks))
        if self.baseline_mode not in BASELINE_MODES:
            raise ParameterError(
                f"baseline_mode {self.baseline_mode!r} is not one of {', '.join(BASELINE_MODES)}",
                name="baseline_mode",
            )
        if self.rate_baseline not in ("seasonal", "flat"):
            raise ParameterError(
                f"rate_baseline {self.rate_baseline!r} is not 'seasonal' or 'flat'", name="rate_baseline"
            )
        self._check_range("p_warning", 0.0, 1.0)
        self._check_range("p_incident", 0.0, self.p_warning, upper_inclusive=True)
        self._check_range("rel_warning", 0.0, math.inf, lower_inclusive=True)
        self._check_range("rel_incident", self.rel_warning, math.inf, lower_inclusive=True)
        for name in ("min_change", "zero_expected_min", "zero_run_expected", "cusum_k", "rate_min_pp",
                     "mix_psi_warning", "mix_v_warning", "psi_epsilon"):
            self._check_range(name, 0.0, math.inf, lower_inclusive=True)
        for name in ("laney_L", "ewma_L", "cusum_h", "infer_min_count", "changepoint_penalty"):
            self._check_range(name, 0.0, math.inf)
        self._check_range("extreme_L", self.laney_L, math.inf, lower_inclusive=True)
        self._check_range("ewma_lambda", 0.0, 1.0, upper_inclusive=True)
        self._check_range("mix_psi_incident", self.mix_psi_warning, math.inf, lower_inclusive=True)
        self._check_range("mix_v_incident", self.mix_v_warning, math.inf, lower_inclusive=True)
        self._check_range("score_psi_warning", 0.0, math.inf, lower_inclusive=True)
        self._check_range("score_psi_incident", self.score_psi_warning, math.inf, lower_inclusive=True)
        for name, minimum in (("rate_run", 1), ("score_bands", 2), ("changepoint_min_size", 1),
                              ("max_decision_labels", 1), ("max_segment_levels", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < minimum:
                raise ParameterError(f"{name} must be a whole number >= {minimum}, got {value!r}", name=name)
            set_(self, name, int(value))
        unknown = sorted(set(self.severity) - set(DEFAULT_SEVERITY))
        if unknown:
            raise ParameterError(
                f"severity: unknown rule(s) {unknown}; rules are {', '.join(DEFAULT_SEVERITY)}",
                name="severity",
            )
        for rule, level in self.severity.items():
            if level not in SEVERITIES:
                raise ParameterError(
                    f"severity[{rule!r}] = {level!r}; expected one of {', '.join(SEVERITIES)}",
                    name="severity",
                )
        set_(self, "severity", {**DEFAULT_SEVERITY, **dict(self.severity)})

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

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None = None, **overrides: Any) -> "VolumeConfig":
        """A config from a mapping (a model spec's ``[thresholds.volume]`` table) and overrides.

        Unknown keys raise :class:`~mlreport.errors.ParameterError`; ``severity``
        entries are merged over the defaults; lists become tuples; empty
        strings mean "not given".
        """
        values = {**dict(mapping or {}), **overrides}
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ParameterError(
                f"unknown volume parameter(s) {unknown}; valid names are {', '.join(sorted(names))}",
                name=unknown[0],
            )
        if "holidays" in values and values["holidays"] is not None and not isinstance(values["holidays"], str):
            values["holidays"] = tuple(values["holidays"])
        if values.get("holidays") is None:
            values.pop("holidays", None)
        if values.get("period") in (None, ""):
            values.pop("period", None)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """All parameters and the severity mapping, JSON-ready (for the report's thresholds)."""
        data = asdict(self)
        data["holidays"] = list(self.holidays)
        data["severity"] = dict(self.severity)
        return data


def config_from_parameters(
    spec: Any = None, thresholds: Mapping[str, Any] | None = None, **parameters: Any
) -> VolumeConfig:
    """A config from a model spec's ``[thresholds.volume]`` table, overrides and parameters.

    Precedence, lowest first: the defaults, the spec's ``thresholds.volume``
    (its ``thresholds.version`` becomes the config's version unless the table
    sets one), ``thresholds`` (a notebook parameter), then the explicit
    ``parameters`` (window and period arguments). Empty strings and empty
    lists in ``parameters`` mean "not given" and leave the value below them.
    """
    merged: dict[str, Any] = {}
    if spec is not None:
        policy = dict(getattr(spec, "thresholds", {}) or {})
        merged.update(dict(policy.get("volume", {}) or {}))
        if "version" not in merged and "version" in policy:
            merged["version"] = f"spec {policy['version']}"
    merged.update(dict(thresholds or {}))
    merged.update({k: v for k, v in parameters.items() if v not in ("", None) and v != [] and v != ()})
    return VolumeConfig.from_mapping(merged)


# --------------------------------------------------------------------------- roles


def resolve_roles(
    frame: pd.DataFrame,
    *,
    spec: Any = None,
    timestamp_column: str = "",
    decision_column: str = "",
    segment_columns: Sequence[str] = (),
    score_column: str = "",
    override_column: str = "",
    decision_labels: Sequence[str] = (),
) -> dict[str, Any]:
    """Keyword arguments of :func:`analyse_volume`: parameters first, then the spec, then inference.

    ``spec`` is a :class:`mlreport.spec.ModelSpec` (or None, in which case roles
    left empty are inferred with :func:`mlreport.spec.infer_spec`). Empty
    strings and empty lists mean "not given". The override column is never
    inferred. Raises :class:`~mlreport.errors.DataError` when the log has no
    rows (checked first: an empty log has nothing to infer roles from), when no
    timestamp or decision column can be found, or a named column is absent.
    """
    _check_rows(frame)
    given_missing = not (timestamp_column and decision_column and list(segment_columns) and score_column)
    if spec is None and given_missing:
        from .spec import infer_spec

        spec = infer_spec(frame)
    roles = {
        "timestamp_column": timestamp_column or (getattr(spec, "timestamp", "") or ""),
        "decision_column": decision_column or (getattr(spec, "decision", "") or ""),
        "segment_columns": list(segment_columns) or list(getattr(spec, "segments", []) or []),
        "score_column": score_column or (getattr(spec, "score", "") or None),
        "override_column": override_column or None,
        "decision_labels": list(decision_labels)
        or list((getattr(spec, "decision_labels", {}) or {}).values())
        or None,
    }
    for role in ("timestamp_column", "decision_column"):
        if not roles[role]:
            raise DataError(
                f"no {role.replace('_column', '')} column: give the {role} parameter or a model "
                f"spec; the data has columns {list(map(str, frame.columns))[:30]}",
            )
    check_roles(list(frame.columns), roles)
    return roles


def _log_source(frame: pd.DataFrame) -> str:
    """The file(s) the decision log was read from, when :mod:`mlreport.data` recorded them.

    The volume notebook loads the log under the name "decisions"; the paths are
    named only when their recorded row count is this frame's, so that a frame
    built some other way is not blamed on a file.
    """
    from .data import inputs

    recorded = [entry for entry in inputs() if entry.get("name") == "decisions"]
    if recorded and sum(int(entry.get("rows") or 0) for entry in recorded) == len(frame):
        return ", ".join(str(entry["path"]) for entry in recorded)
    return ""


def _check_rows(frame: pd.DataFrame) -> None:
    if len(frame) == 0:
        source = _log_source(frame)
        where = f" ({source})" if source else ""
        raise DataError(
            f"the decision log{where} has no rows: nothing to count; expected one row per decision",
            path=source or None,
        )


def check_decision_labels(counts: Mapping[str, int], total: int, column: str, limit: int) -> None:
    """Refuse a decision column with no values, or with more labels than a decision has.

    ``counts``: rows per label present (missing values left out); ``total``:
    all rows. Shared by every counter, so each refuses with the same message.
    """
    if not counts:
        raise DataError(
            f"decision column {column!r} has no values: all {total:,} rows are missing; expected "
            "decision labels such as approve, refer or decline",
            column=column,
        )
    if len(counts) > limit:
        examples = ", ".join(repr(name) for name in sorted(counts)[:3])
        raise DataError(
            f"decision column {column!r} has {len(counts):,} distinct values ({examples}, ...); expected a "
            f"few decision labels such as approve, refer or decline (at most {limit}, the "
            "max_decision_labels setting). Is it an id or a score column?",
            column=column,
        )


def _check_decisions(raw: np.ndarray, levels: list[Any], column: str, limit: int) -> None:
    """:func:`check_decision_labels` on a frame's codes (``-1`` missing)."""
    frequency = np.bincount(raw[raw >= 0], minlength=len(levels))
    used = np.flatnonzero(frequency)
    check_decision_labels({str(levels[i]): int(frequency[i]) for i in used}, int(raw.size), column, limit)


def check_roles(columns: Sequence[Any], roles: Mapping[str, Any]) -> None:
    """The columns ``roles`` name are among ``columns``, and no segment is the timestamp or decision.

    On column names only, so every counter (a frame, or a backend's table)
    checks the same way with the same messages.
    """
    present = set(columns)
    named = [roles["timestamp_column"], roles["decision_column"], *roles["segment_columns"]]
    named += [roles[key] for key in ("score_column", "override_column") if roles.get(key)]
    for column in named:
        if column not in present:
            raise DataError(
                f"column {column!r} not found; the data has columns {list(map(str, columns))[:30]}",
                column=column,
            )
    if roles["timestamp_column"] in roles["segment_columns"] or roles["decision_column"] in roles["segment_columns"]:
        raise DataError(
            "segment_columns must not include the timestamp or decision column",
            column=roles["decision_column"],
        )


# --------------------------------------------------------------------------- time


def to_wall_clock(
    values: pd.Series, timezone: str | None, *, column: str
) -> tuple[np.ndarray, str | None]:
    """Timestamps as int64 nanoseconds of the local wall clock, and the zone used.

    Time-zone aware values are converted to ``timezone`` (default: their own
    zone) and the zone dropped; naive values are taken as wall-clock times in
    ``timezone`` (which may be None: then there is no daylight saving to
    account for). Strings are parsed as ISO 8601. Missing values are
    ``np.iinfo(np.int64).min`` (NaT).
    """
    dtype = values.dtype
    if not (isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype)):
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise DataError(
                f"column {column!r} holds {dtype} values, expected timestamps", column=column
            )
        try:
            values = pd.to_datetime(values, format="ISO8601")
        except (ValueError, TypeError):
            try:
                values = pd.to_datetime(values, format="ISO8601", utc=True)
            except (ValueError, TypeError) as error:
                raise DataError(
                    f"column {column!r} has values that are not ISO 8601 timestamps ({error})",
                    column=column,
                ) from None
        dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        zone = timezone or str(dtype.tz)
        values = values.dt.tz_convert(zone).dt.tz_localize(None)
    else:
        zone = timezone
    nanoseconds = values.astype("datetime64[ns]").to_numpy().view(np.int64)
    return nanoseconds, zone


def _fmt_time(timestamp: pd.Timestamp, period: str) -> str:
    return timestamp.strftime("%Y-%m-%d %H:%M" if period == "H" else "%Y-%m-%d")


# --------------------------------------------------------------------------- counting


@dataclass
class DecisionCounts:
    """Decision counts per period on a complete wall-clock period grid.

    ``periods`` are the period starts (naive local wall clock) from the
    baseline start to the end of the analysis window; the first
    ``baseline_periods`` are the baseline. ``overall`` is ``[T, D]`` (periods x
    decision labels), ``segments[column]`` is ``(levels, [T, L, D])``.
    ``overrides``/``override_known`` count overridden decisions and decisions
    with a known override status; ``score_counts`` ``[T, B]`` counts score bands
    (``score_edges`` from baseline quantiles; the last band is "missing").
    """

    period: str
    periods: pd.DatetimeIndex
    baseline_periods: int
    exposure: np.ndarray
    holiday: np.ndarray
    timezone: str | None
    labels: list[str]
    overall: np.ndarray
    segments: dict[str, tuple[list[str], np.ndarray]]
    overrides: np.ndarray | None = None
    override_known: np.ndarray | None = None
    score_edges: np.ndarray | None = None
    score_counts: np.ndarray | None = None
    data_first: pd.Timestamp | None = None
    data_last: pd.Timestamp | None = None
    rows: int = 0
    notes: list[str] = field(default_factory=list)
    roles: dict[str, Any] = field(default_factory=dict)

    @property
    def analysis_start(self) -> pd.Timestamp:
        return self.periods[self.baseline_periods]

    @property
    def baseline_start(self) -> pd.Timestamp:
        return self.periods[0]

    @property
    def end(self) -> pd.Timestamp:
        """Exclusive end of the analysis window."""
        return self.periods[-1] + pd.Timedelta(PERIOD_NS[self.period], unit="ns")


def _codes(values: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (-1 for missing) and the levels they index, without per-row Python.

    Categorical columns keep their compact code dtype (int8 for few levels).
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), list(values.cat.categories)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, list(uniques)


def _ordered_levels(
    codes: np.ndarray, levels: list[Any], preferred: Sequence[str] | None
) -> tuple[np.ndarray, list[str]]:
    """Recode so that ``preferred`` labels come first, then the rest by frequency; missing last.

    Levels with equal counts are ordered by label, so the order does not depend
    on row order (and equals the SQL backends', :mod:`mlreport.volume_pushdown`).
    """
    names = [str(level) for level in levels]
    frequency = np.bincount(codes[codes >= 0], minlength=len(names)) if len(names) else np.zeros(0)
    order: list[str] = [str(label) for label in (preferred or [])]
    order = list(dict.fromkeys(order))
    rest = sorted(
        (i for i, name in enumerate(names) if name not in order), key=lambda i: (-frequency[i], names[i])
    )
    order += [names[i] for i in rest if names[i] not in order]
    has_missing = bool((codes < 0).any())
    if has_missing and MISSING_LABEL not in order:
        order.append(MISSING_LABEL)
    position = {name: i for i, name in enumerate(order)}
    lookup = np.array([position[name] for name in names] + [position.get(MISSING_LABEL, 0)], dtype=np.int32)
    # Code -1 (missing) indexes the last entry of the lookup: the missing label.
    return lookup[codes], order


def holiday_mask(periods: pd.DatetimeIndex, period: str, holidays: Sequence[str]) -> np.ndarray:
    """True for each period holding one of ``holidays`` (a week holds seven days)."""
    if not holidays:
        return np.zeros(len(periods), dtype=bool)
    days = pd.DatetimeIndex([pd.Timestamp(day).normalize() for day in holidays])
    starts = periods.normalize()
    if period != "W":
        return np.asarray(starts.isin(days))
    mask = np.zeros(len(periods), dtype=bool)
    for offset in range(7):
        mask |= np.asarray((starts + pd.Timedelta(days=offset)).isin(days))
    return mask


def analysis_windows(
    first: pd.Timestamp, last: pd.Timestamp, n_rows: int, config: VolumeConfig
) -> tuple[str, pd.Timestamp, pd.Timestamp, pd.Timestamp, list[str]]:
    """Period, baseline start, analysis start, exclusive end, and notes.

    From the first and last wall-clock timestamp and the number of rows that
    have one: all :func:`count_decisions` needs to lay its period grid, so a
    backend that only knows ``min``, ``max`` and ``count`` lays the same one.
    """
    _check_analysis_start(first, last, config)
    notes: list[str] = []
    period = config.period
    if period == "auto":
        period = infer_period(n_rows, last - first, min_mean_count=config.infer_min_count)
    step = pd.Timedelta(PERIOD_NS[period], unit="ns")
    weeks = pd.Timedelta(weeks=config.baseline_weeks)
    data_start = floor_to_period(first, period)
    if config.analysis_start:
        analysis_start = floor_to_period(pd.Timestamp(config.analysis_start), period)
    else:
        analysis_start = floor_to_period(data_start + weeks, period)
        if analysis_start < data_start + weeks:
            analysis_start += step
    baseline_start = analysis_start - weeks
    if config.analysis_end:
        end = floor_to_period(pd.Timestamp(config.analysis_end), period)
    else:
        last_period = floor_to_period(last, period)
        end = last_period + step
        if last < last_period + 0.9 * step:
            end = last_period
            notes.append(
                f"the last {PERIOD_WORDS[period]} ({_fmt_time(last_period, period)}) is covered only "
                f"to {last:%Y-%m-%d %H:%M} and was left out as incomplete"
            )
    K = config.baseline_weeks
    if baseline_start < data_start:
        if config.analysis_start:
            raise DataError(
                f"baseline needs {K} week{'s' if K > 1 else ''} before {_fmt_time(analysis_start, period)}; "
                f"data starts {first:%Y-%m-%d}. Start the analysis on or after "
                f"{_fmt_time(data_start + weeks, period)} or lower baseline_weeks"
            )
    if end <= analysis_start:
        raise DataError(
            f"baseline needs {K} week{'s' if K > 1 else ''} before the first analysed "
            f"{PERIOD_WORDS[period]} ({_fmt_time(analysis_start, period)}); data starts "
            f"{first:%Y-%m-%d} and ends {last:%Y-%m-%d %H:%M}, so no complete "
            f"{PERIOD_WORDS[period]} is left to analyse: need data through at least "
            f"{_fmt_time(analysis_start + step, period)} (exclusive) or a smaller baseline_weeks"
        )
    return period, baseline_start, analysis_start, end, notes


def decision_roles(
    *,
    timestamp_column: str,
    decision_column: str,
    segment_columns: Sequence[str] = (),
    score_column: str | None = None,
    override_column: str | None = None,
    decision_labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The column roles of a decision log as :attr:`DecisionCounts.roles` keeps them.

    Empty names and lists become None (segments an empty list). Every counter
    (:func:`count_decisions`, the SQL backends) builds its roles here.
    """
    return {
        "timestamp_column": timestamp_column,
        "decision_column": decision_column,
        "segment_columns": list(segment_columns),
        "score_column": score_column or None,
        "override_column": override_column or None,
        "decision_labels": list(decision_labels) if decision_labels else None,
    }


def count_decisions(
    frame: pd.DataFrame,
    config: VolumeConfig | None = None,
    *,
    timestamp_column: str,
    decision_column: str,
    segment_columns: Sequence[str] = (),
    score_column: str | None = None,
    override_column: str | None = None,
    decision_labels: Sequence[str] | None = None,
) -> DecisionCounts:
    """Aggregate a decision log into :class:`DecisionCounts` (see the module docstring).

    Rows without a timestamp are dropped (and noted); rows before the baseline
    start or after the analysis end are outside the windows. Duplicate and
    unsorted timestamps need no care: every row counts once in its period.
    Missing decisions and segment values count under the label ``"(missing)"``.
    The override column is either a flag (bool or 0/1: True means overridden)
    or a final decision (overridden where it differs from the decision).
    """
    config = config or VolumeConfig()
    _check_rows(frame)
    roles = decision_roles(
        timestamp_column=timestamp_column, decision_column=decision_column, segment_columns=segment_columns,
        score_column=score_column, override_column=override_column, decision_labels=decision_labels,
    )
    check_roles(list(frame.columns), roles)
    nanoseconds, zone = to_wall_clock(frame[timestamp_column], config.timezone, column=timestamp_column)
    nat = np.iinfo(np.int64).min
    present = nanoseconds != nat
    if not present.any():
        raise DataError(f"column {timestamp_column!r} has no timestamps", column=timestamp_column)
    notes: list[str] = []
    missing_times = int((~present).sum())
    if missing_times:
        notes.append(f"{missing_times:,} rows without a timestamp were left out")
    valid_ns = nanoseconds[present] if missing_times else nanoseconds
    first = pd.Timestamp(int(valid_ns.min()))
    last = pd.Timestamp(int(valid_ns.max()))
    period, baseline_start, analysis_start, end, window_notes = analysis_windows(
        first, last, int(present.sum()), config
    )
    notes += window_notes
    step = PERIOD_NS[period]
    n_periods = int((end - baseline_start).value // step)
    n_baseline = int((analysis_start - baseline_start).value // step)
    codes = nanoseconds - baseline_start.value
    codes //= step
    keep = present & (codes >= 0) & (codes < n_periods)
    outside = int(present.sum() - keep.sum())
    if outside:
        notes.append(
            f"{outside:,} rows outside {_fmt_time(baseline_start, period)} to "
            f"{_fmt_time(end, period)} (baseline and analysis windows) were left out"
        )
    all_kept = bool(keep.all())
    codes = codes if all_kept else codes[keep]

    raw, levels = _codes(frame[decision_column])
    _check_decisions(raw, levels, decision_column, config.max_decision_labels)
    decision, labels = _ordered_levels(raw if all_kept else raw[keep], levels, decision_labels)
    del raw
    n_labels = len(labels)
    # One int64 cell index per row at a time (built in place), small codes otherwise:
    # at 10^7 rows every temporary is 40-80 MB.
    cell = codes * n_labels
    cell += decision
    overall = np.bincount(cell, minlength=n_periods * n_labels).reshape(n_periods, n_labels)
    del cell

    segments: dict[str, tuple[list[str], np.ndarray]] = {}
    for column in roles["segment_columns"]:
        raw, levels = _codes(frame[column])
        raw, levels, note = _cap_levels(raw if all_kept else raw[keep], levels, config.max_segment_levels, column)
        if note:
            notes.append(note)
        level, names = _ordered_levels(raw, levels, None)
        del raw
        n_levels = len(names)
        cell = codes * (n_levels * n_labels)
        cell += level * np.int32(n_labels)
        cell += decision
        del level
        table = np.bincount(cell, minlength=n_periods * n_levels * n_labels)
        del cell
        segments[column] = (names, table.reshape(n_periods, n_levels, n_labels))

    overrides = override_known = None
    if override_column:
        flag, known = _override_flags(frame, override_column, decision_column)
        if not all_kept:
            flag, known = flag[keep], known[keep]
        overrides = np.bincount(codes, weights=flag, minlength=n_periods)
        override_known = np.bincount(codes, weights=known, minlength=n_periods)

    score_edges = score_counts = None
    if score_column:
        scores = frame[score_column]
        if not pd.api.types.is_numeric_dtype(scores.dtype) or pd.api.types.is_bool_dtype(scores.dtype):
            raise DataError(
                f"score column {score_column!r} holds {scores.dtype} values, expected numbers",
                column=score_column,
            )
        values = scores.to_numpy(dtype=float, na_value=np.nan)
        values = values if all_kept else values[keep]
        baseline_scores = values[codes < n_baseline]
        baseline_scores = baseline_scores[np.isfinite(baseline_scores)]
        if baseline_scores.size:
            quantiles = np.linspace(0.0, 1.0, config.score_bands + 1)[1:-1]
            score_edges = np.unique(np.quantile(baseline_scores, quantiles))
            del baseline_scores
            n_bands = score_edges.size + 2
            cell = codes * n_bands
            cell += np.searchsorted(score_edges, values, side="right")
            missing = ~np.isfinite(values)
            cell[missing] += score_edges.size + 1 - np.searchsorted(score_edges, values[missing], side="right")
            score_counts = np.bincount(cell, minlength=n_periods * n_bands).reshape(n_periods, n_bands)
            del cell
        else:
            notes.append(f"score column {score_column!r} has no values in the baseline: no score bands")

    periods = pd.DatetimeIndex(
        baseline_start + pd.to_timedelta(np.arange(n_periods) * step, unit="ns")
    )
    return DecisionCounts(
        period=period,
        periods=periods,
        baseline_periods=n_baseline,
        exposure=period_exposure(baseline_start, n_periods, period, zone),
        holiday=holiday_mask(periods, period, config.holidays),
        timezone=zone,
        labels=labels,
        overall=overall,
        segments=segments,
        overrides=overrides,
        override_known=override_known,
        score_edges=score_edges,
        score_counts=score_counts,
        data_first=first,
        data_last=last,
        rows=int(keep.sum()),
        notes=notes,
        roles=roles,
    )


def _check_analysis_start(first: pd.Timestamp, last: pd.Timestamp, config: VolumeConfig) -> None:
    """Refuse an ``analysis_start`` after the last decision, naming the data's range."""
    if not config.analysis_start:
        return
    start = pd.Timestamp(config.analysis_start)
    start = start.tz_localize(None) if start.tzinfo is not None else start
    if start <= last:
        return
    K = config.baseline_weeks
    raise DataError(
        f"analysis_start {config.analysis_start} is after the end of the data: data starts "
        f"{first:%Y-%m-%d} and ends {last:%Y-%m-%d %H:%M}, so the analysis window would hold no rows. "
        f"Give an analysis_start inside the data and at least baseline_weeks ({K}) after its start "
        f"(on or after {first + pd.Timedelta(weeks=K):%Y-%m-%d}), or leave it empty"
    )


def folded_levels_note(column: str, distinct: int, kept: int, folded: int, folded_rows: int, cap: int) -> str:
    """The report's note on a segment column whose rarer levels were counted as ``"(other)"``."""
    return (
        f"segment column {column!r} has {distinct:,} distinct values: its {kept} most frequent are "
        f"analysed and the other {folded:,} ({folded_rows:,} rows) are counted together as "
        f"{OTHER_LABEL!r} (the max_segment_levels setting, {cap})"
    )


def _cap_levels(
    codes: np.ndarray, levels: list[Any], cap: int, column: str
) -> tuple[np.ndarray, list[Any], str | None]:
    """Keep a segment column's ``cap`` most frequent levels and fold the rest into ``"(other)"``.

    Frequency counts the rows given (those inside the windows); ties are broken
    by label, so the cut does not depend on row order. Missing values (code
    -1) stay missing. Returns the codes and levels unchanged when the column
    has at most ``cap`` levels, and a note for the report when levels were folded.
    Why: the counts are a dense periods x levels x labels array, which an
    id-like column (a million merchants) would make tens of GiB.
    """
    if len(levels) <= cap:
        return codes, levels, None
    frequency = np.bincount(codes[codes >= 0], minlength=len(levels))
    used = np.flatnonzero(frequency)
    if used.size <= cap:
        kept = used  # the surplus levels are unused categories: nothing to fold
    else:
        cut = np.partition(frequency, frequency.size - cap)[frequency.size - cap]  # the cap-th largest count
        above = np.flatnonzero(frequency > cut)
        tied = np.flatnonzero(frequency == cut)
        tied = np.array(sorted(tied, key=lambda i: str(levels[i]))[: cap - above.size], dtype=np.intp)
        kept = np.concatenate([above, tied])
    kept = np.array(sorted(kept, key=lambda i: (-frequency[i], str(levels[i]))), dtype=np.intp)
    folded = np.setdiff1d(used, kept, assume_unique=True)
    folded_rows = int(frequency[folded].sum())
    # Position len(levels) is looked up by code -1 (missing), which stays missing.
    lookup = np.full(len(levels) + 1, len(kept), dtype=np.int32)
    lookup[kept] = np.arange(len(kept), dtype=np.int32)
    lookup[-1] = -1
    kept_levels = [levels[i] for i in kept]
    if not folded.size:
        return lookup[codes], kept_levels, None
    note = folded_levels_note(column, int(used.size), len(kept), int(folded.size), folded_rows, cap)
    return lookup[codes], [*kept_levels, OTHER_LABEL], note


def _override_flags(
    frame: pd.DataFrame, column: str, decision_column: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: overridden (1.0/0.0) and override status known (1.0/0.0)."""
    values = frame[column]
    known = values.notna().to_numpy()
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        numeric = values.astype("float64").to_numpy(na_value=np.nan)
        odd = known & ~np.isin(numeric, (0.0, 1.0))
        if odd.any():
            raise DataError(
                f"override column {column!r} holds numbers other than 0 and 1; expected an "
                "override flag or a final decision label",
                column=column,
            )
        flag = np.where(known, numeric, 0.0)
    else:
        final = values.astype("str")
        flag = (known & (final != frame[decision_column].astype("str")).to_numpy()).astype(float)
    return flag, known.astype(float)


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class MixTest:
    """Chi-square test of a 2 x k table (baseline, current) with effect sizes."""

    chi2: float
    dof: int
    p_value: float
    cramers_v: float
    psi: float


def mix_test(baseline: Sequence[float], current: Sequence[float], *, eps: float = 1e-4) -> MixTest:
    """Pearson chi-square (no continuity correction), Cramér's V and PSI of two count vectors.

    Categories empty in both windows are dropped before the chi-square
    (``scipy.stats.chi2_contingency(..., correction=False)``);
    ``V = sqrt(χ² / (N (min(2, k) - 1)))``; PSI ``Σ (c - b) ln(c / b)`` over
    shares floored at ``eps`` (:func:`mlreport.stats.psi`). NaN when either
    window is empty or fewer than two categories are used.
    """
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(current, dtype=float)
    used = (b + c) > 0
    if b.sum() <= 0 or c.sum() <= 0 or used.sum() < 2:
        return MixTest(math.nan, 0, math.nan, math.nan, math.nan)
    table = np.vstack([b[used], c[used]])
    result = sps.chi2_contingency(table, correction=False)
    chi2 = float(result.statistic)
    v = math.sqrt(chi2 / (table.sum() * (min(table.shape) - 1)))
    return MixTest(chi2, int(result.dof), float(result.pvalue), v, float(psi_of_counts(b, c, eps=eps)))


def shift_share(
    baseline_totals: np.ndarray,
    baseline_counts: np.ndarray,
    current_totals: np.ndarray,
    current_counts: np.ndarray,
) -> pd.DataFrame:
    """Shift-share decomposition of the change in an overall rate across segments.

    With segment weights ``w_s = n_s / n`` and rates ``p_s = x_s / n_s`` in the
    baseline (b) and current (c) windows, and ``p^b`` the overall baseline rate::

        p^c - p^b = Σ_s [ (w_s^c - w_s^b)(p_s^b - p^b)   mix effect: volume moved
                                                          towards segments whose
                                                          rate is above average
                        + w_s^c (p_s^c - p_s^b) ]         within effect: the segment's
                                                          own rate moved

    exactly (the mix term is centred on ``p^b``, which changes nothing in the
    sum because Σ (w^c - w^b) = 0, and makes each segment's term readable). A
    segment new in the current window takes ``p_s^b = p^b``; one absent from
    it has ``w_s^c = 0``. Returns a frame with columns ``baseline_weight,
    current_weight, baseline_rate, current_rate, mix_effect, within_effect,
    contribution`` (rates as fractions), one row per segment.
    """
    nb = np.asarray(baseline_totals, dtype=float)
    xb = np.asarray(baseline_counts, dtype=float)
    nc = np.asarray(current_totals, dtype=float)
    xc = np.asarray(current_counts, dtype=float)
    wb = nb / nb.sum() if nb.sum() > 0 else np.zeros_like(nb)
    wc = nc / nc.sum() if nc.sum() > 0 else np.zeros_like(nc)
    overall_b = xb.sum() / nb.sum() if nb.sum() > 0 else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        pb = np.where(nb > 0, xb / np.where(nb > 0, nb, 1.0), np.nan)
        pc = np.where(nc > 0, xc / np.where(nc > 0, nc, 1.0), np.nan)
    pb_filled = np.where(nb > 0, pb, overall_b)
    mix = (wc - wb) * (pb_filled - overall_b)
    within = np.where(nc > 0, wc * (np.where(nc > 0, pc, 0.0) - pb_filled), 0.0)
    return pd.DataFrame(
        {
            "baseline_weight": wb,
            "current_weight": wc,
            "baseline_rate": pb,
            "current_rate": pc,
            "mix_effect": mix,
            "within_effect": within,
            "contribution": mix + within,
        }
    )


def _episodes(flag: np.ndarray, transparent: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of flagged positions; transparent positions neither break nor join a run."""
    keep = np.flatnonzero(flag | ~transparent)
    if keep.size == 0:
        return []
    marks = flag[keep].astype(np.int8)
    edges = np.diff(np.concatenate(([0], marks, [0])))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1) - 1
    return [(int(keep[a]), int(keep[b])) for a, b in zip(starts, stops)]


def _bh(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values (statsmodels ``fdr_bh``); NaN stays NaN."""
    q = np.full(p_values.shape, np.nan)
    finite = np.isfinite(p_values)
    if finite.any():
        q[finite] = multipletests(p_values[finite], method="fdr_bh")[1]
    return q


# --------------------------------------------------------------------------- result


@dataclass
class _Event:
    """A flagged fact before it becomes a Finding; carries what the headline needs."""

    kind: str  # volume | rate | mix | segment | change
    check: str
    subject: str
    severity: str
    message: str
    phrase: str = ""
    value: float | None = None
    threshold: float | None = None
    method: str = ""
    section: str = ""
    period: str | None = None
    magnitude: float = 0.0
    what: str = ""  # the phrase without its date, for headlines that join two events
    since: str = ""

    def finding(self) -> Finding:
        return Finding(
            check=self.check,
            subject=self.subject,
            severity=self.severity,
            message=self.message,
            value=None if self.value is None or not math.isfinite(self.value) else float(self.value),
            threshold=self.threshold,
            method=self.method,
            section=self.section,
            period=self.period,
        )


@dataclass
class VolumeResult:
    """Tidy tables, findings and headline of one volume analysis.

    Tables (one row per ...):

    ``volume``
        series x period: ``series`` ("overall" or "column=value"),
        ``segment_column``, ``segment_value``, ``period``, ``window``
        ("baseline" / "analysis"), ``exposure``, ``holiday``, ``observed``,
        ``expected``, ``lower`` / ``upper`` (central band at ``p_warning``),
        ``p_value`` (two-sided), ``dispersion`` (φ), ``rule``, ``severity``.
    ``rates``
        decision label (and "override") x period: ``n``, ``count``, ``rate``,
        ``center``, ``lcl`` / ``ucl`` (Laney p′), ``sigma_z``, ``z``, ``ewma``,
        ``ewma_lcl`` / ``ewma_ucl``, ``cusum_upper`` / ``cusum_lower``, ``rule``,
        ``severity``.
    ``mix``
        scope x decision: baseline and current counts and shares, ``change_pp``.
    ``mix_tests``
        scope (overall, each segment level, score bands): chi-square, dof,
        ``p_value``, ``q_value`` (BH across segment levels), ``cramers_v``,
        ``psi``, ``rule``, ``severity``.
    ``contributions``
        segment level x metric ("volume" or "rate:<label>"): see
        :meth:`segment_table`.
    ``score_bands``
        score band: edges, baseline and current counts and shares.
    ``change_points``
        series x change point: ``period``, ``before``, ``after``, ``unit``.
    """

    config: VolumeConfig
    counts: DecisionCounts
    volume: pd.DataFrame
    rates: pd.DataFrame
    mix: pd.DataFrame
    mix_tests: pd.DataFrame
    contributions: pd.DataFrame
    score_bands: pd.DataFrame
    change_points: pd.DataFrame
    findings: list[Finding]
    headline: str
    events: list[_Event] = field(default_factory=list, repr=False)

    @property
    def period(self) -> str:
        return self.counts.period

    @property
    def status(self) -> str:
        return worst(f.severity for f in self.findings)

    def windows(self) -> dict[str, str]:
        """Baseline and analysis windows as ISO text (end exclusive)."""
        c = self.counts
        return {
            "baseline_start": c.baseline_start.isoformat(),
            "analysis_start": c.analysis_start.isoformat(),
            "analysis_end": c.end.isoformat(),
            "period": c.period,
            "timezone": c.timezone or "",
        }

    def thresholds(self) -> dict[str, Any]:
        """Every parameter, threshold and the severity mapping, with the resolved windows."""
        return {**self.config.to_dict(), **self.windows()}

    def methods(self) -> dict[str, str]:
        """Method name -> convention string, for ``summarize(methods=...)``."""
        return {row.method: f"{row.description}; {row.parameters}" for row in self.methods_table().itertuples()}

    def methods_table(self) -> pd.DataFrame:
        """Every method with its parameters and thresholds (the report's methods section)."""
        return _methods_table(self.config, self.counts)

    def overview(self) -> pd.DataFrame:
        """What was analysed: rows, period, windows, series and labels (one column of facts)."""
        c = self.counts
        last = c.end - pd.Timedelta(1, unit="ns")
        facts = {
            "decisions counted": f"{c.rows:,}",
            "period": f"{PERIOD_WORDS[c.period]} ({'inferred' if self.config.period == 'auto' else 'given'})",
            "time zone": c.timezone or "none (naive timestamps taken as local)",
            "baseline window": f"{_fmt_time(c.baseline_start, c.period)} to "
            f"{_fmt_time(c.analysis_start - pd.Timedelta(1, unit='ns'), c.period)} "
            f"({self.config.baseline_weeks} weeks, {self.config.baseline_mode})",
            "analysis window": f"{_fmt_time(c.analysis_start, c.period)} to {_fmt_time(last, c.period)} "
            f"({len(c.periods) - c.baseline_periods} {PERIOD_WORDS[c.period]}s)",
            "decision labels": ", ".join(c.labels),
            "segment columns": ", ".join(f"{k} ({len(v[0])})" for k, v in c.segments.items()) or "none",
            "score bands": f"{len(c.score_edges) + 1} + missing" if c.score_edges is not None else "no score",
            "override rate": "yes" if c.overrides is not None else "no override column",
            "policy version": self.config.version,
        }
        return pd.DataFrame({"value": list(facts.values())}, index=pd.Index(list(facts), name="item"))

    def flagged_volume(self, *, top: int = 20) -> pd.DataFrame:
        """Flagged series-periods, most severe first, then in time order."""
        table = self.volume[self.volume["severity"] != "ok"]
        table = table.assign(rank=-table["severity"].map(severity_rank).astype("int64")).sort_values(["rank", "period", "series"])
        columns = ["series", "period", "observed", "expected", "lower", "upper", "p_value", "rule", "severity"]
        return table[columns].head(top).round({"expected": 1, "lower": 0, "upper": 0}).reset_index(drop=True)

    def change_point_table(self) -> pd.DataFrame:
        """The change points for display: series, when, the means before and after."""
        table = self.change_points.drop(columns=["method"])
        return table.round({"before": 4, "after": 4, "change": 4})

    def most_moved_decision(self) -> str | None:
        """The decision label whose overall share moved most between the windows."""
        overall = self.mix[self.mix["scope"] == "overall"]
        if overall.empty or overall["change_pp"].isna().all():
            return None
        return str(overall.loc[overall["change_pp"].abs().idxmax(), "decision"])

    def metrics(self) -> dict[str, Any]:
        """Key figures for the run record."""
        analysed = self.volume[self.volume["p_value"].notna()]
        rates = self.rates[(self.rates["window"] == "analysis") & (self.rates["n"] > 0)]
        overall = self.mix_tests[self.mix_tests["scope"] == "overall"].iloc[0]
        return {
            "rows": self.counts.rows,
            "period": self.counts.period,
            "series": int(self.volume["series"].nunique()),
            "series_periods_tested": int(len(analysed)),
            "volume_flags": {level: int((analysed["severity"] == level).sum()) for level in ("warning", "incident")},
            "rate_periods": int(len(rates)),
            "rate_flags": {level: int((rates["severity"] == level).sum()) for level in ("warning", "incident")},
            "mix_psi": float(overall["psi"]),
            "mix_cramers_v": float(overall["cramers_v"]),
        }

    def segment_table(self, metric: str = "volume", *, top: int = 20) -> pd.DataFrame:
        """Segment levels ranked by their contribution to the change in ``metric``.

        ``metric`` is "volume", "rate:<label>" (for example "rate:approve") or
        "rate" (the decision whose overall share moved most).
        Volume: observed and expected counts over the analysed periods, their
        difference (the contribution) and its share of the column's total
        change, BH-adjusted q-value. Rates: baseline and current rate of the
        segment (%), mix and within effects and their sum (pp) from
        :func:`shift_share`; they add up to the overall change.
        """
        if metric == "rate":
            label = self.most_moved_decision()
            metric = f"rate:{label}" if label is not None else metric
        table = self.contributions
        table = table[table["metric"] == metric]
        if table.empty:
            return table
        if metric == "volume":
            view = table[[
                "segment_column", "segment_value", "baseline", "expected", "current", "contribution",
                "relative_change", "share_of_change", "q_value", "flags", "severity",
            ]].rename(columns={
                "baseline": "baseline volume", "expected": "expected", "current": "observed",
                "contribution": "observed - expected", "relative_change": "change %",
                "share_of_change": "share of change %",
            })
            view = view.assign(**{
                "change %": view["change %"] * 100, "share of change %": view["share of change %"] * 100,
            })
        else:
            view = table[[
                "segment_column", "segment_value", "baseline", "current", "mix_effect",
                "within_effect", "contribution", "q_value", "flags", "severity",
            ]].rename(columns={
                "baseline": "baseline rate %", "current": "current rate %",
                "mix_effect": "mix effect pp", "within_effect": "within effect pp",
                "contribution": "contribution pp",
            })
            for column in ("baseline rate %", "current rate %", "mix effect pp", "within effect pp", "contribution pp"):
                view[column] = view[column] * 100
        order = table["contribution"].abs().sort_values(ascending=False).index
        return view.loc[order].head(top).round(3).reset_index(drop=True)


# --------------------------------------------------------------------------- analysis: volume


@dataclass
class _Series:
    names: list[str]
    columns: list[str | None]
    values: list[str | None]
    counts: np.ndarray  # [T, S]


def _series(counts: DecisionCounts) -> _Series:
    names, columns, values, matrices = ["overall"], [None], [None], [counts.overall.sum(axis=1)[:, None]]
    for column, (levels, table) in counts.segments.items():
        names += [f"{column}={level}" for level in levels]
        columns += [column] * len(levels)
        values += list(levels)
        matrices.append(table.sum(axis=2))
    return _Series(names, columns, values, np.hstack(matrices).astype(float))


def _phrase(column: str | None, value: str | None) -> str:
    return "overall" if column is None else f"{value} {column}"


def _about(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if value >= 1000:
        return f"{round(value, -2):,.0f}"
    if value >= 100:
        return f"{round(value, -1):,.0f}"
    if value >= 10:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


@dataclass
class _VolumeState:
    series: _Series
    expected: np.ndarray
    ratio: np.ndarray
    dispersion: np.ndarray
    df: np.ndarray
    assessed: np.ndarray
    p_two: np.ndarray
    rule: np.ndarray  # object [T, S]
    severity: np.ndarray  # object [T, S]
    zero: np.ndarray
    tail: np.ndarray
    lags: np.ndarray
    first_seen: np.ndarray


def _analyse_volume_series(counts: DecisionCounts, config: VolumeConfig) -> _VolumeState:
    series = _series(counts)
    y = series.counts
    n_periods, n_series = y.shape
    period = counts.period
    ppw = PERIODS_PER_WEEK[period]
    B = counts.baseline_periods
    t = np.arange(n_periods)[:, None]
    usable = (counts.exposure > 0) & ~counts.holiday
    seen = y > 0
    first_seen = np.where(seen.any(axis=0), seen.argmax(axis=0), n_periods)
    result = seasonal_expected(
        y, counts.exposure, periods_per_week=ppw, baseline_periods=B,
        weeks=config.baseline_weeks, mode=config.baseline_mode, usable=usable, first_seen=first_seen,
    )
    exists = t >= first_seen[None, :]
    expected = np.where(exists, result.expected, np.nan)
    use = usable[:B, None] & exists[:B]
    dispersion = pearson_dispersion(y[:B], counts.exposure[:B], periods_per_week=ppw, use=use)
    # No residual df: no estimate, so Poisson and no t correction.
    phi = np.where(np.isfinite(dispersion.phi), np.maximum(dispersion.phi, 1.0), 1.0)
    df = np.where(np.isfinite(dispersion.phi), dispersion.df, np.inf)
    ratio = phi[None, :] * median_inflation(result.lags_used)
    assessed = (t >= B) & usable[:, None] & np.isfinite(expected) & exists
    # An all-zero baseline slot still allows a surprise: test against half a count over the lags.
    floor = 0.5 * counts.exposure[:, None] / np.maximum(result.lags_used, 1)
    tested = np.where(expected > 0, expected, floor)
    _, _, p_two = count_tail(y, np.where(assessed, tested, np.nan), ratio, df[None, :])
    difference = y - np.where(np.isfinite(expected), expected, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(expected > 0, difference / expected, np.where(y > 0, np.inf, 0.0))
    big = np.abs(difference) >= config.min_change
    extreme = assessed & big & (p_two < config.p_incident) & (np.abs(relative) >= config.rel_incident)
    unusual = assessed & big & (p_two < config.p_warning) & (np.abs(relative) >= config.rel_warning)

    zero = assessed & (y == 0) & (expected >= config.zero_expected_min)
    analysis = slice(B, n_periods)
    for s in range(n_series):
        candidate = (y[analysis, s] == 0) & assessed[analysis, s]
        transparent = ~usable[analysis]
        for start, stop in _episodes(candidate, transparent):
            run = slice(B + start, B + stop + 1)
            inside = assessed[run, s]
            if np.nansum(np.where(inside, expected[run, s], 0.0)) >= config.zero_run_expected:
                zero[run, s] |= inside & (y[run, s] == 0) & (expected[run, s] > 0)

    # Later rules win ties, so the order is the priority: zero > extreme > unusual.
    rule = np.full(y.shape, "", dtype=object)
    rank = np.zeros(y.shape, dtype=np.int64)
    fired = np.zeros(y.shape, dtype=bool)
    for name, mask in (("volume_unusual", unusual), ("volume_extreme", extreme), ("volume_zero", zero)):
        level = severity_rank(config.severity[name])
        stronger = mask & (level >= rank)
        rule[stronger] = name
        rank[stronger] = level
        fired |= mask
    severity = np.array(SEVERITIES, dtype=object)[rank]
    return _VolumeState(
        series=series, expected=expected, ratio=ratio, dispersion=phi, df=df, assessed=assessed, p_two=p_two,
        rule=rule, severity=severity, zero=zero, tail=(extreme | unusual) & ~zero,
        lags=result.lags_used, first_seen=first_seen,
    )


def _volume_table(counts: DecisionCounts, state: _VolumeState, config: VolumeConfig) -> pd.DataFrame:
    y = state.series.counts
    n_periods, n_series = y.shape
    lower, upper = count_band(state.expected, state.ratio, config.p_warning, state.df[None, :])
    window = np.where(np.arange(n_periods) < counts.baseline_periods, "baseline", "analysis")
    return pd.DataFrame(
        {
            "series": np.repeat(state.series.names, n_periods),
            "segment_column": pd.array(np.repeat(state.series.columns, n_periods), dtype="str"),
            "segment_value": pd.array(np.repeat(state.series.values, n_periods), dtype="str"),
            "period": np.tile(counts.periods.to_numpy(), n_series),
            "window": np.tile(window, n_series),
            "exposure": np.tile(counts.exposure, n_series),
            "holiday": np.tile(counts.holiday, n_series),
            "observed": y.T.ravel(),
            "expected": state.expected.T.ravel(),
            "lower": lower.T.ravel(),
            "upper": upper.T.ravel(),
            "p_value": np.where(state.assessed, state.p_two, np.nan).T.ravel(),
            "dispersion": np.repeat(state.dispersion, n_periods),
            "rule": state.rule.T.ravel().astype(str),
            "severity": state.severity.T.ravel().astype(str),
        }
    )


def _volume_events(counts: DecisionCounts, state: _VolumeState, config: VolumeConfig) -> list[_Event]:
    events: list[_Event] = []
    period = counts.period
    word = PERIOD_WORDS[period]
    y = state.series.counts
    B = counts.baseline_periods
    n_periods = y.shape[0]
    usable = (counts.exposure > 0) & ~counts.holiday
    method = (
        BASELINE_METHOD.format(K=config.baseline_weeks, slot="weekday and hour" if period == "H" else
                               ("weekday" if period == "D" else "week"), mode=config.baseline_mode)
        + "; " + DISPERSION_METHOD
    )
    overall_zero = state.zero[B:, 0]
    for s, name in enumerate(state.series.names):
        phrase = _phrase(state.series.columns[s], state.series.values[s])
        sl = slice(B, n_periods)
        obs, exp = y[sl, s], state.expected[sl, s]
        zero = state.zero[sl, s]
        transparent = ~usable[sl] | ((obs == 0) & ~zero)
        for start, stop in _episodes(zero, transparent):
            flagged = zero[start : stop + 1]
            if s > 0 and overall_zero[start : stop + 1][flagged].all():
                continue  # the whole log was empty then: the overall finding says it once
            expected_each = float(np.mean(exp[start : stop + 1][flagged]))
            rest = obs[stop + 1 :]
            ongoing = not (rest > 0).any()
            since = _fmt_time(counts.periods[B + start], period)
            through = _fmt_time(counts.periods[B + stop], period)
            level = config.severity["volume_zero"]
            about = f"expected about {_about(expected_each)} per {word}"
            if ongoing:
                text = f"{phrase} volume 0 since {since}, {about}"
                detail = f"; still 0 at the end of the window ({int(flagged.sum())} flagged {word}s)"
            else:
                text = f"{phrase} volume 0 from {since} to {through}, {about}"
                detail = f" ({int(flagged.sum())} flagged {word}s)"
            events.append(_Event(
                kind="volume", check="volume_zero", subject=name, severity=level,
                message=text + detail, phrase=text, value=0.0, threshold=config.zero_expected_min,
                method=f"hard rule: 0 where the baseline expects >= {config.zero_expected_min:g} per "
                f"{word} (or >= {config.zero_run_expected:g} over a run of zeros); {method}",
                section=SECTIONS["volume"], period=f"{since}/{through}",
                magnitude=1e9 + expected_each * flagged.sum(),
            ))
        tail = state.tail[sl, s]
        if not tail.any():
            continue
        direction = np.sign(obs - np.nan_to_num(exp))
        for sign in (-1.0, 1.0):
            flag = tail & (direction == sign)
            for start, stop in _episodes(flag, ~state.assessed[sl, s]):
                chosen = flag[start : stop + 1]
                observed = float(obs[start : stop + 1][chosen].sum())
                expected = float(exp[start : stop + 1][chosen].sum())
                change = observed / expected - 1 if expected > 0 else math.inf
                levels = state.severity[sl, s][start : stop + 1][chosen]
                level = worst(levels)
                since = _fmt_time(counts.periods[B + start], period)
                through = _fmt_time(counts.periods[B + stop], period)
                p_min = float(np.nanmin(state.p_two[sl, s][start : stop + 1][chosen]))
                change_text = f"{change:+.0%}" if math.isfinite(change) else "up from 0"
                k = int(chosen.sum())
                if k == 1:
                    message = (f"{phrase} volume {observed:,.0f} on {since}, expected about "
                               f"{_about(expected)} ({change_text}, p = {p_min:.1e})")
                else:
                    message = (f"{phrase} volume {change_text} in {k} {word}s from {since} to {through} "
                               f"({observed:,.0f} observed, about {_about(expected)} expected; smallest "
                               f"p = {p_min:.1e})")
                events.append(_Event(
                    kind="volume", check="volume_tail", subject=name, severity=level, message=message,
                    phrase=(f"{phrase} volume {change_text} since {since} (about {_about(observed / k)} "
                            f"per {word}, expected about {_about(expected / k)})"),
                    value=change if math.isfinite(change) else None,
                    threshold=config.rel_incident if level == "incident" else config.rel_warning,
                    method=f"two-sided tail p < {config.p_warning:g} (warning) / {config.p_incident:g} "
                    f"(incident) with abs(obs/exp - 1) >= {config.rel_warning:g} / "
                    f"{config.rel_incident:g} and abs(obs - exp) >= {config.min_change:g}; {method}",
                    section=SECTIONS["volume"], period=f"{since}/{through}",
                    magnitude=abs(change) if math.isfinite(change) else 1e6,
                ))
    return events


# --------------------------------------------------------------------------- analysis: rates


@dataclass
class _RateState:
    label: str
    x: np.ndarray
    n: np.ndarray
    rate: np.ndarray
    center: np.ndarray
    pooled: float
    sigma_z: float
    lcl: np.ndarray
    ucl: np.ndarray
    z: np.ndarray
    ewma: Any
    cusum: Any
    rules: list[list[str]]
    severity: list[str]
    analysed: np.ndarray


def _runs_beyond(side: np.ndarray, analysed: np.ndarray, length: int) -> np.ndarray:
    """Periods in runs of >= ``length`` consecutive analysed periods beyond a limit on one side."""
    flagged = np.zeros(side.shape, dtype=bool)
    for start, stop in _episodes(side, ~analysed):
        if analysed[start : stop + 1].sum() >= length:
            flagged[start : stop + 1] = side[start : stop + 1]
    return flagged


def _cusum_shift(cusum: Any, deviation: np.ndarray, analysed: np.ndarray) -> np.ndarray:
    """Mean deviation over the excursion behind each CUSUM signal (NaN elsewhere).

    The signalling sum has been positive for N periods; the mean of the
    deviations over those periods is the size of the shift it detected.
    """
    shift = np.full(deviation.shape, np.nan)
    positions = np.flatnonzero(analysed)
    running = np.concatenate(([0.0], np.cumsum(deviation[positions])))
    for j, i in enumerate(positions):
        if not cusum.signal[i]:
            continue
        run = int(cusum.upper_run[i] if cusum.upper[i] > cusum.h else cusum.lower_run[i])
        run = max(min(run, j + 1), 1)
        shift[i] = (running[j + 1] - running[j + 1 - run]) / run
    return shift


def _rate_state(label: str, x: np.ndarray, n: np.ndarray, counts: DecisionCounts, config: VolumeConfig) -> _RateState:
    B = counts.baseline_periods
    t = np.arange(len(n))
    usable = (counts.exposure > 0) & ~counts.holiday & (n > 0)
    seasonal = config.rate_baseline == "seasonal"
    slots = t % PERIODS_PER_WEEK[counts.period] if seasonal else None
    chart = laney_p_chart(x, n, usable & (t < B), L=config.laney_L, floor_sigma_z=config.laney_floor,
                          slots=slots)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, x / np.where(n > 0, n, 1.0), np.nan)
    analysed = usable & (t >= B) & np.isfinite(chart.ucl)
    deviation = np.where(analysed, rate - chart.center, np.nan)
    sigma2 = (chart.sigma_z * chart.sigma) ** 2
    # A flat centre is one estimate whose error every analysed period shares (seasonal
    # centres carry their own error inside sigma already).
    phase1_n = n[usable & (t < B)].sum()
    center_variance = (
        chart.sigma_z ** 2 * chart.pooled * (1 - chart.pooled) / phase1_n
        if not seasonal and math.isfinite(chart.pooled) and phase1_n > 0 else 0.0
    )
    ewma = ewma_chart(deviation, 0.0, np.where(analysed, sigma2, np.nan), lam=config.ewma_lambda,
                      L=config.ewma_L, target_variance=center_variance)
    cusum = tabular_cusum(np.where(analysed, chart.z, np.nan), k=config.cusum_k, h=config.cusum_h)
    # Effect-size gate: at bank volumes a tenth of a point is "significant" and immaterial.
    minimum = config.rate_min_pp / 100.0
    with np.errstate(invalid="ignore"):
        material = np.abs(deviation) >= minimum
        above = analysed & (rate > chart.ucl) & material
        below = analysed & (rate < chart.lcl) & material
        extreme = analysed & (np.abs(chart.z) > config.extreme_L) & material
        ewma_out = analysed & ewma.out & (np.abs(ewma.statistic) >= minimum)
    shift = _runs_beyond(above, analysed, config.rate_run) | _runs_beyond(below, analysed, config.rate_run)
    masks = {
        "rate_out": above | below,
        "rate_shift": shift,
        "rate_extreme": extreme,
        "ewma_out": ewma_out,
        "cusum_signal": analysed & cusum.signal & (np.abs(_cusum_shift(cusum, deviation, analysed)) >= minimum),
    }
    rules = [[name for name, mask in masks.items() if mask[i]] for i in range(len(n))]
    severity = [worst(config.severity[r] for r in fired) for fired in rules]
    return _RateState(label, x, n, rate, chart.center, chart.pooled, chart.sigma_z, chart.lcl, chart.ucl,
                      chart.z, ewma, cusum, rules, severity, analysed)


def _rate_states(counts: DecisionCounts, config: VolumeConfig) -> list[_RateState]:
    totals = counts.overall.sum(axis=1).astype(float)
    states = [
        _rate_state(label, counts.overall[:, d].astype(float), totals, counts, config)
        for d, label in enumerate(counts.labels)
    ]
    if counts.overrides is not None and counts.override_known is not None:
        states.append(_rate_state(OVERRIDE_LABEL, counts.overrides, counts.override_known, counts, config))
    return states


def _rates_table(counts: DecisionCounts, states: list[_RateState]) -> pd.DataFrame:
    frames = []
    window = np.where(np.arange(len(counts.periods)) < counts.baseline_periods, "baseline", "analysis")
    for st in states:
        frames.append(pd.DataFrame({
            "decision": st.label,
            "period": counts.periods,
            "window": window,
            "n": st.n,
            "count": st.x,
            "rate": st.rate,
            "center": st.center,
            "lcl": st.lcl,
            "ucl": st.ucl,
            "sigma_z": st.sigma_z,
            "z": st.z,
            "ewma": st.ewma.statistic,
            "ewma_lcl": st.ewma.lcl,
            "ewma_ucl": st.ewma.ucl,
            "cusum_upper": st.cusum.upper,
            "cusum_lower": st.cusum.lower,
            "rule": [",".join(r) for r in st.rules],
            "severity": st.severity,
        }))
    return pd.concat(frames, ignore_index=True)


def _rate_onset(st: _RateState, first: int, change_indices: Sequence[int], B: int, window: int) -> int:
    """When a flagged rate change began, from the change points and the CUSUM.

    Candidates: the latest change point between the analysis start and
    ``first`` (the first period at the finding's severity), and the CUSUM's
    onset estimate for the excursion signalling at ``first`` or starting
    within ``window`` periods after it. The earliest candidate wins (a slow
    drift's change point falls mid-ramp, its CUSUM onset near the start);
    without any, ``first``.
    """
    candidates = [max(i for i in change_indices if B <= i <= first)] if any(
        B <= i <= first for i in change_indices) else []
    signal = st.cusum.signal
    run_start = None
    if signal[first]:
        run_start = first
        while run_start > B and (signal[run_start - 1] or np.isnan(st.cusum.upper[run_start - 1])):
            run_start -= 1
        while not signal[run_start]:
            run_start += 1
    else:
        later = np.flatnonzero(signal[first : first + window + 1])
        run_start = first + int(later[0]) if later.size else None
    if run_start is not None:
        onset = st.cusum.onset(run_start)
        if onset >= B:
            candidates.append(min(onset, first))
    return min(candidates) if candidates else first


def _rate_events(
    counts: DecisionCounts, states: list[_RateState], config: VolumeConfig,
    rate_changes: Mapping[str, Sequence[int]],
) -> list[_Event]:
    events: list[_Event] = []
    period = counts.period
    B = counts.baseline_periods
    groups = {
        "laney": ("rate_shift", "rate_extreme", "rate_out"),
        "ewma": ("ewma_out",),
        "cusum": ("cusum_signal",),
    }
    methods = {
        "laney": _laney_method(config, counts.period)
        + f"; incident: {config.rate_run} consecutive periods beyond the limits on one side or one beyond "
        f"{config.extreme_L:g} σ",
        "ewma": EWMA_METHOD.format(lam=config.ewma_lambda, L=config.ewma_L),
        "cusum": CUSUM_METHOD.format(k=config.cusum_k, h=config.cusum_h),
    }
    for st in states:
        if not math.isfinite(st.pooled):
            continue
        subject = f"decision={st.label}" if st.label != OVERRIDE_LABEL else "override"
        name = f"{st.label} rate" if st.label != OVERRIDE_LABEL else "override rate"
        for group, rules in groups.items():
            fired = np.array([any(r in rules for r in fired) for fired in st.rules])
            if not fired.any():
                continue
            levels = [worst(config.severity[r] for r in st.rules[i] if r in rules) for i in range(len(st.n))]
            level = worst(levels)
            if level == "ok":
                continue
            # Date the finding from its most severe periods, not from an early stray warning.
            first = levels.index(level)
            onset = _rate_onset(st, first, rate_changes.get(st.label, ()), B, PERIODS_PER_WEEK[period])
            # The shift is measured against each period's own centre (seasonally adjusted).
            since_mask = st.analysed & (np.arange(len(st.n)) >= onset)
            weight = st.n[since_mask].sum()
            delta = (st.x[since_mask] - st.n[since_mask] * st.center[since_mask]).sum() / weight
            if level == "warning" and abs(delta) * 100 < config.rate_min_pp:
                continue  # isolated excursions without a sustained move: left in the chart only
            pooled = st.pooled + delta
            since = _fmt_time(counts.periods[onset], period)
            k = int(fired.sum())
            phrase = f"{name} {delta * 100:+.1f} pp since {since}"
            what = {"laney": "beyond the Laney p′ limits", "ewma": "with the EWMA beyond its limits",
                    "cusum": "with the CUSUM above h"}[group]
            message = (
                f"{phrase} ({st.pooled:.1%} in the baseline, {pooled:.1%} since, seasonally adjusted); {k} of "
                f"{int(st.analysed.sum())} {PERIOD_WORDS[period]}s {what}, first at {level} level on "
                f"{_fmt_time(counts.periods[first], period)}"
            )
            threshold = {"laney": config.laney_L, "ewma": config.ewma_L, "cusum": config.cusum_h}[group]
            events.append(_Event(
                kind="rate", check=f"rate_{group}", subject=subject, severity=level, message=message,
                phrase=phrase, what=f"{name} {delta * 100:+.1f} pp", since=since,
                value=delta * 100, threshold=threshold, method=methods[group],
                section=SECTIONS["rates"],
                period=f"{since}/{_fmt_time(counts.periods[-1], period)}", magnitude=abs(delta),
            ))
    return events


# --------------------------------------------------------------------------- analysis: mix and segments


def _window_sums(table: np.ndarray, counts: DecisionCounts) -> tuple[np.ndarray, np.ndarray]:
    """Baseline and current totals of a ``[T, ...]`` count table over usable periods."""
    usable = (counts.exposure > 0) & ~counts.holiday
    B = counts.baseline_periods
    base = table[:B][usable[:B]].sum(axis=0)
    current = table[B:][usable[B:]].sum(axis=0)
    return base.astype(float), current.astype(float)


def _mix_severity(test: MixTest, p: float, config: VolumeConfig, large: str, small: str,
                  psi_gates: tuple[float, float], v_gates: tuple[float, float] | None) -> tuple[str, str]:
    if not math.isfinite(p):
        return "", "ok"
    def passes(i: int, alpha: float) -> bool:
        ok = p < alpha and test.psi >= psi_gates[i]
        return ok and (v_gates is None or test.cramers_v >= v_gates[i])
    if passes(1, config.p_incident):
        return large, config.severity[large]
    if passes(0, config.p_warning):
        return small, config.severity[small]
    return "", "ok"


def _mix_tables(counts: DecisionCounts, config: VolumeConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, tests = [], []
    scopes: list[tuple[str, str | None, str | None, np.ndarray]] = [("overall", None, None, counts.overall)]
    for column, (levels, table) in counts.segments.items():
        scopes += [(f"{column}={level}", column, level, table[:, j, :]) for j, level in enumerate(levels)]
    for scope, column, value, table in scopes:
        base, current = _window_sums(table, counts)
        test = mix_test(base, current, eps=config.psi_epsilon)
        tests.append({"test": "decision mix", "scope": scope, "segment_column": column, "segment_value": value,
                      "baseline_n": base.sum(), "current_n": current.sum(), "chi2": test.chi2, "dof": test.dof,
                      "p_value": test.p_value, "cramers_v": test.cramers_v, "psi": test.psi})
        with np.errstate(divide="ignore", invalid="ignore"):
            base_share = base / base.sum() if base.sum() else np.full(base.shape, np.nan)
            current_share = current / current.sum() if current.sum() else np.full(current.shape, np.nan)
        for d, label in enumerate(counts.labels):
            rows.append({"scope": scope, "segment_column": column, "segment_value": value, "decision": label,
                         "baseline_count": base[d], "current_count": current[d],
                         "baseline_share": base_share[d], "current_share": current_share[d],
                         "change_pp": (current_share[d] - base_share[d]) * 100})
    mix = pd.DataFrame(rows)
    mix_tests = pd.DataFrame(tests)
    segment = mix_tests["segment_column"].notna()
    q = np.full(len(mix_tests), np.nan)
    q[segment.to_numpy()] = _bh(mix_tests.loc[segment, "p_value"].to_numpy(dtype=float))
    q[~segment.to_numpy()] = mix_tests.loc[~segment, "p_value"].to_numpy(dtype=float)
    mix_tests["q_value"] = q
    outcome = []
    for row, q_value in zip(tests, q):
        test = MixTest(row["chi2"], row["dof"], row["p_value"], row["cramers_v"], row["psi"])
        if row["segment_column"] is None:
            outcome.append(_mix_severity(test, q_value, config, "mix_change_large", "mix_change",
                                         (config.mix_psi_warning, config.mix_psi_incident),
                                         (config.mix_v_warning, config.mix_v_incident)))
        else:
            outcome.append(_mix_severity(test, q_value, config, "segment_mix_large", "segment_mix",
                                         (config.mix_psi_warning, config.mix_psi_incident),
                                         (config.mix_v_warning, config.mix_v_incident)))
    mix_tests["rule"] = [o[0] for o in outcome]
    mix_tests["severity"] = [o[1] for o in outcome]
    if counts.score_counts is not None and counts.score_edges is not None:
        base, current = _window_sums(counts.score_counts, counts)
        test = mix_test(base, current, eps=config.psi_epsilon)
        rule, level = _mix_severity(test, test.p_value, config, "score_mix_large", "score_mix",
                                    (config.score_psi_warning, config.score_psi_incident), None)
        score_row = pd.DataFrame([{"test": "score bands", "scope": "score bands", "segment_column": None,
                                   "segment_value": None, "baseline_n": base.sum(), "current_n": current.sum(),
                                   "chi2": test.chi2, "dof": test.dof, "p_value": test.p_value,
                                   "cramers_v": test.cramers_v, "psi": test.psi, "q_value": test.p_value,
                                   "rule": rule, "severity": level}])
        mix_tests = pd.concat([mix_tests, score_row], ignore_index=True)
    return mix, mix_tests


def _score_band_table(counts: DecisionCounts) -> pd.DataFrame:
    if counts.score_counts is None or counts.score_edges is None:
        return pd.DataFrame(columns=["band", "lower", "upper", "baseline_count", "current_count",
                                     "baseline_share", "current_share", "change_pp"])
    edges = counts.score_edges
    lower = np.concatenate(([-np.inf], edges, [np.nan]))
    upper = np.concatenate((edges, [np.inf], [np.nan]))
    names = [f"[{lo:.4g}, {hi:.4g})" for lo, hi in zip(lower[:-1], upper[:-1])] + [MISSING_LABEL]
    base, current = _window_sums(counts.score_counts, counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        bs = base / base.sum() if base.sum() else base * np.nan
        cs = current / current.sum() if current.sum() else current * np.nan
    return pd.DataFrame({"band": names, "lower": lower, "upper": upper, "baseline_count": base,
                         "current_count": current, "baseline_share": bs, "current_share": cs,
                         "change_pp": (cs - bs) * 100})


def _contributions(
    counts: DecisionCounts, state: _VolumeState, mix_tests: pd.DataFrame, config: VolumeConfig
) -> tuple[pd.DataFrame, list[_Event]]:
    events: list[_Event] = []
    series = state.series
    y = series.counts
    B = counts.baseline_periods
    ppw = PERIODS_PER_WEEK[counts.period]
    n_periods = y.shape[0]
    rows: list[dict[str, Any]] = []
    # Volume: observed vs expected over the assessed periods of each segment level.
    segment_index = [s for s in range(len(series.names)) if series.columns[s] is not None]
    slot = np.arange(n_periods) % ppw
    p_values = np.full(len(series.names), np.nan)
    observed = np.zeros(len(series.names))
    expected = np.zeros(len(series.names))
    for s in segment_index:
        assessed = state.assessed[:, s]
        if not assessed.any():
            # Nothing to compare with (a level new in the analysis window): all of its
            # volume is change against an expectation of 0, untested.
            observed[s] = y[B:, s].sum()
            continue
        mu = np.where(assessed, state.expected[:, s], 0.0)
        observed[s] = y[assessed, s].sum()
        expected[s] = mu.sum()
        # Fixed-baseline errors are shared by analysed periods of the same slot (see baseline.py).
        same_slot = np.bincount(slot[assessed], minlength=ppw)[slot]
        with np.errstate(divide="ignore", invalid="ignore"):
            inflation = 1.0 + math.pi / (2.0 * np.maximum(state.lags[:, s], 1)) * same_slot
        variance = state.dispersion[s] * np.sum(mu * inflation)
        if expected[s] > 0:
            _, _, p = count_tail(np.array([observed[s]]), np.array([expected[s]]),
                                 np.array([variance / expected[s]]), state.df[s])
            p_values[s] = p[0]
    q_values = np.full(len(series.names), np.nan)
    q_values[segment_index] = _bh(p_values[segment_index])
    baseline_volume = y[:B].sum(axis=0)
    current_volume = y[B:].sum(axis=0)
    column_change: dict[str, float] = {}
    for s in segment_index:
        column_change[series.columns[s]] = column_change.get(series.columns[s], 0.0) + (observed[s] - expected[s])
    for s in segment_index:
        column, value = series.columns[s], series.values[s]
        change = observed[s] - expected[s]
        relative = change / expected[s] if expected[s] > 0 else math.nan
        flags = []
        new = baseline_volume[s] == 0 and current_volume[s] > 0
        if new:
            flags.append(f"new since {_fmt_time(counts.periods[int(state.first_seen[s])], counts.period)}")
        zero_periods = np.flatnonzero(state.zero[B:, s])
        if zero_periods.size and not (y[B + zero_periods[-1] + 1 :, s] > 0).any():
            flags.append(f"0 since {_fmt_time(counts.periods[B + zero_periods[0]], counts.period)}")
        rule, level = ("segment_new", config.severity["segment_new"]) if new else ("", "ok")
        q = q_values[s]
        big = abs(change) >= config.min_change
        if math.isfinite(q) and big:
            if q < config.p_incident and abs(relative) >= config.rel_incident:
                rule, level = "segment_volume_large", config.severity["segment_volume_large"]
            elif q < config.p_warning and abs(relative) >= config.rel_warning:
                rule, level = "segment_volume", config.severity["segment_volume"]
        total = column_change[column]
        rows.append({"segment_column": column, "segment_value": value, "metric": "volume",
                     "baseline": float(baseline_volume[s]), "current": observed[s], "expected": expected[s],
                     "change": change, "relative_change": relative, "mix_effect": np.nan,
                     "within_effect": np.nan, "contribution": change,
                     "share_of_change": change / total if total else np.nan, "p_value": p_values[s],
                     "q_value": q, "flags": "; ".join(flags), "rule": rule, "severity": level})
        phrase = _phrase(column, value)
        if new:
            events.append(_Event(
                kind="segment", check="segment_new", subject=series.names[s],
                severity=config.severity["segment_new"],
                message=f"{phrase}: no volume in the baseline, {current_volume[s]:,.0f} decisions since "
                f"{_fmt_time(counts.periods[int(state.first_seen[s])], counts.period)} (not tested: no baseline)",
                phrase=f"new segment {phrase}", value=float(current_volume[s]), method="baseline volume = 0",
                section=SECTIONS["segments"], magnitude=float(current_volume[s]),
            ))
        if level != "ok" and rule != "segment_new":
            events.append(_Event(
                kind="segment", check=rule, subject=series.names[s], severity=level,
                message=f"{phrase} volume {relative:+.0%} over the analysis window ({observed[s]:,.0f} "
                f"observed, about {_about(expected[s])} expected; BH q = {q:.1e})",
                phrase=f"{phrase} volume {relative:+.0%} over the analysis window",
                value=relative, threshold=config.rel_incident if level == "incident" else config.rel_warning,
                method="window total vs the sum of seasonal expectations, quasi-Poisson with the shared "
                "baseline error of same-slot periods, Benjamini-Hochberg across all segment levels",
                section=SECTIONS["segments"], magnitude=abs(relative),
            ))
    # Rates: shift-share per decision label and segment column.
    tests = mix_tests.set_index("scope")
    for column, (levels, table) in counts.segments.items():
        base, current = _window_sums(table, counts)  # [L, D]
        nb, nc = base.sum(axis=1), current.sum(axis=1)
        for d, label in enumerate(counts.labels):
            parts = shift_share(nb, base[:, d], nc, current[:, d])
            overall_change = (current[:, d].sum() / nc.sum() if nc.sum() else math.nan) - (
                base[:, d].sum() / nb.sum() if nb.sum() else math.nan)
            for j, level in enumerate(levels):
                scope = f"{column}={level}"
                test = tests.loc[scope] if scope in tests.index else None
                flags = []
                pb, pc = parts.at[j, "baseline_rate"], parts.at[j, "current_rate"]
                rule, severity = "", "ok"
                if test is not None and nc[j] > 0 and math.isfinite(pb) and 0.0 < pb < 1.0 and pc in (0.0, 1.0):
                    probability = (1.0 - pb) ** nc[j] if pc == 0.0 else pb ** nc[j]
                    if probability < config.p_incident:
                        flags.append(f"{label} share {pc:.0%} (baseline {pb:.1%})")
                        rule, severity = "segment_share_extreme", config.severity["segment_share_extreme"]
                        events.append(_Event(
                            kind="segment", check=rule, subject=scope, severity=severity,
                            message=f"{_phrase(column, level)}: {label} share {pc:.0%} in the current window "
                            f"({nc[j]:,.0f} decisions) against {pb:.1%} in the baseline",
                            phrase=f"{_phrase(column, level)} {label} share {pc:.0%}", value=pc * 100,
                            threshold=config.p_incident,
                            method="binomial probability of a 0 % or 100 % share under the baseline share",
                            section=SECTIONS["segments"], magnitude=abs(pc - pb),
                        ))
                rows.append({
                    "segment_column": column, "segment_value": level, "metric": f"rate:{label}",
                    "baseline": pb, "current": pc, "expected": np.nan,
                    "change": pc - pb if math.isfinite(pb) and math.isfinite(pc) else np.nan,
                    "relative_change": np.nan, "mix_effect": parts.at[j, "mix_effect"],
                    "within_effect": parts.at[j, "within_effect"], "contribution": parts.at[j, "contribution"],
                    "share_of_change": parts.at[j, "contribution"] / overall_change if overall_change else np.nan,
                    "p_value": float(test["p_value"]) if test is not None else np.nan,
                    "q_value": float(test["q_value"]) if test is not None else np.nan,
                    "flags": "; ".join(flags), "rule": rule or (test["rule"] if test is not None else ""),
                    "severity": worst([severity, test["severity"] if test is not None else "ok"]),
                })
    table = pd.DataFrame(rows, columns=[
        "segment_column", "segment_value", "metric", "baseline", "current", "expected", "change",
        "relative_change", "mix_effect", "within_effect", "contribution", "share_of_change", "p_value",
        "q_value", "flags", "rule", "severity"])
    if not table.empty:
        table["rank"] = table.groupby("metric")["contribution"].transform(
            lambda c: c.abs().rank(ascending=False, method="first")).astype(int)
    else:
        table["rank"] = pd.Series(dtype=int)
    return table, events


def _mix_events(mix: pd.DataFrame, mix_tests: pd.DataFrame, counts: DecisionCounts, config: VolumeConfig) -> list[_Event]:
    events: list[_Event] = []
    windows = (f"baseline {_fmt_time(counts.baseline_start, counts.period)} to "
               f"{_fmt_time(counts.analysis_start - pd.Timedelta(1, unit='ns'), counts.period)}, current "
               f"{_fmt_time(counts.analysis_start, counts.period)} to "
               f"{_fmt_time(counts.end - pd.Timedelta(1, unit='ns'), counts.period)}")
    for row in mix_tests.itertuples():
        if row.severity == "ok":
            continue
        if row.test == "score bands":
            events.append(_Event(
                kind="mix", check=row.rule, subject="score bands", severity=row.severity,
                message=f"score-band mix changed ({windows}): PSI {row.psi:.3f}, chi-square p = {row.p_value:.1e}",
                phrase=f"score-band mix PSI {row.psi:.3f}", value=row.psi,
                threshold=config.score_psi_incident if row.severity == "incident" else config.score_psi_warning,
                method=f"{config.score_bands} baseline score quantile bands (+ missing); chi-square without "
                f"continuity correction; PSI eps {config.psi_epsilon:g}",
                section=SECTIONS["mix"], magnitude=row.psi,
            ))
            continue
        shares = mix[mix["scope"] == row.scope]
        moved = shares.reindex(shares["change_pp"].abs().sort_values(ascending=False).index).head(2)
        detail = ", ".join(f"{r.decision} {r.change_pp:+.1f} pp" for r in moved.itertuples())
        overall = row.segment_column is None or (isinstance(row.segment_column, float) and math.isnan(row.segment_column))
        subject = "overall" if overall else row.scope
        where = "decision mix" if overall else f"{_phrase(row.segment_column, row.segment_value)} decision mix"
        p_text = f"p = {row.p_value:.1e}" if overall else f"BH q = {row.q_value:.1e}"
        events.append(_Event(
            kind="mix" if overall else "segment", check=row.rule, subject=subject, severity=row.severity,
            message=f"{where} changed ({windows}): {detail} (chi-square {p_text}, PSI {row.psi:.4f}, "
            f"Cramér's V {row.cramers_v:.3f})",
            phrase=f"{where}: {detail}", value=row.psi,
            threshold=config.mix_psi_incident if row.severity == "incident" else config.mix_psi_warning,
            method=f"chi-square (scipy chi2_contingency, no continuity correction) gated by PSI >= "
            f"{config.mix_psi_warning:g}/{config.mix_psi_incident:g} and Cramér's V >= "
            f"{config.mix_v_warning:g}/{config.mix_v_incident:g} (warning/incident); PSI eps "
            f"{config.psi_epsilon:g}" + ("" if overall else "; Benjamini-Hochberg across segment levels"),
            section=SECTIONS["mix"] if overall else SECTIONS["segments"], magnitude=row.psi,
        ))
    return events


# --------------------------------------------------------------------------- analysis: change points


def _segment_means(values: np.ndarray, weights: np.ndarray, cuts: Sequence[int]) -> list[float]:
    bounds = [0, *cuts, len(values)]
    means = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        w = weights[a:b].sum()
        means.append(float(values[a:b].sum() / w) if w > 0 else math.nan)
    return means


def _change_points(
    counts: DecisionCounts, state: _VolumeState, rates: list[_RateState], config: VolumeConfig,
    volume_series: Sequence[int],
) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    rows = []
    rate_changes: dict[str, list[int]] = {}
    usable = (counts.exposure > 0) & ~counts.holiday
    y = state.series.counts
    method = CHANGEPOINT_METHOD.format(min_size=config.changepoint_min_size, factor=config.changepoint_penalty)
    for s in volume_series:
        e = state.expected[:, s]
        ok = usable & np.isfinite(e) & (e > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(ok, (y[:, s] - e) / np.sqrt(state.ratio[:, s] * e), np.nan)
        found = change_points(z, min_size=config.changepoint_min_size, penalty_factor=config.changepoint_penalty)
        observed = np.where(ok, y[:, s], 0.0)
        means = _segment_means(observed, np.where(ok, e, 0.0), found.indices)
        for i, index in enumerate(found.indices):
            rows.append({"series": state.series.names[s], "metric": "volume / expected",
                         "period": counts.periods[index], "before": means[i], "after": means[i + 1],
                         "unit": "ratio", "method": method})
    for st in rates:
        if not math.isfinite(st.pooled):
            continue
        ok = usable & (st.n > 0)
        found = change_points(np.where(ok, st.z, np.nan), min_size=config.changepoint_min_size,
                              penalty_factor=config.changepoint_penalty)
        rate_changes[st.label] = found.indices
        means = _segment_means(np.where(ok, st.x, 0.0), np.where(ok, st.n, 0.0), found.indices)
        for i, index in enumerate(found.indices):
            rows.append({"series": f"{st.label} rate", "metric": "rate", "period": counts.periods[index],
                         "before": means[i], "after": means[i + 1], "unit": "share", "method": method})
    table = pd.DataFrame(rows, columns=["series", "metric", "period", "before", "after", "unit", "method"])
    table["change"] = table["after"] - table["before"]
    return table, rate_changes


def _change_events(table: pd.DataFrame, counts: DecisionCounts, config: VolumeConfig,
                   subjects: set[str]) -> list[_Event]:
    events = []
    level = config.severity["change_point"]
    for row in table.itertuples():
        if row.series not in subjects:
            continue
        if row.unit == "share":
            text = f"{row.series} changed at {_fmt_time(row.period, counts.period)}: {row.before:.1%} -> {row.after:.1%}"
        else:
            text = (f"{row.series} volume changed at {_fmt_time(row.period, counts.period)}: "
                    f"{row.before:.2f} -> {row.after:.2f} times the seasonal expectation")
        events.append(_Event(kind="change", check="change_point", subject=row.series, severity=level,
                             message=text, value=float(row.change), method=row.method,
                             section=SECTIONS["changes"], period=_fmt_time(row.period, counts.period)))
    return events


# --------------------------------------------------------------------------- assembly


def _ok_events(events: list[_Event], counts: DecisionCounts, state: _VolumeState,
               rates: list[_RateState], mix_tests: pd.DataFrame) -> list[_Event]:
    """One ``ok`` finding per section that raised nothing, saying what was checked."""
    raised = {e.section for e in events if e.severity != "ok"}
    period_word = PERIOD_WORDS[counts.period]
    n_analysed = int(len(counts.periods) - counts.baseline_periods)
    extra = []
    if SECTIONS["volume"] not in raised:
        extra.append(_Event(kind="volume", check="volume", subject="all series", severity="ok",
                            message=f"volume of {len(state.series.names)} series within the seasonal band in "
                            f"all {n_analysed} analysed {period_word}s", section=SECTIONS["volume"]))
    if SECTIONS["rates"] not in raised:
        labels = ", ".join(st.label for st in rates)
        extra.append(_Event(kind="rate", check="rates", subject="all decisions", severity="ok",
                            message=f"decision rates ({labels}) within the Laney p′, EWMA and CUSUM limits",
                            section=SECTIONS["rates"]))
    if SECTIONS["mix"] not in raised:
        overall = mix_tests[mix_tests["scope"] == "overall"].iloc[0]
        extra.append(_Event(kind="mix", check="mix_change", subject="overall", severity="ok",
                            message=f"decision mix stable between baseline and current windows (PSI "
                            f"{overall['psi']:.4f}, Cramér's V {overall['cramers_v']:.3f}, p = "
                            f"{overall['p_value']:.1e})", value=float(overall["psi"]), section=SECTIONS["mix"]))
    if SECTIONS["segments"] not in raised:
        extra.append(_Event(kind="segment", check="segments", subject="all segments", severity="ok",
                            message="no segment's volume or decision mix moved beyond the gates "
                            "(Benjamini-Hochberg across segment levels)", section=SECTIONS["segments"]))
    for note in counts.notes:
        extra.append(_Event(kind="volume", check="coverage", subject="data", severity="ok", message=note,
                            section=SECTIONS["volume"]))
    return extra


def _rate_headline(flagged: list[_Event]) -> tuple[int, str] | None:
    """The one or two most severe, largest rate moves, joined when they share a date.

    A threshold change usually moves two shares at once (refer into approve),
    and the headline should say both.
    """
    best: dict[str, _Event] = {}
    for event in flagged:
        if event.kind != "rate":
            continue
        kept = best.get(event.subject)
        if kept is None or (severity_rank(event.severity), event.magnitude) > (severity_rank(kept.severity), kept.magnitude):
            best[event.subject] = event
    if not best:
        return None
    ranked = sorted(best.values(), key=lambda e: (-severity_rank(e.severity), -e.magnitude))
    lead = ranked[0]
    second = ranked[1] if len(ranked) > 1 and ranked[1].severity == lead.severity else None
    if second is None:
        return severity_rank(lead.severity), lead.phrase
    if second.since == lead.since:
        return severity_rank(lead.severity), f"{lead.what} and {second.what} since {lead.since}"
    return severity_rank(lead.severity), f"{lead.phrase}, {second.phrase}"


def _headline(events: list[_Event], counts: DecisionCounts) -> str:
    status = worst(e.severity for e in events)
    if status == "ok":
        last = counts.end - pd.Timedelta(1, unit="ns")
        return (f"Healthy: volume within the seasonal baseline and decision rates within control limits, "
                f"{_fmt_time(counts.analysis_start, counts.period)} to {_fmt_time(last, counts.period)}.")
    flagged = [e for e in events if e.severity != "ok" and e.phrase]
    def top(kinds: tuple[str, ...], checks: tuple[str, ...] | None = None) -> _Event | None:
        pool = [e for e in flagged if e.kind in kinds and (checks is None or e.check in checks)]
        if not pool:
            return None
        return max(pool, key=lambda e: (severity_rank(e.severity), e.magnitude))
    parts: list[tuple[int, str]] = []
    volume = top(("volume",)) or top(("segment",), ("segment_volume", "segment_volume_large"))
    if volume is not None:
        parts.append((severity_rank(volume.severity), volume.phrase))
    rate_parts = _rate_headline(flagged)
    if rate_parts:
        parts.append(rate_parts)
    parts = [text for _, text in sorted(parts, key=lambda part: -part[0])]
    if not parts:
        other = top(("mix", "segment", "volume", "rate"))
        parts.append(other.phrase if other else "see findings")
    return f"{status.capitalize()}: " + "; ".join(parts)


def analyse_counts(counts: DecisionCounts, config: VolumeConfig | None = None) -> VolumeResult:
    """Test :class:`DecisionCounts` and return a :class:`VolumeResult` (see the module docstring)."""
    config = config or VolumeConfig()
    state = _analyse_volume_series(counts, config)
    volume = _volume_table(counts, state, config)
    events = _volume_events(counts, state, config)
    rates = _rate_states(counts, config)
    mix, mix_tests = _mix_tables(counts, config)
    contributions, segment_events = _contributions(counts, state, mix_tests, config)
    events += segment_events
    events += _mix_events(mix, mix_tests, counts, config)
    flagged_series = [0] + [
        s for s in range(1, len(state.series.names))
        if any(e.subject == state.series.names[s] and e.severity != "ok" for e in events)
    ]
    changes, rate_changes = _change_points(counts, state, rates, config, flagged_series)
    events += _rate_events(counts, rates, config, rate_changes)
    subjects = {state.series.names[s] for s in flagged_series if s > 0}
    subjects |= {f"{e.subject.split('=', 1)[-1]} rate" for e in events if e.kind == "rate" and e.severity != "ok"}
    subjects |= {"override rate"} if any(e.subject == "override" and e.severity != "ok" for e in events) else set()
    events += _change_events(changes, counts, config, subjects | {"overall"})
    events += _ok_events(events, counts, state, rates, mix_tests)
    ordered = sorted(events, key=lambda e: -severity_rank(e.severity))
    return VolumeResult(
        config=config,
        counts=counts,
        volume=volume,
        rates=_rates_table(counts, rates),
        mix=mix,
        mix_tests=mix_tests,
        contributions=contributions,
        score_bands=_score_band_table(counts),
        change_points=changes,
        findings=[e.finding() for e in ordered],
        headline=_headline(events, counts),
        events=ordered,
    )


def analyse_volume(
    frame: pd.DataFrame,
    config: VolumeConfig | None = None,
    *,
    timestamp_column: str,
    decision_column: str,
    segment_columns: Sequence[str] = (),
    score_column: str | None = None,
    override_column: str | None = None,
    decision_labels: Sequence[str] | None = None,
) -> VolumeResult:
    """Decision-volume analysis of a decision log: :func:`count_decisions` then :func:`analyse_counts`.

    Column roles are arguments (see :func:`resolve_roles` to fill them from a
    model spec); ``config`` holds the method parameters and thresholds.
    """
    config = config or VolumeConfig()
    counts = count_decisions(
        frame, config, timestamp_column=timestamp_column, decision_column=decision_column,
        segment_columns=segment_columns, score_column=score_column, override_column=override_column,
        decision_labels=decision_labels,
    )
    return analyse_counts(counts, config)


# --------------------------------------------------------------------------- methods


def _laney_method(config: VolumeConfig, period: str) -> str:
    floor = ", floored at 1" if config.laney_floor else ""
    if config.rate_baseline == "flat":
        return LANEY_METHOD.format(L=config.laney_L, floor=floor)
    slot = {"H": "hour of the week", "D": "weekday", "W": "every week"}[period]
    return LANEY_SEASONAL_METHOD.format(L=config.laney_L, floor=floor, slot=slot)


def _methods_table(config: VolumeConfig, counts: DecisionCounts) -> pd.DataFrame:
    period = counts.period
    slot = {"H": "weekday and hour", "D": "weekday", "W": "week"}[period]
    rows = [
        ("periods", f"local wall-clock {PERIOD_WORDS[period]}s on a complete grid (missing periods count 0); "
         "exposure = real length / nominal length (daylight saving)",
         f"period {period} ({'inferred' if config.period == 'auto' else 'given'}), time zone "
         f"{counts.timezone or 'none (naive timestamps)'}"),
        ("windows", "baseline = the K weeks before the analysis start; analysis = from there to the end",
         f"baseline {counts.baseline_start:%Y-%m-%d} to {counts.analysis_start:%Y-%m-%d}, analysis "
         f"{counts.analysis_start:%Y-%m-%d} to {counts.end:%Y-%m-%d} (end exclusive); holidays "
         f"{list(config.holidays) or 'none'}"),
        ("seasonal baseline", BASELINE_METHOD.format(K=config.baseline_weeks, slot=slot, mode=config.baseline_mode),
         f"K {config.baseline_weeks}, mode {config.baseline_mode}"),
        ("overdispersion and tail probability", DISPERSION_METHOD, f"band at p {config.p_warning:g}"),
        ("volume rules", "zero rule; tail probability with effect gates",
         f"zero: expected >= {config.zero_expected_min:g} (run total >= {config.zero_run_expected:g}); "
         f"warning p < {config.p_warning:g} and abs(rel) >= {config.rel_warning:g}; incident p < "
         f"{config.p_incident:g} and abs(rel) >= {config.rel_incident:g}; abs(obs - exp) >= {config.min_change:g}"),
        ("Laney p′ chart", _laney_method(config, period),
         f"L {config.laney_L:g}; incident: {config.rate_run} consecutive beyond one limit or one beyond "
         f"{config.extreme_L:g} σ; every rate flag also needs a move of >= {config.rate_min_pp:g} pp"),
        ("EWMA", EWMA_METHOD.format(lam=config.ewma_lambda, L=config.ewma_L),
         f"λ {config.ewma_lambda:g}, L {config.ewma_L:g}"),
        ("CUSUM", CUSUM_METHOD.format(k=config.cusum_k, h=config.cusum_h),
         f"k {config.cusum_k:g}, h {config.cusum_h:g}"),
        ("decision-mix change", "Pearson chi-square on the 2 x k table (scipy chi2_contingency, no continuity "
         "correction), Cramér's V, PSI of the decision shares",
         f"warning p < {config.p_warning:g}, PSI >= {config.mix_psi_warning:g}, V >= {config.mix_v_warning:g}; "
         f"incident p < {config.p_incident:g}, PSI >= {config.mix_psi_incident:g}, V >= {config.mix_v_incident:g}; "
         f"PSI eps {config.psi_epsilon:g}"),
        ("score-band mix", "baseline score quantile bands (+ a missing band), chi-square and PSI",
         f"{config.score_bands} bands; warning PSI >= {config.score_psi_warning:g}, incident PSI >= "
         f"{config.score_psi_incident:g}"),
        ("segment contributions", "volume: observed - expected per segment level, share of the column's "
         "change; rates: shift-share Δp = Σ (w^c - w^b)(p_s^b - p^b) + w^c (p_s^c - p_s^b)",
         f"ranked by absolute contribution; at most {config.max_segment_levels} levels per column (the rest "
         f"counted as {OTHER_LABEL!r}); at most {config.max_decision_labels} decision labels"),
        ("segment tests", "window volume (quasi-Poisson, shared baseline error) and decision mix (chi-square) "
         "per segment level; Benjamini-Hochberg (statsmodels fdr_bh) across all levels of all segment columns",
         f"q < {config.p_warning:g} warning, < {config.p_incident:g} incident, with the effect gates above; "
         "0 %/100 % share: binomial probability < p_incident"),
        ("change points", CHANGEPOINT_METHOD.format(min_size=config.changepoint_min_size,
                                                    factor=config.changepoint_penalty),
         "volume: (obs - exp)/sd; rates: Laney-standardised z"),
        ("severity mapping", "rule -> severity, overridable by the model spec",
         ", ".join(f"{rule} {level}" for rule, level in config.severity.items())),
        ("policy version", "VolumeConfig.version", config.version),
    ]
    return pd.DataFrame(rows, columns=["method", "description", "parameters"])
