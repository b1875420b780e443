"""Model spec loading, validation and inference."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mlreport.data import InputLog
from mlreport.errors import DataError, SpecError
from mlreport.sample import DEFAULT_SPEC, generate
from mlreport.spec import ModelSpec, infer_spec, load_spec, resolve_spec


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
    import pandas as pd

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
    """A band tightened in the spec turns a move that is healthy by default into an incident."""
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
        return {f.severity for f in findings if f.subject == "income" and f.check != "integrity"}

    assert "incident" not in income(default)
    assert "incident" in income(tightened)
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
