"""Which column of a decision log plays which role, and the input checks every counter shares.

:func:`resolve_roles` fills the column roles (timestamp, decision, segments,
score, override, decision labels) from parameters, a model spec or inference
(:func:`mlreport.spec.infer_spec`); :func:`decision_roles` is the one form
every counter keeps them in. The checks (:func:`check_roles`,
:func:`check_decision_labels`) look at column names and label counts only, so
the in-memory counter (:mod:`mlreport.counts`) and the SQL backends
(:mod:`mlreport.backends`) refuse bad input with the same messages.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Required, TypedDict

import numpy as np
import pandas as pd

from ..data import InputLog
from ..errors import DataError

if TYPE_CHECKING:
    from ..spec import ModelSpec

__all__ = [
    "ROLE_ROWS", "DecisionRoles", "RoleArguments", "resolve_roles", "decision_roles", "check_roles",
    "check_decision_labels",
]

ROLE_ROWS = 10_000
"""Rows a backend reads to infer column roles when the log is not in memory (the first rows)."""


class DecisionRoles(TypedDict):
    """Which column of a decision log plays which role, as every counter keeps them.

    ``timestamp_column`` and ``decision_column`` are always named;
    ``segment_columns`` may be empty; ``score_column``, ``override_column`` and
    ``decision_labels`` (the display order of the labels) are None when not
    given. A dict, so that ``count_decisions(frame, config, **roles)`` and
    ``backend.decision_counts(source, config, **roles)`` take it as keywords.
    """

    timestamp_column: str
    decision_column: str
    segment_columns: list[str]
    score_column: str | None
    override_column: str | None
    decision_labels: list[str] | None


class RoleArguments(TypedDict, total=False):
    """The column roles a counter takes as keywords, before :func:`decision_roles` checks them.

    ``timestamp_column`` and ``decision_column`` are required; the others
    default to no segments, no score, no override and the labels in the order
    found. A :class:`DecisionRoles` passes as ``**roles`` too.
    """

    timestamp_column: Required[str]
    decision_column: Required[str]
    segment_columns: Sequence[str]
    score_column: str | None
    override_column: str | None
    decision_labels: Sequence[str] | None


def resolve_roles(
    frame: pd.DataFrame,
    *,
    spec: ModelSpec | None = None,
    timestamp_column: str = "",
    decision_column: str = "",
    segment_columns: Sequence[str] = (),
    score_column: str = "",
    override_column: str = "",
    decision_labels: Sequence[str] = (),
    inputs: InputLog | None = None,
) -> DecisionRoles:
    """The column roles of a decision log: parameters first, then the spec, then inference.

    ``spec`` is a :class:`mlreport.spec.ModelSpec` (or None, in which case roles
    left empty are inferred with :func:`mlreport.spec.infer_spec`). Empty
    strings and empty lists mean "not given". The override column is never
    inferred. Raises :class:`~mlreport.errors.DataError` when the log has no
    rows (checked first: an empty log has nothing to infer roles from), when no
    timestamp or decision column can be found, or a named column is absent.
    ``inputs``, the log the frame was read into, lets an empty log's message
    name its file(s).
    """
    _check_rows(frame, inputs)
    given_missing = not (timestamp_column and decision_column and list(segment_columns) and score_column)
    if spec is None and given_missing:
        from ..spec import infer_spec

        spec = infer_spec(frame)
    roles: DecisionRoles = {
        "timestamp_column": timestamp_column or (spec.timestamp if spec is not None else ""),
        "decision_column": decision_column or (spec.decision if spec is not None else ""),
        "segment_columns": list(segment_columns) or (list(spec.segments) if spec is not None else []),
        "score_column": score_column or (spec.score if spec is not None else "") or None,
        "override_column": override_column or None,
        "decision_labels": list(decision_labels)
        or (list(spec.decision_labels.values()) if spec is not None else [])
        or None,
    }
    required = (("timestamp_column", roles["timestamp_column"]), ("decision_column", roles["decision_column"]))
    for role, column in required:
        if not column:
            raise DataError(
                f"no {role.replace('_column', '')} column: give the {role} parameter or a model "
                f"spec; the data has columns {list(map(str, frame.columns))[:30]}",
            )
    check_roles(list(frame.columns), roles)
    return roles


def _log_source(frame: pd.DataFrame, inputs: InputLog | None) -> str:
    """The file(s) the decision log was read from, when ``inputs`` recorded them.

    The volume analysis loads the log under the name "decisions"; the paths are
    named only when their recorded row count is this frame's, so that a frame
    built some other way is not blamed on a file.
    """
    recorded = [record for record in inputs or () if record.name == "decisions"]
    if recorded and sum(int(record.rows or 0) for record in recorded) == len(frame):
        return ", ".join(record.path for record in recorded)
    return ""


def _check_rows(frame: pd.DataFrame, inputs: InputLog | None = None) -> None:
    if len(frame) == 0:
        source = _log_source(frame, inputs)
        where = f" ({source})" if source else ""
        raise DataError(
            f"the decision log{where} has no rows: nothing to count; expected one row per decision",
            path=source or None,
        )


def check_decision_labels(counts: Mapping[str, int], total: int, column: str, limit: int) -> None:
    """Refuse a decision column with no values, or with more labels than a decision has.

    ``counts``: rows per label present (missing values left out); ``total``:
    all rows. Shared by every counter, so each refuses with the same message.
    """
    if not counts:
        raise DataError(
            f"decision column {column!r} has no values: all {total:,} rows are missing; expected "
            "decision labels such as approve, refer or decline",
            column=column,
        )
    if len(counts) > limit:
        examples = ", ".join(repr(name) for name in sorted(counts)[:3])
        raise DataError(
            f"decision column {column!r} has {len(counts):,} distinct values ({examples}, ...); expected a "
            f"few decision labels such as approve, refer or decline (at most {limit}, the "
            "max_decision_labels setting). Is it an id or a score column?",
            column=column,
        )


def _check_decisions(raw: np.ndarray, levels: Sequence[object], column: str, limit: int) -> None:
    """:func:`check_decision_labels` on a frame's codes (``-1`` missing)."""
    frequency = np.bincount(raw[raw >= 0], minlength=len(levels))
    used = np.flatnonzero(frequency)
    check_decision_labels({str(levels[int(i)]): int(frequency[i]) for i in used}, int(raw.size), column, limit)


