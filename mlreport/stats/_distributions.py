"""Statistical kernels for drift: distances, tests and multiple-testing correction.

Each kernel has one documented convention, stated in its docstring and in the
``*_METHOD`` strings that end up in a report's methods appendix. Distances take
two **count vectors over the same bins** (reference first, current second), so
that they work on summaries computed anywhere (pandas, DuckDB, Spark); the
in-memory variants that need raw values say so in their names (``*_exact``).

Conventions, in one place:

* proportions: ``p_i = c_i / n`` over the bins given (missing values are not a
  bin; callers drop them and report missingness separately);
* PSI: ``PSI = sum_i (q_i - p_i) ln(q_i / p_i)`` (natural log), by default with
  empty bins floored, ``p_i = max(c_i / n, eps)`` with ``eps = 1e-4`` and no
  renormalisation, or with additive smoothing of the counts (``smoothing=a``),
  ``p_i = (c_i + a) / (n + a k)``, as the drift analysis uses (``a = 0.5``);
* Jensen-Shannon **distance**, log base 2, in [0, 1]; equals
  ``scipy.spatial.distance.jensenshannon(p, q, base=2)``;
* Hellinger distance ``sqrt(1/2 * sum (sqrt p_i - sqrt q_i)^2)``, in [0, 1];
* total variation distance ``1/2 * sum |p_i - q_i|``, in [0, 1];
* KS: exact in memory (``scipy.stats.ks_2samp``, two-sided, method auto) or
  from counts over fine bins (a lower bound of D with a stated error bound and
  the asymptotic p-value of ``ks_2samp(method="asymp")``);
* Wasserstein-1 divided by the reference standard deviation with ddof=1;
* chi-square test of homogeneity on the 2 x k table (reference, current), no
  continuity correction, small expected counts pooled;
* multiple testing: Benjamini-Hochberg (default) or Bonferroni via statsmodels.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from ..errors import ParameterError

__all__ = [
    "PSI_EPS",
    "PSI_SMOOTHING",
    "MIN_EXPECTED",
    "PSI_METHOD",
    "PSI_SMOOTHED_METHOD",
    "JS_METHOD",
    "HELLINGER_METHOD",
    "TVD_METHOD",
    "KS_EXACT_METHOD",
    "KS_BINNED_METHOD",
    "WASSERSTEIN_EXACT_METHOD",
    "WASSERSTEIN_BINNED_METHOD",
    "CHI2_METHOD",
    "CORRECTIONS",
    "KsResult",
    "Chi2Result",
    "proportions",
    "psi",
    "psi_contributions",
    "js_distance",
    "hellinger",
    "tvd",
    "ks_exact",
    "ks_binned",
    "wasserstein_exact",
    "wasserstein_binned",
    "chi2_homogeneity",
    "adjust_pvalues",
    "correction_name",
]

PSI_EPS = 1e-4
"""Floor of a bin's proportion in PSI (empty bins would make PSI infinite)."""

PSI_SMOOTHING = 0.5
"""Pseudo-count added to every bin of both count vectors by the smoothed PSI (Jeffreys' prior, Krichevsky-Trofimov)."""

MIN_EXPECTED = 5.0
"""Chi-square cells with an expected count below this are pooled."""

