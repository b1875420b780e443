"""The volume analysis's policy: defaults, severity overrides, refused values, precedence."""

from __future__ import annotations

import pytest

from mlreport.errors import ParameterError
from mlreport.spec import ModelSpec
from mlreport.volume import DEFAULT_SEVERITY, VolumeConfig, config_from_parameters


def test_config_defaults_and_version():
    config = VolumeConfig()
    # Issue 13: ewma_L and cusum_h (and the Laney limits and tail levels) default to None, resolved per
    # report from the error budget (5 % warning, 1 % incident) over the periods charted.
    assert (config.baseline_weeks, config.ewma_lambda, config.ewma_L, config.cusum_k, config.cusum_h) == (
        4, 0.2, None, 0.5, None)
    assert (config.alpha_warning, config.alpha_incident, config.p_warning, config.zero_expected_min) == (
        0.05, 0.01, None, None)
    assert config.severity == DEFAULT_SEVERITY
    assert config.version
    assert config.to_dict()["severity"]["volume_zero"] == "incident"


def test_config_severity_override_merges_over_defaults():
    config = VolumeConfig.from_mapping({"severity": {"cusum_signal": "ok"}, "holidays": ["2026-02-16"]})
    assert config.severity["cusum_signal"] == "ok"
    assert config.severity["volume_zero"] == "incident"
    assert config.holidays == ("2026-02-16",)


@pytest.mark.parametrize(
    "mapping, name",
    [
        ({"severity": {"no_such_rule": "warning"}}, "severity"),
        ({"severity": {"volume_zero": "critical"}}, "severity"),
        ({"ewma_lambda": 0.0}, "ewma_lambda"),
        ({"p_warning": 1e-3, "p_incident": 0.01}, "p_incident"),
        ({"baseline_weeks": 0}, "baseline_weeks"),
        ({"period": "month"}, "period"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"holidays": ["not a date"]}, "holidays"),
        ({"no_such_parameter": 1}, "no_such_parameter"),
    ],
)
def test_config_rejects_bad_values(mapping, name):
    with pytest.raises(ParameterError) as error:
        VolumeConfig.from_mapping(mapping)
    assert error.value.name == name


def test_config_from_parameters_precedence():
    spec = ModelSpec.from_dict({"thresholds": {"version": "2026-03", "volume": {"cusum_h": 6, "ewma_L": 2.8}}})
    config = config_from_parameters(spec, {"ewma_L": 3.2}, period="D", analysis_start="", holidays=[])
    assert (config.cusum_h, config.ewma_L, config.period) == (6, 3.2, "D")
    assert config.version == "spec 2026-03" and config.analysis_start is None
    assert config_from_parameters(None, {}).to_dict() == VolumeConfig().to_dict()
