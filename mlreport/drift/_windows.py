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

With ``backend`` other than pandas (:func:`mlreport.backends.open_backend`)
the windows are :class:`~mlreport.backends.Source` s that the backend counts
where the data lies, and ``reference`` / ``current`` hold the rows that the
row-level sections run on: every row of a window with at most ``row_sample``
rows, else a uniform sample of ``row_sample`` rows
(:meth:`~mlreport.backends.Backend.bounded_rows`). On the same data the
windows are the same rows as pandas cuts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import data, sample
from ..backends import Backend, PandasBackend, RowSample, Source, as_source, naive_utc, open_backend
from ..errors import DataError, ParameterError
from ..spec import ModelSpec, load_spec, resolve_spec

__all__ = ["Windows", "load_windows", "DEFAULT_ROW_SAMPLE"]

DEFAULT_ROW_SAMPLE = 200_000
"""Rows per window held in memory for the row-level sections when a backend counts the rest."""


@dataclass
class Windows:
    """Reference and current data, the spec that names their columns, and provenance.

    ``engine`` counts the summaries of ``reference_source`` and
    ``current_source``; ``reference`` and ``current`` are those windows' rows in
    memory: all of them with the pandas backend, else every row or a uniform
    sample (``reference_rows`` and ``current_rows`` say which).
    """

    reference: pd.DataFrame
    current: pd.DataFrame
    spec: ModelSpec
    reference_span: tuple[pd.Timestamp | None, pd.Timestamp | None]
    current_span: tuple[pd.Timestamp | None, pd.Timestamp | None]
    source: str
    engine: Backend | None = None
    reference_source: Source | None = None
    current_source: Source | None = None
    reference_rows: RowSample | None = None
    current_rows: RowSample | None = None
    inputs: data.InputLog = field(default_factory=data.InputLog)

    def __post_init__(self) -> None:
        if self.engine is None:
            self.engine = PandasBackend()
        if self.reference_source is None:
            self.reference_source = Source(frame=self.reference, name="reference")
        if self.current_source is None:
            self.current_source = Source(frame=self.current, name="current")
        if self.reference_rows is None:
            self.reference_rows = RowSample(self.reference, len(self.reference))
        if self.current_rows is None:
            self.current_rows = RowSample(self.current, len(self.current))

    @property
    def complete(self) -> bool:
        """True when ``reference`` and ``current`` hold every row of their windows."""
        return self.reference_rows.complete and self.current_rows.complete  # type: ignore[union-attr]

    @property
    def data_period(self) -> str:
        start, end = self.current_span
        if start is None or end is None:
            return ""
        return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}".replace(" 00:00", "")

    def overview(self) -> pd.DataFrame:
        """One row per window: rows, columns, first and last timestamp."""
        rows = []
        for name, frame, span, held in (
            ("reference", self.reference, self.reference_span, self.reference_rows),
            ("current", self.current, self.current_span, self.current_rows),
        ):
            ts = frame[self.spec.timestamp] if self.spec.timestamp and self.spec.timestamp in frame else None
            rows.append({
                "window": name,
                "rows": held.total if held is not None else len(frame),
                "columns": frame.shape[1],
                "window start": span[0],
                "window end": span[1],
                "first record": ts.min() if ts is not None and len(ts) else None,
                "last record": ts.max() if ts is not None and len(ts) else None,
            })
            if not self.complete:
                # first and last record are then those of the rows in memory
                rows[-1]["rows in memory"] = len(frame)
        return pd.DataFrame(rows).set_index("window")


