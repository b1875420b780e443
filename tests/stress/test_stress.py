"""Tests of mlreport.stress: the test's baseline and importance, summary, notebook and model spec."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
from stress_models import APPROVE_HALF, logistic_model, uniform_population

from mlreport.driver import declared_parameters
from mlreport.errors import DataError
from mlreport.stress import Model, ModelDecisions, StressTest, stress_summary
from mlreport.stress.scenarios import Tolerance, parse_scenarios

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "stress.ipynb"


# ---------------------------------------------------------------- baseline and importance


def test_model_own_decisions():
    population = uniform_population(1_000)

    def decide(frame):
        return np.where(frame["x"] < 0.3, "approve", "decline")

    model = Model(lambda f: f["x"].to_numpy(), name="own", features=["x"], decide=decide)
    test = StressTest(model, ModelDecisions(("approve", "decline")), population)
    assert test.base_rates[0] == pytest.approx(0.3, abs=1e-3)


def test_importance_ranks_the_used_feature_first():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(5_001))
    importance = test.importance(sample_rows=2_000)
    assert importance["feature"].tolist() == ["x", "z"]
    assert importance.set_index("feature").at["z", "mean_abs_score_change"] == 0.0


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
    from mlreport.stress import run_tolerance
    from mlreport.stress._stress import DEFAULT_TOLERANCE_PP

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
