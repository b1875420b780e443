"""The scoring core of a stress test: a model, its decision rule and a population, scored once.

:class:`Population` holds what every part of the analysis compares with: the
baseline scores and decisions of each row, the reference distribution the
shocks draw on, the run's tolerance and its seed. The parts that stress it
take it explicitly: :class:`~mlreport.stress.ScenarioRunner` (scenarios),
:class:`~mlreport.stress.SensitivitySweep` (one feature at a time),
:class:`~mlreport.stress.ReverseStress` (the smallest breaking shock) and
:func:`~mlreport.stress.permutation_importance`.

The label column must hold 0/1 values; infinite feature values are counted
for the report; :func:`default_segments` picks the columns to break readouts
down by.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import DataError, ParameterError
from ._models import DecisionRule, Model, ModelDecisions
from ._readouts import LossModel, roc_auc
from ._scoring import ScoringFailure, baseline_error
from ._settings import run_tolerance
from .scenarios import Reference, Tolerance, is_numeric, scenario_rng

if TYPE_CHECKING:
    from ..spec import ModelSpec
    from ._models import ModelSetup

__all__ = ["Population", "Evaluation", "default_segments"]

#: Baseline or stressed scores, one float per row.
Scores = npt.NDArray[np.float64]
#: Decisions as indices into the decision labels (best first), one int8 per row.
Codes = npt.NDArray[np.int8]


class Evaluation(NamedTuple):
    """A frame scored: scores and decision codes per row, and the rows that could not be scored (None: none)."""

    scores: Scores
    codes: Codes
    failure: ScoringFailure | None


class Population:
    """A model, its decision rule and a population, scored once at baseline.

    ``features`` default to the model's own list, else every column except
    ``label``. The ``reference`` distribution used by quantile shifts, noise,
    "mean" and "stale" values defaults to the population itself. ``segments``
    are columns to break readouts down by; ``loss`` adds expected loss to the
    readouts; ``tolerance`` is what a stressed population must stay within
    (a scenario file may set its own). Scenario randomness is seeded by
    ``seed`` and the scenario name.

    The baseline is computed here, once: ``scores``, ``codes`` (decision
    indices into ``decision_labels``, best first) and ``base_rates``.
    """

    def __init__(
        self,
        model: Model,
        rule: DecisionRule | ModelDecisions,
        frame: pd.DataFrame,
        *,
        features: Sequence[str] | None = None,
        reference: pd.DataFrame | None = None,
        label: str | None = None,
        loss: LossModel | None = None,
        segments: Sequence[str] = (),
        tolerance: Tolerance | None = None,
        seed: int = 0,
    ) -> None:
        if len(frame) == 0:
            raise DataError("the population to stress has no rows")
        self.model = model
        self.rule = rule
        self.frame = frame.reset_index(drop=True)
        if features is None:
            features = model.features or [c for c in frame.columns if c != label]
        self.features: tuple[str, ...] = tuple(features)
        for column in (*self.features, *segments):
            if column not in frame.columns:
                raise DataError(f"column {column!r} is not in the population", column=column)
        self.reference_frame = frame if reference is None else reference
        self.reference = Reference.fit(self.reference_frame, self.features)
        self.nonfinite = _nonfinite_counts(self.frame, self.features)
        self.label = label
        self.label_values = _label_array(self.frame, label) if label else None
        self.loss = loss
        if loss is not None:
            for needed in (loss.exposure, loss.lgd if isinstance(loss.lgd, str) else None):
                if needed is not None and needed not in frame.columns:
                    raise DataError(f"loss model column {needed!r} is not in the population", column=needed)
            if loss.pd == "label" and self.label_values is None:
                raise ParameterError("LossModel(pd='label') needs a label column", name="label")
        self.segments = tuple(segments)
        self.tolerance = tolerance or Tolerance()
        self.seed = int(seed)
        self.decision_labels = tuple(rule.labels)
        baseline = self.try_evaluate(self.frame, "baseline")
        if baseline.failure is not None:
            # Nothing can be compared with a baseline that has holes: an input error naming the model and rows.
            raise baseline_error(baseline.failure, self.frame, self.features)
        self.scores, self.codes = baseline.scores, baseline.codes
        self.base_rates: npt.NDArray[np.float64] = (
            np.bincount(self.codes, minlength=len(self.decision_labels)) / len(self.codes)
        )

    @classmethod
    def from_setup(
        cls,
        setup: ModelSetup,
        frame: pd.DataFrame,
        *,
        features: Sequence[str] = (),
        label: str = "",
        exposure: str = "",
        lgd: float = 0.45,
        segments: Sequence[str] = (),
        tolerance_pp: float = 0.0,
        loss_tolerance_pct: float = 0.0,
        seed: int = 0,
        spec: ModelSpec | None = None,
    ) -> Population:
        """A population from notebook parameters, "" / [] / 0 meaning "use what is known".

        ``setup`` is a :class:`~mlreport.stress.ModelSetup`; ``spec`` an optional
        model spec. A parameter given wins; then the spec (features, target,
        segments, ``[thresholds.stress]``); then the setup (the model's
        features; its label and exposure columns when the population has them);
        then :func:`default_segments` and a 5 pp tolerance
        (:func:`~mlreport.stress.run_tolerance`).
        """
        if spec is not None:
            label = label or spec.target
            features = tuple(features) or tuple(spec.features)
            segments = tuple(segments) or tuple(spec.segments)
            named = {"target": [label] if label else [], "features": list(features), "segments": list(segments)}
            for role, columns in named.items():
                missing = [c for c in columns if c not in frame.columns]
                if missing:
                    raise DataError(
                        f"column(s) {missing} named as {role} by the model spec ({spec.source}) are not in the "
                        f"population; it has {list(map(str, frame.columns))[:40]}",
                        column=missing[0],
                    )
        label = label or (setup.target if setup.target in frame.columns else "")
        exposure = exposure or (setup.exposure if setup.exposure in frame.columns else "")
        chosen = tuple(features) or tuple(setup.features) or None
        return cls(
            setup.model,
            setup.rule,
            frame,
            features=chosen,
            label=label or None,
            loss=LossModel(exposure, lgd=lgd) if exposure else None,
            segments=tuple(segments)
            or default_segments(frame, exclude=(label,), decision_labels=setup.rule.labels),
            tolerance=run_tolerance(spec, tolerance_pp, loss_tolerance_pct),
            seed=seed,
        )

    def evaluate(self, frame: pd.DataFrame, scenario: str) -> tuple[Scores, Codes]:
        """Scores and decision codes of ``frame`` (the population or a shocked copy).

        ``scenario`` names what is being scored in the model's error messages:
        a :class:`~mlreport.errors.ModelError` when any row cannot be scored
        (:meth:`try_evaluate` says which instead).
        """
        evaluation = self.try_evaluate(frame, scenario)
        if evaluation.failure is not None:
            raise evaluation.failure.error
        return evaluation.scores, evaluation.codes

    def try_evaluate(self, frame: pd.DataFrame, scenario: str) -> Evaluation:
        """Scores and decision codes of the rows the model can score, and which it cannot.

        A row fails when its score is NaN or infinite, its batch raised or
        returned the wrong shape, or (with the model's own decisions) its
        decision is missing or unknown; such rows have a NaN score and code 0,
        and ``failure`` (None when every row was scored) names them.
        """
        scores, failure = self.model.try_score(frame, scenario=scenario)
        if isinstance(self.rule, ModelDecisions):
            decisions, undecided = self.model.try_decide(frame, scenario=scenario)
            if undecided is not None:  # already failed: not an unknown label as well
                decisions = np.where(undecided.rows, self.rule.labels[0], decisions)
            codes, unknown = self.rule.try_codes_of(decisions, model=self.model.name, scenario=scenario)
            for other in (undecided, unknown):
                if other is not None:
                    failure = other if failure is None else failure.merged(other)
        else:
            codes = self.rule.codes(np.nan_to_num(scores, nan=0.0))
        return Evaluation(scores, codes, failure)

    def reference_for(self, columns: Sequence[str]) -> Reference:
        """The reference, extended to ``columns`` (fitted once per column) before they are shocked.

        Columns absent from a separate reference take the population's.
        """
        in_reference = [c for c in columns if c in self.reference_frame.columns]
        self.reference = self.reference.extended(self.reference_frame, in_reference)
        self.reference = self.reference.extended(self.frame, columns)
        return self.reference

    def rng(self, key: str) -> np.random.Generator:
        """The generator of one seeded draw: ``default_rng([seed, crc32(key)])``."""
        return scenario_rng(self.seed, key)

    def subsample(self, rows: int, *, seed: int | None = None) -> Population:
        """The same population on a seeded random subset of rows (reference kept).

        Sweeps and bisection score many variants; a few thousand rows are
        enough for curves and breaking points, at a fraction of the cost. With
        ``rows`` at least the population's size, the population itself.
        """
        if rows >= len(self.frame):
            return self
        rng = scenario_rng(self.seed if seed is None else seed, "subsample")
        index = np.sort(rng.choice(len(self.frame), size=rows, replace=False))
        return Population(
            self.model,
            self.rule,
            self.frame.iloc[index],
            features=self.features,
            reference=self.reference_frame,
            label=self.label,
            loss=self.loss,
            segments=self.segments,
            tolerance=self.tolerance,
            seed=self.seed,
        )

    def overview(self) -> pd.DataFrame:
        """The baseline: rows, features, decision mix, mean score, AUC when labelled."""
        rows = [
            ("rows", f"{len(self.frame):,}"),
            ("features", f"{len(self.features)}: {', '.join(self.features)}"),
            ("decision rule", self.rule.describe()),
            ("label column", self.label or "none (AUC, Gini, calibration not computed)"),
            ("expected loss", self.loss.describe() if self.loss else "not computed (no exposure column)"),
            ("segments", ", ".join(self.segments) or "none"),
            ("mean score", f"{self.scores.mean():.4f}"),
        ]
        if self.nonfinite:
            rows.append(("infinite feature values", "; ".join(
                f"{column}: {infinities(pos, neg)}" for column, (pos, neg) in self.nonfinite.items())))
        for label, rate in zip(self.decision_labels, self.base_rates, strict=True):
            rows.append((f"{label} rate", f"{100 * rate:.1f}%"))
        if self.label_values is not None:
            known = ~np.isnan(self.label_values)
            rows.append(("labelled rows", f"{int(known.sum()):,}"))
            rows.append(("AUC (labelled rows)", f"{roc_auc(self.scores[known], self.label_values[known]):.3f}"))
        return pd.DataFrame(rows, columns=["item", "value"])


def default_segments(
    frame: pd.DataFrame,
    *,
    exclude: Sequence[str] = (),
    decision_labels: Sequence[str] = (),
    max_values: int = 20,
) -> tuple[str, ...]:
    """Segment candidates: non-numeric columns with 2 to ``max_values`` values.

    Left out: columns whose values are all distinct (identifiers), and columns
    whose values are all decision labels (past decisions: an outcome, not a
    segment).
    """
    chosen = []
    labels = set(map(str, decision_labels))
    for column in frame.columns:
        if column in exclude or is_numeric(frame[column]):
            continue
        if pd.api.types.is_datetime64_any_dtype(frame[column].dtype):
            continue
        present = frame[column].dropna()
        values = present.unique()
        if not 2 <= len(values) <= max_values or len(values) == len(present):
            continue
        if labels and set(map(str, values)) <= labels:
            continue
        chosen.append(str(column))
    return tuple(chosen)


def infinities(positive: int, negative: int) -> str:
    """Counts of infinite values in words: ``10 +inf and 3 -inf``."""
    return " and ".join(text for count, text in ((positive, f"{positive:,} +inf"), (negative, f"{negative:,} -inf"))
                        if count)


def _label_array(frame: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    """A 0/1 label column as float with NaN for missing; DataError otherwise."""
    if column not in frame.columns:
        raise DataError(f"label column {column!r} is not in the data", column=column)
    series = frame[column]
    try:
        values = pd.to_numeric(series, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise DataError(f"label column {column!r} must hold 0/1 values", column=column) from None
    present = values[~np.isnan(values)]
    if not np.isin(present, (0.0, 1.0)).all():
        raise DataError(f"label column {column!r} must hold 0/1 values (or be missing)", column=column)
    return values


def _nonfinite_counts(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Numeric columns holding ±inf: column -> (+inf rows, -inf rows)."""
    counts: dict[str, tuple[int, int]] = {}
    for column in columns:
        series = frame[column]
        if not is_numeric(series):
            continue
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        positive, negative = int(np.count_nonzero(values == np.inf)), int(np.count_nonzero(values == -np.inf))
        if positive or negative:
            counts[column] = (positive, negative)
    return counts
