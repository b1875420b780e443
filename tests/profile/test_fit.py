"""Fitting a column: kinds, reference-quantile edges, categories, labels and fit errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from profile_frames import profile_fixture, sample_fixture  # noqa: F401 - fixtures, taken by name

from mlreport.errors import DataError, ParameterError
from mlreport.profile import OTHER_LABEL, ReferenceProfile, categorical_labels


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
    with pytest.raises(ParameterError, match="counted 7 sentinel values, got 2") as info:
        column.sentinel_shares([0.0, -1.0])
    assert info.value.name == "sentinels"
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


def test_columns_fitted_side_by_side_give_each_column_fitted_alone():
    """The fit spreads columns over threads: every column's profile and summary are those of a fit of it alone."""
    rng = np.random.default_rng(3)
    rows = 30_000
    frame = pd.DataFrame({
        "normal": rng.normal(size=rows),
        "lognormal": rng.lognormal(size=rows),
        "with_nan": np.where(rng.random(rows) < 0.1, np.nan, rng.gamma(2.0, size=rows)),
        "small_int": rng.integers(0, 5, rows),
        "label": pd.array(rng.choice(["a", "b", "c"], rows), dtype="str"),
        "zeros": np.where(rng.random(rows) < 0.3, 0.0, rng.uniform(size=rows)),
    })
    together = ReferenceProfile.fit(frame)
    assert list(together.columns) == list(frame.columns)
    for name in frame.columns:
        alone = ReferenceProfile.fit(frame[[name]])
        assert together.columns[name].to_dict() == alone.columns[name].to_dict()
        assert together.reference.columns[name].to_dict() == alone.reference.columns[name].to_dict()


def test_column_map_keeps_order_and_raises_the_first_error():
    from mlreport.profile._threads import column_map

    assert column_map(lambda x: x * x, range(20)) == [x * x for x in range(20)]
    assert column_map(lambda x: column_map(lambda y: x + y, [1, 2]), [10, 20]) == [[11, 12], [21, 22]]

    def fail_on_odd(x: int) -> int:
        if x % 2:
            raise ValueError(f"column {x}")
        return x

    with pytest.raises(ValueError, match="column 1"):
        column_map(fail_on_odd, range(6))
