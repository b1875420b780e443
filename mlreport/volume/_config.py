"""The volume analysis's policy: its parameters, thresholds and rule -> severity mapping.

:class:`VolumeConfig` holds every parameter and threshold of the volume
analysis (windows and periods, the volume, rate, mix and change-point tests,
input limits) as one versioned policy; :func:`config_from_parameters` builds
it from a model spec's ``[thresholds.volume]`` table, overrides and the
notebook's parameters.

Error budget
------------
A report makes thousands of tests (every hour of every segment, every
decision rate, every segment level), so a per-test threshold would make
almost every clean report alarm. The report has one false-alarm budget
instead: with no change in the data it is **warning or worse with probability
at most** ``alpha_warning`` (5 %) and **an incident with probability at most**
``alpha_incident`` (1 %). Each family of checks gets a share of both
(:data:`ALPHA_SHARES`, overridable with ``alpha_shares``), and each controls
its own share over its own number of tests:

================  =====  =================================================================
family            share  how the family spends it
================  =====  =================================================================
volume_tail       0.175  per series-period tail test: Bonferroni over the m series-periods
volume_zero       0.175  runs of zero periods: probability of the run < α/m (Bonferroni
                         over the m series-periods where a run can start)
rate_laney        0.150  Laney p′ limits at the Bonferroni z over decision labels x periods
rate_shift        0.050  rate_run consecutive periods beyond a limit L on one side:
                         2 m Φ(-L)^run over labels x periods
rate_ewma         0.075  EWMA limit L from its run-length distribution over the window
rate_cusum        0.075  CUSUM interval h from its run-length distribution over the window
mix               0.050  overall decision mix from its onset: Bonferroni over the onsets
score_mix         0.050  score-band mix, baseline against the current window
segment_volume    0.100  segment volume from its onset: Bonferroni over onsets,
                         Benjamini-Hochberg over segment levels
segment_mix       0.100  segment decision mix from its onset, the same way; also the
                         0 %/100 % share rule
================  =====  =================================================================

A family's warning rule fires at ``alpha_warning x share`` and its incident
rule at ``alpha_incident x share``, so that by the union bound the report's
two probabilities are at most the two budgets. Benjamini-Hochberg controls
the family-wise error when nothing changed, which is the case the budget is
about. Change points only date findings (severity ``ok``) and spend nothing.
Every resolved threshold (the per-test p, L, h, the zero rule's minimum
expected count) is printed in the report's methods table. A threshold given
explicitly (``p_warning``, ``laney_L``, ``ewma_L``, ``cusum_h``, ...) replaces
the budget's for its rule, as a versioned policy may want.

Severity mapping
----------------
Rules fire on tests and thresholds of :class:`VolumeConfig`; the mapping from
rule to severity is ``VolumeConfig.severity`` (a model spec may override any
entry, including to ``"ok"`` to silence a rule). Defaults:

=======================  =========  ==========================================================
rule                     severity   fires when
=======================  =========  ==========================================================
volume_zero              incident   a run of zero periods (one or more; in daily and weekly
                                    reports found on the hourly counts) whose probability
                                    under the baseline is below the zero share / m
volume_extreme           incident   tail p below the incident per-test level, abs(obs/exp - 1)
                                    >= rel_incident and abs(obs - exp) >= min_change
volume_unusual           warning    tail p below the warning per-test level, abs(obs/exp - 1)
                                    >= rel_warning and abs(obs - exp) >= min_change
rate_shift               incident   rate_run consecutive periods beyond the run limit on the
                                    same side
rate_extreme             incident   a period beyond the Laney limits at the incident level
rate_out                 warning    a period beyond the Laney limits at the warning level
ewma_out                 warning    the EWMA of the rate beyond its limits
cusum_signal             warning    tabular CUSUM C⁺ or C⁻ above h
                                    (all rate rules: and at least rate_min_pp from the centre)
mix_change_large         incident   overall decision mix from its onset: adjusted p below the
                                    incident level, PSI >= mix_psi_incident and Cramér's V >=
                                    mix_v_incident
mix_change               warning    the same at the warning level, mix_psi_warning, mix_v_warning
score_mix_large          incident   score-band mix: p below the incident level and PSI >=
                                    score_psi_incident
score_mix                warning    score-band mix: p below the warning level and PSI >=
                                    score_psi_warning
segment_volume_large     incident   segment volume from its onset: BH q below the incident
                                    level and the incident effect gates of volume_extreme
segment_volume           warning    the same at the warning level and gates
segment_mix_large        incident   segment decision mix from its onset: BH q and the incident
                                    gates of mix
segment_mix              warning    BH q and the warning gates of mix
segment_share_extreme    incident   a decision share of a segment is 0 % or 100 % from its
                                    onset while the baseline share makes that improbable
segment_new              warning    a segment level with no baseline volume appears
timestamp_missing_large  incident   at least untimed_incident (5 %) of the rows have no timestamp
timestamp_missing        warning    at least untimed_warning (0.1 %) of the rows have none
change_point             ok         a change point of a monitored series (for dating only)
=======================  =========  ==========================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from ..counts import CountGrid
from ..errors import ParameterError
from ..findings import SEVERITIES
from ..stats import BASELINE_MODES

if TYPE_CHECKING:
    from ..spec import ModelSpec

__all__ = ["ALPHA_SHARES", "DEFAULT_SEVERITY", "VolumeConfig", "config_from_parameters"]


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
    "timestamp_missing_large": "incident",
    "timestamp_missing": "warning",
    "change_point": "ok",
}
"""Rule -> severity (the table in the module docstring)."""

ALPHA_SHARES: dict[str, float] = {
    "volume_tail": 0.175,
    "volume_zero": 0.175,
    "rate_laney": 0.15,
    "rate_shift": 0.05,
    "rate_ewma": 0.075,
    "rate_cusum": 0.075,
    "mix": 0.05,
    "score_mix": 0.05,
    "segment_volume": 0.10,
    "segment_mix": 0.10,
}
"""Each family's share of the report's false-alarm budget (the table in the module docstring); they sum to 1."""


@dataclass(frozen=True)
class VolumeConfig(CountGrid):
    """Parameters and thresholds of the volume analysis (a versioned policy).

    Windows and periods
        ``period`` "H", "D", "W" or "auto" (the finest period with a mean of at
        least ``infer_min_count`` decisions per period); ``baseline_weeks`` K = 4;
        ``baseline_mode`` "fixed" (the K weeks before ``analysis_start``) or
        "rolling" (the K weeks before each period); ``analysis_start`` / ``analysis_end``
        (wall-clock dates; default: data start + K weeks, end of data; a first
        or last period the data covers only in part is graded by its covered
        share of expected volume, see :mod:`mlreport.volume`);
        ``holidays`` dates left out of the baseline and not flagged;
        ``timezone`` for local wall-clock periods (default: the data's own zone;
        naive data without it is taken as is).
    Error budget
        ``alpha_warning`` 0.05 and ``alpha_incident`` 0.01: the probability that
        a report on unchanged data is warning or worse, and an incident;
        ``alpha_shares`` overrides entries of :data:`ALPHA_SHARES` (the shares
        must sum to at most 1). See the module docstring.
    Volume
        ``p_warning`` / ``p_incident``: per-test two-sided tail levels (default
        None: from the budget, Bonferroni over the series-periods tested; also
        the segments' BH levels), ``rel_warning`` 0.2 / ``rel_incident`` 0.5
        (abs(observed/expected - 1)), ``min_change`` 10 counts;
        ``zero_expected_min`` / ``zero_run_expected`` (default None: a run of
        zeros is judged by its probability under the baseline; given, the
        older fixed rule: one zero where the baseline expects at least
        ``zero_expected_min``, a run whose expected total is at least
        ``zero_run_expected``).
    Rates
        ``rate_baseline`` "seasonal" (each period's centre is its slot's baseline
        rate: weekday, or hour of week for hourly data) or "flat" (one centre,
        the textbook chart); ``rate_min_pp`` 1 (effect-size gate: a rate flag
        needs the rate, its EWMA or the shift behind a CUSUM signal to be at
        least one percentage point from the centre); ``laney_floor`` True
        (σ_z >= 1); ``rate_run`` 3; ``ewma_lambda`` 0.2; ``cusum_k`` 0.5. The
        limits ``laney_L`` (warning), ``extreme_L`` (incident), ``ewma_L`` and
        ``cusum_h`` (sigma units) default to None: from the budget over the
        labels and periods charted.
    Data
        ``untimed_warning`` 0.001 / ``untimed_incident`` 0.05: the share of
        rows without a timestamp (which no period can count) that is a
        warning / an incident.
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

    baseline_mode: str = "fixed"
    alpha_warning: float = 0.05
    alpha_incident: float = 0.01
    alpha_shares: Mapping[str, float] = field(default_factory=dict)
    p_warning: float | None = None
    p_incident: float | None = None
    rel_warning: float = 0.2
    rel_incident: float = 0.5
    min_change: float = 10.0
    zero_expected_min: float | None = None
    zero_run_expected: float | None = None
    rate_baseline: str = "seasonal"
    rate_min_pp: float = 1.0
    laney_L: float | None = None
    laney_floor: bool = True
    extreme_L: float | None = None
    rate_run: int = 3
    ewma_lambda: float = 0.2
    ewma_L: float | None = None
    cusum_k: float = 0.5
    cusum_h: float | None = None
    mix_psi_warning: float = 0.002
    mix_psi_incident: float = 0.01
    mix_v_warning: float = 0.01
    mix_v_incident: float = 0.025
    psi_epsilon: float = 1e-4
    score_psi_warning: float = 0.1
    score_psi_incident: float = 0.25
    changepoint_min_size: int = 2
    changepoint_penalty: float = 3.0
    untimed_warning: float = 0.001
    untimed_incident: float = 0.05
    severity: Mapping[str, str] = field(default_factory=dict)
    version: str = "volume-2"

    def __post_init__(self) -> None:
        super().__post_init__()  # the period grid and input limits
        if self.baseline_mode not in BASELINE_MODES:
            raise ParameterError(
                f"baseline_mode {self.baseline_mode!r} is not one of {', '.join(BASELINE_MODES)}",
                name="baseline_mode",
            )
        if self.rate_baseline not in ("seasonal", "flat"):
            raise ParameterError(
                f"rate_baseline {self.rate_baseline!r} is not 'seasonal' or 'flat'", name="rate_baseline"
            )
        self._check_range("alpha_warning", 0.0, 1.0)
        self._check_range("alpha_incident", 0.0, self.alpha_warning, upper_inclusive=True)
        self._check_shares()
        self._check_optional("p_warning", 0.0, 1.0)
        self._check_optional("p_incident", 0.0, self.p_warning if self.p_warning is not None else 1.0,
                             upper_inclusive=True)
        self._check_range("rel_warning", 0.0, math.inf, lower_inclusive=True)
        self._check_range("rel_incident", self.rel_warning, math.inf, lower_inclusive=True)
        for name in ("min_change", "cusum_k", "rate_min_pp", "mix_psi_warning", "mix_v_warning", "psi_epsilon"):
            self._check_range(name, 0.0, math.inf, lower_inclusive=True)
        for name in ("zero_expected_min", "zero_run_expected"):
            self._check_optional(name, 0.0, math.inf, lower_inclusive=True)
        for name in ("laney_L", "ewma_L", "cusum_h"):
            self._check_optional(name, 0.0, math.inf)
        self._check_range("changepoint_penalty", 0.0, math.inf)
        self._check_optional("extreme_L", self.laney_L or 0.0, math.inf, lower_inclusive=True)
        self._check_range("untimed_warning", 0.0, 1.0, lower_inclusive=True, upper_inclusive=True)
        self._check_range("untimed_incident", self.untimed_warning, 1.0, lower_inclusive=True,
                          upper_inclusive=True)
        self._check_range("ewma_lambda", 0.0, 1.0, upper_inclusive=True)
        self._check_range("mix_psi_incident", self.mix_psi_warning, math.inf, lower_inclusive=True)
        self._check_range("mix_v_incident", self.mix_v_warning, math.inf, lower_inclusive=True)
        self._check_range("score_psi_warning", 0.0, math.inf, lower_inclusive=True)
        self._check_range("score_psi_incident", self.score_psi_warning, math.inf, lower_inclusive=True)
        for name, minimum in (("rate_run", 1), ("changepoint_min_size", 1)):
            self._check_whole(name, minimum)
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
        object.__setattr__(self, "severity", {**DEFAULT_SEVERITY, **dict(self.severity)})

    def _check_optional(self, name: str, low: float, high: float, **inclusive: bool) -> None:
        """A threshold that is None (from the error budget) or a number in range."""
        if getattr(self, name) is not None:
            self._check_range(name, low, high, **inclusive)

    def _check_shares(self) -> None:
        if not isinstance(self.alpha_shares, Mapping):
            raise ParameterError(
                f"alpha_shares must be a table of family -> share, got {self.alpha_shares!r}", name="alpha_shares"
            )
        unknown = sorted(set(self.alpha_shares) - set(ALPHA_SHARES))
        if unknown:
            raise ParameterError(
                f"alpha_shares: unknown families {unknown}; families are {', '.join(ALPHA_SHARES)}",
                name="alpha_shares",
            )
        shares = {**ALPHA_SHARES, **dict(self.alpha_shares)}
        for family, share in shares.items():
            if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 <= share <= 1.0:
                raise ParameterError(
                    f"alpha_shares[{family!r}] = {share!r}; expected a share between 0 and 1", name="alpha_shares"
                )
        total = sum(shares.values())
        if total > 1.0 + 1e-9:
            raise ParameterError(
                f"alpha_shares sum to {total:.3f}; the families' shares of the budget must sum to at most 1",
                name="alpha_shares",
            )
        object.__setattr__(self, "alpha_shares", {name: float(share) for name, share in shares.items()})

    def alpha(self, family: str, severity: str) -> float:
        """The family's share of the report's budget at ``severity`` ("warning" or "incident")."""
        budget = self.alpha_warning if severity == "warning" else self.alpha_incident
        return budget * self.alpha_shares[family]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None = None, **overrides: Any) -> VolumeConfig:
        """A config from a mapping (a model spec's ``[thresholds.volume]`` table) and overrides.

        Unknown keys raise :class:`~mlreport.errors.ParameterError`; ``severity``
        entries are merged over the defaults; lists become tuples; empty
        strings mean "not given".
        """
        values = {**dict(mapping or {}), **overrides}
        cls.check_names(values)
        if "holidays" in values and values["holidays"] is not None and not isinstance(values["holidays"], str):
            values["holidays"] = tuple(values["holidays"])
        if values.get("holidays") is None:
            values.pop("holidays", None)
        if values.get("period") in (None, ""):
            values.pop("period", None)
        return cls(**values)

    @classmethod
    def check_names(cls, names: Mapping[str, object]) -> None:
        """Refuse names that are not parameters of the config (a ParameterError naming the first)."""
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(names) - valid)
        if unknown:
            raise ParameterError(
                f"unknown volume parameter(s) {unknown}; valid names are {', '.join(sorted(valid))}",
                name=unknown[0],
            )

    def to_dict(self) -> dict[str, Any]:
        """All parameters and the severity mapping, JSON-ready (for the report's thresholds)."""
        data = asdict(self)
        data["holidays"] = list(self.holidays)
        data["severity"] = dict(self.severity)
        data["alpha_shares"] = dict(self.alpha_shares)
        return data


def config_from_parameters(
    spec: ModelSpec | None = None, thresholds: Mapping[str, Any] | None = None, **parameters: Any
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
        policy = dict(spec.thresholds or {})
        merged.update(dict(policy.get("volume", {}) or {}))
        if "version" not in merged and "version" in policy:
            merged["version"] = f"spec {policy['version']}"
    merged.update(dict(thresholds or {}))
    merged.update({k: v for k, v in parameters.items() if v not in ("", None) and v != [] and v != ()})
    return VolumeConfig.from_mapping(merged)
