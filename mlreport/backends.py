"""Backends: where the drift and volume summaries are counted.

Drift and volume statistics come from mergeable counts (:mod:`mlreport.profile`,
:mod:`mlreport.volume_counts`), so the counting can run wherever the data lives:

========  =====================================  ==============================================
name      runs                                   for
========  =====================================  ==============================================
pandas    in memory (the default)                data that fits in memory (files up to ~1 GiB)
duckdb    embedded SQL over Parquet / CSV files  files larger than memory, one machine
spark     PySpark DataFrame API                  tables and files in a Spark cluster
========  =====================================  ==============================================

Every backend implements :class:`Backend`: :meth:`~Backend.summarize` and
:meth:`~Backend.summarize_by` (per segment column or per period of a timestamp:
``"D"``, ``"W"``, ``"M"``) return the same :class:`~mlreport.profile_summaries.Summaries`
as :meth:`ReferenceProfile.summarize`; :meth:`~Backend.decision_counts` returns
the same :class:`~mlreport.volume_counts.DecisionCounts` as
:func:`mlreport.volume_counts.count_decisions`; :meth:`~Backend.fit_profile` fits a
:class:`~mlreport.profile.ReferenceProfile` (exact quantiles, approximate
quantiles, or pandas on a sample). Counts are equal across backends (integers);
sums of values agree to about 1e-12 relative (another summation order).

Choosing: :func:`get_backend` by name, or ``"auto"``: a Spark DataFrame or a
table name goes to Spark, a pandas DataFrame stays in pandas, and files go to
DuckDB when their total size exceeds :data:`AUTO_THRESHOLD_BYTES` (1 GiB: a
GiB of Parquet is several GiB as a pandas DataFrame), else to pandas.
:func:`register_backend` adds one; :func:`open_backend` is what the notebooks
call with their ``backend`` and ``backend_options`` parameters.

For a report, a backend also fetches the rows that row-level sections need,
bounded (:meth:`Backend.bounded_rows`: every row up to a limit, else a uniform
sample), records the files it reads in the run's inputs
(:func:`mlreport.data.record_file`) and says what it did and for how long
(:meth:`Backend.run_info`).
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
from .profile import ReferenceProfile
from .profile_summaries import Summaries, merge

__all__ = [
    "AUTO_THRESHOLD_BYTES",
    "PERIODS",
    "Source",
    "as_source",
    "Grouping",
    "RowSample",
    "Backend",
    "PandasBackend",
    "register_backend",
    "backend_names",
    "choose_backend",
    "get_backend",
    "open_backend",
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
            self, timestamp=timestamp or None, start=naive_utc(start, "start"), end=naive_utc(end, "end")
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


def naive_utc(value: Any, name: str, *, what: str | None = None) -> pd.Timestamp | None:
    """A window bound as a naive UTC timestamp, as :mod:`mlreport.data` reads timestamps; None when empty.

    ``what`` names the value in the error (default ``window NAME``); the
    ParameterError names ``name``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ParameterError(
            f"{what or f'window {name}'}: {value!r} is not an ISO 8601 date (e.g. 2026-03-14 or 2026-03-14T10:00)",
            name=name,
        ) from None
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


@dataclass(frozen=True)
class Grouping:
    """How a backend groups the rows it counts: not at all, by a column (``by``) or by ``period`` of ``timestamp``.

    ``untimed``: rows without a timestamp form the group ``None`` instead of
    being left out (the window of :meth:`Backend.summarize_periods` counts them).
    """

    by: str | None = None
    period: str | None = None
    timestamp: str | None = None
    untimed: bool = False

    @property
    def code(self) -> str | None:
        """The period key, upper case (``D``, ``W`` or ``M``)."""
        return str(self.period).upper() if self.period is not None else None

    @property
    def single(self) -> bool:
        """No grouping: the whole source is one group."""
        return self.by is None and self.period is None


