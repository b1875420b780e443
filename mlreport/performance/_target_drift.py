"""Target drift: the default rate of the current window against the reference's."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

__all__ = ["TargetDriftResult", "target_drift"]


@dataclass(frozen=True)
class TargetDriftResult:
    """Default rate of the reference against the current window.

    ``z`` and ``p_value`` are the pooled two-proportion z-test (two-sided),
    the same as ``statsmodels.stats.proportion.proportions_ztest``.
    ``relative_change`` is cur/ref − 1.
    """

    n_reference: int
    bad_reference: int
    rate_reference: float
    n_current: int
    bad_current: int
    rate_current: float
    relative_change: float
    z: float
    p_value: float
    method: str


def target_drift(
    bad_reference: int, n_reference: int, bad_current: int, n_current: int
) -> TargetDriftResult:
    """Pooled two-proportion z-test of the default rate, and its relative change."""
    method = "default rate cur vs ref: pooled two-proportion z-test, two-sided"
    nan = math.nan
    if n_reference <= 0 or n_current <= 0:
        rate_ref = bad_reference / n_reference if n_reference > 0 else nan
        rate_cur = bad_current / n_current if n_current > 0 else nan
        return TargetDriftResult(n_reference, bad_reference, rate_ref, n_current, bad_current,
                                 rate_cur, nan, nan, nan, method)
    rate_ref = bad_reference / n_reference
    rate_cur = bad_current / n_current
    pooled = (bad_reference + bad_current) / (n_reference + n_current)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_reference + 1 / n_current))
    if se > 0:
        z = (rate_cur - rate_ref) / se
        p_value = float(2 * stats.norm.sf(abs(z)))
    else:  # both windows all good or all bad: identical rates
        z, p_value = 0.0, 1.0
    if rate_ref > 0:
        change = rate_cur / rate_ref - 1
    else:
        change = math.inf if rate_cur > 0 else 0.0
    return TargetDriftResult(n_reference, bad_reference, rate_ref, n_current, bad_current,
                             rate_cur, float(change), float(z), p_value, method)
