"""The volume notebook's parameters as one value: the notebook's fields, checked when made."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mlreport.driver import declared_parameters
from mlreport.errors import ParameterError
from mlreport.spec import ModelSpec
from mlreport.volume import VolumeConfig, VolumeParameters

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "volume.ipynb"


def test_fields_are_the_notebooks_parameters_with_their_defaults():
    declared = declared_parameters(NOTEBOOK)
    made = VolumeParameters()
    assert [f.name for f in dataclasses.fields(VolumeParameters)] == list(declared)
    assert {name: getattr(made, name) for name in declared} == {name: p.default for name, p in declared.items()}
    for name, parameter in declared.items():
        assert type(getattr(made, name)) is type(parameter.default), name


def test_list_and_dict_defaults_are_not_shared():
    a, b = VolumeParameters(), VolumeParameters()
    assert a.sample_incidents == b.sample_incidents and a.sample_incidents is not b.sample_incidents
    assert a.thresholds is not b.thresholds and a.segment_columns is not b.segment_columns


def test_from_namespace_takes_the_parameters_and_ignores_the_rest():
    namespace = {"period": "D", "baseline_weeks": 3, "data_path": "", "show": print, "__name__": "__main__"}
    parameters = VolumeParameters.from_namespace(namespace)
    assert (parameters.period, parameters.baseline_weeks) == ("D", 3)
    assert parameters.sample_rows == 50000  # not in the namespace: the default
    assert VolumeParameters(**parameters.to_dict()) == parameters


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        VolumeParameters().period = "D"


def test_null_text_list_and_dict_values_mean_not_given():
    parameters = VolumeParameters(spec_path=None, segment_columns=None, thresholds=None)
    assert (parameters.spec_path, parameters.segment_columns, parameters.thresholds) == ("", [], {})
    assert VolumeParameters(holidays=("2026-02-16",)).holidays == ["2026-02-16"]


@pytest.mark.parametrize(
    "values, name, fragment",
    [
        ({"period": "month"}, "period", "month"),
        ({"baseline_weeks": 0}, "baseline_weeks", "whole number >= 1"),
        ({"baseline_weeks": "four"}, "baseline_weeks", "wrong type"),
        ({"baseline_mode": "sliding"}, "baseline_mode", "sliding"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
        ({"holidays": ["not a date"]}, "holidays", "not a date"),
        ({"holidays": "2026-02-16"}, "holidays", "wrong type"),
        ({"analysis_start": "2026-02-09", "analysis_end": "2026-02-01"}, "analysis_end", "not after"),
        ({"analysis_start": "someday"}, "analysis_start", "someday"),
        ({"thresholds": {"cusum_hh": 5}}, "cusum_hh", "cusum_h"),
        ({"thresholds": [("cusum_h", 5)]}, "thresholds", "wrong type"),
        ({"backend": "oracle"}, "backend", "duckdb"),
        ({"backend_options": ["threads"]}, "backend_options", "wrong type"),
        ({"backend_options": {1: 2}}, "backend_options", "dict of settings"),
        ({"segment_columns": "channel"}, "segment_columns", "wrong type"),
        ({"data_path": 3}, "data_path", "wrong type"),
        ({"sample_rows": 0}, "sample_rows", ">= 1"),
        ({"sample_rows": "many"}, "sample_rows", "wrong type"),
        ({"seed": -1}, "seed", ">= 0"),
        ({"sample_incidents": ["meteor"]}, "sample_incidents", "meteor"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(values, name, fragment):
    with pytest.raises(ParameterError) as info:
        VolumeParameters(**values)
    assert info.value.name == name
    assert fragment in str(info.value)


def test_sample_parameters_are_checked_only_for_the_sample():
    parameters = VolumeParameters(data_path="decisions.parquet", sample_rows=0, sample_incidents=["meteor"])
    assert parameters.sample_rows == 0  # unused with a data path: no reason to refuse the run


def test_threshold_values_are_checked_against_the_specs_policy():
    # p_incident must not exceed p_warning: 0.005 is fine when the spec raises p_warning to 0.01.
    parameters = VolumeParameters(thresholds={"p_incident": 0.005})
    spec = ModelSpec.from_dict({"thresholds": {"version": "3", "volume": {"p_warning": 0.01}}})
    config = parameters.config(spec)
    assert (config.p_warning, config.p_incident, config.version) == (0.01, 0.005, "spec 3")
    # Without a spec p_warning comes from the error budget, so p_incident alone is fine (issue 13);
    # a spec that keeps p_warning below it is still refused.
    assert parameters.config(None).p_incident == 0.005
    strict = ModelSpec.from_dict({"thresholds": {"version": "3", "volume": {"p_warning": 0.001}}})
    with pytest.raises(ParameterError) as info:
        parameters.config(strict)
    assert info.value.name == "p_incident"


def test_config_takes_the_window_parameters_over_thresholds_and_spec():
    parameters = VolumeParameters(period="D", baseline_weeks=3, holidays=["2026-02-16"],
                                  thresholds={"baseline_weeks": 5, "cusum_h": 6})
    config = parameters.config(ModelSpec.from_dict({"thresholds": {"volume": {"cusum_h": 7, "ewma_L": 2.5}}}))
    assert (config.period, config.baseline_weeks, config.cusum_h, config.ewma_L) == ("D", 3, 6, 2.5)
    assert config.holidays == ("2026-02-16",)
    assert VolumeParameters().config(None) == VolumeConfig()
