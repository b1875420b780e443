"""The ``mlreport`` command line: parses arguments, calls the library, prints what it returns.

Every command is one call into the library (``run`` and ``demo`` call
:func:`mlreport.run`, the function Python users call) and the printing of its
result: text on stderr or stdout, or with ``--json`` one JSON object on
stdout (the result's ``to_dict()``). Errors the library raises on purpose
(:class:`~mlreport.errors.MlreportError`) become one ``mlreport: error:``
line and their exit code.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

# jsonschema (imported by nbformat) builds a grammar for IRI format checks at
# import, 2.2 s of every command's start. Notebook schemas use no formats, and
# this process validates nothing else, so the optional module is left out here
# (jsonschema then skips those checks). This runs only where mlreport.cli is
# imported, the command's own process; the library never does it.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from . import __version__
from .driver import DEFAULT_CELL_TIMEOUT, DEFAULT_START_TIMEOUT
from .errors import InputError, MlreportError
from .terminal import SafeFormatter, neutralise

if TYPE_CHECKING:
    from .driver import RunResult
    from .export import ExportConfig
    from .notify import NotifyConfig

__all__ = ["main", "build_parser"]

EPILOG = """\
exit codes:
  0  healthy: no finding at or above --fail-on
  1  findings at or above --fail-on (default: incident); never anything else
  2  bad invocation or input: nothing was run; or the notebook stopped on bad input
     (a data, parameter, spec, scenario or model error), with a failure report naming it
  3  the run failed (notebook error, timeout, dead kernel, an unusable disk); a failure report
     was written where the disk allowed; also any error mlreport did not foresee
  batch: the highest exit code of its jobs (2 for a job that could not start or stopped on bad input)
  verify: 0 clean, 1 tampering or damage found (a damaged registry included), 2 bad invocation
  rerun: 0 same verdicts, 1 verdicts differ, 2 refused (an input changed or is missing)
  registry rebuild: 0 rebuilt, 2 bad invocation
  130 and 143: interrupted (SIGINT) and terminated (SIGTERM); a run not committed left nothing

with --json, stdout holds exactly one JSON object for every outcome, usage errors included

environment:
  MLREPORT_OUT         default output folder instead of ./outputs (--out wins)
  MLREPORT_AUDIT_KEY   a secret (at least 16 characters): sign each audit entry with HMAC-SHA256,
                       and check the signatures in `mlreport verify`
  notifications read their secrets from the environment only: MLREPORT_SLACK_WEBHOOK_URL,
  MLREPORT_TEAMS_WEBHOOK_URL, MLREPORT_WEBHOOK_URL (MLREPORT_WEBHOOK_SECRET signs it),
  MLREPORT_SMTP_HOST/_PORT/_USER/_PASSWORD, MLREPORT_MAIL_FROM/_TO, MLREPORT_REPORT_URL
  (see docs/integrations.md); --mlflow without URI reads MLFLOW_TRACKING_URI
"""

OUT_HELP = "output folder (default: $MLREPORT_OUT or ./outputs)"


class _UsageError(InputError):
    """A command line argparse refuses: an unknown option, a missing or malformed value."""


class _Terminated(SystemExit):
    """SIGTERM (a scheduler's timeout), raised where the main thread is."""


class _Parser(argparse.ArgumentParser):
    """argparse, raising its usage errors instead of exiting, so that ``--json`` still gets its one object."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}")


# -- option types: each refuses what is outside its documented domain, naming what was expected --------


def _seconds(text: str) -> float:
    """A finite number of seconds above zero (90.5 is fine; 0, -1, inf and nan are not)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a finite number of seconds above 0, such as 90.5")
    return value


def _days(text: str) -> float:
    """A finite number of days, zero or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a finite number of days, 0 or more")
    return value


def _whole(least: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number >= {least}")
        return value

    parse.__name__ = f"whole number >= {least}"
    return parse


def _folder(text: str) -> str:
    """A folder path: not empty (an empty --out would silently mean ./outputs)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder, got an empty string (leave --out out for the default)")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a folder name cannot hold a NUL character")
    return text


def _add_param_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--param", "-p", action="append", default=[], metavar="NAME=VALUE",
        help="a notebook parameter; VALUE is read as JSON when it parses, else as a string (repeatable)",
    )
    parser.add_argument(
        "--params-file", metavar="FILE", help="parameters from a JSON, YAML or TOML file (--param wins)"
    )