PSI_METHOD = (
    "PSI = sum (q - p) ln(q / p) over the bins, p_i = max(c_i / n, 1e-4) "
    "(empty bins floored, not renormalised)"
)
PSI_SMOOTHED_METHOD = (
    "PSI = sum (q - p) ln(q / p) over the bins with additive smoothing of the counts, "
    "p_i = (c_i + 0.5) / (n + 0.5 k) for k bins (and likewise q_i): an empty or rare bin, "
    "such as a category new in the current data, weighs by its evidence instead of a floor"
)
JS_METHOD = "Jensen-Shannon distance, log base 2 (0..1), on the same bins"
HELLINGER_METHOD = "Hellinger distance sqrt(1/2 sum (sqrt p - sqrt q)^2) (0..1), on the same bins"
TVD_METHOD = "total variation distance 1/2 sum |p - q| (0..1), on the same bins"
KS_EXACT_METHOD = "two-sample KS, scipy.stats.ks_2samp (two-sided, method auto), raw values"
KS_BINNED_METHOD = (
    "two-sample KS from fine reference-quantile bins: D = max ECDF gap at the bin "
    "edges (a lower bound; true D exceeds it by at most the largest bin mass), "
    "Smirnov's asymptotic p-value kstwobign.sf(D sqrt(n m / (n + m))) (approximate)"
)
WASSERSTEIN_EXACT_METHOD = (
    "Wasserstein-1 (scipy.stats.wasserstein_distance) / reference std (ddof=1), raw values"
)
WASSERSTEIN_BINNED_METHOD = (
    "Wasserstein-1 / reference std (ddof=1) from fine bins, each bin's mass placed "
    "at its within-bin mean (approximation; error at most the mass-weighted bin widths)"
)
CHI2_METHOD = (
    "chi-square test of homogeneity on the 2 x k table reference vs current (no continuity "
    "correction); categories with an expected count below 5 in either row pooled into one "
    "cell; Cramer's V = sqrt(chi2 / N)"
)

CORRECTIONS: dict[str, str] = {
    "fdr_bh": "Benjamini-Hochberg false discovery rate",
    "bonferroni": "Bonferroni family-wise error rate",
}
_CORRECTION_ALIASES = {
    "bh": "fdr_bh",
    "fdr_bh": "fdr_bh",
    "benjamini-hochberg": "fdr_bh",
    "benjamini_hochberg": "fdr_bh",
    "bonferroni": "bonferroni",
}


class KsResult(NamedTuple):
    """A two-sample KS statistic, its p-value, and its approximation error.

    ``max_error`` is 0 for the exact test; for the binned test it bounds
    ``true D - statistic`` (the binned D is never above the true D).
    """

    statistic: float
    pvalue: float
    n_reference: int
    n_current: int
    max_error: float = 0.0


class Chi2Result(NamedTuple):
    """Chi-square test of homogeneity on a 2 x k table, after pooling."""

    statistic: float
    pvalue: float
    dof: int
    cramers_v: float
    cells: int
    pooled: int
    """Number of original categories merged into the pooled "other" cell."""


# ---------------------------------------------------------------------------
# proportions and distances


def _counts(values: ArrayLike, name: str) -> npt.NDArray[np.float64]:
    counts = np.asarray(values, dtype=float)
    if counts.ndim != 1:
        raise ParameterError(f"{name}: expected a 1-d vector of counts, got shape {counts.shape}")
    if counts.size and (not np.all(np.isfinite(counts)) or counts.min() < 0):
        raise ParameterError(f"{name}: counts must be finite and non-negative")
    return counts


