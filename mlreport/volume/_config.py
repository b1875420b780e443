"""The volume analysis's policy: its parameters, thresholds and rule -> severity mapping.

:class:`VolumeConfig` holds every parameter and threshold of the volume
analysis (windows and periods, the volume, rate, mix and change-point tests,
input limits) as one versioned policy; :func:`config_from_parameters` builds
it from a model spec's ``[thresholds.volume]`` table, overrides and the
notebook's parameters.

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
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from ..counts import CountGrid
from ..errors import ParameterError
from ..findings import SEVERITIES
from ..stats import BASELINE_MODES

if TYPE_CHECKING:
    from ..spec import ModelSpec

__all__ = ["DEFAULT_SEVERITY", "VolumeConfig", "config_from_parameters"]


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


@dataclass(frozen=True)
class VolumeConfig(CountGrid):
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

    baseline_mode: str = "fixed"
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
    score_psi_warning: float = 0.1
    score_psi_incident: float = 0.25
    changepoint_min_size: int = 2
    changepoint_penalty: float = 3.0
    severity: Mapping[str, str] = field(default_factory=dict)
    version: str = "volume-1"

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
        self._check_range("p_warning", 0.0, 1.0)
        self._check_range("p_incident", 0.0, self.p_warning, upper_inclusive=True)
        self._check_range("rel_warning", 0.0, math.inf, lower_inclusive=True)
        self._check_range("rel_incident", self.rel_warning, math.inf, lower_inclusive=True)
        for name in ("min_change", "zero_expected_min", "zero_run_expected", "cusum_k", "rate_min_pp",
                     "mix_psi_warning", "mix_v_warning", "psi_epsilon"):
            self._check_range(name, 0.0, math.inf, lower_inclusive=True)
        for name in ("laney_L", "ewma_L", "cusum_h", "changepoint_penalty"):
            self._check_range(name, 0.0, math.inf)
        self._check_range("extreme_L", self.laney_L, math.inf, lower_inclusive=True)
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
