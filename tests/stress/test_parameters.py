"""Tests of mlreport.stress.StressParameters: the notebook's parameters, checked when made."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mlreport.driver import declared_parameters
from mlreport.errors import ModelError, ParameterError
from mlreport.stress import StressParameters

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "stress.ipynb"


def test_fields_are_the_notebook_parameters_with_their_defaults_and_types():
    declared = declared_parameters(NOTEBOOK)
    fields = dataclasses.fields(StressParameters)
    assert [f.name for f in fields] == list(declared)
    defaults = StressParameters().to_dict()
    assert defaults == {name: parameter.default for name, parameter in declared.items()}
    for field in fields:
        assert str(field.type).partition("[")[0] == declared[field.name].type, field.name


def test_from_namespace_takes_the_parameters_and_ignores_other_names():
    namespace = {"seed": 3, "sweep_rows": 100, "segments": ["channel"], "In": [], "stress": object(), "_": None}
    parameters = StressParameters.from_namespace(namespace)
    assert (parameters.seed, parameters.sweep_rows, parameters.segments) == (3, 100, ["channel"])
    assert parameters.data_path == "" and parameters.sample_rows == 20000


def test_list_and_table_defaults_are_not_shared():
    first, second = StressParameters(), StressParameters()
    assert first.features == [] and first.features is not second.features
    assert first.thresholds is not second.thresholds and first.monotone is not second.monotone


def test_none_means_empty_and_a_tuple_is_a_list():
    parameters = StressParameters(data_path=None, features=None, thresholds=None, segments=("channel",))
    assert (parameters.data_path, parameters.features, parameters.thresholds) == ("", [], {})
    assert parameters.segments == ["channel"]


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        StressParameters().seed = 1


@pytest.mark.parametrize("name, value, expected", [
    ("data_path", 3, "expected text"),
    ("trust_model_file", "yes", "expected true or false"),
    ("features", "income", "expected a list of column names"),
    ("segments", ["channel", 2], "expected a list of column names"),
    ("thresholds", [0.1], "expected a table"),
    ("monotone", {"income": "up"}, "direction for 'income' is 'up'"),
    ("lgd", "0.45", "expected a number"),
    ("lgd", -0.1, "expected a share of exposure >= 0"),
    ("tolerance_pp", -1.0, "expected a number of percentage points"),
    ("tolerance_pp", True, "expected a number"),
    ("sensitivity_features", 2.5, "expected a whole number"),
    ("sensitivity_features", -1, "expected a whole number >= 0"),
    ("sweep_rows", 0, "expected a whole number >= 1"),
    ("monotone_rows", 0, "expected a whole number >= 1"),
    ("sample_rows", 0, "expected a whole number >= 1"),
    ("seed", True, "expected a whole number"),
])
def test_a_bad_value_is_refused_naming_the_parameter(name, value, expected):
    with pytest.raises(ParameterError, match=expected) as caught:
        StressParameters(**{name: value})
    assert caught.value.name == name and f"parameter {name!r}" in str(caught.value)


def test_thresholds_are_checked_as_the_decision_rule_checks_them():
    assert StressParameters(thresholds={"approve": 0.2, "refer": 0.6}).thresholds == {"approve": 0.2, "refer": 0.6}
    with pytest.raises(ModelError, match="parameter 'thresholds': decision thresholds must be strictly increasing"):
        StressParameters(thresholds={"approve": 0.7, "refer": 0.2})
    with pytest.raises(ModelError, match="'decline' is both a threshold label and 'otherwise'"):
        StressParameters(thresholds={"decline": 0.5})
