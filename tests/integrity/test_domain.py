"""Tests of mlreport.integrity: out-of-range values, new and vanished categories
and constant columns on hand-built frames with hand-computed shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from integrity_frames import only, row
from scipy import stats

from mlreport.integrity import category_changes, constant_columns, out_of_range

# --------------------------------------------------------------------------- out of range


def test_out_of_range_hand_computed_shares():
    reference = pd.DataFrame({"x": np.tile(np.arange(100.0), 10)})  # 0..99
    current_values = np.tile(np.arange(100.0), 10)
    current_values[:80] = 150.0  # 8% above the maximum
    current_values[80:100] = -5.0  # 2% below the minimum
    current_values[100:110] = np.nan  # nulls do not count
    result = out_of_range(reference, pd.DataFrame({"x": current_values}))
    figures = row(result.table, "x")
    assert (figures["reference_min"], figures["reference_max"]) == (0.0, 99.0)
    assert figures["above_range_share"] == pytest.approx(80 / 990)
    assert figures["below_range_share"] == pytest.approx(20 / 990)
    assert figures["expected_share"] == pytest.approx(2 / 1001)
    expected_p = stats.binomtest(100, 990, 2 / 1001, alternative="greater").pvalue
    assert figures["out_of_range_p_value"] == pytest.approx(expected_p, rel=1e-6)
    finding = result.findings[0]
    assert finding.severity == "incident" and finding.value == pytest.approx(100 / 990 * 100)
    assert "8.1% above the reference maximum 99" in finding.message


def test_out_of_range_noise_of_a_continuous_column_is_ok():
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(size=1000)})
    current = pd.DataFrame({"x": rng.normal(size=1000)})
    assert out_of_range(reference, current).findings == []


# --------------------------------------------------------------------------- categories


def test_new_and_vanished_categories_with_their_shares():
    reference = pd.DataFrame({"c": ["a"] * 500 + ["b"] * 300 + ["c"] * 200})
    current = pd.DataFrame({"c": ["a"] * 600 + ["c"] * 300 + ["z"] * 80 + ["y"] * 20})
    result = category_changes(reference, current)
    figures = row(result.table, "c")
    assert figures["new_categories"] == 2 and figures["new_category_share"] == pytest.approx(0.10)
    assert figures["new_examples"] == "'z' (8.0%), 'y' (2.0%)"
    assert figures["vanished_categories"] == 1
    assert figures["vanished_reference_share"] == pytest.approx(0.30)
    new = only(result.findings, "new_category")[0]
    assert new.severity == "incident" and new.value == pytest.approx(10.0)
    assert new.message.startswith("c: 10.0% of non-null values in 2 categories absent")
    vanished = only(result.findings, "vanished_category")[0]
    assert vanished.severity == "incident" and "'b' (30.0%)" in vanished.message


def test_id_like_column_of_all_new_values_is_not_flagged():
    reference = pd.DataFrame({"k": [f"r{i}" for i in range(2000)]})
    current = pd.DataFrame({"k": [f"c{i}" for i in range(2000)]})
    result = category_changes(reference, current)
    assert row(result.table, "k")["new_category_share"] == 1.0
    assert result.findings == []


def test_rare_vanished_category_is_not_significant():
    reference = pd.DataFrame({"c": ["a"] * 995 + ["rare"] * 5})
    current = pd.DataFrame({"c": ["a"] * 100})
    result = category_changes(reference, current)
    assert result.findings == [] and row(result.table, "c")["vanished_categories"] == 0


# --------------------------------------------------------------------------- constant


def test_constant_column_that_varied_in_reference():
    reference = pd.DataFrame({"n": np.arange(100.0) % 5, "c": ["x", "y"] * 50, "k": [1.0] * 100})
    current = pd.DataFrame({"n": [3.0] * 50, "c": ["x", "y"] * 25, "k": [1.0] * 50})
    result = constant_columns(reference, current)
    assert [(f.subject, f.severity) for f in result.findings] == [("n", "incident")]
    assert "all 50 non-null values are 3" in result.findings[0].message
    table = result.table.set_index("column")
    assert table.loc["n", "current_constant"] and not table.loc["n", "reference_constant"]
    assert table.loc["k", "reference_constant"] and table.loc["k", "constant_severity"] == "ok"
    # Bound p_max^(n-1): the modal share 0.2 over 49 draws, x 3 columns.
    assert table.loc["n", "constant_p_bound"] == pytest.approx(3 * 0.2 ** 49)


def test_range_and_constant_figures_skip_nulls_and_infinities_as_numpy_on_the_kept_values():
    # NaN and +-inf scattered through 60,000 rows (past the 50,000-value sample of modal values)
    rng = np.random.default_rng(11)
    ref = rng.normal(5.0, 2.0, 60_000)
    ref[rng.random(60_000) < 0.05] = np.nan
    ref[[10, 20_000]] = [np.inf, -np.inf]
    cur = np.full(60_000, 7.25)
    cur[rng.random(60_000) < 0.1] = np.nan
    cur[:3] = np.nan  # the first non-null value is not the first row
    reference, current = pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur})
    ranges = out_of_range(reference, current).table.set_index("column")
    finite = ref[np.isfinite(ref)]
    assert ranges.loc["x", "reference_min"] == finite.min() and ranges.loc["x", "reference_max"] == finite.max()
    assert ranges.loc["x", "expected_share"] == 2.0 / (len(finite) + 1)
    constant = constant_columns(reference, current).table.set_index("column")
    assert bool(constant.loc["x", "current_constant"]) and constant.loc["x", "current_value"] == 7.25
    assert not bool(constant.loc["x", "reference_constant"])
    # the reference's modal share is of its non-null values (infinities included): every value once here
    assert constant.loc["x", "reference_top_share"] == 1 / np.count_nonzero(~np.isnan(ref))
    # infinities alone make a column vary; NaN alone makes it empty, not constant
    both = pd.DataFrame({"x": [np.inf, np.inf, np.nan, 1.0]})
    nothing = pd.DataFrame({"x": [np.nan] * 4})
    assert not bool(constant_columns(reference, both).table.loc[0, "current_constant"])
    assert not bool(constant_columns(reference, nothing).table.loc[0, "current_constant"])
