"""Tests of mlreport.stress.scenarios: the file formats, their validation, the built-in suite."""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from mlreport.data import InputLog
from mlreport.errors import ScenarioError
from mlreport.stress.scenarios import load_scenarios, parse_scenarios, resolve


def test_yaml_and_toml_give_the_same_scenarios():
    yaml_text = """
scenarios:
  - name: up
    shocks:
      - {type: relative, column: income, by: 0.1}
  - name: unseen
    shocks:
      - {type: category_remap, column: grade, share: 0.5}
"""
    toml_text = """
[[scenario]]
name = "up"
shocks = [{ type = "relative", column = "income", by = 0.1 }]
[[scenario]]
name = "unseen"
shocks = [{ type = "category_remap", column = "grade", share = 0.5 }]
"""
    from_yaml = parse_scenarios(yaml_text, fmt="yaml", path="s.yaml")
    from_toml = parse_scenarios(toml_text, fmt="toml", path="s.toml")
    assert from_yaml.scenarios == from_toml.scenarios


@pytest.mark.parametrize(
    "shock, message",
    [
        ('{ type = "explode", column = "income" }', r"unknown shock type 'explode'; valid types: relative, absolute"),
        ('{ type = "relative", column = "income", by = "ten" }', r"'by' must be a number, got 'ten'"),
        ('{ type = "relative", column = "income", by = -1.5 }', r"would flip signs"),
        ('{ type = "set_missing", column = "income", share = 1.5 }', r"share must be a number between 0 and 1"),
        ('{ type = "relative", column = "income", by = 0.1, size = 2 }', r"unknown key 'size'"),
        ('{ type = "relative", by = 0.1 }', r"missing required key 'column'"),
        ('{ type = "noise", column = "@everything", sd = 1 }', r"unknown column selector '@everything'"),
        ('{ type = "category_reweight", column = "g", shares = { a = 0.8, b = 0.5 } }', r"sum to 1.3"),
        ('{ type = "macro", column = "g" }', r"macro variables go in the scenario's 'macro' table"),
    ],
)
def test_shock_validation_errors_name_file_and_scenario(shock, message):
    text = f'[[scenario]]\nname = "bad one"\nshocks = [{shock}]\n'
    with pytest.raises(ScenarioError, match=message) as info:
        parse_scenarios(text, path="my_scenarios.toml")
    assert "my_scenarios.toml" in str(info.value) and "'bad one'" in str(info.value)
    assert info.value.scenario == "bad one" and info.value.path == "my_scenarios.toml"


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[scenario]]\nname = 'a'\nshocks = [{ type = 'noise', column = 'x', sd = 1 }]\n"
         "[[scenario]]\nname = 'a'\nshocks = [{ type = 'noise', column = 'x', sd = 1 }]",
         "'a': duplicate scenario name"),
        ("[[scenario]]\nname = 'a'\nmacro = { gdp = 1 }", "macro variable 'gdp' has no elasticities"),
        ("[[scenario]]\nname = 'a'\nshocks = [{ type = 'relative', column = 'x', by = 1 }]\nextra = 1",
         "unknown key 'extra'"),
        ("scenario = 3", "no scenarios"),
        ("[[scenario]]\nname = 'a'\n", "no shocks and no macro"),
        ("[[scenario\nname = 'a'", "not valid TOML"),
        ("[tolerance]\nmax_rate_change_pp = 'big'\n[[scenario]]\nname='a'\nshocks=[{type='relative',column='x',by=1}]",
         "max_rate_change_pp must be a number"),
    ],
)
def test_file_validation_errors(text, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenarios(text, path="f.toml")


def test_builtin_suite_loads_and_fits_a_model_without_those_columns():
    suite = load_scenarios("")
    text = resources.files("mlreport.stress.scenarios").joinpath("default_scenarios.toml").read_text("utf-8")
    assert suite.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert len(suite.scenarios) >= 14
    frame = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10) % 3, "k": list("xyzxyzxyzx")})
    resolved = resolve(suite, frame=frame, features=["a", "b", "k"])
    applicable = [r for r in resolved if r.applicable]
    assert len(applicable) >= 14
    macro = [r for r in resolved if r.macro]
    assert macro and not any(r.applicable for r in macro)  # none of its columns exist here


def test_load_scenarios_file_errors(tmp_path):
    with pytest.raises(ScenarioError, match=r"expected a \.toml, \.yaml or \.yml file"):
        load_scenarios(str(tmp_path / "s.json"))
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenarios(str(tmp_path / "missing.toml"))
    path = tmp_path / "s.yml"
    path.write_text("scenarios:\n  - name: a\n    shocks: [{type: noise, column: x, sd: 0.5}]\n")
    assert load_scenarios(str(path)).scenarios[0].shocks[0].sd == 0.5


def test_load_scenarios_hashes_and_records_the_bytes_it_parsed(tmp_path):
    """Issue 16: a scenario file is an input of the run, recorded by the sha256 of the bytes parsed (read once)."""
    content = b'[[scenario]]\r\nname = "a"\r\nshocks = [{type = "noise", column = "x", sd = 0.5}]\r\n'
    path = tmp_path / "s.toml"
    path.write_bytes(content)
    log = InputLog()
    suite = load_scenarios(str(path), log=log)
    digest = hashlib.sha256(content).hexdigest()
    assert (suite.sha256, suite.hash_of, suite.names()) == (digest, "file", ["a"])
    assert log.to_list() == [{"name": "scenarios", "path": str(path), "sha256": digest, "hash_of": "file",
                              "bytes": len(content), "rows": None, "columns": None}]
    # CRLF or LF: the same scenarios, different bytes (and so a different hash)
    path.write_bytes(content.replace(b"\r\n", b"\n"))
    again = load_scenarios(str(path))
    assert again.scenarios == suite.scenarios and again.sha256 != digest
    builtin = InputLog()
    default = load_scenarios("", log=builtin)
    (record,) = builtin.to_list()
    assert (record["hash_of"], record["sha256"], record["path"]) == ("text", default.sha256, default.path)
    assert default.hash_of == "text" and default.path.endswith("(built-in)")
    path.write_bytes(b'[[scenario]]\nname = "\xe9"\n')  # Latin-1, not UTF-8
    with pytest.raises(ScenarioError, match=r"s\.toml: not UTF-8 text \(byte 21\); save it as UTF-8"):
        load_scenarios(str(path))
