"""Backends: pandas and DuckDB give the same summaries, decision counts and profiles.

Counts are compared exactly (integers); per-bin sums of values to 1e-12
relative (another summation order). The data is the sample generator's with
the awkward values added by hand: NaN, +-inf, values outside the reference
range, new categories, a numeric category never seen, unreadable strings in a
column of numbers, booleans, a column absent from the current data.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backend_cases import (
    FEATURES,
    SPLIT,
    assert_counts_equal,
    assert_names_backend,
    assert_profiles_equal,
    assert_same_findings,
    assert_summaries_equal,
    assert_summary_equal,
    run_report,
    with_awkward_values,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from mlreport import drift
from mlreport.backends import (
    DuckDBBackend,
    PandasBackend,
    Source,
    as_source,
    backend_names,
    choose_backend,
    get_backend,
    register_backend,
)
from mlreport.backends._duckdb_sql import literal
from mlreport.backends._sql_fit import inverted_cdf_ranks, linear_quantiles, mid_rank_probabilities
from mlreport.backends._sql_plan import GridLookup
from mlreport.counts import count_decisions
from mlreport.errors import DataError, ParameterError
from mlreport.profile import ReferenceProfile, period_labels
from mlreport.sample import generate, split
from mlreport.volume import VolumeConfig


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    rng = np.random.default_rng(3)
    whole = generate(8000, seed=5, incidents=("utilisation_zero", "bureau_timeout_nulls", "income_shift"))
    reference, current = split(whole, SPLIT)
    reference = with_awkward_values(reference, rng, current=False)
    current = with_awkward_values(current, rng, current=True)
    folder = tmp_path_factory.mktemp("backends")
    paths = {}
    for name, frame in (("reference", reference), ("current", current)):
        paths[name] = folder / f"{name}.parquet"
        frame.to_parquet(paths[name], index=False)
    both = pd.concat([reference.drop(columns="only_in_reference"), current], ignore_index=True)
    paths["csv"] = folder / "current.csv"
    current.drop(columns=["amount_text"]).to_csv(paths["csv"], index=False)
    profile = ReferenceProfile.fit(reference, FEATURES, numeric=["amount_text"])
    return {"reference": reference, "current": current, "both": both, "paths": paths, "profile": profile}


@pytest.fixture(scope="module")
def duck() -> DuckDBBackend:
    return DuckDBBackend(threads=2, memory_limit="1GB")


# ---------------------------------------------------------------------------
# drift summaries


def test_summaries_equal_pandas_on_parquet(data, duck):
    expected = data["profile"].summarize(data["current"])
    got = duck.summarize(str(data["paths"]["current"]), data["profile"])
    assert_summaries_equal(expected, got)
    # the awkward values really are there, so equality is not vacuous
    income, channel = got["income"], got["channel"]
    values = data["current"]["income"].to_numpy()
    low, high = data["profile"]["income"].min, data["profile"]["income"].max
    finite = np.isfinite(values)
    assert income.nonfinite == 11 and income.missing == np.isnan(values).sum()
    assert income.above_max == (values[finite] > high).sum() >= 9
    assert income.below_min == (values[finite] < low).sum() >= 5
    assert channel.counts[-1] == 15 and channel.missing == 5
    assert got["loan_term_months"].counts[-1] == 7
    assert got["amount_text"].invalid == 8 and got["amount_text"].missing == 4
    assert got["credit_utilisation"].sentinel_counts[2] == 6
    assert got.absent == ("only_in_reference",)
    assert set(got["verified"].counts[:2]) and got["verified"].counts.sum() == len(data["current"])


def test_reference_summaries_equal_the_profiles_own(data, duck):
    got = duck.summarize(data["reference"], data["profile"])  # a pandas frame, read by DuckDB
    assert_summaries_equal(data["profile"].summarize(data["reference"]), got)


@pytest.mark.parametrize("period", ["D", "W", "M"])
def test_summaries_per_period_equal_pandas(data, duck, period):
    frame = data["current"]
    expected = data["profile"].summarize_by(frame, period_labels(frame["timestamp"], period))
    got = duck.summarize_by(str(data["paths"]["current"]), data["profile"], period=period, timestamp="timestamp")
    assert list(got) == list(expected)
    assert len(got) > 1
    for label in expected:
        assert_summaries_equal(expected[label], got[label], label)


def test_window_and_periods_from_one_pass(data, duck):
    path = str(data["paths"]["current"])
    total, weekly = duck.summarize_periods(path, data["profile"], period="W", timestamp="timestamp")
    assert_summaries_equal(data["profile"].summarize(data["current"]), total)
    assert list(weekly) == sorted(period_labels(data["current"]["timestamp"], "W").unique())
    empty = as_source(path, timestamp="timestamp", start="2031-01-01")
    total, weekly = duck.summarize_periods(empty, data["profile"], period="W", timestamp="timestamp")
    assert weekly == {} and total.rows == 0 and total["income"].fine_counts.sum() == 0


def test_summaries_per_segment_equal_pandas(data, duck):
    expected = data["profile"].summarize_by(data["current"], "region")
    got = duck.summarize_by(str(data["paths"]["current"]), data["profile"], by="region")
    assert list(got) == list(expected) == sorted(expected)
    for label in expected:
        assert_summaries_equal(expected[label], got[label], label)
    # a key with missing values: those rows are left out, as pandas does
    expected = data["profile"].summarize_by(data["current"], "channel")
    got = duck.summarize_by(str(data["paths"]["current"]), data["profile"], by="channel")
    assert list(got) == list(expected) and "kiosk" in got
    assert sum(s.rows for s in got.values()) == len(data["current"]) - 5


def test_window_of_one_source_equals_pandas_cut(data, duck):
    source = as_source(str(data["paths"]["current"]), timestamp="timestamp", start="2026-02-10", end="2026-02-17")
    frame = data["current"]
    kept = frame[(frame["timestamp"] >= "2026-02-10") & (frame["timestamp"] < "2026-02-17")]
    assert 0 < len(kept) < len(frame)
    assert_summaries_equal(data["profile"].summarize(kept), duck.summarize(source, data["profile"]))
    assert_summaries_equal(data["profile"].summarize(kept), PandasBackend().summarize(source, data["profile"]))
    empty = as_source(frame, timestamp="timestamp", start="2030-01-01")
    assert_summaries_equal(data["profile"].summarize(frame.iloc[:0]), duck.summarize(empty, data["profile"]))


def test_csv_source_equals_pandas(data, duck):
    profile = ReferenceProfile.fit(data["reference"], [f for f in FEATURES if f != "amount_text"])
    frame = PandasBackend().head(str(data["paths"]["csv"]), rows=10**6)
    assert len(frame) == len(data["current"])
    assert_summaries_equal(profile.summarize(frame), duck.summarize(str(data["paths"]["csv"]), profile))


def test_drift_table_is_the_same_from_either_backend(data, duck):
    profile = data["profile"]
    expected = drift.compare(profile, None, profile.summarize(data["current"]))
    got = drift.compare(profile, None, duck.summarize(str(data["paths"]["current"]), profile))
    pd.testing.assert_frame_equal(expected, got, rtol=1e-9)
    assert got["severity"].isin(["warning", "incident"]).any()  # the injected incidents are seen


def test_bins_on_hard_values_equal_searchsorted(duck):
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.lognormal(0, 2, size=5000)})
    profile = ReferenceProfile.fit(reference, ["x"], fine_bins=200)
    edges = profile["x"].fine_edges
    assert GridLookup.from_edges(edges) is not None
    near = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf)])
    values = np.concatenate([rng.lognormal(0, 2, size=30_000), near, [-1e300, 1e300, 0.0, 5e-324]])
    current = pd.DataFrame({"x": values})
    got = duck.summarize(current, profile)["x"]
    np.testing.assert_array_equal(
        got.fine_counts, np.bincount(np.searchsorted(edges, values, side="left"), minlength=edges.size + 1)
    )
    assert_summary_equal(profile.summarize(current)["x"], got, "x")


def test_nan_stored_as_nan_in_parquet_is_missing(duck, tmp_path):
    # pyarrow keeps NaN as a value (not null) from numpy; Parquet statistics leave it out.
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(5)
    values = rng.normal(size=20_000)
    values[::7] = np.nan  # no infinity: the statistics' maximum is then finite
    path = tmp_path / "nan.parquet"
    pq.write_table(pa.table({"x": values, "g": rng.integers(0, 3, 20_000)}), path, row_group_size=5000)
    assert pa.parquet.read_table(path)["x"].null_count == 0
    profile = ReferenceProfile.fit(pd.DataFrame({"x": rng.normal(size=5000)}), ["x"])
    got = duck.summarize(str(path), profile)["x"]
    assert got.missing == np.isnan(values).sum() > 0 and got.fine_counts.sum() == (~np.isnan(values)).sum()
    assert_summaries_equal(profile.summarize(pd.read_parquet(path)), duck.summarize(str(path), profile))


def test_clustered_edges_use_the_search_fallback(duck):
    # Edges closer together than a grid cell: the binary-search branch counts them.
    edges_data = np.concatenate([np.linspace(0.0, 1e-9, 40), [3.0, 4.0, 1e6]])
    reference = pd.DataFrame({"x": np.repeat(edges_data, 3)})
    profile = ReferenceProfile.fit(reference, ["x"], numeric=["x"], fine_bins=50)
    lookup = GridLookup.from_edges(profile["x"].fine_edges)
    assert lookup is None or lookup.has_fallback
    rng = np.random.default_rng(1)
    current = pd.DataFrame({"x": np.concatenate([rng.uniform(-1e-9, 2e-9, 5000), edges_data, [1e7]])})
    assert_summaries_equal(profile.summarize(current), duck.summarize(current, profile))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.sampled_from(["normal", "lognormal", "integers", "spiky", "wide"]),
    st.integers(min_value=4, max_value=300),
)
def test_grid_lookup_equals_searchsorted(seed, shape, n_edges):
    rng = np.random.default_rng(seed)
    draws = {
        "normal": lambda n: rng.normal(size=n) * 10 ** rng.uniform(-6, 6),
        "lognormal": lambda n: rng.lognormal(0, 3, size=n),
        "integers": lambda n: rng.integers(-50, 50, size=n).astype(float),
        "spiky": lambda n: np.where(rng.random(n) < 0.5, 0.0, rng.normal(size=n)),
        "wide": lambda n: rng.standard_cauchy(size=n) * 1e6,
    }[shape]
    edges = np.unique(np.quantile(draws(3000), np.linspace(0, 1, n_edges), method="inverted_cdf"))
    lookup = GridLookup.from_edges(edges)
    if lookup is None:
        return
    values = np.concatenate(
        [draws(5000), edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf), [-1e308, 1e308]]
    )
    expected = np.searchsorted(edges, values, side="left")
    for shift in (-1, 0, 1):  # a cell number one off (rounding in SQL) gives the same bins
        np.testing.assert_array_equal(lookup.bins(values, edges, shift=shift), expected)
    # a span narrower than the edges: values outside it take the search
    inner = GridLookup.from_edges(edges, span=(edges[1], edges[-2])) if edges.size > 6 else None
    if inner is not None:
        np.testing.assert_array_equal(inner.bins(values, edges, shift=1), expected)


def test_double_literals_round_trip(duck):
    values = [0.1, 1 / 3, 5e-324, 1.7976931348623157e308, -2.5e-10, 123456789.12345679, -0.0]
    got = duck.con.execute("SELECT " + ", ".join(literal(v) for v in values)).fetchone()
    assert list(got) == values


# ---------------------------------------------------------------------------
# quantiles


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=400), st.integers(2, 13))
def test_linear_quantiles_are_numpys_bit_for_bit(values, bands):
    ordered = np.sort(np.asarray(values))
    quantiles = np.linspace(0.0, 1.0, bands + 1)[1:-1]
    got = linear_quantiles(lambda ranks: ordered[ranks], ordered.size, quantiles)
    np.testing.assert_array_equal(got, np.quantile(ordered, quantiles))


def test_mid_rank_probabilities_select_order_statistics(duck):
    rng = np.random.default_rng(2)
    for n in (1, 2, 3, 7, 99, 100, 101, 997, 4096):
        values = rng.normal(size=n)
        duck.con.execute("CREATE OR REPLACE TEMP TABLE q AS SELECT unnest(?) AS v", [values.tolist()])
        for count in (10, 100):
            ranks = inverted_cdf_ranks(n, count)
            probabilities = mid_rank_probabilities(ranks, n)
            got = duck.con.execute("SELECT quantile_disc(v, ?) FROM q", [probabilities]).fetchone()[0]
            # the smallest value whose empirical CDF reaches k / count, in exact fractions
            ordered = np.sort(values)
            expected = [ordered[math.ceil(Fraction(k, count) * n) - 1] for k in range(1, count)]
            np.testing.assert_array_equal(got, expected, err_msg=f"n={n} count={count}")


# ---------------------------------------------------------------------------
# profiles fitted by DuckDB


def test_exact_fit_equals_pandas_fit(data, duck):
    # pandas fitting the same file (dtypes as read from Parquet)
    expected = ReferenceProfile.fit(pd.read_parquet(data["paths"]["reference"]), FEATURES, numeric=["amount_text"])
    got = duck.fit_profile(str(data["paths"]["reference"]), FEATURES, numeric=["amount_text"])
    assert got.settings["fit"]["quantiles"] == "exact" and got.settings["fit"]["max_rank_error"] == 0.0
    assert got["credit_utilisation"].sentinel_counts[1] == 5
    assert list(got.columns) == list(expected.columns)
    assert_profiles_equal(expected, got)
    assert {k: v for k, v in got.settings.items() if k != "fit"} == dict(expected.settings)


def test_approximate_fit_states_its_rank_error(data, duck):
    got = duck.fit_profile(
        str(data["paths"]["reference"]), ["income", "loan_amount", "score"], quantiles="approx", sample_rows=1500
    )
    fit = got.settings["fit"]
    assert fit["quantiles"] == "approx" and "sample of about 1,500 values" in fit["method"]
    # Check the stated error independently: shares of the reference at each PSI edge.
    worst = 0.0
    for name in ("income", "loan_amount", "score"):
        values = data["reference"][name].dropna().to_numpy()
        edges = got[name].psi_edges
        assert edges.size == 9
        below = np.array([(values < e).mean() for e in edges])
        upto = np.array([(values <= e).mean() for e in edges])
        target = np.arange(1, 10) / 10
        worst = max(worst, float(np.max(np.maximum.reduce([0 * target, target - upto, below - target]))))
    assert fit["max_rank_error"] == pytest.approx(worst, abs=1e-6)
    assert 0 < fit["max_rank_error"] < 0.08  # about 3 sqrt(p (1-p) / 1500) at worst
    # with fewer values than the sample size, the fit is exact
    assert duck.fit_profile(data["reference"], ["income"], quantiles="approx").settings["fit"]["quantiles"] == "exact"
    # counts on the approximate bins are still exact counts
    assert_summaries_equal(got.summarize(data["reference"]), got.reference)


def test_sample_fit_is_pandas_on_a_sample(data, duck):
    got = duck.fit_profile(data["reference"], ["income", "channel"], quantiles="sample", sample_rows=500, seed=3)
    assert got.rows == 500 and got.settings["fit"] == {
        "backend": "duckdb", "quantiles": "sample", "sample_rows": 500, "seed": 3,
    }
    assert got.reference["income"].n == 500


def test_fit_errors(data, duck):
    with pytest.raises(DataError, match="timestamps"):
        duck.fit_profile(data["reference"], ["timestamp"])
    with pytest.raises(DataError, match="not in the reference"):
        duck.fit_profile(data["reference"], ["nope"])
    with pytest.raises(ParameterError):
        duck.fit_profile(data["reference"], ["income"], bins=1)
    with pytest.raises(ParameterError):
        duck.fit_profile(data["reference"], ["income"], quantiles="median")
    with pytest.raises(DataError, match="no rows"):
        duck.fit_profile(as_source(data["reference"], timestamp="timestamp", start="2031-01-01"), ["income"])


# ---------------------------------------------------------------------------
# decision counts


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, str]:
    frame = generate(12_000, seed=9, incidents=("channel_outage", "approval_jump"))
    rng = np.random.default_rng(4)
    frame["flag"] = (rng.random(len(frame)) < 0.05).astype(float)
    frame.loc[frame.index[::97], "flag"] = np.nan
    frame["final"] = np.where(rng.random(len(frame)) < 0.03, "decline", frame["decision"])
    frame.loc[frame.index[5:9], "decision"] = None
    frame.loc[frame.index[::53], "score"] = np.nan
    frame.loc[frame.index[10:12], "score"] = np.inf
    path = tmp_path_factory.mktemp("log") / "log.parquet"
    frame.to_parquet(path, index=False)
    return frame, str(path)


# Levels with equal counts are ordered by label in every backend (test below).
@pytest.mark.parametrize(
    "config, roles",
    [
        (
            VolumeConfig(),
            {"segment_columns": ["channel", "product"], "score_column": "score", "override_column": "flag"},
        ),
        (
            VolumeConfig(period="D", holidays=("2026-02-16",)),
            {"segment_columns": ["product"], "override_column": "final"},
        ),
        (VolumeConfig(period="W", baseline_weeks=2, analysis_start="2026-01-26", analysis_end="2026-02-23"),
         {"segment_columns": ["channel"], "decision_labels": ["refer", "approve"]}),
        (VolumeConfig(period="H", timezone="Europe/London"), {"score_column": "score"}),
    ],
)
def test_decision_counts_equal_pandas(log, duck, config, roles):
    frame, path = log
    common = {"timestamp_column": "timestamp", "decision_column": "decision", **roles}
    expected = count_decisions(frame, config, **common)
    got = duck.decision_counts(path, config, **common)
    assert_counts_equal(expected, got)
    assert expected.overall.sum() > 0
    if not config.analysis_start:  # the rows without a decision lie in the windows
        assert "(missing)" in got.labels


@pytest.mark.parametrize("fetch_scores", [None, 10])
def test_decision_counts_equal_pandas_on_both_paths(log, duck, monkeypatch, fetch_scores):
    """Score edges from fetched baseline scores or from count + quantile_disc (few allowed to be fetched);
    segment tables in numpy (string and int levels) or row by row (float levels, folded levels): pandas' counts."""
    from mlreport.backends import _duckdb_volume

    if fetch_scores is not None:
        monkeypatch.setattr(_duckdb_volume, "FETCH_SCORES", fetch_scores)
    frame, _ = log
    frame = frame.copy()
    frame["level_int"] = np.arange(len(frame)) % 7
    frame["level_float"] = (np.arange(len(frame)) % 3) * 0.5
    frame.loc[frame.index[::11], "level_float"] = np.nan
    for config in (VolumeConfig(period="D"), VolumeConfig(period="D", max_segment_levels=4)):
        roles = {"timestamp_column": "timestamp", "decision_column": "decision", "score_column": "score",
                 "segment_columns": ["channel", "level_int", "level_float"]}
        expected = count_decisions(frame, config, **roles)
        got = duck.decision_counts(frame, config, **roles)
        assert_counts_equal(expected, got)
        assert got.score_edges is not None and got.score_edges.size > 2


