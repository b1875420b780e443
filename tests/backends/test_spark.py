"""The Spark backend (PySpark, local[2]) gives the same summaries, counts and profiles as pandas.

Skipped, with the reason, when pyspark or a Java runtime is missing; CI
installs both, so there these tests run. One Spark session serves the module
(starting one takes seconds); each test makes few Spark jobs. The data and
the comparisons are those of ``test_backends.py``; Parquet is written with
microsecond timestamps, which Spark reads (it cannot read nanoseconds).
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest
from backend_cases import (  # the same awkward data and the same comparisons as the DuckDB tests
    FEATURES,
    SPLIT,
    assert_counts_equal,
    assert_profiles_equal,
    assert_summaries_equal,
    degenerate_columns,
    with_awkward_values,
)
from cli_runs import runtime_missing

from mlreport import data as provenance
from mlreport.backends import Source, as_source, choose_backend
from mlreport.counts import count_decisions
from mlreport.errors import DataError, ParameterError
from mlreport.profile import ReferenceProfile, period_labels
from mlreport.sample import generate, split
from mlreport.volume import VolumeConfig


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'mlreport[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime for Spark (apt-get install openjdk-17-jre-headless)"
    return None


runtime_missing("spark", _spark_missing())

# pyspark warns on its own that it does not fully support pandas 3 (we do not use its pandas paths).
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")


def _parquet(frame: pd.DataFrame, path) -> str:
    frame.to_parquet(path, index=False, coerce_timestamps="us", allow_truncated_timestamps=True)
    return str(path)


@pytest.fixture(scope="module")
def spark_backend():
    from mlreport.backends import SparkBackend

    backend = SparkBackend(
        master="local[2]",
        config={
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "4",
            "spark.driver.memory": "1g",
            "spark.sql.adaptive.enabled": "false",
        },
    )
    backend.spark.sparkContext.setLogLevel("ERROR")
    yield backend
    backend.spark.stop()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    rng = np.random.default_rng(3)
    whole = generate(5000, seed=5, incidents=("utilisation_zero", "bureau_timeout_nulls", "income_shift"))
    reference, current = split(whole, SPLIT)
    folder = tmp_path_factory.mktemp("spark")
    reference = with_awkward_values(reference, rng, current=False)
    current = with_awkward_values(current, rng, current=True)
    paths = {"reference": _parquet(reference, folder / "reference.parquet"),
             "current": _parquet(current, folder / "current.parquet")}
    # compare with pandas reading the same files
    reference, current = pd.read_parquet(paths["reference"]), pd.read_parquet(paths["current"])
    profile = ReferenceProfile.fit(reference, FEATURES, numeric=["amount_text"])
    return {"reference": reference, "current": current, "paths": paths, "profile": profile}


def test_summaries_equal_pandas(data, spark_backend):
    profile, current = data["profile"], data["current"]
    got = spark_backend.summarize(data["paths"]["current"], profile)
    assert_summaries_equal(profile.summarize(current), got)
    assert got["income"].nonfinite == 11 and got["channel"].counts[-1] == 15 and got["amount_text"].invalid == 8
    weekly = spark_backend.summarize_by(data["paths"]["current"], profile, period="W", timestamp="timestamp")
    expected = profile.summarize_by(current, period_labels(current["timestamp"], "W"))
    assert list(weekly) == list(expected) and len(weekly) > 1
    for label in expected:
        assert_summaries_equal(expected[label], weekly[label], label)


def test_segments_and_spark_sources(data, spark_backend):
    profile, current = data["profile"], data["current"]
    frame = spark_backend.spark.read.parquet(data["paths"]["current"])
    frame.createOrReplaceTempView("mlreport_current")
    table = Source(table="mlreport_current")
    assert choose_backend(table) == "spark" and choose_backend(frame) == "spark"
    expected = profile.summarize_by(current, "channel")
    got = spark_backend.summarize_by(frame, profile, by="channel")
    assert list(got) == list(expected) and "kiosk" in got
    for label in expected:
        assert_summaries_equal(expected[label], got[label], label)
    window = as_source(table, timestamp="timestamp", start="2026-02-10", end="2026-02-17")
    kept = current[(current["timestamp"] >= "2026-02-10") & (current["timestamp"] < "2026-02-17")]
    assert_summaries_equal(profile.summarize(kept), spark_backend.summarize(window, profile))


def test_decision_counts_equal_pandas(spark_backend, tmp_path):
    frame = generate(6000, seed=9, incidents=("channel_outage", "approval_jump"))
    rng = np.random.default_rng(4)
    frame["flag"] = (rng.random(len(frame)) < 0.05).astype(float)
    frame.loc[frame.index[5:9], "decision"] = None
    frame.loc[frame.index[::53], "score"] = np.nan
    path = _parquet(frame, tmp_path / "log.parquet")
    frame = pd.read_parquet(path)
    roles = {"timestamp_column": "timestamp", "decision_column": "decision",
             "segment_columns": ["channel", "product"], "score_column": "score", "override_column": "flag"}
    config = VolumeConfig(period="D")
    assert_counts_equal(count_decisions(frame, config, **roles), spark_backend.decision_counts(path, config, **roles))
    with pytest.raises(DataError, match="not found"):
        spark_backend.decision_counts(path, config, timestamp_column="timestamp", decision_column="nope")


def test_exact_fit_equals_pandas(data, spark_backend):
    names = ["channel", "income", "loan_term_months", "credit_utilisation", "amount_text", "verified"]
    expected = ReferenceProfile.fit(data["reference"], names, numeric=["amount_text"])
    got = spark_backend.fit_profile(data["paths"]["reference"], names, numeric=["amount_text"])
    assert got.settings["fit"]["quantiles"] == "exact"
    assert_profiles_equal(expected, got)


def test_approximate_fit_keeps_the_stated_rank_error(data, spark_backend):
    got = spark_backend.fit_profile(data["paths"]["reference"], ["score"], quantiles="approx")
    fit = got.settings["fit"]
    assert fit["quantiles"] == "approx" and fit["max_rank_error"] == spark_backend.relative_error
    values = data["reference"]["score"].dropna().to_numpy()
    edges = got["score"].psi_edges
    ranks = np.array([(values <= e).mean() for e in edges])
    # Spark's guarantee: each edge's rank within relative_error of k / bins (plus one value)
    assert np.all(np.abs(ranks - np.arange(1, 10) / 10) <= fit["max_rank_error"] + 1.0 / values.size)


def test_errors_and_description(data, spark_backend):
    with pytest.raises(ParameterError, match="exactly one"):
        spark_backend.summarize_by(data["paths"]["current"], data["profile"])
    with pytest.raises(DataError, match="expected timestamps"):
        spark_backend.summarize_by(data["paths"]["current"], data["profile"], period="D", timestamp="age")
    assert "local[2]" in spark_backend.describe()
    assert spark_backend.run_info()["backend"] == "spark"


def test_files_rows_and_untimed_rows(data, spark_backend):
    """What a report needs: the files recorded, rows in memory, windows that count rows without a timestamp."""
    spark_backend.inputs = provenance.InputLog()
    path = data["paths"]["current"]
    source = as_source(path, name="current")
    spark_backend.summarize(source, data["profile"])
    spark_backend.columns(source)
    [entry] = spark_backend.inputs.to_list()
    assert entry["name"] == "current" and entry["sha256"] == provenance.file_sha256(path)
    assert entry["rows"] == len(data["current"]) and entry["columns"] == data["current"].shape[1]
    # every row (timestamps as naive UTC, as pandas reads them), or a uniform sample
    every = spark_backend.bounded_rows(path, 10**6)
    assert every.complete
    pd.testing.assert_frame_equal(
        every.frame.sort_values("application_id", ignore_index=True),
        data["current"].sort_values("application_id", ignore_index=True), check_dtype=False,
    )
    sampled = spark_backend.bounded_rows(path, 300, seed=2)
    assert len(sampled.frame) == 300 and sampled.total == len(data["current"]) and not sampled.complete
    # the window of summarize_periods counts rows without a timestamp, as profile.summarize does
    frame = data["current"].copy()
    frame.loc[frame.index[::7], "timestamp"] = pd.NaT
    total, weekly = spark_backend.summarize_periods(frame, data["profile"], period="W", timestamp="timestamp")
    assert_summaries_equal(data["profile"].summarize(frame), total)
    assert sum(s.rows for s in weekly.values()) == frame["timestamp"].notna().sum()


SPARK_OPTIONS = (
    'backend_options={"master": "local[2]", "config": {"spark.ui.enabled": "false", '
    '"spark.sql.shuffle.partitions": "2", "spark.driver.memory": "1g"}}'
)


@pytest.mark.e2e
def test_reports_through_spark_equal_pandas(tmp_path):
    """The volume report, and the drift report on a saved reference profile, through Spark in local mode.

    Fitting a profile runs a few hundred small Spark jobs (minutes in local
    mode), so the drift run reuses the profile the pandas run saved, as a
    monitoring job would; the fit itself is compared with pandas above.
    """
    from backend_cases import assert_names_backend, assert_same_findings, run_report

    out = tmp_path / "out"
    expected, _, _ = run_report("volume", out)
    got, manifest, html = run_report("volume", out, "backend=spark", SPARK_OPTIONS)
    assert got["headline"] == expected["headline"]
    assert_same_findings(expected["findings"], got["findings"])
    assert_names_backend(manifest, html, "spark")
    profile = tmp_path / "reference.json"
    expected, _, _ = run_report("drift", out, "classifier_sample=3000", f"save_profile={profile}")
    got, manifest, html = run_report(
        "drift", out, "classifier_sample=3000", f"reference_profile={profile}", "backend=spark", SPARK_OPTIONS
    )
    assert_same_findings(expected["findings"], got["findings"])
    assert_names_backend(manifest, html, "spark")
    operations = [op["operation"] for op in manifest["metrics"]["backend"]["operations"]]
    # the periods counted in one pass, then each segment's levels in both windows (drift by segment, issue 13)
    assert "summarize_periods W" in operations and operations[-1].startswith("summarize_by ")


def test_drift_by_segment_equals_pandas(data, spark_backend):
    """Each feature within each segment level (issue 13): Spark's counts by level give pandas' table."""
    from mlreport.backends import PandasBackend
    from mlreport.drift import segment_drift

    profile, features = data["profile"], [c for c in FEATURES if c != "amount_text"]
    arguments = {"segments": ["channel", "region"], "features": features}
    expected = segment_drift(PandasBackend(), data["reference"], data["current"], profile, **arguments)
    got = segment_drift(spark_backend, data["paths"]["reference"], data["paths"]["current"], profile, **arguments)
    assert len(expected.table) and expected.notes == got.notes
    pd.testing.assert_frame_equal(got.table, expected.table, rtol=1e-9)



def test_segment_columns_in_one_job_and_awkward_labels_equal_pandas(spark_backend):
    """summarize_by_each counts every segment column in one job: per column the same groups as pandas.

    A float key with NaN and a text key with nulls leave those rows out of
    their column's groups only; labels with quotes, backslashes, backquotes,
    newlines and non-ASCII text are matched exactly (SQL text literals).
    """
    rng = np.random.default_rng(11)
    n = 3000
    labels = np.array(["it's", "back\\slash", "tick`", "na\u00efve \u2603", "a\nb", "plain"], dtype=object)
    frame = pd.DataFrame({
        "label": labels[rng.integers(0, len(labels), n)],
        "x": rng.normal(size=n),
        "band": rng.integers(0, 4, n).astype(float),
        "region": rng.choice(["north", "south"], n).astype(object),
    })
    frame.loc[::37, "band"] = np.nan
    frame.loc[::41, "region"] = None
    frame.loc[::13, "label"] = None
    profile = ReferenceProfile.fit(frame.iloc[:1500], ["label", "x", "band"])
    current = frame.iloc[1500:].reset_index(drop=True)
    by = ["band", "region", "label"]
    got = spark_backend.summarize_by_each(current, profile, by)
    for column, parts in zip(by, got, strict=True):
        expected = profile.summarize_by(current, column)
        assert list(parts) == list(expected) and len(expected) >= 2, column
        for key in expected:
            assert_summaries_equal(expected[key], parts[key], f"{column}={key}")
    assert set(got[2]) == set(labels)

# -- data where it lives: partitions, decimals, CSV with an empty column, SQL and S3 sources ----------------


def test_partition_columns_and_a_partition_window_as_pandas(spark_backend, tmp_path):
    from mlreport.backends import PandasBackend

    whole = generate(2000, seed=8, weeks=1)
    for day, part in whole.assign(day=whole["timestamp"].dt.strftime("%Y-%m-%d")).groupby("day"):
        folder = tmp_path / f"date={day}" / "batch=eu"
        folder.mkdir(parents=True)
        _parquet(part.drop(columns=["day"]), folder / "part-0.parquet")
    days = sorted(p.name.split("=")[1] for p in tmp_path.glob("date=*"))
    source = as_source(str(tmp_path)).window("date", days[2], days[4])
    assert len(source.files.files) == 2
    pandas = PandasBackend()
    rows = spark_backend.bounded_rows(source, 10**6).frame
    expected = pandas.rows_in_memory(source, 10**6).frame
    assert list(rows.columns) == list(expected.columns) and rows.columns[-2:].tolist() == ["date", "batch"]
    assert sorted(rows["date"].unique()) == sorted(expected["date"].unique())
    profile = ReferenceProfile.fit(expected.drop(columns=["timestamp", "date"]))
    assert_summaries_equal(spark_backend.summarize(source, profile), pandas.summarize(source, profile))
    by_day = spark_backend.summarize_by(str(tmp_path), profile, period="D", timestamp="date")
    assert list(by_day) == days


def test_decimal_and_an_empty_csv_column_are_numbers(spark_backend, tmp_path):
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    from mlreport.backends import PandasBackend

    amounts = [decimal.Decimal(f"{v:.2f}") for v in np.random.default_rng(0).lognormal(6, 0.4, 300)]
    pq.write_table(pa.table({"amount": pa.array(amounts, pa.decimal128(14, 2))}), tmp_path / "m.parquet")
    rows = spark_backend.bounded_rows(str(tmp_path / "m.parquet"), 1000).frame
    assert rows["amount"].dtype == np.float64
    profile = ReferenceProfile.fit(PandasBackend().rows_in_memory(str(tmp_path / "m.parquet"), 1000).frame)
    assert profile.columns["amount"].numeric_values
    assert_summaries_equal(spark_backend.summarize(str(tmp_path / "m.parquet"), profile),
                           PandasBackend().summarize(str(tmp_path / "m.parquet"), profile))
    pd.DataFrame({"a": [1.5, 2.5], "label": [None, None]}).to_csv(tmp_path / "c.csv", index=False)
    head = spark_backend.head(str(tmp_path / "c.csv"))
    assert head["label"].dtype == np.float64 and head["label"].isna().all()


def test_a_sql_source_is_read_then_counted(spark_backend, tmp_path):
    import sqlite3

    pytest.importorskip("sqlalchemy")
    from mlreport.backends import PandasBackend

    frame = generate(1500, seed=4, weeks=1)
    with sqlite3.connect(tmp_path / "x.db") as connection:
        frame.assign(timestamp=frame["timestamp"].astype(str)).to_sql("decisions", connection, index=False)
    location = f"sql:sqlite:///{tmp_path / 'x.db'} select * from decisions order by timestamp"
    profile = ReferenceProfile.fit(frame.drop(columns=["timestamp"]))
    spark_backend.inputs = provenance.InputLog()
    assert_summaries_equal(spark_backend.summarize(location, profile), PandasBackend().summarize(location, profile))
    spark_backend.summarize(location, profile)
    assert [r.hash_of for r in spark_backend.inputs] == ["result"]


def test_objects_in_s3_are_read_then_counted(spark_backend, s3_server):
    import io

    from mlreport.backends import PandasBackend

    client = s3_server.client()
    client.create_bucket(Bucket="mlreport-spark")
    frame = generate(1000, seed=6, weeks=1)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, coerce_timestamps="us", allow_truncated_timestamps=True)
    client.put_object(Bucket="mlreport-spark", Key="x/current.parquet", Body=buffer.getvalue())
    url = "s3://mlreport-spark/x/current.parquet"
    profile = ReferenceProfile.fit(frame.drop(columns=["timestamp"]))
    spark_backend.inputs = provenance.InputLog()
    weekly = spark_backend.summarize_by(url, profile, period="D", timestamp="timestamp")
    expected = PandasBackend().summarize_by(url, profile, period="D", timestamp="timestamp")
    assert list(weekly) == list(expected)
    for day in weekly:
        assert_summaries_equal(weekly[day], expected[day], day)
    [record] = spark_backend.inputs.to_list()
    assert record["path"] == url and record["hash_of"] == "file" and record["etag"]


# -- the reference's summaries, from the fit's own jobs -----------------------


def _fit_shapes(n: int, seed: int) -> pd.DataFrame:
    """Skewed, tied, heavy-tailed, sentinel-laden, -0.0, numbers as text, categories, flags; missing values in each."""
    rng = np.random.default_rng(seed)
    sentinel = np.round(rng.normal(50, 20, n), 1)
    sentinel[rng.random(n) < 0.2] = 0.0
    sentinel[rng.random(n) < 0.1] = -1.0
    sentinel[rng.random(n) < 0.05] = 999.0
    sentinel[rng.random(n) < 0.03] = np.nan
    text = np.round(rng.normal(0, 1, n), 3).astype(str).astype(object)
    text[rng.random(n) < 0.02] = "n/a"  # invalid numbers
    frame = pd.DataFrame({
        "skewed": rng.lognormal(10, 1.5, n),
        "tied": rng.choice([1.0, 2.0, 2.5, 10.0, 300.0], n, p=[0.5, 0.2, 0.15, 0.1, 0.05]),
        "heavy": rng.standard_cauchy(n),
        "sentinel": sentinel,
        "signed_zero": np.where(rng.random(n) < 0.3, -0.0, np.where(rng.random(n) < 0.5, 0.0, rng.normal(0, 1, n))),
        "ints": rng.integers(0, 1000, n),
        "as_text": text,
        "grade": pd.Series(rng.choice(["A", "B", "C", "D"], n, p=[0.4, 0.3, 0.2, 0.1]), dtype="str"),
        "small_int": rng.integers(0, 6, n).astype(float),
        "flag": rng.random(n) < 0.3,
        "term": rng.choice([12.0, 24.0, 36.0, 60.0, np.nan], n),  # categorical: few integers, found by counting
        "lines": rng.integers(0, 31, n),  # numeric: 31 distinct integers (more than discrete_max)
    })
    frame.loc[rng.random(n) < 0.02, "grade"] = None
    frame.loc[rng.random(n) < 0.02, "skewed"] = np.nan
    frame.loc[rng.random(n) < 0.01, "heavy"] = np.inf
    return frame


def test_reference_counted_from_the_fit_jobs_equals_pandas(spark_backend, monkeypatch):
    """An exact fit counts the reference from its own jobs (no summarize job): the profile, its reference
    summaries and sentinel counts equal pandas' ``ReferenceProfile.fit`` (numpy over the rows) and Spark's own
    counting job on the same profile (counts exactly, sums to 1e-12)."""
    from mlreport.backends import SparkBackend

    counted: list[list[str]] = []
    original = SparkBackend.summarize

    def spy(self, source, profile, *args, **kwargs):
        counted.append(sorted(profile.columns))
        return original(self, source, profile, *args, **kwargs)

    monkeypatch.setattr(SparkBackend, "summarize", spy)
    from mlreport.backends import _spark_fit

    few: list[list[str]] = []
    batch_few = _spark_fit.SparkFit._batch_few
    monkeypatch.setattr(_spark_fit.SparkFit, "_batch_few",
                        lambda self, at_most: few.append(sorted(found := batch_few(self, at_most))) or found)
    frame = _fit_shapes(8000, seed=3)
    numeric = ["skewed", "tied", "heavy", "sentinel", "signed_zero", "ints", "as_text"]
    got = spark_backend.fit_profile(frame, list(frame), numeric=numeric, sentinels=[-1.0, 999.0, 0.0])
    assert counted == [], "the reference was counted by another job"
    assert few == [["lines", "small_int", "term", "tied"]], "the columns with few values were not counted in one job"
    expected = ReferenceProfile.fit(frame, list(frame), numeric=numeric, sentinels=[-1.0, 999.0, 0.0])
    assert {n: c.kind for n, c in got.columns.items()} == {n: c.kind for n, c in expected.columns.items()}
    assert expected["sentinel"].sentinel_counts and any(expected["sentinel"].sentinel_counts)
    assert_profiles_equal(expected, got)
    assert_summaries_equal(original(spark_backend, frame, got), got.reference)


def test_reference_from_the_fit_jobs_on_degenerate_columns_and_approximate_fits(spark_backend):
    """No finite value, only infinities, unreadable text, one value: as pandas counts them (derived or counted);
    an approximate fit counts its reference with a job, as before."""
    frame, numeric = degenerate_columns()
    got = spark_backend.fit_profile(frame, numeric=numeric)
    assert_summaries_equal(ReferenceProfile.fit(frame, numeric=numeric).reference, got.reference)
    approximate = spark_backend.fit_profile(frame, numeric=numeric, quantiles="approx")
    assert_summaries_equal(spark_backend.summarize(frame, approximate), approximate.reference)
