"""The one exception hierarchy of mlreport.

Catch :class:`MlreportError` to catch everything the library raises on purpose::

    MlreportError
    ├── InputError            bad invocation or input (exit code 2); raised inside a
    │                         notebook it still ends in a failure report of kind "input"
    │   ├── ParameterError    an unknown, mistyped or unsafe notebook parameter
    │   ├── DataError         a file, column or value that cannot be used
    │   ├── SpecError         a model spec (TOML) that does not validate
    │   ├── ScenarioError     a stress scenario file that does not validate
    │   └── ModelError        a model that cannot be loaded or that misbehaves
    └── RunError              a run that started but could not finish (exit code 3)
        ├── NotebookError     a cell raised; carries the cell index and section
        ├── RunTimeoutError   a cell ran past its timeout
        ├── KernelDiedError   the kernel died (killed, out of memory)
        └── OutputError       the run folder could not be written

Messages name the file, column or parameter and say what was expected, so that
the person reading a scheduler's log can act without opening the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

__all__ = [
    "MlreportError",
    "InputError",
    "ParameterError",
    "DataError",
    "SpecError",
    "ScenarioError",
    "ModelError",
    "RunError",
    "NotebookError",
    "RunTimeoutError",
    "KernelDiedError",
    "OutputError",
]


class MlreportError(Exception):
    """Base class of every error mlreport raises on purpose.

    ``message`` is the one-line statement; ``details`` are further lines, one
    problem each (a jobs file with several problems). ``str(error)`` holds
    both, each detail on a line of its own; the CLI prints each line
    neutralised, so a value inside one cannot start another.
    """

    exit_code: ClassVar[int] = 2
    """The CLI's exit code when this error ends a run (README, "Exit codes")."""

    def __init__(self, message: str = "", *, details: Iterable[str] = ()) -> None:
        self.message = message
        self.details = tuple(details)
        super().__init__(message + "".join(f"\n  {line}" for line in self.details))


class InputError(MlreportError):
    """Bad invocation or input: nothing was run."""

    exit_code: ClassVar[int] = 2


class ParameterError(InputError):
    """A notebook parameter that is unknown, of the wrong type or unsafe."""

    def __init__(self, message: str, *, name: str | None = None) -> None:
        super().__init__(message)
        self.name = name


class DataError(InputError):
    """Data that cannot be used: a missing file, column or an unusable value."""

    def __init__(
        self, message: str, *, path: str | None = None, column: str | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.column = column


class SpecError(InputError):
    """A model spec that does not validate."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.key = key


class ScenarioError(InputError):
    """A stress scenario definition that does not validate."""

    def __init__(
        self, message: str, *, path: str | None = None, scenario: str | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.scenario = scenario


class ModelError(InputError):
    """A model that cannot be loaded, or returns unusable scores."""

    def __init__(
        self, message: str, *, model: str | None = None, scenario: str | None = None
    ) -> None:
        super().__init__(message)
        self.model = model
        self.scenario = scenario


class RunError(MlreportError):
    """A run that started but could not finish."""

    exit_code: ClassVar[int] = 3


class NotebookError(RunError):
    """A notebook cell raised an exception."""

    def __init__(
        self,
        message: str,
        *,
        cell_index: int | None = None,
        section: str | None = None,
        ename: str | None = None,
        evalue: str | None = None,
    ) -> None:
        super().__init__(message)
        self.cell_index = cell_index
        self.section = section
        self.ename = ename
        self.evalue = evalue


class RunTimeoutError(NotebookError):
    """A notebook cell ran past its timeout."""


class KernelDiedError(NotebookError):
    """The kernel died while executing the notebook."""


class OutputError(RunError):
    """The run folder could not be written (disk full, permissions)."""
