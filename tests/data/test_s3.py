"""Object storage against a real S3 API: moto's server on a free local port (``tests/servers.py``).

Reading s3:// URLs in every backend, partitions pruned (counted in objects
opened), provenance with ETags, versions and hashes, credentials only from the
environment and never in a record.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backend_cases import assert_summaries_equal
from servers import S3_SECRET

from mlreport import data, sample
from mlreport.backends import DuckDBBackend, PandasBackend, as_source
from mlreport.errors import DataError
from mlreport.profile import ReferenceProfile


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bucket(s3_server):
    """A versioned bucket holding the sample split into reference and current, and a date-partitioned log."""
    client = s3_server.client()
    name = "mlreport-data"
    client.create_bucket(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    frame = sample.generate(6000, seed=3, weeks=4)
    reference, current = sample.split(frame, frame["timestamp"].min().floor("D") + pd.Timedelta(weeks=2))
    client.put_object(Bucket=name, Key="card/reference.parquet", Body=_parquet(reference))
    client.put_object(Bucket=name, Key="card/current.parquet", Body=_parquet(current))
    client.put_object(Bucket=name, Key="card/current.csv", Body=current.to_csv(index=False).encode())
    days = frame.assign(day=frame["timestamp"].dt.strftime("%Y-%m-%d"))
    for day, part in days.groupby("day"):
        key = f"log/date={day}/part-0.parquet"
        client.put_object(Bucket=name, Key=key, Body=_parquet(part.drop(columns=["day"])))
    client.put_object(Bucket=name, Key="log/_SUCCESS", Body=b"")
    return {
        "name": name, "frame": frame, "reference": reference, "current": current,
        "days": sorted(days["day"].unique()),
    }


def test_an_s3_object_is_read_and_recorded_with_its_etag_version_and_hash(bucket, s3_server):
    url = f"s3://{bucket['name']}/card/current.parquet"
    log = data.InputLog()
    frame = data.load_table(url, name="current", log=log)
    pd.testing.assert_frame_equal(frame, bucket["current"].reset_index(drop=True), check_dtype=False)
    record = log[0].to_dict()
    body = s3_server.client().get_object(Bucket=bucket["name"], Key="card/current.parquet")
    assert record["path"] == url and record["hash_of"] == "file"
    assert record["sha256"] == hashlib.sha256(body["Body"].read()).hexdigest()
    assert record["etag"] == body["ETag"].strip('"') and record["version"] == body["VersionId"]
    assert record["bytes"] == body["ContentLength"] and record["rows"] == len(bucket["current"])
    assert S3_SECRET not in json.dumps(log.to_list())


def test_csv_on_s3_reads_as_the_local_file(bucket, tmp_path: Path):
    bucket["current"].to_csv(tmp_path / "current.csv", index=False)
    remote = data.load_table(f"s3://{bucket['name']}/card/current.csv")
    pd.testing.assert_frame_equal(remote, data.load_table(tmp_path / "current.csv"))


def test_missing_objects_and_buckets_are_clear_errors(bucket):
    with pytest.raises(DataError, match="no such object"):
        data.load_table(f"s3://{bucket['name']}/card/nothing.parquet")
    with pytest.raises(DataError, match="no object matches"):
        data.load_table(f"s3://{bucket['name']}/card/*.pq")


def _count_opens(monkeypatch) -> list[str]:
    import s3fs

    opened: list[str] = []
    original = s3fs.S3FileSystem._open

    def counting(self, path, *args, **kwargs):
        opened.append(str(path))
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "_open", counting)
    return opened


@pytest.mark.parametrize("backend", ["pandas", "duckdb"])
def test_a_date_window_on_a_partitioned_prefix_opens_only_its_partitions(bucket, monkeypatch, backend):
    url = f"s3://{bucket['name']}/log/"
    days = bucket["days"]
    first, last = days[10], days[13]  # [first, last): three days of the log
    source = as_source(url, name="current").window("date", first, last)
    assert len(source.files.files) == 3 and source.files.partitions == (("date", "timestamp"),)
    frame = bucket["frame"]
    expected = frame[(frame["timestamp"] >= first) & (frame["timestamp"] < last)]
    profile = ReferenceProfile.fit(frame.drop(columns=["timestamp"]))
    opened = _count_opens(monkeypatch)
    engine = PandasBackend() if backend == "pandas" else DuckDBBackend(threads=1)
    got = engine.summarize(source, profile)
    assert got.rows == len(expected)
    assert {p.split("/log/")[1].split("/")[0] for p in opened} == {f"date={d}" for d in days[10:13]}
    assert_summaries_equal(got, profile.summarize(expected.drop(columns=["timestamp"])))
    assert engine.inputs[0].to_dict()["path"].startswith("s3://mlreport-data/log")


def test_duckdb_reads_s3_through_fsspec_and_records_the_listing(bucket):
    reference = f"s3://{bucket['name']}/card/reference.parquet"
    current = f"s3://{bucket['name']}/card/current.parquet"
    profile = ReferenceProfile.fit(bucket["reference"])
    duck, pandas = DuckDBBackend(threads=1), PandasBackend()
    for period in ("D", "W"):
        whole_duck, parts_duck = duck.summarize_periods(current, profile, period=period, timestamp="timestamp")
        whole_pandas, parts_pandas = pandas.summarize_periods(current, profile, period=period, timestamp="timestamp")
        assert_summaries_equal(whole_duck, whole_pandas)
        assert list(parts_duck) == list(parts_pandas)
    fitted = duck.fit_profile(reference)
    assert fitted.rows == len(bucket["reference"])
    record = duck.inputs[0].to_dict()
    assert record["hash_of"] == "objects" and record["etag"] and record["version"]
    files = data.resolve_files(current)
    assert record["sha256"] == data.objects_sha256(files)
    line = f"{files.files[0].etag} {files.files[0].version} {files.files[0].bytes} current.parquet\n"
    assert record["sha256"] == hashlib.sha256(line.encode()).hexdigest()


def test_rewriting_an_object_changes_its_recorded_version_and_hash(bucket, s3_server):
    client = s3_server.client()
    key = "card/rewritten.parquet"
    client.put_object(Bucket=bucket["name"], Key=key, Body=_parquet(pd.DataFrame({"a": [1.0, 2.0]})))
    url = f"s3://{bucket['name']}/{key}"
    before = data.record_file(url, name="x", rows=None, columns=None)
    client.put_object(Bucket=bucket["name"], Key=key, Body=_parquet(pd.DataFrame({"a": [1.0, 3.0]})))
    import fsspec

    fsspec.filesystem("s3", version_aware=True).invalidate_cache()
    after = data.record_file(url, name="x", rows=None, columns=None)
    assert before.version != after.version and before.sha256 != after.sha256 and before.etag != after.etag
    assert data.load_table(url)["a"].tolist() == [1.0, 3.0]


def test_drift_on_s3_is_the_same_from_pandas_and_duckdb(bucket):
    from mlreport import drift

    parameters = {
        "reference_path": f"s3://{bucket['name']}/card/reference.parquet",
        "current_path": f"s3://{bucket['name']}/card/current.parquet",
    }
    results = {b: drift.analyse(drift.DriftParameters(**parameters, backend=b)) for b in ("pandas", "duckdb")}
    tables = {b: r.drift_table for b, r in results.items()}
    assert results["pandas"].summary.status == results["duckdb"].summary.status
    np.testing.assert_allclose(
        tables["pandas"]["psi"].to_numpy(dtype=float), tables["duckdb"]["psi"].to_numpy(dtype=float), rtol=1e-9
    )
    paths = [entry["path"] for entry in results["duckdb"].summary.inputs]
    assert parameters["reference_path"] in paths and parameters["current_path"] in paths


def test_current_sha256_rechecks_objects_and_their_listing(bucket, s3_server):
    client = s3_server.client()
    key = "recheck/x.parquet"
    client.put_object(Bucket=bucket["name"], Key=key, Body=_parquet(pd.DataFrame({"a": [1.0]})))
    url = f"s3://{bucket['name']}/{key}"
    log = data.InputLog()
    data.load_table(url, log=log)
    listing = data.record_file(url, name="x", rows=1, columns=1).to_dict()
    assert data.current_sha256(log[0].to_dict()) == log[0].sha256
    assert data.current_sha256(listing) == listing["sha256"]
    client.put_object(Bucket=bucket["name"], Key=key, Body=_parquet(pd.DataFrame({"a": [2.0]})))
    import fsspec

    fsspec.filesystem("s3", version_aware=True).invalidate_cache()
    assert data.current_sha256(log[0].to_dict()) not in (None, log[0].sha256)
    assert data.current_sha256(listing) not in (None, listing["sha256"])
