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
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from .driver import RunResult
    from .export import ExportConfig
    from .notify import NotifyConfig

__all__ = ["main", "build_parser"]

EPILOG = """\
exit codes:
  0  healthy: no finding at or above --fail-on
  1  findings at or above --fail-on (default: incident)
  2  bad invocation or input: nothing was run; or the notebook stopped on bad input
     (a data, parameter, spec, scenario or model error), with a failure report naming it
  3  the run failed (notebook error, timeout, dead kernel); a failure report was written
  batch: the highest exit code of its jobs (2 for a job that could not start or stopped on bad input)
  verify: 0 clean, 1 tampering or damage found, 2 bad invocation
  rerun: 0 same verdicts, 1 verdicts differ, 2 refused (an input changed or is missing)

environment:
  MLREPORT_OUT   default output folder instead of ./outputs (--out wins)
  notifications read their secrets from the environment only: MLREPORT_SLACK_WEBHOOK_URL,
  MLREPORT_TEAMS_WEBHOOK_URL, MLREPORT_WEBHOOK_URL (MLREPORT_WEBHOOK_SECRET signs it),
  MLREPORT_SMTP_HOST/_PORT/_USER/_PASSWORD, MLREPORT_MAIL_FROM/_TO, MLREPORT_REPORT_URL
  (see docs/integrations.md); --mlflow without URI reads MLFLOW_TRACKING_URI
"""

OUT_HELP = "output folder (default: $MLREPORT_OUT or ./outputs)"


