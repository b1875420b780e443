"""docs/integrations.md: its code parses, its names are the code's, its signature check works on a real request."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import yaml
from notify_servers import receiver

from mlreport.export import PROMETHEUS_FAMILIES
from mlreport.notify import NotifyConfig, deliver

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "integrations.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.S)


def test_every_code_block_parses():
    assert len(blocks("python")) >= 4 and len(blocks("yaml")) == 2 and blocks("toml")
    for source in blocks("python"):
        ast.parse(source)
    for text in blocks("yaml"):
        assert isinstance(yaml.safe_load(text), dict)
    for text in blocks("toml"):
        tomllib.loads(text)
    notify_table = next(tomllib.loads(t) for t in blocks("toml") if "notify" in tomllib.loads(t))
    NotifyConfig.from_table(notify_table["notify"])  # the documented table is one the code takes


def test_the_metric_table_is_the_code_s():
    documented = set(re.findall(r"`(mlreport_[a-z_]+)`", DOC))
    exported = {family.name for family in PROMETHEUS_FAMILIES.values()} | {"mlreport_metric"}
    assert documented == exported


def test_every_variable_named_is_one_the_code_reads():
    source = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "mlreport").rglob("*.py"))
    for name in set(re.findall(r"\b(MLREPORT_[A-Z_]+[A-Z])\b", DOC)):
        assert name in source, name


def test_the_documented_signature_check_accepts_a_real_request(monkeypatch, tmp_path):
    (function,) = [b for b in blocks("python") if "def signed_by_mlreport" in b]
    namespace: dict = {}
    exec(compile(function, "integrations.md", "exec"), namespace)
    check = namespace["signed_by_mlreport"]
    run_dir = tmp_path / "m" / "drift" / "20260314T020003Z-3f9a1c2b"
    run_dir.mkdir(parents=True)
    manifest = {"run_id": run_dir.name, "analysis": "drift", "model": "m", "status": "incident", "exit_code": 1,
                "headline": "Incident", "counts": {}, "findings": []}
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with receiver() as server:
        monkeypatch.setenv("MLREPORT_WEBHOOK_URL", server.url)
        monkeypatch.setenv("MLREPORT_WEBHOOK_SECRET", "k3y")
        deliver(NotifyConfig.from_options(["webhook"]), manifest, run_dir)
    (request,) = server.requests
    header = request["headers"]["X-Mlreport-Signature-256"]
    assert check(request["body"], header, "k3y")
    assert not check(request["body"] + b" ", header, "k3y") and not check(request["body"], header, "other")
