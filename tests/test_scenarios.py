"""Tests of mlreport.scenarios: file validation, filters, resolution and each shock.

Shock results are checked against values computed by hand in the comments.
"""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlreport.errors import ScenarioError
from mlreport.scenarios import (
    UNSEEN,
    ColumnReference,
    Reference,
    Shock,
    Tolerance,
    apply_scenario,
    apply_shock,
    load_scenarios,
    parse_filter,
    parse_scenarios,
    resolve,
    scenario_rng,
)


def shocked(frame: pd.DataFrame, shock: Shock, reference: pd.DataFrame | None = None, seed: int = 0):
    ref = Reference.fit(frame if reference is None else reference)
    return apply_shock(frame, shock, ref, scenario_rng(seed, "test"))


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


def test_reference_quantiles_match_numpy():
    values = np.random.default_rng(3).lognormal(size=5_000)
    ref = ColumnReference.fit(pd.Series(values))
    probabilities = np.array([0.0, 0.013, 0.25, 0.5, 0.9, 0.99991, 1.0])
    np.testing.assert_allclose(ref.quantile(probabilities), np.quantile(values, probabilities), rtol=1e-3)
    assert ref.std == pytest.approx(np.std(values, ddof=1))


def test_reference_is_fitted_on_finite_values_and_counts_the_infinities():
    values = np.random.default_rng(4).lognormal(size=2_000)
    with_inf = values.copy()
    with_inf[:20], with_inf[20:25] = np.inf, -np.inf
    ref = ColumnReference.fit(pd.Series(np.append(with_inf, np.nan)))  # pytest turns numpy warnings into errors
    finite = with_inf[np.isfinite(with_inf)]
    probabilities = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    np.testing.assert_allclose(ref.quantile(probabilities), np.quantile(finite, probabilities), rtol=1e-3)
    assert np.isfinite(ref.quantiles).all() and np.isfinite(ref.rank_values).all()
    assert ref.mean == pytest.approx(finite.mean()) and ref.std == pytest.approx(np.std(finite, ddof=1))
    assert ref.median == pytest.approx(np.median(finite)) and ref.nonfinite == 25
    assert ColumnReference.fit(pd.Series(values)).nonfinite == 0
    only_inf = ColumnReference.fit(pd.Series([np.inf, -np.inf, np.nan]))
    assert only_inf.numeric and only_inf.quantiles is None and only_inf.nonfinite == 2
    # Shocks on such a column: infinities stay where they are, finite values move on the finite reference.
    frame = pd.DataFrame({"x": [np.inf, 1.0, -np.inf]})
    out = shocked(frame, Shock("quantile_shift", "x", by=0.1), reference=pd.DataFrame({"x": with_inf}))
    assert out["x"].iloc[0] == np.inf and out["x"].iloc[2] == -np.inf
    assert out["x"].iloc[1] == pytest.approx(np.quantile(finite, np.mean(finite <= 1.0) + 0.1), rel=0.02)


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
    shocks = [Shock("noise", "x", sd=0.3), Shock("set_missing", "x", share=0.1), Shock("category_remap", "c", share=0.2)]
    first = apply_scenario(frame, shocks, ref, seed=7, key="S")
    again = apply_scenario(frame, shocks, ref, seed=7, key="S")
    pd.testing.assert_frame_equal(first, again)
    other = apply_scenario(frame, shocks, ref, seed=8, key="S")
    assert not first["x"].equals(other["x"])


# ---------------------------------------------------------------- filters


def test_filter_operators():
    frame = pd.DataFrame({"x": [1.0, 5.0, np.nan, 9.0], "g": ["a", "b", "c", None]})
    mask = lambda spec: parse_filter(spec, context="t").mask(frame).tolist()  # noqa: E731
    assert mask({"g": "a"}) == [True, False, False, False]
    assert mask({"g": ["a", "b"]}) == [True, True, False, False]
    assert mask({"x": {">": 2}}) == [False, True, False, True]
    assert mask({"x": {">=": 1, "<": 9}}) == [True, True, False, False]
    assert mask({"x": {"missing": True}}) == [False, False, True, False]
    assert mask({"g": {"not_in": ["a"]}}) == [False, True, True, False]
    assert mask({"g": {"!=": "a"}, "x": {"<=": 5}}) == [False, True, False, False]


