"""How a drift report shows what it found: its tables' columns, the computation, the headline and the summary.

The statistics live in :mod:`mlreport.integrity`, :mod:`mlreport.profile`,
:mod:`mlreport.drift` and :mod:`mlreport.performance`; the windows'
backend counts the summaries (``_counting``). This
module turns their results into what a reader sees: which columns of each
table (:data:`DRIFT_COLUMNS`...), what the computation was and which rows the
row-level sections ran on (:func:`row_level_arguments`,
:func:`computation_table`), and the headline and summary of the run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..findings import Finding, Summary, summarize
from ._coverage import MIN_REFERENCE_ROWS
from ._windows import Windows

__all__ = [
    "row_level_arguments",
    "computation_table",
    "computation_methods",
    "findings_frame",
    "flagged",
    "INTEGRITY_COLUMNS",
    "PERFORMANCE_COLUMNS",
    "DRIFT_COLUMNS",
    "SEGMENT_COLUMNS",
    "moved",
    "drift_headline",
    "drift_summary",
]


#: Columns of the integrity table shown in the report, with their headers.
INTEGRITY_COLUMNS = {
    "column": "column", "kind": "kind", "severity": "severity",
    "reference_missing_share": "missing ref", "current_missing_share": "missing cur",
    "sentinel_value": "spiking value", "reference_sentinel_share": "its share ref",
    "current_sentinel_share": "its share cur",
    "out_of_range_share": "out of ref range", "new_category_share": "new categories share",
    "vanished_categories": "vanished categories", "current_non_finite_share": "±inf share",
}

#: Columns of the performance table shown in the report, with their headers.
PERFORMANCE_COLUMNS = {
    "window": "window", "period": "period", "status": "status", "severity": "severity", "n_rows": "rows",
    "n": "labelled", "n_bad": "defaults", "default_rate": "default rate", "auc": "AUC",
    "auc_ci_low": "AUC 95% low", "auc_ci_high": "AUC 95% high", "gini": "Gini",
    "ks": "KS", "expected_observed": "E/O", "hl_pvalue": "HL p",
}

#: Columns of the feature drift table shown in the report, with their headers.
DRIFT_COLUMNS = {
    "column": "column", "kind": "kind", "severity": "severity", "trigger": "trigger",
    "psi": "PSI", "ks": "KS D", "tvd": "TVD", "js": "JS", "wasserstein_norm": "W1/std",
    "ks_pvalue_adj": "KS p adj", "chi2_pvalue_adj": "χ² p adj",
    "mean_ref": "mean ref", "mean_cur": "mean cur", "moved_level": "level moved most",
    "share_ref": "its share ref", "share_cur": "its share cur", "reason": "reason",
}


#: Columns of the drift-by-segment table shown in the report, with their headers.
SEGMENT_COLUMNS = {
    "segment": "segment", "level": "level", "level_rows_ref": "rows ref", "level_rows_cur": "rows cur",
    "column": "column", "severity": "severity", "psi": "PSI", "ks": "KS D", "tvd": "TVD",
    "ks_pvalue_adj": "KS p adj", "chi2_pvalue_adj": "χ² p adj", "reason": "reason",
}


def row_level_arguments(windows: Windows, *, end_declared: bool = True) -> dict[str, Any]:
    """``id_column``, ``timestamp_column`` and ``expected_end`` for the integrity checks.

    On every row: the spec's. On a sample they are None: duplicate ids,
    freshness (the latest timestamp), rows per period and the onset of a
    finding are about every row, and a sample would misstate them. The
    expected end is the current window's end only when it was declared
    (``end_declared``: the ``current_end`` parameter); a window's end read off
    its own last row says nothing about freshness, and its last period is then
    graded on the share of it the data covers, not as a complete one.
    """
    spec = windows.spec
    if not windows.complete:
        return {"id_column": None, "timestamp_column": None, "expected_end": None}
    return {"id_column": spec.id or None, "timestamp_column": spec.timestamp or None,
            "expected_end": windows.current_span[1] if end_declared else None}


_ROW_LEVEL = "integrity, performance and the domain classifier"
_NOT_ON_A_SAMPLE = "duplicate ids, freshness, rows per period and the onset dates of integrity findings"


def _rows_line(windows: Windows) -> str:
    held = {"reference": windows.reference_rows, "current": windows.current_rows}
    if windows.complete:
        counts = ", ".join(f"{name} {rows.total:,}" for name, rows in held.items())
        return f"{_ROW_LEVEL} ran on every row of both windows ({counts})"
    parts = "; ".join(f"{name}: {rows.describe()}" for name, rows in held.items())
    smallest = min(len(rows.frame) for rows in held.values())
    return (
        f"{_ROW_LEVEL} ran on rows held in memory ({parts}): on a sample their shares and AUCs are estimates "
        f"(a share p of n rows is known to about 2 sqrt(p(1-p)/n), at most {100 / math.sqrt(max(smallest, 1)):.2g} "
        f"percentage points here), and {_NOT_ON_A_SAMPLE} were not run at this scale (raise row_sample to hold "
        "every row); feature drift, drift over time and prediction drift count every row"
    )


def computation_table(windows: Windows) -> pd.DataFrame:
    """What counted the summaries, its settings and time, and what the row-level sections ran on."""
    engine = windows.engine
    rows = [
        ("backend", engine.name),
        ("settings", engine.describe()),
        ("seconds counting", round(sum(s for _, s in engine.timings), 3)),
        ("row-level sections", _rows_line(windows)),
    ]
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


def computation_methods(windows: Windows) -> dict[str, str]:
    """Appendix lines: the backend with its settings and time, and the rows of the row-level sections."""
    return {"backend": windows.engine.run_summary(), "row_level_data": _rows_line(windows)}


def findings_frame(findings: Iterable[Finding], *, include_ok: bool = False) -> pd.DataFrame:
    """Findings as a table for display, worst first (methods cut to their first clause)."""
    rows = [
        {"severity": f.severity.upper(), "subject": f.subject, "finding": f.message, "value": f.value,
         "threshold": f.threshold, "since": f.period or "", "method": f.method.split(";")[0]}
        for f in findings if include_ok or f.severity != "ok"
    ]
    frame = pd.DataFrame(rows, columns=["severity", "subject", "finding", "value", "threshold", "since", "method"])
    order = {"INCIDENT": 0, "WARNING": 1, "OK": 2}
    return frame.sort_values("severity", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def flagged(table: pd.DataFrame, *, limit: int = 20) -> pd.DataFrame:
    """Rows at warning or above (all rows when none is), at most ``limit``."""
    column = next((c for c in ("severity", "worst") if c in table.columns), None)
    if column is None:
        return table.head(limit)
    hits = table[table[column].isin(["warning", "incident"])]
    return (hits if len(hits) else table).head(limit)


def moved(table: pd.DataFrame, crossings: pd.DataFrame, *, limit: int = 9) -> list[str]:
    """Columns flagged over the whole window or in any period, worst first.

    With none flagged, the three with the largest PSI, so the figure still
    shows what "unchanged" looks like.
    """
    names = [str(c) for c in table.loc[table["severity"].isin(["warning", "incident"]), "column"]]
    if "worst" in crossings.columns:
        names += [str(c) for c in crossings.loc[crossings["worst"].isin(["warning", "incident"]), "column"]]
    names = list(dict.fromkeys(names))
    if not names:
        names = [str(c) for c in table.sort_values("psi", ascending=False)["column"].head(3)]
    return names[:limit]


def drift_headline(
    findings: Sequence[Finding], drift_table: pd.DataFrame, features: Sequence[str], *,
    reference_rows: int | None = None,
) -> str:
    """One sentence that names what broke first, then how many features drifted.

    Integrity findings lead: a broken integration is the commonest incident and
    the one a reader must act on first. With a reference of fewer than
    :data:`~mlreport.drift.MIN_REFERENCE_ROWS` rows the count of drifted
    features would mean nothing: the headline says the statistics are
    unreliable instead.
    """
    worst = "ok"
    for finding in findings:
        if finding.severity == "incident" or (finding.severity == "warning" and worst == "ok"):
            worst = finding.severity
    moved = drift_table[drift_table["column"].isin(features) & drift_table["severity"].isin(["warning", "incident"])]
    count = f"; {len(moved)} of {len(features)} features drifted"
    tiny = reference_rows is not None and reference_rows < MIN_REFERENCE_ROWS
    if tiny:  # a count would mean nothing: say why instead (unless the lead finding says it)
        count = (f"; the reference holds only {reference_rows:,} row{'s' if reference_rows != 1 else ''}, so "
                 "every drift statistic is unreliable")
    if worst == "ok":
        return f"Healthy: no integrity or drift check reached a warning; 0 of {len(features)} features drifted."
    order = {"Data integrity": 0, "Coverage": 1, "Feature drift": 1, "Drift by segment": 2, "Prediction drift": 2,
             "Performance": 3, "Multivariate drift": 4}
    # A reference too small for any verdict leads: everything after it is unreliable.
    leads = sorted((f for f in findings if f.severity == worst),
                   key=lambda f: (f.check != "reference_rows", order.get(f.section, 9)))
    lead = leads[0].message.rstrip(".")
    if tiny and leads[0].check == "reference_rows":
        count = ""
    others = len(leads) - 1
    more = f"; {others} more {worst} finding{'s' if others != 1 else ''}" if others else ""
    return f"{worst.capitalize()}: {lead}{more}{count}."


def drift_summary(
    *,
    findings: Sequence[Finding],
    drift_table: pd.DataFrame,
    features: Sequence[str],
    inputs: Sequence[Mapping[str, Any]],
    thresholds: Mapping[str, Any],
    methods: Mapping[str, str],
    metrics: Mapping[str, Any],
    model: str,
    data_period: str,
    profile_fingerprint: str | None = None,
    reference_rows: int | None = None,
) -> Summary:
    return summarize(
        "drift",
        findings,
        headline=drift_headline(findings, drift_table, features, reference_rows=reference_rows),
        inputs=inputs,
        thresholds=thresholds,
        methods=methods,
        metrics=metrics,
        model=model,
        data_period=data_period,
        profile_fingerprint=profile_fingerprint,
    )
