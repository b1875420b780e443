"""``https://`` and ``http://`` objects: a real HTTP server (the standard library's) on a free local port.

Both backends read the same object: pandas through fsspec's HTTP filesystem
(hashing the bytes it parsed), DuckDB through the same filesystem registered
with it, which needs ``modified()`` (fsspec's own raises, so before
``mlreport.data`` supplied it DuckDB could not open an HTTP URL at all).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from backend_cases import assert_summaries_equal
from servers import free_port

from mlreport import data, sample
from mlreport.backends import DuckDBBackend, PandasBackend
from mlreport.errors import DataError
from mlreport.profile import ReferenceProfile

pytest.importorskip("aiohttp", reason="fsspec's HTTP filesystem needs aiohttp (pip install 'mlreport[http]')")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    folder = tmp_path_factory.mktemp("site")
    frame = sample.generate(3000, seed=11, weeks=2)
    frame.to_parquet(folder / "decisions.parquet", index=False)
    frame.to_csv(folder / "decisions.csv", index=False)
    os.utime(folder / "decisions.parquet", (1_700_000_000, 1_700_000_000))
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", free_port()), functools.partial(_Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{server.server_address[1]}", "folder": folder, "frame": frame}
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("name", ["decisions.parquet", "decisions.csv"])
def test_an_http_object_is_read_as_the_local_file_and_recorded_with_its_hash(site, name: str):
    folder = site["folder"]
    assert isinstance(folder, Path)
    url = f"{site['base']}/{name}"
    log = data.InputLog()
    remote = data.load_table(url, name="current", log=log)
    pd.testing.assert_frame_equal(remote, data.load_table(folder / name))
    record = log[0].to_dict()
    body = (folder / name).read_bytes()
    assert record["path"] == url and record["hash_of"] == "file"
    assert record["sha256"] == hashlib.sha256(body).hexdigest() and record["bytes"] == len(body)


@pytest.mark.parametrize("name", ["decisions.parquet", "decisions.csv"])
def test_duckdb_reads_an_http_object_and_counts_as_pandas(site, name: str):
    url = f"{site['base']}/{name}"
    frame = site["frame"]
    assert isinstance(frame, pd.DataFrame)
    profile = ReferenceProfile.fit(frame.drop(columns=["timestamp"]))
    duck, pandas = DuckDBBackend(threads=1), PandasBackend()
    whole_duck, days_duck = duck.summarize_periods(url, profile, period="D", timestamp="timestamp")
    whole_pandas, days_pandas = pandas.summarize_periods(url, profile, period="D", timestamp="timestamp")
    assert whole_duck.rows == len(frame)
    assert_summaries_equal(whole_duck, whole_pandas)
    assert list(days_duck) == list(days_pandas) and len(days_duck) >= 14
    for day in days_duck:
        assert_summaries_equal(days_duck[day], days_pandas[day], day)
    record = duck.inputs[0].to_dict()
    folder = site["folder"]
    assert isinstance(folder, Path)
    assert record["path"] == url and record["bytes"] == (folder / name).stat().st_size


def test_modified_is_the_servers_last_modified(site):
    fs, path = data.open_filesystem(data.parse_location(f"{site['base']}/decisions.parquet"))
    assert fs.modified(path) == datetime.datetime.fromtimestamp(1_700_000_000, datetime.UTC)


def test_a_missing_http_object_is_a_clear_error(site):
    with pytest.raises(DataError, match=r"nothing\.parquet"):
        data.load_table(f"{site['base']}/nothing.parquet")
