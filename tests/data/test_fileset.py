"""Files named by a location: each once, compressed CSV read, partitions typed and pruned, decimals as numbers."""

from __future__ import annotations

import bz2
import decimal
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from backend_cases import assert_summaries_equal

from mlreport import data
from mlreport.backends import DuckDBBackend, PandasBackend, Source, as_source
from mlreport.errors import DataError
from mlreport.profile import ReferenceProfile


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "amount": rng.gamma(2.0, 100.0, n).round(2),
        "channel": rng.choice(["web", "app", "branch"], n),
        "count": rng.integers(0, 9, n),
    })


def test_a_glob_and_a_folder_through_a_symlink_loop_read_each_file_once(tmp_path: Path):
    root = tmp_path / "logs"
    (root / "day1").mkdir(parents=True)
    _frame(7).to_parquet(root / "day1" / "part.parquet")
    os.symlink(root, root / "day1" / "loop")  # logs/day1/loop -> logs: a cycle
    os.symlink(root / "day1", root / "again")  # a second path to the same real folder
    for text in (str(root / "**" / "*.parquet"), str(root)):
        files = data.resolve_files(text)
        assert [f.relative for f in files.files] == ["day1/part.parquet"], text
        log = data.InputLog()
        assert len(data.load_table(text, log=log)) == 7 and len(log) == 1


def test_a_recursive_glob_matches_any_depth_and_only_its_pattern(tmp_path: Path):
    for folder in ("a", "a/b", "a/b/c"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        _frame(2).to_csv(tmp_path / folder / "x.csv", index=False)
    (tmp_path / "a" / "notes.txt.bak").write_text("x")
    assert len(data.resolve_files(str(tmp_path / "**" / "*.csv")).files) == 3
    assert len(data.resolve_files(str(tmp_path / "a" / "*" / "x.csv")).files) == 1
    assert len(data.resolve_files(str(tmp_path / "a" / "**" / "c" / "*.csv")).files) == 1
    with pytest.raises(DataError, match="no file matches"):
        data.resolve_files(str(tmp_path / "**" / "*.parquet"))


def _compress(raw: bytes, codec: str) -> bytes:
    if codec == "bz2":
        return bz2.compress(raw)
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, codec) as stream:
        stream.write(raw)
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize("suffix", ["bz2", "zst", "gz"])
def test_compressed_csv_is_decompressed_in_every_backend(tmp_path: Path, suffix: str):
    frame = _frame(300)
    raw = frame.to_csv(index=False).encode()
    codec = {"bz2": "bz2", "zst": "zstd", "gz": "gzip"}[suffix]
    path = tmp_path / f"x.csv.{suffix}"
    path.write_bytes(_compress(raw, codec))
    log = data.InputLog()
    read = data.load_table(path, log=log)
    pd.testing.assert_frame_equal(read, frame)
    assert log[0].bytes == path.stat().st_size and log[0].rows == 300
    profile = ReferenceProfile.fit(frame)
    duck = DuckDBBackend(threads=1)
    assert_summaries_equal(duck.summarize(str(path), profile), PandasBackend().summarize(str(path), profile))


def _partitioned(root: Path) -> dict[str, pd.DataFrame]:
    written = {}
    for i, day in enumerate(["2026-03-12", "2026-03-13", "2026-03-14", "2026-03-15"]):
        for region in ("eu", "us"):
            folder = root / f"date={day}" / f"region={region}"
            folder.mkdir(parents=True)
            part = _frame(50 + i, seed=i)
            part.to_parquet(folder / "part-0.parquet")
            written[f"{day}/{region}"] = part
    (root / "_SUCCESS").write_text("")
    return written


def test_partition_folders_become_typed_columns(tmp_path: Path):
    _partitioned(tmp_path)
    (tmp_path / "date=__HIVE_DEFAULT_PARTITION__" / "region=eu").mkdir(parents=True)
    _frame(3).to_parquet(tmp_path / "date=__HIVE_DEFAULT_PARTITION__" / "region=eu" / "part-0.parquet")
    files = data.resolve_files(tmp_path)
    assert files.partitions == (("date", "timestamp"), ("region", "string"))
    frame = data.load_table(tmp_path)
    assert list(frame.columns) == ["amount", "channel", "count", "date", "region"]
    assert pd.api.types.is_datetime64_dtype(frame["date"].dtype)
    assert frame["date"].isna().sum() == 3
    assert frame["date"].dropna().min() == pd.Timestamp("2026-03-12")
    assert sorted(frame["region"].unique()) == ["eu", "us"]
    assert len(frame) == sum(50 + i for i in range(4)) * 2 + 3


