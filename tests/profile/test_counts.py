"""Counting on the profile's bins: bin_index against numpy's searchsorted."""

from __future__ import annotations

import numpy as np
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
