"""The periods drift over time judges: small ones merged forward, partial edges merged or noted, one skipped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlreport import drift
from mlreport.integrity import EdgeCoverage
from mlreport.profile import ReferenceProfile


def _periods(rows: list[int]):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=sum(rows))})
    labels = pd.Series(np.repeat([f"p{i + 1}" for i in range(len(rows))], rows), index=frame.index)
    profile = ReferenceProfile.fit(pd.DataFrame({"x": rng.normal(size=2_000)}))
    return profile, frame, labels, profile.summarize_by(frame, labels)


def test_small_periods_are_merged_forward_and_a_small_remainder_joins_the_one_before():
    profile, frame, labels, parts = _periods([600, 200, 150, 700, 100])
    judged = drift.judged_periods(parts, min_rows=500)
    assert list(judged.parts) == ["p1", "p2 to p5"]
    assert judged.merged == {"p2 to p5": ["p2", "p3", "p4", "p5"]}
    merged = judged.parts["p2 to p5"]
    expected = profile.summarize(frame[labels.isin(["p2", "p3", "p4", "p5"])])
    assert merged.rows == 1_150
    np.testing.assert_array_equal(merged["x"].counts, expected["x"].counts)  # summaries add up exactly
    assert any("3 of 5 periods hold fewer than 500 rows" in note for note in judged.notes)


def test_partial_edge_periods_are_merged_below_half_and_noted_above():
    _, _, _, parts = _periods([300, 700, 700, 700, 600])
    judged = drift.judged_periods(parts, min_rows=200, coverage=EdgeCoverage(0.3, 0.7, "test"))
    assert list(judged.parts) == ["p1 to p2", "p3", "p4", "p5"]
    assert any("first period p1 covers about 30%" in note and "merged" in note for note in judged.notes)
    assert any("last period p5 covers about 70%" in note and "judged on its own rows" in note
               for note in judged.notes)


def test_one_period_is_not_judged_feature_drift_judges_the_window():
    _, _, _, parts = _periods([120, 130, 110])
    judged = drift.judged_periods(parts, min_rows=500)
    assert not judged.judged and judged.parts == {}
    assert "do not make two periods of 500 rows" in judged.notes[-1]
    single = drift.judged_periods(_periods([900])[3], min_rows=500)
    assert not single.judged and "one period (p1)" in single.notes[0]


def test_drift_over_time_on_judged_periods_has_no_period_under_the_minimum():
    _, _, _, parts = _periods([600, 200, 150, 700, 100])
    profile = _periods([10])[0]
    judged = drift.judged_periods(parts, min_rows=drift.MIN_JUDGED_ROWS)
    table = drift.drift_over_time(profile, None, judged.parts)
    assert set(table["period"]) == {"p1", "p2 to p5"}
    assert (table["n_cur"] >= drift.MIN_JUDGED_ROWS).all()
    assert drift.MIN_JUDGED_ROWS == 500 and drift.Thresholds().min_period_rows == 500
    with pytest.raises(Exception, match="min_period_rows"):
        drift.Thresholds(min_period_rows=0)
