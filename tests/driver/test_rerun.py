"""Reruns: input re-hashing, refusal, finding comparison, equivalence on a fixture and on drift."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import nbformat
import pytest
from cli_runs import run_cli

from mlreport.driver import check_inputs, compare_runs
from mlreport.driver._rerun import _regenerated_problems
from mlreport.record import RunRecord, open_registry

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
READER = """\
from mlreport import data
from mlreport.findings import Finding, summarize, publish
inputs = data.InputLog()
frame = data.load_table(path, name="current", log=inputs)
mean = float(frame["x"].mean()) * SCALE
findings = [Finding("mean", "x", "incident" if mean > threshold else "ok", f"mean of x is {mean:.3f}",
                    value=mean, threshold=threshold, method="arithmetic mean", section="Checks")]
publish(summarize("reader", findings, model=model, inputs=inputs.to_list(), metrics={"mean": {"x": mean}}))"""


def write_reader(folder: Path, scale: float = 1.0) -> None:
    """A notebook that reads a CSV (recorded with its sha256) and checks a column's mean."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.cells.append(nbformat.v4.new_markdown_cell("# Reader\n\nReads a file."))
    params = nbformat.v4.new_code_cell(
        'path = ""  # CSV file\nthreshold = 1.0  # a mean above is an incident\nmodel = "reader-model"  # model name'
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells.append(params)
    nb.cells.append(nbformat.v4.new_markdown_cell("## Checks"))
    nb.cells.append(nbformat.v4.new_code_cell(READER.replace("SCALE", repr(scale))))
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "reader.ipynb")


def rec(status: str, findings: list[dict], metrics: dict | None = None, **kwargs) -> RunRecord:
    return RunRecord(run_id=kwargs.pop("run_id", "r"), model="m", analysis="a", status=status, exit_code=0,
                     run_dir="", report_path="", findings=findings, metrics=metrics or {}, **kwargs)


def finding(subject: str, severity: str, value: float | None = 0.3, check: str = "psi") -> dict:
    return {
        "check": check, "subject": subject, "severity": severity, "value": value, "section": "Drift", "period": None,
    }


def test_same_verdicts_are_equivalent_and_tiny_noise_is_not_a_difference():
    a = rec("incident", [finding("income", "incident"), finding("age", "ok", 0.01)], {"psi": {"income": 0.3}})
    b = rec(
        "incident", [finding("income", "incident", 0.3 + 1e-15), finding("age", "ok", 0.01)], {"psi": {"income": 0.3}}
    )
    result = compare_runs(a, b)
    assert result.equivalent and result.verdicts == [] and result.metrics == [] and result.findings_compared == 2


def test_verdict_and_metric_differences_are_listed():
    a = rec("incident", [finding("income", "incident", 0.31), finding("age", "warning", 0.12)],
            {"psi": {"income": 0.31, "age": 0.12}, "rows": 100})
    b = rec("warning", [finding("income", "warning", 0.2), finding("bureau", "ok", 0.0)],
            {"psi": {"income": 0.2, "age": 0.12}})
    result = compare_runs(a, b)
    assert not result.equivalent
    assert [(d.kind, d.what, d.original, d.rerun) for d in result.verdicts] == [
        ("status", "run status", "incident", "warning"),
        ("severity", "psi / age [Drift]", "warning", "absent (ok)"),
        ("severity", "psi / income [Drift]", "incident", "warning"),
    ]
    assert [(d.what, d.original, d.rerun) for d in result.metrics] == [
        ("finding psi / income [Drift] value", 0.31, 0.2),
        ("metric psi[income]", 0.31, 0.2),
        ("metric rows", 100.0, None),
    ]
    assert any("bureau" in note and "only the rerun" in note for note in result.notes)  # ok either way: no verdict
    assert "0.31 -> 0.2 (difference -0.11)" in result.metrics[0].format()


