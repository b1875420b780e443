"""Deterministic, seeded sample data for a credit-decisioning model.

:func:`generate` builds an application log: one row per credit application,
sorted by time, with segments, eleven applicant features, the model's score
(a probability of default), the decision taken from score thresholds and the
delayed default label. It is the default data of every notebook and the fixture
of the tests, so it is fully determined by its arguments and fast enough for
benchmarks (vectorised numpy: a million rows in one to two seconds, ten
million in about twenty seconds and 3.5 GB of memory).

Conventions
-----------
* Timestamps are naive ``datetime64[ns]`` meaning UTC, in ``[start, start +
  weeks)``, at millisecond resolution, sorted ascending. Exactly ``rows`` rows
  are spread over the hours of the window by a seasonal intensity: weekdays
  busier than weekends (Saturday about 0.6 and Sunday about 0.4 of a weekday),
  nights quiet, a daytime and an evening peak; branches open 09-17 on weekdays
  and Saturday mornings; brokers submit only 09-17 on weekdays.
* Randomness: one :class:`numpy.random.SeedSequence` of ``seed`` is spawned into
  independent child streams (:data:`_STREAMS`), one per concern, each driving a
  ``Generator(PCG64(child))``. Every draw is made whether or not an incident
  uses it, so switching incidents on never changes the clean rows, and the rows
  before ``incident_start`` are identical with and without incidents. (Same
  arguments give the same frame for a given numpy version.)
* Score: a fixed logistic model of the observed features only (missing income
  and bureau score are imputed and flagged, as a production model does).
  Decisions use fixed thresholds on the score, calibrated once so that the clean
  data is about 60 % approve, 15 % refer, 25 % decline.
* Label: ``default_flag`` is Bernoulli(clean score): the applicant's true risk,
  which the feature incidents do not change. It is ``<NA>`` for applications
  whose timestamp is within ``label_delay_days`` of the window end (outcome not
  yet observed).

Incidents (:data:`INCIDENTS`) all take effect for rows with ``timestamp >=
incident_start`` and may be combined. Feature incidents corrupt the feature
*and the score is recomputed from the corrupted features* (the model scores the
bad input it is fed), so decisions move too; the label does not. ``channel_outage``
removes the broker rows, so the frame then has fewer than ``rows`` rows; the
remaining rows keep their application ids (the gap is what an outage leaves).
``refer_decay`` turns each referred application into an approval with a
probability rising linearly from 0 at ``incident_start`` to 0.5 at the window end.
"""

from __future__ import annotations

import datetime
import numbers
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import IO, TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from .errors import DataError, OutputError, ParameterError

__all__ = [
    "INCIDENTS",
    "DEFAULT_SPEC",
    "generate",
    "split",
    "write_sample_data",
]

INCIDENTS: dict[str, str] = {
    "income_shift": "Reported income is 15% higher (x1.15) from the incident start, "
    "as if an upstream system switched from net to gross income.",
    "utilisation_zero": "Credit utilisation is silently 0.0 for a random 30% of "
    "applications from the incident start, as if a failed bureau field were defaulted.",
    "bureau_timeout_nulls": "Bureau score is missing for a random 25% of applications "
    "from the incident start, as after timeouts of the bureau call.",
    "channel_outage": "No broker applications arrive from the incident start "
    "(the broker channel is down; those rows are absent).",
    "approval_jump": "The approve threshold is raised at the incident start so that "
    "the approval rate rises by about 8 percentage points.",
    "refer_decay": "Referred applications are progressively auto-approved, so the refer "
    "share decays linearly to about half its level by the end of the window.",
}

FEATURES: list[str] = [
    "age",
    "income",
    "employment_status",
    "housing",
    "loan_amount",
    "loan_term_months",
    "debt_to_income",
    "credit_utilisation",
    "num_credit_lines",
    "bureau_score",
    "months_since_delinquency",
]

TimeLike = str | datetime.date | np.datetime64
"""A date or timestamp: ISO 8601 text, a ``date`` or ``datetime`` (``pandas.Timestamp`` is one), a ``datetime64``."""


