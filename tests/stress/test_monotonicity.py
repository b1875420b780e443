"""Tests of mlreport.stress: a planted violation, a monotone model, the wrong direction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlreport.stress import Model, monotonicity


def planted_model() -> Model:
    def predict(frame):
        x = frame["x"].to_numpy(dtype=float)
        # Increasing in x, except a planted dip of 0.2 on [0.4, 0.5).
        return 0.1 + 0.5 * x - 0.2 * ((x >= 0.4) & (x < 0.5))

    return Model(predict, name="planted", features=["x"])


def test_monotonicity_finds_a_planted_violation():
    frame = pd.DataFrame({"x": np.linspace(0, 1, 1_001), "id": [f"r{i}" for i in range(1_001)]})
    result = monotonicity(planted_model(), frame, {"x": "increasing"}, sample_rows=50, id_column="id")
    row = result.table.iloc[0]
    assert row["verdict"] == "violated" and row["share_violating"] == 1.0
    example = result.examples.iloc[0]
    assert example["from_value"] < 0.4 <= example["to_value"] < 0.5
    assert example["move_against"] == pytest.approx(0.2 - 0.5 * (example["to_value"] - example["from_value"]))
    assert str(example["row"]).startswith("r")
    assert result.findings[0].severity == "warning" and result.findings[0].section == "Monotonicity"


def test_monotonicity_holds_for_a_monotone_model_and_flags_the_wrong_direction():
    frame = pd.DataFrame({"x": np.linspace(0, 1, 501)})
    model = Model(lambda f: f["x"].to_numpy() ** 2, name="square", features=["x"])
    holds = monotonicity(model, frame, {"x": "increasing"}, sample_rows=20)
    assert holds.table.iloc[0]["verdict"] == "holds" and holds.findings[0].severity == "ok"
    wrong = monotonicity(model, frame, {"x": "decreasing"}, sample_rows=20)
    assert wrong.table.iloc[0]["share_violating"] == 1.0
