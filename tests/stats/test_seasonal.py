"""Periods, daylight-saving exposure, the seasonal median and quasi-Poisson tails."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from mlreport.errors import ParameterError
from mlreport.stats import (
    count_band,
    count_tail,
    floor_to_period,
    infer_period,
    median_inflation,
    parse_period,
    pearson_dispersion,
    period_exposure,
    seasonal_expected,
    zero_expected_minimum,
    zero_log_probability,
)


@pytest.mark.parametrize(
    "given, expected",
    [("H", "H"), ("hour", "H"), ("d", "D"), ("daily", "D"), ("W", "W"), ("auto", "auto"), ("", "auto"), (None, "auto")],
)
def test_parse_period(given, expected):
    assert parse_period(given) == expected


def test_parse_period_rejects_unknown():
    with pytest.raises(ParameterError, match="period 'month'"):
        parse_period("month")


def test_infer_period_from_density():
    eight_weeks = pd.Timedelta(weeks=8)
    assert infer_period(10_000_000, eight_weeks) == "H"  # ~7,400 an hour
    assert infer_period(50_000, eight_weeks) == "D"  # ~37 an hour, ~890 a day
    assert infer_period(2_000, eight_weeks) == "W"  # ~36 a day


def test_floor_to_period_weeks_start_on_monday():
    stamp = pd.Timestamp("2026-02-19 15:42")  # a Thursday
    assert floor_to_period(stamp, "H") == pd.Timestamp("2026-02-19 15:00")
    assert floor_to_period(stamp, "D") == pd.Timestamp("2026-02-19")
    assert floor_to_period(stamp, "W") == pd.Timestamp("2026-02-16")


def test_exposure_without_time_zone_is_one():
    np.testing.assert_array_equal(period_exposure(pd.Timestamp("2026-03-23"), 48, "H", None), np.ones(48))


def test_exposure_over_spring_forward_in_london():
    # 2026-03-29: clocks go from 01:00 to 02:00 GMT -> BST; local 01:00-02:00 does not exist.
    start = pd.Timestamp("2026-03-28")
    hourly = period_exposure(start, 72, "H", "Europe/London")
    missing = 24 + 1
    assert hourly[missing] == 0.0
    assert np.delete(hourly, missing).tolist() == [1.0] * 71
    daily = period_exposure(start, 3, "D", "Europe/London")
    np.testing.assert_allclose(daily, [1.0, 23 / 24, 1.0])
    weekly = period_exposure(pd.Timestamp("2026-03-23"), 2, "W", "Europe/London")
    np.testing.assert_allclose(weekly, [167 / 168, 1.0])


def test_exposure_over_fall_back_in_london():
    # 2026-10-25: local 01:00-02:00 happens twice (BST, then GMT).
    start = pd.Timestamp("2026-10-24")
    hourly = period_exposure(start, 72, "H", "Europe/London")
    assert hourly[24 + 1] == 2.0
    daily = period_exposure(start, 3, "D", "Europe/London")
    np.testing.assert_allclose(daily, [1.0, 25 / 24, 1.0])


def _daily(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=float)[:, None]


def test_fixed_baseline_is_the_median_of_the_same_weekday():
    # 4 baseline weeks of daily counts, then one analysed week.
    rng = np.random.default_rng(0)
    baseline = rng.integers(50, 150, size=28).astype(float)
    counts = _daily(list(baseline) + [100.0] * 7)
    result = seasonal_expected(
        counts, np.ones(35), periods_per_week=7, baseline_periods=28, weeks=4, mode="fixed",
        usable=np.ones(35, dtype=bool), first_seen=np.array([0]),
    )
    for day in range(7):
        same_weekday = baseline[day::7]
        assert result.expected[28 + day, 0] == pytest.approx(np.median(same_weekday))
        # Baseline periods get their own slot's in-sample median.
        assert result.expected[day, 0] == pytest.approx(np.median(same_weekday))
    assert (result.lags_used[28:] == 4).all()


def test_rolling_baseline_uses_the_previous_k_weeks():
    counts = _daily(list(range(1, 43)))  # six weeks
    result = seasonal_expected(
        counts, np.ones(42), periods_per_week=7, baseline_periods=28, weeks=4, mode="rolling",
        usable=np.ones(42, dtype=bool), first_seen=np.array([0]),
    )
    # Period 36 (0-based 35) -> lags 28, 21, 14, 7 (0-based) -> values 29, 22, 15, 8.
    assert result.expected[35, 0] == pytest.approx(np.median([29, 22, 15, 8]))
    assert result.expected[41, 0] == pytest.approx(np.median([35, 28, 21, 14]))


def test_holidays_and_not_yet_existing_periods_are_left_out_of_the_median():
    counts = _daily([10.0] * 7 + [20.0] * 7 + [30.0] * 7 + [1000.0] * 7 + [0.0] * 7)
    usable = np.ones(35, dtype=bool)
    usable[21] = False  # a holiday on the first day of week 4
    result = seasonal_expected(
        counts, np.ones(35), periods_per_week=7, baseline_periods=28, weeks=4, mode="fixed",
        usable=usable, first_seen=np.array([7]),  # the series starts in week 2
    )
    assert result.expected[28, 0] == pytest.approx(25.0)  # median of 20, 30 (week 1 absent, week 4 holiday)
    assert result.lags_used[28, 0] == 2
    assert result.expected[29, 0] == pytest.approx(30.0)  # median of 20, 30, 1000


def test_expected_scales_with_exposure():
    counts = _daily([24.0] * 28 + [23.0])
    exposure = np.ones(29)
    exposure[28] = 23 / 24
    result = seasonal_expected(
        counts, exposure, periods_per_week=7, baseline_periods=28, weeks=4, mode="fixed",
        usable=np.ones(29, dtype=bool), first_seen=np.array([0]),
    )
    assert result.expected[28, 0] == pytest.approx(23.0)


def test_no_lag_gives_no_expectation():
    counts = _daily([0.0] * 35)
    result = seasonal_expected(
        counts, np.ones(35), periods_per_week=7, baseline_periods=28, weeks=4, mode="fixed",
        usable=np.ones(35, dtype=bool), first_seen=np.array([30]),
    )
    assert np.isnan(result.expected[28, 0]) and result.lags_used[28, 0] == 0


def test_pearson_dispersion_equals_statsmodels_glm_scale():
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    periods = 28
    slot = np.arange(periods) % 7
    exposure = rng.uniform(0.8, 1.2, periods)
    mean = np.array([100, 120, 110, 90, 130, 60, 40])[slot] * exposure
    counts = rng.negative_binomial(20, 20 / (20 + mean)).astype(float)
    phi = pearson_dispersion(counts[:, None], exposure, periods_per_week=7, use=np.ones((periods, 1), bool))
    design = pd.get_dummies(pd.Series(slot).astype("category"), dtype=float).to_numpy()
    glm = sm.GLM(counts, design, family=sm.families.Poisson(), offset=np.log(exposure)).fit(scale="X2")
    assert phi.phi[0] == pytest.approx(glm.scale, rel=1e-8)
    assert phi.df[0] == glm.df_resid == 21
    assert phi.phi[0] > 2  # negative binomial with size 20 at mean ~100 is overdispersed


def test_pearson_dispersion_without_residual_degrees_of_freedom_is_nan():
    counts = np.array([[5.0], [7.0]])
    phi = pearson_dispersion(counts, np.ones(2), periods_per_week=7, use=np.ones((2, 1), bool))
    assert math.isnan(phi.phi[0]) and phi.df[0] == 0


def test_median_inflation():
    np.testing.assert_allclose(median_inflation(np.array([4, 2])), [1 + math.pi / 8, 1 + math.pi / 4])
    assert math.isnan(median_inflation(np.array([0]))[0])


def test_count_tail_matches_scipy_negative_binomial():
    mu, ratio = 200.0, 3.0
    n, p = mu / (ratio - 1), 1 / ratio
    distribution = sps.nbinom(n, p)
    assert distribution.mean() == pytest.approx(mu)
    assert distribution.var() == pytest.approx(ratio * mu)
    low, high, two = count_tail(np.array([150.0]), np.array([mu]), np.array([ratio]))
    assert low[0] == pytest.approx(distribution.cdf(150))
    assert high[0] == pytest.approx(distribution.sf(149))
    assert two[0] == pytest.approx(min(1.0, 2 * min(low[0], high[0])))
    tail = count_tail([150.0], [mu], [ratio])  # any array-like; the result names its parts
    assert (tail.lower[0], tail.upper[0], tail.two_sided[0]) == (low[0], high[0], two[0])


def test_count_tail_with_estimated_dispersion_uses_the_larger_student_t_tail():
    mu, ratio, df = 1000.0, 2.0, 21
    y = np.array([860.0, 1140.0])
    low, high, _ = count_tail(y, np.full(2, mu), np.full(2, ratio), df)
    nb_low, nb_high, _ = count_tail(y, np.full(2, mu), np.full(2, ratio))
    sd = math.sqrt(ratio * mu)
    assert low[0] == pytest.approx(max(nb_low[0], sps.t.cdf((860.5 - mu) / sd, df)))
    assert high[1] == pytest.approx(max(nb_high[1], sps.t.sf((1139.5 - mu) / sd, df)))
    assert low[0] > nb_low[0]  # the t tail is heavier far out: the estimated φ costs evidence


def test_count_tail_is_poisson_without_overdispersion():
    low, high, _ = count_tail(np.array([3.0]), np.array([10.0]), np.array([1.0]))
    assert low[0] == pytest.approx(sps.poisson.cdf(3, 10))
    assert high[0] == pytest.approx(sps.poisson.sf(2, 10))


def test_zero_count_tail_probability():
    # P(Y = 0) for NB1 with mean 20 and variance ratio 2: p^n = (1/2)^20.
    low, _, _ = count_tail(np.array([0.0]), np.array([20.0]), np.array([2.0]))
    assert low[0] == pytest.approx(0.5**20)


def test_count_band_covers_the_distribution():
    mu, ratio = 500.0, 4.0
    lower, upper = count_band(np.array([mu]), np.array([ratio]), 1e-3)
    distribution = sps.nbinom(mu / (ratio - 1), 1 / ratio)
    assert distribution.cdf(upper[0]) - distribution.cdf(lower[0] - 1) >= 1 - 1e-3
    assert lower[0] < mu < upper[0]
    lower, upper = count_band(np.array([0.0]), np.array([2.0]), 1e-3)
    assert lower[0] == upper[0] == 0.0
    band = count_band([mu], [ratio], 1e-3)
    assert band.lower[0] < mu < band.upper[0]


# --------------------------------------------------------------------------- zero counts


@pytest.mark.parametrize("expected, ratio", [(0.5, 1.0), (13.0, 1.0), (13.0, 1.9), (40.0, 3.0), (2.0, 1.39)])
def test_zero_log_probability_is_the_negative_binomial_probability_of_zero(expected, ratio):
    got = zero_log_probability(np.array([expected]), np.array([ratio]))[0]
    if ratio <= 1.0:
        assert got == pytest.approx(sps.poisson.logpmf(0, expected))
    else:
        # NB1: mean e, variance r e -> n = e / (r - 1), p = 1 / r (scipy's parametrisation).
        assert got == pytest.approx(sps.nbinom.logpmf(0, expected / (ratio - 1.0), 1.0 / ratio))


def test_a_run_of_zeros_has_the_probability_that_its_total_is_zero():
    # Independent NB1 periods with one ratio: the product of P(0) is P(sum = 0) for the summed mean.
    means, ratio = np.array([3.0, 7.5, 0.0, 11.0]), 1.6
    run = zero_log_probability(means, ratio).sum()
    assert run == pytest.approx(sps.nbinom.logpmf(0, means.sum() / (ratio - 1.0), 1.0 / ratio))
    assert zero_log_probability(np.array([0.0]), 2.0)[0] == 0.0  # nothing expected: a zero is certain


def test_zero_expected_minimum_follows_the_number_of_tests_and_the_dispersion():
    # The brief's figures: one zero among ~6,000 hour x segment tests at a 1 % family-wise error
    # needs about 13 expected with a known Poisson mean, about 19 when overdispersed (r 1.9).
    poisson = zero_expected_minimum(0.01, 6000)
    assert poisson == pytest.approx(math.log(600_000)) and 13.0 < poisson < 13.5
    assert 18.5 < zero_expected_minimum(0.01, 6000, 1.9) < 19.0
    # At the minimum the probability of a zero is exactly the per-test level (scipy's NB and Poisson).
    for tests, ratio in ((6000, 1.0), (6000, 1.9), (98, 2.5), (50_000, 1.2)):
        e = zero_expected_minimum(0.01, tests, ratio)
        p0 = sps.poisson.pmf(0, e) if ratio <= 1 else sps.nbinom.pmf(0, e / (ratio - 1), 1 / ratio)
        assert p0 == pytest.approx(0.01 / tests, rel=1e-9)
    # More tests or more dispersion need more expected volume before one zero means anything.
    assert zero_expected_minimum(0.01, 600) < poisson < zero_expected_minimum(0.01, 60_000)
    assert zero_expected_minimum(0.01, 6000, 1.5) < zero_expected_minimum(0.01, 6000, 2.5)
    with pytest.raises(ParameterError):
        zero_expected_minimum(0.0, 10)
