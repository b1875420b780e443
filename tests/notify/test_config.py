"""The [notify] table and --notify options: checked before anything runs, secrets only from the environment."""

from __future__ import annotations

import json

import pytest

from mlreport.errors import InputError
from mlreport.notify import Channel, NotifyConfig, load_notify_config


def test_a_full_table():
    config = NotifyConfig.from_table({
        "on": "warning", "channels": ["slack", "email"], "report_url": "https://reports.example",
        "timeout": 5, "retries": 1,
        "slack": {"url_env": "SLACK_RISK"},
        "email": {"to": ["a@example.com"], "from": "m@example.com", "host": "smtp.example.com", "port": 2525,
                  "security": "ssl", "username": "m", "password_env": "SMTP_PW", "attach": False},
    })
    slack, mail = config.channels
    assert (config.on, config.report_url, config.timeout, config.retries) == ("warning", "https://reports.example",
                                                                              5.0, 1)
    assert slack == Channel("slack", url_env="SLACK_RISK")
    assert (mail.to, mail.port, mail.security, mail.password_env, mail.attach) == (("a@example.com",), 2525, "ssl",
                                                                                  "SMTP_PW", False)
    assert config.due("warning") and config.due("failed") and not config.due("ok")
    record = config.to_dict()
    assert record["email"]["password_env"] == "SMTP_PW" and record["channels"] == ["slack", "email"]


@pytest.mark.parametrize(("table", "message"), [
    ({"channels": ["slack"], "slack": {"url": "https://hooks.slack.com/services/T/B/x"}},
     "key 'url' would put a secret in the file; put it in an environment variable and name that variable with "
     "'url_env'"),
    ({"channels": ["email"], "email": {"password": "hunter2"}}, "name that variable with 'password_env'"),
    ({"channels": ["webhook"], "webhook": {"secret": "k"}}, "'secret_env'"),
    ({"channels": ["slak"]}, "unknown channel 'slak'; did you mean 'slack'?"),
    ({"channel": ["slack"]}, "unknown key 'channel'; did you mean 'channels'?"),
    ({"on": "critical"}, "key 'on': 'critical' is not one of ok, warning, incident, failed"),
    ({"channels": ["slack"], "teams": {}}, "'teams' is not in 'channels' (slack)"),
    ({"channels": ["email"], "email": {"to": "not-an-address"}}, "expected a list of e-mail addresses"),
    ({"channels": ["email"], "email": {"security": "tls"}}, "'tls' is not one of starttls, ssl, none"),
    ({"channels": ["slack"], "slack": {"url_env": "1BAD NAME"}}, "is not an environment variable name"),
    ({"channels": ["slack", "slack"]}, "listed twice"),
    ({"timeout": 0}, "key 'timeout'"),
])
def test_bad_tables_are_refused_naming_the_key(table, message):
    with pytest.raises(InputError) as caught:
        NotifyConfig.from_table(table, where="jobs.toml: [notify]")
    assert message in str(caught.value) and str(caught.value).startswith("jobs.toml: [notify")
    assert "hooks.slack.com" not in str(caught.value) and "hunter2" not in str(caught.value)


def test_options_and_merging():
    options = NotifyConfig.from_options(["slack,teams"], on="warning")
    assert [c.kind for c in options.channels] == ["slack", "teams"] and options.on == "warning"
    assert options.channels[0].url_env == "MLREPORT_SLACK_WEBHOOK_URL"
    file = NotifyConfig.from_table({"channels": ["slack", "email"], "on": "failed", "slack": {"url_env": "X"},
                                    "report_url": "https://r.example"})
    merged = file.merged(options)
    # Channels add up, the later one's settings win; 'on' only when the later one set it.
    assert [c.kind for c in merged.channels] == ["slack", "email", "teams"]
    assert merged.channels[0].url_env == "MLREPORT_SLACK_WEBHOOK_URL" and merged.on == "warning"
    assert merged.report_url == "https://r.example"
    assert file.merged(NotifyConfig.from_options([])).on == "failed"
    with pytest.raises(InputError, match="--notify: unknown channel 'pager'"):
        NotifyConfig.from_options(["pager"])


def test_a_config_file_in_toml_or_json(tmp_path):
    toml = tmp_path / "notify.toml"
    toml.write_text('[notify]\non = "warning"\nchannels = ["webhook"]\n[notify.webhook]\nurl_env = "HOOK"\n')
    expected = Channel("webhook", url_env="HOOK", secret_env="MLREPORT_WEBHOOK_SECRET")
    assert load_notify_config(toml).channels == (expected,)
    as_json = tmp_path / "notify.json"
    as_json.write_text(json.dumps({"notify": load_notify_config(toml).to_dict()}))
    assert load_notify_config(as_json) == load_notify_config(toml)
    (tmp_path / "empty.toml").write_text("x = 1\n")
    with pytest.raises(InputError, match="expected a \\[notify\\] table"):
        load_notify_config(tmp_path / "empty.toml")
    with pytest.raises(InputError, match="file not found"):
        load_notify_config(tmp_path / "missing.toml")
