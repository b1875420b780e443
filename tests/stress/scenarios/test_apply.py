"""Tests of mlreport.stress.scenarios: each shock, and scenarios applied in order.

Shock results are checked against values computed by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scenario_frames import shocked

from mlreport.stress.scenarios import UNSEEN, Reference, Shock, apply_scenario, parse_filter

# ---------------------------------------------------------------- numeric shocks


def test_relative_and_absolute_by_hand():
    frame = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0]})
    out = shocked(frame, Shock("relative", "x", by=-0.5))
    np.testing.assert_array_equal(out["x"].to_numpy(), [0.5, 1.0, np.nan, 2.0])
    out = shocked(frame, Shock("absolute", "x", by=3.0))
    np.testing.assert_array_equal(out["x"].to_numpy(), [4.0, 5.0, np.nan, 7.0])
    # The input frame is not modified.
    np.testing.assert_array_equal(frame["x"].to_numpy(), [1.0, 2.0, np.nan, 4.0])


def test_integer_columns_stay_integer_rounded_half_to_even():
    frame = pd.DataFrame({"n": np.array([10, 15, 20], dtype="int64")})
    out = shocked(frame, Shock("relative", "n", by=0.1))
    # 11.0, 16.5 -> 16 (ties to even), 22.0
    assert out["n"].dtype == np.dtype("int64")
    assert out["n"].tolist() == [11, 16, 22]


def test_nullable_integer_keeps_dtype_and_missing():
    frame = pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64")})
    out = shocked(frame, Shock("absolute", "n", by=2.0))
    assert str(out["n"].dtype) == "Int64"
    assert out["n"].isna().tolist() == [False, True, False]
    assert out["n"].dropna().tolist() == [3, 5]


def test_quantile_shift_by_hand():
    # Reference 0..4: rank(x) = x / 4 and quantile(p) = 4 p on [0, 4].
    reference = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0]})
    frame = pd.DataFrame({"x": [1.0, 1.5, 4.0, -3.0, np.nan]})
    out = shocked(frame, Shock("quantile_shift", "x", by=0.25), reference=reference)
    # 1 -> 0.25+0.25 -> 2; 1.5 -> 0.375+0.25 -> 2.5; 4 -> 1 (clipped) -> 4;
    # -3 is below the reference: rank 0 -> 0.25 -> 1; missing stays missing.
    np.testing.assert_allclose(out["x"].to_numpy(), [2.0, 2.5, 4.0, 1.0, np.nan])
    out = shocked(frame, Shock("quantile_shift", "x", by=-0.5), reference=reference)
    np.testing.assert_allclose(out["x"].to_numpy(), [0.0, 0.0, 2.0, 0.0, np.nan])


def test_quantile_shift_ties_take_the_midrank():
    # Reference [0, 0, 0, 1]: value 0 occupies ranks 0, 1/3, 2/3 -> midrank 1/3.
    # +0.5 -> p = 5/6 -> type-7 position 2.5 -> halfway between 0 and 1 = 0.5.
    reference = pd.DataFrame({"x": [0.0, 0.0, 0.0, 1.0]})
    out = shocked(pd.DataFrame({"x": [0.0]}), Shock("quantile_shift", "x", by=0.5), reference=reference)
    assert out["x"].iloc[0] == pytest.approx(0.5, abs=1e-3)  # table resolution 1e-4


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=-0.9, max_value=0.9))
def test_quantile_shift_moves_ranks_by_q(q):
    # On a continuous reference, the shifted value's rank is the clipped rank + q.
    reference = np.linspace(0, 100, 10_001)
    frame = pd.DataFrame({"x": np.array([5.0, 25.0, 50.0, 75.0, 95.0])})
    out = shocked(frame, Shock("quantile_shift", "x", by=q), reference=pd.DataFrame({"x": reference}))
    expected = np.clip(frame["x"].to_numpy() / 100 + q, 0, 1) * 100
    np.testing.assert_allclose(out["x"].to_numpy(), expected, atol=1e-6)


def test_noise_has_the_stated_scale_and_keeps_missing():
    rng = np.random.default_rng(0)
    x = rng.normal(10, 2, size=40_000)
    x[:10] = np.nan
    frame = pd.DataFrame({"x": x})
    out = shocked(frame, Shock("noise", "x", sd=0.5))
    delta = out["x"].to_numpy() - x
    assert np.isnan(delta[:10]).all()
    reference_sd = np.nanstd(x, ddof=1)
    assert np.nanstd(delta, ddof=1) == pytest.approx(0.5 * reference_sd, rel=0.02)
    assert abs(np.nanmean(delta)) < 0.02


# ---------------------------------------------------------------- share-based shocks


def test_set_missing_exact_count_and_where_filter():
    frame = pd.DataFrame({"x": np.arange(10.0), "g": ["a"] * 4 + ["b"] * 6})
    out = shocked(frame, Shock("set_missing", "x", share=0.3))
    assert out["x"].isna().sum() == 3  # round(0.3 * 10)
    out = shocked(frame.iloc[:7], Shock("set_missing", "x", share=0.5))
    assert out["x"].isna().sum() == 4  # round(3.5) half up
    out = shocked(frame, Shock("set_missing", "x", share=1.0, where=parse_filter({"g": "a"}, context="t")))
    assert out["x"].isna().tolist() == [True] * 4 + [False] * 6


def test_set_missing_on_integer_and_string_columns():
    frame = pd.DataFrame({"n": np.arange(4, dtype="int64"), "c": pd.Series(["u", "v", "u", "v"], dtype="str")})
    out = shocked(frame, Shock("set_missing", "n", share=0.5))
    assert out["n"].dtype == np.dtype("float64") and out["n"].isna().sum() == 2
    out = shocked(frame, Shock("set_missing", "c", share=1.0))
    assert out["c"].isna().all()


def test_set_value_literal_mean_median_stale():
    reference = pd.DataFrame({"x": [1.0, 2.0, 9.0, np.nan]})
    frame = pd.DataFrame({"x": [5.0, 6.0]})
    assert shocked(frame, Shock("set_value", "x", value=0)).x.tolist() == [0.0, 0.0]
    assert shocked(frame, Shock("set_value", "x", value=-1)).x.tolist() == [-1.0, -1.0]
    assert shocked(frame, Shock("set_value", "x", value="mean"), reference).x.tolist() == [4.0, 4.0]
    assert shocked(frame, Shock("set_value", "x", value="median"), reference).x.tolist() == [2.0, 2.0]
    # stale: the last non-missing reference value, in row order.
    assert shocked(frame, Shock("set_value", "x", value="stale"), reference).x.tolist() == [9.0, 9.0]
    half = shocked(pd.DataFrame({"x": np.ones(10)}), Shock("set_value", "x", value=-999, share=0.3))
    assert (half["x"] == -999).sum() == 3


def test_set_value_category():
    frame = pd.DataFrame({"c": pd.Series(["a", "b", "a"], dtype="category")})
    out = shocked(frame, Shock("set_value", "c", value="zz"))
    assert out["c"].astype(str).tolist() == ["zz", "zz", "zz"]


def test_category_reweight_exact_counts_moves_only_surplus_rows():
    labels = ["a"] * 6 + ["b"] * 2 + ["c"] * 2
    frame = pd.DataFrame({"c": pd.Series(labels, dtype="str")})
    # Listed a = 0.4, b = 0.4; unlisted c keeps the remaining 0.2. Counts 4/4/2:
    # two "a" rows become "b", nothing else changes.
    out = shocked(frame, Shock("category_reweight", "c", shares={"a": 0.4, "b": 0.4}))
    assert out["c"].value_counts().to_dict() == {"a": 4, "b": 4, "c": 2}
    changed = out["c"].to_numpy() != frame["c"].to_numpy()
    assert changed.sum() == 2 and set(frame["c"][changed]) == {"a"}
    # Uniform over 10 rows: 3.33 each; largest remainder gives the spare row to a.
    out = shocked(frame, Shock("category_reweight", "c", shares="uniform"))
    assert out["c"].value_counts().to_dict() == {"a": 4, "b": 3, "c": 3}


def test_category_remap_share_from_source():
    frame = pd.DataFrame({"c": ["a"] * 6 + ["b"] * 4})
    out = shocked(frame, Shock("category_remap", "c", share=0.5, source=("a",)))
    assert (out["c"] == UNSEEN).sum() == 3  # half of the six "a" rows
    assert (out["c"] == "b").sum() == 4
    cat = pd.DataFrame({"c": pd.Series(["a", "b"], dtype="category")})
    out = shocked(cat, Shock("category_remap", "c", to="new"))
    assert out["c"].astype(str).tolist() == ["new", "new"]


def test_share_shocks_are_nested_across_magnitudes():
    frame = pd.DataFrame({"x": np.arange(1_000.0)})
    ref = Reference.fit(frame)
    small = apply_scenario(frame, [Shock("set_missing", "x", share=0.2)], ref, seed=1, key="k")
    large = apply_scenario(frame, [Shock("set_missing", "x", share=0.5)], ref, seed=1, key="k")
    assert small["x"].isna().sum() == 200 and large["x"].isna().sum() == 500
    assert (large["x"].isna() | ~small["x"].isna()).all()  # small's rows are a subset of large's


def test_apply_scenario_is_deterministic_by_seed_and_key():
    frame = pd.DataFrame({"x": np.linspace(0, 1, 500), "c": ["a", "b"] * 250})
    ref = Reference.fit(frame)
    shocks = [
        Shock("noise", "x", sd=0.3), Shock("set_missing", "x", share=0.1), Shock("category_remap", "c", share=0.2),
    ]
    first = apply_scenario(frame, shocks, ref, seed=7, key="S")
    again = apply_scenario(frame, shocks, ref, seed=7, key="S")
    pd.testing.assert_frame_equal(first, again)
    other = apply_scenario(frame, shocks, ref, seed=8, key="S")
    assert not first["x"].equals(other["x"])


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=40), min_size=2, max_size=5).filter(lambda c: sum(c) > 0),
    weights=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=5, max_size=5),
)
def test_category_reweight_hits_target_counts(counts, weights):
    categories = [f"k{i}" for i in range(len(counts))]
    labels = [c for c, n in zip(categories, counts, strict=True) for _ in range(n)]
    frame = pd.DataFrame({"c": pd.Series(labels, dtype="str")})
    raw = np.array(weights[: len(counts)]) + 1e-3
    shares = {c: float(w) for c, w in zip(categories, raw / raw.sum() * 0.999999, strict=True)}
    out = shocked(frame, Shock("category_reweight", "c", shares=shares))
    got = out["c"].value_counts().reindex(categories, fill_value=0).to_numpy()
    total = len(labels)
    # Every category is within one row of its target, and the total is kept.
    assert got.sum() == total
    assert np.all(np.abs(got - np.array(list(shares.values())) / sum(shares.values()) * total) < 1 + 1e-9)
    # Only rows of categories above target change.
    changed = out["c"].to_numpy() != frame["c"].to_numpy()
    assert changed.sum() == np.maximum(np.array(counts) - got, 0).sum()
