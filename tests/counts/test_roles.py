"""Column roles of a decision log and the input checks: missing columns, empty logs, decision labels."""

from __future__ import annotations

import pytest
from volume_logs import ROLES, analyse

from mlreport.counts import count_decisions, resolve_roles
from mlreport.errors import DataError
from mlreport.sample import DEFAULT_SPEC, generate
from mlreport.spec import ModelSpec
from mlreport.volume import VolumeConfig, analyse_volume


@pytest.fixture(scope="module")
def clean():
    return generate(50_000, seed=7)


def test_missing_columns_and_bad_types_are_data_errors(clean):
    with pytest.raises(DataError, match="'when' not found"):
        analyse_volume(clean, timestamp_column="when", decision_column="decision")
    with pytest.raises(DataError, match="expected timestamps"):
        analyse_volume(clean, timestamp_column="age", decision_column="decision")


def test_empty_log_says_no_rows_before_any_other_check(clean):
    empty = clean.iloc[:0]
    with pytest.raises(DataError, match="has no rows") as info:
        resolve_roles(empty)  # nothing to infer roles from: the rows are the problem
    assert "decision column" not in str(info.value)
    with pytest.raises(DataError, match="has no rows"):
        count_decisions(empty[["age"]], **ROLES)  # before the missing columns


def test_empty_log_names_the_file_it_was_read_from(clean, tmp_path):
    from mlreport import data

    path = tmp_path / "log.parquet"
    clean.iloc[:0].to_parquet(path)
    inputs = data.InputLog()
    log = data.load_table(str(path), name="decisions", log=inputs)
    with pytest.raises(DataError, match="has no rows") as info:
        resolve_roles(log, inputs=inputs)
    assert str(path) in str(info.value) and info.value.path == str(path)


def test_all_missing_decisions_are_refused_with_the_column_named(clean):
    with pytest.raises(DataError, match="decision column 'decision' has no values") as info:
        analyse(clean.assign(decision=None))
    assert info.value.column == "decision"


def test_a_decision_column_with_too_many_labels_is_refused(clean):
    too_many = r"'application_id' has 50,000 distinct values .*expected a few decision labels"
    with pytest.raises(DataError, match=too_many):
        analyse(clean, decision_column="application_id")
    few = clean.assign(decision=clean.index % 5)
    assert count_decisions(few, VolumeConfig(max_decision_labels=5), **ROLES).labels == ["0", "1", "2", "3", "4"]
    with pytest.raises(DataError, match="at most 4, the max_decision_labels setting"):
        count_decisions(few, VolumeConfig(max_decision_labels=4), **ROLES)


def test_roles_from_parameters_spec_or_inference(clean):
    from_spec = resolve_roles(clean, spec=ModelSpec.from_dict(DEFAULT_SPEC))
    assert from_spec["segment_columns"] == ["channel", "region", "product"]
    assert from_spec["decision_labels"] == ["approve", "refer", "decline"]
    given = resolve_roles(clean, spec=ModelSpec.from_dict(DEFAULT_SPEC), segment_columns=["region"])
    assert given["segment_columns"] == ["region"]
    inferred = resolve_roles(clean)
    assert (inferred["timestamp_column"], inferred["decision_column"]) == ("timestamp", "decision")
    with pytest.raises(DataError, match="no decision column"):
        resolve_roles(clean[["timestamp", "age"]])


def test_roles_take_one_form_whoever_fills_them(clean):
    from mlreport.counts import DecisionRoles, decision_roles

    keys = list(DecisionRoles.__annotations__)
    resolved = resolve_roles(clean, spec=ModelSpec.from_dict(DEFAULT_SPEC))
    assert list(resolved) == keys
    assert decision_roles(timestamp_column="t", decision_column="d", segment_columns=("a",), score_column="",
                          decision_labels=[]) == {
        "timestamp_column": "t", "decision_column": "d", "segment_columns": ["a"], "score_column": None,
        "override_column": None, "decision_labels": None}
    counts = count_decisions(clean, **resolved)
    assert counts.roles == resolved  # what was counted travels with the counts
