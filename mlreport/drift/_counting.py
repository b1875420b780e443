"""The counted half of a drift report: the reference profile, its bands, the current window's summaries.

Each goes through the windows' backend, whichever it is: the profile is fitted
on every reference row (:meth:`~mlreport.backends.Backend.fit_profile`), the
current window and its periods are counted in one pass
(:meth:`~mlreport.backends.Backend.summarize_periods`). Bands learned from the
reference need its rows in memory, every one of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import data
from ..errors import DataError, ParameterError
from ..profile import ReferenceProfile, Summaries, period_labels
from ._learned import learn_thresholds
from ._parameters import AUTO, PERIODS, chunk_rows
from ._period_choice import PeriodChoice, choose_period
from ._thresholds import Thresholds
from ._windows import Windows

__all__ = ["reference_profile", "drift_thresholds", "current_summaries", "current_counts", "period_choice"]


def reference_profile(
    windows: Windows,
    columns: Sequence[str],
    *,
    categorical: Sequence[str] = (),
    load_path: str = "",
    save_path: str = "",
    bins: int = 10,
) -> ReferenceProfile:
    """The reference profile: loaded from ``load_path`` when given, else fitted.

    A loaded profile is reused as it is (bins and categories fixed when it was
    fitted: that is what makes runs comparable); its fingerprint goes in the
    report. Otherwise the windows' backend fits it on every row of the
    reference window (exact quantiles: the same bins whichever backend), not
    on the rows held in memory. ``save_path`` writes the fitted profile for
    later runs. Both are recorded in the windows' input log with the sha256
    of the bytes parsed (``reference_profile``) or written (``saved_profile``).
    """
    if load_path:
        try:
            content = Path(load_path).read_bytes()
        except OSError as error:
            raise DataError(f"cannot read reference profile {load_path}: {error}", path=load_path) from None
        # The bytes parsed are the bytes recorded: a rerun refuses when the profile changed since.
        data.record_bytes(content, name="reference_profile", path=load_path, log=windows.inputs)
        return ReferenceProfile.from_bytes(content, source=load_path)
    if bins < 2:
        raise ParameterError(f"parameter 'psi_bins': {bins} bins; expected at least 2", name="psi_bins")
    declared = [c for c in categorical if c in columns]
    profile = windows.engine.fit_profile(windows.reference_source, list(columns), categorical=declared, bins=bins)
    if save_path:
        profile.save(save_path)
        # What this run wrote for later runs to read: a rerun writes it again and must write the same bytes.
        data.record_bytes(profile.to_bytes(), name="saved_profile", path=save_path, log=windows.inputs, written=True)
    return profile


def drift_thresholds(
    overrides: Mapping[str, Any],
    *,
    mode: str,
    profile: ReferenceProfile,
    reference: pd.DataFrame,
    columns: Sequence[str],
    timestamp: str = "",
    period: str = "W",
    k: float = 3.0,
    correction: str = "fdr_bh",
    complete: bool = True,
) -> Thresholds:
    """Fixed bands (``mode="fixed"``) or bands learned from reference chunks (``"learned"``).

    Learned bands need every reference row (``complete``): chunks of a sample
    are noisier than the periods they would judge. The chunks are the
    reference's periods by date when ``period`` is D, W or M, else ten
    chunks of rows.
    """
    base = dict(overrides or {})
    base.setdefault("correction", correction)
    thresholds = Thresholds.from_dict(base)
    if mode == "fixed":
        return thresholds
    if mode != "learned":
        raise ParameterError(
            f"parameter 'threshold_mode': {mode!r}; expected 'fixed' or 'learned'", name="threshold_mode"
        )
    if not complete:
        raise ParameterError(
            "parameter 'threshold_mode': 'learned' needs every reference row in memory, and the reference "
            "holds more than row_sample rows; use threshold_mode 'fixed', raise row_sample, or learn the "
            "bands once with the pandas backend and pass them as drift_thresholds",
            name="threshold_mode",
        )
    chunks: int | pd.Series = 10
    if timestamp and timestamp in reference.columns and period in PERIODS:
        chunks = period_labels(reference[timestamp], period)
    return learn_thresholds(profile, reference, chunks=chunks, k=k, base=thresholds, columns=list(columns))


def period_choice(windows: Windows, requested: str) -> PeriodChoice:
    """The periods of drift over time for ``requested`` on these windows (see ``_period_choice``).

    Reads the current window's timestamps held in memory (scaled to its rows
    when they are a sample) and whether the backend keeps the rows' order.
    """
    timestamp = windows.spec.timestamp
    current = windows.current
    times = current[timestamp] if timestamp and timestamp in current.columns else None
    if times is not None and not pd.api.types.is_datetime64_any_dtype(times.dtype):
        times = None  # not parsed as date-times (the windows parse the timestamp they cut by)
    engine = windows.engine
    return choose_period(requested, timestamps=times, rows=windows.current_rows.total,
                         keeps_row_order=engine.keeps_row_order, backend=engine.name)


def current_summaries(
    windows: Windows, profile: ReferenceProfile, period: str
) -> tuple[Summaries, dict[str, Summaries]]:
    """The current window's summaries and its per-period summaries (for ``compare`` and ``drift_over_time``).

    The windows' backend counts every row where the data lies, in one pass
    (:meth:`~mlreport.backends.Backend.summarize_periods`): periods by date
    (D, W or M of the spec's timestamp), or chunks of rows (a number) where
    the backend keeps the rows' order (pandas). ``"auto"`` is chosen first
    (:func:`period_choice`); when it finds no periods (no timestamp, on a
    backend that does not keep row order) the per-period summaries are empty.
    A period asked for that cannot apply is a :class:`ParameterError` here;
    the drift report chooses one that can instead (:func:`period_choice`).
    """
    whole, parts, _ = current_counts(windows, profile, period)
    return whole, parts


def current_counts(
    windows: Windows, profile: ReferenceProfile, period: str, by: Sequence[str] = ()
) -> tuple[Summaries, dict[str, Summaries], list[dict[Any, Summaries]] | None]:
    """:func:`current_summaries`, and the current window's summaries by each column of ``by`` where the backend
    counts them in the same pass (:meth:`~mlreport.backends.Backend.summarize_periods_by_each`; None otherwise).
    """
    engine, timestamp = windows.engine, windows.spec.timestamp
    if period == AUTO:
        chosen = period_choice(windows, period).period
        if chosen is None:
            return engine.summarize_periods_by_each(
                windows.current_source, profile, period=None, timestamp=timestamp, by=by
            )
        period = chosen
    if chunk_rows(period) is not None:
        if not engine.keeps_row_order:
            raise ParameterError(
                f"parameter 'period': {period!r} rows per chunk needs the row order that only the pandas backend "
                f"keeps; with the {engine.name} backend use D, W or M",
                name="period",
            )
    elif not timestamp or timestamp not in windows.current.columns:
        instead = "; or use a number of rows per chunk instead" if engine.keeps_row_order else ""
        raise ParameterError(
            f"parameter 'period': {period!r} needs a timestamp column; name it in the model spec or with "
            f"timestamp_column{instead}",
            name="period",
        )
    return engine.summarize_periods_by_each(
        windows.current_source, profile, period=period, timestamp=timestamp, by=by
    )
