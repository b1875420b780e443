"""Control charts for decision rates, and change-point dating of a series.

Conventions (each function repeats its own):

* **Laney p′ chart** (Laney 2002, *Quality Engineering* 14(4)). Phase I on the
  baseline periods: centre ``p̄ = Σx / Σn``; per period the binomial standard
  deviation ``σ_p,i = sqrt(p̄(1 - p̄) / n_i)`` and ``z_i = (p_i - p̄) / σ_p,i``;
  ``σ_z = mean |z_i - z_(i-1)| / 1.128`` (the average moving range of
  consecutive baseline periods over d2 for n = 2). Limits
  ``p̄ ± L σ_z σ_p,t`` clipped to [0, 1]. ``σ_z`` absorbs the between-period
  variation that makes a plain p chart (``σ_z = 1``) alarm at every point at
  bank volumes. By default ``σ_z`` is floored at 1 so the limits are never
  tighter than the binomial ones (apparent underdispersion in a short
  baseline is chance, and alarming on it is not useful). An optional
  seasonal variant takes the centre of each period from its slot (hour of
  week, weekday) and widens the limits for that centre's own error (see
  :func:`laney_p_chart`); at bank volumes an intraday pattern in the decision
  mix is otherwise many binomial sigmas wide.
* **EWMA** (Roberts 1959; Montgomery, *Introduction to Statistical Quality
  Control*, §9.2): ``z_t = λ x_t + (1 - λ) z_(t-1)``, ``z_0 = target``; exact
  time-varying variance ``V_t = λ² σ_t² + (1 - λ)² V_(t-1)``, ``V_0 = 0``,
  which for constant ``σ`` is ``σ² λ/(2 - λ) [1 - (1 - λ)^(2t)]``; limits
  ``target ± L sqrt(V_t)``. Periods with no observation carry the state.
* **Tabular CUSUM** (Montgomery §9.1) on standardised values ``x_t`` (mean 0,
  standard deviation 1 in control): ``C⁺_t = max(0, x_t - k + C⁺_(t-1))``,
  ``C⁻_t = max(0, -x_t - k + C⁻_(t-1))``, ``C_0 = 0``; a signal when either
  exceeds ``h``; not reset after a signal. ``N⁺`` (``N⁻``) counts the
  consecutive periods the sum has been positive, so the change is estimated
  to have started ``N`` periods before the signal.
* **Change points**: ruptures PELT, least-squares cost (``"l2"``, a change in
  mean), ``jump = 1``, penalty ``factor · σ̂² · ln(n)`` with ``factor = 3``
  (BIC-like: BIC's 2 for two parameters per change, its location and the new
  mean, raised to 3 because on white noise of 56 periods BIC finds a spurious
  change in about 24 % of series and 3 in about 5 %, measured) and
  ``σ̂ = MAD(first differences) / (0.6745 · √2)``, a noise scale that the
  level shifts themselves barely move. The cost is ruptures' ``"l2"`` computed
  from cumulative sums (same values, O(1) per segment).
* **Limits for a false-alarm budget.** A chart watched over ``m`` periods
  should signal by chance with a stated probability, not once per ARL₀
  periods, so its limit is solved from the in-control **run-length
  distribution** over that horizon: ``P(RL <= m) = α``. The run length is
  computed by the Markov-chain approximation (Brook and Evans 1972 for the
  CUSUM; Lucas and Saccucci 1990 for the EWMA), with in-control values
  independent N(0, 1): the chart's statistic is discretised into ``states``
  cells, the transition probabilities come from the normal CDF, and the
  survival after ``m`` periods is ``e₀ᵀ Qᵐ 1`` (``Q`` the transient block).
  The two-sided CUSUM is two one-sided charts; its false-alarm probability
  is bounded by their sum (``2 P₁``). The EWMA's limits are the exact
  time-varying ones the chart uses (narrower in the first periods). Checked
  against the published ARL₀ values: CUSUM k 0.5, h 4 / 5 → 168 / 465
  two-sided (Montgomery, Table 9.3; one-sided 336 / 930), EWMA λ 0.2,
  L 2.962 and λ 0.1, L 2.814 → 500 (Lucas and Saccucci 1990; Montgomery
  Table 9.11). A Shewhart limit over ``m`` independent periods is the
  Bonferroni quantile (:func:`normal_limit`), and ``r`` consecutive points
  beyond a limit on one side over ``m`` periods are bounded by
  ``2 m Φ(-L)^r`` (:func:`run_limit`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike

from ..errors import ParameterError

__all__ = [
    "D2_MOVING_RANGE",
    "LaneyChart",
    "EwmaChart",
    "CusumResult",
    "ChangePoints",
    "laney_p_chart",
    "ewma_variance",
    "ewma_chart",
    "tabular_cusum",
    "change_points",
    "segment_cost",
    "LANEY_METHOD",
    "LANEY_SEASONAL_METHOD",
    "EWMA_METHOD",
    "CUSUM_METHOD",
    "CHANGEPOINT_METHOD",
    "cusum_arl",
    "cusum_false_alarm",
    "cusum_limit",
    "ewma_arl",
    "ewma_false_alarm",
    "ewma_limit",
    "normal_limit",
    "run_limit",
    "laney_tails",
    "MOVING_RANGE_DF",
]

D2_MOVING_RANGE = 1.128
"""d2 for moving ranges of two consecutive points (E|X1 - X2| = 1.128 σ)."""

MOVING_RANGE_DF = 0.62
"""Degrees of freedom of an average-moving-range σ estimate per moving range (Cryer and Ryan 1990)."""

LANEY_METHOD = (
    "Laney p′ chart: centre p̄ = Σx/Σn over the baseline periods; "
    "σ_z = mean moving range of z_i = (p_i - p̄)/sqrt(p̄(1-p̄)/n_i) over consecutive baseline "
    "periods / 1.128{floor}; limits p̄ ± {L} σ_z sqrt(p̄(1-p̄)/n_t), clipped to [0, 1]"
)
LANEY_SEASONAL_METHOD = (
    "Laney p′ chart with seasonal centres: c_s = Σx/Σn of the period's slot ({slot}) over the "
    "N_s baseline decisions of that slot; σ_t = sqrt(c(1-c)(1/n_t + 1/N_s)) (in-sample "
    "sqrt(c(1-c)(1-n/N_s)/n) for baseline periods); σ_z = mean moving range of the baseline "
    "z_i / 1.128{floor}; limits c_s ± {L} σ_z σ_t, clipped to [0, 1]"
)
EWMA_METHOD = (
    "EWMA of the deviation d_t = p_t - centre_t, λ {lam}, z_0 = 0; exact variance "
    "V_t = λ² σ_t² + (1-λ)² V_(t-1) with σ_t² = σ_z² σ_p,t² (Laney-adjusted), plus "
    "(1-(1-λ)^m)² Var(p̄) for an estimated flat centre; limits ± {L} sqrt(V_t)"
)
CUSUM_METHOD = (
    "tabular CUSUM of the Laney z_t = (p_t - centre_t)/(σ_z σ_p,t): C⁺ = max(0, z - k + C⁺), "
    "C⁻ = max(0, -z - k + C⁻), k {k}, signal when C > h {h} (sigma units), no reset; "
    "onset = signal period - N + 1"
)
CHANGEPOINT_METHOD = (
    "ruptures PELT, l2 cost (mean shift), min_size {min_size}, jump 1, penalty "
    "{factor}·σ̂²·ln(n) with σ̂ = MAD(first differences)/(0.6745·√2), on the standardised series"
)


def _float_array(values: ArrayLike, name: str) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ParameterError(f"{name} must be one-dimensional, got shape {array.shape}", name=name)
    return array


@dataclass(frozen=True)
class LaneyChart:
    """Laney p′ limits for every period.

    ``center`` is the centre line of each period (one value repeated for the
    textbook chart, the slot's baseline rate for a seasonal one); ``sigma``
    the binomial standard deviation of ``p_t - center_t`` before the Laney
    factor (NaN where ``n_t = 0``); ``sigma_z_raw`` the moving-range estimate
    before any floor; ``z`` the standardised rate ``(p_t - center_t)/(σ_z σ_t)``.
    ``pooled`` is ``Σx/Σn`` over the phase-I periods. ``df`` is the degrees
    of freedom of the moving-range estimate of ``σ_z``: ``0.62 (k - 1)`` for
    ``k`` phase-I periods (the average moving range of ``k`` normal values is
    as variable as a standard deviation on that many degrees of freedom;
    Cryer and Ryan 1990, checked by simulation in the tests). A chart
    learned on four weekly points knows its ``σ_z`` only roughly, and its
    tests say so (:func:`laney_tails`).
    """

    center: npt.NDArray[np.float64]
    pooled: float
    sigma_z: float
    sigma_z_raw: float
    sigma: npt.NDArray[np.float64]
    lcl: npt.NDArray[np.float64]
    ucl: npt.NDArray[np.float64]
    z: npt.NDArray[np.float64]
    df: float = math.inf


def laney_p_chart(
    counts: ArrayLike,
    totals: ArrayLike,
    phase1: ArrayLike,
    *,
    L: float = 3.0,
    floor_sigma_z: bool = True,
    slots: ArrayLike | None = None,
) -> LaneyChart:
    """Laney p′ chart of ``counts / totals`` with limits learned on ``phase1`` periods.

    ``phase1`` is a boolean mask of the periods that estimate the centre and
    ``σ_z`` (the baseline); periods with ``totals == 0`` are skipped
    everywhere, and moving ranges are taken between consecutive usable
    phase-I periods. When the pooled rate is 0 or 1 the limits are undefined (NaN).

    Without ``slots`` this is the textbook chart (module docstring). With
    ``slots`` (an integer slot per period, e.g. the hour of the week) the
    centre of a period is the phase-I rate of its slot, ``c_s = Σx/Σn`` over
    the slot's ``N_s`` phase-I decisions, so that a daily or intraday pattern
    in the decision mix is not read as instability. The centre is then an
    estimate from a few periods, and the variances say so: a phase-I period
    with weight ``w = n/N_s`` in its own centre has ``Var(p - c) = c(1-c)(1-w)/n``
    (used for ``z`` and ``σ_z``); any other period ``c(1-c)(1/n + 1/N_s)``.
    Slots whose phase-I rate is 0 or 1 (or that have no phase-I data) fall
    back to the pooled rate with ``N`` the pooled count.
    """
    x = _float_array(counts, "counts")
    n = _float_array(totals, "totals")
    mask = np.asarray(phase1, dtype=bool)
    if not (x.shape == n.shape == mask.shape):
        raise ParameterError("counts, totals and phase1 must have the same length", name="counts")
    if L <= 0:
        raise ParameterError(f"L must be > 0, got {L}", name="L")
    usable = n > 0
    base = mask & usable
    total = n[base].sum()
    pooled = float(x[base].sum() / total) if total > 0 else math.nan
    nan = np.full(n.shape, np.nan)
    if not (0.0 < pooled < 1.0):
        return LaneyChart(nan, pooled, math.nan, math.nan, nan.copy(), nan.copy(), nan.copy(), nan.copy(), math.nan)
    safe_n = np.where(usable, n, 1.0)
    if slots is None:
        center = np.full(n.shape, pooled)
        sigma = np.where(usable, np.sqrt(pooled * (1.0 - pooled) / safe_n), np.nan)
        in_sample = sigma
    else:
        slot = np.asarray(slots, dtype=np.int64)
        if slot.shape != n.shape or (slot < 0).any():
            raise ParameterError("slots must be non-negative integers, one per period", name="slots")
        size = int(slot.max()) + 1
        slot_x = np.bincount(slot[base], weights=x[base], minlength=size)
        slot_n = np.bincount(slot[base], weights=n[base], minlength=size)
        with np.errstate(divide="ignore", invalid="ignore"):
            slot_rate = np.where(slot_n > 0, slot_x / np.where(slot_n > 0, slot_n, 1.0), np.nan)
        own = (slot_rate > 0.0) & (slot_rate < 1.0)
        center = np.where(own, slot_rate, pooled)[slot]
        weight_n = np.where(own, slot_n, total)[slot]
        unit = center * (1.0 - center)
        sigma = np.where(usable, np.sqrt(unit * (1.0 / safe_n + 1.0 / weight_n)), np.nan)
        share = np.clip(n / weight_n, 0.0, 1.0)
        in_sample = np.where(usable & (share < 1.0), np.sqrt(unit * (1.0 - share) / safe_n), np.nan)
    deviation = np.where(usable, x / safe_n - center, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_phase1 = np.where(base, deviation / in_sample, np.nan)
    moving = np.abs(np.diff(z_phase1[base & np.isfinite(z_phase1)]))
    sigma_z_raw = float(moving.mean() / D2_MOVING_RANGE) if moving.size else 1.0
    df = MOVING_RANGE_DF * moving.size if moving.size else math.inf
    sigma_z = max(sigma_z_raw, 1.0) if floor_sigma_z else sigma_z_raw
    sigma = np.where(base, in_sample, sigma)
    half_width = L * sigma_z * sigma
    with np.errstate(divide="ignore", invalid="ignore"):
        z = deviation / (sigma_z * sigma)
    return LaneyChart(
        center=center,
        pooled=pooled,
        sigma_z=sigma_z,
        sigma_z_raw=sigma_z_raw,
        sigma=sigma,
        lcl=np.clip(center - half_width, 0.0, 1.0),
        ucl=np.clip(center + half_width, 0.0, 1.0),
        z=z,
        df=df,
    )


def laney_tails(
    chart: LaneyChart, counts: ArrayLike, totals: ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """One-sided tail probabilities ``P(p <= p_t)`` and ``P(p >= p_t)`` of each period under the chart.

    The chart's variance of ``p_t - c_t`` is ``v = (σ_z σ_t)²`` (overdispersion
    and the centre's own error included). Each tail is the larger of:

    * a binomial with that variance: effective size ``n' = c(1-c)/v``,
      effective count ``x' = p_t n'``, ``P(X <= x') = I_(1-c)(n' - x', x' + 1)``
      (regularized incomplete beta, the binomial CDF continued to real ``n'``
      and ``x'``), which keeps the skew of a rate near 0 or 1 on a few
      decisions (a night hour of 15 decisions at 15 %);
    * Student's t of ``z_t`` on the chart's ``df`` (its ``σ_z`` is estimated).

    For many decisions and a long baseline both are the normal tail of
    ``z_t``. NaN where the period has no decisions or the chart no limits.
    """
    from scipy import stats as sps
    from scipy.special import betainc

    x = _float_array(counts, "counts")
    n = _float_array(totals, "totals")
    variance = (chart.sigma_z * chart.sigma) ** 2
    c = chart.center
    ok = (n > 0) & np.isfinite(variance) & (variance > 0) & (c > 0) & (c < 1)
    lower = np.full(n.shape, np.nan)
    upper = np.full(n.shape, np.nan)
    if not ok.any():
        return lower, upper
    size = c[ok] * (1.0 - c[ok]) / variance[ok]
    rate = x[ok] / n[ok]
    count = np.clip(rate * size, 0.0, size)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(count >= size, 1.0, betainc(np.maximum(size - count, 1e-12), count + 1.0, 1.0 - c[ok]))
        high = np.where(count <= 0, 1.0, betainc(np.maximum(count, 1e-12), size - count + 1.0, c[ok]))
    z = chart.z[ok]
    if math.isfinite(chart.df) and chart.df > 0:
        low = np.maximum(low, sps.t.cdf(z, chart.df))
        high = np.maximum(high, sps.t.sf(z, chart.df))
    else:
        low = np.maximum(low, sps.norm.cdf(z))
        high = np.maximum(high, sps.norm.sf(z))
    lower[ok], upper[ok] = low, high
    return lower, upper


def ewma_variance(sigma2: ArrayLike, lam: float) -> npt.NDArray[np.float64]:
    """Exact variance of the EWMA statistic for per-period variances ``sigma2``.

    ``V_t = λ² σ_t² + (1 - λ)² V_(t-1)``, ``V_0 = 0``. NaN entries (periods
    without an observation) carry ``V`` unchanged and return NaN.
    """
    if not 0.0 < lam <= 1.0:
        raise ParameterError(f"EWMA lambda must be in (0, 1], got {lam}", name="ewma_lambda")
    s2 = _float_array(sigma2, "sigma2")
    out = np.full(s2.shape, np.nan)
    variance = 0.0
    keep = (1.0 - lam) ** 2
    for i, value in enumerate(s2):
        if np.isnan(value):
            continue
        variance = lam * lam * value + keep * variance
        out[i] = variance
    return out


@dataclass(frozen=True)
class EwmaChart:
    """EWMA statistic, its exact variance and limits per period (NaN where skipped)."""

    statistic: npt.NDArray[np.float64]
    variance: npt.NDArray[np.float64]
    lcl: npt.NDArray[np.float64]
    ucl: npt.NDArray[np.float64]

    @property
    def out(self) -> npt.NDArray[np.bool_]:
        """Periods where the statistic is beyond its limits."""
        with np.errstate(invalid="ignore"):
            return (self.statistic > self.ucl) | (self.statistic < self.lcl)


def ewma_chart(
    values: ArrayLike,
    target: float,
    sigma2: ArrayLike,
    *,
    lam: float = 0.2,
    L: float = 3.0,
    target_variance: float = 0.0,
) -> EwmaChart:
    """EWMA of ``values`` started at ``target``, with exact time-varying limits.

    ``sigma2`` is the in-control variance of each value; NaN values (or NaN
    variances) are skipped, carrying the statistic and its variance.

    ``target_variance`` is the variance of ``target`` when it was estimated
    (phase I). The estimate's error is shared by every period, so it does not
    average out: with ``z_0`` equal to the estimate, ``z_t - target`` has
    variance ``V_t + (1 - (1 - λ)^m)² · target_variance`` after ``m`` observed
    periods (independent periods; Jones, Champ and Rigdon 2001 show how much an
    estimated centre otherwise raises the false-alarm rate).
    0 (the default) gives the textbook limits.
    """
    x = _float_array(values, "values")
    s2 = _float_array(sigma2, "sigma2")
    if x.shape != s2.shape:
        raise ParameterError("values and sigma2 must have the same length", name="values")
    if L <= 0:
        raise ParameterError(f"EWMA L must be > 0, got {L}", name="ewma_L")
    if target_variance < 0:
        raise ParameterError(f"target_variance must be >= 0, got {target_variance}", name="target_variance")
    s2 = np.where(np.isnan(x), np.nan, s2)
    variance = ewma_variance(s2, lam)
    if target_variance > 0:
        observed = np.cumsum(~np.isnan(s2))
        variance = variance + (1.0 - (1.0 - lam) ** observed) ** 2 * target_variance
    statistic = np.full(x.shape, np.nan)
    state = float(target)
    for i, value in enumerate(x):
        if np.isnan(s2[i]):
            continue
        state = lam * value + (1.0 - lam) * state
        statistic[i] = state
    half_width = L * np.sqrt(variance)
    return EwmaChart(statistic, variance, target - half_width, target + half_width)


@dataclass(frozen=True)
class CusumResult:
    """Tabular CUSUM sums, their run lengths and signals per period.

    ``upper_run`` / ``lower_run`` are Montgomery's ``N⁺`` / ``N⁻``: the number
    of consecutive periods the sum has been above zero. ``signal`` is True
    where ``C⁺ > h`` or ``C⁻ > h``. Skipped periods (NaN input) are NaN / 0.
    """

    upper: npt.NDArray[np.float64]
    lower: npt.NDArray[np.float64]
    upper_run: npt.NDArray[np.int64]
    lower_run: npt.NDArray[np.int64]
    signal: npt.NDArray[np.bool_]
    k: float
    h: float

    def first_signal(self) -> int | None:
        """Index of the first signalling period, or None."""
        hits = np.flatnonzero(self.signal)
        return int(hits[0]) if hits.size else None

    def onset(self, index: int) -> int:
        """Estimated first period of the change behind a signal at ``index``.

        The sum that signalled has been positive for ``N`` periods, so the
        change began ``N - 1`` observed periods before ``index`` (skipped
        periods do not count).
        """
        run = int(self.upper_run[index] if self.upper[index] > self.h else self.lower_run[index])
        observed = np.flatnonzero(~np.isnan(self.upper[: index + 1]))
        return int(observed[max(len(observed) - run, 0)])


def tabular_cusum(x: ArrayLike, *, k: float = 0.5, h: float = 5.0) -> CusumResult:
    """Two-sided tabular CUSUM of standardised values ``x`` (NaN skipped)."""
    if k < 0:
        raise ParameterError(f"CUSUM k must be >= 0, got {k}", name="cusum_k")
    if h <= 0:
        raise ParameterError(f"CUSUM h must be > 0, got {h}", name="cusum_h")
    values = _float_array(x, "x")
    upper = np.full(values.shape, np.nan)
    lower = np.full(values.shape, np.nan)
    upper_run = np.zeros(values.shape, dtype=np.int64)
    lower_run = np.zeros(values.shape, dtype=np.int64)
    c_plus = c_minus = 0.0
    n_plus = n_minus = 0
    for i, value in enumerate(values):
        if np.isnan(value):
            continue
        c_plus = max(0.0, value - k + c_plus)
        c_minus = max(0.0, -value - k + c_minus)
        n_plus = n_plus + 1 if c_plus > 0 else 0
        n_minus = n_minus + 1 if c_minus > 0 else 0
        upper[i], lower[i] = c_plus, c_minus
        upper_run[i], lower_run[i] = n_plus, n_minus
    with np.errstate(invalid="ignore"):
        signal = (upper > h) | (lower > h)
    return CusumResult(upper, lower, upper_run, lower_run, signal, float(k), float(h))


@dataclass(frozen=True)
class ChangePoints:
    """Change points of a series: indices of the first period of each new segment."""

    indices: list[int]
    penalty: float
    sigma: float
    jump: int = 1


_MAX_CANDIDATES = 400


def _l2_cost_class() -> type:
    """A ruptures cost equal to its ``"l2"`` cost of a univariate signal, from cumulative sums.

    ruptures' own CostL2 calls ``numpy.var`` on every candidate segment, which
    makes PELT take seconds per series at a thousand periods; the sum of
    squared deviations from cumulative sums is the same number in O(1).
    """
    from ruptures.base import BaseCost

    class CumulativeL2(BaseCost):
        model = "l2_cumulative"
        min_size = 1

        def fit(self, signal: npt.NDArray[np.float64]) -> CumulativeL2:
            self.signal = np.asarray(signal, dtype=float).reshape(len(signal), -1)
            values = self.signal[:, 0]  # change_points passes one column
            # Python floats: PELT calls error() O(n²) times; numpy scalars cost 20x more per call.
            self.first = np.concatenate([[0.0], np.cumsum(values)]).tolist()
            self.second = np.concatenate([[0.0], np.cumsum(values * values)]).tolist()
            return self

        def error(self, start: int, end: int) -> float:
            total = self.first[end] - self.first[start]
            return self.second[end] - self.second[start] - total * total / (end - start)

    return CumulativeL2


def segment_cost(values: npt.NDArray[np.float64], start: int, end: int) -> float:
    """Least-squares cost of ``values[start:end]`` (sum of squared deviations from its mean)."""
    part = values[start:end]
    return float(np.sum((part - part.mean()) ** 2)) if part.size else 0.0


def change_points(
    values: ArrayLike, *, min_size: int = 2, penalty_factor: float = 3.0
) -> ChangePoints:
    """Mean-shift change points of ``values`` by PELT (ruptures), NaN entries ignored.

    Penalty ``penalty_factor · σ̂² · ln(n)`` with ``σ̂`` the MAD of first
    differences over ``0.6745 · √2`` (see the module docstring). Returned
    indices refer to positions in ``values``. Fewer than ``2 · min_size``
    finite values, or a constant series, give no change points.

    Long series (over 400 finite values) are searched on a grid of every
    ``jump``-th position (ruptures' ``jump``) and each change point is then
    placed exactly by minimising the two-segment cost between its neighbours
    within ``jump`` positions either side, so dating stays at one period.
    """
    import ruptures  # imported lazily: only change-point dating needs it

    x = _float_array(values, "values")
    finite = np.flatnonzero(np.isfinite(x))
    signal = x[finite]
    n = signal.size
    if n < 2 * max(min_size, 1):
        return ChangePoints([], math.nan, math.nan)
    differences = np.diff(signal)
    sigma = float(np.median(np.abs(differences - np.median(differences))) / 0.6745 / math.sqrt(2.0))
    if sigma == 0.0:
        sigma = float(np.std(signal))
    if sigma == 0.0:
        return ChangePoints([], 0.0, 0.0)
    penalty = penalty_factor * sigma * sigma * math.log(n)
    jump = max(1, math.ceil(n / _MAX_CANDIDATES))
    algorithm = ruptures.Pelt(custom_cost=_l2_cost_class()(), min_size=min_size, jump=jump)
    ends = algorithm.fit(signal.reshape(-1, 1)).predict(pen=penalty)
    cuts = list(ends[:-1])
    if jump > 1:
        for i, cut in enumerate(cuts):
            left = cuts[i - 1] if i else 0
            right = cuts[i + 1] if i + 1 < len(cuts) else n
            low = max(left + min_size, cut - jump + 1)
            high = min(right - min_size, cut + jump - 1)
            if low <= high:
                cuts[i] = min(
                    range(low, high + 1),
                    key=lambda c: segment_cost(signal, left, c) + segment_cost(signal, c, right),
                )
    return ChangePoints([int(finite[cut]) for cut in cuts], penalty, sigma, jump)


# --------------------------------------------------------------------------- limits for a false-alarm budget

_STATES = 151


def _normal_cdf(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    from scipy.special import ndtr

    return np.asarray(ndtr(values), dtype=float)


def _cusum_transitions(k: float, h: float, states: int) -> npt.NDArray[np.float64]:
    """Brook-Evans transient block of the one-sided CUSUM ``C = max(0, C + Z - k)`` on ``[0, h]``.

    Cell ``j`` covers ``[(j - ½) w, (j + ½) w)`` with ``w = 2h / (2N - 1)``
    (cell 0 also holds the atom at 0); a move past ``h`` leaves the chain.
    """
    width = 2.0 * h / (2 * states - 1)
    centre = np.arange(states) * width
    upper = (np.arange(states) + 0.5) * width  # upper edge of each target cell
    cdf = _normal_cdf(upper[None, :] - centre[:, None] + k)
    transitions = np.diff(np.concatenate([np.zeros((states, 1)), cdf], axis=1), axis=1)
    return transitions


_CONVERGED = 1e-15
"""Largest change of the normalised state in one period at which it is the quasi-stationary distribution."""


def _survival(start: npt.NDArray[np.float64], transitions: npt.NDArray[np.float64], steps: int) -> float:
    """Probability of no signal after ``steps`` more periods from the state distribution ``start``.

    ``steps`` vector-matrix products (O(steps N²)) rather than a matrix power
    (O(log(steps) N³)): for the few hundred periods of a report and N = 151
    cells this is several times cheaper. The products stop early once the
    state's shape has converged: the normalised state ``s_t / Σ s_t`` then
    moves by less than 1e-15 (max norm) in one period, so it is the
    chain's quasi-stationary distribution (the dominant left eigenvector of
    the transient block, positive and simple by Perron-Frobenius) and every
    further period multiplies the survival by the same factor ``ρ = Σ s_t /
    Σ s_(t-1)`` (its eigenvalue): the survival is ``Σ s_t · ρ^(steps - t)``.
    Within a few 1e-14 (relative) of running every product (tested), and 3-5
    times cheaper over the 672 hours of a four-week hourly report, where
    the shape converges in 100-300 periods. Checked every 8th period.
    """
    state = start
    steps = max(int(steps), 0)
    for t in range(steps):
        previous = state
        state = previous @ transitions
        if t % 8 == 7 and t + 1 < steps:
            before, after = float(previous.sum()), float(state.sum())
            if after <= 0.0:
                return 0.0
            if float(np.max(np.abs(state / after - previous / before))) < _CONVERGED:
                return after * (after / before) ** (steps - t - 1)
    return float(state.sum())


def _check_chart(name: str, value: float, low: float = 0.0) -> None:
    if not (math.isfinite(value) and value > low):
        raise ParameterError(f"{name} must be a number > {low:g}, got {value!r}", name=name)


def cusum_arl(k: float, h: float, *, states: int = _STATES) -> float:
    """In-control average run length of the **one-sided** tabular CUSUM started at 0 (Brook-Evans).

    Values independent N(0, 1); the two-sided chart's ARL₀ is about half of it
    (``1/ARL = 1/ARL⁺ + 1/ARL⁻``). k 0.5, h 5 gives about 930 (two-sided 465).
    """
    if k < 0:
        raise ParameterError(f"CUSUM k must be >= 0, got {k}", name="cusum_k")
    _check_chart("cusum_h", h)
    transitions = _cusum_transitions(k, h, states)
    run_lengths = np.linalg.solve(np.eye(states) - transitions, np.ones(states))
    return float(run_lengths[0])


def _over_scale(probability: Callable[[float], float], limit: float, df: float) -> float:
    """``E[probability(limit · s)]`` over ``s = sqrt(χ²_df / df)``: a chart whose σ was estimated on ``df``.

    A chart standardised by an estimate ``σ̂`` has, in units of the true σ,
    the limit ``limit · σ̂/σ``; averaging over the estimate's distribution (32
    equiprobable points) gives its false-alarm probability. ``df`` infinite
    (or above 5,000): ``probability(limit)``.
    """
    if not math.isfinite(df) or df > 5000:
        return probability(limit)
    from scipy import stats as sps

    quantiles = (np.arange(32) + 0.5) / 32
    scales = np.sqrt(sps.chi2.ppf(quantiles, df) / df)
    return float(np.mean([probability(limit * scale) for scale in scales]))


def cusum_false_alarm(k: float, h: float, periods: int, *, states: int = _STATES, df: float = math.inf) -> float:
    """Probability that the two-sided CUSUM (k, h) signals within ``periods`` in-control periods.

    ``2 P(RL⁺ <= periods)`` (the union of the two one-sided charts; module
    docstring), capped at 1. With ``df``, the values were standardised by a
    σ estimated on ``df`` degrees of freedom (:func:`_over_scale`; ``k`` and
    ``h`` scale together).
    """
    if k < 0:
        raise ParameterError(f"CUSUM k must be >= 0, got {k}", name="cusum_k")
    _check_chart("cusum_h", h)
    if periods <= 0:
        return 0.0
    start = np.zeros(states)
    start[0] = 1.0

    def known(scale: float) -> float:
        # In true-σ units the chart runs with k·s and h·s.
        one_sided = 1.0 - _survival(start, _cusum_transitions(k * scale, h * scale, states), int(periods))
        return min(1.0, 2.0 * max(one_sided, 0.0))

    return _over_scale(known, 1.0, df)


def _solve_limit(probability: Callable[[float], float], alpha: float, low: float, high: float) -> float:
    """The limit in ``[low, high]`` where the decreasing ``probability(limit)`` equals ``alpha``."""
    from scipy.optimize import brentq

    if not 0.0 < alpha < 1.0:
        raise ParameterError(f"alpha must be in (0, 1), got {alpha}", name="alpha")
    target = math.log(alpha)

    def gap(limit: float) -> float:
        return math.log(max(probability(limit), 1e-300)) - target

    if gap(low) <= 0.0:
        return low
    while gap(high) > 0.0:
        high *= 1.5
    return float(brentq(gap, low, high, xtol=1e-3))


@lru_cache(maxsize=256)
def cusum_limit(k: float, periods: int, alpha: float, *, states: int = _STATES, df: float = math.inf) -> float:
    """The decision interval ``h`` at which the two-sided CUSUM (k) signals by chance with probability ``alpha``.

    Over ``periods`` in-control periods (:func:`cusum_false_alarm`, with the
    ``df`` of the σ that standardised its values). The horizon matters: a
    chart read over 336 hourly periods needs a larger ``h`` than one read over
    28 days for the same risk of a false signal.
    """
    if periods <= 0:
        return math.nan
    return _solve_limit(lambda h: cusum_false_alarm(k, h, periods, states=states, df=df), alpha, 0.5, 20.0)


def _ewma_grid(lam: float, L: float, states: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    """Cell centres, the transient block and the asymptotic limit of the EWMA of N(0, 1) values."""
    sigma = math.sqrt(lam / (2.0 - lam))
    limit = L * sigma
    width = 2.0 * limit / states
    centre = np.asarray(-limit + width * (np.arange(states) + 0.5), dtype=np.float64)
    edges = np.concatenate([centre - width / 2.0, [limit]])
    cdf = _normal_cdf((edges[None, :] - (1.0 - lam) * centre[:, None]) / lam)
    return centre, np.diff(cdf, axis=1), limit


def ewma_arl(lam: float, L: float, *, states: int = _STATES) -> float:
    """In-control ARL of the EWMA (λ, L) with asymptotic limits, started at 0 (Lucas and Saccucci).

    λ 0.2, L 2.962 gives about 500. ``states`` is made odd so one cell is centred on 0.
    """
    if not 0.0 < lam <= 1.0:
        raise ParameterError(f"EWMA lambda must be in (0, 1], got {lam}", name="ewma_lambda")
    _check_chart("ewma_L", L)
    states += 1 - states % 2
    _, transitions, _ = _ewma_grid(lam, L, states)
    run_lengths = np.linalg.solve(np.eye(states) - transitions, np.ones(states))
    return float(run_lengths[states // 2])


def ewma_false_alarm(lam: float, L: float, periods: int, *, states: int = _STATES, df: float = math.inf) -> float:
    """Probability that the EWMA (λ, L) with exact limits signals within ``periods`` in-control periods.

    The limits are the chart's exact ones, ``± L sqrt(λ/(2-λ) (1 - (1-λ)^(2t)))``:
    at step ``t`` the cells beyond them are absorbing; once every cell is
    inside, the rest of the horizon is one matrix power. With ``df``, the
    values were standardised by a σ estimated on ``df`` degrees of freedom.
    """
    if not 0.0 < lam <= 1.0:
        raise ParameterError(f"EWMA lambda must be in (0, 1], got {lam}", name="ewma_lambda")
    _check_chart("ewma_L", L)
    if periods <= 0:
        return 0.0
    if math.isfinite(df) and df <= 5000:
        return _over_scale(lambda limit: ewma_false_alarm(lam, limit, periods, states=states), L, df)
    states += 1 - states % 2
    centre, transitions, limit = _ewma_grid(lam, L, states)
    state = np.zeros(states)
    state[states // 2] = 1.0
    decay = (1.0 - lam) ** 2
    for t in range(1, int(periods) + 1):
        exact = limit * math.sqrt(max(1.0 - decay**t, 0.0))
        inside = np.abs(centre) <= exact
        if inside.all():
            return min(1.0, max(0.0, 1.0 - _survival(state, transitions, int(periods) - t + 1)))
        state = (state @ transitions) * inside
    return min(1.0, max(0.0, 1.0 - float(state.sum())))


@lru_cache(maxsize=256)
def ewma_limit(lam: float, periods: int, alpha: float, *, states: int = _STATES, df: float = math.inf) -> float:
    """The limit multiple ``L`` at which the EWMA (λ) signals by chance with probability ``alpha`` over ``periods``.

    ``df``: of the σ that standardised the values (:func:`ewma_false_alarm`).
    """
    if periods <= 0:
        return math.nan
    return _solve_limit(lambda L: ewma_false_alarm(lam, L, periods, states=states, df=df), alpha, 0.5, 8.0)


def normal_limit(alpha: float, tests: float, df: float = math.inf) -> float:
    """Two-sided Bonferroni limit: ``L`` with ``2 Φ(-L) = alpha / tests`` (z-tests of ``tests`` periods).

    With ``df`` the Student-t quantile instead (a σ estimated on ``df``).
    """
    from scipy import stats as sps

    if not 0.0 < alpha < 1.0:
        raise ParameterError(f"alpha must be in (0, 1), got {alpha}", name="alpha")
    level = alpha / (2.0 * max(tests, 1.0))
    if math.isfinite(df) and df > 0:
        return float(sps.t.isf(level, df))
    return float(sps.norm.isf(level))


def run_limit(alpha: float, tests: float, run: int) -> float:
    """Limit ``L`` for ``run`` consecutive points beyond it on one side: ``2 tests Φ(-L)^run = alpha``.

    The union over the ``tests`` places a run can start and the two sides,
    for independent N(0, 1) values.
    """
    from scipy.special import ndtri

    if not 0.0 < alpha < 1.0:
        raise ParameterError(f"alpha must be in (0, 1), got {alpha}", name="alpha")
    if run < 1:
        raise ParameterError(f"run must be >= 1, got {run}", name="rate_run")
    return float(-ndtri((alpha / (2.0 * max(tests, 1.0))) ** (1.0 / run)))
