"""Tests of a change that starts somewhere in the analysis window and lasts to its end.

A change in the last days of a four-week window is diluted when the whole
window is compared with the baseline: +12 pp over 6 days of 28 reads as
+2.6 pp. These scans test every candidate onset ``τ`` (an analysed period
with at least ``changepoint_min_size`` periods from it to the end) and keep
the one where the change is most significant: the maximum-likelihood onset of
a change that persists. The scan's p-value is the smallest p times the number
of candidates (Bonferroni over the onsets; valid however the onset was
chosen), so a report that scans stays within its error budget.

Decision mix (:func:`_mix_scan`): the decisions observed from ``τ`` on
against those expected from the **baseline shares of each period's slot**
(hour of the week for hourly data, weekday for daily; a window that holds a
weekend is compared with weekend shares), ``E_d = Σ n_t c_(slot(t), d)``.
Pearson's ``Σ (O - E)² / E`` is divided by ``1 + Σ_s n_s² / (N_s N_c)`` (the
baseline shares are estimates from ``N_s`` decisions of slot ``s``, of which
the window holds ``n_s``; for one flat centre this is ``1 + N_c / N_b``, the
two-sample chi-square) and by the baseline's overdispersion ``φ`` (decision
shares wander from day to day more than a binomial allows; ``φ`` is the
Pearson dispersion of the baseline's daily decision counts around their slot
shares, floored at 1, on ``d`` degrees of freedom), and referred to
``F(k - 1, d)`` (quasi-likelihood: ``φ`` is an estimate; χ² with ``k - 1``
degrees of freedom when ``d`` is large). Labels whose baseline
share is below 2 % are pooled into one cell, so that no cell's expected count
is tiny, and an onset is a candidate only when every cell expects at least 5.

Volume (:func:`_volume_scan`): the observed total from ``τ`` on against the
sum of the seasonal expectations, with the quasi-Poisson variance and the
shared error of the baseline medians (same-slot periods share one median),
as a z-test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from ..counts import DecisionCounts
from ..stats import PERIODS_PER_WEEK, count_tail
from ..stats import psi as psi_of_counts

__all__: list[str] = []

_RARE_SHARE = 0.02
"""Labels below this baseline share are pooled into one cell for the chi-square."""

_MIN_EXPECTED = 5.0
"""Every cell of a candidate window expects at least this many decisions."""


@dataclass(frozen=True)
class _MixScan:
    """The decision-mix change from its most significant onset on.

    ``onset`` is a period index (``baseline_periods`` when there is no
    candidate, with NaN statistics); ``observed`` / ``expected`` are per
    decision label over the window from the onset; ``chi2`` is after the
    dispersion and baseline-error corrections; ``p_value`` is the chosen
    onset's, ``adjusted`` it times ``candidates``.
    """

    onset: int
    candidates: int
    baseline: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    chi2: float
    dof: int
    p_value: float
    adjusted: float
    cramers_v: float
    psi: float
    dispersion: float


def _usable(counts: DecisionCounts) -> np.ndarray:
    return np.asarray((counts.exposure > 0) & ~counts.holiday)


def _slot_shares(table: np.ndarray, counts: DecisionCounts) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Baseline decision shares of each period's slot ``[T, D]``, the pooled shares ``[D]``, and the estimates' groups.

    Slots are hours of the week (hourly data) or weekdays (daily); weekly data
    has one. A slot with fewer than 20 baseline decisions per label, or with a
    label it never saw, takes the pooled shares: a centre from a handful of
    decisions is noise. ``group[t]`` names the estimate period ``t`` uses (its
    slot, or -1 for the pooled one) and ``size[t]`` the baseline decisions
    behind it.
    """
    usable = _usable(counts)
    B = counts.baseline_periods
    n_periods, n_labels = table.shape
    base = table[:B][usable[:B]].astype(float)
    pooled_counts = base.sum(axis=0)
    total = pooled_counts.sum()
    pooled = pooled_counts / total if total > 0 else np.full(n_labels, np.nan)
    slots_per_week = PERIODS_PER_WEEK[counts.period]
    if slots_per_week == 1 or total <= 0:
        return (np.broadcast_to(pooled, (n_periods, n_labels)).copy(), pooled, np.full(n_periods, -1),
                np.full(n_periods, max(total, 1.0)))
    slot = np.arange(n_periods) % slots_per_week
    by_slot = np.zeros((slots_per_week, n_labels))
    np.add.at(by_slot, slot[:B][usable[:B]], base)
    slot_total = by_slot.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = by_slot / slot_total
    enough = (slot_total[:, 0] >= 20.0 * n_labels) & ((by_slot > 0) | (pooled_counts == 0)[None, :]).all(axis=1)
    shares = np.where(enough[:, None], shares, pooled[None, :])
    group = np.where(enough[slot], slot, -1)
    size = np.where(enough[slot], slot_total[slot, 0], total)
    return shares[slot], pooled, group, size


