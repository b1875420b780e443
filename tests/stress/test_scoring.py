"""Tests of what a model cannot score: Model.try_score / try_decide, ScoringFailure, the baseline's input error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stress_models import APPROVE_HALF

from mlreport.errors import ModelError
from mlreport.stress import Model, ModelDecisions, Population, ScoringFailure
from mlreport.stress._scoring import rows_text

FRAME = pd.DataFrame({"x": np.linspace(0.0, 0.9, 10), "id": np.arange(10)})


def nan_where_missing(frame: pd.DataFrame) -> np.ndarray:
    """A model without a rule for missing values: NaN in, NaN out."""
    return frame["x"].to_numpy(dtype=float) * 0.5


def test_nan_scores_fail_row_by_row_and_the_other_rows_are_scored():
    frame = FRAME.assign(x=FRAME["x"].where(~FRAME["id"].isin([2, 7])))
    model = Model(nan_where_missing, name="acme:score", batch_size=4)
    scores, failure = model.try_score(frame, scenario="bureau down")
    assert isinstance(failure, ScoringFailure)
    assert np.flatnonzero(failure.rows).tolist() == [2, 7]
    assert (failure.count, failure.total, failure.model, failure.scenario) == (2, 10, "acme:score", "bureau down")
    assert failure.problems == ("returned NaN for 2 rows",)
    assert failure.positions() == "rows 2 and 7"
    expected = frame["x"].to_numpy() * 0.5
    np.testing.assert_array_equal(scores[~failure.rows], expected[~failure.rows])
    assert np.isnan(scores[failure.rows]).all()
    assert failure.describe() == (
        "model 'acme:score' cannot score scenario 'bureau down' for 2 of 10 rows (rows 2 and 7): "
        "returned NaN for 2 rows"
    )
    # score() keeps its contract: the first problem, as a ModelError naming model and scenario
    with pytest.raises(ModelError, match=r"returned 1 non-finite score\(s\) \(first: NaN at row 2\)") as info:
        model.score(frame, scenario="bureau down")
    assert info.value is not failure.error and str(info.value) == str(failure.error)


def test_a_batch_that_raises_fails_as_a_whole_and_scoring_goes_on():
    calls = []

    def fussy(frame: pd.DataFrame) -> np.ndarray:
        calls.append(list(frame.index))
        if (frame["id"] == 5).any():
            raise ValueError("row 5 is not allowed\nsecond line of detail")
        return frame["x"].to_numpy()

    model = Model(fussy, name="fussy", batch_size=4)
    scores, failure = model.try_score(FRAME, scenario="s")
    assert calls == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]  # the batch after the failure was scored too
    assert failure is not None and np.flatnonzero(failure.rows).tolist() == [4, 5, 6, 7]
    assert failure.problems == ("raised ValueError: row 5 is not allowed (whole batches failed: 4 rows)",)
    assert "rows 4-7" in str(failure.error) and isinstance(failure.error.__cause__, ValueError)
    np.testing.assert_array_equal(scores[[0, 1, 2, 3, 8, 9]], FRAME["x"].to_numpy()[[0, 1, 2, 3, 8, 9]])


def test_problems_of_every_kind_are_counted_once_each():
    def erratic(frame: pd.DataFrame) -> object:
        first = int(frame["id"].iloc[0])
        if first == 0:
            return np.array([np.nan, np.inf, -np.inf, 1.0])
        if first == 4:
            return np.ones(3)  # one score short
        return np.array(["high"] * len(frame))

    scores, failure = Model(erratic, name="erratic", batch_size=4).try_score(FRAME)
    assert failure is not None and failure.count == 9 and not failure.rows[3]
    assert failure.problems == (
        "returned 3 scores for 4 rows (whole batches failed: 4 rows)",
        "returned non-numeric scores (dtype <U4) (whole batches failed: 2 rows)",
        "returned NaN for 1 row",
        "returned infinite scores for 2 rows",
    )
    assert scores[3] == 1.0 and np.isnan(np.delete(scores, 3)).all()


def test_a_model_that_scores_every_row_has_no_failure():
    scores, failure = Model(nan_where_missing, name="m").try_score(FRAME)
    assert failure is None
    np.testing.assert_array_equal(scores, FRAME["x"].to_numpy() * 0.5)


def test_own_decisions_missing_or_unknown_fail_their_rows():
    class Decider:
        features = ("x",)

        def predict(self, frame: pd.DataFrame) -> np.ndarray:
            return frame["x"].fillna(0.0).to_numpy()

        def decide(self, frame: pd.DataFrame) -> np.ndarray:
            out = np.where(frame["x"] < 0.5, "approve", "decline").astype(object)
            out[frame["x"].isna().to_numpy()] = None
            out[(frame["x"] > 0.95).to_numpy()] = "error"  # a label the model never declared
            return out

    model = Model.from_object(Decider(), name="decider")
    population = Population(model, ModelDecisions(("approve", "decline")), FRAME)
    assert population.codes.tolist() == [0] * 5 + [1] * 5
    frame = FRAME.assign(x=FRAME["x"].where(FRAME["id"] != 1).mask(FRAME["id"] == 9, 1.0))
    evaluation = population.try_evaluate(frame, "shock")
    failure = evaluation.failure
    assert failure is not None and np.flatnonzero(failure.rows).tolist() == [1, 9]
    assert failure.problems == (
        "returned no decision for 1 row",
        "returned decisions that are none of approve, decline (such as 'error') for 1 row",
    )
    with pytest.raises(ModelError, match="returned missing decisions while scoring scenario 'shock'"):
        population.evaluate(frame, "shock")
    # the rows that were decided have the codes of their decisions
    assert evaluation.codes[[0, 2, 3, 4, 5, 6, 7, 8]].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_rows_text():
    assert rows_text(np.array([7])) == "row 7"
    assert rows_text(np.array([3, 17])) == "rows 3 and 17"
    assert rows_text(np.array([1, 2, 3, 4, 5])) == "rows 1, 2, 3, 4 and 5"
    assert rows_text(np.arange(1000, 1100)) == "rows 1,000, 1,001, 1,002, 1,003, 1,004 and 95 more"


def test_merged_failures_keep_rows_of_either_and_problems_once():
    error = ModelError("first")
    a = ScoringFailure("m", "s", np.array([True, False, False]), ("returned NaN for 1 row",), error)
    b = ScoringFailure("m", "s", np.array([False, False, True]), ("returned NaN for 1 row", "raised X: y"),
                       ModelError("second"))
    merged = a.merged(b)
    assert merged.rows.tolist() == [True, False, True] and merged.error is error
    assert merged.problems == ("returned NaN for 1 row", "raised X: y")
    assert a.merged(None) is a


def test_a_baseline_with_rows_the_model_cannot_score_is_an_input_error_naming_model_and_rows():
    frame = pd.DataFrame({"x": np.linspace(0, 1, 50), "z": np.linspace(5, 6, 50)})
    frame.loc[[4, 11, 30], "x"] = np.nan
    frame.loc[[11], "z"] = np.nan
    model = Model(lambda f: f["x"].to_numpy(dtype=float) + 0 * f["z"].fillna(0).to_numpy(), name="pkg.risk:score",
                  features=["x", "z"])
    with pytest.raises(ModelError) as info:
        Population(model, APPROVE_HALF, frame)
    message = str(info.value)
    assert info.value.model == "pkg.risk:score" and info.value.scenario == "baseline"
    missing = frame.loc[[4, 11, 30]].isna().sum()  # by hand: x in all three, z in one
    assert (int(missing["x"]), int(missing["z"])) == (3, 1)
    for fragment in (
        "model 'pkg.risk:score' cannot score the population as given (scenario 'baseline'",
        "returned NaN for 3 rows", "3 of 50 rows (rows 4, 11 and 30, 0-based positions",
        "those rows hold missing values in x (3 rows), z (1 row)", "drop or fill those rows",
    ):
        assert fragment in message, (fragment, message)


def test_a_baseline_the_model_raises_on_names_the_exception():
    def typed(frame: pd.DataFrame) -> np.ndarray:
        return frame["x"].to_numpy() + 1  # text + int raises TypeError

    frame = pd.DataFrame({"x": ["a", "b", "c"]})
    with pytest.raises(ModelError, match=r"scenario 'baseline'.*raised TypeError: .*whole batches failed: 3 rows.*"
                                         r"3 of 3 rows \(rows 0, 1 and 2"):
        Population(Model(typed, name="typed", features=["x"]), APPROVE_HALF, frame)
