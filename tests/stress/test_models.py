"""Tests of mlreport.stress: the adapter's checks, loading, trust, decision rules, default model."""

from __future__ import annotations

import hashlib
import sys
import textwrap

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlreport import sample
from mlreport.data import InputLog
from mlreport.errors import DataError, ModelError
from mlreport.stress import DecisionRule, Model, ModelDecisions, default_model, load_model, setup_model

FRAME = pd.DataFrame({"x": np.linspace(0, 1, 10), "y": np.arange(10.0)})


def test_batched_scores_equal_unbatched_and_respect_batch_size():
    calls = []

    def predict(frame):
        calls.append(len(frame))
        return frame["x"] * 2

    batched = Model(predict, name="double", batch_size=3).score(FRAME)
    assert calls == [3, 3, 3, 1]
    np.testing.assert_allclose(batched, FRAME["x"].to_numpy() * 2)
    assert Model(predict, name="double").score(FRAME).tolist() == batched.tolist()


def test_only_the_model_features_are_passed():
    seen = []
    Model(lambda f: (seen.append(list(f.columns)), np.zeros(len(f)))[1], name="m", features=["y"]).score(FRAME)
    assert seen == [["y"]]
    with pytest.raises(DataError, match="column 'z' required by model 'm'"):
        Model(lambda f: np.zeros(len(f)), name="m", features=["z"]).score(FRAME)


def bad_scores(kind):
    def predict(frame):
        n = len(frame)
        if kind == "raise":
            raise KeyError("income")
        if kind == "nan":
            out = np.ones(n)
            out[2] = np.nan
            return out
        if kind == "inf":
            out = np.ones(n)
            out[0] = np.inf
            return out
        if kind == "short":
            return np.ones(n - 1)
        if kind == "text":
            return np.array(["high"] * n)
        if kind == "two_columns":
            return np.ones((n, 2))
        if kind == "nullable":
            return pd.Series([0.1] * (n - 1) + [None], dtype="Float64")
        raise AssertionError(kind)

    return predict


