"""The shipped JSON Schemas: valid schemas, and true of what mlreport really writes and reads."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from cli_runs import run_dirs
from jsonschema import Draft202012Validator

from mlreport import spec as spec_module
from mlreport.driver import load_jobs, parse_date
from mlreport.errors import InputError, SpecError
from mlreport.notify import Message, webhook_payload
from mlreport.schema import SCHEMAS, problems, schema, schema_text, validate
from mlreport.spec import ModelSpec

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_every_schema_is_a_valid_versioned_2020_12_schema(name):
    document = schema(name)
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == f"urn:mlreport:schema:{name}:1" and document["schema_version"] == 1
    assert json.loads(schema_text(name)) == document


def test_the_schema_command_prints_the_shipped_text(capsys):
    from mlreport.cli import main

    assert main(["schema", "manifest"]) == 0
    assert capsys.readouterr().out == schema_text("manifest")
    assert main(["schema"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == list(SCHEMAS)
    assert main(["schema", "run"]) == 2
    assert "unknown schema 'run'; available: manifest, result, jobs, spec, notification" in capsys.readouterr().err


# -- what runs write ------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_run_json_and_the_json_output_of_real_runs_match(cli, tmp_path):
    outputs = []
    for args in (["fixture", "-p", "status=incident"], ["fixture"], ["failing", "-p", "error=DataError"],
                 ["failing"]):
        result = cli("run", *args, "--out", "out", "--json")
        assert result.returncode in (0, 1, 2, 3), result.stderr[-2000:]
        outputs.append(json.loads(result.stdout))
    for data in outputs:
        assert problems("result", data) == [], data
    assert [d["exit_code"] for d in outputs] == [1, 0, 2, 3]
    manifests = [json.loads((d / "run.json").read_text()) for d in run_dirs(tmp_path / "out")]
    assert len(manifests) == 4
    for manifest in manifests:
        assert problems("manifest", manifest) == [], manifest["run_id"]
    bad = cli("run", "fixture", "-p", "stauts=ok", "--json")
    assert bad.returncode == 2 and problems("result", json.loads(bad.stdout)) == []


@pytest.mark.e2e
def test_the_manifest_of_a_real_analysis_matches(tmp_path):
    from cli_runs import run_cli

    result = run_cli("run", "volume", "--out", str(tmp_path / "out"), "--json", "--fail-on", "never", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    validate("result", data, source="mlreport run volume --json")
    manifest = json.loads((Path(data["run_dir"]) / "run.json").read_text())
    validate("manifest", manifest, source="run.json")
    assert manifest["metrics"]["decision_rate"]  # the key numbers are there for the exports


def test_a_manifest_that_breaks_the_contract_is_caught():
    broken = {"schema_version": 2, "run_id": "not-an-id", "status": "fine"}
    found = problems("manifest", broken)
    assert any(line.startswith(".schema_version:") for line in found)
    assert any(line.startswith(".run_id:") for line in found) and any(line.startswith(".status:") for line in found)
    assert any("'analysis' is a required property" in line for line in found)
    with pytest.raises(InputError, match=r"run.json: does not match the manifest schema \(\d+ problem"):
        validate("manifest", broken, source="run.json")


def test_the_webhook_body_matches(tmp_path):
    manifest = {"run_id": "20260314T020003Z-3f9a1c2b", "analysis": "drift", "model": "m", "status": "failed",
                "exit_code": 3, "headline": "Run failed: x", "error": {"kind": "error", "message": "x"},
                "counts": {}, "findings": []}
    body = webhook_payload(Message.from_manifest(manifest, tmp_path, report_url="https://r.example"))
    assert problems("notification", body) == []
    assert problems("notification", {**body, "status": "fine"}) != []


# -- what mlreport reads: the schema and the loaders agree -------------------------------------------------


def _toml_blocks(path: Path) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def _jobs_blocks() -> list[dict]:
    blocks = []
    for doc in (ROOT / "docs").glob("*.md"):
        for text in _toml_blocks(doc):
            data = tomllib.loads(text)
            if "job" in data:
                blocks.append(data)
    return blocks


def test_every_jobs_file_in_the_docs_matches():
    blocks = _jobs_blocks()
    assert len(blocks) >= 2  # operations.md and integrations.md each show one
    for data in blocks:
        assert problems("jobs", data) == [], data


JOBS_CASES = [
    ('[[job]]\nname = "a"\nanalysis = "fixture"\n', True),
    ('schema_version = 1\n[notify]\nchannels = ["slack"]\non = "warning"\n[[job]]\nname = "a"\nanalysis = "fixture"\n'
     '[job.export]\nmlflow = false\n', True),
    ('[[job]]\nname = "a"\nanalysis = "fixture"\n[job.notify]\nchannels = "teams"\n[job.notify.teams]\n'
     'url_env = "TEAMS_HOOK"\n', True),
    ('[[job]]\nname = "a"\nanalysis = "fixture"\nretries = 2\n', False),  # unknown job key
    ('[[job]]\nname = ""\nanalysis = "fixture"\n', False),
    ('[[job]]\nname = "a"\nanalysis = "fixture"\nanalyses = ["fixture"]\n', False),
    ('[[job]]\nname = "a"\nanalysis = "fixture"\nfail_on = "sometimes"\n', False),
    ('[[job]]\nname = "a"\nanalysis = "fixture"\ntimeout = -1\n', False),
    ('[jobs]\nname = "a"\n', False),
    ('schema_version = 2\n[[job]]\nname = "a"\nanalysis = "fixture"\n', False),
    ('[notify]\nchannels = ["pager"]\n[[job]]\nname = "a"\nanalysis = "fixture"\n', False),
    ('[notify]\nchannels = ["slack"]\n[notify.slack]\nurl = "https://hooks.example/x"\n[[job]]\nname = "a"\n'
     'analysis = "fixture"\n', False),
    ('[export]\nmlflow_uri = "https://u:p@mlflow.example"\n[[job]]\nname = "a"\nanalysis = "fixture"\n', False),
]


@pytest.mark.parametrize(("text", "valid"), JOBS_CASES)
def test_the_jobs_schema_and_load_jobs_agree(text, valid, fixture_notebooks, tmp_path, monkeypatch):
    monkeypatch.setenv("MLREPORT_NOTEBOOKS", str(fixture_notebooks))
    path = tmp_path / "jobs.toml"
    path.write_text(text)
    assert (problems("jobs", tomllib.loads(text)) == []) is valid
    if valid:
        assert load_jobs(path, date=parse_date("2026-03-14"))
    else:
        with pytest.raises(InputError):
            load_jobs(path, date=parse_date("2026-03-14"))


def _spec_examples() -> list[str]:
    docstring = spec_module.__doc__ or ""
    example = re.search(r"One TOML file per monitored model::\n\n(.*?)\n\nThe ", docstring, flags=re.S)
    assert example is not None
    blocks = ["\n".join(line[4:] for line in example.group(1).splitlines())]
    for doc in (ROOT / "docs").glob("*.md"):
        blocks += [text for text in _toml_blocks(doc) if "features" in tomllib.loads(text)]
    return blocks


SPEC_CASES = [
    ('schema_version = 1\nmodel = "m"\nfeatures = ["a"]\n', True),
    ('model = "m"\nfeature = ["a"]\n', False),
    ('features = "a"\n', False),
    ('label_delay_days = -1\n', False),
    ('[monotone]\na = "up"\n', False),
    ('schema_version = 2\n', False),
    ("timestamp = 3\n", False),
]


@pytest.mark.parametrize(("text", "valid"), SPEC_CASES + [(text, True) for text in _spec_examples()])
def test_the_spec_schema_and_the_spec_loader_agree(text, valid):
    data = tomllib.loads(text)
    assert (problems("spec", data) == []) is valid, problems("spec", data)
    if valid:
        ModelSpec.from_dict(data, source="spec.toml")
    else:
        with pytest.raises(SpecError):
            ModelSpec.from_dict(data, source="spec.toml")
