"""Reproducing a run: re-execute with the recorded parameters and inputs, compare.

:func:`rerun` looks the run up in the registry (a pruned run still has its
parameters, inputs and findings there), then:

1. re-hashes every recorded input file (data, model spec, scenario file,
   reference profile, model file or module: :func:`mlreport.record.recheck_inputs`)
   and refuses (InputError, exit 2) when one is missing or its sha256
   changed, naming the file with the recorded and the current hash; also
   when a file the run wrote for later runs (a saved profile) changed since,
   as the rerun would overwrite it. Files recorded by ``hash_of = "file"``
   are hashed as bytes, ``"text"`` as their UTF-8 text (scenario files of
   older runs), ``"files"`` as the digest of what their glob or folder
   names now. Relative paths are resolved against the original run's
   working folder, where the rerun runs too;
2. re-executes the analysis with the recorded parameters (a new run, with
   ``rerun_of`` set, recorded and audited like any other);
3. checks that built-in inputs (``hash_of = "content"``: the sample data,
   and built-in scenario text) were regenerated identically, and that files
   the run wrote (``"written"``) were written with the same bytes: they
   cannot be checked before the notebook makes them, so a mismatch refuses
   the comparison afterwards (exit 2), naming the input and both hashes;
4. compares the findings: the same status and, finding by finding (keyed by
   section, check, subject and period), the same severity means the verdicts
   are equivalent (exit 0), otherwise they differ (exit 1). Differences in
   measured values and summary metrics are listed either way, beyond a
   tolerance of ``1e-9`` relative plus ``1e-12`` absolute.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..record import InputCheck, RunRecord, flatten_metrics, is_regenerated, is_written, open_registry, recheck_inputs
from ..terminal import neutralise
from ._execute import DEFAULT_CELL_TIMEOUT
from ._resources import default_out_dir
from ._run import check_seconds, run

__all__ = [
    "InputCheck",
    "Difference",
    "Comparison",
    "RerunResult",
    "check_inputs",
    "compare_runs",
    "rerun",
    "REL_TOL",
    "ABS_TOL",
]

REL_TOL = 1e-9
ABS_TOL = 1e-12


def check_inputs(record: RunRecord) -> list[InputCheck]:
    """Re-hash every recorded input file of ``record`` (:func:`mlreport.record.recheck_inputs`)."""
    return recheck_inputs(record.inputs, cwd=record.cwd)


@dataclass
class Difference:
    """One difference between the original and the rerun."""

    kind: str  # status | severity | value | metric
    what: str
    original: object  # a status or severity word, or a measured value as run.json holds it
    rerun: object

    def format(self) -> str:
        before, after = self.original, self.rerun
        if self.kind in ("value", "metric") and isinstance(before, (int, float)) and isinstance(after, (int, float)):
            return f"{self.what}: {before:.6g} -> {after:.6g} (difference {after - before:+.3g})"
        return f"{self.what}: {self.original} -> {self.rerun}"


@dataclass
class Comparison:
    """Verdict and metric differences between two runs of the same analysis."""

    equivalent: bool
    verdicts: list[Difference] = field(default_factory=list)
    metrics: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    findings_compared: int = 0


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(float(value)) else None


def _keyed(findings: Sequence[Mapping[str, Any]]) -> dict[tuple[str, ...], Mapping[str, Any]]:
    """Findings by (section, check, subject, period); repeats numbered in order."""
    keyed: dict[tuple[str, ...], Mapping[str, Any]] = {}
    for finding in findings:
        base = tuple(str(finding.get(k) or "") for k in ("section", "check", "subject", "period"))
        key, n = base, 1
        while key in keyed:
            n += 1
            key = (*base, f"#{n}")
        keyed[key] = finding
    return keyed


def _label(key: tuple[str, ...]) -> str:
    section, check, subject, period, *repeat = key
    text = f"{check} / {subject}"
    if period:
        text += f" @ {period}"
    if section:
        text += f" [{section}]"
    return text + (f" {repeat[0]}" if repeat else "")


def compare_runs(original: RunRecord, rerun: RunRecord) -> Comparison:
    """Same status and same severity per finding: equivalent. Metric differences listed."""
    result = Comparison(equivalent=True)
    if original.status != rerun.status:
        result.verdicts.append(Difference("status", "run status", original.status, rerun.status))
    before, after = _keyed(original.findings), _keyed(rerun.findings)
    result.findings_compared = len(set(before) | set(after))
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        # A finding one run did not report at all counts as ok for the verdict.
        sev_a = str(a.get("severity")) if a else "ok"
        sev_b = str(b.get("severity")) if b else "ok"
        if sev_a != sev_b:
            result.verdicts.append(Difference(
                "severity", _label(key), sev_a if a else "absent (ok)", sev_b if b else "absent (ok)",
            ))
        elif (a is None) != (b is None):
            result.notes.append(f"{_label(key)}: reported as ok by only the {'original' if a else 'rerun'}")
        if a is not None and b is not None:
            va, vb = _number(a.get("value")), _number(b.get("value"))
            if va is not None and vb is not None and not _close(va, vb):
                result.metrics.append(Difference("value", f"finding {_label(key)} value", va, vb))
            elif (va is None) != (vb is None):
                result.metrics.append(
                    Difference("value", f"finding {_label(key)} value", a.get("value"), b.get("value"))
                )
    metrics_a = {(m, s): v for m, s, v in flatten_metrics(original.metrics)}
    metrics_b = {(m, s): v for m, s, v in flatten_metrics(rerun.metrics)}
    for key in sorted(set(metrics_a) | set(metrics_b)):
        if "seconds" in (key[1], key[0].rpartition(".")[2]):
            continue  # how long the run took (a backend's timings) is a measurement of the machine, not a result
        name = f"metric {key[0]}" + (f"[{key[1]}]" if key[1] else "")
        va, vb = metrics_a.get(key), metrics_b.get(key)
        if va is None or vb is None or not _close(va, vb):
            result.metrics.append(Difference("metric", name, va, vb))
    if original.notebook_sha256 and rerun.notebook_sha256 and original.notebook_sha256 != rerun.notebook_sha256:
        result.notes.append(f"the analysis notebook changed since the original run (sha256 {original.notebook_sha256} "
                            f"-> {rerun.notebook_sha256})")
    if original.mlreport_version != rerun.mlreport_version:
        result.notes.append(f"mlreport version {original.mlreport_version} -> {rerun.mlreport_version}")
    added = sorted(set(rerun.parameters) - set(original.parameters))
    if added:
        result.notes.append(
            f"parameters the notebook declares now but did not then (defaults used): {', '.join(added)}"
        )
    result.equivalent = not result.verdicts
    return result


@dataclass
class RerunResult:
    """The original, the rerun, and how they compare (or why the comparison was refused).

    ``out_dir`` is the outputs folder both runs are recorded in: the records'
    paths are relative to it.
    """

    original: RunRecord
    rerun: RunRecord | None
    comparison: Comparison | None
    input_checks: list[InputCheck] = field(default_factory=list)
    refused: str | None = None
    out_dir: Path | None = None

    @property
    def exit_code(self) -> int:
        if self.refused or self.comparison is None:
            return 2
        return 0 if self.comparison.equivalent else 1

    def to_dict(self) -> dict[str, Any]:
        """The ``mlreport rerun --json`` object."""
        return {
            "original": self.original.run_id,
            "rerun": self.rerun.run_id if self.rerun else None,
            "report": str(Path(self.out_dir or ".") / self.rerun.report_path) if self.rerun else None,
            "exit_code": self.exit_code,
            "equivalent": bool(self.comparison and self.comparison.equivalent and not self.refused),
            "refused": self.refused,
            "inputs": [asdict(c) | {"ok": c.ok} for c in self.input_checks],
            "verdict_differences": [asdict(d) for d in self.comparison.verdicts] if self.comparison else [],
            "metric_differences": [asdict(d) for d in self.comparison.metrics] if self.comparison else [],
            "findings_compared": self.comparison.findings_compared if self.comparison else 0,
            "notes": self.comparison.notes if self.comparison else [],
        }

    def format(self) -> str:
        """The comparison as text: one line per difference and note, every value neutralised."""
        safe = neutralise
        lines = []
        new = self.rerun.run_id if self.rerun else "(none)"
        lines.append(f"rerun of {safe(self.original.run_id)} ({safe(self.original.model)}/"
                     f"{safe(self.original.analysis)}) as {safe(new)}")
        lines.append(f"inputs: {len(self.input_checks)} file(s) re-hashed, all unchanged" if not self.refused else
                     f"REFUSED: {safe(self.refused)}")
        if self.comparison is not None and not self.refused:
            c = self.comparison
            if c.equivalent:
                lines.append(f"EQUIVALENT: same status {safe(self.original.status.upper())} and the same severity "
                             f"for all {c.findings_compared} finding(s)")
            else:
                lines.append(f"VERDICTS DIFFER ({len(c.verdicts)}):")
                lines += [f"  {safe(d.format())}" for d in c.verdicts]
            if c.metrics:
                lines.append(f"metric differences ({len(c.metrics)}):")
                lines += [f"  {safe(d.format())}" for d in c.metrics[:50]]
                if len(c.metrics) > 50:
                    lines.append(f"  ... {len(c.metrics) - 50} more (see --json)")
            else:
                lines.append("metric differences: none beyond tolerance")
            lines += [f"note: {safe(n)}" for n in c.notes]
        return "\n".join(lines)


def _regenerated_problems(original: RunRecord, rerun: RunRecord) -> list[str]:
    fresh = {(str(i.get("name")), str(i.get("path"))): i.get("sha256") for i in rerun.inputs}
    problems = []
    for item in original.inputs:
        if not (is_regenerated(item) or is_written(item)):
            continue
        key = (str(item.get("name")), str(item.get("path")))
        now = fresh.get(key)
        what, verb = ("file", "written") if is_written(item) else ("built-in input", "regenerated")
        if now != item.get("sha256"):
            problems.append(
                f"{what} {key[0]!r} ({key[1]}) {verb} "
                + (f"with a different content: recorded sha256 {item.get('sha256')}, {verb} {now}"
                   if now else f"not at all (recorded sha256 {item.get('sha256')})")
            )
    return problems


def _original_timeout(out_dir: Path, record: RunRecord) -> float:
    try:
        manifest = json.loads((out_dir / record.run_dir / "run.json").read_text(encoding="utf-8"))
        return float(manifest.get("timeout_s") or DEFAULT_CELL_TIMEOUT)
    except (OSError, ValueError, TypeError):
        return float(DEFAULT_CELL_TIMEOUT)


def rerun(
    run_id: str, *, out: str | os.PathLike[str] | None = None, timeout: float | None = None,
    progress: bool | None = None,
) -> RerunResult:
    """Re-execute run ``run_id`` (a unique prefix is enough) and compare; see the module docstring.

    ``out`` is the outputs folder that recorded it (default: ``$MLREPORT_OUT``,
    else ``./outputs``); the rerun is recorded there too. ``timeout`` is the
    per-cell timeout (default: the original's).
    """
    if timeout is not None:
        timeout = check_seconds(timeout, "--timeout")
    out_dir = (Path(out) if out is not None else default_out_dir()).resolve()
    registry = open_registry(out_dir, create=False)
    original = registry.get(run_id)
    checks = check_inputs(original)
    bad = [c for c in checks if not c.ok]
    if bad:
        raise InputError(
            f"refusing to rerun {original.run_id}: {len(bad)} input(s) no longer match the record, nothing was run:",
            details=[c.problem() for c in bad],
        )
    cwd = Path(original.cwd) if original.cwd and Path(original.cwd).is_dir() else Path.cwd()
    result = run(
        original.analysis, original.parameters, out=out_dir, fail_on=original.fail_on or "incident",
        timeout=timeout or _original_timeout(out_dir, original), progress=progress, cwd=cwd,
        rerun_of=original.run_id,
    )
    fresh = registry.get(result.run_id)
    problems = _regenerated_problems(original, fresh)
    outcome = RerunResult(
        original=original, rerun=fresh, comparison=compare_runs(original, fresh), input_checks=checks, out_dir=out_dir,
    )
    if problems:
        outcome.refused = ("the rerun did not regenerate the same built-in inputs or write the same files, so its "
                           "findings cannot be compared: " + "; ".join(problems))
    return outcome
