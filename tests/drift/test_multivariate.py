"""Tests of mlreport.drift: the domain classifier on sample data and edge cases."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import OrdinalEncoder

from mlreport import sample
from mlreport.drift import DomainClassifierResult, domain_classifier
from mlreport.drift._multivariate import _category_codes
from mlreport.errors import DataError, ParameterError

FEATURES = [
    "age", "income", "employment_status", "housing", "loan_amount", "loan_term_months",
    "debt_to_income", "credit_utilisation", "num_credit_lines", "bureau_score",
    "months_since_delinquency", "channel", "region", "product",
]
FAST = {"sample": 2_500, "folds": 3}

# Under the null the out-of-fold AUC of 2,500 + 2,500 rows has a standard error of
# about sqrt((n1 + n2 + 1) / (12 n1 n2)) = 0.008; 0.035 is over four of them.
NULL_TOLERANCE = 0.035


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return sample.generate(12_000, seed=5)


@functools.cache
def incident_windows(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Current = the rows after the incident start (2026-02-19 by default): 11 of 56 days.
    frame = sample.generate(24_000, seed=5, incidents=[name] if name else ())
    return sample.split(frame, "2026-02-19")


def test_same_distribution_is_indistinguishable(clean):
    # Two random halves of one window: the same distribution by construction.
    order = np.random.default_rng(0).permutation(len(clean))
    first, second = clean.iloc[order[:6_000]], clean.iloc[order[6_000:]]
    result = domain_classifier(first, second, features=FEATURES, **FAST)
    assert abs(result.auc - 0.5) < NULL_TOLERANCE, result.auc
    assert result.severity == "ok"
    assert result.findings[0].message.startswith("Windows not separable")
    assert len(result.fold_aucs) == 3
    assert result.auc_std == pytest.approx(np.std(result.fold_aucs))
    assert (result.n_ref, result.n_cur) == (2_500, 2_500)  # capped per window
    assert set(result.importances["feature"]) == set(FEATURES)


@functools.cache
def classified(incident: str) -> DomainClassifierResult:
    reference, current = incident_windows(incident)
    return domain_classifier(reference, current, features=FEATURES, **FAST)


@pytest.mark.parametrize(
    ("incident", "column"),
    [("income_shift", "income"), ("utilisation_zero", "credit_utilisation")],
)
def test_shifted_feature_is_found_and_ranked_first(incident, column):
    result = classified(incident)
    assert result.auc >= 0.55, result.auc  # at least the warning band
    assert result.severity in ("warning", "incident")
    assert result.importances.loc[0, "feature"] == column
    assert result.importances.loc[0, "rank"] == 1
    assert result.importances.loc[0, "separates"]
    finding = result.findings[0]
    assert finding.subject == column
    assert f"top separating features {column}" in finding.message
    assert finding.value == pytest.approx(result.auc)
    assert finding.section == "Multivariate drift"


def test_clean_split_in_time_is_not_an_alarm():
    result = classified("")
    assert result.severity == "ok", result.auc


def test_bands_follow_the_threshold():
    reference, current = incident_windows("utilisation_zero")
    few = ["credit_utilisation", "income"]
    loose = domain_classifier(reference, current, features=few, threshold_auc=(0.9, 0.95),
                              sample=1_000, folds=3)
    strict = domain_classifier(reference, current, features=few, threshold_auc=(0.51, 0.52),
                               sample=1_000, folds=3)
    assert loose.auc == strict.auc
    assert loose.severity == "ok" and strict.severity == "incident"
    assert strict.findings[0].threshold == 0.52 and loose.findings[0].threshold == 0.9


def test_deterministic_with_a_seed(clean):
    first, second = clean.iloc[:6_000], clean.iloc[6_000:]
    few = ["income", "region", "bureau_score"]
    one = domain_classifier(first, second, features=few, seed=3, sample=1_000, folds=3)
    two = domain_classifier(first, second, features=few, seed=3, sample=1_000, folds=3)
    assert one.fold_aucs == two.fold_aucs
    pd.testing.assert_frame_equal(one.importances, two.importances)
    other = domain_classifier(first, second, features=few, seed=4, sample=1_000, folds=3)
    assert other.fold_aucs != one.fold_aucs


def test_tiny_windows_are_skipped_with_a_reason(clean):
    result = domain_classifier(clean.iloc[:40], clean.iloc[40:5_000], features=FEATURES)
    assert result.skipped and math.isnan(result.auc)
    assert result.severity == "ok"
    assert "skipped" in result.findings[0].message and "40 reference" in result.findings[0].message
    assert result.importances.empty


def test_constant_and_all_missing_columns_are_dropped_with_a_note(clean):
    frame = clean.assign(constant=1.0, empty=np.nan, flag="x",
                         blank=pd.Series([None] * len(clean), dtype="str"))
    features = ["income", "credit_utilisation", "constant", "empty", "flag", "blank"]
    result = domain_classifier(frame.iloc[:6_000], frame.iloc[6_000:], features=features, **FAST)
    assert result.dropped == {"constant": "constant", "empty": "all missing",
                              "flag": "constant", "blank": "all missing"}
    assert set(result.importances["feature"]) == {"income", "credit_utilisation"}
    note = [f for f in result.findings if f.check == "domain_classifier_columns"]
    assert note and "constant (constant)" in note[0].message
    # Nothing usable at all: skipped, not an error.
    nothing = domain_classifier(frame.iloc[:6_000], frame.iloc[6_000:],
                                features=["constant", "empty"], **FAST)
    assert nothing.skipped and "no usable feature" in nothing.findings[0].message


def test_a_column_missing_only_in_current_separates_the_windows(clean):
    # Missingness is information, not a reason to drop: the trees route NaN natively.
    reference, current = clean.iloc[:6_000].copy(), clean.iloc[6_000:].copy()
    current["bureau_score"] = np.nan
    result = domain_classifier(reference, current, features=["bureau_score", "income", "region"],
                               sample=1_000, folds=3)
    assert result.auc > 0.95
    assert result.importances.loc[0, "feature"] == "bureau_score"


def test_a_column_absent_from_one_window_is_dropped_with_a_note(clean):
    """A schema change (integrity reports it): the classifier uses the columns both windows have."""
    reference = clean.iloc[:6_000].assign(old_field=1.5)
    current = clean.iloc[6_000:].drop(columns=["income"]).assign(new_field=2.0)
    features = ["income", "credit_utilisation", "region", "old_field"]
    result = domain_classifier(reference, current, features=features, **FAST)
    assert not result.skipped
    assert result.dropped == {"income": "not in the current data", "old_field": "not in the current data"}
    assert set(result.importances["feature"]) == {"credit_utilisation", "region"}
    note = next(f for f in result.findings if f.check == "domain_classifier_columns")
    assert note.severity == "ok" and "income (not in the current data)" in note.message
    # The other way round, and nothing shared: skipped with the reason, not an error.
    backwards = domain_classifier(current, reference, features=["income", "region"], **FAST)
    assert backwards.dropped == {"income": "not in the reference data"}
    nothing = domain_classifier(reference, current, features=["income"], **FAST)
    assert nothing.skipped and "income not in the current data" in nothing.findings[0].message
    # A name in neither window is still a caller's mistake.
    with pytest.raises(DataError, match="'nope' not found in the reference or the current data"):
        domain_classifier(reference, current, features=["region", "nope"], **FAST)


def test_messy_columns_are_handled(clean):
    rng = np.random.default_rng(1)
    frame = clean.iloc[:4_000].copy()
    n = len(frame)
    frame["mixed"] = pd.Series(rng.choice(np.array([1, "a", 2.5, None], dtype=object), n),
                               dtype=object)
    frame["ids"] = [f"id{i}" for i in range(n)]  # 4,000 distinct categories
    frame["with_inf"] = np.where(rng.uniform(size=n) < 0.1, np.inf, rng.normal(size=n))
    frame["when"] = frame["timestamp"].dt.tz_localize("Europe/London")
    frame["nullable"] = pd.array(rng.integers(0, 5, n), dtype="Int64")
    frame.loc[frame.index[::7], "nullable"] = pd.NA
    frame["flag"] = rng.uniform(size=n) < 0.5
    features = ["mixed", "ids", "with_inf", "when", "nullable", "flag", "loan_term_months"]
    result = domain_classifier(frame.iloc[:2_000], frame.iloc[2_000:], features=features,
                               categorical=["loan_term_months"], **FAST)
    kinds = dict(zip(result.importances["feature"], result.importances["kind"], strict=True))
    assert kinds["mixed"] == kinds["ids"] == kinds["loan_term_months"] == "categorical"
    assert kinds["with_inf"] == kinds["when"] == kinds["nullable"] == "numeric"
    # The timestamp separates two consecutive windows perfectly.
    assert result.auc > 0.99
    assert result.importances.loc[0, "feature"] == "when"


def test_category_codes_match_ordinal_encoder_and_cap_cardinality():
    values = pd.Series(["b", "a", None, "c", "a", "b"], dtype="str")
    codes = _category_codes(values)
    expected = OrdinalEncoder(encoded_missing_value=np.nan).fit_transform(
        values.astype(object).to_frame()).ravel()
    np.testing.assert_array_equal(codes, expected)
    many = pd.Series([f"c{i:04d}" for i in range(600)] + ["c0001"] * 5)
    capped = _category_codes(many)
    assert np.nanmax(capped) == 249  # 249 kept categories and one shared code
    assert (capped == 249).sum() == 600 - 249


def test_bad_parameters_raise(clean):
    with pytest.raises(DataError, match="'nope'"):
        domain_classifier(clean, clean, features=["income", "nope"])
    with pytest.raises(ParameterError, match="threshold_auc"):
        domain_classifier(clean, clean, features=["income"], threshold_auc=(0.7, 0.6))
    with pytest.raises(ParameterError, match="folds"):
        domain_classifier(clean, clean, features=["income"], folds=1)
    with pytest.raises(ParameterError, match="categorical"):
        domain_classifier(clean, clean, features=["income"], categorical=["region"])


def test_importance_plot_draws():
    from mlreport.drift import importance_plot

    reference, current = incident_windows("income_shift")
    result = classified("income_shift")
    fig = importance_plot(result, top=5)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == "income" and len(labels) == 5
    skipped = domain_classifier(reference.iloc[:10], current, features=FEATURES)
    assert "skipped" in importance_plot(skipped).axes[0].get_title()


def test_auc_pvalue_is_mann_whitney_normal_approximation_widened_by_the_null_spread(monkeypatch):
    from scipy.stats import mannwhitneyu, norm

    from mlreport.drift import _multivariate, auc_pvalue

    rng = np.random.default_rng(4)
    x, y = rng.normal(0.2, size=300), rng.normal(size=200)  # current scores, reference scores
    auc = float(np.mean(x[:, None] > y[None, :]))  # no ties
    monkeypatch.setattr(_multivariate, "NULL_SPREAD", 1.0)
    test = mannwhitneyu(x, y, alternative="greater", method="asymptotic", use_continuity=False)
    assert auc_pvalue(auc, 200, 300) == pytest.approx(test.pvalue, rel=1e-9)
    monkeypatch.setattr(_multivariate, "NULL_SPREAD", 1.5)
    se = 1.5 * math.sqrt((200 + 300 + 1) / (12 * 200 * 300))
    assert auc_pvalue(auc, 200, 300) == pytest.approx(norm.sf((auc - 0.5) / se), rel=1e-12)
    assert math.isnan(auc_pvalue(float("nan"), 10, 10)) and math.isnan(auc_pvalue(0.6, 0, 10))


def test_an_auc_over_the_band_without_evidence_is_not_an_alarm():
    """Small windows: a band reached by a chance AUC is held back, and the message says why."""
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    current = pd.DataFrame({"a": rng.normal(0.5, size=60), "b": rng.normal(size=60)})
    loose = domain_classifier(reference, current, features=["a", "b"], folds=3, alpha=(0.4, 0.3),
                              threshold_auc=(0.51, 0.52))
    strict = domain_classifier(reference, current, features=["a", "b"], folds=3, alpha=(1e-6, 1e-7),
                               threshold_auc=(0.51, 0.52))
    assert loose.auc == strict.auc and loose.auc >= 0.52 and loose.pvalue < 0.3
    assert loose.severity == "incident" and strict.severity == "ok"
    assert "not separable beyond noise" in strict.findings[0].message
    assert "against chance" in strict.findings[0].message
    with pytest.raises(ParameterError, match="alpha"):
        domain_classifier(reference, current, features=["a"], alpha=(0.001, 0.01))


def test_fast_auc_is_roc_auc_score_including_ties():
    from sklearn.metrics import roc_auc_score

    from mlreport.drift._multivariate import _auc

    rng = np.random.default_rng(7)
    y = (rng.uniform(size=301) < 0.4).astype("int8")
    smooth = rng.normal(size=(3, 301)) + 0.5 * y
    tied = np.round(smooth, 1)  # many ties across the classes
    for scores in (smooth, tied, np.zeros((1, 301))):
        expected = [roc_auc_score(y, row) for row in scores]
        np.testing.assert_allclose(_auc(y, scores), expected, rtol=0, atol=1e-14)
    assert np.isnan(_auc(np.ones(5, dtype="int8"), rng.normal(size=(1, 5)))).all()


@pytest.mark.parametrize(("seed", "predict_rows"), [(0, None), (3, None), (0, 5_000), (3, 1)])
def test_permutation_importance_equals_sklearn_on_the_raw_pipeline(seed, predict_rows, monkeypatch):
    """Permuting the encoded matrix gives sklearn's importances on the raw columns.

    ``predict_rows`` caps the rows predicted per call: by default every column's repeats go in one call
    (500 test rows x 5 repeats x 5 columns); 5,000 predicts two columns at a time (three calls, the last with
    one column), 1 one column per call. The numbers are the same.

    sklearn's ``permutation_importance`` shuffles the raw (text) columns and runs
    them through the fitted pipeline: an OrdinalEncoder (column-wise), then the
    trees with their own categorical encoder. ``_permutation_importance`` shuffles the
    already-encoded matrix and predicts the repeats of several columns in one call. A
    column-wise encoder commutes with a row permutation, so the two are the same
    computation; the AUC differs only in rounding.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from sklearn.pipeline import make_pipeline

    from mlreport.drift import _multivariate
    from mlreport.drift._multivariate import _REPEATS, _permutation_importance

    if predict_rows is not None:
        monkeypatch.setattr(_multivariate, "_PREDICT_ROWS", predict_rows)
    rng = np.random.default_rng(seed)
    n = 1_500
    y = (rng.uniform(size=n) < 0.45).astype("int8")
    raw = pd.DataFrame({
        "region": rng.choice(np.array(["north", "south", "east", "west", "x"], dtype=object), n),
        "amount": rng.lognormal(size=n) + 0.4 * y,
        "band": np.where(y == 1, rng.choice(np.array(["a", "b", "c"], dtype=object), n),
                         rng.choice(np.array(["a", "b"], dtype=object), n)),
        "score": np.round(rng.normal(size=n), 1),  # ties
        "noise": rng.normal(size=n),
    })
    raw.loc[raw.index[::9], "amount"] = np.nan
    categorical = ["region", "band"]
    encoder = ColumnTransformer(
        [("codes", OrdinalEncoder(encoded_missing_value=np.nan), categorical)],
        remainder="passthrough", verbose_feature_names_out=False,
    )
    mask = np.array([True, True, False, False, False])
    pipeline = make_pipeline(encoder, HistGradientBoostingClassifier(
        max_iter=30, learning_rate=0.3, max_leaf_nodes=15, categorical_features=mask,
        random_state=seed))
    train, test = np.arange(n) < 1_000, np.arange(n) >= 1_000
    pipeline.fit(raw[train], y[train])
    expected = permutation_importance(pipeline, raw[test], y[test], scoring="roc_auc",
                                      n_repeats=_REPEATS, random_state=seed)
    # The encoded columns in the pipeline's order: region, band, amount, score, noise.
    order = [0, 2, 1, 3, 4]
    encoded = encoder.transform(raw[test])
    mean, std = _permutation_importance(pipeline[-1], encoded, y[test], seed)
    np.testing.assert_allclose(mean, expected.importances_mean[order], rtol=0, atol=1e-12)
    np.testing.assert_allclose(std, expected.importances_std[order], rtol=0, atol=1e-12)
    assert mean[1] > 0.01 and mean[2] > 0.01  # band and amount separate: not a vacuous comparison


