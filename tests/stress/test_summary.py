"""Tests of mlreport.stress's summary: headline, status, provenance and the thresholds version."""

from __future__ import annotations

from stress_models import APPROVE_HALF, logistic_model, uniform_population

from mlreport.spec import ModelSpec
from mlreport.stress import StressTest, stress_headline, stress_summary
from mlreport.stress.scenarios import parse_scenarios

TWO_SCENARIOS = (
    '[[scenario]]\nname = "x up 20%"\nshocks = [{ type = "relative", column = "x", by = 0.2 }]\n'
    '[[scenario]]\nname = "z up"\nshocks = [{ type = "relative", column = "z", by = 0.2 }]\n'
)


def test_summary_headline_metrics_and_provenance():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(10_001), seed=4)
    suite = parse_scenarios(TWO_SCENARIOS, path="suite.toml")
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


def test_headline_when_every_scenario_holds():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(2_001))
    z_only = '[[scenario]]\nname = "z up"\nshocks = [{ type = "relative", column = "z", by = 0.2 }]\n'
    run = test.run(parse_scenarios(z_only))
    assert stress_headline(run) == "all 1 applicable scenarios within tolerance"
    summary = stress_summary(run)
    assert summary.status == "ok" and summary.headline == "Healthy: all 1 applicable scenarios within tolerance."


def test_summary_carries_the_spec_thresholds_version_and_model_name():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(2_001), seed=1)
    suite = parse_scenarios('[[scenario]]\nname = "Shift"\nshocks = [{ type = "absolute", column = "x", by = 0.01 }]\n')
    run = test.run(suite)
    spec = ModelSpec.from_dict({"model": "card-fraud", "thresholds": {"version": "2026-03"}}, source="card.toml")
    summary = stress_summary(run, model="built-in", spec=spec)
    assert summary.model == "card-fraud" and summary.thresholds["version"] == "2026-03"
    assert summary.thresholds_version == "2026-03"
    assert stress_summary(run, model="built-in").thresholds["version"] == "default"
