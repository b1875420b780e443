"""Model performance against the reference when labels exist, late labels handled.

Conventions, used throughout and printed in the report through ``method``
strings, are stated where they are implemented: labels and scores in
``_inputs``, label delay in ``_maturity``, AUC, Gini and KS in
``_discrimination``, calibration in ``_calibration``, the default-rate test
in ``_target_drift``. The thresholds are in ``_thresholds``, the findings of
one window in ``_findings``.

Judging (:func:`compare_performance`), each rule both an effect size and noise:

- **AUC drop** = AUC_ref − AUC_cur. Warning at 0.03, incident at 0.05 (absolute),
  and only if the drop also exceeds z·√(SE_ref² + SE_cur²) (DeLong SEs of two
  independent samples; z = 1.96), so a small window's noise never raises it.
- **Calibration**: |E/O − 1| at 10% warning, 20% incident, and only if the
  observed bad count differs from the expected one by more than
  z·√Σ p(1 − p) (binomial variance of the count under the scores). Judged
  against 1, not against the reference's ratio: a probability of default
  promises E = O, so a model already off in the reference is reported rather
  than taken as its own baseline.
- Periods are judged one by one at the same z, without a multiple-testing
  correction; the effect-size bands keep noise alone from raising them.
- **Target drift**: relative change of the default rate (cur/ref − 1) at 20%
  warning, 50% incident, and only if the pooled two-proportion z-test gives
  p < alpha (0.05).
- A window or period with fewer than 30 bads is marked "insufficient labels"
  and not judged; a window with one class only has no AUC ("single class").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import ParameterError
from ..findings import Finding, worst
from ._calibration import CalibrationResult, calibration_by_decile
from ._discrimination import IMMATURE, INSUFFICIENT, NO_LABELS, OK, SINGLE_CLASS, PerformanceResult, performance
from ._findings import SECTION, _judge, _skip, _status
from ._inputs import _require, _timestamps
from ._maturity import MaturedResult, matured
from ._target_drift import TargetDriftResult, target_drift
from ._thresholds import _merge_thresholds

__all__ = [
    "SECTION",
    "PerformanceComparison",
    "compare_performance",
]

_PERIODS = {"D": "day", "W": "week", "M": "month"}


@dataclass
class PerformanceComparison:
    """What :func:`compare_performance` found.

    ``table`` has one row for the reference, one for the whole current window
    and one per current period (``window`` is ``"reference"``, ``"current"``
    or ``"period"``), with counts, AUC and its CI, Gini, KS, default rate,
    E/O ratio, HL p-value, ``status`` (ok / no labels / insufficient labels /
    single class / immature) and ``severity``.
    """

    table: pd.DataFrame
    findings: list[Finding]
    reference: PerformanceResult | None = None
    current: PerformanceResult | None = None
    reference_calibration: CalibrationResult | None = None
    current_calibration: CalibrationResult | None = None
    target_drift: TargetDriftResult | None = None
    maturity: dict[str, MaturedResult] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)


def _row(window: str, period: str, n_rows: int, perf: PerformanceResult,
         cal: CalibrationResult | None, status: str, severity: str,
         checks: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One table row; ``checks`` maps each judged check to its severity ("" = not judged)."""
    checks = checks or {}
    row: dict[str, Any] = {"window": window, "period": period, "n_rows": n_rows,
                           "n_labelled": perf.n + perf.n_missing_score}
    row.update(perf.as_row())
    row["expected_observed"] = cal.expected_observed if cal is not None else math.nan
    row["hl_pvalue"] = cal.hl_pvalue if cal is not None else math.nan
    row["status"] = status
    row["severity"] = severity
    for check in ("auc_drop", "calibration", "target_drift"):
        row[f"{check}_severity"] = checks.get(check, "")
    return row


