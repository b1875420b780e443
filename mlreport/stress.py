"""Stress analysis: the model's decisions under extreme but plausible inputs.

:class:`StressTest` scores a population once (the baseline) and then under
each scenario, and reads out what changed:

- **decision rates** per label, with a paired confidence interval: the same
  rows are scored twice, so the change in a label's rate is the mean of paired
  differences ``d_i = 1[stressed_i = label] - 1[base_i = label]``; its Wald
  interval for paired proportions is ``(c - b)/n ± z sqrt(b + c - (c - b)^2/n)/n``
  with ``b`` rows leaving the label and ``c`` rows joining it (Agresti,
  *Categorical Data Analysis*, on matched pairs);
- **flip rate**, the share of rows whose decision changes, split into moves
  down the label order (to a worse decision) and up;
- **score shift**, mean and 5/50/95% quantiles (type 7) of stressed minus base
  score;
- **expected loss** with a :class:`LossModel` (PD x LGD x EAD over accepted rows);
- **AUC, Gini and calibration in the large** when labels exist (rows with a
  missing label are left out; higher score = riskier = positive class);
- **segments hit hardest**: the segments whose first-label (e.g. approval) rate
  moves most;
- **pass / fail** of the point estimates against a
  :class:`~mlreport.scenarios.Tolerance`.

Sensitivity curves sweep one feature at a time over a magnitude grid per shock
family; reverse stress finds, by bisection, the smallest shock that breaks the
tolerance; :func:`monotonicity` checks declared monotone features with
individual conditional expectation (ICE) curves. Everything is seeded.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from .errors import DataError, ParameterError, ScenarioError, SpecError
from .findings import Finding, Summary, summarize
from .models import DecisionRule, Model, ModelDecisions
from .scenarios import (
    Reference,
    ResolvedScenario,
    ScenarioSuite,
    Shock,
    Tolerance,
    apply_scenario,
    is_numeric,
    parse_tolerance,
    resolve,
)
from .spec import ModelSpec

__all__ = [
    "SECTIONS",
    "DEFAULT_GRIDS",
    "NUMERIC_FAMILIES",
    "CATEGORICAL_FAMILIES",
    "LossModel",
    "ScenarioRun",
    "ReverseResult",
    "StressTest",
    "default_segments",
    "run_tolerance",
    "declared_monotone",
    "MonotonicityResult",
    "paired_rate_change",
    "roc_auc",
    "monotonicity",
    "stress_headline",
    "stress_summary",
]

SECTIONS = {
    "scenarios": "Scenarios",
    "sensitivity": "Sensitivity",
    "reverse": "Reverse stress",
    "monotonicity": "Monotonicity",
}

# Sensitivity grids per shock family (0, the baseline, is added). Their ends are
# the "plausible range" that reverse stress searches.
DEFAULT_GRIDS: dict[str, tuple[float, ...]] = {
    "relative": tuple(round(x, 2) for x in np.arange(-0.5, 0.501, 0.05) if abs(x) > 1e-9),
    "quantile_shift": (-0.3, -0.25, -0.2, -0.15, -0.1, -0.05, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3),
    "set_missing": (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0),
    "category_remap": (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0),
    "noise": (0.1, 0.25, 0.5, 0.75, 1.0),
}
NUMERIC_FAMILIES = ("relative", "quantile_shift", "set_missing")
CATEGORICAL_FAMILIES = ("category_remap", "set_missing")
_SIGNED = ("relative", "absolute", "quantile_shift")
_NUMERIC_KINDS = ("relative", "absolute", "quantile_shift", "noise")

# Bisection stops when the bracket is this narrow (in the family's own units).
DEFAULT_PRECISION = 0.005

# A break at or below this magnitude is flagged as fragile (a warning).
FRAGILE_AT = 0.10


def paired_rate_change(
    before: np.ndarray, after: np.ndarray, *, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Change in a rate measured twice on the same rows, with a Wald interval.

    ``before`` and ``after`` are boolean arrays (row has the label). Returns
    ``(change, low, high)`` as shares: ``(c - b)/n`` and
    ``± z sqrt(b + c - (c - b)^2 / n) / n`` with ``b`` = rows True before and
    False after, ``c`` = the reverse, ``z`` the normal quantile.
    """
    n = len(before)
    if n == 0:
        return math.nan, math.nan, math.nan
    left = int(np.count_nonzero(before & ~after))
    joined = int(np.count_nonzero(~before & after))
    change = (joined - left) / n
    z = float(scipy_stats.norm.ppf(0.5 + confidence / 2))
    variance = max(left + joined - (joined - left) ** 2 / n, 0.0)
    half = z * math.sqrt(variance) / n
    return change, change - half, change + half


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count one half).

    ``labels`` are 0/1; NaN when only one class is present.
    """
    positives = labels == 1
    n_pos = int(positives.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = scipy_stats.rankdata(scores)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass(frozen=True)
class LossModel:
    """Expected loss of the accepted book: sum of PD x LGD x EAD.

    ``exposure`` is the EAD column; ``lgd`` a constant (0.45 is the Basel
    foundation-IRB value for senior unsecured claims) or a column; ``pd``
    "score" uses the model's score as a probability of default (stressed score
    under a scenario), "label" the observed default flag (rows without a label
    count zero). ``accept`` lists the decisions that book the loan (default:
    the first label). The stressed exposure column is used, so scenarios may
    shock exposures too.
    """

    exposure: str
    lgd: float | str = 0.45
    pd: str = "score"
    accept: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.pd not in ("score", "label"):
            raise ParameterError(f"LossModel pd must be 'score' or 'label', got {self.pd!r}", name="pd")

    def describe(self) -> str:
        lgd = f"LGD {self.lgd:g}" if not isinstance(self.lgd, str) else f"LGD column {self.lgd}"
        pd_text = "model score as PD" if self.pd == "score" else "observed default flag as PD"
        return f"expected loss = sum over accepted rows of PD x LGD x EAD ({pd_text}, {lgd}, EAD column {self.exposure})"


@dataclass
class ScenarioRun:
    """Readouts of a scenario suite: tables, findings and provenance."""

    table: pd.DataFrame
    rates: pd.DataFrame
    segments: pd.DataFrame
    definitions: pd.DataFrame
    findings: list[Finding]
    labels: tuple[str, ...]
    tolerance: Tolerance
    seed: int
    scenario_file: str = ""
    scenario_sha256: str = ""
    confidence: float = 0.95

    @property
    def failed(self) -> pd.DataFrame:
        return self.table[self.table["result"] == "fail"]

    def readouts(self) -> pd.DataFrame:
        """Per-scenario readouts beyond decision rates, rounded for display."""
        columns = [
            "scenario", "result", "rows", "flip_rate", "flip_down", "flip_up", "score_shift_mean",
            "score_shift_p05", "score_shift_p50", "score_shift_p95", "auc_base", "auc_stressed",
            "gini_change", "calibration_base", "calibration_stressed", "expected_loss_base",
            "expected_loss_stressed", "expected_loss_change_pct",
        ]
        table = self.table[[c for c in columns if c in self.table.columns]]
        return table[table["result"] != "n/a"].round(4)

    def provenance(self) -> pd.DataFrame:
        """Seed, scenario file and its sha256, tolerance: what a replication needs."""
        return pd.DataFrame(
            [
                ("seed", str(self.seed)),
                ("scenario file", self.scenario_file),
                ("scenario file sha256", self.scenario_sha256),
                ("tolerance", self.tolerance.describe()),
                ("confidence level", f"{100 * self.confidence:g}%"),
            ],
            columns=["item", "value"],
        )

    def display_table(self) -> pd.DataFrame:
        """A compact, rounded table for the report: one row per scenario."""
        rows = []
        wide = self.rates.pivot(index="scenario", columns="decision", values="change_pp")
        low = self.rates.pivot(index="scenario", columns="decision", values="ci_low_pp")
        high = self.rates.pivot(index="scenario", columns="decision", values="ci_high_pp")
        for record in self.table.itertuples(index=False):
            row: dict[str, Any] = {"scenario": record.scenario, "result": record.result}
            for label in self.labels:
                if record.scenario in wide.index and record.applicable:
                    row[f"{label} Δ pp (95% CI)"] = (
                        f"{wide.at[record.scenario, label]:+.1f} "
                        f"({low.at[record.scenario, label]:+.1f}, {high.at[record.scenario, label]:+.1f})"
                    )
                else:
                    row[f"{label} Δ pp (95% CI)"] = ""
            row["flip rate %"] = round(100 * record.flip_rate, 1) if record.applicable else None
            row["mean score shift"] = round(record.score_shift_mean, 4) if record.applicable else None
            row["hardest hit"] = record.hardest_hit
            row["why"] = record.reasons or record.notes
            rows.append(row)
        return pd.DataFrame(rows)


@dataclass
class ReverseResult:
    """Reverse stress: one row per feature, family and direction, plus findings."""

    table: pd.DataFrame
    findings: list[Finding]
    method: str


@dataclass
class MonotonicityResult:
    """ICE check of declared monotone features."""

    table: pd.DataFrame
    examples: pd.DataFrame
    curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    findings: list[Finding]
    method: str
    tolerance: float = 0.01


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


def _rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(key.encode("utf-8"))])


def _label_array(frame: pd.DataFrame, column: str) -> np.ndarray:
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


def _infinities(positive: int, negative: int) -> str:
    return " and ".join(text for count, text in ((positive, f"{positive:,} +inf"), (negative, f"{negative:,} -inf"))
                        if count)


class StressTest:
    """A model, its decision rule and a population, scored once at baseline.

    ``features`` default to the model's own list, else every column except
    ``label``. The ``reference`` distribution used by quantile shifts, noise,
    "mean" and "stale" values defaults to the population itself. ``segments``
    are columns to break readouts down by. Scenario randomness is seeded by
    ``seed`` and the scenario name.
    """

    def __init__(
        self,
        model: Model,
        rule: DecisionRule | ModelDecisions,
        population: pd.DataFrame,
        *,
        features: Sequence[str] | None = None,
        reference: pd.DataFrame | None = None,
        label: str | None = None,
        loss: LossModel | None = None,
        segments: Sequence[str] = (),
        tolerance: Tolerance | None = None,
        seed: int = 0,
        confidence: float = 0.95,
        top_segments: int = 3,
        min_segment_rows: int = 30,
    ) -> None:
        if len(population) == 0:
            raise DataError("the population to stress has no rows")
        self.model = model
        self.rule = rule
        self.population = population.reset_index(drop=True)
        if features is None:
            features = model.features or [c for c in population.columns if c != label]
        self.features = tuple(features)
        for column in (*self.features, *segments):
            if column not in population.columns:
                raise DataError(f"column {column!r} is not in the population", column=column)
        self._reference_frame = population if reference is None else reference
        self.reference = Reference.fit(self._reference_frame, self.features)
        self.nonfinite = _nonfinite_counts(self.population, self.features)
        self.label = label
        self.labels_array = _label_array(self.population, label) if label else None
        self.loss = loss
        if loss is not None:
            for column in (loss.exposure, loss.lgd if isinstance(loss.lgd, str) else None):
                if column is not None and column not in population.columns:
                    raise DataError(f"loss model column {column!r} is not in the population", column=column)
            if loss.pd == "label" and self.labels_array is None:
                raise ParameterError("LossModel(pd='label') needs a label column", name="label")
        self.segments = tuple(segments)
        self.tolerance = tolerance or Tolerance()
        self.seed = int(seed)
        self.confidence = confidence
        self.top_segments = top_segments
        self.min_segment_rows = min_segment_rows
        self.decision_labels = tuple(rule.labels)
        self.scores, self.codes = self._evaluate(self.population, "baseline")
        self.base_rates = np.bincount(self.codes, minlength=len(self.decision_labels)) / len(self.codes)
        self._memo: dict[tuple[str, str, float], dict[str, Any]] = {}

    @classmethod
    def from_setup(
        cls,
        setup: Any,
        population: pd.DataFrame,
        *,
        features: Sequence[str] = (),
        label: str = "",
        exposure: str = "",
        lgd: float = 0.45,
        segments: Sequence[str] = (),
        tolerance_pp: float = 0.0,
        seed: int = 0,
        spec: ModelSpec | None = None,
    ) -> "StressTest":
        """A test from notebook parameters, "" / [] / 0 meaning "use what is known".

        ``setup`` is a :class:`~mlreport.models.ModelSetup`; ``spec`` an optional
        model spec. A parameter given wins; then the spec (features, target,
        segments, ``[thresholds.stress]``); then the setup (the model's
        features; its label and exposure columns when the population has them);
        then :func:`default_segments` and a 5 pp tolerance (:func:`run_tolerance`).
        """
        if spec is not None:
            label = label or spec.target
            features = tuple(features) or tuple(spec.features)
            segments = tuple(segments) or tuple(spec.segments)
            named = {"target": [label] if label else [], "features": list(features), "segments": list(segments)}
            for role, columns in named.items():
                missing = [c for c in columns if c not in population.columns]
                if missing:
                    raise DataError(
                        f"column(s) {missing} named as {role} by the model spec ({spec.source}) are not in the "
                        f"population; it has {list(map(str, population.columns))[:40]}",
                        column=missing[0],
                    )
        label = label or (setup.target if setup.target in population.columns else "")
        exposure = exposure or (setup.exposure if setup.exposure in population.columns else "")
        chosen = tuple(features) or tuple(setup.features) or None
        return cls(
            setup.model,
            setup.rule,
            population,
            features=chosen,
            label=label or None,
            loss=LossModel(exposure, lgd=lgd) if exposure else None,
            segments=tuple(segments)
            or default_segments(population, exclude=(label,), decision_labels=setup.rule.labels),
            tolerance=run_tolerance(spec, tolerance_pp),
            seed=seed,
        )

    def overview(self) -> pd.DataFrame:
        """The baseline: rows, features, decision mix, mean score, AUC when labelled."""
        rows = [
            ("rows", f"{len(self.population):,}"),
            ("features", f"{len(self.features)}: {', '.join(self.features)}"),
            ("decision rule", self.rule.describe()),
            ("label column", self.label or "none (AUC, Gini, calibration not computed)"),
            ("expected loss", self.loss.describe() if self.loss else "not computed (no exposure column)"),
            ("segments", ", ".join(self.segments) or "none"),
            ("mean score", f"{self.scores.mean():.4f}"),
        ]
        if self.nonfinite:
            rows.append(("infinite feature values", "; ".join(
                f"{column}: {_infinities(pos, neg)}" for column, (pos, neg) in self.nonfinite.items())))
        for label, rate in zip(self.decision_labels, self.base_rates):
            rows.append((f"{label} rate", f"{100 * rate:.1f}%"))
        if self.labels_array is not None:
            known = ~np.isnan(self.labels_array)
            rows.append(("labelled rows", f"{int(known.sum()):,}"))
            rows.append(("AUC (labelled rows)", f"{roc_auc(self.scores[known], self.labels_array[known]):.3f}"))
        return pd.DataFrame(rows, columns=["item", "value"])

    # ------------------------------------------------------------ scoring

    def _extend_reference(self, columns: Sequence[str]) -> None:
        # Columns shocked but absent from a separate reference take the population's.
        in_reference = [c for c in columns if c in self._reference_frame.columns]
        self.reference = self.reference.extended(self._reference_frame, in_reference)
        self.reference = self.reference.extended(self.population, columns)

    def _evaluate(self, frame: pd.DataFrame, scenario: str) -> tuple[np.ndarray, np.ndarray]:
        scores = self.model.score(frame, scenario=scenario)
        if isinstance(self.rule, ModelDecisions):
            decisions = self.model.decide(frame, scenario=scenario)
            codes = self.rule.codes_of(decisions, model=self.model.name, scenario=scenario)
        else:
            codes = self.rule.codes(scores)
        return scores, codes

    def subsample(self, rows: int, *, seed: int | None = None) -> "StressTest":
        """The same test on a seeded random subset of rows (reference kept).

        Sweeps and bisection score many variants; a few thousand rows are
        enough for curves and breaking points, at a fraction of the cost.
        """
        if rows >= len(self.population):
            return self
        rng = _rng(self.seed if seed is None else seed, "subsample")
        index = np.sort(rng.choice(len(self.population), size=rows, replace=False))
        return StressTest(
            self.model,
            self.rule,
            self.population.iloc[index],
            features=self.features,
            reference=self._reference_frame,
            label=self.label,
            loss=self.loss,
            segments=self.segments,
            tolerance=self.tolerance,
            seed=self.seed,
            confidence=self.confidence,
            top_segments=self.top_segments,
            min_segment_rows=self.min_segment_rows,
        )

    # ------------------------------------------------------------ importance

    def importance(self, *, sample_rows: int = 5_000) -> pd.DataFrame:
        """Permutation importance of each feature, without labels.

        For each feature the column is shuffled (seeded) within a sample of
        rows; importance is the mean absolute change of the score, and the
        share of rows whose decision changes is given too. Sorted, most
        important first.
        """
        test = self.subsample(sample_rows)
        rows = []
        for feature in self.features:
            rng = _rng(self.seed, f"importance:{feature}")
            frame = test.population.copy(deep=False)
            # set_axis keeps the dtype (categorical, nullable) that to_numpy would lose.
            frame[feature] = frame[feature].iloc[rng.permutation(len(frame))].set_axis(frame.index)
            scores, codes = test._evaluate(frame, f"importance: {feature} shuffled")
            rows.append(
                {
                    "feature": feature,
                    "kind": "numeric" if is_numeric(test.population[feature]) else "categorical",
                    "mean_abs_score_change": float(np.mean(np.abs(scores - test.scores))),
                    "decision_flip_rate": float(np.mean(codes != test.codes)),
                }
            )
        table = pd.DataFrame(rows).sort_values(
            ["mean_abs_score_change", "feature"], ascending=[False, True], ignore_index=True
        )
        table.insert(0, "rank", np.arange(1, len(table) + 1))
        return table

    # ------------------------------------------------------------ scenarios

    def _readouts(
        self,
        base_index: np.ndarray,
        stressed: pd.DataFrame,
        scores: np.ndarray,
        codes: np.ndarray,
    ) -> dict[str, Any]:
        base_scores = self.scores[base_index]
        base_codes = self.codes[base_index]
        n = len(base_index)
        out: dict[str, Any] = {"rows": n}
        rates = []
        for code, label in enumerate(self.decision_labels):
            before = base_codes == code
            after = codes == code
            change, low, high = paired_rate_change(before, after, confidence=self.confidence)
            rates.append(
                {
                    "decision": label,
                    "base_rate": float(before.mean()),
                    "stressed_rate": float(after.mean()),
                    "change_pp": 100 * change,
                    "ci_low_pp": 100 * low,
                    "ci_high_pp": 100 * high,
                }
            )
        out["rates"] = rates
        out["flip_rate"] = float(np.mean(codes != base_codes))
        out["flip_down"] = float(np.mean(codes > base_codes))
        out["flip_up"] = float(np.mean(codes < base_codes))
        shift = scores - base_scores
        out["score_base_mean"] = float(base_scores.mean())
        out["score_stressed_mean"] = float(scores.mean())
        out["score_shift_mean"] = float(shift.mean())
        q05, q50, q95 = np.quantile(shift, [0.05, 0.5, 0.95])
        out.update(score_shift_p05=float(q05), score_shift_p50=float(q50), score_shift_p95=float(q95))
        if self.labels_array is not None:
            labels = self.labels_array[base_index]
            known = ~np.isnan(labels)
            y = labels[known].astype(np.int8)
            higher_riskier = getattr(self.rule, "higher_is_riskier", True)
            sign = 1.0 if higher_riskier else -1.0
            auc_base = roc_auc(sign * base_scores[known], y)
            auc_stressed = roc_auc(sign * scores[known], y)
            observed = float(y.mean()) if len(y) else math.nan
            out.update(
                labelled_rows=int(known.sum()),
                auc_base=auc_base,
                auc_stressed=auc_stressed,
                gini_base=2 * auc_base - 1,
                gini_stressed=2 * auc_stressed - 1,
                gini_change=2 * (auc_stressed - auc_base),
                calibration_base=float(base_scores[known].mean()) - observed if len(y) else math.nan,
                calibration_stressed=float(scores[known].mean()) - observed if len(y) else math.nan,
            )
        if self.loss is not None:
            base_frame = self.population.iloc[base_index]
            out["expected_loss_base"] = self._expected_loss(base_frame, base_scores, base_codes, base_index)
            out["expected_loss_stressed"] = self._expected_loss(stressed, scores, codes, base_index)
            base_loss = out["expected_loss_base"]
            out["expected_loss_change_pct"] = (
                100 * (out["expected_loss_stressed"] / base_loss - 1) if base_loss else math.nan
            )
        return out

    def _expected_loss(
        self, frame: pd.DataFrame, scores: np.ndarray, codes: np.ndarray, base_index: np.ndarray
    ) -> float:
        loss = self.loss
        assert loss is not None
        accept = loss.accept or self.decision_labels[:1]
        accepted = np.isin(codes, [self.decision_labels.index(a) for a in accept])
        exposure = pd.to_numeric(frame[loss.exposure]).to_numpy(dtype="float64", na_value=np.nan)
        if isinstance(loss.lgd, str):
            lgd = pd.to_numeric(frame[loss.lgd]).to_numpy(dtype="float64", na_value=np.nan)
        else:
            lgd = np.full(len(frame), float(loss.lgd))
        if loss.pd == "score":
            probability = scores
        else:
            probability = np.nan_to_num(self.labels_array[base_index], nan=0.0)
        return float(np.nansum(np.where(accepted, probability * lgd * exposure, 0.0)))

    def _segment_rows(
        self, scenario: str, base_index: np.ndarray, codes: np.ndarray
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        focus = self.decision_labels[0]
        base_codes = self.codes[base_index]
        for column in self.segments:
            values = self.population[column].iloc[base_index]
            keys, uniques = pd.factorize(values, use_na_sentinel=False)
            count = np.bincount(keys, minlength=len(uniques))
            base = np.bincount(keys, weights=(base_codes == 0), minlength=len(uniques))
            stressed = np.bincount(keys, weights=(codes == 0), minlength=len(uniques))
            flips = np.bincount(keys, weights=(codes != base_codes), minlength=len(uniques))
            for i, value in enumerate(uniques):
                if count[i] < self.min_segment_rows:
                    continue
                rows.append(
                    {
                        "scenario": scenario,
                        "segment_column": column,
                        "segment": "<missing>" if pd.isna(value) else str(value),
                        "rows": int(count[i]),
                        "decision": focus,
                        "base_rate": base[i] / count[i],
                        "stressed_rate": stressed[i] / count[i],
                        "change_pp": 100 * (stressed[i] - base[i]) / count[i],
                        "flip_rate": flips[i] / count[i],
                    }
                )
        rows.sort(key=lambda r: (-abs(r["change_pp"]), r["segment_column"], r["segment"]))
        return rows[: self.top_segments]

    def evaluate(self, scenario: ResolvedScenario) -> dict[str, Any]:
        """Readouts of one resolved scenario (see the module docstring)."""
        if scenario.population is not None:
            mask = scenario.population.mask(self.population, context=f"scenario {scenario.name!r} population")
            base_index = np.flatnonzero(mask)
            frame = self.population.iloc[base_index]
        else:
            base_index = np.arange(len(self.population))
            frame = self.population
        if len(base_index) == 0:
            return {"rows": 0, "empty": True}
        self._extend_reference([s.column for s in scenario.shocks])
        stressed = apply_scenario(frame, scenario.shocks, self.reference, seed=self.seed, key=scenario.name)
        scores, codes = self._evaluate(stressed, scenario.name)
        out = self._readouts(base_index, stressed, scores, codes)
        out["segments"] = self._segment_rows(scenario.name, base_index, codes)
        return out

    def run(
        self,
        scenarios: ScenarioSuite | Sequence[ResolvedScenario],
        *,
        importance: Sequence[str] | None = None,
    ) -> ScenarioRun:
        """Evaluate every scenario of a suite; findings in section "Scenarios"."""
        path = sha = ""
        if isinstance(scenarios, ScenarioSuite):
            path, sha = scenarios.path, scenarios.sha256
            scenarios = resolve(
                scenarios,
                frame=self.population,
                features=self.features,
                importance=importance,
                tolerance=self.tolerance,
            )
        table_rows, rate_rows, segment_rows, definitions, findings = [], [], [], [], []
        for scenario in scenarios:
            definitions.append(
                {
                    "scenario": scenario.name,
                    "description": scenario.description,
                    "population": scenario.population.describe() if scenario.population else "all rows",
                    "macro": ", ".join(f"{k} {v:+g}" for k, v in scenario.macro.items()),
                    "shocks": scenario.describe(),
                    "tolerance": scenario.tolerance.describe(),
                    "notes": "; ".join(scenario.notes),
                }
            )
            row: dict[str, Any] = {"scenario": scenario.name, "applicable": scenario.applicable}
            result = self.evaluate(scenario) if scenario.applicable else {"rows": 0}
            if not scenario.applicable or result.get("empty"):
                reason = "; ".join(scenario.notes) or "the population filter matches no rows"
                row.update(result="n/a", passed=None, rows=result["rows"], reasons="", notes=reason,
                           flip_rate=math.nan, score_shift_mean=math.nan, hardest_hit="",
                           worst_decision="", worst_change_pp=math.nan, applicable=False)
                table_rows.append(row)
                findings.append(
                    Finding(
                        check="stress_scenario",
                        subject=scenario.name,
                        severity="ok",
                        message=f"scenario '{scenario.name}' not applicable: {reason}",
                        section=SECTIONS["scenarios"],
                    )
                )
                continue
            rates = result.pop("rates")
            segments = result.pop("segments")
            breaches = scenario.tolerance.breaches(
                [r["decision"] for r in rates],
                [r["stressed_rate"] for r in rates],
                [r["change_pp"] for r in rates],
                result["flip_rate"],
            )
            worst = max(rates, key=lambda r: abs(r["change_pp"]))
            row.update(result)
            row.update(
                result="fail" if breaches else "pass",
                passed=not breaches,
                worst_decision=worst["decision"],
                worst_change_pp=worst["change_pp"],
                reasons="; ".join(breaches),
                notes="; ".join(scenario.notes),
                hardest_hit=", ".join(
                    f"{s['segment_column']}={s['segment']} {s['change_pp']:+.1f} pp" for s in segments
                ),
            )
            table_rows.append(row)
            for rate in rates:
                rate_rows.append({"scenario": scenario.name, **rate,
                                  "limit_pp": scenario.tolerance.limit_pp(rate["decision"])})
            segment_rows.extend(segments)
            findings.append(self._scenario_finding(scenario, worst, breaches))
        findings.extend(self._nonfinite_findings())
        table = pd.DataFrame(table_rows)
        order = ["scenario", "result", "applicable", "passed", "rows", "worst_decision", "worst_change_pp",
                 "flip_rate", "flip_down", "flip_up", "score_base_mean", "score_stressed_mean",
                 "score_shift_mean", "score_shift_p05", "score_shift_p50", "score_shift_p95"]
        table = table[[c for c in order if c in table.columns] + [c for c in table.columns if c not in order]]
        rate_columns = ["scenario", "decision", "base_rate", "stressed_rate", "change_pp", "ci_low_pp",
                        "ci_high_pp", "limit_pp"]
        segment_columns = ["scenario", "segment_column", "segment", "rows", "decision", "base_rate",
                           "stressed_rate", "change_pp", "flip_rate"]
        return ScenarioRun(
            table=table,
            rates=pd.DataFrame(rate_rows, columns=rate_columns),
            segments=pd.DataFrame(segment_rows, columns=segment_columns),
            definitions=pd.DataFrame(definitions),
            findings=findings,
            labels=self.decision_labels,
            tolerance=self.tolerance,
            seed=self.seed,
            scenario_file=path,
            scenario_sha256=sha,
            confidence=self.confidence,
        )

    def _nonfinite_findings(self) -> list[Finding]:
        """A warning per feature holding infinities: they are scored as given, not shocked by quantile."""
        rows = len(self.population)
        return [
            Finding(
                check="non_finite_input",
                subject=column,
                severity="warning",
                message=f"feature {column} holds {_infinities(positive, negative)} of {rows:,} rows: left out of "
                "its reference quantiles and scored as given",
                value=float(positive + negative),
                section=SECTIONS["scenarios"],
            )
            for column, (positive, negative) in self.nonfinite.items()
        ]

    def _scenario_finding(
        self, scenario: ResolvedScenario, worst: Mapping[str, Any], breaches: Sequence[str]
    ) -> Finding:
        level = int(round(100 * self.confidence))
        move = (
            f"{worst['decision']} rate {worst['change_pp']:+.1f} pp "
            f"({level}% CI {worst['ci_low_pp']:+.1f} to {worst['ci_high_pp']:+.1f}; "
            f"{100 * worst['base_rate']:.1f}% -> {100 * worst['stressed_rate']:.1f}%; "
            f"limit ±{scenario.tolerance.limit_pp(worst['decision']):g} pp)"
        )
        if breaches:
            message = f"scenario '{scenario.name}' breaks tolerance: {move}"
            if len(breaches) > 1:
                message += f"; also {'; '.join(breaches[1:])}"
        else:
            message = f"scenario '{scenario.name}' within tolerance: largest move {move}"
        return Finding(
            check="stress_scenario",
            subject=scenario.name,
            severity="warning" if breaches else "ok",
            message=message,
            value=abs(worst["change_pp"]),
            threshold=scenario.tolerance.limit_pp(worst["decision"]),
            method=f"paired Wald {level}% CI on the same rows scored twice; point estimate vs tolerance",
            section=SECTIONS["scenarios"],
        )

    # ------------------------------------------------------------ sweeps

    def families_for(self, feature: str, families: Sequence[str] | None = None) -> list[str]:
        """Shock families that apply to ``feature`` (by its dtype)."""
        numeric = is_numeric(self.population[feature])
        default = NUMERIC_FAMILIES if numeric else CATEGORICAL_FAMILIES
        chosen = list(families) if families is not None else list(default)
        if numeric:
            return [f for f in chosen if f not in ("category_remap", "category_reweight")]
        return [f for f in chosen if f not in _NUMERIC_KINDS]

    def shocked(self, feature: str, family: str, magnitude: float) -> dict[str, Any]:
        """Rates, flip rate and mean score shift with one feature shocked.

        Seeded by feature and family (not magnitude), so share-based shocks at
        a larger share hit a superset of the rows hit at a smaller one. Cached.
        """
        key = (feature, family, float(magnitude))
        if key in self._memo:
            return self._memo[key]
        if magnitude == 0:
            result = {
                "rates": self.base_rates.copy(),
                "flip_rate": 0.0,
                "score_shift_mean": 0.0,
            }
        else:
            shock = Shock(kind=family, column=feature).with_magnitude(magnitude)
            self._extend_reference([feature])
            name = f"{feature} {family} {magnitude:+g}"
            stressed = apply_scenario(
                self.population, [shock], self.reference, seed=self.seed, key=f"sweep:{feature}:{family}"
            )
            scores, codes = self._evaluate(stressed, name)
            result = {
                "rates": np.bincount(codes, minlength=len(self.decision_labels)) / len(codes),
                "flip_rate": float(np.mean(codes != self.codes)),
                "score_shift_mean": float(np.mean(scores - self.scores)),
            }
        self._memo[key] = result
        return result

    def _breach(self, result: Mapping[str, Any], tolerance: Tolerance) -> tuple[bool, int]:
        changes = 100 * (result["rates"] - self.base_rates)
        breaches = tolerance.breaches(self.decision_labels, result["rates"], changes, result["flip_rate"])
        worst = int(np.argmax(np.abs(changes)))
        return bool(breaches), worst

    def sensitivity(
        self,
        features: Sequence[str],
        *,
        families: Sequence[str] | None = None,
        grids: Mapping[str, Sequence[float]] | None = None,
        tolerance: Tolerance | None = None,
    ) -> pd.DataFrame:
        """Sensitivity curves: one row per feature, family, magnitude and decision.

        Each feature is shocked alone over the family's grid (plus 0, the
        baseline); ``breaks`` marks magnitudes where the tolerance fails.
        """
        tolerance = tolerance or self.tolerance
        grids = {**DEFAULT_GRIDS, **(grids or {})}
        rows = []
        for feature in features:
            for family in self.families_for(feature, families):
                if family not in grids:
                    raise ParameterError(f"no magnitude grid for shock family {family!r}", name="grids")
                for magnitude in sorted({0.0, *map(float, grids[family])}):
                    result = self.shocked(feature, family, magnitude)
                    breaks, _ = self._breach(result, tolerance)
                    for code, label in enumerate(self.decision_labels):
                        rows.append(
                            {
                                "feature": feature,
                                "family": family,
                                "magnitude": magnitude,
                                "decision": label,
                                "base_rate": float(self.base_rates[code]),
                                "rate": float(result["rates"][code]),
                                "change_pp": 100 * float(result["rates"][code] - self.base_rates[code]),
                                "flip_rate": result["flip_rate"],
                                "score_shift_mean": result["score_shift_mean"],
                                "breaks": breaks,
                            }
                        )
        return pd.DataFrame(rows)

    def reverse_stress(
        self,
        features: Sequence[str],
        *,
        families: Sequence[str] | None = None,
        grids: Mapping[str, Sequence[float]] | None = None,
        precision: float | Mapping[str, float] = DEFAULT_PRECISION,
        tolerance: Tolerance | None = None,
        fragile_at: float = FRAGILE_AT,
    ) -> ReverseResult:
        """Smallest shock per feature, family and direction that breaks the tolerance.

        The family's grid (the plausible range) is scanned outwards from 0; the
        first breaking grid point and the point before it bracket the break,
        and bisection narrows the bracket until it is at most ``precision``
        wide. ``magnitude`` is the bracket's outer end: the smallest shock
        found to break. Assumes the effect does not cross the tolerance and
        back between adjacent grid points. Features that never break within
        the grid say so. Breaks at or below ``fragile_at`` are warnings.
        """
        tolerance = tolerance or self.tolerance
        grids = {**DEFAULT_GRIDS, **(grids or {})}
        rows, findings = [], []
        for feature in features:
            for family in self.families_for(feature, families):
                step = precision[family] if isinstance(precision, Mapping) else float(precision)
                grid = [float(m) for m in grids[family]]
                directions = [("down", -1.0), ("up", 1.0)] if family in _SIGNED else [("up", 1.0)]
                for direction, sign in directions:
                    points = sorted(abs(m) for m in grid if m * sign > 0)
                    if not points:
                        continue
                    row = self._bisect(feature, family, direction, sign, points, step, tolerance)
                    rows.append(row)
                    if row["breaks"]:
                        findings.append(self._reverse_finding(row, fragile_at))
        columns = ["feature", "family", "direction", "breaks", "magnitude", "bracket_low", "bracket_high",
                   "precision", "decision", "base_rate", "rate", "change_pp", "searched_to", "evaluations", "note"]
        table = pd.DataFrame(rows, columns=columns)
        never = table[~table["breaks"].astype(bool)] if len(table) else table
        if len(never):
            findings.append(
                Finding(
                    check="reverse_stress",
                    subject="never breaks",
                    severity="ok",
                    message=(
                        f"{len(never)} of {len(table)} feature/shock combinations never break the "
                        f"tolerance within the plausible range"
                    ),
                    method=_REVERSE_METHOD,
                    section=SECTIONS["reverse"],
                )
            )
        return ReverseResult(table=table, findings=findings, method=_REVERSE_METHOD)

    def _bisect(
        self,
        feature: str,
        family: str,
        direction: str,
        sign: float,
        points: Sequence[float],
        step: float,
        tolerance: Tolerance,
    ) -> dict[str, Any]:
        evaluations = 0
        low = 0.0
        high = None
        for point in points:
            evaluations += 1
            breaks, _ = self._breach(self.shocked(feature, family, sign * point), tolerance)
            if breaks:
                high = point
                break
            low = point
        base = {"feature": feature, "family": family, "direction": direction, "precision": step,
                "searched_to": sign * points[-1]}
        if high is None:
            return {**base, "breaks": False, "magnitude": math.nan, "bracket_low": math.nan,
                    "bracket_high": math.nan, "decision": "", "base_rate": math.nan, "rate": math.nan,
                    "change_pp": math.nan, "evaluations": evaluations,
                    "note": f"never breaks within {_format_magnitude(family, sign * points[-1])}"}
        while high - low > step:
            middle = (low + high) / 2
            evaluations += 1
            breaks, _ = self._breach(self.shocked(feature, family, sign * middle), tolerance)
            if breaks:
                high = middle
            else:
                low = middle
        result = self.shocked(feature, family, sign * high)
        _, worst = self._breach(result, tolerance)
        return {**base, "breaks": True, "magnitude": sign * high, "bracket_low": sign * low,
                "bracket_high": sign * high, "decision": self.decision_labels[worst],
                "base_rate": float(self.base_rates[worst]), "rate": float(result["rates"][worst]),
                "change_pp": 100 * float(result["rates"][worst] - self.base_rates[worst]),
                "evaluations": evaluations, "note": ""}

    def _reverse_finding(self, row: Mapping[str, Any], fragile_at: float) -> Finding:
        fragile = abs(row["magnitude"]) <= fragile_at
        verb = "falls" if row["change_pp"] < 0 else "rises"
        return Finding(
            check="reverse_stress",
            subject=f"{row['feature']} {row['family']} {row['direction']}",
            severity="warning" if fragile else "ok",
            message=(
                f"{row['decision']} rate {verb} to {100 * row['rate']:.1f}% "
                f"({row['change_pp']:+.1f} pp) at {row['feature']} "
                f"{_format_magnitude(row['family'], row['magnitude'])}"
                f"{' (fragile: within ' + format(fragile_at, 'g') + ')' if fragile else ''}"
            ),
            value=abs(row["magnitude"]),
            threshold=fragile_at,
            method=_REVERSE_METHOD,
            section=SECTIONS["reverse"],
        )


_REVERSE_METHOD = (
    "grid scan outwards from 0 over the plausible range, then bisection of the first breaking "
    "interval to the stated precision; magnitude = smallest shock found to break"
)


def _format_magnitude(family: str, magnitude: float) -> str:
    """A shock size in words: ``-18%``, ``+0.10 quantiles``, ``25% missing``."""
    if family == "relative":
        return f"{100 * magnitude:+.1f}%".replace(".0%", "%")
    if family == "quantile_shift":
        return f"{magnitude:+.3f} quantiles"
    if family == "set_missing":
        return f"{100 * magnitude:.1f}% missing".replace(".0%", "%")
    if family == "category_remap":
        return f"{100 * magnitude:.1f}% remapped to an unseen category".replace(".0%", "%")
    if family == "noise":
        return f"noise {magnitude:g} sd"
    return f"{family} {magnitude:+g}"


# ---------------------------------------------------------------- monotonicity


#: Largest decision-rate move allowed when neither a parameter nor the spec sets one.
DEFAULT_TOLERANCE_PP = 5.0


def run_tolerance(spec: ModelSpec | None, tolerance_pp: float = 0.0) -> Tolerance:
    """The run's tolerance: the spec's ``[thresholds.stress]`` table, with ``tolerance_pp`` (when > 0) on top.

    The table takes the keys of a scenario file's ``[tolerance]``
    (``max_rate_change_pp``, a number or a table per decision label;
    ``max_flip_rate``; ``min_rate`` and ``max_rate`` per label, as shares).
    ``tolerance_pp`` replaces only ``max_rate_change_pp``; with neither, it is
    :data:`DEFAULT_TOLERANCE_PP`. A scenario file's own tables still take
    precedence over the result, per file and per scenario.
    """
    if not isinstance(tolerance_pp, (int, float)) or isinstance(tolerance_pp, bool) or not math.isfinite(tolerance_pp) \
            or tolerance_pp < 0:
        raise ParameterError(
            f"parameter 'tolerance_pp': {tolerance_pp!r}; expected a number of percentage points > 0, "
            "or 0 for the model spec's [thresholds.stress] (else 5)",
            name="tolerance_pp",
        )
    tolerance = Tolerance(max_rate_change_pp=DEFAULT_TOLERANCE_PP)
    table = (spec.thresholds.get("stress") if spec is not None else None)
    if table is not None:
        try:
            tolerance = parse_tolerance(table, context=f"{spec.source} [thresholds.stress]", base=tolerance)
        except ScenarioError as exc:
            raise SpecError(str(exc), path=spec.source, key="thresholds.stress") from None
    if tolerance_pp > 0:
        tolerance = replace(tolerance, max_rate_change_pp=float(tolerance_pp))
    return tolerance


def declared_monotone(
    monotone: Mapping[str, str], spec: ModelSpec | None, setup: Any = None,
) -> dict[str, str]:
    """Monotone declarations: the parameter's, else the spec's ``[monotone]``, else the model setup's."""
    for source, declared in (("parameter 'monotone'", monotone), ("model spec", spec.monotone if spec else {}),
                             ("model", getattr(setup, "monotone", None) or {})):
        if declared:
            bad = {k: v for k, v in declared.items() if v not in ("increasing", "decreasing")}
            if bad:
                raise ParameterError(
                    f"{source}: {bad}; each feature must be 'increasing' or 'decreasing'", name="monotone",
                )
            return dict(declared)
    return {}


