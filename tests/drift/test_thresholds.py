"""Drift thresholds: bands by kind and per column, parsing and validation."""

from __future__ import annotations

import pytest

from mlreport.drift import _thresholds as drift_thresholds
from mlreport.errors import ParameterError


def test_thresholds_from_dict_per_column_and_validation():
    thresholds = drift_thresholds.Thresholds.from_dict(
        {
            "default": {"psi": [0.2, 0.3]},
            "categorical": {"tvd": {"warning": 0.05, "incident": 0.1}},
            "columns": {"income": {"psi": [0.05, 0.5], "ks": None}},
            "correction": "bonferroni",
            "alpha": 0.01,
        }
    )
    assert thresholds.bands_for("age", "numeric")["psi"] == drift_thresholds.Band(0.2, 0.3)
    assert thresholds.bands_for("age", "numeric")["ks"] == drift_thresholds.DEFAULT_BANDS["numeric"]["ks"]
    assert thresholds.bands_for("channel", "categorical")["tvd"] == drift_thresholds.Band(0.05, 0.1)
    income = thresholds.bands_for("income", "numeric")
    assert income["psi"] == drift_thresholds.Band(0.05, 0.5) and "ks" not in income
    assert thresholds.correction == "bonferroni" and thresholds.alpha == 0.01
    assert drift_thresholds.Thresholds.from_dict(thresholds.to_dict()).to_dict() == thresholds.to_dict()
    assert "drift-thresholds/2" in thresholds.describe()
    with pytest.raises(ParameterError, match="unknown metric"):
        drift_thresholds.Thresholds.from_dict({"default": {"auc": [1, 2]}})
    with pytest.raises(ParameterError, match="below its warning"):
        drift_thresholds.Thresholds.from_dict({"default": {"psi": [0.3, 0.1]}})
    with pytest.raises(ParameterError, match="unknown keys"):
        drift_thresholds.Thresholds.from_dict({"bands": {}})


def test_incident_alpha_and_min_period_rows_round_trip_and_are_checked():
    thresholds = drift_thresholds.Thresholds.from_dict({"alpha": 0.01, "incident_alpha": 0.002, "min_period_rows": 800})
    assert thresholds.alpha_for("warning") == 0.01 and thresholds.alpha_for("incident") == 0.002
    assert thresholds.min_period_rows == 800
    assert drift_thresholds.Thresholds.from_dict(thresholds.to_dict()).to_dict() == thresholds.to_dict()
    assert "0.01 for a warning and 0.002 for an incident" in thresholds.describe()
    # never looser for an incident than for a warning
    assert drift_thresholds.Thresholds(alpha=0.01, incident_alpha=0.05).alpha_for("incident") == 0.01
    assert drift_thresholds.Thresholds(alpha=0.01).alpha_for("incident") == 0.01
    for bad in ({"incident_alpha": 1.5}, {"incident_alpha": "0.01"}, {"min_period_rows": 0}, {"alpha": True}):
        with pytest.raises(ParameterError):
            drift_thresholds.Thresholds.from_dict(bad)
    numeric = drift_thresholds.DEFAULT_BANDS["numeric"]
    assert numeric["wasserstein_norm"] == drift_thresholds.Band(0.15, 0.20)
