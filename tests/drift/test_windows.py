"""Reading the reference and current windows: the sample, one source cut by dates, two files; every backend alike."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from drift_frames import read_windows

from mlreport import data, drift, sample
from mlreport.backends import PandasBackend, open_backend
from mlreport.drift._report import row_level_arguments
from mlreport.drift._windows import load_windows
from mlreport.errors import DataError, ParameterError


def test_sample_windows_split_at_the_midpoint_and_record_inputs():
    windows = read_windows(sample_rows=5000, sample_incidents=["utilisation_zero"])
    assert windows.reference["timestamp"].max() < pd.Timestamp("2026-02-02") <= windows.current["timestamp"].min()
    assert windows.data_period == "2026-02-02 to 2026-03-02"
    assert windows.inputs.to_list()[0]["name"] == "sample" and windows.inputs.to_list()[0]["rows"] == 5000


def test_one_source_cut_by_dates(tmp_path: Path):
    frame = sample.generate(3000, seed=2)
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    windows = read_windows(reference_path=str(path), current_start="2026-02-16", reference_start="2026-01-12")
    assert windows.reference["timestamp"].min() >= pd.Timestamp("2026-01-12")
    assert windows.reference["timestamp"].max() < pd.Timestamp("2026-02-16") <= windows.current["timestamp"].min()
    assert windows.spec.timestamp == "timestamp" and windows.spec.source == "inferred"
    with pytest.raises(ParameterError, match="current_start"):
        read_windows(reference_path=str(path))
    with pytest.raises(DataError, match=r"current window .* holds no rows; the data spans 2026-01-05"):
        read_windows(reference_path=str(path), current_start="2027-01-01")


@pytest.mark.parametrize("layout", ["sample", "one source", "two files"])
def test_windows_through_duckdb_are_the_rows_pandas_cuts(tmp_path: Path, layout: str):
    frame = sample.generate(4000, seed=4, incidents=("utilisation_zero",))
    if layout == "sample":
        arguments: dict = {"sample_rows": 4000, "sample_seed": 4, "sample_incidents": ["utilisation_zero"]}
    elif layout == "one source":
        frame.to_parquet(tmp_path / "log.parquet", index=False)
        arguments = {"reference_path": str(tmp_path / "log.parquet"), "current_start": "2026-02-16",
                     "reference_start": "2026-01-12"}
    else:
        reference, current = sample.split(frame, "2026-02-02")
        reference.to_parquet(tmp_path / "reference.parquet", index=False)
        current.to_parquet(tmp_path / "current.parquet", index=False)
        arguments = {"reference_path": str(tmp_path / "reference.parquet"),
                     "current_path": str(tmp_path / "current.parquet"), "current_end": "2026-02-23"}
    expected = read_windows(**arguments)
    got = read_windows(**arguments, backend="duckdb", backend_options={"threads": 1})
    assert got.engine.name == "duckdb" and got.complete and expected.engine.name == "pandas"
    for name in ("reference", "current"):
        pd.testing.assert_frame_equal(getattr(expected, name), getattr(got, name), check_dtype=False, obj=name)
    assert (got.reference_span, got.current_span, got.spec.to_dict()) == (
        expected.reference_span, expected.current_span, expected.spec.to_dict())
    pd.testing.assert_frame_equal(expected.overview(), got.overview())
    assert row_level_arguments(got) == row_level_arguments(expected)
    # the windows the backend counts hold the same rows
    assert got.engine.summarize(got.current_source, _profile(expected)).rows == len(expected.current)


def _profile(windows):
    from mlreport.profile import ReferenceProfile

    return ReferenceProfile.fit(windows.reference, ["income", "channel", "credit_utilisation"])


def test_beyond_row_sample_the_windows_hold_a_sample_of_every_row(tmp_path: Path):
    frame = sample.generate(4000, seed=4, incidents=("utilisation_zero",))
    reference, current = sample.split(frame, "2026-02-02")
    reference.to_parquet(tmp_path / "reference.parquet", index=False)
    current.to_parquet(tmp_path / "current.parquet", index=False)
    arguments = {"reference_path": str(tmp_path / "reference.parquet"),
                 "current_path": str(tmp_path / "current.parquet")}
    windows = read_windows(**arguments, backend="duckdb", row_sample=500, seed=1)
    assert not windows.complete and len(windows.reference) == len(windows.current) == 500
    assert windows.reference_rows.total == len(reference) and windows.current_rows.total == len(current)
    overview = windows.overview()
    assert overview.loc["current", "rows"] == len(current) and overview.loc["current", "rows in memory"] == 500
    assert row_level_arguments(windows) == {"id_column": None, "timestamp_column": None, "expected_end": None}
    # the pandas backend holds every row in memory whatever row_sample: the bound is for data counted elsewhere
    full = read_windows(**arguments, row_sample=500)
    assert full.complete and len(full.reference) == len(reference) and len(full.current) == len(current)


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths :func:`mlreport.data.load_table` is called with from now on."""
    reads: list[str] = []
    load_table = data.load_table

    def counted(path, **kwargs):
        reads.append(str(path))
        return load_table(path, **kwargs)

    monkeypatch.setattr(data, "load_table", counted)
    return reads