def _dispersion(table: np.ndarray, shares: np.ndarray, counts: DecisionCounts,
                cells: list[np.ndarray]) -> tuple[float, float]:
    """Pearson dispersion of the baseline's daily decision counts around their slot shares (floored at 1), and its df.

    Days (not hours) are the blocks, because the decision mix wanders by day
    (a day's applicants differ from the next day's), and an hourly dispersion
    would miss what is shared by the hours of one day.
    """
    usable = _usable(counts)
    B = counts.baseline_periods
    per_day = {"H": 24, "D": 1, "W": 1}[counts.period]
    x = np.where(usable[:B, None], table[:B], 0.0)
    n = x.sum(axis=1)
    e = shares[:B] * n[:, None]
    blocks = B // per_day
    if blocks < 2:
        return 1.0, math.inf
    x = x[: blocks * per_day].reshape(blocks, per_day, -1).sum(axis=1)
    e = e[: blocks * per_day].reshape(blocks, per_day, -1).sum(axis=1)
    x = np.stack([x[:, cell].sum(axis=1) for cell in cells], axis=1)
    e = np.stack([e[:, cell].sum(axis=1) for cell in cells], axis=1)
    keep = e.sum(axis=1) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(e > 0, (x - e) ** 2 / e, 0.0)[keep]
    dof = (int(keep.sum()) - 1) * (len(cells) - 1)
    if dof <= 0:
        return 1.0, math.inf
    return max(1.0, float(terms.sum() / dof)), float(dof)


def _cells(pooled: np.ndarray) -> list[np.ndarray]:
    """Label indices per chi-square cell: each common label alone, the rare ones (< 2 %) pooled."""
    present = np.flatnonzero(np.nan_to_num(pooled) > 0)
    common = [np.array([d]) for d in present if pooled[d] >= _RARE_SHARE]
    rare = np.array([d for d in present if pooled[d] < _RARE_SHARE], dtype=int)
    return common + ([rare] if rare.size else [])


def _candidates(counts: DecisionCounts, weight: np.ndarray, min_size: int) -> np.ndarray:
    """Analysed, usable periods with at least ``min_size`` usable periods with decisions from them to the end."""
    usable = _usable(counts) & (weight > 0)
    B = counts.baseline_periods
    after = np.cumsum(usable[::-1])[::-1]  # usable periods from t to the end
    t = np.arange(len(usable))
    return np.flatnonzero(usable & (t >= B) & (after >= min_size))


def _baseline_error(n: np.ndarray, group: np.ndarray, size: np.ndarray) -> np.ndarray:
    """``Σ_g n_g² / N_g`` of the window from each period to the end: the variance the estimated shares add.

    ``n_g`` are the window's decisions in estimate group ``g`` (a slot, or the
    pooled estimate), ``N_g`` the baseline decisions behind it.
    """
    totals: dict[int, float] = {}
    error = np.zeros(len(n))
    running = 0.0
    for t in range(len(n) - 1, -1, -1):
        g = int(group[t])
        before = totals.get(g, 0.0)
        after = before + float(n[t])
        totals[g] = after
        running += (after * after - before * before) / float(size[t])
        error[t] = running
    return error