def test_filter_errors_name_the_column():
    with pytest.raises(ScenarioError, match="unknown filter operator 'like'.*'g'"):
        parse_filter({"g": {"like": "a%"}}, context="t")
    frame = pd.DataFrame({"g": ["a", "b"]})
    with pytest.raises(ScenarioError, match="cannot compare column 'g'"):
        parse_filter({"g": {">": 3}}, context="t").mask(frame)
    with pytest.raises(ScenarioError, match="'nope' is not in the data"):
        parse_filter({"nope": 1}, context="t").mask(frame)


# ---------------------------------------------------------------- file validation

GOOD = """
[tolerance]
max_rate_change_pp = 3.0

[macro.elasticities.unemployment_pp]
income = { relative = -0.02 }
dti = { relative = 0.03, absolute = 0.01 }

[macro.elasticities.base_rate_pp]
dti = { relative = 0.04 }

[[scenario]]
name = "recession"
macro = { unemployment_pp = 3, base_rate_pp = 1 }

[[scenario]]
name = "broker nulls"
population = { channel = "broker" }
shocks = [{ type = "set_missing", column = "income", share = 0.5, where = { income = { ">" = 0 } } }]
tolerance = { max_rate_change_pp = { approve = 2.0 } }
"""


def frame_for_files() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "income": [10.0, 20.0, 30.0, 40.0],
            "dti": [0.1, 0.2, 0.3, 0.4],
            "channel": ["broker", "online", "broker", "online"],
            "grade": ["A", "B", "A", "C"],
        }
    )


def test_parse_and_resolve_macro_adds_elasticities():
    suite = parse_scenarios(GOOD, path="s.toml")
    assert suite.names() == ["recession", "broker nulls"]
    assert suite.sha256 == hashlib.sha256(GOOD.encode()).hexdigest()
    resolved = resolve(suite, frame=frame_for_files(), features=["income", "dti", "grade"])
    recession = resolved[0]
    by_kind = {(s.column, s.kind): s.by for s in recession.shocks}
    # income: 3 x -0.02 = -0.06; dti relative: 3 x 0.03 + 1 x 0.04 = 0.13; dti absolute 3 x 0.01.
    assert by_kind[("income", "relative")] == pytest.approx(-0.06)
    assert by_kind[("dti", "relative")] == pytest.approx(0.13)
    assert by_kind[("dti", "absolute")] == pytest.approx(0.03)
    assert recession.tolerance.max_rate_change_pp == 3.0  # from the file's [tolerance]
    assert resolved[1].tolerance.limit_pp("approve") == 2.0  # scenario's own table wins
    assert resolved[1].population.describe() == "channel == 'broker'"


def test_yaml_and_toml_give_the_same_scenarios():
    yaml_text = """
scenarios:
  - name: up
    shocks:
      - {type: relative, column: income, by: 0.1}
  - name: unseen
    shocks:
      - {type: category_remap, column: grade, share: 0.5}
"""
    toml_text = """
[[scenario]]
name = "up"
shocks = [{ type = "relative", column = "income", by = 0.1 }]
[[scenario]]
name = "unseen"
shocks = [{ type = "category_remap", column = "grade", share = 0.5 }]
"""
    from_yaml = parse_scenarios(yaml_text, fmt="yaml", path="s.yaml")
    from_toml = parse_scenarios(toml_text, fmt="toml", path="s.toml")
    assert from_yaml.scenarios == from_toml.scenarios


