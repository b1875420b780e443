"""Tests of mlreport.stress.permutation_importance: ranking, seeding, categorical features."""

from __future__ import annotations

import numpy as np
import pandas as pd
from stress_models import APPROVE_HALF, logistic_model, uniform_population

from mlreport.stress import DecisionRule, Model, Population, StressTest, permutation_importance


def test_importance_ranks_the_used_feature_first():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(5_001))
    importance = test.importance(sample_rows=2_000)
    assert importance["feature"].tolist() == ["x", "z"]
    assert importance.set_index("feature").at["z", "mean_abs_score_change"] == 0.0


def test_importance_of_a_population_is_seeded_and_reads_decision_flips():
    population = Population(logistic_model(), APPROVE_HALF, uniform_population(3_001), seed=2)
    first = permutation_importance(population, sample_rows=1_000)
    pd.testing.assert_frame_equal(first, permutation_importance(population, sample_rows=1_000))
    assert first.columns.tolist() == ["rank", "feature", "kind", "mean_abs_score_change", "decision_flip_rate"]
    x = first.set_index("feature").loc["x"]
    assert x["rank"] == 1 and x["kind"] == "numeric"
    # A shuffled x leaves about half the rows on the other side of 0.5.
    assert 0.4 < x["decision_flip_rate"] < 0.6


def test_a_categorical_feature_keeps_its_dtype_when_shuffled():
    frame = pd.DataFrame({"x": np.linspace(0, 1, 400), "grade": pd.Categorical(["a", "b", "c", "d"] * 100)})
    seen = []

    def predict(data):
        seen.append(data["grade"].dtype)
        return data["x"].to_numpy() * 0.5 + (data["grade"] == "d").to_numpy() * 0.5

    model = Model(predict, name="graded", features=["x", "grade"])
    importance = permutation_importance(Population(model, DecisionRule({"approve": 0.5}), frame), sample_rows=400)
    assert importance.set_index("feature").at["grade", "kind"] == "categorical"
    assert all(isinstance(dtype, pd.CategoricalDtype) for dtype in seen)