def monotonicity(
    model: Model,
    frame: pd.DataFrame,
    spec: Mapping[str, str],
    *,
    reference: pd.DataFrame | None = None,
    sample_rows: int = 200,
    grid_points: int = 21,
    tolerance: float = 0.01,
    seed: int = 0,
    max_examples: int = 3,
    id_column: str | None = None,
) -> MonotonicityResult:
    """Check declared monotone features with ICE curves.

    ``spec`` maps a feature to "increasing" (the score never falls as the
    feature rises) or "decreasing". For each feature, ``sample_rows`` rows
    (seeded) are scored with the feature set to each point of a grid of
    reference quantiles (type 7, at ``grid_points`` probabilities from 1% to
    99%, distinct values only; integer columns rounded). A row violates when
    its score moves against the declared direction by more than ``tolerance``
    (absolute score units) between adjacent grid points.
    """
    reference = frame if reference is None else reference
    rng = _rng(seed, "monotonicity")
    count = min(sample_rows, len(frame))
    index = np.sort(rng.choice(len(frame), size=count, replace=False))
    sample = frame.iloc[index]
    rows, examples, findings, curves = [], [], [], {}
    for feature, direction in spec.items():
        if direction not in ("increasing", "decreasing"):
            raise ParameterError(
                f"monotone direction for {feature!r} must be 'increasing' or 'decreasing', got {direction!r}",
                name="monotone",
            )
        if feature not in frame.columns:
            raise DataError(f"monotone feature {feature!r} is not in the data", column=feature)
        if not is_numeric(frame[feature]):
            raise DataError(f"monotone feature {feature!r} must be numeric", column=feature)
        values = reference[feature].dropna().to_numpy(dtype="float64")
        grid = np.quantile(values, np.linspace(0.01, 0.99, grid_points))
        if pd.api.types.is_integer_dtype(frame[feature].dtype):
            grid = np.rint(grid)
        grid = np.unique(grid)
        repeated = sample.iloc[np.repeat(np.arange(count), len(grid))].reset_index(drop=True)
        column = np.tile(grid, count)
        if pd.api.types.is_integer_dtype(frame[feature].dtype):
            repeated[feature] = pd.array(column.astype("int64"), dtype=frame[feature].dtype)
        else:
            repeated[feature] = column
        ice = model.score(repeated, scenario=f"monotonicity: {feature} ICE").reshape(count, len(grid))
        steps = np.diff(ice, axis=1)
        against = -steps if direction == "increasing" else steps
        violation = against > tolerance
        violating_rows = violation.any(axis=1)
        curves[feature] = (grid, ice, violating_rows)
        worst = against.max() if against.size else 0.0
        rows.append(
            {
                "feature": feature,
                "direction": direction,
                "rows_checked": count,
                "grid_points": len(grid),
                "rows_violating": int(violating_rows.sum()),
                "share_violating": float(violating_rows.mean()) if count else math.nan,
                "largest_violation": float(max(worst, 0.0)),
                "verdict": "violated" if violating_rows.any() else "holds",
            }
        )
        if violating_rows.any():
            per_row = np.where(violation, against, -np.inf)
            order = np.argsort(-per_row.max(axis=1), kind="stable")[: min(max_examples, int(violating_rows.sum()))]
            for r in order:
                j = int(np.argmax(per_row[r]))
                examples.append(
                    {
                        "feature": feature,
                        "row": sample[id_column].iloc[r] if id_column else int(sample.index[r]),
                        "from_value": float(grid[j]),
                        "to_value": float(grid[j + 1]),
                        "score_from": float(ice[r, j]),
                        "score_to": float(ice[r, j + 1]),
                        "move_against": float(against[r, j]),
                    }
                )
            moved = "falls" if direction == "increasing" else "rises"
            message = (
                f"{feature}: score {moved} as {feature} rises for {violating_rows.mean():.0%} of "
                f"{count} sampled rows (largest {worst:.3f}); declared {direction}"
            )
        else:
            message = f"{feature}: {direction} as declared on all {count} sampled rows"
        findings.append(
            Finding(
                check="monotonicity",
                subject=feature,
                severity="warning" if violating_rows.any() else "ok",
                message=message,
                value=float(violating_rows.mean()) if count else None,
                threshold=0.0,
                method=_monotonicity_method(count, grid_points, tolerance),
                section=SECTIONS["monotonicity"],
            )
        )
    return MonotonicityResult(
        table=pd.DataFrame(
            rows,
            columns=["feature", "direction", "rows_checked", "grid_points", "rows_violating",
                     "share_violating", "largest_violation", "verdict"],
        ),
        examples=pd.DataFrame(
            examples,
            columns=["feature", "row", "from_value", "to_value", "score_from", "score_to", "move_against"],
        ),
        curves=curves,
        findings=findings,
        method=_monotonicity_method(count, grid_points, tolerance),
        tolerance=tolerance,
    )