@pytest.mark.parametrize(
    "shock, message",
    [
        ('{ type = "explode", column = "income" }', r"unknown shock type 'explode'; valid types: relative, absolute"),
        ('{ type = "relative", column = "income", by = "ten" }', r"'by' must be a number, got 'ten'"),
        ('{ type = "relative", column = "income", by = -1.5 }', r"would flip signs"),
        ('{ type = "set_missing", column = "income", share = 1.5 }', r"share must be a number between 0 and 1"),
        ('{ type = "relative", column = "income", by = 0.1, size = 2 }', r"unknown key 'size'"),
        ('{ type = "relative", by = 0.1 }', r"missing required key 'column'"),
        ('{ type = "noise", column = "@everything", sd = 1 }', r"unknown column selector '@everything'"),
        ('{ type = "category_reweight", column = "g", shares = { a = 0.8, b = 0.5 } }', r"sum to 1.3"),
        ('{ type = "macro", column = "g" }', r"macro variables go in the scenario's 'macro' table"),
    ],
)
def test_shock_validation_errors_name_file_and_scenario(shock, message):
    text = f'[[scenario]]\nname = "bad one"\nshocks = [{shock}]\n'
    with pytest.raises(ScenarioError, match=message) as info:
        parse_scenarios(text, path="my_scenarios.toml")
    assert "my_scenarios.toml" in str(info.value) and "'bad one'" in str(info.value)
    assert info.value.scenario == "bad one" and info.value.path == "my_scenarios.toml"


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[scenario]]\nname = 'a'\nshocks = [{ type = 'noise', column = 'x', sd = 1 }]\n"
         "[[scenario]]\nname = 'a'\nshocks = [{ type = 'noise', column = 'x', sd = 1 }]", "'a': duplicate scenario name"),
        ("[[scenario]]\nname = 'a'\nmacro = { gdp = 1 }", "macro variable 'gdp' has no elasticities"),
        ("[[scenario]]\nname = 'a'\nshocks = [{ type = 'relative', column = 'x', by = 1 }]\nextra = 1",
         "unknown key 'extra'"),
        ("scenario = 3", "no scenarios"),
        ("[[scenario]]\nname = 'a'\n", "no shocks and no macro"),
        ("[[scenario\nname = 'a'", "not valid TOML"),
        ("[tolerance]\nmax_rate_change_pp = 'big'\n[[scenario]]\nname='a'\nshocks=[{type='relative',column='x',by=1}]",
         "max_rate_change_pp must be a number"),
    ],
)
def test_file_validation_errors(text, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenarios(text, path="f.toml")


def test_resolve_errors_name_the_column_and_scenario():
    text = '[[scenario]]\nname = "s1"\nshocks = [{ type = "relative", column = "salary", by = 0.1 }]\n'
    with pytest.raises(ScenarioError, match=r"scenario 's1'.*column 'salary' is not in the data") as info:
        resolve(parse_scenarios(text, path="f.toml"), frame=frame_for_files(), features=["income"])
    assert info.value.scenario == "s1"
    text = '[[scenario]]\nname = "s2"\nshocks = [{ type = "relative", column = "grade", by = 0.1 }]\n'
    with pytest.raises(ScenarioError, match="needs a numeric column; 'grade'"):
        resolve(parse_scenarios(text, path="f.toml"), frame=frame_for_files(), features=["grade"])
    text = '[[scenario]]\nname = "s3"\npopulation = { region = "x" }\nshocks = [{ type = "relative", column = "income", by = 0.1 }]\n'
    with pytest.raises(ScenarioError, match="population filter column 'region'"):
        resolve(parse_scenarios(text, path="f.toml"), frame=frame_for_files(), features=["income"])


def test_macro_missing_columns_error_or_skip():
    text = """
[macro.elasticities.hpi]
ltv = { relative = -0.01 }
[[scenario]]
name = "houses"
macro = { hpi = -20 }
"""
    with pytest.raises(ScenarioError, match="maps onto column 'ltv', which is not in the data"):
        resolve(parse_scenarios(text), frame=frame_for_files(), features=["income"])
    skipping = text.replace("[macro.elasticities.hpi]", '[macro]\nmissing_columns = "skip"\n[macro.elasticities.hpi]')
    (houses,) = resolve(parse_scenarios(skipping), frame=frame_for_files(), features=["income"])
    assert not houses.applicable and "ltv not in the data" in houses.notes[0]


def test_selectors_follow_dtypes_and_importance():
    text = """
[[scenario]]
name = "all numeric"
shocks = [{ type = "relative", column = "@numeric", by = 0.1 }]
[[scenario]]
name = "top"
shocks = [{ type = "set_missing", column = "@top_numeric" }, { type = "category_remap", column = "@top_categorical" }]
[[scenario]]
name = "missing everywhere"
shocks = [{ type = "set_missing", column = "@all", share = 0.1 }]
"""
    frame = frame_for_files()
    resolved = resolve(parse_scenarios(text), frame=frame, features=["income", "dti", "grade"], importance=["grade", "dti", "income"])
    assert [s.column for s in resolved[0].shocks] == ["income", "dti"]
    assert [s.column for s in resolved[1].shocks] == ["dti", "grade"]
    assert [s.column for s in resolved[2].shocks] == ["income", "dti", "grade"]


def test_builtin_suite_loads_and_fits_a_model_without_those_columns():
    suite = load_scenarios("")
    text = resources.files("mlreport").joinpath("default_scenarios.toml").read_text("utf-8")
    assert suite.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert len(suite.scenarios) >= 14
    frame = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10) % 3, "k": list("xyzxyzxyzx")})
    resolved = resolve(suite, frame=frame, features=["a", "b", "k"])
    applicable = [r for r in resolved if r.applicable]
    assert len(applicable) >= 14
    macro = [r for r in resolved if r.macro]
    assert macro and not any(r.applicable for r in macro)  # none of its columns exist here


