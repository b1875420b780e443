"""Columns counted side by side: one thread per core, results in the columns' order.

The per-column work of a fit or a count (sorting, comparisons, ``searchsorted``,
Arrow's dictionary encoding) runs in numpy and Arrow with the GIL released, and
each column's work is independent of the others', so the columns of a frame are
spread over the machine's cores. Every column's numbers are computed exactly as
they are one after the other (the same operations on the same arrays): only the
wall-clock time changes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__: list[str] = []

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")

_MAX_THREADS = 4
"""At most this many columns at once: each holds its own temporaries (a few arrays of the rows)."""

_inside = threading.local()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def column_map(function: Callable[[_Item], _Result], items: Iterable[_Item]) -> list[_Result]:
    """``[function(item) for item in items]``, the items spread over the cores; the first error is raised.

    Runs in the calling thread when there is one core, one item, or when
    called from inside another ``column_map`` (no pool within a pool).
    """
    work = list(items)
    threads = min(_cores(), _MAX_THREADS, len(work))
    if threads <= 1 or getattr(_inside, "active", False):
        return [function(item) for item in work]

    def run(item: _Item) -> _Result:
        _inside.active = True
        try:
            return function(item)
        finally:
            _inside.active = False

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mlreport-columns") as pool:
        return list(pool.map(run, work))
