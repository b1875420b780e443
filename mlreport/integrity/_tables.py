"""Table-level integrity checks: the columns, the ids and the timing of the current data.

``schema_diff``       missing, new and type-changed columns; mixed-type columns
``duplicate_ids``     repeated ids in the current data
``freshness``         latest timestamp against the expected end of the window
``rows_per_period``   current rows per period against the reference's typical count
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..findings import Finding, worst
from ._context import SECTION, CheckResult, _Context, _context, _family, _ordinals, _period_labels, _result
from ._coverage import COMPLETE_COVERAGE, MIN_COVERAGE, edge_coverage
from ._onset import _onset
from ._stats import _bonferroni, increase_pvalue
from ._text import _listing, _pct, _rows, _since, _value_text
from ._thresholds import methods

__all__ = ["schema_diff", "duplicate_ids", "freshness", "rows_per_period"]

_SCHEMA_COLUMNS = ["column", "in_reference", "in_current", "reference_dtype", "current_dtype",
                   "reference_type", "current_type", "status", "severity"]
_VOLUME_COLUMNS = ["period", "reference_typical", "expected", "rows", "ratio", "partial",
                   "coverage", "graded", "severity"]


def _schema(ctx: _Context, wanted: Sequence[str] | None) -> CheckResult:
    ref, cur = ctx.reference, ctx.current
    if wanted is None:
        names = list(dict.fromkeys(list(ref.columns) + list(cur.columns)))
    else:
        names = list(dict.fromkeys([c for c in (ctx.timestamp_column, ctx.id_column) if c]
                                   + list(wanted)))
    rows, findings = [], []
    method = methods(ctx.thresholds)["schema"]
    for column in names:
        in_ref, in_cur = column in ref.columns, column in cur.columns
        known = ctx.families.get(column)
        fam_ref = (known[0] if known else _family(ref[column])) if in_ref else None
        fam_cur = (known[1] if known else _family(cur[column])) if in_cur else None
        status, severity, message = "ok", "ok", ""
        if in_ref and not in_cur:
            status, severity = "missing_in_current", "incident"
            message = (f"{column}: column missing from the current data "
                       f"(present in the reference as {ref[column].dtype})")
        elif in_cur and not in_ref:
            status, severity = "new_in_current", "warning"
            message = (f"{column}: new column in the current data ({cur[column].dtype}), "
                       "not in the reference")
        elif fam_cur == "mixed":
            status = "mixed_types"
            severity = "warning" if fam_ref == "mixed" else "incident"
            message = _mixed_message(column, cur[column], fam_ref)
        elif fam_ref != fam_cur and "null" not in (fam_ref, fam_cur) and ctx.n_cur > 0:
            # From mixed to one type is a clean-up, worth a note rather than an alarm.
            status, severity = "type_changed", "warning" if fam_ref == "mixed" else "incident"
            example = cur[column].dropna().iloc[0]
            message = (f"{column}: type changed from {fam_ref} ({ref[column].dtype}) in the "
                       f"reference to {fam_cur} ({cur[column].dtype}) in the current data, "
                       f"e.g. {_value_text(example)}")
        rows.append({"column": column, "in_reference": in_ref, "in_current": in_cur,
                     "reference_dtype": str(ref[column].dtype) if in_ref else None,
                     "current_dtype": str(cur[column].dtype) if in_cur else None,
                     "reference_type": fam_ref, "current_type": fam_cur,
                     "status": status, "severity": severity})
        if severity != "ok":
            findings.append(Finding("schema", column, severity, message, method=method,
                                    section=SECTION))
    return _result(rows, _SCHEMA_COLUMNS, findings, [])


def _mixed_message(column: str, series: pd.Series, fam_ref: str | None) -> str:
    values = series.dropna()
    kinds = values.map(lambda v: "number" if isinstance(v, (int, float, np.number))
                       and not isinstance(v, (bool, np.bool_)) else type(v).__name__)
    counts = kinds.value_counts()
    parts = [f"{n:,} {kind}{'s' if kind == 'number' else ' values'}" for kind, n in counts.items()]
    minority = counts.index[-1]
    example = values[(kinds == minority).to_numpy()].iloc[0]
    ref_note = "as in the reference" if fam_ref == "mixed" else f"reference: {fam_ref}"
    return (f"{column}: mixed types in the current data: {', '.join(parts)} "
            f"(e.g. {_value_text(example)}; {ref_note}); expected one type")


_DUPLICATE_COLUMNS = ["column", "reference_duplicate_share", "current_duplicate_share",
                      "current_duplicates", "examples", "duplicate_p_value", "duplicate_severity"]


def _duplicates(ctx: _Context) -> CheckResult:
    column = ctx.id_column
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    timeline: list[dict[str, Any]] = []
    if column is None or column not in ctx.current.columns:
        return _result(rows, _DUPLICATE_COLUMNS, findings, timeline)
    cur = ctx.current[column]
    cur_dup = (cur.duplicated(keep="first") & cur.notna()).to_numpy()
    n_cur = int(cur.notna().sum())
    if column in ctx.reference.columns:
        ref = ctx.reference[column].dropna()
        k_ref, n_ref = float(ref.duplicated(keep="first").sum()), float(len(ref))
    else:
        k_ref, n_ref = 0.0, 0.0
    k_cur = float(cur_dup.sum())
    p_value = float(increase_pvalue(k_ref, n_ref, k_cur, n_cur)[0][()]) if n_ref else 0.0
    share_ref = k_ref / n_ref if n_ref else float("nan")
    share_cur = k_cur / n_cur if n_cur else float("nan")
    severity = "ok"
    if k_cur > 0:
        severity = "incident" if (k_ref == 0 or p_value < ctx.alphas("duplicate_ids", column)[1]) else "warning"
    limit = int(ctx.thresholds["max_listed"])
    repeated = cur[cur_dup].value_counts() if k_cur else pd.Series(dtype=np.int64)
    examples = [f"{_value_text(v)} (x{c + 1})" for v, c in repeated.head(limit).items()]
    rows.append({"column": column, "reference_duplicate_share": share_ref,
                 "current_duplicate_share": share_cur, "current_duplicates": int(k_cur),
                 "examples": ", ".join(examples), "duplicate_p_value": p_value,
                 "duplicate_severity": severity})
    if severity != "ok":
        label, _ = _onset(ctx, "duplicate_ids", column, cur_dup, cur.notna().to_numpy(),
                              k_ref, n_ref, timeline)
        ref_text = (f"reference {_pct(share_ref)}, the same rate" if severity == "warning"
                    else f"reference {_pct(share_ref)}" if n_ref else "no reference ids")
        text = (f"{column}: {int(k_cur):,} rows repeat an earlier id in the current data "
                f"({_pct(share_cur)}){_since(label)} ({ref_text}); "
                f"e.g. {_listing(examples, int(repeated.size), limit)}")
        findings.append(Finding("duplicate_ids", column, severity, text,
                                value=round(share_cur * 100, 6),
                                threshold=round(share_ref * 100, 6) if n_ref else 0.0,
                                method=methods(ctx.thresholds)["duplicate_ids"], section=SECTION,
                                period=label))
    return _result(rows, _DUPLICATE_COLUMNS, findings, timeline)


_FRESHNESS_COLUMNS = ["latest", "expected_end", "lag_hours", "lag_periods", "rows_per_hour",
                      "p_value", "rows_after_end", "severity"]


def _period_length(period: str, at: pd.Timestamp) -> pd.Timedelta:
    span = pd.Period(at, freq=period)
    return span.end_time - span.start_time + pd.Timedelta(1, "ns")


def _freshness(ctx: _Context) -> CheckResult:
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    times = ctx.current_times
    if times is None or ctx.expected_end is None:
        return _result(rows, _FRESHNESS_COLUMNS, findings, [])
    valid = times.dropna()
    end = ctx.expected_end
    column = ctx.timestamp_column or ""
    if len(valid) == 0:
        rows.append({"latest": None, "expected_end": end, "lag_hours": np.nan,
                     "lag_periods": np.nan, "rows_per_hour": np.nan, "p_value": np.nan,
                     "rows_after_end": 0, "severity": "ok"})
        return _result(rows, _FRESHNESS_COLUMNS, findings, [])
    latest = valid.max()
    lag = end - latest
    length = _period_length(ctx.period, end - pd.Timedelta(1, "ns"))
    lag_periods = lag / length
    # Rate of arrivals: the reference's (the current one may be what broke).
    basis = ctx.reference_times.dropna() if ctx.reference_times is not None else valid
    if len(basis) < 2:
        basis = valid
    seconds = (basis.max() - basis.min()).total_seconds()
    rate = len(basis) / seconds if seconds > 0 else float("nan")
    lag_seconds = max(lag.total_seconds(), 0.0)
    p_value = float(math.exp(-rate * lag_seconds)) if np.isfinite(rate) else 1.0
    warn = ctx.limit("freshness", column, "warning_periods")
    inc = ctx.limit("freshness", column, "incident_periods")
    alpha, incident_alpha = ctx.alphas("freshness", column)
    severity = "ok"
    if p_value < alpha and lag_periods >= warn:
        severity = "incident" if lag_periods >= inc and p_value < incident_alpha else "warning"
    after = int((valid >= end).sum())
    rows.append({"latest": latest, "expected_end": end, "lag_hours": lag.total_seconds() / 3600,
                 "lag_periods": lag_periods, "rows_per_hour": rate * 3600, "p_value": p_value,
                 "rows_after_end": after, "severity": severity})
    method = methods(ctx.thresholds)["freshness"]
    if severity != "ok":
        findings.append(Finding(
            "freshness", column, severity,
            f"{column}: stale data: latest row at {latest} is {_duration(lag)} before the "
            f"expected end {end} ({lag_periods:.1f} periods of {_duration(length)}; about "
            f"{rate * lag_seconds:,.0f} rows expected in that time)",
            value=round(float(lag_periods), 4), threshold=inc if severity == "incident" else warn,
            method=method, section=SECTION, period=str(pd.Period(latest, freq=ctx.period))))
    if after:
        findings.append(Finding(
            "freshness", column, "warning",
            f"{column}: {after:,} rows at or after the expected end {end} (latest {latest}); "
            "clock skew or a wrong window", value=float(after), threshold=0.0, method=method,
            section=SECTION))
    return _result(rows, _FRESHNESS_COLUMNS, findings, [])


def _duration(delta: pd.Timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if abs(hours) >= 48 else f"{hours:.1f} hours"


Typical = tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray], str]


def _typical_counts(ctx: _Context) -> Typical | None:
    """Functions from period ordinals to the reference's typical rows and to how many periods each is the median of.

    And how it was made (a sentence for the method).
    """
    times = ctx.reference_times
    if times is None:
        return None
    ordinals = _ordinals(times, ctx.period)[times.notna().to_numpy()]
    if len(ordinals) == 0:
        return None
    first = int(ordinals.min())
    counts = np.bincount(ordinals - first).astype(np.float64)
    span = np.arange(first, first + len(counts))
    if len(counts) >= 3:  # the first and last reference periods may be partial
        counts, span = counts[1:-1], span[1:-1]
    freq = pd.Period("2026-01-01", freq=ctx.period).freqstr
    seasons = {"D": ("day_of_week", 7, "same weekday"), "h": ("hour", 24, "same hour of day")}
    if freq in seasons and len(counts) >= 2 * seasons[freq][1]:
        attribute, size, name = seasons[freq]

        def season(o: np.ndarray) -> np.ndarray:
            # pandas-stubs lacks PeriodIndex.from_ordinals (pandas >= 2.2 has it)
            return getattr(pd.PeriodIndex.from_ordinals(o, freq=freq), attribute).to_numpy()  # type: ignore[attr-defined]

        keys = season(span)
        medians = np.array([np.median(counts[keys == k]) if (keys == k).sum() else np.nan
                            for k in range(size)])
        used = np.bincount(keys, minlength=size)
        if (used >= 2).all():
            return (lambda o: medians[season(o)]), (lambda o: used[season(o)]), f"reference median, {name}"
    overall = float(np.median(counts))
    return (lambda o: np.full(len(o), overall)), (lambda o: np.full(len(o), len(counts))), "reference median"


def _predictive(counts: np.ndarray, typical: np.ndarray, periods: np.ndarray,
                coverage: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(X <= count) and P(X >= count) for a period's rows X, the typical count being itself an estimate.

    The typical count is the median of ``periods`` reference periods; a median
    of k Poisson counts is as informative as about ``2k / pi`` of them. With
    Jeffreys' prior the period's rate is then Gamma(2k/pi x typical + 1/2, rate
    2k/pi), and X (over ``coverage`` of a period) is negative binomial:
    ``NB(r = 2k/pi x typical + 1/2, p = (2k/pi) / (2k/pi + coverage))``, mean
    ``coverage x typical``, variance larger than Poisson's by the factor ``1 +
    coverage / (2k/pi)``. A plain Poisson test took the median as exact and
    raised false drops on small counts (2 of 96 reports at 18 rows a day).
    """
    effective = 2.0 * np.maximum(periods, 1) / math.pi
    shape = effective * typical + 0.5
    success = effective / (effective + np.maximum(coverage, 1e-12))
    return stats.nbinom.cdf(counts, shape, success), stats.nbinom.sf(counts - 1, shape, success)


