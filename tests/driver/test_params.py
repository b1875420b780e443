"""Parameter declaration, validation, coercion and injection safety."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest
from papermill.translators import PythonTranslator

from mlreport.driver import (
    declared_parameters,
    load_params_file,
    parse_assignments,
    parse_cli_value,
    validate_parameters,
)
from mlreport.errors import ParameterError


def _nb(source: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), cell]
    return nb


DECLARED = declared_parameters(_nb(
    'name = "x"  # a name\n'
    "count = 3  # how many\n"
    "ratio = 0.5\n"
    "flag = False  # on or off\n"
    "items = []  # a list\n"
    "options = {}  # a dict\n"
    'start_date = ""  # window start\n'
    'as_of = "2026-03-14"  # a date by its default\n'
    "anything = None  # any JSON value\n"
    "typed: int = 7  # annotated\n"
))


def test_declared_names_types_defaults_and_help():
    assert list(DECLARED) == [
        "name", "count", "ratio", "flag", "items", "options", "start_date", "as_of", "anything", "typed",
    ]
    assert DECLARED["count"].type == "int" and DECLARED["count"].default == 3 and DECLARED["count"].help == "how many"
    assert DECLARED["ratio"].type == "float" and DECLARED["ratio"].help == ""
    assert DECLARED["flag"].type == "bool"
    assert DECLARED["items"].type == "list" and DECLARED["options"].type == "dict"
    assert DECLARED["anything"].type == "any"
    assert DECLARED["typed"].type == "int" and DECLARED["typed"].default == 7
    assert DECLARED["start_date"].is_date and DECLARED["as_of"].is_date and not DECLARED["name"].is_date


def test_no_parameters_cell_declares_nothing():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    assert declared_parameters(nb) == {}


def test_non_literal_default_is_refused():
    with pytest.raises(ParameterError, match="literal"):
        declared_parameters(_nb("x = open('f')"))


def test_unknown_name_lists_valid_names_and_closest():
    with pytest.raises(ParameterError) as info:
        validate_parameters({"cuont": 3}, DECLARED)
    message = str(info.value)
    assert "'cuont'" in message and "did you mean 'count'" in message and "ratio" in message


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("count", "12", 12), ("count", 4.0, 4), ("ratio", 2, 2.0), ("ratio", "0.25", 0.25),
        ("flag", "true", True), ("flag", "no", False), ("flag", 1, True), ("name", 5, "5"),
        ("items", "a, b", ["a", "b"]), ("items", ["x", 1], ["x", 1]), ("options", {"a": [1]}, {"a": [1]}),
        ("start_date", "2026-03-01", "2026-03-01"), ("start_date", "", ""),
        ("anything", [1, {"a": None}], [1, {"a": None}]),
    ],
)
def test_values_are_coerced_to_declared_type(name, value, expected):
    assert validate_parameters({name: value}, DECLARED) == {name: expected}


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("count", "three", "expected int"), ("count", 2.5, "expected int"), ("ratio", "nan", "expected float"),
        ("ratio", float("inf"), "not a finite number"), ("flag", "maybe", "expected bool"),
        ("options", [1], "expected dict"), ("start_date", "14/03/2026", "ISO 8601"), ("as_of", "yesterday", "ISO 8601"),
        ("name", b"bytes", "not a JSON type"), ("items", [{1, 2}], "not a JSON type"),
        ("options", {1: "a"}, "not a string"),
        ("name", "a\x00b", "NUL"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(name, value, fragment):
    with pytest.raises(ParameterError) as info:
        validate_parameters({name: value}, DECLARED)
    assert name in str(info.value) and fragment in str(info.value)


def test_cli_values_parse_as_json_else_string():
    assert parse_cli_value("3") == 3 and parse_cli_value('["a"]') == ["a"] and parse_cli_value("abc") == "abc"
    assert parse_assignments(["a=1", "b=x=y"]) == {"a": 1, "b": "x=y"}
    with pytest.raises(ParameterError, match="NAME=VALUE"):
        parse_assignments(["novalue"])


def test_params_files_json_yaml_toml(tmp_path: Path):
    (tmp_path / "p.json").write_text(json.dumps({"count": 2}))
    (tmp_path / "p.yaml").write_text("count: 2\nstart_date: 2026-03-01\n")
    (tmp_path / "p.toml").write_text("count = 2\nstart_date = 2026-03-01\n")
    assert load_params_file(tmp_path / "p.json") == {"count": 2}
    expected = {"count": 2, "start_date": "2026-03-01"}
    assert validate_parameters(load_params_file(tmp_path / "p.yaml"), DECLARED) == expected
    assert validate_parameters(load_params_file(tmp_path / "p.toml"), DECLARED) == expected


def test_params_file_errors(tmp_path: Path):
    with pytest.raises(ParameterError, match="not found"):
        load_params_file(tmp_path / "missing.json")
    (tmp_path / "p.ini").write_text("a=1")
    with pytest.raises(ParameterError, match="unknown parameters file type"):
        load_params_file(tmp_path / "p.ini")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ParameterError, match="not valid JSON"):
        load_params_file(tmp_path / "bad.json")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ParameterError, match="mapping"):
        load_params_file(tmp_path / "list.yaml")


@pytest.mark.parametrize(
    "document",
    [
        "name: !!python/object/apply:os.system ['touch /tmp/pwned']\n",
        "name: !!python/name:os.system\n",
        "name: !!python/object/new:subprocess.Popen [['true']]\n",
    ],
)
def test_yaml_python_tags_never_construct_objects(tmp_path: Path, document: str):
    path = tmp_path / "p.yaml"
    path.write_text(document)
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_params_file(path)


def test_yaml_binary_tag_is_not_a_json_value(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text("name: !!binary aW1wb3J0IG9z\n")
    with pytest.raises(ParameterError, match="not a JSON type"):
        validate_parameters(load_params_file(path), DECLARED)


@pytest.mark.parametrize("name", ["x=0; import os; y", "__import__('os')", "a b", "count\n", "os.system"])
def test_names_that_are_not_declared_identifiers_are_refused(name: str):
    with pytest.raises(ParameterError, match="unknown parameter"):
        validate_parameters({name: 1}, DECLARED)


HOSTILE_STRINGS = [
    '"; import os; os.system("touch /tmp/pwned"); "',
    "'; import os; '",
    '\\"; import os; x = "',
    '\\',
    'a\\',
    '"""',
    "'''",
    "\n__import__('os').system('touch /tmp/pwned')\n",
    "\r\nimport os",
    "\u2028import os",
    "{0.__class__}",
    "\\N{LATIN SMALL LETTER A}",
    "\\x41\\u0041",
    "😀 ‮ zero​width",
]


@pytest.mark.parametrize("value", HOSTILE_STRINGS)
def test_papermill_renders_hostile_values_as_inert_literals(value: str):
    """The source papermill writes into the kernel is one literal assignment per name."""
    params = validate_parameters({"name": value, "items": [value], "options": {value: value}}, DECLARED)
    source = PythonTranslator.codify(params)  # exactly what papermill injects
    tree = ast.parse(source)
    assert all(isinstance(node, ast.Assign) for node in tree.body) and len(tree.body) == 3
    values = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body}
    assert values == {"name": value, "items": [value], "options": {value: value}}
