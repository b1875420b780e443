"""Scenario runs: each scenario of a suite applied to the population, scored again and read out.

The readouts are listed in :mod:`~mlreport.stress`. :class:`ScenarioRun`
holds their tables, findings and provenance; the methods that compute them are
part of :class:`~mlreport.stress.StressTest`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..findings import Finding
from ._population import _infinities
from ._readouts import SECTIONS, paired_rate_change, roc_auc
from .scenarios import ResolvedScenario, ScenarioSuite, Tolerance, apply_scenario, resolve

__all__ = ["ScenarioRun"]


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


class _ScenarioMethods:
    """Scenario runs: part of :class:`~mlreport.stress.StressTest`, compared with its baseline."""

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
