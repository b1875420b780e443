"""The drift metrics of each column, from the reference's and the current batch's summaries.

A column that cannot be compared (absent, no usable values) gets empty
metrics and the reason; notes flag high cardinality and a constant reference.
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

__all__ = ["column_metrics"]


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
    }


def column_metrics(
    column: ColumnProfile,
    reference: ColumnSummary,
    current: ColumnSummary,
    *,
    exact: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    eps: float = stats.PSI_EPS,
) -> dict[str, Any]:
    """Every drift metric of one column, from its reference and current summaries.

    Distances (PSI, JS, Hellinger, TVD) and the chi-square test use the PSI
    bins (numeric: reference deciles by default) or the categories plus
    "other/new" (categorical). KS and Wasserstein use the fine bins, or the
    raw values when ``exact=(reference_values, current_values)`` is given.
    """
    row = _empty_metrics()
    if reference.valid == 0 or current.valid == 0:
        return row
    ref_counts, cur_counts = reference.counts, current.counts
    row["psi"] = stats.psi(ref_counts, cur_counts, eps=eps)
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
    eps: float,
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
            row.update(column_metrics(column, ref, cur, exact=raw, eps=eps), unavailable="")
        notes = []
        if column.high_cardinality:
            notes.append(
                f"high cardinality: {column.n_distinct} reference labels, drift measured on the top "
                f"{len(column.categories)} plus other/new"
            )
        if column.kind == "numeric" and (column.std is None or column.std == 0):
            notes.append("constant reference: Wasserstein undefined")
        row["notes"] = "; ".join(notes)
        rows.append(row)
    return rows


def _numbers(series: pd.Series) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce")
    return np.asarray(values.to_numpy(dtype=float, na_value=np.nan), dtype=float)
