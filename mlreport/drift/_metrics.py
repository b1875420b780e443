"""The drift metrics of each column, from the reference's and the current batch's summaries.

A column that cannot be compared (absent, no usable values) gets empty
metrics and the reason; notes flag high cardinality, a constant reference and
rare categories pooled.

**Rare and new categories.** A categorical column's bins are the reference's
own categories (its top ones) plus one "other/new" bin, so which category has
a bin of its own was decided by the reference's counts. Compared with the very
counts that chose them, the kept categories look too common and the other/new
bin too rare (the reference never holds a category it has not seen; a fresh
sample of the same distribution does, about singletons / n of its rows): on
unchanged data with many rare levels the chi-square test rejected at 5% in up
to 61% of trials and PSI ran far above its bands. So before any distance or
test, a kept category is pooled into other/new unless both windows together
hold at least ``3 (b + 1) (n + m) / n`` of its rows, where ``b`` is the
smallest count that earned a category its bin (0 when every reference category
has one, so the boundary is seen against unseen) and n, m the windows' valid
rows: the categories near the boundary, whose place on either side of it was
chance, share one bin on both sides. The split then depends on the pooled
counts, as a two-sample test needs; over 600 trials each of 40 to 3,000 Zipf
levels at 500 to 10,000 rows per window, the chi-square test rejected at 5% in
3.2% to 6.2% of them. A new category that takes a real share of the current
rows still moves the other/new bin, and a rare category that surges holds
enough rows to keep its own bin.

**PSI** is computed with additive smoothing of the counts (0.5 per bin, both
sides: :func:`mlreport.stats.psi` with ``smoothing``) instead of a floor on
empty bins: a bin empty in the reference and holding 3 of 500 current rows
adds 0.006 x ln(6.3) = 0.011 instead of 0.006 x ln(60) = 0.024.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import stats
from ..errors import DataError
from ..profile import ColumnProfile, ColumnSummary, ReferenceProfile, Summaries

__all__ = ["column_metrics", "comparable_counts", "SELECTION_MARGIN"]


_NAN = float("nan")


def _empty_metrics() -> dict[str, Any]:
    return {
        "psi": _NAN,
        "js": _NAN,
        "hellinger": _NAN,
        "tvd": _NAN,
        "ks": _NAN,
        "ks_pvalue": _NAN,
        "ks_max_error": _NAN,
        "ks_method": "",
        "wasserstein_norm": _NAN,
        "chi2": _NAN,
        "chi2_dof": 0,
        "chi2_pvalue": _NAN,
        "cramers_v": _NAN,
        "pooled": 0,
    }


SELECTION_MARGIN = 3.0
"""How far above the reference's selection boundary a category's rows must lie to keep its own bin (see above)."""


def comparable_counts(
    column: ColumnProfile, reference: ColumnSummary, current: ColumnSummary
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """The counts the distances and the chi-square test compare, and how many categories were pooled.

    Numeric columns: the PSI bins as they are. Categorical columns: the kept
    categories with fewer than ``3 (b + 1) (n + m) / n`` rows in both windows
    together are pooled into the other/new bin (last), on both sides (see the
    module docstring).
    """
    ref, cur = np.asarray(reference.counts), np.asarray(current.counts)
    if column.kind != "categorical" or ref.size < 2:
        return ref, cur, 0
    n, m = float(ref.sum()), float(cur.sum())
    if n <= 0 or m <= 0:
        return ref, cur, 0
    kept_ref, kept_cur = ref[:-1], cur[:-1]
    boundary = float(kept_ref.min()) if column.high_cardinality and kept_ref.size else 0.0
    least = SELECTION_MARGIN * (boundary + 1.0) * (n + m) / n
    own = (kept_ref + kept_cur) >= least
    pooled = int((~own).sum())
    if not pooled:
        return ref, cur, 0
    return (
        np.append(kept_ref[own], kept_ref[~own].sum() + ref[-1]),
        np.append(kept_cur[own], kept_cur[~own].sum() + cur[-1]),
        pooled,
    )


def column_metrics(
    column: ColumnProfile,
    reference: ColumnSummary,
    current: ColumnSummary,
    *,
    exact: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    eps: float = stats.PSI_EPS,
    smoothing: float | None = stats.PSI_SMOOTHING,
) -> dict[str, Any]:
    """Every drift metric of one column, from its reference and current summaries.

    Distances (PSI, JS, Hellinger, TVD) and the chi-square test use the PSI
    bins (numeric: reference deciles by default) or the categories plus
    "other/new" (categorical), rare categories pooled (:func:`comparable_counts`).
    PSI is smoothed additively by ``smoothing`` (None: floored at ``eps``).
    KS and Wasserstein use the fine bins, or the raw values when
    ``exact=(reference_values, current_values)`` is given. ``pooled`` is the
    number of categories pooled into other/new.
    """
    row = _empty_metrics()
    if reference.valid == 0 or current.valid == 0:
        return row
    ref_counts, cur_counts, row["pooled"] = comparable_counts(column, reference, current)
    row["psi"] = stats.psi(ref_counts, cur_counts, eps=eps, smoothing=smoothing)
    row["js"] = stats.js_distance(ref_counts, cur_counts)
    row["hellinger"] = stats.hellinger(ref_counts, cur_counts)
    row["tvd"] = stats.tvd(ref_counts, cur_counts)
    chi2 = stats.chi2_homogeneity(ref_counts, cur_counts)
    row.update(chi2=chi2.statistic, chi2_dof=chi2.dof, chi2_pvalue=chi2.pvalue, cramers_v=chi2.cramers_v)
    if column.kind == "numeric":
        scale = column.std if column.std is not None else _NAN
        if exact is not None:
            ks = stats.ks_exact(*exact)
            row["wasserstein_norm"] = stats.wasserstein_exact(*exact, scale=scale)
            row["ks_method"] = "exact"
        else:
            ks = stats.ks_binned(reference.fine_counts, current.fine_counts)
            row["wasserstein_norm"] = stats.wasserstein_binned(
                reference.fine_counts,
                current.fine_counts,
                np.nan_to_num(reference.fine_means()),
                np.nan_to_num(current.fine_means()),
                scale=scale,
            )
            row["ks_method"] = "binned"
        row.update(ks=ks.statistic, ks_pvalue=ks.pvalue, ks_max_error=ks.max_error)
    return row


def _unavailable_reason(reference: ColumnSummary | None, current: ColumnSummary | None) -> str:
    if current is None:
        return "column absent from the current data (schema change: see integrity)"
    if reference is None or reference.valid == 0:
        return "no usable reference values"
    if current.valid == 0:
        if current.n == 0:
            return "no current rows"
        return "no usable current values (all missing, non-finite or invalid: see integrity)"
    return ""


def _base_row(
    name: str,
    column: ColumnProfile,
    reference: ColumnSummary | None,
    current: ColumnSummary | None,
) -> dict[str, Any]:
    return {
        "column": name,
        "kind": column.kind,
        "n_ref": reference.valid if reference is not None else 0,
        "n_cur": current.valid if current is not None else 0,
    }


def _rows(
    profile: ReferenceProfile,
    reference: Summaries,
    current: Summaries,
    *,
    columns: Sequence[str] | None,
    exact: tuple[pd.DataFrame, pd.DataFrame] | None,
    eps: float | None,
) -> list[dict[str, Any]]:
    names = list(columns) if columns is not None else list(profile.columns)
    rows = []
    for name in names:
        if name not in profile.columns:
            raise DataError(f"column {name!r} is not in the reference profile", column=name)
        column = profile.columns[name]
        ref = reference.columns.get(name)
        cur = current.columns.get(name)
        row = _base_row(name, column, ref, cur)
        unavailable = _unavailable_reason(ref, cur)
        if unavailable or ref is None or cur is None:  # a reason is given whenever either is None
            row.update(_empty_metrics(), unavailable=unavailable)
        else:
            raw = None
            if exact is not None and column.kind == "numeric":
                ref_frame, cur_frame = exact
                if name in ref_frame.columns and name in cur_frame.columns:
                    raw = (_numbers(ref_frame[name]), _numbers(cur_frame[name]))
            if eps is None:
                metrics = column_metrics(column, ref, cur, exact=raw)
            else:
                metrics = column_metrics(column, ref, cur, exact=raw, eps=eps, smoothing=None)
            row.update(metrics, unavailable="")
        notes = []
        if column.high_cardinality:
            notes.append(
                f"high cardinality: {column.n_distinct} reference labels, drift measured on the top "
                f"{len(column.categories)} plus other/new"
            )
        if column.kind == "numeric" and (column.std is None or column.std == 0):
            notes.append("constant reference: Wasserstein undefined")
        pooled = int(row.pop("pooled", 0))
        if pooled:
            notes.append(
                f"{pooled} rare categor{'y' if pooled == 1 else 'ies'} pooled with other/new (too few rows in both "
                "windows for a bin of its own)"
            )
        row["notes"] = "; ".join(notes)
        rows.append(row)
    return rows


def _numbers(series: pd.Series) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce")
    return np.asarray(values.to_numpy(dtype=float, na_value=np.nan), dtype=float)