def _pair(reference: ArrayLike, current: ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    ref = _counts(reference, "reference counts")
    cur = _counts(current, "current counts")
    if ref.shape != cur.shape:
        raise ParameterError(
            f"reference and current counts must be over the same bins: "
            f"{ref.size} vs {cur.size} bins"
        )
    return ref, cur


def proportions(counts: ArrayLike) -> npt.NDArray[np.float64]:
    """Counts divided by their total; all-NaN when the total is 0."""
    values = _counts(counts, "counts")
    total = values.sum()
    if total <= 0:
        return np.full(values.shape, np.nan)
    return values / total


def _proportion_pair(
    reference: ArrayLike, current: ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    ref, cur = _pair(reference, current)
    return proportions(ref), proportions(cur)


def psi_contributions(
    reference: ArrayLike, current: ArrayLike, *, eps: float = PSI_EPS, smoothing: float | None = None
) -> npt.NDArray[np.float64]:
    """Per-bin terms ``(q_i - p_i) ln(q_i / p_i)`` of the PSI (each >= 0).

    Without ``smoothing``: ``p_i = max(ref_i / n_ref, eps)`` and ``q_i =
    max(cur_i / n_cur, eps)``: empty bins are floored at ``eps`` and the
    proportions are **not** renormalised afterwards. With ``smoothing = a > 0``:
    additive (Lidstone) smoothing of the counts, ``p_i = (ref_i + a) / (n_ref +
    a k)`` over ``k`` bins and likewise ``q_i``, so both sum to 1 and no floor is
    needed (``a = 0.5``, :data:`PSI_SMOOTHING`, is Jeffreys' prior). All-NaN when
    either side has no counts.
    """
    if smoothing is None:
        if not eps > 0:
            raise ParameterError(f"eps must be positive, got {eps!r}", name="eps")
        p, q = _proportion_pair(reference, current)
        if np.isnan(p).any() or np.isnan(q).any():
            return np.full(p.shape, np.nan)
        p = np.maximum(p, eps)
        q = np.maximum(q, eps)
        return (q - p) * np.log(q / p)
    if not (isinstance(smoothing, (int, float)) and math.isfinite(smoothing) and smoothing > 0):
        raise ParameterError(f"smoothing must be a positive pseudo-count, got {smoothing!r}", name="smoothing")
    ref, cur = _pair(reference, current)
    if ref.sum() <= 0 or cur.sum() <= 0:
        return np.full(ref.shape, np.nan)
    p = (ref + smoothing) / (ref.sum() + smoothing * ref.size)
    q = (cur + smoothing) / (cur.sum() + smoothing * cur.size)
    return (q - p) * np.log(q / p)


def psi(
    reference: ArrayLike, current: ArrayLike, *, eps: float = PSI_EPS, smoothing: float | None = None
) -> float:
    """Population stability index of ``current`` against ``reference`` counts.

    ``PSI = sum_i (q_i - p_i) ln(q_i / p_i)`` (natural log). By default ``p_i =
    max(c_i / n, eps)`` (empty bins floored at ``eps = 1e-4``, not
    renormalised); with ``smoothing = a`` the counts are smoothed additively
    instead, ``p_i = (c_i + a) / (n + a k)`` (see :func:`psi_contributions`).
    Non-negative; 0 for identical proportions; NaN when a side is empty.
    Categorical PSI uses the same function over the reference categories plus
    one "other/new" bin.
    """
    terms = psi_contributions(reference, current, eps=eps, smoothing=smoothing)
    return float(terms.sum()) if terms.size else float("nan")


def js_distance(reference: ArrayLike, current: ArrayLike) -> float:
    """Jensen-Shannon distance with log base 2, in [0, 1].

    ``sqrt(1/2 KL(p || m) + 1/2 KL(q || m))`` with ``m = (p + q) / 2`` and
    ``0 log 0 = 0``; equals ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
    """
    p, q = _proportion_pair(reference, current)
    if np.isnan(p).any() or np.isnan(q).any() or not p.size:
        return float("nan")
    m = (p + q) / 2.0
    # Terms with p_i = 0 contribute 0; where p_i > 0, m_i > 0 as well.
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum()
    divergence = max(0.5 * (kl_p + kl_q), 0.0)  # rounding can give -1e-17
    return float(min(np.sqrt(divergence), 1.0))


def hellinger(reference: ArrayLike, current: ArrayLike) -> float:
    """Hellinger distance ``sqrt(1/2 sum (sqrt p_i - sqrt q_i)^2)``, in [0, 1]."""
    p, q = _proportion_pair(reference, current)
    if np.isnan(p).any() or np.isnan(q).any() or not p.size:
        return float("nan")
    value = np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))
    return float(min(value, 1.0))


