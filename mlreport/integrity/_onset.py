"""Onset dating: since when a finding holds.

When the current data has a timestamp, a finding's ``period`` is the onset: the
first period of the most likely single step in the rate (Bernoulli likelihood,
reference rows counted as before the step). The current share per period is
recorded as the finding's timeline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from ._context import _Context

__all__: list[str] = []


def _bernoulli_loglik(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    safe_n = np.where(n > 0, n, 1.0)
    rate = k / safe_n
    return special.xlogy(k, rate) + special.xlogy(n - k, 1 - rate)


def _onset_index(k_t: np.ndarray, n_t: np.ndarray, k_before: float, n_before: float,
                 increase: bool = True) -> int | None:
    """Index of the period that starts the most likely single step of a rate.

    Periods before the step share one rate with the reference (``k_before`` of
    ``n_before``); periods from the step on share another, higher (or lower when
    ``increase`` is false) rate.
    """
    if n_t.sum() <= 0:
        return None
    cum_k = np.concatenate([[0.0], np.cumsum(k_t)[:-1]])
    cum_n = np.concatenate([[0.0], np.cumsum(n_t)[:-1]])
    pre_k, pre_n = k_before + cum_k, n_before + cum_n
    post_k, post_n = k_t.sum() - cum_k, n_t.sum() - cum_n
    valid = post_n > 0
    pre_rate = np.divide(pre_k, pre_n, out=np.zeros_like(pre_k), where=pre_n > 0)
    post_rate = np.divide(post_k, post_n, out=np.zeros_like(post_k), where=post_n > 0)
    valid &= (post_rate > pre_rate) if increase else (post_rate < pre_rate)
    if not valid.any():
        return None
    loglik = _bernoulli_loglik(pre_k, pre_n) + _bernoulli_loglik(post_k, post_n)
    loglik = np.where(valid, loglik, -np.inf)
    return int(np.argmax(loglik))


def _onset(ctx: _Context, check: str, column: str, flags: np.ndarray, valid: np.ndarray,
           k_ref: float, n_ref: float, timeline: list[dict[str, Any]],
           increase: bool = True) -> tuple[str | None, float | None]:
    """Onset period label and the current share from it on; records the timeline."""
    if ctx.codes is None or not ctx.labels:
        return None, None
    use = valid & (ctx.codes >= 0)
    size = len(ctx.labels)
    n_t = np.bincount(ctx.codes[use], minlength=size).astype(np.float64)
    k_t = np.bincount(ctx.codes[use], weights=flags[use].astype(np.float64), minlength=size)
    ref_share = k_ref / n_ref if n_ref > 0 else float("nan")
    for label, n, k in zip(ctx.labels, n_t, k_t, strict=True):
        timeline.append({"check": check, "column": column, "period": label, "rows": int(n),
                         "count": int(k), "share": k / n if n > 0 else float("nan"),
                         "reference_share": ref_share})
    index = _onset_index(k_t, n_t, k_ref, n_ref, increase)
    if index is None:
        return None, None
    since_n = n_t[index:].sum()
    return ctx.labels[index], (k_t[index:].sum() / since_n if since_n > 0 else None)
