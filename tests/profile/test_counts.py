"""Counting on the profile's bins: bin_index against numpy's searchsorted."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlreport.profile import bin_index


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


def test_arrow_string_categories_count_as_python_strings() -> None:
    """Arrow-backed strings take a faster factorisation: the summaries equal those of the same values as objects."""
    import pandas as pd

    from mlreport.profile import ReferenceProfile

    rng = np.random.default_rng(5)
    levels = np.array(["web", "branch", "broker", "mobile", "new"], dtype=object)
    reference_values = levels[rng.integers(0, 4, 5000)]
    current_values = levels[rng.integers(0, 5, 4000)]  # "new" only in the current window
    current_values[rng.random(4000) < 0.05] = None
    groups = pd.Series(rng.integers(0, 3, 4000))
    profile = ReferenceProfile.fit(pd.DataFrame({"channel": pd.Series(reference_values, dtype="str")}),
                                   categorical=["channel"])
    fast, plain = (pd.DataFrame({"channel": pd.Series(current_values, dtype=dtype)}) for dtype in ("str", object))
    assert isinstance(fast["channel"].dtype, pd.StringDtype) and fast["channel"].dtype.storage == "pyarrow"
    for part in (slice(None), slice(1000, 3000)):
        a = profile.summarize(fast.iloc[part]).columns["channel"]
        b = profile.summarize(plain.iloc[part]).columns["channel"]
        assert np.array_equal(a.counts, b.counts) and a.missing == b.missing == int(pd.isna(current_values[part]).sum())
        assert a.counts[-1] == np.count_nonzero(current_values[part] == "new")  # the unseen level: "other"
    by_fast, by_plain = profile.summarize_by(fast, groups), profile.summarize_by(plain, groups)
    assert list(by_fast) == list(by_plain) == [0, 1, 2]
    for key in by_fast:
        assert np.array_equal(by_fast[key].columns["channel"].counts, by_plain[key].columns["channel"].counts)
        assert by_fast[key].columns["channel"].missing == by_plain[key].columns["channel"].missing


@pytest.mark.parametrize("share", [0.0, 0.001, 0.1, 0.2, 0.9, 1.0])
def test_a_selection_of_rows_counts_as_its_mask_whether_kept_as_positions_or_as_the_mask(share):
    from mlreport.profile._counts import _Counter, _rows_of

    rng = np.random.default_rng(5)
    rows = 50_000
    mask = rng.random(rows) < share
    groups = rng.integers(0, 7, rows).astype(np.int64)
    selection = _rows_of(mask)
    assert (selection.dtype == np.bool_) == (np.count_nonzero(mask) * 8 >= rows)
    for counter in (_Counter(groups, 7), _Counter(None, 1)):
        expected = (np.bincount(groups[mask], minlength=7) if counter.groups is not None
                    else np.array([mask.sum()]))
        np.testing.assert_array_equal(counter.count(selection), expected)
        subset = counter.subset(selection)
        if counter.groups is not None:
            np.testing.assert_array_equal(subset.groups, groups[mask])


def test_group_codes_of_arrow_strings_are_pandas_sorted_factorize():
    import pandas as pd

    from mlreport.profile import ReferenceProfile

    rng = np.random.default_rng(8)
    levels = np.array(["north", "South", "é-east", "", "west", "Zulu", "ábc", "北"], dtype=object)
    values = levels[rng.integers(0, len(levels), 20_000)]
    values[rng.random(20_000) < 0.05] = None
    key = pd.Series(values, dtype="str")
    assert key.dtype.storage == "pyarrow"
    frame = pd.DataFrame({"key": key, "x": rng.normal(size=len(key))})
    profile = ReferenceProfile.fit(frame, ["x"])
    codes, labels = profile._key_codes(frame, "key")
    expected_codes, expected_labels = pd.factorize(key, sort=True, use_na_sentinel=True)
    np.testing.assert_array_equal(codes, expected_codes)
    assert list(labels) == list(expected_labels)
    parts = profile.summarize_by(frame, "key")
    assert list(parts) == list(expected_labels)
    assert [part.rows for part in parts.values()] == [int((key == label).sum()) for label in expected_labels]
