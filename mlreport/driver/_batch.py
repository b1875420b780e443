"""Batch runs for schedulers: every job of a JOBS.toml, in parallel, one summary.

A jobs file lists the monitored models and what to run on them::

    [[job]]
    name = "card-fraud"                      # unique; names the logs and the summary rows
    spec = "models/card-fraud.toml"          # model spec: passed as spec_path to analyses that take one
    analyses = ["drift", "volume"]           # or: analysis = "drift"
    timeout = 1800                           # seconds for the whole run (default: --timeout)
    fail_on = "incident"                     # default: --fail-on
    [job.params]                             # parameters for every analysis of the job
    model = "card-fraud"
    [job.analysis_params.drift]              # parameters for one analysis only
    reference_path = "data/card/reference.parquet"
    current_path = "data/card/{date}/*.parquet"
    current_end = "{date+1}"

Templates in parameter *values* (and ``spec``): ``{date}`` is the logical date
(``--date``, default today UTC), ``{date-N}`` / ``{date+N}`` that date moved
by N days, ``{run_date}`` the UTC date the batch actually runs; ``{{`` and
``}}`` are literal braces. Nothing else is a template: substitution is a
plain text replacement of these tokens (never :meth:`str.format`, which can
reach attributes), it never touches parameter names, and the result is
validated like any parameter (declared name, JSON type, coercion).

Relative paths in the file (``spec``, data paths) are relative to the jobs
file's folder: each job runs with that folder as its working directory.

Notifications and metric exports (:mod:`mlreport.notify`, :mod:`mlreport.export`)
are a ``[notify]`` and an ``[export]`` table, for every job at the top of the
file and for one job as ``[job.notify]`` / ``[job.export]`` (a job's settings
over the file's; ``--notify``, ``--notify-on``, ``--prometheus-dir`` and
``--mlflow`` on the command line over both)::

    [notify]
    on = "warning"
    channels = ["slack"]
    [export]
    prometheus_dir = "/var/lib/node_exporter/textfile"

Each job's run sends its own once it is recorded; a job the batch kills on its
timeout is notified about as the failed run it is recorded as.

The whole file is validated before anything runs: every problem is listed,
naming the job and the key, and the exit code is 2.

Each job's analysis runs in its own process, ``python -m mlreport run ...
--json``, at most ``--jobs`` at a time: forked from the batch's kernel
zygote, which has the driver's imports already (:meth:`_Runner._fork`), or,
where it cannot be, started afresh. Separate processes rather than
:mod:`multiprocessing` workers: a job that crashes, leaks memory or is
OOM-killed takes nothing else down; a timeout kills the job's whole process
group (driver and kernel) and nothing else; each job gets the exact CLI
contract (exit code, one JSON object) a scheduler would see; and no worker
forks a process holding ZMQ sockets or threads (the zygote holds neither).
A job started afresh costs one Python start and import (measured by
``benchmarks/batch.py``).

A job past its timeout gets SIGTERM (SIGKILL after a grace period) for its
process group and is recorded as a failed run with a RUN FAILED report, like
any run that could not finish. The aggregated exit code is the highest of the
jobs' exit codes (0 healthy, 1 findings at or above fail-on, 2 a job could
not start, 3 a run failed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import json
import logging
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..errors import InputError, MlreportError
from ..export import ExportConfig
from ..handoff import ServedRun, request_run
from ..notify import NotifyConfig
from ..record import RunRecord, make_out_dir, new_run_id, open_registry, safe_name, write_index, write_json_atomic
from ..terminal import neutralise
from ._execute import DEFAULT_CELL_TIMEOUT, kernel_env
from ._params import declared_parameters
from ._resources import analyses as available_analyses
from ._resources import default_out_dir, notebook_path
from ._results import Failure
from ._run import FAIL_ON, BatchRef, check_seconds, record_failed_run, resolve_parameters
from ._zygote import ZYGOTE_ENV, Zygote, fork_supported, notebook_imports

__all__ = [
    "Task",
    "TaskResult",
    "BatchResult",
    "fill_templates",
    "parse_date",
    "load_jobs",
    "run_batch",
    "format_summary",
    "DEFAULT_JOB_TIMEOUT",
    "KILL_GRACE_S",
]

log = logging.getLogger("mlreport")

DEFAULT_JOB_TIMEOUT = float(DEFAULT_CELL_TIMEOUT)
KILL_GRACE_S = 10.0
_JOB_KEYS = ("name", "spec", "analysis", "analyses", "params", "analysis_params", "timeout", "cell_timeout",
             "fail_on", "enabled", "notify", "export")
_FILE_KEYS = ("job", "notify", "export", "schema_version")
_TOKEN = re.compile(r"\{\{|\}\}|\{[^{}]*\}|[{}]")
_TEMPLATE = re.compile(r"(date|run_date)(?:([+-])(\d{1,5}))?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Task:
    """One analysis of one job, validated and ready to run."""

    job: str
    analysis: str
    parameters: dict[str, Any]
    timeout: float
    cell_timeout: float
    fail_on: str
    cwd: Path
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    export: ExportConfig = field(default_factory=ExportConfig)


@dataclass
class TaskResult:
    """How one task ended."""

    job: str
    analysis: str
    status: str  # ok | warning | incident | failed | not started
    exit_code: int
    seconds: float
    run_id: str | None = None
    report: str | None = None
    error: str | None = None
    log: str | None = None
    deliveries: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BatchResult:
    """Every task's result and the aggregated exit code."""

    batch_id: str
    date: str
    run_date: str
    out_dir: Path
    results: list[TaskResult] = field(default_factory=list)
    seconds: float = 0.0
    index: str | None = None

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.results), default=0)

    def to_dict(self) -> dict[str, Any]:
        """The ``mlreport batch --json`` object (also written as the batch's summary.json)."""
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        return {
            "batch_id": self.batch_id, "date": self.date, "run_date": self.run_date, "out": str(self.out_dir),
            "exit_code": self.exit_code, "seconds": round(self.seconds, 3), "counts": counts, "index": self.index,
            "jobs": [asdict(r) for r in self.results],
        }


