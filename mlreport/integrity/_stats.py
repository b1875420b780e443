"""The rate tests behind the integrity checks, and how a change is graded.

* Every rate check needs an absolute effect AND statistical significance, so the
  same thresholds work at 10^3 and 10^6 rows: at 10^3 rows noise never reaches
  significance, at 10^6 rows a significant but tiny change never reaches the
  absolute threshold. Significance is one-sided (only increases are alarms) at
  ``alpha`` (default 0.001), Bonferroni-corrected over the columns (and for
  spikes the values, for volume the periods) a check looks at, so a clean
  dataset of twenty columns raises an alarm in about one run in a thousand.
* Two-proportion comparisons use the pooled z-test, or Fisher's exact test
  (hypergeometric tail) when an expected cell count is below 5.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

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


def _binomial_pvalue(k: float, n: float, p0: float) -> float:
    """One-sided P(X >= k) for X ~ Binomial(n, p0); 1 when there is nothing to test."""
    if n <= 0 or k <= 0:
        return 1.0
    if p0 >= 1:
        return 1.0
    return float(stats.binom.sf(k - 1, n, max(p0, 0.0)))


def _grade(increase_pp: float, p_value: float, warning_pp: float, incident_pp: float,
           alpha: float) -> str:
    if not (increase_pp > 0) or not (p_value < alpha):
        return "ok"
    if increase_pp >= incident_pp:
        return "incident"
    if increase_pp >= warning_pp:
        return "warning"
    return "ok"
