"""Independent DuckDB queries run at once, one cursor per worker thread: every core on a file of few row groups.

DuckDB parallelises a Parquet scan by row group: a file of one row group (any
file under about a million rows written with the usual settings, or a window
that falls in one) is read and aggregated by one thread however many it is
given. The fit's per-column queries, the decision counts' per-segment
``GROUP BY`` queries and similar are independent of one another, so they are
run on ``workers`` threads at once, each on its own cursor of the connection
(DuckDB releases the GIL while a query runs; numpy while it selects or
counts). A cursor is a second connection to the same database: it sees the
files and the database's tables, not the first connection's temporary tables
or registered frames, so only queries over files are run this way
(:meth:`mlreport.backends.DuckDBBackend._workers`); everything else runs one
after another on the connection itself, as before. Results come back in the
order of the items, so what is computed does not depend on the threads.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ._duckdb_sql import _text

__all__ = ["QueryPool"]

Item = TypeVar("Item")
Result = TypeVar("Result")


class QueryPool:
    """Runs a function over items on up to ``workers`` threads, each with its own cursor of ``connection``.

    :meth:`connection` is the cursor of the calling worker thread, or the
    connection itself outside :meth:`map`.
    """

    def __init__(self, connection: Any, workers: int) -> None:
        self._connection = connection
        self.workers = max(1, int(workers))
        self._local = threading.local()

    def connection(self) -> Any:
        """The DuckDB connection the calling thread queries through."""
        cursor = getattr(self._local, "cursor", None)
        return self._connection if cursor is None else cursor

    def map(
        self, function: Callable[[Item], Result], items: Sequence[Item], *, workers: int | None = None
    ) -> list[Result]:
        """``[function(item) for item in items]``, on ``workers`` threads at once when there are several items.

        The first exception raised by ``function`` (in item order) is raised
        here, after every running call has ended.
        """
        workers = min(self.workers if workers is None else max(1, int(workers)), len(items))
        if workers <= 1 or getattr(self._local, "cursor", None) is not None:
            return [function(item) for item in items]  # one worker, or already inside a worker: no nesting
        zone = self._connection.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
        # The cursors are made here, one per worker, not in the workers: a connection object is not
        # meant to be used from several threads at once, a cursor from the thread that holds it.
        cursors: list[Any] = []
        try:
            for _ in range(workers):
                cursor = self._connection.cursor()
                cursors.append(cursor)
                cursor.execute(f"SET TimeZone = {_text(str(zone))}")
        except BaseException:
            for cursor in cursors:
                cursor.close()
            raise
        free: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for cursor in cursors:
            free.put(cursor)

        def start() -> None:
            self._local.cursor = free.get_nowait()

        pool = ThreadPoolExecutor(max_workers=workers, initializer=start, thread_name_prefix="mlreport-duckdb")
        finished = False
        try:
            futures = [pool.submit(function, item) for item in items]
            results = [future.result() for future in futures]
            finished = True
            return results
        finally:
            if not finished:  # an error or an interrupt: stop the queries still running, start no more
                for cursor in cursors:
                    cursor.interrupt()
            pool.shutdown(wait=True, cancel_futures=True)
            for cursor in cursors:
                cursor.close()
