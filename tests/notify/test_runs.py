"""Whole runs that notify and export, as a scheduler starts them: the exit code, the report, the record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runs import run_dirs
from notify_servers import free_port, receiver
from prometheus_client.parser import text_string_to_metric_families

from mlreport.record import read_log, verify

pytestmark = pytest.mark.e2e

SECRET = "s3cr3t-t0ken"


@pytest.fixture
def env(fixture_notebooks: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith("MLREPORT_")}
    return {**clean, "MLREPORT_NOTEBOOKS": str(fixture_notebooks), "NO_PROXY": "127.0.0.1"}


def mlreport(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlreport", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300, stdin=subprocess.DEVNULL)


def _deliver_entries(out: Path) -> list[dict]:
    return [line.entry for line in read_log(out) if line.entry and line.entry["event"] == "deliver"]


def test_a_run_notifies_exports_and_records_it_without_a_secret_anywhere(env, tmp_path):
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    out = tmp_path / "out"
    with receiver() as slack, receiver() as hook:
        env = {**env, "MLREPORT_SLACK_WEBHOOK_URL": slack.url, "MLREPORT_WEBHOOK_URL": hook.url,
               "MLREPORT_REPORT_URL": "https://reports.example/mlreport"}
        result = mlreport("run", "fixture", "-p", "status=incident", "-p", 'subject=in"come', "--out", str(out),
                          "--json", "--notify", "slack,webhook", "--notify-on", "warning",
                          "--prometheus-dir", str(textfiles), env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert data["schema_version"] == 1
    assert [(d["kind"], d["channel"], d["status"]) for d in data["deliveries"]] == [
        ("export", "prometheus", "written"), ("notify", "slack", "sent"), ("notify", "webhook", "sent")]
    (run_dir,) = run_dirs(out)
    (body,) = hook.bodies()
    assert body["run_id"] == data["run_id"] and body["status"] == "incident"
    assert body["report"]["url"] == f"https://reports.example/mlreport/{run_dir.relative_to(out).as_posix()}/report.html"
    assert len(slack.requests) == 1
    # The plan is in run.json, the outcome in the audit trail; verify still finds everything in order.
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["notify"]["channels"] == ["slack", "webhook"] and manifest["notify"]["on"] == "warning"
    assert manifest["export"]["prometheus_dir"] == str(textfiles)
    (entry,) = _deliver_entries(out)
    assert entry["run_id"] == data["run_id"] and [d["status"] for d in entry["deliveries"]] == ["written", "sent",
                                                                                               "sent"]
    assert verify(out).clean
    everything = "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file() and p.suffix != ".sqlite")
    assert SECRET not in everything + result.stdout + result.stderr
    (textfile,) = textfiles.glob("*.prom")
    samples = {(s.name, s.labels.get("status")): s.value
               for f in text_string_to_metric_families(textfile.read_text()) for s in f.samples}
    assert samples[("mlreport_run_status", "incident")] == 1 and samples[("mlreport_run_exit_code", None)] == 1


def test_a_failed_notification_changes_no_exit_code_and_loses_no_report(env, tmp_path):
    out = tmp_path / "out"
    env = {**env, "MLREPORT_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/hook/{SECRET}"}
    config = tmp_path / "notify.toml"
    config.write_text('[notify]\non = "ok"\nretries = 0\nchannels = ["webhook", "teams"]\n')
    healthy = mlreport("run", "fixture", "--out", str(out), "--notify-config", str(config), env=env, cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stderr[-2000:]
    assert "webhook notification failed: 127.0.0.1 could not be reached" in healthy.stderr
    assert "teams notification failed: $MLREPORT_TEAMS_WEBHOOK_URL is not set" in healthy.stderr
    assert "webhook failed" in healthy.stderr  # the run's own summary lists the outcome
    (run_dir,) = run_dirs(out)
    assert (run_dir / "report.html").is_file()
    (entry,) = _deliver_entries(out)
    assert [(d["channel"], d["status"]) for d in entry["deliveries"]] == [("webhook", "failed"), ("teams", "failed")]
    assert SECRET not in (out / "audit.log").read_text() + healthy.stderr
    assert verify(out).clean
    # Below --notify-on nothing is sent and nothing is added to the trail.
    quiet = mlreport("run", "fixture", "--out", str(out), "--notify", "webhook", env=env, cwd=tmp_path)
    assert quiet.returncode == 0 and len(_deliver_entries(out)) == 1


def test_bad_delivery_options_are_refused_before_anything_runs(env, tmp_path):
    out = tmp_path / "out"
    for args, message in [
        (["--notify", "pager"], "--notify: unknown channel 'pager'"),
        (["--prometheus-dir", str(tmp_path / "nowhere")], "is not a folder"),
        (["--mlflow", "https://u:p@mlflow.example"], "carries credentials"),
    ]:
        result = mlreport("run", "fixture", "--out", str(out), *args, env=env, cwd=tmp_path)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert "u:p@" not in result.stderr
    assert not out.exists() or run_dirs(out) == []


def test_a_batch_notifies_each_job_with_the_files_and_the_jobs_settings(env, tmp_path):
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    out = tmp_path / "out"
    with receiver() as slack, receiver() as teams:
        env = {**env, "MLREPORT_SLACK_WEBHOOK_URL": slack.url, "TEAM_B_HOOK": teams.url}
        (tmp_path / "jobs.toml").write_text(
            '[notify]\non = "warning"\nchannels = ["slack"]\n'
            f'[export]\nprometheus_dir = "{textfiles}"\n'
            '[[job]]\nname = "a"\nanalysis = "fixture"\n[job.params]\nstatus = "incident"\nmodel = "model-a"\n'
            '[[job]]\nname = "b"\nanalysis = "fixture"\n[job.params]\nstatus = "warning"\nmodel = "model-b"\n'
            '[job.notify]\non = "incident"\nchannels = ["teams"]\n[job.notify.teams]\nurl_env = "TEAM_B_HOOK"\n'
            '[[job]]\nname = "c"\nanalysis = "slow"\ntimeout = 3\n'
        )
        result = mlreport("batch", "jobs.toml", "--out", str(out), "--json", "--date", "2026-03-14",
                          env=env, cwd=tmp_path)
    summary = json.loads(result.stdout)
    assert result.returncode == 3 == summary["exit_code"], result.stderr[-2000:]
    jobs = {job["job"]: job for job in summary["jobs"]}
    statuses = {name: [(d["channel"], d["status"]) for d in job["deliveries"]] for name, job in jobs.items()}
    # b: its own table raised 'on' to incident and added Teams; a warning notifies neither.
    assert statuses == {
        "a": [("prometheus", "written"), ("slack", "sent")],
        "b": [("prometheus", "written"), ("slack", "skipped"), ("teams", "skipped")],
        "c": [("prometheus", "written"), ("slack", "sent")],  # killed on its timeout: a failed run, notified
    }
    assert teams.requests == []
    texts = sorted(json.loads(r["body"])["text"] for r in slack.requests)
    assert len(texts) == 2 and any("RUN FAILED" in t for t in texts) and any("model-a" in t for t in texts)
    assert sorted(p.name for p in textfiles.glob("*.prom")) == [
        "mlreport_default_slow.prom", "mlreport_model-a_fixture.prom", "mlreport_model-b_fixture.prom"]
    assert verify(out).clean
