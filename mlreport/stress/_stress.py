"""Stress analysis: the model's decisions under extreme but plausible inputs.

:class:`StressTest` scores a population once (the baseline) and then under
each scenario, and reads out what changed. Its parts, one module each:

:mod:`~mlreport.stress`     scenario runs, their tables and findings
:mod:`~mlreport.stress`      what a scenario reads out; paired CI, AUC, loss model
:mod:`~mlreport.stress`   sensitivity curves
:mod:`~mlreport.stress`       reverse stress
:mod:`~mlreport.stress`  monotonicity of declared features (ICE)
:mod:`~mlreport.stress`    the population's label column, infinities, segments

This module builds the test (also from a notebook's parameters and model
spec: :meth:`StressTest.from_setup`, :func:`run_tolerance`,
:func:`declared_monotone`), ranks features by permutation importance, and
writes the headline and summary. Everything is seeded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, ParameterError, ScenarioError, SpecError
from ..findings import Summary, summarize
from ..spec import ModelSpec
from ._models import DecisionRule, Model, ModelDecisions
from ._monotonicity import MonotonicityResult, check_directions
from ._population import _infinities, _label_array, _nonfinite_counts, _rng, default_segments
from ._readouts import LossModel, roc_auc
from ._reverse import _REVERSE_METHOD, ReverseResult, _format_magnitude, _ReverseMethods
from ._scenario_run import ScenarioRun, _ScenarioMethods
from ._sensitivity import _SensitivityMethods
from .scenarios import Reference, Tolerance, is_numeric, parse_tolerance

__all__ = [
    "StressTest",
    "run_tolerance",
    "declared_monotone",
    "stress_headline",
    "stress_summary",
]


class StressTest(_ScenarioMethods, _SensitivityMethods, _ReverseMethods):
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
    ) -> StressTest:
        """A test from notebook parameters, "" / [] / 0 meaning "use what is known".

        ``setup`` is a :class:`~mlreport.stress.ModelSetup`; ``spec`` an optional
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

    def subsample(self, rows: int, *, seed: int | None = None) -> StressTest:
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


# ---------------------------------------------------------------- run settings


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
            check_directions(declared, source)
            return dict(declared)
    return {}


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
        "scenarios": len(run.table),
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