def _monotonicity_method(rows: int, points: int, tolerance: float) -> str:
    return (
        f"ICE curves on {rows} seeded sample rows over {points} reference quantiles (1%-99%, type 7); "
        f"violation = score moving against the declared direction by more than {tolerance:g} "
        "between adjacent grid points"
    )


# ---------------------------------------------------------------- summary


def stress_headline(
    run: ScenarioRun,
    reverse: ReverseResult | None = None,
    monotone: MonotonicityResult | None = None,
) -> str:
    """One sentence: scenarios breaking tolerance, then the smallest breaking shock.

    Example: "2 of 14 scenarios break tolerance (worst: 'X', approve -9.1 pp);
    approve rate falls to 52.0% at income -18% (reverse stress)".
    """
    applicable = run.table[run.table["applicable"].astype(bool)]
    failing = applicable[applicable["result"] == "fail"]
    parts = []
    if len(failing):
        worst = failing.loc[failing["worst_change_pp"].abs().idxmax()]
        parts.append(
            f"{len(failing)} of {len(applicable)} scenarios break tolerance (worst: '{worst['scenario']}', "
            f"{worst['worst_decision']} {worst['worst_change_pp']:+.1f} pp)"
        )
    else:
        parts.append(f"all {len(applicable)} applicable scenarios within tolerance")
    table = reverse.table if reverse is not None else None
    if table is not None and len(table) and table["breaks"].astype(bool).any():
        broken = table[table["breaks"].astype(bool)].copy()
        # Prefer relative shocks (easiest to read), smallest magnitude first.
        broken["_order"] = (broken["family"] != "relative").astype(int)
        broken["_size"] = broken["magnitude"].abs()
        first = broken.sort_values(["_order", "_size", "feature"]).iloc[0]
        verb = "falls" if first["change_pp"] < 0 else "rises"
        parts.append(
            f"{first['decision']} rate {verb} to {100 * first['rate']:.1f}% at {first['feature']} "
            f"{_format_magnitude(first['family'], first['magnitude'])}"
        )
    if monotone is not None and len(monotone.table):
        violated = monotone.table[monotone.table["verdict"] == "violated"]
        if len(violated):
            parts.append(f"monotonicity violated for {', '.join(violated['feature'])}")
    return "; ".join(parts)


