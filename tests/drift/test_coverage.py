"""Every column is monitored or listed with the reason it is not; findings for the columns drift cannot judge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from plain_frames import loan_book

from mlreport.drift import MIN_REFERENCE_ROWS, assess_coverage, unbinnable
from mlreport.spec import ModelSpec, infer_spec


def _coverage(reference: pd.DataFrame, current: pd.DataFrame, spec: ModelSpec | None = None, **options):
    return assess_coverage(spec or infer_spec(reference, current=current), reference, current, **options)


def _row(coverage, column: str):
    return next(row for row in coverage.columns if row.column == column)


def test_every_column_is_listed_with_its_role_and_why_it_is_not_monitored():
    reference = loan_book(600, seed=1, start="2026-01-01")
    current = loan_book(600, seed=2, year=2021, start="2026-02-01").assign(channel_new=1.0)
    coverage = _coverage(reference, current)
    assert [row.column for row in coverage.columns] == [*map(str, reference.columns), "channel_new"]
    table = coverage.table().set_index("column")
    assert table.loc["opened_on", "role"] == "timestamp" and not table.loc["opened_on", "monitored"]
    assert table.loc["y", "role"] == "target" and "Performance" in table.loc["y", "where, or why not"]
    assert table.loc["year", "role"] == "window label" and "2020 in the reference; 2021 in the current" in \
        table.loc["year", "where, or why not"]
    assert table.loc["tags", "where, or why not"].startswith("holds lists")
    assert table.loc["channel_new", "where, or why not"].startswith("only in the current window")
    assert table.loc["region", "role"] == "segment" and "Drift by segment" in table.loc["region", "where, or why not"]
    assert table.loc["y_pred", "role"] == "decision" and table.loc["y_pred", "monitored"]
    # segments are drift-tested as features; the outputs are monitored, not features
    assert coverage.monitored.features == ("applicant_income", "tenure_months", "region")
    assert coverage.monitored.columns[-2:] == ("risk_score", "y_pred")
    assert "channel_new" in coverage.integrity_columns and "tags" not in coverage.integrity_columns
    listing = [f for f in coverage.findings if f.check == "coverage"]
    assert len(listing) == 1 and listing[0].severity == "ok" and listing[0].message.startswith("5 of 10 columns")


def test_types_that_cannot_be_binned_are_named():
    assert unbinnable(pd.Series([[1, 2], [3]])) == "lists"
    assert unbinnable(pd.Series([np.array([1, 2])])) == "lists"
    assert unbinnable(pd.Series([{"a": 1}, None])) == "structs"
    assert unbinnable(pd.Series([b"\x00", b"\x01"])) == "bytes"
    assert unbinnable(pd.Series([{1, 2}])) == "sets"
    assert unbinnable(pd.Series(["a", "b"])) == unbinnable(pd.Series([1.5, None])) == ""
    arrow_list = pd.Series(pd.array([[1], [2, 3]], dtype=pd.ArrowDtype(pa.list_(pa.int64()))))
    arrow_struct = pd.Series(pd.array([{"a": 1}], dtype=pd.ArrowDtype(pa.struct([("a", pa.int64())]))))
    assert unbinnable(arrow_list) == "lists" and unbinnable(arrow_struct) == "structs"
    reference = pd.DataFrame({"x": np.arange(100.0), "when": pd.date_range("2026-01-01", periods=100),
                              "shape": [{"w": 1}] * 100, "opened": pd.date_range("2025-01-01", periods=100)})
    coverage = _coverage(reference, reference, ModelSpec(timestamp="when", features=["x", "shape", "opened"],
                                                         source="card.toml"))
    assert _row(coverage, "shape").detail.startswith("holds structs")
    assert _row(coverage, "opened").detail.startswith("holds date-times")
    assert coverage.monitored.columns == ("x",)


def test_excluded_and_unnamed_columns_are_listed_as_such():
    reference = loan_book(300, seed=1, lists=False).assign(note="free text")
    spec = ModelSpec(score="risk_score", target="y", features=["applicant_income", "region"], exclude=["note"],
                     source="card.toml")
    coverage = _coverage(reference, reference, spec)
    assert _row(coverage, "note").role == "excluded" and "declared excluded" in _row(coverage, "note").detail
    tenure = _row(coverage, "tenure_months")
    assert tenure.role == "not in the spec" and not tenure.monitored and "card.toml" in tenure.detail
    assert coverage.monitored.columns == ("applicant_income", "region", "risk_score")


def test_a_constant_column_is_listed_and_a_reference_constant_that_varies_now_is_a_finding():
    reference = pd.DataFrame({"x": np.linspace(0, 1, 200), "flag": 1, "level": "A", "kept": 5.0})
    current = pd.DataFrame({"x": np.linspace(0, 1, 200), "flag": 1, "level": ["A", "B"] * 100,
                            "kept": [5.0, None] * 100})
    coverage = _coverage(reference, current, ModelSpec(features=["x", "flag", "level", "kept"]))
    flag, kept = _row(coverage, "flag"), _row(coverage, "kept")
    assert not flag.monitored and flag.detail.startswith("a single value (1) in both windows")
    assert not kept.monitored and "kept" in coverage.integrity_columns  # its new nulls are still checked
    level = _row(coverage, "level")
    assert level.monitored and "a single value in the reference (A)" in level.detail
    finding = next(f for f in coverage.findings if f.check == "single_value_reference")
    assert (finding.subject, finding.severity, finding.value) == ("level", "warning", 50.0)
    assert "a single value (A) in all 200 non-null reference values, but 50.0% of current values differ" in \
        finding.message
    assert coverage.monitored.columns == ("x", "level")


def test_a_column_null_in_every_reference_row_gets_a_finding():
    reference = pd.DataFrame({"x": np.arange(100.0), "bureau": np.nan, "gone": np.nan})
    current = pd.DataFrame({"x": np.arange(100.0), "bureau": [700.0] * 30 + [np.nan] * 70, "gone": np.nan})
    coverage = _coverage(reference, current, ModelSpec(features=["x", "bureau", "gone"]))
    bureau = next(f for f in coverage.findings if f.subject == "bureau")
    assert bureau.severity == "warning" and bureau.value == 30.0
    assert bureau.message.startswith("bureau: null in every reference row (100) but 30.0% of current rows have values")
    gone = next(f for f in coverage.findings if f.subject == "gone")
    assert gone.severity == "ok" and "null in every row of both windows" in gone.message
    assert coverage.monitored.columns == ("x",)


@pytest.mark.parametrize("rows", [1, 20])
def test_a_tiny_reference_gets_one_finding_saying_the_statistics_are_unreliable(rows: int):
    reference, current = loan_book(rows, seed=1, lists=False), loan_book(2000, seed=2, lists=False)
    coverage = _coverage(reference, current)
    assert not coverage.reliable and coverage.findings[0].check == "reference_rows"
    finding = coverage.findings[0]
    assert finding.severity == "warning" and finding.value == rows and finding.threshold == MIN_REFERENCE_ROWS
    assert "every drift statistic is unreliable" in finding.message
    # single-valued columns are expected of a tiny reference: no finding each
    assert not [f for f in coverage.findings if f.check == "single_value_reference"]
    assert _coverage(loan_book(MIN_REFERENCE_ROWS, seed=1), current).reliable


def test_on_a_sample_the_table_says_constancy_was_judged_on_it():
    frame = pd.DataFrame({"x": np.arange(100.0), "flag": 1})
    coverage = _coverage(frame, frame, ModelSpec(features=["x", "flag"]), reference_rows=10**6, complete=False)
    assert _row(coverage, "flag").detail.endswith("(judged on the rows held in memory)")
    assert coverage.reference_rows == 10**6 and coverage.reliable
