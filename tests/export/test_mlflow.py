"""Runs logged to MLflow, read back from a local MLflow file store with MLflow's own client."""

from __future__ import annotations

import importlib.util
import json

import pytest
from cli_runs import runtime_missing

from mlreport.errors import InputError
from mlreport.export import ExportConfig, KeyMetric, export_run, log_to_mlflow, mlflow_metric_key, redact_uri

runtime_missing(
    "mlflow", None if importlib.util.find_spec("mlflow") else 'mlflow is not installed (pip install -e ".[test]")'
)


@pytest.fixture
def store(tmp_path, monkeypatch):
    # MLflow 3 keeps its file store for existing users only; a test store is what it is for.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return (tmp_path / "mlruns").as_uri()


@pytest.fixture
def run_dir(tmp_path):
    folder = tmp_path / "card-fraud" / "drift" / "20260314T020003Z-3f9a1c2b"
    folder.mkdir(parents=True)
    manifest = {
        "run_id": "20260314T020003Z-3f9a1c2b", "analysis": "drift", "model": "card-fraud", "status": "incident",
        "exit_code": 1, "headline": "Incident: income drifted", "data_period": "2026-03-07 to 2026-03-14",
        "started_at": "2026-03-14T02:00:03Z", "finished_at": "2026-03-14T02:00:41Z", "timings_s": {"total": 38.0},
        "thresholds_version": "2026-03", "counts": {"ok": 7, "warning": 3, "incident": 2},
        "parameters": {"current_path": "data/2026-03-14.parquet", "columns": ["a", "b"], "seed": 7},
        "metrics": {"psi": {"income": 0.31, "age (years)": 0.01}, "missing_rate": {"income": 0.125}},
    }
    (folder / "run.json").write_text(json.dumps(manifest))
    (folder / "report.html").write_text("<!doctype html><p>report</p>")
    return folder, manifest


def test_a_run_is_logged_with_metrics_params_tags_and_artifacts(store, run_dir):
    from mlflow.tracking import MlflowClient

    folder, manifest = run_dir
    mlflow_run_id = log_to_mlflow(manifest, folder, tracking_uri=store)
    client = MlflowClient(tracking_uri=store)
    run = client.get_run(mlflow_run_id)
    assert client.get_experiment(run.info.experiment_id).name == "mlreport/card-fraud"
    assert run.info.run_name == "drift 20260314T020003Z-3f9a1c2b" and run.info.status == "FINISHED"
    assert run.info.start_time == 1773453603000 and run.info.end_time == 1773453641000
    tags = run.data.tags
    assert tags["mlreport.status"] == "incident" and tags["mlreport.exit_code"] == "1"
    assert tags["mlreport.run_id"] == manifest["run_id"] and tags["mlreport.headline"] == manifest["headline"]
    metrics = run.data.metrics
    assert metrics["psi.income"] == 0.31 and metrics["missing_rate.income"] == 0.125
    assert metrics["psi.age _years_"] == 0.01  # parentheses are not allowed in an MLflow key
    assert metrics["findings.incident"] == 2 and metrics["status.incident"] == 1 and metrics["status.ok"] == 0
    assert metrics["exit_code"] == 1 and metrics["duration_seconds"] == 38
    assert run.data.params == {"current_path": "data/2026-03-14.parquet", "columns": '["a", "b"]', "seed": "7"}
    assert sorted(a.path for a in client.list_artifacts(mlflow_run_id)) == ["report.html", "run.json"]
    # A second run of the same model goes to the same experiment.
    again = log_to_mlflow({**manifest, "run_id": "20260315T020003Z-00000000"}, folder, tracking_uri=store)
    assert client.get_run(again).info.experiment_id == run.info.experiment_id