class _SpecTable(TypedDict):
    """The keys of a model spec (:meth:`mlreport.spec.ModelSpec.from_dict`) that the sample fills."""

    model: str
    timestamp: str
    id: str
    score: str
    decision: str
    target: str
    segments: list[str]
    features: list[str]
    categorical_features: list[str]
    decision_labels: dict[str, str]
    monotone: dict[str, str]


DEFAULT_SPEC: _SpecTable = {
    "model": "sample-credit-decisioning",
    "timestamp": "timestamp",
    "id": "application_id",
    "score": "score",
    "decision": "decision",
    "target": "default_flag",
    "segments": ["channel", "region", "product"],
    "features": list(FEATURES),
    # loan_term_months is an integer with five levels: compare it as categories.
    "categorical_features": ["employment_status", "housing", "loan_term_months"],
    "decision_labels": {"approve": "approve", "refer": "refer", "decline": "decline"},
    "monotone": {
        "debt_to_income": "increasing",
        "bureau_score": "decreasing",
        "credit_utilisation": "increasing",
    },
}
"""Column roles of the sample data, in the shape of a model spec. Copy before editing."""

COLUMNS: list[str] = [
    "application_id",
    "timestamp",
    "channel",
    "region",
    "product",
    *FEATURES,
    "score",
    "decision",
    "default_flag",
]

# Segment levels and mixes.
CHANNELS = ("online", "mobile", "branch", "broker")
_CHANNEL_SHARE = np.array([0.40, 0.30, 0.20, 0.10])
REGIONS = ("north", "south", "east", "west", "central")
_REGION_SHARE = np.array([0.22, 0.20, 0.18, 0.18, 0.22])
PRODUCTS = ("personal_loan", "credit_card", "auto_loan")
# Product mix per channel (rows follow CHANNELS): cards are a mobile product,
# brokers mostly arrange car finance.
_PRODUCT_MIX = np.array(
    [
        [0.45, 0.42, 0.13],
        [0.35, 0.55, 0.10],
        [0.50, 0.25, 0.25],
        [0.45, 0.05, 0.50],
    ]
)
EMPLOYMENT = ("employed", "self_employed", "unemployed", "retired", "student")
_EMPLOYMENT_SHARE = np.array([0.62, 0.12, 0.06, 0.12, 0.08])
HOUSING = ("rent", "own", "mortgage", "other")
# Housing mix by age band (<30, 30-49, 50+).
_HOUSING_MIX = np.array(
    [
        [0.55, 0.05, 0.15, 0.25],
        [0.35, 0.10, 0.50, 0.05],
        [0.20, 0.45, 0.30, 0.05],
    ]
)
TERMS = (12, 24, 36, 48, 60)
_TERMS_ARRAY = np.array(TERMS, dtype=np.int64)
# Term mix per product (rows follow PRODUCTS); a card's "term" is its review period.
_TERM_MIX = np.array(
    [
        [0.15, 0.25, 0.30, 0.15, 0.15],
        [0.70, 0.30, 0.00, 0.00, 0.00],
        [0.05, 0.15, 0.30, 0.25, 0.25],
    ]
)
DECISIONS = ("approve", "refer", "decline")

# Seasonality. Day factors Monday..Sunday and hour-of-day profiles per channel
# (rows follow CHANNELS). Each channel's profile is normalised over the week, so
# the channel shares above hold in expectation.
_DAY_FACTOR = np.array(
    [
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.80, 0.60],  # online
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.82, 0.63],  # mobile
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.85, 0.00],  # branch: Saturday mornings only
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.00, 0.00],  # broker: weekdays only
    ]
)
_HOUR_PROFILE = np.array(
    [
        # 0     1     2     3     4     5     6     7     8     9    10    11
        # 12   13    14    15    16    17    18    19    20    21    22    23
        [0.15, 0.08, 0.05, 0.04, 0.04, 0.07, 0.20, 0.45, 0.70, 0.85, 0.95, 1.00,
         1.00, 0.95, 0.95, 0.95, 0.95, 1.00, 1.05, 1.10, 1.10, 0.95, 0.70, 0.40],
        [0.25, 0.15, 0.08, 0.05, 0.05, 0.08, 0.25, 0.55, 0.70, 0.75, 0.80, 0.90,
         1.00, 0.90, 0.85, 0.85, 0.90, 1.00, 1.15, 1.25, 1.30, 1.20, 0.90, 0.55],
        [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.80, 1.00, 1.00,
         0.90, 0.90, 1.00, 1.00, 0.80, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],
        [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.70, 1.00, 1.00,
         0.85, 0.95, 1.00, 0.95, 0.75, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],
    ]
)
# Branches open only in the morning on Saturdays.
_SATURDAY_BRANCH_HOURS = np.arange(24) < 13
# Day-to-day volume noise (lognormal sigma) shared by all channels: a busy day is busy everywhere.
_DAY_NOISE_SIGMA = 0.05