def test_load_scenarios_file_errors(tmp_path):
    with pytest.raises(ScenarioError, match="expected a .toml, .yaml or .yml file"):
        load_scenarios(str(tmp_path / "s.json"))
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenarios(str(tmp_path / "missing.toml"))
    path = tmp_path / "s.yml"
    path.write_text("scenarios:\n  - name: a\n    shocks: [{type: noise, column: x, sd: 0.5}]\n")
    assert load_scenarios(str(path)).scenarios[0].shocks[0].sd == 0.5


def test_tolerance_breaches():
    tolerance = Tolerance(max_rate_change_pp=5.0, max_flip_rate=0.2, min_rate={"approve": 0.4})
    assert tolerance.breaches(["approve", "decline"], [0.55, 0.45], [-4.9, 4.9], 0.1) == []
    reasons = tolerance.breaches(["approve", "decline"], [0.35, 0.65], [-20.0, 20.0], 0.3)
    assert reasons[0].startswith("approve rate -20.0 pp")
    assert any("below floor 40%" in r for r in reasons) and any("flip rate 30.0%" in r for r in reasons)


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=40), min_size=2, max_size=5).filter(lambda c: sum(c) > 0),
    weights=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=5, max_size=5),
)
def test_category_reweight_hits_target_counts(counts, weights):
    categories = [f"k{i}" for i in range(len(counts))]
    labels = [c for c, n in zip(categories, counts) for _ in range(n)]
    frame = pd.DataFrame({"c": pd.Series(labels, dtype="str")})
    raw = np.array(weights[: len(counts)]) + 1e-3
    shares = {c: float(w) for c, w in zip(categories, raw / raw.sum() * 0.999999)}
    out = shocked(frame, Shock("category_reweight", "c", shares=shares))
    got = out["c"].value_counts().reindex(categories, fill_value=0).to_numpy()
    total = len(labels)
    # Every category is within one row of its target, and the total is kept.
    assert got.sum() == total
    assert np.all(np.abs(got - np.array(list(shares.values())) / sum(shares.values()) * total) < 1 + 1e-9)
    # Only rows of categories above target change.
    changed = out["c"].to_numpy() != frame["c"].to_numpy()
    assert changed.sum() == np.maximum(np.array(counts) - got, 0).sum()
