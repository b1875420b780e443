"""Parquet reading: category-like string columns decoded through Arrow dictionaries give the plain read's table."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlreport.data import arrow_to_pandas
from mlreport.data._read import _dictionary_strings, _read_parquet


def _table(rows: int) -> pa.Table:
    rng = np.random.default_rng(0)
    return pa.table({
        "channel": pa.array(rng.choice(np.array(["web", "branch", None], dtype=object), rows)),
        "id": pa.array([f"id-{i}" for i in range(rows)]),
        "region": pa.array(rng.choice(["north", "south"], rows)).cast(pa.large_string()),
        "amount": rng.normal(size=rows),
        "already_categorical": pa.array(rng.choice(["p", "q"], rows)).dictionary_encode(),
    })


@pytest.mark.parametrize(("rows", "options"), [
    (60_000, {"row_group_size": 20_000}), (60_000, {"use_dictionary": False}), (500, {"row_group_size": 7}),
    (250_000, {"row_group_size": 100_000}),  # large enough for the casts on two threads
])
def test_a_parquet_file_reads_as_the_plain_read_whatever_its_encoding(tmp_path, rows, options):
    table = _table(rows)
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, **options)
    plain = pq.read_table(path)
    for source in (str(path), path.read_bytes()):
        read = _read_parquet(source, str(path), None)
        assert read.schema == plain.schema
        assert read.equals(plain)
        assert read.to_pandas().equals(plain.to_pandas())
        # and as pandas: the same frame as pandas' default conversion
        frame = arrow_to_pandas(read)
        assert frame.equals(plain.to_pandas()) and frame.dtypes.equals(plain.to_pandas().dtypes)
        some = _read_parquet(source, str(path), ["amount", "channel"])
        assert some.equals(pq.read_table(path, columns=["amount", "channel"]))


def test_only_dictionary_coded_strings_with_few_values_are_read_as_dictionaries(tmp_path):
    path = tmp_path / "data.parquet"
    pq.write_table(_table(60_000), path, row_group_size=20_000)
    metadata = pq.read_metadata(path)
    # ids (every value distinct), numbers and columns stored as dictionaries already are read as they are
    assert _dictionary_strings(metadata, pq.read_schema(path)) == ["channel", "region"]
    pq.write_table(_table(60_000), path, use_dictionary=False)
    assert _dictionary_strings(pq.read_metadata(path), pq.read_schema(path)) == []



def test_read_file_records_the_hash_of_the_bytes_and_gives_the_plain_frame(tmp_path):
    """The hash computed beside the parse is the sha256 of the file; the frame is the plain read."""
    import hashlib
    import threading

    from mlreport import data
    from mlreport.errors import DataError

    table = _table(30_000)
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, row_group_size=10_000)
    log = data.InputLog()
    files = data.resolve_files(str(path))
    frame = data.read_file(files, files.files[0], name="reference", log=log)
    assert log[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    plain = pq.read_table(path).to_pandas()
    assert frame.equals(plain)
    assert list(frame.dtypes) == list(plain.dtypes)
    # A file that does not parse: the error names it, and no hashing thread is left behind.
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    files = data.resolve_files(str(broken))
    with pytest.raises(DataError, match=r"broken\.parquet"):
        data.read_file(files, files.files[0], log=data.InputLog())
    assert not [t for t in threading.enumerate() if t.name.startswith("mlreport-hash")]
