"""Calibration of a probability score: predicted against observed bad rate per score bin.

- **Calibration** bins at the reference score deciles (interior edges at the
  10%, …, 90% quantiles, numpy's linear interpolation, tied edges merged; bins
  right-closed ``(e_i-1, e_i]`` with open outer bins), fitted once on the
  reference and reused for every current window. Per bin: mean predicted
  probability and observed bad rate. The Hosmer-Lemeshow statistic is
  Σ (O_g − E_g)² / (E_g (1 − E_g/n_g)) over non-empty bins whose mean
  prediction lies strictly inside (0, 1); it is compared with χ² on ``g − d``
  degrees of freedom, d = 0 by default because a deployed model's scores were
  not fitted on the sample being tested (Hosmer and Lemeshow's convention for
  external validation); pass d = 2 for the development-sample convention.
  The expected/observed ratio is Σ p / Σ y.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ParameterError
from ._discrimination import NO_LABELS, OK, _valid_pairs

__all__ = ["CalibrationResult", "fit_score_edges", "calibration_by_decile"]


def fit_score_edges(scores: np.ndarray | pd.Series, bins: int = 10) -> np.ndarray:
    """Interior bin edges at the score quantiles 1/bins, …, (bins−1)/bins.

    Quantiles use numpy's default linear interpolation; tied edges are merged
    (so a score with heavy ties gets fewer bins). NaN scores are ignored.
    """
    if bins < 2:
        raise ParameterError(f"bins={bins!r}; expected at least 2", name="bins")
    values = np.asarray(scores, dtype="float64")
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.array([], dtype="float64")
    edges = np.quantile(values, np.arange(1, bins) / bins)
    return np.unique(edges)


@dataclass(frozen=True)
class CalibrationResult:
    """Predicted against observed bad rate per score bin, with a HL test.

    ``table`` has one row per bin (``bin``, ``score_low``, ``score_high``,
    ``n``, ``n_bad``, ``mean_predicted``, ``observed_rate``, ``expected``,
    ``expected_observed``, ``hl_term``). ``expected_observed`` overall is
    Σp / Σy (NaN when there are no bads). ``z`` is the standardised
    difference (O − E)/√Σp(1 − p) of the bad count. ``status`` is ``"ok"``,
    ``"no labels"`` or ``"scores not probabilities"``.
    """

    table: pd.DataFrame
    edges: np.ndarray
    n: int
    expected: float
    observed: int
    expected_observed: float
    z: float
    hl_statistic: float
    hl_dof: int
    hl_pvalue: float
    status: str
    method: str


def calibration_by_decile(
    frame: pd.DataFrame,
    *,
    score: str,
    target: str,
    edges: np.ndarray | None = None,
    bins: int = 10,
    hl_dof_reduction: int = 0,
) -> CalibrationResult:
    """Calibration of a probability score in score bins.

    Without ``edges`` the bins are fitted on ``frame`` (call it on the
    reference first); pass the reference's ``result.edges`` to reuse them for
    a current window. The Hosmer-Lemeshow statistic uses the non-empty bins
    with mean prediction in (0, 1) and ``g − hl_dof_reduction`` degrees of
    freedom (0: external validation, the default; 2: development sample).
    Scores must be probabilities in [0, 1]; otherwise the table is still
    returned with status ``"scores not probabilities"`` and no HL test.
    """
    y, s, _, _ = _valid_pairs(frame, score, target)
    if edges is None:
        edges = fit_score_edges(s, bins)
    edges = np.asarray(edges, dtype="float64")
    method = (
        f"calibration in {edges.size + 1} bins at reference score quantiles "
        "(linear interpolation, tied edges merged, right-closed, open outer bins); "
        f"Hosmer-Lemeshow Σ(O−E)²/(E(1−E/n)), χ² dof = bins used − {hl_dof_reduction}; "
        "E/O = Σp/Σy"
    )
    index = np.searchsorted(edges, s, side="left")  # bin i holds (edges[i-1], edges[i]]
    n_bins = edges.size + 1
    n = np.bincount(index, minlength=n_bins).astype("int64")
    n_bad = np.bincount(index, weights=y.astype("float64"), minlength=n_bins)
    expected = np.bincount(index, weights=s, minlength=n_bins)
    variance = np.bincount(index, weights=s * (1 - s), minlength=n_bins)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_predicted = np.where(n > 0, expected / np.maximum(n, 1), np.nan)
        observed_rate = np.where(n > 0, n_bad / np.maximum(n, 1), np.nan)
        ratio = np.where(n_bad > 0, expected / np.where(n_bad > 0, n_bad, 1), np.nan)
    probabilities = bool(s.size == 0 or (s.min() >= 0.0 and s.max() <= 1.0))
    usable = (n > 0) & (mean_predicted > 0) & (mean_predicted < 1) if probabilities else (n < 0)
    hl_term = np.full(n_bins, np.nan)
    hl_term[usable] = (n_bad[usable] - expected[usable]) ** 2 / (
        expected[usable] * (1 - mean_predicted[usable])
    )
    outer = np.concatenate([[-np.inf], edges, [np.inf]])
    table = pd.DataFrame(
        {
            "bin": np.arange(1, n_bins + 1),
            "score_low": outer[:-1],
            "score_high": outer[1:],
            "n": n,
            "n_bad": n_bad.astype("int64"),
            "mean_predicted": mean_predicted,
            "observed_rate": observed_rate,
            "expected": expected,
            "expected_observed": ratio,
            "hl_term": hl_term,
        }
    )
    total_expected = float(expected.sum())
    total_observed = int(n_bad.sum())
    total_variance = float(variance.sum())
    dof = int(usable.sum()) - hl_dof_reduction
    if s.size == 0:
        status = NO_LABELS
    elif not probabilities:
        status = "scores not probabilities"
    else:
        status = OK
    if status == OK and dof > 0:
        hl = float(np.nansum(hl_term))
        p_value = float(stats.chi2.sf(hl, dof))
    else:
        hl, p_value = math.nan, math.nan
    if status == OK and total_observed > 0:
        overall = total_expected / total_observed
    else:
        overall = math.nan
    z = (
        (total_observed - total_expected) / math.sqrt(total_variance)
        if status == OK and total_variance > 0
        else math.nan
    )
    return CalibrationResult(
        table=table,
        edges=edges,
        n=int(s.size),
        expected=total_expected,
        observed=total_observed,
        expected_observed=overall,
        z=z,
        hl_statistic=hl,
        hl_dof=max(dof, 0),
        hl_pvalue=p_value,
        status=status,
        method=method,
    )
