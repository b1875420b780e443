"""Control charts and change points against textbook values and independent references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlreport.errors import ParameterError
from mlreport.stats import (
    change_points,
    cusum_arl,
    cusum_false_alarm,
    cusum_limit,
    ewma_arl,
    ewma_chart,
    ewma_false_alarm,
    ewma_limit,
    ewma_variance,
    laney_p_chart,
    normal_limit,
    run_limit,
    segment_cost,
    tabular_cusum,
)

# Montgomery, Introduction to Statistical Quality Control, Example 9.1 / Table 9.1:
# 30 observations, the first 20 from N(10, 1), the last 10 from N(11, 1).
MONTGOMERY = np.array([
    9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.20, 10.34,
    9.03, 11.47, 10.51, 9.40, 10.08, 9.37, 10.62, 10.31, 8.52, 10.84,
    10.90, 9.33, 12.29, 11.50, 10.60, 11.08, 10.38, 11.62, 11.31, 10.52,
])


# --------------------------------------------------------------------------- Laney p′


def test_laney_limits_match_hand_computation():
    # n = 100, 200, 100, 200 and x = 10, 30, 20, 20, all phase I. By hand:
    # p̄ = 80/600 = 0.133333; p̄(1-p̄) = 0.115556
    # σ_p = sqrt(0.115556/100) = 0.033993 (n=100), sqrt(0.115556/200) = 0.024037 (n=200)
    # z = (0.10-0.13333)/0.033993 = -0.98058, (0.15-0.13333)/0.024037 = 0.69338,
    #     (0.20-0.13333)/0.033993 = 1.96116, (0.10-0.13333)/0.024037 = -1.38675
    # MR = 1.67396, 1.26779, 3.34791; mean 2.09655; σ_z = 2.09655/1.128 = 1.85864
    # UCL(n=100) = 0.13333 + 3(1.85864)(0.033993) = 0.32288
    # UCL(n=200) = 0.13333 + 3(1.85864)(0.024037) = 0.26736; LCL(n=200) = -0.00070 -> 0
    chart = laney_p_chart([10, 30, 20, 20], [100, 200, 100, 200], [True] * 4)
    assert chart.pooled == pytest.approx(0.133333, abs=1e-6)
    np.testing.assert_allclose(chart.center, 0.133333, atol=1e-6)
    assert chart.sigma_z == pytest.approx(1.85864, abs=1e-5)
    np.testing.assert_allclose(chart.sigma, [0.033993, 0.024037, 0.033993, 0.024037], atol=1e-6)
    np.testing.assert_allclose(chart.ucl, [0.32288, 0.26736, 0.32288, 0.26736], atol=1e-5)
    np.testing.assert_allclose(chart.lcl, 0.0, atol=1e-12)
    np.testing.assert_allclose(chart.z * chart.sigma_z, [-0.98058, 0.69338, 1.96116, -1.38675], atol=1e-5)


def test_laney_with_sigma_z_below_one_is_floored_to_the_p_chart():
    # Alternating tiny deviations: moving ranges small, σ_z < 1.
    counts = [50, 51, 50, 51, 50, 51]
    totals = [100] * 6
    floored = laney_p_chart(counts, totals, [True] * 6)
    raw = laney_p_chart(counts, totals, [True] * 6, floor_sigma_z=False)
    assert raw.sigma_z_raw < 1.0 and raw.sigma_z == raw.sigma_z_raw
    assert floored.sigma_z == 1.0
    p = 303 / 600
    assert floored.ucl[0] == pytest.approx(p + 3 * math.sqrt(p * (1 - p) / 100))


def test_laney_phase1_only_sets_the_limits():
    chart = laney_p_chart([10, 12, 11, 90], [100, 100, 100, 100], [True, True, True, False])
    assert chart.pooled == pytest.approx(33 / 300)
    assert chart.z[3] > 10  # the phase-II jump is far outside


def test_laney_degenerate_rate_gives_no_limits():
    chart = laney_p_chart([0, 0, 0], [10, 10, 10], [True] * 3)
    assert math.isnan(chart.sigma_z) and np.isnan(chart.ucl).all()


def test_laney_seasonal_centres_and_variances():
    # Two slots over two weeks. Slot 0: n 100 + 300, x 10 + 45 -> c0 = 55/400 = 0.1375.
    # Slot 1: n 200 + 200, x 40 + 60 -> c1 = 100/400 = 0.25. A phase-II period of slot 0
    # with n = 100: sd = sqrt(c0(1-c0)(1/100 + 1/400)); a phase-I one: sqrt(c0(1-c0)(1-w)/n).
    counts = [10, 40, 45, 60, 30]
    totals = [100, 200, 300, 200, 100]
    slots = [0, 1, 0, 1, 0]
    chart = laney_p_chart(counts, totals, [True, True, True, True, False], slots=slots)
    c0, c1 = 0.1375, 0.25
    np.testing.assert_allclose(chart.center, [c0, c1, c0, c1, c0])
    assert chart.sigma[4] == pytest.approx(math.sqrt(c0 * (1 - c0) * (1 / 100 + 1 / 400)))
    assert chart.sigma[0] == pytest.approx(math.sqrt(c0 * (1 - c0) * (1 - 100 / 400) / 100))
    assert chart.sigma[1] == pytest.approx(math.sqrt(c1 * (1 - c1) * (1 - 200 / 400) / 200))
    # z of the phase-II period uses the slot centre.
    assert chart.z[4] * chart.sigma_z == pytest.approx((0.30 - c0) / chart.sigma[4])


def test_laney_seasonal_slot_with_a_degenerate_rate_falls_back_to_the_pooled_rate():
    chart = laney_p_chart([0, 20, 0, 22, 3], [50, 100, 50, 100, 50], [True] * 4 + [False], slots=[0, 1, 0, 1, 0])
    pooled = 42 / 300
    assert chart.center[4] == pytest.approx(pooled)
    assert chart.sigma[4] == pytest.approx(math.sqrt(pooled * (1 - pooled) * (1 / 50 + 1 / 300)))


def test_laney_rejects_bad_input():
    with pytest.raises(ParameterError):
        laney_p_chart([1, 2], [10], [True, True])
    with pytest.raises(ParameterError):
        laney_p_chart([1, 2], [10, 10], [True, True], L=0)


# --------------------------------------------------------------------------- EWMA


def test_ewma_variance_matches_the_closed_form_for_constant_sigma():
    lam, sigma2 = 0.2, 2.5
    t = np.arange(1, 41)
    closed_form = sigma2 * lam / (2 - lam) * (1 - (1 - lam) ** (2 * t))
    np.testing.assert_allclose(ewma_variance(np.full(40, sigma2), lam), closed_form, rtol=1e-12)


def test_ewma_variance_with_varying_sigma_matches_the_weighted_sum():
    rng = np.random.default_rng(3)
    sigma2 = rng.uniform(0.5, 3.0, size=25)
    lam = 0.3
    expected = [
        sum(lam**2 * (1 - lam) ** (2 * (t - i)) * sigma2[i] for i in range(t + 1)) for t in range(25)
    ]
    np.testing.assert_allclose(ewma_variance(sigma2, lam), expected, rtol=1e-12)


def test_ewma_reproduces_montgomery_example():
    # Montgomery Example 9.2: λ = 0.1, L = 2.7, μ0 = 10, σ = 1 on the data of Table 9.1.
    chart = ewma_chart(MONTGOMERY, 10.0, np.ones(30), lam=0.1, L=2.7)
    assert chart.statistic[0] == pytest.approx(9.945)
    assert chart.statistic[1] == pytest.approx(9.7495)
    assert chart.ucl[0] == pytest.approx(10.27)
    assert chart.lcl[0] == pytest.approx(9.73)
    assert chart.ucl[1] == pytest.approx(10.3632, abs=1e-4)
    # The limits approach the asymptotic 10 ± 2.7 sqrt(0.1/1.9) = 10 ± 0.6194.
    assert chart.ucl[-1] == pytest.approx(10 + 2.7 * math.sqrt(0.1 / 1.9), abs=1e-3)


def test_ewma_skips_missing_periods_and_carries_state():
    values = np.array([1.0, np.nan, 1.0])
    chart = ewma_chart(values, 0.0, np.ones(3), lam=0.5, L=3.0)
    assert math.isnan(chart.statistic[1])
    assert chart.statistic[2] == pytest.approx(0.75)  # 0.5, then carried, then 0.5*1 + 0.5*0.5
    assert chart.variance[2] == pytest.approx(0.25 + 0.25 * 0.25)


def test_ewma_target_variance_adds_the_shared_centre_error():
    lam, c = 0.2, 0.04
    chart = ewma_chart(np.zeros(10), 0.0, np.ones(10), lam=lam, target_variance=c)
    m = np.arange(1, 11)
    expected = lam / (2 - lam) * (1 - (1 - lam) ** (2 * m)) + (1 - (1 - lam) ** m) ** 2 * c
    np.testing.assert_allclose(chart.variance, expected, rtol=1e-12)


def test_ewma_rejects_bad_lambda():
    with pytest.raises(ParameterError):
        ewma_variance(np.ones(3), 0.0)


# --------------------------------------------------------------------------- CUSUM


def test_cusum_reproduces_montgomery_table():
    # Montgomery Example 9.1 / Table 9.2: K = 0.5, H = 5 in σ units, μ0 = 10, σ = 1.
    result = tabular_cusum(MONTGOMERY - 10.0, k=0.5, h=5.0)
    assert result.upper[3] == pytest.approx(1.16)
    assert result.upper[4] == pytest.approx(2.82)
    assert result.lower[1] == pytest.approx(1.56)
    assert result.lower[2] == pytest.approx(1.77)
    assert result.upper[28] == pytest.approx(5.28)
    assert result.first_signal() == 28  # period 29
    assert result.upper_run[28] == 7  # N+ = 7: the shift began after period 22
    assert result.onset(28) == 22  # 0-based index of period 23
    assert not result.signal[:28].any()


def test_cusum_recursion_on_a_small_worked_example():
    # x = 1, 2, -1, 0.5 with k = 0.5: C+ = 0.5, 2.0, 0.5, 0.5; C- = 0, 0, 0.5, 0
    result = tabular_cusum([1.0, 2.0, -1.0, 0.5], k=0.5, h=1.9)
    np.testing.assert_allclose(result.upper, [0.5, 2.0, 0.5, 0.5])
    np.testing.assert_allclose(result.lower, [0.0, 0.0, 0.5, 0.0])
    np.testing.assert_array_equal(result.signal, [False, True, False, False])


def test_cusum_skips_missing_values():
    result = tabular_cusum([1.0, np.nan, 1.0], k=0.5, h=5)
    assert math.isnan(result.upper[1])
    assert result.upper[2] == pytest.approx(1.0)


# --------------------------------------------------------------------------- change points


def test_change_point_of_a_clear_step_is_exact():
    rng = np.random.default_rng(11)
    values = np.concatenate([rng.normal(0, 1, 40), rng.normal(4, 1, 20)])
    assert change_points(values).indices == [40]


def test_change_points_ignore_missing_values_and_report_positions():
    rng = np.random.default_rng(2)
    values = np.concatenate([rng.normal(0, 1, 15), [np.nan, np.nan], rng.normal(6, 1, 15)])
    assert change_points(values).indices == [17]


def test_no_change_point_in_a_constant_or_short_series():
    assert change_points(np.ones(30)).indices == []
    assert change_points([1.0, 2.0, 3.0]).indices == []


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), shift=st.floats(0.0, 5.0), at=st.integers(20, 80))
def test_cumulative_cost_pelt_equals_ruptures_l2(seed, shift, at):
    import ruptures

    rng = np.random.default_rng(seed)
    values = rng.normal(0, 1, 100)
    values[at:] += shift
    found = change_points(values)
    reference = ruptures.Pelt(model="l2", min_size=2, jump=1).fit(values.reshape(-1, 1))
    assert found.indices == reference.predict(pen=found.penalty)[:-1]


def test_long_series_are_dated_to_the_period():
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.normal(0, 1, 700), rng.normal(3, 1, 644)])
    found = change_points(values)
    assert found.jump > 1
    assert found.indices == [700]
    assert segment_cost(values, 0, 700) + segment_cost(values, 700, 1344) < segment_cost(values, 0, 1344)


# --------------------------------------------------------------------------- limits for a false-alarm budget


def _simulated_cusum_alarm(k, h, periods, runs=20_000, seed=0):
    rng = np.random.default_rng(seed)
    upper = np.zeros(runs)
    lower = np.zeros(runs)
    alarmed = np.zeros(runs, dtype=bool)
    for _ in range(periods):
        z = rng.standard_normal(runs)
        upper = np.maximum(0.0, upper + z - k)
        lower = np.maximum(0.0, lower - z - k)
        alarmed |= (upper > h) | (lower > h)
    return alarmed.mean()


@pytest.mark.parametrize("h, one_sided", [(4.0, 336.0), (5.0, 930.0)])
def test_cusum_arl_matches_the_published_values(h, one_sided):
    # Montgomery, Table 9.3: k = 1/2, h = 4 / 5 give two-sided ARL0 168 / 465 (one-sided 336 / 930);
    # Siegmund's approximation (exp(2kb) - 2kb - 1) / (2k^2), b = h + 1.166, agrees to about 1 %.
    arl = cusum_arl(0.5, h)
    assert arl == pytest.approx(one_sided, rel=0.01)
    b = h + 1.166
    assert arl == pytest.approx((math.exp(b) - b - 1) / 0.5, rel=0.02)


@pytest.mark.parametrize("lam, L", [(0.2, 2.962), (0.1, 2.814), (0.05, 2.615), (0.4, 3.054)])
def test_ewma_arl_matches_lucas_and_saccucci(lam, L):
    # Lucas and Saccucci (1990) / Montgomery Table 9.11: these pairs have in-control ARL 500.
    assert ewma_arl(lam, L) == pytest.approx(500.0, rel=0.01)


def test_cusum_false_alarm_over_a_horizon_matches_simulation():
    for h, periods in ((4.0, 50), (5.0, 200)):
        simulated = _simulated_cusum_alarm(0.5, h, periods)
        assert cusum_false_alarm(0.5, h, periods) == pytest.approx(simulated, rel=0.12, abs=0.004)


def test_ewma_false_alarm_with_exact_limits_matches_simulation():
    rng = np.random.default_rng(3)
    runs, periods, lam, L = 4_000, 60, 0.2, 2.7
    alarms = 0
    for _ in range(runs):
        chart = ewma_chart(rng.standard_normal(periods), 0.0, np.ones(periods), lam=lam, L=L)
        alarms += bool(chart.out.any())
    simulated = alarms / runs
    assert ewma_false_alarm(lam, L, periods) == pytest.approx(simulated, rel=0.15, abs=0.01)


def test_limits_solve_for_the_budget_and_grow_with_the_horizon():
    for periods in (14, 336):
        h = cusum_limit(0.5, periods, 0.002)
        assert cusum_false_alarm(0.5, h, periods) == pytest.approx(0.002, rel=0.01)
        L = ewma_limit(0.2, periods, 0.002)
        assert ewma_false_alarm(0.2, L, periods) == pytest.approx(0.002, rel=0.01)
    assert cusum_limit(0.5, 14, 0.002) < cusum_limit(0.5, 336, 0.002)
    assert ewma_limit(0.2, 14, 0.002) < ewma_limit(0.2, 336, 0.002)


def _brook_evans_false_alarm(k: float, h: float, periods: int, states: int = 151) -> float:
    """Two-sided CUSUM false-alarm probability over ``periods``, every period a full product (reference).

    The transient block is built here from scipy's normal CDF (cell ``j`` covers
    ``[(j - 1/2) w, (j + 1/2) w)``, ``w = 2h / (2N - 1)``, cell 0 holds the atom
    at 0) and the survival is ``e0 Q^periods 1`` by :func:`numpy.linalg.matrix_power`.
    """
    from scipy import stats as sps

    width = 2.0 * h / (2 * states - 1)
    centre = np.arange(states) * width
    upper = sps.norm.cdf((np.arange(states) + 0.5)[None, :] * width - centre[:, None] + k)
    block = np.diff(np.concatenate([np.zeros((states, 1)), upper], axis=1), axis=1)
    survival = np.linalg.matrix_power(block, periods)[0].sum()
    return min(1.0, 2.0 * (1.0 - survival))


def _lucas_saccucci_false_alarm(lam: float, L: float, periods: int, states: int = 151) -> float:
    """EWMA false-alarm probability with the exact time-varying limits, every period a product (reference)."""
    from scipy import stats as sps

    limit = L * math.sqrt(lam / (2.0 - lam))
    width = 2.0 * limit / states
    centre = -limit + width * (np.arange(states) + 0.5)
    edges = np.concatenate([centre - width / 2.0, [limit]])
    block = np.diff(sps.norm.cdf((edges[None, :] - (1.0 - lam) * centre[:, None]) / lam), axis=1)
    state = np.zeros(states)
    state[states // 2] = 1.0
    for t in range(1, periods + 1):
        inside = np.abs(centre) <= limit * math.sqrt(max(1.0 - (1.0 - lam) ** (2 * t), 0.0))
        state = (state @ block) * inside if not inside.all() else state @ block
    return 1.0 - state.sum()


@pytest.mark.parametrize("k, h, periods", [
    (0.5, 4.0, 8), (0.5, 5.0, 28), (0.5, 12.3, 672), (0.25, 8.0, 336), (1.0, 2.0, 2000), (0.5, 0.6, 672),
])
def test_cusum_false_alarm_stopping_early_equals_every_product(k, h, periods):
    # The survival stops multiplying once the state's shape has converged (quasi-stationary) and
    # extrapolates by its eigenvalue. Running every product by a loop or by a matrix power differs
    # by about 2e-13 already (rounding); the early stop is within 1e-12 of either.
    reference = _brook_evans_false_alarm(k, h, periods)
    assert cusum_false_alarm(k, h, periods) == pytest.approx(reference, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("lam, L, periods", [
    (0.2, 2.962, 28), (0.2, 4.8, 672), (0.1, 2.5, 336), (0.05, 3.0, 2000), (0.5, 1.5, 672),
])
def test_ewma_false_alarm_stopping_early_equals_every_product(lam, L, periods):
    reference = _lucas_saccucci_false_alarm(lam, L, periods)
    assert ewma_false_alarm(lam, L, periods) == pytest.approx(reference, rel=1e-9, abs=1e-12)


def test_limits_of_a_four_week_hourly_report_are_those_of_every_product():
    # The limits a 10^7-row hourly report solves for (672 analysed hours, alpha 0.00125 per chart,
    # sigma on 416 degrees of freedom), before the survival stopped early: 12.320691422633386 and
    # 4.808710819706086 (computed with every product at c24afe6). Within brentq's own xtol of 1e-3
    # by far: the verdicts cannot move.
    assert cusum_limit(0.5, 672, 0.00125, df=416.02) == pytest.approx(12.320691422633386, abs=1e-7)
    assert ewma_limit(0.2, 672, 0.00125, df=416.02) == pytest.approx(4.808710819706086, abs=1e-7)


def test_normal_and_run_limits_are_the_bonferroni_quantiles():
    from scipy import stats as sps

    L = normal_limit(0.0075, 1008)
    assert 2 * sps.norm.sf(L) == pytest.approx(0.0075 / 1008)
    L = run_limit(0.0005, 1008, 3)
    assert 2 * 1008 * sps.norm.sf(L) ** 3 == pytest.approx(0.0005)
    assert run_limit(0.0005, 1008, 1) == pytest.approx(normal_limit(0.0005, 1008))
