"""DriftParameters: the notebook's parameters, one field each, checked when made."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from mlreport.drift import DriftParameters
from mlreport.driver import declared_parameters
from mlreport.errors import ParameterError

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "drift.ipynb"
_KINDS = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}


def test_the_fields_are_the_notebooks_parameters_with_their_defaults_and_types():
    declared = declared_parameters(NOTEBOOK)
    fields = dataclasses.fields(DriftParameters)
    assert [f.name for f in fields] == list(declared)
    defaults = DriftParameters()
    hints = typing.get_type_hints(DriftParameters)
    for name, parameter in declared.items():
        assert getattr(defaults, name) == parameter.default, name
        assert type(getattr(defaults, name)) is type(parameter.default), name
        assert (typing.get_origin(hints[name]) or hints[name]) is _KINDS[parameter.type], name


def test_list_and_dict_defaults_are_not_shared_between_instances():
    first, second = DriftParameters(), DriftParameters()
    assert first.sample_incidents == second.sample_incidents and first.sample_incidents is not second.sample_incidents
    assert first.drift_thresholds is not second.drift_thresholds


def test_from_namespace_takes_the_parameters_and_ignores_the_rest():
    namespace = {"psi_bins": 5, "backend": "duckdb", "row_sample": 1000, "display": print, "In": [], "__name__": "x"}
    parameters = DriftParameters.from_namespace(namespace)
    assert (parameters.psi_bins, parameters.backend, parameters.row_sample) == (5, "duckdb", 1000)
    assert parameters.period == "auto" and parameters.to_dict()["psi_bins"] == 5


def test_a_number_of_rows_per_period_is_kept_as_text():
    assert DriftParameters(period=5000).period == "5000"  # type: ignore[arg-type]
    assert DriftParameters(period="5000").period == "5000"
    assert DriftParameters(threshold_mode="learned", learned_k=2).learned_k == 2.0


@pytest.mark.parametrize(
    ("values", "name", "fragment"),
    [
        ({"current_path": "c.parquet"}, "reference_path", "without reference_path"),
        ({"current_start": "soon"}, "current_start", "parameter 'current_start': 'soon' is not an ISO 8601 date"),
        ({"reference_end": "2026-13-01"}, "reference_end", "parameter 'reference_end'"),
        ({"period": "fortnight"}, "period", "parameter 'period': 'fortnight'; expected D, W, M or a number of rows"),
        ({"period": "0"}, "period", "a chunk needs at least 1 row"),
        ({"psi_bins": 1}, "psi_bins", "parameter 'psi_bins': 1 bins; expected at least 2"),
        ({"threshold_mode": "adaptive"}, "threshold_mode", "expected 'fixed' or 'learned'"),
        ({"threshold_mode": "learned", "learned_k": 0}, "learned_k", "parameter 'learned_k'"),
        ({"correction": "holm"}, "correction", "unknown multiple-testing correction 'holm'"),
        ({"drift_thresholds": [0.1, 0.2]}, "drift_thresholds", "expected a dict"),
        ({"integrity_thresholds": "strict"}, "integrity_thresholds", "expected a dict"),
        ({"backend": "polars"}, "backend", "parameter 'backend': 'polars'; expected one of pandas"),
        ({"backend_options": ["threads"]}, "backend_options", "parameter 'backend_options'"),
        ({"row_sample": 0}, "row_sample", "parameter 'row_sample': 0; expected a positive number of rows"),
        ({"row_sample": True}, "row_sample", "parameter 'row_sample'"),
        ({"classifier_sample": 10}, "classifier_sample",
         "parameter 'classifier_sample': 10; expected a number of rows >= 50"),
        ({"seed": -1}, "seed", "parameter 'seed'"),
        ({"sample_rows": 0}, "sample_rows", "parameter 'sample_rows'"),
        ({"sample_seed": 1.5}, "sample_seed", "parameter 'sample_seed'"),
        ({"sample_incidents": ["meteor"]}, "sample_incidents", "unknown incident(s) ['meteor']"),
        ({"sample_incidents": "utilisation_zero"}, "sample_incidents", "expected a list of incident names"),
        ({"model": 3}, "model", "parameter 'model'"),
    ],
)
def test_a_bad_value_is_a_parameter_error_naming_the_parameter(values: dict, name: str, fragment: str):
    with pytest.raises(ParameterError) as info:
        DriftParameters(**values)
    assert info.value.name == name and fragment in str(info.value), str(info.value)


def test_parameters_are_checked_where_they_are_used():
    # a loaded profile keeps its own bins; fixed bands ignore k; files ignore the sample's parameters
    assert DriftParameters(psi_bins=1, reference_profile="profile.json").psi_bins == 1
    assert DriftParameters(learned_k=-1.0).learned_k == -1.0
    assert DriftParameters(reference_path="r.parquet", sample_rows=0).sample_rows == 0


def test_the_window_bounds_are_naive_utc():
    bounds = DriftParameters(reference_start="2026-01-05T00:00:00+01:00", current_start="2026-02-02").window_bounds()
    shown = [str(b) if b is not None else None for b in bounds]
    assert shown == ["2026-01-04 23:00:00", None, "2026-02-02 00:00:00", None]
