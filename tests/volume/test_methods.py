"""The methods section: every method with the parameters and thresholds it ran with."""

from __future__ import annotations

import pytest
from volume_logs import analyse

from mlreport.sample import generate
from mlreport.volume import DEFAULT_SEVERITY, VolumeConfig


@pytest.fixture(scope="module")
def result():
    config = VolumeConfig(cusum_h=6.0, ewma_lambda=0.3, severity={"cusum_signal": "ok"})
    return analyse(generate(20_000, seed=3), config, score_column="score")


def test_one_row_per_method_with_its_parameters(result):
    table = result.methods_table().set_index("method")
    assert list(table.columns) == ["description", "parameters"]
    assert list(table.index) == [
        "periods", "windows", "error budget", "seasonal baseline", "overdispersion and tail probability",
        "volume rules", "Laney p′ chart", "EWMA", "CUSUM", "decision-mix change", "score-band mix",
        "segment contributions", "segment tests", "change points", "timestamps", "severity mapping",
        "policy version"]
    assert table.loc["CUSUM", "parameters"] == "k 0.5, h 6"
    assert "λ 0.3" in table.loc["EWMA", "parameters"]
    assert table.loc["policy version", "parameters"] == "volume-2"  # issue 13: the budget is a new policy


def test_the_severity_mapping_lists_every_rule_as_configured(result):
    mapping = result.methods_table().set_index("method").loc["severity mapping", "parameters"]
    assert mapping.split(", ") == [f"{rule} {result.config.severity[rule]}" for rule in DEFAULT_SEVERITY]
    assert "cusum_signal ok" in mapping


def test_methods_feed_the_summary(result):
    methods = result.methods()
    assert list(methods) == result.methods_table()["method"].tolist()
    assert methods["CUSUM"].endswith("; k 0.5, h 6")