def test_the_pandas_backend_reads_each_file_once_and_records_it_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    frame = sample.generate(3000, seed=6)
    frame.to_parquet(tmp_path / "log.parquet", index=False)
    reads = _count_reads(monkeypatch)
    # one source cut into two windows: the file is read once, recorded once, and cut twice
    result = drift.analyse(drift.DriftParameters(
        reference_path=str(tmp_path / "log.parquet"), current_start="2026-02-16", classifier_sample=200,
    ))
    assert result.summary.inputs == result.inputs.to_list()  # every section ran: profile, summaries, row level
    assert reads == [str(tmp_path / "log.parquet")]
    assert [(r.name, r.rows, r.hash_of) for r in result.inputs] == [("data", 3000, "file")]
    assert result.backend.name == "pandas" and len(result.reference) + len(result.current) == 3000
    assert {op for op, _ in result.backend.timings} >= {"rows_in_memory", "fit_profile (exact)", "summarize_periods W"}


def test_two_files_are_read_once_each_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    reference, current = sample.split(sample.generate(3000, seed=6), "2026-02-02")
    reference.to_parquet(tmp_path / "reference.parquet", index=False)
    current.to_csv(tmp_path / "current.csv", index=False)
    reads = _count_reads(monkeypatch)
    windows = read_windows(reference_path=str(tmp_path / "reference.parquet"),
                           current_path=str(tmp_path / "current.csv"))
    assert reads == [str(tmp_path / "reference.parquet"), str(tmp_path / "current.csv")]
    assert [(r.name, r.rows) for r in windows.inputs] == [("reference", len(reference)), ("current", len(current))]
    assert windows.current["timestamp"].dtype == "datetime64[ns]"  # CSV text parsed as the windows are read
    # the profile and the summaries are counted on the frames already read
    engine = windows.engine
    engine.fit_profile(windows.reference_source, ["income"])
    engine.summarize_periods(windows.current_source, engine.fit_profile(windows.reference_source, ["income"]),
                             period="W", timestamp="timestamp")
    assert len(reads) == 2 and len(windows.inputs) == 2


def test_bad_timestamps_name_the_file_they_are_in(tmp_path: Path):
    reference, current = sample.split(sample.generate(1000, seed=6), "2026-02-02")
    current = current.assign(timestamp=current["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S"))
    current.loc[current.index[3], "timestamp"] = "31/02/2026 25:00"
    reference.to_parquet(tmp_path / "r.parquet", index=False)
    current.to_csv(tmp_path / "c.csv", index=False)
    for dates in ({}, {"current_start": "2026-02-09"}):  # read whole, or cut by dates first
        with pytest.raises(DataError, match=r"c\.csv: column 'timestamp' has 1 value") as info:
            read_windows(reference_path=str(tmp_path / "r.parquet"), current_path=str(tmp_path / "c.csv"), **dates)
        assert info.value.column == "timestamp"


