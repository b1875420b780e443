"""Reference and current windows: what an analysis compares, and where it came from.

Three ways to name them (:class:`~mlreport.drift.DriftParameters`), checked in
this order:

1. ``reference_path`` and ``current_path``: two sources (files, globs, folders);
   optional date windows further restrict each one.
2. ``reference_path`` only, with a timestamp column, cut into a reference
   window and a current window by dates.
3. Nothing: the built-in sample data (:mod:`mlreport.sample`) with the
   incidents asked for, cut by dates (default: the first four weeks are the
   reference, the last four the current window).

Every backend reads them the same way (:func:`load_windows`): each window is a
:class:`~mlreport.backends.Source` that the backend counts where the data lies,
and the rows the row-level sections run on are what the backend holds in
memory (:meth:`~mlreport.backends.Backend.rows_in_memory`): every row with
pandas, else every row of a window with at most ``row_sample`` rows, or a
uniform sample of ``row_sample`` rows. On the same data the windows are the
same rows whichever backend cuts them. What was read is recorded in the
backend's :class:`~mlreport.data.InputLog`, and the model spec is resolved
against the data so that column roles are explicit in the report: loaded and
completed, or inferred, from the reference window's rows with the current
window's beside them (a column constant within each window labels the window,
:func:`mlreport.spec.infer_spec`). Without a model name (parameter or spec),
the data names the model: the current file's name, or the single source's
(:func:`mlreport.spec.model_name_from_path`); the built-in sample keeps its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .. import data, sample
from ..backends import Backend, RowSample, Source, as_source
from ..errors import DataError, ParameterError
from ..spec import ModelSpec, infer_spec, load_spec, model_name_from_path, resolve_spec
from ._parameters import DriftParameters

__all__ = ["Windows", "load_windows", "DEFAULT_ROW_SAMPLE", "SAMPLE_WEEKS", "SAMPLE_LABEL_DELAY_DAYS"]

DEFAULT_ROW_SAMPLE = 200_000
"""Rows per window held in memory for the row-level sections when a backend counts the rest."""

SAMPLE_WEEKS = 8
"""Weeks of built-in sample data: four of reference, four current."""

SAMPLE_LABEL_DELAY_DAYS = 14
"""Days before the sample's end whose labels have not arrived yet."""

Span = tuple[pd.Timestamp | None, pd.Timestamp | None]