def tvd(reference: ArrayLike, current: ArrayLike) -> float:
    """Total variation distance ``1/2 sum |p_i - q_i|``, in [0, 1].

    The largest difference in probability that the two distributions give to
    any set of bins (for categories: the share of rows that would have to move).
    """
    p, q = _proportion_pair(reference, current)
    if np.isnan(p).any() or np.isnan(q).any() or not p.size:
        return float("nan")
    return float(min(0.5 * np.abs(p - q).sum(), 1.0))


# ---------------------------------------------------------------------------
# Kolmogorov-Smirnov


def _finite(values: ArrayLike) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=float).ravel()
    return array[np.isfinite(array)]


def ks_exact(reference: ArrayLike, current: ArrayLike) -> KsResult:
    """Two-sample KS test on raw values: ``scipy.stats.ks_2samp`` (two-sided, auto).

    NaN and infinite values are dropped first. Statistic and p-value are
    exactly those of ``ks_2samp`` on the finite values. If scipy's exact
    p-value does not converge it switches to the asymptotic one itself; that
    switch is scipy's documented behaviour, so its warning is not re-raised.
    """
    ref = _finite(reference)
    cur = _finite(current)
    if ref.size == 0 or cur.size == 0:
        return KsResult(float("nan"), float("nan"), int(ref.size), int(cur.size))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ks_2samp: Exact calculation unsuccessful")
        result = sps.ks_2samp(ref, cur, alternative="two-sided", method="auto")
    return KsResult(float(result.statistic), float(result.pvalue), int(ref.size), int(cur.size))


def _ks_asymptotic_pvalue(statistic: float, n_reference: int, n_current: int) -> float:
    """Smirnov's limiting two-sided p-value ``kstwobign.sf(D * sqrt(n m / (n + m)))``.

    ``ks_2samp(method='asymp')`` evaluates ``kstwo.sf(D, round(n m / (n + m)))``
    instead, which is slightly more accurate at small samples but can take
    seconds per call at a million rows; the limiting form differs from it by
    about 1 % (relative) for effective sizes above 1,000.
    """
    en = float(n_reference) * float(n_current) / (float(n_reference) + float(n_current))
    return float(np.clip(sps.kstwobign.sf(statistic * np.sqrt(en)), 0.0, 1.0))


def ks_binned(reference: ArrayLike, current: ArrayLike) -> KsResult:
    """Two-sample KS from counts over the same fine, ordered bins.

    Bins are right-closed, ``(e_{j-1}, e_j]``, with open outer bins, so the
    cumulative counts at each interior edge are the exact ECDFs ``F(e_j)`` and
    ``G(e_j)``. The statistic ``D_b = max_j |F(e_j) - G(e_j)|`` is therefore a
    **lower bound** of the true ``D = sup_x |F(x) - G(x)|``.

    Error bound. For ``x`` inside bin ``j``, ``F(x) = F(e_{j-1}) + a`` with
    ``0 <= a <= f_j`` (the bin's reference mass) and ``G(x) = G(e_{j-1}) + b``
    with ``0 <= b <= g_j``, so ``|F(x) - G(x)| <= |F(e_{j-1}) - G(e_{j-1})| +
    max(f_j, g_j)``. Hence ``D - D_b <= max_j max(f_j, g_j)``, returned as
    ``max_error``. With 100 reference-quantile bins the reference masses are
    about 0.01; a current sample piled into one bin makes the bound large,
    which is reported rather than hidden.

    The p-value is Smirnov's asymptotic two-sided one,
    ``kstwobign.sf(D_b * sqrt(n m / (n + m)))`` over the counted values:
    approximate (within about 1 % of ``ks_2samp(method='asymp')`` for
    effective sizes above 1,000), and conservative when the bins hide part of
    ``D``.
    """
    ref, cur = _pair(reference, current)
    n_ref, n_cur = round(float(ref.sum())), round(float(cur.sum()))
    if n_ref == 0 or n_cur == 0:
        return KsResult(float("nan"), float("nan"), n_ref, n_cur, float("nan"))
    f = ref / ref.sum()
    g = cur / cur.sum()
    gaps = np.abs(np.cumsum(f) - np.cumsum(g))[:-1]  # the last edge is +inf: gap 0
    statistic = float(gaps.max()) if gaps.size else 0.0
    max_error = float(np.maximum(f, g).max())
    pvalue = _ks_asymptotic_pvalue(statistic, n_ref, n_cur)
    return KsResult(statistic, pvalue, n_ref, n_cur, max_error)


