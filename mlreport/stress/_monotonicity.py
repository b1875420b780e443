"""Monotonicity of declared features.

:func:`monotonicity` checks declared monotone features with individual
conditional expectation (ICE) curves; :func:`~mlreport.stress.declared_monotone`
says which features are declared, and in which direction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import DataError, ParameterError
from ..findings import Finding
from ._models import Model
from ._readouts import SECTIONS
from .scenarios import is_numeric, scenario_rng

__all__ = ["MonotonicityResult", "check_directions", "monotonicity"]


@dataclass
class MonotonicityResult:
    """ICE check of declared monotone features."""

    table: pd.DataFrame
    examples: pd.DataFrame
    #: feature -> (grid of values, ICE scores per sampled row and grid point, rows violating)
    curves: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]]
    findings: list[Finding]
    method: str
    tolerance: float = 0.01


def check_directions(declared: Mapping[str, str], source: str = "parameter 'monotone'") -> None:
    """Refuse a monotone declaration other than "increasing" or "decreasing", naming where it came from."""
    for feature, direction in declared.items():
        if direction not in ("increasing", "decreasing"):
            raise ParameterError(
                f"{source}: direction for {feature!r} is {direction!r}; expected 'increasing' or 'decreasing'",
                name="monotone",
            )


def monotonicity(
    model: Model,
    frame: pd.DataFrame,
    spec: Mapping[str, str],
    *,
    reference: pd.DataFrame | None = None,
    sample_rows: int = 200,
    grid_points: int = 21,
    tolerance: float = 0.01,
    seed: int = 0,
    max_examples: int = 3,
    id_column: str | None = None,
) -> MonotonicityResult:
    """Check declared monotone features with ICE curves.

    ``spec`` maps a feature to "increasing" (the score never falls as the
    feature rises) or "decreasing". For each feature, ``sample_rows`` rows
    (seeded) are scored with the feature set to each point of a grid of
    reference quantiles (type 7, at ``grid_points`` probabilities from 1% to
    99%, distinct values only; integer columns rounded). A row violates when
    its score moves against the declared direction by more than ``tolerance``
    (absolute score units) between adjacent grid points.
    """
    reference = frame if reference is None else reference
    rng = scenario_rng(seed, "monotonicity")
    count = min(sample_rows, len(frame))
    index = np.sort(rng.choice(len(frame), size=count, replace=False))
    sample = frame.iloc[index]
    rows: list[dict[str, object]] = []
    examples: list[dict[str, object]] = []
    findings: list[Finding] = []
    curves: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]] = {}
    check_directions(spec)
    for feature, direction in spec.items():
        if feature not in frame.columns:
            raise DataError(f"monotone feature {feature!r} is not in the data", column=feature)
        if not is_numeric(frame[feature]):
            raise DataError(f"monotone feature {feature!r} must be numeric", column=feature)
        values = reference[feature].dropna().to_numpy(dtype="float64")
        grid = np.quantile(values, np.linspace(0.01, 0.99, grid_points))
        if pd.api.types.is_integer_dtype(frame[feature].dtype):
            grid = np.rint(grid)
        grid = np.unique(grid)
        repeated = sample.iloc[np.repeat(np.arange(count), len(grid))].reset_index(drop=True)
        column = np.tile(grid, count)
        if pd.api.types.is_integer_dtype(frame[feature].dtype):
            # pandas-stubs list only timedelta dtypes for an ndarray here; pandas takes any integer dtype.
            repeated[feature] = pd.array(column.astype("int64"), dtype=frame[feature].dtype)  # type: ignore[arg-type]
        else:
            repeated[feature] = column
        ice = model.score(repeated, scenario=f"monotonicity: {feature} ICE").reshape(count, len(grid))
        steps = np.diff(ice, axis=1)
        against = -steps if direction == "increasing" else steps
        violation = against > tolerance
        violating_rows: npt.NDArray[np.bool_] = np.asarray(violation.any(axis=1))
        curves[feature] = (grid, ice, violating_rows)
        worst = against.max() if against.size else 0.0
        rows.append(
            {
                "feature": feature,
                "direction": direction,
                "rows_checked": count,
                "grid_points": len(grid),
                "rows_violating": int(violating_rows.sum()),
                "share_violating": float(violating_rows.mean()) if count else math.nan,
                "largest_violation": float(max(worst, 0.0)),
                "verdict": "violated" if violating_rows.any() else "holds",
            }
        )
        if violating_rows.any():
            per_row = np.where(violation, against, -np.inf)
            order = np.argsort(-per_row.max(axis=1), kind="stable")[: min(max_examples, int(violating_rows.sum()))]
            for r in order:
                j = int(np.argmax(per_row[r]))
                examples.append(
                    {
                        "feature": feature,
                        "row": sample[id_column].iloc[r] if id_column else int(sample.index[r]),
                        "from_value": float(grid[j]),
                        "to_value": float(grid[j + 1]),
                        "score_from": float(ice[r, j]),
                        "score_to": float(ice[r, j + 1]),
                        "move_against": float(against[r, j]),
                    }
                )
            moved = "falls" if direction == "increasing" else "rises"
            message = (
                f"{feature}: score {moved} as {feature} rises for {violating_rows.mean():.0%} of "
                f"{count} sampled rows (largest {worst:.3f}); declared {direction}"
            )
        else:
            message = f"{feature}: {direction} as declared on all {count} sampled rows"
        findings.append(
            Finding(
                check="monotonicity",
                subject=feature,
                severity="warning" if violating_rows.any() else "ok",
                message=message,
                value=float(violating_rows.mean()) if count else None,
                threshold=0.0,
                method=_monotonicity_method(count, grid_points, tolerance),
                section=SECTIONS["monotonicity"],
            )
        )
    return MonotonicityResult(
        table=pd.DataFrame(
            rows,
            columns=["feature", "direction", "rows_checked", "grid_points", "rows_violating",
                     "share_violating", "largest_violation", "verdict"],
        ),
        examples=pd.DataFrame(
            examples,
            columns=["feature", "row", "from_value", "to_value", "score_from", "score_to", "move_against"],
        ),
        curves=curves,
        findings=findings,
        method=_monotonicity_method(count, grid_points, tolerance),
        tolerance=tolerance,
    )


def _monotonicity_method(rows: int, points: int, tolerance: float) -> str:
    return (
        f"ICE curves on {rows} seeded sample rows over {points} reference quantiles (1%-99%, type 7); "
        f"violation = score moving against the declared direction by more than {tolerance:g} "
        "between adjacent grid points"
    )
