"""Model performance where labels have arrived: discrimination, calibration and target drift."""

from __future__ import annotations

from ._calibration import CalibrationResult, calibration_by_decile, fit_score_edges
from ._compare import SECTION, PerformanceComparison, compare_performance
from ._discrimination import PerformanceResult, auc_se_delong, auc_se_hanley_mcneil, ks_statistic, performance
from ._maturity import MaturedResult, matured
from ._plots import auc_by_period, calibration_plot
from ._target_drift import TargetDriftResult, target_drift
from ._thresholds import DEFAULT_THRESHOLDS

__all__ = [
    "SECTION",
    "PerformanceComparison",
    "compare_performance",
    "CalibrationResult",
    "fit_score_edges",
    "calibration_by_decile",
    "PerformanceResult",
    "auc_se_delong",
    "auc_se_hanley_mcneil",
    "ks_statistic",
    "performance",
    "MaturedResult",
    "matured",
    "auc_by_period",
    "calibration_plot",
    "TargetDriftResult",
    "target_drift",
    "DEFAULT_THRESHOLDS",
]
