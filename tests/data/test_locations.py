"""Data locations: local paths, URLs and sql: sources parsed; credentials refused and never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlreport import data
from mlreport.driver import declared_parameters, notebook_path, validate_parameters
from mlreport.errors import DataError, ParameterError


@pytest.mark.parametrize(
    ("text", "kind", "protocol", "target"),
    [
        ("data/x.parquet", "local", "file", "data/x.parquet"),
        ("file:///tmp/a%20b/x.csv", "local", "file", "/tmp/a b/x.csv"),
        ("s3://bucket/decisions/", "url", "s3", "s3://bucket/decisions/"),
        ("gs://bucket/x.parquet", "url", "gs", "gs://bucket/x.parquet"),
        ("abfs://container/x/", "url", "abfs", "abfs://container/x/"),
        ("https://example.org/x.parquet", "url", "https", "https://example.org/x.parquet"),
        ("simplecache::s3://bucket/x.parquet", "url", "s3", "simplecache::s3://bucket/x.parquet"),
        ("sql:sqlite:////tmp/x.db decisions", "sql", "sqlite", "sqlite:////tmp/x.db"),
    ],
)
def test_locations_are_parsed_by_kind(text, kind, protocol, target):
    location = data.parse_location(text)
    assert (location.kind, location.protocol, location.target) == (kind, protocol, target)


def test_a_sql_location_names_a_table_or_one_read_query():
    table = data.parse_location("sql:postgresql+psycopg://report@db:5432/lending public.decisions")
    assert table.table == "public.decisions" and table.query == "" and table.kind == "sql"
    query = data.parse_location("sql:sqlite:///x.db  SELECT a, b FROM t WHERE day >= '2026-03-01';")
    assert query.query == "SELECT a, b FROM t WHERE day >= '2026-03-01'" and query.table == ""
    assert data.parse_location("sql:sqlite:///x.db with t as (select 1 as a) select * from t").query.startswith("with")
    assert data.sql_location("sqlite:///x.db", table="t") == "sql:sqlite:///x.db t"
    for bad, fragment in [
        ("sql:", "no SQLAlchemy URL"),
        ("sql:sqlite:///x.db", "no table or query"),
        ("sql:sqlite:///x.db delete from t", "neither a table name nor a query"),
        ("sql:sqlite:///x.db select 1; drop table t", "one query"),
        ("sql:decisions", "no SQLAlchemy URL"),
    ]:
        with pytest.raises(DataError, match=fragment):
            data.parse_location(bad)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://report:hunter2@db/lending", "postgresql://report:***@db/lending"),
        ("s3://AKIA:wJalr@bucket/x.parquet", "s3://AKIA:***@bucket/x.parquet"),
        ("https://h/x.csv?X-Amz-Signature=abc&x=1", "https://h/x.csv?X-Amz-Signature=***&x=1"),
        ("https://acct.blob.core.windows.net/c/x.csv?sv=2024&sig=abc", "https://acct.blob.core.windows.net/c/x.csv?sv=2024&sig=***"),
        ("postgresql://report@db/lending", "postgresql://report@db/lending"),
        ("data/x.csv", "data/x.csv"),
    ],
)
def test_redact_strips_passwords_and_signatures(url, shown):
    assert data.redact(url) == shown
    assert "hunter2" not in data.redact(url) and "wJalr" not in data.redact(url)


def test_credentials_in_a_location_are_refused_with_where_they_belong():
    for value in [
        "sql:postgresql://report:hunter2@db/lending decisions",
        "s3://AKIA:wJalr@bucket/x.parquet",
        "https://bucket.s3.amazonaws.com/x.parquet?X-Amz-Credential=a&X-Amz-Signature=b",
    ]:
        problem = data.credentials_problem(value)
        assert problem and "environment" in problem
        assert "hunter2" not in problem and "wJalr" not in problem
        with pytest.raises(DataError) as info:
            data.parse_location(value)
        assert "hunter2" not in str(info.value) and "wJalr" not in str(info.value)
    assert data.credentials_problem("sql:postgresql://report@db/lending decisions") is None
    assert data.credentials_problem("data/2026-03/*.parquet") is None


def test_a_password_in_any_parameter_is_refused_before_anything_runs():
    declared = declared_parameters(notebook_path("drift"))
    with pytest.raises(ParameterError) as info:
        validate_parameters({"reference_path": "sql:postgresql://report:hunter2@db/x t"}, declared, analysis="drift")
    assert "reference_path" in str(info.value) and "hunter2" not in str(info.value)
    assert "PGPASSWORD" in str(info.value)
    ok = validate_parameters({"reference_path": "sql:postgresql://report@db/x t"}, declared, analysis="drift")
    assert ok["reference_path"] == "sql:postgresql://report@db/x t"


def test_a_missing_driver_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_gcsfs(name, *args, **kwargs):
        if name.startswith("gcsfs"):
            raise ImportError(name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_gcsfs)
    with pytest.raises(DataError, match=r"gcsfs.*mlreport\[gcs\]"):
        data.resolve_files("gs://bucket/x.parquet")


def test_file_urls_read_local_files(tmp_path: Path):
    import pandas as pd

    pd.DataFrame({"a": [1, 2]}).to_parquet(tmp_path / "x.parquet")
    log = data.InputLog()
    frame = data.load_table((tmp_path / "x.parquet").as_uri(), log=log)
    assert frame["a"].tolist() == [1, 2] and log[0].path == str(tmp_path / "x.parquet")


def test_current_sha256_rechecks_every_kind_of_record(tmp_path: Path):
    import sqlite3

    import pandas as pd

    pd.DataFrame({"a": [1, 2]}).to_parquet(tmp_path / "x.parquet")
    (tmp_path / "parts").mkdir()
    for i in range(2):
        pd.DataFrame({"a": [i]}).to_parquet(tmp_path / "parts" / f"{i}.parquet")
    with sqlite3.connect(tmp_path / "x.db") as connection:
        connection.execute("create table t (a integer)")
        connection.execute("insert into t values (1), (2)")
    log = data.InputLog()
    data.load_table(tmp_path / "x.parquet", log=log)
    data.record_file(str(tmp_path / "parts"), name="p", rows=2, columns=1, log=log)
    data.load_table(f"sql:sqlite:///{tmp_path / 'x.db'} select a from t order by a", log=log)
    records = log.to_list()
    assert [data.current_sha256(r) for r in records] == [r["sha256"] for r in records]
    relative = {**records[0], "path": "x.parquet"}
    assert data.current_sha256(relative, base=tmp_path) == records[0]["sha256"]
    pd.DataFrame({"a": [1, 3]}).to_parquet(tmp_path / "x.parquet")
    pd.DataFrame({"a": [5]}).to_parquet(tmp_path / "parts" / "2.parquet")
    with sqlite3.connect(tmp_path / "x.db") as connection:
        connection.execute("insert into t values (3)")
    assert all(data.current_sha256(r) not in (None, r["sha256"]) for r in records)
    (tmp_path / "x.parquet").unlink()
    assert data.current_sha256(records[0]) is None
    with pytest.raises(ValueError, match="regenerated"):  # main's convention (record/_inputs.py relies on it)
        data.current_sha256({"hash_of": "content", "path": "built-in sample"})
