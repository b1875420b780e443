"""Tests of mlreport.stress's run settings: the tolerance and the monotone declarations."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from stress_models import APPROVE_HALF, logistic_model

from mlreport.errors import ParameterError, SpecError
from mlreport.spec import ModelSpec
from mlreport.stress import DEFAULT_TOLERANCE_PP, declared_monotone, run_tolerance
from mlreport.stress.scenarios import Tolerance


def _spec(**values):
    return ModelSpec.from_dict(values, source="card.toml")


def _setup(**overrides):
    values = {"model": logistic_model(), "rule": APPROVE_HALF, "target": "", "exposure": "", "features": ("x", "z"),
              "monotone": {"x": "decreasing"}}
    return SimpleNamespace(**{**values, **overrides})


def test_run_tolerance_takes_the_spec_table_and_the_parameter_on_top():
    assert run_tolerance(None) == Tolerance(max_rate_change_pp=DEFAULT_TOLERANCE_PP) == Tolerance(5.0)
    spec = _spec(thresholds={"version": "2026-03", "stress": {
        "max_rate_change_pp": {"approve": 2.0, "decline": 4.0}, "max_flip_rate": 0.1, "min_rate": {"approve": 0.3}}})
    from_spec = run_tolerance(spec)
    assert from_spec.limit_pp("approve") == 2.0 and from_spec.limit_pp("decline") == 4.0
    assert from_spec.max_flip_rate == 0.1 and dict(from_spec.min_rate) == {"approve": 0.3}
    overridden = run_tolerance(spec, 3.0)  # the parameter replaces the rate limit only
    assert overridden.limit_pp("approve") == 3.0 == overridden.limit_pp("decline")
    assert overridden.max_flip_rate == 0.1 and dict(overridden.min_rate) == {"approve": 0.3}
    assert run_tolerance(_spec(), 7.5) == Tolerance(7.5)


@pytest.mark.parametrize("table, fragment", [
    ({"max_rate_change_pp": -1}, "max_rate_change_pp must be a number >= 0"),
    ({"max_flip": 0.1}, "max_flip"),
    ("five", "must be a table"),
])
def test_run_tolerance_refuses_a_bad_spec_table_naming_the_spec(table, fragment):
    with pytest.raises(SpecError, match=fragment) as caught:
        run_tolerance(_spec(thresholds={"stress": table}))
    assert "card.toml [thresholds.stress]" in str(caught.value) and caught.value.key == "thresholds.stress"


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf"), True, "5"])
def test_run_tolerance_refuses_a_bad_parameter(value):
    with pytest.raises(ParameterError, match="tolerance_pp"):
        run_tolerance(None, value)


def test_declared_monotone_prefers_the_parameter_then_the_spec_then_the_model():
    spec = _spec(monotone={"z": "increasing"})
    assert declared_monotone({"x": "increasing"}, spec, _setup()) == {"x": "increasing"}
    assert declared_monotone({}, spec, _setup()) == {"z": "increasing"}
    assert declared_monotone({}, None, _setup()) == {"x": "decreasing"}
    assert declared_monotone({}, _spec(), _setup(monotone={})) == {}
    with pytest.raises(ParameterError, match="'up'"):
        declared_monotone({"x": "up"}, None, _setup())
    with pytest.raises(ParameterError, match="model: direction for 'x' is 'down'"):
        declared_monotone({}, None, _setup(monotone={"x": "down"}))
