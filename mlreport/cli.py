"""The ``mlreport`` command line: parses arguments and calls the library."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any, Sequence

from . import __version__
from .errors import InputError, MlreportError
from .execute import DEFAULT_CELL_TIMEOUT, DEFAULT_START_TIMEOUT

__all__ = ["main", "build_parser"]

EPILOG = """\
exit codes:
  0  healthy: no finding at or above --fail-on
  1  findings at or above --fail-on (default: incident)
  2  bad invocation or input: nothing was run
  3  the run failed (notebook error, timeout, dead kernel); a failure report was written

environment:
  MLREPORT_OUT   default output folder instead of ./outputs (--out wins)
"""


def _add_param_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--param", "-p", action="append", default=[], metavar="NAME=VALUE",
        help="a notebook parameter; VALUE is read as JSON when it parses, else as a string (repeatable)",
    )
    parser.add_argument("--params-file", metavar="FILE", help="parameters from a JSON, YAML or TOML file (--param wins)")


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
    return parser


def _terminate(signum: int, frame: Any) -> None:
    # A scheduler's timeout sends SIGTERM: unwind through the run's cleanup.
    raise SystemExit(128 + signum)


def _emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=str) + "\n")


def _cmd_list() -> int:
    from .params import declared_parameters
    from .resources import analyses, notebook_path

    for name in analyses():
        print(name)
        for parameter in declared_parameters(notebook_path(name)).values():
            default = json.dumps(parameter.default)
            print(f"  {parameter.name:<26} {parameter.type:<6} default {default:<24} {parameter.help}")
        print()
    return 0


def _print_result(result: Any) -> None:
    print(f"{result.status.upper():9} {result.analysis}: {result.manifest.get('headline', '')}", file=sys.stderr)
    print(f"          report: {result.report_path}", file=sys.stderr)


def _cmd_run(args: argparse.Namespace) -> int:
    from .params import parse_assignments
    from .runs import run

    result = run(
        args.analysis,
        parse_assignments(args.param),
        params_file=args.params_file,
        out_dir=Path(args.out) if args.out else None,
        fail_on=args.fail_on,
        timeout=args.timeout,
        start_timeout=args.start_timeout,
        progress=False if args.json else None,
    )
    if args.json:
        _emit(result.to_json_dict())
    else:
        _print_result(result)
    return result.exit_code


def _cmd_prepare(args: argparse.Namespace) -> int:
    from .params import parse_assignments
    from .runs import prepare_notebook

    path = prepare_notebook(args.analysis, Path(args.output), parse_assignments(args.param), args.params_file)
    print(f"wrote {path}; open it with: jupyter lab {path}", file=sys.stderr)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .resources import analyses
    from .runs import default_out_dir, run
    from .store import write_index

    out_dir = Path(args.out) if args.out else default_out_dir()
    results = []
    for name in analyses():
        print(f"running {name} on the built-in sample data ...", file=sys.stderr)
        result = run(name, {}, out_dir=out_dir, fail_on="never", timeout=args.timeout,
                     progress=False if args.json else None, update_index=False)
        results.append(result)
        if not args.json:
            _print_result(result)
    index = write_index(out_dir)
    code = 3 if any(r.status == "failed" for r in results) else 0
    if args.json:
        _emit({"index": str(index), "exit_code": code, "runs": [r.to_json_dict() for r in results]})
    else:
        print(f"\nindex of all runs: {index.resolve()}", file=sys.stderr)
    return code


def _cmd_sample_data(args: argparse.Namespace) -> int:
    from . import sample

    if args.list_incidents:
        for name, text in sample.INCIDENTS.items():
            print(f"{name:<22} {text}")
        return 0
    if args.rows < 1:
        raise InputError(f"--rows {args.rows}: expected at least 1")
    paths = sample.write_sample_data(Path(args.directory), rows=args.rows, incidents=tuple(args.incident), seed=args.seed)
    for name, path in paths.items():
        print(f"{name:<20} {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # mlreport's own progress lines go to stderr unless stderr is a terminal
    # (papermill's progress bar draws there instead).
    logging.getLogger("mlreport").setLevel(logging.INFO if (args.verbose or not sys.stderr.isatty()) else logging.WARNING)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        if args.command == "list":
            return _cmd_list()
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "prepare":
            return _cmd_prepare(args)
        if args.command == "demo":
            return _cmd_demo(args)
        if args.command == "sample-data":
            return _cmd_sample_data(args)
        parser.error(f"unknown command {args.command}")
    except MlreportError as exc:
        print(f"mlreport: error: {exc}", file=sys.stderr)
        if getattr(args, "json", False):
            _emit({"status": "error", "exit_code": exc.exit_code, "error": str(exc), "type": type(exc).__name__})
        return exc.exit_code
    except KeyboardInterrupt:
        print("mlreport: interrupted; nothing was written", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
