"""The contract for integrators: JSON Schemas of what mlreport writes and reads, shipped in the package.

:data:`SCHEMAS` names them: ``manifest`` (run.json), ``result`` (the
``mlreport run --json`` object), ``jobs`` (jobs files), ``spec`` (model
specs) and ``notification`` (the generic webhook's body). ``mlreport schema
NAME`` prints one; :func:`schema` returns it as a dict and :func:`validate`
checks a document against it (JSON Schema 2020-12, with ``jsonschema``).

Each schema's ``$id`` ends in its version (``urn:mlreport:schema:manifest:1``)
and so does its ``schema_version``; the documents carry theirs
(``schema_version`` in run.json, the ``--json`` object and the webhook body;
optional ``schema_version = 1`` in jobs files and specs). Adding an optional
field keeps a version; removing, renaming or retyping one bumps it.
"""

from __future__ import annotations

from ._schemas import SCHEMAS, problems, schema, schema_text, validate

__all__ = ["SCHEMAS", "schema", "schema_text", "problems", "validate"]
