"""Loading CSV and Parquet with provenance and clear errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlreport import data
from mlreport.errors import DataError


def _frame(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"a": np.arange(n), "b": [f"x{i}" for i in range(n)]})


def test_parquet_and_csv_round_trip_with_provenance(tmp_path: Path):
    _frame().to_parquet(tmp_path / "f.parquet")
    _frame().to_csv(tmp_path / "f.csv", index=False)
    log = data.InputLog()
    assert data.load_table(tmp_path / "f.parquet", name="reference", log=log)["a"].tolist() == list(range(5))
    assert data.load_table(tmp_path / "f.csv", name="current", log=log)["b"].tolist()[-1] == "x4"
    recorded = log.to_list()
    assert [r["name"] for r in recorded] == ["reference", "current"] and recorded[0]["rows"] == 5
    assert recorded[1]["sha256"] == hashlib.sha256((tmp_path / "f.csv").read_bytes()).hexdigest()


def test_glob_and_partitioned_folder(tmp_path: Path):
    for day in ("2026-03-13", "2026-03-14"):
        folder = tmp_path / f"date={day}"
        folder.mkdir()
        _frame(3).to_parquet(folder / "part-0.parquet")
    log = data.InputLog()
    assert len(data.load_table(tmp_path, log=log)) == 6
    assert len(data.load_table(str(tmp_path / "date=*" / "*.parquet"), log=log)) == 6
    assert len(log) == 4


def test_record_file_hashes_one_file_or_a_glob(tmp_path: Path):
    """Files a backend reads are recorded: one file by its own sha256, a glob by one combined digest."""
    _frame().to_parquet(tmp_path / "one.parquet")
    log = data.InputLog()
    entry = data.record_file(tmp_path / "one.parquet", name="reference", rows=5, columns=2, log=log).to_dict()
    assert entry["sha256"] == hashlib.sha256((tmp_path / "one.parquet").read_bytes()).hexdigest()
    assert entry["hash_of"] == "file" and entry["bytes"] == (tmp_path / "one.parquet").stat().st_size
    parts = tmp_path / "parts"
    for day in ("2026-03-14", "2026-03-13"):
        (parts / f"date={day}").mkdir(parents=True)
        _frame(3).to_parquet(parts / f"date={day}" / "part-0.parquet")
    files = sorted(parts.rglob("*.parquet"))
    pattern = str(parts / "date=*" / "*.parquet")
    entry = data.record_file(pattern, name="current", rows=6, columns=2, log=log).to_dict()
    assert entry["hash_of"] == "files" and entry["files"] == 2 and entry["path"] == pattern
    assert entry["bytes"] == sum(f.stat().st_size for f in files) and entry["rows"] == 6
    lines = "".join(
        f"{hashlib.sha256(f.read_bytes()).hexdigest()} {f.stat().st_size} {f.relative_to(parts)}\n" for f in files
    )
    assert entry["sha256"] == hashlib.sha256(lines.encode()).hexdigest()
    # the same files listed in another order, or from the folder, give the same digest
    assert data.record_file(list(reversed(files)), name="current", rows=6, columns=2, log=log).sha256 == entry["sha256"]
    assert data.record_file(parts, name="current", rows=6, columns=2, log=log).sha256 == entry["sha256"]
    # a changed byte changes it
    _frame(4).to_parquet(files[0])
    assert data.record_file(pattern, name="current", rows=7, columns=2, log=log).sha256 != entry["sha256"]
    assert [r["name"] for r in log.to_list()] == ["reference", "current", "current", "current", "current"]


def test_semicolon_csv_is_sniffed(tmp_path: Path):
    (tmp_path / "f.csv").write_text("a;b\n1;x\n2;y\n")
    assert list(data.load_table(tmp_path / "f.csv").columns) == ["a", "b"]


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_text(""), "empty"),
        (lambda p: p.write_bytes("a,b\n1,caf\xe9\n".encode("latin-1")), "UTF-8"),
        (lambda p: p.write_text("a,a\n1,2\n"), "duplicate column names"),
    ],
)
def test_csv_errors_name_the_file(tmp_path: Path, setup, fragment):
    path = tmp_path / "f.csv"
    setup(path)
    with pytest.raises(DataError) as info:
        data.load_table(path)
    assert fragment in str(info.value) and str(path) in str(info.value)


def test_truncated_parquet_is_a_clear_error(tmp_path: Path):
    _frame(1000).to_parquet(tmp_path / "f.parquet")
    raw = (tmp_path / "f.parquet").read_bytes()
    (tmp_path / "f.parquet").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="not a readable Parquet file"):
        data.load_table(tmp_path / "f.parquet")


def test_unknown_suffix_and_empty_glob(tmp_path: Path):
    (tmp_path / "f.xlsx").write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        data.load_table(tmp_path / "f.xlsx")
    with pytest.raises(DataError, match="no file matches"):
        data.load_table(str(tmp_path / "*.parquet"))


def test_files_with_different_columns_are_refused(tmp_path: Path):
    _frame().to_csv(tmp_path / "a.csv", index=False)
    _frame().rename(columns={"b": "c"}).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(DataError, match="differ"):
        data.load_table(str(tmp_path / "*.csv"))


def test_parse_timestamps_mixed_zones_and_bad_values():
    frame = pd.DataFrame({"ts": ["2026-03-14T10:00:00+01:00", "2026-03-14T09:30:00Z"]})
    parsed = data.parse_timestamps(frame, "ts")
    assert parsed.tolist() == [pd.Timestamp("2026-03-14 09:00"), pd.Timestamp("2026-03-14 09:30")]
    with pytest.raises(DataError, match=r"'ts'.*not-a-date"):
        data.parse_timestamps(pd.DataFrame({"ts": ["2026-03-14", "not-a-date"]}), "ts")
    with pytest.raises(DataError, match="not found"):
        data.parse_timestamps(frame, "time")


def test_window_with_no_rows_names_the_span():
    frame = pd.DataFrame({"ts": pd.to_datetime(["2026-03-01", "2026-03-02"])})
    assert len(data.window(frame, frame["ts"], "2026-03-02", None, label="current")) == 1
    with pytest.raises(DataError, match=r"current window .* holds no rows; the data spans 2026-03-01"):
        data.window(frame, frame["ts"], "2027-01-01", None, label="current")


# ------------------------------------------------------------ files that are not tables: recorded, rechecked


def test_record_bytes_records_the_sha256_of_what_was_read_or_written(tmp_path: Path):
    log = data.InputLog()
    content = b"model = 'm'\r\n"
    record = data.record_bytes(content, name="spec", path=tmp_path / "m.toml", log=log)
    assert record.to_dict() == {
        "name": "spec", "path": str(tmp_path / "m.toml"), "sha256": hashlib.sha256(content).hexdigest(),
        "hash_of": "file", "bytes": len(content), "rows": None, "columns": None,
    }
    assert list(log) == [record]
    written = data.record_bytes(b"{}", name="saved_profile", path="p.json", written=True)
    assert written.hash_of == "written" and written.bytes == 2


def test_current_sha256_recomputes_each_kind_as_it_was_recorded(tmp_path: Path):
    spec = tmp_path / "m.toml"
    spec.write_bytes(b"a = 1\r\n")
    entry = {"name": "spec", "path": "m.toml", "sha256": "", "hash_of": "file"}
    assert data.current_sha256(entry, base=tmp_path) == hashlib.sha256(b"a = 1\r\n").hexdigest()
    # "text": the UTF-8 text as a text-mode read gives it (universal newlines), as older scenario records hold it
    text = {**entry, "hash_of": "text"}
    assert data.current_sha256(text, base=tmp_path) == hashlib.sha256(b"a = 1\n").hexdigest()
    spec.write_bytes(b"\xff\xfe not text")
    assert data.current_sha256(text, base=tmp_path) == hashlib.sha256(b"\xff\xfe not text").hexdigest()
    assert data.current_sha256({**entry, "path": str(tmp_path / "gone.toml")}) is None
    # "files": what the recorded glob or folder names now
    for i in range(3):
        _frame(i + 2).to_parquet(tmp_path / f"part-{i}.parquet")
    files = {"name": "current", "path": "part-*.parquet", "hash_of": "files"}
    parts = sorted(tmp_path.glob("part-*.parquet"))
    assert data.current_sha256(files, base=tmp_path) == data.files_sha256(parts)
    assert data.current_sha256({**files, "path": "none-*.parquet"}, base=tmp_path) is None
    with pytest.raises(ValueError, match="recorded by count"):
        data.current_sha256({**files, "path": f"{tmp_path} (3 files)"})
    with pytest.raises(ValueError, match="regenerated"):
        data.current_sha256({"name": "sample", "path": "built-in sample", "hash_of": "content"})
