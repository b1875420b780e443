"""Data-integrity checks: schema, missing values, defaults and sentinels, ranges, categories, duplicates, freshness.

Also how much of its first and last period a window covers (:func:`edge_coverage`), which drift over time uses too.
"""

from __future__ import annotations

from ._check import SECTION, IntegrityResult, check_integrity
from ._context import CheckResult
from ._coverage import COMPLETE_COVERAGE, MIN_COVERAGE, EdgeCoverage, edge_coverage
from ._domain import category_changes, constant_columns, out_of_range
from ._shares import missing_change, non_finite, sentinel_spikes
from ._stats import increase_pvalue
from ._tables import duplicate_ids, freshness, rows_per_period, schema_diff
from ._thresholds import DEFAULT_THRESHOLDS, merge_thresholds, methods

__all__ = [
    "SECTION",
    "IntegrityResult",
    "check_integrity",
    "CheckResult",
    "EdgeCoverage",
    "edge_coverage",
    "COMPLETE_COVERAGE",
    "MIN_COVERAGE",
    "out_of_range",
    "category_changes",
    "constant_columns",
    "missing_change",
    "sentinel_spikes",
    "non_finite",
    "increase_pvalue",
    "schema_diff",
    "duplicate_ids",
    "freshness",
    "rows_per_period",
    "DEFAULT_THRESHOLDS",
    "merge_thresholds",
    "methods",
]