def test_how_long_the_run_took_is_not_a_difference():
    """A backend's timings are measurements of the machine: two equal runs never take the same seconds."""
    a = rec("ok", [], {"backend": {"backend": "pandas", "seconds": 0.029}, "psi": {"income": 0.01}})
    b = rec("ok", [], {"backend": {"backend": "pandas", "seconds": 0.031}, "psi": {"income": 0.01}})
    assert compare_runs(a, b).metrics == []
    c = rec("ok", [], {"backend": {"backend": "pandas", "seconds": 0.031}, "psi": {"income": 0.02}})
    assert [d.what for d in compare_runs(a, c).metrics] == ["metric psi[income]"]


def test_repeated_findings_are_paired_in_order():
    a = rec("warning", [finding("x", "warning", 1.0), finding("x", "ok", 2.0)])
    b = rec("warning", [finding("x", "warning", 1.0), finding("x", "incident", 2.0)])
    (difference,) = compare_runs(a, b).verdicts  # both runs say warning: only the finding differs
    assert difference.what == "psi / x [Drift] #2" and (difference.original, difference.rerun) == ("ok", "incident")


def test_check_inputs_rehashes_files_and_text_and_skips_regenerated(tmp_path: Path):
    data = tmp_path / "d.csv"
    data.write_bytes(b"x\r\n1\r\n")
    text = tmp_path / "s.toml"
    text.write_bytes(b"a = 1\r\n")
    text_hash = hashlib.sha256(b"a = 1\n").hexdigest()  # the UTF-8 text, newlines as read
    record = rec("ok", [], cwd=str(tmp_path), inputs=[
        {"name": "current", "path": "d.csv", "sha256": hashlib.sha256(b"x\r\n1\r\n").hexdigest(), "hash_of": "file"},
        {"name": "scenarios", "path": str(text), "sha256": text_hash, "hash_of": "text"},
        {"name": "gone", "path": "gone.parquet", "sha256": "a" * 64},
        {"name": "sample", "path": "built-in sample (rows=10)", "sha256": "b" * 64, "hash_of": "content"},
        {"name": "scenarios", "path": "mlreport/default_scenarios.toml (built-in)", "sha256": "c" * 64,
         "hash_of": "text"},
    ])
    checks = check_inputs(record)
    assert [(c.name, c.ok) for c in checks] == [("current", True), ("scenarios", True), ("gone", False)]
    assert checks[2].current is None and "missing" in checks[2].problem()
    assert str(tmp_path / "gone.parquet") in checks[2].problem()
    data.write_bytes(b"x\r\n2\r\n")
    changed = check_inputs(record)[0]
    assert not changed.ok and changed.current == hashlib.sha256(b"x\r\n2\r\n").hexdigest()
    assert changed.recorded in changed.problem() and changed.current in changed.problem()


def test_regenerated_inputs_must_match():
    sample = {"name": "sample", "path": "built-in sample", "sha256": "b" * 64, "hash_of": "content"}
    original = rec("ok", [], inputs=[sample])
    assert _regenerated_problems(original, rec("ok", [], inputs=[sample])) == []
    (problem,) = _regenerated_problems(original, rec("ok", [], inputs=[{**sample, "sha256": "d" * 64}]))
    assert "b" * 64 in problem and "d" * 64 in problem and "'sample'" in problem


