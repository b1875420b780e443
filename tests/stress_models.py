"""Hand-built models and populations shared by the stress tests.

Hand-built models with known answers: score = logistic(a (x - 0.5)) with
"approve if score < 0.5" approves exactly the rows with x < 0.5, so the
breaking point of each shock follows from the uniform grid of x.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlreport.stress import DecisionRule, Model

__all__ = ["APPROVE_HALF", "logistic_model", "uniform_population"]

APPROVE_HALF = DecisionRule({"approve": 0.5}, otherwise="decline")


def logistic_model(a: float = 10.0) -> Model:
    def predict(frame: pd.DataFrame) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-a * (frame["x"].to_numpy(dtype=float) - 0.5)))

    return Model(predict, name="logistic(10 (x - 0.5))", features=["x", "z"])


def uniform_population(n: int = 100_001) -> pd.DataFrame:
    return pd.DataFrame({"x": np.linspace(0.0, 1.0, n), "z": np.linspace(5.0, 6.0, n)})