def check_roles(columns: Sequence[Hashable], roles: DecisionRoles) -> None:
    """The columns ``roles`` name are among ``columns``, and no segment is the timestamp or decision.

    On column names only, so every counter (a frame, or a backend's table)
    checks the same way with the same messages.
    """
    present = set(columns)
    named = [roles["timestamp_column"], roles["decision_column"], *roles["segment_columns"]]
    named += [column for column in (roles["score_column"], roles["override_column"]) if column]
    for column in named:
        if column not in present:
            raise DataError(
                f"column {column!r} not found; the data has columns {list(map(str, columns))[:30]}",
                column=column,
            )
    if roles["timestamp_column"] in roles["segment_columns"] or roles["decision_column"] in roles["segment_columns"]:
        raise DataError(
            "segment_columns must not include the timestamp or decision column",
            column=roles["decision_column"],
        )


def decision_roles(
    *,
    timestamp_column: str,
    decision_column: str,
    segment_columns: Sequence[str] = (),
    score_column: str | None = None,
    override_column: str | None = None,
    decision_labels: Sequence[str] | None = None,
) -> DecisionRoles:
    """The column roles of a decision log as :attr:`~mlreport.counts.DecisionCounts.roles` keeps them.

    Empty names and lists become None (segments an empty list). Every counter
    (:func:`~mlreport.counts.count_decisions`, the SQL backends) builds
    its roles here.
    """
    return {
        "timestamp_column": timestamp_column,
        "decision_column": decision_column,
        "segment_columns": list(segment_columns),
        "score_column": score_column or None,
        "override_column": override_column or None,
        "decision_labels": list(decision_labels) if decision_labels else None,
    }
