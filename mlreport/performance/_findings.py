"""The findings of one window judged against the reference: AUC drop, calibration, target drift.

The rules are in ``_compare``'s docstring; whether a window is judged at
all (enough bads, both classes) is its status.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..findings import Finding
from ._calibration import CalibrationResult
from ._discrimination import INSUFFICIENT, NO_LABELS, OK, PerformanceResult
from ._target_drift import target_drift
from ._thresholds import _band

__all__ = ["SECTION"]

SECTION = "Performance"


def _status(perf: PerformanceResult, min_bads: int) -> str:
    if perf.status != OK:
        return perf.status
    if perf.n_bad < min_bads:
        return INSUFFICIENT
    return OK


def _judge(
    reference: PerformanceResult,
    reference_cal: CalibrationResult,
    current: PerformanceResult,
    current_cal: CalibrationResult,
    limits: Mapping[str, Any],
    *,
    where: str,
    period: str | None,
    score: str,
    target: str,
) -> list[Finding]:
    """The three checks (AUC drop, calibration, target drift) of one window."""
    z = float(limits["z"])
    findings: list[Finding] = []
    auc_band = limits["auc_drop"]
    drop = reference.auc - current.auc
    noise = z * math.sqrt(reference.auc_se**2 + current.auc_se**2)
    severity = _band(drop, auc_band)
    if severity != "ok" and not drop > noise:
        severity = "ok"
        verdict = f"within noise (needs > {noise:.3f})"
    elif severity != "ok":
        verdict = f"beyond noise {noise:.3f}"
    else:
        verdict = f"below the {auc_band[0]:.2f} band"
    findings.append(
        Finding(
            check="auc_drop",
            subject=score,
            severity=severity,
            message=(
                f"AUC {current.auc:.3f} in {where} against {reference.auc:.3f} in the reference "
                f"(drop {drop:+.3f}, {verdict}; {current.n_bad:,} bads)"
            ),
            value=drop,
            threshold=auc_band[1] if severity == "incident" else auc_band[0],
            method=(
                f"AUC drop = ref − cur; warning {auc_band[0]}, incident {auc_band[1]}, and drop > "
                f"{z}·√(SE_ref² + SE_cur²) (DeLong)"
            ),
            section=SECTION,
            period=period,
        )
    )
    cal_band = limits["calibration_ratio"]
    if current_cal.status == OK and math.isfinite(current_cal.expected_observed):
        off = abs(current_cal.expected_observed - 1)
        severity = _band(off, cal_band)
        significant = math.isfinite(current_cal.z) and abs(current_cal.z) > z
        note = f"|z| {abs(current_cal.z):.1f}"
        if severity != "ok" and not significant:
            severity = "ok"
            note += f" ≤ {z}, within noise"
        direction = "over" if current_cal.expected_observed > 1 else "under"
        findings.append(
            Finding(
                check="calibration",
                subject=score,
                severity=severity,
                message=(
                    f"Expected/observed bads {current_cal.expected_observed:.2f} in {where} "
                    f"({direction}-predicts by {off:.0%}; reference "
                    f"{reference_cal.expected_observed:.2f}; {note}; HL p "
                    f"{current_cal.hl_pvalue:.3g})"
                ),
                value=current_cal.expected_observed,
                threshold=cal_band[1] if severity == "incident" else cal_band[0],
                method=(
                    f"|E/O − 1| warning {cal_band[0]:.0%}, incident {cal_band[1]:.0%}, and "
                    f"|O − E| > {z}·√Σp(1−p); " + current_cal.method
                ),
                section=SECTION,
                period=period,
            )
        )
    elif current_cal.status not in (OK, NO_LABELS):
        findings.append(
            Finding(
                check="calibration",
                subject=score,
                severity="ok",
                message=f"Calibration not judged in {where}: {current_cal.status}",
                method=current_cal.method,
                section=SECTION,
                period=period,
            )
        )
    drift = target_drift(reference.n_bad, reference.n, current.n_bad, current.n)
    rate_band = limits["default_rate_change"]
    alpha = float(limits["alpha"])
    change = abs(drift.relative_change)
    severity = _band(change, rate_band)
    if severity != "ok" and not drift.p_value < alpha:
        severity = "ok"
    findings.append(
        Finding(
            check="target_drift",
            subject=target,
            severity=severity,
            message=(
                f"Default rate {drift.rate_current:.2%} in {where} against "
                f"{drift.rate_reference:.2%} in the reference ({drift.relative_change:+.0%}, "
                f"two-proportion p {drift.p_value:.2g})"
            ),
            value=drift.relative_change,
            threshold=rate_band[1] if severity == "incident" else rate_band[0],
            method=(
                f"|rate cur/ref − 1| warning {rate_band[0]:.0%}, incident {rate_band[1]:.0%}, "
                f"and p < {alpha} ({drift.method})"
            ),
            section=SECTION,
            period=period,
        )
    )
    return findings


def _skip(check: str, subject: str, message: str, severity: str = "ok") -> Finding:
    return Finding(check=check, subject=subject, severity=severity, message=message,
                   section=SECTION)