def test_an_empty_current_file_is_read_and_an_empty_reference_refused(tmp_path: Path):
    reference, current = sample.split(sample.generate(1000, seed=6), "2026-02-02")
    reference.to_parquet(tmp_path / "r.parquet", index=False)
    current.iloc[:0].to_parquet(tmp_path / "c.parquet", index=False)
    reference.iloc[:0].to_parquet(tmp_path / "empty.parquet", index=False)
    for backend in ("pandas", "duckdb"):
        windows = read_windows(reference_path=str(tmp_path / "r.parquet"), current_path=str(tmp_path / "c.parquet"),
                               backend=backend)
        assert windows.current.empty and windows.current_rows.total == 0  # an integrity incident, not an error
        with pytest.raises(DataError, match=r"reference data .*empty\.parquet.* has no rows"):
            read_windows(reference_path=str(tmp_path / "empty.parquet"), current_path=str(tmp_path / "c.parquet"),
                         backend=backend)


def test_a_missing_timestamp_column_names_the_file_and_suggests_the_delimiter(tmp_path: Path):
    reference, current = sample.split(sample.generate(500, seed=6), "2026-02-02")
    reference.to_parquet(tmp_path / "r.parquet", index=False)
    (tmp_path / "c.csv").write_text(current.to_csv(index=False, sep=":"), encoding="utf-8")
    with pytest.raises(DataError, match=r"c\.csv: timestamp column 'timestamp' not found.*delimited by") as info:
        read_windows(reference_path=str(tmp_path / "r.parquet"), current_path=str(tmp_path / "c.csv"))
    assert info.value.column == "timestamp"


def test_load_windows_reads_through_the_backend_it_is_given(tmp_path: Path):
    engine = open_backend("pandas")
    windows = load_windows(drift.DriftParameters(sample_rows=2000), engine)
    assert windows.engine is engine and windows.inputs is engine.inputs and isinstance(engine, PandasBackend)
    assert windows.reference_source.name == windows.current_source.name == "sample"
    assert windows.reference_source.end == windows.current_source.start == pd.Timestamp("2026-02-02")


def test_the_sample_with_a_spec_naming_no_features_monitors_every_other_column(tmp_path: Path):
    """A spec giving roles only (no features) is completed from the sample as from a user's data (it used to
    leave the feature list empty and the drift table without its columns: KeyError 'ks_pvalue')."""
    spec = tmp_path / "roles.toml"
    spec.write_text('model = "roles-only"\ntimestamp = "timestamp"\nscore = "score"\ndecision = "decision"\n'
                    'target = "default_flag"\nid = "application_id"\nsegments = ["channel", "region"]\n')
    result = drift.analyse(drift.DriftParameters(sample_rows=3000, spec_path=str(spec)))
    whole = sample.generate(300)
    claimed = {"timestamp", "score", "decision", "default_flag", "application_id", "channel", "region"}
    expected = [c for c in whole.columns if c not in claimed]
    assert result.windows.spec.model == "roles-only" and result.windows.spec.features == expected
    drifted = result.drift_table
    assert set(expected) <= set(drifted["column"])


def test_the_pandas_backend_cuts_a_window_of_a_file_once_with_the_rows_of_a_fresh_cut(tmp_path: Path):
    from mlreport.backends import Source, as_source
    from mlreport.backends._source import _window_frame

    frame = sample.generate(3000, seed=5)
    frame.to_parquet(tmp_path / "log.parquet", index=False)
    engine = PandasBackend()
    whole = as_source(str(tmp_path / "log.parquet"))
    window = whole.window("timestamp", "2026-01-19", "2026-02-16")
    first = engine.role_rows(window)
    assert engine.role_rows(window) is first  # cut once, kept
    expected = _window_frame(Source(frame=engine.role_rows(whole), timestamp="timestamp",
                                    start=window.start, end=window.end))
    pd.testing.assert_frame_equal(first, expected)
    assert first["timestamp"].min() >= pd.Timestamp("2026-01-19") and first["timestamp"].max() < pd.Timestamp(
        "2026-02-16")
    other = engine.role_rows(whole.window("timestamp", "2026-02-16", None))  # another window: its own rows
    assert other["timestamp"].min() >= pd.Timestamp("2026-02-16") and len(other) + len(first) < len(frame)
