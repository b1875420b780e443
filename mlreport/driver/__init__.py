"""One run, a batch, a rerun: parameters, papermill execution, reading the summary back, rendering.

:func:`run`, :func:`load_run` and :func:`analyses` are the public Python API
(``mlreport.run`` and friends are these); :class:`RunResult` is what a run
produced, and :class:`Failure` why a run could not finish.
"""

from __future__ import annotations

from ._batch import (
    DEFAULT_JOB_TIMEOUT,
    KILL_GRACE_S,
    BatchResult,
    Task,
    TaskResult,
    fill_templates,
    format_summary,
    load_jobs,
    parse_date,
    run_batch,
)
from ._execute import (
    DEFAULT_CELL_TIMEOUT,
    DEFAULT_START_TIMEOUT,
    SameInterpreterKernelManager,
    execute,
    prepare,
    section_of,
)
from ._params import (
    Parameter,
    declared_parameters,
    load_params_file,
    parameters_cell,
    parse_assignments,
    parse_cli_value,
    validate_parameters,
)
from ._pdf import CHROMIUM_FLAGS, PDF_FILE, PDF_TIMEOUT_S, find_chromium, print_pdf, require_chromium, write_pdf
from ._render import appendix_html, findings_table_html, header_html, render_report
from ._rerun import ABS_TOL, REL_TOL, Comparison, Difference, InputCheck, RerunResult, check_inputs, compare_runs, rerun
from ._resources import analyses, default_out_dir, notebook_path, notebooks_dir, templates_dir
from ._results import (
    FAILURE_KINDS,
    INPUT_ERROR_NAMES,
    CellFailure,
    Failure,
    RunResult,
    is_summary_output,
    load_run,
    read_summary,
)
from ._run import (
    EXIT_CODES,
    FAIL_ON,
    BatchRef,
    DemoResult,
    demo,
    exit_code_for,
    prepare_notebook,
    record_failed_run,
    resolve_parameters,
    run,
)

__all__ = [
    "run",
    "load_run",
    "analyses",
    "RunResult",
    "Failure",
    "CellFailure",
    "FAILURE_KINDS",
    "demo",
    "DemoResult",
    "BatchRef",
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
    "write_pdf",
    "print_pdf",
    "find_chromium",
    "require_chromium",
    "PDF_FILE",
    "PDF_TIMEOUT_S",
    "CHROMIUM_FLAGS",
    "findings_table_html",
    "appendix_html",
    "header_html",
    "FAIL_ON",
    "EXIT_CODES",
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
    "notebook_path",
    "DEFAULT_CELL_TIMEOUT",
    "DEFAULT_START_TIMEOUT",
    "parse_assignments",
]