def test_decision_counts_on_aware_timestamps_across_daylight_saving(duck):
    # UTC instants read on the London wall clock; the clocks go forward on 2026-03-29.
    frame = generate(6000, start="2026-03-02", weeks=6, seed=2)
    frame["timestamp"] = frame["timestamp"].dt.tz_localize("UTC")
    roles = {"timestamp_column": "timestamp", "decision_column": "decision", "segment_columns": ["channel"]}
    config = VolumeConfig(period="H", timezone="Europe/London", baseline_weeks=3)
    expected = count_decisions(frame, config, **roles)
    got = duck.decision_counts(frame, config, **roles)
    assert_counts_equal(expected, got)
    assert got.timezone == "Europe/London" and 0 in got.exposure  # the hour that does not exist


def test_levels_with_equal_counts_are_ordered_by_label(duck):
    times = pd.date_range("2026-01-05", periods=24 * 7 * 6, freq="h")
    frame = pd.DataFrame(
        {"timestamp": times, "decision": "approve", "segment": np.tile(["b", "a", "c"], len(times) // 3)}
    )
    counts = duck.decision_counts(frame, VolumeConfig(period="D"), timestamp_column="timestamp",
                                  decision_column="decision", segment_columns=["segment"])
    assert counts.segments["segment"][0] == ["a", "b", "c"]
    np.testing.assert_array_equal(counts.segments["segment"][1].sum(axis=(0, 2)), [counts.rows // 3] * 3)
    # pandas too, whatever the order of the rows
    assert_counts_equal(counts, count_decisions(
        frame.iloc[::-1], VolumeConfig(period="D"), timestamp_column="timestamp", decision_column="decision",
        segment_columns=["segment"],
    ))


def test_decision_counts_errors(log, duck):
    frame, path = log
    with pytest.raises(DataError, match="not found"):
        duck.decision_counts(path, timestamp_column="timestamp", decision_column="nope")
    with pytest.raises(DataError, match="expected timestamps"):
        duck.decision_counts(path, timestamp_column="age", decision_column="decision")
    with pytest.raises(DataError, match="expected numbers"):
        duck.decision_counts(path, timestamp_column="timestamp", decision_column="decision", score_column="channel")
    odd = frame.assign(flag=frame["flag"].fillna(2.0))
    with pytest.raises(DataError, match="other than 0 and 1"):
        duck.decision_counts(odd, timestamp_column="timestamp", decision_column="decision", override_column="flag")
    with pytest.raises(DataError, match="baseline needs"):
        duck.decision_counts(
            path, VolumeConfig(baseline_weeks=9), timestamp_column="timestamp", decision_column="decision"
        )
    late = VolumeConfig(analysis_start="2030-01-01")
    with pytest.raises(DataError) as in_memory:
        count_decisions(frame, late, timestamp_column="timestamp", decision_column="decision")
    with pytest.raises(DataError) as in_duckdb:
        duck.decision_counts(path, late, timestamp_column="timestamp", decision_column="decision")
    assert str(in_duckdb.value) == str(in_memory.value)
    assert "analysis_start 2030-01-01 is after the end" in str(in_duckdb.value)


# ---------------------------------------------------------------------------
# choosing a backend


def test_auto_chooses_by_size(data):
    path = str(data["paths"]["current"])
    size = as_source(path).bytes
    assert size > 0
    assert choose_backend(path) == "pandas"
    assert choose_backend(path, threshold_bytes=size - 1) == "duckdb"
    assert choose_backend(data["current"]) == "pandas"
    assert choose_backend(Source(table="db.decisions")) == "spark"
    assert choose_backend(path, "duckdb") == "duckdb"
    assert isinstance(get_backend("auto", path, threshold_bytes=0), DuckDBBackend)
    with pytest.raises(ParameterError, match="backend must be one of"):
        choose_backend(path, "polars")
    with pytest.raises(ParameterError, match="needs the source"):
        get_backend("auto")


def test_registry_takes_a_new_backend():
    class Counting(PandasBackend):
        name = "counting"

    register_backend("counting", lambda **options: Counting(**options))
    assert "counting" in backend_names()
    assert isinstance(get_backend("counting"), Counting)
    with pytest.raises(ParameterError):
        register_backend("auto", Counting)


def test_pandas_backend_reads_files_and_periods(data):
    backend = PandasBackend()
    path = str(data["paths"]["current"])
    frame = data["current"]
    assert_summaries_equal(data["profile"].summarize(frame), backend.summarize(path, data["profile"]))
    weekly = backend.summarize_by(path, data["profile"], period="W", timestamp="timestamp")
    assert list(weekly) == sorted(period_labels(frame["timestamp"], "W").unique())
    assert [op for op, _ in backend.timings] == ["summarize", "summarize_by W"]
    assert backend.run_info()["backend"] == "pandas"


def test_grouping_and_source_errors(data, duck):
    path = str(data["paths"]["current"])
    with pytest.raises(ParameterError, match="exactly one"):
        duck.summarize_by(path, data["profile"])
    with pytest.raises(ParameterError, match="row order"):
        duck.summarize_by(path, data["profile"], period=1000, timestamp="timestamp")
    with pytest.raises(ParameterError, match="timestamp"):
        duck.summarize_by(path, data["profile"], period="W")
    with pytest.raises(DataError, match="not in the data"):
        duck.summarize_by(path, data["profile"], by="nope")
    with pytest.raises(DataError, match="expected timestamps"):
        duck.summarize_by(path, data["profile"], period="D", timestamp="age")
    with pytest.raises(DataError, match="no such file"):
        duck.summarize("/nonexistent/x.parquet", data["profile"])
    with pytest.raises(DataError):
        as_source(42)
    with pytest.raises(ParameterError):
        DuckDBBackend(threads=0)


def test_duckdb_settings_and_timings(tmp_path, data):
    backend = DuckDBBackend(threads=1, memory_limit="512MB", temp_directory=tmp_path / "spill")
    text = backend.describe()
    assert "threads=1" in text and "memory_limit=488.2 MiB" in text and "spill" in text
    backend.summarize(data["current"], data["profile"])
    info = backend.run_info()
    assert info["backend"] == "duckdb" and info["operations"][0]["operation"] == "summarize"
    assert list(backend.head(str(data["paths"]["current"]), rows=3).columns) == list(data["current"].columns)
    # frames are registered as views for a call only
    backend.fit_profile(data["reference"], ["income", "channel"])
    assert not backend.con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    backend.close()


# ---------------------------------------------------------------------------
# what a report needs from a backend: provenance, rows in memory, timings


def test_files_a_backend_reads_are_recorded_once(data, tmp_path):
    from mlreport import data as provenance

    backend = DuckDBBackend(threads=1)
    path = str(data["paths"]["current"])
    source = as_source(path, name="current")
    backend.summarize(source, data["profile"])
    backend.summarize_by(source, data["profile"], by="region")
    [entry] = backend.inputs.to_list()
    assert entry["name"] == "current" and entry["path"] == path and entry["hash_of"] == "file"
    assert entry["sha256"] == provenance.file_sha256(path)
    assert entry["rows"] == len(data["current"]) and entry["columns"] == data["current"].shape[1]
    # a folder of parts: one entry, one digest over the sorted files, their count and bytes
    folder = tmp_path / "parts"
    for day, part in data["current"].groupby(data["current"]["timestamp"].dt.strftime("%Y-%m-%d")):
        (folder / f"date={day}").mkdir(parents=True)
        part.to_parquet(folder / f"date={day}" / "part.parquet", index=False)
    backend.inputs = provenance.InputLog()
    backend.summarize(as_source(folder, name="current"), data["profile"])
    [entry] = backend.inputs.to_list()
    files = sorted(folder.rglob("*.parquet"))
    assert entry["hash_of"] == "files" and entry["files"] == len(files) > 1
    assert entry["sha256"] == provenance.files_sha256(files) and entry["rows"] == len(data["current"])
    assert entry["bytes"] == sum(f.stat().st_size for f in files)
    backend.close()


def test_bounded_rows_are_every_row_in_file_order_or_a_uniform_sample(data, duck):
    path = str(data["paths"]["current"])
    expected = pd.read_parquet(path)
    every = duck.bounded_rows(path, len(expected))
    assert every.complete and every.total == len(expected) and every.describe() == f"all {len(expected):,} rows"
    # the same rows in the same order as pandas reads them (DuckDB reads a nullable Int8 as float64)
    pd.testing.assert_frame_equal(every.frame, expected, check_dtype=False)
    sampled = duck.bounded_rows(path, 500, seed=3)
    assert not sampled.complete and len(sampled.frame) == 500 and sampled.total == len(expected)
    assert "uniform sample of 500" in sampled.describe()
    pd.testing.assert_frame_equal(sampled.frame, duck.bounded_rows(path, 500, seed=3).frame)
    # a window of a frame stays a pandas frame: the rows pandas cuts, whatever the backend
    window = as_source(data["current"], timestamp="timestamp", start="2026-02-10", end="2026-02-17")
    for backend in (duck, PandasBackend()):
        got = backend.bounded_rows(window, 10**6)
        current = data["current"]
        kept = current[(current["timestamp"] >= "2026-02-10") & (current["timestamp"] < "2026-02-17")]
        pd.testing.assert_frame_equal(got.frame, kept.reset_index(drop=True))
    assert len(PandasBackend().bounded_rows(path, 100, seed=1).frame) == 100
    with pytest.raises(ParameterError, match="rows"):
        duck.bounded_rows(path, 0)


def test_window_summaries_count_rows_without_a_timestamp(data, duck):
    frame = data["current"].copy()
    frame.loc[frame.index[::7], "timestamp"] = pd.NaT
    profile = data["profile"]
    for backend in (duck, PandasBackend()):
        total, weekly = backend.summarize_periods(frame, profile, period="W", timestamp="timestamp")
        assert_summaries_equal(profile.summarize(frame), total, backend.name)
        assert None not in weekly and sum(s.rows for s in weekly.values()) == frame["timestamp"].notna().sum()


def test_open_backend_checks_the_notebook_parameters(data):
    from mlreport.backends import open_backend

    assert open_backend("auto").name == "pandas"  # the built-in sample
    # small: options dropped
    assert open_backend("auto", str(data["paths"]["current"]), {"threads": 1}).name == "pandas"
    duck = open_backend("duckdb", None, {"threads": 1, "memory_limit": "512MB"})
    assert duck.name == "duckdb" and "threads=1" in duck.describe()
    with pytest.raises(ParameterError, match="'backend'") as info:
        open_backend("polars")
    assert info.value.name == "backend" and "duckdb" in str(info.value)
    with pytest.raises(ParameterError, match="backend_options") as info:
        open_backend("duckdb", None, {"thread": 1})
    assert info.value.name == "backend_options"
    with pytest.raises(ParameterError, match="backend_options"):
        open_backend("duckdb", None, ["threads", 1])
    with pytest.raises(ParameterError, match="backend_options"):
        open_backend("pandas", None, {"threads": 1})


def test_timings_name_top_level_operations_and_profile_settings_are_checked(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    backend = DuckDBBackend(threads=1)
    backend.fit_profile(data["reference"], ["income", "channel"])  # counts the reference inside the fit
    info = backend.run_info()
    assert [op["operation"] for op in info["operations"]] == ["fit_profile (exact)"]
    assert info["seconds"] == pytest.approx(info["operations"][0]["seconds"], abs=1e-3)
    assert backend.run_summary().startswith("duckdb ") and "1 operation" in backend.run_summary()
    with pytest.raises(ParameterError, match="unknown profile setting") as error:
        backend.fit_profile(data["reference"], ["income"], bin=5)
    assert error.value.name == "bin"
    # spills go under the system's temporary folder, not into the working folder
    assert not backend.temp_directory.startswith(str(tmp_path)) and not list(tmp_path.iterdir())
    backend.close()


# ---------------------------------------------------------------------------
# the reports through a backend, end to end (CLI, notebook, run.json)


@pytest.mark.e2e
@pytest.mark.parametrize("analysis", ["drift", "volume"])
def test_report_on_the_sample_through_duckdb_equals_pandas(tmp_path: Path, analysis: str):
    common = ("classifier_sample=3000",) if analysis == "drift" else ()
    out = tmp_path / "out"
    expected, expected_manifest, _ = run_report(analysis, out, *common)
    got, manifest, html = run_report(analysis, out, "backend=duckdb", 'backend_options={"threads": 2}', *common)
    assert (got["status"], got["exit_code"], got["headline"]) == (
        expected["status"], expected["exit_code"], expected["headline"]
    )
    assert_same_findings(expected["findings"], got["findings"])
    assert_names_backend(manifest, html, "duckdb")
    assert expected_manifest["metrics"]["backend"]["backend"] == "pandas"
    assert manifest["inputs"] == expected_manifest["inputs"]  # the built-in sample, by content
    if analysis == "drift":
        assert "How this report was computed" in html and "ran on every row of both windows" in html


@pytest.mark.e2e
def test_drift_on_parquet_files_through_duckdb_records_them_and_equals_pandas(tmp_path: Path):
    from cli_runs import run_cli

    assert run_cli("sample-data", str(tmp_path / "d"), "--rows", "20000", "--incident", "utilisation_zero",
                   cwd=tmp_path).returncode == 0
    files = (
        f"reference_path={tmp_path / 'd' / 'reference.parquet'}",
        f"current_path={tmp_path / 'd' / 'current.parquet'}",
        "classifier_sample=3000",
    )
    out = tmp_path / "out"
    expected, expected_manifest, _ = run_report("drift", out, *files)
    got, manifest, html = run_report("drift", out, "backend=duckdb", *files)
    assert_same_findings(expected["findings"], got["findings"])
    assert_names_backend(manifest, html, "duckdb")
    # the files DuckDB read are the inputs pandas recorded: path, sha256, bytes, rows, columns
    assert manifest["inputs"] == expected_manifest["inputs"] and len(manifest["inputs"]) == 2
    # beyond row_sample the row-level sections run on a sample, and the report says what was not run
    sampled, manifest, html = run_report("drift", out, "backend=duckdb", "row_sample=3000", *files)
    assert "uniform sample of 3,000" in manifest["methods"]["row_level_data"]
    assert "were not run at this scale" in html
    drift_findings = [f for f in expected["findings"] if f["section"] in ("Feature drift", "Prediction drift")]
    sampled_drift = [f for f in sampled["findings"] if f["section"] in ("Feature drift", "Prediction drift")]
    assert_same_findings(drift_findings, sampled_drift)


def test_many_segment_levels_and_bad_decisions_as_pandas(log, duck):
    """The input limits of count_decisions hold in SQL too: the same '(other)' level, the same refusals."""
    frame, _ = log
    frame = frame.copy()
    rng = np.random.default_rng(7)
    frame["merchant"] = [f"m{i:02d}" for i in rng.zipf(1.3, len(frame)) % 45]
    roles = {"timestamp_column": "timestamp", "decision_column": "decision", "segment_columns": ["merchant", "channel"]}
    config = VolumeConfig(period="D", max_segment_levels=12)
    expected = count_decisions(frame, config, **roles)
    got = duck.decision_counts(frame, config, **roles)
    assert_counts_equal(expected, got)
    assert "(other)" in got.segments["merchant"][0] and any("max_segment_levels" in n for n in got.notes)
    for broken, message in ((frame.assign(decision=None), "has no values"),
                            (frame.assign(decision=[f"d{i % 60}" for i in range(len(frame))]), "60 distinct values")):
        with pytest.raises(DataError, match=message):
            count_decisions(broken, config, **roles)
        with pytest.raises(DataError, match=message):
            duck.decision_counts(broken, config, **roles)


@pytest.mark.e2e
def test_an_unknown_backend_is_bad_input(tmp_path: Path):
    from cli_runs import run_cli

    result = run_cli("run", "volume", "--out", str(tmp_path / "out"), "--json", "-p", "backend=polars", cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    answer = json.loads(result.stdout)
    # Refused before a kernel starts (issue 16: the analysis' parameters are checked first): an invocation error.
    assert answer["status"] == "error" and answer["type"] == "ParameterError"
    assert "parameter 'backend': 'polars'" in answer["error"] and "duckdb" in answer["error"]
    assert not list((tmp_path / "out").rglob("report.html"))
