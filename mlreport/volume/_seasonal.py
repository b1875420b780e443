"""Decision volume per period against a seasonal baseline: the volume timeline's tests and events.

Every series (overall, and each segment level) is compared period by period
with the seasonal median of the baseline, with quasi-Poisson tail
probabilities and the hard zero rule (:mod:`mlreport.stats`): the rules
``volume_zero``, ``volume_extreme`` and ``volume_unusual``
(:mod:`mlreport.volume`). Consecutive flagged periods make one event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..counts import DecisionCounts, period_text
from ..findings import SEVERITIES, severity_rank, worst
from ..stats import (
    BASELINE_METHOD,
    DISPERSION_METHOD,
    PERIOD_WORDS,
    PERIODS_PER_WEEK,
    count_band,
    count_tail,
    median_inflation,
    pearson_dispersion,
    seasonal_expected,
)
from ._config import VolumeConfig
from ._events import SECTIONS, _about, _episodes, _Event, _phrase

__all__: list[str] = []


@dataclass
class _Series:
    names: list[str]
    columns: list[str | None]
    values: list[str | None]
    counts: np.ndarray  # [T, S]


def _series(counts: DecisionCounts) -> _Series:
    names: list[str] = ["overall"]
    columns: list[str | None] = [None]
    values: list[str | None] = [None]
    matrices = [counts.overall.sum(axis=1)[:, None]]
    for column, (levels, table) in counts.segments.items():
        names += [f"{column}={level}" for level in levels]
        columns += [column] * len(levels)
        values += list(levels)
        matrices.append(table.sum(axis=2))
    return _Series(names, columns, values, np.hstack(matrices).astype(float))


@dataclass
class _VolumeState:
    series: _Series
    expected: np.ndarray
    ratio: np.ndarray
    dispersion: np.ndarray
    df: np.ndarray
    assessed: np.ndarray
    p_two: np.ndarray
    rule: np.ndarray  # object [T, S]
    severity: np.ndarray  # object [T, S]
    zero: np.ndarray
    tail: np.ndarray
    lags: np.ndarray
    first_seen: np.ndarray


def _analyse_volume_series(counts: DecisionCounts, config: VolumeConfig) -> _VolumeState:
    series = _series(counts)
    y = series.counts
    n_periods, n_series = y.shape
    period = counts.period
    ppw = PERIODS_PER_WEEK[period]
    B = counts.baseline_periods
    t = np.arange(n_periods)[:, None]
    usable = (counts.exposure > 0) & ~counts.holiday
    seen = y > 0
    first_seen = np.where(seen.any(axis=0), seen.argmax(axis=0), n_periods)
    result = seasonal_expected(
        y, counts.exposure, periods_per_week=ppw, baseline_periods=B,
        weeks=config.baseline_weeks, mode=config.baseline_mode, usable=usable, first_seen=first_seen,
    )
    exists = t >= first_seen[None, :]
    expected = np.where(exists, result.expected, np.nan)
    use = usable[:B, None] & exists[:B]
    dispersion = pearson_dispersion(y[:B], counts.exposure[:B], periods_per_week=ppw, use=use)
    # No residual df: no estimate, so Poisson and no t correction.
    phi = np.where(np.isfinite(dispersion.phi), np.maximum(dispersion.phi, 1.0), 1.0)
    df = np.where(np.isfinite(dispersion.phi), dispersion.df, np.inf)
    ratio = phi[None, :] * median_inflation(result.lags_used)
    assessed = (t >= B) & usable[:, None] & np.isfinite(expected) & exists
    # An all-zero baseline slot still allows a surprise: test against half a count over the lags.
    floor = 0.5 * counts.exposure[:, None] / np.maximum(result.lags_used, 1)
    tested = np.where(expected > 0, expected, floor)
    _, _, p_two = count_tail(y, np.where(assessed, tested, np.nan), ratio, df[None, :])
    difference = y - np.where(np.isfinite(expected), expected, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(expected > 0, difference / expected, np.where(y > 0, np.inf, 0.0))
    big = np.abs(difference) >= config.min_change
    extreme = assessed & big & (p_two < config.p_incident) & (np.abs(relative) >= config.rel_incident)
    unusual = assessed & big & (p_two < config.p_warning) & (np.abs(relative) >= config.rel_warning)

    zero = assessed & (y == 0) & (expected >= config.zero_expected_min)
    analysis = slice(B, n_periods)
    for s in range(n_series):
        candidate = (y[analysis, s] == 0) & assessed[analysis, s]
        transparent = ~usable[analysis]
        for start, stop in _episodes(candidate, transparent):
            run = slice(B + start, B + stop + 1)
            inside = assessed[run, s]
            if np.nansum(np.where(inside, expected[run, s], 0.0)) >= config.zero_run_expected:
                zero[run, s] |= inside & (y[run, s] == 0) & (expected[run, s] > 0)

    # Later rules win ties, so the order is the priority: zero > extreme > unusual.
    rule = np.full(y.shape, "", dtype=object)
    rank = np.zeros(y.shape, dtype=np.int64)
    fired = np.zeros(y.shape, dtype=bool)
    for name, mask in (("volume_unusual", unusual), ("volume_extreme", extreme), ("volume_zero", zero)):
        level = severity_rank(config.severity[name])
        stronger = mask & (level >= rank)
        rule[stronger] = name
        rank[stronger] = level
        fired |= mask
    severity = np.array(SEVERITIES, dtype=object)[rank]
    return _VolumeState(
        series=series, expected=expected, ratio=ratio, dispersion=phi, df=df, assessed=assessed, p_two=p_two,
        rule=rule, severity=severity, zero=zero, tail=(extreme | unusual) & ~zero,
        lags=result.lags_used, first_seen=first_seen,
    )


def _volume_table(counts: DecisionCounts, state: _VolumeState, config: VolumeConfig) -> pd.DataFrame:
    y = state.series.counts
    n_periods, n_series = y.shape
    lower, upper = count_band(state.expected, state.ratio, config.p_warning, state.df[None, :])
    window = np.where(np.arange(n_periods) < counts.baseline_periods, "baseline", "analysis")
    return pd.DataFrame(
        {
            "series": np.repeat(state.series.names, n_periods),
            "segment_column": pd.array(np.repeat(np.array(state.series.columns, dtype=object), n_periods), dtype="str"),
            "segment_value": pd.array(np.repeat(np.array(state.series.values, dtype=object), n_periods), dtype="str"),
            "period": np.tile(counts.periods.to_numpy(), n_series),
            "window": np.tile(window, n_series),
            "exposure": np.tile(counts.exposure, n_series),
            "holiday": np.tile(counts.holiday, n_series),
            "observed": y.T.ravel(),
            "expected": state.expected.T.ravel(),
            "lower": lower.T.ravel(),
            "upper": upper.T.ravel(),
            "p_value": np.where(state.assessed, state.p_two, np.nan).T.ravel(),
            "dispersion": np.repeat(state.dispersion, n_periods),
            "rule": state.rule.T.ravel().astype(str),
            "severity": state.severity.T.ravel().astype(str),
        }
    )


def _volume_events(counts: DecisionCounts, state: _VolumeState, config: VolumeConfig) -> list[_Event]:
    events: list[_Event] = []
    period = counts.period
    word = PERIOD_WORDS[period]
    y = state.series.counts
    B = counts.baseline_periods
    n_periods = y.shape[0]
    usable = (counts.exposure > 0) & ~counts.holiday
    method = (
        BASELINE_METHOD.format(K=config.baseline_weeks, slot="weekday and hour" if period == "H" else
                               ("weekday" if period == "D" else "week"), mode=config.baseline_mode)
        + "; " + DISPERSION_METHOD
    )
    overall_zero = state.zero[B:, 0]
    for s, name in enumerate(state.series.names):
        phrase = _phrase(state.series.columns[s], state.series.values[s])
        sl = slice(B, n_periods)
        obs, exp = y[sl, s], state.expected[sl, s]
        zero = state.zero[sl, s]
        transparent = ~usable[sl] | ((obs == 0) & ~zero)
        for start, stop in _episodes(zero, transparent):
            flagged = zero[start : stop + 1]
            if s > 0 and overall_zero[start : stop + 1][flagged].all():
                continue  # the whole log was empty then: the overall finding says it once
            expected_each = float(np.mean(exp[start : stop + 1][flagged]))
            rest = obs[stop + 1 :]
            ongoing = not (rest > 0).any()
            since = period_text(counts.periods[B + start], period)
            through = period_text(counts.periods[B + stop], period)
            level = config.severity["volume_zero"]
            about = f"expected about {_about(expected_each)} per {word}"
            if ongoing:
                text = f"{phrase} volume 0 since {since}, {about}"
                detail = f"; still 0 at the end of the window ({int(flagged.sum())} flagged {word}s)"
            else:
                text = f"{phrase} volume 0 from {since} to {through}, {about}"
                detail = f" ({int(flagged.sum())} flagged {word}s)"
            events.append(_Event(
                kind="volume", check="volume_zero", subject=name, severity=level,
                message=text + detail, phrase=text, value=0.0, threshold=config.zero_expected_min,
                method=f"hard rule: 0 where the baseline expects >= {config.zero_expected_min:g} per "
                f"{word} (or >= {config.zero_run_expected:g} over a run of zeros); {method}",
                section=SECTIONS["volume"], period=f"{since}/{through}",
                magnitude=1e9 + expected_each * flagged.sum(),
            ))
        tail = state.tail[sl, s]
        if not tail.any():
            continue
        direction = np.sign(obs - np.nan_to_num(exp))
        for sign in (-1.0, 1.0):
            flag = tail & (direction == sign)
            for start, stop in _episodes(flag, ~state.assessed[sl, s]):
                chosen = flag[start : stop + 1]
                observed = float(obs[start : stop + 1][chosen].sum())
                expected = float(exp[start : stop + 1][chosen].sum())
                change = observed / expected - 1 if expected > 0 else math.inf
                levels = state.severity[sl, s][start : stop + 1][chosen]
                level = worst(levels)
                since = period_text(counts.periods[B + start], period)
                through = period_text(counts.periods[B + stop], period)
                p_min = float(np.nanmin(state.p_two[sl, s][start : stop + 1][chosen]))
                change_text = f"{change:+.0%}" if math.isfinite(change) else "up from 0"
                k = int(chosen.sum())
                if k == 1:
                    message = (f"{phrase} volume {observed:,.0f} on {since}, expected about "
                               f"{_about(expected)} ({change_text}, p = {p_min:.1e})")
                else:
                    message = (f"{phrase} volume {change_text} in {k} {word}s from {since} to {through} "
                               f"({observed:,.0f} observed, about {_about(expected)} expected; smallest "
                               f"p = {p_min:.1e})")
                events.append(_Event(
                    kind="volume", check="volume_tail", subject=name, severity=level, message=message,
                    phrase=(f"{phrase} volume {change_text} since {since} (about {_about(observed / k)} "
                            f"per {word}, expected about {_about(expected / k)})"),
                    value=change if math.isfinite(change) else None,
                    threshold=config.rel_incident if level == "incident" else config.rel_warning,
                    method=f"two-sided tail p < {config.p_warning:g} (warning) / {config.p_incident:g} "
                    f"(incident) with abs(obs/exp - 1) >= {config.rel_warning:g} / "
                    f"{config.rel_incident:g} and abs(obs - exp) >= {config.min_change:g}; {method}",
                    section=SECTIONS["volume"], period=f"{since}/{through}",
                    magnitude=abs(change) if math.isfinite(change) else 1e6,
                ))
    return events