def compare_performance(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    score: str,
    target: str | None,
    timestamp: str | None = None,
    period: str | None = None,
    thresholds: Mapping[str, Any] | None = None,
    label_delay: Any = None,
    as_of: Any = None,
) -> PerformanceComparison:
    """Performance, calibration and default rate of the current window against the reference.

    The current window is judged as a whole and, when ``period`` is ``"D"``,
    ``"W"`` or ``"M"`` (with ``timestamp``), per day, week (Monday start) or
    calendar month. With ``label_delay`` (and ``as_of``, default the latest
    current timestamp) only matured rows count (see :func:`matured`) and
    periods ending after ``as_of − label_delay`` are marked "immature", not
    judged; without it, rows without labels are simply excluded. Windows or
    periods with fewer than ``thresholds["min_bads"]`` bads are marked
    "insufficient labels". The rules are in the module docstring; ``thresholds``
    overrides any of :data:`DEFAULT_THRESHOLDS`.

    A missing target (``target=None`` or absent from a window), windows
    without labels and one-class windows give findings, not errors.
    """
    limits = _merge_thresholds(thresholds)
    min_bads = int(limits["min_bads"])
    _require(reference, score, "score")
    _require(current, score, "score")
    if period is not None and period not in _PERIODS:
        raise ParameterError(
            f"period={period!r}; expected one of {', '.join(_PERIODS)} (day, week, month)",
            name="period",
        )
    if (period is not None or label_delay is not None) and timestamp is None:
        raise ParameterError(
            "period and label_delay need the timestamp column; pass timestamp=...",
            name="timestamp",
        )
    empty = PerformanceComparison(table=pd.DataFrame(), findings=[], thresholds=limits)
    if target is None:
        empty.findings.append(_skip("performance", score, "No target column given: performance, "
                                    "calibration and target drift not computed"))
        return empty
    for name, frame in (("reference", reference), ("current", current)):
        if target not in frame.columns:
            empty.findings.append(_skip(
                "performance", target,
                f"Target column {target!r} missing from the {name} data: performance not "
                "computed",
                severity="warning",
            ))
    if empty.findings:
        return empty

    # Maturity: the same as_of for both windows (the end of the current data).
    if label_delay is not None:
        assert timestamp is not None
        if as_of is None:
            as_of = _timestamps(current, timestamp).max()
        ref_mat = matured(reference, timestamp=timestamp, target=target, as_of=as_of,
                          label_delay=label_delay)
        cur_mat = matured(current, timestamp=timestamp, target=target, as_of=as_of,
                          label_delay=label_delay)
    else:
        # Without a delay the timestamp is not read: unlabelled rows are the immature ones.
        ref_mat = matured(reference, timestamp=timestamp or "", target=target, as_of=as_of)
        cur_mat = matured(current, timestamp=timestamp or "", target=target, as_of=as_of)

    ref_perf = performance(ref_mat.frame, score=score, target=target)
    cur_perf = performance(cur_mat.frame, score=score, target=target)
    ref_cal = calibration_by_decile(ref_mat.frame, score=score, target=target)
    cur_cal = calibration_by_decile(cur_mat.frame, score=score, target=target,
                                    edges=ref_cal.edges)
    drift = target_drift(ref_perf.n_bad, ref_perf.n, cur_perf.n_bad, cur_perf.n)
    result = PerformanceComparison(
        table=pd.DataFrame(),
        findings=[],
        reference=ref_perf,
        current=cur_perf,
        reference_calibration=ref_cal,
        current_calibration=cur_cal,
        target_drift=drift,
        maturity={"reference": ref_mat, "current": cur_mat},
        thresholds=limits,
        methods={
            "performance": ref_perf.method,
            "calibration": ref_cal.method,
            "target_drift": drift.method,
            "maturity": cur_mat.method,
            "auc_drop": (
                f"AUC drop ref − cur: warning {limits['auc_drop'][0]}, incident "
                f"{limits['auc_drop'][1]}, and > {limits['z']}·√(SE_ref² + SE_cur²) (DeLong); "
                f"windows with < {min_bads} bads not judged"
            ),
        },
    )
    findings = result.findings
    rows: list[dict[str, Any]] = []

    ref_status = _status(ref_perf, min_bads)
    cur_status = _status(cur_perf, min_bads)
    rows.append(_row("reference", "", ref_mat.n_rows, ref_perf, ref_cal, ref_status,
                     "ok"))
    excluded = (
        f"{cur_mat.n_immature:,} of {cur_mat.n_rows:,} current rows excluded as immature"
        + (f", {cur_perf.n_missing_score:,} for a missing score" if cur_perf.n_missing_score
           else "")
    )
    judged: list[Finding] = []
    if ref_status != OK:
        findings.append(_skip(
            "performance", score,
            f"Reference window has {ref_status} ({ref_perf.n_bad:,} bads among {ref_perf.n:,} "
            f"labelled rows; at least {min_bads} needed): performance not compared",
            severity="warning",
        ))
    elif cur_status == NO_LABELS:
        findings.append(_skip(
            "performance", score,
            f"No matured labels in the current window ({excluded}): performance not judged",
        ))
    else:
        judged = _judge(ref_perf, ref_cal, cur_perf, cur_cal, limits, where="the current window",
                        period=None, score=score, target=target)
        if cur_status != OK:
            # Discrimination and calibration need both classes and enough bads; the default
            # rate stays comparable (a label feed that lost its bads shows there).
            judged = [f for f in judged if f.check == "target_drift"]
        if cur_status == SINGLE_CLASS:
            only = "goods" if cur_perf.n_bad == 0 else "bads"
            findings.append(_skip(
                "performance", score,
                f"AUC undefined in the current window: all {cur_perf.n:,} labelled rows are "
                f"{only}",
                severity="warning",
            ))
        elif cur_status == INSUFFICIENT:
            findings.append(_skip(
                "performance", score,
                f"Insufficient labels in the current window: {cur_perf.n_bad:,} bads < "
                f"{min_bads} ({excluded}); performance not judged",
            ))
        else:
            findings.append(_skip("label_maturity", target,
                                  f"Performance over matured labels: {excluded}"))
        findings.extend(judged)
    cur_severity = worst(f.severity for f in findings)
    checks = {f.check: f.severity for f in judged}
    rows.append(_row("current", "", cur_mat.n_rows, cur_perf, cur_cal, cur_status,
                     cur_severity, checks))

    if period is not None and ref_status == OK:
        assert timestamp is not None
        rows.extend(_periods(current, cur_mat, ref_perf, ref_cal, limits, score=score,
                             target=target, timestamp=timestamp, period=period,
                             findings=findings))
    result.table = pd.DataFrame(rows)
    return result


