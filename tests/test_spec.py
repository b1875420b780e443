"""Model spec loading, validation and inference."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plain_frames import loan_book

from mlreport.data import InputLog
from mlreport.errors import DataError, SpecError
from mlreport.sample import DEFAULT_SPEC, generate
from mlreport.spec import (
    PREDICTION_AGREEMENT,
    WINDOW_LABEL_MIN_ROWS,
    ModelSpec,
    infer_spec,
    load_spec,
    model_name_from_path,
    resolve_spec,
    threshold_agreement,
    window_label,
)


def test_load_valid_spec(tmp_path: Path):
    path = tmp_path / "m.toml"
    path.write_text(
        'model = "m"\ntimestamp = "ts"\nsegments = ["channel"]\n[monotone]\nx = "increasing"\n'
        '[thresholds]\nversion = "v2"\n'
    )
    spec = load_spec(path)
    assert spec.model == "m" and spec.segments == ["channel"] and spec.thresholds_version == "v2"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("modle = 'm'", "unknown key(s) ['modle']"),
        ("segments = 'channel'", "list of column names"),
        ("[monotone]\nx = 'up'", "monotone.x"),
        ("label_delay_days = -1", "label_delay_days"),
        ("model = ", "not valid TOML"),
    ],
)
def test_invalid_spec_errors_name_the_key(tmp_path: Path, text, fragment):
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert fragment in str(info.value) and str(path) in str(info.value)


def test_infer_roles_on_sample_matches_default_spec():
    frame = generate(2000, seed=1)
    spec = infer_spec(frame)
    assert spec.timestamp == DEFAULT_SPEC["timestamp"] and spec.id == DEFAULT_SPEC["id"]
    assert spec.score == "score" and spec.decision == "decision" and spec.target == "default_flag"
    assert set(spec.segments) == set(DEFAULT_SPEC["segments"])
    assert set(spec.features) == set(DEFAULT_SPEC["features"])


def test_infer_roles_on_other_names():
    frame = pd.DataFrame({
        "event_time": pd.date_range("2026-01-01", periods=4, freq="h"), "txn_id": ["a", "b", "c", "d"],
        "fraud_score": [0.1, 0.2, 0.9, 0.4], "action": ["allow", "block", "allow", "review"], "is_fraud": [0, 1, 0, 0],
        "amount": [1.0, 2.0, 3.0, 4.0], "merchant_category": ["a", "b", "a", "b"],
    })
    spec = infer_spec(frame)
    roles = (spec.timestamp, spec.id, spec.score, spec.decision, spec.target)
    assert roles == ("event_time", "txn_id", "fraud_score", "action", "is_fraud")
    assert spec.segments == ["merchant_category"] and spec.features == ["amount"]


def test_resolve_spec_checks_columns(tmp_path: Path):
    path = tmp_path / "m.toml"
    path.write_text('timestamp = "when"\n')
    with pytest.raises(DataError, match="'when'"):
        resolve_spec(str(path), generate(100, seed=1))
    spec = ModelSpec.from_dict(DEFAULT_SPEC, source="sample")
    assert spec.monotone["debt_to_income"] == "increasing"


def test_thresholds_for_merges_the_parameter_over_the_spec_table_key_by_key():
    spec = ModelSpec.from_dict({"thresholds": {"version": "v3", "drift": {
        "alpha": 0.01, "columns": {"income": {"psi": [0.05, 0.1]}, "age": {"ks": [0.1, 0.2]}}}}}, source="m.toml")
    merged = spec.thresholds_for("drift", {"columns": {"income": {"ks": [0.2, 0.3]}}, "correction": "bonferroni"})
    assert merged == {
        "alpha": 0.01, "correction": "bonferroni",
        "columns": {"income": {"psi": [0.05, 0.1], "ks": [0.2, 0.3]}, "age": {"ks": [0.1, 0.2]}},
    }
    assert spec.thresholds_for("drift", {"alpha": 0.05})["alpha"] == 0.05  # the parameter wins
    assert spec.thresholds_for("integrity") == {}
    assert ModelSpec().thresholds_for("drift", {"alpha": 0.1}) == {"alpha": 0.1}
    assert spec.thresholds["drift"]["columns"]["income"] == {"psi": [0.05, 0.1]}  # the spec is not modified
    with pytest.raises(SpecError, match=r"m.toml: \[thresholds.stress\] must be a table"):
        ModelSpec.from_dict({"thresholds": {"stress": 5}}, source="m.toml").thresholds_for("stress")


@pytest.mark.e2e
def test_the_drift_report_applies_the_spec_drift_bands_and_records_their_version(tmp_path: Path):
    """A band tightened in the spec is the one the report applies: it decides the incident; its version is kept."""
    from inprocess import run_notebook

    frame = generate(6000, seed=3, weeks=8, incidents=["income_shift"])
    frame.to_parquet(tmp_path / "log.parquet", index=False)
    base = {"reference_path": str(tmp_path / "log.parquet"), "current_start": "2026-02-02"}
    default, _ = run_notebook("drift", base)
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(
        'model = "card"\ntimestamp = "timestamp"\nscore = "score"\ndecision = "decision"\n'
        '[thresholds]\nversion = "2026-11"\n'
        '[thresholds.drift.columns.income]\npsi = [0.0001, 0.0002]\nks = [0.0001, 0.0002]\n'
    )
    tightened, _ = run_notebook("drift", {**base, "spec_path": str(spec_file)})

    def income(namespace):
        findings = namespace["result"].summary.findings
        return [f for f in findings if f.subject == "income" and f.check != "integrity"]

    # Since issue 13 the income shift is an incident by default too (drift over time, PSI above 0.2 in its worst
    # week), so the spec's band shows by deciding the verdict: its incident level is the threshold that was crossed.
    assert all(f.threshold != 0.0002 for f in income(default))
    assert any(f.severity == "incident" and f.threshold == 0.0002 for f in income(tightened))
    assert tightened["result"].summary.thresholds["version"] == "2026-11"
    assert tightened["result"].summary.thresholds["drift"]["columns"]["income"]["psi"] == [0.0001, 0.0002]


def test_load_spec_records_the_bytes_it_parsed(tmp_path: Path):
    """Issue 16: the spec that set a run's roles and thresholds is an input, hashed as read (once)."""
    path = tmp_path / "m.toml"
    content = b'model = "m"\r\nscore = "s"\r\n[thresholds]\r\nversion = "v3"\r\n'
    path.write_bytes(content)
    log = InputLog()
    spec = load_spec(path, log=log)
    assert spec.score == "s" and spec.thresholds_version == "v3"
    assert log.to_list() == [{"name": "spec", "path": str(path), "sha256": hashlib.sha256(content).hexdigest(),
                              "hash_of": "file", "bytes": len(content), "rows": None, "columns": None}]
    frame = generate(200, seed=1)
    path.write_bytes(b'model = "m"\n')
    resolved = resolve_spec(str(path), frame, log=log)
    assert resolved.model == "m" and log[1].sha256 == hashlib.sha256(b'model = "m"\n').hexdigest()
    assert len(log) == 2 and len(InputLog()) == 0
    resolve_spec("", frame, log=log)  # inferred: nothing read, nothing recorded
    assert len(log) == 2
    path.write_bytes(b'model = "\xff"\n')
    with pytest.raises(SpecError, match="cannot read model spec"):
        load_spec(path)
