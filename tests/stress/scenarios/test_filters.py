"""Tests of mlreport.stress.scenarios: every operator, and errors naming the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlreport.errors import ScenarioError
from mlreport.stress.scenarios import parse_filter


def test_filter_operators():
    frame = pd.DataFrame({"x": [1.0, 5.0, np.nan, 9.0], "g": ["a", "b", "c", None]})
    mask = lambda spec: parse_filter(spec, context="t").mask(frame).tolist()  # noqa: E731
    assert mask({"g": "a"}) == [True, False, False, False]
    assert mask({"g": ["a", "b"]}) == [True, True, False, False]
    assert mask({"x": {">": 2}}) == [False, True, False, True]
    assert mask({"x": {">=": 1, "<": 9}}) == [True, True, False, False]
    assert mask({"x": {"missing": True}}) == [False, False, True, False]
    assert mask({"g": {"not_in": ["a"]}}) == [False, True, True, False]
    assert mask({"g": {"!=": "a"}, "x": {"<=": 5}}) == [False, True, False, False]


def test_filter_errors_name_the_column():
    with pytest.raises(ScenarioError, match=r"unknown filter operator 'like'.*'g'"):
        parse_filter({"g": {"like": "a%"}}, context="t")
    frame = pd.DataFrame({"g": ["a", "b"]})
    with pytest.raises(ScenarioError, match="cannot compare column 'g'"):
        parse_filter({"g": {">": 3}}, context="t").mask(frame)
    with pytest.raises(ScenarioError, match="'nope' is not in the data"):
        parse_filter({"nope": 1}, context="t").mask(frame)
