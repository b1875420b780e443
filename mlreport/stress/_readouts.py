"""What a stress scenario reads out against the baseline, and the statistics behind it.

A scenario run (:class:`~mlreport.stress.ScenarioRunner`) reads out what changed:

- **decision rates** per label, with a paired confidence interval: the same
  rows are scored twice, so the change in a label's rate is the mean of paired
  differences ``d_i = 1[stressed_i = label] - 1[base_i = label]``; its Wald
  interval for paired proportions is ``(c - b)/n ± z sqrt(b + c - (c - b)^2/n)/n``
  with ``b`` rows leaving the label and ``c`` rows joining it (Agresti,
  *Categorical Data Analysis*, on matched pairs);
- **flip rate**, the share of rows whose decision changes, split into moves
  down the label order (to a worse decision) and up;
- **score shift**, mean and 5/50/95% quantiles (type 7) of stressed minus base
  score;
- **expected loss** with a :class:`LossModel` (PD x LGD x EAD over accepted rows);
- **AUC, Gini and calibration in the large** when labels exist (rows with a
  missing label are left out; higher score = riskier = positive class);
- **segments hit hardest**: the segments whose first-label (e.g. approval) rate
  moves most;
- **pass / fail** of the point estimates against a
  :class:`~mlreport.stress.scenarios.Tolerance`.

:data:`SECTIONS` names the report sections that the findings of a stress run
go to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from ..errors import ParameterError

__all__ = ["SECTIONS", "LossModel", "paired_rate_change", "roc_auc"]

SECTIONS = {
    "scenarios": "Scenarios",
    "sensitivity": "Sensitivity",
    "reverse": "Reverse stress",
    "monotonicity": "Monotonicity",
}


def paired_rate_change(
    before: np.ndarray, after: np.ndarray, *, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Change in a rate measured twice on the same rows, with a Wald interval.

    ``before`` and ``after`` are boolean arrays (row has the label). Returns
    ``(change, low, high)`` as shares: ``(c - b)/n`` and
    ``± z sqrt(b + c - (c - b)^2 / n) / n`` with ``b`` = rows True before and
    False after, ``c`` = the reverse, ``z`` the normal quantile.
    """
    n = len(before)
    if n == 0:
        return math.nan, math.nan, math.nan
    left = int(np.count_nonzero(before & ~after))
    joined = int(np.count_nonzero(~before & after))
    change = (joined - left) / n
    z = float(scipy_stats.norm.ppf(0.5 + confidence / 2))
    variance = max(left + joined - (joined - left) ** 2 / n, 0.0)
    half = z * math.sqrt(variance) / n
    return change, change - half, change + half


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count one half).

    ``labels`` are 0/1; NaN when only one class is present.
    """
    positives = labels == 1
    n_pos = int(positives.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = scipy_stats.rankdata(scores)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass(frozen=True)
class LossModel:
    """Expected loss of the accepted book: sum of PD x LGD x EAD.

    ``exposure`` is the EAD column; ``lgd`` a constant (0.45 is the Basel
    foundation-IRB value for senior unsecured claims) or a column; ``pd``
    "score" uses the model's score as a probability of default (stressed score
    under a scenario), "label" the observed default flag (rows without a label
    count zero). ``accept`` lists the decisions that book the loan (default:
    the first label). The stressed exposure column is used, so scenarios may
    shock exposures too.
    """

    exposure: str
    lgd: float | str = 0.45
    pd: str = "score"
    accept: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.pd not in ("score", "label"):
            raise ParameterError(f"LossModel pd must be 'score' or 'label', got {self.pd!r}", name="pd")

    def describe(self) -> str:
        lgd = f"LGD {self.lgd:g}" if not isinstance(self.lgd, str) else f"LGD column {self.lgd}"
        pd_text = "model score as PD" if self.pd == "score" else "observed default flag as PD"
        return (
            f"expected loss = sum over accepted rows of PD x LGD x EAD ({pd_text}, {lgd}, EAD column {self.exposure})"
        )