@pytest.mark.e2e
def test_rerun_of_a_file_reading_fixture(tmp_path: Path):
    notebooks = tmp_path / "notebooks"
    write_reader(notebooks)
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.csv").write_text("x\n0.2\n0.4\n")
    env = {"MLREPORT_NOTEBOOKS": str(notebooks)}
    out = tmp_path / "out"
    first = run_cli("run", "reader", "-p", "path=data.csv", "--out", str(out), "--json", env=env, cwd=work)
    assert first.returncode == 0, first.stderr
    original = json.loads(first.stdout)["run_id"]

    # Rerun from another folder: the recorded working folder resolves data.csv.
    again = run_cli("rerun", original, "--out", str(out), "--json", env=env, cwd=tmp_path)
    result = json.loads(again.stdout)
    assert again.returncode == 0 and result["equivalent"] is True, again.stdout + again.stderr
    assert result["verdict_differences"] == [] and result["metric_differences"] == []
    assert result["inputs"][0]["ok"] and result["inputs"][0]["path"] == "data.csv"
    registry = open_registry(out)
    assert registry.get(result["rerun"]).rerun_of == original and registry.count() == 2

    # A changed input: refused, naming the file and both hashes; nothing run.
    recorded = hashlib.sha256(b"x\n0.2\n0.4\n").hexdigest()
    (work / "data.csv").write_text("x\n5\n")
    refused = run_cli("rerun", original, "--out", str(out), env=env, cwd=tmp_path)
    assert refused.returncode == 2 and registry.count() == 2
    assert str(work / "data.csv") in refused.stderr and recorded in refused.stderr
    assert hashlib.sha256(b"x\n5\n").hexdigest() in refused.stderr
    (work / "data.csv").write_text("x\n0.2\n0.4\n")

    # The analysis changed since: the verdict differs (exit 1) and the note says why.
    write_reader(notebooks, scale=10.0)
    differs = run_cli("rerun", original, "--out", str(out), "--json", env=env)
    data = json.loads(differs.stdout)
    assert differs.returncode == 1 and data["equivalent"] is False
    assert [(d["kind"], d["original"], d["rerun"]) for d in data["verdict_differences"]] == [
        ("status", "ok", "incident"), ("severity", "ok", "incident")]
    assert {d["what"] for d in data["metric_differences"]} == {"finding mean / x [Checks] value", "metric mean[x]"}
    assert any("notebook changed" in note for note in data["notes"])

    # A pruned run keeps what a rerun needs in the registry.
    write_reader(notebooks)
    assert run_cli("prune", "--keep-days", "0", "--out", str(out)).returncode == 0
    pruned = run_cli("rerun", original, "--out", str(out), "--json", env=env)
    assert pruned.returncode == 0 and json.loads(pruned.stdout)["equivalent"] is True
    assert run_cli("verify", "--out", str(out)).returncode == 0


