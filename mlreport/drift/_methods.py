"""The method strings of the drift metrics: the report's methods appendix and each finding's method."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import stats
from ._thresholds import _METRIC_LABEL, Thresholds, _thresholds

__all__ = ["methods"]


def methods(
    thresholds: Thresholds | Mapping[str, Any] | None = None, *, eps: float | None = None
) -> dict[str, str]:
    """The method strings of every drift metric, for a report's methods appendix."""
    settings = _thresholds(thresholds)
    if eps is None:
        psi_text = stats.PSI_SMOOTHED_METHOD
    else:
        psi_text = stats.PSI_METHOD if eps == stats.PSI_EPS else stats.PSI_METHOD.replace("1e-4", f"{eps:g}")
    return {
        "bins": (
            "numeric: PSI bins at reference deciles (inverted-CDF quantiles, ties merged, open outer bins, "
            "right-closed), fine bins at reference percentiles for KS and Wasserstein; categorical: the "
            "reference's top categories plus one other/new bin, categories with fewer than 3 (b + 1) (n + m) / n rows "
            "in both windows pooled into it (b: the smallest reference count that earned a bin, 0 when every "
            "reference category has one); missing and non-finite values excluded"
        ),
        "psi": psi_text,
        "js": stats.JS_METHOD,
        "hellinger": stats.HELLINGER_METHOD,
        "tvd": stats.TVD_METHOD,
        "ks": stats.KS_BINNED_METHOD + "; exact when raw values are given: " + stats.KS_EXACT_METHOD,
        "wasserstein": stats.WASSERSTEIN_BINNED_METHOD,
        "chi2": stats.CHI2_METHOD,
        "multiple_testing": (
            f"{stats.CORRECTIONS[settings.correction]} ({settings.correction}) over every KS and "
            f"chi-square p-value of the table, alpha {settings.alpha:g} for a warning, "
            f"{settings.alpha_incident:g} for an incident"
        ),
        "verdict": settings.describe(),
    }


def _method_line(method_map: Mapping[str, str], trigger: str = "") -> str:
    """A finding's method: the metric that set its verdict first (a report clips long methods), then the rest."""
    lead = (
        f"{_METRIC_LABEL[trigger]}: {method_map[trigger]}; "
        if trigger in method_map and trigger in _METRIC_LABEL and trigger != "psi" else ""
    )
    return (
        f"{lead}{method_map.get('psi', '')}; KS D from fine bins (or ks_2samp); chi-square homogeneity; "
        f"{method_map.get('verdict', '')}"
    )
