"""Tests of mlreport.integrity: every check at once on the injected sample
incidents, the result's tables, bad input and invariants."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from integrity_frames import INCIDENT_START, only, row

from mlreport import integrity, sample
from mlreport.errors import DataError, ParameterError
from mlreport.findings import summarize
from mlreport.integrity import DEFAULT_THRESHOLDS, check_integrity

SAMPLE_END = "2026-03-02"  # start 2026-01-05 + 8 weeks


def sample_columns(frame: pd.DataFrame) -> list[str]:
    # default_flag is a delayed label: null at the end of any window by design.
    return [c for c in frame.columns if c not in ("default_flag", "application_id", "timestamp")]


def sample_check(rows: int, incidents=(), split_at: str = INCIDENT_START, seed: int = 7):
    frame = sample.generate(rows, incidents=incidents, seed=seed)
    reference, current = sample.split(frame, split_at)
    result = check_integrity(reference, current, columns=sample_columns(frame),
                             id_column="application_id", timestamp_column="timestamp",
                             expected_end=SAMPLE_END)
    return reference, current, result


# --------------------------------------------------------------------------- sample incidents


def test_utilisation_zero_found_on_credit_utilisation_with_its_first_day():
    _, _, result = sample_check(3000, ["utilisation_zero"], split_at="2026-02-05")
    finding = next(f for f in result.findings if f.subject == "credit_utilisation"
                   and f.check == "sentinel")
    assert finding.severity == "incident" and finding.period == INCIDENT_START
    assert "exactly 0 since 2026-02-19" in finding.message
    assert result.status == "incident"
    assert {f.subject for f in result.findings if f.severity == "incident"} == {
        "credit_utilisation"}


def test_bureau_timeout_nulls_found_on_bureau_score():
    _, current, result = sample_check(3000, ["bureau_timeout_nulls"], split_at="2026-02-12")
    finding = only(result.findings, "missing", "bureau_score")[0]
    assert finding.severity == "incident" and finding.period == INCIDENT_START
    after = current["timestamp"] >= INCIDENT_START
    since = current.loc[after, "bureau_score"].isna().mean()
    assert f"{since:.1%} of rows are null since 2026-02-19" in finding.message
    assert {f.subject for f in result.findings} == {"bureau_score"}


def test_channel_outage_shows_the_broker_channel_vanished():
    _, _, result = sample_check(5000, ["channel_outage"])
    vanished = only(result.findings, "vanished_category", "channel")
    assert vanished and "'broker'" in vanished[0].message


@pytest.mark.parametrize("rows,seed", [(1000, 7), (3000, 7), (3000, 8), (20_000, 7)])
def test_clean_sample_split_gives_no_incident(rows, seed):
    _, _, result = sample_check(rows, seed=seed)
    assert [f.message for f in result.findings if f.severity == "incident"] == []


def test_result_tables_and_thresholds_for_the_appendix():
    _, _, result = sample_check(3000, ["utilisation_zero"])
    assert list(result.schema.columns[:6]) == ["column", "in_reference", "in_current",
                                               "reference_dtype", "current_dtype",
                                               "reference_type"]
    columns = result.columns.set_index("column")
    assert columns.loc["credit_utilisation", "severity"] == "incident"
    assert columns.loc["income", "kind"] == "numeric"
    assert columns.loc["channel", "kind"] == "categorical"
    assert {"reference_missing_share", "current_modal_share", "new_category_share",
            "current_constant", "current_non_finite_share"} <= set(result.columns.columns)
    assert result.volume["rows"].sum() > 0
    assert result.thresholds["version"] == DEFAULT_THRESHOLDS["version"]
    assert set(result.methods) >= {"missing", "sentinel", "out_of_range", "freshness"}
    assert all(f.section == integrity.SECTION for f in result.findings)
    summary = summarize("drift", result.findings, thresholds=result.thresholds,
                        methods=result.methods)
    assert json.loads(summary.to_json())["status"] == "incident"


# --------------------------------------------------------------------------- robustness


@pytest.fixture(scope="module")
def windows():
    frame = sample.generate(3000)
    reference, current = sample.split(frame, INCIDENT_START)
    return reference, current


OPTIONS = {"id_column": "application_id", "timestamp_column": "timestamp"}


def test_empty_current_is_a_no_rows_incident(windows):
    reference, current = windows
    result = check_integrity(reference, current.iloc[0:0], **OPTIONS)
    rows = only(result.findings, "rows")
    assert rows[0].severity == "incident" and rows[0].message.startswith("current data has no rows")
    assert len(result.findings) == 1


def test_one_row_current_warns_about_power(windows):
    reference, current = windows
    result = check_integrity(reference, current.iloc[:1], columns=sample_columns(reference),
                             **OPTIONS)
    assert only(result.findings, "rows")[0].severity == "warning"
    assert only(result.findings, "missing") == only(result.findings, "sentinel") == []


def test_all_null_column(windows):
    reference, current = windows
    current = current.assign(income=np.nan)
    result = check_integrity(reference, current, columns=["income", "age"], **OPTIONS)
    assert [(f.check, f.subject, f.severity) for f in result.findings] == [
        ("missing", "income", "incident")]


def test_object_column_of_numbers_and_strings_is_a_type_problem(windows):
    reference, current = windows
    mixed = current["income"].astype(object)
    mixed.iloc[:20] = "n/a"
    result = check_integrity(reference, current.assign(income=mixed), columns=["income"],
                             **OPTIONS)
    schema = only(result.findings, "schema", "income")[0]
    assert schema.severity == "incident" and "mixed types" in schema.message
    assert row(result.schema, "income")["status"] == "mixed_types"


def test_infinities_in_a_sample_column(windows):
    reference, current = windows
    values = current["debt_to_income"].copy()
    values.iloc[:4] = np.inf
    result = check_integrity(reference, current.assign(debt_to_income=values),
                             columns=["debt_to_income"], **OPTIONS)
    finding = only(result.findings, "non_finite", "debt_to_income")[0]
    assert "4 infinite values" in finding.message
    assert row(result.columns, "debt_to_income")["out_of_range_severity"] == "ok"


def test_categorical_with_a_million_distinct_values_stays_small():
    n = 1_000_000
    reference = pd.DataFrame({"key": pd.Series([f"r{i}" for i in range(n)], dtype="str")})
    current = pd.DataFrame({"key": pd.Series([f"c{i}" for i in range(n)], dtype="str")})
    result = check_integrity(reference, current)
    figures = row(result.columns, "key")
    assert figures["new_categories"] == n and figures["new_category_share"] == 1.0
    assert figures["new_examples"].count("(") == DEFAULT_THRESHOLDS["max_listed"]
    assert result.findings == []


def test_unparseable_timestamp_names_the_column_and_a_bad_value(windows):
    reference, current = windows
    stamps = current["timestamp"].astype(str)
    stamps.iloc[5] = "31/02/2026 10:00"
    with pytest.raises(DataError) as error:
        check_integrity(reference, current.assign(timestamp=stamps), **OPTIONS)
    assert error.value.column == "timestamp"
    assert "'timestamp'" in str(error.value) and "'31/02/2026 10:00'" in str(error.value)


def test_timestamps_as_iso_strings_parse(windows):
    reference, current = windows
    as_text = current.assign(timestamp=current["timestamp"].astype(str))
    result = check_integrity(reference, as_text, columns=["age"], **OPTIONS)
    assert result.volume["rows"].sum() == len(current)
    assert result.findings == []  # parseable text is not a type change


def test_different_columns_give_schema_findings_and_the_rest_is_checked(windows):
    reference, current = windows
    current = current.drop(columns=["income"]).rename(columns={"bureau_score": "bureau_v2"})
    current = current.assign(age=current["age"].where(np.arange(len(current)) % 5 != 0))
    result = check_integrity(reference, current, columns=None, **OPTIONS)
    schema = {(f.subject, f.severity) for f in only(result.findings, "schema")}
    assert schema == {("income", "incident"), ("bureau_score", "incident"),
                      ("bureau_v2", "warning")}
    assert only(result.findings, "missing", "age")[0].severity == "incident"
    assert "income" not in set(result.columns["column"])


def test_duplicate_column_names_raise_data_error(windows):
    reference, current = windows
    doubled = pd.concat([current, current[["age"]]], axis=1)
    with pytest.raises(DataError, match="duplicate column names: 'age'"):
        check_integrity(reference, doubled)
    with pytest.raises(DataError, match="reference data has duplicate"):
        check_integrity(pd.concat([reference, reference[["age"]]], axis=1), current)


@pytest.mark.parametrize("kwargs,error", [
    ({"columns": ["nope"]}, DataError),
    ({"id_column": "nope"}, DataError),
    ({"period": "MS"}, ParameterError),
    ({"expected_end": "not a date"}, ParameterError),
])
def test_bad_arguments_raise_clear_errors(windows, kwargs, error):
    reference, current = windows
    with pytest.raises(error):
        check_integrity(reference, current, **kwargs)


def test_empty_reference_and_non_frames_raise_data_error(windows):
    reference, current = windows
    with pytest.raises(DataError, match="reference data has no rows"):
        check_integrity(reference.iloc[0:0], current)
    with pytest.raises(DataError, match="DataFrame"):
        check_integrity([1, 2], current)


# --------------------------------------------------------------------------- invariants


def test_identical_windows_give_no_findings(windows):
    reference, _ = windows
    result = check_integrity(reference, reference.copy(), columns=sample_columns(reference),
                             id_column="application_id")
    assert result.findings == [] and result.status == "ok"
    assert (result.columns["missing_change_pp"] == 0).all()


def test_findings_do_not_depend_on_row_order():
    frame = sample.generate(4000, incidents=["utilisation_zero", "bureau_timeout_nulls"])
    reference, current = sample.split(frame, INCIDENT_START)
    shuffled = current.sample(frac=1.0, random_state=3).reset_index(drop=True)
    options = {"columns": sample_columns(frame), "id_column": "application_id"}
    ordered = check_integrity(reference, current, **options)
    permuted = check_integrity(reference, shuffled, **options)
    assert [f.to_dict() for f in ordered.findings] == [f.to_dict() for f in permuted.findings]
    assert len(ordered.findings) == 2


def test_every_finding_names_its_column_figures_and_method(windows):
    reference, current = windows
    broken = current.copy()
    broken.loc[: len(broken) // 3, "credit_utilisation"] = 0.0
    broken.loc[: len(broken) // 5, "income"] = np.nan
    broken.loc[:10, "debt_to_income"] = np.inf
    broken.loc[:60, "loan_amount"] = 1e9
    broken.loc[:60, "housing"] = "caravan"
    broken = pd.concat([broken, broken.iloc[:20]], ignore_index=True)
    result = check_integrity(reference, broken, columns=sample_columns(reference), **OPTIONS)
    checks = {f.check for f in result.findings}
    assert {"sentinel", "missing", "non_finite", "out_of_range", "new_category",
            "duplicate_ids"} <= checks
    for finding in result.findings:
        assert finding.message.startswith(f"{finding.subject}: ")
        assert finding.value is not None and finding.threshold is not None
        assert finding.method and finding.period is not None
        assert "%" in finding.message