def _add_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", type=_folder, help=OUT_HELP)


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")


def _add_delivery_options(parser: argparse.ArgumentParser) -> None:
    """Where a recorded run is sent on: notifications and metric exports (mlreport.notify, mlreport.export)."""
    group = parser.add_argument_group("after the run is recorded (a failure here never changes the exit code)")
    group.add_argument("--notify", action="append", default=[], metavar="CHANNEL",
                       help="notify webhook, slack, teams or email (repeatable); settings from the environment")
    group.add_argument("--notify-on", choices=["ok", "warning", "incident", "failed"], default=None,
                       help="lowest status that notifies (default: incident; failed ranks above incident)")
    group.add_argument("--notify-config", metavar="FILE",
                       help="a TOML or JSON file with a [notify] table, as in jobs files (--notify adds to it)")
    group.add_argument("--prometheus-dir", metavar="DIR",
                       help="write the run's key numbers as a textfile into node-exporter's textfile folder")
    group.add_argument("--mlflow", nargs="?", const="", default=None, metavar="URI",
                       help="log the run to MLflow at URI (default: $MLFLOW_TRACKING_URI); needs mlreport[mlflow]")
    group.add_argument("--mlflow-experiment", metavar="NAME", help="MLflow experiment (default: mlreport/<model>)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mlreport",
        description="Investigation and incident reports for deployed decision models.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mlreport {__version__}")
    parser.add_argument("--verbose", "-v", action="store_true", help="log more on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("list", help="the analyses and their parameters")

    run = sub.add_parser(
        "run", help="execute an analysis notebook and write its report", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("analysis", help="analysis name (see `mlreport list`)")
    _add_param_options(run)
    _add_out(run)
    run.add_argument("--fail-on", choices=["warning", "incident", "never"], default="incident",
                     help="lowest status that makes the exit code 1 (default: incident)")
    run.add_argument("--timeout", type=_seconds, default=float(DEFAULT_CELL_TIMEOUT), metavar="SECONDS",
                     help=f"per-cell timeout, seconds above 0 (default: {DEFAULT_CELL_TIMEOUT})")
    run.add_argument("--start-timeout", type=_seconds, default=float(DEFAULT_START_TIMEOUT), metavar="SECONDS",
                     help=f"kernel start timeout, seconds above 0 (default: {DEFAULT_START_TIMEOUT})")
    _add_json(run)
    run.add_argument("--pdf", action="store_true", help="also print the report to report.pdf (headless Chromium)")
    _add_delivery_options(run)
    # Set by `mlreport batch` for the runs it starts: provenance, and one index rebuild at the end.
    run.add_argument("--no-index", action="store_true", help=argparse.SUPPRESS)
    run.add_argument("--batch-id", help=argparse.SUPPRESS)
    run.add_argument("--job", help=argparse.SUPPRESS)

    prep = sub.add_parser("prepare", help="write the parameterised notebook without running it")
    prep.add_argument("analysis")
    _add_param_options(prep)
    prep.add_argument("-o", "--output", required=True, metavar="NOTEBOOK.ipynb")

    demo = sub.add_parser("demo", help="every analysis on the built-in sample data, then the index page")
    _add_out(demo)
    demo.add_argument("--timeout", type=_seconds, default=float(DEFAULT_CELL_TIMEOUT), metavar="SECONDS")
    _add_json(demo)

    sample = sub.add_parser("sample-data", help="write the built-in sample data as Parquet and CSV")
    sample.add_argument("directory", type=_folder)
    sample.add_argument("--rows", type=_whole(1), default=50_000)
    sample.add_argument("--seed", type=_whole(0), default=7)
    sample.add_argument("--incident", action="append", default=[], metavar="NAME",
                        help="inject an incident (repeatable); see `mlreport sample-data --list-incidents`")
    sample.add_argument("--list-incidents", action="store_true", help="list the incidents and exit")

    batch = sub.add_parser(
        "batch", help="run every job of a JOBS.toml in parallel processes (for cron and Airflow)", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    batch.add_argument("jobs_file", metavar="JOBS.toml")
    batch.add_argument("--jobs", "-j", type=_whole(1), default=2, metavar="N", help="runs at once (default: 2)")
    batch.add_argument("--date", metavar="YYYY-MM-DD", help="logical date for {date} templates (default: today, UTC)")
    batch.add_argument("--timeout", type=_seconds, default=float(DEFAULT_CELL_TIMEOUT), metavar="SECONDS",
                       help=f"per-job timeout for jobs that set none (default: {DEFAULT_CELL_TIMEOUT})")
    batch.add_argument("--fail-on", choices=["warning", "incident", "never"], default="incident",
                       help="fail-on for jobs that set none (default: incident)")
    batch.add_argument("--fresh-kernels", action="store_true",
                       help="start every job's driver and kernel afresh instead of forking them from one process "
                            "that imported the driver, ipykernel and the notebooks' imports once "
                            "(slower; same reports)")
    _add_out(batch)
    _add_json(batch)
    _add_delivery_options(batch)

    history = sub.add_parser("history", help="runs recorded in the registry, newest first (reads only)")
    history.add_argument("--model", metavar="M")
    history.add_argument("--analysis", metavar="A")
    history.add_argument("--status", choices=["ok", "warning", "incident", "failed"])
    history.add_argument("--limit", type=_whole(1), default=50, metavar="N", help="at most N runs (default: 50)")
    _add_out(history)
    _add_json(history)

    show = sub.add_parser("show", help="everything the registry holds about one run (reads only)")
    show.add_argument("run_id", metavar="RUN_ID", help="run id (a unique prefix is enough)")
    _add_out(show)
    _add_json(show)

    verify = sub.add_parser(
        "verify", help="recheck the audit trail and every run's files; say what changed (reads only)", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("run_id", nargs="?", metavar="RUN_ID", help="one run (the chain is always checked whole)")
    verify.add_argument("--all", action="store_true", help="every run (the default without RUN_ID)")
    verify.add_argument("--head", action="store_true",
                        help="print only the audit trail's head ('SEQ HASH') on stdout, for the scheduler's log; "
                             "the report goes to stderr")
    verify.add_argument("--expect-head", metavar="[SEQ:]HASH",
                        help="an earlier head, kept outside the outputs folder: the trail must still hold it")
    _add_out(verify)
    _add_json(verify)

    rerun = sub.add_parser(
        "rerun", help="re-execute a run with its recorded parameters and inputs, and compare the findings",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rerun.add_argument("run_id", metavar="RUN_ID")
    _add_out(rerun)
    rerun.add_argument("--timeout", type=_seconds, metavar="SECONDS", help="per-cell timeout (default: the original's)")
    _add_json(rerun)

    pdf = sub.add_parser("pdf", help="print a run's report to report.pdf in its folder (headless Chromium)")
    pdf.add_argument("run_id", metavar="RUN_ID", help="run id (a unique prefix is enough) or run folder")
    _add_out(pdf)
    _add_json(pdf)

    schema = sub.add_parser("schema", help="print the JSON Schema of run.json, --json, jobs files, model specs...")
    schema.add_argument("name", nargs="?", metavar="NAME", help="manifest, result, jobs, spec or notification "
                        "(without NAME: list them)")

    prune = sub.add_parser("prune", help="delete run folders older than N days; the registry and audit trail keep them")
    prune.add_argument("--keep-days", type=_days, required=True, metavar="N")
    prune.add_argument("--dry-run", action="store_true", help="list what would be deleted; change nothing")
    _add_out(prune)
    _add_json(prune)

    kernels = sub.add_parser("kernels", help="serve kernels forked from one warm process to runs that ask for it")
    kernels_sub = kernels.add_subparsers(dest="kernels_command", metavar="ACTION", required=True)
    serve = kernels_sub.add_parser(
        "serve",
        help="import ipykernel, the driver and the notebooks' imports once, then fork each `mlreport run` (its "
             "driver and its kernel) from this process (a run hands itself over when MLREPORT_KERNEL_ZYGOTE names "
             "its socket; it serves only runs of the same code and environment, of this user); runs in the "
             "foreground until stopped",
    )
    serve.add_argument("--socket", metavar="PATH",
                       help="its Unix socket (default: $MLREPORT_KERNEL_ZYGOTE, else "
                            "$XDG_RUNTIME_DIR/mlreport-UID/kernels.sock); the folder must be private (0700)")

    registry = sub.add_parser("registry", help="maintain the run registry (registry.sqlite)")
    registry_sub = registry.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    rebuild = registry_sub.add_parser(
        "rebuild",
        help="rebuild registry.sqlite from the run folders and the audit trail (the damaged file is kept aside)",
    )
    rebuild.add_argument("--import-unrecorded", action="store_true",
                         help="also import run folders the audit trail never recorded, each with an 'import' entry")
    _add_out(rebuild)
    _add_json(rebuild)
    return parser


def _terminate(signum: int, frame: FrameType | None) -> None:
    # A scheduler's timeout sends SIGTERM: unwind through the run's cleanup
    # (staging discarded, kernel shut down), then say so as SIGINT does.
    raise _Terminated(128 + signum)


class _Output:
    """Where the command's text goes, and the promise of ``--json``: exactly one object on stdout."""

    def __init__(self, json_mode: bool) -> None:
        self.json = json_mode
        self.emitted = False

    def emit(self, data: Mapping[str, object]) -> None:
        if not self.emitted:
            self.emitted = True
            # ensure_ascii: every character beyond ASCII, and every control character, is a \\u escape.
            sys.stdout.write(json.dumps(data, default=str) + "\n")
            sys.stdout.flush()

    def error(self, kind: str, exit_code: int, message: str, details: Sequence[str] = (), *, error_type: str) -> None:
        """An outcome without a result: one ``mlreport: ...`` line (and its details) on stderr, and the JSON object.

        ``error_type`` names the error (``ParameterError``, ``UsageError``, ``Interrupted``...) for a program to act on.
        """
        print(f"mlreport: {kind}: {neutralise(message)}", file=sys.stderr)
        for line in details:
            print(f"  {neutralise(line)}", file=sys.stderr)
        if self.json:
            data: dict[str, object] = {"status": "error", "exit_code": exit_code, "error": message, "type": error_type}
            if details:
                data["error"] = message + "".join(f"\n  {line}" for line in details)
                data["details"] = list(details)
            self.emit(data)


def _say(text: object) -> None:
    """One line for the operator on stderr, neutralised."""
    print(neutralise(text), file=sys.stderr)


def _out(args: argparse.Namespace) -> Path | None:
    """``--out`` as given (None: the library's default, ``$MLREPORT_OUT`` or ``./outputs``)."""
    return Path(args.out) if args.out is not None else None


def _cmd_list(args: argparse.Namespace, output: _Output) -> int:
    from .backends import backend_origins
    from .driver import analysis_sources, declared_parameters

    for name, source in analysis_sources().items():
        print(neutralise(name if source.origin == "built-in" else f"{name}  (from {source.origin})"))
        for parameter in declared_parameters(source.notebook).values():
            default = json.dumps(parameter.default)
            print(neutralise(f"  {parameter.name:<26} {parameter.type:<6} default {default:<24} {parameter.help}"))
        print()
    print("backends (the backend parameter; auto chooses by the data's size)")
    for name, origin in backend_origins().items():
        print(f"  {name:<26} {origin}")
    return 0


def _print_result(result: RunResult) -> None:
    _say(f"{result.status.upper():9} {result.analysis}: {result.headline}")
    _say(f"          report: {result.report_path}")
    for delivery in result.deliveries:
        detail = f": {delivery.detail}" if delivery.detail else ""
        _say(f"          {delivery.channel} {delivery.status}{detail}")


def _deliveries(args: argparse.Namespace) -> tuple[NotifyConfig, ExportConfig]:
    """The notifications and exports the options ask for, checked before anything runs."""
    from .export import ExportConfig
    from .notify import NotifyConfig, load_notify_config

    notify = load_notify_config(args.notify_config) if args.notify_config else NotifyConfig()
    notify = notify.merged(NotifyConfig.from_options(args.notify, args.notify_on))
    export = ExportConfig(
        prometheus_dir=args.prometheus_dir or "", mlflow=args.mlflow is not None, mlflow_uri=args.mlflow or "",
        mlflow_experiment=args.mlflow_experiment or "",
    )
    export.check(where="--prometheus-dir/--mlflow")
    return notify, export


def _cmd_run(args: argparse.Namespace, output: _Output) -> int:
    from .driver import BatchRef, parse_assignments, require_chromium, run

    if args.pdf:
        require_chromium()  # before running: a missing browser is a bad invocation, nothing run
    notify, export = _deliveries(args)
    result = run(
        args.analysis,
        parse_assignments(args.param),
        out=_out(args),
        params_file=args.params_file,
        fail_on=args.fail_on,
        timeout=args.timeout,
        start_timeout=args.start_timeout,
        progress=False if args.json else None,
        update_index=not args.no_index,
        batch=BatchRef(args.batch_id, args.job or "") if args.batch_id else None,
        notify=notify,
        export=export,
    )
    pdf = _pdf_of(result.run_id, result.run_dir) if args.pdf and result.report_path.is_file() else None
    if args.json:
        output.emit({**result.to_dict(), "pdf": str(pdf) if pdf else None} if args.pdf else result.to_dict())
    else:
        _print_result(result)
    return result.exit_code


def _pdf_of(run_id: str, run_dir: Path) -> Path | None:
    """``--pdf``: the report printed beside it; a printing failure is said, and does not change the run's exit code."""
    from .driver import write_pdf

    try:
        pdf = write_pdf(run_dir)
    except MlreportError as exc:
        _say(f"mlreport: warning: run {run_id}: no PDF: {exc}")
        return None
    _say(f"          pdf: {pdf}")
    return pdf


def _cmd_pdf(args: argparse.Namespace, output: _Output) -> int:
    from .driver import write_pdf

    pdf = write_pdf(args.run_id, out=_registry_out(args))
    if args.json:
        output.emit({"run_id": args.run_id, "pdf": str(pdf)})
    else:
        print(neutralise(str(pdf)))
    return 0


def _cmd_prepare(args: argparse.Namespace, output: _Output) -> int:
    from .driver import parse_assignments, prepare_notebook

    path = prepare_notebook(args.analysis, Path(args.output), parse_assignments(args.param), args.params_file)
    _say(f"wrote {path}; open it with: jupyter lab {path}")
    return 0


def _cmd_demo(args: argparse.Namespace, output: _Output) -> int:
    from .driver import demo

    def starting(name: str) -> None:
        _say(f"running {name} on the built-in sample data ...")

    result = demo(
        out=_out(args), timeout=args.timeout, progress=False if args.json else None, on_start=starting,
        on_result=None if args.json else _print_result,
    )
    if args.json:
        output.emit(result.to_dict())
    else:
        _say(f"\nindex of all runs: {result.index.resolve()}".lstrip("\n"))
    return result.exit_code


def _cmd_sample_data(args: argparse.Namespace, output: _Output) -> int:
    from . import sample

    if args.list_incidents:
        for name, text in sample.INCIDENTS.items():
            print(neutralise(f"{name:<22} {text}"))
        return 0
    paths = sample.write_sample_data(
        Path(args.directory), rows=args.rows, incidents=tuple(args.incident), seed=args.seed
    )
    for name, path in paths.items():
        print(neutralise(f"{name:<20} {path}"))
    return 0


def _cmd_batch(args: argparse.Namespace, output: _Output) -> int:
    from .driver import format_summary, load_jobs, parse_date, run_batch

    date = parse_date(args.date)
    notify, export = _deliveries(args)
    tasks = load_jobs(args.jobs_file, date=date, timeout=args.timeout, fail_on=args.fail_on, notify=notify,
                      export=export)
    result = run_batch(
        tasks, out=_out(args), jobs=args.jobs, date=date, zygote=not args.fresh_kernels,
        progress=lambda line: print(neutralise(line), file=sys.stderr, flush=True),
    )
    if args.json:
        output.emit(result.to_dict())
    else:
        print(format_summary(result))
    return result.exit_code


def _registry_out(args: argparse.Namespace) -> Path:
    from .driver import default_out_dir

    return _out(args) or default_out_dir()


def _cmd_history(args: argparse.Namespace, output: _Output) -> int:
    from .record import format_history, read_registry

    records = read_registry(_registry_out(args)).history(
        model=args.model, analysis=args.analysis, status=args.status, limit=args.limit
    )
    if args.json:
        output.emit({"count": len(records), "runs": [r.to_dict() for r in records]})
    else:
        print(format_history(records))
    return 0


def _cmd_show(args: argparse.Namespace, output: _Output) -> int:
    from .record import format_record, read_registry

    out = _registry_out(args)
    record = read_registry(out).get(args.run_id)
    if args.json:
        output.emit(record.to_dict())
    else:
        print(format_record(record, out_dir=out))
    return 0


def _cmd_verify(args: argparse.Namespace, output: _Output) -> int:
    from .record import verify

    if args.run_id and args.all:
        raise InputError("give RUN_ID or --all, not both")
    report = verify(_registry_out(args), args.run_id, expect_head=args.expect_head)
    if args.json:
        output.emit(report.to_dict())
    elif args.head:
        print(report.format(), file=sys.stderr)
        print(f"{report.head_seq} {neutralise(report.head)}")
    else:
        print(report.format())
    return report.exit_code


def _cmd_rerun(args: argparse.Namespace, output: _Output) -> int:
    from .driver import rerun

    result = rerun(args.run_id, out=_out(args), timeout=args.timeout, progress=False if args.json else None)
    if args.json:
        output.emit(result.to_dict())
    else:
        print(result.format())
    return result.exit_code


def _cmd_prune(args: argparse.Namespace, output: _Output) -> int:
    from .record import prune

    result = prune(_registry_out(args), args.keep_days, dry_run=args.dry_run)
    if args.json:
        output.emit(result.to_dict())
    else:
        print(result.format())
    return 0


def _cmd_registry(args: argparse.Namespace, output: _Output) -> int:
    from .record import rebuild_registry

    result = rebuild_registry(_registry_out(args), import_unrecorded=args.import_unrecorded)
    if args.json:
        output.emit(result.to_dict())
    else:
        print(result.format())
    return 0


def _cmd_kernels(args: argparse.Namespace, output: _Output) -> int:
    from .driver import analyses, default_socket, serve_kernels

    path = Path(args.socket) if args.socket else default_socket()
    serve_kernels(path, analyses())  # replaces this process with the zygote
    return 0


def _cmd_schema(args: argparse.Namespace, output: _Output) -> int:
    from .schema import SCHEMAS, schema_text

    if args.name is None:
        for name, text in SCHEMAS.items():
            print(neutralise(f"{name:<14} {text}"))
        return 0
    sys.stdout.write(schema_text(args.name))
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, _Output], int]] = {
    "list": _cmd_list, "run": _cmd_run, "prepare": _cmd_prepare, "demo": _cmd_demo, "sample-data": _cmd_sample_data,
    "batch": _cmd_batch, "history": _cmd_history, "show": _cmd_show, "verify": _cmd_verify, "rerun": _cmd_rerun,
    "prune": _cmd_prune, "registry": _cmd_registry, "pdf": _cmd_pdf, "schema": _cmd_schema,
    "kernels": _cmd_kernels,
}


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    # Every log record one line of inert text: messages carry paths, names and values from data.
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler], force=True)
    # mlreport's own progress lines go to stderr unless stderr is a terminal
    # (papermill's progress bar draws there instead).
    logging.getLogger("mlreport").setLevel(logging.INFO if (verbose or not sys.stderr.isatty()) else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # Known before parsing, so that a usage error still answers in JSON.
    output = _Output("--json" in arguments[: arguments.index("--")] if "--" in arguments else "--json" in arguments)
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
    except _UsageError as exc:
        # One line, as for every other error (a scheduler's log greps for "mlreport: error:"); --help has the usage.
        output.error("error", exc.exit_code, exc.message, error_type="UsageError")
        return exc.exit_code
    _configure_logging(args.verbose)
    if args.command is None:
        if output.json:
            output.error("error", 2, "no command given (see `mlreport --help`)", error_type="UsageError")
        else:
            parser.print_help(sys.stderr)
        return 2
    command = _COMMANDS[args.command]
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return command(args, output)
    except MlreportError as exc:
        output.error("error", exc.exit_code, exc.message, exc.details, error_type=type(exc).__name__)
        return exc.exit_code
    except KeyboardInterrupt:
        output.error("interrupted", 130, "interrupted; a run that had not reached its commit left nothing behind",
                     error_type="Interrupted")
        return 130
    except _Terminated as exc:
        code = int(exc.code) if isinstance(exc.code, int) else 143
        name = signal.Signals(code - 128).name if 128 < code < 128 + 65 else "a signal"
        output.error("terminated", code, f"terminated ({name}); a run that had not reached its commit left nothing "
                     "behind", error_type="Terminated")
        return code
    except BrokenPipeError:
        # `mlreport history | head`: the reader left; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        output.error(
            "internal error", 3,
            f"{type(exc).__name__}: {exc} (not a problem with your input that mlreport recognised; run again with "
            "--verbose for the traceback and report it)",
            error_type=type(exc).__name__,
        )
        if args.verbose:
            import traceback

            for line in traceback.format_exc().splitlines():
                _say(line)
        return 3
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
