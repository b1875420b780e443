"""Tests of mlreport.stress: readouts, CI, sensitivity, reverse stress, monotonicity.

Hand-built models with known answers: score = logistic(a (x - 0.5)) with
"approve if score < 0.5" approves exactly the rows with x < 0.5, so the
breaking point of each shock follows from the uniform grid of x.
"""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from mlreport.errors import DataError, ModelError
from mlreport.models import DecisionRule, Model, ModelDecisions
from mlreport.params import declared_parameters
from mlreport.scenarios import Tolerance, parse_scenarios
from mlreport.stress import (
    LossModel,
    StressTest,
    default_segments,
    monotonicity,
    paired_rate_change,
    roc_auc,
    stress_summary,
)

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "stress.ipynb"
APPROVE_HALF = DecisionRule({"approve": 0.5}, otherwise="decline")


def logistic_model(a: float = 10.0) -> Model:
    def predict(frame: pd.DataFrame) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-a * (frame["x"].to_numpy(dtype=float) - 0.5)))

    return Model(predict, name="logistic(10 (x - 0.5))", features=["x", "z"])


def uniform_population(n: int = 100_001) -> pd.DataFrame:
    return pd.DataFrame({"x": np.linspace(0.0, 1.0, n), "z": np.linspace(5.0, 6.0, n)})


# ---------------------------------------------------------------- statistics


def test_paired_rate_change_matches_the_matched_pairs_formula():
    # 10 rows: 2 leave the label (b), 4 join it (c).
    before = np.array([1, 1, 0, 0, 0, 0, 1, 1, 0, 0], dtype=bool)
    after = np.array([0, 0, 1, 1, 1, 1, 1, 1, 0, 0], dtype=bool)
    change, low, high = paired_rate_change(before, after)
    z = stats.norm.ppf(0.975)
    half = z * math.sqrt(2 + 4 - (4 - 2) ** 2 / 10) / 10
    assert change == pytest.approx(0.2)
    assert (low, high) == pytest.approx((0.2 - half, 0.2 + half))


def test_paired_interval_covers_at_the_stated_rate():
    # Simulation: the 95% interval covers the true change about 95% of the time.
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(400):
        before = rng.uniform(size=2_000) < 0.6
        flip = rng.uniform(size=2_000) < 0.1
        after = np.where(flip, ~before, before)
        true_change = 0.1 * (0.4 - 0.6)  # 10% of rows flip either way
        _, low, high = paired_rate_change(before, after)
        covered += low <= true_change <= high
    assert 0.92 <= covered / 400 <= 0.98


def test_roc_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, size=500)
    scores = np.round(rng.uniform(size=500) + 0.3 * labels, 1)  # many ties
    assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))
    assert math.isnan(roc_auc(scores, np.zeros(500)))


# ---------------------------------------------------------------- scenario readouts


def small_test(**kwargs) -> StressTest:
    population = pd.DataFrame(
        {
            "x": [0.1, 0.2, 0.3, 0.6, 0.7, 0.8],
            "ead": [100.0, 200.0, 300.0, 400.0, 500.0, 600.0],
            "seg": ["a", "a", "b", "b", "c", "c"],
            "y": [0, 0, 1, 0, 1, 1],
        }
    )
    model = Model(lambda f: f["x"].to_numpy(), name="identity", features=["x"])
    return StressTest(model, APPROVE_HALF, population, **kwargs)


