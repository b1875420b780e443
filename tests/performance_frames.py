"""Shared by the performance tests: hand-made windows and synthetic labelled scores."""

from __future__ import annotations

import numpy as np
import pandas as pd


def frame_of(scores, labels) -> pd.DataFrame:
    return pd.DataFrame({"score": np.asarray(scores, dtype=float),
                         "bad": pd.array(labels, dtype="Int8")})


def synthetic(n: int, *, seed: int, separation: float = 1.5, start: str = "2026-01-05",
              days: int = 28, calibrated: bool = True) -> pd.DataFrame:
    """Labels from a logistic model; score = the true probability (calibrated) or a noisy one."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-2.2 + separation * x)))
    y = (rng.uniform(size=n) < p).astype("int8")
    stamps = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.uniform(0, days, n)), unit="D")
    return pd.DataFrame({"timestamp": stamps, "score": p, "bad": pd.array(y, dtype="Int8")})
