"""Tests of mlreport.stress.scenarios: macro elasticities, tolerance precedence, selectors, errors."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from mlreport.errors import ScenarioError
from mlreport.stress.scenarios import parse_scenarios, resolve

GOOD = """
[tolerance]
max_rate_change_pp = 3.0

[macro.elasticities.unemployment_pp]
income = { relative = -0.02 }
dti = { relative = 0.03, absolute = 0.01 }

[macro.elasticities.base_rate_pp]
dti = { relative = 0.04 }

[[scenario]]
name = "recession"
macro = { unemployment_pp = 3, base_rate_pp = 1 }

[[scenario]]
name = "broker nulls"
population = { channel = "broker" }
shocks = [{ type = "set_missing", column = "income", share = 0.5, where = { income = { ">" = 0 } } }]
tolerance = { max_rate_change_pp = { approve = 2.0 } }
"""


def frame_for_files() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "income": [10.0, 20.0, 30.0, 40.0],
            "dti": [0.1, 0.2, 0.3, 0.4],
            "channel": ["broker", "online", "broker", "online"],
            "grade": ["A", "B", "A", "C"],
        }
    )


def test_parse_and_resolve_macro_adds_elasticities():
    suite = parse_scenarios(GOOD, path="s.toml")
    assert suite.names() == ["recession", "broker nulls"]
    assert suite.sha256 == hashlib.sha256(GOOD.encode()).hexdigest()
    resolved = resolve(suite, frame=frame_for_files(), features=["income", "dti", "grade"])
    recession = resolved[0]
    by_kind = {(s.column, s.kind): s.by for s in recession.shocks}
    # income: 3 x -0.02 = -0.06; dti relative: 3 x 0.03 + 1 x 0.04 = 0.13; dti absolute 3 x 0.01.
    assert by_kind[("income", "relative")] == pytest.approx(-0.06)
    assert by_kind[("dti", "relative")] == pytest.approx(0.13)
    assert by_kind[("dti", "absolute")] == pytest.approx(0.03)
    assert recession.tolerance.max_rate_change_pp == 3.0  # from the file's [tolerance]
    assert resolved[1].tolerance.limit_pp("approve") == 2.0  # scenario's own table wins
    assert resolved[1].population.describe() == "channel == 'broker'"


def test_resolve_errors_name_the_column_and_scenario():
    text = '[[scenario]]\nname = "s1"\nshocks = [{ type = "relative", column = "salary", by = 0.1 }]\n'
    with pytest.raises(ScenarioError, match=r"scenario 's1'.*column 'salary' is not in the data") as info:
        resolve(parse_scenarios(text, path="f.toml"), frame=frame_for_files(), features=["income"])
    assert info.value.scenario == "s1"
    text = '[[scenario]]\nname = "s2"\nshocks = [{ type = "relative", column = "grade", by = 0.1 }]\n'
    with pytest.raises(ScenarioError, match="needs a numeric column; 'grade'"):
        resolve(parse_scenarios(text, path="f.toml"), frame=frame_for_files(), features=["grade"])
    text = (
        '[[scenario]]\nname = "s3"\npopulation = { region = "x" }\n'
        'shocks = [{ type = "relative", column = "income", by = 0.1 }]\n'
    )
    with pytest.raises(ScenarioError, match="population filter column 'region'"):
        resolve(parse_scenarios(text, path="f.toml"), frame=frame_for_files(), features=["income"])


def test_macro_missing_columns_error_or_skip():
    text = """
[macro.elasticities.hpi]
ltv = { relative = -0.01 }
[[scenario]]
name = "houses"
macro = { hpi = -20 }
"""
    with pytest.raises(ScenarioError, match="maps onto column 'ltv', which is not in the data"):
        resolve(parse_scenarios(text), frame=frame_for_files(), features=["income"])
    skipping = text.replace("[macro.elasticities.hpi]", '[macro]\nmissing_columns = "skip"\n[macro.elasticities.hpi]')
    (houses,) = resolve(parse_scenarios(skipping), frame=frame_for_files(), features=["income"])
    assert not houses.applicable and "ltv not in the data" in houses.notes[0]


def test_selectors_follow_dtypes_and_importance():
    text = """
[[scenario]]
name = "all numeric"
shocks = [{ type = "relative", column = "@numeric", by = 0.1 }]
[[scenario]]
name = "top"
shocks = [{ type = "set_missing", column = "@top_numeric" }, { type = "category_remap", column = "@top_categorical" }]
[[scenario]]
name = "missing everywhere"
shocks = [{ type = "set_missing", column = "@all", share = 0.1 }]
"""
    frame = frame_for_files()
    resolved = resolve(
        parse_scenarios(text), frame=frame, features=["income", "dti", "grade"], importance=["grade", "dti", "income"]
    )
    assert [s.column for s in resolved[0].shocks] == ["income", "dti"]
    assert [s.column for s in resolved[1].shocks] == ["dti", "grade"]
    assert [s.column for s in resolved[2].shocks] == ["income", "dti", "grade"]
