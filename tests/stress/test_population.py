"""Tests of mlreport.stress.Population: the baseline, its checks, seeded samples, the reference, setups."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from stress_models import APPROVE_HALF, logistic_model, uniform_population

from mlreport.errors import DataError, ParameterError
from mlreport.spec import ModelSpec
from mlreport.stress import LossModel, Model, ModelDecisions, Population, default_segments
from mlreport.stress.scenarios import Tolerance, scenario_rng

# ---------------------------------------------------------------- the baseline


def test_baseline_scores_decisions_and_rates_by_hand():
    population = Population(logistic_model(), APPROVE_HALF, uniform_population(11))
    # x = 0, 0.1, ..., 1: score < 0.5 exactly when x < 0.5, five rows of eleven.
    assert population.codes.tolist() == [0] * 5 + [1] * 6
    assert population.base_rates.tolist() == pytest.approx([5 / 11, 6 / 11])
    assert population.scores[5] == pytest.approx(0.5)
    assert population.decision_labels == ("approve", "decline")
    assert population.features == ("x", "z")  # the model's own list


def test_model_own_decisions():
    def decide(frame):
        return np.where(frame["x"] < 0.3, "approve", "decline")

    model = Model(lambda f: f["x"].to_numpy(), name="own", features=["x"], decide=decide)
    population = Population(model, ModelDecisions(("approve", "decline")), uniform_population(1_000))
    assert population.base_rates[0] == pytest.approx(0.3, abs=1e-3)


def test_features_default_to_every_column_but_the_label():
    model = Model(lambda f: f["x"].to_numpy(), name="all columns")
    frame = uniform_population(10).assign(y=0)
    assert Population(model, APPROVE_HALF, frame, label="y").features == ("x", "z")


def test_the_frame_is_reindexed_and_the_caller_keeps_its_own():
    frame = uniform_population(10).set_axis(range(100, 110))
    population = Population(logistic_model(), APPROVE_HALF, frame)
    assert list(population.frame.index) == list(range(10)) and list(frame.index) == list(range(100, 110))


@pytest.mark.parametrize("frame, options, message", [
    (uniform_population(0), {}, "no rows"),
    (uniform_population(10), {"features": ["x", "income"]}, "column 'income' is not in the population"),
    (uniform_population(10), {"segments": ["channel"]}, "column 'channel' is not in the population"),
    (uniform_population(10), {"loss": LossModel("ead")}, "loss model column 'ead'"),
])
def test_refuses_what_it_cannot_score(frame, options, message):
    with pytest.raises(DataError, match=message):
        Population(logistic_model(), APPROVE_HALF, frame, **options)


def test_a_label_loss_needs_a_label_column():
    frame = uniform_population(10).assign(ead=1.0)
    with pytest.raises(ParameterError, match="needs a label column"):
        Population(logistic_model(), APPROVE_HALF, frame, loss=LossModel("ead", pd="label"))


def test_label_column_must_be_binary():
    frame = uniform_population(10).assign(y=[0, 1, 2] + [0] * 7)
    with pytest.raises(DataError, match="label column 'y' must hold 0/1"):
        Population(logistic_model(), APPROVE_HALF, frame, label="y")


def test_label_values_keep_missing_labels_as_nan():
    frame = uniform_population(4).assign(y=pd.array([0, 1, None, 1], dtype="Int64"))
    values = Population(logistic_model(), APPROVE_HALF, frame, label="y").label_values
    assert values is not None and values[[0, 1, 3]].tolist() == [0.0, 1.0, 1.0] and np.isnan(values[2])


def test_infinities_are_counted_per_feature():
    frame = uniform_population(100)
    frame.loc[:4, "z"] = np.inf
    frame.loc[5, "z"] = -np.inf
    assert Population(logistic_model(), APPROVE_HALF, frame).nonfinite == {"z": (5, 1)}


# ---------------------------------------------------------------- sampling and the reference


def test_subsample_is_seeded_and_keeps_the_settings():
    population = Population(logistic_model(), APPROVE_HALF, uniform_population(1_001), seed=3,
                            tolerance=Tolerance(2.0), segments=())
    first, again = population.subsample(100), population.subsample(100)
    pd.testing.assert_frame_equal(first.frame, again.frame)
    assert len(first.frame) == 100 and first.seed == 3 and first.tolerance == Tolerance(2.0)
    assert not first.frame.equals(population.subsample(100, seed=4).frame)
    # The reference stays the full population's, so shocks mean the same on the sample.
    assert first.reference_frame is population.reference_frame
    np.testing.assert_array_equal(first.reference["x"].quantiles, population.reference["x"].quantiles)
    assert population.subsample(5_000) is population


def test_rng_is_the_scenario_generator_of_the_seed_and_key():
    population = Population(logistic_model(), APPROVE_HALF, uniform_population(11), seed=9)
    assert population.rng("k").random() == scenario_rng(9, "k").random() == population.rng("k").random()
    assert population.rng("a").random() != population.rng("b").random()


def test_reference_for_fits_a_column_once_from_the_reference_then_the_population():
    frame = uniform_population(101).assign(w=np.linspace(0.0, 10.0, 101))
    reference = pd.DataFrame({"x": np.linspace(0.0, 2.0, 11), "z": np.linspace(5.0, 6.0, 11),
                              "v": np.linspace(-1.0, 1.0, 11)})
    population = Population(logistic_model(), APPROVE_HALF, frame.assign(v=0.0), reference=reference)
    assert population.reference["x"].mean == pytest.approx(1.0)  # fitted on the separate reference
    extended = population.reference_for(["v", "w"])
    assert extended is population.reference
    assert extended["v"].mean == pytest.approx(0.0) and extended["v"].std > 0  # from the reference frame
    assert extended["w"].mean == pytest.approx(5.0)  # not in the reference: from the population
    assert population.reference_for(["v"]) is extended  # nothing new to fit


def test_overview_lists_the_baseline():
    frame = uniform_population(1_001).assign(y=lambda f: (f["x"] > 0.7).astype(int), ead=100.0)
    overview = Population(logistic_model(), APPROVE_HALF, frame, label="y", loss=LossModel("ead")) \
        .overview().set_index("item")["value"]
    assert overview["rows"] == "1,001" and overview["features"] == "2: x, z"
    assert overview["approve rate"] == "50.0%" and overview["labelled rows"] == "1,001"
    assert overview["AUC (labelled rows)"] == "1.000" and overview["segments"] == "none"
    assert overview["expected loss"].startswith("expected loss = sum over accepted rows")


# ---------------------------------------------------------------- from a setup and a spec


def _spec(**values):
    return ModelSpec.from_dict(values, source="card.toml")


def _setup(**overrides):
    values = {"model": logistic_model(), "rule": APPROVE_HALF, "target": "", "exposure": "", "features": ("x", "z"),
              "monotone": {"x": "decreasing"}}
    return SimpleNamespace(**{**values, **overrides})


def test_from_setup_takes_features_target_segments_and_tolerance_from_the_spec():
    frame = uniform_population(2_001).assign(
        bad=lambda f: (f["x"] > 0.7).astype(int), region=lambda f: np.where(f["z"] > 5.5, "north", "south"),
        channel="web",
    )
    spec = _spec(features=["x", "z"], target="bad", segments=["region"],
                 thresholds={"stress": {"max_rate_change_pp": 2.5}})
    population = Population.from_setup(_setup(features=()), frame, spec=spec)
    assert population.features == ("x", "z") and population.label == "bad" and population.segments == ("region",)
    assert population.tolerance.limit_pp("approve") == 2.5
    given = Population.from_setup(_setup(), frame, features=["x"], label="", segments=["channel"],
                                  tolerance_pp=4.0, spec=spec)
    assert given.features == ("x",) and given.segments == ("channel",) and given.tolerance.limit_pp("approve") == 4.0


def test_from_setup_takes_the_setup_target_and_exposure_when_present_and_default_segments():
    frame = uniform_population(501).assign(bad=lambda f: (f["x"] > 0.7).astype(int), ead=10.0,
                                           region=["north", "south"] * 250 + ["north"])
    population = Population.from_setup(_setup(target="bad", exposure="ead"), frame, lgd=0.6)
    assert population.label == "bad" and population.loss == LossModel("ead", lgd=0.6)
    assert population.segments == ("region",) and population.tolerance == Tolerance(5.0)
    absent = Population.from_setup(_setup(target="default_flag", exposure="loan"), frame)
    assert absent.label is None and absent.loss is None


def test_from_setup_names_a_spec_column_the_population_lacks():
    spec = _spec(features=["x", "income"], target="bad")
    with pytest.raises(DataError, match=r"\['income'\] named as features by the model spec \(card.toml\)"):
        Population.from_setup(_setup(), uniform_population(101).assign(bad=0), spec=spec)


# ---------------------------------------------------------------- default segments


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
