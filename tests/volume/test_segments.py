"""Shift-share decomposition: contributions add up to the overall change, a worked example."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlreport.volume import shift_share


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500), st.integers(0, 500)),
        min_size=1, max_size=6,
    )
)
def test_shift_share_contributions_add_up_to_the_overall_change(data):
    # Each segment: baseline total and count, current total and count (count <= total),
    # including segments absent from one window.
    nb = np.array([row[0] for row in data], dtype=float)
    xb = np.array([min(row[1], row[0]) for row in data], dtype=float)
    nc = np.array([row[2] for row in data], dtype=float)
    xc = np.array([min(row[3], row[2]) for row in data], dtype=float)
    if nb.sum() == 0 or nc.sum() == 0:
        return
    parts = shift_share(nb, xb, nc, xc)
    overall = xc.sum() / nc.sum() - xb.sum() / nb.sum()
    assert parts["contribution"].sum() == pytest.approx(overall, abs=1e-12)
    assert (parts["mix_effect"] + parts["within_effect"]).to_numpy() == pytest.approx(parts["contribution"].to_numpy())


def test_shift_share_worked_example():
    # Two segments: A 100 -> 300 decisions at rate 0.5 -> 0.5; B 100 -> 100 at 0.7 -> 0.8.
    parts = shift_share(np.array([100, 100]), np.array([50, 70]), np.array([300, 100]), np.array([150, 80]))
    # p^b = 0.6, p^c = 230/400 = 0.575. A: mix (0.75-0.5)(0.5-0.6) = -0.025, within 0.
    # B: mix (0.25-0.5)(0.7-0.6) = -0.025, within 0.25 * 0.1 = 0.025.
    np.testing.assert_allclose(parts["mix_effect"], [-0.025, -0.025])
    np.testing.assert_allclose(parts["within_effect"], [0.0, 0.025])
    assert parts["contribution"].sum() == pytest.approx(0.575 - 0.6)


@pytest.mark.parametrize("T, ppw", [(1344, 168), (56, 7), (60, 7), (16, 1), (3, 7)])
def test_the_onset_scans_variance_for_every_start_equals_the_per_start_sum(T, ppw):
    # Var(O - E) / phi of the window from each start s: sum over assessed t >= s of
    # mu_t (1 + pi / (2 K_t) n_slot(t)), n_slot counting the assessed periods >= s of t's slot,
    # written out per start as the module docstring states it (the O(T^2) loop the scan ran before).
    from mlreport.volume._onset import _suffix_variance

    rng = np.random.default_rng(T + ppw)
    mu = rng.gamma(2.0, 50.0, T)
    unit = math.pi / 2.0 / rng.integers(1, 5, T)
    assessed = rng.random(T) < 0.9
    slot = np.arange(T) % ppw
    expected = []
    for start in range(T):
        inside = assessed & (np.arange(T) >= start)
        same = np.bincount(slot[inside], minlength=ppw)[slot]
        expected.append(float(np.sum(np.where(inside, mu * (1.0 + unit * same), 0.0))))
    np.testing.assert_allclose(_suffix_variance(mu, unit, assessed, ppw), expected, rtol=1e-12, atol=0)
