"""Decision counts: the period grid and windows, labels and levels, capping, row order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from volume_logs import ROLES, analyse

from mlreport.counts import count_decisions
from mlreport.errors import DataError, ParameterError
from mlreport.sample import generate
from mlreport.volume import VolumeConfig, analyse_counts


@pytest.fixture(scope="module")
def clean():
    return generate(50_000, seed=7)


def test_gap_days_are_zero_count_periods_not_dropped(clean):
    days = clean.timestamp.dt.normalize()
    gap = clean[~days.isin(pd.to_datetime(["2026-02-10", "2026-02-11"]))]
    result = analyse(gap)
    overall = result.volume[result.volume.series == "overall"]
    assert len(overall) == 56
    flagged = overall[overall.severity != "ok"]
    assert list(flagged.period) == list(pd.to_datetime(["2026-02-10", "2026-02-11"]))
    assert (flagged.observed == 0).all() and (flagged.rule == "volume_zero").all()
    zero = [f for f in result.findings if f.check == "volume_zero"]
    assert [f.subject for f in zero] == ["overall"]  # the segments' zeros are the same gap
    assert result.headline.startswith("Incident: overall volume 0 from 2026-02-10 to 2026-02-11")


def test_too_short_history_names_the_history_needed(clean):
    recent = clean[clean.timestamp >= "2026-02-02"]
    with pytest.raises(DataError, match=r"baseline needs 4 weeks before 2026-02-19; data starts 2026-02-02"):
        analyse(recent, VolumeConfig(analysis_start="2026-02-19"))
    with pytest.raises(DataError, match=r"baseline needs 4 weeks before the first analysed day"):
        analyse(recent[recent.timestamp < "2026-02-21"])


def test_duplicate_and_unsorted_timestamps_count_every_row(clean):
    once = analyse(clean)
    twice = analyse(pd.concat([clean, clean]).sample(frac=1.0, random_state=3))
    np.testing.assert_array_equal(twice.volume.observed.to_numpy(), 2 * once.volume.observed.to_numpy())
    assert twice.status == once.status


def test_categorical_and_string_columns_give_the_same_counts(clean):
    as_categories = clean.astype({"channel": "category", "decision": "category"})
    a = count_decisions(clean, **ROLES)
    b = count_decisions(as_categories, **ROLES)
    assert a.labels == b.labels
    np.testing.assert_array_equal(a.overall, b.overall)
    np.testing.assert_array_equal(a.segments["channel"][1], b.segments["channel"][1])


def test_decision_labels_order_and_missing_labels(clean):
    frame = clean.assign(decision=clean.decision.where(clean.index % 100 != 0))
    counts = count_decisions(frame, decision_labels=["decline", "approve", "escalate"], **ROLES)
    assert counts.labels[:3] == ["decline", "approve", "escalate"]
    assert counts.labels[-1] == "(missing)"
    assert counts.overall[:, 2].sum() == 0
    assert counts.overall.sum() == len(frame)


def test_override_rate_from_a_flag_or_a_final_decision(clean):
    rng = np.random.default_rng(1)
    overridden = rng.random(len(clean)) < 0.05
    frame = clean.assign(
        flag=overridden,
        final=np.where(overridden & (clean.decision != "approve"), "approve", clean.decision),
    )
    by_flag = analyse(frame, override_column="flag").rates
    rate = by_flag[by_flag.decision == "override"]
    assert rate["count"].sum() / rate.n.sum() == pytest.approx(overridden.mean(), abs=1e-12)
    by_final = analyse(frame, override_column="final").rates
    rate = by_final[by_final.decision == "override"]
    assert rate["count"].sum() == (overridden & (clean.decision != "approve")).sum()


def test_partial_last_period_is_graded_by_its_covered_share(clean):
    # Issue 13: a last day covered to 09:00 was dropped (< 90 % covered) or, covered to 11:51, graded as a
    # complete day. It now stays and is graded against the share of its expected volume the data covers.
    cut = clean[clean.timestamp < "2026-03-01 09:00"]
    result = analyse(cut)
    overall = result.volume[result.volume.series == "overall"].set_index("period")
    last = overall.loc[pd.Timestamp("2026-03-01")]
    assert 0.0 < last.covered < 0.5  # the night and early morning of a day: well under half its decisions
    assert last.severity == "ok"
    full = analyse(clean).volume.query("series == 'overall'").set_index("period").loc[pd.Timestamp("2026-03-01")]
    assert last.expected == pytest.approx(full.expected * last.covered, rel=0.05)
    assert any("is covered only to 2026-03-01 08:" in f.message and "not as a complete day" in f.message
               for f in result.findings)


def test_partial_first_period_is_noted_and_not_a_full_baseline_day(clean):
    late = clean[clean.timestamp >= "2026-01-05 13:00"]
    result = analyse(late)
    assert any("the first day (2026-01-05) is covered only from 2026-01-05 13:" in f.message
               for f in result.findings)
    assert result.status == analyse(clean).status


def test_analysis_start_after_the_data_names_the_parameter_and_the_range(clean):
    with pytest.raises(DataError) as info:
        analyse(clean, VolumeConfig(analysis_start="2027-01-01"))
    message = str(info.value)
    for fragment in ("analysis_start 2027-01-01", "data starts 2026-01-05", "ends 2026-03-01", "baseline_weeks"):
        assert fragment in message, message
    with pytest.raises(ParameterError, match="analysis_end 2026-02-01 is not after analysis_start"):
        VolumeConfig(analysis_start="2026-02-09", analysis_end="2026-02-01")


def test_segment_levels_are_capped_to_the_most_frequent_and_the_rest_folded(clean):
    rng = np.random.default_rng(0)
    weights = np.arange(1, 41, dtype=float)
    merchant = rng.choice([f"s{k:02d}" for k in range(40)], size=len(clean), p=weights / weights.sum())
    frame = clean.assign(merchant=pd.Series(merchant, index=clean.index).where(clean.index % 50 != 0))
    roles = {"timestamp_column": "timestamp", "decision_column": "decision", "segment_columns": ["merchant"]}
    full = count_decisions(frame, VolumeConfig(max_segment_levels=50), **roles)
    capped = count_decisions(frame, VolumeConfig(max_segment_levels=12), **roles)
    full_names, full_table = full.segments["merchant"]
    names, table = capped.segments["merchant"]
    in_window = dict(zip(full_names, full_table.sum(axis=(0, 2)), strict=True))
    ranked = sorted((n for n in full_names if n != "(missing)"), key=lambda n: (-in_window[n], n))
    assert "(other)" not in full_names and not any("merchant" in n for n in full.notes)
    assert set(names) == set(ranked[:12]) | {"(other)", "(missing)"}
    for name in [*ranked[:12], "(missing)"]:
        np.testing.assert_array_equal(table[:, names.index(name)], full_table[:, full_names.index(name)])
    folded = [full_names.index(n) for n in ranked[12:]]
    np.testing.assert_array_equal(table[:, names.index("(other)")], full_table[:, folded].sum(axis=1))
    np.testing.assert_array_equal(table.sum(axis=1), capped.overall)
    note = next(n for n in capped.notes if "merchant" in n)
    assert "40 distinct values" in note and "12 most frequent" in note and "other 28" in note and "'(other)'" in note


def test_segment_cap_breaks_ties_by_label_and_keeps_missing_apart():
    from mlreport.counts._counts import _cap_levels

    levels = ["d", "c", "b", "a", "e"]
    codes = np.array([4, 4, 4, 0, 0, 1, 1, 2, 2, 3, 3, -1, -1])  # e 3 rows; a, b, c, d 2 each; 2 missing
    recoded, kept, note = _cap_levels(codes, levels, 3, "merchant")
    assert kept == ["e", "a", "b", "(other)"]
    np.testing.assert_array_equal(recoded, [0, 0, 0, 3, 3, 3, 3, 2, 2, 1, 1, -1, -1])
    assert "5 distinct values" in note and "other 2 (4 rows)" in note
    same, unchanged, none = _cap_levels(codes, levels, 5, "merchant")
    assert same is codes and unchanged == levels and none is None


def test_segment_cap_does_not_depend_on_row_order(clean):
    frame = clean.assign(merchant=[f"m{i % 997}" for i in range(len(clean))])
    config = VolumeConfig(max_segment_levels=20)
    roles = {"timestamp_column": "timestamp", "decision_column": "decision", "segment_columns": ["merchant"]}
    a = count_decisions(frame, config, **roles)
    b = count_decisions(frame.sample(frac=1.0, random_state=1), config, **roles)
    assert set(a.segments["merchant"][0]) == set(b.segments["merchant"][0])
    assert len(a.segments["merchant"][0]) == 21
    result = analyse_counts(a, config)
    assert any(f.check == "coverage" and "merchant" in f.message for f in result.findings)


def test_levels_with_equal_counts_are_ordered_by_label_whatever_the_row_order():
    """Decision labels and segment levels: by count, ties by label, so the order is deterministic."""
    from mlreport.counts import count_decisions

    times = pd.date_range("2026-01-05", periods=24 * 7 * 6, freq="h")
    frame = pd.DataFrame({
        "timestamp": times,
        "decision": np.tile(["refer", "approve"], len(times) // 2),
        "segment": np.tile(["c", "b", "a"], len(times) // 3),
    })
    orders = []
    for rows in (frame, frame.iloc[::-1], frame.sample(frac=1.0, random_state=1)):
        counts = count_decisions(rows, VolumeConfig(period="D"), timestamp_column="timestamp",
                                 decision_column="decision", segment_columns=["segment"])
        orders.append((counts.labels, counts.segments["segment"][0]))
    assert orders == [(["approve", "refer"], ["a", "b", "c"])] * 3
