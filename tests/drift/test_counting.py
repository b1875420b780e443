"""The counted half of a drift report: the profile, the bands and the current summaries, through any backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from backend_cases import assert_summaries_equal
from drift_frames import read_windows

from mlreport import sample
from mlreport.drift._counting import current_summaries, drift_thresholds, reference_profile
from mlreport.errors import ParameterError
from mlreport.profile import ReferenceProfile

COLUMNS = ["income", "channel", "credit_utilisation"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("counting")
    reference, current = sample.split(sample.generate(4000, seed=4, incidents=("utilisation_zero",)), "2026-02-02")
    reference.to_parquet(folder / "reference.parquet", index=False)
    current.to_parquet(folder / "current.parquet", index=False)
    return {"reference_path": str(folder / "reference.parquet"), "current_path": str(folder / "current.parquet")}


def test_beyond_row_sample_the_counts_still_come_from_every_row(files: dict[str, str]):
    windows = read_windows(**files, backend="duckdb", row_sample=500, seed=1)
    full = read_windows(**files)
    profile = reference_profile(windows, COLUMNS)
    assert profile.rows == len(full.reference) and profile.settings["fit"]["quantiles"] == "exact"
    summaries, weekly = current_summaries(windows, profile, "W")
    expected, expected_weekly = current_summaries(full, profile, "W")
    assert summaries.rows == expected.rows == len(full.current) and list(weekly) == list(expected_weekly)
    with pytest.raises(ParameterError, match=r"'period'.*pandas backend") as info:
        current_summaries(windows, profile, "500")
    assert info.value.name == "period"
    with pytest.raises(ParameterError, match="'learned' needs every reference row"):
        drift_thresholds({}, mode="learned", profile=profile, reference=windows.reference, columns=["income"],
                         timestamp="timestamp", complete=windows.complete)


def test_the_pandas_profile_and_summaries_are_those_of_the_rows_in_memory(files: dict[str, str]):
    windows = read_windows(**files)
    profile = reference_profile(windows, COLUMNS, categorical=["channel", "not monitored"])
    expected = ReferenceProfile.fit(windows.reference, COLUMNS, categorical=["channel"])
    assert profile.fingerprint == expected.fingerprint
    summaries, weekly = current_summaries(windows, profile, "W")
    assert_summaries_equal(summaries, profile.summarize(windows.current))  # counted at once, not merged
    assert list(weekly) == sorted(set(weekly)) and sum(s.rows for s in weekly.values()) == len(windows.current)


def test_periods_by_date_or_chunk():
    windows = read_windows(sample_rows=2000, sample_seed=3, sample_incidents=[])
    profile = reference_profile(windows, ["income"])
    rows = len(windows.current)
    assert list(current_summaries(windows, profile, "W")[1]) == ["2026-02-02", "2026-02-09", "2026-02-16", "2026-02-23"]
    _, chunks = current_summaries(windows, profile, "250")
    assert list(chunks) == [f"chunk {i:03d}" for i in range(1, -(-rows // 250) + 1)]
    assert [s.rows for s in chunks.values()] == [250] * (rows // 250) + ([rows % 250] if rows % 250 else [])
    with pytest.raises(ParameterError, match="'period'"):
        current_summaries(windows, profile, "fortnight")
    windows.spec.timestamp = ""
    with pytest.raises(ParameterError, match=r"'W' needs a timestamp column.*rows per chunk") as info:
        current_summaries(windows, profile, "W")
    assert info.value.name == "period"


def test_a_saved_profile_is_loaded_as_it_is(tmp_path: Path, files: dict[str, str]):
    windows = read_windows(**files)
    saved = reference_profile(windows, COLUMNS, bins=5, save_path=str(tmp_path / "profile.json"))
    loaded = reference_profile(windows, ["income"], load_path=str(tmp_path / "profile.json"), bins=1)
    assert loaded.fingerprint == saved.fingerprint and list(loaded.columns) == COLUMNS
    with pytest.raises(ParameterError, match="'psi_bins'"):
        reference_profile(windows, COLUMNS, bins=1)


def test_learned_bands_come_from_the_reference_periods(files: dict[str, str]):
    windows = read_windows(**files)
    profile = reference_profile(windows, COLUMNS)
    fixed = drift_thresholds({}, mode="fixed", profile=profile, reference=windows.reference, columns=COLUMNS)
    learned = drift_thresholds({}, mode="learned", profile=profile, reference=windows.reference, columns=COLUMNS,
                               timestamp="timestamp", period="W", k=2.0, correction="bonferroni")
    assert fixed.source == "fixed bands" and fixed.columns == {}
    assert "mean + 2 std over 4 reference chunks" in learned.source and set(learned.columns) == set(COLUMNS)
    assert learned.correction == "bonferroni"
    with pytest.raises(ParameterError, match="'threshold_mode'"):
        drift_thresholds({}, mode="adaptive", profile=profile, reference=windows.reference, columns=COLUMNS)
