"""The stress report's headline and summary: what the scenarios, reverse stress and monotonicity found.

:func:`stress_summary` builds the :class:`~mlreport.findings.Summary` the
notebook publishes, with the provenance a replication needs (the scenario
file's path and sha256, the seed, the tolerance and the model spec's
thresholds version).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..findings import Finding, Summary, summarize
from ..spec import ModelSpec
from ._models import DecisionRule, ModelDecisions
from ._monotonicity import MonotonicityResult
from ._reverse import REVERSE_METHOD, ReverseResult, format_magnitude
from ._scenario_run import SCORING_METHOD, UNSCORABLE, ScenarioRun

__all__ = ["stress_headline", "stress_summary"]


def stress_headline(
    run: ScenarioRun,
    reverse: ReverseResult | None = None,
    monotone: MonotonicityResult | None = None,
) -> str:
    """One sentence: scenarios breaking tolerance, then the smallest breaking shock.

    Example: "2 of 14 scenarios break tolerance (worst: 'X', approve -9.1 pp);
    approve rate falls to 52.0% at income -18% (reverse stress)". Scenarios
    the model cannot score come first: "the model cannot score 1 of 15
    scenarios (first: 'Bureau outage', 2,000 of 20,000 rows); ...".
    """
    applicable = run.table[run.table["applicable"].astype(bool)]
    unscorable = applicable[applicable["result"] == UNSCORABLE]
    scored = applicable[applicable["result"] != UNSCORABLE]
    failing = scored[scored["result"] == "fail"]
    parts = []
    if len(unscorable):
        first = unscorable.iloc[0]
        parts.append(
            f"the model cannot score {len(unscorable)} of {len(applicable)} scenarios (first: '{first['scenario']}', "
            f"{int(first['unscored_rows']):,} of {int(first['rows']):,} rows)"
        )
    if len(failing):
        worst = failing.iloc[int(failing["worst_change_pp"].abs().argmax())]
        parts.append(
            f"{len(failing)} of {len(scored)} scenarios break tolerance (worst: '{worst['scenario']}', "
            f"{worst['worst_decision']} {worst['worst_change_pp']:+.1f} pp)"
        )
    else:
        parts.append(f"all {len(scored)} {'scored' if len(unscorable) else 'applicable'} scenarios within tolerance")
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
            f"{format_magnitude(first['family'], first['magnitude'])}"
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
    notes: Sequence[Finding] = (),
) -> Summary:
    """The stress report's :class:`~mlreport.findings.Summary`.

    The scenario file's path and sha256 go into ``inputs`` (unless ``inputs``
    already records them) and, with the seed, into ``metrics`` so that
    ``run.json`` records what was run; the model
    spec's thresholds version (``default`` without one) goes with the tolerance.
    ``notes`` are further findings, such as the sensitivity sweep's shocks the
    model could not score (:meth:`~mlreport.stress.SensitivitySweep.unscorable_findings`).
    """
    if spec is not None and spec.model:
        model = spec.model  # the spec names the model: its stress, drift and volume reports share a folder
    findings = list(run.findings)
    if reverse is not None:
        findings.extend(reverse.findings)
    if monotone is not None:
        findings.extend(monotone.findings)
    findings.extend(notes)
    headline_body = stress_headline(run, reverse, monotone)
    status = "ok"
    for finding in findings:
        if finding.severity == "incident":
            status = "incident"
        elif finding.severity == "warning" and status == "ok":
            status = "warning"
    word = {"ok": "Healthy", "warning": "Warning", "incident": "Incident"}[status]
    all_inputs = list(inputs)
    if run.scenario_file and not any(item.get("name") == "scenarios" for item in all_inputs):
        # Not recorded by the caller's input log (load_scenarios(..., log=...) records it): recorded here.
        all_inputs.append({"name": "scenarios", "path": run.scenario_file, "sha256": run.scenario_sha256,
                           "hash_of": run.scenario_hash_of})
    all_methods = {
        "decision rates": "paired Wald CI for the change in a proportion measured twice on the same rows "
        f"({100 * run.confidence:g}% two-sided, normal quantile); pass/fail on point estimates",
        "flip rate": "share of rows whose decision label changes; down = towards a later (worse) label",
        "score shift": "stressed minus base score per row: mean and type-7 quantiles 5/50/95%",
        "AUC/Gini": "Mann-Whitney AUC on labelled rows, ties 1/2; Gini = 2 AUC - 1; "
        "calibration = mean score - default rate",
        "reverse stress": REVERSE_METHOD,
        "scenario randomness": f"numpy default_rng([seed, crc32(scenario name)]), seed {run.seed}",
        "rows the model cannot score": SCORING_METHOD,
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
        "scenarios_unscorable": int((run.table["result"] == UNSCORABLE).sum()),
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
