"""Fitting one column: its kind, bins, categories and mode, and the reference's own counts.

Kind of a column (first rule that applies):

1. named in ``categorical=`` -> categorical; named in ``numeric=`` -> numeric;
2. bool, string, object or category dtype -> categorical;
3. numeric dtype whose finite values are all integers and take at most
   ``discrete_max`` (12) distinct values -> categorical (a code, a term in
   months, a count with few levels: bins at quantiles would tie anyway);
4. any other numeric dtype -> numeric. Datetime columns are not profiled.

Numeric bins. Bins are right-closed, ``(e_{j-1}, e_j]``, with open outer bins
``(-inf, e_0]`` and ``(e_last, +inf)``. PSI edges are the reference quantiles
at ``k / bins`` (``k = 1..bins-1``, ``numpy.quantile(method="inverted_cdf")``,
so edges are observed values), tied edges merged, edges at the reference
maximum dropped (that bin would be empty in the reference). Fine edges are the
quantiles at ``k / fine_bins`` united with the PSI edges and the reference
maximum, so every PSI bin is a union of fine bins and every value holding at
least ``1 / fine_bins`` of the reference is an edge.

Categories: the ``max_categories`` (50) most frequent reference labels (ties
broken by label), plus one "other/new" bin for everything else, in the
reference and in every batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from ._column import ColumnKind, ColumnProfile
from ._counts import _BLOCK_ROWS
from ._sorted import _sorted_quantiles, _SortedNumbers
from ._summaries import ColumnSummary
from ._values import _float_values, _is_numeric_dtype, categorical_labels

__all__: list[str] = []


def _kind_of(
    name: str,
    series: pd.Series,
    numbers: _SortedNumbers | None,
    categorical: set[str],
    numeric: set[str],
    discrete_max: int,
) -> tuple[ColumnKind, str]:
    dtype = series.dtype
    if name in categorical:
        return "categorical", "declared categorical"
    if name in numeric:
        return "numeric", "declared numeric"
    if numbers is None:
        return "categorical", f"non-numeric dtype {dtype}"
    if discrete_max > 0:
        distinct = numbers.distinct_values(at_most=discrete_max)
        if distinct is not None and distinct.size and np.all(np.floor(distinct) == distinct):
            return (
                "categorical",
                f"numeric with {distinct.size} distinct integer values (<= {discrete_max})",
            )
    return "numeric", f"numeric dtype {dtype}"


def _label_counts(series: pd.Series) -> pd.Series:
    """Count per canonical label of the non-missing values, block by block."""
    parts = []
    for start in range(0, len(series), _BLOCK_ROWS):
        counts = series.iloc[start : start + _BLOCK_ROWS].value_counts(dropna=True, sort=False)
        counts = counts[counts > 0]  # a category dtype lists unused categories too
        labels = categorical_labels(counts.index)
        parts.append(pd.Series(counts.to_numpy(dtype=np.int64), index=pd.Index(labels, dtype=object)))
    if not parts:
        return pd.Series([], dtype=np.int64, index=pd.Index([], dtype=object))
    table = pd.concat(parts) if len(parts) > 1 else parts[0]
    return table.groupby(level=0, sort=False).sum()


def _fit_column(
    name: str,
    series: pd.Series,
    *,
    categorical: set[str],
    numeric: set[str],
    discrete_max: int,
    bins: int,
    fine_bins: int,
    max_categories: int,
    sentinels: Sequence[float],
) -> tuple[ColumnProfile, ColumnSummary]:
    """The column's profile and the reference's own summary, in one pass.

    Numbers are sorted once: quantiles, the mode, distinct values, sentinel
    counts and the reference's bin counts all come from the sorted array.
    Labels are counted block by block. The tests check that the reference
    summary built here equals ``summarize(reference)``.
    """
    rows = len(series)
    numeric_values = _is_numeric_dtype(series.dtype) or name in numeric
    values = _float_values(series) if numeric_values else None
    numbers = _SortedNumbers(values[0][np.isfinite(values[0])]) if values is not None else None
    kind, rule = _kind_of(name, series, numbers, categorical, numeric, discrete_max)
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    std: float | None = None
    sentinel_counts: tuple[int, ...] = ()
    if values is not None:
        assert numbers is not None
        invalid = int(values[1].sum()) if values[1] is not None else 0
        missing = int(np.isnan(values[0]).sum()) - invalid
        nonfinite = int(np.isinf(values[0]).sum())
        sentinel_counts = tuple(numbers.count_equal(s) for s in sentinels)
        ordered = numbers.sorted
        if ordered.size:
            mean, std = numbers.moments()
            minimum, maximum = float(ordered[0]), float(ordered[-1])
    else:
        missing, nonfinite, invalid = int(series.isna().sum()), 0, 0
    # What every kind records; the kind's own fields are added below.
    common = ColumnProfile(
        name=name,
        kind=kind,
        dtype=str(series.dtype),
        kind_rule=rule,
        rows=rows,
        missing=missing,
        nonfinite=nonfinite,
        invalid=invalid,
        numeric_values=bool(numeric_values),
        min=minimum,
        max=maximum,
        mean=mean,
        std=std,
        sentinel_counts=sentinel_counts,
    )

    if kind == "numeric":
        assert numbers is not None
        ordered = numbers.sorted
        psi_edges = np.empty(0)
        fine_edges = np.empty(0)
        modal_value: float | None = None
        modal_count = 0
        if ordered.size:
            top = float(ordered[-1])
            psi_edges = np.unique(_sorted_quantiles(ordered, bins))
            psi_edges = psi_edges[psi_edges < top]
            if psi_edges.size == 0:
                psi_edges = np.array([top])
            fine_edges = np.union1d(np.union1d(_sorted_quantiles(ordered, fine_bins), psi_edges), [top])
            # Mode: a value holding at least 1/fine_bins of the values is an
            # inverted-CDF quantile at some k/fine_bins (or the maximum), so it is
            # one of the fine edges; counting those few candidates finds it.
            candidates = np.array([numbers.count_equal(e) for e in fine_edges])
            best = int(np.argmax(candidates))
            if candidates[best] * fine_bins >= ordered.size:
                modal_value, modal_count = float(fine_edges[best]), int(candidates[best])
        profile = replace(
            common, psi_edges=psi_edges, fine_edges=fine_edges, modal_value=modal_value, modal_count=modal_count
        )
        fine_counts, fine_sums = numbers.binned(fine_edges)
        counts = np.zeros(psi_edges.size + 1, dtype=np.int64)
        np.add.at(counts, profile.psi_bin_of_fine(), fine_counts)
        return profile, ColumnSummary(
            kind="numeric",
            n=rows,
            missing=profile.missing,
            nonfinite=profile.nonfinite,
            invalid=profile.invalid,
            counts=counts,
            fine_counts=fine_counts,
            fine_sums=fine_sums,
            below_min=0,
            above_max=0,
            sentinel_counts=np.asarray(profile.sentinel_counts, dtype=np.int64),
            modal_count=profile.modal_count,
        )

    # categorical: canonical labels, counts merged per label, top max_categories
    if numbers is not None:
        distinct, distinct_counts = numbers.runs()
        table = (
            pd.Series(distinct_counts, index=pd.Index(categorical_labels(distinct), dtype=object))
            .groupby(level=0, sort=False)
            .sum()
        )
    else:
        table = _label_counts(series)
    order = sorted(zip(table.index, table.to_numpy(), strict=True), key=lambda item: (-int(item[1]), str(item[0])))
    kept = tuple(str(label) for label, _ in order[:max_categories])
    kept_counts = np.array([int(count) for _, count in order[:max_categories]], dtype=np.int64)
    valid = int(table.sum())
    profile = replace(
        common,
        categories=kept,
        n_distinct=len(order),
        modal_value=order[0][0] if order else None,
        modal_count=int(order[0][1]) if order else 0,
    )
    reference_sentinels = (
        np.asarray(profile.sentinel_counts, dtype=np.int64)
        if profile.sentinel_counts
        else np.zeros(len(sentinels) if numbers is not None else 0, dtype=np.int64)
    )
    return profile, ColumnSummary(
        kind="categorical",
        n=rows,
        missing=profile.missing,
        nonfinite=profile.nonfinite,
        invalid=0,
        counts=np.append(kept_counts, valid - kept_counts.sum()),
        fine_counts=np.zeros(0, dtype=np.int64),
        fine_sums=np.zeros(0),
        below_min=0,
        above_max=0,
        sentinel_counts=reference_sentinels,
        modal_count=profile.modal_count,
    )
