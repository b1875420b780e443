"""A column's sorted numbers: quantiles equal numpy's, moments and sums at the edge of the float range."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from profile_frames import (
    _assert_summaries_equal,
    sample_fixture,  # noqa: F401 - a fixture, taken by name
)

from mlreport.profile import ReferenceProfile


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(min_value=-20, max_value=20), min_size=1, max_size=300),
    st.integers(min_value=2, max_value=120),
)
def test_sorted_quantiles_equal_numpy_inverted_cdf(values, count):
    from mlreport.profile._sorted import _sorted_quantiles

    data = np.sort(np.asarray(values, dtype=float))
    expected = np.quantile(data, np.arange(1, count) / count, method="inverted_cdf")
    np.testing.assert_array_equal(_sorted_quantiles(data, count), expected)


# ---------------------------------------------------------------------------
# moments and sums at the edge of the float range


@settings(max_examples=40, deadline=None)
@given(
    # Unscaled values are 0 or at least 1e-100 in size: the reference (numpy at unit scale) squares them, and a
    # subnormal value's square underflows to 0 there (std of [0, 6e-181] is 0 in numpy, not in the profile).
    st.lists(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).filter(lambda v: v == 0 or abs(v) >= 1e-100),
             min_size=1, max_size=300),
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
