"""Findings, summaries and publishing."""

from __future__ import annotations

import json
import math

import pytest

from mlreport.errors import InputError
from mlreport.findings import SUMMARY_MIMETYPE, Finding, Summary, publish, severity_rank, summarize, worst


def _f(severity: str, subject: str = "x", message: str = "m") -> Finding:
    return Finding("check", subject, severity, message, value=1.0, threshold=0.5, method="m", section="S")


def test_severity_order_and_worst():
    assert [severity_rank(s) for s in ("ok", "warning", "incident", "failed")] == [0, 1, 2, 3]
    assert worst([]) == "ok" and worst(["ok", "incident", "warning"]) == "incident"
    with pytest.raises(InputError, match="unknown severity"):
        severity_rank("bad")


def test_finding_rejects_unknown_severity():
    with pytest.raises(InputError, match="severity 'failed'"):
        _f("failed")


def test_summarize_sorts_worst_first_and_writes_a_naming_headline():
    summary = summarize("drift", [_f("warning", "a", "a moved"), _f("incident", "b", "b defaulted to 0"), _f("ok")])
    assert summary.status == "incident"
    assert [f.subject for f in summary.findings] == ["b", "a", "x"]
    assert summary.headline == "Incident: b defaulted to 0."
    assert summary.counts() == {"ok": 1, "warning": 1, "incident": 1}
    two = summarize("drift", [_f("incident", "a", "a broke"), _f("incident", "b", "b broke")])
    assert two.headline == "Incident: a broke; 1 more incident finding."
    assert summarize("drift", []).headline.startswith("Healthy")


def test_summary_json_is_strict_and_round_trips():
    summary = summarize(
        "drift", [Finding("c", "s", "warning", "m", value=float("nan"), threshold=math.inf)],
        metrics={"psi": float("nan"), "nested": [1.0, float("inf")]},
    )
    text = summary.to_json()
    data = json.loads(text)
    assert data["findings"][0]["value"] is None and data["metrics"] == {"psi": None, "nested": [1.0, None]}
    again = Summary.from_dict(data)
    assert again.status == "warning" and again.findings[0].subject == "s"


def test_publish_displays_banner_and_payload(monkeypatch):
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append((obj, kw)))
    publish(summarize("drift", [_f("incident", "<script>alert(1)</script>", "<b>x</b>")]))
    (obj, kw), = shown
    assert obj[SUMMARY_MIMETYPE]["status"] == "incident" and kw["raw"] is True
    assert "<script>" not in obj["text/html"] and "&lt;b&gt;" in obj["text/html"]
    assert "INCIDENT" in obj["text/html"]  # the word, not colour alone
