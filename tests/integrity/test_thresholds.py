"""Tests of mlreport.integrity: defaults, overrides and their validation."""

from __future__ import annotations

import pytest
from integrity_frames import missing_frames

from mlreport.errors import ParameterError
from mlreport.integrity import DEFAULT_THRESHOLDS, merge_thresholds, missing_change


def test_default_thresholds_have_a_version_and_overrides_are_recorded():
    assert DEFAULT_THRESHOLDS["version"]
    merged = merge_thresholds({"missing": {"incident_pp": 10},
                               "columns": {"x": {"missing": {"warning_pp": 3}}}})
    assert merged["missing"]["incident_pp"] == 10
    assert merged["columns"]["x"]["missing"]["warning_pp"] == 3
    assert merged["version"] == DEFAULT_THRESHOLDS["version"] + "+custom"
    assert DEFAULT_THRESHOLDS["missing"]["incident_pp"] == 5.0  # defaults untouched


@pytest.mark.parametrize("bad", [{"missng": {}}, {"missing": {"incident": 3}},
                                 {"columns": {"x": {"nope": {}}}}, {"alpha": "0.01"}])
def test_unknown_or_mistyped_thresholds_raise_parameter_error(bad):
    with pytest.raises(ParameterError):
        merge_thresholds(bad)


def test_thresholds_override_per_check_and_per_column():
    reference, current = missing_frames()  # +8 pp
    assert missing_change(reference, current).findings[0].severity == "incident"
    per_check = missing_change(reference, current, thresholds={"missing": {"incident_pp": 10}})
    assert per_check.findings[0].severity == "warning"
    assert per_check.findings[0].threshold == 1.0
    per_column = missing_change(reference, current,
                                thresholds={"columns": {"x": {"missing": {"warning_pp": 9,
                                                                          "incident_pp": 20}}}})
    assert per_column.findings == []