# -- templates ---------------------------------------------------------------------------------------


def _template_value(token: str, *, date: dt.date, run_date: dt.date) -> str | None:
    match = _TEMPLATE.fullmatch(token)
    if match is None:
        return None
    name, sign, days = match.groups()
    base = date if name == "date" else run_date
    if sign:
        base = base + dt.timedelta(days=int(days) * (1 if sign == "+" else -1))
    return base.isoformat()


def fill_templates(value: Any, *, date: dt.date, run_date: dt.date, where: str) -> Any:
    """``value`` with ``{date}``, ``{date±N}`` and ``{run_date}`` filled in its strings.

    Lists and dict values are filled recursively; dict keys, numbers and
    booleans are left alone. An unknown ``{...}`` or a lone brace is an
    InputError naming ``where``.
    """
    if isinstance(value, str):
        def replace(match: re.Match[str]) -> str:
            token = match.group(0)
            if token == "{{":
                return "{"
            if token == "}}":
                return "}"
            if token in ("{", "}"):
                raise InputError(f"{where}: lone {token!r} in {value!r}; write {token * 2} for a literal brace")
            filled = _template_value(token[1:-1].strip(), date=date, run_date=run_date)
            if filled is None:
                raise InputError(
                    f"{where}: unknown template {token} in {value!r}; known: {{date}}, {{date-N}}, {{date+N}}, "
                    "{run_date} (write {{ and }} for literal braces)"
                )
            return filled

        return _TOKEN.sub(replace, value)
    if isinstance(value, list):
        return [fill_templates(v, date=date, run_date=run_date, where=f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: fill_templates(v, date=date, run_date=run_date, where=f"{where}.{k}") for k, v in value.items()}
    return value


# -- the jobs file -----------------------------------------------------------------------------------


def parse_date(text: str | None) -> dt.date:
    """``--date``: an ISO date ``YYYY-MM-DD``; None means today (UTC)."""
    if text is None or text == "":
        return dt.datetime.now(dt.UTC).date()
    if not _DATE.fullmatch(text.strip()):
        raise InputError(f"--date {text!r}: expected YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"--date {text!r}: not a calendar date") from None


def _closest(word: str, choices: Sequence[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""


def _positive(value: object, where: str, errors: list[str]) -> float | None:
    """Seconds from the jobs file: a finite number above 0 (600.5 is fine; inf, nan, 0 and -1 are not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        errors.append(f"{where}: expected a positive number of seconds, got {value!r} (a finite number above 0; "
                      "600.5 is fine)")
        return None
    return float(value)


def load_jobs(
    path: str | Path,
    *,
    date: dt.date,
    run_date: dt.date | None = None,
    timeout: float = DEFAULT_JOB_TIMEOUT,
    fail_on: str = "incident",
    notify: NotifyConfig | None = None,
    export: ExportConfig | None = None,
) -> list[Task]:
    """Read and validate a jobs file into tasks, or raise one InputError listing every problem.

    ``timeout`` and ``fail_on`` apply to jobs that set none; ``notify`` and
    ``export`` (the command line's) go over the file's and the jobs' tables. Parameters are
    validated against each analysis notebook exactly as ``mlreport run``
    validates them, after templates are filled.
    """
    path = Path(path)
    run_date = run_date or dt.datetime.now(dt.UTC).date()
    if fail_on not in FAIL_ON:
        raise InputError(f"--fail-on {fail_on!r}: expected one of {', '.join(FAIL_ON)}")
    timeout = check_seconds(timeout, "--timeout")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: jobs file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the jobs file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    base = path.resolve().parent
    errors: list[str] = []
    for key in data:
        if key not in _FILE_KEYS:
            errors.append(f"{path}: unknown top-level key {key!r}; jobs are [[job]] tables{_closest(key, _FILE_KEYS)}")
    if data.get("schema_version", 1) != 1:
        errors.append(f"{path}: schema_version {data['schema_version']!r}: this mlreport reads version 1")
    file_notify = _delivery_table(NotifyConfig, data, "notify", f"{path.name}: [notify]", errors)
    file_export = _delivery_table(ExportConfig, data, "export", f"{path.name}: [export]", errors)
    jobs = data.get("job", [])
    if not isinstance(jobs, list) or not all(isinstance(j, dict) for j in jobs):
        raise InputError(f"{path}: 'job' must be an array of tables ([[job]])")
    if not jobs:
        errors.append(f"{path}: no [[job]] table")
    known = available_analyses()
    tasks: list[Task] = []
    seen: set[str] = set()
    for number, job in enumerate(jobs, start=1):
        name = job.get("name")
        label = f"{path.name} job #{number}" + (f" {name!r}" if isinstance(name, str) and name else "")
        if not isinstance(name, str) or not name.strip():
            errors.append(f"{label}: key 'name' is missing or empty")
            name = f"job{number}"
        elif name in seen:
            errors.append(f"{label}: key 'name': {name!r} is used by another job; names must be unique")
        seen.add(name)
        for key in job:
            if key not in _JOB_KEYS:
                errors.append(f"{label}: unknown key {key!r}{_closest(key, _JOB_KEYS)} (keys: {', '.join(_JOB_KEYS)})")
        enabled = job.get("enabled", True)
        if not isinstance(enabled, bool):
            errors.append(f"{label}: key 'enabled': expected true or false, got {enabled!r}")
        if "analysis" in job and "analyses" in job:
            errors.append(f"{label}: give 'analysis' or 'analyses', not both")
        names = job.get("analyses", job.get("analysis"))
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            errors.append(f"{label}: key 'analyses' (or 'analysis'): expected an analysis name or a list of them")
            names = []
        for analysis in names:
            if analysis not in known:
                errors.append(f"{label}: key 'analyses': unknown analysis {analysis!r}{_closest(analysis, known)} "
                              f"(available: {', '.join(known)})")
        names = [n for n in names if n in known]
        if len(set(names)) != len(names):
            errors.append(f"{label}: key 'analyses' lists an analysis twice")
        job_timeout = _positive(job["timeout"], f"{label}: key 'timeout'", errors) if "timeout" in job else timeout
        cell_timeout = (
            _positive(job["cell_timeout"], f"{label}: key 'cell_timeout'", errors) if "cell_timeout" in job else None
        )
        job_fail_on = job.get("fail_on", fail_on)
        if job_fail_on not in FAIL_ON:
            errors.append(f"{label}: key 'fail_on': {job_fail_on!r} is not one of {', '.join(FAIL_ON)}")
        common = job.get("params", {})
        if not isinstance(common, dict):
            errors.append(f"{label}: key 'params' must be a table of parameter names and values")
            common = {}
        per_analysis = job.get("analysis_params", {})
        if not isinstance(per_analysis, dict) or not all(isinstance(v, dict) for v in per_analysis.values()):
            errors.append(
                f"{label}: key 'analysis_params' must hold one table per analysis ([job.analysis_params.drift])"
            )
            per_analysis = {}
        for analysis in per_analysis:
            if analysis not in names:
                errors.append(f"{label}: key 'analysis_params.{analysis}': {analysis!r} is not among the job's "
                              f"analyses ({', '.join(names) or 'none'})")
        spec = job.get("spec")
        if spec is not None:
            if not isinstance(spec, str) or not spec.strip():
                errors.append(f"{label}: key 'spec': expected the path of a model spec (TOML)")
                spec = None
            else:
                try:
                    spec = fill_templates(spec, date=date, run_date=run_date, where=f"{label}: key 'spec'")
                except InputError as exc:
                    errors.append(str(exc))
                    spec = None
                if spec is not None and not (base / spec).is_file():
                    errors.append(f"{label}: key 'spec': model spec {spec!r} not found (relative to {base})")
        job_notify = _delivery_table(NotifyConfig, job, "notify", f"{label}: [job.notify]", errors)
        job_export = _delivery_table(ExportConfig, job, "export", f"{label}: [job.export]", errors)
        task_notify = file_notify.merged(job_notify).merged(notify or NotifyConfig())
        task_export = file_export.merged(job_export).merged(export or ExportConfig())
        takes_spec = []
        for analysis in names:
            where = f"{label} ({analysis})"
            try:
                declared = declared_parameters(notebook_path(analysis))
                merged = {**common, **per_analysis.get(analysis, {})}
                filled = fill_templates(merged, date=date, run_date=run_date, where=f"{where}: key 'params'")
                if spec is not None and "spec_path" in declared:
                    takes_spec.append(analysis)
                    if "spec_path" in filled:
                        errors.append(f"{where}: give the model spec as 'spec' or as params.spec_path, not both")
                    filled["spec_path"] = spec
                _, parameters = resolve_parameters(analysis, filled)
            except MlreportError as exc:
                errors.append(f"{where}: {exc}")
                continue
            if enabled is True and job_timeout is not None:
                tasks.append(Task(
                    job=name, analysis=analysis, parameters=parameters, timeout=job_timeout,
                    cell_timeout=cell_timeout or job_timeout, fail_on=str(job_fail_on), cwd=base,
                    notify=task_notify, export=task_export,
                ))
        if spec is not None and names and not takes_spec:
            errors.append(
                f"{label}: key 'spec': none of the analyses {', '.join(names)} takes a model spec (spec_path)"
            )
    if errors:
        raise InputError(f"{path}: {len(errors)} problem(s), nothing was run:", details=errors)
    return tasks


_Config = TypeVar("_Config", NotifyConfig, ExportConfig)


def _delivery_table(
    kind: type[_Config], table: Mapping[str, Any], key: str, where: str, errors: list[str],
) -> _Config:
    """``table[key]`` read by ``kind.from_table`` (NotifyConfig or ExportConfig); an empty config when absent."""
    if key not in table:
        return kind()
    try:
        return kind.from_table(table[key], where=where)
    except InputError as exc:
        errors.append(str(exc))
        return kind()


# -- running -----------------------------------------------------------------------------------------


#: Whether the platform has POSIX process groups (``os.killpg``); Windows does not.
_PROCESS_GROUPS = hasattr(os, "killpg")
#: Ends a process and every process it started, on a platform without process groups.
_TREE_KILL: tuple[str, ...] = ("taskkill", "/F", "/T", "/PID")


def _group_options() -> dict[str, Any]:
    """Popen options that start a job in a group of its own, so that a timeout ends it and only it.

    POSIX: a new session (its own process group: the driver and its kernel).
    Windows: a new process group, which CTRL_BREAK_EVENT can address.
    """
    if _PROCESS_GROUPS:
        return {"start_new_session": True}
    return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}


#: A job's driver: a process of its own, or forked from the batch's zygote (see :meth:`_Runner._fork`).
_Job = subprocess.Popen[bytes] | ServedRun

#: ``sys.argv[0]`` of ``python -m mlreport``: what a forked driver's command line starts with (run.json records it).
_MAIN = str(Path(__file__).resolve().parent.parent / "__main__.py")


def _kill_group(proc: _Job, grace: float) -> None:
    """Stop a job and everything it started: ask first, force what is left after ``grace`` s.

    POSIX: SIGTERM to the job's process group (driver and kernel), SIGKILL to
    it after the grace period. Without process groups (Windows): see
    :func:`_kill_tree`.
    """
    if not _PROCESS_GROUPS:
        assert isinstance(proc, subprocess.Popen)  # drivers are forked only where there are process groups
        _kill_tree(proc, grace)
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    # The driver past its grace period, or a kernel that outlived it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _kill_tree(proc: subprocess.Popen[bytes], grace: float) -> None:
    """Where there are no process groups to signal: ask the driver to stop, then end its process tree.

    The request is CTRL_BREAK_EVENT to the job's process group (the driver
    unwinds as on SIGTERM: its staging folder discarded, its kernel shut
    down), or a plain terminate where there is no such event. After
    ``grace`` s the whole tree is ended (``taskkill /F /T``), and the driver
    with it.
    """
    if proc.poll() is None:
        request = getattr(signal, "CTRL_BREAK_EVENT", None)
        with contextlib.suppress(OSError, ValueError):
            if request is not None:
                proc.send_signal(request)
            else:
                proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    if proc.poll() is None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run([*_TREE_KILL, str(proc.pid)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60, check=False)
        with contextlib.suppress(OSError):
            proc.kill()
    proc.wait()


class _Runner:
    """Runs tasks in subprocesses; shared state for the worker threads."""

    def __init__(self, out_dir: Path, batch_id: str, logs: Path, grace: float,
                 progress: Callable[[str], None] | None, total: int, env: dict[str, str] | None = None,
                 zygote: str | None = None) -> None:
        self.env = env  # the jobs' environment (None: this process's)
        self.zygote = zygote  # the socket of the zygote the jobs' drivers are forked from (None: processes)
        self.out_dir = out_dir
        self.batch_id = batch_id
        self.logs = logs
        self.grace = grace
        self.progress = progress
        self.total = total
        self.done = 0
        self.lock = threading.Lock()
        self.live: set[_Job] = set()
        self.stopping = threading.Event()

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    def stop(self) -> None:
        """Stop starting tasks and kill the running ones (the batch was interrupted)."""
        self.stopping.set()
        with self.lock:
            live = list(self.live)
        for proc in live:
            _kill_group(proc, 2.0)

    def _recorded(self, task: Task) -> RunRecord | None:
        registry = open_registry(self.out_dir)
        for record in registry.batch_runs(self.batch_id):
            if record.job == task.job and record.analysis == task.analysis:
                return record
        return None

    def _delivery_options(self, task: Task, stem: str) -> list[str]:
        """The run's notifications and exports as options (no secret: the config names variables only)."""
        options: list[str] = []
        if task.notify.enabled:
            notify_file = self.logs / f"{stem}.notify.json"
            write_json_atomic(notify_file, {"notify": task.notify.to_dict()})
            options += ["--notify-config", str(notify_file)]
        if task.export.prometheus_dir:
            options += ["--prometheus-dir", task.export.prometheus_dir]
        if task.export.mlflow:
            options.append(f"--mlflow={task.export.mlflow_uri}")
        if task.export.mlflow_experiment:
            options += ["--mlflow-experiment", task.export.mlflow_experiment]
        return options

    def _fork(self, arguments: list[str], task: Task, stderr: int) -> ServedRun | None:
        """The job's driver forked from the batch's zygote (``python -m mlreport`` with ``arguments``), or None.

        What a subprocess job gets, it gets: the jobs' environment, the task's
        folder, stdin from /dev/null, stdout to a pipe read here, stderr to the
        job's log, a session (process group) of its own. None when there is no
        zygote, it is dead or it refuses: the job then starts a process.
        """
        if self.zygote is None or self.env is None:
            return None
        read, write = os.pipe()
        null = os.open(os.devnull, os.O_RDONLY)
        try:
            served = request_run(
                self.zygote, [_MAIN, *arguments], env=self.env, cwd=str(task.cwd), stdin=null, stdout=write,
                stderr=stderr, watch=False, stdout_read=read,
            )
        finally:
            os.close(null)
            os.close(write)
        if served is None:
            os.close(read)
        return served

    def run(self, number: int, task: Task) -> TaskResult:
        stem = f"{number:03d}-{safe_name(task.job)}-{safe_name(task.analysis)}"
        params_file = self.logs / f"{stem}.params.json"
        log_file = self.logs / f"{stem}.log"
        if self.stopping.is_set():
            return TaskResult(task.job, task.analysis, "not started", 2, 0.0, error="the batch was interrupted")
        write_json_atomic(params_file, task.parameters)
        arguments = [
            "run", task.analysis, "--params-file", str(params_file),
            "--out", str(self.out_dir), "--fail-on", task.fail_on, "--timeout", repr(task.cell_timeout),
            "--json", "--no-index", "--batch-id", self.batch_id, "--job", task.job,
            *self._delivery_options(task, stem),
        ]
        started = time.monotonic()
        timed_out = False
        proc: _Job
        try:
            with open(log_file, "wb") as stderr:
                forked = self._fork(arguments, task, stderr.fileno())
                if forked is not None:
                    proc = forked
                else:
                    proc = subprocess.Popen(
                        [sys.executable, "-m", "mlreport", *arguments], cwd=task.cwd, stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=stderr, env=self.env,
                        **_group_options(),  # its own process group: a timeout kills the driver and its kernel
                    )
                with self.lock:
                    self.live.add(proc)
                try:
                    stdout, _ = proc.communicate(timeout=task.timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    _kill_group(proc, self.grace)
                    stdout, _ = proc.communicate()
                finally:
                    with self.lock:
                        self.live.discard(proc)
        except OSError as exc:
            return self._finish(TaskResult(task.job, task.analysis, "not started", 2, time.monotonic() - started,
                                           error=f"could not start: {exc}", log=str(log_file)))
        seconds = time.monotonic() - started
        code = proc.wait()  # ended already: its exit code
        data: dict[str, Any] = {}
        try:
            data = json.loads(stdout.decode("utf-8", "replace").strip().splitlines()[-1]) if stdout.strip() else {}
        except ValueError:
            data = {}
        if not timed_out and code in (0, 1, 2, 3) and data.get("run_id"):
            # A run that reached its end, a failed one included (exit 2: it stopped on bad input, and its
            # RUN FAILED report says which): its id, report and message, as `mlreport run --json` gave them.
            return self._finish(TaskResult(
                task.job, task.analysis, str(data.get("status")), code, seconds, run_id=str(data["run_id"]),
                report=_text_or_none(data.get("report")), error=_error_text(data.get("error")), log=str(log_file),
                deliveries=list(data.get("deliveries") or []),
            ))
        if not timed_out and code == 2:
            # Refused before it started (a parameter, a file, the outputs folder): nothing was run.
            return self._finish(TaskResult(
                task.job, task.analysis, "not started", 2, seconds,
                error=_error_text(data.get("error")) or _last_error(log_file), log=str(log_file),
            ))
        if self.stopping.is_set():
            return TaskResult(task.job, task.analysis, "failed", 3, seconds, error="the batch was interrupted",
                              log=str(log_file))
        # The run did not report itself: killed on timeout, or its driver died.
        # A run that committed just before the kill is already recorded; use it.
        record = self._recorded(task)
        if record is not None:
            return self._finish(TaskResult(
                task.job, task.analysis, record.status, record.exit_code, seconds, run_id=record.run_id,
                report=str(self.out_dir / record.report_path), error=record.error_message, log=str(log_file),
            ))
        if timed_out:
            failure = Failure("batch timeout", (
                f"job {task.job!r} ({task.analysis}) ran longer than its {task.timeout:g} s timeout and was killed "
                "(SIGTERM to its process group, then SIGKILL)"))
        else:
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code} without a result"
            failure = Failure("process died", (
                f"the run process of job {task.job!r} ({task.analysis}) {how}; see {log_file}"))
        try:
            result = record_failed_run(
                task.analysis, task.parameters, failure, out=self.out_dir, fail_on=task.fail_on,
                elapsed_s=seconds, timeout=task.cell_timeout, cwd=task.cwd,
                batch=BatchRef(self.batch_id, task.job), update_index=False, notify=task.notify, export=task.export,
            )
        except MlreportError as exc:
            return self._finish(TaskResult(task.job, task.analysis, "failed", 3, seconds,
                                           error=f"{failure.message}; recording it failed too: {exc}",
                                           log=str(log_file)))
        return self._finish(TaskResult(
            task.job, task.analysis, "failed", 3, seconds, run_id=result.run_id, report=str(result.report_path),
            error=failure.message, log=str(log_file), deliveries=[d.to_dict() for d in result.deliveries],
        ))

    def _finish(self, result: TaskResult) -> TaskResult:
        with self.lock:
            self.done += 1
            done = self.done
        word = result.status.upper()
        detail = f": {result.error}" if result.error and result.exit_code >= 2 else ""
        # One line per finished run: the job's name and the error come from the jobs file and the data.
        self.say(neutralise(f"[{done}/{self.total}] {result.job} {result.analysis}: {word} (exit {result.exit_code}) "
                            f"in {result.seconds:.1f} s{detail}"))
        return result


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _error_text(error: object) -> str | None:
    """The readable message of a ``--json`` object's ``error``: its ``message`` when it is a failure, else the text."""
    if isinstance(error, dict):
        message = error.get("message")
        return str(message) if message else None
    return str(error) if error else None


def _last_error(path: Path) -> str:
    """The job's ``mlreport: error:`` line (its stderr log), else its last line."""
    try:
        lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    errors = [line.removeprefix("mlreport: error: ") for line in lines if line.startswith("mlreport: error:")]
    return errors[-1] if errors else (lines[-1] if lines else "")


def _kernel_zygote(tasks: Sequence[Task], log_path: Path) -> Zygote:
    """A kernel zygote for the batch's jobs (driver/_zygote.py), importing what their notebooks import.

    Its environment is the one the jobs' kernels would get; a job whose
    kernel would see another (or other code) gets a fresh kernel instead.
    """
    modules = notebook_imports([task.analysis for task in tasks])
    return Zygote(modules, env=kernel_env(), log_path=log_path)


def run_batch(
    tasks: Sequence[Task],
    *,
    out: str | os.PathLike[str] | None = None,
    jobs: int = 2,
    date: dt.date | None = None,
    run_date: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    grace: float = KILL_GRACE_S,
    zygote: bool = True,
) -> BatchResult:
    """Run ``tasks`` at most ``jobs`` at a time; results in the tasks' order.

    ``out`` is the outputs folder (default: ``$MLREPORT_OUT``, else
    ``./outputs``). Logs (each run's stderr), the parameters passed and
    ``summary.json`` go to ``<out>/.batches/<batch id>/``. The index is
    rebuilt once at the end.

    ``zygote``: fork the jobs' drivers and kernels from one process that
    imported the driver, ipykernel and the notebooks' imports once
    (:func:`_kernel_zygote`, :meth:`_Runner._fork`); its log (stderr) is
    ``zygote.stderr`` beside the jobs'. False: every job starts a process
    of its own with a fresh kernel.
    """
    if jobs < 1:
        raise InputError(f"--jobs {jobs}: expected at least 1")
    out_dir = (Path(out) if out is not None else default_out_dir()).resolve()
    make_out_dir(out_dir)
    open_registry(out_dir)  # create it once, before the workers race to
    today = dt.datetime.now(dt.UTC).date()
    batch_id = "batch-" + new_run_id()
    logs = out_dir / ".batches" / batch_id
    logs.mkdir(parents=True, exist_ok=True)
    result = BatchResult(batch_id, (date or today).isoformat(), (run_date or today).isoformat(), out_dir)
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        env: dict[str, str] | None = None
        socket_path: str | None = None
        if zygote and tasks and fork_supported():
            kernels = stack.enter_context(_kernel_zygote(tasks, logs / "zygote.stderr"))
            if kernels.socket_path:
                socket_path = kernels.socket_path
                env = {**os.environ, ZYGOTE_ENV: socket_path}
        runner = _Runner(out_dir, batch_id, logs, grace, progress, len(tasks), env, socket_path)
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="mlreport-batch")
        try:
            futures = [pool.submit(runner.run, number, task) for number, task in enumerate(tasks, start=1)]
            result.results = [future.result() for future in futures]
        except BaseException:
            runner.stop()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    result.seconds = time.monotonic() - started
    try:
        result.index = str(write_index(out_dir))
    except MlreportError as exc:
        log.warning("the index could not be rebuilt: %s", exc)
    write_json_atomic(logs / "summary.json", result.to_dict())
    return result


def format_summary(result: BatchResult) -> str:
    """The end-of-batch table: job, analysis, status, exit code, seconds, report; one line per run, neutralised."""
    header = ("job", "analysis", "status", "exit", "seconds", "report")
    rows = [
        tuple(neutralise(cell) for cell in (
            r.job, r.analysis, r.status.upper(), str(r.exit_code), f"{r.seconds:.1f}", r.report or (r.error or ""),
        ))
        for r in result.results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]]).rstrip()
        for row in (header, *rows)
    ]
    counts: dict[str, int] = {}
    for r in result.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    tally = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    lines.append("")
    lines.append(neutralise(
        f"batch {result.batch_id} for {result.date}: {len(result.results)} run(s) in {result.seconds:.1f} s "
        f"({tally or 'nothing to run'}); exit code {result.exit_code}"
    ))
    if result.index:
        lines.append(f"index: {neutralise(result.index)}")
    return "\n".join(lines)
