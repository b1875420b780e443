"""Hand-built models and populations shared by the stress tests.

Hand-built models with known answers: score = logistic(a (x - 0.5)) with
"approve if score < 0.5" approves exactly the rows with x < 0.5, so the
breaking point of each shock follows from the uniform grid of x.

:func:`sample_score` is a small logistic score of three sample features:
``model = "stress_models:sample_score"`` runs the whole analysis on the
built-in sample without training the default model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlreport.stress import DecisionRule, Model

__all__ = ["APPROVE_HALF", "FAST_PARAMETERS", "logistic_model", "sample_score", "uniform_population"]

APPROVE_HALF = DecisionRule({"approve": 0.5}, otherwise="decline")


def logistic_model(a: float = 10.0) -> Model:
    def predict(frame: pd.DataFrame) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-a * (frame["x"].to_numpy(dtype=float) - 0.5)))

    return Model(predict, name="logistic(10 (x - 0.5))", features=["x", "z"])


def uniform_population(n: int = 100_001) -> pd.DataFrame:
    return pd.DataFrame({"x": np.linspace(0.0, 1.0, n), "z": np.linspace(5.0, 6.0, n)})


def sample_score(frame: pd.DataFrame) -> np.ndarray:
    """Probability of default from bureau score, debt to income and utilisation (sample columns)."""
    z = (-0.01 * (frame["bureau_score"].fillna(600) - 650) + 2 * frame["debt_to_income"].fillna(0.3)
         + frame["credit_utilisation"].fillna(0.5) - 1.5)
    return 1 / (1 + np.exp(-z.to_numpy(dtype=float)))


sample_score.features = ["bureau_score", "debt_to_income", "credit_utilisation"]

#: Stress parameters that run every section in about a second on the built-in sample.
FAST_PARAMETERS: dict[str, Any] = {
    "model": "stress_models:sample_score", "thresholds": {"approve": 0.4, "refer": 0.6}, "sample_rows": 2_000,
    "sweep_rows": 400, "sensitivity_features": 2, "monotone_rows": 20,
    "monotone": {"debt_to_income": "increasing", "bureau_score": "decreasing"},
}
