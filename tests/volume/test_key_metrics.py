"""The key numbers a volume run publishes for dashboards: decisions observed and expected, decision rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlreport.volume import VolumeParameters, analyse


def test_volume_and_rates_are_counted_from_the_rows(tmp_path):
    # Hourly events over eight weeks, other column names, a partial last day; counted by hand below.
    rng = np.random.default_rng(5)
    start = pd.Timestamp("2026-01-05")
    hours = pd.date_range(start, periods=8 * 7 * 24 - 7, freq="h")
    times = np.repeat(hours, rng.poisson(6, len(hours)))
    frame = pd.DataFrame({
        "event_time": times,
        "outcome": rng.choice(["accept", "reject", "review"], len(times), p=[0.7, 0.2, 0.1]),
    })
    frame.to_csv(tmp_path / "events.csv", index=False)
    result = analyse(VolumeParameters(
        data_path=str(tmp_path / "events.csv"), timestamp_column="event_time", decision_column="outcome",
        period="D", analysis_start="2026-02-16",
    ))
    metrics = result.metrics()
    # The partial last day (17 of 24 hours on 2026-03-01) stays on the grid, graded by its covered share of the
    # day's expected volume (issue 13), so it is counted and expected in part.
    assert result.counts.end == pd.Timestamp("2026-03-02")
    overall = result.volume[(result.volume["series"] == "overall") & (result.volume["window"] == "analysis")]
    last_row, full_row = overall.sort_values("period").iloc[-1], overall.sort_values("period").iloc[-2]
    assert 0.5 < last_row["covered"] < 1 and full_row["covered"] == 1
    assert metrics["volume_last_expected"] == pytest.approx(float(last_row["expected"]))
    times = frame["event_time"]
    window = frame[times >= pd.Timestamp("2026-02-16")]
    baseline = frame[frame["event_time"] < pd.Timestamp("2026-02-16")]
    assert metrics["volume_observed"] == len(window)
    last_day = window["event_time"].dt.normalize().max()
    assert metrics["volume_last_observed"] == (window["event_time"].dt.normalize() == last_day).sum()
    assert pd.Timestamp(metrics["volume_last_period"]) == last_day
    assert metrics["volume_expected"] > 0 and metrics["volume_last_expected"] > 0
    for label in ("accept", "reject", "review"):
        assert metrics["decision_rate"][label] == pytest.approx((window["outcome"] == label).mean(), rel=1e-12)
        used = baseline[baseline["event_time"] >= result.counts.baseline_start]
        assert metrics["decision_rate_baseline"][label] == pytest.approx((used["outcome"] == label).mean(), rel=1e-12)
