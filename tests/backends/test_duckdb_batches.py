"""DuckDB's drift summaries from one streamed scan (Arrow batches counted in numpy) equal pandas'.

pandas' ``ReferenceProfile.summarize`` / ``summarize_by`` is the reference:
counts exactly, per-bin sums to 1e-12 relative. The batches are made small so
that a window spans many of them (groups first seen in a later batch, batches
under the grid's 1,024-value threshold and over it), and the hard cases of
the counting query are all here: NULL and NaN, +-inf, -0.0, values on and
next to the edges, clustered edges (the search fallback), a sentinel and the
modal value, numbers in a categorical column (a number never seen, -0.0 as
0), unreadable strings in a column of numbers, booleans, labels never seen,
rows without a timestamp, and more groups than the dense count table holds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backend_cases import assert_summaries_equal

from mlreport.backends import DuckDBBackend
from mlreport.profile import ReferenceProfile, period_labels


def _frame(rng: np.random.Generator, rows: int, *, current: bool) -> pd.DataFrame:
    start = np.datetime64("2026-03-01T00:00:00", "ns")
    stamps = start + (np.sort(rng.random(rows)) * 40 * 86400e9).astype("timedelta64[ns]")
    heavy = rng.lognormal(3, 2, rows)
    ties = rng.integers(0, 12, rows).astype(float)
    clustered = np.where(rng.random(rows) < 0.6, rng.uniform(0, 1e-9, rows), rng.uniform(3, 5, rows))
    term = rng.choice([12.0, 24.0, 36.0, 0.0], rows)
    channel = rng.choice(np.array(["web", "app", "branch", "ström"], dtype=object), rows)
    text = np.array([f"{v:.2f}" for v in rng.normal(100, 20, rows)], dtype=object)
    flag = rng.random(rows) < 0.3
    frame = pd.DataFrame({
        "timestamp": stamps, "heavy": heavy, "ties": ties, "clustered": clustered, "term": term,
        "channel": channel, "text": text, "flag": flag, "account": rng.integers(0, 10**9, rows),
    })
    if current:
        pick = rng.permutation(rows)
        heavy[pick[:50]] = np.nan
        heavy[pick[50:60]] = np.inf
        heavy[pick[60:70]] = -np.inf
        heavy[pick[70:80]] = -0.0
        heavy[pick[80:90]] = 1e300
        heavy[pick[90:100]] = -1e300
        heavy[pick[100:110]] = -1.0  # a sentinel
        ties[pick[110:130]] = np.nan
        term[pick[130:140]] = 99.0  # a number never seen
        term[pick[140:150]] = -0.0  # labelled "0" as 0.0 is
        term[pick[150:155]] = np.inf
        term[pick[155:160]] = np.nan
        channel[pick[160:180]] = "kiosk"
        channel[pick[180:190]] = None
        text[pick[190:200]] = "n/a"
        text[pick[200:205]] = None
        text[pick[205:210]] = "inf"
        frame["heavy"], frame["ties"], frame["term"] = heavy, ties, term
        frame["channel"], frame["text"] = channel, text
        frame.loc[frame.index[pick[210:300]], "timestamp"] = pd.NaT
        frame = frame.astype({"flag": "object"})
        frame.loc[frame.index[pick[300:310]], "flag"] = None
    return frame


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> dict:
    rng = np.random.default_rng(17)
    reference = _frame(rng, 20_000, current=False)
    reference.loc[reference.index[:30], "heavy"] = -1.0
    current = _frame(rng, 60_000, current=True)
    edges_of = reference["clustered"].to_numpy()
    current.loc[current.index[:200], "clustered"] = np.resize(
        np.concatenate([np.unique(edges_of)[:60], np.nextafter(np.unique(edges_of)[:40], np.inf)]), 200
    )
    profile = ReferenceProfile.fit(
        reference, ["heavy", "ties", "clustered", "term", "channel", "text", "flag"],
        numeric=["text"], categorical=["term"], sentinels=[-1.0],
    )
    path = tmp_path_factory.mktemp("batches") / "current.parquet"
    current.to_parquet(path, index=False)
    return {"profile": profile, "current": current, "path": str(path)}


@pytest.fixture()
def duck() -> DuckDBBackend:
    backend = DuckDBBackend(threads=2, memory_limit="1GB")
    yield backend
    backend.close()


def test_the_columns_are_what_the_case_says(case):
    profile = case["profile"]
    assert profile["term"].kind == "categorical" and profile["text"].kind == "numeric"
    assert profile["heavy"].sentinel_counts is not None
    assert profile["clustered"].fine_edges.size > 10


@pytest.mark.parametrize("batch_rows", [700, 5000, 1 << 20])
def test_window_and_periods_in_batches_equal_pandas(case, duck, batch_rows):
    duck.batch_rows = batch_rows
    profile, frame = case["profile"], case["current"]
    total, daily = duck.summarize_periods(case["path"], profile, period="D", timestamp="timestamp")
    assert_summaries_equal(profile.summarize(frame), total, "window")
    expected = profile.summarize_by(frame, period_labels(frame["timestamp"], "D"))
    assert list(daily) == list(expected) and len(daily) == 40
    for label in expected:
        assert_summaries_equal(expected[label], daily[label], label)
    got = total.columns
    # the hard values really are counted, so equality is not vacuous
    assert got["heavy"].nonfinite == 20 and got["heavy"].missing == 50 and got["heavy"].sentinel_counts[0] == 10
    assert got["heavy"].above_max >= 10 and got["heavy"].below_min >= 10
    assert got["term"].counts[-1] == 10 and got["term"].nonfinite == 5 and got["term"].missing == 5
    assert got["term"].above_max == 10  # 99 is above the reference's largest category
    assert got["channel"].counts[-1] == 20 and got["channel"].missing == 10
    assert got["text"].invalid == 10 and got["text"].nonfinite == 5 and got["text"].missing == 5
    assert got["flag"].missing == 10


def test_more_groups_than_the_dense_table_equal_pandas(case, duck):
    # about 60,000 accounts x about 100 codes per column: past the dense table's 2^22 cells.
    duck.batch_rows = 25_000
    profile, frame = case["profile"], case["current"]
    got = duck.summarize_by(case["path"], profile, by="account")
    expected = profile.summarize_by(frame, "account")
    assert list(got) == list(expected) and len(got) > 50_000
    for label in list(expected)[::97]:
        assert_summaries_equal(expected[label], got[label], str(label))
    assert sum(s.rows for s in got.values()) == len(frame)
    for name in profile.columns:
        assert sum(int(s[name].counts.sum()) for s in got.values()) == int(profile.summarize(frame)[name].counts.sum())


def test_a_frame_and_an_empty_window(case, duck, tmp_path: Path):
    profile, frame = case["profile"], case["current"]
    duck.batch_rows = 1000
    assert_summaries_equal(profile.summarize(frame.iloc[:2500]), duck.summarize(frame.iloc[:2500], profile))
    empty = frame.iloc[:0]
    got = duck.summarize(empty, profile)
    assert got.rows == 0 and all(got[name].n == 0 for name in profile.columns)


def test_prefetched_batches_keep_order_pass_errors_and_stop_with_the_reader():
    import threading

    from mlreport.backends._duckdb_batches import prefetched

    assert list(prefetched(iter(range(50)))) == list(range(50))

    def failing():
        yield 1
        yield 2
        raise ValueError("scan failed")

    got = []
    with pytest.raises(ValueError, match="scan failed"):
        for item in prefetched(failing()):
            got.append(item)
    assert got == [1, 2]

    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    before = threading.active_count()
    stream = prefetched(endless(), depth=2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()  # the consumer stops early: the reader thread ends, having read at most a few ahead
    assert threading.active_count() == before and len(produced) <= 3 + 2 + 1


def test_score_bands_count_the_edges_at_or_below_each_score():
    import pyarrow as pa

    from mlreport.backends._duckdb_batches import band_counts

    rng = np.random.default_rng(3)
    edges = np.array([0.1, 0.25, 0.5, 0.9])
    scores = np.concatenate([rng.random(5000), edges, np.nextafter(edges, -1.0), [np.nan, np.inf, -np.inf, -0.0]])
    periods = rng.integers(-2, 30, scores.size)
    missing = rng.random(scores.size) < 0.01
    batches = [
        pa.record_batch({"p": pa.array(periods[i:i + 700]),
                         "sc": pa.array(scores[i:i + 700], mask=missing[i:i + 700])})
        for i in range(0, scores.size, 700)
    ]
    got = {(p, b): n for p, b, n in band_counts(batches, edges[::-1].copy())}
    # independent count: how many edges are <= the score; missing, NaN and +-inf in band len(edges) + 1
    band = (edges[None, :] <= scores[:, None]).sum(axis=1)
    band[~np.isfinite(scores) | missing] = edges.size + 1
    expected: dict[tuple[int, int], int] = {}
    for p, b in zip(periods.tolist(), band.tolist(), strict=True):
        expected[(p, b)] = expected.get((p, b), 0) + 1
    assert got == expected and any(p == -2 for p, _ in got) and any(b == edges.size + 1 for _, b in got)
