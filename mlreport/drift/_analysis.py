"""The drift analysis in one call: :func:`analyse` reads the windows, :class:`DriftResult` computes each section.

``notebooks/drift.ipynb`` is the narrative around it::

    result = drift.analyse(drift.DriftParameters.from_namespace(globals()))
    result.tables["feature_drift"]
    show(result.figures["psi_heatmap"])
    publish(result.summary)

Every part of the result is computed on first use and kept, in the order the
notebook shows them, so the cell that shows a section is the one that runs it
(a failure is reported in its own section) and a Python user pays only for
what they ask.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..analysis import AnalysisResult, Sections
from ..backends import Backend, open_backend
from ..data import InputLog
from ..findings import Finding, Summary
from ..integrity import EdgeCoverage, IntegrityResult, check_integrity, edge_coverage
from ..performance import PerformanceComparison, auc_by_period, calibration_plot, compare_performance
from ..profile import ReferenceProfile, Summaries, period_labels
from ..spec import ModelSpec
from ..story import Incident, defaulted_value, incidents_of
from ..tables import Table, table
from ._budget import DEFAULT_BUDGET, FalseAlarmBudget
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
from ._counting import current_counts, drift_thresholds, period_choice, reference_profile
from ._coverage import Coverage, assess_coverage
from ._drill_down import DrillDown, drill_down
from ._multivariate import DomainClassifierResult, domain_classifier
from ._parameters import DriftParameters
from ._period_choice import PeriodChoice
from ._plots import distribution_grid, importance_plot, incident_chart, metric_heatmap, not_available, trend_lines
from ._report import (
    DRIFT_COLUMNS,
    INTEGRITY_COLUMNS,
    PERFORMANCE_COLUMNS,
    SEGMENT_COLUMNS,
    computation_methods,
    computation_table,
    drift_summary,
    findings_frame,
    flagged,
    row_level_arguments,
)
from ._report import moved as columns_that_moved
from ._segments import MAX_SEGMENT_DISTINCT, MAX_SEGMENT_LEVELS, MIN_SEGMENT_ROWS, SegmentDrift, segment_drift
from ._thresholds import Thresholds
from ._windows import Windows, load_windows

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DriftResult", "analyse", "TABLES", "FIGURES"]

#: The report's tables, in the order the notebook shows them, with what each holds.
TABLES: dict[str, str] = {
    "coverage": "Columns: every column of the data, its role (spec or inferred), whether drift monitors it, why not",
    "windows": "Data: the two windows compared (rows, columns, first and last record)",
    "column_roles": "Data: the column roles from the model spec, or inferred",
    "integrity_findings": "Data integrity: every integrity finding at warning or above",
    "integrity_columns": "Data integrity: the columns with an integrity finding, with their figures",
    "feature_drift": "Feature drift: every feature's metrics and verdict, worst first",
    "segment_drift": "Drift by segment: each feature within each segment level, worst first",
    "first_crossings": "Drift over time: the first period each column crossed a band",
    "prediction_drift": "Prediction drift: the score and the decision mix against the reference",
    "performance": "Performance: discrimination and calibration by window and period",
    "classifier_features": "Multivariate drift: the features that separate the windows",
    "computation": "Computation: the backend, its settings and time, the rows of the row-level sections",
    "false_alarm_budget": "Computation: the report's false-alarm budget and each family's share of it",
}

#: The report's figures, in the order the notebook shows them, with what each draws.
FIGURES: dict[str, str] = {
    "integrity_incident": "Data integrity: the worst integrity incident's column, missing and placeholder shares "
                          "per day, onset marked",
    "distributions": "Distributions: reference against current per bin, for the columns that moved",
    "psi_heatmap": "Drift over time: PSI per column and period",
    "psi_trends": "Drift over time: PSI per period of the columns that moved, with the bands",
    "auc_by_period": "Performance: AUC per current period against the reference's",
    "calibration": "Performance: observed against predicted default rate per reference score bin",
    "classifier_importance": "Multivariate drift: the domain classifier's permutation importance",
}

_NO_PERFORMANCE = "No score or target column: performance not assessed."

#: Pandas period aliases of the drift periods by date (weeks start on Monday, as period_labels' do).
_ALIASES = {"D": "D", "W": "W-SUN", "M": "M"}

_OVERRIDE = (
    "Roles come from the model spec when spec_path is given, else from the columns' names and content. To change "
    "them, give a spec (TOML) naming timestamp, id, score, decision, target, segments, features, window_labels "
    "and exclude (columns left out on purpose), or the timestamp_column parameter."
)


def analyse(parameters: DriftParameters) -> DriftResult:
    """Open the backend, read the reference and current windows, and return the result that computes the rest.

    The backend (``parameters.backend``, ``"auto"`` choosing by the size of
    the files) is opened here, once, with the run's :class:`~mlreport.data.InputLog`;
    every file it reads is recorded there. Bad paths, files or windows raise
    here (:class:`~mlreport.errors.DataError`, ``ParameterError``,
    ``SpecError``); each section of the report is computed when first asked for.
    """
    log = InputLog()
    paths = [path for path in (parameters.reference_path, parameters.current_path) if path]
    engine = open_backend(parameters.backend, paths or None, parameters.backend_options, inputs=log)
    return DriftResult(parameters, load_windows(parameters, engine))


class DriftResult(AnalysisResult):
    """The drift report of one reference and current window: its parts, tables, figures and summary.

    What was read, by :func:`analyse`:

    ``windows``, ``spec``, ``backend``, ``reference``, ``current``, ``inputs``
        the windows (:class:`~mlreport.drift.Windows`), their column roles,
        the backend that counts them, their rows in memory, the record of inputs;

    and the parts, each computed on first use, then kept:

    ``coverage``, ``monitored``
        every column with its role and whether drift monitors it, and why not
        (:class:`~mlreport.drift.Coverage`); the columns drift looks at, and
        the features among them (:class:`~mlreport.drift.MonitoredColumns`);
    ``period_choice``
        the periods of drift over time: the one asked for, or chosen
        (:class:`~mlreport.drift.PeriodChoice`);
    ``budget``
        the report's false-alarm budget (:class:`~mlreport.drift.FalseAlarmBudget`):
        each family of checks tests at its share of it (``family_thresholds``);
    ``integrity``
        the integrity checks (:class:`~mlreport.integrity.IntegrityResult`);
    ``profile``, ``thresholds``
        the reference profile (fitted by the backend, or loaded) and the bands
        (feature drift's alphas; :meth:`family_thresholds` gives another family's);
    ``current_summaries``, ``period_summaries``
        the current window's counts on the profile's bins, whole and per period;
    ``drift_table``, ``judged_periods``, ``over_time``, ``crossings``, ``moved``
        feature drift (:func:`~mlreport.drift.compare`), the periods drift over
        time judges (small and partial ones merged), drift per period, the
        first period each column crossed a band, the columns that moved;
    ``segments``
        drift within each segment level (:class:`~mlreport.drift.SegmentDrift`);
    ``prediction``
        score and decision drift (:class:`~mlreport.drift.PredictionDrift`);
    ``performance``
        discrimination and calibration where labels arrived
        (:class:`~mlreport.performance.PerformanceComparison`), None without a
        score or target column;
    ``classifier``
        the domain classifier (:class:`~mlreport.drift.DomainClassifierResult`).

    ``tables`` and ``figures`` hold the report's sections by name
    (:data:`TABLES`, :data:`FIGURES`), every table captioned and every figure
    titled. The performance figures say "not available", and why, when there
    is nothing to draw. ``summary`` is what the notebook publishes and the
    driver records; ``findings`` are its findings, worst first.
    """

    analysis = "drift"

    def __init__(self, parameters: DriftParameters, windows: Windows) -> None:
        self.parameters = parameters
        self.windows = windows
        self.budget: FalseAlarmBudget = DEFAULT_BUDGET
        tables: dict[str, Callable[[], Table]] = {
            "coverage": self._coverage_table,
            "windows": self._windows_table,
            "column_roles": self._roles_table,
            "integrity_findings": self._integrity_findings_table,
            "integrity_columns": self._integrity_columns_table,
            "feature_drift": self._feature_drift_table,
            "segment_drift": self._segment_table,
            "first_crossings": self._crossings_table,
            "prediction_drift": self._prediction_table,
            "performance": self._performance_table,
            "classifier_features": self._classifier_table,
            "computation": self._computation_table,
            "false_alarm_budget": self._budget_table,
        }
        figures: dict[str, Callable[[], Figure]] = {
            "integrity_incident": self._integrity_incident_figure,
            "distributions": self._distributions_figure,
            "psi_heatmap": self._heatmap_figure,
            "psi_trends": self._trends_figure,
            "auc_by_period": self._auc_figure,
            "calibration": self._calibration_figure,
            "classifier_importance": self._importance_figure,
        }
        self._tables: Sections[Table] = Sections(tables, kind="table")
        self._figures: Sections[Figure] = Sections(figures, kind="figure")
        self._drill_downs: dict[tuple[str, str, str], DrillDown] = {}

    # -- what was read -------------------------------------------------------
    @property
    def spec(self) -> ModelSpec:
        """The model spec naming the columns' roles (loaded, or inferred from the reference)."""
        return self.windows.spec

    @property
    def backend(self) -> Backend:
        """The backend that read the windows and counts their summaries."""
        return self.windows.engine

    @property
    def reference(self) -> pd.DataFrame:
        """The reference window's rows in memory (every row, or a bounded sample with another backend)."""
        return self.windows.reference

    @property
    def current(self) -> pd.DataFrame:
        """The current window's rows in memory."""
        return self.windows.current

    @property
    def inputs(self) -> InputLog:
        """Every table read for this report, with its hash and size."""
        return self.windows.inputs

    # -- a drill-down to extend ----------------------------------------------
    def drill_down(self, column: str | None = None, *, section: str | None = None, value: object = None) -> DrillDown:
        """``column`` by period and by segment, against the reference, and the rows behind its new values.

        Without ``column``: the column of the worst incident (of those with a
        finding in ``section``, e.g. ``"Data integrity"``, when given), with
        the placeholder a sentinel finding names as ``value``. Periods are the
        days of the timestamp (weeks when drift over time ran by month), else
        chunks of rows. See :func:`~mlreport.drift.drill_down`.
        """
        if column is None:
            column, value = self._incident_column(section, value)
            if column is None:
                where = f" with a finding in {section}" if section else ""
                return DrillDown(column="", note=f"No incident{where} names a column of the data: name one, e.g. "
                                 f"result.drill_down({next(iter(self.current.columns), 'column')!r}).")
        # The report asks for the same column up to four times (the integrity chart and each section's
        # drill-down, most often the one incident's column): one pass over the rows for each (column, value).
        key = (column, type(value).__name__, repr(value))
        if key not in self._drill_downs:
            spec = self.spec
            timestamp = spec.timestamp if spec.timestamp in self.current.columns else None
            period = "W" if timestamp and self.period_choice.period == "M" else "D"  # days, unless months too few
            self._drill_downs[key] = drill_down(self.reference, self.current, column, timestamp=timestamp,
                                                segments=spec.segments, value=value, period=period)
        return self._drill_downs[key]

    def _incident_column(self, section: str | None, value: object) -> tuple[str | None, object]:
        found = self._incident_of(section)
        if found is None:
            return None, value
        column, placeholder, _ = found
        return column, value if value is not None or placeholder is None else placeholder

    def _incident_of(self, section: str | None) -> tuple[str, object, Incident] | None:
        """The worst incident with a finding in ``section`` that names a column: that column, its placeholder."""
        columns = set(map(str, self.current.columns)) & set(map(str, self.reference.columns))
        for incident in self._incidents:
            evidence = [e.finding for e in incident.evidence]
            if section and not any(f.section == section for f in evidence):
                continue
            for name in [incident.where, *(f.subject for f in evidence)]:
                if name in columns:
                    placeholder = next((defaulted_value(f) for f in evidence
                                        if f.check == "sentinel" and f.subject == name), None)
                    return name, None if placeholder is None else _as_value(placeholder), incident
        return None

    @cached_property
    def _incidents(self) -> list[Incident]:
        """The report's findings grouped by root cause, worst first (:func:`~mlreport.story.incidents_of`)."""
        return incidents_of(self.summary)

    # -- the parts, in the notebook's order -----------------------------------
    @cached_property
    def coverage(self) -> Coverage:
        """Every column of the data: its role, whether drift monitors it, and why not (with its findings)."""
        windows = self.windows
        return assess_coverage(self.spec, self.reference, self.current, reference_rows=windows.reference_rows.total,
                               complete=windows.complete)

    @property
    def monitored(self) -> MonitoredColumns:
        """The columns drift and integrity look at, and the features among them (from :attr:`coverage`)."""
        return self.coverage.monitored

    @cached_property
    def period_choice(self) -> PeriodChoice:
        """The periods of drift over time: ``period`` when it applies to this data and backend, else chosen."""
        return period_choice(self.windows, self.parameters.period)

    @cached_property
    def integrity(self) -> IntegrityResult:
        """Schema, missing values, sentinels, ranges, categories, duplicates, freshness: current against reference."""
        spec = self.spec
        overrides = spec.thresholds_for("integrity", self.parameters.integrity_thresholds)
        return check_integrity(
            self.reference, self.current, columns=list(self.coverage.integrity_columns),
            categorical=spec.categorical_features, period="D", thresholds=self.budget.integrity_overrides(overrides),
            **row_level_arguments(self.windows, end_declared=bool(self.parameters.current_end)),
        )

    @cached_property
    def profile(self) -> ReferenceProfile:
        """The reference profile: loaded from ``reference_profile``, else fitted by the backend (and saved)."""
        parameters = self.parameters
        return reference_profile(
            self.windows, self.monitored.columns, categorical=self.spec.categorical_features,
            load_path=parameters.reference_profile, save_path=parameters.save_profile, bins=parameters.psi_bins,
        )

    @cached_property
    def _drift_overrides(self) -> dict[str, Any]:
        return self.spec.thresholds_for("drift", self.parameters.drift_thresholds)

    @cached_property
    def thresholds(self) -> Thresholds:
        """The drift bands: the spec's and the parameter's, fixed or learned, at feature drift's share of the budget."""
        parameters = self.parameters
        return drift_thresholds(
            self.budget.drift_overrides("feature_drift", self._drift_overrides), mode=parameters.threshold_mode,
            profile=self.profile, reference=self.reference, columns=self.monitored.columns,
            timestamp=self.spec.timestamp, period=self.period_choice.period or "", k=parameters.learned_k,
            correction=parameters.correction, complete=self.windows.complete,
        )

    def family_thresholds(self, family: str) -> Thresholds:
        """:attr:`thresholds` at ``family``'s share of the false-alarm budget (the alphas set, if any, stand)."""
        overrides = self._drift_overrides
        if "alpha" in overrides or "incident_alpha" in overrides:
            return self.thresholds
        warning, incident = self.budget.levels(family)
        return replace(self.thresholds, alpha=warning, incident_alpha=incident)

    @cached_property
    def _segment_columns(self) -> tuple[list[str], dict[str, int], list[str]]:
        """The segment columns among the monitored ones, their distinct reference values, those cut by level."""
        names = [c for c in self.spec.segments if c in self.monitored.columns]
        distinct = {c: int(self.reference[c].nunique(dropna=True)) for c in names}
        return names, distinct, [c for c in names if distinct[c] <= MAX_SEGMENT_DISTINCT]

    @cached_property
    def _counted(self) -> tuple[Summaries, dict[str, Summaries], dict[str, dict[Any, Summaries]] | None]:
        # The current window's segments are counted in the same pass as its periods where the backend can
        # (pandas: each column encoded once for both); drift by segment reads them from here.
        period = self.period_choice.period
        cut = self._segment_columns[2]
        if period is None:  # no periods on this data and backend: the window's counts only
            whole, parts, by_segment = self.backend.summarize_periods_by_each(
                self.windows.current_source, self.profile, period=None, timestamp=self.spec.timestamp, by=cut
            )
        else:
            whole, parts, by_segment = current_counts(self.windows, self.profile, period, cut)
        return whole, parts, (dict(zip(cut, by_segment, strict=True)) if by_segment is not None else None)

    @property
    def current_summaries(self) -> Summaries:
        """The current window's counts on the profile's bins."""
        return self._counted[0]

    @property
    def period_summaries(self) -> dict[str, Summaries]:
        """The current window's counts per period (by date, or chunks of rows), in period order."""
        return self._counted[1]

    @cached_property
    def drift_table(self) -> pd.DataFrame:
        """Feature drift: one row per feature with its metrics and verdict, worst first (:func:`compare`)."""
        profile, thresholds = self.profile, self.thresholds
        features = list(self.monitored.features)
        return compare(profile, None, self.current_summaries, thresholds=thresholds, columns=features)

    @cached_property
    def feature_findings(self) -> list[Finding]:
        """One finding per feature at warning or above."""
        return findings_from_comparison(self.drift_table)

    @cached_property
    def edge_coverage(self) -> EdgeCoverage:
        """The share of a typical period's rows the current window covers in its first and last period."""
        choice, timestamp = self.period_choice, self.spec.timestamp
        current = self.current
        period = choice.period
        if period is None or not choice.by_date or not timestamp or timestamp not in current.columns:
            return EdgeCoverage(1.0, 1.0, "chunks of rows are complete")
        start, end = self.parameters.window_bounds()[2:]
        times = current[timestamp] if pd.api.types.is_datetime64_dtype(current[timestamp].dtype) else None
        if times is None:
            return EdgeCoverage(1.0, 1.0, "no parsed timestamps")
        reference = self.reference.get(timestamp)
        known = reference if reference is not None and pd.api.types.is_datetime64_dtype(reference.dtype) else None
        return edge_coverage(times, _ALIASES[period], reference_times=known, start=start, end=end)

    @cached_property
    def judged_periods(self) -> JudgedPeriods:
        """The periods drift over time judges: small periods merged, partial edge periods merged or noted."""
        return judged_periods(self.period_summaries, min_rows=self.thresholds.min_period_rows,
                              coverage=self.edge_coverage)

    @cached_property
    def segments(self) -> SegmentDrift:
        """Drift of each feature within each level of each segment column (same gating, one correction family)."""
        windows, monitored = self.windows, self.monitored
        names, distinct, _ = self._segment_columns
        overall = dict(zip(self.drift_table["column"].astype(str), self.drift_table["severity"], strict=True))
        return segment_drift(
            self.backend, windows.reference_source, windows.current_source, self.profile, segments=names,
            features=list(monitored.features), thresholds=self.family_thresholds("segment_drift"), distinct=distinct,
            overall=overall, current_parts=self._counted[2],
        )

    @cached_property
    def over_time(self) -> pd.DataFrame:
        """Every metric per monitored column per judged period, at drift over time's share of the budget."""
        return drift_over_time(self.profile, None, self.judged_periods.parts,
                               thresholds=self.family_thresholds("drift_over_time"))

    @cached_property
    def crossings(self) -> pd.DataFrame:
        """Per column, the first period at warning and at incident."""
        return first_crossing(self.over_time)

    @cached_property
    def time_findings(self) -> list[Finding]:
        """One finding per column that crossed a band in some period."""
        return findings_from_over_time(self.over_time)

    @cached_property
    def moved(self) -> list[str]:
        """The columns flagged over the window or in any period (else the three largest PSIs), at most nine."""
        return columns_that_moved(self.drift_table, self.crossings)

    @cached_property
    def prediction(self) -> PredictionDrift:
        """Drift of the score and of the decision mix."""
        spec, columns = self.spec, self.monitored.columns
        return prediction_drift(
            self.profile, None, self.current_summaries, score=spec.score if spec.score in columns else None,
            decision=spec.decision if spec.decision in columns else None,
            thresholds=self.family_thresholds("prediction_drift"),
        )

    @cached_property
    def performance(self) -> PerformanceComparison | None:
        """Discrimination and calibration of matured periods; None without a score or target column."""
        spec, choice = self.spec, self.period_choice
        if not (spec.score and spec.target):
            return None
        dated = choice.by_date and spec.timestamp and spec.timestamp in self.current.columns
        by_date = choice.period if dated else None
        periods = int(period_labels(self.current[spec.timestamp], by_date).nunique()) if by_date else 0
        overrides = spec.thresholds_for("performance", self.parameters.performance_thresholds)
        return compare_performance(
            self.reference, self.current, score=spec.score, target=spec.target, timestamp=spec.timestamp or None,
            period=choice.period if choice.by_date else None, label_delay=spec.label_delay_days,
            thresholds=self.budget.performance_overrides(overrides, periods=periods),
        )

    @cached_property
    def classifier(self) -> DomainClassifierResult:
        """The domain classifier: can a model tell current rows from reference rows?"""
        features = list(self.monitored.features)
        return domain_classifier(
            self.reference, self.current, features=features,
            categorical=[c for c in self.spec.categorical_features if c in features],
            sample=self.parameters.classifier_sample,
            seed=self.parameters.seed, alpha=self.budget.levels("domain_classifier"),
        )

    # -- AnalysisResult --------------------------------------------------------
    @property
    def findings(self) -> list[Finding]:
        """Every finding of the report, worst first."""
        return self.summary.findings

    @cached_property
    def summary(self) -> Summary:
        """Status, headline and findings, with inputs, thresholds, methods, metrics and the profile's fingerprint."""
        # In the notebook's order: the backend's timings in the metrics are those of the whole report.
        coverage, checks, drift_table = self.coverage, self.integrity, self.drift_table
        segments, time_findings = self.segments, self.time_findings
        prediction, perf, domain = self.prediction, self.performance, self.classifier
        findings = (
            coverage.findings + checks.findings + self.feature_findings + segments.findings + prediction.findings
            + self._period_findings() + self._period_notes() + time_findings + (perf.findings if perf else [])
            + domain.findings
        )
        method_lines = {
            "coverage": _OVERRIDE, **methods(self.thresholds), **checks.methods,
            "period": self.period_choice.reason,
            "segment_drift": _segment_method(segments, self.family_thresholds("segment_drift")),
            **(perf.methods if perf else {}), "domain_classifier": domain.method, **computation_methods(self.windows),
            "false_alarm_budget": self.budget.describe(),
        }
        thresholds = {
            "version": self.spec.thresholds_version, "drift": self.thresholds.to_dict(),
            "integrity": checks.thresholds, "domain_classifier_auc": list(domain.threshold),
            "false_alarm_budget": {"warning": self.budget.warning, "incident": self.budget.incident,
                                   "shares": dict(self.budget.shares)},
        }
        current = self.current_summaries
        metrics = {
            "psi": dict(zip(drift_table["column"], drift_table["psi"], strict=True)),
            # KS D is defined for numeric columns only: categorical ones are left out, not zero.
            "ks": {
                column: float(d) for column, d in zip(drift_table["column"], drift_table["ks"], strict=True)
                if math.isfinite(d)
            },
            # Share of the current window's rows where the column is null (absent columns are integrity findings).
            "missing_rate": {
                column: current[column].missing / current[column].n
                for column in current if column not in current.absent and current[column].n > 0
            },
            "rows": current.rows,
            "reference_rows": self.profile.rows,
            "backend": self.backend.run_info(),
        }
        return drift_summary(
            findings=findings, drift_table=drift_table, features=self.monitored.features,
            inputs=self.inputs.to_list(), thresholds=thresholds, methods=method_lines, metrics=metrics,
            model=self.spec.model, data_period=self.windows.data_period, profile_fingerprint=self.profile.fingerprint,
            reference_rows=coverage.reference_rows,
        )

    def _period_notes(self) -> list[Finding]:
        """An ok finding saying which periods drift over time merged or noted, and why (else nothing)."""
        notes = self.judged_periods.notes
        if not notes:
            return []
        text = "; ".join(notes)
        return [Finding("drift_over_time_periods", "drift over time", "ok", text[:1].upper() + text[1:] + ".",
                        method=f"periods of at least {self.thresholds.min_period_rows:,} rows; edge periods by "
                               f"{self.edge_coverage.basis}", section="Drift over time")]

    def _period_findings(self) -> list[Finding]:
        """An ok finding saying why drift over time has other periods than asked, or none (else nothing)."""
        choice = self.period_choice
        if not choice.replaced:
            return []
        return [Finding("period", "drift over time", "ok", choice.reason[:1].upper() + choice.reason[1:] + ".",
                        method="period choice: " + choice.requested, section="Drift over time")]

    @property
    def tables(self) -> Sections[Table]:
        """The report's tables by name (:data:`TABLES`), each captioned, computed on first use."""
        return self._tables

    @property
    def figures(self) -> Sections[Figure]:
        """The report's figures by name (:data:`FIGURES`), each titled, computed on first use."""
        return self._figures

    # -- tables ----------------------------------------------------------------
    def _coverage_table(self) -> Table:
        coverage = self.coverage
        monitored = sum(1 for c in coverage.columns if c.monitored)
        source = self.spec.source
        origin = "inferred from names and content" if source == "inferred" else f"from {source}"
        caption = (f"Every column: {monitored} of {len(coverage.columns)} drift-tested, roles {origin} (a model spec "
                   "overrides them: timestamp, id, score, decision, target, segments, features, window_labels, "
                   "exclude)")
        return table(coverage.table(), caption=caption, limit=None)

    def _segment_table(self) -> Table:
        segments = self.segments
        caption = "Drift within each segment level, worst first"
        if segments.notes:
            caption += " (" + "; ".join(segments.notes) + ")"
        return table(flagged(segments.table), SEGMENT_COLUMNS, caption=caption)

    def _windows_table(self) -> Table:
        return table(self.windows.overview(), index=True, caption="Windows compared")

    def _roles_table(self) -> Table:
        return table(self.spec.roles_table(), index=True, caption="Column roles")

    def _integrity_findings_table(self) -> Table:
        return table(findings_frame(self.integrity.findings), caption="Integrity findings")

    def _integrity_columns_table(self) -> Table:
        return table(flagged(self.integrity.columns), INTEGRITY_COLUMNS, caption="Columns with an integrity finding")

    def _feature_drift_table(self) -> Table:
        return table(self.drift_table, DRIFT_COLUMNS, caption="Feature drift, worst first")

    def _crossings_table(self) -> Table:
        choice = self.period_choice
        crossings = flagged(self.crossings)
        notes = self.judged_periods.notes
        if choice.skipped:
            crossings.attrs["empty_text"] = choice.reason
        elif not self.judged_periods.judged and notes:
            crossings.attrs["empty_text"] = "; ".join(notes)
        caption = f"First period each column crossed a band (periods: {choice.reason}"
        caption += (f"; {'; '.join(notes)})" if notes else ")")
        return table(crossings, caption=caption)

    def _prediction_table(self) -> Table:
        return table(self.prediction.table, DRIFT_COLUMNS, caption="Score and decision mix against the reference")

    def _performance_table(self) -> Table:
        perf = self.performance
        if perf is None:
            frame = pd.DataFrame(columns=list(PERFORMANCE_COLUMNS))
            frame.attrs["empty_text"] = _NO_PERFORMANCE
        else:
            frame = perf.table
        return table(frame, PERFORMANCE_COLUMNS, caption="Performance by window and period")

    def _classifier_table(self) -> Table:
        domain = self.classifier
        caption = f"Features that separate the windows (domain classifier AUC {domain.auc:.3f} ± {domain.auc_std:.3f})"
        return table(domain.importances, caption=caption, limit=10)

    def _computation_table(self) -> Table:
        return table(computation_table(self.windows), index=True, caption="How this report was computed")

    def _budget_table(self) -> Table:
        budget = self.budget
        caption = (
            f"False-alarm budget: with no change in the data, a warning or worse in at most {budget.warning:.0%} of "
            f"reports and an incident in at most {budget.incident:.0%}, shared between the families of checks"
        )
        return table(budget.table(self.thresholds.correction), caption=caption, limit=None)

    # -- figures ---------------------------------------------------------------
    def _distributions_figure(self) -> Figure:
        moved = self.moved
        return distribution_grid(self.profile, None, self.current_summaries, moved[:9], table=self.drift_table)

    def _heatmap_figure(self) -> Figure:
        if self.period_choice.skipped:
            return not_available("Drift over time: skipped", self.period_choice.reason)
        return metric_heatmap(self.over_time, "psi")

    def _trends_figure(self) -> Figure:
        if self.period_choice.skipped:
            return not_available("PSI per period: skipped", self.period_choice.reason)
        return trend_lines(self.over_time, "psi", columns=self.moved[:6] or None)

    def _judged_performance(self) -> PerformanceComparison | str:
        """The performance comparison when it has a reference to draw against, else why not."""
        perf = self.performance
        if perf is None:
            return _NO_PERFORMANCE
        if perf.reference is None:
            return perf.findings[0].message if perf.findings else "Performance not computed."
        return perf

    def _auc_figure(self) -> Figure:
        perf = self._judged_performance()
        if isinstance(perf, str):
            return not_available("AUC per period: not available", perf)
        return auc_by_period(perf)

    def _calibration_figure(self) -> Figure:
        perf = self._judged_performance()
        if isinstance(perf, str):
            return not_available("Calibration: not available", perf)
        if perf.reference_calibration is None:
            return not_available("Calibration: not available", "No calibration of the reference scores.")
        return calibration_plot(perf.reference_calibration, perf.current_calibration)

    def _integrity_incident_figure(self) -> Figure:
        title = "Data integrity: the incident's column over time"
        found = self._incident_of("Data integrity")
        if found is None:
            return not_available(title, "No integrity incident names a column of the data: nothing to chart.")
        column, placeholder, incident = found
        down = self.drill_down(column, value=placeholder)
        what = incident.what if incident.what.startswith(incident.where) else f"{incident.where}: {incident.what}"
        return incident_chart(down, what, incident.onset)

    def _importance_figure(self) -> Figure:
        return importance_plot(self.classifier)


def _segment_method(segments: SegmentDrift, thresholds: Thresholds) -> str:
    """The appendix line of drift by segment: what was compared, with which correction, and what was capped."""
    if not segments.assessed:
        return "drift by segment: no segment column"
    correction = segments.table.attrs.get("correction", "fdr_bh")
    text = (
        "drift by segment: each feature within each segment level, reference level against current level, on the "
        f"profile's bins, with feature drift's bands and gating; p-values adjusted ({correction}) over every level "
        f"x feature, significant at {thresholds.alpha_for('warning'):g} for a warning and "
        f"{thresholds.alpha_for('incident'):g} for an incident (drift by segment's share of the false-alarm "
        f"budget); at most {MAX_SEGMENT_LEVELS} levels per segment, each with at least {MIN_SEGMENT_ROWS} rows "
        "in both windows"
    )
    return text + ("; " + "; ".join(segments.notes) if segments.notes else "")


def _as_value(text: str) -> object:
    """A placeholder named in a finding's message ("0", "-1", "9999.0", "UNKNOWN") as the value it compares to."""
    try:
        number = float(text)
    except ValueError:
        return text.strip("'\"")
    return int(number) if number.is_integer() else number
