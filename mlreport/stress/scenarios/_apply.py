"""Applying shocks to a frame: :func:`apply_shock` one at a time, :func:`apply_scenario` in order.

Conventions: share-based shocks select exactly ``round(share * n)`` eligible
rows (half up) by a seeded permutation, so the rows shocked at a smaller share
are a subset of those at a larger share. Missing values stay missing under
relative, absolute, quantile and noise shocks. Integer columns stay integer
(rounded to nearest, ties to even) unless missing values are introduced, in
which case they become float64. Randomness comes from
``numpy.random.default_rng([seed, crc32(key)])`` with ``key`` the scenario
name, so results do not depend on the order of scenarios in the file.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ...errors import ScenarioError
from ._checks import is_numeric
from ._reference import Reference
from ._shocks import _NUMERIC_ONLY, Shock

__all__ = ["apply_shock", "apply_scenario", "scenario_rng"]


def scenario_rng(seed: int, key: str) -> np.random.Generator:
    """The random generator of one scenario: ``default_rng([seed, crc32(key)])``."""
    return np.random.default_rng([int(seed), zlib.crc32(key.encode("utf-8"))])


def _choose(rng: np.random.Generator, eligible: np.ndarray, share: float) -> np.ndarray:
    """Exactly round(share * n) of the eligible positions (half up), seeded."""
    count = math.floor(share * len(eligible) + 0.5)
    return rng.permutation(eligible)[:count]


def _numeric_result(values: np.ndarray, original: pd.Series) -> pd.Series:
    dtype = original.dtype
    if pd.api.types.is_integer_dtype(dtype):
        values = np.rint(values)
        if isinstance(dtype, np.dtype):
            if np.isnan(values).any():
                return pd.Series(values, index=original.index, name=original.name)
            return pd.Series(values.astype(dtype), index=original.index, name=original.name)
        # Nullable integers keep their dtype; NaN becomes <NA>.
        # pandas-stubs list no overload for an ndarray with an ExtensionDtype; pd.array takes any.
        array = pd.array(np.where(np.isnan(values), 0, values).astype("int64"), dtype=dtype)  # type: ignore[call-overload]
        array[np.isnan(values)] = pd.NA
        return pd.Series(array, index=original.index, name=original.name)
    if isinstance(dtype, np.dtype):
        return pd.Series(values.astype(dtype, copy=False), index=original.index, name=original.name)
    # pandas-stubs list no overload for an ndarray with an ExtensionDtype; pd.array takes any.
    array = pd.array(values, dtype=dtype)  # type: ignore[call-overload]
    return pd.Series(array, index=original.index, name=original.name)


def _settable(series: pd.Series, new: Sequence[str]) -> pd.Series:
    """A copy of a non-numeric column that accepts the labels ``new`` and missing.

    Categorical columns gain the new categories; boolean columns become object
    (a boolean column cannot hold a missing value or a new label).
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        extra = [c for c in dict.fromkeys(new) if c not in series.cat.categories]
        return series.cat.add_categories(extra) if extra else series.copy()
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(object)
    return series.copy()


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to ``total`` closest to ``shares * total``."""
    exact = shares * total
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        # Largest fractional parts first; ties to the earlier (sorted) category.
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def _reweight(
    values: np.ndarray, eligible: np.ndarray, shock: Shock, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Rows to relabel and their new labels, for exact target category counts.

    Only surplus categories lose rows (chosen by a seeded permutation) and only
    deficit categories gain them, so the fewest rows change.
    """
    labels = values[eligible].astype(str)
    present, counts = np.unique(labels, return_counts=True)
    total = int(counts.sum())
    if shock.shares == "uniform":
        categories = present
        targets = np.full(len(present), 1.0 / len(present)) if len(present) else np.array([])
    else:
        listed = dict(shock.shares) if isinstance(shock.shares, Mapping) else {}
        rest = [c for c in present if c not in listed]
        remaining = max(0.0, 1.0 - sum(listed.values()))
        rest_total = sum(int(counts[present == c][0]) for c in rest)
        categories = np.array(sorted(set(present) | set(listed)), dtype=object)
        targets = np.array(
            [
                listed[c]
                if c in listed
                else (remaining * int(counts[present == c][0]) / rest_total if rest_total else 0.0)
                for c in categories
            ]
        )
        if targets.sum() > 0:
            targets = targets / targets.sum()
    current = np.array([int(counts[present == c][0]) if c in present else 0 for c in categories])
    wanted = _largest_remainder(np.asarray(targets, dtype=float), total)
    moved: list[np.ndarray] = []
    for category, have, want in zip(categories, current, wanted, strict=True):
        if have > want:
            rows = eligible[labels == category]
            moved.append(rng.permutation(rows)[: have - want])
    rows = np.concatenate(moved) if moved else np.array([], dtype=np.int64)
    destinations = np.repeat(
        np.array(categories, dtype=object), np.maximum(wanted - current, 0)
    )
    return rows, rng.permutation(destinations)


