"""Tests of mlreport.stress.StressTest: its parts share one population, and its verbs are theirs."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from stress_models import APPROVE_HALF, logistic_model, uniform_population

from mlreport.stress import (
    Population,
    ReverseStress,
    ScenarioRunner,
    SensitivitySweep,
    StressTest,
    permutation_importance,
)
from mlreport.stress.scenarios import Tolerance, parse_scenarios

SUITE = parse_scenarios('[[scenario]]\nname = "x up"\nshocks = [{ type = "relative", column = "x", by = 0.2 }]\n')


def test_the_parts_share_one_scored_population():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(2_001), seed=5, tolerance=Tolerance(3.0),
                      confidence=0.9, top_segments=1, min_segment_rows=7)
    assert isinstance(test.population, Population) and test.population.seed == 5
    assert isinstance(test.runner, ScenarioRunner) and test.runner.population is test.population
    assert (test.runner.confidence, test.runner.top_segments, test.runner.min_segment_rows) == (0.9, 1, 7)
    assert isinstance(test.sweep, SensitivitySweep) and test.sweep.population is test.population
    assert isinstance(test.bisector, ReverseStress) and test.bisector.sweep is test.sweep


def test_its_verbs_are_the_parts_verbs():
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(2_001))
    population = Population(logistic_model(), APPROVE_HALF, uniform_population(2_001))
    pd.testing.assert_frame_equal(test.run(SUITE).table, ScenarioRunner(population).run(SUITE).table)
    pd.testing.assert_frame_equal(test.sensitivity(["x"], families=["relative"]),
                                  SensitivitySweep(population).curves(["x"], families=["relative"]))
    pd.testing.assert_frame_equal(
        test.reverse_stress(["x"], families=["relative"]).table,
        ReverseStress(SensitivitySweep(population)).search(["x"], families=["relative"]).table,
    )
    pd.testing.assert_frame_equal(test.importance(sample_rows=500), permutation_importance(population, sample_rows=500))
    pd.testing.assert_frame_equal(test.overview(), population.overview())


def test_of_an_existing_population_and_subsample_keep_the_readout_settings():
    population = Population(logistic_model(), APPROVE_HALF, uniform_population(2_001))
    test = StressTest.of(population, confidence=0.8, min_segment_rows=2)
    assert test.population is population and test.runner.confidence == 0.8
    sampled = test.subsample(500)
    assert len(sampled.population.frame) == 500
    assert (sampled.runner.confidence, sampled.runner.min_segment_rows) == (0.8, 2)
    assert sampled.population.reference_frame is population.reference_frame
    assert test.subsample(10_000) is test


def test_from_setup_builds_the_population_from_parameters():
    setup = SimpleNamespace(model=logistic_model(), rule=APPROVE_HALF, target="", exposure="", features=("x",),
                            monotone={})
    test = StressTest.from_setup(setup, uniform_population(1_001), tolerance_pp=2.0, seed=4)
    assert test.population.features == ("x",) and test.population.seed == 4
    assert test.population.tolerance == Tolerance(2.0)
    assert test.run(SUITE).table.iloc[0]["result"] == "fail"


def test_a_sweep_after_importance_reuses_nothing_across_tests():
    # Each test (and each subsample) has its own sweep cache: results never leak between populations.
    test = StressTest(logistic_model(), APPROVE_HALF, uniform_population(2_001))
    sampled = test.subsample(500)
    assert sampled.sweep is not test.sweep
    full = test.sweep.shocked("x", "relative", 0.2)
    part = sampled.sweep.shocked("x", "relative", 0.2)
    assert full is not part and full.rates[0] == pytest.approx(part.rates[0], abs=0.05)
