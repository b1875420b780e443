"""The mechanisms of issue 13 for the volume report: the error budget, the zero rule, the onset window, types.

Data here is generated in other shapes than the sample (other column names, a flat Poisson hourly log).
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from mlreport.counts import count_decisions
from mlreport.errors import ParameterError
from mlreport.stats import zero_expected_minimum
from mlreport.volume import ALPHA_SHARES, VolumeConfig, analyse_volume

ROLES = {"timestamp_column": "at", "decision_column": "verdict", "segment_columns": ["shop"]}


def _log(weeks: int = 6, per_hour: float = 12.0, seed: int = 0, end_hour: int | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hours = weeks * 168 if end_hour is None else (weeks - 1) * 168 + end_hour
    n = rng.poisson(per_hour, hours)
    hour = np.repeat(np.arange(hours), n)
    at = pd.Timestamp("2025-06-02") + pd.to_timedelta(hour * 3600 + rng.integers(0, 3600, hour.size), unit="s")
    return pd.DataFrame({
        "at": at,
        "verdict": rng.choice(["yes", "no"], size=hour.size, p=[0.7, 0.3]),
        "shop": rng.choice(["a", "b"], size=hour.size),
    })


def test_the_families_share_the_whole_budget_and_overrides_are_checked():
    assert sum(ALPHA_SHARES.values()) == pytest.approx(1.0)
    config = VolumeConfig()
    for family, share in ALPHA_SHARES.items():
        assert config.alpha(family, "warning") == pytest.approx(0.05 * share)
        assert config.alpha(family, "incident") == pytest.approx(0.01 * share)
    # Bonferroni across families: the shares of a report's warning budget add up to at most alpha_warning.
    assert sum(config.alpha(f, "warning") for f in ALPHA_SHARES) <= 0.05 + 1e-12
    with pytest.raises(ParameterError, match="alpha_shares sum to"):
        VolumeConfig(alpha_shares={"volume_zero": 0.9})
    with pytest.raises(ParameterError, match="unknown families"):
        VolumeConfig(alpha_shares={"volume_zeros": 0.1})


def test_the_zero_rule_minimum_follows_the_tests_and_the_dispersion_of_the_report():
    result = analyse_volume(_log(), VolumeConfig(period="H"), **ROLES)
    limits = result.limits
    assert limits.zero_period == "H" and limits.zero_tests > 0
    alpha = VolumeConfig().alpha("volume_zero", "incident")
    assert limits.zero_probability == pytest.approx(alpha / limits.zero_tests)
    # At the minimum expected count the probability of one zero hour is the per-test level (scipy's Poisson:
    # the Poisson traffic has dispersion 1, the median's error makes r slightly above 1).
    minimum = limits.zero_minimum["overall"]
    poisson = zero_expected_minimum(alpha, limits.zero_tests)
    assert poisson <= minimum < poisson * 1.3
    assert sps.poisson.pmf(0, poisson) == pytest.approx(alpha / limits.zero_tests)
    # No zero hour on a clean 12-an-hour log, and none flagged.
    assert not [f for f in result.findings if f.check == "volume_zero" and f.severity != "ok"]


def test_an_eight_hour_outage_is_an_incident_hourly_and_daily():
    frame = _log(per_hour=20.0, seed=3)  # shop a expects 10 decisions an hour
    begin = pd.Timestamp("2025-06-02") + pd.Timedelta(weeks=5, days=2, hours=9)
    cut = frame[~((frame["shop"] == "a") & (frame["at"] >= begin) & (frame["at"] < begin + pd.Timedelta(hours=8)))]
    for period in ("H", "D"):
        result = analyse_volume(cut, VolumeConfig(period=period), **ROLES)
        zero = [f for f in result.findings if f.check == "volume_zero" and f.subject == "shop=a"]
        assert zero and zero[0].severity == "incident", (period, [f.message for f in result.findings])


def test_a_late_rate_change_is_measured_from_its_onset():
    frame = _log(seed=5)
    since = pd.Timestamp("2025-06-02") + pd.Timedelta(weeks=6) - pd.Timedelta(days=5)
    late = (frame["at"] >= since) & (frame["shop"] == "b")
    rng = np.random.default_rng(9)
    frame.loc[late, "verdict"] = rng.choice(["yes", "no"], size=int(late.sum()), p=[0.85, 0.15])
    result = analyse_volume(frame, VolumeConfig(period="D"), **ROLES)
    assert result.status == "incident"
    assert result.most_moved_decision() in ("yes", "no")
    top = result.segment_table("rate")
    assert top.iloc[0]["segment_value"] == "b"
    assert pd.Timestamp(top.iloc[0]["since"]) >= since - pd.Timedelta(days=2)
    # From the onset the within-segment move is about the injected +15 pp (not diluted over two weeks).
    assert abs(top.iloc[0]["current rate %"] - top.iloc[0]["baseline rate %"]) > 10


def test_untimed_rows_are_a_finding_with_their_count():
    frame = _log(seed=1)
    frame.loc[frame.index % 10 == 0, "at"] = pd.NaT
    result = analyse_volume(frame, VolumeConfig(period="D"), **ROLES)
    found = [f for f in result.findings if f.check.startswith("timestamp_missing")]
    assert len(found) == 1 and found[0].severity == "incident"
    assert f"{int(frame['at'].isna().sum()):,} decisions" in found[0].message


def test_decimal_scores_are_numbers():
    frame = _log(weeks=5, seed=2)
    frame["risk"] = [Decimal(f"{v:.4f}") for v in np.random.default_rng(0).random(len(frame))]
    counts = count_decisions(frame, VolumeConfig(period="D"), score_column="risk", **ROLES)
    assert counts.score_edges is not None and np.all(np.isfinite(counts.score_edges))
    assert math.isclose(float(counts.score_counts.sum()), len(frame))
