"""Which columns a drift report monitors, under which role, and why the others are not: no column left out silently.

Every column of the data (the reference's, then those only in the current
window) gets one row: its type, its role (from the model spec, or inferred:
:func:`mlreport.spec.infer_spec`), whether it is monitored, and where or why
not. In order, a column is not drift-tested when it is

1. the timestamp, the id or the target (each has its own check: periods and
   freshness, duplicates, performance);
2. declared excluded (``exclude`` in the spec), a window label (constant
   within each window, or a calendar column such as ``year`` whose values
   differ between windows), or, with a spec that lists its features, not
   named by the spec;
3. only in the current window (a new column: the schema check reports it);
4. of a type that cannot be binned: lists, structs, maps, sets, bytes, or
   date-times other than the timestamp;
5. null in every reference row: nothing to compare with (a finding, a warning
   when the current window has values);
6. a single value in both windows: no distribution to compare (still checked
   for missing values by integrity).

A column with a single value in the reference that takes others in the
current window is monitored, with a finding of its own: the change is real
but the reference has no spread to measure it against. A reference with fewer
than :data:`MIN_REFERENCE_ROWS` rows gets a finding saying the statistics are
unreliable, and the headline says so instead of counting drifted features.

Constancy and nulls are judged on the rows held in memory (every row with
pandas, else up to ``row_sample`` per window; the table says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..findings import Finding
from ..spec import ModelSpec, Role
from ._columns import MonitoredColumns

__all__ = ["MIN_REFERENCE_ROWS", "SECTION", "ColumnCoverage", "Coverage", "assess_coverage", "unbinnable"]

MIN_REFERENCE_ROWS = 50
"""Reference rows below which a report's statistics are called unreliable (a finding, and the headline).

Ten reference-quantile bins of 50 rows hold 5 rows each, the least for which
a chi-square test is taken as valid; with fewer, bins, categories and ranges
are too coarse for any verdict (a "0 of 15 features drifted" would mean
nothing).
"""

SECTION = "Coverage"

_METHOD = "coverage: every column's role (spec or inferred from names and content) and whether drift tests it"
_WHERE = {
    "feature": "Feature drift, drift over time, the domain classifier",
    "segment": "Feature drift, drift over time, Drift by segment (per level)",
    "score": "Prediction drift, drift over time",
    "decision": "Prediction drift, drift over time",
}


@dataclass(frozen=True)
class ColumnCoverage:
    """One column of the data: its type and role, and whether drift monitors it (``detail``: where, or why not)."""

    column: str
    dtype: str
    role: str
    monitored: bool
    detail: str


@dataclass(frozen=True)
class Coverage:
    """Every column of the data with its role and monitoring, the columns to monitor, and the findings.

    ``monitored`` are the columns drift compares (features, segments, score,
    decision); ``integrity_columns`` those the integrity checks look at (the
    monitored ones, plus columns constant in both windows, whose nulls still
    matter, and columns only in the current window, for the schema check).
    """

    columns: tuple[ColumnCoverage, ...]
    monitored: MonitoredColumns
    integrity_columns: tuple[str, ...]
    findings: list[Finding] = field(default_factory=list)
    reference_rows: int = 0

    @property
    def reliable(self) -> bool:
        """False when the reference has fewer than :data:`MIN_REFERENCE_ROWS` rows."""
        return self.reference_rows >= MIN_REFERENCE_ROWS

    @property
    def unmonitored(self) -> list[ColumnCoverage]:
        """The columns drift does not test, with why."""
        return [c for c in self.columns if not c.monitored]

    def table(self) -> pd.DataFrame:
        """One row per column: column, type, role, monitored (yes/no), where or why not."""
        frame = pd.DataFrame(
            [(c.column, c.dtype, c.role, c.monitored, c.detail) for c in self.columns],
            columns=["column", "type", "role", "monitored", "where, or why not"],
        )
        frame.attrs["empty_text"] = "the data has no columns"
        return frame


def unbinnable(series: pd.Series) -> str:
    """What a column holds that cannot be binned (``"lists"``, ``"structs"``...), or ``""`` when it can be.

    Arrow-typed columns are judged by their type, object columns by their
    first 100 values: lists, tuples and arrays, dicts (Parquet structs and
    maps), sets, bytes.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        kind = dtype.pyarrow_dtype
        if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
            return "lists"
        if pa.types.is_struct(kind):
            return "structs"
        if pa.types.is_map(kind):
            return "maps"
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            return "bytes"
        return ""
    if not pd.api.types.is_object_dtype(dtype):
        return ""
    for value in series.dropna().head(100):
        if isinstance(value, (list, tuple, np.ndarray)):
            return "lists"
        if isinstance(value, dict):
            return "structs"
        if isinstance(value, (set, frozenset)):
            return "sets"
        if isinstance(value, (bytes, bytearray, memoryview)):
            return "bytes"
    return ""


