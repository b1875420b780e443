"""The drift analysis: integrity first, then feature, prediction and multivariate drift over time."""

from __future__ import annotations

from ._compare import (
    PredictionDrift,
    compare,
    drift_over_time,
    first_crossing,
    findings_from_comparison,
    findings_from_over_time,
    prediction_drift,
    methods,
)
from ._learned import chunk_metrics, learn_thresholds
from ._metrics import column_metrics
from ._plots import distribution_grid, importance_plot, metric_heatmap, moved_columns, trend_lines
from ._report import (
    monitored_columns,
    reference_profile,
    drift_thresholds,
    periods,
    current_summaries,
    row_level_arguments,
    computation_table,
    computation_methods,
    findings_frame,
    flagged,
    INTEGRITY_COLUMNS,
    PERFORMANCE_COLUMNS,
    DRIFT_COLUMNS,
    moved,
    drift_headline,
    drift_summary,
)
from ._thresholds import THRESHOLDS_VERSION, METRICS, DEFAULT_BANDS, Band, Thresholds
from ._windows import Windows, load_windows, DEFAULT_ROW_SAMPLE
from ._multivariate import SECTION, MIN_ROWS, DomainClassifierResult, domain_classifier

__all__ = [
    "PredictionDrift",
    "compare",
    "drift_over_time",
    "first_crossing",
    "findings_from_comparison",
    "findings_from_over_time",
    "prediction_drift",
    "methods",
    "chunk_metrics",
    "learn_thresholds",
    "column_metrics",
    "distribution_grid",
    "importance_plot",
    "metric_heatmap",
    "trend_lines",
    "moved_columns",
    "monitored_columns",
    "reference_profile",
    "drift_thresholds",
    "periods",
    "current_summaries",
    "row_level_arguments",
    "computation_table",
    "computation_methods",
    "findings_frame",
    "flagged",
    "INTEGRITY_COLUMNS",
    "PERFORMANCE_COLUMNS",
    "DRIFT_COLUMNS",
    "moved",
    "drift_headline",
    "drift_summary",
    "THRESHOLDS_VERSION",
    "METRICS",
    "DEFAULT_BANDS",
    "Band",
    "Thresholds",
    "Windows",
    "load_windows",
    "DEFAULT_ROW_SAMPLE",
    "SECTION",
    "MIN_ROWS",
    "DomainClassifierResult",
    "domain_classifier",
]