def test_scenario_readouts_by_hand():
    test = small_test(
        label="y",
        loss=LossModel("ead", lgd=0.5),
        segments=["seg"],
        tolerance=Tolerance(max_rate_change_pp=10.0),
        min_segment_rows=1,
    )
    suite = parse_scenarios(
        '[[scenario]]\nname = "double"\nshocks = [{ type = "relative", column = "x", by = 1.0 }]\n'
    )
    run = test.run(suite)
    row = run.table.iloc[0]
    # x doubled: 0.2 0.4 0.6 1.2 1.4 1.6 -> approvals 3 -> 2 (row 3 now declines).
    rates = run.rates.set_index("decision")
    assert rates.at["approve", "base_rate"] == pytest.approx(0.5)
    assert rates.at["approve", "stressed_rate"] == pytest.approx(2 / 6)
    assert rates.at["approve", "change_pp"] == pytest.approx(-100 / 6)
    assert row["flip_rate"] == pytest.approx(1 / 6) and row["flip_down"] == pytest.approx(1 / 6)
    assert row["score_shift_mean"] == pytest.approx(np.mean([0.1, 0.2, 0.3, 0.6, 0.7, 0.8]))
    assert row["result"] == "fail" and "approve rate -16.7 pp (limit ±10 pp)" in row["reasons"]
    # Expected loss over approved rows, PD = score, LGD 0.5:
    # base 0.1*100 + 0.2*200 + 0.3*300 = 140 -> 70; stressed 0.2*100 + 0.4*200 = 100 -> 50.
    assert row["expected_loss_base"] == pytest.approx(70.0)
    assert row["expected_loss_stressed"] == pytest.approx(50.0)
    # AUC on labels y: doubling every score keeps the ranking.
    assert row["auc_base"] == pytest.approx(roc_auc_score([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.6, 0.7, 0.8]))
    assert row["gini_change"] == pytest.approx(0.0)
    assert row["calibration_base"] == pytest.approx(0.45 - 0.5)
    # Segment b loses its one approval of two: -50 pp, the hardest hit.
    top = run.segments.iloc[0]
    assert (top["segment"], top["change_pp"]) == ("b", pytest.approx(-50.0))
    assert run.findings[0].severity == "warning" and run.findings[0].section == "Scenarios"


def test_population_filter_restricts_rows_shocked_and_reported():
    test = small_test(segments=["seg"])
    suite = parse_scenarios(
        '[[scenario]]\nname = "seg b"\npopulation = { seg = "b" }\n'
        'shocks = [{ type = "relative", column = "x", by = 1.0 }]\n'
    )
    run = test.run(suite)
    assert run.table.iloc[0]["rows"] == 2
    assert run.rates.set_index("decision").at["approve", "change_pp"] == pytest.approx(-50.0)


def test_not_applicable_scenarios_are_reported_not_run():
    test = small_test()
    suite = parse_scenarios(
        '[[scenario]]\nname = "cats"\nshocks = [{ type = "category_remap", column = "@categorical" }]\n'
    )
    run = test.run(suite)
    assert run.table.iloc[0]["result"] == "n/a" and "matches no category_remap feature" in run.table.iloc[0]["notes"]


def test_infinite_feature_values_are_reported_and_kept_out_of_the_reference():
    population = uniform_population(1_001)
    population.loc[:9, "z"] = np.inf
    population.loc[10:12, "z"] = -np.inf
    test = StressTest(logistic_model(), APPROVE_HALF, population)
    assert test.nonfinite == {"z": (10, 3)}
    assert np.isfinite(test.reference["z"].quantiles).all() and test.reference["z"].nonfinite == 13
    overview = test.overview().set_index("item")["value"]
    assert overview["infinite feature values"] == "z: 10 +inf and 3 -inf"
    suite = parse_scenarios(
        '[[scenario]]\nname = "z up"\nshocks = [{ type = "quantile_shift", column = "z", by = 0.1 }]\n'
    )
    run = test.run(suite)
    found = [f for f in run.findings if f.check == "non_finite_input"]
    assert [(f.subject, f.severity, f.section) for f in found] == [("z", "warning", "Scenarios")]
    assert "10 +inf and 3 -inf of 1,001 rows" in found[0].message
    assert stress_summary(run).status == "warning"
    clean = StressTest(logistic_model(), APPROVE_HALF, uniform_population(1_001))
    assert clean.nonfinite == {} and "infinite feature values" not in set(clean.overview()["item"])


def test_model_errors_name_the_scenario():
    population = uniform_population(1_000)
    test = StressTest(logistic_model(), APPROVE_HALF, population)
    suite = parse_scenarios(
        '[[scenario]]\nname = "bureau down"\nshocks = [{ type = "set_missing", column = "x", share = 0.1 }]\n'
    )
    with pytest.raises(ModelError, match=r"model 'logistic\(10 \(x - 0.5\)\)' returned 100 non-finite.*scenario 'bureau down'") as info:
        test.run(suite)
    assert info.value.scenario == "bureau down"


def test_runs_are_deterministic_by_seed():
    population = uniform_population(5_000)
    suite = parse_scenarios(
        '[[scenario]]\nname = "noisy"\nshocks = [{ type = "noise", column = "x", sd = 0.5 }]\n'
    )
    tables = [StressTest(logistic_model(), APPROVE_HALF, population, seed=s).run(suite).table for s in (1, 1, 2)]
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert tables[0]["flip_rate"].iloc[0] != tables[2]["flip_rate"].iloc[0]


