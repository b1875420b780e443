"""DuckDB: independent queries over files run on several cursors at once, with the same results as one after another.

A Parquet file of one row group is read by one DuckDB thread per query; the
fit's per-column queries, its stats scan (split by columns) and the decision
counts' per-segment scans run on one cursor per thread instead
(``mlreport.backends._duckdb_pool``). The results are checked against pandas
(``ReferenceProfile.fit``, ``count_decisions``: numpy over the rows) and
against the same backend on one thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from backend_cases import assert_counts_equal, assert_profiles_equal

from mlreport.backends import DuckDBBackend
from mlreport.backends._duckdb_pool import QueryPool
from mlreport.counts import count_decisions
from mlreport.errors import DataError
from mlreport.profile import ReferenceProfile
from mlreport.sample import generate
from mlreport.volume import VolumeConfig


def test_pool_runs_items_at_once_each_on_its_own_cursor_and_keeps_their_order():
    con = duckdb.connect(config={"threads": 2})
    con.execute("SET TimeZone = 'America/New_York'")
    pool = QueryPool(con, 2)
    both = threading.Barrier(2, timeout=20)  # passes only if two items run at the same time
    seen: list[object] = []

    def work(item: int) -> tuple[int, str]:
        if item < 2:
            both.wait()
        cursor = pool.connection()
        seen.append(cursor)
        value, zone = cursor.execute(f"SELECT {item} * 10, current_setting('TimeZone')").fetchall()[0]
        return int(value), str(zone)

    got = pool.map(work, list(range(7)))
    assert got == [(i * 10, "America/New_York") for i in range(7)]  # in item order, the connection's zone
    assert all(cursor is not con for cursor in seen) and len({id(c) for c in seen}) == 2
    assert pool.connection() is con  # outside map: the connection itself
    # one worker, or a single item: on the connection, in this thread
    assert QueryPool(con, 1).map(lambda i: (i, threading.current_thread()), [1, 2]) == [
        (1, threading.current_thread()), (2, threading.current_thread())
    ]


def test_pool_raises_the_first_error_in_item_order_and_starts_no_more():
    con = duckdb.connect(config={"threads": 2})
    pool = QueryPool(con, 2)
    started: list[int] = []

    def work(item: int) -> int:
        started.append(item)
        if item in (1, 2):
            raise DataError(f"item {item} is bad")
        return int(pool.connection().execute("SELECT 1").fetchall()[0][0])

    with pytest.raises(DataError, match="item 1 is bad"):
        pool.map(work, list(range(200)))
    assert len(started) < 200
    assert pool.map(lambda i: i + 1, [1, 2, 3]) == [2, 3, 4]  # usable again


def one_row_group(path: Path, frame: pd.DataFrame) -> Path:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path, row_group_size=len(frame) + 1)
    assert pq.ParquetFile(path).metadata.num_row_groups == 1
    return path


@pytest.fixture(scope="module")
def window(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    rng = np.random.default_rng(21)
    n = 90_000  # over WHOLE_VALUES: the columns are histogrammed, then the wanted buckets fetched
    frame = pd.DataFrame({
        "amount": np.round(rng.lognormal(8, 1.2, n), 2),
        "rate": rng.normal(0.1, 0.05, n),
        "grade": rng.choice(["A", "B", "C", "D", "E"], n, p=[0.3, 0.3, 0.2, 0.15, 0.05]),
        "tenure": rng.integers(0, 8, n).astype(float),  # few integers: categorical
        "age": rng.integers(18, 90, n),
    })
    frame.loc[rng.random(n) < 0.02, "amount"] = np.nan
    frame.loc[rng.random(n) < 0.01, "rate"] = np.inf
    frame.loc[rng.random(n) < 0.03, "grade"] = None
    return frame, one_row_group(tmp_path_factory.mktemp("pool") / "window.parquet", frame)


@pytest.fixture
def workers(monkeypatch) -> list[int]:
    """How many workers each QueryPool.map of the test ran its items on (the pool's own map, spied on)."""
    seen: list[int] = []
    original = QueryPool.map

    def spy(self, function, items, **kwargs):
        seen.append(min(kwargs.get("workers") or self.workers, len(items)))
        return original(self, function, items, **kwargs)

    monkeypatch.setattr(QueryPool, "map", spy)
    return seen


def test_fit_of_one_row_group_runs_its_columns_at_once_and_equals_pandas_and_one_thread(window, workers):
    frame, path = window
    two = DuckDBBackend(threads=2)
    got = two.fit_profile(str(path))
    assert workers and max(workers) == 2, "the columns' queries ran one after another"
    expected = ReferenceProfile.fit(frame)
    assert_profiles_equal(got, expected)
    workers.clear()
    alone = DuckDBBackend(threads=1).fit_profile(str(path))
    assert workers and max(workers) == 1
    assert_profiles_equal(alone, got)
    assert got.settings["fit"] == alone.settings["fit"]


def test_csv_and_frames_are_queried_on_the_connection_only(window, tmp_path, workers):
    """A cursor does not see the connection's temporary tables (CSV) or registered frames."""
    frame, _ = window
    small = frame.head(5000)
    csv = tmp_path / "window.csv"
    small.to_csv(csv, index=False)
    backend = DuckDBBackend(threads=2)
    expected = ReferenceProfile.fit(small)
    assert_profiles_equal(backend.fit_profile(str(csv)), expected)
    assert_profiles_equal(backend.fit_profile(small), expected)
    assert workers and max(workers) == 1


def test_decision_counts_of_one_row_group_equal_pandas(tmp_path):
    frame = generate(30_000, seed=4, incidents=("channel_outage",))
    frame["flag"] = (np.random.default_rng(1).random(len(frame)) < 0.05).astype(float)
    path = one_row_group(tmp_path / "log.parquet", frame)
    backend = DuckDBBackend(threads=2)
    for roles in (
        {"segment_columns": ["channel", "product"], "score_column": "score"},
        {"segment_columns": ["channel"], "override_column": "flag"},
        {"score_column": "score"},
    ):
        common = {"timestamp_column": "timestamp", "decision_column": "decision", **roles}
        for config in (VolumeConfig(period="H"), VolumeConfig(period="D", timezone="Europe/London")):
            assert_counts_equal(count_decisions(frame, config, **common), backend.decision_counts(
                str(path), config, **common))


def test_score_band_edges_of_one_row_group_are_numpys_quantiles(tmp_path):
    """The score bands' scan runs beside the segments' scans: its edges are numpy's linear quantiles of the
    baseline's finite scores (an independent reference) and its counts pandas'."""
    frame = generate(20_000, seed=8)
    rng = np.random.default_rng(2)
    frame["score"] = np.round(rng.beta(2, 5, len(frame)), 3)  # ties
    frame.loc[frame.index[::41], "score"] = np.nan
    path = one_row_group(tmp_path / "scores.parquet", frame)
    config = VolumeConfig(period="D", score_bands=7)
    roles = {"timestamp_column": "timestamp", "decision_column": "decision", "score_column": "score",
             "segment_columns": ["channel"]}
    got = DuckDBBackend(threads=2).decision_counts(str(path), config, **roles)
    assert_counts_equal(count_decisions(frame, config, **roles), got)
    baseline = frame[(frame["timestamp"] >= got.periods[0]) & (frame["timestamp"] < got.periods[got.baseline_periods])]
    scores = baseline["score"].to_numpy()
    want = np.unique(np.quantile(scores[np.isfinite(scores)], np.linspace(0, 1, 8)[1:-1]))
    np.testing.assert_array_equal(got.score_edges, want)


@pytest.mark.parametrize("batch", [16, 2])
def test_label_counts_of_every_labelled_column_from_one_scan_equal_pandas(tmp_path, monkeypatch, batch):
    """Strings, booleans and missing labels counted with GROUPING SETS (in scans of ``batch`` columns) give
    pandas' categories, counts and reference summaries; no column is counted by a query of its own."""
    from mlreport.backends import _duckdb_fit

    monkeypatch.setattr(_duckdb_fit, "LABEL_BATCH", batch)
    rng = np.random.default_rng(6)
    n = 30_000
    frame = pd.DataFrame({
        "grade": pd.Series(rng.choice(["A", "B", "C", "D"], n), dtype=object),
        "city": pd.Series(rng.choice([f"c{i}" for i in range(70)], n), dtype=object),  # over max_categories
        "flag": pd.Series(rng.random(n) < 0.3, dtype=object),
        "amount": rng.normal(100, 10, n),
    })
    frame.loc[rng.random(n) < 0.05, "grade"] = None
    frame.loc[rng.random(n) < 0.05, "flag"] = None
    frame.loc[rng.random(n) < 0.01, "city"] = None
    path = one_row_group(tmp_path / "labels.parquet", frame)
    asked: list[str] = []
    original = _duckdb_fit.DuckDBFit._sql

    def spy(self, sql):
        asked.append(sql)
        return original(self, sql)

    monkeypatch.setattr(_duckdb_fit.DuckDBFit, "_sql", spy)
    got = DuckDBBackend(threads=2).fit_profile(str(path), ["grade", "city", "flag", "amount"])
    # pandas on the file as it reads it (strings as str, booleans with missing values as objects)
    expected = ReferenceProfile.fit(pd.read_parquet(path), ["grade", "city", "flag", "amount"])
    assert_profiles_equal(expected, got)
    for name in ("grade", "city", "flag"):
        have, want = got.reference.columns[name], expected.reference.columns[name]
        np.testing.assert_array_equal(have.counts, want.counts, err_msg=name)
        assert (have.n, have.missing) == (want.n, want.missing), name
    assert sum("GROUPING SETS" in sql for sql in asked) == -(-3 // batch)
    assert not any(sql.startswith("SELECT k, count(*)") for sql in asked)