def test_integer_partitions_and_a_key_that_is_also_a_column(tmp_path: Path):
    for year in (2025, 2026):
        folder = tmp_path / f"year={year}" / f"channel=web{year}"
        folder.mkdir(parents=True)
        _frame(4).to_parquet(folder / "p.parquet")
    files = data.resolve_files(tmp_path)
    assert dict(files.partitions) == {"year": "int", "channel": "string"}
    frame = data.load_table(tmp_path)
    assert frame["year"].dtype == np.int64 and sorted(frame["year"].unique()) == [2025, 2026]
    # the files' own channel column wins over the folder's
    assert set(frame["channel"]) <= {"web", "app", "branch"}


def test_a_window_on_a_partition_column_reads_only_its_partitions(tmp_path: Path):
    _partitioned(tmp_path)
    source = as_source(str(tmp_path), name="current").window("date", "2026-03-14", "2026-03-15")
    assert [f.relative for f in source.files.files] == [
        "date=2026-03-14/region=eu/part-0.parquet", "date=2026-03-14/region=us/part-0.parquet",
    ]
    everything = data.load_table(tmp_path)
    expected = everything[everything["date"] == pd.Timestamp("2026-03-14")].reset_index(drop=True)
    profile = ReferenceProfile.fit(everything.drop(columns=["date"]))
    pandas = PandasBackend()
    rows = pandas.rows_in_memory(source, 10_000).frame
    pd.testing.assert_frame_equal(rows.reset_index(drop=True), expected)
    assert [r.path for r in pandas.inputs] == [str(f.path) for f in source.files.files]  # 2 of 8 files opened
    duck = DuckDBBackend(threads=1)
    assert_summaries_equal(duck.summarize(source, profile), pandas.summarize(source, profile))
    assert duck.inputs[0].files == 2 and duck.inputs[0].bytes == source.files.bytes
    # a window outside every partition is an empty read, not an error
    empty = as_source(str(tmp_path)).window("date", "2027-01-01", None)
    assert len(empty.files.files) == 1 and PandasBackend().rows_in_memory(empty, 10).total == 0
    assert DuckDBBackend(threads=1).summarize(empty, profile).rows == 0


def test_periods_and_segments_over_partition_columns_equal_pandas(tmp_path: Path):
    _partitioned(tmp_path)
    everything = data.load_table(tmp_path)
    profile = ReferenceProfile.fit(everything.drop(columns=["date", "region"]))
    duck, pandas = DuckDBBackend(threads=1), PandasBackend()
    for backend in (duck, pandas):
        assert list(backend.summarize_by(str(tmp_path), profile, period="D", timestamp="date")) == [
            "2026-03-12", "2026-03-13", "2026-03-14", "2026-03-15",
        ]
    by_duck = duck.summarize_by(str(tmp_path), profile, by="region")
    by_pandas = pandas.summarize_by(str(tmp_path), profile, by="region")
    assert list(by_duck) == list(by_pandas) == ["eu", "us"]
    for region in by_duck:
        assert_summaries_equal(by_duck[region], by_pandas[region], region)
    assert duck.columns(str(tmp_path)) == pandas.columns(str(tmp_path))


