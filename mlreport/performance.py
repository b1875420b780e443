"""Model performance against the reference when labels exist, late labels handled.

Conventions, used throughout and printed in the report through ``method`` strings:

- **Labels.** The target is binary: 1 = bad (the event: default, fraud), 0 = good.
  Missing labels (``NaN``/``<NA>``) mean "not known yet" and are excluded and
  counted, never read as goods. Scores increase with risk (a probability of
  default, a fraud score), so a useful model has AUC above 0.5.
- **Scores.** Rows with a missing or infinite score are excluded and counted.
- **AUC** is :func:`sklearn.metrics.roc_auc_score` (ties count one half).
  Gini = 2·AUC − 1. Its standard error is **DeLong's** (DeLong, DeLong and
  Clarke-Pearson 1988, via the midrank algorithm of Sun and Xu 2014); the
  confidence interval is the normal one, AUC ± z·SE clipped to [0, 1].
  Hanley and McNeil's (1982) formula is available for comparison.
- **KS** is the two-sample Kolmogorov-Smirnov statistic of the score between
  bads and goods, max |F_bad − F_good| (equal to ``scipy.stats.ks_2samp``).
- **Calibration** bins at the reference score deciles (interior edges at the
  10%, …, 90% quantiles, numpy's linear interpolation, tied edges merged; bins
  right-closed ``(e_i-1, e_i]`` with open outer bins), fitted once on the
  reference and reused for every current window. Per bin: mean predicted
  probability and observed bad rate. The Hosmer-Lemeshow statistic is
  Σ (O_g − E_g)² / (E_g (1 − E_g/n_g)) over non-empty bins whose mean
  prediction lies strictly inside (0, 1); it is compared with χ² on ``g − d``
  degrees of freedom, d = 0 by default because a deployed model's scores were
  not fitted on the sample being tested (Hosmer and Lemeshow's convention for
  external validation); pass d = 2 for the development-sample convention.
  The expected/observed ratio is Σ p / Σ y.

Judging (:func:`compare_performance`), each rule both an effect size and noise:

- **AUC drop** = AUC_ref − AUC_cur. Warning at 0.03, incident at 0.05 (absolute),
  and only if the drop also exceeds z·√(SE_ref² + SE_cur²) (DeLong SEs of two
  independent samples; z = 1.96), so a small window's noise never raises it.
- **Calibration**: |E/O − 1| at 10% warning, 20% incident, and only if the
  observed bad count differs from the expected one by more than
  z·√Σ p(1 − p) (binomial variance of the count under the scores). Judged
  against 1, not against the reference's ratio: a probability of default
  promises E = O, so a model already off in the reference is reported rather
  than taken as its own baseline.
- Periods are judged one by one at the same z, without a multiple-testing
  correction; the effect-size bands keep noise alone from raising them.
- **Target drift**: relative change of the default rate (cur/ref − 1) at 20%
  warning, 50% incident, and only if the pooled two-proportion z-test gives
  p < alpha (0.05).
- A window or period with fewer than 30 bads is marked "insufficient labels"
  and not judged; a window with one class only has no AUC ("single class").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score

from .errors import DataError, ParameterError
from .findings import Finding, worst

__all__ = [
    "SECTION",
    "DEFAULT_THRESHOLDS",
    "MaturedResult",
    "PerformanceResult",
    "CalibrationResult",
    "TargetDriftResult",
    "PerformanceComparison",
    "matured",
    "auc_se_delong",
    "auc_se_hanley_mcneil",
    "ks_statistic",
    "performance",
    "fit_score_edges",
    "calibration_by_decile",
    "target_drift",
    "compare_performance",
]

SECTION = "Performance"

DEFAULT_THRESHOLDS: dict[str, Any] = {
    # (warning, incident): absolute drop of AUC against the reference.
    "auc_drop": (0.03, 0.05),
    # (warning, incident): |expected/observed - 1|.
    "calibration_ratio": (0.10, 0.20),
    # (warning, incident): |default rate cur/ref - 1|.
    "default_rate_change": (0.20, 0.50),
    # Fewer bads than this in a window or period: not judged.
    "min_bads": 30,
    # Noise multiplier for the AUC and calibration gates (two-sided 95%).
    "z": 1.96,
    # Significance level of the two-proportion test of the default rate.
    "alpha": 0.05,
}

_PERIODS = {"D": "day", "W": "week", "M": "month"}

# Statuses of a window or period in the performance table.
OK = "ok"
NO_LABELS = "no labels"
INSUFFICIENT = "insufficient labels"
SINGLE_CLASS = "single class"
IMMATURE = "immature"


# --------------------------------------------------------------------------- inputs


def _require(frame: pd.DataFrame, column: str, what: str) -> None:
    if column not in frame.columns:
        raise DataError(
            f"{what} column {column!r} not found; columns are {', '.join(map(str, frame.columns))}",
            column=column,
        )


def _label_array(series: pd.Series) -> np.ndarray:
    """Labels as float (1.0 bad, 0.0 good, NaN unknown); anything else is an error."""
    if series.dtype == object:
        # Object columns (read from CSV or JSON) may still hold 0/1 and None.
        try:
            series = pd.to_numeric(series)
        except (TypeError, ValueError):
            pass
    if not (
        pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)
    ):
        raise DataError(
            f"target column {series.name!r} has dtype {series.dtype}; expected 0/1 labels "
            "(1 = bad) with missing values for labels not yet known",
            column=str(series.name),
        )
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    known = values[~np.isnan(values)]
    bad = known[(known != 0.0) & (known != 1.0)]
    if bad.size:
        raise DataError(
            f"target column {series.name!r} holds values other than 0 and 1 "
            f"(for example {bad[0]!r}); expected 0/1 labels with 1 = bad",
            column=str(series.name),
        )
    return values


def _score_array(series: pd.Series) -> np.ndarray:
    """Scores as float with NaN for missing and infinite values."""
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(
        series.dtype
    ):
        raise DataError(
            f"score column {series.name!r} has dtype {series.dtype}; expected numbers",
            column=str(series.name),
        )
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _as_timedelta(value: Any, name: str) -> pd.Timedelta:
    """A delay given as a Timedelta, a string ("30D") or a number of days."""
    try:
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            delay = pd.Timedelta(days=float(value))
        else:
            delay = pd.Timedelta(value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{name}={value!r} is not a duration; expected days as a number, "
            "a string such as '30D' or a pandas Timedelta",
            name=name,
        ) from None
    if pd.isna(delay) or delay < pd.Timedelta(0):
        raise ParameterError(f"{name}={value!r} must be a non-negative duration", name=name)
    return delay


def _timestamps(frame: pd.DataFrame, column: str) -> pd.Series:
    _require(frame, column, "timestamp")
    series = frame[column]
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        raise DataError(
            f"timestamp column {column!r} has dtype {series.dtype}; expected datetimes "
            "(parse it when loading the data)",
            column=column,
        )
    return series


def _merge_thresholds(thresholds: Mapping[str, Any] | None) -> dict[str, Any]:
    limits = dict(DEFAULT_THRESHOLDS)
    for key, value in (thresholds or {}).items():
        if key not in DEFAULT_THRESHOLDS:
            raise ParameterError(
                f"unknown performance threshold {key!r}; expected one of "
                f"{', '.join(DEFAULT_THRESHOLDS)}",
                name=key,
            )
        if isinstance(DEFAULT_THRESHOLDS[key], tuple):
            try:
                warn, incident = (float(v) for v in value)
            except (TypeError, ValueError):
                raise ParameterError(
                    f"performance threshold {key!r}={value!r}; expected (warning, incident)",
                    name=key,
                ) from None
            if not 0 <= warn <= incident:
                raise ParameterError(
                    f"performance threshold {key!r}={value!r}; expected 0 <= warning <= incident",
                    name=key,
                )
            limits[key] = (warn, incident)
        else:
            limits[key] = value
    return limits


# --------------------------------------------------------------------------- maturity


@dataclass(frozen=True)
class MaturedResult:
    """Rows whose label has had time to arrive, and what was left out.

    ``n_immature`` counts every excluded row: ``n_too_recent`` (timestamp after
    ``cutoff`` = ``as_of − label_delay``, or no timestamp, when a delay is given)
    plus ``n_missing_label`` (old enough, but still no label).
    """

    frame: pd.DataFrame
    n_rows: int
    n_matured: int
    n_immature: int
    n_too_recent: int
    n_missing_label: int
    as_of: pd.Timestamp | None
    cutoff: pd.Timestamp | None
    method: str


def matured(
    frame: pd.DataFrame,
    *,
    timestamp: str,
    target: str,
    as_of: Any = None,
    label_delay: Any = None,
) -> MaturedResult:
    """Keep the rows whose label has had time to arrive.

    A row is matured when its label is present and, when ``label_delay`` is
    given, its timestamp is at or before ``as_of − label_delay`` (``as_of``
    defaults to the latest timestamp in ``frame``, the end of the data).
    ``label_delay`` is a Timedelta, a string such as ``"30D"`` or a number of
    days. Rows without a timestamp cannot be shown to be old enough and count
    as too recent when a delay is given.
    """
    _require(frame, target, "target")
    labels = _label_array(frame[target])
    has_label = ~np.isnan(labels)
    cutoff: pd.Timestamp | None = None
    stamp: pd.Timestamp | None = None
    if label_delay is not None:
        delay = _as_timedelta(label_delay, "label_delay")
        times = _timestamps(frame, timestamp)
        stamp = pd.Timestamp(as_of) if as_of is not None else times.max()
        zone = getattr(times.dtype, "tz", None)
        if not pd.isna(stamp) and zone is not None and stamp.tzinfo is None:
            stamp = stamp.tz_localize(zone)  # a naive as_of is read in the data's zone
        elif not pd.isna(stamp) and zone is None and stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)  # naive data are read as UTC
        if pd.isna(stamp):
            old_enough = np.zeros(len(frame), dtype=bool)
        else:
            cutoff = stamp - delay
            old_enough = (times <= cutoff).to_numpy(dtype=bool, na_value=False)
        method = (
            f"matured: label present and {timestamp} <= as_of − label_delay "
            f"({stamp} − {delay})"
        )
    else:
        old_enough = np.ones(len(frame), dtype=bool)
        if as_of is not None:
            stamp = pd.Timestamp(as_of)
        method = "matured: label present (no label delay given)"
    keep = has_label & old_enough
    n_rows = len(frame)
    n_matured = int(keep.sum())
    n_too_recent = int((~old_enough).sum())
    return MaturedResult(
        frame=frame.loc[keep],
        n_rows=n_rows,
        n_matured=n_matured,
        n_immature=n_rows - n_matured,
        n_too_recent=n_too_recent,
        n_missing_label=int((old_enough & ~has_label).sum()),
        as_of=stamp,
        cutoff=cutoff,
        method=method,
    )


# --------------------------------------------------------------------------- AUC and KS


def auc_se_delong(y_true: np.ndarray, y_score: np.ndarray) -> tuple[float, float]:
    """AUC and DeLong's standard error, via midranks (Sun and Xu 2014).

    For m bads X and n goods Y with ψ(x, y) = 1 if x > y, ½ if tied, 0 else:
    V10_i = mean_j ψ(X_i, Y_j), V01_j = mean_i ψ(X_i, Y_j),
    Var(AUC) = s²(V10)/m + s²(V01)/n with sample variances (ddof = 1).
    Returns (nan, nan) unless both classes are present; SE is nan with a single
    row in a class (its variance is undefined).
    """
    y_true = np.asarray(y_true, dtype=bool)
    y_score = np.asarray(y_score, dtype="float64")
    pos, neg = y_score[y_true], y_score[~y_true]
    m, n = pos.size, neg.size
    if m == 0 or n == 0:
        return math.nan, math.nan
    rank_all = stats.rankdata(np.concatenate([pos, neg]))  # average ranks: ties count ½
    rank_pos = stats.rankdata(pos)
    rank_neg = stats.rankdata(neg)
    v10 = (rank_all[:m] - rank_pos) / n  # share of goods below each bad
    v01 = 1.0 - (rank_all[m:] - rank_neg) / m  # share of bads above each good
    auc = float(v10.mean())
    if m < 2 or n < 2:
        return auc, math.nan
    variance = v10.var(ddof=1) / m + v01.var(ddof=1) / n
    return auc, float(math.sqrt(variance))


def auc_se_hanley_mcneil(auc: float, n_bad: int, n_good: int) -> float:
    """Hanley and McNeil's (1982) standard error of an AUC.

    SE² = [A(1−A) + (n_bad−1)(Q1−A²) + (n_good−1)(Q2−A²)] / (n_bad·n_good)
    with Q1 = A/(2−A), Q2 = 2A²/(1+A) (an exponential-model approximation).
    """
    if n_bad < 1 or n_good < 1 or not math.isfinite(auc):
        return math.nan
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc * auc / (1.0 + auc)
    variance = (
        auc * (1.0 - auc) + (n_bad - 1) * (q1 - auc * auc) + (n_good - 1) * (q2 - auc * auc)
    ) / (n_bad * n_good)
    return float(math.sqrt(max(variance, 0.0)))


def ks_statistic(first: np.ndarray, second: np.ndarray) -> float:
    """Two-sample KS statistic max |F_1(x) − F_2(x)| over the pooled values."""
    first = np.sort(np.asarray(first, dtype="float64"))
    second = np.sort(np.asarray(second, dtype="float64"))
    if first.size == 0 or second.size == 0:
        return math.nan
    pooled = np.concatenate([first, second])
    cdf_first = np.searchsorted(first, pooled, side="right") / first.size
    cdf_second = np.searchsorted(second, pooled, side="right") / second.size
    return float(np.max(np.abs(cdf_first - cdf_second)))


@dataclass(frozen=True)
class PerformanceResult:
    """Discrimination of a score against binary labels in one window.

    ``n`` counts the rows used (label known and score valid); rows without a
    label (``n_missing_label``) or without a finite score among labelled rows
    (``n_missing_score``) were excluded. ``status`` is ``"ok"``,
    ``"no labels"`` or ``"single class"`` (AUC, Gini and KS are then NaN).
    """

    n: int
    n_bad: int
    n_good: int
    default_rate: float
    auc: float
    auc_se: float
    auc_ci_low: float
    auc_ci_high: float
    gini: float
    gini_ci_low: float
    gini_ci_high: float
    ks: float
    n_missing_label: int
    n_missing_score: int
    status: str
    ci_method: str
    method: str

    def as_row(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "n_bad": self.n_bad,
            "n_missing_score": self.n_missing_score,
            "default_rate": self.default_rate,
            "auc": self.auc,
            "auc_se": self.auc_se,
            "auc_ci_low": self.auc_ci_low,
            "auc_ci_high": self.auc_ci_high,
            "gini": self.gini,
            "ks": self.ks,
        }


def _valid_pairs(
    frame: pd.DataFrame, score: str, target: str
) -> tuple[np.ndarray, np.ndarray, int, int]:
    _require(frame, score, "score")
    _require(frame, target, "target")
    labels = _label_array(frame[target])
    scores = _score_array(frame[score])
    has_label = ~np.isnan(labels)
    has_score = ~np.isnan(scores)
    keep = has_label & has_score
    return (
        labels[keep].astype(bool),
        scores[keep],
        int((~has_label).sum()),
        int((has_label & ~has_score).sum()),
    )


def performance(
    frame: pd.DataFrame,
    *,
    score: str,
    target: str,
    ci_method: str = "delong",
    confidence: float = 0.95,
) -> PerformanceResult:
    """AUC (with a confidence interval), Gini, KS, default rate, n and n_bad.

    ``ci_method`` is ``"delong"`` (default) or ``"hanley-mcneil"``; the
    interval is AUC ± z·SE with z the two-sided normal quantile of
    ``confidence``, clipped to [0, 1]. A window with no labels or one class
    returns NaN discrimination with a status saying why, not an error.
    """
    if ci_method not in ("delong", "hanley-mcneil"):
        raise ParameterError(
            f"ci_method={ci_method!r}; expected 'delong' or 'hanley-mcneil'", name="ci_method"
        )
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence={confidence!r}; expected 0 < confidence < 1",
                             name="confidence")
    y, s, n_missing_label, n_missing_score = _valid_pairs(frame, score, target)
    n = int(y.size)
    n_bad = int(y.sum())
    n_good = n - n_bad
    default_rate = n_bad / n if n else math.nan
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    ci_name = "DeLong" if ci_method == "delong" else "Hanley-McNeil"
    method = (
        f"AUC sklearn roc_auc_score (ties ½), Gini = 2·AUC − 1, {confidence:.0%} CI "
        f"AUC ± {z:.2f}·SE ({ci_name}), KS max|F_bad − F_good| of the score; "
        "1 = bad, missing labels and non-finite scores excluded"
    )
    nan = math.nan
    if n == 0 or n_bad == 0 or n_good == 0:
        status = NO_LABELS if n == 0 else SINGLE_CLASS
        return PerformanceResult(
            n, n_bad, n_good, default_rate, nan, nan, nan, nan, nan, nan, nan, nan,
            n_missing_label, n_missing_score, status, ci_name, method,
        )
    auc = float(roc_auc_score(y, s))
    if ci_method == "delong":
        _, se = auc_se_delong(y, s)
    else:
        se = auc_se_hanley_mcneil(auc, n_bad, n_good)
    low, high = max(0.0, auc - z * se), min(1.0, auc + z * se)
    return PerformanceResult(
        n=n,
        n_bad=n_bad,
        n_good=n_good,
        default_rate=default_rate,
        auc=auc,
        auc_se=se,
        auc_ci_low=low,
        auc_ci_high=high,
        gini=2 * auc - 1,
        gini_ci_low=2 * low - 1,
        gini_ci_high=2 * high - 1,
        ks=ks_statistic(s[y], s[~y]),
        n_missing_label=n_missing_label,
        n_missing_score=n_missing_score,
        status=OK,
        ci_method=ci_name,
        method=method,
    )


# --------------------------------------------------------------------------- calibration


def fit_score_edges(scores: np.ndarray | pd.Series, bins: int = 10) -> np.ndarray:
    """Interior bin edges at the score quantiles 1/bins, …, (bins−1)/bins.

    Quantiles use numpy's default linear interpolation; tied edges are merged
    (so a score with heavy ties gets fewer bins). NaN scores are ignored.
    """
    if bins < 2:
        raise ParameterError(f"bins={bins!r}; expected at least 2", name="bins")
    values = np.asarray(scores, dtype="float64")
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.array([], dtype="float64")
    edges = np.quantile(values, np.arange(1, bins) / bins)
    return np.unique(edges)


@dataclass(frozen=True)
class CalibrationResult:
    """Predicted against observed bad rate per score bin, with a HL test.

    ``table`` has one row per bin (``bin``, ``score_low``, ``score_high``,
    ``n``, ``n_bad``, ``mean_predicted``, ``observed_rate``, ``expected``,
    ``expected_observed``, ``hl_term``). ``expected_observed`` overall is
    Σp / Σy (NaN when there are no bads). ``z`` is the standardised
    difference (O − E)/√Σp(1 − p) of the bad count. ``status`` is ``"ok"``,
    ``"no labels"`` or ``"scores not probabilities"``.
    """

    table: pd.DataFrame
    edges: np.ndarray
    n: int
    expected: float
    observed: int
    expected_observed: float
    z: float
    hl_statistic: float
    hl_dof: int
    hl_pvalue: float
    status: str
    method: str


def calibration_by_decile(
    frame: pd.DataFrame,
    *,
    score: str,
    target: str,
    edges: np.ndarray | None = None,
    bins: int = 10,
    hl_dof_reduction: int = 0,
) -> CalibrationResult:
    """Calibration of a probability score in score bins.

    Without ``edges`` the bins are fitted on ``frame`` (call it on the
    reference first); pass the reference's ``result.edges`` to reuse them for
    a current window. The Hosmer-Lemeshow statistic uses the non-empty bins
    with mean prediction in (0, 1) and ``g − hl_dof_reduction`` degrees of
    freedom (0: external validation, the default; 2: development sample).
    Scores must be probabilities in [0, 1]; otherwise the table is still
    returned with status ``"scores not probabilities"`` and no HL test.
    """
    y, s, _, _ = _valid_pairs(frame, score, target)
    if edges is None:
        edges = fit_score_edges(s, bins)
    edges = np.asarray(edges, dtype="float64")
    method = (
        f"calibration in {edges.size + 1} bins at reference score quantiles "
        "(linear interpolation, tied edges merged, right-closed, open outer bins); "
        f"Hosmer-Lemeshow Σ(O−E)²/(E(1−E/n)), χ² dof = bins used − {hl_dof_reduction}; "
        "E/O = Σp/Σy"
    )
    index = np.searchsorted(edges, s, side="left")  # bin i holds (edges[i-1], edges[i]]
    n_bins = edges.size + 1
    n = np.bincount(index, minlength=n_bins).astype("int64")
    n_bad = np.bincount(index, weights=y.astype("float64"), minlength=n_bins)
    expected = np.bincount(index, weights=s, minlength=n_bins)
    variance = np.bincount(index, weights=s * (1 - s), minlength=n_bins)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_predicted = np.where(n > 0, expected / np.maximum(n, 1), np.nan)
        observed_rate = np.where(n > 0, n_bad / np.maximum(n, 1), np.nan)
        ratio = np.where(n_bad > 0, expected / np.where(n_bad > 0, n_bad, 1), np.nan)
    probabilities = bool(s.size == 0 or (s.min() >= 0.0 and s.max() <= 1.0))
    usable = (n > 0) & (mean_predicted > 0) & (mean_predicted < 1) if probabilities else (n < 0)
    hl_term = np.full(n_bins, np.nan)
    hl_term[usable] = (n_bad[usable] - expected[usable]) ** 2 / (
        expected[usable] * (1 - mean_predicted[usable])
    )
    outer = np.concatenate([[-np.inf], edges, [np.inf]])
    table = pd.DataFrame(
        {
            "bin": np.arange(1, n_bins + 1),
            "score_low": outer[:-1],
            "score_high": outer[1:],
            "n": n,
            "n_bad": n_bad.astype("int64"),
            "mean_predicted": mean_predicted,
            "observed_rate": observed_rate,
            "expected": expected,
            "expected_observed": ratio,
            "hl_term": hl_term,
        }
    )
    total_expected = float(expected.sum())
    total_observed = int(n_bad.sum())
    total_variance = float(variance.sum())
    dof = int(usable.sum()) - hl_dof_reduction
    if s.size == 0:
        status = NO_LABELS
    elif not probabilities:
        status = "scores not probabilities"
    else:
        status = OK
    if status == OK and dof > 0:
        hl = float(np.nansum(hl_term))
        p_value = float(stats.chi2.sf(hl, dof))
    else:
        hl, p_value = math.nan, math.nan
    if status == OK and total_observed > 0:
        overall = total_expected / total_observed
    else:
        overall = math.nan
    z = (
        (total_observed - total_expected) / math.sqrt(total_variance)
        if status == OK and total_variance > 0
        else math.nan
    )
    return CalibrationResult(
        table=table,
        edges=edges,
        n=int(s.size),
        expected=total_expected,
        observed=total_observed,
        expected_observed=overall,
        z=z,
        hl_statistic=hl,
        hl_dof=max(dof, 0),
        hl_pvalue=p_value,
        status=status,
        method=method,
    )


# --------------------------------------------------------------------------- target drift


@dataclass(frozen=True)
class TargetDriftResult:
    """Default rate of the reference against the current window.

    ``z`` and ``p_value`` are the pooled two-proportion z-test (two-sided),
    the same as ``statsmodels.stats.proportion.proportions_ztest``.
    ``relative_change`` is cur/ref − 1.
    """

    n_reference: int
    bad_reference: int
    rate_reference: float
    n_current: int
    bad_current: int
    rate_current: float
    relative_change: float
    z: float
    p_value: float
    method: str


def target_drift(
    bad_reference: int, n_reference: int, bad_current: int, n_current: int
) -> TargetDriftResult:
    """Pooled two-proportion z-test of the default rate, and its relative change."""
    method = "default rate cur vs ref: pooled two-proportion z-test, two-sided"
    nan = math.nan
    if n_reference <= 0 or n_current <= 0:
        rate_ref = bad_reference / n_reference if n_reference > 0 else nan
        rate_cur = bad_current / n_current if n_current > 0 else nan
        return TargetDriftResult(n_reference, bad_reference, rate_ref, n_current, bad_current,
                                 rate_cur, nan, nan, nan, method)
    rate_ref = bad_reference / n_reference
    rate_cur = bad_current / n_current
    pooled = (bad_reference + bad_current) / (n_reference + n_current)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_reference + 1 / n_current))
    if se > 0:
        z = (rate_cur - rate_ref) / se
        p_value = float(2 * stats.norm.sf(abs(z)))
    else:  # both windows all good or all bad: identical rates
        z, p_value = 0.0, 1.0
    if rate_ref > 0:
        change = rate_cur / rate_ref - 1
    else:
        change = math.inf if rate_cur > 0 else 0.0
    return TargetDriftResult(n_reference, bad_reference, rate_ref, n_current, bad_current,
                             rate_cur, float(change), float(z), p_value, method)


# --------------------------------------------------------------------------- comparison


@dataclass
class PerformanceComparison:
    """What :func:`compare_performance` found.

    ``table`` has one row for the reference, one for the whole current window
    and one per current period (``window`` is ``"reference"``, ``"current"``
    or ``"period"``), with counts, AUC and its CI, Gini, KS, default rate,
    E/O ratio, HL p-value, ``status`` (ok / no labels / insufficient labels /
    single class / immature) and ``severity``.
    """

    table: pd.DataFrame
    findings: list[Finding]
    reference: PerformanceResult | None = None
    current: PerformanceResult | None = None
    reference_calibration: CalibrationResult | None = None
    current_calibration: CalibrationResult | None = None
    target_drift: TargetDriftResult | None = None
    maturity: dict[str, MaturedResult] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)


def _band(value: float, band: tuple[float, float]) -> str:
    if not math.isfinite(value):
        return "ok"
    if value >= band[1]:
        return "incident"
    if value >= band[0]:
        return "warning"
    return "ok"


def _status(perf: PerformanceResult, min_bads: int) -> str:
    if perf.status != OK:
        return perf.status
    if perf.n_bad < min_bads:
        return INSUFFICIENT
    return OK


def _judge(
    reference: PerformanceResult,
    reference_cal: CalibrationResult,
    current: PerformanceResult,
    current_cal: CalibrationResult,
    limits: Mapping[str, Any],
    *,
    where: str,
    period: str | None,
    score: str,
    target: str,
) -> list[Finding]:
    """The three checks (AUC drop, calibration, target drift) of one window."""
    z = float(limits["z"])
    findings: list[Finding] = []
    auc_band = limits["auc_drop"]
    drop = reference.auc - current.auc
    noise = z * math.sqrt(reference.auc_se**2 + current.auc_se**2)
    severity = _band(drop, auc_band)
    if severity != "ok" and not drop > noise:
        severity = "ok"
        verdict = f"within noise (needs > {noise:.3f})"
    elif severity != "ok":
        verdict = f"beyond noise {noise:.3f}"
    else:
        verdict = f"below the {auc_band[0]:.2f} band"
    findings.append(
        Finding(
            check="auc_drop",
            subject=score,
            severity=severity,
            message=(
                f"AUC {current.auc:.3f} in {where} against {reference.auc:.3f} in the reference "
                f"(drop {drop:+.3f}, {verdict}; {current.n_bad:,} bads)"
            ),
            value=drop,
            threshold=auc_band[1] if severity == "incident" else auc_band[0],
            method=(
                f"AUC drop = ref − cur; warning {auc_band[0]}, incident {auc_band[1]}, and drop > "
                f"{z}·√(SE_ref² + SE_cur²) (DeLong)"
            ),
            section=SECTION,
            period=period,
        )
    )
    cal_band = limits["calibration_ratio"]
    if current_cal.status == OK and math.isfinite(current_cal.expected_observed):
        off = abs(current_cal.expected_observed - 1)
        severity = _band(off, cal_band)
        significant = math.isfinite(current_cal.z) and abs(current_cal.z) > z
        note = f"|z| {abs(current_cal.z):.1f}"
        if severity != "ok" and not significant:
            severity = "ok"
            note += f" ≤ {z}, within noise"
        direction = "over" if current_cal.expected_observed > 1 else "under"
        findings.append(
            Finding(
                check="calibration",
                subject=score,
                severity=severity,
                message=(
                    f"Expected/observed bads {current_cal.expected_observed:.2f} in {where} "
                    f"({direction}-predicts by {off:.0%}; reference "
                    f"{reference_cal.expected_observed:.2f}; {note}; HL p "
                    f"{current_cal.hl_pvalue:.3g})"
                ),
                value=current_cal.expected_observed,
                threshold=cal_band[1] if severity == "incident" else cal_band[0],
                method=(
                    f"|E/O − 1| warning {cal_band[0]:.0%}, incident {cal_band[1]:.0%}, and "
                    f"|O − E| > {z}·√Σp(1−p); " + current_cal.method
                ),
                section=SECTION,
                period=period,
            )
        )
    elif current_cal.status not in (OK, NO_LABELS):
        findings.append(
            Finding(
                check="calibration",
                subject=score,
                severity="ok",
                message=f"Calibration not judged in {where}: {current_cal.status}",
                method=current_cal.method,
                section=SECTION,
                period=period,
            )
        )
    drift = target_drift(reference.n_bad, reference.n, current.n_bad, current.n)
    rate_band = limits["default_rate_change"]
    alpha = float(limits["alpha"])
    change = abs(drift.relative_change)
    severity = _band(change, rate_band)
    if severity != "ok" and not drift.p_value < alpha:
        severity = "ok"
    findings.append(
        Finding(
            check="target_drift",
            subject=target,
            severity=severity,
            message=(
                f"Default rate {drift.rate_current:.2%} in {where} against "
                f"{drift.rate_reference:.2%} in the reference ({drift.relative_change:+.0%}, "
                f"two-proportion p {drift.p_value:.2g})"
            ),
            value=drift.relative_change,
            threshold=rate_band[1] if severity == "incident" else rate_band[0],
            method=(
                f"|rate cur/ref − 1| warning {rate_band[0]:.0%}, incident {rate_band[1]:.0%}, "
                f"and p < {alpha} ({drift.method})"
            ),
            section=SECTION,
            period=period,
        )
    )
    return findings


def _skip(check: str, subject: str, message: str, severity: str = "ok") -> Finding:
    return Finding(check=check, subject=subject, severity=severity, message=message,
                   section=SECTION)


def _row(window: str, period: str, n_rows: int, perf: PerformanceResult,
         cal: CalibrationResult | None, status: str, severity: str,
         checks: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One table row; ``checks`` maps each judged check to its severity ("" = not judged)."""
    checks = checks or {}
    row: dict[str, Any] = {"window": window, "period": period, "n_rows": n_rows,
                           "n_labelled": perf.n + perf.n_missing_score}
    row.update(perf.as_row())
    row["expected_observed"] = cal.expected_observed if cal is not None else math.nan
    row["hl_pvalue"] = cal.hl_pvalue if cal is not None else math.nan
    row["status"] = status
    row["severity"] = severity
    for check in ("auc_drop", "calibration", "target_drift"):
        row[f"{check}_severity"] = checks.get(check, "")
    return row