@pytest.mark.e2e
def test_rerun_of_the_drift_notebook_on_sample_data_is_equivalent(tmp_path: Path):
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "MLREPORT_NOTEBOOKS"}
    first = run_cli("run", "drift", "-p", "sample_rows=6000", "-p", "classifier_sample=1500", "--fail-on", "never",
                    "--out", str(out), "--json", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    data = json.loads(first.stdout)
    assert data["status"] in ("warning", "incident") and data["findings"]
    again = run_cli("rerun", data["run_id"], "--out", str(out), "--json", env=env, cwd=tmp_path)
    result = json.loads(again.stdout)
    assert again.returncode == 0 and result["equivalent"], again.stdout
    assert result["refused"] is None and result["findings_compared"] >= len(data["findings"])
    assert result["metric_differences"] == []  # seeded: the same numbers, not just the same verdicts
    registry = open_registry(out)
    original, fresh = registry.get(data["run_id"]), registry.get(result["rerun"])
    sample = [i for i in original.inputs if i.get("hash_of") == "content"]
    assert sample and sample == [i for i in fresh.inputs if i.get("hash_of") == "content"]
    assert original.metrics["psi"] and fresh.metrics["psi"] == original.metrics["psi"]


STRESS_MODEL = '''\
"""A small logistic score on three sample features, written to a file the stress run imports."""
import numpy as np


def score(frame):
    z = (-0.01 * (frame["bureau_score"].fillna(600) - 650) + 2 * frame["debt_to_income"].fillna(0.3)
         + frame["credit_utilisation"].fillna(0.5) - 1.5)
    return 1 / (1 + np.exp(-z.to_numpy(dtype=float)))


score.features = ["bureau_score", "debt_to_income", "credit_utilisation"]
'''


@pytest.mark.e2e
def test_a_rerun_checks_every_file_that_shaped_the_result(tmp_path: Path):
    """Issue 16 class 5: spec, scenario file, model module and reference profile are checked like data files.

    Unchanged, the reruns are equivalent; each file changed in turn refuses the rerun (exit 2, nothing run) with
    that file named and its recorded and current sha256.
    """
    from mlreport.sample import generate

    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    generate(2_000, seed=4, weeks=8).to_parquet(work / "log.parquet", index=False)
    (work / "user_model.py").write_text(STRESS_MODEL, encoding="utf-8")
    (work / "card.toml").write_text('model = "card"\n[thresholds]\nversion = "t1"\n', encoding="utf-8")
    (work / "scenarios.toml").write_text(
        '[[scenario]]\nname = "Income down"\nshocks = [{type = "relative", column = "income", by = -0.2}]\n'
        '[[scenario]]\nname = "DTI up"\nshocks = [{type = "relative", column = "debt_to_income", by = 0.3}]\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "MLREPORT_NOTEBOOKS"}
    env["PYTHONPATH"] = os.pathsep.join([str(work), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    stress = ["run", "stress", "-p", "data_path=log.parquet", "-p", "model=user_model:score",
              "-p", 'thresholds={"approve": 0.4, "refer": 0.6}', "-p", "spec_path=card.toml",
              "-p", "scenarios_path=scenarios.toml", "-p", "sweep_rows=200", "-p", "sensitivity_features=1",
              "-p", "monotone_rows=20", "--fail-on", "never", "--out", str(out), "--json"]
    drift = ["run", "drift", "-p", "reference_path=log.parquet", "-p", "current_start=2026-02-02",
             "-p", "classifier_sample=500", "-p", "save_profile=profiles/ref.json", "--fail-on", "never",
             "--out", str(out), "--json"]
    first = run_cli(*stress, env=env, cwd=work, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    stress_run = json.loads(first.stdout)["run_id"]
    saved = run_cli(*drift, env=env, cwd=work, timeout=600)
    assert saved.returncode == 0, saved.stderr[-3000:]
    loading = [a.replace("save_profile=", "reference_profile=") for a in drift]
    loaded = run_cli(*loading, env=env, cwd=work, timeout=600)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    saving_run, loading_run = json.loads(saved.stdout)["run_id"], json.loads(loaded.stdout)["run_id"]
    registry = open_registry(out)
    names = {item["name"] for item in registry.get(stress_run).inputs}
    assert {"spec", "scenarios", "model_module", "population"} <= names, names
    assert "reference_profile" in {item["name"] for item in registry.get(loading_run).inputs}

    # Unchanged: equivalent, every file rechecked (from another folder: the recorded one resolves the paths).
    for run_id, files in ((stress_run, {"spec", "scenarios", "model_module"}), (loading_run, {"reference_profile"})):
        again = run_cli("rerun", run_id, "--out", str(out), "--json", env=env, cwd=tmp_path, timeout=600)
        result = json.loads(again.stdout)
        assert again.returncode == 0 and result["equivalent"], again.stdout[-3000:] + again.stderr[-3000:]
        checked = {item["name"] for item in result["inputs"] if item["ok"]}
        assert files <= checked, checked
    runs = registry.count()

    # Each file changed in turn: refused, naming it, before anything runs.
    for run_id, name in ((stress_run, "card.toml"), (stress_run, "scenarios.toml"), (stress_run, "user_model.py"),
                         (loading_run, "profiles/ref.json"), (saving_run, "profiles/ref.json")):
        path = work / name
        before = path.read_bytes()
        path.write_bytes(before + b"\n")  # a byte more: parsed the same, but not the file that was analysed
        refused = run_cli("rerun", run_id, "--out", str(out), env=env, cwd=tmp_path, timeout=600)
        assert refused.returncode == 2, (name, refused.returncode, refused.stderr[-2000:])
        assert str(path) in refused.stderr and hashlib.sha256(before).hexdigest() in refused.stderr, refused.stderr
        assert hashlib.sha256(before + b"\n").hexdigest() in refused.stderr
        assert registry.count() == runs
        path.write_bytes(before)
