"""What a run produced: the summary read back from the notebook, the typed result, a recorded run loaded again.

A notebook hands its :class:`~mlreport.findings.Summary` to the driver as a
display output (:func:`mlreport.findings.publish`); :func:`read_summary` finds
it in the executed notebook. What the whole run produced is a
:class:`RunResult`: the same object whether the run just happened
(:func:`mlreport.run`) or is read back from its folder (:func:`load_run`),
and its :meth:`RunResult.to_dict` is the ``--json`` object of ``mlreport run``.

A run that could not finish carries a :class:`Failure` (or a
:class:`CellFailure`, when a notebook cell raised, timed out or lost its
kernel) that says why. Kinds:

- ``input``: a cell raised one of the input errors of :mod:`mlreport.errors`
  (bad data, parameters, spec, scenario or model; exit code 2);
- ``error``, ``timeout``, ``kernel died``: a cell raised, ran past its timeout,
  or its kernel died (exit code 3);
- ``no summary``: the notebook finished without publishing a summary;
- ``batch timeout``, ``process died``: a batch job killed on its timeout, or
  whose process ended without a result (written by :func:`mlreport.driver.run_batch`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import (
    DataError,
    InputError,
    KernelDiedError,
    ModelError,
    NotebookError,
    ParameterError,
    RunTimeoutError,
    ScenarioError,
    SpecError,
)
from ..findings import SUMMARY_MIMETYPE, Finding, Summary
from ..record import open_registry
from ._resources import default_out_dir

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "FAILURE_KINDS",
    "INPUT_ERROR_NAMES",
    "Failure",
    "CellFailure",
    "RunResult",
    "load_run",
    "read_summary",
    "is_summary_output",
]

FAILURE_KINDS = ("input", "error", "timeout", "kernel died", "no summary", "batch timeout", "process died")

#: Exceptions which, raised inside a notebook, mean "the input is bad" rather
#: than "the run broke": the run fails with exit code 2 and kind ``input``.
INPUT_ERROR_NAMES = frozenset(
    cls.__name__ for cls in (InputError, ParameterError, DataError, SpecError, ScenarioError, ModelError)
)

_CELL_KEYS = ("cell_index", "section", "ename", "evalue")


@dataclass(frozen=True)
class Failure:
    """Why a run could not finish: a kind (see the module docstring) and a message naming the cause."""

    kind: str
    message: str

    @property
    def exit_code(self) -> int:
        """2 for bad input (the data, parameters or files need fixing), 3 for a run that broke."""
        return 2 if self.kind == "input" else 3

    def to_dict(self) -> dict[str, Any]:
        """The failure as run.json and ``--json`` write it (``error``)."""
        return {"kind": self.kind, "message": self.message}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Failure:
        """A failure read from run.json: a :class:`CellFailure` when it names a cell or an exception."""
        kind, message = str(data.get("kind") or "error"), str(data.get("message") or "")
        if any(key in data for key in _CELL_KEYS):
            cell = data.get("cell_index")
            return CellFailure(
                kind, message, cell_index=cell if isinstance(cell, int) else None,
                section=_text_or_none(data.get("section")), ename=_text_or_none(data.get("ename")),
                evalue=_text_or_none(data.get("evalue")),
            )
        return cls(kind, message)


@dataclass(frozen=True)
class CellFailure(Failure):
    """A failure inside the notebook: the cell, the report section it belongs to, and the exception."""

    cell_index: int | None = None
    section: str | None = None
    ename: str | None = None
    evalue: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "cell_index": self.cell_index, "section": self.section, "ename": self.ename,
                "evalue": self.evalue}

    @classmethod
    def from_error(cls, error: NotebookError) -> CellFailure:
        """The failure a :class:`~mlreport.errors.NotebookError` raised by the execution stands for."""
        if type(error) is RunTimeoutError:
            kind = "timeout"
        elif type(error) is KernelDiedError:
            kind = "kernel died"
        else:
            kind = "input" if error.ename in INPUT_ERROR_NAMES else "error"
        return cls(kind, str(error), cell_index=error.cell_index, section=error.section, ename=error.ename,
                   evalue=error.evalue)


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class RunResult:
    """What one run produced: its verdict, its findings and where its report is.

    ``status`` is ``ok``, ``warning``, ``incident`` or ``failed``;
    ``exit_code`` is the command's (0 healthy, 1 findings at or above
    ``fail_on``, 2 bad input, 3 the run broke); ``error`` says why a failed run
    failed. ``run_dir`` and ``report_path`` are absolute. ``manifest`` is the
    whole of run.json (parameters, inputs with sha256, thresholds, metrics,
    timings, versions).
    """

    run_id: str
    analysis: str
    model: str
    status: str
    exit_code: int
    headline: str
    counts: dict[str, int]
    findings: list[Finding]
    error: Failure | None
    run_dir: Path
    report_path: Path
    manifest: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: The findings grouped into incidents, worst first (``mlreport.story``); empty for a failed run.
    incidents: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], run_dir: Path) -> RunResult:
        """The result of the run whose folder is ``run_dir`` and whose run.json holds ``manifest``."""
        error = manifest.get("error")
        return cls(
            run_id=str(manifest["run_id"]),
            analysis=str(manifest.get("analysis") or ""),
            model=str(manifest.get("model") or ""),
            status=str(manifest.get("status") or "failed"),
            exit_code=int(manifest.get("exit_code", 3)),
            headline=str(manifest.get("headline") or ""),
            counts={str(k): int(v) for k, v in (manifest.get("counts") or {}).items()},
            findings=[Finding.from_dict(f) for f in manifest.get("findings") or []],
            error=Failure.from_dict(error) if isinstance(error, Mapping) else None,
            run_dir=run_dir,
            report_path=run_dir / "report.html",
            manifest=dict(manifest),
            incidents=[dict(i) for i in manifest.get("incidents") or []],
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``mlreport run --json`` object: JSON-ready (paths as strings)."""
        return {
            "run_id": self.run_id,
            "analysis": self.analysis,
            "model": self.model,
            "status": self.status,
            "exit_code": self.exit_code,
            "headline": self.headline,
            "report": str(self.report_path),
            "run_dir": str(self.run_dir),
            "counts": dict(self.counts),
            "findings": [finding.to_dict() for finding in self.findings],
            "incidents": [dict(i) for i in self.incidents],
            "error": self.error.to_dict() if self.error is not None else None,
        }