def assess_coverage(
    spec: ModelSpec,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    reference_rows: int | None = None,
    complete: bool = True,
) -> Coverage:
    """Every column's role and monitoring under ``spec``, judged on ``reference`` and ``current`` (see the module).

    ``reference_rows`` is the reference window's number of rows (its rows in
    memory when not given); ``complete`` is False when the frames are samples
    of their windows (the table then says constancy was judged on them).
    """
    total = len(reference) if reference_rows is None else int(reference_rows)
    on_rows = "" if complete else " (judged on the rows held in memory)"
    roles = _roles(spec)
    names = [str(c) for c in reference.columns] + [str(c) for c in current.columns if c not in reference.columns]
    rows: list[ColumnCoverage] = []
    findings: list[Finding] = []
    drift: list[str] = []
    integrity: list[str] = []
    for name in names:
        if name not in reference.columns:
            rows.append(ColumnCoverage(name, str(current[name].dtype), roles.get(name, "new column"), False,
                                       "only in the current window: a new column (reported by the schema check of "
                                       "Data integrity)"))
            integrity.append(name)
            continue
        role = roles.get(name, "not in the spec")
        judged = _judge(spec, name, role, reference, current, tiny=total < MIN_REFERENCE_ROWS, on_rows=on_rows)
        rows.append(ColumnCoverage(name, str(reference[name].dtype), role, judged.drift, judged.detail))
        findings.extend(judged.findings)
        if judged.drift:
            drift.append(name)
        if judged.integrity:
            integrity.append(name)
    if total < MIN_REFERENCE_ROWS:
        findings.insert(0, _tiny_reference_finding(total))
    unmonitored = [row for row in rows if not row.monitored]
    if unmonitored:
        findings.append(_listing_finding(unmonitored, len(rows)))
    monitored = _monitored(spec, drift)
    integrity_columns = tuple(dict.fromkeys([*monitored.columns, *integrity]))
    return Coverage(tuple(rows), monitored, integrity_columns, findings, total)


class _Judged(NamedTuple):
    """One reference column's fate: drift-tested or not (``detail``: where, or why), integrity-checked, findings."""

    drift: bool
    detail: str
    integrity: bool = False
    findings: tuple[Finding, ...] = ()


def _judge(
    spec: ModelSpec, name: str, role: str, reference: pd.DataFrame, current: pd.DataFrame, *, tiny: bool,
    on_rows: str,
) -> _Judged:
    """Whether drift tests a column of the reference, by its role, then its type, then its values (module rules)."""
    fixed = _fixed_reason(spec, name, role, reference, current)
    if fixed is not None:
        return _Judged(False, fixed)
    series = reference[name]
    cur = current[name] if name in current.columns else None
    held = unbinnable(series) or (unbinnable(cur) if cur is not None else "")
    if held:
        return _Judged(False, f"holds {held}, which cannot be binned or counted as categories")
    if pd.api.types.is_datetime64_any_dtype(series.dtype) or isinstance(series.dtype, pd.PeriodDtype):
        return _Judged(False, "holds date-times: only the timestamp's are used (to cut periods); name it the "
                              "timestamp to use it")
    where = _WHERE.get(role, _WHERE["feature"])
    if cur is None:  # the schema check reports it; drift says the column is absent
        return _Judged(True, f"{where}; missing from the current window (see Data integrity)", True)
    ref_values, cur_values = series.dropna(), cur.dropna()
    if ref_values.empty:
        detail = ("null in every row of both windows" if cur_values.empty
                  else f"null in every reference row ({len(series):,}): no distribution to compare with")
        return _Judged(False, detail + on_rows, False, (_all_null_finding(name, len(series), cur, cur_values),))
    value = _single(ref_values)
    if value is None:
        return _Judged(True, where, True)
    others = cur_values[np.asarray(cur_values != value, dtype=bool)] if len(cur_values) else cur_values
    if others.empty:
        return _Judged(False, f"a single value ({_text(value)}) in both windows: no distribution to compare (still "
                              f"checked for missing values){on_rows}", True)
    # On a tiny reference many columns hold a single value: the reference's own finding says so once.
    found = () if tiny else (_single_value_finding(name, value, len(ref_values), others, len(cur_values)),)
    return _Judged(True, f"{where}; a single value in the reference ({_text(value)}) and others now", True, found)


def _roles(spec: ModelSpec) -> dict[str, str]:
    roles: dict[str, str] = {}
    for column in spec.features:
        roles[column] = "feature"
    for column in spec.segments:
        roles[column] = "segment"
    outputs: tuple[Role, ...] = ("score", "decision", "target", "id", "timestamp")
    for role in outputs:
        column = spec.role(role)
        if column:
            roles[column] = role
    for column in spec.window_labels:
        roles[column] = "window label"
    for column in spec.exclude:
        roles[column] = "excluded"
    return roles


