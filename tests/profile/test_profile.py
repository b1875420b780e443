"""ReferenceProfile: save and load, the fingerprint, and counting block by block."""

from __future__ import annotations

import json

import pytest
from profile_frames import FEATURES, _assert_summaries_equal, profile_fixture, sample_fixture  # noqa: F401 - fixtures, taken by name

from mlreport.errors import DataError
from mlreport.profile import ReferenceProfile

# ---------------------------------------------------------------------------
# serialisation


def test_save_load_round_trip(tmp_path, profile, sample):
    path = profile.save(tmp_path / "profiles" / "reference.json")
    loaded = ReferenceProfile.load(path)
    assert loaded.fingerprint == profile.fingerprint
    assert json.loads(path.read_text())["version"] == 1
    _assert_summaries_equal(loaded.summarize(sample), profile.summarize(sample))
    for name in profile.columns:
        assert loaded[name].to_dict() == profile[name].to_dict()


def test_save_writes_to_bytes_and_from_bytes_reads_them(tmp_path, profile):
    """What a run records of a saved profile (to_bytes) is what save wrote; a loaded one is parsed from its bytes."""
    path = profile.save(tmp_path / "reference.json")
    assert path.read_bytes() == profile.to_bytes()
    assert ReferenceProfile.from_bytes(path.read_bytes(), source=str(path)).fingerprint == profile.fingerprint
    with pytest.raises(DataError, match=r"ref\.json is not UTF-8 text"):
        ReferenceProfile.from_bytes(b"\xff{}", source="ref.json")
    with pytest.raises(DataError, match=r"ref\.json is not valid JSON"):
        ReferenceProfile.from_bytes(b"{", source="ref.json")


def test_fingerprint_is_stable_and_sensitive(sample, profile):
    again = ReferenceProfile.fit(sample, FEATURES)
    assert again.fingerprint == profile.fingerprint
    assert len(profile.fingerprint) == 64
    other = ReferenceProfile.fit(sample.iloc[1:], FEATURES)
    assert other.fingerprint != profile.fingerprint
    assert ReferenceProfile.fit(sample, FEATURES, bins=5).fingerprint != profile.fingerprint


def test_tampered_or_foreign_profiles_are_refused(tmp_path, profile):
    data = profile.to_dict()
    data["columns"]["income"]["mean"] = 1.0
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match="fingerprint"):
        ReferenceProfile.load(path)
    data = profile.to_dict()
    data["version"] = 99
    with pytest.raises(DataError, match="version"):
        ReferenceProfile.from_dict(data)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        ReferenceProfile.load(tmp_path / "bad.json")
    with pytest.raises(DataError, match="cannot read"):
        ReferenceProfile.load(tmp_path / "missing.json")


def test_a_profile_whose_column_kind_is_unknown_is_refused(profile):
    data = profile.to_dict()
    data["columns"]["income"]["kind"] = "ordinal"
    del data["fingerprint"]  # a hand-written profile carries none
    with pytest.raises(DataError, match=r"column 'income' is malformed: kind 'ordinal' is not one of numeric"):
        ReferenceProfile.from_dict(data)


def test_block_by_block_counting_gives_the_same_summaries(sample, profile, monkeypatch):
    import mlreport.profile._fit as profile_fit_module
    import mlreport.profile._profile as profile_module

    whole = profile.summarize(sample)
    weeks = sample["timestamp"].dt.to_period("W").astype(str)
    by_week = profile.summarize_by(sample, weeks)
    monkeypatch.setattr(profile_module, "_BLOCK_ROWS", 997)
    monkeypatch.setattr(profile_fit_module, "_BLOCK_ROWS", 997)  # the label counts of a fit
    _assert_summaries_equal(profile.summarize(sample), whole)
    for week, part in profile.summarize_by(sample, weeks).items():
        _assert_summaries_equal(part, by_week[week])
    refit = ReferenceProfile.fit(sample, FEATURES)  # label counts block by block too
    assert refit.fingerprint == profile.fingerprint


@pytest.mark.parametrize("block_rows", [None, 997])
def test_several_groupings_in_one_pass_give_the_separate_passes_summaries(sample, profile, monkeypatch, block_rows):
    # summarize_with / summarize_by_each encode each column once for every grouping; each grouping's
    # summaries must be bit-identical to its own pass, whatever the block size, with keys that miss values
    # (left out of their key only), keys with no value at all, column names and Series.
    import numpy as np
    import pandas as pd

    import mlreport.profile._profile as profile_module

    if block_rows is not None:
        monkeypatch.setattr(profile_module, "_BLOCK_ROWS", block_rows)
    frame = sample.copy()
    rng = np.random.default_rng(3)
    frame["segment"] = pd.Series(rng.choice(["a", "b", "c"], len(frame)), index=frame.index, dtype="str")
    frame.loc[rng.random(len(frame)) < 0.1, "segment"] = None
    frame["number"] = rng.integers(0, 4, len(frame))
    weeks = frame["timestamp"].dt.to_period("W").astype(str)
    nothing = pd.Series(np.nan, index=frame.index)
    # a profiled string column as a key too, with missing values: factorized once for the key and its counts
    assert isinstance(frame["channel"].dtype, pd.StringDtype) and profile["channel"].kind == "categorical"
    frame.loc[rng.random(len(frame)) < 0.05, "channel"] = None
    keys = ["segment", "number", weeks, nothing, "channel"]
    whole, per_key = profile.summarize_with(frame, keys)
    _assert_summaries_equal(whole, profile.summarize(frame))
    assert [len(parts) for parts in per_key] == [3, 4, weeks.nunique(), 0, frame["channel"].nunique()]
    for key, parts in zip(keys, per_key, strict=True):
        separate = profile.summarize_by(frame, key)
        assert list(parts) == list(separate)
        for label, part in separate.items():
            _assert_summaries_equal(parts[label], part)
    by_each = profile.summarize_by_each(frame, ["number", "channel", "segment"])
    for key, parts in zip(["number", "channel", "segment"], by_each, strict=True):
        for label, part in profile.summarize_by(frame, key).items():
            _assert_summaries_equal(parts[label], part)
    assert profile.summarize_by_each(frame, []) == []