# ---------------------------------------------------------------------------
# Wasserstein


def wasserstein_exact(
    reference: ArrayLike, current: ArrayLike, *, scale: float | None = None
) -> float:
    """Wasserstein-1 distance on raw values divided by the reference std (ddof=1).

    ``scipy.stats.wasserstein_distance(ref, cur) / scale`` where ``scale``
    defaults to ``np.std(ref, ddof=1)`` over the finite reference values.
    NaN when a side is empty or the scale is 0 or undefined.
    """
    ref = _finite(reference)
    cur = _finite(current)
    if ref.size == 0 or cur.size == 0:
        return float("nan")
    if scale is None:
        scale = float(np.std(ref, ddof=1)) if ref.size > 1 else float("nan")
    if not (scale > 0 and np.isfinite(scale)):
        return float("nan")
    return float(sps.wasserstein_distance(ref, cur) / scale)


def wasserstein_binned(
    reference: ArrayLike,
    current: ArrayLike,
    reference_positions: ArrayLike,
    current_positions: ArrayLike,
    *,
    scale: float,
) -> float:
    """Wasserstein-1 from binned counts, divided by ``scale`` (the reference std, ddof=1).

    Each bin's mass is placed at a representative value: its within-bin mean
    for each sample (``reference_positions``, ``current_positions``; mergeable
    as sums over counts). The distance between the two weighted point sets is
    ``integral |F - G| dx`` (``scipy.stats.wasserstein_distance`` with weights).

    Approximation: moving each value to its bin's mean moves it by at most the
    bin width, so the result differs from the exact distance by at most
    ``sum_j (f_j + g_j) * width_j / scale`` (triangle inequality), a few
    percent of the reference std with 100 reference-quantile bins on
    continuous data; the outer, open bins add their within-bin spread.
    Empty bins are ignored.
    """
    ref, cur = _pair(reference, current)
    ref_pos = np.asarray(reference_positions, dtype=float)
    cur_pos = np.asarray(current_positions, dtype=float)
    if ref_pos.shape != ref.shape or cur_pos.shape != cur.shape:
        raise ParameterError("bin positions must have one value per bin")
    if ref.sum() <= 0 or cur.sum() <= 0 or not (scale > 0 and np.isfinite(scale)):
        return float("nan")
    ref_keep = ref > 0
    cur_keep = cur > 0
    distance = sps.wasserstein_distance(
        ref_pos[ref_keep], cur_pos[cur_keep], ref[ref_keep], cur[cur_keep]
    )
    return float(distance / scale)


# ---------------------------------------------------------------------------
# chi-square test of homogeneity


