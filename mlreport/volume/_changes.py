"""When a change began: change points of the volume and rate series.

Change-point dating with ruptures PELT (:func:`mlreport.stats.change_points`)
of the standardised volume series (``(observed - expected) / sd``) and of the
Laney-standardised rate series. The rate change points date the rate
findings; those of flagged series are reported as ``change_point`` findings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from ..counts import DecisionCounts, period_text
from ..stats import CHANGEPOINT_METHOD, change_points
from ._config import VolumeConfig
from ._events import SECTIONS, _Event
from ._rates import _RateState
from ._seasonal import _VolumeState

__all__: list[str] = []


def _segment_means(values: np.ndarray, weights: np.ndarray, cuts: Sequence[int]) -> list[float]:
    bounds = [0, *cuts, len(values)]
    means = []
    for a, b in pairwise(bounds):
        w = weights[a:b].sum()
        means.append(float(values[a:b].sum() / w) if w > 0 else math.nan)
    return means


def _change_points(
    counts: DecisionCounts, state: _VolumeState, rates: list[_RateState], config: VolumeConfig,
    volume_series: Sequence[int],
) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    rows = []
    rate_changes: dict[str, list[int]] = {}
    usable = (counts.exposure > 0) & ~counts.holiday
    y = state.series.counts
    method = CHANGEPOINT_METHOD.format(min_size=config.changepoint_min_size, factor=config.changepoint_penalty)
    for s in volume_series:
        e = state.expected[:, s]
        ok = usable & np.isfinite(e) & (e > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(ok, (y[:, s] - e) / np.sqrt(state.ratio[:, s] * e), np.nan)
        found = change_points(z, min_size=config.changepoint_min_size, penalty_factor=config.changepoint_penalty)
        observed = np.where(ok, y[:, s], 0.0)
        means = _segment_means(observed, np.where(ok, e, 0.0), found.indices)
        for i, index in enumerate(found.indices):
            rows.append({"series": state.series.names[s], "metric": "volume / expected",
                         "period": counts.periods[index], "before": means[i], "after": means[i + 1],
                         "unit": "ratio", "method": method})
    for st in rates:
        if not math.isfinite(st.pooled):
            continue
        ok = usable & (st.n > 0)
        found = change_points(np.where(ok, st.z, np.nan), min_size=config.changepoint_min_size,
                              penalty_factor=config.changepoint_penalty)
        rate_changes[st.label] = found.indices
        means = _segment_means(np.where(ok, st.x, 0.0), np.where(ok, st.n, 0.0), found.indices)
        for i, index in enumerate(found.indices):
            rows.append({"series": f"{st.label} rate", "metric": "rate", "period": counts.periods[index],
                         "before": means[i], "after": means[i + 1], "unit": "share", "method": method})
    table = pd.DataFrame(rows, columns=["series", "metric", "period", "before", "after", "unit", "method"])
    table["change"] = table["after"] - table["before"]
    return table, rate_changes


def _change_events(table: pd.DataFrame, counts: DecisionCounts, config: VolumeConfig,
                   subjects: set[str]) -> list[_Event]:
    events = []
    level = config.severity["change_point"]
    for row in table.to_dict("records"):
        series = str(row["series"])
        if series not in subjects:
            continue
        when = period_text(pd.Timestamp(row["period"]), counts.period)
        if row["unit"] == "share":
            text = f"{series} changed at {when}: {row['before']:.1%} -> {row['after']:.1%}"
        else:
            text = (f"{series} volume changed at {when}: "
                    f"{row['before']:.2f} -> {row['after']:.2f} times the seasonal expectation")
        events.append(_Event(kind="change", check="change_point", subject=series, severity=level,
                             message=text, value=float(row["change"]), method=str(row["method"]),
                             section=SECTIONS["changes"], period=when))
    return events
