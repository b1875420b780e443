"""The model under test: an adapter that scores DataFrames, and decision rules.

A :class:`Model` wraps anything that turns a DataFrame into one score per row:

- a callable ``DataFrame -> scores`` or an object with ``predict_proba``,
  ``decision_function`` or ``predict`` (a scikit-learn estimator or pipeline),
  named on the Python path as ``"package.module:function"`` or
  ``"package.module:object"``;
- a scikit-learn estimator saved with joblib (``.joblib``, ``.pkl``, ``.pickle``).
  **Loading a pickle runs code embedded in the file**, so :func:`load_model`
  refuses unless ``trust=True`` (``--param trust_model_file=true`` for the
  stress notebook). ``.skops`` files are loaded with skops when it is installed
  (it is not a dependency of mlreport); skops only rebuilds allow-listed types,
  and types outside its allow-list again need ``trust=True``.

Scores are computed in batches of ``batch_size`` rows, so memory stays bounded
on large populations, and every batch is checked: a model that raises, returns
the wrong number of scores, NaN, infinities or non-numbers gets a
:class:`~mlreport.errors.ModelError` naming the model and the scenario being
scored (:meth:`Model.score`), or, with :meth:`Model.try_score`, a
:class:`~mlreport.stress.ScoringFailure` naming the rows it could not score
while the others are scored (``_scoring.py``): a scenario the model cannot
score is a finding of the stress report, not the end of it.

What shaped the model is recorded in the analysis' input log: a model file
by the sha256 of the bytes loaded (read once), a ``module:function`` by its
module's source file.

A :class:`DecisionRule` maps scores to ordered decisions with cut-offs
(``DecisionRule({"approve": 0.1, "refer": 0.2}, otherwise="decline")``: score
below 0.1 approve, below 0.2 refer, else decline). :class:`ModelDecisions`
uses the model's own decisions instead. Labels are ordered best first, so a
decision moving to a later label is a move "down" (worse for the applicant).

:func:`default_model` trains the built-in model on the sample data so that the
stress notebook runs out of the box. It is the only place in mlreport that
knows the sample's column names.
"""

from __future__ import annotations

import functools
import importlib
import io
import itertools
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..data import InputLog, record_bytes
from ..errors import DataError, ModelError
from ._scoring import FailureLog, ScoringFailure

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "Model",
    "DecisionRule",
    "ModelDecisions",
    "ModelSetup",
    "load_model",
    "default_model",
    "setup_model",
]

DEFAULT_BATCH_SIZE = 100_000

_PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")


def _first_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's message, first line only and at most ``limit`` characters (it may quote data values)."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_scores(output: Any) -> np.ndarray:
    """A model's raw output as a 1-D array, without judging its values yet."""
    if isinstance(output, pd.DataFrame):
        if output.shape[1] != 1:
            raise TypeError(f"a DataFrame with {output.shape[1]} columns, expected one score column")
        output = output.iloc[:, 0]
    if isinstance(output, pd.Series):
        if pd.api.types.is_numeric_dtype(output.dtype) and not pd.api.types.is_bool_dtype(output.dtype):
            # Nullable dtypes: pd.NA becomes NaN so the NaN check below names it.
            return output.to_numpy(dtype="float64", na_value=np.nan)
        return output.to_numpy()
    array = np.asarray(output)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    return array


