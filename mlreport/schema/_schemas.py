"""The JSON Schemas shipped in the package, by name, and checking a document against one."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ..errors import InputError

__all__ = ["SCHEMAS", "schema", "schema_text", "problems", "validate"]

#: Name -> what it describes. Each is ``mlreport/schema/<name>.schema.json`` (JSON Schema 2020-12).
SCHEMAS: dict[str, str] = {
    "manifest": "run.json, the manifest of every run",
    "result": "the object `mlreport run --json` prints (RunResult.to_dict()), or its invocation error",
    "jobs": "a jobs file of `mlreport batch` (TOML, as parsed)",
    "spec": "a model spec (TOML, as parsed)",
    "notification": "the body the generic webhook channel POSTs",
}


def _known(name: str) -> str:
    if name not in SCHEMAS:
        raise InputError(f"unknown schema {name!r}; available: {', '.join(SCHEMAS)}")
    return name


def schema_text(name: str) -> str:
    """The schema ``name`` as shipped (JSON text)."""
    return resources.files(__package__).joinpath(f"{_known(name)}.schema.json").read_text(encoding="utf-8")


@cache
def _parsed(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_text(name))
    return data


def schema(name: str) -> dict[str, Any]:
    """The schema ``name`` as a dict (a copy: change it freely)."""
    return json.loads(json.dumps(_parsed(_known(name))))


def problems(name: str, document: object) -> list[str]:
    """Where ``document`` breaks schema ``name``: one line per problem (JSON path and message); [] when valid."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(_parsed(_known(name)))
    found = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        where = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "(top)"
        found.append(f"{where}: {error.message}")
    return found


def validate(name: str, document: object, *, source: str = "document") -> None:
    """Raise an InputError naming ``source`` and every problem when ``document`` breaks schema ``name``."""
    found = problems(name, document)
    if found:
        listing = "\n  ".join(found[:20])
        raise InputError(f"{source}: does not match the {name} schema ({len(found)} problem(s)):\n  {listing}")