def _rows_per_period(ctx: _Context) -> CheckResult:
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    times = ctx.current_times
    typical = _typical_counts(ctx)
    if times is None or typical is None or ctx.codes is None or not ctx.labels:
        return _result(rows, _VOLUME_COLUMNS, findings, [])
    expected_of, periods_of, basis = typical
    first = ctx.first_ordinal
    last = first + len(ctx.labels) - 1
    end = ctx.expected_end
    if end is not None:
        last = max(last, int(pd.Period(end - pd.Timedelta(1, "ns"), freq=ctx.period).ordinal))
    ordinals = np.arange(first, last + 1)
    counts = np.bincount(ctx.codes[ctx.codes >= 0], minlength=len(ordinals)).astype(np.float64)
    counts = counts[: len(ordinals)]
    partial = np.zeros(len(ordinals), dtype=bool)
    if ctx.reference_times is not None and ctx.reference_times.notna().any():
        ref_last = pd.Period(ctx.reference_times.max(), freq=ctx.period).ordinal
        partial[0] = ref_last >= first  # the period straddles the reference window
    # The first and last periods count only the share of a typical period's rows the window covers.
    edges = edge_coverage(times, ctx.period, reference_times=ctx.reference_times, end=end)
    coverage = np.array([edges.of(i, len(ordinals)) for i in range(len(ordinals))])
    coverage[coverage >= COMPLETE_COVERAGE] = 1.0
    too_partial = coverage < MIN_COVERAGE
    typical_rows = expected_of(ordinals)
    expected = typical_rows * coverage
    alpha, incident_alpha = ctx.alphas("rows_per_period", None)
    warn_drop, inc_drop, surge = (ctx.limit("rows_per_period", None, k)
                                  for k in ("warning_drop", "incident_drop", "surge"))
    ratio = np.divide(counts, expected, out=np.full(len(counts), np.nan), where=expected > 0)
    graded = ~partial & ~too_partial & (expected > 0)
    tests = max(int(graded.sum()), 1)
    low, high = _predictive(counts, np.where(typical_rows > 0, typical_rows, 1.0), periods_of(ordinals), coverage)
    p_low = np.where(graded, _bonferroni(low, tests), 1.0)
    p_high = np.where(graded, _bonferroni(high, tests), 1.0)
    severities = []
    for i in range(len(ordinals)):
        severity = "ok"
        if graded[i]:
            if p_low[i] < incident_alpha and ratio[i] <= 1 - inc_drop:
                severity = "incident"
            elif (p_low[i] < alpha and ratio[i] <= 1 - warn_drop) or (p_high[i] < alpha and ratio[i] >= 1 + surge):
                severity = "warning"
        severities.append(severity)
    labels = _period_labels(ordinals, ctx.period)
    for i in range(len(ordinals)):
        rows.append({"period": labels[i], "reference_typical": typical_rows[i],
                     "expected": expected[i], "rows": int(counts[i]), "ratio": ratio[i],
                     "partial": bool(partial[i] or coverage[i] < 1), "coverage": coverage[i],
                     "graded": bool(graded[i]), "severity": severities[i]})
    column = ctx.timestamp_column or ""
    method = methods(ctx.thresholds)["rows_per_period"] + f" ({basis}; edge periods by {edges.basis})"
    left_out = [i for i in range(len(ordinals)) if too_partial[i] and not partial[i]]
    if left_out:
        findings.append(Finding(
            "rows_per_period", column, "ok",
            "rows per period: " + "; ".join(
                f"{labels[i]} not graded, the window covers only about {coverage[i]:.0%} of a typical "
                f"period's rows ({_rows(counts[i])})" for i in left_out),
            method=method, section=SECTION, period=labels[left_out[0]]))
    drops = [i for i, s in enumerate(severities) if s != "ok" and ratio[i] < 1]
    if drops:
        top = worst(severities[i] for i in drops)
        first_bad = drops[0]
        lowest = min(drops, key=lambda i: ratio[i])
        threshold = 1 - (inc_drop if top == "incident" else warn_drop)
        findings.append(Finding(
            "rows_per_period", column, top,
            f"rows per period: {len(drops)} of {len(ordinals)} periods below the reference's "
            f"typical count, first {labels[first_bad]} ({_rows(counts[first_bad])} against "
            f"about {expected[first_bad]:,.0f}); lowest {labels[lowest]} at "
            f"{ratio[lowest]:.0%} of typical",
            value=round(float(ratio[lowest]), 4), threshold=threshold, method=method,
            section=SECTION, period=labels[first_bad]))
    surges = [i for i, s in enumerate(severities) if s != "ok" and ratio[i] > 1]
    if surges:
        highest = max(surges, key=lambda i: ratio[i])
        findings.append(Finding(
            "rows_per_period", column, "warning",
            f"rows per period: {len(surges)} of {len(ordinals)} periods above "
            f"{1 + surge:.0%} of the reference's typical count, first {labels[surges[0]]}; "
            f"highest {labels[highest]} ({_rows(counts[highest])}, {ratio[highest]:.0%} of "
            "typical); duplicated loads?",
            value=round(float(ratio[highest]), 4), threshold=1 + surge, method=method,
            section=SECTION, period=labels[surges[0]]))
    return _result(rows, _VOLUME_COLUMNS, findings, [])