def _fixed_reason(spec: ModelSpec, name: str, role: str, reference: pd.DataFrame, current: pd.DataFrame) -> str | None:
    """Why a column is not drift-tested by its role alone, or None when its content decides."""
    if role == "timestamp":
        return "the timestamp: cuts the periods and dates the findings (freshness, rows per period)"
    if role == "id":
        return "the identifier: checked for duplicates, not for drift"
    if role == "target":
        return "the target: judged under Performance where labels have matured, not as drift (late labels look missing)"
    if role == "excluded":
        return "declared excluded in the model spec (exclude)"
    if role == "window label":
        how = "declared in the model spec (window_labels)" if spec.source != "inferred" else "inferred"
        return f"labels the window, not the rows ({_window_values(name, reference, current)}; {how}): it differs " \
               "between windows by construction"
    if role == "not in the spec":
        return f"not named by the model spec {spec.source} (features, segments or a role): add it to features to " \
               "monitor it"
    return None


def _window_values(name: str, reference: pd.DataFrame, current: pd.DataFrame) -> str:
    parts = []
    for label, frame in (("reference", reference), ("current", current)):
        if name not in frame.columns:
            parts.append(f"absent from the {label}")
            continue
        try:
            values = list(frame[name].dropna().unique()[:4])
        except TypeError:
            parts.append(f"{label}: unhashable values")
            continue
        shown = ", ".join(_text(v) for v in values[:3]) + (", ..." if len(values) > 3 else "")
        parts.append(f"{shown or 'no values'} in the {label}")
    return "; ".join(parts)


def _single(values: pd.Series) -> object | None:
    """The one value of ``values`` (no nulls) when it holds a single one, else None."""
    try:
        first = values.iloc[0]
        same = values == first
        return first if bool(np.all(np.asarray(same, dtype=bool))) else None
    except (TypeError, ValueError):
        return None


def _text(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _all_null_finding(name: str, rows: int, current: pd.Series, values: pd.Series) -> Finding:
    if values.empty:
        return Finding(
            "all_null_reference", name, "ok",
            f"{name}: null in every row of both windows; not monitored", value=0.0, method=_METHOD, section=SECTION,
        )
    share = len(values) / len(current)
    return Finding(
        "all_null_reference", name, "warning",
        f"{name}: null in every reference row ({rows:,}) but {share:.1%} of current rows have values: its drift "
        "cannot be measured without a reference; check whether the feed started filling it (refit the reference "
        "on data that has it)",
        value=round(share * 100, 4), threshold=0.0, method=_METHOD, section=SECTION,
    )


def _single_value_finding(name: str, value: object, n_ref: int, others: pd.Series, n_cur: int) -> Finding:
    share = len(others) / n_cur if n_cur else float("nan")
    try:
        examples = ", ".join(_text(v) for v in others.unique()[:3])
    except TypeError:
        examples = _text(others.iloc[0])
    return Finding(
        "single_value_reference", name, "warning",
        f"{name}: a single value ({_text(value)}) in all {n_ref:,} non-null reference values, but {share:.1%} of "
        f"current values differ (e.g. {examples}): a column that was constant now varies",
        value=round(share * 100, 4), threshold=0.0, method=_METHOD, section=SECTION,
    )


def _tiny_reference_finding(rows: int) -> Finding:
    return Finding(
        "reference_rows", "reference", "warning",
        f"the reference holds only {rows:,} row{'s' if rows != 1 else ''} (fewer than {MIN_REFERENCE_ROWS}), too "
        "few for its bins, categories and ranges: every drift statistic is unreliable, and no verdict here, "
        "healthy or not, is evidence; compare against a larger reference",
        value=float(rows), threshold=float(MIN_REFERENCE_ROWS), method=f"row count; minimum {MIN_REFERENCE_ROWS} "
        "reference rows (10 bins of at least 5)", section=SECTION,
    )


def _listing_finding(unmonitored: Sequence[ColumnCoverage], total: int) -> Finding:
    listed = "; ".join(f"{c.column} ({c.role}: {c.detail.split(':')[0]})" for c in unmonitored[:12])
    more = f"; and {len(unmonitored) - 12} more" if len(unmonitored) > 12 else ""
    return Finding(
        "coverage", "columns", "ok",
        f"{len(unmonitored)} of {total} columns not drift-tested: {listed}{more}",
        value=float(len(unmonitored)), method=_METHOD, section=SECTION,
    )


def _monitored(spec: ModelSpec, drift: Sequence[str]) -> MonitoredColumns:
    """The spec's monitored columns (:meth:`MonitoredColumns.of` order) that coverage kept."""
    kept = set(drift)
    order = MonitoredColumns.wanted(spec)
    columns = tuple(c for c in order if c in kept) + tuple(c for c in drift if c not in order)
    outputs = {spec.score, spec.decision} - {""}
    return MonitoredColumns(columns, tuple(c for c in columns if c not in outputs))
