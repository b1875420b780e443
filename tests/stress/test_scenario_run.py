"""Tests of mlreport.stress.ScenarioRunner: readouts by hand, filters, n/a scenarios, errors, seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from stress_models import APPROVE_HALF, logistic_model, uniform_population

from mlreport.errors import ModelError
from mlreport.stress import (
    UNSCORABLE,
    LossModel,
    Model,
    Population,
    ScenarioReadout,
    ScenarioRunner,
    StressTest,
    stress_summary,
)
from mlreport.stress.scenarios import Tolerance, apply_scenario, parse_scenarios, resolve

SMALL = pd.DataFrame(
    {
        "x": [0.1, 0.2, 0.3, 0.6, 0.7, 0.8],
        "ead": [100.0, 200.0, 300.0, 400.0, 500.0, 600.0],
        "seg": ["a", "a", "b", "b", "c", "c"],
        "y": [0, 0, 1, 0, 1, 1],
    }
)
IDENTITY = Model(lambda f: f["x"].to_numpy(), name="identity", features=["x"])


def small_test(**kwargs) -> StressTest:
    return StressTest(IDENTITY, APPROVE_HALF, SMALL, **kwargs)


def small_population(**kwargs) -> Population:
    return Population(IDENTITY, APPROVE_HALF, SMALL, **kwargs)


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
    assert test.population.nonfinite == {"z": (10, 3)}
    reference = test.population.reference
    assert np.isfinite(reference["z"].quantiles).all() and reference["z"].nonfinite == 13
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
    assert clean.population.nonfinite == {} and "infinite feature values" not in set(clean.overview()["item"])


def test_a_scenario_the_model_cannot_score_is_a_finding_and_the_others_run():
    """Issue 16 class 8: a model returning NaN for a scenario's missing inputs no longer stops the run.

    (This test replaced one asserting that ``test.run`` raised a ModelError naming the scenario.)
    """
    population = uniform_population(1_000)
    test = StressTest(logistic_model(), APPROVE_HALF, population)
    suite = parse_scenarios(
        '[[scenario]]\nname = "bureau down"\nshocks = [{ type = "set_missing", column = "x", share = 0.1 }]\n'
        '[[scenario]]\nname = "z up"\nshocks = [{ type = "relative", column = "z", by = 0.2 }]\n'
    )
    run = test.run(suite)
    # The rows set missing, by the scenario's own seeded draw: the rows the model cannot score.
    (bureau,) = [r for r in resolve(suite, frame=population, features=["x", "z"]) if r.name == "bureau down"]
    stressed = apply_scenario(population, bureau.shocks, test.population.reference_for(["x"]), seed=0,
                              key="bureau down")
    missing = np.flatnonzero(stressed["x"].isna().to_numpy())
    assert len(missing) == 100
    table = run.table.set_index("scenario")
    assert table.loc["bureau down", "result"] == UNSCORABLE and table.loc["bureau down", "unscored_rows"] == 100
    assert table.loc["z up", "result"] == "pass" and table.loc["z up", "unscored_rows"] == 0
    (finding,) = [f for f in run.findings if f.check == "model_cannot_score"]
    assert (finding.subject, finding.severity, finding.value, finding.threshold, finding.section) == (
        "bureau down", "warning", 100.0, 0.0, "Scenarios"
    )
    shown = ", ".join(f"{i:,}" for i in missing[:5])
    assert f"the model cannot score 100 of 1,000 rows (rows {shown} and 95 more): returned NaN for 100 rows" in (
        finding.message
    )
    assert "integration risk" in finding.message and finding.method
    # no rates are read out for it: rates on the scored rows would leave out the rows it hit
    assert set(run.rates["scenario"]) == {"z up"} and list(run.readouts()["scenario"]) == ["z up"]
    shown_row = run.display_table().set_index("scenario").loc["bureau down"]
    assert shown_row["why"].startswith("the model cannot score 100 of 1,000 rows") and shown_row["hardest hit"] == ""
    summary = stress_summary(run)
    assert summary.status == "warning" and summary.metrics["scenarios_unscorable"] == 1
    assert summary.headline == (
        "Warning: the model cannot score 1 of 2 scenarios (first: 'bureau down', 100 of 1,000 rows); "
        "all 1 scored scenarios within tolerance."
    )


def test_model_errors_still_name_the_scenario_when_raised():
    population = uniform_population(1_000)
    test = StressTest(logistic_model(), APPROVE_HALF, population)
    stressed = population.assign(x=population["x"].mask(population.index < 10))
    with pytest.raises(ModelError, match=r"returned 10 non-finite.*scenario 'bureau down'") as info:
        test.population.evaluate(stressed, "bureau down")
    assert info.value.scenario == "bureau down"


def test_runs_are_deterministic_by_seed():
    population = uniform_population(5_000)
    suite = parse_scenarios(
        '[[scenario]]\nname = "noisy"\nshocks = [{ type = "noise", column = "x", sd = 0.5 }]\n'
    )
    tables = [StressTest(logistic_model(), APPROVE_HALF, population, seed=s).run(suite).table for s in (1, 1, 2)]
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert tables[0]["flip_rate"].iloc[0] != tables[2]["flip_rate"].iloc[0]


def test_a_runner_evaluates_one_resolved_scenario_against_its_population():
    population = small_population(label="y", segments=["seg"])
    runner = ScenarioRunner(population, min_segment_rows=1, top_segments=2)
    suite = parse_scenarios(
        '[[scenario]]\nname = "double"\nshocks = [{ type = "relative", column = "x", by = 1.0 }]\n'
        '[[scenario]]\nname = "nobody"\npopulation = { seg = "z" }\n'
        'shocks = [{ type = "relative", column = "x", by = 1.0 }]\n'
    )
    double, nobody = resolve(suite, frame=population.frame, features=population.features)
    readout = runner.evaluate(double)
    assert isinstance(readout, ScenarioReadout) and readout.rows == 6
    assert [r["decision"] for r in readout.rates] == ["approve", "decline"]
    assert readout.rates[0]["change_pp"] == pytest.approx(-100 / 6)
    assert list(readout.measures)[:3] == ["flip_rate", "flip_down", "flip_up"]
    assert readout.measures["auc_stressed"] == pytest.approx(readout.measures["auc_base"])
    assert len(readout.segments) == 2 and readout.segments[0]["segment"] == "b"
    assert runner.evaluate(nobody) is None  # the population filter matches no row


def test_a_runner_uses_its_confidence_level_and_the_population_tolerance():
    population = small_population(tolerance=Tolerance(max_rate_change_pp=20.0))
    suite = parse_scenarios('[[scenario]]\nname = "double"\nshocks = [{ type = "relative", column = "x", by = 1.0 }]\n')
    run = ScenarioRunner(population, confidence=0.9).run(suite)
    assert run.table.iloc[0]["result"] == "pass" and run.confidence == 0.9
    assert "90% CI" in run.findings[0].message and run.tolerance == Tolerance(20.0)
    wide = ScenarioRunner(population, confidence=0.99).run(suite).rates.set_index("decision")
    narrow = run.rates.set_index("decision")
    assert wide.at["approve", "ci_low_pp"] < narrow.at["approve", "ci_low_pp"]


def test_n_a_scenarios_keep_their_row_with_the_reason():
    population = small_population()
    suite = parse_scenarios(
        '[[scenario]]\nname = "nobody"\npopulation = { seg = "z" }\n'
        'shocks = [{ type = "relative", column = "x", by = 1.0 }]\n'
    )
    run = ScenarioRunner(population).run(suite)
    row = run.table.iloc[0]
    assert (row["result"], row["rows"], bool(row["applicable"])) == ("n/a", 0, False)
    assert row["notes"] == "the population filter matches no rows"
    assert run.rates.empty and run.findings[0].severity == "ok"
    assert run.display_table().iloc[0]["approve Δ pp (95% CI)"] == ""


# ------------------------------------------------------------ issue 14: expected loss judged, explained, sorted

LOSS_SUITE = (
    '[[scenario]]\nname = "double"\nshocks = [{ type = "relative", column = "x", by = 1.0 }]\n'
    '[[scenario]]\nname = "tiny"\nshocks = [{ type = "relative", column = "x", by = 0.01 }]\n'
    '[[scenario]]\nname = "up40"\nshocks = [{ type = "relative", column = "x", by = 0.4 }]\n'
)


def loss_run(**tolerance):
    test = small_test(label="y", loss=LossModel("ead", lgd=0.5), tolerance=Tolerance(10.0, **tolerance))
    return test.run(parse_scenarios(LOSS_SUITE))


def test_expected_loss_rising_past_its_tolerance_fails_a_scenario_whose_rates_pass():
    run = loss_run()
    row = run.table.set_index("scenario").loc["up40"]
    # x * 1.4: approvals unchanged (0.14 0.28 0.42 stay under 0.5); loss 0.5 * (14 + 56 + 126) = 98 vs 70: +40%.
    assert row["expected_loss_change_pct"] == pytest.approx(40.0)
    assert row["result"] == "fail" and row["reasons"] == "expected loss +40.0% (limit +20%)"
    finding = next(f for f in run.findings if f.subject == "up40")
    assert finding.severity == "warning" and "breaks tolerance" in finding.message
    assert "expected loss +40.0% (limit +20%)" in finding.message
    # Without a loss tolerance the same scenario passes: only the rates are judged.
    assert loss_run(max_loss_increase_pct=None).table.set_index("scenario").at["up40", "result"] == "pass"
    assert loss_run(max_loss_increase_pct=50.0).table.set_index("scenario").at["up40", "result"] == "pass"


def test_a_loss_that_falls_because_fewer_loans_are_approved_is_explained():
    run = loss_run()
    row = run.table.set_index("scenario").loc["double"]
    # Loss 70 -> 50 (-28.6%) with approvals 3 -> 2; per approved loan 70/3 = 23.33 -> 50/2 = 25: +7.1%.
    assert row["notes"] == ("expected loss -28.6% because fewer loans are approved (50.0% -> 33.3%); "
                            "per approved loan it changes +7.1%")
    finding = next(f for f in run.findings if f.subject == "double")
    assert finding.message.endswith("per approved loan it changes +7.1%")
    assert run.table.set_index("scenario").at["tiny", "notes"] == ""  # loss rose: nothing to explain


def test_scenarios_are_shown_by_impact_with_expected_loss_beside_the_rates():
    shown = loss_run().display_table()
    # up40: +40% against +20% = 2.0 times its tolerance; double: 16.7 pp against 10 pp = 1.67; tiny passes.
    assert shown["scenario"].tolist() == ["up40", "double", "tiny"]
    assert shown["expected loss Δ"].tolist() == ["+40%", "-29%", "+1%"]
    columns = list(shown.columns)
    assert columns.index("expected loss Δ") == columns.index("decline Δ pp (95% CI)") + 1


def test_the_loss_tolerance_comes_from_the_parameter_the_spec_or_the_default():
    from mlreport.stress import DEFAULT_LOSS_INCREASE_PCT, run_tolerance

    assert DEFAULT_LOSS_INCREASE_PCT == 20.0
    assert run_tolerance(None).max_loss_increase_pct == 20.0
    assert run_tolerance(None, loss_tolerance_pct=35.0).max_loss_increase_pct == 35.0
    assert "expected loss rising more than 20%" in run_tolerance(None).describe()
    from mlreport.errors import ScenarioError
    from mlreport.stress.scenarios import parse_tolerance

    assert parse_tolerance({"max_loss_increase_pct": 10}, context="f.toml").max_loss_increase_pct == 10.0
    with pytest.raises(ScenarioError, match=r"f\.toml: max_loss_increase_pct must be a number >= 0"):
        parse_tolerance({"max_loss_increase_pct": -1}, context="f.toml")