def test_model_own_decisions():
    population = uniform_population(1_000)

    def decide(frame):
        return np.where(frame["x"] < 0.3, "approve", "decline")

    model = Model(lambda f: f["x"].to_numpy(), name="own", features=["x"], decide=decide)
    test = StressTest(model, ModelDecisions(("approve", "decline")), population)
    assert test.base_rates[0] == pytest.approx(0.3, abs=1e-3)


def test_label_column_must_be_binary():
    frame = uniform_population(10).assign(y=[0, 1, 2] + [0] * 7)
    with pytest.raises(DataError, match="label column 'y' must hold 0/1"):
        StressTest(logistic_model(), APPROVE_HALF, frame, label="y")


# ---------------------------------------------------------------- sensitivity and reverse stress


def test_sensitivity_curves_by_hand():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(10_001))
    curves = test.sensitivity(["x"], families=["relative"], grids={"relative": (-0.2, 0.25)})
    approve = curves[curves["decision"] == "approve"].set_index("magnitude")
    assert approve.at[0.0, "change_pp"] == 0.0
    # x (1 + 0.25) < 0.5 <=> x < 0.4: 4000 of 10001 rows (x = i / 10000, i < 4000).
    assert approve.at[0.25, "rate"] == pytest.approx(4_000 / 10_001)
    assert approve.at[0.25, "flip_rate"] == pytest.approx(1_000 / 10_001)
    assert bool(approve.at[0.25, "breaks"]) and not bool(approve.at[0.0, "breaks"])


@pytest.mark.parametrize(
    "family, direction, expected",
    [
        # approval share = 0.5 / (1 + r); breaks when it moves by more than 0.05.
        ("relative", "down", 0.5 / 0.55 - 1),  # -0.0909
        ("relative", "up", 0.5 / 0.45 - 1),  # +0.1111
        # Reference = the uniform population: shifting by q approves x < 0.5 - q.
        ("quantile_shift", "up", 0.05),
        ("quantile_shift", "down", -0.05),
    ],
)
def test_reverse_stress_finds_the_analytic_breaking_point(family, direction, expected):
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(), tolerance=Tolerance(5.0))
    precision = 1e-3
    result = test.reverse_stress(["x"], families=[family], precision=precision)
    row = result.table.set_index("direction").loc[direction]
    assert bool(row["breaks"])
    low, high = sorted([abs(row["bracket_low"]), abs(row["bracket_high"])])
    assert high - low <= precision
    slack = 1e-4  # the x grid is discrete (1e-5 steps)
    assert low - slack <= abs(expected) <= high + slack
    assert row["magnitude"] == row["bracket_high"]
    assert abs(row["change_pp"]) > 5.0


def test_reverse_stress_reports_never_breaks():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(2_001))
    result = test.reverse_stress(["z"], families=["relative"])  # z is not used by the model
    assert not result.table["breaks"].any()
    assert set(result.table["note"]) == {"never breaks within -50%", "never breaks within +50%"}
    assert result.findings[-1].message.startswith("2 of 2 feature/shock combinations never break")


def test_importance_ranks_the_used_feature_first():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(5_001))
    importance = test.importance(sample_rows=2_000)
    assert importance["feature"].tolist() == ["x", "z"]
    assert importance.set_index("feature").at["z", "mean_abs_score_change"] == 0.0


# ---------------------------------------------------------------- monotonicity


def planted_model() -> Model:
    def predict(frame):
        x = frame["x"].to_numpy(dtype=float)
        # Increasing in x, except a planted dip of 0.2 on [0.4, 0.5).
        return 0.1 + 0.5 * x - 0.2 * ((x >= 0.4) & (x < 0.5))

    return Model(predict, name="planted", features=["x"])


def test_monotonicity_finds_a_planted_violation():
    frame = pd.DataFrame({"x": np.linspace(0, 1, 1_001), "id": [f"r{i}" for i in range(1_001)]})
    result = monotonicity(planted_model(), frame, {"x": "increasing"}, sample_rows=50, id_column="id")
    row = result.table.iloc[0]
    assert row["verdict"] == "violated" and row["share_violating"] == 1.0
    example = result.examples.iloc[0]
    assert example["from_value"] < 0.4 <= example["to_value"] < 0.5
    assert example["move_against"] == pytest.approx(0.2 - 0.5 * (example["to_value"] - example["from_value"]))
    assert str(example["row"]).startswith("r")
    assert result.findings[0].severity == "warning" and result.findings[0].section == "Monotonicity"


