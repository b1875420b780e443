"""The pandas backend: the summaries of a frame in memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from .. import data
from ..counts import CountGrid, DecisionCounts, DecisionRoles, count_decisions
from ..errors import DataError, ParameterError
from ..profile import ReferenceProfile, Summaries, period_labels
from ._base import Backend
from ._source import (
    PERIODS,
    Grouping,
    RowSample,
    Source,
    SourceLike,
    _bounded_frame,
    _window_frame,
    as_source,
    check_group,
)

__all__ = ["PandasBackend"]


class PandasBackend(Backend):
    """In memory: files and queries are read with :mod:`mlreport.data` (recorded as inputs).

    Each file (local or an object in a store) and each query is read once and kept, so the windows of one file
    (a reference and a current window cut by dates), its rows, its profile,
    its summaries, the rows roles are inferred from and its decision counts
    all come from the same read, recorded once in :attr:`inputs`. The rows
    are in memory anyway: :meth:`rows_in_memory` and :meth:`role_rows` hold
    all of them, and periods can be chunks of rows (:meth:`summarize_periods`
    with a number).
    """

    name = "pandas"
    keeps_row_order = True

    def __init__(self) -> None:
        super().__init__()
        self._read: dict[tuple[str, object], pd.DataFrame] = {}
        self._files: dict[str, pd.DataFrame] = {}
        self._queries: dict[str, pd.DataFrame] = {}
        self._windows: dict[tuple[object, ...], pd.DataFrame] = {}

    def describe(self) -> str:
        return f"pandas {pd.__version__} in memory (profile.summarize: numpy bincount on the reference bins)"

    def _frame(self, source: SourceLike) -> pd.DataFrame:
        src = as_source(source)
        if src.is_spark:
            raise DataError("a Spark DataFrame needs the spark backend")
        if src.table:
            raise DataError(f"the pandas backend cannot read table {src.table!r}: use the spark backend")
        if src.files is not None or src.sql is not None:
            key = (src.name, src.paths or (src.sql.text if src.sql is not None else ""))
            if key not in self._read:
                self._read[key] = self._read_source(src)
            src = replace(src, frame=self._read[key])
            if src.timestamp and (src.start is not None or src.end is not None):
                # A window of a read file is cut once, not again for every count, fit and sample.
                window = (key, src.timestamp, src.start, src.end)
                if window not in self._windows:
                    self._windows[window] = _window_frame(src)
                return self._windows[window]
        return _window_frame(src)

    def _read_source(self, src: Source) -> pd.DataFrame:
        """The rows of a source's files or query; each file and query read (and recorded) once per backend."""
        if src.sql is not None:
            if src.sql.text not in self._queries:
                self._queries[src.sql.text] = data.load_table(src.sql.text, name=src.name, log=self.inputs)
            return self._queries[src.sql.text]
        files = src.files
        assert files is not None
        frames: list[pd.DataFrame] = []
        for file in files.files:
            if file.url not in self._files:
                self._files[file.url] = data.load_table(files.only(file), name=src.name, log=self.inputs)
            frame = self._files[file.url]
            first = [str(c) for c in frames[0].columns] if frames else None
            if first is not None and [str(c) for c in frame.columns] != first:
                raise DataError(
                    f"{file.url}: columns {list(frame.columns)} differ from {files.files[0].url}'s {first}; "
                    "files read together must share their columns",
                    path=file.url,
                )
            frames.append(frame)
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def rows_in_memory(self, source: SourceLike, rows: int, *, seed: int = 0) -> RowSample:
        """Every row of the source's window, whatever ``rows``: in pandas the data is in memory already."""
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
            raise ParameterError(f"rows must be a positive integer, got {rows!r}", name="rows")
        with self._timed("rows_in_memory"):
            frame = self._frame(source)
            return RowSample(frame.reset_index(drop=True), len(frame), int(seed))

    def summarize_periods(
        self, source: SourceLike, profile: ReferenceProfile, *, period: str | int, timestamp: str
    ) -> tuple[Summaries, dict[Any, Summaries]]:
        """The window's summaries and its per-period summaries: by date (D, W, M) or chunks of rows.

        ``period`` is ``"D"``, ``"W"`` or ``"M"`` of ``timestamp`` (as every
        backend), or a number of rows per chunk in the source's order (labels
        as :func:`mlreport.profile.period_labels`; ``timestamp`` unused). The
        window's summaries are counted on every row at once, not merged from
        the periods: the same as ``profile.summarize(frame)`` to the last bit.
        """
        size = _chunk_size(period)
        if size is None:
            check_group(None, str(period), timestamp)
        with self._timed(f"summarize_periods {period}"):
            frame = self._frame(source)
            if size is None:
                labels = self._period_labels(frame, Grouping(None, str(period), timestamp))
            else:
                rows = pd.Series(range(len(frame)), index=frame.index)  # labels align with the rows by index
                labels = period_labels(rows, size, categorical=True)
            # One pass: each column encoded once, counted for the window and per period.
            whole, (parts,) = profile.summarize_with(frame, [labels])
            return whole, parts

    def summarize_periods_by_each(
        self, source: SourceLike, profile: ReferenceProfile, *, period: str | None, timestamp: str,
        by: Sequence[str],
    ) -> tuple[Summaries, dict[Any, Summaries], list[dict[Any, Summaries]] | None]:
        """The window's summaries, its periods' (none when ``period`` is None) and ``by``'s, in one pass.

        Each column is encoded once and counted for every grouping: the same
        numbers, to the last bit, as :meth:`summarize_periods` (or
        :meth:`summarize`) and :meth:`summarize_by_each` called apart.
        """
        size = _chunk_size(period) if period is not None else None
        if period is not None and size is None:
            check_group(None, str(period), timestamp)
        for column in by:
            check_group(column, None, None)
        # Timed under the operation's usual name: the levels of ``by`` are a bincount each in the same pass.
        with self._timed(f"summarize_periods {period}" if period is not None else "summarize"):
            frame = self._frame(source)
            keys: list[pd.Series | str] = []
            if period is not None:
                if size is None:
                    keys.append(self._period_labels(frame, Grouping(None, str(period), timestamp)))
                else:
                    rows = pd.Series(range(len(frame)), index=frame.index)  # labels align with the rows by index
                    keys.append(period_labels(rows, size, categorical=True))
            whole, per_key = profile.summarize_with(frame, [*keys, *by])
            parts = per_key[0] if period is not None else {}
            return whole, parts, per_key[len(keys):]

    def summarize_by_each(
        self, source: SourceLike, profile: ReferenceProfile, by: Sequence[str]
    ) -> list[dict[Any, Summaries]]:
        """Summaries per value of each column of ``by``: one pass over the rows for all of them."""
        for column in by:
            check_group(column, None, None)
        with self._timed(f"summarize_by {', '.join(by)}"):
            frame = self._frame(source)
            return profile.summarize_by_each(frame, list(by))

    def _summaries(self, source: SourceLike, profile: ReferenceProfile, group: Grouping) -> dict[Any, Summaries]:
        frame = self._frame(source)
        if group.by is not None:
            return profile.summarize_by(frame, group.by)
        if group.code is None:
            return {0: profile.summarize(frame)}
        labels = self._period_labels(frame, group)
        parts: dict[Any, Summaries] = profile.summarize_by(frame, labels)
        missing = labels.isna().to_numpy()
        if group.untimed and missing.any():
            parts[None] = profile.summarize(frame.loc[missing])
        return parts

    @staticmethod
    def _period_labels(frame: pd.DataFrame, group: Grouping) -> pd.Series:
        """Each row's period label of ``group``'s timestamp (missing where there is no timestamp).

        As a categorical: the rows are only grouped by it, and its codes are the groups (no label per row).
        """
        timestamp = str(group.timestamp)
        if timestamp not in frame.columns:
            raise DataError(f"timestamp column {timestamp!r} is not in the data", column=timestamp)
        times = frame[timestamp]
        if not pd.api.types.is_datetime64_dtype(times.dtype):
            times = data.parse_timestamps(frame, timestamp)
        return period_labels(times, str(group.code), categorical=True)

    def _decision_counts(self, source: Source, config: CountGrid, roles: DecisionRoles) -> DecisionCounts:
        return count_decisions(self._frame(source), config, **roles)

    def role_rows(self, source: SourceLike) -> pd.DataFrame:
        """Every row of the source's window: in pandas the log is in memory anyway (files read once)."""
        return self._frame(source)

    def _fit(
        self, source: SourceLike, columns: Sequence[str] | None, settings: Any, *, approximate: bool,
        sample_rows: int, seed: int,
    ) -> ReferenceProfile:
        # In memory every quantile is exact.
        return ReferenceProfile.fit(self._frame(source), columns, **settings.fit_arguments())

    def _bounded(self, src: Source, rows: int, seed: int) -> RowSample:
        return _bounded_frame(self._frame(src), rows, seed)

    def _sample(self, src: Source, rows: int, seed: int) -> pd.DataFrame:
        return _bounded_frame(self._frame(src), rows, seed).frame

    def head(self, source: SourceLike, rows: int = 10_000) -> pd.DataFrame:
        return self._frame(source).head(rows).reset_index(drop=True)

    def columns(self, source: SourceLike) -> list[str]:
        return [str(c) for c in self._frame(source).columns]


def _chunk_size(period: str | int) -> int | None:
    """Rows per chunk when ``period`` is a number, None for D, W or M; else a ParameterError."""
    if str(period).upper() in PERIODS:
        return None
    try:
        size = int(period)
    except (TypeError, ValueError):
        raise ParameterError(
            f"period must be D, W, M or a number of rows per chunk, got {period!r}", name="period"
        ) from None
    if size < 1:
        raise ParameterError(f"period {size}: a chunk needs at least 1 row", name="period")
    return size
