"""The performance thresholds: defaults, a caller's overrides checked, and the band a value reaches."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import ParameterError

__all__ = ["DEFAULT_THRESHOLDS"]


DEFAULT_THRESHOLDS: dict[str, Any] = {
    # (warning, incident): absolute drop of AUC against the reference.
    "auc_drop": (0.03, 0.05),
    # (warning, incident): |expected/observed - 1|.
    "calibration_ratio": (0.10, 0.20),
    # (warning, incident): |default rate cur/ref - 1|.
    "default_rate_change": (0.20, 0.50),
    # Fewer bads than this in a window or period: not judged.
    "min_bads": 30,
    # Noise multiplier for the AUC and calibration gates (two-sided 95%).
    "z": 1.96,
    # Significance level of the two-proportion test of the default rate.
    "alpha": 0.05,
}


def _merge_thresholds(thresholds: Mapping[str, Any] | None) -> dict[str, Any]:
    limits = dict(DEFAULT_THRESHOLDS)
    for key, value in (thresholds or {}).items():
        if key not in DEFAULT_THRESHOLDS:
            raise ParameterError(
                f"unknown performance threshold {key!r}; expected one of "
                f"{', '.join(DEFAULT_THRESHOLDS)}",
                name=key,
            )
        if isinstance(DEFAULT_THRESHOLDS[key], tuple):
            try:
                warn, incident = (float(v) for v in value)
            except (TypeError, ValueError):
                raise ParameterError(
                    f"performance threshold {key!r}={value!r}; expected (warning, incident)",
                    name=key,
                ) from None
            if not 0 <= warn <= incident:
                raise ParameterError(
                    f"performance threshold {key!r}={value!r}; expected 0 <= warning <= incident",
                    name=key,
                )
            limits[key] = (warn, incident)
        else:
            limits[key] = value
    return limits


def _band(value: float, band: tuple[float, float]) -> str:
    if not math.isfinite(value):
        return "ok"
    if value >= band[1]:
        return "incident"
    if value >= band[0]:
        return "warning"
    return "ok"
