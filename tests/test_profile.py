"""ReferenceProfile fitting, mergeable summaries and serialisation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlreport.errors import DataError, ParameterError
from mlreport.profile import (
    OTHER_LABEL,
    ColumnSummary,
    ReferenceProfile,
    Summaries,
    bin_index,
    categorical_labels,
    merge,
)
from mlreport.sample import generate

FEATURES = [
    "channel",
    "age",
    "income",
    "loan_term_months",
    "credit_utilisation",
    "bureau_score",
    "months_since_delinquency",
    "score",
    "decision",
]


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return generate(6000, seed=11)


@pytest.fixture(scope="module")
def profile(sample: pd.DataFrame) -> ReferenceProfile:
    return ReferenceProfile.fit(sample, FEATURES)


def _assert_summary_equal(a: ColumnSummary, b: ColumnSummary) -> None:
    assert a.kind == b.kind
    for name in ("n", "missing", "nonfinite", "invalid", "below_min", "above_max", "modal_count"):
        assert getattr(a, name) == getattr(b, name), name
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.fine_counts, b.fine_counts)
    np.testing.assert_array_equal(a.sentinel_counts, b.sentinel_counts)
    np.testing.assert_allclose(a.fine_sums, b.fine_sums, rtol=1e-9, atol=1e-6)


def _assert_summaries_equal(a: Summaries, b: Summaries) -> None:
    assert a.rows == b.rows
    assert set(a.columns) == set(b.columns)
    for name in a.columns:
        _assert_summary_equal(a[name], b[name])


# ---------------------------------------------------------------------------
# binning


def test_bin_index_equals_searchsorted_on_hard_values():
    rng = np.random.default_rng(0)
    edges = np.unique(np.quantile(rng.lognormal(size=5000), np.arange(1, 100) / 100))
    # values exactly on edges, next to them, far outside, and bulk
    near = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf)])
    values = np.concatenate(
        [rng.lognormal(size=60_000), near, [-1e300, 1e300, 0.0, edges[0] - 1, edges[-1] + 1]]
    )
    np.testing.assert_array_equal(bin_index(edges, values), np.searchsorted(edges, values, side="left"))
    # many edges inside one grid cell (the binary-search fallback) and integer atoms
    clustered = np.concatenate([np.linspace(0.0, 1e-6, 50), [3.0, 4.0, 1e3]])
    values = np.concatenate([rng.uniform(-1e-6, 2e-6, 30_000), rng.integers(0, 5, 30_000), [1e3, 2e3]])
    np.testing.assert_array_equal(
        bin_index(clustered, values), np.searchsorted(clustered, values, side="left")
    )


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.sampled_from(["normal", "lognormal", "integers", "spiky"]),
    st.integers(min_value=4, max_value=200),
)
def test_bin_index_property(seed, shape, n_edges):
    rng = np.random.default_rng(seed)
    draws = {
        "normal": lambda n: rng.normal(size=n) * 10 ** rng.uniform(-6, 6),
        "lognormal": lambda n: rng.lognormal(0, 2, size=n),
        "integers": lambda n: rng.integers(-50, 50, size=n).astype(float),
        "spiky": lambda n: np.where(rng.random(n) < 0.5, 0.0, rng.normal(size=n)),
    }[shape]
    reference = draws(5000)
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, n_edges), method="inverted_cdf"))
    values = draws(30_000)
    np.testing.assert_array_equal(bin_index(edges, values), np.searchsorted(edges, values, side="left"))


# ---------------------------------------------------------------------------
# fitting


def test_kinds_follow_the_stated_rule(profile: ReferenceProfile):
    assert profile["channel"].kind == "categorical"
    assert profile["income"].kind == "numeric"
    assert profile["age"].kind == "numeric"
    term = profile["loan_term_months"]
    assert term.kind == "categorical" and "distinct integer" in term.kind_rule
    assert set(term.categories) == {"12", "24", "36", "48", "60"}
    assert term.min == 12 and term.max == 60  # numbers still profiled


def test_declared_kinds_and_bool():
    frame = pd.DataFrame(
        {"code": [1, 2, 3, 1, 2] * 10, "flag": [True, False] * 25, "amount": [str(i) for i in range(50)]}
    )
    fitted = ReferenceProfile.fit(frame, categorical=None, numeric=["code", "amount"])
    assert fitted["code"].kind == "numeric"
    assert fitted["flag"].kind == "categorical" and set(fitted["flag"].categories) == {"True", "False"}
    assert fitted["amount"].kind == "numeric" and fitted["amount"].max == 49
    with pytest.raises(ParameterError):
        ReferenceProfile.fit(frame, categorical=["code"], numeric=["code"])


def test_numeric_edges_are_reference_quantiles(sample: pd.DataFrame, profile: ReferenceProfile):
    income = sample["income"].dropna().to_numpy()
    column = profile["income"]
    expected = np.unique(np.quantile(income, np.arange(1, 10) / 10, method="inverted_cdf"))
    np.testing.assert_array_equal(column.psi_edges, expected[expected < income.max()])
    assert set(column.psi_edges) <= set(column.fine_edges)
    assert column.fine_edges[-1] == income.max()
    assert column.mean == pytest.approx(income.mean())
    assert column.std == pytest.approx(np.std(income, ddof=1))
    assert column.missing == sample["income"].isna().sum()
    # reference deciles: about a tenth of the values per bin
    shares = profile.reference["income"].counts / profile.reference["income"].valid
    assert shares == pytest.approx(np.full(10, 0.1), abs=0.01)


def test_tied_edges_merge_and_outer_bins_are_open():
    frame = pd.DataFrame({"x": np.r_[np.zeros(600), np.arange(1.5, 401.5, 1.0)]})
    fitted = ReferenceProfile.fit(frame)
    column = fitted["x"]
    assert column.kind == "numeric"
    assert np.count_nonzero(column.psi_edges == 0) == 1  # six tied deciles -> one edge
    assert column.modal_value == 0.0 and column.modal_share == pytest.approx(0.6)
    shares = column.sentinel_shares(fitted.sentinels)
    assert shares[0.0] == pytest.approx(0.6) and shares[-1.0] == 0
    batch = fitted.summarize(pd.DataFrame({"x": [-5.0, 0.0, 1e9, np.inf, -np.inf, np.nan]}))["x"]
    assert batch.counts[0] == 2 and batch.counts[-1] == 1  # below and above land in the outer bins
    assert (batch.below_min, batch.above_max) == (1, 1)
    assert (batch.nonfinite, batch.missing, batch.valid, batch.n) == (2, 1, 3, 6)
    assert batch.modal_count == 1 and batch.sentinel_counts[0] == 1


def test_categories_keep_the_top_ones_plus_other():
    labels = [f"c{i:02d}" for i in range(60)]
    frame = pd.DataFrame({"c": np.repeat(labels, np.arange(60, 0, -1))})
    fitted = ReferenceProfile.fit(frame, max_categories=5)
    column = fitted["c"]
    assert column.categories == ("c00", "c01", "c02", "c03", "c04")
    assert column.high_cardinality and column.n_distinct == 60
    assert column.bin_labels[-1] == OTHER_LABEL
    counts = fitted.reference["c"].counts
    assert counts[:5].tolist() == [60, 59, 58, 57, 56] and counts[5] == frame.shape[0] - 290
    batch = fitted.summarize(pd.DataFrame({"c": ["c00", "new", None, "c04"]}))["c"]
    assert batch.counts.tolist() == [1, 0, 0, 0, 1, 1] and batch.missing == 1


def test_numbers_as_categories_use_canonical_labels():
    assert list(categorical_labels([12.0, 12.5, 3, True, "x"])) == ["12", "12.5", "3", "True", "x"]
    fitted = ReferenceProfile.fit(pd.DataFrame({"term": [12, 24, 36] * 20}))
    batch = fitted.summarize(pd.DataFrame({"term": pd.Series([12.0, 24.0, np.nan, 48.0, np.inf])}))["term"]
    index = {label: i for i, label in enumerate(fitted["term"].bin_labels)}
    assert batch.counts[index["12"]] == 1 and batch.counts[index["24"]] == 1
    assert batch.counts[index[OTHER_LABEL]] == 1  # 48 is new
    assert (batch.missing, batch.nonfinite) == (1, 1)


def test_mixed_types_count_as_invalid_not_a_crash():
    fitted = ReferenceProfile.fit(pd.DataFrame({"x": np.arange(100.0)}))
    batch = fitted.summarize(pd.DataFrame({"x": pd.Series([1.0, "2.5", "n/a", None, "abc"], dtype=object)}))
    column = batch["x"]
    assert (column.valid, column.invalid, column.missing, column.n) == (2, 2, 1, 5)


def test_fit_errors_are_clear():
    with pytest.raises(DataError, match="no rows"):
        ReferenceProfile.fit(pd.DataFrame({"x": []}))
    with pytest.raises(DataError, match="'y'"):
        ReferenceProfile.fit(pd.DataFrame({"x": [1.0]}), ["y"])
    with pytest.raises(DataError, match="timestamps"):
        ReferenceProfile.fit(pd.DataFrame({"t": pd.to_datetime(["2026-01-01"])}), ["t"])
    with pytest.raises(ParameterError):
        ReferenceProfile.fit(pd.DataFrame({"x": [1.0]}), bins=1)


def test_all_null_and_constant_columns_fit():
    frame = pd.DataFrame({"empty": [np.nan] * 10, "constant": [0.5] * 10})
    fitted = ReferenceProfile.fit(frame)
    assert fitted["empty"].valid == 0 and fitted["empty"].missing_share == 1.0
    assert fitted["constant"].kind == "numeric" and fitted["constant"].psi_edges.tolist() == [0.5]
    assert fitted["constant"].std == 0


def test_high_cardinality_column_is_cheap_and_flagged():
    frame = pd.DataFrame({"id": [f"id{i}" for i in range(200_000)]})
    fitted = ReferenceProfile.fit(frame)
    assert fitted["id"].high_cardinality and len(fitted["id"].categories) == 50
    assert fitted.reference["id"].counts[-1] == 200_000 - 50


# ---------------------------------------------------------------------------
# summaries


def test_reference_summaries_equal_summarize_of_the_reference(sample, profile):
    _assert_summaries_equal(profile.reference, profile.summarize(sample))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5999), min_size=1, max_size=4, unique=True))
def test_merged_summaries_equal_summary_of_concatenation(sample, profile, cuts):
    bounds = [0, *sorted(cuts), len(sample)]
    parts = [profile.summarize(sample.iloc[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    _assert_summaries_equal(merge(parts), profile.summarize(sample))
    _assert_summaries_equal(parts[0] + merge(parts[1:]) if len(parts) > 1 else parts[0], merge(parts))


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_summaries_do_not_depend_on_row_order(sample, profile, seed):
    shuffled = sample.sample(frac=1.0, random_state=np.random.default_rng(seed).integers(2**31))
    _assert_summaries_equal(profile.summarize(shuffled), profile.summarize(sample))


def test_summarize_by_groups_merge_to_the_whole(sample, profile):
    weeks = sample["timestamp"].dt.to_period("W").astype(str)
    groups = profile.summarize_by(sample, weeks)
    assert list(groups) == sorted(weeks.unique())
    _assert_summaries_equal(merge(groups.values()), profile.summarize(sample))
    first = next(iter(groups))
    _assert_summaries_equal(groups[first], profile.summarize(sample[weeks == first]))
    # a key with missing labels leaves those rows out
    partial = weeks.where(weeks != first, None)
    assert first not in profile.summarize_by(sample, partial)


def test_summaries_subtract_and_round_trip(sample, profile):
    head = profile.summarize(sample.iloc[:1000])
    tail = profile.summarize(sample.iloc[1000:])
    _assert_summaries_equal(profile.reference - head, tail)
    _assert_summaries_equal(Summaries.from_dict(json.loads(json.dumps(tail.to_dict()))), tail)


def test_absent_columns_are_listed(profile, sample):
    batch = profile.summarize(sample.drop(columns=["income"]))
    assert batch.absent == ("income",) and "income" not in batch
    merged = batch + profile.summarize(sample)
    assert merged.absent == () and merged["income"].n == len(sample)


# ---------------------------------------------------------------------------
# serialisation


def test_save_load_round_trip(tmp_path, profile, sample):
    path = profile.save(tmp_path / "profiles" / "reference.json")
    loaded = ReferenceProfile.load(path)
    assert loaded.fingerprint == profile.fingerprint
    assert json.loads(path.read_text())["version"] == 1
    _assert_summaries_equal(loaded.summarize(sample), profile.summarize(sample))
    for name in profile.columns:
        assert loaded[name].to_dict() == profile[name].to_dict()


def test_fingerprint_is_stable_and_sensitive(sample, profile):
    again = ReferenceProfile.fit(sample, FEATURES)
    assert again.fingerprint == profile.fingerprint
    assert len(profile.fingerprint) == 64
    other = ReferenceProfile.fit(sample.iloc[1:], FEATURES)
    assert other.fingerprint != profile.fingerprint
    assert ReferenceProfile.fit(sample, FEATURES, bins=5).fingerprint != profile.fingerprint


def test_tampered_or_foreign_profiles_are_refused(tmp_path, profile):
    data = profile.to_dict()
    data["columns"]["income"]["mean"] = 1.0
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match="fingerprint"):
        ReferenceProfile.load(path)
    data = profile.to_dict()
    data["version"] = 99
    with pytest.raises(DataError, match="version"):
        ReferenceProfile.from_dict(data)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        ReferenceProfile.load(tmp_path / "bad.json")
    with pytest.raises(DataError, match="cannot read"):
        ReferenceProfile.load(tmp_path / "missing.json")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(min_value=-20, max_value=20), min_size=1, max_size=300),
    st.integers(min_value=2, max_value=120),
)
def test_sorted_quantiles_equal_numpy_inverted_cdf(values, count):
    from mlreport.profile import _sorted_quantiles

    data = np.sort(np.asarray(values, dtype=float))
    expected = np.quantile(data, np.arange(1, count) / count, method="inverted_cdf")
    np.testing.assert_array_equal(_sorted_quantiles(data, count), expected)


def test_block_by_block_counting_gives_the_same_summaries(sample, profile, monkeypatch):
    import mlreport.profile as profile_module

    whole = profile.summarize(sample)
    weeks = sample["timestamp"].dt.to_period("W").astype(str)
    by_week = profile.summarize_by(sample, weeks)
    monkeypatch.setattr(profile_module, "_BLOCK_ROWS", 997)
    _assert_summaries_equal(profile.summarize(sample), whole)
    for week, part in profile.summarize_by(sample, weeks).items():
        _assert_summaries_equal(part, by_week[week])
    refit = ReferenceProfile.fit(sample, FEATURES)  # label counts block by block too
    assert refit.fingerprint == profile.fingerprint


# ---------------------------------------------------------------------------
# moments and sums at the edge of the float range


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), min_size=1, max_size=300),
    st.sampled_from([1.0, 2.0**-600, 2.0**500]),
)
def test_mean_and_std_equal_numpy_at_any_magnitude(values, scale):
    """numpy on the values as given, scaled by a power of two: the profile's moments at 1e-180 and 1e162 too.

    (numpy itself underflows or overflows the squares there: std of [0, 1e-200] comes out 0.)
    """
    ordered = np.sort(np.asarray(values))  # the profile sums sorted values
    fitted = ReferenceProfile.fit(pd.DataFrame({"x": ordered * scale}), numeric=["x"])["x"]
    assert fitted.mean == pytest.approx(float(ordered.mean()) * scale, rel=1e-12, abs=1e-290 * scale)
    if ordered.size > 1:
        assert fitted.std == pytest.approx(float(np.std(ordered, ddof=1)) * scale, rel=1e-9, abs=1e-290 * scale)
    else:
        assert fitted.std is None


def test_mean_and_std_are_bit_identical_to_the_plain_computation_on_normal_data(sample):
    values = np.sort(sample["income"].dropna().to_numpy(dtype=float))
    fitted = ReferenceProfile.fit(sample, ["income"])["income"]
    deviations = values - values.mean()
    assert fitted.mean == float(values.mean())
    assert fitted.std == float(np.sqrt(np.dot(deviations, deviations) / (values.size - 1)))


def test_float_maximum_as_a_missing_value_gives_finite_summaries():
    """DBL_MAX as "no value": moments finite and right, sums overflow to inf quietly and round-trip."""
    top = np.finfo(np.float64).max
    values = np.random.default_rng(3).gamma(2.0, 5000.0, 2000)
    values[::10] = top
    frame = pd.DataFrame({"loan_amount": values})
    fitted = ReferenceProfile.fit(frame)  # pytest turns overflow warnings into errors
    column = fitted["loan_amount"]
    scaled = values / 2.0**1000  # exact: numpy's moments on values that cannot overflow
    assert column.mean == pytest.approx(float(np.mean(scaled)) * 2.0**1000, rel=1e-12)
    assert column.std == pytest.approx(float(np.std(scaled, ddof=1)) * 2.0**1000, rel=1e-12)
    assert column.max == top and np.isfinite(column.mean) and np.isfinite(column.std)

    reference = fitted.reference["loan_amount"]
    assert np.isposinf(reference.fine_sums).sum() == 1  # the bin of sentinels
    means = reference.fine_means()
    assert np.isfinite(means[reference.fine_counts > 0]).all() and np.nanmax(means) == top
    _assert_summaries_equal(fitted.reference, fitted.summarize(frame))
    head, tail = fitted.summarize(frame.iloc[:500]), fitted.summarize(frame.iloc[500:])
    _assert_summaries_equal(head + tail, fitted.reference)
    _assert_summaries_equal(fitted.reference - head, tail)  # inf - inf leaves inf, not NaN
    loaded = ReferenceProfile.from_dict(json.loads(json.dumps(fitted.to_dict(), allow_nan=False)))
    assert loaded.fingerprint == fitted.fingerprint
    _assert_summaries_equal(loaded.reference, fitted.reference)