def test_the_tracking_uri_comes_from_the_environment_and_an_experiment_can_be_named(store, run_dir, monkeypatch):
    from mlflow.tracking import MlflowClient

    folder, manifest = run_dir
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    deliveries = export_run(ExportConfig(mlflow=True, mlflow_experiment="credit monitoring"), manifest, folder)
    assert [(d.channel, d.status) for d in deliveries] == [("mlflow", "logged")]
    mlflow_run_id = deliveries[0].detail.removeprefix("MLflow run ")
    client = MlflowClient(tracking_uri=store)
    assert client.get_experiment(client.get_run(mlflow_run_id).info.experiment_id).name == "credit monitoring"


def test_a_refused_run_is_a_failed_delivery_not_an_exception(run_dir, monkeypatch, tmp_path):
    folder, manifest = run_dir
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "false")
    deliveries = export_run(ExportConfig(mlflow=True, mlflow_uri=(tmp_path / "m").as_uri()), manifest, folder)
    assert [(d.channel, d.status) for d in deliveries] == [("mlflow", "failed")]
    assert deliveries[0].detail


def test_credentials_never_reach_a_record():
    assert redact_uri("https://alice:s3cret@mlflow.example:5000/path") == "https://mlflow.example:5000/path"
    assert redact_uri("databricks") == "databricks"
    with pytest.raises(InputError, match="MLFLOW_TRACKING_USERNAME") as caught:
        ExportConfig.from_table({"mlflow_uri": "https://alice:s3cret@mlflow.example"})
    assert "s3cret" not in str(caught.value)


def test_no_tracking_uri_is_a_clear_error(run_dir, monkeypatch):
    folder, manifest = run_dir
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(InputError, match="MLFLOW_TRACKING_URI"):
        log_to_mlflow(manifest, folder)


def test_metric_keys_keep_what_mlflow_accepts():
    assert mlflow_metric_key(KeyMetric("psi", "income/month-1.5 x", 0.1)) == "psi.income/month-1.5 x"
    assert mlflow_metric_key(KeyMetric("psi", 'a"b<c>ü', 0.1)) == "psi.a_b_c__"
    assert mlflow_metric_key(KeyMetric("exit_code", "", 1)) == "exit_code"


def test_an_unknown_key_or_a_missing_folder_is_refused_before_running(tmp_path):
    with pytest.raises(InputError, match="did you mean 'prometheus_dir'"):
        ExportConfig.from_table({"prometheus_directory": str(tmp_path)})
    with pytest.raises(InputError, match="nowhere"):
        ExportConfig.from_table({"prometheus_dir": str(tmp_path / "nowhere")})
    with pytest.raises(InputError, match="expected true or false"):
        ExportConfig.from_table({"mlflow": "yes"})
    assert ExportConfig.from_table({"mlflow_uri": "http://localhost:5000"}).mlflow is True


def test_an_unwritable_textfile_is_a_failed_delivery(tmp_path):
    folder = tmp_path / "textfile"
    folder.mkdir()
    config = ExportConfig(prometheus_dir=str(folder))
    folder.rmdir()  # gone between the check and the run
    (delivery,) = export_run(config, {"run_id": "r", "analysis": "drift", "model": "m", "status": "ok"}, tmp_path)
    assert delivery.status == "failed" and "does not exist" in delivery.detail


@pytest.mark.e2e
def test_mlreport_run_mlflow_logs_the_run(cli, tmp_path, store):
    from mlflow.tracking import MlflowClient

    result = cli("run", "fixture", "-p", "status=warning", "--out", "out", "--json", "--mlflow", store,
                 "--mlflow-experiment", "fixtures", env={"MLFLOW_ALLOW_FILE_STORE": "true"})
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    (delivery,) = data["deliveries"]
    assert (delivery["channel"], delivery["status"]) == ("mlflow", "logged"), delivery
    client = MlflowClient(tracking_uri=store)
    run = client.get_run(delivery["detail"].removeprefix("MLflow run "))
    assert run.data.tags["mlreport.run_id"] == data["run_id"] and run.data.tags["mlreport.status"] == "warning"
    assert run.data.metrics["findings.warning"] == 1
    assert sorted(a.path for a in client.list_artifacts(run.info.run_id)) == ["report.html", "run.json"]
