"""Notifications sent to real local servers: an HTTP receiver (webhook, Slack, Teams) and an SMTP server."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from notify_servers import receiver, smtp_server

from mlreport.notify import Channel, NotifyConfig, deliver

SECRET_PATH = "s3cr3t-t0ken"
HOSTILE = "<!channel> *bold* <http://evil.example|click> & [x](http://evil.example) \n second line"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    # The local servers are reached directly, whatever proxy the machine has.
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in ("MLREPORT_REPORT_URL", "MLREPORT_SMTP_HOST", "MLREPORT_MAIL_TO", "MLREPORT_MAIL_FROM",
                 "MLREPORT_SMTP_USER", "MLREPORT_SMTP_PASSWORD", "MLREPORT_SMTP_PORT", "MLREPORT_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def run(tmp_path) -> tuple[dict, Path, Path]:
    out = tmp_path / "outputs"
    run_dir = out / "card-fraud" / "drift" / "20260314T020003Z-3f9a1c2b"
    run_dir.mkdir(parents=True)
    (run_dir / "report.html").write_text("<!doctype html><title>report</title><p>the report</p>")
    manifest = {
        "run_id": "20260314T020003Z-3f9a1c2b", "analysis": "drift", "model": "card-fraud", "status": "incident",
        "exit_code": 1, "headline": f"Incident: {HOSTILE}", "counts": {"ok": 7, "warning": 3, "incident": 2},
        "data_period": "2026-03-07 to 2026-03-14", "started_at": "2026-03-14T02:00:03Z",
        "finished_at": "2026-03-14T02:00:41Z", "error": None,
        "findings": [
            {"check": "psi", "subject": HOSTILE, "severity": "incident", "message": "PSI 0.31 >= 0.25",
             "value": 0.31, "threshold": 0.25},
            {"check": "psi", "subject": "age", "severity": "ok", "message": "fine", "value": 0.01, "threshold": 0.1},
        ],
    }
    return manifest, run_dir, out


def _never_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected retry wait of {seconds} s")


def test_generic_webhook_gets_the_run_as_json_signed_when_a_secret_is_set(run, monkeypatch):
    manifest, run_dir, out = run
    with receiver() as server:
        monkeypatch.setenv("MLREPORT_WEBHOOK_URL", server.url)
        monkeypatch.setenv("MLREPORT_WEBHOOK_SECRET", "shared-key")
        monkeypatch.setenv("MLREPORT_REPORT_URL", "https://reports.example/mlreport/")
        (delivery,) = deliver(NotifyConfig.from_options(["webhook"]), manifest, run_dir, out_dir=out,
                              sleep=_never_sleep)
    assert (delivery.channel, delivery.status, delivery.attempts, delivery.target) == ("webhook", "sent", 1,
                                                                                       "127.0.0.1")
    (request,) = server.requests
    body = json.loads(request["body"])
    assert body["schema_version"] == 1 and body["event"] == "run.recorded"
    assert (body["status"], body["exit_code"], body["headline"]) == ("incident", 1, manifest["headline"])
    assert body["counts"] == {"ok": 7, "warning": 3, "incident": 2}
    assert [f["subject"] for f in body["findings"]] == [HOSTILE]  # the worst findings, not the healthy ones
    assert body["report"] == {
        "path": str(run_dir / "report.html"),
        "url": "https://reports.example/mlreport/card-fraud/drift/20260314T020003Z-3f9a1c2b/report.html",
    }
    expected = hmac.new(b"shared-key", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Mlreport-Signature-256"] == f"sha256={expected}"
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert SECRET_PATH not in json.dumps(delivery.to_dict())


def test_slack_gets_plain_text_blocks_that_data_cannot_format(run, monkeypatch):
    manifest, run_dir, out = run
    with receiver() as server:
        monkeypatch.setenv("MLREPORT_SLACK_WEBHOOK_URL", server.url)
        (delivery,) = deliver(NotifyConfig.from_options(["slack"]), manifest, run_dir, out_dir=out)
    assert delivery.status == "sent"
    (body,) = server.bodies()
    assert body["mrkdwn"] is False
    assert "<!channel>" not in body["text"] and "&lt;!channel&gt;" in body["text"]
    assert "\n" not in body["text"]
    texts = []
    for block in body["blocks"]:
        for part in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(part, dict) and "type" in part and part["type"] != "button":
                assert part["type"] == "plain_text", block
                texts.append(part["text"])
    assert any("<!channel> *bold*" in text for text in texts)  # shown as text, not as a mention
    assert any(str(run_dir / "report.html") in text for text in texts)  # no URL configured: the path
    assert body["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text":
                                 "INCIDENT: card-fraud drift", "emoji": False}}


def test_teams_gets_an_adaptive_card_with_markdown_escaped(run, monkeypatch):
    manifest, run_dir, out = run
    config = NotifyConfig.from_table({"channels": ["teams"], "report_url": "https://reports.example"})
    with receiver() as server:
        monkeypatch.setenv("MLREPORT_TEAMS_WEBHOOK_URL", server.url)
        (delivery,) = deliver(config, manifest, run_dir, out_dir=out)
    assert delivery.status == "sent"
    (body,) = server.bodies()
    (attachment,) = body["attachments"]
    assert body["type"] == "message" and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["color"] == "Attention"
    headline = card["body"][1]["text"]
    assert r"\[x\]\(http://evil\.example\)" in headline and r"\*bold\*" in headline
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open the report", "url":
                                "https://reports.example/card-fraud/drift/20260314T020003Z-3f9a1c2b/report.html"}]


def test_server_errors_are_retried_and_client_errors_are_not(run, monkeypatch):
    manifest, run_dir, _out = run
    waits: list[float] = []
    with receiver() as server:
        monkeypatch.setenv("MLREPORT_SLACK_WEBHOOK_URL", server.url)
        server.responses = [(503, {}), (429, {"Retry-After": "3"})]
        (delivery,) = deliver(NotifyConfig.from_options(["slack"]), manifest, run_dir, sleep=waits.append)
        assert (delivery.status, delivery.attempts) == ("sent", 3) and waits == [1.0, 3.0]
        server.responses = [(404, {})]
        (refused,) = deliver(NotifyConfig.from_options(["slack"]), manifest, run_dir, sleep=_never_sleep)
        server.responses = [(500, {})] * 3
        (gave_up,) = deliver(NotifyConfig.from_options(["slack"]), manifest, run_dir, sleep=lambda s: None)
    assert (refused.status, refused.attempts, refused.detail) == ("failed", 1, "HTTP 404 from 127.0.0.1")
    assert (gave_up.status, gave_up.attempts) == ("failed", 3) and "HTTP 500" in gave_up.detail
    assert len(server.requests) == 3 + 1 + 3


def test_an_unreachable_server_or_a_missing_variable_is_a_failed_delivery(run, monkeypatch):
    from notify_servers import free_port

    manifest, run_dir, _out = run
    monkeypatch.setenv("MLREPORT_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/hook/{SECRET_PATH}")
    monkeypatch.delenv("MLREPORT_TEAMS_WEBHOOK_URL", raising=False)
    config = NotifyConfig.from_table({"channels": ["webhook", "teams"], "retries": 1})
    webhook, teams = deliver(config, manifest, run_dir, sleep=lambda s: None)
    assert (webhook.status, webhook.attempts) == ("failed", 2) and "127.0.0.1 could not be reached" in webhook.detail
    assert SECRET_PATH not in webhook.detail
    assert (teams.status, teams.attempts) == ("failed", 0)
    assert "$MLREPORT_TEAMS_WEBHOOK_URL is not set" in teams.detail


def test_only_runs_at_or_above_the_chosen_status_notify(run, monkeypatch):
    manifest, run_dir, _out = run
    with receiver() as server:
        monkeypatch.setenv("MLREPORT_WEBHOOK_URL", server.url)
        on_failed = NotifyConfig.from_options(["webhook"], on="failed")
        assert [d.status for d in deliver(on_failed, manifest, run_dir)] == ["skipped"]
        assert [d.status for d in deliver(on_failed, {**manifest, "status": "failed"}, run_dir)] == ["sent"]
        on_warning = NotifyConfig.from_options(["webhook"], on="warning")
        assert [d.status for d in deliver(on_warning, {**manifest, "status": "ok"}, run_dir)] == ["skipped"]
        assert [d.status for d in deliver(on_warning, {**manifest, "status": "warning"}, run_dir)] == ["sent"]
        assert deliver(NotifyConfig(), manifest, run_dir) == []
    assert len(server.requests) == 2


# The local server takes a login without TLS (no certificate here); aiosmtpd warns that this is unsafe.
NO_TLS_WARNING = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@NO_TLS_WARNING
def test_email_with_the_report_attached_and_a_login_from_the_environment(run, monkeypatch):
    manifest, run_dir, out = run
    channel = Channel("email", to=("risk@example.com", "oncall@example.com"), sender="mlreport@example.com",
                      host="127.0.0.1", security="none", username="mlreport", password_env="TEST_SMTP_PASSWORD")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "pa55-w0rd")
    with smtp_server(users={"mlreport": "pa55-w0rd"}) as box:
        config = NotifyConfig(channels=(Channel(**{**channel.__dict__, "port": box.port}),))
        (delivery,) = deliver(config, manifest, run_dir, out_dir=out)
    assert (delivery.status, delivery.detail) == ("sent", "report attached"), delivery.detail
    assert box.logins == [("mlreport", "pa55-w0rd")]
    (received,) = box.messages
    assert received["to"] == ["risk@example.com", "oncall@example.com"]
    mail = email.message_from_bytes(received["data"], policy=email.policy.default)
    assert mail["Subject"].startswith("[mlreport] INCIDENT: card-fraud drift: Incident: <!channel>")
    assert "\n" not in mail["Subject"]
    html_part = mail.get_body(("html",)).get_content()
    assert "&lt;!channel&gt;" in html_part and "<!channel>" not in html_part
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == "card-fraud-drift-20260314T020003Z-3f9a1c2b.html"
    assert attachment.get_content() == (run_dir / "report.html").read_text()
    assert "pa55-w0rd" not in json.dumps(delivery.to_dict())


@NO_TLS_WARNING
def test_email_links_a_report_larger_than_the_limit_and_a_refused_login_is_not_retried(run, monkeypatch):
    manifest, run_dir, out = run
    monkeypatch.setenv("MLREPORT_REPORT_URL", "https://reports.example")
    monkeypatch.setenv("MLREPORT_SMTP_PASSWORD", "wrong")
    with smtp_server() as box:
        monkeypatch.setenv("MLREPORT_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("MLREPORT_SMTP_PORT", str(box.port))
        monkeypatch.setenv("MLREPORT_MAIL_TO", "risk@example.com")
        monkeypatch.setenv("MLREPORT_MAIL_FROM", "mlreport@example.com")
        config = NotifyConfig.from_table({"channels": ["email"], "email": {"security": "none", "max_attach_bytes": 10}})
        (delivery,) = deliver(config, manifest, run_dir, out_dir=out)
        assert (delivery.status, delivery.detail) == ("sent", "report linked (larger than 10 bytes)")
        mail = email.message_from_bytes(box.messages[0]["data"], policy=email.policy.default)
        assert not list(mail.iter_attachments())
        assert "https://reports.example/card-fraud/drift/" in mail.get_body(("plain",)).get_content()
    with smtp_server(users={"mlreport": "right"}) as box:
        monkeypatch.setenv("MLREPORT_SMTP_PORT", str(box.port))
        monkeypatch.setenv("MLREPORT_SMTP_USER", "mlreport")
        (refused,) = deliver(config, manifest, run_dir, sleep=_never_sleep)
    assert (refused.status, refused.attempts) == ("failed", 1) and "SMTPAuthenticationError" in refused.detail
    assert "wrong" not in refused.detail  # the password never shows
    assert box.messages == []


def test_email_without_a_server_says_which_variable_to_set(run):
    manifest, run_dir, _ = run
    (delivery,) = deliver(NotifyConfig.from_options(["email"]), manifest, run_dir)
    assert delivery.status == "failed" and "MLREPORT_SMTP_HOST" in delivery.detail