@dataclass
class Windows:
    """Reference and current data, the spec that names their columns, and provenance.

    ``engine`` counts the summaries of ``reference_source`` and
    ``current_source``; ``reference_rows`` and ``current_rows`` are those
    windows' rows in memory (:attr:`reference` and :attr:`current`): all of
    them with the pandas backend, else every row or a uniform sample (their
    ``complete`` says which). ``inputs`` is the run's record of what was read.
    """

    reference_rows: RowSample
    current_rows: RowSample
    spec: ModelSpec
    reference_span: Span
    current_span: Span
    source: str
    engine: Backend
    reference_source: Source
    current_source: Source
    inputs: data.InputLog

    @property
    def reference(self) -> pd.DataFrame:
        """The reference window's rows in memory."""
        return self.reference_rows.frame

    @property
    def current(self) -> pd.DataFrame:
        """The current window's rows in memory."""
        return self.current_rows.frame

    @property
    def complete(self) -> bool:
        """True when ``reference`` and ``current`` hold every row of their windows."""
        return self.reference_rows.complete and self.current_rows.complete

    @property
    def data_period(self) -> str:
        start, end = self.current_span
        if start is None or end is None:
            return ""
        return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}".replace(" 00:00", "")

    def overview(self) -> pd.DataFrame:
        """One row per window: rows, columns, first and last timestamp."""
        rows = []
        for name, held, span in (
            ("reference", self.reference_rows, self.reference_span),
            ("current", self.current_rows, self.current_span),
        ):
            frame = held.frame
            ts = frame[self.spec.timestamp] if self.spec.timestamp and self.spec.timestamp in frame else None
            rows.append({
                "window": name,
                "rows": held.total,
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


def load_windows(parameters: DriftParameters, engine: Backend) -> Windows:
    """Read and cut the reference and current windows through ``engine`` (see the module docstring).

    What is read is recorded in ``engine.inputs``. A window cut by dates that
    holds no rows, and a reference without rows, are a
    :class:`~mlreport.errors.DataError`; an empty current window is not (the
    integrity checks report it as an incident).
    """
    ref_start, ref_end, cur_start, cur_end = parameters.window_bounds()
    row_sample, seed = parameters.row_sample, parameters.seed
    reference_rows: RowSample | None = None
    loaded = load_spec(parameters.spec_path, log=engine.inputs) if parameters.spec_path else None
    spec: ModelSpec | None = None
    if not parameters.reference_path:
        whole, spec, source = _sample_data(parameters, engine.inputs, loaded)
        ts = parameters.timestamp_column or spec.timestamp
        ref_end, cur_start = _sample_split(whole, ts, ref_end, cur_start, SAMPLE_WEEKS)
        reference_source = current_source = as_source(whole, name="sample")
        labels = (source, source)
    elif not parameters.current_path:
        reference_source = current_source = as_source(parameters.reference_path, name="data")
        whole = engine.rows_in_memory(reference_source, row_sample, seed=seed).frame
        ts = _one_source_timestamp(parameters.timestamp_column or _timestamp_of(loaded, whole))
        _check_timestamp_column(ts, [(parameters.reference_path, [str(c) for c in whole.columns])])
        ref_end, cur_start = _one_source_split(ref_end, cur_start)
        source = parameters.reference_path
        labels = (source, source)
    else:
        reference_source = as_source(parameters.reference_path, name="reference")
        current_source = as_source(parameters.current_path, name="current")
        reference_rows = engine.rows_in_memory(reference_source, row_sample, seed=seed)
        sides = [(parameters.reference_path, engine.columns(reference_source)),
                 (parameters.current_path, engine.columns(current_source))]
        ts = parameters.timestamp_column or _timestamp_of(loaded, reference_rows.frame)
        _check_timestamp_column(ts, sides)
        source = f"{parameters.reference_path} | {parameters.current_path}"
        labels = (parameters.reference_path, parameters.current_path)

    held: list[tuple[Source, RowSample, Span]] = []
    for name, src, start, end, label in (
        ("reference", reference_source, ref_start, ref_end, labels[0]),
        ("current", current_source, cur_start, cur_end, labels[1]),
    ):
        dated = start is not None or end is not None
        if dated:
            if not ts:
                raise ParameterError(
                    f"{name} window dates were given but the data has no timestamp column; "
                    "name it in the model spec (timestamp = ...) or with the timestamp_column parameter"
                )
            window = src.window(ts, start, end)
            rows = engine.rows_in_memory(window, row_sample, seed=seed)
            if rows.total == 0:
                raise _empty_window(name, start, end, engine, src, ts, row_sample, seed)
        else:
            window = src
            rows = reference_rows if name == "reference" and reference_rows is not None else engine.rows_in_memory(
                window, row_sample, seed=seed
            )
        frame = _with_timestamps(rows.frame, ts, label)
        held.append((window, RowSample(frame, rows.total, rows.seed), _span(frame, ts, start, end)))
    (reference_window, reference_held, reference_span), (current_window, current_held, current_span) = held
    if reference_held.total == 0:
        raise DataError(f"reference data ({source}) has no rows")
    if spec is None:  # the data's own: roles from the spec file, completed (or all inferred) on both windows
        spec = resolve_spec(loaded or "", reference_held.frame, model=parameters.model, current=current_held.frame)
        spec.model = spec.model or model_name_from_path(parameters.current_path or parameters.reference_path)
    if parameters.timestamp_column:
        spec.timestamp = parameters.timestamp_column
    if ts:
        _claim_timestamp(spec, ts)
    return Windows(
        reference_rows=reference_held,
        current_rows=current_held,
        spec=spec,
        reference_span=reference_span,
        current_span=current_span,
        source=source,
        engine=engine,
        reference_source=reference_window,
        current_source=current_window,
        inputs=engine.inputs,
    )


def _timestamp_of(loaded: ModelSpec | None, frame: pd.DataFrame) -> str:
    """The timestamp column the windows are cut and dated by: the spec's, else the one inferred from ``frame``.

    A loaded spec's columns are checked against the data here, before anything is cut by them.
    """
    if loaded is not None:
        loaded.check_columns(frame)
        return loaded.timestamp
    return infer_spec(frame).timestamp


def _claim_timestamp(spec: ModelSpec, ts: str) -> None:
    """Make ``ts`` the spec's timestamp and nothing else (a column named by timestamp_column was a feature)."""
    spec.timestamp = ts
    spec.features = [c for c in spec.features if c != ts]
    spec.segments = [c for c in spec.segments if c != ts]
    spec.categorical_features = [c for c in spec.categorical_features if c != ts]
    spec.window_labels = [c for c in spec.window_labels if c != ts]


def _with_timestamps(frame: pd.DataFrame, column: str, source: str) -> pd.DataFrame:
    """``frame`` with ``column`` as naive UTC timestamps (parsed when it is text or time-zone aware)."""
    if column and column in frame.columns and (
        not pd.api.types.is_datetime64_dtype(frame[column].dtype) or isinstance(frame[column].dtype, pd.DatetimeTZDtype)
    ):
        frame = frame.copy()
        frame[column] = data.parse_timestamps(frame, column, source=source)
    return frame


def _check_timestamp_column(column: str, sides: Sequence[tuple[str, list[str]]]) -> None:
    """Every source needs the timestamp column; say which file lacks it, and why it may."""
    for path, columns in sides:
        if not column or column in columns:
            continue
        hint = ""
        if len(columns) == 1 and any(len(other) > 1 for _, other in sides):
            # One column where the other file has many: the delimiter was not recognised.
            hint = " (the whole header was read as one column: is the file delimited by , ; tab or |?)"
        raise DataError(
            f"{path}: timestamp column {column!r} not found; the file has columns {columns[:30]}{hint}",
            path=path,
            column=column,
        )


def _empty_window(
    name: str, start: pd.Timestamp | None, end: pd.Timestamp | None, engine: Backend, src: Source, ts: str,
    row_sample: int, seed: int,
) -> DataError:
    """The error of a window cut by dates that holds no rows, with the span of the data it was cut from."""
    rows = engine.rows_in_memory(src, row_sample, seed=seed)
    times = data.parse_timestamps(rows.frame, ts, source=src.label or src.name) if len(rows.frame) else None
    if times is None or not len(times):
        span = "no rows"
    else:
        span = f"{times.min()} to {times.max()}"
        if not rows.complete:
            span += f" (in a uniform sample of {len(rows.frame):,} of its {rows.total:,} rows)"
    return DataError(f"{name} window {start or '-inf'} to {end or '+inf'} holds no rows; the data spans {span}")


def _span(frame: pd.DataFrame, column: str, start: pd.Timestamp | None, end: pd.Timestamp | None) -> Span:
    if column and column in frame.columns and len(frame):
        first, last = frame[column].min(), frame[column].max()
        return (start or first.floor("D"), end or (last.floor("D") + pd.Timedelta(days=1)))
    return (start, end)


def _sample_data(
    parameters: DriftParameters, log: data.InputLog, loaded: ModelSpec | None
) -> tuple[pd.DataFrame, ModelSpec, str]:
    rows, seed, incidents = parameters.sample_rows, parameters.sample_seed, list(parameters.sample_incidents)
    whole = sample.generate(rows, seed=seed, weeks=SAMPLE_WEEKS, incidents=tuple(incidents),
                            label_delay_days=SAMPLE_LABEL_DELAY_DAYS)
    source = f"built-in sample (rows={rows}, seed={seed}, incidents={incidents or 'none'})"
    data.record_frame(whole, name="sample", source=source, log=log)
    if loaded is not None:  # completed from the sample as a user's spec is from the user's data
        spec = resolve_spec(loaded, whole)
    else:
        spec = ModelSpec.from_dict(sample.DEFAULT_SPEC, source="built-in sample spec")
    spec.model = parameters.model or spec.model
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
    start = cur_start if cur_start is not None else ref_end
    if start is None:
        raise ParameterError(
            "one data source: give current_start (and optionally reference_start/reference_end) "
            "to say where the reference window ends and the current one begins",
            name="current_start",
        )
    return (ref_end if ref_end is not None else start), start
