"""Thresholds learned from the reference (NannyML-style): each chunk against the rest, mean + k std, with a floor.

A band learned from the reference's chunk-to-chunk variability says how much a
column moves by itself; on large chunks that is very little (PSI 0.001 to
0.005 on public car-loan data), and a band that tight flags moves no one would
act on. So a learned band is never tighter than a material effect,
:data:`LEARNED_FLOOR`: half the default warning band for a warning, the
default warning band for an incident (PSI 0.05 / 0.10, KS D and TVD 0.0375 /
0.075, Wasserstein/std 0.075 / 0.15; JS distance and Hellinger, which have no
default band, 0.05 / 0.10, about PSI 0.02 / 0.08). A move below half of what
the credit-risk convention calls "some change" (PSI 0.1) is not a finding
however stable the column was. The p-value gate and the
report's false-alarm budget apply to learned bands as to fixed ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, ParameterError
from ..profile import ReferenceProfile, merge
from ._metrics import _rows
from ._thresholds import Band, Thresholds, _thresholds

__all__ = ["chunk_metrics", "learn_thresholds", "LEARNED_FLOOR"]

LEARNED_FLOOR: dict[str, Band] = {
    "psi": Band(0.05, 0.10),
    "ks": Band(0.0375, 0.075),
    "tvd": Band(0.0375, 0.075),
    "wasserstein_norm": Band(0.075, 0.15),
    "js": Band(0.05, 0.10),
    "hellinger": Band(0.05, 0.10),
}
"""The tightest a learned band may be, per metric: (warning, incident) (see the module docstring)."""


def _chunk_key(frame: pd.DataFrame, chunks: int | pd.Series | str) -> pd.Series | str:
    if isinstance(chunks, (pd.Series, str)):
        return chunks
    if not isinstance(chunks, (int, np.integer)) or chunks < 3:
        raise ParameterError(f"chunks must be an integer >= 3 or a period key, got {chunks!r}", name="chunks")
    if len(frame) < chunks:
        raise DataError(f"reference has {len(frame)} rows, fewer than the {chunks} chunks asked for")
    labels = np.arange(len(frame)) * int(chunks) // len(frame)
    return pd.Series(labels, index=frame.index)


def chunk_metrics(
    profile: ReferenceProfile,
    reference_frame: pd.DataFrame,
    *,
    chunks: int | pd.Series | str = 10,
    columns: Sequence[str] | None = None,
    eps: float | None = None,
) -> pd.DataFrame:
    """Metrics of each reference chunk against the rest of the reference.

    ``chunks`` is a number of contiguous, equal chunks in row order (sort the
    reference by time first) or a period key (Series or column name).
    Leave-one-out: each chunk is compared with the reference minus that chunk
    (summaries subtract), so a chunk is never compared with itself.
    """
    parts = profile.summarize_by(reference_frame, _chunk_key(reference_frame, chunks))
    if len(parts) < 3:
        raise DataError(f"need at least 3 reference chunks to learn thresholds, got {len(parts)}")
    total = merge(parts.values())
    frames = []
    for label, part in parts.items():
        rows = _rows(profile, total - part, part, columns=columns, exact=None, eps=eps)
        chunk = pd.DataFrame(rows)
        chunk.insert(0, "chunk", str(label))
        frames.append(chunk)
    return pd.concat(frames, ignore_index=True)


def learn_thresholds(
    profile: ReferenceProfile,
    reference_frame: pd.DataFrame,
    *,
    chunks: int | pd.Series | str = 10,
    k: float = 3.0,
    base: Thresholds | Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
) -> Thresholds:
    """Bands learned from the reference (NannyML-style): mean + k * std over chunks, never below a floor.

    For each column and each metric that has a band in ``base`` (default
    :class:`Thresholds`), the metric is computed for every reference chunk
    against the rest (:func:`chunk_metrics`); the learned warning level is
    ``max(mean + k * std, floor warning)`` (std with ddof=1, the floor from
    :data:`LEARNED_FLOOR`) and the incident level is the largest of that, the
    base incident level and the floor's incident level. The p-value gate still
    applies. The learned levels fit batches of about the chunk size: choose
    chunks as large as the periods you will compare.
    """
    if not (isinstance(k, (int, float)) and k > 0):
        raise ParameterError(f"k must be a positive number, got {k!r}", name="k")
    settings = _thresholds(base)
    metrics_table = chunk_metrics(profile, reference_frame, chunks=chunks, columns=columns)
    learned: dict[str, dict[str, Band | None]] = {}
    for label, group in metrics_table.groupby("column", sort=False):
        name = str(label)
        column = profile.columns[name]
        bands: dict[str, Band | None] = {}
        for metric, band in settings.bands_for(name, column.kind).items():
            values = group[metric].to_numpy(float)
            values = values[np.isfinite(values)]
            if values.size < 2:
                continue
            floor = LEARNED_FLOOR.get(metric, Band(0.0, 0.0))
            warning = max(float(values.mean() + k * values.std(ddof=1)), floor.warning)
            bands[metric] = Band(warning, max(warning, band.incident, floor.incident))
        learned[str(name)] = {**settings.columns.get(str(name), {}), **bands}
    n_chunks = metrics_table["chunk"].nunique()
    return replace(
        settings,
        columns={**settings.columns, **learned},
        source=(
            f"learned bands: mean + {k:g} std over {n_chunks} reference chunks (leave-one-out), never below "
            "half the default warning band (warning) or the default warning band (incident)"
        ),
    )