def _manifest_path(path_or_id: str | os.PathLike[str], out: str | os.PathLike[str] | None) -> Path:
    """run.json of a run folder, of a run.json path, or of a run id (or unique prefix) in ``out``'s registry."""
    path = Path(path_or_id)
    if path.is_dir():
        if not (path / "run.json").is_file():
            raise InputError(f"{path}: not a run folder (it holds no run.json)")
        return path / "run.json"
    if path.is_file():
        if path.name != "run.json":
            raise InputError(f"{path}: expected a run folder or its run.json")
        return path
    text = os.fspath(path_or_id)
    if not isinstance(path_or_id, str) or os.sep in text or "/" in text or text.endswith(".json"):
        raise InputError(f"{path}: no such run folder or run.json")
    out_dir = (Path(out) if out is not None else default_out_dir()).resolve()
    record = open_registry(out_dir, create=False).get(text)
    if record.pruned:
        raise InputError(
            f"run {record.run_id} was pruned on {record.pruned_at}: its folder is gone, the registry keeps its "
            f"record (mlreport show {record.run_id} --out {out_dir})"
        )
    manifest = out_dir / record.run_dir / "run.json"
    if not manifest.is_file():
        raise InputError(f"run {record.run_id}: its run.json {manifest} is missing (mlreport verify says more)")
    return manifest


def load_run(path_or_id: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None) -> RunResult:
    """A recorded run, as the :class:`RunResult` that :func:`mlreport.run` returned for it.

    Parameters
    ----------
    path_or_id
        A run folder, its ``run.json``, or a run id (a unique prefix is
        enough) recorded in the registry of ``out``.
    out
        The outputs folder whose registry knows the run id (default:
        ``$MLREPORT_OUT``, else ``./outputs``). Not used for a path.

    Raises
    ------
    InputError
        No such run: the path is not a run folder, the id is not in the
        registry (or is an ambiguous prefix), the run was pruned, or its
        run.json is missing or unreadable.
    """
    manifest_path = _manifest_path(path_or_id, out)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{manifest_path}: not a readable run manifest ({exc})") from None
    if not isinstance(manifest, dict) or not manifest.get("run_id"):
        raise InputError(f"{manifest_path}: not a run manifest (no run_id)")
    return RunResult.from_manifest(manifest, manifest_path.parent.resolve())


def is_summary_output(output: Mapping[str, Any]) -> bool:
    """True for the display output that :func:`mlreport.findings.publish` wrote."""
    displayed = output.get("output_type") in ("display_data", "execute_result")
    return displayed and SUMMARY_MIMETYPE in output.get("data", {})


def read_summary(notebook: NotebookNode) -> Summary | None:
    """The last summary published in ``notebook``, or None when it published none."""
    found: Summary | None = None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if is_summary_output(output):
                found = Summary.from_dict(output["data"][SUMMARY_MIMETYPE])
    return found