def test_monotonicity_holds_for_a_monotone_model_and_flags_the_wrong_direction():
    frame = pd.DataFrame({"x": np.linspace(0, 1, 501)})
    model = Model(lambda f: f["x"].to_numpy() ** 2, name="square", features=["x"])
    holds = monotonicity(model, frame, {"x": "increasing"}, sample_rows=20)
    assert holds.table.iloc[0]["verdict"] == "holds" and holds.findings[0].severity == "ok"
    wrong = monotonicity(model, frame, {"x": "decreasing"}, sample_rows=20)
    assert wrong.table.iloc[0]["share_violating"] == 1.0


# ---------------------------------------------------------------- summary and notebook


def test_summary_headline_metrics_and_provenance():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(10_001), seed=4)
    text = (
        '[[scenario]]\nname = "x up 20%"\nshocks = [{ type = "relative", column = "x", by = 0.2 }]\n'
        '[[scenario]]\nname = "z up"\nshocks = [{ type = "relative", column = "z", by = 0.2 }]\n'
    )
    suite = parse_scenarios(text, path="suite.toml")
    run = test.run(suite)
    reverse = test.reverse_stress(["x"], families=["relative"])
    summary = stress_summary(run, reverse=reverse, model="logistic")
    assert summary.status == "warning"
    assert summary.headline.startswith("Warning: 1 of 2 scenarios break tolerance (worst: 'x up 20%'")
    # The smallest breaking shock is x down ~9%: lower scores, more approvals.
    assert "approve rate rises to" in summary.headline and "at x -9." in summary.headline
    assert summary.metrics["seed"] == 4 and summary.metrics["scenario_sha256"] == suite.sha256
    assert {"name": "scenarios", "path": "suite.toml", "sha256": suite.sha256, "hash_of": "text"} in summary.inputs
    assert {f.section for f in summary.findings} <= {"Scenarios", "Reverse stress"}


def test_default_segments_skip_numbers_ids_and_decisions():
    frame = pd.DataFrame(
        {
            "channel": ["a", "b"] * 50,
            "id": [str(i) for i in range(100)],
            "short_id": [str(i) for i in range(10)] * 10,
            "decision": ["approve", "decline"] * 50,
            "amount": np.arange(100.0),
        }
    )
    assert default_segments(frame, decision_labels=("approve", "decline")) == ("channel", "short_id")
    assert default_segments(frame.head(10)) == ("channel", "decision")  # ids: all values distinct


def test_notebook_contract():
    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    assert "parameters" in notebook.cells[1].metadata.get("tags", [])
    params = declared_parameters(notebook)
    for name in ("data_path", "model", "trust_model_file", "scenarios_path", "tolerance_pp", "sensitivity_features", "seed"):
        assert name in params and params[name].help
    assert params["trust_model_file"].default is False and params["data_path"].default == ""
    # papermill parses the cell with a regex that gives up on a second "=" in a line.
    import papermill

    assert set(papermill.inspect_notebook(str(NOTEBOOK))) == set(params)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "publish(summary)" in code[-1].source
    headings = [c.source.splitlines()[0] for c in notebook.cells if c.cell_type == "markdown"]
    for section in ("## Scenarios", "## Sensitivity", "## Reverse stress", "## Monotonicity"):
        assert section in headings


# ---------------------------------------------------------------- the model spec


def _spec(**values):
    from mlreport.spec import ModelSpec

    return ModelSpec.from_dict(values, source="card.toml")


def _setup(**overrides):
    from types import SimpleNamespace

    values = {"model": logistic_model(), "rule": APPROVE_HALF, "target": "", "exposure": "", "features": ("x", "z"),
              "monotone": {"x": "decreasing"}}
    return SimpleNamespace(**{**values, **overrides})


