"""Matured rows: label delay, unlabelled rows and the sample generator's label delay."""

from __future__ import annotations

import pandas as pd
import pytest

from mlreport import sample
from mlreport.errors import DataError, ParameterError
from mlreport.performance import matured


def test_matured_excludes_recent_and_unlabelled_rows():
    stamps = pd.date_range("2026-01-01", periods=10, freq="D")
    labels = pd.array([0, 1, pd.NA, 0, 1, 0, pd.NA, 0, pd.NA, pd.NA], dtype="Int8")
    frame = pd.DataFrame({"ts": stamps, "bad": labels, "row": range(10)})
    result = matured(frame, timestamp="ts", target="bad", as_of="2026-01-10", label_delay=3)
    # cutoff 2026-01-07: rows 0..6 old enough; of those 2 and 6 have no label.
    assert result.cutoff == pd.Timestamp("2026-01-07")
    assert result.frame["row"].tolist() == [0, 1, 3, 4, 5]
    assert (result.n_rows, result.n_matured, result.n_immature) == (10, 5, 5)
    assert (result.n_too_recent, result.n_missing_label) == (3, 2)
    # Labels that arrived early (row 7) are still excluded: their period is not complete.
    assert 7 not in result.frame["row"].tolist()
    # The default as_of is the latest timestamp; "3D" and a Timedelta mean the same.
    same = matured(frame, timestamp="ts", target="bad", label_delay="3D")
    assert same.frame["row"].tolist() == [0, 1, 3, 4, 5]
    # Without a delay, only the label matters.
    plain = matured(frame, timestamp="ts", target="bad")
    assert plain.frame["row"].tolist() == [0, 1, 3, 4, 5, 7]
    assert plain.n_immature == 4 and plain.n_too_recent == 0


def test_matured_rejects_bad_delay_and_unparsed_timestamps():
    frame = pd.DataFrame({"ts": ["2026-01-01"], "bad": [1]})
    with pytest.raises(DataError, match="expected datetimes"):
        matured(frame, timestamp="ts", target="bad", label_delay=1)
    frame["ts"] = pd.to_datetime(frame["ts"])
    with pytest.raises(ParameterError, match="label_delay"):
        matured(frame, timestamp="ts", target="bad", label_delay="soon")
    with pytest.raises(ParameterError, match="non-negative"):
        matured(frame, timestamp="ts", target="bad", label_delay=-1)


def test_matured_on_sample_data_matches_the_generators_label_delay():
    frame = sample.generate(3_000, seed=1, label_delay_days=30)
    result = matured(frame, timestamp="timestamp", target="default_flag", label_delay=30)
    # The generator leaves labels missing within 30 days of the window end; the same
    # delay keeps exactly the labelled rows (up to the gap between the last row and the end).
    assert result.n_matured == int(frame["default_flag"].notna().sum()) - (
        frame["default_flag"].notna() & (frame["timestamp"] > result.cutoff)).sum()
    assert result.frame["timestamp"].max() <= result.cutoff
    assert result.frame["default_flag"].notna().all()