def _pool_small(table: npt.NDArray[np.float64], min_expected: float) -> tuple[npt.NDArray[np.float64], int]:
    """Pool categories with an expected count below ``min_expected`` in either row.

    Rule: drop categories empty in both rows; pool every category whose
    smaller expected count is below ``min_expected`` into one "other" cell; if
    that pooled cell is itself still below, merge it into the remaining
    category with the smallest total, until it passes or one category is left.
    Returns the pooled table and the number of original categories pooled.
    """
    table = table[:, table.sum(axis=0) > 0]
    total = table.sum()
    if total <= 0 or table.shape[1] == 0:
        return table, 0
    rows = table.sum(axis=1, keepdims=True)

    def expected_min(columns: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return (rows * columns.sum(axis=0, keepdims=True) / total).min(axis=0)

    small = expected_min(table) < min_expected
    if not small.any():
        return table, 0
    pooled_count = int(small.sum())
    keep = table[:, ~small]
    other = table[:, small].sum(axis=1, keepdims=True)
    while keep.shape[1] > 0 and expected_min(other)[0] < min_expected:
        smallest = int(np.argmin(keep.sum(axis=0)))
        other = other + keep[:, [smallest]]
        keep = np.delete(keep, smallest, axis=1)
        pooled_count += 1
    return np.hstack([keep, other]), pooled_count


def chi2_homogeneity(
    reference: ArrayLike, current: ArrayLike, *, min_expected: float = MIN_EXPECTED
) -> Chi2Result:
    """Chi-square test of homogeneity of two count vectors (a 2 x k table).

    Both rows are samples: expected counts are ``row total * column total / N``
    (not a goodness-of-fit test that treats the reference proportions as
    exact). Categories with an expected count below ``min_expected`` (5) in
    either row are pooled first (see :func:`_pool_small`). No continuity
    correction. ``dof = k' - 1`` on the pooled table with ``k'`` cells;
    Cramér's V = ``sqrt(chi2 / N)`` (2 rows). With fewer than two cells left
    there is nothing to test: statistic 0, p-value NaN, dof 0. On a table
    that needs no pooling the result equals
    ``scipy.stats.chi2_contingency(table, correction=False)``.
    """
    ref, cur = _pair(reference, current)
    table = np.vstack([ref, cur])
    if ref.sum() <= 0 or cur.sum() <= 0:
        return Chi2Result(float("nan"), float("nan"), 0, float("nan"), 0, 0)
    pooled, pooled_count = _pool_small(table, min_expected)
    cells = pooled.shape[1]
    if cells < 2:
        return Chi2Result(0.0, float("nan"), 0, 0.0, cells, pooled_count)
    total = pooled.sum()
    expected = pooled.sum(axis=1, keepdims=True) * pooled.sum(axis=0, keepdims=True) / total
    statistic = float(((pooled - expected) ** 2 / expected).sum())
    dof = cells - 1
    pvalue = float(sps.chi2.sf(statistic, dof))
    cramers_v = float(np.sqrt(statistic / total))
    return Chi2Result(statistic, pvalue, dof, min(cramers_v, 1.0), cells, pooled_count)


# ---------------------------------------------------------------------------
# multiple testing


def correction_name(method: str) -> str:
    """Canonical statsmodels name of a correction (``fdr_bh`` or ``bonferroni``)."""
    key = str(method).strip().lower()
    if key not in _CORRECTION_ALIASES:
        raise ParameterError(
            f"unknown multiple-testing correction {method!r}; expected 'bh' "
            f"(Benjamini-Hochberg) or 'bonferroni'",
            name="correction",
        )
    return _CORRECTION_ALIASES[key]


def adjust_pvalues(pvalues: Sequence[float] | ArrayLike, method: str = "fdr_bh") -> npt.NDArray[np.float64]:
    """Adjusted p-values across a family of tests; NaN entries pass through.

    ``method`` is ``"fdr_bh"`` (Benjamini-Hochberg, the default; also ``"bh"``)
    or ``"bonferroni"``, computed by ``statsmodels.stats.multitest.multipletests``
    over the non-NaN p-values only (the family size is their number).
    """
    name = correction_name(method)
    values = np.asarray(pvalues, dtype=float).ravel()
    adjusted = np.full(values.shape, np.nan)
    present = ~np.isnan(values)
    if present.any():
        if (values[present] < 0).any() or (values[present] > 1).any():
            raise ParameterError("p-values must lie in [0, 1]", name="pvalues")
        adjusted[present] = multipletests(values[present], method=name)[1]
    return adjusted
