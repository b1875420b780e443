"""Notebook parameters: what a notebook declares, and validating what is passed.

A notebook declares its parameters in the cell tagged ``parameters``, one per
line::

    current_path = ""        # CSV or Parquet file, glob or folder; "" = sample data
    psi_bins = 10            # reference-quantile bins for PSI

:func:`declared_parameters` reads name, type, default and help from that cell
with :mod:`ast` (nothing is executed). :func:`validate_parameters` then checks
what a user passes before papermill sees it:

- the name must be declared (a typo gets the valid names and the closest one);
- the value must be a JSON type (str, int, float, bool, None, list, dict with
  string keys), finite, and is coerced to the declared type;
- strings declared as dates (ISO default, or a name ending in ``_date``,
  ``_start``, ``_end``) must parse as ISO 8601;
- then the analysis' own checks run (:func:`check_domains`): its
  ``<Name>Parameters`` dataclass refuses what is outside a parameter's domain
  (a negative ``seed``, ``psi_bins`` below 2, an unknown backend) here,
  before a kernel starts, with exit code 2, rather than in the notebook.

papermill writes parameters into the kernel as Python source. Names are
therefore restricted to declared identifiers, and values to JSON types that
papermill's translator renders as literals (its string escaping is covered by
tests with values crafted to break out of the quoting).
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import io
import json
import math
import os
import tokenize
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from ..analysis import check_parameters as check_domains
from ..analysis import parameters_class
from ..data import credentials_problem
from ..errors import ParameterError

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "Parameter",
    "declared_parameters",
    "parameters_cell",
    "validate_parameters",
    "parse_cli_value",
    "load_params_file",
    "parse_assignments",
    "parameters_class",
    "check_domains",
]

_TYPES: dict[type, str] = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}
MAX_STRING = 100_000
MAX_DEPTH = 20


@dataclass(frozen=True)
class Parameter:
    """One declared notebook parameter."""

    name: str
    type: str  # bool | int | float | str | list | dict | any
    default: Any
    help: str = ""

    @property
    def is_date(self) -> bool:
        if self.type != "str":
            return False
        if self.name.endswith(("_date", "_start", "_end")):
            return True
        return bool(self.default) and _parse_iso(self.default) is not None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "default": self.default, "help": self.help}


def parameters_cell(notebook: NotebookNode) -> NotebookNode | None:
    """The cell tagged ``parameters``, or None."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def declared_parameters(notebook: str | os.PathLike[str] | NotebookNode) -> dict[str, Parameter]:
    """Parameters declared in a notebook's ``parameters`` cell, in order."""
    node: NotebookNode = (
        notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(os.fspath(notebook), as_version=4)
    )
    cell = parameters_cell(node)
    if cell is None:
        return {}
    source = cell.source
    comments = _line_comments(source)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"parameters cell does not parse: {exc}") from None
    declared: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value_node = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value_node = node.target.id, node.value
        else:
            continue
        try:
            default = ast.literal_eval(value_node)
        except ValueError:
            raise ParameterError(
                f"parameter {name!r}: default must be a literal (number, string, bool, list, dict)", name=name
            ) from None
        kind = "any" if default is None else _TYPES.get(type(default), "any")
        declared[name] = Parameter(name, kind, default, comments.get(node.lineno, ""))
    return declared


def _line_comments(source: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        pass
    return comments


def _parse_iso(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _check_json(value: object, where: str, depth: int = 0) -> Any:
    """Refuse anything that is not a plain JSON value; normalise dates to ISO."""
    if depth > MAX_DEPTH:
        raise ParameterError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(f"{where}: {value!r} is not a finite number")
        return value
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ParameterError(f"{where}: string longer than {MAX_STRING} characters")
        if "\x00" in value:
            raise ParameterError(f"{where}: string holds a NUL character")
        secret = credentials_problem(value)
        if secret:  # parameters are recorded in run.json and the notebook: refuse before anything runs
            raise ParameterError(f"{where}: {secret}")
        return value
    if isinstance(value, (dt.datetime, dt.date)):  # TOML and YAML dates
        return value.isoformat()
    if isinstance(value, list):
        return [_check_json(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ParameterError(f"{where}: dict key {key!r} is not a string")
            result[key] = _check_json(item, f"{where}.{key}", depth + 1)
        return result
    raise ParameterError(
        f"{where}: {type(value).__name__} is not a JSON type (string, number, bool, null, list, object)"
    )


_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


def _coerce(value: object, parameter: Parameter) -> Any:
    where = f"parameter {parameter.name!r}"
    expected = f"expected {parameter.type}"
    kind = parameter.type
    if kind == "any" or (value is None and kind in ("str", "list", "dict")):
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
    elif kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                pass
            else:
                if math.isfinite(number):
                    return number
    elif kind == "str":
        if isinstance(value, str):
            if parameter.is_date and value and _parse_iso(value) is None:
                raise ParameterError(
                    f"{where}: {value!r} is not an ISO 8601 date (expected e.g. 2026-03-14 or 2026-03-14T10:00)",
                    name=parameter.name,
                )
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
    elif kind == "list":
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
    elif kind == "dict" and isinstance(value, dict):
        return value
    raise ParameterError(f"{where}: {value!r} has the wrong type; {expected}", name=parameter.name)


def validate_parameters(
    values: Mapping[str, Any], declared: Mapping[str, Parameter], *, analysis: str = "notebook"
) -> dict[str, Any]:
    """Check names and values against the declared parameters; return coerced values."""
    result: dict[str, Any] = {}
    for name, value in values.items():
        if not isinstance(name, str) or name not in declared:
            valid = ", ".join(declared) or "(none)"
            close = difflib.get_close_matches(str(name), list(declared), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ParameterError(
                f"{analysis}: unknown parameter {str(name)!r}{hint} Valid parameters: {valid}",
                name=str(name),
            )
        checked = _check_json(value, f"parameter {name!r}")
        result[name] = _coerce(checked, declared[name])
    return result


def parse_cli_value(text: str) -> Any:
    """A ``--param NAME=VALUE`` value: JSON when it parses as JSON, else the raw string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}``."""
    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param {item!r}: expected NAME=VALUE")
        values[name.strip()] = parse_cli_value(text)
    return values


def load_params_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parameters from a JSON, YAML or TOML file (by extension).

    YAML is read with the safe loader, which refuses ``!!python/...`` tags;
    what it still builds that is not JSON (``!!binary`` bytes, sets) is refused
    by :func:`validate_parameters`. TOML and YAML dates become ISO strings.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterError(f"{path}: parameters file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path}: cannot read parameters file ({exc})") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        else:
            raise ParameterError(f"{path}: unknown parameters file type; expected .json, .yaml, .yml or .toml")
    except ParameterError:
        raise
    except Exception as exc:  # json, yaml and toml each raise their own error types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ParameterError(f"{path}: not valid {suffix.lstrip('.').upper()} ({first})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of parameter names to values, got {type(data).__name__}")
    return {str(k) if isinstance(k, str) else k: v for k, v in data.items()}
