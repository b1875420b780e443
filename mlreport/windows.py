"""Reference and current windows: what an analysis compares, and where it came from.

Three ways to name them, checked in this order:

1. ``reference_path`` and ``current_path``: two sources (files, globs, folders);
   optional date windows further restrict each one.
2. One source (``reference_path`` only, or ``data_path``) with a timestamp
   column, cut into a reference window and a current window by dates.
3. Nothing: the built-in sample data (:mod:`mlreport.sample`) with the
   incidents asked for, cut by dates (default: first half reference, second
   half current).

Every table read is recorded with its sha256 and row count
(:func:`mlreport.data.inputs`), and the model spec is resolved (loaded or
inferred) against the data so that column roles are explicit in the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd

from . import data, sample
from .errors import DataError, ParameterError
from .spec import ModelSpec, load_spec, resolve_spec

__all__ = ["Windows", "load_windows"]


@dataclass
class Windows:
    """Reference and current data, the spec that names their columns, and provenance."""

    reference: pd.DataFrame
    current: pd.DataFrame
    spec: ModelSpec
    reference_span: tuple[pd.Timestamp | None, pd.Timestamp | None]
    current_span: tuple[pd.Timestamp | None, pd.Timestamp | None]
    source: str

    @property
    def data_period(self) -> str:
        start, end = self.current_span
        if start is None or end is None:
            return ""
        return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}".replace(" 00:00", "")

    def overview(self) -> pd.DataFrame:
        """One row per window: rows, columns, first and last timestamp."""
        rows = []
        for name, frame, span in (
            ("reference", self.reference, self.reference_span),
            ("current", self.current, self.current_span),
        ):
            ts = frame[self.spec.timestamp] if self.spec.timestamp and self.spec.timestamp in frame else None
            rows.append({
                "window": name,
                "rows": len(frame),
                "columns": frame.shape[1],
                "window start": span[0],
                "window end": span[1],
                "first record": ts.min() if ts is not None and len(ts) else None,
                "last record": ts.max() if ts is not None and len(ts) else None,
            })
        return pd.DataFrame(rows).set_index("window")


def _stamp(value: str, name: str) -> pd.Timestamp | None:
    if value in (None, ""):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ParameterError(f"parameter {name!r}: {value!r} is not an ISO 8601 date", name=name) from None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def _cut(frame: pd.DataFrame, ts_column: str, start: pd.Timestamp | None, end: pd.Timestamp | None, label: str) -> pd.DataFrame:
    if start is None and end is None:
        return frame
    if not ts_column:
        raise ParameterError(
            f"{label} window dates were given but the data has no timestamp column; "
            "name it in the model spec (timestamp = ...) or with the timestamp_column parameter"
        )
    return data.window(frame, frame[ts_column], start, end, label=label)


def _with_timestamps(frame: pd.DataFrame, column: str, source: str) -> pd.DataFrame:
    if column and column in frame.columns and not pd.api.types.is_datetime64_dtype(frame[column].dtype):
        frame = frame.copy()
        frame[column] = data.parse_timestamps(frame, column, source=source)
    elif column and column in frame.columns and isinstance(frame[column].dtype, pd.DatetimeTZDtype):
        frame = frame.copy()
        frame[column] = data.parse_timestamps(frame, column, source=source)
    return frame


def _check_timestamp_column(
    reference: pd.DataFrame, current: pd.DataFrame, column: str, reference_path: str, current_path: str
) -> None:
    """Both windows need the timestamp column; say which file lacks it, and why it may."""
    for path, frame, other in ((reference_path, reference, current), (current_path, current, reference)):
        if not column or column in frame.columns:
            continue
        hint = ""
        if frame.shape[1] == 1 and other.shape[1] > 1:
            # One column where the other file has many: the delimiter was not recognised.
            hint = " (the whole header was read as one column: is the file delimited by , ; tab or |?)"
        raise DataError(
            f"{path}: timestamp column {column!r} not found; the file has columns "
            f"{list(map(str, frame.columns))[:30]}{hint}",
            path=path,
            column=column,
        )


def _span(frame: pd.DataFrame, column: str, start: pd.Timestamp | None, end: pd.Timestamp | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    if column and column in frame.columns and len(frame):
        first, last = frame[column].min(), frame[column].max()
        return (start or first.floor("D"), end or (last.floor("D") + pd.Timedelta(days=1)))
    return (start, end)


def load_windows(
    *,
    reference_path: str = "",
    current_path: str = "",
    reference_start: str = "",
    reference_end: str = "",
    current_start: str = "",
    current_end: str = "",
    spec_path: str = "",
    timestamp_column: str = "",
    model: str = "",
    sample_rows: int = 50_000,
    sample_incidents: Sequence[str] = (),
    sample_seed: int = 7,
    sample_weeks: int = 8,
    sample_label_delay_days: int = 14,
) -> Windows:
    """Load and cut the reference and current windows (see the module docstring)."""
    ref_start, ref_end = _stamp(reference_start, "reference_start"), _stamp(reference_end, "reference_end")
    cur_start, cur_end = _stamp(current_start, "current_start"), _stamp(current_end, "current_end")
    if current_path and not reference_path:
        raise ParameterError("current_path was given without reference_path: name the reference data too", name="reference_path")

    if not reference_path:
        whole = sample.generate(
            sample_rows, seed=sample_seed, weeks=sample_weeks, incidents=tuple(sample_incidents),
            label_delay_days=sample_label_delay_days,
        )
        source = f"built-in sample (rows={sample_rows}, seed={sample_seed}, incidents={list(sample_incidents) or 'none'})"
        data.record_frame(whole, name="sample", source=source)
        spec = ModelSpec.from_dict(sample.DEFAULT_SPEC, source="built-in sample spec") if not spec_path else load_spec(spec_path)
        spec.model = model or spec.model
        ts = timestamp_column or spec.timestamp
        start = whole[ts].min().floor("D")
        middle = start + pd.Timedelta(weeks=sample_weeks // 2 or 1)
        cur_start = cur_start or ref_end or middle
        ref_end = ref_end or cur_start
        reference = _cut(whole, ts, ref_start, ref_end, "reference")
        current = _cut(whole, ts, cur_start, cur_end, "current")
    elif not current_path:
        whole = data.load_table(reference_path, name="data")
        spec = resolve_spec(spec_path, whole, model=model)
        ts = timestamp_column or spec.timestamp
        if not ts:
            raise ParameterError(
                "one data source needs a timestamp column to cut reference and current windows; "
                "give current_path too, or name the timestamp (model spec or timestamp_column)",
                name="timestamp_column",
            )
        whole = _with_timestamps(whole, ts, reference_path)
        if cur_start is None and ref_end is None:
            raise ParameterError(
                "one data source: give current_start (and optionally reference_start/reference_end) "
                "to say where the reference window ends and the current one begins",
                name="current_start",
            )
        cur_start = cur_start or ref_end
        ref_end = ref_end or cur_start
        reference = _cut(whole, ts, ref_start, ref_end, "reference")
        current = _cut(whole, ts, cur_start, cur_end, "current")
        source = reference_path
    else:
        reference = data.load_table(reference_path, name="reference")
        current = data.load_table(current_path, name="current")
        spec = resolve_spec(spec_path, reference, model=model)
        ts = timestamp_column or spec.timestamp
        _check_timestamp_column(reference, current, ts, reference_path, current_path)
        reference = _with_timestamps(reference, ts, reference_path)
        current = _with_timestamps(current, ts, current_path)
        reference = _cut(reference, ts, ref_start, ref_end, "reference")
        current = _cut(current, ts, cur_start, cur_end, "current")
        source = f"{reference_path} | {current_path}"

    if timestamp_column:
        spec.timestamp = timestamp_column
    if reference.empty:
        raise DataError(f"reference data ({source}) has no rows")
    ts = spec.timestamp
    return Windows(
        reference=reference.reset_index(drop=True),
        current=current.reset_index(drop=True),
        spec=spec,
        reference_span=_span(reference, ts, ref_start, ref_end),
        current_span=_span(current, ts, cur_start, cur_end),
        source=source,
    )
