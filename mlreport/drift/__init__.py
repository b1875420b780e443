"""The drift analysis: integrity first, then feature, prediction and multivariate drift over time.

One call runs a report (:mod:`mlreport.analysis`)::

    from mlreport import drift

    result = drift.analyse(drift.DriftParameters(reference_path="ref.parquet", current_path="cur.parquet"))
    result.tables["feature_drift"]      # a section's table, computed here
    result.summary                      # status, headline, findings, provenance

:class:`DriftParameters` are the notebook's parameters; :func:`analyse` opens
the backend and reads the windows (:class:`Windows`); :class:`DriftResult`
computes each part on first use. The statistics behind it are public too:
:func:`compare` and :func:`drift_over_time` on a reference profile's summaries,
:func:`prediction_drift`, the bands (:class:`Thresholds`, :func:`learn_thresholds`),
the domain classifier (:func:`domain_classifier`), which columns are monitored
and why not (:func:`assess_coverage`), the periods of drift over time
(:func:`choose_period`), drift within segment levels (:func:`segment_drift`)
the figures, and a drill-down into one column (:func:`drill_down`,
:meth:`DriftResult.drill_down`). Every report spends one false-alarm budget
(:class:`FalseAlarmBudget`), shared by its families of checks; drift over
time judges periods of at least :data:`MIN_JUDGED_ROWS` rows
(:func:`judged_periods`).
"""

from __future__ import annotations

from ._analysis import FIGURES, TABLES, DriftResult, analyse
from ._budget import DEFAULT_BUDGET, FAMILY_SHARES, REPORT_ALPHA, FalseAlarmBudget
from ._chunks import JudgedPeriods, judged_periods
from ._columns import MonitoredColumns
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
from ._coverage import MIN_REFERENCE_ROWS, ColumnCoverage, Coverage, assess_coverage, unbinnable
from ._drill_down import MAX_LEVELS, ROW_CHUNKS, DrillDown, drill_down
from ._learned import LEARNED_FLOOR, chunk_metrics, learn_thresholds
from ._metrics import column_metrics, comparable_counts
from ._multivariate import MIN_ROWS, SECTION, DomainClassifierResult, auc_pvalue, domain_classifier
from ._parameters import DriftParameters
from ._period_choice import CHUNKS, MAX_PERIODS, MIN_PERIOD_ROWS, PeriodChoice, choose_period
from ._plots import (
    distribution_grid,
    importance_plot,
    incident_chart,
    metric_heatmap,
    moved_columns,
    not_available,
    trend_lines,
)
from ._segments import (
    MAX_SEGMENT_DISTINCT,
    MAX_SEGMENT_LEVELS,
    MIN_SEGMENT_ROWS,
    SegmentDrift,
    compare_levels,
    segment_drift,
)
from ._thresholds import DEFAULT_BANDS, METRICS, MIN_JUDGED_ROWS, THRESHOLDS_VERSION, Band, Thresholds
from ._windows import DEFAULT_ROW_SAMPLE, Windows

__all__ = [
    "DriftParameters",
    "DriftResult",
    "analyse",
    "TABLES",
    "FIGURES",
    "Windows",
    "DrillDown",
    "drill_down",
    "MAX_LEVELS",
    "ROW_CHUNKS",
    "MonitoredColumns",
    "Coverage",
    "ColumnCoverage",
    "assess_coverage",
    "unbinnable",
    "MIN_REFERENCE_ROWS",
    "PeriodChoice",
    "choose_period",
    "MIN_PERIOD_ROWS",
    "MAX_PERIODS",
    "CHUNKS",
    "SegmentDrift",
    "segment_drift",
    "compare_levels",
    "MAX_SEGMENT_LEVELS",
    "MIN_SEGMENT_ROWS",
    "MAX_SEGMENT_DISTINCT",
    "DEFAULT_ROW_SAMPLE",
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
    "LEARNED_FLOOR",
    "column_metrics",
    "comparable_counts",
    "FalseAlarmBudget",
    "DEFAULT_BUDGET",
    "REPORT_ALPHA",
    "FAMILY_SHARES",
    "JudgedPeriods",
    "judged_periods",
    "MIN_JUDGED_ROWS",
    "distribution_grid",
    "importance_plot",
    "incident_chart",
    "metric_heatmap",
    "trend_lines",
    "moved_columns",
    "not_available",
    "THRESHOLDS_VERSION",
    "METRICS",
    "DEFAULT_BANDS",
    "Band",
    "Thresholds",
    "SECTION",
    "MIN_ROWS",
    "DomainClassifierResult",
    "domain_classifier",
    "auc_pvalue",
]