# -- roles from content, not names alone ------------------------------------------------------------------------------


def _brute_agreement(binary, score) -> float:
    """Every threshold tried one by one, both directions: the slow reference for threshold_agreement."""
    import numpy as np

    b, s = np.asarray(binary, dtype=float), np.asarray(score, dtype=float)
    cuts = np.concatenate([[-np.inf], np.unique(s)])
    best = 0.0
    for cut in cuts:
        above = s > cut
        best = max(best, float(np.mean(above == (b == 1))), float(np.mean(above == (b == 0))))
    return best


def test_threshold_agreement_equals_trying_every_threshold():
    import numpy as np

    rng = np.random.default_rng(5)
    score = np.round(rng.uniform(size=400), 2)  # ties: only cuts between distinct values count
    for binary in ((score > 0.4).astype(int), (score < 0.7).astype(int), rng.integers(0, 2, 400),
                   ((score > 0.5) ^ (rng.uniform(size=400) < 0.05)).astype(int)):
        expected = _brute_agreement(binary, score)
        assert threshold_agreement(pd.Series(binary), pd.Series(score)) == pytest.approx(expected)
    assert threshold_agreement(pd.Series([0, 0, 1, 1]), pd.Series([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert threshold_agreement(pd.Series([1, 0, 1, 0]), pd.Series([0.1, 0.2, 0.3, 0.4])) == 0.75
    # rows with a null on either side are left out: none left, no agreement
    assert math.isnan(threshold_agreement(pd.Series([1.0, None]), pd.Series([None, 0.3])))


def test_the_models_prediction_is_the_decision_and_never_the_target():
    book = loan_book(4000, seed=11, lists=False)
    spec = infer_spec(book)
    assert (spec.score, spec.decision, spec.target) == ("risk_score", "y_pred", "y")
    assert "y_pred" not in spec.features and "y" not in spec.features
    # only the prediction: it is still not the target (an AUC of 1.000 against itself would mean nothing)
    alone = infer_spec(book.drop(columns=["y"]))
    assert alone.target == "" and alone.decision == "y_pred"
    # a decision named like one keeps its role; the prediction is then neither decision nor target
    named = infer_spec(book.assign(action=np.where(book["y_pred"] == 1, "decline", "approve")))
    assert named.decision == "action" and named.target == "y" and "y_pred" in named.features
    # without a column named like a score, a probability-like column still reveals the prediction
    renamed = infer_spec(book.rename(columns={"risk_score": "p_hat", "y_pred": "flag_y"}))
    assert renamed.target == "y" and renamed.decision == "flag_y"
    # 98% agreement is not enough: a strong target is not mistaken for a prediction
    noisy = book.copy()
    flip = np.random.default_rng(1).uniform(size=len(book)) < 0.02
    noisy["y_pred"] = np.where(flip, 1 - noisy["y_pred"], noisy["y_pred"])
    assert threshold_agreement(noisy["y_pred"], noisy["risk_score"]) < PREDICTION_AGREEMENT
    assert infer_spec(noisy.drop(columns=["y"])).target == "y_pred"


def test_window_labels_are_found_by_content():
    reference, current = loan_book(500, seed=1, lists=False), loan_book(400, seed=2, year=2021, lists=False)
    spec = infer_spec(reference, current=current)
    assert spec.window_labels == ["year"] and "year" not in spec.features
    assert infer_spec(reference, current=reference).window_labels == []  # the same constant: not a label
    assert infer_spec(reference).window_labels == []  # one window: nothing to compare
    # content alone: any column constant in each window with a different value in each
    batch = reference.assign(batch_code="A"), current.assign(batch_code="B")
    assert set(infer_spec(*batch[:1], current=batch[1]).window_labels) == {"year", "batch_code"}
    # a calendar name with a few values per window, none shared: a label; shared values: a feature
    months_ref = reference.assign(month=np.resize([1, 2, 3], len(reference)))
    months_cur = current.assign(month=np.resize([4, 5], len(current)))
    assert "month" in infer_spec(months_ref, current=months_cur).window_labels
    overlapping = current.assign(month=np.resize([3, 4], len(current)))
    assert "month" in infer_spec(months_ref, current=overlapping).features
    # the same disjoint values under another name are no label: names help but never decide alone
    codes = months_ref.rename(columns={"month": "grade"}), months_cur.rename(columns={"month": "grade"})
    assert "grade" in infer_spec(codes[0], current=codes[1]).features


def test_a_window_label_needs_rows_in_both_windows():
    tiny = loan_book(WINDOW_LABEL_MIN_ROWS - 1, seed=3, lists=False)
    assert not window_label(tiny["year"], loan_book(100, seed=4, year=2021)["year"], name="year")
    assert window_label(loan_book(WINDOW_LABEL_MIN_ROWS, seed=3)["year"], loan_book(100, seed=4, year=2021)["year"])


def test_a_lone_date_time_column_is_the_timestamp_whatever_its_name():
    book = loan_book(200, seed=5, start="2026-01-01", lists=False)
    assert infer_spec(book).timestamp == "opened_on" and "opened_on" not in infer_spec(book).features
    two = book.assign(closed_on=book["opened_on"] + pd.Timedelta(days=30))
    assert infer_spec(two).timestamp == ""  # two of them: which one cuts the periods is for a spec to say


def test_exclude_and_window_labels_are_spec_keys(tmp_path: Path):
    path = tmp_path / "m.toml"
    path.write_text('timestamp = "ts"\nexclude = ["note", "not_in_data"]\nwindow_labels = ["year"]\n')
    spec = load_spec(path)
    assert spec.exclude == ["note", "not_in_data"] and spec.window_labels == ["year"]
    frame = pd.DataFrame({"ts": pd.date_range("2026-01-01", periods=3), "note": list("abc"), "x": [1.0, 2, 3],
                          "year": [2020] * 3})
    resolved = resolve_spec(str(path), frame)  # an excluded column the data lacks is not an error
    assert resolved.features == ["x"] and "exclude" in resolved.roles_table().index
    path.write_text('score = "s"\nexclude = ["s"]\n')
    with pytest.raises(SpecError, match="'s' is both the score and in exclude") as info:
        load_spec(path)
    assert info.value.key == "exclude"
    path.write_text('exclude = "note"\n')
    with pytest.raises(SpecError, match="exclude must be a list of column names"):
        load_spec(path)


def test_a_loaded_spec_without_features_leaves_the_window_labels_out(tmp_path: Path):
    path = tmp_path / "m.toml"
    path.write_text('score = "risk_score"\ntarget = "y"\n')
    reference, current = loan_book(300, seed=1, lists=False), loan_book(300, seed=2, year=2021, lists=False)
    spec = resolve_spec(str(path), reference, current=current)
    assert spec.window_labels == ["year"] and "year" not in spec.features and "applicant_income" in spec.features
    path.write_text('score = "risk_score"\nfeatures = ["year", "applicant_income"]\n')
    assert resolve_spec(str(path), reference, current=current).features == ["year", "applicant_income"]  # as named


@pytest.mark.parametrize(("path", "name"), [
    ("data/loans-2026-03.parquet", "loans-2026-03"), ("data/card/*.parquet", "card"), ("data/card/", "card"),
    ("x.csv.gz", "x"), ("*.parquet", ""), ("s3://bucket/book/part.v2.parquet", "part.v2"),
    ("data/2026-03/day=*/part-*.parquet", "2026-03"),
])
def test_a_model_name_from_a_data_path(path: str, name: str):
    assert model_name_from_path(path) == name


@pytest.mark.parametrize("values", [
    list(range(20_000)),                                   # every value distinct
    [1.5] * 30_000 + [2.5, 3.5] + list(range(100)),        # the later values only far down
    ["a", None, "b", "a"] * 3 + [f"x{i}" for i in range(50)] * 400,
    [7] * 100,                                             # fewer distinct values than asked for
    [],
])
def test_the_first_distinct_values_of_a_column_are_those_of_unique(values):
    from mlreport.spec import _first_distinct

    series = pd.Series(values, dtype=object if any(isinstance(v, str) for v in values) else None).dropna()
    for count in (1, 13, 200):
        assert _first_distinct(series, count).tolist() == series.unique()[:count].tolist()
