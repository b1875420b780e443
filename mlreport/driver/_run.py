"""One run, end to end: validate, execute, read back, render, store, exit code.

:func:`run` is what ``mlreport run`` calls; Python users get the same thing::

    from mlreport.driver import run
    result = run("drift", {"current_path": "data/2026-03-14.parquet"}, out_dir=Path("outputs"))
    result.exit_code, result.report_path

Exit codes: 0 healthy (nothing at or above ``fail_on``), 1 findings at or
above ``fail_on``, 2 bad invocation or input (raised as InputError before
anything runs, or an input error raised inside the notebook, which still
writes a RUN FAILED report naming it), 3 the run failed for any other reason
(a report is still written).

Every run that reaches its end (healthy, with findings, or failed) is
committed into its folder, then appended to the audit trail and recorded in
the run registry, with SIGINT/SIGTERM held for those three steps
(:mod:`mlreport.record`). A run interrupted before the commit leaves nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..errors import (
    DataError,
    InputError,
    KernelDiedError,
    ModelError,
    NotebookError,
    OutputError,
    ParameterError,
    RunTimeoutError,
    ScenarioError,
    SpecError,
)
from ..findings import Summary, severity_rank
from ..record import (
    Registry,
    commit_run,
    deferred_signals,
    discard,
    identity,
    make_out_dir,
    new_run_id,
    open_registry,
    package_versions,
    record_run,
    sha256_file,
    staging_dir,
    write_index,
    write_json_atomic,
    write_text_atomic,
)
from ._execute import DEFAULT_CELL_TIMEOUT, DEFAULT_START_TIMEOUT, execute, prepare
from ._params import declared_parameters, load_params_file, validate_parameters
from ._render import render_report
from ._resources import notebook_path
from ._results import read_summary

__all__ = [
    "RunResult", "FAIL_ON", "EXIT_CODES", "run", "record_failed_run", "prepare_notebook", "resolve_parameters",
    "default_out_dir", "exit_code_for", "INPUT_ERROR_NAMES",
]

FAIL_ON = ("warning", "incident", "never")
EXIT_CODES = {
    0: "healthy: no finding at or above --fail-on",
    1: "findings at or above --fail-on (default: incident)",
    2: "bad invocation or input: nothing was run, or the notebook stopped on bad input (a failure report names it)",
    3: "the run failed (notebook error, timeout, dead kernel); a failure report was written",
}

#: Exceptions which, raised inside a notebook, mean "the input is bad" rather
#: than "the run broke": the run fails with exit code 2 and kind ``input``.
INPUT_ERROR_NAMES = frozenset(
    cls.__name__ for cls in (InputError, ParameterError, DataError, SpecError, ScenarioError, ModelError)
)


@dataclass
class RunResult:
    """What a run produced: where, with what status and exit code."""

    run_id: str
    analysis: str
    model: str
    status: str
    exit_code: int
    run_dir: Path
    report_path: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "analysis": self.analysis,
            "model": self.model,
            "status": self.status,
            "exit_code": self.exit_code,
            "headline": self.manifest.get("headline", ""),
            "report": str(self.report_path),
            "run_dir": str(self.run_dir),
            "counts": self.manifest.get("counts", {}),
            "findings": self.manifest.get("findings", []),
            "error": self.manifest.get("error"),
        }


def default_out_dir() -> Path:
    """``$MLREPORT_OUT`` when set, else ``./outputs``."""
    return Path(os.environ.get("MLREPORT_OUT") or "outputs")


def exit_code_for(status: str, fail_on: str, failure: Mapping[str, Any] | None = None) -> int:
    """The exit code of a run with this status; ``failure`` tells bad input (2) from a broken run (3)."""
    if status == "failed":
        return 2 if failure and failure.get("kind") == "input" else 3
    if fail_on == "never":
        return 0
    return 1 if severity_rank(status) >= severity_rank(fail_on) else 0


def resolve_parameters(
    analysis: str, params: Mapping[str, Any] | None = None, params_file: str | Path | None = None
) -> tuple[Path, dict[str, Any]]:
    """The analysis notebook and validated parameters (file values, then ``params``)."""
    notebook = notebook_path(analysis)
    merged: dict[str, Any] = {}
    if params_file:
        merged.update(load_params_file(params_file))
    merged.update(params or {})
    declared = declared_parameters(notebook)
    validated = validate_parameters(merged, declared, analysis=analysis)
    # Run with every parameter explicit, defaults included: the executed
    # notebook and run.json then say exactly what produced the report.
    effective = {name: parameter.default for name, parameter in declared.items()}
    effective.update(validated)
    return notebook, effective


def prepare_notebook(
    analysis: str, output: Path, params: Mapping[str, Any] | None = None, params_file: str | Path | None = None
) -> Path:
    """Write the parameterised notebook, unexecuted, to open in JupyterLab."""
    notebook, validated = resolve_parameters(analysis, params, params_file)
    if output.suffix != ".ipynb":
        raise InputError(f"{output}: the prepared notebook must end in .ipynb")
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp.ipynb")
    prepare(notebook, tmp, validated)
    os.replace(tmp, output)
    return output


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parameters_sha256(parameters: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parameters, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _cells_seconds(notebook: nbformat.NotebookNode) -> float | None:
    """Sum of the cells' own run times (papermill's per-cell ``duration``): the computation."""
    durations = [
        cell.get("metadata", {}).get("papermill", {}).get("duration") for cell in notebook.get("cells", [])
    ]
    numbers = [float(d) for d in durations if isinstance(d, (int, float))]
    return round(sum(numbers), 3) if numbers else None


def _new_manifest(
    analysis: str, notebook: Path, parameters: Mapping[str, Any], *, run_id: str, fail_on: str, timeout: float,
    cwd: Path, rerun_of: str | None, batch: Mapping[str, Any] | None,
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "run_id": run_id,
        "analysis": analysis,
        "model": "",
        "status": "failed",
        "exit_code": 3,
        "fail_on": fail_on,
        "started_at": _utc_now(),
        "parameters": dict(parameters),
        "parameters_sha256": _parameters_sha256(parameters),
        "notebook": {"path": str(notebook), "sha256": sha256_file(notebook)},
        "reference_fingerprint": None,
        "thresholds_version": None,
        "timeout_s": timeout,
        "versions": package_versions(),
        "cwd": str(cwd),
        **identity(),
    }
    if rerun_of:
        manifest["rerun_of"] = rerun_of
    if batch:
        manifest["batch"] = {"id": str(batch.get("id", "")), "job": str(batch.get("job", ""))}
    return manifest


def _complete(
    out_dir: Path, staging: Path, manifest: dict[str, Any], executed: nbformat.NotebookNode, summary: Summary | None,
    failure: dict[str, Any] | None, *, parameters: Mapping[str, Any], fail_on: str, started: float,
    execute_s: float, registry: Registry, update_index: bool,
) -> RunResult:
    """Render, write run.json, commit the folder and record it: the common end of every run."""
    analysis, run_id = manifest["analysis"], manifest["run_id"]
    try:
        if failure is None and summary is None:
            failure = {"kind": "no summary", "message": "the notebook finished but published no summary "
                       "(call mlreport.findings.publish in its last cell)"}
        model = (summary.model if summary and summary.model else "") or str(parameters.get("model") or "") or "default"
        status = "failed" if failure else summary.status  # type: ignore[union-attr]
        code = exit_code_for(status, fail_on, failure)
        manifest.update(
            model=model,
            status=status,
            exit_code=code,
            error=failure,
            headline=(f"Run failed: {failure['message']}" if failure else summary.headline),  # type: ignore[union-attr]
        )
        if summary is not None:
            data = summary.to_dict()
            manifest.update(
                {k: data[k] for k in ("counts", "findings", "inputs", "thresholds", "methods", "metrics", "data_period")}
            )
            manifest["reference_fingerprint"] = summary.profile_fingerprint
            manifest["thresholds_version"] = summary.thresholds_version
        render_start = time.monotonic()
        manifest["finished_at"] = _utc_now()
        report = render_report(executed, summary=summary, manifest=manifest, failure=failure)
        write_text_atomic(staging / "report.html", report)
        manifest["timings_s"] = {
            "execute": round(execute_s, 3),
            "cells": _cells_seconds(executed),
            "render": round(time.monotonic() - render_start, 3),
            "total": round(time.monotonic() - started, 3),
        }
        manifest["files"] = {
            name: {"sha256": sha256_file(staging / name), "bytes": (staging / name).stat().st_size}
            for name in ("report.html", "notebook.ipynb")
            if (staging / name).exists()
        }
        write_json_atomic(staging / "run.json", manifest)
        # Commit and record together: an interrupt here is delivered after both.
        with deferred_signals():
            run_dir = commit_run(staging, out_dir, model=model, analysis=analysis, run_id=run_id)
            try:
                record_run(out_dir, run_dir, manifest, registry=registry)
            except OutputError as exc:
                kept = f"report: {run_dir / 'report.html'}" if run_dir.exists() else "not kept"
                raise OutputError(f"run {run_id} finished ({kept}) but could not be recorded: {exc}") from None
    except BaseException:
        # Interrupts (SIGINT, SIGTERM turned into SystemExit) and write failures
        # leave nothing half-written where readers look.
        discard(staging)
        raise
    if update_index:
        try:
            write_index(out_dir)
        except OutputError:
            pass  # the run itself is complete; the index is rebuilt by the next run
    return RunResult(
        run_id=run_id, analysis=analysis, model=model, status=status, exit_code=code,
        run_dir=run_dir, report_path=run_dir / "report.html", manifest=manifest,
    )


def run(
    analysis: str,
    params: Mapping[str, Any] | None = None,
    *,
    params_file: str | Path | None = None,
    out_dir: Path | None = None,
    fail_on: str = "incident",
    timeout: float = DEFAULT_CELL_TIMEOUT,
    start_timeout: float = DEFAULT_START_TIMEOUT,
    progress: bool | None = None,
    update_index: bool = True,
    cwd: Path | None = None,
    rerun_of: str | None = None,
    batch: Mapping[str, Any] | None = None,
) -> RunResult:
    """Execute one analysis notebook and write its run folder; see the module doc.

    ``cwd`` is the folder relative data paths are read from (default: the
    current one; a rerun passes the original run's). ``rerun_of`` and
    ``batch`` (``{"id": ..., "job": ...}``) are provenance for the manifest
    and the registry.
    """
    if fail_on not in FAIL_ON:
        raise InputError(f"--fail-on {fail_on!r}: expected one of {', '.join(FAIL_ON)}")
    if not timeout or timeout <= 0:
        raise InputError(f"--timeout {timeout!r}: expected a positive number of seconds")
    notebook, parameters = resolve_parameters(analysis, params, params_file)
    out_dir = (Path(out_dir) if out_dir is not None else default_out_dir()).resolve()
    cwd = Path(cwd).resolve() if cwd is not None else Path.cwd()
    if not cwd.is_dir():
        raise InputError(f"{cwd}: the working folder to run in does not exist")
    make_out_dir(out_dir)
    registry = open_registry(out_dir)  # before running: an unusable registry stops us here
    run_id = new_run_id()
    started = time.monotonic()
    manifest = _new_manifest(
        analysis, notebook, parameters, run_id=run_id, fail_on=fail_on, timeout=timeout, cwd=cwd,
        rerun_of=rerun_of, batch=batch,
    )
    staging = staging_dir(out_dir, run_id)
    try:
        executed_path = staging / "notebook.ipynb"
        failure: dict[str, Any] | None = None
        exec_start = time.monotonic()
        try:
            executed = execute(
                notebook, executed_path, parameters, cwd=cwd, timeout=timeout,
                start_timeout=start_timeout, progress=progress, kernel_log=staging / "kernel.log",
            )
        except NotebookError as exc:
            kind = {RunTimeoutError: "timeout", KernelDiedError: "kernel died"}.get(type(exc), "error")
            if kind == "error" and exc.ename in INPUT_ERROR_NAMES:
                kind = "input"
            failure = {
                "kind": kind, "message": str(exc), "cell_index": exc.cell_index, "section": exc.section,
                "ename": exc.ename, "evalue": exc.evalue,
            }
            executed = nbformat.read(str(executed_path), as_version=4) if executed_path.exists() else nbformat.v4.new_notebook()
        except OSError as exc:
            # papermill saves the notebook as it goes: a full disk ends the run here.
            what = "cannot write the executed notebook" if str(exc.filename or "").endswith(".ipynb") else "the run stopped"
            raise OutputError(f"{what} ({staging}): {exc}") from None
        execute_s = time.monotonic() - exec_start
        summary: Summary | None = read_summary(executed)
    except BaseException:
        discard(staging)
        raise
    return _complete(
        out_dir, staging, manifest, executed, summary, failure, parameters=parameters, fail_on=fail_on,
        started=started, execute_s=execute_s, registry=registry, update_index=update_index,
    )


def record_failed_run(
    analysis: str,
    parameters: Mapping[str, Any],
    failure: Mapping[str, Any],
    *,
    out_dir: Path,
    fail_on: str = "incident",
    elapsed_s: float = 0.0,
    timeout: float = DEFAULT_CELL_TIMEOUT,
    cwd: Path | None = None,
    batch: Mapping[str, Any] | None = None,
    update_index: bool = True,
) -> RunResult:
    """Write and record a failed run that never reached its own end.

    For a job the batch runner killed (its process group got SIGTERM after
    the job's timeout, so its own run folder was discarded): the failure is a
    result too, with a RUN FAILED report, a manifest and a registry row. There
    is no executed notebook. ``parameters`` must be validated already.
    """
    notebook = notebook_path(analysis)
    out_dir = Path(out_dir).resolve()
    make_out_dir(out_dir)
    registry = open_registry(out_dir)
    run_id = new_run_id()
    manifest = _new_manifest(
        analysis, notebook, parameters, run_id=run_id, fail_on=fail_on, timeout=timeout,
        cwd=Path(cwd).resolve() if cwd else Path.cwd(), rerun_of=None, batch=batch,
    )
    staging = staging_dir(out_dir, run_id)
    return _complete(
        out_dir, staging, manifest, nbformat.v4.new_notebook(), None, dict(failure), parameters=parameters,
        fail_on=fail_on, started=time.monotonic() - elapsed_s, execute_s=elapsed_s, registry=registry,
        update_index=update_index,
    )
