"""Decision volume per period against a seasonal baseline: the volume timeline's tests and events.

Every series (overall, and each segment level) is compared period by period
with the seasonal median of the baseline (:mod:`mlreport.stats`), with two
rules whose thresholds come from the report's error budget
(:mod:`mlreport.volume`, "Error budget"):

* ``volume_zero``: a **run of zero periods** (one period or more) whose
  probability under the baseline (negative binomial with the series'
  overdispersion and the median's error) is below the zero share of the
  budget over the ``m`` series-periods tested. One zero hour then needs an
  expected count of about 13 (Poisson) to 19 (overdispersed) at ``m`` =
  6,000 before it means anything, while a run of zeros adds up. In daily and
  weekly reports the runs are found on the **hourly** counts of the same
  windows when they are given: an 8-hour outage of a channel is a run of 8
  zero hours, which a daily total 30 % short cannot show.
* ``volume_extreme`` / ``volume_unusual``: the two-sided quasi-Poisson tail
  probability below the tail share over ``m`` (Bonferroni), with effect gates.

Consecutive flagged periods make one event. A period the data covers only in
part is graded by its covered share (its exposure is scaled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..counts import DecisionCounts, period_text
from ..findings import SEVERITIES, severity_rank, worst
from ..stats import (
    BASELINE_METHOD,
    DISPERSION_METHOD,
    PERIOD_NS,
    PERIOD_WORDS,
    PERIODS_PER_WEEK,
    ZERO_RUN_METHOD,
    count_band,
    count_tail,
    median_inflation,
    pearson_dispersion,
    seasonal_expected,
    zero_expected_minimum,
    zero_log_probability,
)
from ._budget import _bonferroni, _Limits
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
class _Baseline:
    """Each series' seasonal expectation on one grid, its variance ratio and which periods are tested."""

    expected: np.ndarray  # [T, S], NaN where no lag or before the series existed
    ratio: np.ndarray  # [T, S]: Var(Y - e) / e = φ (1 + π / (2 K_used))
    dispersion: np.ndarray  # [S]: φ, floored at 1
    df: np.ndarray  # [S]: residual df behind φ (inf: none, Poisson)
    assessed: np.ndarray  # [T, S]: analysed, usable and with an expectation
    usable: np.ndarray  # [T]: exposure > 0 and not a holiday
    lags: np.ndarray  # [T, S]
    first_seen: np.ndarray  # [S]


def _baseline(counts: DecisionCounts, series: _Series, config: VolumeConfig, exposure: np.ndarray) -> _Baseline:
    """The seasonal baseline of ``series`` on ``counts``' grid with ``exposure`` (scaled by covered share)."""
    y = series.counts
    n_periods = y.shape[0]
    ppw = PERIODS_PER_WEEK[counts.period]
    B = counts.baseline_periods
    t = np.arange(n_periods)[:, None]
    usable = (exposure > 0) & ~counts.holiday
    seen = y > 0
    first_seen = np.where(seen.any(axis=0), seen.argmax(axis=0), n_periods)
    result = seasonal_expected(
        y, exposure, periods_per_week=ppw, baseline_periods=B,
        weeks=config.baseline_weeks, mode=config.baseline_mode, usable=usable, first_seen=first_seen,
    )
    exists = t >= first_seen[None, :]
    expected = np.where(exists, result.expected, np.nan)
    use = usable[:B, None] & exists[:B]
    dispersion = pearson_dispersion(y[:B], exposure[:B], periods_per_week=ppw, use=use)
    # No residual df: no estimate, so Poisson and no t correction.
    phi = np.where(np.isfinite(dispersion.phi), np.maximum(dispersion.phi, 1.0), 1.0)
    df = np.where(np.isfinite(dispersion.phi), dispersion.df, np.inf)
    ratio = phi[None, :] * median_inflation(result.lags_used)
    assessed = (t >= B) & usable[:, None] & np.isfinite(expected) & exists
    return _Baseline(expected, ratio, phi, df, assessed, usable, result.lags_used, first_seen)


@dataclass
class _ZeroRun:
    """A flagged run of zero periods of one series, on the grid it was found on."""

    series: int  # index into the report's series
    period: str  # the grid's period ("H" for the hourly counts under a daily report)
    start: pd.Timestamp  # first period expecting something
    stop: pd.Timestamp  # last period expecting something (inclusive)
    periods: int  # periods in the run that expected something
    expected: float  # expected total over the run
    log_p: float  # ln P(run all zero)
    ongoing: bool  # still 0 at the end of the window
    marks: list[int] = field(default_factory=list)  # report periods the run marks
    whole: bool = False  # the marked report periods are wholly 0: phrase at the report's resolution


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
    covered: np.ndarray  # [T]: covered share of each period
    runs: list[_ZeroRun]


