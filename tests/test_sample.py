"""Tests of mlreport.sample: schema, determinism, realism, incidents, split and files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from mlreport import sample
from mlreport.errors import DataError, OutputError, ParameterError

ROWS = 50_000
START = pd.Timestamp("2026-01-05")
END = START + pd.Timedelta(weeks=8)
INCIDENT_START = START + pd.Timedelta(days=45)  # the documented default: 2026-02-19

EXPECTED_DTYPES = {
    "application_id": "str",
    "timestamp": "datetime64[ns]",
    "channel": "str",
    "region": "str",
    "product": "str",
    "age": "int64",
    "income": "float64",
    "employment_status": "str",
    "housing": "str",
    "loan_amount": "float64",
    "loan_term_months": "int64",
    "debt_to_income": "float64",
    "credit_utilisation": "float64",
    "num_credit_lines": "int64",
    "bureau_score": "float64",
    "months_since_delinquency": "float64",
    "score": "float64",
    "decision": "str",
    "default_flag": "Int8",
}

LEVELS = {
    "channel": {"online", "mobile", "branch", "broker"},
    "region": {"north", "south", "east", "west", "central"},
    "product": {"personal_loan", "credit_card", "auto_loan"},
    "employment_status": {"employed", "self_employed", "unemployed", "retired", "student"},
    "housing": {"rent", "own", "mortgage", "other"},
    "decision": {"approve", "refer", "decline"},
}


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return sample.generate(ROWS)


@pytest.fixture(scope="module")
def with_incident() -> dict[str, pd.DataFrame]:
    return {name: sample.generate(ROWS, incidents=[name]) for name in sample.INCIDENTS}


def _before(frame: pd.DataFrame, at: pd.Timestamp = INCIDENT_START) -> pd.DataFrame:
    return frame[frame["timestamp"] < at].reset_index(drop=True)


def _after(frame: pd.DataFrame, at: pd.Timestamp = INCIDENT_START) -> pd.DataFrame:
    return frame[frame["timestamp"] >= at].reset_index(drop=True)


def _share(values: pd.Series, label: str) -> float:
    return float((values == label).mean())


# --------------------------------------------------------------------------- schema


def test_columns_and_dtypes(clean: pd.DataFrame) -> None:
    assert list(clean.columns) == list(EXPECTED_DTYPES)
    assert {column: str(dtype) for column, dtype in clean.dtypes.items()} == EXPECTED_DTYPES
    assert isinstance(clean.index, pd.RangeIndex) and clean.index[0] == 0


def test_categorical_levels_and_ranges(clean: pd.DataFrame) -> None:
    for column, levels in LEVELS.items():
        assert set(clean[column].unique()) == levels, column
    assert set(clean["loan_term_months"].unique()) == {12, 24, 36, 48, 60}
    assert clean["age"].between(18, 90).all()
    bureau = clean["bureau_score"].dropna()
    assert bureau.between(300, 850).all() and (bureau == bureau.round()).all()
    assert clean["credit_utilisation"].between(0.0, 1.2).all()
    assert (clean["debt_to_income"] >= 0).all() and (clean["loan_amount"] > 0).all()
    assert (clean["num_credit_lines"] >= 0).all()
    assert ((clean["score"] > 0) & (clean["score"] < 1)).all()
    assert set(clean["default_flag"].dropna().unique()) == {0, 1}
    months = clean["months_since_delinquency"].dropna()
    assert (months >= 1).all() and (months == months.round()).all()


def test_application_ids_unique_zero_padded(clean: pd.DataFrame) -> None:
    ids = clean["application_id"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"A\d{7}").all()
    # Numbered in timestamp order from 1.
    assert ids.iloc[0] == "A0000001" and ids.iloc[-1] == f"A{ROWS:07d}"
    assert sample.generate(1)["application_id"].tolist() == ["A0000001"]


def test_public_names() -> None:
    assert set(sample.__all__) == {
        "INCIDENTS",
        "DEFAULT_SPEC",
        "generate",
        "split",
        "write_sample_data",
    }
    assert set(sample.INCIDENTS) == {
        "income_shift",
        "utilisation_zero",
        "bureau_timeout_nulls",
        "channel_outage",
        "approval_jump",
        "refer_decay",
    }
    for description in sample.INCIDENTS.values():
        assert description.endswith(".") and description.count(". ") == 0


def test_default_spec_matches_the_data(clean: pd.DataFrame) -> None:
    spec = sample.DEFAULT_SPEC
    assert spec["model"] == "sample-credit-decisioning"
    for role in ("timestamp", "id", "score", "decision", "target"):
        assert spec[role] in clean.columns
    assert set(spec["segments"]) == {"channel", "region", "product"}
    assert len(spec["features"]) == 11 and set(spec["features"]) <= set(clean.columns)
    assert set(spec["categorical_features"]) <= set(spec["features"])
    assert set(spec["decision_labels"].values()) == LEVELS["decision"]
    # The declared monotone directions are those of the model (rank correlation with the score).
    for feature, direction in spec["monotone"].items():
        rows = clean[[feature, "score"]].dropna()
        rho = stats.spearmanr(rows[feature], rows["score"]).statistic
        assert rho > 0.1 if direction == "increasing" else rho < -0.1, feature


# --------------------------------------------------------------------------- determinism and size


def test_same_arguments_same_frame(clean: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(sample.generate(ROWS), clean, check_exact=True)
    incidents = ["utilisation_zero", "channel_outage", "refer_decay"]
    first = sample.generate(20_000, seed=3, incidents=incidents)
    second = sample.generate(20_000, seed=3, incidents=list(reversed(incidents)))
    pd.testing.assert_frame_equal(first, second, check_exact=True)


def test_different_seeds_differ() -> None:
    first = sample.generate(5_000, seed=1)
    second = sample.generate(5_000, seed=2)
    assert not first["timestamp"].equals(second["timestamp"])
    assert not first["income"].equals(second["income"])
    assert (first["score"].to_numpy() != second["score"].to_numpy()).mean() > 0.99


@pytest.mark.parametrize("rows", [1, 2, 999, 12_345])
def test_exact_row_count(rows: int) -> None:
    assert len(sample.generate(rows, seed=rows)) == rows


def test_incidents_as_comma_separated_text() -> None:
    from_text = sample.generate(5_000, incidents="approval_jump, income_shift")
    from_list = sample.generate(5_000, incidents=["income_shift", "approval_jump"])
    pd.testing.assert_frame_equal(from_text, from_list)
    pd.testing.assert_frame_equal(sample.generate(5_000, incidents=""), sample.generate(5_000))


# --------------------------------------------------------------------------- timestamps


def test_timestamps_sorted_inside_window(clean: pd.DataFrame) -> None:
    stamps = clean["timestamp"]
    assert stamps.is_monotonic_increasing
    assert stamps.min() >= START and stamps.max() < END
    # Millisecond resolution.
    assert (stamps.dt.microsecond % 1000 == 0).all() and (stamps.dt.nanosecond == 0).all()
    short = sample.generate(2_000, start="2025-03-10 06:00", weeks=1)
    assert short["timestamp"].min() >= pd.Timestamp("2025-03-10 06:00")
    assert short["timestamp"].max() < pd.Timestamp("2025-03-17 06:00")


def test_aware_start_is_converted_to_naive_utc() -> None:
    aware = sample.generate(3_000, start=pd.Timestamp("2026-01-05 01:00", tz="Europe/Paris"))
    naive = sample.generate(3_000, start="2026-01-05 00:00")
    pd.testing.assert_frame_equal(aware, naive)


def test_weekly_seasonality(clean: pd.DataFrame) -> None:
    per_day = clean.groupby(clean["timestamp"].dt.normalize()).size()
    weekday = per_day.index.day_of_week
    weekday_mean = per_day[weekday < 5].mean()
    saturday = per_day[weekday == 5].mean() / weekday_mean
    sunday = per_day[weekday == 6].mean() / weekday_mean
    assert 0.5 < saturday < 0.7, saturday
    assert 0.3 < sunday < 0.5, sunday
    assert len(per_day) == 56


def test_intraday_seasonality(clean: pd.DataFrame) -> None:
    hour = clean["timestamp"].dt.hour
    night = hour.between(1, 5).mean()  # 5 of 24 hours
    daytime = hour.between(10, 14).mean()  # 5 of 24 hours
    assert night < 0.05 and daytime > 0.3, (night, daytime)
    broker = clean[clean["channel"] == "broker"]["timestamp"]
    assert broker.dt.hour.between(9, 16).all() and (broker.dt.day_of_week < 5).all()
    branch = clean[clean["channel"] == "branch"]["timestamp"]
    assert (branch.dt.day_of_week != 6).all() and branch.dt.hour.between(9, 16).all()


# --------------------------------------------------------------------------- realism


def test_segment_mixes(clean: pd.DataFrame) -> None:
    channel = clean["channel"].value_counts(normalize=True)
    for name, expected in {"online": 0.40, "mobile": 0.30, "branch": 0.20, "broker": 0.10}.items():
        assert abs(channel[name] - expected) < 0.015, (name, channel[name])
    region = clean["region"].value_counts(normalize=True)
    assert region.min() > 0.15 and region.max() < 0.25
    # Brokers mostly arrange car finance; mobile applicants mostly want cards.
    product = pd.crosstab(clean["channel"], clean["product"], normalize="index")
    assert product.loc["broker"].idxmax() == "auto_loan"
    assert product.loc["mobile"].idxmax() == "credit_card"


def test_feature_distributions(clean: pd.DataFrame) -> None:
    assert 35_000 < clean["income"].median() < 46_000
    assert 0.02 < clean["income"].isna().mean() < 0.04
    assert 0.005 < clean["bureau_score"].isna().mean() < 0.02
    assert 0.55 < clean["months_since_delinquency"].isna().mean() < 0.68
    zeros = (clean["credit_utilisation"] == 0.0).mean()
    assert 0.0 < zeros < 0.01
    # Income is lognormal-like: its log is roughly symmetric, the level right-skewed.
    income = clean["income"].dropna()
    assert stats.skew(income) > 1.5 and abs(stats.skew(np.log(income))) < 0.5
    # Loan amounts follow income, and cards have smaller limits than car loans.
    assert stats.spearmanr(clean["income"], clean["loan_amount"], nan_policy="omit").statistic > 0.4
    by_product = clean.groupby("product")["loan_amount"].median()
    assert by_product["credit_card"] < by_product["personal_loan"] < by_product["auto_loan"]
    # A delinquency history pulls the bureau score down.
    delinquent = clean["months_since_delinquency"].notna()
    assert (
        clean.loc[delinquent, "bureau_score"].mean()
        < clean.loc[~delinquent, "bureau_score"].mean() - 20
    )


def test_score_depends_on_features(clean: pd.DataFrame) -> None:
    def rho(column: str) -> float:
        rows = clean[[column, "score"]].dropna()
        return float(stats.spearmanr(rows[column], rows["score"]).statistic)

    assert rho("credit_utilisation") > 0.3
    assert rho("debt_to_income") > 0.2
    assert rho("bureau_score") < -0.5
    assert rho("income") < -0.2
    delinquent = clean["months_since_delinquency"].notna()
    assert clean.loc[delinquent, "score"].median() > clean.loc[~delinquent, "score"].median()
    # Missing bureau scores are scored, not dropped.
    assert clean.loc[clean["bureau_score"].isna(), "score"].notna().all()


def test_decision_mix_and_thresholds(clean: pd.DataFrame) -> None:
    mix = clean["decision"].value_counts(normalize=True)
    assert abs(mix["approve"] - 0.60) < 0.03
    assert abs(mix["refer"] - 0.15) < 0.02
    assert abs(mix["decline"] - 0.25) < 0.03
    # Decisions are thresholds on the score: the bands do not overlap.
    by_decision = clean.groupby("decision")["score"].agg(["min", "max"])
    assert by_decision.loc["approve", "max"] < by_decision.loc["refer", "min"]
    assert by_decision.loc["refer", "max"] < by_decision.loc["decline", "min"]


def test_default_flag_is_bernoulli_of_score(clean: pd.DataFrame) -> None:
    labelled = clean[clean["default_flag"].notna()]
    observed = labelled["default_flag"].astype("float64")
    # Overall and per score decile, the default rate matches the mean score
    # within 4 binomial standard errors.
    deciles = pd.qcut(labelled["score"], 10, labels=False)
    for _, group in labelled.assign(observed=observed).groupby(deciles):
        expected = group["score"].mean()
        error = np.sqrt((group["score"] * (1 - group["score"])).sum()) / len(group)
        assert abs(group["observed"].mean() - expected) < 4 * error + 1e-9
    mean_score = labelled["score"].mean()
    standard_error = np.sqrt(mean_score * (1 - mean_score) / len(labelled))
    assert abs(observed.mean() - mean_score) < 4 * standard_error


def test_default_flag_missing_only_in_label_delay(clean: pd.DataFrame) -> None:
    cutoff = END - pd.Timedelta(days=30)
    missing = clean["default_flag"].isna()
    assert (missing == (clean["timestamp"] >= cutoff)).all()
    assert missing.any() and not missing.all()
    none_missing = sample.generate(5_000, label_delay_days=0)
    assert none_missing["default_flag"].notna().all()
    short_delay = sample.generate(5_000, label_delay_days=2.5)
    cutoff = END - pd.Timedelta(days=2.5)
    assert (short_delay["default_flag"].isna() == (short_delay["timestamp"] >= cutoff)).all()


# --------------------------------------------------------------------------- incidents


@pytest.mark.parametrize("name", list(sample.INCIDENTS))
def test_incident_leaves_rows_before_start_identical(
    name: str, clean: pd.DataFrame, with_incident: dict[str, pd.DataFrame]
) -> None:
    frame = with_incident[name]
    pd.testing.assert_frame_equal(_before(frame), _before(clean), check_exact=True)
    # And it does change something from the start on.
    assert not _after(frame).equals(_after(clean))


@pytest.mark.parametrize("name", list(sample.INCIDENTS))
def test_incident_never_changes_the_label(
    name: str, clean: pd.DataFrame, with_incident: dict[str, pd.DataFrame]
) -> None:
    frame = with_incident[name]
    expected = clean.set_index("application_id").loc[frame["application_id"], "default_flag"]
    pd.testing.assert_series_equal(
        frame["default_flag"], expected.reset_index(drop=True), check_names=False
    )


def test_utilisation_zero(clean: pd.DataFrame, with_incident: dict[str, pd.DataFrame]) -> None:
    frame = with_incident["utilisation_zero"]
    before_share = (_before(frame)["credit_utilisation"] == 0).mean()
    after_share = (_after(frame)["credit_utilisation"] == 0).mean()
    assert before_share < 0.01
    assert 0.27 < after_share < 0.33
    # The model scores the zeroed input: those rows score lower than before.
    after, clean_after = _after(frame), _after(clean)
    zeroed = (after["credit_utilisation"] == 0) & (clean_after["credit_utilisation"] > 0)
    assert (after.loc[zeroed, "score"] < clean_after.loc[zeroed, "score"]).all()
    untouched = after["credit_utilisation"] == clean_after["credit_utilisation"]
    assert (after.loc[untouched, "score"] == clean_after.loc[untouched, "score"]).all()
    assert _share(after["decision"], "approve") > _share(clean_after["decision"], "approve") + 0.02


def test_bureau_timeout_nulls(clean: pd.DataFrame, with_incident: dict[str, pd.DataFrame]) -> None:
    frame = with_incident["bureau_timeout_nulls"]
    assert _before(frame)["bureau_score"].isna().mean() < 0.02
    assert 0.22 < _after(frame)["bureau_score"].isna().mean() < 0.29
    after, clean_after = _after(frame), _after(clean)
    nulled = after["bureau_score"].isna() & clean_after["bureau_score"].notna()
    # (A bureau score of 570 happens to score like "missing", so not every row moves.)
    assert (after.loc[nulled, "score"] != clean_after.loc[nulled, "score"]).mean() > 0.98
    assert after.loc[nulled, "score"].mean() > clean_after.loc[nulled, "score"].mean()
    untouched = after["bureau_score"].notna() | clean_after["bureau_score"].isna()
    assert (after.loc[untouched, "score"] == clean_after.loc[untouched, "score"]).all()
    # Timeouts are imputed conservatively: more declines.
    assert _share(after["decision"], "decline") > _share(clean_after["decision"], "decline") + 0.03


def test_income_shift(clean: pd.DataFrame, with_incident: dict[str, pd.DataFrame]) -> None:
    after, clean_after = _after(with_incident["income_shift"]), _after(clean)
    np.testing.assert_allclose(after["income"], clean_after["income"] * 1.15, rtol=1e-9)
    assert (after["income"].isna() == clean_after["income"].isna()).all()
    has_income = clean_after["income"].notna()
    assert (after.loc[has_income, "score"] < clean_after.loc[has_income, "score"]).all()
    assert 1.13 < after["income"].median() / _before(clean)["income"].median() < 1.17


def test_channel_outage(clean: pd.DataFrame, with_incident: dict[str, pd.DataFrame]) -> None:
    frame = with_incident["channel_outage"]
    assert (_after(frame)["channel"] == "broker").sum() == 0
    clean_broker_after = (_after(clean)["channel"] == "broker").sum()
    assert clean_broker_after > 500
    assert len(frame) == ROWS - clean_broker_after
    # The other rows are untouched and keep their ids.
    kept = ~((clean["timestamp"] >= INCIDENT_START) & (clean["channel"] == "broker"))
    pd.testing.assert_frame_equal(frame, clean[kept].reset_index(drop=True), check_exact=True)


def test_approval_jump(clean: pd.DataFrame, with_incident: dict[str, pd.DataFrame]) -> None:
    after, clean_after = _after(with_incident["approval_jump"]), _after(clean)
    jump = _share(after["decision"], "approve") - _share(clean_after["decision"], "approve")
    assert 0.06 < jump < 0.10, jump
    pd.testing.assert_series_equal(after["score"], clean_after["score"])
    # Only the approve threshold moved: declines are unchanged, refers became approvals.
    assert ((clean_after["decision"] == "decline") == (after["decision"] == "decline")).all()
    changed = after["decision"] != clean_after["decision"]
    assert (clean_after.loc[changed, "decision"] == "refer").all()
    assert (after.loc[changed, "decision"] == "approve").all()


def test_refer_decay() -> None:
    # More rows: the last days of the window are a weekend.
    clean = sample.generate(200_000)
    frame = sample.generate(200_000, incidents=["refer_decay"])
    pd.testing.assert_series_equal(frame["score"], clean["score"])
    changed = frame["decision"] != clean["decision"]
    assert (clean.loc[changed, "decision"] == "refer").all()
    assert (frame.loc[changed, "decision"] == "approve").all()

    def kept(since: pd.Timestamp, until: pd.Timestamp) -> float:
        rows = (clean["timestamp"] >= since) & (clean["timestamp"] < until)
        clean_refers = (clean.loc[rows, "decision"] == "refer").sum()
        return float((frame.loc[rows, "decision"] == "refer").sum() / clean_refers)

    days = pd.Timedelta(days=1)
    first_two_days = kept(INCIDENT_START, INCIDENT_START + 2 * days)
    last_two_days = kept(END - 2 * days, END)
    assert first_two_days > 0.85, first_two_days
    # Progress over the last two days averages 10/11 of the way: expect about 0.55 kept.
    assert 0.45 < last_two_days < 0.65, last_two_days


def test_incidents_combine(clean: pd.DataFrame) -> None:
    frame = sample.generate(
        ROWS,
        incidents=["utilisation_zero", "bureau_timeout_nulls", "channel_outage", "approval_jump"],
    )
    pd.testing.assert_frame_equal(_before(frame), _before(clean))
    after = _after(frame)
    assert (after["channel"] == "broker").sum() == 0
    assert 0.27 < (after["credit_utilisation"] == 0).mean() < 0.33
    assert 0.22 < after["bureau_score"].isna().mean() < 0.29


def test_custom_incident_start(clean: pd.DataFrame) -> None:
    at = pd.Timestamp("2026-01-26 12:00")
    frame = sample.generate(ROWS, incidents=["channel_outage"], incident_start="2026-01-26 12:00")
    pd.testing.assert_frame_equal(_before(frame, at), _before(clean, at))
    assert (_after(frame, at)["channel"] == "broker").sum() == 0
    assert (_before(frame, at)["channel"] == "broker").sum() > 1_000


def test_default_incident_start_in_a_short_window() -> None:
    # 45 days is past a 4-week window: the incident starts mid-window instead.
    frame = sample.generate(10_000, weeks=4, incidents=["channel_outage"])
    middle = START + pd.Timedelta(weeks=2)
    assert (_after(frame, middle)["channel"] == "broker").sum() == 0
    assert (_before(frame, middle)["channel"] == "broker").sum() > 300


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("arguments", "name", "fragment"),
    [
        ({"rows": 0}, "rows", "rows"),
        ({"rows": 10.5}, "rows", "rows"),
        ({"rows": True}, "rows", "rows"),
        ({"weeks": 0}, "weeks", "weeks"),
        ({"seed": -1}, "seed", "seed"),
        ({"seed": "7"}, "seed", "seed"),
        ({"incidents": ["income_shift", "volume_spike"]}, "incidents", "volume_spike"),
        ({"incidents": "typo_incident"}, "incidents", "typo_incident"),
        ({"start": "not a date"}, "start", "not a date"),
        ({"start": 20260105}, "start", "start"),
        ({"incident_start": "yesterday-ish"}, "incident_start", "yesterday-ish"),
        ({"incident_start": "2025-12-31"}, "incident_start", "2025-12-31"),
        ({"incident_start": "2026-03-02"}, "incident_start", "inside the window"),
        ({"label_delay_days": -1}, "label_delay_days", "label_delay_days"),
        ({"label_delay_days": float("nan")}, "label_delay_days", "label_delay_days"),
    ],
)
def test_bad_arguments_raise_parameter_error(
    arguments: dict[str, object], name: str, fragment: str
) -> None:
    with pytest.raises(ParameterError, match=re.escape(fragment)) as caught:
        sample.generate(**({"rows": 100} | arguments))  # type: ignore[arg-type]
    assert caught.value.name == name


def test_unknown_incident_lists_the_valid_ones() -> None:
    with pytest.raises(ParameterError) as caught:
        sample.generate(100, incidents=["nope"])
    message = str(caught.value)
    assert "'nope'" in message
    for valid in sample.INCIDENTS:
        assert valid in message


# --------------------------------------------------------------------------- split


def test_split(clean: pd.DataFrame) -> None:
    at = pd.Timestamp("2026-02-02")
    reference, current = sample.split(clean, at)
    assert len(reference) + len(current) == len(clean)
    assert (reference["timestamp"] < at).all() and (current["timestamp"] >= at).all()
    pd.testing.assert_frame_equal(pd.concat([reference, current], ignore_index=True), clean)
    assert isinstance(current.index, pd.RangeIndex) and current.index[0] == 0


def test_split_boundary_row_goes_to_current() -> None:
    frame = pd.DataFrame({"when": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"])})
    reference, current = sample.split(frame, "2026-01-02", column="when")
    assert reference["when"].tolist() == [pd.Timestamp("2026-01-01")]
    assert current["when"].tolist() == [pd.Timestamp("2026-01-02"), pd.Timestamp("2026-01-03")]


def test_split_aware_column_and_missing_times() -> None:
    stamps = pd.to_datetime(["2026-01-01 10:00", None, "2026-01-01 12:00"])
    frame = pd.DataFrame({"timestamp": stamps.tz_localize("UTC")})
    reference, current = sample.split(frame, "2026-01-01 11:00")
    assert len(reference) == 1 and len(current) == 1


def test_split_errors(clean: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="'when'") as caught:
        sample.split(clean, "2026-02-02", column="when")
    assert caught.value.column == "when"
    with pytest.raises(DataError, match="expected datetimes"):
        sample.split(clean, "2026-02-02", column="channel")
    with pytest.raises(ParameterError, match="at"):
        sample.split(clean, "the second of February")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(1, 3_000),
    weeks=st.integers(1, 3),
    seed=st.integers(0, 2**32),
    split_hours=st.integers(0, 21 * 24),
)
def test_generate_and_split_invariants(rows: int, weeks: int, seed: int, split_hours: int) -> None:
    frame = sample.generate(rows, weeks=weeks, seed=seed)
    assert len(frame) == rows and frame["application_id"].is_unique
    assert frame["timestamp"].is_monotonic_increasing
    assert frame["timestamp"].min() >= START
    assert frame["timestamp"].max() < START + pd.Timedelta(weeks=weeks)
    at = START + pd.Timedelta(hours=split_hours)
    reference, current = sample.split(frame, at)
    assert len(reference) == (frame["timestamp"] < at).sum()
    pd.testing.assert_frame_equal(pd.concat([reference, current], ignore_index=True), frame)


# --------------------------------------------------------------------------- files


def test_write_sample_data_round_trips(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "sample"
    paths = sample.write_sample_data(target, rows=5_000, incidents=["approval_jump"], seed=11)
    names = {
        f"{part}.{suffix}"
        for part in ("applications", "reference", "current")
        for suffix in ("parquet", "csv")
    }
    assert set(paths) == names
    assert sorted(os.listdir(target)) == sorted(names)  # no temporary files left behind
    expected = sample.generate(5_000, incidents=["approval_jump"], seed=11)
    reference, current = sample.split(expected, START + pd.Timedelta(weeks=4))
    for name, frame in (("applications", expected), ("reference", reference), ("current", current)):
        assert paths[f"{name}.parquet"] == target / f"{name}.parquet"
        parquet = pd.read_parquet(paths[f"{name}.parquet"])
        pd.testing.assert_frame_equal(parquet, frame, check_exact=True)
        text = pd.read_csv(
            paths[f"{name}.csv"], parse_dates=["timestamp"]
        )
        # Documented CSV differences: default_flag reads as float64,
        # the timestamp's unit may differ.
        assert text["default_flag"].dtype == "float64"
        restored = text.astype({"timestamp": "datetime64[ns]", "default_flag": "Int8"})
        pd.testing.assert_frame_equal(restored, frame, check_exact=True)
    assert len(reference) > 0 and len(current) > 0


def test_write_sample_data_csv_uses_iso_timestamps(tmp_path: Path) -> None:
    paths = sample.write_sample_data(tmp_path, rows=200, seed=2)
    with open(paths["applications.csv"], encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split(",")
        first = handle.readline().rstrip("\n").split(",")
    assert header[0] == "application_id" and header[1] == "timestamp"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", first[1])


def test_write_sample_data_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sample.write_sample_data(tmp_path, rows=300, seed=1)
    before = (tmp_path / "applications.csv").read_bytes()

    def broken(self: pd.DataFrame, handle: object, **_: object) -> None:
        handle.write(b"application_id,timest")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OutputError, match="disk full"):
        sample.write_sample_data(tmp_path, rows=300, seed=2)
    # The old file is intact and no partial or temporary file is left.
    assert (tmp_path / "applications.csv").read_bytes() == before
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".")]


def test_write_sample_data_needs_two_weeks(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="weeks") as caught:
        sample.write_sample_data(tmp_path, rows=100, weeks=1)
    assert caught.value.name == "weeks"
    assert not list(tmp_path.iterdir())
