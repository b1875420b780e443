"""One run, end to end: validate, execute, read back, render, store, exit code.

:func:`run` is what ``mlreport run`` calls, and what :func:`mlreport.run`
is; Python users get the same thing::

    import mlreport
    result = mlreport.run("drift", {"current_path": "data/2026-03-14.parquet"}, out="outputs")
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

:func:`demo` runs every analysis on the built-in sample data, then writes
the index page (``mlreport demo``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from ..errors import InputError, NotebookError, OutputError
from ..export import ExportConfig
from ..findings import Summary, severity_rank
from ..notify import NotifyConfig
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
from ..story import tell
from . import _zygote
from ._deliver import planned_deliveries, send_on
from ._execute import DEFAULT_CELL_TIMEOUT, DEFAULT_START_TIMEOUT, execute, prepare
from ._kernel import StartedKernel, warm_code, warm_modules
from ._params import check_domains, declared_parameters, load_params_file, validate_parameters
from ._render import render_report, warm_renderer
from ._resources import analyses, default_out_dir, notebook_path
from ._results import RESULT_SCHEMA_VERSION, CellFailure, Failure, RunResult, read_summary

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "FAIL_ON", "EXIT_CODES", "BatchRef", "run", "record_failed_run", "prepare_notebook", "resolve_parameters",
    "exit_code_for", "DemoResult", "demo", "check_seconds",
]

FAIL_ON = ("warning", "incident", "never")
EXIT_CODES = {
    0: "healthy: no finding at or above --fail-on",
    1: "findings at or above --fail-on (default: incident)",
    2: "bad invocation or input: nothing was run, or the notebook stopped on bad input (a failure report names it)",
    3: "the run failed (notebook error, timeout, dead kernel); a failure report was written",
}


@dataclass(frozen=True)
class BatchRef:
    """The batch a run belongs to and its job's name: provenance for run.json and the registry."""

    batch_id: str
    job: str = ""