def _zero_runs(
    counts: DecisionCounts, series: _Series, base: _Baseline, config: VolumeConfig, limits: _Limits,
    report: _Series,
) -> list[_ZeroRun]:
    """Runs of zero periods on ``counts``' grid whose probability under the baseline is below the budget.

    Holidays and periods without exposure neither break nor join a run;
    periods that expect nothing join it without adding evidence. ``report``
    names the report's series, which runs are reported under.
    """
    y = series.counts
    n_periods = y.shape[0]
    B = counts.baseline_periods
    testable = base.assessed & (np.nan_to_num(base.expected) > 0)
    tests = int(testable.sum())
    alpha = config.alpha("volume_zero", "incident")
    fixed = config.zero_expected_min is not None or config.zero_run_expected is not None
    single = config.zero_expected_min if config.zero_expected_min is not None else 5.0
    total_needed = config.zero_run_expected if config.zero_run_expected is not None else 20.0
    threshold = math.log(_bonferroni(alpha, tests))
    limits.zero_period, limits.zero_tests = counts.period, tests
    limits.zero_probability = math.nan if fixed else math.exp(threshold)
    where = {name: s for s, name in enumerate(report.names)}
    with np.errstate(invalid="ignore"):
        log_zero = np.where(testable & (y == 0), zero_log_probability(base.expected, base.ratio), 0.0)
    runs: list[_ZeroRun] = []
    for s, name in enumerate(series.names):
        target = where.get(name)
        if target is None:
            continue
        ratio = float(base.dispersion[s]) * (1.0 + math.pi / (2.0 * config.baseline_weeks))
        limits.zero_minimum[name] = (
            single if fixed else zero_expected_minimum(alpha, max(tests, 1), ratio)
        )
        candidate = (y[B:, s] == 0) & base.assessed[B:, s]
        for start, stop in _episodes(candidate, ~base.usable[B:]):
            inside = np.arange(B + start, B + stop + 1)
            inside = inside[candidate[start : stop + 1]]
            evidence = inside[np.nan_to_num(base.expected[inside, s]) > 0]
            if evidence.size == 0:
                continue
            expected = float(base.expected[evidence, s].sum())
            log_p = float(log_zero[evidence, s].sum())
            if fixed:
                flagged = expected >= total_needed or float(base.expected[evidence, s].max()) >= single
            else:
                flagged = log_p < threshold
            if not flagged:
                continue
            first, last = int(evidence[0]), int(evidence[-1])
            runs.append(_ZeroRun(
                series=target, period=counts.period, start=counts.periods[first], stop=counts.periods[last],
                periods=int(evidence.size), expected=expected, log_p=log_p,
                ongoing=not (y[last + 1 : n_periods, s] > 0).any(),
                marks=[int(i) for i in evidence],  # on this grid (:func:`_map_runs` maps hourly ones)
            ))
    return runs


def _map_runs(runs: list[_ZeroRun], fine: DecisionCounts, fine_series: _Series, fine_base: _Baseline,
              counts: DecisionCounts, series: _Series) -> None:
    """Map runs found on the hourly grid to the report's periods (in place).

    A run marks the report periods it empties wholly (then it is phrased at
    the report's resolution, "0 from 2026-02-10 to 2026-02-11"); one that
    empties none (an 8-hour outage in a day that still had decisions) marks
    the report periods that hold at least a fifth of its expected volume and
    is phrased in hours.
    """
    step = PERIOD_NS[counts.period]
    names = {name: s for s, name in enumerate(fine_series.names)}
    origin = counts.baseline_start.value
    y = series.counts
    for run in runs:
        hours = np.asarray(run.marks)
        s_fine = names[series.names[run.series]]
        mass = fine_base.expected[hours, s_fine]
        coarse = (fine.periods.asi8[hours] - origin) // step
        coarse = coarse[(coarse >= counts.baseline_periods) & (coarse < len(counts.periods))]
        touched = np.unique(coarse)
        empty = [int(c) for c in touched if y[c, run.series] == 0]
        if empty:
            run.marks, run.whole = empty, True
            continue
        shares = np.array([mass[coarse == c].sum() for c in touched]) / max(mass.sum(), 1e-12)
        run.marks = [int(c) for c, share in zip(touched, shares, strict=True) if share >= 0.2] or (
            [int(touched[np.argmax(shares)])] if touched.size else [])
        run.whole = False


