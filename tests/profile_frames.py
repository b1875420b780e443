"""Shared by the profile tests: the sample and its profile (fixtures), features, equality of summaries.

A test module takes the fixtures by importing ``sample_fixture`` / ``profile_fixture``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlreport.profile import ColumnSummary, ReferenceProfile, Summaries
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


@pytest.fixture(scope="module", name="sample")
def sample_fixture() -> pd.DataFrame:
    return generate(6000, seed=11)


@pytest.fixture(scope="module", name="profile")
def profile_fixture(sample: pd.DataFrame) -> ReferenceProfile:
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