def compare_performance(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    score: str,
    target: str | None,
    timestamp: str | None = None,
    period: str | None = None,
    thresholds: Mapping[str, Any] | None = None,
    label_delay: Any = None,
    as_of: Any = None,
) -> PerformanceComparison:
    """Performance, calibration and default rate of the current window against the reference.

    The current window is judged as a whole and, when ``period`` is ``"D"``,
    ``"W"`` or ``"M"`` (with ``timestamp``), per day, week (Monday start) or
    calendar month. With ``label_delay`` (and ``as_of``, default the latest
    current timestamp) only matured rows count (see :func:`matured`) and
    periods ending after ``as_of − label_delay`` are marked "immature", not
    judged; without it, rows without labels are simply excluded. Windows or
    periods with fewer than ``thresholds["min_bads"]`` bads are marked
    "insufficient labels". The rules are in the module docstring; ``thresholds``
    overrides any of :data:`DEFAULT_THRESHOLDS`.

    A missing target (``target=None`` or absent from a window), windows
    without labels and one-class windows give findings, not errors.
    """
    limits = _merge_thresholds(thresholds)
    min_bads = int(limits["min_bads"])
    _require(reference, score, "score")
    _require(current, score, "score")
    if period is not None and period not in _PERIODS:
        raise ParameterError(
            f"period={period!r}; expected one of {', '.join(_PERIODS)} (day, week, month)",
            name="period",
        )
    if (period is not None or label_delay is not None) and timestamp is None:
        raise ParameterError(
            "period and label_delay need the timestamp column; pass timestamp=...",
            name="timestamp",
        )
    empty = PerformanceComparison(table=pd.DataFrame(), findings=[], thresholds=limits)
    if target is None:
        empty.findings.append(_skip("performance", score, "No target column given: performance, "
                                    "calibration and target drift not computed"))
        return empty
    for name, frame in (("reference", reference), ("current", current)):
        if target not in frame.columns:
            empty.findings.append(_skip(
                "performance", target,
                f"Target column {target!r} missing from the {name} data: performance not "
                "computed",
                severity="warning",
            ))
    if empty.findings:
        return empty

    # Maturity: the same as_of for both windows (the end of the current data).
    if label_delay is not None:
        assert timestamp is not None
        if as_of is None:
            as_of = _timestamps(current, timestamp).max()
        ref_mat = matured(reference, timestamp=timestamp, target=target, as_of=as_of,
                          label_delay=label_delay)
        cur_mat = matured(current, timestamp=timestamp, target=target, as_of=as_of,
                          label_delay=label_delay)
    else:
        # Without a delay the timestamp is not read: unlabelled rows are the immature ones.
        ref_mat = matured(reference, timestamp=timestamp or "", target=target, as_of=as_of)
        cur_mat = matured(current, timestamp=timestamp or "", target=target, as_of=as_of)

    ref_perf = performance(ref_mat.frame, score=score, target=target)
    cur_perf = performance(cur_mat.frame, score=score, target=target)
    ref_cal = calibration_by_decile(ref_mat.frame, score=score, target=target)
    cur_cal = calibration_by_decile(cur_mat.frame, score=score, target=target,
                                    edges=ref_cal.edges)
    drift = target_drift(ref_perf.n_bad, ref_perf.n, cur_perf.n_bad, cur_perf.n)
    result = PerformanceComparison(
        table=pd.DataFrame(),
        findings=[],
        reference=ref_perf,
        current=cur_perf,
        reference_calibration=ref_cal,
        current_calibration=cur_cal,
        target_drift=drift,
        maturity={"reference": ref_mat, "current": cur_mat},
        thresholds=limits,
        methods={
            "performance": ref_perf.method,
            "calibration": ref_cal.method,
            "target_drift": drift.method,
            "maturity": cur_mat.method,
            "auc_drop": (
                f"AUC drop ref − cur: warning {limits['auc_drop'][0]}, incident "
                f"{limits['auc_drop'][1]}, and > {limits['z']}·√(SE_ref² + SE_cur²) (DeLong); "
                f"windows with < {min_bads} bads not judged"
            ),
        },
    )
    findings = result.findings
    rows: list[dict[str, Any]] = []

    ref_status = _status(ref_perf, min_bads)
    cur_status = _status(cur_perf, min_bads)
    rows.append(_row("reference", "", ref_mat.n_rows, ref_perf, ref_cal, ref_status,
                     "ok"))
    excluded = (
        f"{cur_mat.n_immature:,} of {cur_mat.n_rows:,} current rows excluded as immature"
        + (f", {cur_perf.n_missing_score:,} for a missing score" if cur_perf.n_missing_score
           else "")
    )
    judged: list[Finding] = []
    if ref_status != OK:
        findings.append(_skip(
            "performance", score,
            f"Reference window has {ref_status} ({ref_perf.n_bad:,} bads among {ref_perf.n:,} "
            f"labelled rows; at least {min_bads} needed): performance not compared",
            severity="warning",
        ))
    elif cur_status == NO_LABELS:
        findings.append(_skip(
            "performance", score,
            f"No matured labels in the current window ({excluded}): performance not judged",
        ))
    else:
        judged = _judge(ref_perf, ref_cal, cur_perf, cur_cal, limits, where="the current window",
                        period=None, score=score, target=target)
        if cur_status != OK:
            # Discrimination and calibration need both classes and enough bads; the default
            # rate stays comparable (a label feed that lost its bads shows there).
            judged = [f for f in judged if f.check == "target_drift"]
        if cur_status == SINGLE_CLASS:
            only = "goods" if cur_perf.n_bad == 0 else "bads"
            findings.append(_skip(
                "performance", score,
                f"AUC undefined in the current window: all {cur_perf.n:,} labelled rows are "
                f"{only}",
                severity="warning",
            ))
        elif cur_status == INSUFFICIENT:
            findings.append(_skip(
                "performance", score,
                f"Insufficient labels in the current window: {cur_perf.n_bad:,} bads < "
                f"{min_bads} ({excluded}); performance not judged",
            ))
        else:
            findings.append(_skip("label_maturity", target,
                                  f"Performance over matured labels: {excluded}"))
        findings.extend(judged)
    cur_severity = worst(f.severity for f in findings)
    checks = {f.check: f.severity for f in judged}
    rows.append(_row("current", "", cur_mat.n_rows, cur_perf, cur_cal, cur_status,
                     cur_severity, checks))

    if period is not None and ref_status == OK:
        assert timestamp is not None
        rows.extend(_periods(current, cur_mat, ref_perf, ref_cal, limits, score=score,
                             target=target, timestamp=timestamp, period=period,
                             findings=findings))
    result.table = pd.DataFrame(rows)
    return result


