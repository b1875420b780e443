"""Findings from the drift tables: one per column, naming its metric values, bands and adjusted p-value."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..findings import Finding
from ._centre import centre_phrase
from ._methods import _method_line, methods
from ._metrics import _NAN
from ._periods import first_crossing
from ._thresholds import _METRIC_LABEL, _METRIC_TEST, _TEST_LABEL, Band, Thresholds, _thresholds
from ._verdict import _fmt_p

__all__ = ["findings_from_comparison", "findings_from_over_time"]


def _fmt(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3g}"


def _message(record: Mapping[Hashable, Any], bands: Mapping[str, Band], correction: str) -> str:
    """One sentence per column, for example

    ``income: KS D 0.108 reached the warning band 0.075 (KS p_adj 3.7e-70, BH);
    PSI 0.061 (bands 0.1/0.25), TVD 0.103; mean 41,200 against 35,800 in the reference.``

    The centre (mean, or the level whose share moved most) is named when the
    table carries it (:func:`compare` does).
    """
    where = f" in {record['period']}" if record.get("period") else ""
    correction_text = "BH" if correction == "fdr_bh" else "Bonferroni"
    trigger = record.get("trigger") or ""
    if record["severity"] in ("warning", "incident") and trigger:
        test = _METRIC_TEST[trigger]
        lead = (
            f"{_METRIC_LABEL[trigger]} {_fmt(record['value'])} reached the {record['severity']} band "
            f"{record['threshold']:g} ({_TEST_LABEL[test]} p_adj {_fmt_p(record[f'{test}_pvalue_adj'])}, "
            f"{correction_text})"
        )
    else:
        lead = f"no band reached ({record['reason']})"
    others = []
    for metric in ("psi", "ks", "tvd"):
        value = record.get(metric, _NAN)
        if metric == trigger or value is None or not np.isfinite(value):
            continue
        band = bands.get(metric)
        limits = f" (bands {band.warning:g}/{band.incident:g})" if band else ""
        others.append(f"{_METRIC_LABEL[metric]} {_fmt(value)}{limits}")
    tail = f"; {', '.join(others)}" if others else ""
    centre = centre_phrase(record) if not where else ""
    return f"{record['column']}{where}: {lead}{tail}{'; ' + centre if centre else ''}."


def findings_from_comparison(
    table: pd.DataFrame,
    section: str = "Feature drift",
    *,
    check: str = "feature_drift",
    include_ok: bool = False,
    thresholds: Thresholds | Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Findings from a :func:`compare` table: one per column at warning or above.

    ``include_ok`` adds ok findings for compared columns. Columns that could
    not be compared (``n/a``: absent, all missing) give no finding here: the
    integrity checks report them. The message names the column, metric values
    and bands, and the adjusted p-value; ``method`` states the conventions.
    """
    settings = _thresholds(thresholds if thresholds is not None else table.attrs.get("thresholds"))
    correction = table.attrs.get("correction", settings.correction)
    method_map = table.attrs.get("methods") or methods(settings)
    findings = []
    for record in table.to_dict("records"):
        severity = record["severity"]
        if severity == "n/a" or (severity == "ok" and not include_ok):
            continue
        bands = settings.bands_for(record["column"], record["kind"])
        method_text = _method_line(method_map, str(record.get("trigger") or ""))
        findings.append(
            Finding(
                check=check,
                subject=str(record["column"]),
                severity=severity,
                message=_message(record, bands, correction),
                value=_finite_or_none(record["value"] if severity != "ok" else record.get("psi")),
                threshold=_finite_or_none(record["threshold"]),
                method=method_text,
                section=section,
                period=str(record["period"]) if record.get("period") else None,
            )
        )
    return findings


def findings_from_over_time(
    over_time: pd.DataFrame,
    section: str = "Drift over time",
    *,
    check: str = "drift_over_time",
) -> list[Finding]:
    """One finding per column that reached warning or incident in some period.

    The finding's ``period`` is the first period at the column's worst
    severity; the message names the first warning and first incident periods.
    """
    crossings = first_crossing(over_time)
    method_map = over_time.attrs.get("methods") or methods(Thresholds())
    findings = []
    for record in crossings.to_dict("records"):
        if record["worst"] not in ("warning", "incident"):
            continue
        worst_key = "first_incident" if record["worst"] == "incident" else "first_warning"
        first_at_worst = record[worst_key]
        rows = over_time[(over_time["column"] == record["column"]) & (over_time["period"] == first_at_worst)]
        at_worst = rows.iloc[0]
        method_text = _method_line(method_map, str(at_worst.get("trigger") or ""))
        total = int(over_time.loc[over_time["column"] == record["column"], "period"].nunique())
        earlier = (
            f"; warning since {record['first_warning']}"
            if record["first_warning"] != first_at_worst
            else ""
        )
        centre = centre_phrase(at_worst)
        message = (
            f"{record['column']}: {record['worst']} first in period {first_at_worst} "
            f"({at_worst['reason']}){earlier}; {record['periods_flagged']} of {total} periods flagged"
            + (f"; in that period {centre}." if centre else ".")
        )
        findings.append(
            Finding(
                check=check,
                subject=str(record["column"]),
                severity=record["worst"],
                message=message,
                value=_finite_or_none(at_worst["value"]),
                threshold=_finite_or_none(at_worst["threshold"]),
                method=method_text,
                section=section,
                period=str(first_at_worst),
            )
        )
    return findings


def _finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
