"""The DuckDB fit's exact quantiles by histogram refinement, against numpy on awkward shapes.

``DuckDBBackend.fit_profile(quantiles="exact")`` finds each column's
inverted-CDF quantiles from a histogram refined once (no sort of the column);
its stated rank error is 0. Checked against ``numpy.quantile(method="inverted_cdf")``,
an independent reference, on skewed, tied, heavy-tailed and extreme data, with
the histogram and fetch sizes shrunk so that every path (one fetch, buckets
fetched together, a bucket histogrammed again, buckets of one repeated value,
the quantile_disc fallback after the last level) is taken on small data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from backend_cases import degenerate_columns

import mlreport.backends._duckdb_fit as duckdb_fit
from mlreport.backends import DuckDBBackend
from mlreport.profile import ReferenceProfile


def shapes(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    third = n // 3
    return pd.DataFrame({
        # skewed, with ties from rounding
        "lognormal": np.round(rng.lognormal(10, 1.5, n), -1),
        # heavy right tail (Pareto, alpha 0.7: no mean) shifted below zero
        "pareto": rng.pareto(0.7, n) * 1e3 - 50,
        # heavy on both sides
        "cauchy": rng.standard_cauchy(n),
        # 40 % one value (a sentinel-like spike) and a rounded normal around it
        "tied": np.where(rng.random(n) < 0.4, 0.0, np.round(rng.normal(0, 1, n), 2)),
        # tiny and huge magnitudes together
        "magnitudes": np.concatenate([np.full(n // 2, 1e-300), rng.normal(1e200, 1e199, n - n // 2)]),
        # the ends of the double range: their difference overflows
        "extreme": np.concatenate([np.full(third, -1.7e308), rng.normal(0, 1, n - 2 * third), np.full(third, 1.7e308)]),
        # few distinct non-integers (not categorical), with missing and infinite values
        "steps": np.where(rng.random(n) < 0.05, np.nan, rng.choice([0.5, 1.5, 2.5, np.inf, 1e6 + 0.5], n)),
    })


def numpy_quantiles(values: np.ndarray, count: int) -> np.ndarray:
    """Inverted-CDF quantiles at ``k / count`` from a full numpy sort: the value of rank ``ceil(k n / count) - 1``.

    The ranks in integer arithmetic: ``numpy.quantile(method="inverted_cdf")``
    computes ``k / count * n`` in floating point and lands one rank off where it
    should be an integer (e.g. ``n = 20,000``, ``k / count = 0.07``).
    """
    finite = np.sort(values[np.isfinite(values)])
    k = np.arange(1, count, dtype=np.int64)
    return finite[(k * finite.size + count - 1) // count - 1]


def assert_numpy_edges(profile, frame: pd.DataFrame, bins: int = 10, fine_bins: int = 100) -> None:
    for name in frame:
        values = frame[name].to_numpy(dtype=float)
        column = profile[name]
        assert column.kind == "numeric", name
        top = values[np.isfinite(values)].max()
        psi = np.unique(numpy_quantiles(values, bins))
        psi = psi[psi < top] if (psi < top).any() else np.array([top])
        np.testing.assert_array_equal(column.psi_edges, psi, err_msg=name)
        fine = np.union1d(np.union1d(numpy_quantiles(values, fine_bins), psi), [top])
        np.testing.assert_array_equal(column.fine_edges, fine, err_msg=name)
        # the mode: the fine edge holding the most values, if it holds at least 1 / fine_bins of them
        finite = values[np.isfinite(values)]
        equal = np.array([np.count_nonzero(finite == edge) for edge in fine])
        best = int(np.argmax(equal))
        if equal[best] * fine_bins >= finite.size:
            assert (column.modal_value, column.modal_count) == (fine[best], equal[best]), name
        else:
            assert column.modal_value is None, name


@pytest.fixture()
def duck():
    backend = DuckDBBackend(threads=2, memory_limit="1GB")
    yield backend
    backend.close()


@pytest.mark.parametrize(
    ("buckets", "fetch_values"),
    [
        (None, None),  # the defaults: 20,000 values are fetched in one query
        (4096, 600),  # a histogram, then its wanted buckets fetched together in batches
        (16, 300),  # coarse buckets: most are histogrammed again, level after level
        (2, 50),  # two buckets a level: the quantile_disc fallback after the last level
    ],
)
def test_exact_fit_equals_numpy_quantiles_on_awkward_shapes(duck, monkeypatch, buckets, fetch_values):
    if buckets is not None:
        monkeypatch.setattr(duckdb_fit, "HISTOGRAM_BUCKETS", buckets)
        monkeypatch.setattr(duckdb_fit, "FETCH_VALUES", fetch_values)
    frame = shapes(20_000, seed=11)
    profile = duck.fit_profile(frame, list(frame), numeric=list(frame))
    assert_numpy_edges(profile, frame)
    fit = profile.settings["fit"]
    assert fit["quantiles"] == "exact" and fit["max_rank_error"] == 0.0
    assert "histogram" in fit["method"] and "rank error 0" in fit["method"]


def test_refinement_reads_a_bounded_number_of_values(duck, monkeypatch):
    """With a histogram, each query fetches at most FETCH_VALUES values, and a smooth column takes two scans."""
    monkeypatch.setattr(duckdb_fit, "FETCH_VALUES", 2000)
    fetched: list[int] = []
    original = duckdb_fit.DuckDBFit._scan_columns

    def counting(self, name, sql):
        columns = original(self, name, sql)
        fetched.append(len(next(iter(columns.values()))))
        return columns

    monkeypatch.setattr(duckdb_fit.DuckDBFit, "_scan_columns", counting)
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"normal": rng.normal(0, 1, 200_000), "lognormal": rng.lognormal(0, 2, 200_000)})
    with duck._timed("test"):
        _, relation, schema, where = duck._prepare(frame)
        fit = duckdb_fit.DuckDBFit(duck, relation, where, schema, approximate=False, counts=(10, 100))
        fit.stats(list(frame), set(), ())
        for name in frame:
            got = fit.quantiles(name, len(frame), 100)
            np.testing.assert_array_equal(got, numpy_quantiles(frame[name].to_numpy(), 100))
            assert fit.scans[name] == 2  # the histogram, then the wanted buckets in one fetch
    assert fetched and max(fetched) <= 2000
    # 99 + 9 wanted ranks, about 200,000 / 65,536 values a bucket: a few hundred values, not the column
    assert sum(fetched) < 2 * 2000


# ---------------------------------------------------------------------------
# the reference's summaries, from the fit's own scans


def with_labels(n: int, seed: int) -> pd.DataFrame:
    """shapes() plus sentinels, categories, numbers as text and flags, missing values in each."""
    rng = np.random.default_rng(seed)
    frame = shapes(n, seed)
    sentinel = np.round(rng.normal(50, 20, n), 1)
    sentinel[rng.random(n) < 0.2] = 0.0
    sentinel[rng.random(n) < 0.1] = -1.0
    sentinel[rng.random(n) < 0.05] = 999.0
    sentinel[rng.random(n) < 0.03] = np.nan
    frame["sentinel"] = sentinel
    frame["grade"] = pd.Series(rng.choice(["A", "B", "C", "D"], n, p=[0.4, 0.3, 0.2, 0.1]), dtype=object)
    frame.loc[rng.random(n) < 0.02, "grade"] = None
    frame["small_int"] = rng.integers(0, 6, n).astype(float)  # categorical: few distinct integers
    text = np.round(rng.normal(0, 1, n), 3).astype(str).astype(object)
    text[rng.random(n) < 0.02] = "n/a"  # invalid numbers
    frame["as_text"] = text
    frame["flag"] = rng.random(n) < 0.3
    return frame


def assert_same_summaries(got, expected, *, sums: bool = True) -> None:
    assert got.rows == expected.rows
    for name, want in expected.columns.items():
        have = got.columns[name]
        for field in ("kind", "n", "missing", "nonfinite", "invalid", "below_min", "above_max", "modal_count"):
            assert getattr(have, field) == getattr(want, field), (name, field)
        for field in ("counts", "fine_counts", "sentinel_counts"):
            np.testing.assert_array_equal(getattr(have, field), getattr(want, field), err_msg=f"{name} {field}")
        if sums:
            np.testing.assert_allclose(have.fine_sums, want.fine_sums, rtol=1e-12, atol=1e-300, err_msg=name)


@pytest.mark.parametrize(
    ("buckets", "fetch_values"),
    [(None, None), (4096, 600), (16, 300), (2, 50)],
)
def test_reference_counted_from_the_fit_scans_equals_pandas(duck, monkeypatch, buckets, fetch_values):
    """The reference summaries come from the refinement and label counts (no counting query) and equal
    pandas' ``ReferenceProfile.fit`` (an independent count: numpy over the rows) and DuckDB's own counting query."""
    if buckets is not None:
        monkeypatch.setattr(duckdb_fit, "HISTOGRAM_BUCKETS", buckets)
        monkeypatch.setattr(duckdb_fit, "FETCH_VALUES", fetch_values)
    counted: list[list[str]] = []
    original = DuckDBBackend.summarize

    def spy(self, source, profile, *args, **kwargs):
        counted.append(sorted(profile.columns))
        return original(self, source, profile, *args, **kwargs)

    monkeypatch.setattr(DuckDBBackend, "summarize", spy)
    frame = with_labels(20_000, seed=3)
    numeric = [name for name in frame if name not in ("grade", "small_int", "flag")]
    profile = duck.fit_profile(frame, list(frame), numeric=numeric)
    fitted = list(counted)
    pandas = ReferenceProfile.fit(frame, list(frame), numeric=numeric)
    assert {name: c.kind for name, c in profile.columns.items()} == {n: c.kind for n, c in pandas.columns.items()}
    assert_same_summaries(profile.reference, pandas.reference)
    assert_same_summaries(profile.reference, original(duck, frame, profile))
    for name, column in profile.columns.items():
        assert column.sentinel_counts == pandas.columns[name].sentinel_counts, name
    if buckets == 2:  # the quantile_disc fallback learns no buckets: those columns are counted by a query
        assert fitted and fitted[0]
    else:
        assert fitted == [], "the reference was counted by a second pass"


def test_reference_counts_fall_back_to_a_query_past_the_kept_values(duck, monkeypatch):
    """Past KEEP_VALUES the fit keeps no fetched values: those columns are counted by query, with the same result."""
    frame = with_labels(20_000, seed=4)
    numeric = [name for name in frame if name not in ("grade", "small_int", "flag")]
    derived = duck.fit_profile(frame, list(frame), numeric=numeric)
    monkeypatch.setattr(duckdb_fit, "KEEP_VALUES", 0)
    queried: list[list[str]] = []
    original = DuckDBBackend.summarize
    monkeypatch.setattr(
        DuckDBBackend, "summarize", lambda self, source, profile: queried.append(sorted(profile.columns))
        or original(self, source, profile),
    )
    counted = duck.fit_profile(frame, list(frame), numeric=numeric)
    # the numeric columns (their values were not kept) were counted by the query, the categorical ones were not
    assert queried == [sorted(set(numeric))]
    assert_same_summaries(derived.reference, counted.reference)
    assert {n: c.to_dict() for n, c in derived.columns.items()} == {n: c.to_dict() for n, c in counted.columns.items()}


def test_reference_counted_from_the_fit_scans_on_degenerate_columns(duck):
    """No finite value, only infinities, unreadable text, one value, integers, -0.0 beside 0: as pandas counts them."""
    frame, numeric = degenerate_columns()
    profile = duck.fit_profile(frame, numeric=numeric)
    assert_same_summaries(profile.reference, ReferenceProfile.fit(frame, numeric=numeric).reference)
