"""Multivariate drift: can a classifier tell the reference from the current window?

A domain classifier is trained to predict, from the features alone, whether a
row comes from the current window (1) or the reference (0). Its cross-validated
ROC AUC measures how separable the windows are: 0.5 means indistinguishable
(no drift a model could learn, including changes in the joint distribution that
no single column shows), 1.0 means perfectly separable. Permutation importance
on a held-out fold names the features that separate the windows.

Conventions (printed in the report through ``method``):

- **Sample**: at most ``sample`` rows drawn uniformly without replacement from
  *each* window (stratified by window, so a large reference does not crowd out
  the current window), with a seeded generator.
- **Encoding**: numeric and boolean columns as float, missing values kept as
  NaN (the gradient-boosting trees route them natively), ±inf set to NaN;
  datetimes as seconds since the epoch; other columns, and those named in
  ``categorical``, as category codes: values as text, codes in sorted order of
  the categories of the pooled sample (the codes ``OrdinalEncoder`` gives),
  missing kept missing; beyond 250 categories the most frequent 249 keep
  their own code and the rest share one "infrequent" code, because the trees'
  native categorical support stops at 255 bins. (Encoded with a pandas
  hash index: ``OrdinalEncoder`` gives the same codes but took
  0.2 s per column at 100,000 rows, a quarter of the whole classifier.)
- **Model**: ``HistGradientBoostingClassifier`` (learning rate 0.3, 15 leaves,
  at most 50 iterations with early stopping on the log loss of a 10%
  validation split, 10 rounds without improvement), native NaN and
  categorical handling. Early stopping keeps the cost proportional to how much
  there is to learn (windows from one distribution stop after a few trees);
  the fast learning rate and small trees gave AUCs within 0.002 of lr 0.1,
  31 leaves and 200 iterations on the sample incidents, in 60% of the time.
- **AUC**: ``StratifiedKFold(folds, shuffle=True)``; mean and standard
  deviation (ddof 0) of the per-fold out-of-fold ROC AUC.
- **Importance**: permutation importance of the first fold's model on its
  held-out fold (at most 5,000 of its rows, drawn with the seed, stratified by
  window), scoring ROC AUC, 5 repeats: the drop of AUC when a feature's values
  are shuffled. The permutations and numbers of
  ``sklearn.inspection.permutation_importance`` (within 1e-12: the AUC's
  rounding), computed with one prediction per feature instead of one per
  repeat (``_permutation_importance``). A feature is named as separating when
  its mean drop is at least 0.005 and above twice its repeat-to-repeat std
  (ddof 0); the top three are named.
- **Threads**: one OpenMP thread by default (``n_threads``). Reports run
  beside other jobs; on a busy 2-core machine the trees' OpenMP loops, when
  they competed for the cores, slowed by up to 10-30x in our measurements
  (one 0.3 s fit took 10 s), while one thread stays predictable.
- **Bands**: AUC ≥ 0.55 warning, ≥ 0.65 incident. 0.5 is chance; at the default
  sample the standard error of a null AUC on one 20,000-row fold is about
  0.004, so 0.55 is a real but modest separation, and 0.65 means a classifier
  picks the current row of a random (reference, current) pair correctly about
  two times in three.
- **Test**: a band counts only when the AUC is also significantly above chance,
  at the classifier's share of the report's false-alarm budget (``_budget``:
  0.0075 for a warning, 0.0015 for an incident). One-sided z-test of the mean
  fold AUC against 0.5 with the Mann-Whitney null standard error of the two
  windows' rows, ``sqrt((n + m + 1) / (12 n m))``, times 1.5: on unchanged
  data (five shapes, 20 to 120 trials each, 500 to 20,000 rows per window) the
  cross-validated AUC varied 1.2 to 1.35 times more than that standard error
  (the fold models share training rows, so their AUCs are not independent),
  and the factor covers it. Below about 2,000 rows per window the test, not
  the band, is what holds back noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sps
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from threadpoolctl import threadpool_limits

from ..errors import DataError, ParameterError
from ..findings import Finding
from ._budget import DEFAULT_BUDGET
from ._tree_sums import TreeSums

__all__ = ["SECTION", "MIN_ROWS", "DomainClassifierResult", "domain_classifier"]

SECTION = "Multivariate drift"

# Fewer rows than this in either window: the classifier is not run.
MIN_ROWS = 50

# The trees' native categorical support takes at most 255 bins, one kept for missing.
_MAX_CATEGORIES = 250

_REPEATS = 5
_MAX_ITER = 50
# Permutation importance predicts (features x repeats) times: cap its rows.
_IMPORTANCE_ROWS = 5_000
# Rows of permuted copies predicted in one call (several features' repeats at a time): at most about 40 MB.
_PREDICT_ROWS = 250_000
# A feature is named as separating when shuffling it costs at least this much AUC.
_NAMED_IMPORTANCE = 0.005
# How much more a cross-validated null AUC varies than Mann-Whitney's null standard error says (measured 1.2-1.35).
NULL_SPREAD = 1.5


def auc_pvalue(auc: float, n_reference: int, n_current: int) -> float:
    """One-sided p-value of a cross-validated AUC against chance (0.5).

    ``norm.sf((auc - 0.5) / (1.5 sqrt((n + m + 1) / (12 n m))))``: the
    Mann-Whitney null standard error of an AUC between ``n`` and ``m`` rows,
    widened by :data:`NULL_SPREAD` for the dependence between folds (see the
    module docstring). NaN when either window is empty or the AUC is NaN.
    """
    if n_reference <= 0 or n_current <= 0 or not math.isfinite(auc):
        return float("nan")
    se = NULL_SPREAD * math.sqrt((n_reference + n_current + 1) / (12.0 * n_reference * n_current))
    return float(sps.norm.sf((auc - 0.5) / se))


@dataclass
class DomainClassifierResult:
    """What the domain classifier found.

    ``pvalue`` is the one-sided p-value of the AUC against chance (:func:`auc_pvalue`).
    ``importances`` has one row per feature used: ``feature``, ``kind``
    (numeric / categorical), ``importance`` (mean drop of ROC AUC when the
    feature is shuffled), ``importance_std``, ``rank`` (1 = separates the
    windows most) and ``separates`` (importance ≥ 0.005 and above twice its
    std: the features a finding may name). ``skipped`` is True when the classifier was not run (tiny
    windows, no usable feature); ``auc`` is then NaN and ``findings`` say why.
    """

    auc: float
    auc_std: float
    fold_aucs: list[float]
    n_ref: int
    n_cur: int
    importances: pd.DataFrame
    threshold: tuple[float, float]
    severity: str
    findings: list[Finding]
    method: str
    dropped: dict[str, str] = field(default_factory=dict)
    skipped: bool = False
    pvalue: float = float("nan")

    @property
    def top_features(self) -> list[str]:
        """Features in rank order, those whose shuffling lowered the AUC first."""
        return list(self.importances["feature"])


def _method(sample: int, folds: int, seed: int, threshold: tuple[float, float], alpha: tuple[float, float]) -> str:
    return (
        f"domain classifier: HistGradientBoostingClassifier (lr 0.3, 15 leaves, ≤ {_MAX_ITER} "
        f"iterations, early stopping on 10% validation log loss, native NaN and categoricals) "
        f"on at most {sample:,} rows per window (uniform, seed {seed}); ROC AUC mean ± std "
        f"over {folds}-fold stratified CV; permutation importance (ROC AUC, {_REPEATS} "
        f"repeats) on ≤ {_IMPORTANCE_ROWS:,} rows of one held-out fold; AUC ≥ {threshold[0]} "
        f"warning, ≥ {threshold[1]} incident (0.5 = indistinguishable), each only when the AUC is above chance "
        f"at p < {alpha[0]:g} (warning) or {alpha[1]:g} (incident): one-sided z-test, Mann-Whitney null "
        f"standard error x {NULL_SPREAD:g}"
    )


def _check_parameters(
    sample: int, folds: int, threshold_auc: tuple[float, float]
) -> tuple[float, float]:
    if not isinstance(sample, (int, np.integer)) or sample < MIN_ROWS:
        raise ParameterError(f"sample={sample!r}; expected an integer >= {MIN_ROWS}",
                             name="sample")
    if not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ParameterError(f"folds={folds!r}; expected an integer >= 2", name="folds")
    try:
        warn, incident = (float(v) for v in threshold_auc)
    except (TypeError, ValueError):
        raise ParameterError(
            f"threshold_auc={threshold_auc!r}; expected (warning, incident) AUCs",
            name="threshold_auc",
        ) from None
    if not 0.5 <= warn <= incident <= 1.0:
        raise ParameterError(
            f"threshold_auc={threshold_auc!r}; expected 0.5 <= warning <= incident <= 1",
            name="threshold_auc",
        )
    return warn, incident


def _check_alpha(alpha: tuple[float, float]) -> tuple[float, float]:
    try:
        warning, incident = (float(v) for v in alpha)
    except (TypeError, ValueError):
        raise ParameterError(f"alpha={alpha!r}; expected (warning, incident) significance levels",
                             name="alpha") from None
    if not 0 < incident <= warning < 1:
        raise ParameterError(f"alpha={alpha!r}; expected 0 < incident <= warning < 1", name="alpha")
    return warning, incident


def _draw(frame: pd.DataFrame, size: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= size:
        return frame
    rows = np.sort(rng.choice(len(frame), size=size, replace=False))  # keep the data's order
    return frame.iloc[rows]


def _is_numeric(series: pd.Series) -> bool:
    dtype = series.dtype
    return bool(
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
    )


def _numeric_values(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        # Seconds since the epoch; NaT becomes NaN.
        if getattr(series.dtype, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        values = series.to_numpy(dtype="datetime64[ns]")
        seconds = values.astype("int64").astype("float64") / 1e9
        return np.where(np.isnat(values), np.nan, seconds)
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _category_codes(series: pd.Series) -> np.ndarray:
    """Codes 0..k-1 in sorted order of the categories as text; NaN for missing.

    Beyond ``_MAX_CATEGORIES`` categories the most frequent ones (ties by
    name) keep a code and the others share the last code.
    """
    missing = series.isna().to_numpy()
    # Text throughout: a mixed-type column would not sort otherwise.
    text = series[~missing].astype(str)
    counts = {str(name): int(count) for name, count in text.value_counts(sort=False).items()}
    if len(counts) > _MAX_CATEGORIES:
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = sorted(name for name, _ in ranked[: _MAX_CATEGORIES - 1])
    else:
        kept = sorted(counts)
    codes = pd.Index(kept, dtype=object).get_indexer(pd.Index(text.to_numpy(dtype=object), dtype=object))
    codes = codes.astype("float64")
    codes[codes < 0] = len(kept)  # the pooled infrequent categories
    out = np.full(len(series), np.nan)
    out[~missing] = codes
    return out


def _auc(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of ``scores`` (shape (k, n)) against the labels ``y`` (0/1, both present).

    Mann-Whitney: (sum of the positives' mid-ranks - n1 (n1 + 1) / 2) / (n0 n1),
    ties counted half, which is the area under the ROC curve that
    ``sklearn.metrics.roc_auc_score`` integrates with the trapezoidal rule. The
    rank sums are sums of half-integers, exact in float64 below 2**52, so the
    AUC is the exact ratio rounded once (sklearn's trapezoid sum may differ from
    it in the last bits, < 1e-15). Tests: against roc_auc_score.
    """
    positive = y == 1
    n1 = int(positive.sum())
    n0 = y.size - n1
    if n0 == 0 or n1 == 0:  # roc_auc_score: undefined
        return np.full(scores.shape[0], np.nan)
    ranks = sps.rankdata(scores, axis=1)
    u = ranks[:, positive].sum(axis=1) - n1 * (n1 + 1) / 2.0
    return np.asarray(u / (float(n0) * float(n1)), dtype="float64")


