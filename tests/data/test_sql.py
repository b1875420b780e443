"""SQL sources: SQLite for the fast unit tests, a real PostgreSQL server (``tests/servers.py``) for the rest."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backend_cases import assert_summaries_equal
from servers import PG_PASSWORD

from mlreport import data, sample
from mlreport.backends import DuckDBBackend, PandasBackend
from mlreport.errors import DataError
from mlreport.profile import ReferenceProfile

pytest.importorskip("sqlalchemy", reason="SQL sources need SQLAlchemy: pip install 'mlreport[sql]'")


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    frame = sample.generate(3000, seed=5, weeks=2)
    path = tmp_path_factory.mktemp("sqlite") / "decisions.db"
    with sqlite3.connect(path) as connection:
        frame.assign(timestamp=frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f")).to_sql(
            "decisions", connection, index=False
        )
    return path, frame


def test_a_table_and_a_query_are_read_and_recorded(sqlite_db):
    path, frame = sqlite_db
    log = data.InputLog()
    table = data.load_table(f"sql:sqlite:///{path} decisions", name="reference", log=log)
    assert len(table) == len(frame) and list(table.columns) == list(frame.columns)
    np.testing.assert_allclose(table["score"], frame["score"])
    query = f"sql:sqlite:///{path} select * from decisions where channel = 'web' order by application_id"
    web = data.load_table(query, name="current", log=log)
    assert len(web) == int((frame["channel"] == "web").sum())
    first, second = log.to_list()
    assert first["query"] == "SELECT * FROM decisions" and first["hash_of"] == "result"
    assert first["rows"] == len(frame) and first["columns"] == frame.shape[1] and first["bytes"] is None
    assert second["query"] == "select * from decisions where channel = 'web' order by application_id"
    assert second["sha256"] == data.frame_sha256(web) and second["path"] == query
    again = data.InputLog()
    data.load_table(query, log=again)
    assert again[0].sha256 == second["sha256"]  # the same rows, the same hash


def test_sql_errors_name_the_source(sqlite_db, tmp_path: Path):
    path, _ = sqlite_db
    with pytest.raises(DataError, match=r"sql:sqlite:///.*the query failed.*no such table"):
        data.load_table(f"sql:sqlite:///{path} missing_table")
    with pytest.raises(DataError, match=r"not a SQLAlchemy URL|no SQLAlchemy URL"):
        data.load_table("sql:not a url")
    with pytest.raises(DataError, match=r"database driver is not installed|Can.t load plugin"):
        data.load_table("sql:nosuchdialect://host/db t")


def test_sqlite_sources_run_read_only(tmp_path: Path):
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as connection:
        connection.execute("create table t (a integer)")
        connection.execute("insert into t values (1)")
    with pytest.raises(DataError, match="the query failed"):
        data.load_table(f"sql:sqlite:///{path} with d as (select 1) select * from t where a = (delete from t)")
    assert sqlite3.connect(path).execute("select count(*) from t").fetchone()[0] == 1


def test_every_backend_counts_a_query_as_pandas_does(sqlite_db):
    path, frame = sqlite_db
    location = f"sql:sqlite:///{path} select * from decisions order by timestamp"
    profile = ReferenceProfile.fit(frame.drop(columns=["timestamp"]))
    pandas, duck = PandasBackend(), DuckDBBackend(threads=1)
    assert_summaries_equal(duck.summarize(location, profile), pandas.summarize(location, profile))
    by_duck = duck.summarize_by(location, profile, period="D", timestamp="timestamp")
    by_pandas = pandas.summarize_by(location, profile, period="D", timestamp="timestamp")
    assert list(by_duck) == list(by_pandas)
    for day in by_duck:
        assert_summaries_equal(by_duck[day], by_pandas[day], day)
    for engine in (pandas, duck):
        assert [r.hash_of for r in engine.inputs] == ["result"]  # read once, however often counted


def test_volume_reads_a_query_as_the_same_rows_in_a_file_in_pandas_and_duckdb(sqlite_db, tmp_path: Path):
    """The volume report's reading (issue 15): a ``sql:`` data_path gives the findings a Parquet file gives."""
    from mlreport import volume

    path, frame = sqlite_db
    frame.to_parquet(tmp_path / "decisions.parquet", index=False)
    locations = {"sql": f"sql:sqlite:///{path} select * from decisions order by timestamp",
                 "file": str(tmp_path / "decisions.parquet")}
    found = {}
    for kind, location in locations.items():
        for backend in ("pandas", "duckdb"):
            result = volume.analyse(volume.VolumeParameters(data_path=location, backend=backend, baseline_weeks=1))
            found[kind, backend] = [(f.check, f.subject, f.severity, f.message) for f in result.findings]
            [record] = result.summary.inputs
            assert record["rows"] == len(frame)
            assert record["hash_of"] == ("result" if kind == "sql" else "file")
    assert found["sql", "pandas"] and len({tuple(v) for v in found.values()}) == 1


