"""Scenario runs: each scenario of a suite applied to the population, scored again and read out.

:class:`ScenarioRunner` takes a :class:`~mlreport.stress.Population` (the
baseline) and evaluates scenarios against it, row by row; what it reads out is
described in :mod:`mlreport.stress._readouts`. :class:`ScenarioRun` holds the
readouts' tables, findings and provenance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..findings import Finding
from ..tables import format_change
from ._population import Codes, Population, Scores, infinities
from ._readouts import SECTIONS, paired_rate_change, roc_auc
from ._scoring import ScoringFailure, rows_text
from .scenarios import ResolvedScenario, ScenarioSuite, Tolerance, apply_scenario, resolve

__all__ = ["ScenarioRun", "ScenarioReadout", "ScenarioRunner", "UNSCORABLE", "SCORING_METHOD"]

#: The result of a scenario the model cannot score for some of its rows.
UNSCORABLE = "cannot score"

#: How rows the model cannot score are found, for findings and method notes.
SCORING_METHOD = (
    "every batch's scores checked: a batch that raises or returns the wrong count or non-numbers fails as a whole, "
    "a NaN or infinite score (or, with the model's own decisions, a missing or unknown label) fails its row; "
    "any row failed (threshold 0) is a finding"
)


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
    scenario_hash_of: str = "text"

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
        return table[~table["result"].isin(["n/a", UNSCORABLE])].round(4)

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

    def _by_impact(self) -> list[dict[str, Any]]:
        """Scenario records, failing first, then by impact; not applicable last.

        Impact is the larger of the rate move and the expected-loss change, each
        in multiples of its tolerance (so 10 pp against a 5 pp limit and +40%
        loss against a 20% limit weigh the same).
        """
        tolerance = self.tolerance
        loss_limit = tolerance.max_loss_increase_pct or math.inf

        def impact(record: dict[str, Any]) -> tuple[int, float]:
            if not record["applicable"]:
                return (2, 0.0)
            if record["result"] == UNSCORABLE:  # no rates to weigh: after the failures, before the passes
                return (1, -math.inf)
            limit = tolerance.limit_pp(str(record["worst_decision"])) or math.inf
            change = float(record["worst_change_pp"])
            rate = abs(change) / limit if math.isfinite(change) else 0.0
            loss_change = float(record.get("expected_loss_change_pct") or 0.0)
            loss = abs(loss_change) / loss_limit if math.isfinite(loss_change) else 0.0
            return (0 if record["result"] == "fail" else 1, -max(rate, loss))

        records = [{str(k): v for k, v in r.items()} for r in self.table.to_dict("records")]
        return sorted(records, key=impact)

    def display_table(self) -> pd.DataFrame:
        """A compact, rounded table for the report: one row per scenario."""
        intervals = {
            (rate["scenario"], rate["decision"]):
                f"{rate['change_pp']:+.1f} ({rate['ci_low_pp']:+.1f}, {rate['ci_high_pp']:+.1f})"
            for rate in self.rates.to_dict("records")
        }
        rows = []
        loss = "expected_loss_change_pct" in self.table.columns
        for record in self._by_impact():
            applicable = bool(record["applicable"]) and record["result"] != UNSCORABLE
            row: dict[str, Any] = {"scenario": record["scenario"], "result": record["result"]}
            for label in self.labels:
                interval = intervals.get((record["scenario"], label)) if applicable else None
                row[f"{label} Δ pp (95% CI)"] = interval or ""
            if loss:
                # Expected loss beside the rates: a decision maker weighs both.
                change = record.get("expected_loss_change_pct")
                row["expected loss Δ"] = format_change(change / 100) if applicable and change is not None else ""
            row["flip rate %"] = round(100 * record["flip_rate"], 1) if applicable else None
            row["mean score shift"] = round(record["score_shift_mean"], 4) if applicable else None
            row["hardest hit"] = record["hardest_hit"]
            row["why"] = record["reasons"] or record["notes"]
            rows.append(row)
        return pd.DataFrame(rows)


class RateChange(TypedDict):
    """One decision label's rate before and after a scenario, with its paired interval (pp)."""

    decision: str
    base_rate: float
    stressed_rate: float
    change_pp: float
    ci_low_pp: float
    ci_high_pp: float


class SegmentChange(TypedDict):
    """A segment hit by a scenario: its first label's rate before and after."""

    scenario: str
    segment_column: str
    segment: str
    rows: int
    decision: str
    base_rate: float
    stressed_rate: float
    change_pp: float
    flip_rate: float