def test_domain_classifier_importances_equal_sklearns(monkeypatch):
    """The whole classifier with sklearn's permutation_importance in place of the fast one."""
    from sklearn.inspection import permutation_importance

    from mlreport.drift import _multivariate

    reference, current = incident_windows("utilisation_zero")
    fast = domain_classifier(reference, current, features=FEATURES, sample=1_500, folds=3, seed=2)

    def sklearns(fitted, X, y, seed):
        found = permutation_importance(fitted, X, y, scoring="roc_auc",
                                       n_repeats=_multivariate._REPEATS, random_state=seed)
        return found.importances_mean, found.importances_std

    monkeypatch.setattr(_multivariate, "_permutation_importance", sklearns)
    slow = domain_classifier(reference, current, features=FEATURES, sample=1_500, folds=3, seed=2)
    assert fast.fold_aucs == slow.fold_aucs
    assert list(fast.importances["feature"][fast.importances["importance"].abs() > 1e-12]) == list(
        slow.importances["feature"][slow.importances["importance"].abs() > 1e-12])
    merged = fast.importances.merge(slow.importances, on="feature")
    np.testing.assert_allclose(merged["importance_x"], merged["importance_y"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(merged["importance_std_x"], merged["importance_std_y"], rtol=0, atol=1e-12)
    assert list(merged["separates_x"]) == list(merged["separates_y"])
    assert [f.message for f in fast.findings] == [f.message for f in slow.findings]


def _raw_pipeline_case(seed: int) -> tuple[object, np.ndarray, np.ndarray]:
    """A fitted classifier with categorical columns first and last, NaNs and ties, and its held-out rows."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(seed)
    n = 1_500
    y = (rng.uniform(size=n) < 0.45).astype("int8")
    X = np.column_stack([
        rng.lognormal(size=n) + 0.4 * y,  # numeric, with NaN
        rng.integers(0, 5, n).astype(float),  # categorical codes
        np.round(rng.normal(size=n) + 0.3 * y, 1),  # ties
        np.where(y == 1, rng.integers(0, 3, n), rng.integers(0, 2, n)).astype(float),  # categorical that separates
        rng.normal(size=n),
    ])
    X[::9, 0] = np.nan
    X[::13, 3] = np.nan
    model = HistGradientBoostingClassifier(
        max_iter=30, learning_rate=0.3, max_leaf_nodes=15, random_state=seed,
        categorical_features=np.array([False, True, False, True, False]))
    model.fit(X[:1_000], y[:1_000])
    return model, X[1_000:], y[1_000:]


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_tree_sums_give_predict_probas_scores_bit_for_bit(seed):
    """Each shuffled column's scores from the trees that use it equal predict_proba on the shuffled rows."""
    from mlreport.drift._tree_sums import TreeSums

    model, X, _y = _raw_pipeline_case(seed)
    expected = model.predict_proba(X)[:, 1]
    sums = TreeSums.of(model, X, expected)
    assert sums is not None
    rng = np.random.default_rng(seed)
    orders = [rng.permutation(len(X)) for _ in range(3)]
    for column in range(X.shape[1]):
        direct = []
        for order in orders:
            shuffled = X.copy()
            shuffled[:, column] = X[order, column]
            direct.append(model.predict_proba(shuffled)[:, 1])
        assert np.array_equal(sums.shuffled(column, orders), np.array(direct))
    assert TreeSums.of(model, X, np.nextafter(expected, 2.0)) is None  # scores that do not match: not used


@pytest.mark.parametrize(("seed", "predict_rows"), [(0, None), (3, 5_000), (3, 1)])
def test_permutation_importance_is_the_same_with_and_without_the_tree_sums(seed, predict_rows, monkeypatch):
    """The tree sums' importances equal the stacked predict_proba path's exactly (which stays the fallback)."""
    from mlreport.drift import _multivariate
    from mlreport.drift._multivariate import _permutation_importance

    model, X, y = _raw_pipeline_case(seed)
    fast = _permutation_importance(model, X, y, seed)
    if predict_rows is not None:
        monkeypatch.setattr(_multivariate, "_PREDICT_ROWS", predict_rows)
    monkeypatch.setattr(_multivariate.TreeSums, "of", classmethod(lambda cls, *args: None))
    slow = _permutation_importance(model, X, y, seed)
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
    assert fast[0][3] > 0.01  # the separating column matters: not a vacuous comparison


def test_tree_sums_refuse_an_estimator_laid_out_otherwise():
    """A model whose fitted trees cannot be read as expected gives None: predict_proba is used instead."""
    from mlreport.drift._tree_sums import TreeSums

    model, X, _y = _raw_pipeline_case(0)
    expected = model.predict_proba(X)[:, 1]
    model._predictors = None  # no longer a list of iterations of trees
    assert TreeSums.of(model, X, expected) is None
