"""The pandas backend: the summaries of a frame in memory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from .. import data
from ..counts import count_decisions
from ..errors import DataError
from ..profile import ReferenceProfile, Summaries, period_labels
from ._base import Backend
from ._source import Grouping, RowSample, Source, _bounded_frame, _window_frame, as_source

__all__ = ["PandasBackend"]


class PandasBackend(Backend):
    """In memory: files are read with :func:`mlreport.data.load_table` (recorded as inputs)."""

    name = "pandas"

    def describe(self) -> str:
        return f"pandas {pd.__version__} in memory (profile.summarize: numpy bincount on the reference bins)"

    def _frame(self, source: Any) -> pd.DataFrame:
        src = as_source(source)
        if src.is_spark:
            raise DataError("a Spark DataFrame needs the spark backend")
        if src.table:
            raise DataError(f"the pandas backend cannot read table {src.table!r}: use the spark backend")
        if src.paths:
            frames = [data.load_table(p, name=src.name, log=self.inputs) for p in src.paths]
            src = replace(src, frame=frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True))
        return _window_frame(src)

    def _summaries(self, source: Any, profile: ReferenceProfile, group: Grouping) -> dict[Any, Summaries]:
        frame = self._frame(source)
        if group.by is not None:
            return profile.summarize_by(frame, group.by)
        if group.code is None:
            return {0: profile.summarize(frame)}
        timestamp = str(group.timestamp)
        if timestamp not in frame.columns:
            raise DataError(f"timestamp column {timestamp!r} is not in the data", column=timestamp)
        times = frame[timestamp]
        if not pd.api.types.is_datetime64_dtype(times.dtype):
            times = data.parse_timestamps(frame, timestamp)
        labels = period_labels(times, group.code)
        parts: dict[Any, Summaries] = profile.summarize_by(frame, labels)
        missing = labels.isna().to_numpy()
        if group.untimed and missing.any():
            parts[None] = profile.summarize(frame.loc[missing])
        return parts

    def _decision_counts(self, source: Any, config: Any, roles: Mapping[str, Any]) -> Any:
        return count_decisions(self._frame(source), config, **roles)

    def _fit(
        self, source: Any, columns: Sequence[str] | None, settings: Any, *, approximate: bool,
        sample_rows: int, seed: int,
    ) -> ReferenceProfile:
        # In memory every quantile is exact.
        return ReferenceProfile.fit(self._frame(source), columns, **settings.fit_arguments())

    def _bounded(self, src: Source, rows: int, seed: int) -> RowSample:
        return _bounded_frame(self._frame(src), rows, seed)

    def _sample(self, src: Source, rows: int, seed: int) -> pd.DataFrame:
        return _bounded_frame(self._frame(src), rows, seed).frame

    def head(self, source: Any, rows: int = 10_000) -> pd.DataFrame:
        return self._frame(source).head(rows).reset_index(drop=True)

    def columns(self, source: Any) -> list[str]:
        return [str(c) for c in self._frame(source).columns]