@dataclass(frozen=True)
class RowSample:
    """Rows of a source held in memory: every row, or a uniform sample of them.

    ``total`` is the number of rows in the source (its window); the sample is
    ``complete`` when it holds all of them, in the source's order. Sections of
    a report that need row-level data (integrity, performance, the domain
    classifier) run on it; when it is not complete they say so.
    """

    frame: pd.DataFrame
    total: int
    seed: int = 0

    @property
    def complete(self) -> bool:
        return len(self.frame) == self.total

    def describe(self) -> str:
        if self.complete:
            return f"all {self.total:,} rows"
        return f"a uniform sample of {len(self.frame):,} of {self.total:,} rows (seed {self.seed})"


class Backend(ABC):
    """Computes the drift and volume summaries of a source.

    The public methods are written once, here: they check their arguments,
    time the call and hand it to the backend's few primitives
    (``_summaries``, ``_decision_counts``, ``_fit``, ``_count``, ``_rows``,
    ``_sample``). ``timings`` records ``(operation, seconds)`` of every call so
    that a report can say which backend ran and how long it took
    (:meth:`run_info`). Files a backend reads without :func:`mlreport.data.load_table`
    are recorded once per source with :func:`mlreport.data.record_file`.
    """

    name: str = ""

    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []
        self._recorded: set[tuple[str, tuple[str, ...]]] = set()
        self._depth = 0

    @contextmanager
    def _timed(self, operation: str) -> Iterator[None]:
        # Only outermost calls are recorded: fit_profile counting the reference is part of the fit.
        began = time.perf_counter()
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.timings.append((operation, time.perf_counter() - began))

    def run_info(self) -> dict[str, Any]:
        """Backend name, settings and seconds per operation, for a report's inputs or metrics."""
        return {
            "backend": self.name,
            "settings": self.describe(),
            "seconds": round(sum(s for _, s in self.timings), 3),
            "operations": [{"operation": op, "seconds": round(s, 3)} for op, s in self.timings],
        }

    def _record_files(self, src: Source, *, columns: int, rows: Callable[[], int]) -> None:
        """Record ``src``'s files in the run's inputs, once per backend (``rows`` is counted then)."""
        key = (src.name, src.paths)
        if not src.paths or key in self._recorded:
            return
        self._recorded.add(key)
        data.record_file(list(src.paths), name=src.name, rows=rows(), columns=columns)

    def run_summary(self) -> str:
        """:meth:`describe` and the time spent so far, one line for a report's methods."""
        seconds = sum(s for _, s in self.timings)
        return f"{self.describe()}; {seconds:.2f} s in {len(self.timings)} operation(s)"

    @abstractmethod
    def describe(self) -> str:
        """One line naming the backend, its version and settings (for the methods appendix)."""

    # -- summaries -----------------------------------------------------------
    def summarize(self, source: Any, profile: ReferenceProfile) -> Summaries:
        """Counts of the whole source on ``profile``'s bins (= ``profile.summarize``)."""
        with self._timed("summarize"):
            return next(iter(self._summaries(source, profile, Grouping()).values()))

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

        Keys in sorted order (period labels as :func:`mlreport.drift_periods.period_labels`);
        rows whose key is missing are left out (= ``profile.summarize_by``).
        """
        check_group(by, period, timestamp)
        with self._timed(f"summarize_by {by or period}"):
            return self._summaries(source, profile, Grouping(by, period, timestamp))

    def summarize_periods(
        self, source: Any, profile: ReferenceProfile, *, period: str, timestamp: str
    ) -> tuple[Summaries, dict[Any, Summaries]]:
        """The window's summaries and its per-period summaries, from one pass.

        Summaries add up, so the window is the merge of its periods and of the
        rows without a timestamp, which belong to no period: the same as
        ``profile.summarize(frame)`` and ``profile.summarize_by(frame, period_labels(...))``.
        This is what a drift report needs: ``compare`` on the first,
        ``drift_over_time`` on the second.
        """
        check_group(None, period, timestamp)
        with self._timed(f"summarize_periods {period}"):
            parts = self._summaries(source, profile, Grouping(None, period, timestamp, untimed=True))
        untimed = parts.pop(None, None)
        everything = [*parts.values(), *([untimed] if untimed is not None else [])]
        if not everything:
            empty = pd.DataFrame({
                name: pd.Series([], dtype=float if column.numeric_values else object)
                for name, column in profile.columns.items()
            })
            return profile.summarize(empty), parts
        return merge(everything), parts

    @abstractmethod
    def _summaries(self, source: Any, profile: ReferenceProfile, group: Grouping) -> dict[Any, Summaries]:
        """Summaries per group: one group ``0`` (no ``by`` nor ``period``), per ``by`` value or per period."""

    # -- decision counts -----------------------------------------------------
    def decision_counts(self, source: Any, config: Any = None, **roles: Any) -> Any:
        """Decision counts per period, segment and decision (= ``volume_counts.count_decisions``).

        ``roles`` are :func:`mlreport.volume_counts.count_decisions`' column roles:
        ``timestamp_column`` and ``decision_column``, optionally
        ``segment_columns``, ``score_column``, ``override_column`` and
        ``decision_labels`` (:func:`mlreport.volume_roles.decision_roles`).
        """
        from .volume_config import VolumeConfig
        from .volume_roles import decision_roles

        checked = decision_roles(**roles)
        with self._timed("decision_counts"):
            return self._decision_counts(source, config or VolumeConfig(), checked)

    @abstractmethod
    def _decision_counts(self, source: Any, config: Any, roles: Mapping[str, Any]) -> Any:
        """:class:`~mlreport.volume_counts.DecisionCounts` of ``source`` for ``roles`` (``volume_roles.decision_roles``)."""

    # -- fitting a reference -------------------------------------------------
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
        """A reference profile of the source (see :meth:`ReferenceProfile.fit` for the rules).

        ``settings`` are those of :class:`~mlreport.pushdown_fit.FitSettings`
        (``categorical``, ``numeric``, ``bins``, ``fine_bins``,
        ``max_categories``, ``sentinels``, ``discrete_max``).
        ``quantiles="exact"``: the same profile as pandas on the whole source
        (mean and std to about 1e-12); ``"approx"``: quantile edges from the
        backend's approximate quantiles (stated in ``settings["fit"]``);
        ``"sample"``: ``ReferenceProfile.fit`` on a uniform sample of
        ``sample_rows`` rows (exactly pandas' profile of that sample).
        """
        from .pushdown_fit import FitSettings

        check_quantile_mode(quantiles)
        fit = FitSettings.of(settings)
        with self._timed(f"fit_profile ({quantiles})"):
            if quantiles != "sample":
                return self._fit(source, columns, fit, approximate=quantiles == "approx",
                                 sample_rows=sample_rows, seed=seed)
            sampled = self._sample(as_source(source), int(sample_rows), int(seed))
            fitted = ReferenceProfile.fit(sampled, columns, **fit.fit_arguments())
            return settings_with_fit(fitted, {
                "backend": self.name, "quantiles": "sample", "sample_rows": int(len(sampled)), "seed": int(seed),
            })

    def _fit(
        self, source: Any, columns: Sequence[str] | None, settings: Any, *, approximate: bool,
        sample_rows: int, seed: int,
    ) -> ReferenceProfile:
        """The profile from exact (or, with ``approximate``, approximate) quantiles.

        A SQL backend answers aggregate queries (:meth:`_fit_queries`); the
        profile follows pandas' rules (:func:`mlreport.pushdown_fit.fit_from_queries`),
        then the reference is counted on its bins and the fit described in
        ``settings["fit"]``.
        """
        from .pushdown_fit import QuantileRequest, fit_from_queries

        request = QuantileRequest(approximate, (int(settings.bins), int(settings.fine_bins)), int(sample_rows), int(seed))
        queries, names, counted = self._fit_queries(source, columns, request)
        profile = fit_from_queries(queries, names, settings)
        profile = with_reference(profile, self.summarize(counted, profile))
        return settings_with_fit(profile, queries.description(profile, int(settings.bins)))

    def _fit_queries(self, source: Any, columns: Sequence[str] | None, request: Any) -> tuple[Any, list[str], Any]:
        """(the :class:`~mlreport.pushdown_fit.FitQueries` answering ``request``, the columns to fit, the source to count)."""
        raise NotImplementedError

    # -- rows ----------------------------------------------------------------
    def bounded_rows(self, source: Any, rows: int, *, seed: int = 0) -> RowSample:
        """Every row of the source when it has at most ``rows``, else a uniform sample of ``rows``.

        What the row-level sections of a report run on at scale. A pandas
        DataFrame source is used as it is (windowed), whatever the backend.
        """
        if not isinstance(rows, (int, np.integer)) or isinstance(rows, bool) or rows < 1:
            raise ParameterError(f"rows must be a positive integer, got {rows!r}", name="rows")
        src = as_source(source)
        with self._timed("bounded_rows"):
            if src.frame is not None and not src.is_spark:
                return _bounded_frame(_window_frame(src), int(rows), int(seed))
            return self._bounded(src, int(rows), int(seed))

    def _bounded(self, src: Source, rows: int, seed: int) -> RowSample:
        """:meth:`bounded_rows` of files or a table: count first, then every row or a sample."""
        total = self._count(src)
        frame = self._rows(src) if total <= rows else self._sample(src, rows, seed)
        return RowSample(frame.reset_index(drop=True), int(total), seed)

    def _count(self, src: Source) -> int:
        """Rows of the source's window."""
        raise NotImplementedError

    def _rows(self, src: Source) -> pd.DataFrame:
        """Every row of the source's window, in the source's order, as pandas."""
        raise NotImplementedError

    @abstractmethod
    def _sample(self, src: Source, rows: int, seed: int) -> pd.DataFrame:
        """A uniform sample of ``rows`` rows (all rows when fewer), as pandas."""

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


def _window_frame(src: Source) -> pd.DataFrame:
    """A pandas source's frame restricted to its window."""
    frame = src.frame
    if src.timestamp and (src.start is not None or src.end is not None):
        times = frame[src.timestamp]
        if not pd.api.types.is_datetime64_any_dtype(times.dtype) or isinstance(times.dtype, pd.DatetimeTZDtype):
            times = data.parse_timestamps(frame, src.timestamp, source=src.name)
        keep = np.ones(len(frame), dtype=bool)
        if src.start is not None:
            keep &= (times >= src.start).to_numpy()
        if src.end is not None:
            keep &= (times < src.end).to_numpy()
        frame = frame.loc[keep]
    return frame


def _bounded_frame(frame: pd.DataFrame, rows: int, seed: int) -> RowSample:
    sampled = frame if len(frame) <= rows else frame.sample(n=rows, random_state=seed).sort_index()
    return RowSample(sampled.reset_index(drop=True), len(frame), seed)


# ---------------------------------------------------------------------------
# pandas


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
            frames = [data.load_table(p, name=src.name) for p in src.paths]
            src = replace(src, frame=frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True))
        return _window_frame(src)

    def _summaries(self, source: Any, profile: ReferenceProfile, group: Grouping) -> dict[Any, Summaries]:
        from .drift_periods import period_labels

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
        from .volume_counts import count_decisions

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
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ParameterError(f"backend must be one of auto, {', '.join(_REGISTRY)}; got {name!r}", name="backend")
    return _REGISTRY[name](**options)


def open_backend(backend: Any, source: Any = None, options: Any = None) -> Backend:
    """The backend named by a notebook's ``backend`` and ``backend_options`` parameters.

    ``backend`` is a registered name or ``"auto"``, which chooses by ``source``
    (:func:`choose_backend`; no source, i.e. the built-in sample data, stays in
    pandas). ``options`` is a dict of the backend's settings (DuckDB
    ``threads``, ``memory_limit``, ``temp_directory``; Spark ``master``,
    ``config``, ``relative_error``); under ``"auto"`` they are dropped when the
    choice is pandas, which takes none. Bad values are a ParameterError naming
    ``backend`` or ``backend_options``.
    """
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
        return _REGISTRY[name](**dict(options))
    except TypeError as error:
        raise ParameterError(
            f"parameter 'backend_options': the {name} backend does not take {sorted(options)} ({error})",
            name="backend_options",
        ) from None


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