def _period_labels(frame: pd.DataFrame, timestamp: str, period: str) -> pd.Series:
    """Calendar period of each row; tz-aware stamps are read in UTC (periods carry no zone)."""
    times = _timestamps(frame, timestamp)
    if getattr(times.dtype, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.dt.to_period(period)


def _periods(
    current: pd.DataFrame,
    cur_mat: MaturedResult,
    ref_perf: PerformanceResult,
    ref_cal: CalibrationResult,
    limits: Mapping[str, Any],
    *,
    score: str,
    target: str,
    timestamp: str,
    period: str,
    findings: list[Finding],
) -> list[dict[str, Any]]:
    """One table row per current period; findings for the periods that crossed a band."""
    min_bads = int(limits["min_bads"])
    labels = _period_labels(current, timestamp, period)
    matured_labels = _period_labels(cur_mat.frame, timestamp, period)
    rows: list[dict[str, Any]] = []
    not_judged: dict[str, list[str]] = {}
    cutoff = cur_mat.cutoff
    if cutoff is not None and cutoff.tzinfo is not None:
        cutoff = cutoff.tz_convert("UTC").tz_localize(None)  # periods are naive UTC
    for key in sorted(labels.dropna().unique()):
        name = str(key)
        frame = cur_mat.frame.loc[(matured_labels == key).to_numpy()]
        perf = performance(frame, score=score, target=target)
        cal = calibration_by_decile(frame, score=score, target=target, edges=ref_cal.edges)
        status = _status(perf, min_bads)
        if cutoff is not None and key.end_time > cutoff:
            status = IMMATURE
        judged: list[Finding] = []
        if status == OK:
            judged = _judge(ref_perf, ref_cal, perf, cal, limits, where=f"{_PERIODS[period]} "
                            f"{name}", period=name, score=score, target=target)
            findings.extend(f for f in judged if f.severity != "ok")
        else:
            not_judged.setdefault(status, []).append(name)
        n_rows = int((labels == key).sum())
        rows.append(_row("period", name, n_rows, perf, cal, status,
                         worst(f.severity for f in judged), {f.check: f.severity for f in judged}))
    if not_judged:
        parts = [f"{status}: {', '.join(names)}" for status, names in not_judged.items()]
        if INSUFFICIENT in not_judged:
            parts.append(f"at least {min_bads} bads needed")
        if IMMATURE in not_judged:
            parts.append(f"labels complete only up to {cur_mat.cutoff:%Y-%m-%d %H:%M}")
        findings.append(_skip(
            "performance_periods", score,
            f"{sum(map(len, not_judged.values()))} {_PERIODS[period]}(s) not judged ("
            + "; ".join(parts) + ")",
        ))
    return rows