# --------------------------------------------------------------------------- public API


def schema_diff(reference: pd.DataFrame, current: pd.DataFrame, *,
                columns: Sequence[str] | None = None, categorical: Sequence[str] | None = None,
                id_column: str | None = None, timestamp_column: str | None = None,
                thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Missing, new and type-changed columns, and columns of mixed types.

    A column missing from the current data or whose type family changed
    (numeric, boolean, string, datetime) is an incident; a new column is a
    warning; an object column mixing numbers and strings is an incident
    (a warning if the reference was mixed as well). Without ``columns`` the
    union of both frames' columns is compared. A column entirely null on one
    side is compatible with any type (the missing-rate check reports it).
    """
    ctx = _context(reference, current, columns=columns, id_column=id_column,
                   timestamp_column=None, categorical=categorical, expected_end=None,
                   period="D", thresholds=thresholds)
    return _schema(ctx, columns)


def duplicate_ids(reference: pd.DataFrame, current: pd.DataFrame, id_column: str, *,
                  timestamp_column: str | None = None, period: str | None = None,
                  thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Rows of the current data repeating an earlier id.

    Incident when the reference had no duplicates or the share rose
    significantly; warning when the reference had the same rate.
    """
    ctx = _context(reference, current, columns=[], id_column=id_column,
                   timestamp_column=timestamp_column, categorical=None, expected_end=None,
                   period=period, thresholds=thresholds)
    return _duplicates(ctx)


def freshness(current: pd.DataFrame, timestamp_column: str, *, expected_end: Any,
              reference: pd.DataFrame | None = None, period: str | None = None,
              thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Latest current timestamp against ``expected_end`` (the end of the current window).

    Stale when the lag is at least ``warning_periods`` periods and no row in
    that time is implausible at the reference's arrival rate (or the current
    one without a reference). Rows at or after ``expected_end`` are a warning.
    Without ``expected_end`` nothing can be judged and the table is empty.
    """
    reference = current.iloc[0:0] if reference is None else reference
    ctx = _context(reference, current, columns=[], id_column=None,
                   timestamp_column=timestamp_column, categorical=None,
                   expected_end=expected_end, period=period, thresholds=thresholds)
    return _freshness(ctx)


def rows_per_period(reference: pd.DataFrame, current: pd.DataFrame, timestamp_column: str, *,
                    period: str | None = None, expected_end: Any = None,
                    thresholds: Mapping[str, Any] | None = None) -> CheckResult:
    """Current rows per period against the reference's typical count; a drop is a finding.

    The typical count is the median over the reference's inner periods (its
    first and last may be partial), by weekday for daily periods and by hour
    of day for hourly ones when the reference has at least two of each. A
    current period that shares its span with the reference window is shown
    but not graded. The first and the last period are graded on the share of
    a typical period's rows the window covers (from its first row; to
    ``expected_end``, else just after its last row: see ``_coverage``), and
    left out, with an ok finding saying so, when that is under half. Periods
    with no rows count as zero.
    """
    ctx = _context(reference, current, columns=[], id_column=None,
                   timestamp_column=timestamp_column, categorical=None,
                   expected_end=expected_end, period=period, thresholds=thresholds)
    return _rows_per_period(ctx)