def _period_labels(frame: pd.DataFrame, timestamp: str, period: str) -> pd.Series:
    """Calendar period of each row; tz-aware stamps are read in UTC (periods carry no zone)."""
    times = _timestamps(frame, timestamp)
    if getattr(times.dtype, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.dt.to_period(period)


def _periods(
    current: pd.DataFrame,
    cur_mat: MaturedResult,
    ref_perf: PerformanceResult,
    ref_cal: CalibrationResult,
    limits: Mapping[str, Any],
    *,
    score: str,
    target: str,
    timestamp: str,
    period: str,
    findings: list[Finding],
) -> list[dict[str, Any]]:
    """One table row per current period; findings for the periods that crossed a band."""
    min_bads = int(limits["min_bads"])
    labels = _period_labels(current, timestamp, period)
    matured_labels = _period_labels(cur_mat.frame, timestamp, period)
    rows: list[dict[str, Any]] = []
    not_judged: dict[str, list[str]] = {}
    cutoff = cur_mat.cutoff
    if cutoff is not None and cutoff.tzinfo is not None:
        cutoff = cutoff.tz_convert("UTC").tz_localize(None)  # periods are naive UTC
    for key in sorted(labels.dropna().unique()):
        name = str(key)
        frame = cur_mat.frame.loc[(matured_labels == key).to_numpy()]
        perf = performance(frame, score=score, target=target)
        cal = calibration_by_decile(frame, score=score, target=target, edges=ref_cal.edges)
        status = _status(perf, min_bads)
        if cutoff is not None and key.end_time > cutoff:
            status = IMMATURE
        judged: list[Finding] = []
        if status == OK:
            judged = _judge(ref_perf, ref_cal, perf, cal, limits, where=f"{_PERIODS[period]} "
                            f"{name}", period=name, score=score, target=target)
            findings.extend(f for f in judged if f.severity != "ok")
        else:
            not_judged.setdefault(status, []).append(name)
        n_rows = int((labels == key).sum())
        rows.append(_row("period", name, n_rows, perf, cal, status,
                         worst(f.severity for f in judged), {f.check: f.severity for f in judged}))
    if not_judged:
        parts = [f"{status}: {', '.join(names)}" for status, names in not_judged.items()]
        if INSUFFICIENT in not_judged:
            parts.append(f"at least {min_bads} bads needed")
        if IMMATURE in not_judged:
            parts.append(f"labels complete only up to {cur_mat.cutoff:%Y-%m-%d %H:%M}")
        findings.append(_skip(
            "performance_periods", score,
            f"{sum(map(len, not_judged.values()))} {_PERIODS[period]}(s) not judged ("
            + "; ".join(parts) + ")",
        ))
    return rows
