"""Drift comparison on the sample incidents, bad input, prediction drift, drift over time and the drift figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from drift_frames import FEATURES, INCIDENT, START, _fit, _row, incident_data_fixture, incident_table_fixture  # noqa: F401 - fixtures, taken by name

from mlreport import drift
from mlreport.drift import _plots as drift_plots
from mlreport.errors import DataError, ParameterError
from mlreport.plots import png_bytes
from mlreport.profile import period_labels
from mlreport.sample import generate

# ---------------------------------------------------------------------------
# compare on sample incidents


def test_income_shift_is_found_on_income(incident_table):
    income = _row(incident_table, "income")
    assert income["severity"] in ("warning", "incident")
    assert income["trigger"] in ("ks", "wasserstein_norm")  # decile PSI alone would miss it
    assert income["psi"] < 0.1 and income["ks"] >= 0.075


def test_utilisation_zero_is_an_incident_on_credit_utilisation(incident_table):
    utilisation = _row(incident_table, "credit_utilisation")
    assert utilisation["severity"] == "incident"
    assert utilisation["psi"] >= 0.25 and utilisation["tvd"] >= 0.2
    assert incident_table.iloc[0]["severity"] == "incident"  # sorted worst first


def test_only_the_corrupted_columns_move(incident_table):
    flagged = set(incident_table.loc[incident_table["severity"] != "ok", "column"])
    assert flagged == {"income", "credit_utilisation"}


def test_a_clean_split_gives_no_incident():
    frame = generate(40_000, start=START, seed=5)
    profile, _, current = _fit(frame)
    table = drift.compare(profile, None, profile.summarize(current))
    assert (table["severity"] == "incident").sum() == 0
    assert (table["severity"] == "warning").sum() <= 1


# ---------------------------------------------------------------------------
# bad input


def test_columns_that_cannot_be_compared_are_na_not_errors(incident_data):
    profile, _, current = _fit(incident_data)
    broken = current.drop(columns=["region"]).assign(
        bureau_score=np.nan,
        age=pd.Series(["x"] * len(current), index=current.index, dtype=object),
        income=current["income"].where(current.index % 2 == 0, np.inf),
    )
    table = drift.compare(profile, None, profile.summarize(broken))
    assert _row(table, "region")["severity"] == "n/a" and "absent" in _row(table, "region")["reason"]
    assert _row(table, "bureau_score")["severity"] == "n/a"
    assert _row(table, "age")["severity"] == "n/a"
    assert np.isfinite(_row(table, "income")["psi"])
    findings = drift.findings_from_comparison(table)
    assert {f.subject for f in findings}.isdisjoint({"region", "bureau_score", "age"})


def test_empty_current_data(incident_data):
    profile, _, current = _fit(incident_data)
    table = drift.compare(profile, None, profile.summarize(current.iloc[:0]))
    assert set(table["severity"]) == {"n/a"}
    empty = current.iloc[:0]
    assert drift.drift_over_time(profile, None, empty, period_labels(empty["timestamp"], "W")).empty


# ---------------------------------------------------------------------------
# findings


def test_prediction_drift_on_the_decision_mix():
    frame = generate(40_000, start=START, seed=3, incidents=("approval_jump",), incident_start=INCIDENT)
    profile, _, current = _fit(frame, ["score", "decision"])
    result = drift.prediction_drift(profile, None, profile.summarize(current), score="score", decision="decision")
    assert {f.subject for f in result.findings} == {"score", "decision"}
    assert all(f.section == "Prediction drift" for f in result.findings)
    decision = next(f for f in result.findings if f.subject == "decision")
    assert decision.severity in ("warning", "incident")
    assert result.assessed
    with pytest.raises(DataError):
        drift.prediction_drift(profile, None, profile.summarize(current), score="nope")


def test_prediction_drift_without_score_or_decision_is_not_assessed():
    """Feature monitoring only: an empty table with compare()'s columns, one ok finding, not an error."""
    from mlreport.drift import _report as drift_report
    from mlreport.tables import table

    frame = generate(4_000, start=START, seed=3)
    profile, _, current = _fit(frame, ["income"])
    summaries = profile.summarize(current)
    result = drift.prediction_drift(profile, None, summaries)
    assert not result.assessed and result.table.empty
    assert list(result.table.columns) == list(drift.compare(profile, None, summaries).columns)
    found = [(f.check, f.severity, f.section) for f in result.findings]
    assert found == [("prediction_drift", "ok", "Prediction drift")]
    assert "not assessed" in result.findings[0].message
    # What the drift notebook does with it next: a report table, and the findings in the summary.
    html = table(result.table, drift_report.DRIFT_COLUMNS, caption="Score and decision mix")._repr_html_()
    assert "prediction drift not assessed" in html
    summary = drift_report.drift_summary(
        findings=result.findings, drift_table=result.table, features=["income"], inputs=[], thresholds={},
        methods={}, metrics={}, model="m", data_period="",
    )
    assert summary.status == "ok"