def _add_param_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--param", "-p", action="append", default=[], metavar="NAME=VALUE",
        help="a notebook parameter; VALUE is read as JSON when it parses, else as a string (repeatable)",
    )
    parser.add_argument(
        "--params-file", metavar="FILE", help="parameters from a JSON, YAML or TOML file (--param wins)"
    )


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
    parser = argparse.ArgumentParser(
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
    run.add_argument("--out", metavar="DIR", help="output folder (default: $MLREPORT_OUT or ./outputs)")
    run.add_argument("--fail-on", choices=["warning", "incident", "never"], default="incident",
                     help="lowest status that makes the exit code 1 (default: incident)")
    run.add_argument("--timeout", type=float, default=DEFAULT_CELL_TIMEOUT, metavar="SECONDS",
                     help=f"per-cell timeout (default: {DEFAULT_CELL_TIMEOUT})")
    run.add_argument("--start-timeout", type=float, default=DEFAULT_START_TIMEOUT, metavar="SECONDS",
                     help=f"kernel start timeout (default: {DEFAULT_START_TIMEOUT})")
    run.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
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
    demo.add_argument("--out", metavar="DIR", help="output folder (default: $MLREPORT_OUT or ./outputs)")
    demo.add_argument("--timeout", type=float, default=DEFAULT_CELL_TIMEOUT, metavar="SECONDS")
    demo.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")

    sample = sub.add_parser("sample-data", help="write the built-in sample data as Parquet and CSV")
    sample.add_argument("directory")
    sample.add_argument("--rows", type=int, default=50_000)
    sample.add_argument("--seed", type=int, default=7)
    sample.add_argument("--incident", action="append", default=[], metavar="NAME",
                        help="inject an incident (repeatable); see `mlreport sample-data --list-incidents`")
    sample.add_argument("--list-incidents", action="store_true", help="list the incidents and exit")

    batch = sub.add_parser(
        "batch", help="run every job of a JOBS.toml in parallel processes (for cron and Airflow)", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    batch.add_argument("jobs_file", metavar="JOBS.toml")
    batch.add_argument("--jobs", "-j", type=int, default=2, metavar="N", help="runs at once (default: 2)")
    batch.add_argument("--date", metavar="YYYY-MM-DD", help="logical date for {date} templates (default: today, UTC)")
    batch.add_argument("--timeout", type=float, default=DEFAULT_CELL_TIMEOUT, metavar="SECONDS",
                       help=f"per-job timeout for jobs that set none (default: {DEFAULT_CELL_TIMEOUT})")
    batch.add_argument("--fail-on", choices=["warning", "incident", "never"], default="incident",
                       help="fail-on for jobs that set none (default: incident)")
    batch.add_argument("--out", metavar="DIR", help=OUT_HELP)
    batch.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    _add_delivery_options(batch)

    history = sub.add_parser("history", help="runs recorded in the registry, newest first")
    history.add_argument("--model", metavar="M")
    history.add_argument("--analysis", metavar="A")
    history.add_argument("--status", choices=["ok", "warning", "incident", "failed"])
    history.add_argument("--limit", type=int, default=50, metavar="N", help="at most N runs (default: 50)")
    history.add_argument("--out", metavar="DIR", help=OUT_HELP)
    history.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")

    show = sub.add_parser("show", help="everything the registry holds about one run")
    show.add_argument("run_id", metavar="RUN_ID", help="run id (a unique prefix is enough)")
    show.add_argument("--out", metavar="DIR", help=OUT_HELP)
    show.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")

    verify = sub.add_parser(
        "verify", help="recheck the audit trail and every run's files; say what changed", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("run_id", nargs="?", metavar="RUN_ID", help="one run (the chain is always checked whole)")
    verify.add_argument("--all", action="store_true", help="every run (the default without RUN_ID)")
    verify.add_argument("--out", metavar="DIR", help=OUT_HELP)
    verify.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")

    rerun = sub.add_parser(
        "rerun", help="re-execute a run with its recorded parameters and inputs, and compare the findings",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rerun.add_argument("run_id", metavar="RUN_ID")
    rerun.add_argument("--out", metavar="DIR", help=OUT_HELP)
    rerun.add_argument("--timeout", type=float, metavar="SECONDS", help="per-cell timeout (default: the original's)")
    rerun.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")

    schema = sub.add_parser("schema", help="print the JSON Schema of run.json, --json, jobs files, model specs...")
    schema.add_argument("name", nargs="?", metavar="NAME", help="manifest, result, jobs, spec or notification "
                        "(without NAME: list them)")

    prune = sub.add_parser("prune", help="delete run folders older than N days; the registry and audit trail keep them")
    prune.add_argument("--keep-days", type=float, required=True, metavar="N")
    prune.add_argument("--dry-run", action="store_true", help="list what would be deleted; change nothing")
    prune.add_argument("--out", metavar="DIR", help=OUT_HELP)
    prune.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    return parser


def _terminate(signum: int, frame: FrameType | None) -> None:
    # A scheduler's timeout sends SIGTERM: unwind through the run's cleanup
    # (staging discarded, kernel shut down), saying so as SIGINT does.
    print(f"mlreport: terminated ({signal.Signals(signum).name}); a run that had not reached its commit left "
          "nothing behind", file=sys.stderr)
    raise SystemExit(128 + signum)


def _emit(data: Mapping[str, object]) -> None:
    sys.stdout.write(json.dumps(data, default=str) + "\n")


def _out(args: argparse.Namespace) -> Path | None:
    """``--out`` as given (None: the library's default, ``$MLREPORT_OUT`` or ``./outputs``)."""
    return Path(args.out) if args.out else None


def _cmd_list(args: argparse.Namespace) -> int:
    from .backends import backend_origins
    from .driver import analysis_sources, declared_parameters

    for name, source in analysis_sources().items():
        print(name if source.origin == "built-in" else f"{name}  (from {source.origin})")
        for parameter in declared_parameters(source.notebook).values():
            default = json.dumps(parameter.default)
            print(f"  {parameter.name:<26} {parameter.type:<6} default {default:<24} {parameter.help}")
        print()
    print("backends (the backend parameter; auto chooses by the data's size)")
    for name, origin in backend_origins().items():
        print(f"  {name:<26} {origin}")
    return 0


def _print_result(result: RunResult) -> None:
    print(f"{result.status.upper():9} {result.analysis}: {result.headline}", file=sys.stderr)
    print(f"          report: {result.report_path}", file=sys.stderr)
    for delivery in result.deliveries:
        detail = f": {delivery.detail}" if delivery.detail else ""
        print(f"          {delivery.channel} {delivery.status}{detail}", file=sys.stderr)


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


def _cmd_run(args: argparse.Namespace) -> int:
    from .driver import BatchRef, parse_assignments, run

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
    if args.json:
        _emit(result.to_dict())
    else:
        _print_result(result)
    return result.exit_code


def _cmd_prepare(args: argparse.Namespace) -> int:
    from .driver import parse_assignments, prepare_notebook

    path = prepare_notebook(args.analysis, Path(args.output), parse_assignments(args.param), args.params_file)
    print(f"wrote {path}; open it with: jupyter lab {path}", file=sys.stderr)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .driver import demo

    def starting(name: str) -> None:
        print(f"running {name} on the built-in sample data ...", file=sys.stderr)

    result = demo(
        out=_out(args), timeout=args.timeout, progress=False if args.json else None, on_start=starting,
        on_result=None if args.json else _print_result,
    )
    if args.json:
        _emit(result.to_dict())
    else:
        print(f"\nindex of all runs: {result.index.resolve()}", file=sys.stderr)
    return result.exit_code


def _cmd_sample_data(args: argparse.Namespace) -> int:
    from . import sample

    if args.list_incidents:
        for name, text in sample.INCIDENTS.items():
            print(f"{name:<22} {text}")
        return 0
    if args.rows < 1:
        raise InputError(f"--rows {args.rows}: expected at least 1")
    paths = sample.write_sample_data(
        Path(args.directory), rows=args.rows, incidents=tuple(args.incident), seed=args.seed
    )
    for name, path in paths.items():
        print(f"{name:<20} {path}")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from .driver import format_summary, load_jobs, parse_date, run_batch

    date = parse_date(args.date)
    notify, export = _deliveries(args)
    tasks = load_jobs(args.jobs_file, date=date, timeout=args.timeout, fail_on=args.fail_on, notify=notify,
                      export=export)
    result = run_batch(
        tasks, out=_out(args), jobs=args.jobs, date=date,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if args.json:
        _emit(result.to_dict())
    else:
        print(format_summary(result))
    return result.exit_code


def _registry_out(args: argparse.Namespace) -> Path:
    from .driver import default_out_dir

    return _out(args) or default_out_dir()


def _cmd_history(args: argparse.Namespace) -> int:
    from .record import format_history, open_registry

    records = open_registry(_registry_out(args), create=False).history(
        model=args.model, analysis=args.analysis, status=args.status, limit=args.limit
    )
    if args.json:
        _emit({"count": len(records), "runs": [r.to_dict() for r in records]})
    else:
        print(format_history(records))
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from .record import format_record, open_registry

    out = _registry_out(args)
    record = open_registry(out, create=False).get(args.run_id)
    if args.json:
        _emit(record.to_dict())
    else:
        print(format_record(record, out_dir=out))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from .record import verify

    if args.run_id and args.all:
        raise InputError("give RUN_ID or --all, not both")
    report = verify(_registry_out(args), args.run_id)
    if args.json:
        _emit(report.to_dict())
    else:
        print(report.format())
    return report.exit_code


def _cmd_rerun(args: argparse.Namespace) -> int:
    from .driver import rerun

    result = rerun(args.run_id, out=_out(args), timeout=args.timeout, progress=False if args.json else None)
    if args.json:
        _emit(result.to_dict())
    else:
        print(result.format())
    return result.exit_code


def _cmd_prune(args: argparse.Namespace) -> int:
    from .record import prune

    result = prune(_registry_out(args), args.keep_days, dry_run=args.dry_run)
    if args.json:
        _emit(result.to_dict())
    else:
        print(result.format())
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from .schema import SCHEMAS, schema_text

    if args.name is None:
        for name, text in SCHEMAS.items():
            print(f"{name:<14} {text}")
        return 0
    sys.stdout.write(schema_text(args.name))
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": _cmd_list, "run": _cmd_run, "prepare": _cmd_prepare, "demo": _cmd_demo, "sample-data": _cmd_sample_data,
    "batch": _cmd_batch, "history": _cmd_history, "show": _cmd_show, "verify": _cmd_verify, "rerun": _cmd_rerun,
    "prune": _cmd_prune, "schema": _cmd_schema,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # mlreport's own progress lines go to stderr unless stderr is a terminal
    # (papermill's progress bar draws there instead).
    logging.getLogger("mlreport").setLevel(
        logging.INFO if (args.verbose or not sys.stderr.isatty()) else logging.WARNING
    )
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    command = _COMMANDS.get(args.command)
    if command is None:
        parser.error(f"unknown command {args.command}")
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return command(args)
    except MlreportError as exc:
        print(f"mlreport: error: {exc}", file=sys.stderr)
        if getattr(args, "json", False):
            _emit({"status": "error", "exit_code": exc.exit_code, "error": str(exc), "type": type(exc).__name__})
        return exc.exit_code
    except KeyboardInterrupt:
        print("mlreport: interrupted; a run that had not reached its commit left nothing behind", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `mlreport history | head`: the reader left; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