def check_seconds(value: object, option: str) -> float:
    """``value`` as seconds: a finite number above 0 (90.5 is fine), or an InputError naming ``option``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{option} {value!r}: expected a finite number of seconds above 0, such as 90.5")
    return float(value)


def exit_code_for(status: str, fail_on: str, failure: Failure | None = None) -> int:
    """The exit code of a run with this status; ``failure`` tells bad input (2) from a broken run (3)."""
    if status == "failed":
        return failure.exit_code if failure is not None else 3
    if fail_on == "never":
        return 0
    return 1 if severity_rank(status) >= severity_rank(fail_on) else 0


def _cell_checked_parameters(
    analysis: str, params: Mapping[str, Any] | None, params_file: str | os.PathLike[str] | None
) -> tuple[Path, NotebookNode, dict[str, Any]]:
    """The notebook, read, and the parameters checked against its parameters cell (not yet their domains)."""
    notebook = notebook_path(analysis)
    merged: dict[str, Any] = {}
    if params_file:
        merged.update(load_params_file(params_file))
    merged.update(params or {})
    node = nbformat.read(str(notebook), as_version=4)
    declared = declared_parameters(node)
    validated = validate_parameters(merged, declared, analysis=analysis)
    # Run with every parameter explicit, defaults included: the executed
    # notebook and run.json then say exactly what produced the report.
    effective = {name: parameter.default for name, parameter in declared.items()}
    effective.update(validated)
    return notebook, node, effective


def resolve_parameters(
    analysis: str, params: Mapping[str, Any] | None = None, params_file: str | os.PathLike[str] | None = None
) -> tuple[Path, dict[str, Any]]:
    """The analysis notebook and validated parameters (file values, then ``params``)."""
    notebook, _, effective = _cell_checked_parameters(analysis, params, params_file)
    check_domains(analysis, effective)
    return notebook, effective


def prepare_notebook(
    analysis: str, output: Path, params: Mapping[str, Any] | None = None,
    params_file: str | os.PathLike[str] | None = None,
) -> Path:
    """Write the parameterised notebook, unexecuted, to open in JupyterLab.

    Only the parameters that differ from the notebook's defaults are injected
    (validated as for a run), so the prepared notebook says at a glance what
    this investigation changed; with none, it is the notebook as shipped.
    """
    notebook, effective = resolve_parameters(analysis, params, params_file)
    if output.suffix != ".ipynb":
        raise InputError(f"{output}: the prepared notebook must end in .ipynb")
    declared = declared_parameters(notebook)
    changed = {name: value for name, value in effective.items()
               if name not in declared or value != declared[name].default}
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp.ipynb")
    prepare(notebook, tmp, changed)
    os.replace(tmp, output)
    return output


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parameters_sha256(parameters: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parameters, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _cells_seconds(notebook: NotebookNode) -> float | None:
    """Sum of the cells' own run times (papermill's per-cell ``duration``): the computation."""
    durations = [
        cell.get("metadata", {}).get("papermill", {}).get("duration") for cell in notebook.get("cells", [])
    ]
    numbers = [float(d) for d in durations if isinstance(d, (int, float))]
    return round(sum(numbers), 3) if numbers else None


def _new_manifest(
    analysis: str, notebook: Path, parameters: Mapping[str, Any], *, run_id: str, fail_on: str, timeout: float,
    cwd: Path, rerun_of: str | None, batch: BatchRef | None, notify: NotifyConfig | None = None,
    export: ExportConfig | None = None,
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "schema_version": RESULT_SCHEMA_VERSION,
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
        # A driver forked from a zygote: the versions its code fingerprint covered, checked when this run started.
        "versions": dict(_zygote.FORKED_VERSIONS) if _zygote.FORKED_VERSIONS is not None else package_versions(),
        "cwd": str(cwd),
        **identity(),
    }
    if rerun_of:
        manifest["rerun_of"] = rerun_of
    if batch:
        manifest["batch"] = {"id": batch.batch_id, "job": batch.job}
    # What was asked for; the outcome goes into the audit trail (run.json is hashed before anything is sent).
    manifest.update(planned_deliveries(notify, export))
    return manifest


#: What run.json takes from the published summary as it is.
_FROM_SUMMARY = ("counts", "findings", "incidents", "inputs", "thresholds", "methods", "metrics", "data_period")

_NO_SUMMARY = Failure(
    "no summary",
    "the notebook finished but published no summary (call mlreport.findings.publish in its last cell)",
)


def _complete(
    out_dir: Path, staging: Path, manifest: dict[str, Any], executed: NotebookNode, summary: Summary | None,
    failure: Failure | None, *, parameters: Mapping[str, Any], fail_on: str, started: float,
    execute_s: float, registry: Registry, update_index: bool, notify: NotifyConfig | None = None,
    export: ExportConfig | None = None,
) -> RunResult:
    """Render, write run.json, commit the folder and record it, then send it on: the common end of every run."""
    analysis, run_id = manifest["analysis"], manifest["run_id"]
    if summary is not None and not summary.incidents:
        # A notebook that did not tell its story (custom or older) still gets incidents and a headline naming them.
        summary = tell(summary)
    try:
        model = (summary.model if summary and summary.model else "") or str(parameters.get("model") or "") or "default"
        if failure is None and summary is not None:
            status, headline = summary.status, summary.headline
        else:
            failure = failure or _NO_SUMMARY
            status, headline = "failed", f"Run failed: {failure.message}"
        code = exit_code_for(status, fail_on, failure)
        manifest.update(
            model=model,
            status=status,
            exit_code=code,
            error=failure.to_dict() if failure is not None else None,
            headline=headline,
        )
        if summary is not None:
            data = summary.to_dict()
            manifest.update(
                {k: data[k] for k in _FROM_SUMMARY}
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
        # The run itself is complete; an index that cannot be written is rebuilt by the next run.
        with contextlib.suppress(OutputError):
            write_index(out_dir)
    deliveries = send_on(manifest, run_dir, out_dir, notify=notify, export=export)
    return RunResult.from_manifest(manifest, run_dir, deliveries=deliveries)


def run(
    analysis: str,
    params: Mapping[str, Any] | None = None,
    *,
    out: str | os.PathLike[str] | None = None,
    params_file: str | os.PathLike[str] | None = None,
    fail_on: str = "incident",
    timeout: float = DEFAULT_CELL_TIMEOUT,
    start_timeout: float = DEFAULT_START_TIMEOUT,
    progress: bool | None = None,
    update_index: bool = True,
    cwd: str | os.PathLike[str] | None = None,
    rerun_of: str | None = None,
    batch: BatchRef | None = None,
    notify: NotifyConfig | None = None,
    export: ExportConfig | None = None,
) -> RunResult:
    """Execute one analysis notebook, render its report and record the run: ``mlreport run``.

    Parameters
    ----------
    analysis
        The analysis to run (one of :func:`analyses`).
    params
        Notebook parameters; validated against the notebook's parameters cell
        (declared names, JSON values, coerced to the declared type). They
        override ``params_file``.
    out
        The outputs folder (default: ``$MLREPORT_OUT``, else ``./outputs``).
    params_file
        Parameters from a JSON, YAML or TOML file.
    fail_on
        ``warning``, ``incident`` or ``never``: the lowest status whose exit code is 1.
    timeout, start_timeout
        Seconds a cell may run, and the kernel may take to start.
    progress
        Draw papermill's progress bar (default: when stderr is a terminal);
        otherwise each cell's start is logged on the ``mlreport`` logger.
    update_index
        Rebuild ``<out>/index.html`` after the run (a batch does it once at its end).
    cwd
        The folder relative data paths are read from (default: the current
        one; a rerun passes the original run's).
    rerun_of, batch
        Provenance recorded in run.json and the registry: the run this one
        reproduces, and the batch and job it belongs to.
    notify, export
        Where the recorded run is sent on (:class:`mlreport.notify.NotifyConfig`,
        :class:`mlreport.export.ExportConfig`): notifications and metric
        exports, after the run is recorded. Their outcomes are the result's
        ``deliveries`` and the run's ``deliver`` audit entry; a failure never
        changes the exit code.

    Returns
    -------
    RunResult
        Status, headline, findings, counts, exit code, error, run folder and
        report. A run that failed inside the notebook (an error, a timeout, a
        dead kernel, bad input found while reading the data) is a result too,
        with ``status == "failed"`` and ``error`` set: its folder holds a RUN
        FAILED report.

    Raises
    ------
    InputError
        Bad input found before anything ran (an unknown analysis or
        parameter, a bad value, an unusable output folder); nothing was written.
    OutputError
        The run folder, registry or audit trail could not be written.
    """
    if fail_on not in FAIL_ON:
        raise InputError(f"--fail-on {fail_on!r}: expected one of {', '.join(FAIL_ON)}")
    timeout = check_seconds(timeout, "--timeout")
    start_timeout = check_seconds(start_timeout, "--start-timeout")
    notebook, node, parameters = _cell_checked_parameters(analysis, params, params_file)
    out_dir = (Path(out) if out is not None else default_out_dir()).resolve()
    work_dir = Path(cwd).resolve() if cwd is not None else Path.cwd()
    if not work_dir.is_dir():
        raise InputError(f"{work_dir}: the working folder to run in does not exist")
    # The kernel starts now and checks the parameters' domains itself while
    # this process gets its renderer ready (see _kernel.py); it is shut down
    # unless the notebook's client takes it over.
    launched = time.monotonic()
    kernel, kernel_log = _start_kernel(analysis, node, parameters, work_dir, timeout, start_timeout)
    try:
        warm_renderer()
        if not kernel.wait():
            check_domains(analysis, parameters)  # the error, exactly as a check here raises it
        result = _run_started(
            analysis, notebook, parameters, kernel, kernel_log, launched=launched, out_dir=out_dir, work_dir=work_dir,
            fail_on=fail_on, timeout=timeout, start_timeout=start_timeout, progress=progress,
            update_index=update_index, rerun_of=rerun_of, batch=batch, notify=notify, export=export,
        )
    finally:
        kernel.shutdown()  # a no-op once the notebook's client has shut it down
        kernel_log.unlink(missing_ok=True)
    return result


def _start_kernel(
    analysis: str, node: NotebookNode, parameters: Mapping[str, Any], work_dir: Path, timeout: float,
    start_timeout: float,
) -> tuple[StartedKernel, Path]:
    """Launch the run's kernel, warming up with the notebook's imports and checking ``parameters`` in it.

    Its log goes to a temporary file (the run folder does not exist before the
    parameters have passed), copied into the run folder after the notebook.
    """
    handle, name = tempfile.mkstemp(prefix="mlr-kernel-", suffix=".log")
    os.close(handle)
    kernel_log = Path(name)
    try:
        code = warm_code(warm_modules(node), analysis, parameters)
    except (TypeError, ValueError):  # not JSON after all: the driver checks them itself
        code = warm_code(warm_modules(node), None, {})
    try:
        kernel = StartedKernel(
            cwd=work_dir, kernel_log=kernel_log, start_timeout=start_timeout, code=code, warm_timeout=timeout
        )
    except BaseException:
        kernel_log.unlink(missing_ok=True)
        raise
    return kernel, kernel_log


def _run_started(
    analysis: str, notebook: Path, parameters: dict[str, Any], kernel: StartedKernel, kernel_log: Path, *,
    launched: float, out_dir: Path, work_dir: Path, fail_on: str, timeout: float, start_timeout: float,
    progress: bool | None, update_index: bool, rerun_of: str | None, batch: BatchRef | None,
    notify: NotifyConfig | None, export: ExportConfig | None,
) -> RunResult:
    """The rest of :func:`run`, once the parameters have passed and the kernel is up."""
    make_out_dir(out_dir)
    registry = open_registry(out_dir)  # before running: an unusable registry stops us here
    run_id = new_run_id()
    started = launched
    manifest = _new_manifest(
        analysis, notebook, parameters, run_id=run_id, fail_on=fail_on, timeout=timeout, cwd=work_dir,
        rerun_of=rerun_of, batch=batch, notify=notify, export=export,
    )
    staging = staging_dir(out_dir, run_id)
    try:
        executed_path = staging / "notebook.ipynb"
        failure: Failure | None = None
        exec_start = launched  # the kernel's start and warm-up are part of executing the notebook
        try:
            try:
                executed = execute(
                    notebook, executed_path, parameters, cwd=work_dir, timeout=timeout,
                    start_timeout=start_timeout, progress=progress, kernel=kernel,
                )
            finally:
                kernel.shutdown()
                shutil.copyfile(kernel_log, staging / "kernel.log")
        except NotebookError as exc:
            failure = CellFailure.from_error(exc)
            # The notebook as far as it ran (saved when execution ends, also on a failure).
            if executed_path.exists():
                executed = nbformat.read(str(executed_path), as_version=4)
            else:
                executed = nbformat.v4.new_notebook()
        except OSError as exc:
            # papermill saves the notebook at its start and end: a full disk ends the run here.
            saving = str(exc.filename or "").endswith(".ipynb")
            what = "cannot write the executed notebook" if saving else "the run stopped"
            raise OutputError(f"{what} ({staging}): {exc}") from None
        execute_s = time.monotonic() - exec_start
        origin = kernel.manager.forked_from
        manifest["kernel"] = {"start": "forked", **origin} if origin else {"start": "fresh"}
        if _zygote.FORKED_DRIVER is not None:
            # The driver itself was forked from a zygote (a batch's job, a run handed to `mlreport kernels serve`).
            manifest["kernel"]["driver"] = {"start": "forked", **_zygote.FORKED_DRIVER}
        summary = read_summary(executed)
    except BaseException:
        discard(staging)
        raise
    return _complete(
        out_dir, staging, manifest, executed, summary, failure, parameters=parameters, fail_on=fail_on,
        started=started, execute_s=execute_s, registry=registry, update_index=update_index, notify=notify,
        export=export,
    )


def record_failed_run(
    analysis: str,
    parameters: Mapping[str, Any],
    failure: Failure,
    *,
    out: str | os.PathLike[str],
    fail_on: str = "incident",
    elapsed_s: float = 0.0,
    timeout: float = DEFAULT_CELL_TIMEOUT,
    cwd: str | os.PathLike[str] | None = None,
    batch: BatchRef | None = None,
    update_index: bool = True,
    notify: NotifyConfig | None = None,
    export: ExportConfig | None = None,
) -> RunResult:
    """Write and record a failed run that never reached its own end.

    For a job the batch runner killed (its process group got SIGTERM after
    the job's timeout, so its own run folder was discarded): the failure is a
    result too, with a RUN FAILED report, a manifest and a registry row. There
    is no executed notebook. ``parameters`` must be validated already.
    """
    notebook = notebook_path(analysis)
    out_dir = Path(out).resolve()
    make_out_dir(out_dir)
    registry = open_registry(out_dir)
    run_id = new_run_id()
    manifest = _new_manifest(
        analysis, notebook, parameters, run_id=run_id, fail_on=fail_on, timeout=timeout,
        cwd=Path(cwd).resolve() if cwd else Path.cwd(), rerun_of=None, batch=batch, notify=notify, export=export,
    )
    staging = staging_dir(out_dir, run_id)
    return _complete(
        out_dir, staging, manifest, nbformat.v4.new_notebook(), None, failure, parameters=parameters,
        fail_on=fail_on, started=time.monotonic() - elapsed_s, execute_s=elapsed_s, registry=registry,
        update_index=update_index, notify=notify, export=export,
    )


@dataclass(frozen=True)
class DemoResult:
    """What ``mlreport demo`` wrote: one run per analysis, and the index page."""

    index: Path
    runs: list[RunResult] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0, or 3 when an analysis failed on the built-in sample data (findings are the point of a demo)."""
        return 3 if any(result.status == "failed" for result in self.runs) else 0

    def to_dict(self) -> dict[str, Any]:
        """The ``mlreport demo --json`` object."""
        return {"index": str(self.index), "exit_code": self.exit_code, "runs": [r.to_dict() for r in self.runs]}


def demo(
    *,
    out: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_CELL_TIMEOUT,
    progress: bool | None = None,
    on_start: Callable[[str], None] | None = None,
    on_result: Callable[[RunResult], None] | None = None,
) -> DemoResult:
    """Run every analysis with its defaults (the built-in sample data), then write the index page.

    Each run is :func:`run` with ``fail_on="never"``; ``on_start(analysis)``
    and ``on_result(result)`` are called around each (the CLI prints there).
    """
    timeout = check_seconds(timeout, "--timeout")
    out_dir = Path(out) if out is not None else default_out_dir()
    results = []
    for name in analyses():
        if on_start is not None:
            on_start(name)
        result = run(name, {}, out=out_dir, fail_on="never", timeout=timeout, progress=progress, update_index=False)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return DemoResult(index=write_index(out_dir), runs=results)
