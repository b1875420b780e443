"""A run's key numbers as a Prometheus textfile, for node-exporter's textfile collector.

The collector (``node_exporter --collector.textfile.directory=DIR``) reads
every ``*.prom`` file of a folder at each scrape. Its conventions, followed here:

- one file per (model, analysis): ``mlreport_<model>_<analysis>.prom``; each run
  replaces its own file and no other, so the folder always holds the latest run
  of every monitored model;
- written atomically: a temporary file in the same folder whose name does not
  end in ``.prom`` (the collector ignores it), fsynced, then renamed over the old
  one, so a scrape never reads half a file;
- the text exposition format: ``# HELP`` and ``# TYPE`` once per family, then its
  samples; no sample timestamps (the collector refuses them; the run's end time
  is a metric, ``mlreport_run_finished_timestamp_seconds``);
- names: ``mlreport_`` prefix, snake_case, base units in the name (``_seconds``,
  ``_ratio``), every family a gauge (each file holds one run's values, which go
  up and down between runs); labels ``model`` and ``analysis`` on every sample,
  then what the number is about (``column``, ``severity``, ``decision``,
  ``window``). Label values are data (column names, model names): escaped as the
  format requires (backslash, double quote, newline), never used in a name.

A gauge per status (``mlreport_run_status{status="incident"} 1``, the others 0)
rather than a status code: an alert is ``mlreport_run_status{status="incident"} == 1``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..record import safe_name, write_text_atomic
from ._metrics import KeyMetric, key_metrics

__all__ = ["PROMETHEUS_FAMILIES", "prometheus_text", "textfile_name", "write_textfile"]


@dataclass(frozen=True)
class _Family:
    name: str
    help: str
    subject_label: str = ""
    extra: tuple[tuple[str, str], ...] = ()


_GENERIC = _Family(
    "mlreport_metric", "Other numeric metrics of the run's summary (run.json metrics), by metric name and subject.",
)

#: Key metric name -> the Prometheus family it is exported as.
PROMETHEUS_FAMILIES: dict[str, _Family] = {
    "status": _Family("mlreport_run_status", "1 for the status of the latest run (ok, warning, incident, failed), "
                      "0 for the other statuses.", "status"),
    "exit_code": _Family("mlreport_run_exit_code", "Exit code of the latest run: 0 healthy, 1 findings at or above "
                         "fail-on, 2 bad input, 3 the run failed."),
    "finished_timestamp_seconds": _Family("mlreport_run_finished_timestamp_seconds",
                                          "Unix time the latest run finished, in seconds."),
    "duration_seconds": _Family("mlreport_run_duration_seconds", "Wall-clock duration of the latest run, in seconds."),
    "findings": _Family("mlreport_run_findings", "Findings of the latest run by severity.", "severity"),
    "psi": _Family("mlreport_drift_psi", "Population stability index of each feature, current window against the "
                   "reference (reference-quantile bins for numbers, categories plus new for categories).", "column"),
    "ks": _Family("mlreport_drift_ks_statistic", "Two-sample Kolmogorov-Smirnov statistic D of each numeric feature, "
                  "current window against the reference (exact or binned, as the report states).", "column"),
    "missing_rate": _Family("mlreport_drift_missing_ratio", "Share of the current window's rows in which the column "
                            "is null, 0 to 1.", "column"),
    "rows": _Family("mlreport_input_rows", "Rows the latest run analysed (drift: the current window; volume: every "
                    "decision counted)."),
    "reference_rows": _Family("mlreport_reference_rows", "Rows of the reference the drift run compared against."),
    "volume_observed": _Family("mlreport_volume_decisions", "Decisions observed, overall, over the analysis window "
                               "or in its last complete period.", extra=(("window", "analysis"),)),
    "volume_last_observed": _Family("mlreport_volume_decisions", "", extra=(("window", "last_period"),)),
    "volume_expected": _Family("mlreport_volume_expected_decisions", "Decisions expected from the seasonal baseline, "
                               "overall, over the analysis window or in its last complete period.",
                               extra=(("window", "analysis"),)),
    "volume_last_expected": _Family("mlreport_volume_expected_decisions", "", extra=(("window", "last_period"),)),
    "decision_rate": _Family("mlreport_decision_rate_ratio", "Share of decisions with each label, 0 to 1, over the "
                             "analysis window or the baseline.", "decision", (("window", "analysis"),)),
    "decision_rate_baseline": _Family("mlreport_decision_rate_ratio", "", "decision", (("window", "baseline"),)),
    "volume_flags": _Family("mlreport_volume_flagged_periods", "Series-periods whose volume was flagged, by "
                            "severity.", "severity"),
    "rate_flags": _Family("mlreport_decision_rate_flagged_periods", "Decision-rate periods flagged, by severity.",
                          "severity"),
    "mix_psi": _Family("mlreport_decision_mix_psi", "PSI of the decision mix, analysis window against the baseline."),
    "mix_cramers_v": _Family("mlreport_decision_mix_cramers_v", "Cramér's V of the decision mix, analysis window "
                             "against the baseline."),
    "scenarios": _Family("mlreport_stress_scenarios", "Stress scenarios run."),
    "scenarios_failing": _Family("mlreport_stress_failing_scenarios", "Stress scenarios whose result breached a "
                                 "threshold."),
}


def _escape(value: str) -> str:
    """A label value as the exposition format quotes it."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def _help(family: _Family) -> str:
    if family.help:
        return family.help
    # Families shared by several key metrics carry their help on the first entry.
    for other in PROMETHEUS_FAMILIES.values():
        if other.name == family.name and other.help:
            return other.help
    return family.name


