"""Discrimination of a score against binary labels in one window: AUC with its CI, Gini and KS.

- **AUC** is :func:`sklearn.metrics.roc_auc_score` (ties count one half).
  Gini = 2·AUC − 1. Its standard error is **DeLong's** (DeLong, DeLong and
  Clarke-Pearson 1988, via the midrank algorithm of Sun and Xu 2014); the
  confidence interval is the normal one, AUC ± z·SE clipped to [0, 1].
  Hanley and McNeil's (1982) formula is available for comparison.
- **KS** is the two-sample Kolmogorov-Smirnov statistic of the score between
  bads and goods, max |F_bad − F_good| (equal to ``scipy.stats.ks_2samp``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score

from ..errors import ParameterError
from ._inputs import _label_array, _require, _score_array

__all__ = [
    "PerformanceResult",
    "auc_se_delong",
    "auc_se_hanley_mcneil",
    "ks_statistic",
    "performance",
]


# Statuses of a window or period in the performance table.
OK = "ok"
NO_LABELS = "no labels"
INSUFFICIENT = "insufficient labels"
SINGLE_CLASS = "single class"
IMMATURE = "immature"


def auc_se_delong(y_true: np.ndarray, y_score: np.ndarray) -> tuple[float, float]:
    """AUC and DeLong's standard error, via midranks (Sun and Xu 2014).

    For m bads X and n goods Y with ψ(x, y) = 1 if x > y, ½ if tied, 0 else:
    V10_i = mean_j ψ(X_i, Y_j), V01_j = mean_i ψ(X_i, Y_j),
    Var(AUC) = s²(V10)/m + s²(V01)/n with sample variances (ddof = 1).
    Returns (nan, nan) unless both classes are present; SE is nan with a single
    row in a class (its variance is undefined).
    """
    y_true = np.asarray(y_true, dtype=bool)
    y_score = np.asarray(y_score, dtype="float64")
    pos, neg = y_score[y_true], y_score[~y_true]
    m, n = pos.size, neg.size
    if m == 0 or n == 0:
        return math.nan, math.nan
    rank_all = stats.rankdata(np.concatenate([pos, neg]))  # average ranks: ties count ½
    rank_pos = stats.rankdata(pos)
    rank_neg = stats.rankdata(neg)
    v10 = (rank_all[:m] - rank_pos) / n  # share of goods below each bad
    v01 = 1.0 - (rank_all[m:] - rank_neg) / m  # share of bads above each good
    auc = float(v10.mean())
    if m < 2 or n < 2:
        return auc, math.nan
    variance = v10.var(ddof=1) / m + v01.var(ddof=1) / n
    return auc, float(math.sqrt(variance))


def auc_se_hanley_mcneil(auc: float, n_bad: int, n_good: int) -> float:
    """Hanley and McNeil's (1982) standard error of an AUC.

    SE² = [A(1−A) + (n_bad−1)(Q1−A²) + (n_good−1)(Q2−A²)] / (n_bad·n_good)
    with Q1 = A/(2−A), Q2 = 2A²/(1+A) (an exponential-model approximation).
    """
    if n_bad < 1 or n_good < 1 or not math.isfinite(auc):
        return math.nan
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc * auc / (1.0 + auc)
    variance = (
        auc * (1.0 - auc) + (n_bad - 1) * (q1 - auc * auc) + (n_good - 1) * (q2 - auc * auc)
    ) / (n_bad * n_good)
    return float(math.sqrt(max(variance, 0.0)))


def ks_statistic(first: np.ndarray, second: np.ndarray) -> float:
    """Two-sample KS statistic max |F_1(x) − F_2(x)| over the pooled values."""
    first = np.sort(np.asarray(first, dtype="float64"))
    second = np.sort(np.asarray(second, dtype="float64"))
    if first.size == 0 or second.size == 0:
        return math.nan
    pooled = np.concatenate([first, second])
    cdf_first = np.searchsorted(first, pooled, side="right") / first.size
    cdf_second = np.searchsorted(second, pooled, side="right") / second.size
    return float(np.max(np.abs(cdf_first - cdf_second)))


@dataclass(frozen=True)
class PerformanceResult:
    """Discrimination of a score against binary labels in one window.

    ``n`` counts the rows used (label known and score valid); rows without a
    label (``n_missing_label``) or without a finite score among labelled rows
    (``n_missing_score``) were excluded. ``status`` is ``"ok"``,
    ``"no labels"`` or ``"single class"`` (AUC, Gini and KS are then NaN).
    """

    n: int
    n_bad: int
    n_good: int
    default_rate: float
    auc: float
    auc_se: float
    auc_ci_low: float
    auc_ci_high: float
    gini: float
    gini_ci_low: float
    gini_ci_high: float
    ks: float
    n_missing_label: int
    n_missing_score: int
    status: str
    ci_method: str
    method: str

    def as_row(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "n_bad": self.n_bad,
            "n_missing_score": self.n_missing_score,
            "default_rate": self.default_rate,
            "auc": self.auc,
            "auc_se": self.auc_se,
            "auc_ci_low": self.auc_ci_low,
            "auc_ci_high": self.auc_ci_high,
            "gini": self.gini,
            "ks": self.ks,
        }


def _valid_pairs(
    frame: pd.DataFrame, score: str, target: str
) -> tuple[np.ndarray, np.ndarray, int, int]:
    _require(frame, score, "score")
    _require(frame, target, "target")
    labels = _label_array(frame[target])
    scores = _score_array(frame[score])
    has_label = ~np.isnan(labels)
    has_score = ~np.isnan(scores)
    keep = has_label & has_score
    return (
        labels[keep].astype(bool),
        scores[keep],
        int((~has_label).sum()),
        int((has_label & ~has_score).sum()),
    )


def performance(
    frame: pd.DataFrame,
    *,
    score: str,
    target: str,
    ci_method: str = "delong",
    confidence: float = 0.95,
) -> PerformanceResult:
    """AUC (with a confidence interval), Gini, KS, default rate, n and n_bad.

    ``ci_method`` is ``"delong"`` (default) or ``"hanley-mcneil"``; the
    interval is AUC ± z·SE with z the two-sided normal quantile of
    ``confidence``, clipped to [0, 1]. A window with no labels or one class
    returns NaN discrimination with a status saying why, not an error.
    """
    if ci_method not in ("delong", "hanley-mcneil"):
        raise ParameterError(
            f"ci_method={ci_method!r}; expected 'delong' or 'hanley-mcneil'", name="ci_method"
        )
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence={confidence!r}; expected 0 < confidence < 1",
                             name="confidence")
    y, s, n_missing_label, n_missing_score = _valid_pairs(frame, score, target)
    n = int(y.size)
    n_bad = int(y.sum())
    n_good = n - n_bad
    default_rate = n_bad / n if n else math.nan
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    ci_name = "DeLong" if ci_method == "delong" else "Hanley-McNeil"
    method = (
        f"AUC sklearn roc_auc_score (ties ½), Gini = 2·AUC − 1, {confidence:.0%} CI "
        f"AUC ± {z:.2f}·SE ({ci_name}), KS max|F_bad − F_good| of the score; "
        "1 = bad, missing labels and non-finite scores excluded"
    )
    nan = math.nan
    if n == 0 or n_bad == 0 or n_good == 0:
        status = NO_LABELS if n == 0 else SINGLE_CLASS
        return PerformanceResult(
            n, n_bad, n_good, default_rate, nan, nan, nan, nan, nan, nan, nan, nan,
            n_missing_label, n_missing_score, status, ci_name, method,
        )
    auc = float(roc_auc_score(y, s))
    if ci_method == "delong":
        _, se = auc_se_delong(y, s)
    else:
        se = auc_se_hanley_mcneil(auc, n_bad, n_good)
    low, high = max(0.0, auc - z * se), min(1.0, auc + z * se)
    return PerformanceResult(
        n=n,
        n_bad=n_bad,
        n_good=n_good,
        default_rate=default_rate,
        auc=auc,
        auc_se=se,
        auc_ci_low=low,
        auc_ci_high=high,
        gini=2 * auc - 1,
        gini_ci_low=2 * low - 1,
        gini_ci_high=2 * high - 1,
        ks=ks_statistic(s[y], s[~y]),
        n_missing_label=n_missing_label,
        n_missing_score=n_missing_score,
        status=OK,
        ci_method=ci_name,
        method=method,
    )
