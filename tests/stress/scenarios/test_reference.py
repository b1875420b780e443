"""Tests of mlreport.stress.scenarios: quantiles against numpy, and infinite values left out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scenario_frames import shocked

from mlreport.stress.scenarios import ColumnReference, Shock


def test_reference_quantiles_match_numpy():
    values = np.random.default_rng(3).lognormal(size=5_000)
    ref = ColumnReference.fit(pd.Series(values))
    probabilities = np.array([0.0, 0.013, 0.25, 0.5, 0.9, 0.99991, 1.0])
    np.testing.assert_allclose(ref.quantile(probabilities), np.quantile(values, probabilities), rtol=1e-3)
    assert ref.std == pytest.approx(np.std(values, ddof=1))


def test_reference_is_fitted_on_finite_values_and_counts_the_infinities():
    values = np.random.default_rng(4).lognormal(size=2_000)
    with_inf = values.copy()
    with_inf[:20], with_inf[20:25] = np.inf, -np.inf
    ref = ColumnReference.fit(pd.Series(np.append(with_inf, np.nan)))  # pytest turns numpy warnings into errors
    finite = with_inf[np.isfinite(with_inf)]
    probabilities = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    np.testing.assert_allclose(ref.quantile(probabilities), np.quantile(finite, probabilities), rtol=1e-3)
    assert np.isfinite(ref.quantiles).all() and np.isfinite(ref.rank_values).all()
    assert ref.mean == pytest.approx(finite.mean()) and ref.std == pytest.approx(np.std(finite, ddof=1))
    assert ref.median == pytest.approx(np.median(finite)) and ref.nonfinite == 25
    assert ColumnReference.fit(pd.Series(values)).nonfinite == 0
    only_inf = ColumnReference.fit(pd.Series([np.inf, -np.inf, np.nan]))
    assert only_inf.numeric and only_inf.quantiles is None and only_inf.nonfinite == 2
    # Shocks on such a column: infinities stay where they are, finite values move on the finite reference.
    frame = pd.DataFrame({"x": [np.inf, 1.0, -np.inf]})
    out = shocked(frame, Shock("quantile_shift", "x", by=0.1), reference=pd.DataFrame({"x": with_inf}))
    assert out["x"].iloc[0] == np.inf and out["x"].iloc[2] == -np.inf
    assert out["x"].iloc[1] == pytest.approx(np.quantile(finite, np.mean(finite <= 1.0) + 0.1), rel=0.02)