@dataclass
class ScenarioReadout:
    """What one scenario changed on the rows it applies to.

    ``rates`` has one :class:`RateChange` per decision label; ``measures`` the
    flip rates, score shift quantiles and, when available, AUC, Gini,
    calibration and expected loss (in the run table's column order);
    ``segments`` the segments hit hardest. When the model cannot score some
    of the stressed rows, ``failure`` says why and ``unscored`` which rows
    (positions in the population), and there are no readouts: rates on the
    rows that could be scored would leave out the very rows the scenario hit.
    """

    rows: int
    rates: list[RateChange]
    measures: dict[str, float]
    segments: list[SegmentChange]
    failure: ScoringFailure | None = None
    unscored: npt.NDArray[np.intp] | None = None


class ScenarioRunner:
    """Evaluates scenarios against a :class:`~mlreport.stress.Population`'s baseline.

    ``confidence`` is the level of the paired intervals; the ``top_segments``
    segments whose first-label rate moves most (among those with at least
    ``min_segment_rows`` rows) are reported per scenario.
    """

    def __init__(
        self,
        population: Population,
        *,
        confidence: float = 0.95,
        top_segments: int = 3,
        min_segment_rows: int = 30,
    ) -> None:
        self.population = population
        self.confidence = confidence
        self.top_segments = top_segments
        self.min_segment_rows = min_segment_rows

    def _readouts(
        self,
        base_index: npt.NDArray[np.intp],
        stressed: pd.DataFrame,
        scores: Scores,
        codes: Codes,
    ) -> tuple[list[RateChange], dict[str, float]]:
        population = self.population
        base_scores = population.scores[base_index]
        base_codes = population.codes[base_index]
        rates: list[RateChange] = []
        for code, label in enumerate(population.decision_labels):
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
        out: dict[str, float] = {}
        out["flip_rate"] = float(np.mean(codes != base_codes))
        out["flip_down"] = float(np.mean(codes > base_codes))
        out["flip_up"] = float(np.mean(codes < base_codes))
        shift = scores - base_scores
        out["score_base_mean"] = float(base_scores.mean())
        out["score_stressed_mean"] = float(scores.mean())
        out["score_shift_mean"] = float(shift.mean())
        q05, q50, q95 = np.quantile(shift, [0.05, 0.5, 0.95])
        out.update(score_shift_p05=float(q05), score_shift_p50=float(q50), score_shift_p95=float(q95))
        if population.label_values is not None:
            labels = population.label_values[base_index]
            known = ~np.isnan(labels)
            y = labels[known].astype(np.int8)
            higher_riskier = getattr(population.rule, "higher_is_riskier", True)
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
        if population.loss is not None:
            base_frame = population.frame.iloc[base_index]
            out["expected_loss_base"] = self._expected_loss(base_frame, base_scores, base_codes, base_index)
            out["expected_loss_stressed"] = self._expected_loss(stressed, scores, codes, base_index)
            base_loss = out["expected_loss_base"]
            out["expected_loss_change_pct"] = (
                100 * (out["expected_loss_stressed"] / base_loss - 1) if base_loss else math.nan
            )
        return rates, out

    def _expected_loss(
        self, frame: pd.DataFrame, scores: Scores, codes: Codes, base_index: npt.NDArray[np.intp]
    ) -> float:
        population = self.population
        loss = population.loss
        assert loss is not None
        labels = population.decision_labels
        accept = loss.accept or labels[:1]
        accepted = np.isin(codes, [labels.index(a) for a in accept])
        exposure = pd.to_numeric(frame[loss.exposure]).to_numpy(dtype="float64", na_value=np.nan)
        if isinstance(loss.lgd, str):
            lgd = pd.to_numeric(frame[loss.lgd]).to_numpy(dtype="float64", na_value=np.nan)
        else:
            lgd = np.full(len(frame), float(loss.lgd))
        if loss.pd == "score":
            probability = scores
        else:
            assert population.label_values is not None  # Population refuses pd="label" without labels
            probability = np.nan_to_num(population.label_values[base_index], nan=0.0)
        return float(np.nansum(np.where(accepted, probability * lgd * exposure, 0.0)))

    def _segment_rows(self, scenario: str, base_index: npt.NDArray[np.intp], codes: Codes) -> list[SegmentChange]:
        population = self.population
        rows: list[SegmentChange] = []
        focus = population.decision_labels[0]
        base_codes = population.codes[base_index]
        for column in population.segments:
            values = population.frame[column].iloc[base_index]
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

    def evaluate(self, scenario: ResolvedScenario) -> ScenarioReadout | None:
        """Readouts of one resolved scenario; None when its population filter matches no row.

        Rows the model cannot score under the scenario are a readout with a
        ``failure`` and no rates, not an error: the other scenarios still run.
        """
        population = self.population
        if scenario.population is not None:
            mask = scenario.population.mask(population.frame, context=f"scenario {scenario.name!r} population")
            base_index = np.flatnonzero(mask)
            frame = population.frame.iloc[base_index]
        else:
            base_index = np.arange(len(population.frame))
            frame = population.frame
        if len(base_index) == 0:
            return None
        reference = population.reference_for([s.column for s in scenario.shocks])
        stressed = apply_scenario(frame, scenario.shocks, reference, seed=population.seed, key=scenario.name)
        scores, codes, failure = population.try_evaluate(stressed, scenario.name)
        if failure is not None:
            return ScenarioReadout(rows=len(base_index), rates=[], measures={}, segments=[], failure=failure,
                                   unscored=base_index[failure.rows])
        rates, measures = self._readouts(base_index, stressed, scores, codes)
        return ScenarioReadout(
            rows=len(base_index), rates=rates, measures=measures,
            segments=self._segment_rows(scenario.name, base_index, codes),
        )

    def run(
        self,
        scenarios: ScenarioSuite | Sequence[ResolvedScenario],
        *,
        importance: Sequence[str] | None = None,
    ) -> ScenarioRun:
        """Evaluate every scenario of a suite; findings in section "Scenarios".

        A :class:`~mlreport.stress.scenarios.ScenarioSuite` is first resolved
        against the population, its features (``importance`` orders them for
        ``@top_*`` selectors) and its tolerance.
        """
        population = self.population
        path = sha = ""
        hash_of = "text"
        if isinstance(scenarios, ScenarioSuite):
            path, sha, hash_of = scenarios.path, scenarios.sha256, scenarios.hash_of
            scenarios = resolve(
                scenarios,
                frame=population.frame,
                features=population.features,
                importance=importance,
                tolerance=population.tolerance,
            )
        table_rows: list[dict[str, Any]] = []
        rate_rows: list[dict[str, Any]] = []
        segment_rows: list[SegmentChange] = []
        definitions: list[dict[str, str]] = []
        findings: list[Finding] = []
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
            readout = self.evaluate(scenario) if scenario.applicable else None
            if readout is None:
                reason = "; ".join(scenario.notes) or "the population filter matches no rows"
                row.update(result="n/a", passed=None, rows=0, unscored_rows=0, reasons="", notes=reason,
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
            if readout.failure is not None:
                finding = self._unscorable_finding(scenario, readout)
                failure = readout.failure
                row.update(result=UNSCORABLE, passed=None, rows=readout.rows, unscored_rows=failure.count,
                           reasons=f"the model cannot score {failure.count:,} of {readout.rows:,} rows: "
                           + "; ".join(failure.problems),
                           notes="; ".join(scenario.notes),
                           flip_rate=math.nan, score_shift_mean=math.nan, hardest_hit="", worst_decision="",
                           worst_change_pp=math.nan)
                table_rows.append(row)
                findings.append(finding)
                continue
            rates = readout.rates
            breaches = scenario.tolerance.breaches(
                [r["decision"] for r in rates],
                [r["stressed_rate"] for r in rates],
                [r["change_pp"] for r in rates],
                readout.measures["flip_rate"],
                readout.measures.get("expected_loss_change_pct"),
            )
            worst = max(rates, key=lambda r: abs(r["change_pp"]))
            row["rows"] = readout.rows
            row["unscored_rows"] = 0
            row.update(readout.measures)
            row.update(
                result="fail" if breaches else "pass",
                passed=not breaches,
                worst_decision=worst["decision"],
                worst_change_pp=worst["change_pp"],
                reasons="; ".join(breaches),
                notes="; ".join(n for n in (*scenario.notes, self._loss_note(readout)) if n),
                hardest_hit=", ".join(
                    f"{s['segment_column']}={s['segment']} {s['change_pp']:+.1f} pp" for s in readout.segments
                ),
            )
            table_rows.append(row)
            for rate in rates:
                rate_rows.append({"scenario": scenario.name, **rate,
                                  "limit_pp": scenario.tolerance.limit_pp(rate["decision"])})
            segment_rows.extend(readout.segments)
            findings.append(self._scenario_finding(scenario, worst, breaches, self._loss_note(readout)))
        findings.extend(self._nonfinite_findings())
        table = pd.DataFrame(table_rows)
        order = ["scenario", "result", "applicable", "passed", "rows", "unscored_rows", "worst_decision",
                 "worst_change_pp",
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
            labels=population.decision_labels,
            tolerance=population.tolerance,
            seed=population.seed,
            scenario_file=path,
            scenario_sha256=sha,
            confidence=self.confidence,
            scenario_hash_of=hash_of,
        )

    def _nonfinite_findings(self) -> list[Finding]:
        """A warning per feature holding infinities: they are scored as given, not shocked by quantile."""
        rows = len(self.population.frame)
        return [
            Finding(
                check="non_finite_input",
                subject=column,
                severity="warning",
                message=f"feature {column} holds {infinities(positive, negative)} of {rows:,} rows: left out of "
                "its reference quantiles and scored as given",
                value=float(positive + negative),
                section=SECTIONS["scenarios"],
            )
            for column, (positive, negative) in self.population.nonfinite.items()
        ]

    def _unscorable_finding(self, scenario: ResolvedScenario, readout: ScenarioReadout) -> Finding:
        """A warning: the model cannot score some of the scenario's rows (an integration risk)."""
        failure = readout.failure
        assert failure is not None and readout.unscored is not None
        return Finding(
            check="model_cannot_score",
            subject=scenario.name,
            severity="warning",
            message=(
                f"scenario '{scenario.name}': the model cannot score {failure.count:,} of {readout.rows:,} rows "
                f"({rows_text(readout.unscored)}): {'; '.join(failure.problems)}. Inputs like these would get no "
                "decision in production (an integration risk); the scenario's rates are not read out"
            ),
            value=float(failure.count),
            threshold=0.0,
            method=SCORING_METHOD,
            section=SECTIONS["scenarios"],
        )

    def _loss_note(self, readout: ScenarioReadout) -> str:
        """Why expected loss moved against intuition: it falls when fewer loans are approved, even if each is riskier.

        Empty unless the loss fell while the accepted share fell too; then it
        gives the change per approved loan (loss ratio over approval ratio),
        and says "because" only when that change is not a fall.
        """
        change = readout.measures.get("expected_loss_change_pct")
        loss = self.population.loss
        if loss is None or change is None or not math.isfinite(change) or change >= 0:
            return ""
        accept = set(loss.accept or self.population.decision_labels[:1])
        base = sum(r["base_rate"] for r in readout.rates if r["decision"] in accept)
        stressed = sum(r["stressed_rate"] for r in readout.rates if r["decision"] in accept)
        if not (base > 0 and 0 < stressed < base):
            return ""
        per_loan = 100 * ((1 + change / 100) / (stressed / base) - 1)
        approved = f"({100 * base:.1f}% -> {100 * stressed:.1f}%)"
        if per_loan < 0:
            # Not only fewer loans: each approved loan is expected to lose less too, so "because" would mislead.
            return (f"expected loss {change:+.1f}%: fewer loans are approved {approved} and per approved loan it "
                    f"changes {per_loan:+.1f}%")
        return (f"expected loss {change:+.1f}% because fewer loans are approved {approved}; per approved loan it "
                f"changes {per_loan:+.1f}%")

    def _scenario_finding(self, scenario: ResolvedScenario, worst: RateChange, breaches: Sequence[str],
                          loss_note: str = "") -> Finding:
        level = round(100 * self.confidence)
        move = (
            f"{worst['decision']} rate {worst['change_pp']:+.1f} pp "
            f"({level}% CI {worst['ci_low_pp']:+.1f} to {worst['ci_high_pp']:+.1f}; "
            f"{100 * worst['base_rate']:.1f}% -> {100 * worst['stressed_rate']:.1f}%; "
            f"limit ±{scenario.tolerance.limit_pp(worst['decision']):g} pp)"
        )
        if breaches:
            # The rate move leads unless expected loss broke its tolerance (then the loss leads, the move follows).
            loss_first = breaches[0].startswith("expected loss")
            lead = f"{breaches[0]}; {move}" if loss_first else move
            # The worst move's own reason is already in ``move``: Tolerance.breaches words it like this.
            worst_reason = (f"{worst['decision']} rate {worst['change_pp']:+.1f} pp "
                            f"(limit ±{scenario.tolerance.limit_pp(worst['decision']):g} pp)")
            others = [b for b in breaches[1:] if b != worst_reason]
            message = f"scenario '{scenario.name}' breaks tolerance: {lead}"
            if others:
                message += f"; also {'; '.join(others)}"
        else:
            message = f"scenario '{scenario.name}' within tolerance: largest move {move}"
        if loss_note:
            message += f"; {loss_note}"
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