# Decision thresholds on the score (probability of default), calibrated on
# 4 million clean rows (seeds 11-14) so that about 60 % approve (score < approve threshold),
# 15 % refer and 25 % decline (score >= decline threshold). The raised approve
# threshold of "approval_jump" is the clean score's 68th percentile (+8 pp).
_APPROVE_BELOW = 0.0503
_APPROVE_BELOW_JUMP = 0.0748
_DECLINE_FROM = 0.1100

_INCIDENT_OFFSET = pd.Timedelta(days=45)
_UTILISATION_ZERO_SHARE = 0.30
_BUREAU_NULL_SHARE = 0.25
_INCOME_FACTOR = 1.15
_REFER_DECAY_FINAL = 0.5  # share of refers turned into approvals at the window end

_MS = 1_000_000  # nanoseconds per millisecond
_HOUR = 3_600_000 * _MS
_DAY = 24 * _HOUR

# Independent random streams, spawned from the seed in this order. Append new
# concerns at the end so the existing streams (and so the data) stay the same.
_STREAMS = (
    "timestamps",
    "segments",
    "applicant",
    "credit",
    "label",
    "utilisation_zero",
    "bureau_timeout_nulls",
    "refer_decay",
)


# --------------------------------------------------------------------------- validation


def _check_count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(
            f"{name} must be an integer >= {minimum}, got {value!r}", name=name
        )
    if value < minimum:
        raise ParameterError(f"{name} must be >= {minimum}, got {value}", name=name)
    return int(value)


def _parse_time(value: TimeLike | None, name: str) -> pd.Timestamp:
    """Parse ``value`` to a naive UTC :class:`pandas.Timestamp` (aware values are converted)."""
    if value is None or isinstance(value, (bool, numbers.Number)):
        raise ParameterError(
            f"{name} must be a date or timestamp such as '2026-01-05', got {value!r}",
            name=name,
        )
    try:
        parsed = pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise ParameterError(
            f"{name} must be a date or timestamp such as '2026-01-05', got {value!r} ({error})",
            name=name,
        ) from None
    if parsed is pd.NaT or pd.isna(parsed):
        raise ParameterError(f"{name} must be a date or timestamp, got {value!r}", name=name)
    if parsed.tzinfo is not None:
        parsed = parsed.tz_convert("UTC").tz_localize(None)
    return parsed.as_unit("ns")


def _parse_incidents(incidents: object) -> frozenset[str]:
    """Incident names from a sequence or a comma-separated string ("" means none)."""
    if incidents is None:
        return frozenset()
    if isinstance(incidents, str):
        names = [part.strip() for part in incidents.split(",") if part.strip()]
    elif isinstance(incidents, Iterable):
        names = list(incidents)
    else:
        raise ParameterError(
            f"incidents must be a list of incident names, got {incidents!r}", name="incidents"
        )
    valid = ", ".join(INCIDENTS)
    for name in names:
        if not isinstance(name, str) or name not in INCIDENTS:
            raise ParameterError(
                f"unknown incident {name!r} in incidents; valid incidents are: {valid}",
                name="incidents",
            )
    return frozenset(names)


# --------------------------------------------------------------------------- helpers


def _pick(rng: np.random.Generator, shares: npt.NDArray[np.float64], size: int) -> npt.NDArray[np.int8]:
    """Category codes (int8) drawn with probabilities ``shares``."""
    cumulative = np.cumsum(shares / shares.sum())
    codes = np.searchsorted(cumulative, rng.random(size), side="right")
    return np.minimum(codes, len(shares) - 1).astype(np.int8)


