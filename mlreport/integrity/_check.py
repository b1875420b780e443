"""Data-integrity checks: the first section of every drift report.

Integration failures are the commonest incident behind a model that "drifted":
a feature silently defaulted to 0, a bureau call timing out to nulls, a renamed
column, a feed that stopped. These checks compare the current data with the
reference and say what broke, in which column, by how much and since when.

:func:`check_integrity` runs them all at once and gathers their tables and
findings into an :class:`IntegrityResult`. Each check is also a public function
returning a :class:`~mlreport.integrity.CheckResult`:

``_tables``   schema, duplicate ids, freshness, rows per period
``_shares``   missing values, modal and sentinel spikes, infinities
``_domain``   out of range, new and vanished categories, constant columns

Their conventions (also in :func:`~mlreport.integrity.methods`,
printed in the report's appendix) are stated where they are implemented:
thresholds in ``_thresholds``, the rate tests in ``_stats``, the rates
expected of out-of-range values and new categories in ``_domain``, onset
dating in ``_onset``, input validation and timestamps in ``_context``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import DataError
from ..findings import Finding, worst
from ._context import _TIMELINE_COLUMNS, SECTION, _context, _frame
from ._domain import _categories, _constants, _out_of_range
from ._shares import _missing, _non_finite, _sentinels
from ._tables import _duplicates, _freshness, _rows_per_period, _schema
from ._text import _rows
from ._thresholds import methods

__all__ = ["SECTION", "IntegrityResult", "check_integrity"]


@dataclass
class IntegrityResult:
    """All integrity checks of one reference/current comparison.

    ``schema``: one row per column (presence, dtypes, type family, status).
    ``columns``: one row per checked column with every per-column figure.
    ``volume``: rows per period, reference typical against current.
    ``freshness``: one row (latest timestamp, expected end, lag).
    ``thresholds``: every threshold used, with the policy version.
    ``methods``: one convention string per check, for the appendix.
    """

    findings: list[Finding]
    schema: pd.DataFrame
    columns: pd.DataFrame
    volume: pd.DataFrame
    freshness: pd.DataFrame
    timeline: pd.DataFrame
    thresholds: dict[str, Any]
    methods: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The worst severity among the findings (``ok`` when there are none)."""
        return worst(f.severity for f in self.findings)


def check_integrity(reference: pd.DataFrame, current: pd.DataFrame, *,
                    columns: Sequence[str] | None = None, id_column: str | None = None,
                    timestamp_column: str | None = None, categorical: Sequence[str] | None = None,
                    expected_end: Any = None, period: str | None = None,
                    thresholds: Mapping[str, Any] | None = None) -> IntegrityResult:
    """Run every integrity check of ``current`` against ``reference``.

    ``columns`` limits the checks (default: every column); ``id_column`` enables
    the duplicate check; ``timestamp_column`` enables freshness (against
    ``expected_end``, the end of the current window: without it freshness is
    not judged), rows per ``period`` (pandas period alias, default ``"D"``)
    and the onset of each finding;
    ``categorical`` names numeric columns to treat as categories. Columns in
    only one frame are reported by the schema check and the rest are checked on
    the common columns. Bad input raises :class:`DataError` or
    :class:`ParameterError` naming the column or parameter.
    """
    ctx = _context(reference, current, columns=columns, id_column=id_column,
                   timestamp_column=timestamp_column, categorical=categorical,
                   expected_end=expected_end, period=period, thresholds=thresholds)
    if ctx.n_ref == 0:
        raise DataError("reference data has no rows; integrity checks need a reference to "
                        "compare with")
    findings: list[Finding] = []
    if ctx.n_cur == 0:
        findings.append(Finding("rows", "current", "incident",
                                f"current data has no rows (reference {ctx.n_ref:,} rows)",
                                value=0.0, threshold=1.0, method="row count", section=SECTION))
    elif ctx.n_cur < ctx.thresholds["min_rows"]:
        findings.append(Finding("rows", "current", "warning",
                                f"current data has only {_rows(ctx.n_cur)}; the tests have little "
                                f"power below {ctx.thresholds['min_rows']:g} rows",
                                value=float(ctx.n_cur), threshold=float(ctx.thresholds["min_rows"]),
                                method="row count", section=SECTION))
    schema = _schema(ctx, columns)
    parts = [_missing(ctx), _sentinels(ctx), _out_of_range(ctx), _categories(ctx),
             _constants(ctx), _non_finite(ctx)]
    # The table checks below read no per-column array: free them before rows per period (a pass over every
    # timestamp of both windows) instead of holding both at the peak.
    ctx.release()
    duplicates, fresh, volume = _duplicates(ctx), _freshness(ctx), _rows_per_period(ctx)
    # A column now constant also shows a value spike and vanished categories:
    # report the one root cause (the tables keep every figure).
    constant = {f.subject for f in parts[4].findings}
    for part in [schema, *parts, duplicates, fresh, volume]:
        findings.extend(f for f in part.findings if not (
            f.subject in constant and f.check in ("sentinel", "vanished_category")))
    table = pd.DataFrame({"column": list(ctx.checked)
                          + [c for c in (ctx.id_column, ctx.timestamp_column)
                             if c in ctx.families and c not in ctx.checked]})
    table["kind"] = [ctx.kinds.get(c) for c in table["column"]]
    for part in parts:
        if len(part.table):
            table = table.merge(part.table, on="column", how="left")
    severity_columns = [c for c in table.columns if c.endswith("severity")]
    table["severity"] = [worst(s for s in row if isinstance(s, str)) for row in
                         table[severity_columns].itertuples(index=False)] if len(table) else []
    timelines = [p.timeline for p in [*parts, duplicates] if len(p.timeline)]
    timeline = (pd.concat(timelines, ignore_index=True) if timelines
                else _frame([], _TIMELINE_COLUMNS))
    return IntegrityResult(findings=findings, schema=schema.table, columns=table,
                           volume=volume.table, freshness=fresh.table, timeline=timeline,
                           thresholds=ctx.thresholds, methods=methods(ctx.thresholds))