def test_run_tolerance_takes_the_spec_table_and_the_parameter_on_top():
    from mlreport.stress import DEFAULT_TOLERANCE_PP, run_tolerance

    assert run_tolerance(None) == Tolerance(max_rate_change_pp=DEFAULT_TOLERANCE_PP) == Tolerance(5.0)
    spec = _spec(thresholds={"version": "2026-03", "stress": {
        "max_rate_change_pp": {"approve": 2.0, "decline": 4.0}, "max_flip_rate": 0.1, "min_rate": {"approve": 0.3}}})
    from_spec = run_tolerance(spec)
    assert from_spec.limit_pp("approve") == 2.0 and from_spec.limit_pp("decline") == 4.0
    assert from_spec.max_flip_rate == 0.1 and dict(from_spec.min_rate) == {"approve": 0.3}
    overridden = run_tolerance(spec, 3.0)  # the parameter replaces the rate limit only
    assert overridden.limit_pp("approve") == 3.0 == overridden.limit_pp("decline")
    assert overridden.max_flip_rate == 0.1 and dict(overridden.min_rate) == {"approve": 0.3}
    assert run_tolerance(_spec(), 7.5) == Tolerance(7.5)


@pytest.mark.parametrize("table, fragment", [
    ({"max_rate_change_pp": -1}, "max_rate_change_pp must be a number >= 0"),
    ({"max_flip": 0.1}, "max_flip"),
    ("five", "must be a table"),
])
def test_run_tolerance_refuses_a_bad_spec_table_naming_the_spec(table, fragment):
    from mlreport.errors import SpecError
    from mlreport.stress import run_tolerance

    with pytest.raises(SpecError, match=fragment) as caught:
        run_tolerance(_spec(thresholds={"stress": table}))
    assert "card.toml [thresholds.stress]" in str(caught.value) and caught.value.key == "thresholds.stress"


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf"), True, "5"])
def test_run_tolerance_refuses_a_bad_parameter(value):
    from mlreport.errors import ParameterError
    from mlreport.stress import run_tolerance

    with pytest.raises(ParameterError, match="tolerance_pp"):
        run_tolerance(None, value)


def test_declared_monotone_prefers_the_parameter_then_the_spec_then_the_model():
    from mlreport.errors import ParameterError
    from mlreport.stress import declared_monotone

    spec = _spec(monotone={"z": "increasing"})
    assert declared_monotone({"x": "increasing"}, spec, _setup()) == {"x": "increasing"}
    assert declared_monotone({}, spec, _setup()) == {"z": "increasing"}
    assert declared_monotone({}, None, _setup()) == {"x": "decreasing"}
    assert declared_monotone({}, _spec(), _setup(monotone={})) == {}
    with pytest.raises(ParameterError, match="'up'"):
        declared_monotone({"x": "up"}, None, _setup())


def test_from_setup_takes_features_target_segments_and_tolerance_from_the_spec():
    population = uniform_population(2_001).assign(
        bad=lambda f: (f["x"] > 0.7).astype(int), region=lambda f: np.where(f["z"] > 5.5, "north", "south"),
        channel="web",
    )
    spec = _spec(features=["x", "z"], target="bad", segments=["region"],
                 thresholds={"stress": {"max_rate_change_pp": 2.5}})
    test = StressTest.from_setup(_setup(features=()), population, spec=spec)
    assert test.features == ("x", "z") and test.label == "bad" and test.segments == ("region",)
    assert test.tolerance.limit_pp("approve") == 2.5
    given = StressTest.from_setup(_setup(), population, features=["x"], label="", segments=["channel"],
                                  tolerance_pp=4.0, spec=spec)
    assert given.features == ("x",) and given.segments == ("channel",) and given.tolerance.limit_pp("approve") == 4.0


def test_from_setup_names_a_spec_column_the_population_lacks():
    spec = _spec(features=["x", "income"], target="bad")
    with pytest.raises(DataError, match=r"\['income'\] named as features by the model spec \(card.toml\)"):
        StressTest.from_setup(_setup(), uniform_population(101).assign(bad=0), spec=spec)


def test_summary_carries_the_spec_thresholds_version_and_model_name():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(2_001), seed=1)
    suite = parse_scenarios('[[scenario]]\nname = "Shift"\nshocks = [{ type = "absolute", column = "x", by = 0.01 }]\n')
    run = test.run(suite)
    spec = _spec(model="card-fraud", thresholds={"version": "2026-03"})
    summary = stress_summary(run, model="built-in", spec=spec)
    assert summary.model == "card-fraud" and summary.thresholds["version"] == "2026-03"
    assert stress_summary(run, model="built-in").thresholds["version"] == "default"