def stress_summary(
    run: ScenarioRun,
    *,
    reverse: ReverseResult | None = None,
    monotone: MonotonicityResult | None = None,
    inputs: Sequence[Mapping[str, Any]] = (),
    model: str = "",
    rule: DecisionRule | ModelDecisions | None = None,
    methods: Mapping[str, str] | None = None,
    metrics: Mapping[str, Any] | None = None,
    spec: ModelSpec | None = None,
) -> Summary:
    """The stress report's :class:`~mlreport.findings.Summary`.

    The scenario file's path and sha256 go into ``inputs`` and, with the seed,
    into ``metrics`` so that ``run.json`` records what was run; the model
    spec's thresholds version (``default`` without one) goes with the tolerance.
    """
    if spec is not None and spec.model:
        model = spec.model  # the spec names the model: its stress, drift and volume reports share a folder
    findings = list(run.findings)
    if reverse is not None:
        findings.extend(reverse.findings)
    if monotone is not None:
        findings.extend(monotone.findings)
    headline_body = stress_headline(run, reverse, monotone)
    status = "ok"
    for finding in findings:
        if finding.severity == "incident":
            status = "incident"
        elif finding.severity == "warning" and status == "ok":
            status = "warning"
    word = {"ok": "Healthy", "warning": "Warning", "incident": "Incident"}[status]
    all_inputs = list(inputs)
    if run.scenario_file:
        all_inputs.append({"name": "scenarios", "path": run.scenario_file, "sha256": run.scenario_sha256,
                           "hash_of": "text"})
    all_methods = {
        "decision rates": "paired Wald CI for the change in a proportion measured twice on the same rows "
        f"({100 * run.confidence:g}% two-sided, normal quantile); pass/fail on point estimates",
        "flip rate": "share of rows whose decision label changes; down = towards a later (worse) label",
        "score shift": "stressed minus base score per row: mean and type-7 quantiles 5/50/95%",
        "AUC/Gini": "Mann-Whitney AUC on labelled rows, ties 1/2; Gini = 2 AUC - 1; calibration = mean score - default rate",
        "reverse stress": _REVERSE_METHOD,
        "scenario randomness": f"numpy default_rng([seed, crc32(scenario name)]), seed {run.seed}",
    }
    if rule is not None:
        all_methods["decision rule"] = rule.describe()
    if monotone is not None:
        all_methods["monotonicity"] = monotone.method
    all_methods.update(methods or {})
    all_metrics = {
        "seed": run.seed,
        "scenario_file": run.scenario_file,
        "scenario_sha256": run.scenario_sha256,
        "scenarios": int(len(run.table)),
        "scenarios_failing": int((run.table["result"] == "fail").sum()),
    }
    all_metrics.update(metrics or {})
    return summarize(
        "stress",
        findings,
        headline=f"{word}: {headline_body}.",
        inputs=all_inputs,
        thresholds={"tolerance": run.tolerance.to_dict(),
                    "version": spec.thresholds_version if spec is not None else "default"},
        methods=all_methods,
        metrics=all_metrics,
        model=model,
    )
