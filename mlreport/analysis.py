"""The shape every analysis shares: its parameters in, its result out.

Each analysis room (:mod:`mlreport.drift`, :mod:`mlreport.volume`,
:mod:`mlreport.stress`) has the same three public names:

``<Name>Parameters``
    an :class:`AnalysisParameters`: one field per parameter of its notebook,
    with the notebook's names, types and defaults, checked when it is made;
``analyse(parameters)``
    loads the data through one backend, records what it read, and returns
``<Name>Result``
    an :class:`AnalysisResult`: ``findings``, ``summary``, and the report's
    ``tables`` and ``figures`` by name, each computed on first use.

So a notebook is narrative around one call::

    result = drift.analyse(drift.DriftParameters.from_namespace(globals()))
    result.tables["feature_drift"]          # a section's table
    show(result.figures["psi_heatmap"])     # a section's figure
    publish(result.summary)                 # the last cell

and a Python user gets the same thing without a notebook.
"""

from __future__ import annotations

import importlib
import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from .findings import Finding, Summary

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .tables import Table

__all__ = ["AnalysisParameters", "AnalysisResult", "Sections", "parameters_class", "check_parameters"]


@dataclass(frozen=True)
class AnalysisParameters:
    """Base of an analysis' parameters: a frozen dataclass whose fields are its notebook's parameters.

    Subclasses declare one field per line of the notebook's ``parameters``
    cell, with the same name and default, and check values in
    ``__post_init__`` (a :class:`~mlreport.errors.ParameterError` naming the
    parameter).
    """

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, object]) -> Self:
        """The parameters found in ``namespace`` (a notebook's ``globals()``); other names are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in namespace.items() if name in names})

    def to_dict(self) -> dict[str, Any]:
        """Every parameter as JSON-ready values."""
        return asdict(self)


T = TypeVar("T")


class Sections(Mapping[str, T], Generic[T]):
    """Named parts of a report (tables or figures), each computed on first use and then kept.

    A notebook cell that shows ``result.tables["feature_drift"]`` computes that
    table there, so a failure is reported in its own section and a reader who
    stops early pays only for what was shown. ``list(sections)`` and
    ``name in sections`` name the parts without computing any.
    """

    def __init__(self, makers: Mapping[str, Callable[[], T]], *, kind: str = "section") -> None:
        self._makers = dict(makers)
        self._made: dict[str, T] = {}
        self._kind = kind

    def __getitem__(self, name: str) -> T:
        if name not in self._made:
            try:
                maker = self._makers[name]
            except KeyError:
                raise KeyError(f"no {self._kind} {name!r}; the {self._kind}s are {', '.join(self._makers)}") from None
            self._made[name] = maker()
        return self._made[name]

    def __contains__(self, name: object) -> bool:
        # Mapping's default reads the item, which would compute a section to answer ``in``.
        return name in self._makers

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


class AnalysisResult(ABC):
    """What every analysis returns: the same four members, whatever the analysis.

    ``findings``
        every :class:`Finding`, worst first;
    ``summary``
        the :class:`Summary` the notebook publishes and the driver records
        (status, headline, findings, inputs, thresholds and their version,
        methods, metrics, the reference profile's fingerprint);
    ``tables`` and ``figures``
        the report's tables (:class:`~mlreport.tables.Table`, captioned and
        escaped) and figures (matplotlib), by name, computed on first use
        (:class:`Sections`).

    A notebook is the narrative around one call that returns this: a heading,
    a sentence of why, then ``result.tables[...]`` or ``show(result.figures[...])``.
    """

    analysis: str = ""

    @property
    @abstractmethod
    def findings(self) -> list[Finding]:
        """Every finding of the analysis, worst first."""

    @property
    @abstractmethod
    def summary(self) -> Summary:
        """What the analysis concluded, with its provenance."""

    @property
    @abstractmethod
    def tables(self) -> Sections[Table]:
        """The report's tables by name."""

    @property
    @abstractmethod
    def figures(self) -> Sections[Figure]:
        """The report's figures by name."""


def parameters_class(analysis: str) -> type[AnalysisParameters] | None:
    """The ``<Name>Parameters`` dataclass of analysis ``analysis`` (room ``mlreport.<analysis>``), or None.

    Found by convention, like the notebook: the room of the same name exports
    one :class:`AnalysisParameters` subclass. A notebook without such a room
    (a fixture, an analysis still being written) has only the checks of its
    parameters cell. Here rather than in the driver so that a kernel can run
    the check without importing the driver (``mlreport.driver`` re-exports it).
    """
    module_name = f"{__package__}.{analysis}"
    if not analysis.isidentifier() or importlib.util.find_spec(module_name) is None:
        return None
    module = importlib.import_module(module_name)
    found = [
        value for value in (getattr(module, name, None) for name in getattr(module, "__all__", ()))
        if isinstance(value, type) and issubclass(value, AnalysisParameters) and value is not AnalysisParameters
    ]
    preferred = [cls for cls in found if cls.__name__.lower() == f"{analysis}parameters"]
    candidates = preferred or found
    return candidates[0] if candidates else None


def check_parameters(analysis: str, parameters: Mapping[str, Any]) -> None:
    """Run analysis ``analysis``'s own parameter checks on ``parameters`` (validated values), before any run.

    Raises what its Parameters dataclass raises: a
    :class:`~mlreport.errors.ParameterError` (or another input error) naming
    the parameter and its domain. Nothing is read or computed.
    (``mlreport.driver.check_domains`` is this function.)
    """
    cls = parameters_class(analysis)
    if cls is None:
        return
    names = {spec.name for spec in fields(cls)}
    cls(**{name: value for name, value in parameters.items() if name in names})
