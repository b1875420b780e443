"""The drift analysis: integrity first, then feature, prediction and multivariate drift over time."""

from __future__ import annotations

from ._compare import (
    PredictionDrift,
    compare,
    drift_over_time,
    findings_from_comparison,
    findings_from_over_time,
    first_crossing,
    methods,
    prediction_drift,
)
from ._learned import chunk_metrics, learn_thresholds
from ._metrics import column_metrics
from ._multivariate import MIN_ROWS, SECTION, DomainClassifierResult, domain_classifier
from ._plots import distribution_grid, importance_plot, metric_heatmap, moved_columns, trend_lines
from ._report import (
    DRIFT_COLUMNS,
    INTEGRITY_COLUMNS,
    PERFORMANCE_COLUMNS,
    computation_methods,
    computation_table,
    current_summaries,
    drift_headline,
    drift_summary,
    drift_thresholds,
    findings_frame,
    flagged,
    monitored_columns,
    moved,
    periods,
    reference_profile,
    row_level_arguments,
)
from ._thresholds import DEFAULT_BANDS, METRICS, THRESHOLDS_VERSION, Band, Thresholds
from ._windows import DEFAULT_ROW_SAMPLE, Windows, load_windows

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
