"""The monitored columns: the spec's features, then its score and decision; never the target, id or timestamp."""

from __future__ import annotations

import pandas as pd

from mlreport import sample
from mlreport.drift import MonitoredColumns
from mlreport.spec import ModelSpec


def test_monitored_columns_leave_out_target_id_and_timestamp():
    spec = ModelSpec.from_dict(sample.DEFAULT_SPEC)
    columns = list(MonitoredColumns.of(spec, sample.generate(500, seed=1)).columns)
    assert "default_flag" not in columns and "application_id" not in columns and "timestamp" not in columns
    assert columns[-2:] == ["score", "decision"] and "credit_utilisation" in columns


def test_features_are_the_columns_without_the_model_outputs_and_only_those_in_the_data():
    spec = ModelSpec(timestamp="t", id="id", score="score", decision="decision", target="bad",
                     features=["b", "a", "score", "gone", "t"])
    frame = pd.DataFrame(columns=["t", "id", "a", "b", "score", "decision", "bad"])
    monitored = MonitoredColumns.of(spec, frame)
    assert monitored.columns == ("b", "a", "score", "decision")  # the spec's order; absent and role columns out
    assert monitored.features == ("b", "a")
