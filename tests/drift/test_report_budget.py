"""The false-alarm budget through whole reports, on data in other shapes than the sample's.

Each report here is one draw; the rates over many draws are measured by
``benchmarks/trials_drift.py``. These pin what a single report does with the
budget: which alphas each family tests at, the periods drift over time judges,
a partial last day, and that unchanged data of awkward shapes stays healthy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlreport import drift


def _window(rows: int, seed: int, start: str, *, days: int = 28, end: str | None = None) -> pd.DataFrame:
    """A loan log of another shape: a 400-level and a 40-level category, a gamma amount, integer counts, a segment."""
    rng = np.random.default_rng(seed)
    city_weights = 1.0 / np.arange(1, 401) ** 1.1
    kind_weights = 1.0 / np.arange(1, 41) ** 1.2
    cities, kinds = np.array([f"c{i:03d}" for i in range(400)]), np.array([f"k{i:02d}" for i in range(40)])
    frame = pd.DataFrame({
        "loan_ref": [f"L{seed}-{i}" for i in range(rows)],
        "booked_time": pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.random(rows)) * days * 86_400, unit="s"),
        "city": cities[rng.choice(400, rows, p=city_weights / city_weights.sum())],
        "merchant_kind": kinds[rng.choice(40, rows, p=kind_weights / kind_weights.sum())],
        "amount": rng.gamma(2.0, 50.0, rows),
        "late_payments": rng.poisson(0.7, rows),
        "tenure_months": rng.integers(1, 120, rows),
        "channel": rng.choice(np.array(["web", "branch", "broker"]), rows, p=[0.6, 0.3, 0.1]),  # a segment
    })
    if end is not None:
        frame = frame[frame["booked_time"] < pd.Timestamp(end)].reset_index(drop=True)
    return frame


def _report(tmp_path: Path, reference: pd.DataFrame, current: pd.DataFrame, **parameters) -> drift.DriftResult:
    reference.to_parquet(tmp_path / "reference.parquet")
    current.to_parquet(tmp_path / "current.parquet")
    return drift.analyse(drift.DriftParameters(
        reference_path=str(tmp_path / "reference.parquet"), current_path=str(tmp_path / "current.parquet"),
        timestamp_column="booked_time", **parameters))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unchanged_small_windows_with_long_tails_of_levels_are_healthy(tmp_path: Path, seed: int):
    result = _report(tmp_path, _window(500, 2 * seed, "2026-01-05"), _window(500, 2 * seed + 1, "2026-02-02"),
                     period="D", classifier_sample=500)
    summary = result.summary
    assert summary.status == "ok", [f.message for f in summary.findings if f.severity != "ok"]
    # Days of about 18 rows are too small to judge one by one: drift over time judges weeks or less often.
    assert result.judged_periods.notes and all(
        part.rows >= drift.MIN_JUDGED_ROWS for part in result.judged_periods.parts.values())


def test_each_family_tests_at_its_share_of_the_budget(tmp_path: Path):
    result = _report(tmp_path, _window(3_000, 10, "2026-01-05"), _window(3_000, 11, "2026-02-02"), period="W",
                     classifier_sample=500)
    budget = drift.DEFAULT_BUDGET
    assert (result.thresholds.alpha, result.thresholds.alpha_incident) == pytest.approx(budget.levels("feature_drift"))
    assert result.over_time.attrs["alpha"] == pytest.approx(budget.alpha("drift_over_time"))
    assert result.integrity.thresholds["alpha"] == pytest.approx(0.05 * 0.25 / 10)
    assert result.integrity.thresholds["incident_alpha"] == pytest.approx(0.01 * 0.25 / 10)
    assert result.integrity.thresholds["version"] == "integrity-2+budget"
    assert "p < 0.0075 (warning) or 0.0015 (incident)" in result.classifier.method
    # drift by segment (i-13a's family): 0.10 of the budget, 0.005 for a warning and 0.001 for an incident
    segment = result.family_thresholds("segment_drift")
    assert (segment.alpha, segment.alpha_incident) == pytest.approx((0.005, 0.001))
    assert "significant at 0.005 for a warning and 0.001 for an incident" in result.summary.methods["segment_drift"]
    assert result.family_thresholds("prediction_drift").alpha == pytest.approx(0.0025)
    assert "false_alarm_budget" in result.summary.methods
    shown = result.tables["false_alarm_budget"]
    assert "5%" in shown.caption and "integrity" in shown._repr_html_()
    # An alpha the spec or a parameter sets stands for every drift family.
    mine = _report(tmp_path, _window(3_000, 10, "2026-01-05"), _window(3_000, 11, "2026-02-02"), period="W",
                   classifier_sample=500, drift_thresholds={"alpha": 0.05})
    assert mine.family_thresholds("drift_over_time").alpha == 0.05 and mine.thresholds.alpha == 0.05


def test_a_current_window_ending_at_11_51_is_not_graded_as_a_complete_day(tmp_path: Path):
    reference = _window(8_400, 20, "2026-01-05")
    current = _window(4_200, 21, "2026-02-02", days=14, end="2026-02-15 11:51")
    result = _report(tmp_path, reference, current, period="D", classifier_sample=500)
    volume = result.integrity.volume.set_index("period")
    last = volume.loc["2026-02-15"]
    assert last["coverage"] < 0.5 and not last["graded"] and last["severity"] == "ok"
    assert not [f for f in result.integrity.findings if f.check == "rows_per_period" and f.severity != "ok"]
    assert result.integrity.freshness.empty  # no current_end declared: nothing to be fresh against
    # Drift over time merges the partial day into the one before, and says so.
    assert result.edge_coverage.last < 0.5
    assert any("last period 2026-02-15" in note and "merged" in note for note in result.judged_periods.notes)
    assert "2026-02-15" not in result.judged_periods.parts
    notes = [f for f in result.summary.findings if f.check == "drift_over_time_periods"]
    assert notes and notes[0].severity == "ok"
