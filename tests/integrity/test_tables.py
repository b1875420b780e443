"""Tests of mlreport.integrity: schema, duplicate ids, rows per period and freshness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from integrity_frames import daily_frame, only, row

from mlreport.integrity import duplicate_ids, freshness, rows_per_period, schema_diff

# --------------------------------------------------------------------------- schema


def test_schema_diff_missing_new_changed_and_mixed_columns():
    reference = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "c": [1, 2], "d": [1.5, 2.5],
                              "e": [1.0, 2.0]})
    current = pd.DataFrame({"b": ["x", "y"], "c": ["1", "2"],
                            "d": pd.Series([1.5, "n/a"], dtype=object),
                            "e": [np.nan, np.nan], "f": [0, 1]})
    result = schema_diff(reference, current)
    status = result.table.set_index("column")["status"].to_dict()
    assert status == {"a": "missing_in_current", "b": "ok", "c": "type_changed",
                      "d": "mixed_types", "e": "ok", "f": "new_in_current"}
    severity = {f.subject: f.severity for f in result.findings}
    assert severity == {"a": "incident", "c": "incident", "d": "incident", "f": "warning"}
    mixed = only(result.findings, "schema", "d")[0].message
    assert "1 numbers, 1 str values" in mixed and "'n/a'" in mixed
    changed = only(result.findings, "schema", "c")[0].message
    assert "numeric (int64)" in changed and "string" in changed


def test_mixed_types_already_in_reference_is_a_warning():
    mixed = pd.Series([1, "a", 2, "b"], dtype=object)
    result = schema_diff(pd.DataFrame({"m": mixed}), pd.DataFrame({"m": mixed}))
    assert [f.severity for f in result.findings] == ["warning"]


# --------------------------------------------------------------------------- duplicate ids


def test_duplicate_ids_incident_and_warning_when_reference_had_the_same_rate():
    reference = pd.DataFrame({"id": [f"r{i}" for i in range(1000)]})
    current = pd.DataFrame({"id": [f"c{i}" for i in range(990)] + [f"c{i}" for i in range(10)]})
    result = duplicate_ids(reference, current, "id")
    figures = row(result.table, "id")
    assert figures["current_duplicates"] == 10 and figures["current_duplicate_share"] == 0.01
    assert result.findings[0].severity == "incident"
    assert "10 rows repeat an earlier id" in result.findings[0].message
    assert "and 5 more" in result.findings[0].message  # 10 ids, 5 listed
    reference = pd.DataFrame({"id": [f"r{i}" for i in range(990)] + [f"r{i}" for i in range(10)]})
    assert duplicate_ids(reference, current, "id").findings[0].severity == "warning"


# --------------------------------------------------------------------------- time


def test_rows_per_period_drop_is_a_finding_with_its_first_period():
    reference = daily_frame("2026-01-05", 28, 100)
    current = daily_frame("2026-02-02", 7, [100, 98, 102, 30, 60, 101, 99])
    result = rows_per_period(reference, current, "ts")
    table = result.table.set_index("period")
    assert table.loc["2026-02-05", "rows"] == 30 and table.loc["2026-02-05", "expected"] == 100
    assert table.loc["2026-02-05", "severity"] == "incident"
    assert table.loc["2026-02-06", "severity"] == "warning"
    finding = result.findings[0]
    assert finding.severity == "incident" and finding.period == "2026-02-05"
    assert finding.value == pytest.approx(0.30) and finding.threshold == pytest.approx(0.5)


def test_rows_per_period_uses_the_weekday_profile():
    # Weekends at 40% of weekdays in both windows: no finding.
    profile = [100, 100, 100, 100, 100, 40, 40]
    reference = daily_frame("2026-01-05", 28, profile * 4)  # 2026-01-05 is a Monday
    current = daily_frame("2026-02-02", 14, profile * 2)
    result = rows_per_period(reference, current, "ts")
    assert result.findings == []
    assert result.table.set_index("period").loc["2026-02-07", "expected"] == 40


def test_missing_days_count_as_zero_and_expected_end_extends_the_window():
    reference = daily_frame("2026-01-05", 28, 100)
    current = daily_frame("2026-02-02", 3, 100)
    result = rows_per_period(reference, current, "ts", expected_end="2026-02-07")
    table = result.table.set_index("period")
    assert list(table.index) == ["2026-02-02", "2026-02-03", "2026-02-04", "2026-02-05",
                                 "2026-02-06"]
    assert table.loc["2026-02-05", "rows"] == 0
    assert result.findings[0].period == "2026-02-05"


def test_freshness_stale_and_fresh():
    reference = daily_frame("2026-01-05", 28, 100)
    current = daily_frame("2026-02-02", 4, 100)  # last row 2026-02-05 23:59:59
    stale = freshness(current, "ts", expected_end="2026-02-09", reference=reference)
    figures = stale.table.iloc[0]
    assert figures["lag_periods"] == pytest.approx(3.0, abs=1e-4)
    finding = stale.findings[0]
    assert finding.severity == "incident" and finding.check == "freshness"
    assert "3.0 periods" in finding.message
    fresh = freshness(current, "ts", expected_end="2026-02-06", reference=reference)
    assert fresh.findings == [] and fresh.table.iloc[0]["severity"] == "ok"
    # Without an expected end nothing can be judged.
    assert freshness(current, "ts", expected_end=None).table.empty
    # A row after the expected end is a warning.
    late = freshness(current, "ts", expected_end="2026-02-05", reference=reference)
    assert [f.severity for f in late.findings] == ["warning"]