# -- PostgreSQL -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lending(postgres_server):
    """Two windows of decisions in PostgreSQL, with NUMERIC money, a DATE and a TIMESTAMPTZ column."""
    frame = sample.generate(4000, seed=11, weeks=4)
    rng = np.random.default_rng(1)
    frame["balance"] = (rng.lognormal(7, 0.5, len(frame)) * np.where(frame.index >= 2000, 1.3, 1.0)).round(2)
    postgres_server.execute(
        "DROP TABLE IF EXISTS decisions",
        "CREATE TABLE decisions (application_id text, ts timestamptz, day date, channel text, "
        "income double precision, balance numeric(14, 2), score double precision, decision text, half int)",
        "DROP TABLE IF EXISTS audit",
        "CREATE TABLE audit (n int)",
        "CREATE OR REPLACE FUNCTION bump() RETURNS int LANGUAGE sql AS 'insert into audit values (1) returning 1'",
    )
    with postgres_server.connect() as connection, connection.cursor() as cursor:
        with cursor.copy("COPY decisions FROM STDIN") as copy:
            for i, row in enumerate(frame.itertuples()):
                copy.write_row((
                    row.application_id, row.timestamp.tz_localize("UTC"), row.timestamp.date(), row.channel,
                    row.income, f"{row.balance:.2f}", row.score, row.decision, int(i >= 2000),
                ))
        connection.commit()
    return frame


def _pg(server, rest: str) -> str:
    return f"sql:{server.url} {rest}"


def test_postgres_needs_the_password_from_the_environment(postgres_server, lending, monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.delenv(data.PASSWORD_VARIABLE, raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    with pytest.raises(DataError) as info:
        data.load_table(_pg(postgres_server, "decisions"))
    assert "the query failed" in str(info.value) and PG_PASSWORD not in str(info.value)
    for variable in ("PGPASSWORD", data.PASSWORD_VARIABLE):
        with monkeypatch.context() as scoped:
            scoped.setenv(variable, PG_PASSWORD)
            assert len(data.load_table(_pg(postgres_server, "public.decisions"))) == len(lending)


def test_postgres_types_are_read_as_numbers_and_timestamps(postgres_server, lending, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", PG_PASSWORD)
    log = data.InputLog()
    frame = data.load_table(_pg(postgres_server, "select * from decisions order by application_id"), log=log)
    assert frame["balance"].dtype == np.float64  # numeric(14, 2): a number
    assert pd.api.types.is_datetime64_any_dtype(frame["day"].dtype)
    assert isinstance(frame["ts"].dtype, pd.DatetimeTZDtype)
    expected = lending.sort_values("application_id")["balance"].to_numpy()
    np.testing.assert_allclose(frame["balance"].to_numpy(), expected)
    assert log[0].rows == len(lending) and PG_PASSWORD not in json.dumps(log.to_list())


def test_a_postgres_source_is_read_only(postgres_server, lending, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", PG_PASSWORD)
    with pytest.raises(DataError, match="the query failed"):
        data.load_table(_pg(postgres_server, "with gone as (delete from decisions returning *) select * from gone"))
    with pytest.raises(DataError, match="read-only transaction"):
        data.load_table(_pg(postgres_server, "select bump() as written"))
    with postgres_server.connect() as connection:
        assert connection.execute("select count(*) from decisions").fetchone()[0] == len(lending)
        assert connection.execute("select count(*) from audit").fetchone()[0] == 0


@pytest.mark.parametrize("backend", ["pandas", "duckdb"])
def test_drift_between_two_postgres_queries_finds_the_money_rise(postgres_server, lending, monkeypatch, backend):
    from mlreport import drift

    monkeypatch.setenv("PGPASSWORD", PG_PASSWORD)
    columns = "application_id, ts, channel, income, balance, score, decision"
    result = drift.analyse(drift.DriftParameters(
        reference_path=_pg(postgres_server, f"select {columns} from decisions where half = 0 order by ts"),
        current_path=_pg(postgres_server, f"select {columns} from decisions where half = 1 order by ts"),
        backend=backend, timestamp_column="ts",
    ))
    flagged = {f.subject for f in result.findings if f.severity in ("warning", "incident")}
    assert "balance" in flagged
    inputs = result.summary.inputs
    assert [entry["hash_of"] for entry in inputs] == ["result", "result"]
    assert inputs[0]["rows"] == 2000 and inputs[0]["query"].endswith("where half = 0 order by ts")
    assert PG_PASSWORD not in json.dumps(inputs)