def _stamp(value: str, name: str) -> pd.Timestamp | None:
    return naive_utc(value, name, what=f"parameter {name!r}")


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
    if (column and column in frame.columns and not pd.api.types.is_datetime64_dtype(frame[column].dtype)) or (column and column in frame.columns and isinstance(frame[column].dtype, pd.DatetimeTZDtype)):
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
    backend: str = "pandas",
    backend_options: Mapping[str, Any] | None = None,
    row_sample: int = DEFAULT_ROW_SAMPLE,
    row_seed: int = 0,
) -> Windows:
    """Load and cut the reference and current windows (see the module docstring).

    ``backend`` (pandas, duckdb, spark or auto) and ``backend_options`` choose
    what counts the summaries (:func:`mlreport.backends.open_backend`; auto
    goes by the size of the files); ``row_sample`` and ``row_seed`` bound the
    rows held in memory when it is not pandas.
    """
    ref_start, ref_end = _stamp(reference_start, "reference_start"), _stamp(reference_end, "reference_end")
    cur_start, cur_end = _stamp(current_start, "current_start"), _stamp(current_end, "current_end")
    if current_path and not reference_path:
        raise ParameterError("current_path was given without reference_path: name the reference data too", name="reference_path")
    if not isinstance(row_sample, int) or isinstance(row_sample, bool) or row_sample < 1:
        raise ParameterError(f"parameter 'row_sample': {row_sample!r}; expected a positive number of rows", name="row_sample")
    log = data.InputLog()
    engine = open_backend(backend, [p for p in (reference_path, current_path) if p] or None, backend_options, inputs=log)
    if engine.name != "pandas":
        return _counted_windows(
            engine, reference_path=reference_path, current_path=current_path, ref_start=ref_start, ref_end=ref_end,
            cur_start=cur_start, cur_end=cur_end, spec_path=spec_path, timestamp_column=timestamp_column,
            model=model, sample_rows=sample_rows, sample_incidents=sample_incidents, sample_seed=sample_seed,
            sample_weeks=sample_weeks, sample_label_delay_days=sample_label_delay_days, row_sample=row_sample,
            row_seed=row_seed, log=log,
        )

    if not reference_path:
        whole, spec, source = _sample_data(
            sample_rows, sample_seed, sample_weeks, sample_incidents, sample_label_delay_days, spec_path, model, log
        )
        ts = timestamp_column or spec.timestamp
        ref_end, cur_start = _sample_split(whole, ts, ref_end, cur_start, sample_weeks)
        reference = _cut(whole, ts, ref_start, ref_end, "reference")
        current = _cut(whole, ts, cur_start, cur_end, "current")
    elif not current_path:
        whole = data.load_table(reference_path, name="data", log=log)
        spec = resolve_spec(spec_path, whole, model=model)
        ts = _one_source_timestamp(timestamp_column or spec.timestamp)
        whole = _with_timestamps(whole, ts, reference_path)
        ref_end, cur_start = _one_source_split(ref_end, cur_start)
        reference = _cut(whole, ts, ref_start, ref_end, "reference")
        current = _cut(whole, ts, cur_start, cur_end, "current")
        source = reference_path
    else:
        reference = data.load_table(reference_path, name="reference", log=log)
        current = data.load_table(current_path, name="current", log=log)
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
        engine=engine,
        inputs=log,
    )


def _sample_data(
    rows: int, seed: int, weeks: int, incidents: Sequence[str], label_delay_days: int, spec_path: str, model: str,
    log: data.InputLog,
) -> tuple[pd.DataFrame, ModelSpec, str]:
    whole = sample.generate(rows, seed=seed, weeks=weeks, incidents=tuple(incidents), label_delay_days=label_delay_days)
    source = f"built-in sample (rows={rows}, seed={seed}, incidents={list(incidents) or 'none'})"
    data.record_frame(whole, name="sample", source=source, log=log)
    spec = ModelSpec.from_dict(sample.DEFAULT_SPEC, source="built-in sample spec") if not spec_path else load_spec(spec_path)
    spec.model = model or spec.model
    return whole, spec, source