# ---------------------------------------------------------------------------
# drift over time


def test_drift_over_time_names_the_first_period(incident_data):
    profile, _, _ = _fit(incident_data)
    window = incident_data[incident_data["timestamp"] >= "2026-02-02"]
    periods = period_labels(window["timestamp"], "W")
    over_time = drift.drift_over_time(profile, None, window, periods)
    assert list(over_time["period"].unique()) == ["2026-02-02", "2026-02-09", "2026-02-16", "2026-02-23"]
    assert len(over_time) == 4 * len(FEATURES)
    crossing = drift.first_crossing(over_time).set_index("column")
    assert crossing.loc["credit_utilisation", "first_incident"] == "2026-02-16"
    assert crossing.loc["credit_utilisation", "first_warning"] == "2026-02-16"
    assert crossing.loc["income", "first_warning"] == "2026-02-16"
    assert crossing.loc["age", "worst"] == "ok" and crossing.loc["age", "first_warning"] is None
    findings = drift.findings_from_over_time(over_time)
    utilisation = next(f for f in findings if f.subject == "credit_utilisation")
    assert utilisation.period == "2026-02-16" and utilisation.severity == "incident"
    # the periods' summaries add up to the window's: PSI of the whole window is recomputable
    assert over_time.attrs["correction"] == "fdr_bh"


def test_drift_over_time_from_per_period_summaries_equals_the_frame_path(incident_data):
    """A backend's per-period summaries in place of the frame: the same table, from pandas and DuckDB."""
    from mlreport.backends import DuckDBBackend, PandasBackend

    profile, _, _ = _fit(incident_data)
    window = incident_data[incident_data["timestamp"] >= "2026-02-02"].copy()
    window.loc[window.index[::50], "timestamp"] = pd.NaT  # rows in no period: left out of every period
    expected = drift.drift_over_time(profile, None, window, period_labels(window["timestamp"], "W"))
    assert expected["severity"].isin(["warning", "incident"]).any()
    duck = DuckDBBackend(threads=1)
    for backend in (PandasBackend(), duck):
        total, weekly = backend.summarize_periods(window, profile, period="W", timestamp="timestamp")
        got = drift.drift_over_time(profile, None, weekly)
        # counts are equal; sums of values (Wasserstein) in another order, to about 1e-12
        pd.testing.assert_frame_equal(expected, got, rtol=1e-9, obj=backend.name)
        assert got.attrs == expected.attrs
        # the window counts every row, with or without a timestamp, as profile.summarize does
        table = drift.compare(profile, None, total)
        pd.testing.assert_frame_equal(drift.compare(profile, None, profile.summarize(window)), table, rtol=1e-9)
    duck.close()
    assert drift.drift_over_time(profile, None, {}).empty


def test_drift_over_time_refuses_mixed_arguments(incident_data):
    profile, _, current = _fit(incident_data)
    weekly = profile.summarize_by(current, period_labels(current["timestamp"], "W"))
    with pytest.raises(ParameterError, match="period_key"):
        drift.drift_over_time(profile, None, current)
    with pytest.raises(ParameterError, match="labelled already"):
        drift.drift_over_time(profile, None, weekly, "timestamp")
    with pytest.raises(ParameterError, match="summarize_periods"):
        drift.drift_over_time(profile, None, {"2026-02-16": current})


# ---------------------------------------------------------------------------
# figures


def test_figures_are_small_and_mark_severity(incident_data, incident_table):
    profile, _, current = _fit(incident_data)
    moved = drift_plots.moved_columns(incident_table)
    assert moved == ["credit_utilisation", "income"]
    grid = drift_plots.distribution_grid(profile, None, profile.summarize(current), moved, table=incident_table)
    assert len([ax for ax in grid.axes if ax.has_data()]) == 2
    window = incident_data[incident_data["timestamp"] >= "2026-02-02"]
    over_time = drift.drift_over_time(profile, None, window, period_labels(window["timestamp"], "W"))
    heatmap = drift_plots.metric_heatmap(over_time, "psi")
    markers = [c for c in heatmap.axes[0].collections if len(c.get_offsets())]
    assert len(markers) >= 2  # utilisation and income crossings
    trend = drift_plots.trend_lines(over_time, "psi")
    assert "0.1" in trend.axes[0].get_title() and "0.25" in trend.axes[0].get_title()
    for figure in (grid, heatmap, trend):
        assert len(png_bytes(figure)) < 150_000
    with pytest.raises(ParameterError):
        drift_plots.metric_heatmap(over_time, "auc")
