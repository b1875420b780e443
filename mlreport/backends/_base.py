"""The backend interface: what every backend computes, written once over a few primitives."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Unpack

import numpy as np
import pandas as pd

from .. import data
from ..counts import ROLE_ROWS, CountGrid, DecisionCounts, DecisionRoles, RoleArguments, decision_roles
from ..errors import ParameterError
from ..profile import ReferenceProfile, Summaries, merge
from ._source import (
    Grouping,
    RowSample,
    Source,
    SourceLike,
    _bounded_frame,
    _window_frame,
    as_source,
    check_group,
    check_quantile_mode,
)

__all__ = ["Backend", "with_reference", "settings_with_fit"]


class Backend(ABC):
    """Computes the drift and volume summaries of a source.

    The public methods are written once, here: they check their arguments,
    time the call and hand it to the backend's few primitives
    (``_summaries``, ``_decision_counts``, ``_fit``, ``_count``, ``_rows``,
    ``_sample``). ``timings`` records ``(operation, seconds)`` of every call so
    that a report can say which backend ran and how long it took
    (:meth:`run_info`). Every file a backend reads is recorded once per source
    in :attr:`inputs` (an :class:`~mlreport.data.InputLog`: pass the analysis'
    own to :func:`~mlreport.backends.open_backend`, or read it afterwards).
    """

    name: str = ""
    keeps_row_order: bool = False
    """True when the backend keeps a source's rows in order, so that periods can be chunks of rows."""

    def __init__(self) -> None:
        self.inputs = data.InputLog()
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
        if src.files is None or key in self._recorded:
            return
        self._recorded.add(key)
        data.record_file(src.files, name=src.name, rows=rows(), columns=columns, log=self.inputs)

    def run_summary(self) -> str:
        """:meth:`describe` and the time spent so far, one line for a report's methods."""
        seconds = sum(s for _, s in self.timings)
        return f"{self.describe()}; {seconds:.2f} s in {len(self.timings)} operation(s)"

    @abstractmethod
    def describe(self) -> str:
        """One line naming the backend, its version and settings (for the methods appendix)."""

    # -- summaries -----------------------------------------------------------
    def summarize(self, source: SourceLike, profile: ReferenceProfile) -> Summaries:
        """Counts of the whole source on ``profile``'s bins (= ``profile.summarize``)."""
        with self._timed("summarize"):
            return next(iter(self._summaries(source, profile, Grouping()).values()))

    def summarize_by(
        self,
        source: SourceLike,
        profile: ReferenceProfile,
        *,
        by: str | None = None,
        period: str | None = None,
        timestamp: str | None = None,
    ) -> dict[Any, Summaries]:
        """Summaries per value of column ``by``, or per ``period`` (D/W/M) of ``timestamp``.

        Keys in sorted order (period labels as :func:`mlreport.profile.period_labels`);
        rows whose key is missing are left out (= ``profile.summarize_by``).
        """
        check_group(by, period, timestamp)
        with self._timed(f"summarize_by {by or period}"):
            return self._summaries(source, profile, Grouping(by, period, timestamp))

    def summarize_by_each(
        self, source: SourceLike, profile: ReferenceProfile, by: Sequence[str]
    ) -> list[dict[Any, Summaries]]:
        """``summarize_by(source, profile, by=column)`` for each column of ``by``, in order.

        A backend that can count several groupings in one pass over the rows
        overrides this (pandas encodes each column once for all of them).
        """
        return [self.summarize_by(source, profile, by=column) for column in by]

    def summarize_periods_by_each(
        self, source: SourceLike, profile: ReferenceProfile, *, period: str | None, timestamp: str,
        by: Sequence[str],
    ) -> tuple[Summaries, dict[Any, Summaries], list[dict[Any, Summaries]] | None]:
        """:meth:`summarize_periods` (or :meth:`summarize` when ``period`` is None) and, where the same pass can
        count them, :meth:`summarize_by_each` of ``by``.

        A backend that counts several groupings in one pass over the rows
        overrides this (pandas: the segments of the current window cost a
        ``bincount`` each on top of its periods) and returns the per-column
        summaries; this default counts the periods only and returns None for
        them, to be asked of :meth:`summarize_by_each` when needed.
        """
        if period is None:
            return self.summarize(source, profile), {}, None
        whole, parts = self.summarize_periods(source, profile, period=period, timestamp=timestamp)
        return whole, parts, None

    def summarize_periods(
        self, source: SourceLike, profile: ReferenceProfile, *, period: str, timestamp: str
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
    def _summaries(self, source: SourceLike, profile: ReferenceProfile, group: Grouping) -> dict[Any, Summaries]:
        """Summaries per group: one group ``0`` (no ``by`` nor ``period``), per ``by`` value or per period."""

    # -- decision counts -----------------------------------------------------
    def decision_counts(
        self,
        source: SourceLike,
        config: CountGrid | None = None,
        **roles: Unpack[RoleArguments],
    ) -> DecisionCounts:
        """Decision counts per period, segment and decision (= :func:`mlreport.counts.count_decisions`).

        The column roles are :func:`~mlreport.counts.count_decisions`' (a
        :class:`~mlreport.counts.DecisionRoles` passes as ``**roles``);
        ``config`` lays the period grid (a :class:`~mlreport.counts.CountGrid`,
        such as the volume analysis' config).
        """
        checked = decision_roles(**roles)
        src = as_source(source)
        with self._timed("decision_counts"):
            return self._decision_counts(src, config or CountGrid(), checked)

    @abstractmethod
    def _decision_counts(self, source: Source, config: CountGrid, roles: DecisionRoles) -> DecisionCounts:
        """:class:`~mlreport.counts.DecisionCounts` of ``source`` for ``roles`` (checked by ``decision_roles``)."""

    def role_rows(self, source: SourceLike) -> pd.DataFrame:
        """The rows a decision log's column roles are inferred and checked on.

        A frame in memory gives every row of its window; files and tables give
        their first :data:`~mlreport.counts.ROLE_ROWS` rows (:meth:`head`), so
        that inferring roles never reads a log larger than memory. A model spec
        or the role parameters name the columns for sure.
        """
        src = as_source(source)
        if src.frame is not None and not src.is_spark:
            return _window_frame(src)
        return self.head(src, ROLE_ROWS)

    # -- fitting a reference -------------------------------------------------
    def fit_profile(
        self,
        source: SourceLike,
        columns: Sequence[str] | None = None,
        *,
        quantiles: str = "exact",
        sample_rows: int = 1_000_000,
        seed: int = 0,
        **settings: Any,
    ) -> ReferenceProfile:
        """A reference profile of the source (see :meth:`ReferenceProfile.fit` for the rules).

        ``settings`` are those of :class:`~mlreport.backends.FitSettings`
        (``categorical``, ``numeric``, ``bins``, ``fine_bins``,
        ``max_categories``, ``sentinels``, ``discrete_max``).
        ``quantiles="exact"``: the same profile as pandas on the whole source
        (mean and std to about 1e-12); ``"approx"``: quantile edges from the
        backend's approximate quantiles (stated in ``settings["fit"]``);
        ``"sample"``: ``ReferenceProfile.fit`` on a uniform sample of
        ``sample_rows`` rows (exactly pandas' profile of that sample).
        """
        from ._sql_fit import FitSettings

        check_quantile_mode(quantiles)
        fit = FitSettings.of(settings)
        with self._timed(f"fit_profile ({quantiles})"):
            if quantiles != "sample":
                return self._fit(source, columns, fit, approximate=quantiles == "approx",
                                 sample_rows=sample_rows, seed=seed)
            sampled = self._sample(as_source(source), int(sample_rows), int(seed))
            fitted = ReferenceProfile.fit(sampled, columns, **fit.fit_arguments())
            return settings_with_fit(fitted, {
                "backend": self.name, "quantiles": "sample", "sample_rows": len(sampled), "seed": int(seed),
            })

    def _fit(
        self, source: SourceLike, columns: Sequence[str] | None, settings: Any, *, approximate: bool,
        sample_rows: int, seed: int,
    ) -> ReferenceProfile:
        """The profile from exact (or, with ``approximate``, approximate) quantiles.

        A SQL backend answers aggregate queries (:meth:`_fit_queries`); the
        profile follows pandas' rules (:func:`mlreport.backends.fit_from_queries`),
        then the reference is counted on its bins and the fit described in
        ``settings["fit"]``.
        """
        from ._sql_fit import QuantileRequest, fit_from_queries

        bins = (int(settings.bins), int(settings.fine_bins))
        request = QuantileRequest(approximate, bins, int(sample_rows), int(seed))
        queries, names, counted = self._fit_queries(source, columns, request)
        profile = fit_from_queries(queries, names, settings)
        profile = with_reference(profile, self.summarize(counted, profile))
        return settings_with_fit(profile, queries.description(profile, int(settings.bins)))

    def _fit_queries(
        self, source: SourceLike, columns: Sequence[str] | None, request: Any
    ) -> tuple[Any, list[str], Any]:
        """The :class:`~mlreport.backends.FitQueries` answering ``request``, the columns to fit, the source to count."""
        raise NotImplementedError

    # -- rows ----------------------------------------------------------------
    def bounded_rows(self, source: SourceLike, rows: int, *, seed: int = 0) -> RowSample:
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

    def rows_in_memory(self, source: SourceLike, rows: int, *, seed: int = 0) -> RowSample:
        """The rows of the source that an analysis holds in memory for its row-level sections.

        :meth:`bounded_rows`: every row up to ``rows``, else a uniform sample.
        A backend that holds its data in memory anyway (pandas) returns every
        row, whatever ``rows``: the bound is for data counted where it lies.
        """
        return self.bounded_rows(source, rows, seed=seed)

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
    def head(self, source: SourceLike, rows: int = 10_000) -> pd.DataFrame:
        """The first ``rows`` rows as pandas (to infer a spec or check columns)."""

    @abstractmethod
    def columns(self, source: SourceLike) -> list[str]:
        """Column names of the source."""



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