def _money(n: int, scale: float, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    amounts = [decimal.Decimal(f"{v:.2f}") for v in rng.lognormal(6.0, 0.4, n) * scale]
    start = pd.Timestamp("2026-03-01") if scale == 1.0 else pd.Timestamp("2026-04-01")
    return pa.table({
        "timestamp": pa.array(start + pd.to_timedelta(np.arange(n) * 600, unit="s")),
        "loan_amount": pa.array(amounts, pa.decimal128(14, 2)),
        "age": pa.array(rng.integers(18, 80, n)),
        "channel": pa.array(rng.choice(["web", "app"], n)),
    })


def test_a_parquet_decimal_is_a_number_in_every_backend(tmp_path: Path):
    pq.write_table(_money(500, 1.0, 0), tmp_path / "money.parquet")
    frame = data.load_table(tmp_path / "money.parquet")
    assert frame["loan_amount"].dtype == np.float64
    duck = DuckDBBackend(threads=1)
    rows = duck.rows_in_memory(str(tmp_path / "money.parquet"), 10_000).frame
    assert rows["loan_amount"].dtype == np.float64
    np.testing.assert_allclose(rows["loan_amount"], frame["loan_amount"])
    profile = ReferenceProfile.fit(frame)
    assert profile.columns["loan_amount"].numeric_values
    assert_summaries_equal(
        duck.summarize(str(tmp_path / "money.parquet"), profile),
        PandasBackend().summarize(str(tmp_path / "money.parquet"), profile),
    )


def test_a_duckdb_decimal_table_is_a_number_as_in_pandas():
    """A DuckDB table with a DECIMAL(14,2) column (Source(table=...)) is fitted and counted as numbers."""
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"amount": np.round(rng.lognormal(7, 0.5, 3000), 2), "channel": rng.choice(["a", "b"], 3000)})
    duck = DuckDBBackend(threads=1)
    duck.con.register("money_frame", frame)
    duck.con.execute("CREATE TABLE money AS SELECT CAST(amount AS DECIMAL(14, 2)) AS amount, channel FROM money_frame")
    assert duck.con.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'money' AND column_name = 'amount'"
    ).fetchall() == [("DECIMAL(14,2)",)]
    table = Source(table="money")
    assert duck.head(table)["amount"].dtype == np.float64
    fitted = duck.fit_profile(table)
    assert fitted.columns["amount"].numeric_values
    profile = ReferenceProfile.fit(frame)
    assert_summaries_equal(duck.summarize(table, profile), PandasBackend().summarize(frame, profile))


@pytest.mark.parametrize("backend", ["pandas", "duckdb"])
def test_drift_finds_a_thirty_percent_rise_in_a_decimal_money_column(tmp_path: Path, backend: str):
    from mlreport import drift

    pq.write_table(_money(4000, 1.0, 1), tmp_path / "reference.parquet")
    pq.write_table(_money(4000, 1.3, 2), tmp_path / "current.parquet")
    result = drift.analyse(drift.DriftParameters(
        reference_path=str(tmp_path / "reference.parquet"), current_path=str(tmp_path / "current.parquet"),
        backend=backend,
    ))
    table = result.drift_table
    row = table[table["column"] == "loan_amount"].iloc[0] if "column" in table else table.loc["loan_amount"]
    assert row["kind"] == "numeric"
    subjects = {f.subject for f in result.findings if f.severity in ("warning", "incident")}
    assert "loan_amount" in subjects and result.summary.status != "ok"


def test_hourly_partitions_with_encoded_times_are_timestamps_and_pruned_by_the_hour(tmp_path: Path):
    for hour in range(6):
        stamp = f"2026-03-14T{hour:02d}%3A00%3A00"  # ':' percent-encoded, as writers do in folder names
        folder = tmp_path / f"hour_start={stamp}"
        folder.mkdir()
        _frame(10 + hour, seed=hour).to_csv(folder / "part.csv", index=False)
    files = data.resolve_files(tmp_path)
    assert files.partitions == (("hour_start", "timestamp"),)
    window = as_source(str(tmp_path)).window("hour_start", "2026-03-14T02:00", "2026-03-14T04:00")
    assert [f.relative.split("/")[0][-13:] for f in window.files.files] == ["T02%3A00%3A00", "T03%3A00%3A00"]
    pandas, duck = PandasBackend(), DuckDBBackend(threads=1)
    rows = pandas.rows_in_memory(window, 1000).frame
    assert len(rows) == 12 + 13 and sorted(rows["hour_start"].dt.hour.unique()) == [2, 3]
    assert [r.rows for r in pandas.inputs] == [12, 13]  # the window opened its two hours only
    profile = ReferenceProfile.fit(rows.drop(columns=["hour_start"]))
    hourly_duck = duck.summarize_by(str(tmp_path), profile, period="D", timestamp="hour_start")
    hourly_pandas = pandas.summarize_by(str(tmp_path), profile, period="D", timestamp="hour_start")
    assert list(hourly_duck) == list(hourly_pandas) == ["2026-03-14"]
    assert_summaries_equal(hourly_duck["2026-03-14"], hourly_pandas["2026-03-14"])
    assert len(pandas.inputs) == 6 and duck.inputs[0].files == 6  # then the whole day: each file read once
