"""Choosing and opening a backend: the registry, the ``auto`` rule and a notebook's parameters.

Besides the built-in backends and :func:`register_backend`, installed packages
add backends through the ``mlreport.backends`` entry point group: the entry
point's name is the backend's, its value a :class:`Backend` subclass or a
factory taking the backend's options as keywords::

    [project.entry-points."mlreport.backends"]
    polars = "mlreport_polars:PolarsBackend"

They are listed without being imported; the first use loads one. A name that
is taken (built in, registered, or by an earlier plugin) is not replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any

from ..data import InputLog
from ..errors import ParameterError
from ._base import Backend
from ._duckdb import DuckDBBackend
from ._pandas import PandasBackend
from ._source import AUTO_THRESHOLD_BYTES, Source, SourceLike, as_source
from ._spark import SparkBackend

__all__ = [
    "BACKENDS_GROUP", "register_backend", "backend_names", "backend_origins", "choose_backend", "get_backend",
    "open_backend",
]

log = logging.getLogger("mlreport")

BACKENDS_GROUP = "mlreport.backends"

_REGISTRY: dict[str, Callable[..., Backend]] = {
    "pandas": lambda **options: PandasBackend(**options),
    "duckdb": lambda **options: DuckDBBackend(**options),
    "spark": lambda **options: SparkBackend(**options),
}
_ORIGINS: dict[str, str] = dict.fromkeys(_REGISTRY, "built-in")
_PLUGINS_FOUND = False


def _plugin_factory(entry: metadata.EntryPoint) -> Callable[..., Backend]:
    def factory(**options: Any) -> Backend:
        try:
            target = entry.load()
        except Exception as exc:  # a plugin's import may fail in any way: say which plugin
            raise ParameterError(
                f"backend {entry.name!r} (entry point {entry.value!r}) cannot be loaded: {type(exc).__name__}: {exc}",
                name="backend",
            ) from None
        engine = target(**options)
        if not isinstance(engine, Backend):
            raise ParameterError(
                f"backend {entry.name!r} (entry point {entry.value!r}) made a {type(engine).__name__}, "
                "not an mlreport.backends.Backend", name="backend",
            )
        return engine

    return factory


def _find_plugins() -> None:
    """Add the ``mlreport.backends`` entry points to the registry, once, without importing them."""
    global _PLUGINS_FOUND
    if _PLUGINS_FOUND:
        return
    _PLUGINS_FOUND = True
    for entry in metadata.entry_points(group=BACKENDS_GROUP):
        if entry.name in _REGISTRY or entry.name == "auto":
            log.warning("entry point %s = %r: the backend name %r is taken (%s); ignored", entry.name, entry.value,
                        entry.name, _ORIGINS.get(entry.name, "reserved"))
            continue
        _REGISTRY[entry.name] = _plugin_factory(entry)
        dist = entry.dist
        _ORIGINS[entry.name] = f"{dist.name} {dist.version}" if dist is not None else entry.value


def register_backend(name: str, factory: Callable[..., Backend]) -> None:
    """Make ``get_backend(name, **options)`` call ``factory(**options)``."""
    if not name or name == "auto":
        raise ParameterError(f"backend name {name!r} is reserved or empty", name="backend")
    _REGISTRY[name] = factory
    _ORIGINS.setdefault(name, "registered")


def backend_names() -> list[str]:
    """Registered backend names, plugins included (``"auto"`` chooses among them)."""
    _find_plugins()
    return list(_REGISTRY)


def backend_origins() -> dict[str, str]:
    """Each backend's origin: ``built-in``, ``registered`` or the distribution that installed it."""
    _find_plugins()
    return {name: _ORIGINS.get(name, "registered") for name in _REGISTRY}


def choose_backend(
    source: SourceLike, backend: str = "auto", *, threshold_bytes: int = AUTO_THRESHOLD_BYTES
) -> str:
    """The backend name for ``source``: ``backend`` itself, or the ``"auto"`` rule (module docstring)."""
    _find_plugins()
    if backend != "auto":
        if backend not in _REGISTRY:
            raise ParameterError(
                f"backend must be one of auto, {', '.join(_REGISTRY)}; got {backend!r}", name="backend"
            )
        return backend
    src = source if isinstance(source, Source) else None
    if src is None:
        src = as_source(source)
    if src.table or src.is_spark:
        return "spark"
    if src.frame is not None:
        return "pandas"
    return "duckdb" if src.bytes > threshold_bytes else "pandas"


def get_backend(
    backend: str = "auto",
    source: SourceLike | None = None,
    *,
    threshold_bytes: int = AUTO_THRESHOLD_BYTES,
    **options: Any,
) -> Backend:
    """A backend by name; ``"auto"`` chooses by ``source`` (:func:`choose_backend`).

    ``options`` go to the backend: DuckDB ``threads``, ``memory_limit``,
    ``temp_directory``; Spark ``spark`` (a session) or ``master``, ``config``.
    """
    _find_plugins()
    if backend == "auto" and source is None:
        raise ParameterError("backend='auto' needs the source to choose by its size", name="backend")
    name = choose_backend(source, backend, threshold_bytes=threshold_bytes) if source is not None else backend
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ParameterError(f"backend must be one of auto, {', '.join(_REGISTRY)}; got {name!r}", name="backend")
    return _REGISTRY[name](**options)


def open_backend(
    backend: object, source: SourceLike | None = None, options: object = None, *, inputs: InputLog | None = None
) -> Backend:
    """The backend named by a notebook's ``backend`` and ``backend_options`` parameters.

    ``backend`` is a registered name or ``"auto"``, which chooses by ``source``
    (:func:`choose_backend`; no source, i.e. the built-in sample data, stays in
    pandas). ``options`` is a dict of the backend's settings (DuckDB
    ``threads``, ``memory_limit``, ``temp_directory``; Spark ``master``,
    ``config``, ``relative_error``); under ``"auto"`` they are dropped when the
    choice is pandas, which takes none. Bad values are a ParameterError naming
    ``backend`` or ``backend_options``. The files the backend reads are
    recorded in ``inputs`` (the analysis' :class:`~mlreport.data.InputLog`) when given.
    """
    _find_plugins()
    if not isinstance(backend, str) or backend not in ("auto", *_REGISTRY):
        raise ParameterError(
            f"parameter 'backend': {backend!r}; expected one of {', '.join(_REGISTRY)} or auto", name="backend"
        )
    if options is None:
        options = {}
    if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
        raise ParameterError(
            f"parameter 'backend_options': expected a dict of settings such as "
            f'{{"threads": 2, "memory_limit": "4GB"}}, got {options!r}',
            name="backend_options",
        )
    name = backend
    if backend == "auto":
        name = choose_backend(source) if source not in (None, "") else "pandas"
        if name == "pandas":
            options = {}
    try:
        engine = _REGISTRY[name](**dict(options))
    except TypeError as error:
        raise ParameterError(
            f"parameter 'backend_options': the {name} backend does not take {sorted(options)} ({error})",
            name="backend_options",
        ) from None
    if inputs is not None:
        engine.inputs = inputs
    return engine
