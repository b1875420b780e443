"""Backends: where the drift and volume summaries are counted.

Drift and volume statistics come from mergeable counts (:mod:`mlreport.profile`,
:mod:`mlreport.volume`), so the counting can run wherever the data lives:

========  =====================================  ==============================================
name      runs                                   for
========  =====================================  ==============================================
pandas    in memory (the default)                data that fits in memory (files up to ~1 GiB)
duckdb    embedded SQL over Parquet / CSV files  files larger than memory, one machine
spark     PySpark DataFrame API                  tables and files in a Spark cluster
========  =====================================  ==============================================

Every backend implements :class:`Backend`: :meth:`~Backend.summarize` and
:meth:`~Backend.summarize_by` (per segment column or per period of a timestamp:
``"D"``, ``"W"``, ``"M"``) return the same :class:`~mlreport.profile.Summaries`
as :meth:`ReferenceProfile.summarize`; :meth:`~Backend.decision_counts` returns
the same :class:`~mlreport.volume.DecisionCounts` as
:func:`mlreport.volume.count_decisions`; :meth:`~Backend.fit_profile` fits a
:class:`~mlreport.profile.ReferenceProfile` (exact quantiles, approximate
quantiles, or pandas on a sample). Counts are equal across backends (integers);
sums of values agree to about 1e-12 relative (another summation order).

Choosing: :func:`get_backend` by name, or ``"auto"``: a Spark DataFrame or a
table name goes to Spark, a pandas DataFrame stays in pandas, and files go to
DuckDB when their total size exceeds :data:`AUTO_THRESHOLD_BYTES` (1 GiB: a
GiB of Parquet is several GiB as a pandas DataFrame), else to pandas.
:func:`register_backend` adds one.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from . import data
from .errors import DataError, ParameterError
from .profile import DEFAULT_SENTINELS, ReferenceProfile, Summaries, merge

__all__ = [
    "AUTO_THRESHOLD_BYTES",
    "PERIODS",
    "Source",
    "as_source",
    "Backend",
    "PandasBackend",
    "register_backend",
    "backend_names",
    "choose_backend",
    "get_backend",
]

AUTO_THRESHOLD_BYTES = 1 << 30
"""Files larger than this in total go to DuckDB under ``backend="auto"``."""

PERIODS = ("D", "W", "M")
"""Period keys every backend understands: day, week (from Monday), month."""

QUANTILE_MODES = ("exact", "approx", "sample")


# ---------------------------------------------------------------------------
# sources


@dataclass(frozen=True)
class Source:
    """What a backend reads, and the time window it keeps.

    One of: ``paths`` (resolved Parquet or CSV files, one ``format``), ``frame``
    (a pandas DataFrame, or a Spark DataFrame for the Spark backend) or
    ``table`` (a table name in the backend's catalogue). ``timestamp``,
    ``start`` and ``end`` keep rows with ``start <= timestamp < end`` (either
    bound optional; naive UTC, as :mod:`mlreport.data` reads timestamps).
    """

    paths: tuple[str, ...] = ()
    format: str | None = None
    frame: Any = None
    table: str | None = None
    timestamp: str | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    name: str = "data"

    @property
    def bytes(self) -> int:
        """Total size of the files (0 for frames and tables)."""
        return sum(os.path.getsize(p) for p in self.paths)

    @property
    def is_spark(self) -> bool:
        return self.frame is not None and type(self.frame).__module__.startswith("pyspark")

    def window(self, timestamp: str | None, start: Any = None, end: Any = None) -> "Source":
        """The same source restricted to ``start <= timestamp < end``."""
        return replace(
            self, timestamp=timestamp or None, start=_stamp(start, "start"), end=_stamp(end, "end")
        )

    def describe(self) -> str:
        if self.paths:
            head = self.paths[0] if len(self.paths) == 1 else f"{len(self.paths)} {self.format} files"
            what = f"{head} ({self.bytes / 2**20:,.1f} MiB)"
        elif self.table:
            what = f"table {self.table}"
        else:
            what = f"{type(self.frame).__name__}"
        if self.timestamp and (self.start is not None or self.end is not None):
            what += f", {self.timestamp} in [{self.start or '-inf'}, {self.end or '+inf'})"
        return what


def _stamp(value: Any, name: str) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ParameterError(f"window {name} {value!r} is not a date", name=name) from None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def _file_format(path: Path) -> str:
    # resolve_paths has already checked the suffix is Parquet or CSV.
    return "parquet" if path.name.lower().endswith((".parquet", ".pq", ".parq")) else "csv"


def as_source(
    source: Any,
    *,
    name: str = "data",
    timestamp: str | None = None,
    start: Any = None,
    end: Any = None,
    table: str | None = None,
) -> Source:
    """A :class:`Source` from paths (a path, glob, folder or a list of them), a frame, or a table name."""
    if table:
        result = Source(table=table, name=name)
    elif isinstance(source, Source):
        result = source
    elif isinstance(source, (str, os.PathLike)) or (
        isinstance(source, (list, tuple)) and source and all(isinstance(s, (str, os.PathLike)) for s in source)
    ):
        items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
        files: list[Path] = []
        for item in items:
            files += data.resolve_paths(item)
        formats = {_file_format(f) for f in files}
        if len(formats) != 1:
            raise DataError(f"{items}: mixes CSV and Parquet files; point at one format")
        result = Source(paths=tuple(str(f) for f in files), format=formats.pop(), name=name)
    elif source is not None and hasattr(source, "columns"):
        result = Source(frame=source, name=name)
    else:
        raise DataError(
            f"cannot read {type(source).__name__} as data: expected a path, glob or folder of "
            "Parquet or CSV files, a list of them, a DataFrame, or table=..."
        )
    if timestamp or start is not None or end is not None:
        result = result.window(timestamp or result.timestamp, start, end)
    return result


# ---------------------------------------------------------------------------
# the interface


class Backend(ABC):
    """Computes the drift and volume summaries of a source.

    ``timings`` records ``(operation, seconds)`` of every call so that a report
    can say which backend ran and how long it took (:meth:`run_info`).
    """

    name: str = ""

    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []

    @contextmanager
    def _timed(self, operation: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.timings.append((operation, time.perf_counter() - began))

    def run_info(self) -> dict[str, Any]:
        """Backend name, settings and seconds per operation, for a report's inputs or metrics."""
        return {
            "backend": self.name,
            "settings": self.describe(),
            "seconds": round(sum(s for _, s in self.timings), 3),
            "operations": [{"operation": op, "seconds": round(s, 3)} for op, s in self.timings],
        }

    @abstractmethod
    def describe(self) -> str:
        """One line naming the backend, its version and settings (for the methods appendix)."""

    @abstractmethod
    def summarize(self, source: Any, profile: ReferenceProfile) -> Summaries:
        """Counts of the whole source on ``profile``'s bins (= ``profile.summarize``)."""

    @abstractmethod
    def summarize_by(
        self,
        source: Any,
        profile: ReferenceProfile,
        *,
        by: str | None = None,
        period: str | None = None,
        timestamp: str | None = None,
    ) -> dict[Any, Summaries]:
        """Summaries per value of column ``by``, or per ``period`` (D/W/M) of ``timestamp``.

        Keys in sorted order (period labels as :func:`mlreport.drift.period_labels`);
        rows whose key is missing are left out (= ``profile.summarize_by``).
        """

    def summarize_periods(
        self, source: Any, profile: ReferenceProfile, *, period: str, timestamp: str
    ) -> tuple[Summaries, dict[Any, Summaries]]:
        """The window's summaries and its per-period summaries, from one pass.

        Summaries add up, so the window is the merge of its periods (rows
        without a timestamp belong to no period and are left out of both).
        This is what a drift report needs: ``compare`` on the first,
        ``drift_over_time`` on the second.
        """
        parts = self.summarize_by(source, profile, period=period, timestamp=timestamp)
        if not parts:
            empty = pd.DataFrame({
                name: pd.Series([], dtype=float if column.numeric_values else object)
                for name, column in profile.columns.items()
            })
            return profile.summarize(empty), parts
        return merge(parts.values()), parts

    @abstractmethod
    def decision_counts(
        self,
        source: Any,
        config: Any = None,
        *,
        timestamp_column: str,
        decision_column: str,
        segment_columns: Sequence[str] = (),
        score_column: str | None = None,
        override_column: str | None = None,
        decision_labels: Sequence[str] | None = None,
    ) -> Any:
        """Decision counts per period, segment and decision (= ``volume.count_decisions``)."""

    @abstractmethod
    def fit_profile(
        self,
        source: Any,
        columns: Sequence[str] | None = None,
        *,
        quantiles: str = "exact",
        sample_rows: int = 1_000_000,
        seed: int = 0,
        categorical: Sequence[str] | None = None,
        numeric: Sequence[str] | None = None,
        bins: int = 10,
        fine_bins: int = 100,
        max_categories: int = 50,
        sentinels: Sequence[float] = DEFAULT_SENTINELS,
        discrete_max: int = 12,
    ) -> ReferenceProfile:
        """A reference profile of the source (see :meth:`ReferenceProfile.fit` for the rules).

        ``quantiles="exact"``: the same profile as pandas on the whole source
        (mean and std to about 1e-12); ``"approx"``: quantile edges from the
        backend's approximate quantiles (stated in ``settings["fit"]``);
        ``"sample"``: ``ReferenceProfile.fit`` on a uniform sample of
        ``sample_rows`` rows (exactly pandas' profile of that sample).
        """

    @abstractmethod
    def head(self, source: Any, rows: int = 10_000) -> pd.DataFrame:
        """The first ``rows`` rows as pandas (to infer a spec or check columns)."""

    @abstractmethod
    def columns(self, source: Any) -> list[str]:
        """Column names of the source."""


def check_quantile_mode(quantiles: str) -> None:
    if quantiles not in QUANTILE_MODES:
        raise ParameterError(
            f"quantiles must be one of {', '.join(QUANTILE_MODES)}, got {quantiles!r}", name="quantiles"
        )


def check_group(by: str | None, period: str | None, timestamp: str | None) -> None:
    if (by is None) == (period is None):
        raise ParameterError("give exactly one of by= (a column) or period= (D, W or M)", name="by")
    if period is not None:
        if str(period).upper() not in PERIODS:
            raise ParameterError(
                f"period must be one of {', '.join(PERIODS)} on a SQL backend, got {period!r} "
                "(chunks of rows need a row order: use the pandas backend)",
                name="period",
            )
        if not timestamp:
            raise ParameterError("period= needs the timestamp column (timestamp=...)", name="timestamp")


# ---------------------------------------------------------------------------
# pandas


class PandasBackend(Backend):
    """In memory: files are read with :func:`mlreport.data.load_table` (recorded as inputs)."""

    name = "pandas"

    def describe(self) -> str:
        return f"pandas {pd.__version__} in memory (profile.summarize: numpy bincount on the reference bins)"

    def _frame(self, source: Any) -> pd.DataFrame:
        src = as_source(source)
        if src.frame is not None:
            if src.is_spark:
                raise DataError("a Spark DataFrame needs the spark backend")
            frame = src.frame
        elif src.paths:
            frames = [data.load_table(p, name=src.name) for p in src.paths]
            frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        else:
            raise DataError(f"the pandas backend cannot read table {src.table!r}: use the spark backend")
        if src.timestamp and (src.start is not None or src.end is not None):
            times = frame[src.timestamp]
            if not pd.api.types.is_datetime64_any_dtype(times.dtype) or isinstance(
                times.dtype, pd.DatetimeTZDtype
            ):
                times = data.parse_timestamps(frame, src.timestamp, source=src.name)
            keep = np.ones(len(frame), dtype=bool)
            if src.start is not None:
                keep &= (times >= src.start).to_numpy()
            if src.end is not None:
                keep &= (times < src.end).to_numpy()
            frame = frame.loc[keep]
        return frame

    def summarize(self, source: Any, profile: ReferenceProfile) -> Summaries:
        with self._timed("summarize"):
            return profile.summarize(self._frame(source))

    def summarize_by(
        self,
        source: Any,
        profile: ReferenceProfile,
        *,
        by: str | None = None,
        period: str | None = None,
        timestamp: str | None = None,
    ) -> dict[Any, Summaries]:
        from .drift import period_labels

        check_group(by, period, timestamp)
        with self._timed(f"summarize_by {by or period}"):
            frame = self._frame(source)
            if by is not None:
                return profile.summarize_by(frame, by)
            if timestamp not in frame.columns:
                raise DataError(f"timestamp column {timestamp!r} is not in the data", column=timestamp)
            times = frame[timestamp]
            if not pd.api.types.is_datetime64_dtype(times.dtype):
                times = data.parse_timestamps(frame, str(timestamp))
            return profile.summarize_by(frame, period_labels(times, str(period).upper()))

    def decision_counts(
        self,
        source: Any,
        config: Any = None,
        *,
        timestamp_column: str,
        decision_column: str,
        segment_columns: Sequence[str] = (),
        score_column: str | None = None,
        override_column: str | None = None,
        decision_labels: Sequence[str] | None = None,
    ) -> Any:
        from .volume import count_decisions

        with self._timed("decision_counts"):
            return count_decisions(
                self._frame(source), config, timestamp_column=timestamp_column,
                decision_column=decision_column, segment_columns=segment_columns,
                score_column=score_column, override_column=override_column,
                decision_labels=decision_labels,
            )

    def fit_profile(
        self,
        source: Any,
        columns: Sequence[str] | None = None,
        *,
        quantiles: str = "exact",
        sample_rows: int = 1_000_000,
        seed: int = 0,
        **settings: Any,
    ) -> ReferenceProfile:
        check_quantile_mode(quantiles)
        with self._timed("fit_profile"):
            frame = self._frame(source)
            if quantiles == "sample" and len(frame) > sample_rows:
                frame = frame.sample(n=sample_rows, random_state=seed).sort_index()
            return ReferenceProfile.fit(frame, columns, **settings)

    def head(self, source: Any, rows: int = 10_000) -> pd.DataFrame:
        return self._frame(source).head(rows).reset_index(drop=True)

    def columns(self, source: Any) -> list[str]:
        return [str(c) for c in self._frame(source).columns]


# ---------------------------------------------------------------------------
# registry


def _duckdb_factory(**options: Any) -> Backend:
    from .duckdb_backend import DuckDBBackend

    return DuckDBBackend(**options)


def _spark_factory(**options: Any) -> Backend:
    from .spark_backend import SparkBackend

    return SparkBackend(**options)


_REGISTRY: dict[str, Callable[..., Backend]] = {
    "pandas": lambda **options: PandasBackend(**options),
    "duckdb": _duckdb_factory,
    "spark": _spark_factory,
}


def register_backend(name: str, factory: Callable[..., Backend]) -> None:
    """Make ``get_backend(name, **options)`` call ``factory(**options)``."""
    if not name or name == "auto":
        raise ParameterError(f"backend name {name!r} is reserved or empty", name="backend")
    _REGISTRY[name] = factory


def backend_names() -> list[str]:
    """Registered backend names (``"auto"`` chooses among them)."""
    return list(_REGISTRY)


def choose_backend(
    source: Any, backend: str = "auto", *, threshold_bytes: int = AUTO_THRESHOLD_BYTES
) -> str:
    """The backend name for ``source``: ``backend`` itself, or the ``"auto"`` rule (module docstring)."""
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
    source: Any = None,
    *,
    threshold_bytes: int = AUTO_THRESHOLD_BYTES,
    **options: Any,
) -> Backend:
    """A backend by name; ``"auto"`` chooses by ``source`` (:func:`choose_backend`).

    ``options`` go to the backend: DuckDB ``threads``, ``memory_limit``,
    ``temp_directory``; Spark ``spark`` (a session) or ``master``, ``config``.
    """
    if backend == "auto" and source is None:
        raise ParameterError("backend='auto' needs the source to choose by its size", name="backend")
    name = choose_backend(source, backend, threshold_bytes=threshold_bytes) if source is not None else backend
    if name not in _REGISTRY:
        raise ParameterError(f"backend must be one of auto, {', '.join(_REGISTRY)}; got {name!r}", name="backend")
    return _REGISTRY[name](**options)


def with_reference(profile: ReferenceProfile, reference: Summaries) -> ReferenceProfile:
    """The profile with the reference's own summaries, and the counts fit took from them.

    A backend fits bins first and counts the reference on them after; the
    sentinel counts of the columns of numbers come from that count (values
    equal to a sentinel are one-value bins there), as :meth:`ReferenceProfile.fit`
    counts them.
    """
    columns = {}
    for name, column in profile.columns.items():
        summary = reference.columns.get(name)
        if summary is not None and column.sentinel_counts:
            column = replace(column, sentinel_counts=tuple(int(c) for c in summary.sentinel_counts))
        columns[name] = column
    return ReferenceProfile(columns=columns, reference=reference, rows=reference.rows, settings=profile.settings)


def settings_with_fit(profile: ReferenceProfile, fit: Mapping[str, Any]) -> ReferenceProfile:
    """The profile with ``settings["fit"]`` saying how it was fitted (backend, quantiles, tolerance)."""
    return replace(profile, settings={**dict(profile.settings), "fit": dict(fit)})

