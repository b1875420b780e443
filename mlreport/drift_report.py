"""The drift report's glue: which columns, which profile, which thresholds, what headline.

The statistics live in :mod:`mlreport.integrity`, :mod:`mlreport.profile`,
:mod:`mlreport.drift`, :mod:`mlreport.performance` and
:mod:`mlreport.multivariate`; this module makes the choices a drift report
needs between them, so that ``notebooks/drift.ipynb`` stays one call per
section.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from .drift import Thresholds, learn_thresholds, period_labels
from .errors import ParameterError
from .findings import Finding, Summary, summarize
from .profile import ReferenceProfile
from .spec import ModelSpec

__all__ = [
    "monitored_columns",
    "reference_profile",
    "drift_thresholds",
    "periods",
    "findings_frame",
    "flagged",
    "INTEGRITY_COLUMNS",
    "PERFORMANCE_COLUMNS",
    "DRIFT_COLUMNS",
    "moved",
    "drift_headline",
    "drift_summary",
]

PERIODS = ("D", "W", "M")

#: Columns of the integrity table shown in the report, with their headers.
INTEGRITY_COLUMNS = {
    "column": "column", "kind": "kind", "severity": "severity",
    "reference_missing_share": "missing ref", "current_missing_share": "missing cur",
    "sentinel_value": "spiking value", "reference_sentinel_share": "its share ref", "current_sentinel_share": "its share cur",
    "out_of_range_share": "out of ref range", "new_category_share": "new categories share",
    "vanished_categories": "vanished categories", "current_non_finite_share": "±inf share",
}

#: Columns of the performance table shown in the report, with their headers.
PERFORMANCE_COLUMNS = {
    "window": "window", "period": "period", "status": "status", "severity": "severity", "n_rows": "rows", "n": "labelled", "n_bad": "defaults",
    "default_rate": "default rate", "auc": "AUC", "auc_ci_low": "AUC 95% low", "auc_ci_high": "AUC 95% high", "gini": "Gini",
    "ks": "KS", "expected_observed": "E/O", "hl_pvalue": "HL p",
}

#: Columns of the feature drift table shown in the report, with their headers.
DRIFT_COLUMNS = {
    "column": "column", "kind": "kind", "severity": "severity", "trigger": "trigger",
    "psi": "PSI", "ks": "KS D", "tvd": "TVD", "js": "JS", "wasserstein_norm": "W1/std",
    "ks_pvalue_adj": "KS p adj", "chi2_pvalue_adj": "χ² p adj", "reason": "reason",
}


def monitored_columns(spec: ModelSpec, frame: pd.DataFrame) -> list[str]:
    """Features, then score and decision: what drift and integrity look at.

    The target is left out (late labels make it look "newly missing"; target
    drift is a performance question), and so are the id and the timestamp.
    """
    wanted = list(spec.features) + [c for c in (spec.score, spec.decision) if c]
    skip = {spec.target, spec.id, spec.timestamp} - {""}
    return [c for c in dict.fromkeys(wanted) if c not in skip and c in frame.columns]


def reference_profile(
    reference: pd.DataFrame,
    columns: Sequence[str],
    *,
    categorical: Sequence[str] = (),
    load_path: str = "",
    save_path: str = "",
    bins: int = 10,
) -> ReferenceProfile:
    """The reference profile: loaded from ``load_path`` when given, else fitted.

    A loaded profile is reused as it is (bins and categories fixed when it was
    fitted: that is what makes runs comparable); its fingerprint goes in the
    report. ``save_path`` writes the fitted profile for later runs.
    """
    if load_path:
        return ReferenceProfile.load(load_path)
    if bins < 2:
        raise ParameterError(f"parameter 'psi_bins': {bins} bins; expected at least 2", name="psi_bins")
    profile = ReferenceProfile.fit(
        reference, list(columns), categorical=[c for c in categorical if c in columns], bins=bins
    )
    if save_path:
        profile.save(save_path)
    return profile


def drift_thresholds(
    overrides: Mapping[str, Any],
    *,
    mode: str,
    profile: ReferenceProfile,
    reference: pd.DataFrame,
    columns: Sequence[str],
    timestamp: str = "",
    period: str = "W",
    k: float = 3.0,
    correction: str = "fdr_bh",
) -> Thresholds:
    """Fixed bands (``mode="fixed"``) or bands learned from reference chunks (``"learned"``)."""
    base = dict(overrides or {})
    base.setdefault("correction", correction)
    thresholds = Thresholds.from_dict(base)
    if mode == "fixed":
        return thresholds
    if mode != "learned":
        raise ParameterError(f"parameter 'threshold_mode': {mode!r}; expected 'fixed' or 'learned'", name="threshold_mode")
    chunks: Any = 10
    if timestamp and timestamp in reference.columns and period in PERIODS:
        chunks = period_labels(reference[timestamp], period)
    return learn_thresholds(profile, reference, chunks=chunks, k=k, base=thresholds, columns=list(columns))


def periods(current: pd.DataFrame, timestamp: str, period: str) -> pd.Series:
    """Period label of each current row: by date (D/W/M) or fixed-size chunks (a number)."""
    if period in PERIODS:
        if not timestamp or timestamp not in current.columns:
            raise ParameterError(
                f"parameter 'period': {period!r} needs a timestamp column; use a number of rows per chunk instead",
                name="period",
            )
        return period_labels(current[timestamp], period)
    try:
        size = int(period)
    except (TypeError, ValueError):
        raise ParameterError(f"parameter 'period': {period!r}; expected D, W, M or a number of rows", name="period") from None
    if size < 1:
        raise ParameterError(f"parameter 'period': {size}; a chunk needs at least 1 row", name="period")
    return period_labels(pd.Series(range(len(current))), size)


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


def drift_headline(findings: Sequence[Finding], drift_table: pd.DataFrame, features: Sequence[str]) -> str:
    """One sentence that names what broke first, then how many features drifted.

    Integrity findings lead: a broken integration is the commonest incident and
    the one a reader must act on first.
    """
    worst = "ok"
    for finding in findings:
        if finding.severity == "incident" or (finding.severity == "warning" and worst == "ok"):
            worst = finding.severity
    moved = drift_table[drift_table["column"].isin(features) & drift_table["severity"].isin(["warning", "incident"])]
    count = f"{len(moved)} of {len(features)} features drifted"
    if worst == "ok":
        return f"Healthy: no integrity or drift check reached a warning; 0 of {len(features)} features drifted."
    order = {"Data integrity": 0, "Feature drift": 1, "Prediction drift": 2, "Performance": 3, "Multivariate drift": 4}
    leads = sorted((f for f in findings if f.severity == worst), key=lambda f: order.get(f.section, 9))
    lead = leads[0].message.rstrip(".")
    others = len(leads) - 1
    more = f"; {others} more {worst} finding{'s' if others != 1 else ''}" if others else ""
    return f"{worst.capitalize()}: {lead}{more}; {count}."


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
) -> Summary:
    return summarize(
        "drift",
        findings,
        headline=drift_headline(findings, drift_table, features),
        inputs=inputs,
        thresholds=thresholds,
        methods=methods,
        metrics=metrics,
        model=model,
        data_period=data_period,
    )
