"""Periods and the seasonal baseline of decision counts.

Periods
-------
Counts are aggregated per hour (``"H"``), day (``"D"``) or ISO week starting
Monday (``"W"``) on the **local wall clock**. Demand follows the local clock
(people apply in office hours), so the seasonal slot "Monday 09:00" must be the
local 09:00 on both sides of a daylight-saving change; aggregating in UTC
would shift the intraday profile by an hour on the change date and, for the
next K weeks, compare 09:00 traffic with 10:00 traffic. The price of wall-clock
periods is that they are not all equally long: the spring-forward day has 23
hours and one hour that does not exist, the fall-back day 25 hours and one
local hour that happens twice. Each period therefore carries an **exposure**,
its real length over the nominal length (0 for the hour that does not exist,
2 for the doubled hour, 23/24 and 25/24 for the days), and expected counts are
rates per unit of exposure times the period's exposure. Without a time zone
(naive timestamps and no ``timezone``) every exposure is 1.

Seasonal baseline
-----------------
The expected count of period ``t`` is ``median(r_(t,j)) · exposure_t`` over
the K same-slot periods ``j`` (same weekday, and same hour for hourly data;
every week for weekly data), where ``r = count / exposure``. ``"fixed"`` mode
takes the K weeks of the baseline window before the analysis start for every
analysed period (an incident never becomes the baseline); ``"rolling"`` takes
the K weeks before each period. Lags on listed holidays, with zero exposure,
or before the series' first observation (a segment that did not yet exist)
are left out; the median is over what remains. Baseline periods get the
in-sample median of their own slot (for the timeline band only; they are not
tested).

Overdispersion: quasi-Poisson, ``Var(Y) = φ μ``. ``φ`` is the Pearson
dispersion of the baseline counts around their slot means (the Poisson GLM
with one mean per slot and ``log(exposure)`` offset, fitted in closed form:
``φ = Σ (y - μ)² / μ / (n_obs - n_slots)``, as statsmodels'
``GLM(...).fit(scale="X2").scale``), floored at 1. The test of a period adds
the error of the median itself, ``Var(median) ≈ (π / 2) φ μ / K_used`` (its
large-sample variance, conservative for small K), so ``Var(Y - e) = φ μ
(1 + π / (2 K_used))``. Each tail probability is the larger of the negative
binomial tail with that mean and variance (NB1, ``n = μ / (v - 1)``,
``p = 1 / v``; Poisson when ``v <= 1``) and the Student-t tail of the
continuity-corrected Pearson residual on the dispersion's residual degrees of
freedom (``φ`` is estimated from a few weeks; quasi-Poisson inference uses t
for exactly that reason).

Zero counts
-----------
A period with no count at all is judged by its own probability, not by the
tail test (whose Student-t side is far too heavy at 0 for a count). Under
the same predictive distribution, negative binomial with mean ``e`` and
variance ``r e`` (``r = φ (1 + π / (2 K_used))``: the baseline's
overdispersion and the error of the median; it is the Poisson mixed over a
gamma-distributed mean), ``P(Y = 0) = r^(-e / (r - 1))``, ``e^(-e)`` for
``r = 1``. A run of zero periods, independent given their means, has the
product of those probabilities, which is the probability that their sum is
0: so one zero hour and a run of zero hours are the same test, of the run's
total. A run among ``m`` tests is significant at family-wise level ``α``
(Bonferroni over the run's possible starts) when its probability is below
``α / m``; for one period that is an expected count of at least
``ln(m / α) (r - 1) / ln r`` (:func:`zero_expected_minimum`): 13.3 for
``m`` = 6,000 and ``α`` = 1 % with a known Poisson mean, 18.7 at ``r`` = 1.9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats as sps

from ..errors import ParameterError

__all__ = [
    "PERIOD_NS",
    "PERIODS_PER_WEEK",
    "PERIOD_WORDS",
    "BASELINE_MODES",
    "DISPERSION_METHOD",
    "BASELINE_METHOD",
    "parse_period",
    "infer_period",
    "floor_to_period",
    "period_exposure",
    "SeasonalExpected",
    "seasonal_expected",
    "Dispersion",
    "pearson_dispersion",
    "median_inflation",
    "CountTail",
    "count_tail",
    "CountBand",
    "count_band",
    "ZERO_RUN_METHOD",
    "zero_log_probability",
    "zero_expected_minimum",
]

_HOUR_NS = 3_600 * 10**9
PERIOD_NS: dict[str, int] = {"H": _HOUR_NS, "D": 24 * _HOUR_NS, "W": 168 * _HOUR_NS}
PERIODS_PER_WEEK: dict[str, int] = {"H": 168, "D": 7, "W": 1}
PERIOD_WORDS: dict[str, str] = {"H": "hour", "D": "day", "W": "week"}
BASELINE_MODES = ("fixed", "rolling")
_PERIOD_ALIASES = {
    "h": "H", "hour": "H", "hourly": "H", "1h": "H",
    "d": "D", "day": "D", "daily": "D", "1d": "D",
    "w": "W", "week": "W", "weekly": "W", "1w": "W",
    "auto": "auto", "": "auto",
}

BASELINE_METHOD = (
    "expected count = median over the {K} same-{slot} periods of the {mode} baseline "
    "(count per unit exposure x exposure; holidays, zero-exposure periods and periods before "
    "a segment's first observation left out)"
)
ZERO_RUN_METHOD = (
    "a run of zero periods (one or more) is flagged when its probability under the baseline, "
    "Π r^(-e/(r-1)) with r = φ (1 + π/(2 K_used)) (negative binomial P(Y = 0); e^(-e) when r = 1), "
    "is below α / m (Bonferroni over the m series-periods tested)"
)
DISPERSION_METHOD = (
    "quasi-Poisson: φ = Pearson χ²/(n_obs - n_slots) of the baseline around its slot means "
    "(closed-form Poisson GLM with slot means and log-exposure offset), floored at 1; "
    "Var(Y - e) = φ e (1 + π/(2 K_used)); two-sided tail p = 2 min(P(Y <= y), P(Y >= y)), each "
    "tail the larger of the negative binomial with that mean and variance and the Student-t tail "
    "of the continuity-corrected Pearson residual on the dispersion's residual df"
)


def parse_period(value: object) -> str:
    """``"H"``, ``"D"``, ``"W"`` or ``"auto"`` from a period name (case-insensitive)."""
    key = str(value).strip().lower() if value is not None else "auto"
    if key not in _PERIOD_ALIASES:
        raise ParameterError(
            f"period {value!r} is not one of H (hour), D (day), W (week) or auto", name="period"
        )
    return _PERIOD_ALIASES[key]


def infer_period(n_rows: int, span: pd.Timedelta, *, min_mean_count: float = 100.0) -> str:
    """The finest period whose mean overall count per period is at least ``min_mean_count``.

    Hourly periods need about 100 decisions an hour for the segments to carry
    signal; otherwise daily, and weekly for thin logs.
    """
    hours = max(span / pd.Timedelta(hours=1), 1.0)
    for period, length in (("H", 1.0), ("D", 24.0)):
        if n_rows / max(hours / length, 1.0) >= min_mean_count:
            return period
    return "W"


def floor_to_period(timestamp: pd.Timestamp, period: str) -> pd.Timestamp:
    """Start of the period (wall clock) holding ``timestamp``; weeks start on Monday."""
    timestamp = pd.Timestamp(timestamp)
    if period == "H":
        return timestamp.floor("h")
    day = timestamp.normalize()
    if period == "D":
        return day
    return day - pd.Timedelta(days=day.weekday())


def period_exposure(
    start: pd.Timestamp, n_periods: int, period: str, timezone: str | None
) -> npt.NDArray[np.float64]:
    """Real length of each wall-clock period over its nominal length.

    ``start`` is the naive wall-clock start of the first period. With a time
    zone, 15-minute UTC ticks covering the span are converted to the local
    wall clock and counted per period, which gives 0 for a local hour that does
    not exist and 2 for one that happens twice. Without one, all ones.
    """
    if timezone is None:
        return np.ones(n_periods)
    step = PERIOD_NS[period]
    tick = 15 * 60 * 10**9
    margin = pd.Timedelta(days=2)
    end = pd.Timestamp(start) + pd.Timedelta(step * n_periods, unit="ns")
    ticks = pd.date_range(
        (pd.Timestamp(start) - margin).tz_localize("UTC"),
        (end + margin).tz_localize("UTC"),
        freq="15min",
        inclusive="left",
    )
    local = ticks.tz_convert(timezone).tz_localize(None).as_unit("ns").asi8
    codes = (local - pd.Timestamp(start).as_unit("ns").value) // step
    inside = (codes >= 0) & (codes < n_periods)
    counts = np.bincount(codes[inside], minlength=n_periods)
    return counts / (step / tick)


@dataclass(frozen=True)
class SeasonalExpected:
    """Expected counts ``[T, S]`` and the number of lags each median used."""

    expected: npt.NDArray[np.float64]
    lags_used: npt.NDArray[np.int64]


def _lag_indices(
    n_periods: int, baseline_periods: int, periods_per_week: int, weeks: int, mode: str
) -> npt.NDArray[np.int64]:
    """Index ``[T, K]`` of the periods whose median gives each period's expectation.

    Baseline periods (``t < baseline_periods``) use their own slot in the
    baseline window (in sample); analysed periods use the fixed baseline slot
    or the K previous weeks (rolling). Negative indices mark "no lag".
    """
    t = np.arange(n_periods)[:, None]
    j = np.arange(weeks)[None, :]
    in_sample = (t % periods_per_week) + j * periods_per_week
    if mode == "fixed":
        analysed = ((t - baseline_periods) % periods_per_week) + j * periods_per_week
    else:
        analysed = t - (j + 1) * periods_per_week
    return np.where(t < baseline_periods, in_sample, analysed)


def seasonal_expected(
    counts: ArrayLike,
    exposure: ArrayLike,
    *,
    periods_per_week: int,
    baseline_periods: int,
    weeks: int,
    mode: str = "fixed",
    usable: ArrayLike,
    first_seen: ArrayLike,
) -> SeasonalExpected:
    """Seasonal-median expectation of every period of every series.

    ``counts`` is ``[T, S]`` (periods x series) on a complete period grid whose
    first ``baseline_periods = weeks x periods_per_week`` periods are the
    baseline window. ``usable`` ``[T]`` marks periods allowed as lags
    (not a holiday, exposure > 0); ``first_seen`` ``[S]`` is each series' first
    period with a count, before which it did not exist. Where no lag is left
    the expectation is NaN.
    """
    if mode not in BASELINE_MODES:
        raise ParameterError(
            f"baseline_mode {mode!r} is not one of {', '.join(BASELINE_MODES)}", name="baseline_mode"
        )
    count = np.asarray(counts)
    length = np.asarray(exposure)
    usable_lag = np.asarray(usable)
    first_period = np.asarray(first_seen)
    n_periods, _ = count.shape  # [T, S]
    index = _lag_indices(n_periods, baseline_periods, periods_per_week, weeks, mode)
    valid_index = index >= 0
    safe = np.where(valid_index, index, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(length[:, None] > 0, count / length[:, None], np.nan)
    lags = rate[safe]  # [T, K, S]
    ok = (
        valid_index[:, :, None]
        & usable_lag[safe][:, :, None]
        & (safe[:, :, None] >= first_period[None, None, :])
    )
    lags = np.where(ok, lags, np.nan)
    # Median over the valid lags without numpy's all-NaN warnings: sort puts NaN last.
    ordered = np.sort(lags, axis=1)
    used = ok.sum(axis=1)  # [T, S]
    low = np.clip((used - 1) // 2, 0, weeks - 1)
    high = np.clip(used // 2, 0, weeks - 1)
    lower = np.take_along_axis(ordered, low[:, None, :], axis=1)[:, 0, :]
    upper = np.take_along_axis(ordered, high[:, None, :], axis=1)[:, 0, :]
    median = np.where(used > 0, (lower + upper) / 2.0, np.nan)
    return SeasonalExpected(median * length[:, None], used)


@dataclass(frozen=True)
class Dispersion:
    """Pearson dispersion per series and its residual degrees of freedom."""

    phi: npt.NDArray[np.float64]
    df: npt.NDArray[np.int64]


def pearson_dispersion(
    counts: ArrayLike, exposure: ArrayLike, *, periods_per_week: int, use: ArrayLike
) -> Dispersion:
    """Pearson dispersion ``φ`` per series from baseline counts around slot means.

    ``counts`` ``[T, S]`` and ``exposure`` ``[T]`` cover the baseline window;
    ``use`` ``[T, S]`` marks the observations that count. The model is a
    Poisson GLM with one rate per slot and a log-exposure offset, whose fit is
    closed form (slot rate = Σy / Σexposure); slots whose mean is 0 contribute
    neither to χ² nor to the degrees of freedom. Returns NaN where there are
    no residual degrees of freedom (callers use 1), with the degrees of
    freedom ``n_obs - n_slots`` that the tail test needs.
    """
    count = np.asarray(counts)
    length = np.asarray(exposure)
    used = np.asarray(use)
    n_periods, n_series = count.shape
    slot = np.arange(n_periods) % periods_per_week
    weights = used.astype(float)
    y = np.where(used, count, 0.0)
    slot_counts = np.zeros((periods_per_week, n_series))
    slot_exposure = np.zeros((periods_per_week, n_series))
    np.add.at(slot_counts, slot, y)
    np.add.at(slot_exposure, slot, weights * length[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        slot_rate = np.where(slot_exposure > 0, slot_counts / slot_exposure, 0.0)
    mu = slot_rate[slot] * length[:, None]
    positive = used & (mu > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(positive, (y - mu) ** 2 / np.where(mu > 0, mu, 1.0), 0.0)
    chi2 = terms.sum(axis=0)
    slots_used = np.zeros((periods_per_week, n_series), dtype=np.int64)
    np.add.at(slots_used, slot, positive.astype(np.int64))
    df = positive.sum(axis=0) - (slots_used > 0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(df > 0, chi2 / np.maximum(df, 1), np.nan)
    return Dispersion(phi, np.maximum(df, 0))


def median_inflation(lags_used: ArrayLike) -> npt.NDArray[np.float64]:
    """``1 + π / (2 K)``: the variance the median of K lags adds, relative to one count."""
    lags = np.asarray(lags_used)
    with np.errstate(divide="ignore"):
        return np.where(lags > 0, 1.0 + math.pi / (2.0 * np.maximum(lags, 1)), np.nan)


def _nbinom_params(
    mean: npt.NDArray[np.float64], ratio: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """NB1 parameters with mean ``mean`` and variance ``ratio · mean`` (ratio > 1)."""
    excess = np.maximum(ratio - 1.0, 1e-12)
    return mean / excess, 1.0 / np.maximum(ratio, 1.0 + 1e-12)


class CountTail(NamedTuple):
    """Tail probabilities of observed counts (:func:`count_tail`); unpacks as ``lower, upper, two_sided``."""

    lower: npt.NDArray[np.float64]
    """``P(Y <= y)``."""
    upper: npt.NDArray[np.float64]
    """``P(Y >= y)``."""
    two_sided: npt.NDArray[np.float64]
    """``min(1, 2 min(lower, upper))``."""


def count_tail(
    observed: ArrayLike, expected: ArrayLike, ratio: ArrayLike, df: ArrayLike | None = None
) -> CountTail:
    """Lower, upper and two-sided tail probabilities of counts.

    ``P(Y <= y)``, ``P(Y >= y)`` and ``min(1, 2 min(...))`` for ``Y`` negative
    binomial with mean ``expected`` and variance ``ratio · expected``
    (Poisson where ``ratio <= 1``). ``expected`` must be > 0 where finite;
    NaN inputs give NaN.

    With ``df`` (the residual degrees of freedom behind an estimated ``φ``)
    each tail is the larger of the negative-binomial tail and the Student-t
    tail of the continuity-corrected Pearson residual
    ``(y ∓ 0.5 - e) / sqrt(ratio · e)`` on ``df`` degrees of freedom: the
    quasi-Poisson test when ``φ`` comes from a few weeks (a φ estimated on
    21 df is off by 30 % often enough to matter at p = 0.001), while the
    negative binomial keeps the skew and discreteness of small counts.
    ``df`` of 0 or infinity means a known ``φ`` (no t correction).
    """
    y = np.asarray(observed, dtype=float)
    mu = np.asarray(expected, dtype=float)
    v = np.broadcast_to(np.asarray(ratio, dtype=float), mu.shape)
    low = np.full(mu.shape, np.nan)
    high = np.full(mu.shape, np.nan)
    ok = np.isfinite(mu) & (mu > 0) & np.isfinite(v) & np.isfinite(y)
    poisson = ok & (v <= 1.0)
    negbin = ok & (v > 1.0)
    if poisson.any():
        low[poisson] = sps.poisson.cdf(y[poisson], mu[poisson])
        high[poisson] = sps.poisson.sf(y[poisson] - 1, mu[poisson])
    if negbin.any():
        n, p = _nbinom_params(mu[negbin], v[negbin])
        low[negbin] = sps.nbinom.cdf(y[negbin], n, p)
        high[negbin] = sps.nbinom.sf(y[negbin] - 1, n, p)
    if df is not None:
        freedom = np.broadcast_to(np.asarray(df, dtype=float), mu.shape)
        student = ok & np.isfinite(freedom) & (freedom > 0)
        if student.any():
            sd = np.sqrt(np.maximum(v[student], 1.0) * mu[student])
            d = freedom[student]
            low[student] = np.maximum(low[student], sps.t.cdf((y[student] + 0.5 - mu[student]) / sd, d))
            high[student] = np.maximum(high[student], sps.t.sf((y[student] - 0.5 - mu[student]) / sd, d))
    two = np.minimum(1.0, 2.0 * np.minimum(low, high))
    return CountTail(low, high, two)


class CountBand(NamedTuple):
    """A central band of counts (:func:`count_band`); unpacks as ``lower, upper``."""

    lower: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]


def count_band(
    expected: ArrayLike, ratio: ArrayLike, alpha: float, df: ArrayLike | None = None
) -> CountBand:
    """Central ``1 - alpha`` band of counts under the distribution of :func:`count_tail`.

    With ``df`` the variance ratio is widened by ``(t_(df, 1-α/2) / z_(1-α/2))²``,
    so the band matches the Student-t side of the test (for drawing; the
    flags come from :func:`count_tail`).
    """
    mu = np.asarray(expected, dtype=float)
    v = np.broadcast_to(np.asarray(ratio, dtype=float), mu.shape)
    if df is not None:
        freedom = np.broadcast_to(np.asarray(df, dtype=float), mu.shape)
        with np.errstate(invalid="ignore"):
            widen = np.where(
                np.isfinite(freedom) & (freedom > 0),
                (sps.t.isf(alpha / 2, np.where(freedom > 0, freedom, 1.0)) / sps.norm.isf(alpha / 2)) ** 2,
                1.0,
            )
        v = np.maximum(v, 1.0) * widen
    lower = np.full(mu.shape, np.nan)
    upper = np.full(mu.shape, np.nan)
    ok = np.isfinite(mu) & (mu > 0) & np.isfinite(v)
    zero = np.isfinite(mu) & (mu == 0)
    lower[zero] = upper[zero] = 0.0
    poisson = ok & (v <= 1.0)
    negbin = ok & (v > 1.0)
    if poisson.any():
        lower[poisson] = sps.poisson.ppf(alpha / 2, mu[poisson])
        upper[poisson] = sps.poisson.isf(alpha / 2, mu[poisson])
    if negbin.any():
        n, p = _nbinom_params(mu[negbin], v[negbin])
        lower[negbin] = sps.nbinom.ppf(alpha / 2, n, p)
        upper[negbin] = sps.nbinom.isf(alpha / 2, n, p)
    return CountBand(lower, upper)


def zero_log_probability(expected: ArrayLike, ratio: ArrayLike) -> npt.NDArray[np.float64]:
    """``ln P(Y = 0)`` for ``Y`` negative binomial with mean ``expected`` and variance ``ratio · expected``.

    ``-e ln(r) / (r - 1)`` (NB1: ``n = e / (r - 1)``, ``p = 1 / r``, so
    ``P(0) = p^n``), and ``-e`` (Poisson) where ``r <= 1``. NaN inputs give
    NaN; an expectation of 0 gives 0 (a zero is certain). Summed over a run of
    periods it is the log-probability that the run is all zero (module
    docstring, "Zero counts").
    """
    mu = np.asarray(expected, dtype=float)
    r = np.broadcast_to(np.asarray(ratio, dtype=float), mu.shape)
    over = np.isfinite(r) & (r > 1.0)
    safe = np.where(over, r, 2.0)
    factor = np.where(over, np.log(safe) / (safe - 1.0), 1.0)
    factor = np.where(np.isnan(r), np.nan, factor)
    return -mu * factor


def zero_expected_minimum(alpha: float, tests: float, ratio: float = 1.0) -> float:
    """The smallest expected count whose single zero is significant at family-wise ``alpha`` over ``tests``.

    Solves ``P(Y = 0) = alpha / tests`` for the mean of :func:`zero_log_probability`:
    ``ln(tests / alpha) · (r - 1) / ln r`` (``ln(tests / alpha)`` for a Poisson
    count, ``r <= 1``). A run of zero periods is significant when its
    expected total reaches the same value.
    """
    if not 0.0 < alpha < 1.0:
        raise ParameterError(f"alpha must be in (0, 1), got {alpha}", name="alpha")
    if tests < 1:
        raise ParameterError(f"tests must be >= 1, got {tests}", name="tests")
    needed = math.log(tests / alpha)
    if ratio <= 1.0:
        return needed
    return needed * (ratio - 1.0) / math.log(ratio)