def _analyse_volume_series(
    counts: DecisionCounts, config: VolumeConfig, limits: _Limits, *, covered: np.ndarray | None = None,
    hourly: DecisionCounts | None = None, hourly_covered: np.ndarray | None = None,
) -> _VolumeState:
    """The volume tests of every series of ``counts`` (zero runs on ``hourly`` when given for a coarser report).

    ``covered`` (``hourly_covered``) is the covered share of each period
    (default: all covered); it scales the periods' exposure, so a partial
    period is graded against its share of the expected volume.
    """
    series = _series(counts)
    y = series.counts
    covered = np.ones(len(counts.periods)) if covered is None else covered
    base = _baseline(counts, series, config, counts.exposure * covered)
    expected, assessed = base.expected, base.assessed
    # An all-zero baseline slot still allows a surprise: test against half a count over the lags.
    floor = 0.5 * (counts.exposure * covered)[:, None] / np.maximum(base.lags, 1)
    tested = np.where(expected > 0, expected, floor)
    _, _, p_two = count_tail(y, np.where(assessed, tested, np.nan), base.ratio, base.df[None, :])
    tests = int(assessed.sum())
    p_warning = config.p_warning if config.p_warning is not None else _bonferroni(
        config.alpha("volume_tail", "warning"), tests)
    p_incident = config.p_incident if config.p_incident is not None else _bonferroni(
        config.alpha("volume_tail", "incident"), tests)
    limits.volume_tests, limits.volume_p_warning, limits.volume_p_incident = tests, p_warning, p_incident
    difference = y - np.where(np.isfinite(expected), expected, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(expected > 0, difference / expected, np.where(y > 0, np.inf, 0.0))
    big = np.abs(difference) >= config.min_change
    extreme = assessed & big & (p_two < p_incident) & (np.abs(relative) >= config.rel_incident)
    unusual = assessed & big & (p_two < p_warning) & (np.abs(relative) >= config.rel_warning)

    if hourly is not None and counts.period != "H":
        fine_series = _series(hourly)
        fine_covered = np.ones(len(hourly.periods)) if hourly_covered is None else hourly_covered
        fine_base = _baseline(hourly, fine_series, config, hourly.exposure * fine_covered)
        runs = _zero_runs(hourly, fine_series, fine_base, config, limits, series)
        _map_runs(runs, hourly, fine_series, fine_base, counts, series)
    else:
        runs = _zero_runs(counts, series, base, config, limits, series)
        for run in runs:
            run.whole = True
    zero = np.zeros(y.shape, dtype=bool)
    for run in runs:
        zero[run.marks, run.series] = True

    # Later rules win ties, so the order is the priority: zero > extreme > unusual.
    rule = np.full(y.shape, "", dtype=object)
    rank = np.zeros(y.shape, dtype=np.int64)
    for name, mask in (("volume_unusual", unusual), ("volume_extreme", extreme), ("volume_zero", zero)):
        level = severity_rank(config.severity[name])
        stronger = mask & (level >= rank)
        rule[stronger] = name
        rank[stronger] = level
    severity = np.array(SEVERITIES, dtype=object)[rank]
    return _VolumeState(
        series=series, expected=expected, ratio=base.ratio, dispersion=base.dispersion, df=base.df,
        assessed=assessed, p_two=p_two, rule=rule, severity=severity, zero=zero, tail=(extreme | unusual) & ~zero,
        lags=base.lags, first_seen=base.first_seen, covered=covered, runs=runs,
    )


def _volume_table(counts: DecisionCounts, state: _VolumeState, limits: _Limits) -> pd.DataFrame:
    y = state.series.counts
    n_periods, n_series = y.shape
    lower, upper = count_band(state.expected, state.ratio, limits.volume_p_warning, state.df[None, :])
    window = np.where(np.arange(n_periods) < counts.baseline_periods, "baseline", "analysis")
    return pd.DataFrame(
        {
            "series": np.repeat(state.series.names, n_periods),
            "segment_column": pd.array(np.repeat(np.array(state.series.columns, dtype=object), n_periods), dtype="str"),
            "segment_value": pd.array(np.repeat(np.array(state.series.values, dtype=object), n_periods), dtype="str"),
            "period": np.tile(counts.periods.to_numpy(), n_series),
            "window": np.tile(window, n_series),
            "exposure": np.tile(counts.exposure, n_series),
            "covered": np.tile(state.covered, n_series),
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


def _baseline_method(config: VolumeConfig, period: str) -> str:
    slot = "weekday and hour" if period == "H" else ("weekday" if period == "D" else "week")
    return BASELINE_METHOD.format(K=config.baseline_weeks, slot=slot, mode=config.baseline_mode) + "; " + (
        DISPERSION_METHOD)


def _zero_events(counts: DecisionCounts, state: _VolumeState, config: VolumeConfig, limits: _Limits,
                 hourly: DecisionCounts | None) -> list[_Event]:
    events: list[_Event] = []
    word = PERIOD_WORDS[counts.period]
    fine_word = PERIOD_WORDS[limits.zero_period or counts.period]
    names = state.series.names
    overall_runs = [run for run in state.runs if run.series == 0]
    level = config.severity["volume_zero"]
    if config.zero_expected_min is not None or config.zero_run_expected is not None:
        rule_text = (f"fixed rule: 0 where the baseline expects >= {limits.zero_minimum.get('overall', 5.0):g} "
                     f"per {fine_word} (or a run whose expected total is large enough)")
    else:
        rule_text = (ZERO_RUN_METHOD + f"; here α = {config.alpha('volume_zero', 'incident'):.2g} over "
                     f"m = {limits.zero_tests:,} {fine_word}ly series-periods")
    where = "on the hourly counts of the same windows; " if limits.zero_period != counts.period else ""
    method = f"{rule_text}; {where}{_baseline_method(config, limits.zero_period or counts.period)}"
    for run in state.runs:
        if run.series > 0 and any(o.start <= run.stop and run.start <= o.stop for o in overall_runs):
            # The whole log was empty then: the overall finding says it once. A segment's run that overlaps
            # it is the same gap, only widened by the segment's own quiet hours next to it.
            continue
        s = run.series
        phrase = _phrase(state.series.columns[s], state.series.values[s])
        if run.whole:
            marks = sorted(run.marks)
            since = period_text(counts.periods[marks[0]], counts.period)
            through = period_text(counts.periods[marks[-1]], counts.period)
            expected_each = float(np.nanmean(state.expected[marks, s])) if marks else run.expected
            unit, k = word, len(marks)
        else:
            since = period_text(run.start, run.period)
            through = period_text(run.stop, run.period)
            expected_each = run.expected / max(run.periods, 1)
            unit, k = fine_word, run.periods
        about = f"expected about {_about(expected_each)} per {unit}"
        if run.ongoing:
            text = f"{phrase} volume 0 since {since}, {about}"
            detail = f"; still 0 at the end of the window ({k} flagged {unit}s"
        else:
            text = f"{phrase} volume 0 from {since} to {through}, {about}"
            detail = f" ({k} flagged {unit}s"
        detail += (f"; about {_about(run.expected)} decisions expected in all, probability "
                   f"{math.exp(run.log_p):.1e} under the baseline)")
        events.append(_Event(
            kind="volume", check="volume_zero", subject=names[s], severity=level,
            message=text + detail, phrase=text, value=0.0, threshold=round(limits.zero_minimum[names[s]], 2),
            method=method, section=SECTIONS["volume"], period=f"{since}/{through}",
            magnitude=1e9 + run.expected, onset=min(run.marks) if run.marks else None,
        ))
    return events


def _volume_events(counts: DecisionCounts, state: _VolumeState, config: VolumeConfig, limits: _Limits,
                   hourly: DecisionCounts | None = None) -> list[_Event]:
    events = _zero_events(counts, state, config, limits, hourly)
    period = counts.period
    word = PERIOD_WORDS[period]
    y = state.series.counts
    B = counts.baseline_periods
    n_periods = y.shape[0]
    method = _baseline_method(config, period)
    for s, name in enumerate(state.series.names):
        phrase = _phrase(state.series.columns[s], state.series.values[s])
        sl = slice(B, n_periods)
        obs, exp = y[sl, s], state.expected[sl, s]
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
                    method=f"two-sided tail p < {limits.volume_p_warning:.2g} (warning) / "
                    f"{limits.volume_p_incident:.2g} (incident): the budget's volume_tail share over "
                    f"m = {limits.volume_tests:,} series-periods (Bonferroni), with abs(obs/exp - 1) >= "
                    f"{config.rel_warning:g} / {config.rel_incident:g} and abs(obs - exp) >= "
                    f"{config.min_change:g}; {method}",
                    section=SECTIONS["volume"], period=f"{since}/{through}",
                    magnitude=abs(change) if math.isfinite(change) else 1e6, onset=B + start,
                ))
    return events
