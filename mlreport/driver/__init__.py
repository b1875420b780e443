"""One run, a batch, a rerun: parameters, papermill execution, reading the summary back, rendering."""

from __future__ import annotations

from ._execute import SameInterpreterKernelManager, execute, prepare, section_of
from ._params import (
    Parameter,
    declared_parameters,
    parameters_cell,
    validate_parameters,
    parse_cli_value,
    load_params_file,
)
from ._results import read_summary, is_summary_output
from ._render import render_report, findings_table_html, appendix_html, header_html
from ._run import (
    RunResult,
    FAIL_ON,
    EXIT_CODES,
    run,
    record_failed_run,
    prepare_notebook,
    resolve_parameters,
    default_out_dir,
    exit_code_for,
    INPUT_ERROR_NAMES,
)
from ._batch import (
    Task,
    TaskResult,
    BatchResult,
    fill_templates,
    parse_date,
    load_jobs,
    run_batch,
    format_summary,
    DEFAULT_JOB_TIMEOUT,
    KILL_GRACE_S,
)
from ._rerun import InputCheck, Difference, Comparison, RerunResult, check_inputs, compare_runs, rerun, REL_TOL, ABS_TOL
from ._resources import notebooks_dir, templates_dir, analyses, notebook_path
from ._execute import DEFAULT_CELL_TIMEOUT, DEFAULT_START_TIMEOUT
from ._params import parse_assignments

__all__ = [
    "SameInterpreterKernelManager",
    "execute",
    "prepare",
    "section_of",
    "Parameter",
    "declared_parameters",
    "parameters_cell",
    "validate_parameters",
    "parse_cli_value",
    "load_params_file",
    "read_summary",
    "is_summary_output",
    "render_report",
    "findings_table_html",
    "appendix_html",
    "header_html",
    "RunResult",
    "FAIL_ON",
    "EXIT_CODES",
    "run",
    "record_failed_run",
    "prepare_notebook",
    "resolve_parameters",
    "default_out_dir",
    "exit_code_for",
    "INPUT_ERROR_NAMES",
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
    "InputCheck",
    "Difference",
    "Comparison",
    "RerunResult",
    "check_inputs",
    "compare_runs",
    "rerun",
    "REL_TOL",
    "ABS_TOL",
    "notebooks_dir",
    "templates_dir",
    "analyses",
    "notebook_path",
    "DEFAULT_CELL_TIMEOUT",
    "DEFAULT_START_TIMEOUT",
    "parse_assignments",
]
