"""Per-column checks of the current values against the values the reference took.

``out_of_range``      share of current values outside the reference's [min, max]
``category_changes``  new categories (with their share) and vanished ones
``constant_columns``  a column that varied in the reference is constant now

Out-of-range and new-category shares have no reference share to compare with;
they are tested against what current rows drawn from the reference
distribution would give. Out of range: the exact permutation distribution of
the number of current values outside the range of ``n`` reference values
(mean ``2 m / (n + 1)``): the reference's extremes are themselves random, so a
binomial test at the mean rate ``2 / (n + 1)`` rejected far too often on
skewed and bounded columns at 500 rows. New categories: the Good-Turing unseen
mass ``singletons / n`` (at least ``1 / (n + 1)``) with the uncertainty of
that estimate (Esty 1983), a beta-binomial tail. So an id-like column whose
values are all new is not flagged, nor a long tail of rare levels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..findings import Finding, worst
from ._context import SECTION, CheckResult, _Context, _result, _top_numeric, column_check
from ._onset import _onset
from ._stats import _bonferroni, _grade, _outside_range_pvalue, _unseen_pvalue
from ._text import _listing, _pct, _since, _value_text
from ._thresholds import methods

__all__ = ["out_of_range", "category_changes", "constant_columns"]

_RANGE_COLUMNS = ["column", "reference_min", "reference_max", "below_range_share",
                  "above_range_share", "out_of_range_share", "expected_share",
                  "out_of_range_p_value", "out_of_range_severity"]


def _out_of_range(ctx: _Context) -> CheckResult:
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    timeline: list[dict[str, Any]] = []
    method = methods(ctx.thresholds)["out_of_range"]
    checked = ctx.columns_of("numeric")
    for column in checked:
        # The reference's finite range without copying its finite values: min and max over them only.
        ref, ref_finite = ctx.numbers(column, "ref"), ctx.finite(column, "ref")
        n_ref = int(np.count_nonzero(ref_finite))
        if n_ref == 0:
            continue
        low = float(np.min(ref, where=ref_finite, initial=np.inf))
        high = float(np.max(ref, where=ref_finite, initial=-np.inf))
        cur = ctx.numbers(column, "cur")
        valid = ctx.finite(column, "cur")
        n = int(valid.sum())
        below_mask, above_mask = valid & (cur < low), valid & (cur > high)
        below, above = int(below_mask.sum()), int(above_mask.sum())
        expected = 2.0 / (n_ref + 1)
        share = (below + above) / n if n else float("nan")
        p_value = float(_bonferroni(_outside_range_pvalue(below + above, n_ref, n), len(checked)))
        warn, inc = (ctx.limit("out_of_range", column, k) for k in ("warning_pp", "incident_pp"))
        severity = _grade(share * 100 if n else float("nan"), p_value, warn, inc,
                          *ctx.alphas("out_of_range", column))
        rows.append({"column": column, "reference_min": low, "reference_max": high,
                     "below_range_share": below / n if n else np.nan,
                     "above_range_share": above / n if n else np.nan,
                     "out_of_range_share": share, "expected_share": expected,
                     "out_of_range_p_value": p_value, "out_of_range_severity": severity})
        if severity == "ok":
            continue
        label, _ = _onset(ctx, "out_of_range", column, below_mask | above_mask, valid, 0.0,
                              float(n_ref), timeline)
        sides = []
        if above:
            sides.append(f"{_pct(above / n)} above the reference maximum {_value_text(high)}")
        if below:
            sides.append(f"{_pct(below / n)} below the reference minimum {_value_text(low)}")
        text = (f"{column}: {_pct(share)} of non-null values outside the reference range"
                f"{_since(label)}: {'; '.join(sides)}")
        findings.append(Finding("out_of_range", column, severity, text, value=round(share * 100, 4),
                                threshold=inc if severity == "incident" else warn, method=method,
                                section=SECTION, period=label))
    return _result(rows, _RANGE_COLUMNS, findings, timeline)


_CATEGORY_COLUMNS = ["column", "reference_categories", "current_categories", "new_categories",
                     "new_category_share", "new_examples", "new_p_value", "vanished_categories",
                     "vanished_reference_share", "vanished_examples", "category_severity"]


def _isin(values: pd.Series | pd.Index, categories: pd.Index) -> np.ndarray:
    """Membership of ``values`` in ``categories`` (unique), fast at 10^6 distinct values."""
    if len(categories) == 0 or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    if len(categories) <= 1_000:
        return np.asarray(values.isin(categories), dtype=bool)
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        found = pc.is_in(pa.array(np.asarray(values, dtype=object), from_pandas=True)
                         if values.dtype == object else pa.array(values, from_pandas=True),
                         value_set=pa.array(categories, from_pandas=True))
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    except (ImportError, TypeError, ValueError, NotImplementedError):
        # pyarrow cannot type the values (mixed objects, categoricals): hash in pandas.
        return categories.get_indexer(pd.Index(values)) >= 0


def _categories(ctx: _Context) -> CheckResult:
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    timeline: list[dict[str, Any]] = []
    texts = methods(ctx.thresholds)
    limit = int(ctx.thresholds["max_listed"])
    checked = ctx.columns_of("categorical")
    for column in checked:
        ref_counts, cur_counts = ctx.counts(column, "ref"), ctx.counts(column, "cur")
        n_ref, n_cur = float(ref_counts.sum()), float(cur_counts.sum())
        # New categories: tested against the Good-Turing unseen mass of the reference.
        is_new = ~_isin(cur_counts.index, ref_counts.index)
        new_counts = cur_counts[is_new]
        new_rows = float(new_counts.sum())
        new_share = new_rows / n_cur if n_cur else float("nan")
        singletons, doubletons = float((ref_counts == 1).sum()), float((ref_counts == 2).sum())
        new_p = float(_bonferroni(_unseen_pvalue(new_rows, n_cur, n_ref, singletons, doubletons)[0],
                                  len(checked)))
        warn, inc = (ctx.limit("new_category", column, k) for k in ("warning_pp", "incident_pp"))
        new_severity = _grade(new_share * 100 if n_cur else float("nan"), new_p, warn, inc,
                              *ctx.alphas("new_category", column))
        new_examples = [f"{_value_text(v)} ({_pct(c / n_cur)})"
                        for v, c in new_counts.head(limit).items()]
        # Vanished categories: absent now although the reference made them likely.
        vanished_severity, vanished, vanished_share = "ok", pd.Series(dtype=np.float64), 0.0
        if n_cur and len(ref_counts):  # a reference without categories has none to lose
            v_alpha = ctx.alphas("vanished_category", column)[1]
            # P(no current row | reference share p) = (1 - p)^n, Bonferroni over the
            # reference categories of every categorical column. Only categories
            # common enough to pass are looked up (ref_counts is sorted).
            tests = len(ref_counts) * len(checked)
            shares = ref_counts / n_ref
            likely = shares[n_cur * np.log1p(-shares.clip(upper=1 - 1e-12))
                            < math.log(v_alpha / tests)]
            vanished = likely[~_isin(likely.index, cur_counts.index)]
            vanished_share = float(vanished.sum())
            v_warn, v_inc = (ctx.limit("vanished_category", column, k)
                             for k in ("warning_pp", "incident_pp"))
            vanished_severity = _grade(vanished_share * 100, 0.0, v_warn, v_inc, 1.0)
        vanished_examples = [f"{_value_text(v)} ({_pct(s)})"
                             for v, s in vanished.head(limit).items()]
        rows.append({"column": column, "reference_categories": len(ref_counts),
                     "current_categories": len(cur_counts), "new_categories": len(new_counts),
                     "new_category_share": new_share, "new_examples": ", ".join(new_examples),
                     "new_p_value": new_p, "vanished_categories": len(vanished),
                     "vanished_reference_share": vanished_share,
                     "vanished_examples": ", ".join(vanished_examples),
                     "category_severity": worst([new_severity, vanished_severity])})
        if new_severity != "ok":
            series = ctx.current[column]
            valid = series.notna().to_numpy()
            flags = valid & ~_isin(series, ref_counts.index)
            label, _ = _onset(ctx, "new_category", column, flags, valid, 0.0, n_ref, timeline)
            text = (f"{column}: {_pct(new_share)} of non-null values in {len(new_counts):,} "
                    f"categor{'y' if len(new_counts) == 1 else 'ies'} absent from the reference"
                    f"{_since(label)}: "
                    f"{_listing(new_examples, len(new_counts), limit)}")
            findings.append(Finding("new_category", column, new_severity, text,
                                    value=round(new_share * 100, 4),
                                    threshold=inc if new_severity == "incident" else warn,
                                    method=texts["new_category"], section=SECTION, period=label))
        if vanished_severity != "ok":
            text = (f"{column}: {len(vanished):,} reference categor"
                    f"{'y' if len(vanished) == 1 else 'ies'} ({_pct(vanished_share)} of reference "
                    f"rows) absent from the current data ({int(n_cur):,} rows): "
                    f"{_listing(vanished_examples, len(vanished), limit)}")
            v_warn, v_inc = (ctx.limit("vanished_category", column, k)
                             for k in ("warning_pp", "incident_pp"))
            findings.append(Finding("vanished_category", column, vanished_severity, text,
                                    value=round(vanished_share * 100, 4),
                                    threshold=v_inc if vanished_severity == "incident" else v_warn,
                                    method=texts["vanished_category"], section=SECTION,
                                    period=ctx.labels[0] if ctx.labels else None))
    return _result(rows, _CATEGORY_COLUMNS, findings, timeline)


_CONSTANT_COLUMNS = ["column", "reference_constant", "current_constant", "current_value",
                     "reference_top_share", "constant_p_bound", "constant_severity"]


def _constants(ctx: _Context) -> CheckResult:
    rows, findings = [], []
    method = methods(ctx.thresholds)["constant"]
    checked = ctx.columns_of("numeric", "categorical", "datetime")
    for column in checked:
        summaries = []
        for which in ("ref", "cur"):
            if ctx.kinds[column] == "numeric":
                # On the column as it is, NaN left in place: min and max skip it (nanmin, nanmax), and it
                # equals no value, so the counts are those of the non-null values without copying them.
                values = ctx.numbers(column, which)
                n = len(values) - int(np.count_nonzero(np.isnan(values)))
                constant = n > 0 and bool(np.nanmin(values) == np.nanmax(values))
                top = _top_numeric(ctx, column, which, 1)
                modal = float(np.count_nonzero(values == top[0])) / n if top and n else float("nan")
                value = values[np.flatnonzero(~np.isnan(values))[0]] if constant else None
            else:
                counts = ctx.counts(column, which)
                n = int(counts.sum())
                constant = len(counts) == 1
                modal = float(counts.iloc[0]) / n if n else float("nan")
                value = counts.index[0] if n else None
            summaries.append((n, constant, modal, value))
        (n_ref, ref_constant, ref_modal, _), (n_cur, cur_constant, _, cur_value) = summaries
        severity, bound = "ok", float("nan")
        if cur_constant and n_cur >= 2 and n_ref > 0 and not ref_constant:
            # P(n draws from the reference all equal) <= p_max^(n-1).
            bound = float(np.exp((n_cur - 1) * np.log(ref_modal))) if ref_modal > 0 else 0.0
            bound = float(_bonferroni(bound, len(checked)))
            if bound < ctx.alphas("constant", column)[1]:
                severity = "incident"
        rows.append({"column": column, "reference_constant": bool(ref_constant),
                     "current_constant": bool(cur_constant),
                     "current_value": cur_value if cur_constant else None,
                     "reference_top_share": ref_modal, "constant_p_bound": bound,
                     "constant_severity": severity})
        if severity != "ok":
            findings.append(Finding(
                "constant", column, severity,
                f"{column}: constant in the current data: all {n_cur:,} non-null values are "
                f"{_value_text(cur_value)} (reference: most common value {_pct(ref_modal)})",
                value=100.0, threshold=ctx.alphas("constant", column)[1], method=method,
                section=SECTION, period=ctx.labels[0] if ctx.labels else None))
    return _result(rows, _CONSTANT_COLUMNS, findings, [])


# --------------------------------------------------------------------------- public API

out_of_range = column_check(
    _out_of_range, "out_of_range",
    """Share of current values outside the reference's [min, max], per numeric column.

    Shares are of non-null finite values; the reference range is over its
    finite values.
    """,
)

category_changes = column_check(
    _categories, "category_changes",
    """New and vanished categories of categorical columns, with their shares.

    Lists are capped at ``max_listed`` entries, so a column of 10^6 distinct
    values costs a hash pass per window and yields a short table.
    """,
)

constant_columns = column_check(
    _constants, "constant_columns",
    """Columns with a single non-null value in current that varied in the reference.
    """,
)
