"""Held-out style data for the coverage tests: a loan book that mlreport.sample did not generate.

Other column names, no timestamp unless asked, the model's own 0/1 prediction
next to its score, a ``year`` column constant within each window, a region
column whose mix can move, and a Parquet list column. Each call is seeded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["REFERENCE_MIX", "SHIFTED_MIX", "loan_book", "mix_psi"]

REFERENCE_MIX = (0.50, 0.30, 0.20)
SHIFTED_MIX = (0.24, 0.30, 0.46)
"""A region mix whose PSI against REFERENCE_MIX is about 0.41 (see :func:`mix_psi`)."""

REGIONS = ("north", "south", "east")


def mix_psi(reference: Sequence[float], current: Sequence[float]) -> float:
    """PSI of two category shares by its formula, sum (q - p) ln(q / p): the hand-computed reference."""
    p, q = np.asarray(reference, dtype=float), np.asarray(current, dtype=float)
    return float(np.sum((q - p) * np.log(q / p)))


def loan_book(
    rows: int,
    *,
    seed: int,
    year: int = 2020,
    mix: Sequence[float] = REFERENCE_MIX,
    start: str | None = None,
    freq: str = "h",
    lists: bool = True,
) -> pd.DataFrame:
    """``rows`` loan applications: features, a score, its thresholded prediction ``y_pred``, the outcome ``y``.

    ``start`` adds an ``opened_on`` timestamp every ``freq`` from it (no
    timestamp otherwise); ``mix`` is the region shares; ``year`` a constant.
    The outcome follows the score (AUC about 0.75), so it is not the prediction.
    """
    rng = np.random.default_rng(seed)
    exposure = rng.normal(size=rows)
    risk = 1 / (1 + np.exp(-(exposure * 1.2 - 1.0)))
    frame = pd.DataFrame({
        "applicant_income": np.round(rng.lognormal(10.3, 0.45, rows), 2),
        "tenure_months": rng.integers(1, 180, rows),
        "region": rng.choice(REGIONS, rows, p=list(mix)),
        "risk_score": risk,
        "y_pred": (risk > 0.35).astype("int64"),
        "y": (rng.uniform(size=rows) < risk).astype("int64"),
        "year": np.full(rows, year, dtype="int64"),
    })
    if lists:
        frame["tags"] = [list(rng.choice(["a", "b", "c"], 2)) for _ in range(rows)]
    if start is not None:
        frame.insert(0, "opened_on", pd.date_range(start, periods=rows, freq=freq))
    return frame