@pytest.mark.parametrize(
    "kind, message",
    [
        ("raise", r"raised KeyError: 'income' while scoring scenario 'Recession' \(rows 0-9\)"),
        ("nan", r"returned 1 non-finite score\(s\) \(first: NaN at row 2\) while scoring scenario 'Recession'"),
        ("inf", r"first: infinite at row 0"),
        ("short", r"returned 9 scores for 10 rows"),
        ("text", r"returned non-numeric scores"),
        ("two_columns", r"returned 10x2 scores for 10 rows"),
        ("nullable", r"first: NaN at row 9"),
    ],
)
def test_misbehaving_models_name_model_and_scenario(kind, message):
    model = Model(bad_scores(kind), name="acme.risk:score")
    with pytest.raises(ModelError, match=message) as info:
        model.score(FRAME, scenario="Recession")
    assert "model 'acme.risk:score'" in str(info.value)
    assert info.value.model == "acme.risk:score" and info.value.scenario == "Recession"


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    source = textwrap.dedent(
        """
        import numpy as np

        def score(frame):
            return frame["x"].to_numpy() * 0.5

        class Scorer:
            features = ["x"]
            def predict(self, frame):
                return frame["x"].to_numpy() + 1

        scorer = Scorer()
        not_a_model = 42
        """
    )
    (tmp_path / "stress_user_model.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "stress_user_model"
    sys.modules.pop("stress_user_model", None)


def test_load_model_from_the_python_path(user_module):
    function = load_model(f"{user_module}:score")
    np.testing.assert_allclose(function.score(FRAME), FRAME["x"] * 0.5)
    scorer = load_model(f"{user_module}:scorer")
    assert scorer.features == ("x",)
    np.testing.assert_allclose(scorer.score(FRAME), FRAME["x"] + 1)
    with pytest.raises(ModelError, match="is a class"):
        load_model(f"{user_module}:Scorer")
    with pytest.raises(ModelError, match="neither callable nor has predict_proba"):
        load_model(f"{user_module}:not_a_model")
    with pytest.raises(ModelError, match="has no attribute 'missing'"):
        load_model(f"{user_module}:missing")


def test_load_model_bad_specs():
    with pytest.raises(ModelError, match=r"expected 'package\.module:function'"):
        load_model("just_a_name")
    with pytest.raises(ModelError, match="cannot import module 'no_such_module_xyz'"):
        load_model("no_such_module_xyz:score")
    with pytest.raises(ModelError, match="does not exist"):
        load_model("/nonexistent/model.joblib", trust=True)


def fitted_classifier():
    frame = pd.DataFrame({"a": np.linspace(-2, 2, 200), "b": np.tile([0.0, 1.0], 100)})
    target = (frame["a"] + 0.3 * frame["b"] > 0).astype(int)
    return LogisticRegression().fit(frame, target), frame


def test_pickle_needs_trust_and_then_loads(tmp_path):
    classifier, frame = fitted_classifier()
    path = tmp_path / "model.joblib"
    joblib.dump(classifier, path)
    with pytest.raises(ModelError, match=r"run code.*trust=True.*--param trust_model_file=true"):
        load_model(str(path))
    model = load_model(str(path), trust=True)
    assert model.features == ("a", "b")  # from feature_names_in_
    np.testing.assert_allclose(model.score(frame), classifier.predict_proba(frame)[:, 1])
    assert model.decision_labels == ("0", "1") and model.has_decisions


def test_a_model_file_is_recorded_by_the_bytes_loaded_and_a_module_by_its_source(tmp_path, user_module):
    """Issue 16: the model is an input of the run: its file's bytes (read once, then unpickled) or module source."""
    classifier, frame = fitted_classifier()
    path = tmp_path / "model.joblib"
    joblib.dump(classifier, path)
    log = InputLog()
    model = load_model(str(path), trust=True, log=log)
    content = path.read_bytes()
    assert log.to_list() == [{"name": "model", "path": str(path), "sha256": hashlib.sha256(content).hexdigest(),
                              "hash_of": "file", "bytes": len(content), "rows": None, "columns": None}]
    np.testing.assert_allclose(model.score(frame), classifier.predict_proba(frame)[:, 1])
    with pytest.raises(ModelError, match="refusing to load"):
        load_model(str(path), log=log)  # refused before it is read: nothing recorded
    assert len(log) == 1
    setup_model(f"{user_module}:score", thresholds={"approve": 0.3}, log=log)
    module = tmp_path / f"{user_module}.py"
    assert log[1].to_dict() == {"name": "model_module", "path": str(module),
                                "sha256": hashlib.sha256(module.read_bytes()).hexdigest(), "hash_of": "file",
                                "bytes": module.stat().st_size, "rows": None, "columns": None}
    setup_model("", log=log, seed=0)  # the built-in model is trained, not read: nothing recorded
    assert len(log) == 2


def test_skops_is_not_installed_and_says_so(tmp_path):
    path = tmp_path / "model.skops"
    path.write_bytes(b"not really")
    with pytest.raises(ModelError, match="skops is not installed"):
        load_model(str(path))


def test_decision_rule_cut_offs():
    rule = DecisionRule({"approve": 0.1, "refer": 0.2}, otherwise="decline")
    scores = np.array([0.05, 0.1, 0.15, 0.2, 0.3])
    # below 0.1 approve; [0.1, 0.2) refer; 0.2 and above decline
    assert rule.codes(scores).tolist() == [0, 1, 1, 2, 2]
    assert rule.decide(scores).tolist() == ["approve", "refer", "refer", "decline", "decline"]
    assert rule.labels == ("approve", "refer", "decline")
    good_high = DecisionRule({"approve": 0.8, "refer": 0.5}, otherwise="decline", higher_is_riskier=False)
    assert good_high.codes(np.array([0.9, 0.8, 0.6, 0.5, 0.1])).tolist() == [0, 0, 1, 1, 2]
    with pytest.raises(ModelError, match="strictly increasing"):
        DecisionRule({"approve": 0.3, "refer": 0.2})
    with pytest.raises(ModelError, match="finite number"):
        DecisionRule({"approve": float("nan")})


def test_decision_rule_from_mix_reproduces_the_mix():
    scores = np.random.default_rng(1).uniform(size=100_000)
    rule = DecisionRule.from_mix(scores, {"approve": 0.6, "refer": 0.15}, otherwise="decline")
    shares = np.bincount(rule.codes(scores)) / len(scores)
    np.testing.assert_allclose(shares, [0.6, 0.15, 0.25], atol=1e-3)


def test_model_decisions_reject_unknown_labels():
    rule = ModelDecisions(("approve", "decline"))
    assert rule.codes_of(np.array(["decline", "approve"], dtype=object), model="m", scenario="s").tolist() == [1, 0]
    with pytest.raises(ModelError, match="returned decision 'maybe' while scoring scenario 's'"):
        rule.codes_of(np.array(["maybe"], dtype=object), model="m", scenario="s")


def test_setup_model_needs_a_decision_source(user_module):
    with pytest.raises(ModelError, match="returns scores only; give decision thresholds"):
        setup_model(f"{user_module}:score")
    setup = setup_model(f"{user_module}:score", thresholds={"approve": 0.2}, otherwise="decline")
    assert setup.rule.labels == ("approve", "decline") and not setup.builtin


def test_default_model_is_deterministic_and_matches_the_sample_mix():
    default_model.cache_clear()
    first = default_model(3, rows=4_000)
    assert default_model(3, rows=4_000) is first  # cached in-process
    default_model.cache_clear()
    second = default_model(3, rows=4_000)
    frame = sample.generate(2_000, seed=99)
    np.testing.assert_array_equal(first.model.score(frame), second.model.score(frame))
    assert first.rule == second.rule
    scores = first.model.score(frame)
    assert ((scores > 0) & (scores < 1)).all()
    assert set(first.features) <= set(frame.columns) and first.target in frame.columns
    # Cut-offs reproduce the sample's decision mix on the training data.
    training = sample.generate(4_000, seed=3)
    mix = np.bincount(first.rule.codes(first.model.score(training)), minlength=3) / len(training)
    expected = training["decision"].value_counts(normalize=True)
    np.testing.assert_allclose(mix, [expected["approve"], expected["refer"], expected["decline"]], atol=0.01)
