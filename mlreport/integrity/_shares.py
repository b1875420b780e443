"""Per-column share checks: the share of rows holding a bad value, against the reference.

``missing_change``    share of null rows, reference against current
``sentinel_spikes``   share of the modal value and of sentinels (0, -1, 999999,
                      "unknown", ...): "defaulted to 0" shows up here
``non_finite``        infinities in numeric columns

Each share is compared with the reference's by the rate test of ``_stats``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..findings import Finding, severity_rank
from ._context import SECTION, CheckResult, _Context, _numeric_counts, _result, _top_numeric, column_check
from ._onset import _onset
from ._stats import _bonferroni, _grade, increase_pvalue
from ._text import _pct, _rows, _since, _value_text
from ._thresholds import methods

__all__ = ["missing_change", "sentinel_spikes", "non_finite"]

# Sentinel strings are looked for among this many most frequent categories.
_SENTINEL_SCAN = 1_000


def _missing(ctx: _Context) -> CheckResult:
    names = list(dict.fromkeys(ctx.checked + [c for c in (ctx.id_column, ctx.timestamp_column)
                                              if c in ctx.families]))
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    timeline: list[dict[str, Any]] = []
    if not names:
        return _result(rows, _MISSING_COLUMNS, findings, timeline)
    k_ref = np.array([ctx.isna(c, "ref").sum() for c in names], dtype=np.float64)
    k_cur = np.array([ctx.isna(c, "cur").sum() for c in names], dtype=np.float64)
    p_values, fisher = increase_pvalue(k_ref, ctx.n_ref, k_cur, ctx.n_cur)
    p_values = _bonferroni(p_values, len(names))
    method = methods(ctx.thresholds)["missing"]
    for i, column in enumerate(names):
        share_ref = k_ref[i] / ctx.n_ref if ctx.n_ref else float("nan")
        share_cur = k_cur[i] / ctx.n_cur if ctx.n_cur else float("nan")
        change = (share_cur - share_ref) * 100
        alpha, incident_alpha = ctx.alphas("missing", column)
        warn, inc = (ctx.limit("missing", column, k) for k in ("warning_pp", "incident_pp"))
        severity = _grade(change, p_values[i], warn, inc, alpha, incident_alpha)
        all_null = ctx.n_cur > 0 and k_cur[i] == ctx.n_cur and share_ref < 1
        if all_null and p_values[i] < incident_alpha:
            severity = "incident"
        rows.append({"column": column, "reference_missing_share": share_ref,
                     "current_missing_share": share_cur, "missing_change_pp": change,
                     "missing_p_value": p_values[i], "missing_severity": severity})
        if severity == "ok":
            continue
        flags = ctx.isna(column, "cur")
        label, since = _onset(ctx, "missing", column, flags, np.ones(ctx.n_cur, bool),
                              k_ref[i], ctx.n_ref, timeline)
        if all_null:
            text = (f"{column}: entirely null in the current data ({_rows(k_cur[i])}; "
                    f"reference {_pct(share_ref)} null)")
        else:
            text = _share_text(column, "of rows are null", share_cur, share_ref, label, since, ctx)
        findings.append(Finding("missing", column, severity, text, value=round(change, 4),
                                threshold=inc if severity == "incident" else warn,
                                method=method + ("; Fisher exact used" if fisher[i] else ""),
                                section=SECTION, period=label))
    return _result(rows, _MISSING_COLUMNS, findings, timeline)


_MISSING_COLUMNS = ["column", "reference_missing_share", "current_missing_share",
                    "missing_change_pp", "missing_p_value", "missing_severity"]


def _share_text(column: str, what: str, share_cur: float, share_ref: float, label: str | None,
                since: float | None, ctx: _Context) -> str:
    """'col: 31.2% of rows are ... since 2026-02-19 (reference 0.4%; 18.0% over the window)'."""
    if label is not None and ctx.labels and label != ctx.labels[0] and since is not None:
        return (f"{column}: {_pct(since)} {what} since {label} (reference {_pct(share_ref)}; "
                f"{_pct(share_cur)} over the current window)")
    return f"{column}: {_pct(share_cur)} {what}{_since(label)} (reference {_pct(share_ref)})"


_SENTINEL_COLUMNS = ["column", "reference_modal_value", "reference_modal_share",
                     "current_modal_value", "current_modal_share", "sentinel_value",
                     "reference_sentinel_share", "current_sentinel_share", "sentinel_change_pp",
                     "sentinel_p_value", "sentinel_tests", "sentinel_severity"]


def _candidate_counts(ctx: _Context, column: str) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """Candidate default values of a column and their row counts in reference and current."""
    top = int(ctx.limit("sentinel", column, "top_values"))
    if ctx.kinds[column] == "numeric":
        # Sentinels absent from both (sampled) windows cannot hold a share worth a
        # finding, so only those present are counted on all rows.
        sentinels = np.array([float(v) for v in ctx.limit("sentinel", column, "values")])
        present = (np.isin(sentinels, _numeric_counts(ctx, column, "ref")[0])
                   | np.isin(sentinels, _numeric_counts(ctx, column, "cur")[0]))
        numbers = list(dict.fromkeys(
            _top_numeric(ctx, column, "ref", top) + _top_numeric(ctx, column, "cur", top)
            + [float(v) for v in sentinels[present]]))
        ref, cur = ctx.numbers(column, "ref"), ctx.numbers(column, "cur")
        k_ref = np.array([np.count_nonzero(ref == v) for v in numbers], dtype=np.float64)
        k_cur = np.array([np.count_nonzero(cur == v) for v in numbers], dtype=np.float64)
        return list(numbers), k_ref, k_cur
    ref_counts, cur_counts = ctx.counts(column, "ref"), ctx.counts(column, "cur")
    strings = {str(s).strip().lower() for s in ctx.limit("sentinel", column, "strings")}
    candidates: list[Any] = list(ref_counts.index[:top]) + list(cur_counts.index[:top])
    for counts in (ref_counts, cur_counts):
        candidates += [v for v in counts.index[:_SENTINEL_SCAN]
                       if isinstance(v, str) and v.strip().lower() in strings]
    candidates = list(dict.fromkeys(candidates))
    return candidates, _lookup(ref_counts, candidates), _lookup(cur_counts, candidates)


def _lookup(counts: pd.Series, values: list[Any]) -> np.ndarray:
    """Counts of ``values`` (0 when absent) in a value-counts Series."""
    if not values:
        return np.zeros(0)
    try:
        # One reindex: a lookup per value is slow on a 10^6-category index.
        found = counts.reindex(pd.Index(values, dtype=counts.index.dtype), fill_value=0)
        return found.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([counts.get(v, 0) for v in values], dtype=np.float64)


def _sentinels(ctx: _Context) -> CheckResult:
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    timeline: list[dict[str, Any]] = []
    method = methods(ctx.thresholds)["sentinel"]
    checked = ctx.columns_of("numeric", "categorical")
    for column in checked:
        candidates, k_ref, k_cur = _candidate_counts(ctx, column)
        if not candidates:
            continue
        n_ref, n_cur = ctx.n_ref, ctx.n_cur
        share_ref = k_ref / n_ref if n_ref else np.full(len(k_ref), np.nan)
        share_cur = k_cur / n_cur if n_cur else np.full(len(k_cur), np.nan)
        # The current's most frequent values are picked because they are high, so
        # Bonferroni-correct over every value that could have been picked.
        if ctx.kinds[column] == "numeric":
            distinct = len(_numeric_counts(ctx, column, "cur")[0])
        else:
            distinct = len(ctx.counts(column, "cur"))
        tests = max(len(candidates), distinct)
        p_values = _bonferroni(increase_pvalue(k_ref, n_ref, k_cur, n_cur)[0],
                               tests * len(checked))
        alpha, incident_alpha = ctx.alphas("sentinel", column)
        warn, inc, ratio = (ctx.limit("sentinel", column, k)
                            for k in ("warning_pp", "incident_pp", "min_ratio"))
        change = (share_cur - share_ref) * 100
        severities = [
            _grade(change[i], p_values[i], warn, inc, alpha, incident_alpha)
            if n_cur and share_cur[i] >= ratio * share_ref[i] else "ok"
            for i in range(len(candidates))
        ]
        # The worst candidate: highest severity, then largest increase.
        order = sorted(range(len(candidates)), key=lambda i: (-severity_rank(severities[i]),
                                                              -np.nan_to_num(change[i], nan=-1e9)))
        best = order[0]
        modal_ref = int(np.argmax(k_ref)) if k_ref.max() > 0 else None
        modal_cur = int(np.argmax(k_cur)) if k_cur.max() > 0 else None
        rows.append({
            "column": column,
            "reference_modal_value": candidates[modal_ref] if modal_ref is not None else None,
            "reference_modal_share": share_ref[modal_ref] if modal_ref is not None else np.nan,
            "current_modal_value": candidates[modal_cur] if modal_cur is not None else None,
            "current_modal_share": share_cur[modal_cur] if modal_cur is not None else np.nan,
            "sentinel_value": candidates[best], "reference_sentinel_share": share_ref[best],
            "current_sentinel_share": share_cur[best], "sentinel_change_pp": change[best],
            "sentinel_p_value": p_values[best], "sentinel_tests": tests,
            "sentinel_severity": severities[best],
        })
        if severities[best] == "ok":
            continue
        value = candidates[best]
        if ctx.kinds[column] == "numeric":
            flags = ctx.numbers(column, "cur") == value
        else:
            flags = (ctx.current[column] == value).fillna(False).to_numpy(dtype=bool)
        label, since = _onset(ctx, "sentinel", column, flags, np.ones(n_cur, bool), k_ref[best],
                              n_ref, timeline)
        text = _share_text(column, f"of rows are exactly {_value_text(value)}", share_cur[best],
                           share_ref[best], label, since, ctx)
        findings.append(Finding("sentinel", column, severities[best], text,
                                value=round(float(change[best]), 4),
                                threshold=inc if severities[best] == "incident" else warn,
                                method=method, section=SECTION, period=label))
    return _result(rows, _SENTINEL_COLUMNS, findings, timeline)


_NON_FINITE_COLUMNS = ["column", "reference_non_finite_share", "current_non_finite_share",
                       "current_positive_inf", "current_negative_inf", "non_finite_p_value",
                       "non_finite_severity"]


def _non_finite(ctx: _Context) -> CheckResult:
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    timeline: list[dict[str, Any]] = []
    method = methods(ctx.thresholds)["non_finite"]
    checked = ctx.columns_of("numeric")
    for column in checked:
        ref, cur = ctx.numbers(column, "ref"), ctx.numbers(column, "cur")
        k_ref = float(np.count_nonzero(np.isinf(ref)))
        pos, neg = int(np.count_nonzero(cur == np.inf)), int(np.count_nonzero(cur == -np.inf))
        k_cur = float(pos + neg)
        p_value = float(_bonferroni(increase_pvalue(k_ref, ctx.n_ref, k_cur, ctx.n_cur)[0],
                                    len(checked))[()])
        share_ref = k_ref / ctx.n_ref if ctx.n_ref else float("nan")
        share_cur = k_cur / ctx.n_cur if ctx.n_cur else float("nan")
        inc = ctx.limit("non_finite", column, "incident_pp")
        alpha, incident_alpha = ctx.alphas("non_finite", column)
        severity = "ok"
        if k_cur > 0 and (k_ref == 0 or p_value < alpha):
            severity = "warning"
        if k_cur > 0 and p_value < incident_alpha and (share_cur - share_ref) * 100 >= inc:
            severity = "incident"
        rows.append({"column": column, "reference_non_finite_share": share_ref,
                     "current_non_finite_share": share_cur, "current_positive_inf": pos,
                     "current_negative_inf": neg, "non_finite_p_value": p_value,
                     "non_finite_severity": severity})
        if severity == "ok":
            continue
        label, _ = _onset(ctx, "non_finite", column, np.isinf(cur), np.ones(ctx.n_cur, bool),
                              k_ref, ctx.n_ref, timeline)
        text = (f"{column}: {int(k_cur):,} infinite values in the current data "
                f"({_pct(share_cur)} of rows: {pos:,} +inf, {neg:,} -inf)"
                f"{_since(label)} (reference {_pct(share_ref)})")
        findings.append(Finding("non_finite", column, severity, text,
                                value=round(share_cur * 100, 6),
                                threshold=inc if severity == "incident" else 0.0, method=method,
                                section=SECTION, period=label))
    return _result(rows, _NON_FINITE_COLUMNS, findings, timeline)


# --------------------------------------------------------------------------- public API

missing_change = column_check(
    _missing, "missing_change",
    """Share of null rows per column, reference against current.

    Warning when the share rose by >= 1 pp and significantly (at ``alpha``),
    incident when it rose by >= 5 pp and significantly (at ``incident_alpha``),
    or the column is entirely null now (and significantly so). This catches a column 10% newly null whose non-null
    values are unchanged, which distribution checks cannot see.
    """,
)

sentinel_spikes = column_check(
    _sentinels, "sentinel_spikes",
    """Spikes in the share of a single value: modal values and sentinels.

    Numeric candidates: the most frequent values of each window and the
    sentinels ``0, -1, -9 ... 9999999``; categorical candidates: the most
    frequent categories and placeholder strings (``""``, ``"unknown"``,
    ``"n/a"`` ...). Each candidate's share of all rows is compared with the
    reference; the table keeps the worst candidate per column. A feature
    "defaulted to 0" shows up here as 0 or as the new modal value.
    """,
)

non_finite = column_check(
    _non_finite, "non_finite",
    """Infinities (+inf, -inf) in numeric columns, counted per column.
    """,
)