def apply_shock(
    frame: pd.DataFrame,
    shock: Shock,
    reference: Reference,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """``frame`` with one shock applied (a new frame; the input is unchanged).

    Only the shocked column is replaced, so the copy costs one column.
    """
    column = frame[shock.column]
    eligible = np.arange(len(frame))
    if shock.where is not None:
        eligible = np.flatnonzero(shock.where.mask(frame, context=f"shock {shock.describe()}"))
    out = frame.copy(deep=False)
    ref = reference[shock.column]

    if shock.kind in _NUMERIC_ONLY:
        size = shock.magnitude
        if size is None:
            raise ScenarioError(f"shock {shock.describe()}: no size given ('by' or 'sd')")
        values = column.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        target = values[eligible]
        if shock.kind == "relative":
            target = target * (1.0 + size)
        elif shock.kind == "absolute":
            target = target + size
        elif shock.kind == "quantile_shift":
            if size != 0 and ref.quantiles is not None:
                # Missing and infinite values keep their place: an infinity has no rank to move.
                present = np.isfinite(target)
                moved = np.clip(ref.rank(target[present]) + size, 0.0, 1.0)
                target[present] = ref.quantile(moved)
        elif shock.kind == "noise":
            # Draw for every eligible row (even missing ones) so draws do not
            # depend on where the gaps are.
            noise = rng.standard_normal(len(eligible)) * size * (ref.std if ref.std == ref.std else 0.0)
            target = target + noise
        values[eligible] = target
        out[shock.column] = _numeric_result(values, column)
        return out

    if shock.kind == "category_reweight":
        present = eligible[column.iloc[eligible].notna().to_numpy()]
        rows, labels = _reweight(column.to_numpy(dtype=object), present, shock, rng)
        series = _settable(column, [str(v) for v in labels])
        if len(rows):
            series.iloc[rows] = labels
        out[shock.column] = series
        return out

    if shock.kind == "category_remap" and shock.source is not None:
        keep = column.iloc[eligible].astype(str).isin(list(shock.source))
        eligible = eligible[keep.to_numpy(dtype=bool, na_value=False)]
    chosen = _choose(rng, eligible, shock.share)

    if shock.kind == "category_remap":
        series = _settable(column, [shock.to])
        series.iloc[chosen] = shock.to
        out[shock.column] = series
        return out

    value = shock.value
    if shock.kind == "set_value":
        if value == "stale":
            value = ref.last
        elif value == "mean":
            value = ref.mean
        elif value == "median":
            value = ref.median
    else:  # set_missing
        value = None
    if is_numeric(column):
        values = column.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        values[chosen] = np.nan if value is None else float(value)
        out[shock.column] = _numeric_result(values, column)
    else:
        series = _settable(column, [] if value is None else [str(value)])
        series.iloc[chosen] = value
        out[shock.column] = series
    return out


def apply_scenario(
    frame: pd.DataFrame,
    shocks: Sequence[Shock],
    reference: Reference,
    *,
    seed: int,
    key: str,
) -> pd.DataFrame:
    """Apply ``shocks`` in order with the generator of ``(seed, key)``.

    Later shocks see the earlier ones' output, including in their ``where``
    filters. The input frame is left unchanged.
    """
    rng = scenario_rng(seed, key)
    for shock in shocks:
        frame = apply_shock(frame, shock, reference, rng)
    return frame