def _pick_by(
    rng: np.random.Generator, mixes: npt.NDArray[np.float64], group: npt.NDArray[np.int8]
) -> npt.NDArray[np.int8]:
    """Category codes drawn per row from the row of ``mixes`` selected by ``group``."""
    uniform = rng.random(group.size)
    codes = np.empty(group.size, dtype=np.int8)
    for level, shares in enumerate(mixes):
        rows = group == level
        cumulative = np.cumsum(shares / shares.sum())
        picked = np.searchsorted(cumulative, uniform[rows], side="right")
        codes[rows] = np.minimum(picked, len(shares) - 1)
    return codes


def _labels(codes: npt.NDArray[np.int8], levels: Iterable[object]) -> pd.Series:
    """A pandas ``str`` Series of ``levels[codes]`` (pyarrow take: fast at 10^7 rows)."""
    values = pa.array([str(level) for level in levels]).take(pa.array(codes))
    return pd.Series(values, dtype="str")


def _application_ids(count: int, width: int) -> pd.Series:
    """``"A"`` followed by 1..count zero-padded to ``width`` digits, as a ``str`` Series."""
    numbers_ = np.arange(1, count + 1, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    text = np.empty((count, width + 1), dtype=np.uint8)
    text[:, 0] = ord("A")
    text[:, 1:] = (numbers_[:, None] // powers) % 10 + ord("0")
    offsets = np.arange(count + 1, dtype=np.int64) * (width + 1)
    array = pa.LargeStringArray.from_buffers(
        count, pa.py_buffer(offsets), pa.py_buffer(text.reshape(-1))
    )
    return pd.Series(array.cast(pa.string()), dtype="str")


def _sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------- timestamps


def _timestamps(
    rng: np.random.Generator, rows: int, start: pd.Timestamp, weeks: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """Sorted int64 nanosecond timestamps and their channel codes.

    The window is cut into hours; each (hour, channel) cell gets an intensity
    from the channel's day factor and hour profile times a daily noise factor,
    and exactly ``rows`` rows are spread over the cells by one multinomial
    draw, then placed uniformly (to the millisecond) inside their hour.
    """
    hours = weeks * 168
    hour_start = start.value + np.arange(hours, dtype=np.int64) * _HOUR
    # 1970-01-01 was a Thursday: shift so Monday is 0.
    weekday = (hour_start // _DAY + 3) % 7
    hour_of_day = (hour_start // _HOUR) % 24
    intensity = _DAY_FACTOR[:, weekday] * _HOUR_PROFILE[:, hour_of_day]
    saturday = weekday == 5
    intensity[2, saturday & ~_SATURDAY_BRANCH_HOURS[hour_of_day]] = 0.0
    intensity *= (_CHANNEL_SHARE / intensity.sum(axis=1))[:, None]
    day_noise = rng.lognormal(0.0, _DAY_NOISE_SIGMA, size=weeks * 7)
    intensity *= np.repeat(day_noise, 24)[None, :]
    probabilities = intensity.reshape(-1)
    probabilities /= probabilities.sum()
    counts = rng.multinomial(rows, probabilities)
    cells = np.repeat(np.arange(probabilities.size), counts)
    channel = (cells // hours).astype(np.int8)
    offset = rng.integers(0, _HOUR // _MS, size=rows, dtype=np.int64) * _MS
    stamps = hour_start[cells % hours] + offset
    order = np.argsort(stamps, kind="stable")
    return stamps[order], channel[order]


# --------------------------------------------------------------------------- features


def _applicants(
    segments_rng: np.random.Generator,
    applicant_rng: np.random.Generator,
    credit_rng: np.random.Generator,
    channel: npt.NDArray[np.int8],
) -> dict[str, np.ndarray]:
    """Segments, applicant features and latent risk for each row (clean values).

    Returns arrays keyed by column name plus ``"_income_true"`` (income before
    it goes missing) and ``"_risk"`` (the latent credit risk that ties
    utilisation, debt, delinquency and bureau score together).
    """
    n = channel.size
    region = _pick(segments_rng, _REGION_SHARE, n)
    product = _pick_by(segments_rng, _PRODUCT_MIX, channel)

    # Applicant: employment, then age by employment and channel (mobile users
    # are younger, branch customers older), housing by age, income by all three.
    employment = _pick(applicant_rng, _EMPLOYMENT_SHARE, n)
    age_noise = applicant_rng.standard_normal(n)
    student_age = 18.0 + applicant_rng.gamma(2.0, 2.0, n)
    channel_age_shift = np.array([0.0, -6.0, 8.0, 2.0])[channel]
    age = 40.0 + channel_age_shift + 11.0 * age_noise
    age = np.where(employment == 4, np.minimum(student_age, 35.0), np.clip(age, 18.0, 75.0))
    age = np.where(employment == 3, np.clip(67.0 + 6.0 * age_noise, 55.0, 90.0), age)
    age = np.rint(age).astype(np.int64)

    age_band = np.digitize(age, [30, 50]).astype(np.int8)
    housing = _pick_by(applicant_rng, _HOUSING_MIX, age_band)

    employment_effect = np.array([0.05, 0.10, -0.90, -0.35, -0.95])[employment]
    income_sigma = np.array([0.45, 0.70, 0.45, 0.40, 0.40])[employment]
    # Earnings rise to a plateau in the mid-forties and fall gently after.
    age_effect = 0.30 * (1.0 - ((np.clip(age, 18, 70) - 46.0) / 28.0) ** 2)
    income_noise = applicant_rng.standard_normal(n)
    log_income = np.log(36_000.0) + employment_effect + age_effect + income_sigma * income_noise
    income_true = np.maximum(np.round(np.exp(log_income), -2), 3_000.0)
    income = np.where(applicant_rng.random(n) < 0.03, np.nan, income_true)

    # Credit: a latent risk, lower for higher income and older applicants.
    income_z = (log_income - np.log(36_000.0)) / 0.6
    risk = (
        0.85 * credit_rng.standard_normal(n)
        - 0.30 * income_z
        - 0.012 * (age - 40.0)
    )

    loan_ratio = np.array([0.25, 0.10, 0.45])[product]
    loan_floor = np.array([1_000.0, 500.0, 3_000.0])[product]
    loan_cap = np.array([50_000.0, 25_000.0, 80_000.0])[product]
    loan_noise = credit_rng.standard_normal(n)
    loan_amount = income_true * loan_ratio * np.exp(0.35 * loan_noise)
    loan_amount = np.clip(np.round(loan_amount, -2), loan_floor, loan_cap)
    term = _TERMS_ARRAY[_pick_by(credit_rng, _TERM_MIX, product)]

    # Debt to income: existing commitments (riskier people carry more) plus the
    # new monthly payment (flat 8 % a year for loans, 3 % of the limit for cards).
    existing = credit_rng.beta(2.0, 7.0, n) * np.exp(0.35 * risk)
    annuity = loan_amount * (1.0 + 0.08 * term / 12.0) / term
    payment = np.where(product == 1, 0.03 * loan_amount, annuity)
    debt_to_income = np.round(np.clip(existing + payment / (income_true / 12.0), 0.0, 3.0), 4)

    # Utilisation: beta-like with mean rising with risk, up to 1.2 (over limit);
    # about half a percent hold no revolving balance at all.
    utilisation = credit_rng.beta(1.6 * np.exp(0.45 * risk), 2.6 * np.exp(-0.25 * risk))
    utilisation = np.round(np.minimum(1.2 * utilisation, 1.2), 4)
    utilisation = np.where(credit_rng.random(n) < 0.005, 0.0, utilisation)

    lines_mean = 1.5 + 0.06 * np.clip(age - 18.0, 0.0, 40.0) + 0.5 * np.maximum(risk, 0.0)
    num_credit_lines = np.minimum(credit_rng.poisson(lines_mean), 25).astype(np.int64)

    # Delinquency: about 40 % were ever delinquent; riskier ones more recently.
    delinquent = credit_rng.random(n) < _sigmoid(-0.50 + 1.1 * risk)
    months = np.ceil(credit_rng.exponential(36.0 * np.exp(-0.4 * risk)))
    months = np.clip(months, 1.0, 180.0)
    months_since_delinquency = np.where(delinquent, months, np.nan)

    recent = np.where(delinquent, np.exp(-months / 36.0), 0.0)
    bureau = (
        715.0
        - 48.0 * risk
        - 30.0 * delinquent
        - 70.0 * recent
        + 0.6 * (age - 40.0)
        + 32.0 * credit_rng.standard_normal(n)
    )
    bureau = np.clip(np.rint(bureau), 300.0, 850.0)
    # Thin files: young applicants are more often unknown to the bureau.
    thin_file = credit_rng.random(n) < np.where(age < 23, 0.04, 0.007)
    bureau_score = np.where(thin_file, np.nan, bureau)

    return {
        "region": region,
        "product": product,
        "age": age,
        "income": income,
        "employment_status": employment,
        "housing": housing,
        "loan_amount": loan_amount,
        "loan_term_months": term,
        "debt_to_income": debt_to_income,
        "credit_utilisation": utilisation,
        "num_credit_lines": num_credit_lines,
        "bureau_score": bureau_score,
        "months_since_delinquency": months_since_delinquency,
    }


def _score(features: Mapping[str, np.ndarray]) -> npt.NDArray[np.float64]:
    """The sample model: probability of default from the observed features.

    A logistic function of the features as recorded (never the latent risk).
    Risk rises with utilisation, debt to income, recent delinquency and falls
    with bureau score and income. Missing income is imputed at 36,000 and
    missing bureau score at 620, each with a penalty for being missing.
    """
    income = features["income"]
    income_missing = np.isnan(income)
    income_filled = np.where(income_missing, 36_000.0, income)
    bureau = features["bureau_score"]
    bureau_missing = np.isnan(bureau)
    bureau_filled = np.where(bureau_missing, 620.0, bureau)
    months = features["months_since_delinquency"]
    ever_delinquent = ~np.isnan(months)
    delinquency = np.where(
        ever_delinquent, 0.35 + 1.2 * np.exp(-np.where(ever_delinquent, months, 0.0) / 24.0), 0.0
    )
    z = (
        -3.45
        + 1.6 * (features["credit_utilisation"] - 0.45)
        + 1.5 * (np.minimum(features["debt_to_income"], 2.0) - 0.35)
        + delinquency
        - 0.009 * (bureau_filled - 690.0)
        + 0.45 * bureau_missing
        - 0.35 * np.log(income_filled / 36_000.0)
        + 0.30 * income_missing
        + np.array([0.0, -0.10, -0.25])[features["product"]]
        + np.array([0.0, 0.20, 0.70, 0.05, 0.35])[features["employment_status"]]
        - 0.008 * (features["age"] - 40.0)
    )
    return _sigmoid(z)


def _decide(score: npt.NDArray[np.float64], approve_below: npt.NDArray[np.float64] | float) -> npt.NDArray[np.int8]:
    """Decision codes: 0 approve (score < approve_below), 2 decline (>= decline), else 1 refer."""
    decision = np.ones(score.size, dtype=np.int8)
    decision[score < approve_below] = 0
    decision[score >= _DECLINE_FROM] = 2
    return decision


# --------------------------------------------------------------------------- public API


def generate(
    rows: int = 50_000,
    *,
    start: TimeLike = "2026-01-05",
    weeks: int = 8,
    seed: int = 7,
    incidents: Iterable[str] | str = (),
    incident_start: TimeLike | None = None,
    label_delay_days: float = 30,
) -> pd.DataFrame:
    """A credit-decisioning application log with optional injected incidents.

    Parameters
    ----------
    rows:
        Number of applications (>= 1). Exactly this many unless
        ``"channel_outage"`` removes the broker rows after ``incident_start``.
    start:
        Start of the window (date or timestamp; aware values are converted to
        naive UTC). The window is ``[start, start + weeks)``.
    weeks:
        Length of the window in weeks (>= 1).
    seed:
        Seed (integer >= 0); same arguments give an identical frame.
    incidents:
        Names from :data:`INCIDENTS`, as a sequence or a comma-separated string.
    incident_start:
        When the incidents take effect (rows with ``timestamp >= incident_start``).
        Default (``None`` or ``""``) ``start + 45 days``, or the middle of the
        window when the window is shorter than that. Must lie inside the window.
    label_delay_days:
        Days before the window end from which ``default_flag`` is ``<NA>`` (>= 0).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, sorted by timestamp, with a RangeIndex. Dtypes:
        ``str`` for ids and labels, ``datetime64[ns]`` timestamp, ``int64`` for
        age, term and credit lines, ``float64`` for the rest, nullable ``Int8``
        default_flag.
    """
    rows = _check_count(rows, "rows", 1)
    weeks = _check_count(weeks, "weeks", 1)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ParameterError(f"seed must be an integer >= 0, got {seed!r}", name="seed")
    if (
        isinstance(label_delay_days, bool)
        or not isinstance(label_delay_days, numbers.Real)
        or not np.isfinite(label_delay_days)
        or label_delay_days < 0
    ):
        raise ParameterError(
            f"label_delay_days must be a number of days >= 0, got {label_delay_days!r}",
            name="label_delay_days",
        )
    active = _parse_incidents(incidents)
    window_start = _parse_time(start, "start")
    window_end = window_start + pd.Timedelta(weeks=weeks)
    if incident_start is None or (isinstance(incident_start, str) and not incident_start):
        effective = window_start + _INCIDENT_OFFSET
        if effective >= window_end:
            effective = window_start + (window_end - window_start) / 2
    else:
        effective = _parse_time(incident_start, "incident_start")
        if not window_start <= effective < window_end:
            raise ParameterError(
                f"incident_start {effective} must lie inside the window "
                f"[{window_start}, {window_end})",
                name="incident_start",
            )

    streams = dict(
        zip(
            _STREAMS,
            (np.random.Generator(np.random.PCG64(child))
             for child in np.random.SeedSequence(int(seed)).spawn(len(_STREAMS))),
            strict=True,
        )
    )
    stamps, channel = _timestamps(streams["timestamps"], rows, window_start, weeks)
    features = _applicants(streams["segments"], streams["applicant"], streams["credit"], channel)
    clean_score = _score(features)
    default = streams["label"].random(rows) < clean_score
    # Incident masks are drawn always, so the other streams never depend on them.
    zero_draw = streams["utilisation_zero"].random(rows)
    null_draw = streams["bureau_timeout_nulls"].random(rows)
    refer_draw = streams["refer_decay"].random(rows)

    after = stamps >= effective.value
    score = clean_score
    if active & {"income_shift", "utilisation_zero", "bureau_timeout_nulls"}:
        if "income_shift" in active:
            features["income"] = np.where(
                after, np.round(features["income"] * _INCOME_FACTOR, 2), features["income"]
            )
        if "utilisation_zero" in active:
            hit = after & (zero_draw < _UTILISATION_ZERO_SHARE)
            features["credit_utilisation"] = np.where(hit, 0.0, features["credit_utilisation"])
        if "bureau_timeout_nulls" in active:
            hit = after & (null_draw < _BUREAU_NULL_SHARE)
            features["bureau_score"] = np.where(hit, np.nan, features["bureau_score"])
        # The model scores the corrupted inputs it is fed.
        score = _score(features)

    approve_below: npt.NDArray[np.float64] | float = _APPROVE_BELOW
    if "approval_jump" in active:
        approve_below = np.where(after, _APPROVE_BELOW_JUMP, _APPROVE_BELOW)
    decision = _decide(score, approve_below)
    if "refer_decay" in active:
        span = window_end.value - effective.value
        progress = np.clip((stamps - effective.value) / span, 0.0, 1.0)
        flip = after & (decision == 1) & (refer_draw < _REFER_DECAY_FINAL * progress)
        decision[flip] = 0

    label_from = window_end - pd.Timedelta(days=float(label_delay_days))
    labelled = stamps < label_from.value
    default_flag = pd.arrays.IntegerArray(default.astype(np.int8), ~labelled)

    width = max(7, len(str(rows)))
    frame = pd.DataFrame(
        {
            "application_id": _application_ids(rows, width),
            "timestamp": pd.Series(stamps.view("datetime64[ns]")),
            "channel": _labels(channel, CHANNELS),
            "region": _labels(features["region"], REGIONS),
            "product": _labels(features["product"], PRODUCTS),
            "age": features["age"],
            "income": features["income"],
            "employment_status": _labels(features["employment_status"], EMPLOYMENT),
            "housing": _labels(features["housing"], HOUSING),
            "loan_amount": features["loan_amount"],
            "loan_term_months": features["loan_term_months"],
            "debt_to_income": features["debt_to_income"],
            "credit_utilisation": features["credit_utilisation"],
            "num_credit_lines": features["num_credit_lines"],
            "bureau_score": features["bureau_score"],
            "months_since_delinquency": features["months_since_delinquency"],
            "score": score,
            "decision": _labels(decision, DECISIONS),
            "default_flag": default_flag,
        }
    )
    if "channel_outage" in active:
        # An outage leaves no rows at all, and a gap in the application ids.
        keep = ~(after & (channel == CHANNELS.index("broker")))
        frame = frame.loc[keep].reset_index(drop=True)
    return frame


def split(
    frame: pd.DataFrame, at: TimeLike, *, column: str = "timestamp"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``frame`` into rows with ``column < at`` and rows with ``column >= at``.

    Both parts keep the column order and get a fresh RangeIndex. ``at`` is a date
    or timestamp; aware values are compared in UTC. Rows whose ``column`` is
    missing belong to neither part.
    """
    if column not in frame.columns:
        raise DataError(
            f"cannot split on column {column!r}: it is not in the frame "
            f"(columns: {', '.join(map(str, frame.columns))})",
            column=column,
        )
    values = frame[column]
    if not pd.api.types.is_datetime64_any_dtype(values):
        raise DataError(
            f"cannot split on column {column!r}: expected datetimes, got dtype {values.dtype}",
            column=column,
        )
    boundary = _parse_time(at, "at")
    if getattr(values.dtype, "tz", None) is not None:
        boundary = boundary.tz_localize("UTC")
    before = (values < boundary).to_numpy(dtype=bool)
    from_at = (values >= boundary).to_numpy(dtype=bool)
    return (
        frame.loc[before].reset_index(drop=True),
        frame.loc[from_at].reset_index(drop=True),
    )


def _write_atomically(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then move it into place."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ISO 8601 timestamps to the millisecond: ``2026-01-05T08:15:02.417``."""
    text = np.datetime_as_string(frame["timestamp"].to_numpy(), unit="ms")
    return frame.assign(timestamp=pd.Series(text, index=frame.index, dtype="str"))


def write_sample_data(
    directory: str | os.PathLike[str],
    *,
    rows: int = 50_000,
    incidents: Iterable[str] | str = (),
    seed: int = 7,
    weeks: int = 8,
    start: TimeLike = "2026-01-05",
    incident_start: TimeLike | None = None,
    label_delay_days: float = 30,
) -> dict[str, Path]:
    """Write the sample log and its reference/current halves as Parquet and CSV.

    Creates ``directory`` and writes ``applications``, ``reference`` (before
    ``start + weeks // 2`` weeks) and ``current`` (from then on), each as
    ``.parquet`` and ``.csv``. Every file is written to a temporary file and moved
    into place, so an interruption never leaves half a file. Returns file name
    (``"reference.parquet"``) -> path.

    Parquet round-trips exactly. CSV has no index and ISO 8601 timestamps at
    millisecond resolution; read back with ``pandas.read_csv(path,
    parse_dates=["timestamp"])`` it equals the frame except for dtypes:
    ``default_flag`` becomes float64 (NaN for unlabelled rows) and the timestamp's
    resolution may differ from ns.
    """
    if _check_count(weeks, "weeks", 1) < 2:
        raise ParameterError(
            f"weeks must be >= 2 to write both a reference and a current half, got {weeks}",
            name="weeks",
        )
    frame = generate(
        rows,
        start=start,
        weeks=weeks,
        seed=seed,
        incidents=incidents,
        incident_start=incident_start,
        label_delay_days=label_delay_days,
    )
    window_start = _parse_time(start, "start")
    reference, current = split(frame, window_start + pd.Timedelta(weeks=weeks // 2))
    target = Path(directory)
    written: dict[str, Path] = {}
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, part in (("applications", frame), ("reference", reference), ("current", current)):
            parquet = target / f"{name}.parquet"
            _write_atomically(parquet, partial(part.to_parquet, index=False))
            written[parquet.name] = parquet
            csv = target / f"{name}.csv"
            text = _csv_ready(part)
            _write_atomically(csv, partial(text.to_csv, index=False, lineterminator="\n"))
            written[csv.name] = csv
    except OSError as error:
        raise OutputError(f"cannot write the sample data to {str(target)!r}: {error}") from None
    return written
