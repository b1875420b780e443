"""The rate tests behind the integrity checks, and how a change is graded.

* Every rate check needs an absolute effect AND statistical significance, so the
  same thresholds work at 10^3 and 10^6 rows: at 10^3 rows noise never reaches
  significance, at 10^6 rows a significant but tiny change never reaches the
  absolute threshold. Significance is one-sided (only increases are alarms) at
  ``alpha`` (default 0.001) for a warning and ``incident_alpha`` (default
  0.001) for an incident, Bonferroni-corrected over the columns (and for
  spikes the values, for volume the periods) a check looks at, so a clean
  dataset of twenty columns raises an alarm in about one run in a thousand. A
  drift report sets both from its false-alarm budget (the integrity family's
  share, split over the tested checks).
* Two-proportion comparisons use the pooled z-test, or Fisher's exact test
  (hypergeometric tail) when an expected cell count is below 5.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special, stats

__all__ = ["increase_pvalue"]


def increase_pvalue(k_ref: Any, n_ref: Any, k_cur: Any,
                    n_cur: Any) -> tuple[np.ndarray, np.ndarray]:
    """One-sided p-value that the current share ``k_cur/n_cur`` exceeds ``k_ref/n_ref``.

    Vectorised. Pooled two-proportion z-test (``statsmodels``' ``proportions_ztest``
    with ``alternative="larger"``); Fisher's exact test (``scipy.stats.fisher_exact``,
    ``alternative="greater"`` on ``[[k_cur, n_cur - k_cur], [k_ref, n_ref - k_ref]]``)
    wherever an expected cell count is below 5. A comparison with an empty window
    has p-value 1. Returns ``(p_values, fisher_used)``.
    """
    k1, n1, k2, n2 = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64)
                                           for x in (k_ref, n_ref, k_cur, n_cur)))
    p_values = np.ones(k1.shape)
    usable = (n1 > 0) & (n2 > 0)
    total = np.where(usable, n1 + n2, 1.0)
    pooled = np.where(usable, (k1 + k2) / total, 0.0)
    expected = np.minimum.reduce([n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)])
    fisher = usable & (expected < 5)
    large = usable & ~fisher
    if large.any():
        p, a, b = pooled[large], n1[large], n2[large]
        z = (k2[large] / b - k1[large] / a) / np.sqrt(p * (1 - p) * (1 / a + 1 / b))
        p_values[large] = stats.norm.sf(z)
    if fisher.any():
        # P(X >= k_cur) for X the current window's count given both margins.
        p_values[fisher] = stats.hypergeom.sf(
            k2[fisher].astype(np.int64) - 1,
            (n1[fisher] + n2[fisher]).astype(np.int64),
            (k1[fisher] + k2[fisher]).astype(np.int64),
            n2[fisher].astype(np.int64),
        )
    return np.clip(p_values, 0.0, 1.0), fisher


def _bonferroni(p_values: Any, tests: int) -> np.ndarray:
    """Bonferroni-adjusted p-values: ``min(1, p x tests)``."""
    return np.minimum(np.asarray(p_values, dtype=np.float64) * max(tests, 1), 1.0)


def _grade(increase_pp: float, p_value: float, warning_pp: float, incident_pp: float,
           alpha: float, incident_alpha: float | None = None) -> str:
    """ok, warning or incident: the increase reaches a band and is significant at that band's level.

    A warning needs ``p_value < alpha``, an incident ``p_value <
    incident_alpha`` (default ``alpha``; never looser than it); an increase at
    the incident band significant only at ``alpha`` is a warning.
    """
    strict = alpha if incident_alpha is None else min(alpha, incident_alpha)
    if not (increase_pp > 0) or not (p_value < alpha):
        return "ok"
    if increase_pp >= incident_pp and p_value < strict:
        return "incident"
    if increase_pp >= warning_pp:
        return "warning"
    return "ok"


def _log_choose(a: float, b: float) -> float:
    if b < 0 or b > a:
        return -math.inf
    return float(special.gammaln(a + 1) - special.gammaln(b + 1) - special.gammaln(a - b + 1))


def _outside_range_pvalue(k: int, n: int, m: int) -> float:
    """P(K >= k), K the current values outside the [min, max] of the reference, all exchangeable.

    With ``n`` reference and ``m`` current values in a random order (no ties),
    K = a + b current values lie below every reference value (a) or above
    every one (b), and ``P(a, b) = C(n + m - a - b - 2, n - 2) / C(n + m, n)``;
    summing over ``a + b >= k`` (hockey-stick identities twice),
    ``P(K >= k) = ((k + 1) C(n + m - 1 - k, n - 1) + C(n + m - 1 - k, n)) /
    C(n + m, n)``, with mean ``2 m / (n + 1)``. Ties only make K smaller, so on
    discrete data the test is conservative. 1 when there is nothing to test
    (k <= 0, or fewer than 2 reference values: no range to fall outside).
    """
    if k <= 0 or m <= 0 or n < 2:
        return 1.0
    if k > m:
        return 0.0
    total = n + m
    first = math.log(k + 1) + _log_choose(total - 1 - k, n - 1)
    second = _log_choose(total - 1 - k, n)
    log_p = float(np.logaddexp(first, second)) - _log_choose(total, n)
    return float(min(math.exp(log_p), 1.0))


def _unseen_pvalue(k: float, m: float, n: float, singletons: float, doubletons: float) -> tuple[float, float]:
    """One-sided p-value of ``k`` of ``m`` current values in categories unseen in ``n`` reference values.

    The unseen mass is estimated by Good-Turing, ``U = max(N1 / n, 1 / (n +
    1))``, and that estimate is itself uncertain: Esty (1983) gives
    ``Var(N1/n - U) ~ (N1 / n^2)(1 - N1 / n) + 2 N2 / n^2``. So the count is
    taken as beta-binomial with mean ``m U`` and variance ``m U (1 - U) + m^2
    Var`` (binomial when that variance is 0), and the p-value is its upper tail
    ``P(K >= k)`` (``scipy.stats.betabinom``). Returns ``(p_value, U)``.
    """
    if n <= 0:
        return 1.0, 1.0
    unseen = max(singletons / n, 1.0 / (n + 1))
    if k <= 0 or m <= 0:
        return 1.0, unseen
    if unseen >= 1:
        return 1.0, unseen
    extra = max((singletons / n**2) * (1 - singletons / n) + 2 * doubletons / n**2, 0.0)
    trials = round(m)
    if extra <= 0 or trials < 2:
        return float(stats.binom.sf(k - 1, trials, unseen)), unseen
    # Var = m u (1-u) (1 + (m - 1) rho) with rho = 1 / (a + b + 1): match m^2 extra.
    rho = min(m * extra / ((m - 1) * unseen * (1 - unseen)), 1 - 1e-12)
    concentration = 1 / rho - 1
    return float(stats.betabinom.sf(k - 1, trials, unseen * concentration, (1 - unseen) * concentration)), unseen