def _nan_scan(counts: DecisionCounts, n_labels: int, baseline: np.ndarray) -> _MixScan:
    empty = np.full(n_labels, np.nan)
    return _MixScan(counts.baseline_periods, 0, baseline, empty, empty.copy(), math.nan, 0, math.nan, math.nan,
                    math.nan, math.nan, math.nan)


def _mix_scan(table: np.ndarray, counts: DecisionCounts, *, min_size: int, eps: float) -> _MixScan:
    """The decision-mix change of ``table`` ``[T, D]`` from its most significant onset (module docstring)."""
    table = np.asarray(table, dtype=float)
    usable = _usable(counts)
    B = counts.baseline_periods
    n_labels = table.shape[1]
    shares, pooled, group, size = _slot_shares(table, counts)
    baseline = table[:B][usable[:B]].sum(axis=0)
    n_base = baseline.sum()
    cells = _cells(pooled)
    if n_base <= 0 or len(cells) < 2:
        return _nan_scan(counts, n_labels, baseline)
    phi, phi_df = _dispersion(table, shares, counts, cells)
    x = np.where(usable[:, None], table, 0.0)
    n = x.sum(axis=1)
    e = shares * n[:, None]
    candidates = _candidates(counts, n, min_size)
    if candidates.size == 0:
        return _nan_scan(counts, n_labels, baseline)
    # Suffix sums from each period to the end: observed and expected per label, decisions.
    observed = np.cumsum(x[::-1], axis=0)[::-1][candidates]
    expected = np.cumsum(e[::-1], axis=0)[::-1][candidates]
    n_current = observed.sum(axis=1)
    o_cells = np.stack([observed[:, cell].sum(axis=1) for cell in cells], axis=1)
    e_cells = np.stack([expected[:, cell].sum(axis=1) for cell in cells], axis=1)
    valid = (e_cells >= _MIN_EXPECTED).all(axis=1)
    if not valid.any():
        valid = candidates == candidates[0]  # the whole window, however thin: one test, no scan
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = np.where(e_cells > 0, (o_cells - e_cells) ** 2 / e_cells, 0.0).sum(axis=1)
    error = _baseline_error(n, group, size)[candidates]
    with np.errstate(divide="ignore", invalid="ignore"):
        homogeneity = pearson / (1.0 + np.where(n_current > 0, error / n_current, 0.0))
    statistic = np.where(valid, homogeneity / phi, -np.inf)
    best = int(np.argmax(statistic))
    dof = len(cells) - 1
    chi2 = float(statistic[best])
    if math.isfinite(phi_df):
        p_value = float(sps.f.sf(chi2 / dof, dof, phi_df))
    else:
        p_value = float(sps.chi2.sf(chi2, dof))
    tested = int(valid.sum())
    o, ex = observed[best], expected[best]
    cramers_v = math.sqrt(homogeneity[best] / (n_current[best] + n_base))
    return _MixScan(
        onset=int(candidates[best]), candidates=tested, baseline=baseline, observed=o, expected=ex, chi2=chi2,
        dof=dof, p_value=p_value, adjusted=min(1.0, p_value * tested), cramers_v=cramers_v,
        psi=float(psi_of_counts(ex, o, eps=eps)), dispersion=phi,
    )


@dataclass(frozen=True)
class _VolumeScan:
    """A series' volume from its most significant onset on against the seasonal expectation."""

    onset: int
    candidates: int
    observed: float
    expected: float
    p_value: float
    adjusted: float