def _sample_split(
    whole: pd.DataFrame, ts: str, ref_end: pd.Timestamp | None, cur_start: pd.Timestamp | None, weeks: int
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Reference end and current start of the sample: the dates given, else its middle week."""
    middle = whole[ts].min().floor("D") + pd.Timedelta(weeks=weeks // 2 or 1)
    cur_start = cur_start or ref_end or middle
    return ref_end or cur_start, cur_start


def _one_source_timestamp(ts: str) -> str:
    if not ts:
        raise ParameterError(
            "one data source needs a timestamp column to cut reference and current windows; "
            "give current_path too, or name the timestamp (model spec or timestamp_column)",
            name="timestamp_column",
        )
    return ts


def _one_source_split(
    ref_end: pd.Timestamp | None, cur_start: pd.Timestamp | None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    if cur_start is None and ref_end is None:
        raise ParameterError(
            "one data source: give current_start (and optionally reference_start/reference_end) "
            "to say where the reference window ends and the current one begins",
            name="current_start",
        )
    cur_start = cur_start or ref_end
    return ref_end or cur_start, cur_start  # type: ignore[return-value]


def _counted_windows(
    engine: Backend,
    *,
    reference_path: str,
    current_path: str,
    ref_start: pd.Timestamp | None,
    ref_end: pd.Timestamp | None,
    cur_start: pd.Timestamp | None,
    cur_end: pd.Timestamp | None,
    spec_path: str,
    timestamp_column: str,
    model: str,
    sample_rows: int,
    sample_incidents: Sequence[str],
    sample_seed: int,
    sample_weeks: int,
    sample_label_delay_days: int,
    row_sample: int,
    row_seed: int,
    log: data.InputLog,
) -> Windows:
    """:func:`load_windows` through a backend: windows as sources, rows in memory bounded by ``row_sample``."""
    spec_rows: RowSample | None = None
    if not reference_path:
        whole, spec, source = _sample_data(
            sample_rows, sample_seed, sample_weeks, sample_incidents, sample_label_delay_days, spec_path, model, log
        )
        ts = timestamp_column or spec.timestamp
        ref_end, cur_start = _sample_split(whole, ts, ref_end, cur_start, sample_weeks)
        reference_source = as_source(whole, name="sample")
        current_source = reference_source
    elif not current_path:
        reference_source = current_source = as_source(reference_path, name="data")
        spec = resolve_spec(spec_path, engine.bounded_rows(reference_source, row_sample, seed=row_seed).frame, model=model)
        ts = _one_source_timestamp(timestamp_column or spec.timestamp)
        ref_end, cur_start = _one_source_split(ref_end, cur_start)
        source = reference_path
    else:
        reference_source = as_source(reference_path, name="reference")
        current_source = as_source(current_path, name="current")
        spec_rows = engine.bounded_rows(reference_source, row_sample, seed=row_seed)
        spec = resolve_spec(spec_path, spec_rows.frame, model=model)
        ts = timestamp_column or spec.timestamp
        for path, src in ((reference_path, reference_source), (current_path, current_source)):
            if ts and ts not in engine.columns(src):
                raise DataError(
                    f"{path}: timestamp column {ts!r} not found; the data has columns {engine.columns(src)[:30]}",
                    path=path, column=ts,
                )
        source = f"{reference_path} | {current_path}"
    if timestamp_column:
        spec.timestamp = timestamp_column
    windows = []
    for label, src, start, end in (
        ("reference", reference_source, ref_start, ref_end), ("current", current_source, cur_start, cur_end),
    ):
        if start is not None or end is not None:
            if not ts:
                raise ParameterError(
                    f"{label} window dates were given but the data has no timestamp column; "
                    "name it in the model spec (timestamp = ...) or with the timestamp_column parameter"
                )
            src = src.window(ts, start, end)
            held = engine.bounded_rows(src, row_sample, seed=row_seed)
        else:
            held = spec_rows if label == "reference" and spec_rows is not None else engine.bounded_rows(
                src, row_sample, seed=row_seed
            )
        if held.total == 0:
            raise DataError(f"{label} window {start or '-inf'} to {end or '+inf'} holds no rows ({source})")
        frame = _with_timestamps(held.frame, ts, label)
        windows.append((src, RowSample(frame, held.total, held.seed), _span(frame, ts, start, end)))
    (reference_source, reference_rows, reference_span), (current_source, current_rows, current_span) = windows
    return Windows(
        reference=reference_rows.frame,
        current=current_rows.frame,
        spec=spec,
        reference_span=reference_span,
        current_span=current_span,
        source=source,
        engine=engine,
        reference_source=reference_source,
        current_source=current_source,
        reference_rows=reference_rows,
        current_rows=current_rows,
        inputs=log,
    )