def prometheus_text(manifest: Mapping[str, Any], metrics: Sequence[KeyMetric] | None = None) -> str:
    """The exposition text of one run (module docstring): families in a fixed order, samples in the run's."""
    common = (("model", str(manifest.get("model") or "")), ("analysis", str(manifest.get("analysis") or "")))
    families: dict[str, list[str]] = {}
    helps: dict[str, str] = {}
    for row in key_metrics(manifest) if metrics is None else metrics:
        if not math.isfinite(row.value):
            continue
        family = PROMETHEUS_FAMILIES.get(row.metric)
        if family is None:
            family, labels = _GENERIC, (*common, ("metric", row.metric), ("subject", row.subject))
        else:
            subject = ((family.subject_label, row.subject),) if family.subject_label else ()
            labels = (*common, *subject, *family.extra)
        helps.setdefault(family.name, _help(family))
        text = ",".join(f'{name}="{_escape(value)}"' for name, value in labels)
        families.setdefault(family.name, []).append(f"{family.name}{{{text}}} {_number(row.value)}")
    lines = []
    for name, samples in families.items():
        lines.append(f"# HELP {name} {helps[name]}")
        lines.append(f"# TYPE {name} gauge")
        lines.extend(samples)
    return "\n".join(lines) + "\n"


def textfile_name(manifest: Mapping[str, Any]) -> str:
    """``mlreport_<model>_<analysis>.prom``, made of safe characters."""
    model = safe_name(str(manifest.get("model") or ""))
    analysis = safe_name(str(manifest.get("analysis") or ""), fallback="analysis")
    return f"mlreport_{model}_{analysis}.prom"


def write_textfile(manifest: Mapping[str, Any], directory: str | Path) -> Path:
    """Write the run's textfile into the collector's ``directory`` atomically; its path.

    The folder must exist (it is node-exporter's, and a typo should fail rather
    than write where nothing reads): an OutputError names it otherwise.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise OutputError(f"Prometheus textfile folder {folder} does not exist (node-exporter's "
                          "--collector.textfile.directory)")
    path = folder / textfile_name(manifest)
    write_text_atomic(path, prometheus_text(manifest))
    return path