def _suffix_variance(mu: np.ndarray, unit: np.ndarray, assessed: np.ndarray, ppw: int) -> np.ndarray:
    """For every start ``s``: ``Σ_(t >= s, assessed) mu_t (1 + unit_t · n_slot(t))``, all starts at once.

    ``n_slot(t)`` counts the assessed periods ``>= s`` of ``t``'s slot (period of
    the week). Per slot ``k`` the sum is ``Σ mu_t + n_k W_k`` with ``W_k = Σ
    mu_t unit_t`` over its periods ``>= s``; laid out as weeks x slots, ``n_k`` and
    ``W_k`` are suffix sums down each slot's column, and a start in week ``w`` at
    slot ``k0`` takes week ``w``'s suffixes for slots ``>= k0`` and week ``w + 1``'s
    for the others. O(T) instead of O(T²) (the same sums in another order:
    within 1e-12 relative, tested against the per-start loop).
    """
    T = len(mu)
    weeks = -(-T // ppw) + 1  # one more week of zeros: the suffixes after the last
    a = np.zeros(weeks * ppw)
    w = np.zeros(weeks * ppw)
    m = np.zeros(weeks * ppw)
    a[:T] = assessed
    m[:T] = np.where(assessed, mu, 0.0)
    w[:T] = m[:T] * unit
    n_suffix = np.cumsum(a.reshape(weeks, ppw)[::-1], axis=0)[::-1]
    w_suffix = np.cumsum(w.reshape(weeks, ppw)[::-1], axis=0)[::-1]
    product = n_suffix * w_suffix
    before = np.concatenate([np.zeros((weeks, 1)), np.cumsum(product, axis=1)], axis=1)  # Σ over slots < k
    t = np.arange(T)
    week, k = t // ppw, t % ppw
    shared = (before[week, ppw] - before[week, k]) + before[week + 1, k]
    plain = np.cumsum(m[::-1])[::-1][:T]
    return np.asarray(plain + shared, dtype=float)


def _volume_scan(
    y: np.ndarray, expected: np.ndarray, assessed: np.ndarray, dispersion: float, df: float, lags: np.ndarray,
    counts: DecisionCounts, *, min_size: int,
) -> _VolumeScan:
    """The volume change of one series from its most significant onset (module docstring).

    ``Var(O - E) = φ Σ e_t (1 + π / (2 K_t) · n_slot)``: the quasi-Poisson
    variance of each period plus the error of its slot's median, which the
    ``n_slot`` analysed periods of the same slot in the window share. The
    onset maximises ``|O - E| / sd``; its p-value is the two-sided tail of
    :func:`mlreport.stats.count_tail` with that mean and variance on ``df``.
    """
    ppw = PERIODS_PER_WEEK[counts.period]
    mu = np.where(assessed, np.nan_to_num(expected), 0.0)
    obs = np.where(assessed, y, 0.0)
    candidates = np.flatnonzero(assessed & (np.cumsum(assessed[::-1])[::-1] >= min_size))
    candidates = candidates[candidates >= counts.baseline_periods]
    if candidates.size == 0:
        return _VolumeScan(counts.baseline_periods, 0, math.nan, math.nan, math.nan, math.nan)
    o_suffix = np.cumsum(obs[::-1])[::-1][candidates]
    e_suffix = np.cumsum(mu[::-1])[::-1][candidates]
    # Per candidate, the shared median error: Σ_slot (π/(2K)) (Σ_t in slot e_t)² / (Σ e_t) summed simply
    # as Σ_t e_t (1 + π/(2K_t) n_slot(t)), n_slot counted in the window.
    inflation_unit = math.pi / 2.0 / np.maximum(lags, 1)
    variance = dispersion * _suffix_variance(mu, inflation_unit, assessed, ppw)[candidates]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, (o_suffix - e_suffix) / np.sqrt(variance), 0.0)
    best = int(np.argmax(np.abs(z)))
    tested = int(candidates.size)
    if e_suffix[best] <= 0:
        return _VolumeScan(int(candidates[best]), tested, float(o_suffix[best]), 0.0, math.nan, math.nan)
    _, _, two_sided = count_tail(np.array([o_suffix[best]]), np.array([e_suffix[best]]),
                                 np.array([variance[best] / e_suffix[best]]), df)
    p_value = float(two_sided[0])
    return _VolumeScan(int(candidates[best]), tested, float(o_suffix[best]), float(e_suffix[best]), p_value,
                       min(1.0, p_value * tested))