def _permutation_importance(
    fitted: HistGradientBoostingClassifier, X: np.ndarray, y: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std (ddof 0) of the drop of ROC AUC when each column of ``X`` is shuffled.

    The computation of ``sklearn.inspection.permutation_importance(fitted, X, y,
    scoring="roc_auc", n_repeats=_REPEATS, random_state=seed)``, same
    permutations (one ``RandomState`` seed drawn from ``seed``, shared by every
    column; each repeat shuffles the previous repeat's column again), but the
    repeats of several columns are predicted in one ``predict_proba`` call on
    their stacked permuted copies (up to :data:`_PREDICT_ROWS` rows) instead
    of one call each (a tree's prediction of a row does not depend on the
    other rows, so they are the same numbers), and
    the AUC is :func:`_auc` instead of one ``roc_auc_score`` call per repeat.
    Those two per-call overheads (validation, the model's categorical encoder,
    the scorer) were 0.6 s of a 1,000-row report. Where the fitted trees can be
    read (:class:`~._tree_sums.TreeSums`, checked against ``predict_proba``),
    a shuffled column re-predicts only the trees that split on it, with the
    same scores bit for bit. The importances equal sklearn's to within 1e-12
    (the AUCs' rounding; tested).
    """
    n, k = X.shape
    state = np.random.RandomState(seed)
    column_seed = state.randint(np.iinfo(np.int32).max + 1)
    shuffler = np.random.RandomState(column_seed)
    shuffling = np.arange(n)
    rows = np.arange(n)
    orders = []
    for _ in range(_REPEATS):
        shuffler.shuffle(shuffling)
        rows = rows[shuffling]
        orders.append(rows)
    expected = fitted.predict_proba(X)[:, 1]
    baseline = _auc(y, expected.reshape(1, -1))[0]
    drops = np.empty((k, _REPEATS))
    trees = TreeSums.of(fitted, X, expected)
    if trees is not None:
        # Only the trees that split on the shuffled column are predicted again (same scores, bit for bit).
        for column in range(k):
            drops[column] = baseline - _auc(y, trees.shuffled(column, orders))
        return np.mean(drops, axis=1), np.std(drops, axis=1)
    # Several columns' permuted copies per call, up to _PREDICT_ROWS rows: each call's fixed cost (the
    # model's validation and categorical encoder, a few ms) is paid once per batch, not once per column.
    batch = max(1, min(k, _PREDICT_ROWS // (n * _REPEATS)))
    for first in range(0, k, batch):
        columns = range(first, min(first + batch, k))
        stacked = np.tile(X, (len(columns) * _REPEATS, 1))
        for at, column in enumerate(columns):
            part = slice(at * _REPEATS * n, (at + 1) * _REPEATS * n)
            stacked[part, column] = np.concatenate([X[order, column] for order in orders])
        scores = fitted.predict_proba(stacked)[:, 1].reshape(len(columns) * _REPEATS, n)
        for at, column in enumerate(columns):
            drops[column] = baseline - _auc(y, scores[at * _REPEATS:(at + 1) * _REPEATS])
    return np.mean(drops, axis=1), np.std(drops, axis=1)


def _skipped(
    message: str,
    *,
    n_ref: int,
    n_cur: int,
    threshold: tuple[float, float],
    method: str,
    dropped: dict[str, str],
) -> DomainClassifierResult:
    finding = Finding(
        check="domain_classifier",
        subject="all features",
        severity="ok",
        message=message,
        threshold=threshold[0],
        method=method,
        section=SECTION,
    )
    return DomainClassifierResult(
        auc=math.nan,
        auc_std=math.nan,
        fold_aucs=[],
        n_ref=n_ref,
        n_cur=n_cur,
        importances=pd.DataFrame(
            {"feature": pd.Series(dtype=object), "kind": pd.Series(dtype=object),
             "importance": pd.Series(dtype="float64"),
             "importance_std": pd.Series(dtype="float64"), "rank": pd.Series(dtype="int64"),
             "separates": pd.Series(dtype=bool)}
        ),
        threshold=threshold,
        severity="ok",
        findings=[finding],
        method=method,
        dropped=dropped,
        skipped=True,
    )


def domain_classifier(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    features: Sequence[str],
    categorical: Sequence[str] | None = None,
    sample: int = 50_000,
    folds: int = 5,
    seed: int = 0,
    threshold_auc: tuple[float, float] = (0.55, 0.65),
    alpha: tuple[float, float] = DEFAULT_BUDGET.levels("domain_classifier"),
    n_threads: int | None = 1,
) -> DomainClassifierResult:
    """Cross-validated AUC of a classifier telling current rows from reference rows.

    ``features`` are the columns the classifier may use; ``categorical`` forces
    columns to be treated as categories (for example integer-coded regions);
    non-numeric columns are categorical anyway. At most ``sample`` rows are
    drawn from each window. ``threshold_auc`` is (warning, incident): an AUC of
    0.5 means the windows are indistinguishable, so the bands sit above it
    (0.55: a modest but real separation, well beyond the few-thousandths noise
    of a null AUC at the default sample; 0.65: a classifier picks the current
    row of a random pair two times in three). A band counts only when the AUC
    is above chance at ``alpha`` = (warning, incident) (:func:`auc_pvalue`;
    default: the classifier's share of the report's false-alarm budget). The
    result is deterministic for a given ``seed``.

    Windows under 50 rows, or no usable feature, give a finding saying the
    classifier was skipped; constant and all-missing columns, and columns
    present in only one window (a schema change, which integrity reports), are
    dropped with a note (in ``dropped`` and in the findings). A feature in
    neither window raises :class:`~mlreport.errors.DataError`. ``n_threads`` caps the
    OpenMP threads of the trees (None: all cores); see the module docstring.
    """
    threshold = _check_parameters(sample, folds, threshold_auc)
    features = list(dict.fromkeys(features))
    categorical_set = set(categorical or ())
    unknown = categorical_set - set(features)
    if unknown:
        raise ParameterError(
            f"categorical names columns that are not features: {', '.join(sorted(unknown))}",
            name="categorical",
        )
    nowhere = [f for f in features if f not in reference.columns and f not in current.columns]
    if nowhere:
        raise DataError(
            f"feature column(s) {', '.join(map(repr, nowhere))} not found in the reference or the current data",
            column=nowhere[0],
        )
    # A column in one window only is a schema change, which integrity reports as an
    # incident; the classifier compares the columns both windows share.
    absent: dict[str, str] = {}
    for name, frame in (("reference", reference), ("current", current)):
        for feature in features:
            if feature not in frame.columns:
                absent[feature] = f"not in the {name} data"
    features = [f for f in features if f not in absent]
    levels = _check_alpha(alpha)
    method = _method(sample, folds, seed, threshold, levels)
    n_ref_all, n_cur_all = len(reference), len(current)
    if n_ref_all < MIN_ROWS or n_cur_all < MIN_ROWS:
        return _skipped(
            f"Domain classifier skipped: {n_ref_all:,} reference and {n_cur_all:,} current rows; "
            f"at least {MIN_ROWS} in each window are needed for a cross-validated AUC",
            n_ref=n_ref_all, n_cur=n_cur_all, threshold=threshold, method=method, dropped=dict(absent),
        )

    rng = np.random.default_rng(seed)
    # Draw the rows first, then take the features: no copy of a whole large window.
    ref_rows = _draw(reference, sample, rng).loc[:, features]
    cur_rows = _draw(current, sample, rng).loc[:, features]
    n_ref, n_cur = len(ref_rows), len(cur_rows)
    pooled = pd.concat([ref_rows, cur_rows], ignore_index=True)
    y = np.concatenate([np.zeros(n_ref, dtype="int8"), np.ones(n_cur, dtype="int8")])

    columns: list[np.ndarray] = []
    used: list[str] = []
    kinds: list[str] = []
    dropped: dict[str, str] = dict(absent)
    for name in features:
        series = pooled[name]
        if name not in categorical_set and _is_numeric(series):
            values = _numeric_values(series)
            present = values[~np.isnan(values)]
            if present.size == 0:
                dropped[name] = "all missing"
                continue
            if np.all(present == present[0]) and present.size == values.size:
                dropped[name] = "constant"
                continue
            columns.append(values.reshape(-1, 1))
            kinds.append("numeric")
        else:
            values = _category_codes(series)
            present = values[~np.isnan(values)]
            if present.size == 0:
                dropped[name] = "all missing"
                continue
            if present.size == values.size and np.all(present == present[0]):
                dropped[name] = "constant"
                continue
            columns.append(values.reshape(-1, 1))
            kinds.append("categorical")
        used.append(name)
    if not used:
        return _skipped(
            "Domain classifier skipped: no usable feature (" + ", ".join(
                f"{k} {v}" for k, v in dropped.items()) + ")",
            n_ref=n_ref, n_cur=n_cur, threshold=threshold, method=method, dropped=dropped,
        )
    X = np.hstack(columns)
    is_categorical = np.array([k == "categorical" for k in kinds])

    def model() -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=_MAX_ITER,
            learning_rate=0.3,
            max_leaf_nodes=15,
            early_stopping=True,
            validation_fraction=0.1,
            n_iter_no_change=10,
            categorical_features=is_categorical if is_categorical.any() else None,
            random_state=seed,
        )

    # Folds cannot outnumber the rows of the smaller window.
    n_splits = min(folds, n_ref, n_cur)
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    fold_aucs: list[float] = []
    held_out: tuple[HistGradientBoostingClassifier, np.ndarray] | None = None
    with threadpool_limits(limits=n_threads, user_api="openmp"):
        for train, test in splitter.split(X, y):
            fitted = model().fit(X[train], y[train])
            fold_aucs.append(float(roc_auc_score(y[test], fitted.predict_proba(X[test])[:, 1])))
            if held_out is None:
                held_out = (fitted, test)
        assert held_out is not None
        fitted, test = held_out
        if test.size > _IMPORTANCE_ROWS:
            test, _ = train_test_split(test, train_size=_IMPORTANCE_ROWS, stratify=y[test],
                                       random_state=seed)
        importance_mean, importance_std = _permutation_importance(fitted, X[test], y[test], seed)
    importances = pd.DataFrame(
        {
            "feature": used,
            "kind": kinds,
            "importance": importance_mean,
            "importance_std": importance_std,
        }
    )
    importances = importances.sort_values(
        ["importance", "feature"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
    importances["rank"] = np.arange(1, len(importances) + 1)

    auc = float(np.mean(fold_aucs))
    auc_std = float(np.std(fold_aucs))
    pvalue = auc_pvalue(auc, n_ref, n_cur)
    severity = "ok"
    if auc >= threshold[1] and pvalue < levels[1]:
        severity = "incident"
    elif auc >= threshold[0] and pvalue < levels[0]:
        severity = "warning"
    chance = f"p {pvalue:.2g} against chance"
    # Name the features whose shuffling cost at least half a point of AUC, beyond
    # the repeat-to-repeat noise of the importance itself.
    importances["separates"] = (importances["importance"] >= _NAMED_IMPORTANCE) & (
        importances["importance"] > 2 * importances["importance_std"]
    )
    separating = importances[importances["separates"]].head(3)
    named = ", ".join(
        f"{row.feature} (importance {row.importance:.3f})" for row in separating.itertuples()
    )

    def rows(n: int, n_all: int, name: str) -> str:
        return f"{n:,} of {n_all:,} {name}" if n < n_all else f"{n:,} {name}"

    sizes = (
        f"{n_splits}-fold CV on {rows(n_ref, n_ref_all, 'reference')} and "
        f"{rows(n_cur, n_cur_all, 'current')} rows"
    )
    band = f"incident ≥ {threshold[1]}" if severity == "incident" else f"warning ≥ {threshold[0]}"
    if severity == "ok" and auc >= threshold[0]:
        message = (
            f"Windows not separable beyond noise: domain classifier AUC {auc:.3f} ± {auc_std:.3f} reached "
            f"{threshold[0]} but {chance} >= {levels[0]:g} ({sizes})"
        )
    elif severity == "ok":
        message = (
            f"Windows not separable: domain classifier AUC {auc:.3f} ± {auc_std:.3f} "
            f"(< {threshold[0]}; {sizes})"
        )
    elif named:
        message = (
            f"Multivariate drift, top separating features {named}: domain classifier AUC "
            f"{auc:.3f} ± {auc_std:.3f} ({band}, {chance}; {sizes})"
        )
    else:
        message = (
            f"Multivariate drift spread over features, none standing out: domain classifier "
            f"AUC {auc:.3f} ± {auc_std:.3f} ({band}, {chance}; {sizes})"
        )
    findings = [
        Finding(
            check="domain_classifier",
            subject=str(separating["feature"].iloc[0]) if len(separating) else "all features",
            severity=severity,
            message=message,
            value=auc,
            threshold=threshold[1] if severity == "incident" else threshold[0],
            method=method,
            section=SECTION,
        )
    ]
    if dropped:
        findings.append(
            Finding(
                check="domain_classifier_columns",
                subject=", ".join(dropped),
                severity="ok",
                message="Dropped from the domain classifier: " + ", ".join(
                    f"{name} ({why})" for name, why in dropped.items()),
                method=method,
                section=SECTION,
            )
        )
    return DomainClassifierResult(
        auc=auc,
        auc_std=auc_std,
        fold_aucs=fold_aucs,
        n_ref=n_ref,
        n_cur=n_cur,
        importances=importances,
        threshold=threshold,
        severity=severity,
        findings=findings,
        method=method,
        dropped=dropped,
        pvalue=pvalue,
    )
