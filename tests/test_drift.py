"""Drift comparison, verdicts, thresholds, drift over time and the drift figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from mlreport import drift, drift_plots, stats
from mlreport.errors import DataError, ParameterError
from mlreport.plots import png_bytes
from mlreport.profile import ReferenceProfile
from mlreport.sample import generate, split

FEATURES = [
    "channel",
    "region",
    "product",
    "age",
    "income",
    "employment_status",
    "housing",
    "loan_amount",
    "loan_term_months",
    "debt_to_income",
    "credit_utilisation",
    "num_credit_lines",
    "bureau_score",
]
START = "2026-01-05"
INCIDENT = "2026-02-16"  # a Monday: weekly periods start on it


def _fit(frame: pd.DataFrame, columns=FEATURES):
    reference, current = split(frame, INCIDENT)
    profile = ReferenceProfile.fit(reference, columns)
    return profile, reference, current


@pytest.fixture(scope="module")
def incident_data() -> pd.DataFrame:
    return generate(
        40_000,
        start=START,
        seed=3,
        incidents=("income_shift", "utilisation_zero"),
        incident_start=INCIDENT,
    )


@pytest.fixture(scope="module")
def incident_table(incident_data):
    profile, _, current = _fit(incident_data)
    return drift.compare(profile, None, profile.summarize(current))


def _row(table: pd.DataFrame, column: str) -> dict:
    return table.set_index("column").loc[column].to_dict()


# ---------------------------------------------------------------------------
# thresholds


def test_thresholds_from_dict_per_column_and_validation():
    thresholds = drift.Thresholds.from_dict(
        {
            "default": {"psi": [0.2, 0.3]},
            "categorical": {"tvd": {"warning": 0.05, "incident": 0.1}},
            "columns": {"income": {"psi": [0.05, 0.5], "ks": None}},
            "correction": "bonferroni",
            "alpha": 0.01,
        }
    )
    assert thresholds.bands_for("age", "numeric")["psi"] == drift.Band(0.2, 0.3)
    assert thresholds.bands_for("age", "numeric")["ks"] == drift.DEFAULT_BANDS["numeric"]["ks"]
    assert thresholds.bands_for("channel", "categorical")["tvd"] == drift.Band(0.05, 0.1)
    income = thresholds.bands_for("income", "numeric")
    assert income["psi"] == drift.Band(0.05, 0.5) and "ks" not in income
    assert thresholds.correction == "bonferroni" and thresholds.alpha == 0.01
    assert drift.Thresholds.from_dict(thresholds.to_dict()).to_dict() == thresholds.to_dict()
    assert "drift-thresholds/1" in thresholds.describe()
    with pytest.raises(ParameterError, match="unknown metric"):
        drift.Thresholds.from_dict({"default": {"auc": [1, 2]}})
    with pytest.raises(ParameterError, match="below its warning"):
        drift.Thresholds.from_dict({"default": {"psi": [0.3, 0.1]}})
    with pytest.raises(ParameterError, match="unknown keys"):
        drift.Thresholds.from_dict({"bands": {}})


# ---------------------------------------------------------------------------
# compare on sample incidents


def test_income_shift_is_found_on_income(incident_table):
    income = _row(incident_table, "income")
    assert income["severity"] in ("warning", "incident")
    assert income["trigger"] == "ks"  # decile PSI alone would miss it
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


def test_adjusted_pvalues_are_benjamini_hochberg_over_the_table(incident_table):
    raw = np.concatenate([incident_table["ks_pvalue"], incident_table["chi2_pvalue"]])
    present = ~np.isnan(raw)
    expected = np.full(raw.shape, np.nan)
    expected[present] = multipletests(raw[present], method="fdr_bh")[1]
    adjusted = np.concatenate([incident_table["ks_pvalue_adj"], incident_table["chi2_pvalue_adj"]])
    np.testing.assert_allclose(adjusted, expected, rtol=1e-12)
    assert incident_table.attrs["correction"] == "fdr_bh"
    assert "Benjamini-Hochberg" in incident_table.attrs["methods"]["multiple_testing"]


def test_bonferroni_is_an_option(incident_data):
    profile, _, current = _fit(incident_data)
    table = drift.compare(profile, None, profile.summarize(current), thresholds={"correction": "bonferroni"})
    n_tests = table["ks_pvalue"].notna().sum() + table["chi2_pvalue"].notna().sum()
    row = _row(table, "age")
    assert row["ks_pvalue_adj"] == pytest.approx(min(1.0, row["ks_pvalue"] * n_tests))
    assert table.attrs["correction"] == "bonferroni"


def test_metrics_match_the_kernels_on_the_summaries(incident_data):
    profile, _, current = _fit(incident_data)
    summaries = profile.summarize(current)
    table = drift.compare(profile, None, summaries)
    ref, cur = profile.reference["income"], summaries["income"]
    row = _row(table, "income")
    assert row["psi"] == pytest.approx(stats.psi(ref.counts, cur.counts))
    assert row["js"] == pytest.approx(stats.js_distance(ref.counts, cur.counts))
    assert row["ks"] == pytest.approx(stats.ks_binned(ref.fine_counts, cur.fine_counts).statistic)
    chi2 = stats.chi2_homogeneity(profile.reference["channel"].counts, summaries["channel"].counts)
    assert _row(table, "channel")["chi2_pvalue"] == pytest.approx(chi2.pvalue)


def test_exact_ks_and_wasserstein_from_raw_values(incident_data):
    profile, reference, current = _fit(incident_data)
    table = drift.compare(profile, None, profile.summarize(current), exact=(reference, current))
    row = _row(table, "income")
    a, b = reference["income"].dropna().to_numpy(), current["income"].dropna().to_numpy()
    expected = sps.ks_2samp(a, b)
    assert row["ks_method"] == "exact"
    assert row["ks"] == expected.statistic and row["ks_pvalue"] == expected.pvalue
    assert row["wasserstein_norm"] == pytest.approx(sps.wasserstein_distance(a, b) / np.std(a, ddof=1))
    binned = _row(drift.compare(profile, None, profile.summarize(current)), "income")
    assert binned["ks"] <= row["ks"] <= binned["ks"] + binned["ks_max_error"]
    assert binned["wasserstein_norm"] == pytest.approx(row["wasserstein_norm"], abs=0.02)


def test_effect_size_without_significance_is_not_an_alarm():
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.normal(size=400)})
    current = pd.DataFrame({"x": rng.normal(0.3, size=12)})  # D likely > 0.15 on 12 rows
    profile = ReferenceProfile.fit(reference)
    table = drift.compare(profile, None, profile.summarize(current))
    row = _row(table, "x")
    assert row["ks"] >= 0.15 or row["psi"] >= 0.25
    assert row["severity"] == "ok"
    assert "p_adj" in row["reason"] and ">= 0.05" in row["reason"]


def test_per_column_thresholds_change_the_verdict(incident_data):
    profile, _, current = _fit(incident_data)
    summaries = profile.summarize(current)
    relaxed = {"columns": {"income": {"ks": [0.3, 0.5]}}}
    table = drift.compare(profile, None, summaries, thresholds=relaxed)
    assert _row(table, "income")["severity"] == "ok"
    strict = {"columns": {"income": {"ks": [0.01, 0.05]}}}
    assert _row(drift.compare(profile, None, summaries, thresholds=strict), "income")["severity"] == "incident"


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
    assert drift.drift_over_time(profile, None, current.iloc[:0], drift.period_labels(current["timestamp"].iloc[:0], "W")).empty


def test_unparsable_timestamps_and_bad_periods():
    with pytest.raises(DataError, match="could not be parsed"):
        drift.period_labels(pd.Series(["not a date", "nor this"]), "W")
    with pytest.raises(ParameterError):
        drift.period_labels(pd.Series(pd.to_datetime(["2026-01-01"])), "fortnight")
    labels = drift.period_labels(pd.Series(range(25)), 10)
    assert labels.tolist()[::10] == ["chunk 001", "chunk 002", "chunk 003"]


# ---------------------------------------------------------------------------
# findings


def test_findings_name_column_values_and_thresholds(incident_table):
    findings = drift.findings_from_comparison(incident_table)
    by_subject = {f.subject: f for f in findings}
    assert set(by_subject) == {"income", "credit_utilisation"}
    income = by_subject["income"]
    assert income.section == "Feature drift" and income.check == "feature_drift"
    assert "income" in income.message and "KS D" in income.message and "0.075" in income.message
    assert income.threshold == pytest.approx(0.075) and income.value >= 0.075
    assert "1e-4" in income.method and "BH" in income.message
    assert by_subject["credit_utilisation"].severity == "incident"
    with_ok = drift.findings_from_comparison(incident_table, include_ok=True)
    assert len(with_ok) == len(FEATURES)


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
    from mlreport import drift_report
    from mlreport.tables import table

    frame = generate(4_000, start=START, seed=3)
    profile, _, current = _fit(frame, ["income"])
    summaries = profile.summarize(current)
    result = drift.prediction_drift(profile, None, summaries)
    assert not result.assessed and result.table.empty
    assert list(result.table.columns) == list(drift.compare(profile, None, summaries).columns)
    assert [(f.check, f.severity, f.section) for f in result.findings] == [("prediction_drift", "ok", "Prediction drift")]
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
# learned thresholds


def test_learned_thresholds_are_mean_plus_k_std_over_leave_one_out_chunks(incident_data):
    profile, reference, _ = _fit(incident_data, ["income", "channel"])
    learned = drift.learn_thresholds(profile, reference, chunks=5, k=2.0)
    # independent recomputation: split by hand, PSI of each chunk vs the rest
    bounds = np.arange(len(reference)) * 5 // len(reference)
    values = []
    for chunk in range(5):
        inside = profile.summarize(reference[bounds == chunk])["income"]
        rest = profile.summarize(reference[bounds != chunk])["income"]
        values.append(stats.psi(rest.counts, inside.counts))
    expected = np.mean(values) + 2.0 * np.std(values, ddof=1)
    band = learned.bands_for("income", "numeric")["psi"]
    assert band.warning == pytest.approx(expected, rel=1e-9)
    assert band.incident == pytest.approx(max(expected, 0.25))
    assert "tvd" in learned.bands_for("channel", "categorical")
    assert learned.source.startswith("learned")
    with pytest.raises(ParameterError):
        drift.learn_thresholds(profile, reference, chunks=2)


def test_learned_thresholds_are_usable_in_compare(incident_data):
    profile, reference, current = _fit(incident_data)
    learned = drift.learn_thresholds(profile, reference, chunks=6)
    table = drift.compare(profile, None, profile.summarize(current), thresholds=learned)
    assert _row(table, "credit_utilisation")["severity"] == "incident"
    assert table.attrs["thresholds"]["source"].startswith("learned")


# ---------------------------------------------------------------------------
# drift over time


def test_drift_over_time_names_the_first_period(incident_data):
    profile, _, _ = _fit(incident_data)
    window = incident_data[incident_data["timestamp"] >= "2026-02-02"]
    periods = drift.period_labels(window["timestamp"], "W")
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
    from mlreport.backends import PandasBackend
    from mlreport.duckdb_backend import DuckDBBackend

    profile, _, _ = _fit(incident_data)
    window = incident_data[incident_data["timestamp"] >= "2026-02-02"].copy()
    window.loc[window.index[::50], "timestamp"] = pd.NaT  # rows in no period: left out of every period
    expected = drift.drift_over_time(profile, None, window, drift.period_labels(window["timestamp"], "W"))
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
    weekly = profile.summarize_by(current, drift.period_labels(current["timestamp"], "W"))
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
    over_time = drift.drift_over_time(profile, None, window, drift.period_labels(window["timestamp"], "W"))
    heatmap = drift_plots.metric_heatmap(over_time, "psi")
    markers = [c for c in heatmap.axes[0].collections if len(c.get_offsets())]
    assert len(markers) >= 2  # utilisation and income crossings
    trend = drift_plots.trend_lines(over_time, "psi")
    assert "0.1" in trend.axes[0].get_title() and "0.25" in trend.axes[0].get_title()
    for figure in (grid, heatmap, trend):
        assert len(png_bytes(figure)) < 150_000
    with pytest.raises(ParameterError):
        drift_plots.metric_heatmap(over_time, "auc")


def test_a_finding_states_the_method_of_the_metric_that_set_its_verdict_first():
    from mlreport.drift import _method_line, methods

    method_map = methods()
    assert _method_line(method_map, "ks").startswith("KS D: " + method_map["ks"])
    assert _method_line(method_map, "tvd").startswith("TVD: " + method_map["tvd"])
    assert _method_line(method_map, "psi").startswith(method_map["psi"])  # PSI leads anyway
    assert _method_line(method_map, "").startswith(method_map["psi"])