class Model:
    """A scoring function with checks, batching and a name for error messages.

    ``predict`` takes a DataFrame of the model's features and returns one score
    per row. ``decide``, when given, returns the model's own decision label per
    row (used by :class:`ModelDecisions`). ``features`` are the columns passed
    to the model, in order; ``None`` passes every column of the frame.
    """

    def __init__(
        self,
        predict: Callable[[pd.DataFrame], Any],
        *,
        name: str,
        features: Sequence[str] | None = None,
        decide: Callable[[pd.DataFrame], Any] | None = None,
        decision_labels: Sequence[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if batch_size < 1:
            raise ModelError(f"batch_size must be at least 1, got {batch_size}", model=name)
        self._predict = predict
        self._decide = decide
        self.name = name
        self.features: tuple[str, ...] | None = tuple(features) if features is not None else None
        # Labels of the model's own decisions when it declares them (classes_).
        self.decision_labels = tuple(str(v) for v in decision_labels) if decision_labels is not None else None
        self.batch_size = int(batch_size)

    def __repr__(self) -> str:
        return f"Model({self.name!r}, features={None if self.features is None else len(self.features)})"

    @property
    def has_decisions(self) -> bool:
        """Whether the model makes its own decisions (``decide`` was given)."""
        return self._decide is not None

    def _check_columns(self, frame: pd.DataFrame) -> None:
        if self.features is None:
            return
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise DataError(
                f"column {missing[0]!r} required by model {self.name!r} is missing from the data"
                + (f" ({len(missing) - 1} more missing)" if len(missing) > 1 else ""),
                column=missing[0],
            )

    def _batches(self, frame: pd.DataFrame) -> Iterator[tuple[int, pd.DataFrame]]:
        # Slice rows first, then select features: only one batch is ever copied.
        self._check_columns(frame)
        columns = list(self.features) if self.features is not None else None
        for start in range(0, len(frame), self.batch_size):
            batch = frame.iloc[start : start + self.batch_size]
            yield start, batch if columns is None else batch[columns]

    def _call(self, function: Callable[[pd.DataFrame], Any], batch: pd.DataFrame, start: int, scenario: str) -> Any:
        try:
            return function(batch)
        except Exception as exc:  # any failure inside user code becomes a ModelError
            raise ModelError(
                f"model {self.name!r} raised {type(exc).__name__}: {exc} "
                f"while scoring scenario {scenario!r} (rows {start}-{start + len(batch) - 1})",
                model=self.name,
                scenario=scenario,
            ) from exc

    def _problem(self, message: str, scenario: str) -> ModelError:
        return ModelError(
            f"model {self.name!r} {message} while scoring scenario {scenario!r}",
            model=self.name,
            scenario=scenario,
        )

    def score(self, frame: pd.DataFrame, *, scenario: str = "baseline") -> np.ndarray:
        """One float64 score per row of ``frame``, computed batch by batch.

        Raises :class:`ModelError` naming the model and ``scenario`` when the
        model raises or returns the wrong length, NaN, infinities or non-numbers.
        """
        scores, _ = self._score(frame, scenario, strict=True)
        return scores

    def try_score(self, frame: pd.DataFrame, *, scenario: str = "baseline") -> tuple[np.ndarray, ScoringFailure | None]:
        """Scores of every row the model can score (NaN for the others), and what it could not score.

        Every batch is scored, also after one failed; the
        :class:`~mlreport.stress.ScoringFailure` (None when every row was
        scored) says which rows failed and why, as :meth:`score` would have
        raised it. Missing feature columns are still a :class:`DataError`.
        """
        return self._score(frame, scenario, strict=False)

    def _score(self, frame: pd.DataFrame, scenario: str, *, strict: bool) -> tuple[np.ndarray, ScoringFailure | None]:
        scores = np.full(len(frame), np.nan, dtype="float64")
        failures = FailureLog(self.name, scenario, len(frame))
        for start, batch in self._batches(frame):
            stop = start + len(batch)
            values, problem = self._batch_scores(batch, start, scenario)
            if problem is not None:
                text, error = problem
                if strict:
                    raise error
                failures.batch(start, stop, text, error)
                continue
            bad = ~np.isfinite(values)
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                kind = "NaN" if np.isnan(values[first]) else "infinite"
                error = self._problem(
                    f"returned {int(bad.sum())} non-finite score(s) (first: {kind} at row {start + first})", scenario
                )
                if strict:
                    raise error
                nan = np.isnan(values)
                if nan.any():
                    failures.rows(start, nan, "NaN", error)
                if (bad & ~nan).any():
                    failures.rows(start, bad & ~nan, "infinite scores", error)
                values = np.where(bad, np.nan, values)
            scores[start:stop] = values
        return scores, failures.failure()

    def _batch_scores(
        self, batch: pd.DataFrame, start: int, scenario: str
    ) -> tuple[np.ndarray, tuple[str, ModelError] | None]:
        """One batch's scores as float64, or what is wrong with the whole batch (a line and the error)."""
        empty = np.empty(0, dtype="float64")
        try:
            values = _as_scores(self._call(self._predict, batch, start, scenario))
        except ModelError as raised:
            cause = raised.__cause__ or raised
            return empty, (f"raised {type(cause).__name__}: {_first_line(cause)}", raised)
        except TypeError as exc:
            wrong = self._problem(f"returned {exc}", scenario)
            wrong.__suppress_context__ = True
            return empty, (f"returned {exc}", wrong)
        if values.ndim != 1 or len(values) != len(batch):
            shape = "x".join(str(n) for n in values.shape) or "a scalar"
            text = f"returned {shape} scores for {len(batch)} rows"
            return empty, (text, self._problem(
                f"{text} (rows {start}-{start + len(batch) - 1}); expected one score per row", scenario
            ))
        if values.dtype.kind not in "biuf":
            text = f"returned non-numeric scores (dtype {values.dtype})"
            return empty, (text, self._problem(f"{text}; expected numbers", scenario))
        return values.astype("float64", copy=False), None

    def decide(self, frame: pd.DataFrame, *, scenario: str = "baseline") -> np.ndarray:
        """The model's own decision label per row (object array of str), batched."""
        labels, _ = self._decide_rows(frame, scenario, strict=True)
        return labels

    def try_decide(
        self, frame: pd.DataFrame, *, scenario: str = "baseline"
    ) -> tuple[np.ndarray, ScoringFailure | None]:
        """The model's own decisions where it makes one (None elsewhere), and what it could not decide."""
        return self._decide_rows(frame, scenario, strict=False)

    def _decide_rows(
        self, frame: pd.DataFrame, scenario: str, *, strict: bool
    ) -> tuple[np.ndarray, ScoringFailure | None]:
        decide = self._decide
        if decide is None:
            raise ModelError(
                f"model {self.name!r} makes no decisions of its own; give a DecisionRule "
                "with score cut-offs instead",
                model=self.name,
                scenario=scenario,
            )
        labels = np.full(len(frame), None, dtype=object)
        failures = FailureLog(self.name, scenario, len(frame))
        for start, batch in self._batches(frame):
            stop = start + len(batch)
            try:
                values = np.asarray(self._call(decide, batch, start, scenario), dtype=object)
            except ModelError as raised:
                if strict:
                    raise
                cause = raised.__cause__ or raised
                failures.batch(start, stop, f"raised {type(cause).__name__}: {_first_line(cause)}", raised)
                continue
            if values.ndim != 1 or len(values) != len(batch):
                text = f"returned {values.size} decisions for {len(batch)} rows"
                wrong = self._problem(text, scenario)
                if strict:
                    raise wrong
                failures.batch(start, stop, text, wrong)
                continue
            missing = np.asarray(pd.isna(values), dtype=bool)
            if missing.any():
                undecided = self._problem("returned missing decisions", scenario)
                if strict:
                    raise undecided
                failures.rows(start, missing, "no decision", undecided)
            decided = values.astype(str).astype(object)
            decided[missing] = None
            labels[start:stop] = decided
        return labels, failures.failure()

    @classmethod
    def from_object(
        cls,
        obj: Any,
        *,
        name: str,
        features: Sequence[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> Model:
        """Wrap a callable or an estimator-like object.

        Estimators: ``predict_proba`` (the last column, the positive class of a
        binary classifier), else ``decision_function``, else ``predict``. A
        classifier's ``predict`` (or an object's ``decide``) supplies its own
        decisions. Features come from ``features``, else the object's
        ``feature_names_in_`` (scikit-learn), ``features`` or ``feature_names``.
        """
        if isinstance(obj, type):
            raise ModelError(
                f"{name} is a class; name an instance or a function that scores a DataFrame",
                model=name,
            )
        if features is None:
            for attribute in ("feature_names_in_", "features", "feature_names"):
                found = getattr(obj, attribute, None)
                if found is not None and not callable(found):
                    features = [str(f) for f in found]
                    break
        decide = getattr(obj, "decide", None)
        labels = getattr(obj, "decision_labels", None)
        if hasattr(obj, "predict_proba"):
            classes = getattr(obj, "classes_", None)
            if classes is not None and len(classes) > 2:
                raise ModelError(
                    f"model {name!r} is a {len(classes)}-class classifier; the stress "
                    "analysis needs one score per row (a binary classifier or a function)",
                    model=name,
                )

            def predict(frame: pd.DataFrame) -> np.ndarray:
                return np.asarray(obj.predict_proba(frame))[:, -1]

            if decide is None and hasattr(obj, "predict"):
                decide = obj.predict
                labels = [str(c) for c in classes] if classes is not None else None
        elif hasattr(obj, "decision_function"):
            predict = obj.decision_function
        elif hasattr(obj, "predict"):
            predict = obj.predict
        elif callable(obj):
            predict = obj
        else:
            raise ModelError(
                f"{name} is neither callable nor has predict_proba, decision_function or "
                "predict",
                model=name,
            )
        return cls(
            predict,
            name=name,
            features=features,
            decide=decide,
            decision_labels=labels,
            batch_size=batch_size,
        )


def _read_model_file(path: str, log: InputLog | None) -> bytes:
    """The model file's bytes, read once: what is loaded is what is hashed and recorded (name ``"model"``)."""
    try:
        with open(path, "rb") as handle:
            content = handle.read()
    except OSError as exc:
        raise ModelError(f"could not read model file {path!r}: {exc.strerror or exc}", model=path) from None
    record_bytes(content, name="model", path=path, log=log)
    return content


def _load_file(path: str, *, trust: bool, log: InputLog | None = None) -> Any:
    if not os.path.exists(path):
        raise ModelError(f"model file {path!r} does not exist", model=path)
    if path.lower().endswith(".skops"):
        try:
            # Optional, not a dependency of mlreport, and untyped: imported by name.
            sio = importlib.import_module("skops.io")
        except ImportError:
            raise ModelError(
                f"{path!r} is a skops file but skops is not installed "
                "(pip install skops), or save the model with joblib",
                model=path,
            ) from None
        content = _read_model_file(path, log)
        try:
            untrusted = sio.get_untrusted_types(data=content)
        except Exception as exc:
            raise ModelError(
                f"could not read skops file {path!r}: {type(exc).__name__}: {_first_line(exc)}", model=path
            ) from None
        if untrusted and not trust:
            raise ModelError(
                f"{path!r} contains types outside skops' allow-list ({', '.join(untrusted)}); "
                "loading them can run code. Pass trust=True (notebook: --param "
                "trust_model_file=true) only for a file you produced or trust",
                model=path,
            )
        try:
            return sio.loads(content, trusted=untrusted)
        except Exception as exc:
            raise ModelError(
                f"could not load model file {path!r}: {type(exc).__name__}: {_first_line(exc)}", model=path
            ) from exc
    if not trust:
        raise ModelError(
            f"refusing to load {path!r}: joblib and pickle files run code embedded in the "
            "file while loading. Pass trust=True (notebook: --param trust_model_file=true) "
            "only for a file you produced or otherwise trust",
            model=path,
        )
    joblib = importlib.import_module("joblib")  # a scikit-learn dependency, untyped: imported by name
    content = _read_model_file(path, log)
    try:
        return joblib.load(io.BytesIO(content))
    except Exception as exc:
        raise ModelError(
            f"could not load model file {path!r}: {type(exc).__name__}: {exc}", model=path
        ) from exc


def _record_module(module: ModuleType, log: InputLog | None) -> None:
    """Record the source file of the model's module (name ``"model_module"``), as found when it was imported.

    Python read the file to import it; its bytes are hashed right after, so a
    rerun refuses when the model's code changed. Only the named module's own
    file is recorded (not the modules it imports); a built-in module or a
    namespace package has none.
    """
    if log is None:
        return
    origin = getattr(module, "__file__", None)
    if not origin or not os.path.isfile(origin):
        return
    with open(origin, "rb") as handle:
        content = handle.read()
    record_bytes(content, name="model_module", path=origin, log=log)


def _load_attribute(spec: str, log: InputLog | None = None) -> Any:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ModelError(
            f"model {spec!r}: expected 'package.module:function' or 'package.module:object' "
            f"or a path ending in {', '.join(_PICKLE_SUFFIXES)} or .skops",
            model=spec,
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ModelError(
            f"model {spec!r}: cannot import module {module_name!r}: {type(exc).__name__}: {exc}",
            model=spec,
        ) from exc
    _record_module(module, log)
    obj: Any = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise ModelError(f"model {spec!r}: {module_name} has no attribute {attribute!r}", model=spec)
        obj = getattr(obj, part)
    return obj


def load_model(
    spec: str,
    *,
    trust: bool = False,
    features: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    log: InputLog | None = None,
) -> Model:
    """Load the model named by ``spec``.

    ``spec`` is ``"package.module:function"`` / ``"package.module:object"``
    (imported from the Python path, as any import would be), or a path to a
    ``.joblib`` / ``.pkl`` / ``.pickle`` file (needs ``trust=True``: unpickling
    runs code) or a ``.skops`` file (needs skops installed).

    What shaped the model is recorded in ``log``: a model file by the sha256
    of the bytes loaded (read once, name ``"model"``), a module by its source
    file (``"model_module"``).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ModelError("model: expected a non-empty 'module:function' or file path", model=str(spec))
    spec = spec.strip()
    lowered = spec.lower()
    if lowered.endswith(_PICKLE_SUFFIXES) or lowered.endswith(".skops"):
        obj = _load_file(spec, trust=trust, log=log)
    else:
        obj = _load_attribute(spec, log)
    return Model.from_object(obj, name=spec, features=features, batch_size=batch_size)


@dataclass(frozen=True)
class DecisionRule:
    """Score cut-offs mapping a score to ordered decision labels.

    With ``higher_is_riskier`` (the default, for probabilities of default or
    fraud) ``thresholds`` are increasing upper bounds: a score below the first
    gets the first label, below the second the second label, and so on; a
    score at or above the last cut-off gets ``otherwise``. With
    ``higher_is_riskier=False`` thresholds are decreasing lower bounds (score at
    or above the first gets the first label). Labels are ordered best first.
    """

    thresholds: Mapping[str, float]
    otherwise: str = "decline"
    higher_is_riskier: bool = True

    def __post_init__(self) -> None:
        if not self.thresholds:
            raise ModelError("a decision rule needs at least one threshold")
        cuts = list(self.thresholds.values())
        for label, cut in self.thresholds.items():
            if isinstance(cut, bool) or not isinstance(cut, (int, float)) or not math.isfinite(cut):
                raise ModelError(f"decision threshold for {label!r} must be a finite number, got {cut!r}")
        ordered = all(a < b for a, b in itertools.pairwise(cuts))
        if not self.higher_is_riskier:
            ordered = all(a > b for a, b in itertools.pairwise(cuts))
        if not ordered:
            direction = "increasing" if self.higher_is_riskier else "decreasing"
            raise ModelError(f"decision thresholds must be strictly {direction}: {dict(self.thresholds)}")
        if self.otherwise in self.thresholds:
            raise ModelError(f"decision label {self.otherwise!r} is both a threshold label and 'otherwise'")
        object.__setattr__(self, "thresholds", dict(self.thresholds))

    @property
    def labels(self) -> tuple[str, ...]:
        """Decision labels, best first."""
        return (*self.thresholds, self.otherwise)

    def codes(self, scores: np.ndarray) -> np.ndarray:
        """Index into :attr:`labels` for each score (int8)."""
        cuts = np.asarray(list(self.thresholds.values()), dtype="float64")
        scores = np.asarray(scores, dtype="float64")
        if self.higher_is_riskier:
            # Number of cut-offs at or below the score: below the first -> 0.
            codes = np.searchsorted(cuts, scores, side="right")
        else:
            ascending = cuts[::-1]
            # Number of cut-offs strictly above the score: at or above the first -> 0.
            codes = len(cuts) - np.searchsorted(ascending, scores, side="right")
        return codes.astype("int8")

    def decide(self, scores: np.ndarray) -> np.ndarray:
        """Decision labels for ``scores``."""
        return np.asarray(self.labels, dtype=object)[self.codes(scores)]

    def describe(self) -> str:
        """The rule in words, for the report's method notes."""
        word = "<" if self.higher_is_riskier else ">="
        parts = [f"{label} if score {word} {cut:g}" for label, cut in self.thresholds.items()]
        return "; ".join(parts) + f"; else {self.otherwise}"

    @classmethod
    def from_mix(
        cls,
        scores: np.ndarray,
        shares: Mapping[str, float],
        *,
        otherwise: str,
        higher_is_riskier: bool = True,
    ) -> DecisionRule:
        """Cut-offs that reproduce a target decision mix on ``scores``.

        ``shares`` gives the share of each label but the last (best first); cut
        ``k`` is the (type-7, linear) quantile of the scores at the cumulative
        share of the first ``k`` labels.
        """
        cumulative = np.cumsum(list(shares.values()))
        if not 0 < cumulative[-1] < 1:
            raise ModelError(f"decision shares must sum to less than 1, got {dict(shares)}")
        probabilities = cumulative if higher_is_riskier else 1 - cumulative
        cuts = np.quantile(np.asarray(scores, dtype="float64"), probabilities)
        return cls(
            {label: float(cut) for label, cut in zip(shares, cuts, strict=True)},
            otherwise=otherwise,
            higher_is_riskier=higher_is_riskier,
        )


@dataclass(frozen=True)
class ModelDecisions:
    """Use the model's own decisions (``Model.decide``); ``labels`` best first."""

    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(str(label) for label in self.labels))
        if len(set(self.labels)) != len(self.labels) or not self.labels:
            raise ModelError(f"decision labels must be distinct and non-empty: {self.labels}")

    def codes_of(self, decisions: np.ndarray, *, model: str, scenario: str) -> np.ndarray:
        """Index into :attr:`labels` for each decision label."""
        codes, failure = self.try_codes_of(decisions, model=model, scenario=scenario)
        if failure is not None:
            raise failure.error
        return codes

    def try_codes_of(
        self, decisions: np.ndarray, *, model: str, scenario: str
    ) -> tuple[np.ndarray, ScoringFailure | None]:
        """Index into :attr:`labels` for each known decision label (0 elsewhere), and the rows whose label is not one.

        A missing decision (None) is not a label either.
        """
        values = np.asarray(decisions, dtype=object)
        codes = pd.Index(list(self.labels)).get_indexer(pd.Index(values))
        unknown = codes < 0
        if not unknown.any():
            return codes.astype("int8"), None
        present = unknown & ~np.asarray(pd.isna(values), dtype=bool)
        failures = FailureLog(model, scenario, len(values))
        if present.any():
            label = values[np.flatnonzero(present)[0]]
            error = ModelError(
                f"model {model!r} returned decision {label!r} while scoring scenario "
                f"{scenario!r}; expected one of {', '.join(self.labels)}",
                model=model,
                scenario=scenario,
            )
            failures.rows(0, present, f"decisions that are none of {', '.join(self.labels)} (such as {label!r})",
                          error)
        if (unknown & ~present).any():
            failures.rows(0, unknown & ~present, "no decision",
                          ModelError(f"model {model!r} returned missing decisions while scoring scenario {scenario!r}",
                                     model=model, scenario=scenario))
        return np.where(unknown, 0, codes).astype("int8"), failures.failure()

    def describe(self) -> str:
        return "the model's own decisions (" + ", ".join(self.labels) + ")"


class ModelSetup(NamedTuple):
    """A model ready to stress: scorer, decision rule and what is known of it.

    ``target``, ``exposure`` and ``monotone`` are "" / {} when unknown (they
    are known for the built-in model: its training target, an exposure
    column of the sample, and the sample spec's monotone declarations).
    """

    model: Model
    rule: DecisionRule | ModelDecisions
    features: tuple[str, ...]
    target: str
    monotone: dict[str, str]
    exposure: str
    description: str
    builtin: bool


def _one_openmp_thread() -> AbstractContextManager[object]:
    """Limit OpenMP to one thread (threadpoolctl: a scikit-learn dependency, untyped, so imported by name)."""
    return importlib.import_module("threadpoolctl").threadpool_limits(limits=1, user_api="openmp")


def _positive_probability(estimator: Any) -> Callable[[pd.DataFrame], np.ndarray]:
    def predict(frame: pd.DataFrame) -> np.ndarray:
        # One OpenMP thread: the model is small, and thread pools oversubscribe
        # shared or CPU-limited machines (containers), where scoring with all
        # cores' threads ran about three times slower than with one.
        with _one_openmp_thread():
            return estimator.predict_proba(frame)[:, 1]

    return predict


@functools.lru_cache(maxsize=4)
def default_model(seed: int = 0, *, rows: int = 30_000) -> ModelSetup:
    """Train the built-in default model on the sample data (deterministic, cached).

    A scikit-learn pipeline (one-hot encoding of the categorical features,
    unseen categories ignored; histogram gradient boosting with NaN support, no
    early stopping so no random validation split) predicting the sample's
    ``default_flag`` from its application features, trained on the labelled
    rows of ``mlreport.sample.generate(rows, seed=seed)``. The decision rule's
    cut-offs reproduce the sample's own approve / refer / decline mix on the
    training rows. The same seed gives the same model.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from .. import sample

    # The sample's schema, known here and only here (see the module docstring).
    spec = sample.DEFAULT_SPEC
    frame = sample.generate(rows, seed=seed)
    features = tuple(spec["features"])
    categorical = [f for f in features if not pd.api.types.is_numeric_dtype(frame[f].dtype)]
    numeric = [f for f in features if f not in categorical]
    labelled = frame[frame[spec["target"]].notna()]
    target = labelled[spec["target"]].to_numpy(dtype="int64")
    pipeline = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [
                        (
                            "categorical",
                            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                            categorical,
                        ),
                        ("numeric", "passthrough", numeric),
                    ]
                ),
            ),
            (
                "boost",
                HistGradientBoostingClassifier(
                    max_iter=60,
                    learning_rate=0.15,
                    max_leaf_nodes=15,
                    min_samples_leaf=50,
                    l2_regularization=1.0,
                    early_stopping=False,
                    random_state=seed,
                ),
            ),
        ]
    )
    with _one_openmp_thread():
        pipeline.fit(labelled[list(features)], target)
    name = f"built-in default model (seed {seed})"
    # Scores only: the classifier's predict (0/1) is not a business decision.
    model = Model(_positive_probability(pipeline), name=name, features=features)
    decisions = frame[spec["decision"]].astype(str)
    shares = {label: float((decisions == label).mean()) for label in ("approve", "refer")}
    rule = DecisionRule.from_mix(model.score(frame), shares, otherwise="decline")
    return ModelSetup(
        model=model,
        rule=rule,
        features=features,
        target=spec["target"],
        monotone=dict(spec["monotone"]),
        exposure="loan_amount",
        description=(
            f"{name}: scikit-learn pipeline, one-hot + HistGradientBoostingClassifier(max_iter=60, lr=0.15, "
            f"max_leaf_nodes=15), trained on {len(labelled):,} labelled rows of "
            f"mlreport.sample.generate({rows:,}, seed={seed}); cut-offs {rule.describe()}"
        ),
        builtin=True,
    )


def setup_model(
    spec: str = "",
    *,
    trust: bool = False,
    thresholds: Mapping[str, float] | None = None,
    otherwise: str = "decline",
    higher_is_riskier: bool = True,
    decision_labels: Sequence[str] | None = None,
    features: Sequence[str] | None = None,
    seed: int = 0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    log: InputLog | None = None,
) -> ModelSetup:
    """The model and decision rule a stress run uses, from run parameters.

    ``spec`` "" is the built-in :func:`default_model` (its cut-offs unless
    ``thresholds`` are given). Otherwise the model is loaded with
    :func:`load_model` (its file or module recorded in ``log``); decisions
    come from ``thresholds`` when given, else from the model's own decisions,
    whose labels (best first) are ``decision_labels`` or the classifier's
    ``classes_``.
    """
    if not spec:
        built_in = default_model(seed)
        if thresholds:
            return built_in._replace(
                rule=DecisionRule(thresholds, otherwise=otherwise, higher_is_riskier=higher_is_riskier)
            )
        return built_in
    model = load_model(spec, trust=trust, features=features or None, batch_size=batch_size, log=log)
    if thresholds:
        rule: DecisionRule | ModelDecisions = DecisionRule(
            thresholds, otherwise=otherwise, higher_is_riskier=higher_is_riskier
        )
    elif model.has_decisions:
        labels = decision_labels or model.decision_labels
        if not labels:
            raise ModelError(
                f"model {spec!r} makes its own decisions but their labels are unknown; "
                "give decision_labels (best first) or score thresholds",
                model=spec,
            )
        rule = ModelDecisions(tuple(labels))
    else:
        raise ModelError(
            f"model {spec!r} returns scores only; give decision thresholds "
            "(e.g. {\"approve\": 0.1, \"refer\": 0.2})",
            model=spec,
        )
    return ModelSetup(
        model=model,
        rule=rule,
        features=model.features or (),
        target="",
        monotone={},
        exposure="",
        description=f"{spec}; decisions: {rule.describe()}",
        builtin=False,
    )
