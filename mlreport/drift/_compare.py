"""Feature and prediction drift: reference profile against current summaries.

Everything here works on :class:`~mlreport.profile.Summaries` (counts on bins
fixed by the reference), so the same numbers come out whichever backend
counted them. Raw values are only needed for the optional exact KS and
Wasserstein (``exact=``).

This module compares (:func:`compare`, :func:`drift_over_time`,
:func:`prediction_drift`) and is where the drift notebook finds its calls
(:func:`first_crossing`, :func:`findings_from_comparison`,
:func:`findings_from_over_time`, :func:`methods`). The rest, one module each:

* ``_thresholds``: bands per metric and the default bands;
* ``_learned``: bands learned from reference chunks;
* ``_metrics``: every metric of one column;
* ``_verdict``: adjusted p-values and the severity rule;
* ``_periods``: first crossings of the periods;
* ``_findings``: findings and their messages;
* ``_methods``: method strings for the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import pandas as pd

from ..errors import DataError, ParameterError
from ..findings import Finding
from ..profile import ReferenceProfile, Summaries
from ._centre import CENTRE_COLUMNS, with_centres
from ._findings import findings_from_comparison, findings_from_over_time
from ._methods import methods
from ._metrics import _rows
from ._periods import first_crossing
from ._thresholds import Thresholds, _thresholds, worst_first
from ._verdict import _COLUMN_ORDER, _assess, _finish

__all__ = [
    "PredictionDrift",
    "compare",
    "drift_over_time",
    "first_crossing",
    "findings_from_comparison",
    "findings_from_over_time",
    "prediction_drift",
    "methods",
]


def compare(
    profile: ReferenceProfile,
    reference_summaries: Summaries | None,
    current_summaries: Summaries,
    *,
    thresholds: Thresholds | Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
    exact: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    eps: float | None = None,
) -> pd.DataFrame:
    """One row per profiled column: metrics, adjusted p-values, severity and reason.

    ``reference_summaries`` defaults (``None``) to the profile's own.
    ``exact=(reference_frame, current_frame)`` computes KS and Wasserstein of
    numeric columns from raw values (``ks_method`` says which was used).
    Columns: ``column, kind, n_ref, n_cur`` (valid values), ``severity`` (ok /
    warning / incident, or ``n/a`` when the column cannot be compared),
    ``trigger`` (the metric that set the severity), ``value``, ``threshold``,
    every metric, p-values raw and adjusted (``*_pvalue_adj``; the correction is
    in ``table.attrs["correction"]``), ``reason`` and ``notes``. Sorted worst
    first, then by PSI. ``table.attrs`` also carries the thresholds and method
    strings. PSI smooths every bin's count by 0.5 on both sides (see
    ``_metrics``); ``eps`` floors empty bins at that proportion instead.
    """
    settings = _thresholds(thresholds)
    reference = profile.reference if reference_summaries is None else reference_summaries
    if not isinstance(current_summaries, Summaries) or not isinstance(reference, Summaries):
        raise ParameterError("compare() takes Summaries from profile.summarize()", name="current_summaries")
    rows = _rows(profile, reference, current_summaries, columns=columns, exact=exact, eps=eps)
    table = _assess(pd.DataFrame(rows), settings)
    table = worst_first(table)
    return with_centres(_finish(table, settings, eps), profile, reference, current_summaries)


def drift_over_time(
    profile: ReferenceProfile,
    reference_summaries: Summaries | None,
    current: pd.DataFrame | Mapping[Any, Summaries],
    period_key: pd.Series | str | None = None,
    *,
    thresholds: Thresholds | Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
    eps: float | None = None,
) -> pd.DataFrame:
    """Every metric per column per period of the current data, with severities.

    ``current`` is either the current frame, with ``period_key`` labelling each
    row (a Series aligned with the frame, e.g. from :func:`period_labels`, or a
    column name; periods in sorted label order), or the per-period summaries
    already counted, ``{period label: Summaries}`` as a backend's
    ``summarize_periods`` or ``summarize_by`` returns them (in sorted label
    order; taken in the mapping's order), with no ``period_key``. Both give the
    same table for the same rows. Periods are numbered by ``period_index``;
    each is compared with the whole reference. The multiple-testing family is
    the whole table (every column in every period). Tidy: one row per
    (period, column).
    """
    settings = _thresholds(thresholds)
    reference = profile.reference if reference_summaries is None else reference_summaries
    if isinstance(current, pd.DataFrame):
        if period_key is None:
            raise ParameterError("drift_over_time needs period_key with a current frame", name="period_key")
        parts = profile.summarize_by(current, period_key)
    elif isinstance(current, Mapping) and all(isinstance(part, Summaries) for part in current.values()):
        if period_key is not None:
            raise ParameterError(
                "period_key labels the rows of a frame; per-period summaries are labelled already",
                name="period_key",
            )
        parts = dict(current)
    else:
        raise ParameterError(
            "drift_over_time takes a current frame and period_key, or {period: Summaries} "
            f"from a backend's summarize_periods; got {type(current).__name__}",
            name="current",
        )
    frames, centres = [], []
    for index, (label, part) in enumerate(parts.items()):
        rows = _rows(profile, reference, part, columns=columns, exact=None, eps=eps)
        frame = pd.DataFrame(rows)
        frame.insert(0, "period_index", index)
        frame.insert(0, "period", str(label))
        frames.append(frame)
        if "column" in frame.columns:
            centres.append(with_centres(frame[["period", "column"]].copy(), profile, reference, part))
    if not frames:
        empty = pd.DataFrame(columns=["period", "period_index", *_COLUMN_ORDER])
        return _finish(empty, settings, eps, leading=("period", "period_index"))
    table = _finish(_assess(pd.concat(frames, ignore_index=True), settings), settings, eps,
                    leading=("period", "period_index"))
    return _with_period_centres(table, centres)


def _with_period_centres(table: pd.DataFrame, centres: list[pd.DataFrame]) -> pd.DataFrame:
    """``table`` with each period's centre columns (:func:`with_centres`) beside its rows; attrs kept."""
    keys = pd.MultiIndex.from_frame(table[["period", "column"]].astype(str)) if len(table) else None
    found = pd.concat(centres, ignore_index=True) if centres else pd.DataFrame(columns=["period", "column"])
    found.index = pd.MultiIndex.from_frame(found[["period", "column"]].astype(str))
    for name in CENTRE_COLUMNS:
        values: list[Any] = found[name].reindex(keys).tolist() if keys is not None and name in found else []
        table[name] = pd.Series(values, index=table.index, dtype=object if name == "moved_level" else float)
    return table


class PredictionDrift(NamedTuple):
    """Score and decision drift: the comparison table and its findings.

    ``assessed`` is False when the data has neither a score nor a decision
    column: ``table`` then has the columns of :func:`compare` and no rows, and
    ``findings`` holds one ``ok`` finding saying prediction drift was not assessed.
    """

    table: pd.DataFrame
    findings: list[Finding]
    assessed: bool = True


#: Column dtypes of an empty :func:`compare` table (text columns; the rest are numbers).
_TEXT_COLUMNS = ("column", "kind", "severity", "trigger", "ks_method", "reason", "notes")
_COUNT_COLUMNS = ("n_ref", "n_cur", "chi2_dof")


def _not_assessed(thresholds: Thresholds | Mapping[str, Any] | None, section: str) -> PredictionDrift:
    message = "no score or decision column: prediction drift not assessed"
    empty = pd.DataFrame({
        name: pd.Series(dtype="str" if name in _TEXT_COLUMNS else "int64" if name in _COUNT_COLUMNS else "float64")
        for name in _COLUMN_ORDER
    })
    table = _finish(empty, _thresholds(thresholds), None)
    for name in CENTRE_COLUMNS:  # the columns compare() adds, so both tables have one shape
        table[name] = pd.Series(dtype="str" if name == "moved_level" else "float64")
    table.attrs["empty_text"] = message  # what a report table shows instead of "none"
    finding = Finding(check="prediction_drift", subject="score and decision", severity="ok",
                      message=message, section=section)
    return PredictionDrift(table, [finding], assessed=False)


def prediction_drift(
    profile: ReferenceProfile,
    reference_summaries: Summaries | None,
    current_summaries: Summaries,
    *,
    score: str | None = None,
    decision: str | None = None,
    thresholds: Thresholds | Mapping[str, Any] | None = None,
    section: str = "Prediction drift",
) -> PredictionDrift:
    """Drift of the model's outputs: the score distribution and the decision mix.

    They are columns like any other (a numeric score, a categorical decision)
    profiled with the features; this compares just them, with their own
    multiple-testing family, and labels the findings ``section``. With neither
    ``score`` nor ``decision`` (feature monitoring only) the result is empty and
    marked not assessed (see :class:`PredictionDrift`), as Performance is
    without labels.
    """
    names = [c for c in (score, decision) if c]
    if not names:
        return _not_assessed(thresholds, section)
    for name in names:
        if name not in profile.columns:
            raise DataError(
                f"column {name!r} is not in the reference profile: fit the profile with it",
                column=name,
            )
    table = compare(profile, reference_summaries, current_summaries, thresholds=thresholds, columns=names)
    findings = findings_from_comparison(
        table, section, check="prediction_drift", include_ok=True, thresholds=thresholds
    )
    return PredictionDrift(table, findings)
