"""The volume report in one call: :func:`analyse` runs what the notebook shows.

The volume analysis needs only counts (:class:`~mlreport.counts.DecisionCounts`),
so every backend runs all of it: the backend (pandas in memory, DuckDB or
Spark where the data lies) counts the decision log
(:meth:`mlreport.backends.Backend.decision_counts`) and the tests, control
charts and drill-downs then run on the counts alone. Only column roles the
spec and the parameters leave open are inferred from rows, which the backend
chooses (:meth:`~mlreport.backends.Backend.role_rows`).
"""

from __future__ import annotations

from .. import data, sample
from ..backends import Source, as_source, open_backend
from ..counts import resolve_roles
from ..spec import ModelSpec, load_spec
from ._analysis import analyse_counts
from ._parameters import VolumeParameters
from ._result import VolumeResult

__all__ = ["analyse"]


def analyse(parameters: VolumeParameters) -> VolumeResult:
    """The volume report of ``parameters``: count the decision log, test the counts, return the result.

    One backend is opened (:func:`mlreport.backends.open_backend` with the
    ``backend`` and ``backend_options`` parameters) and one
    :class:`~mlreport.data.InputLog` records what it read: the files of
    ``data_path``, or the built-in sample's content. Column roles come from the
    parameters, then the model spec (``spec_path``; the sample's own spec for
    the sample), then inference; the policy from the spec's
    ``[thresholds.volume]``, ``thresholds`` and the window parameters
    (:meth:`VolumeParameters.config`). Bad input is a
    :class:`~mlreport.errors.DataError` naming the file or column (an empty
    log names its file), bad parameters a :class:`~mlreport.errors.ParameterError`.
    """
    log = data.InputLog()
    engine = open_backend(parameters.backend, parameters.data_path or None, parameters.backend_options, inputs=log)
    source = _decision_log(parameters, log)
    spec = _spec(parameters, log)
    roles = resolve_roles(
        engine.role_rows(source), spec=spec, timestamp_column=parameters.timestamp_column,
        decision_column=parameters.decision_column, segment_columns=parameters.segment_columns,
        score_column=parameters.score_column, override_column=parameters.override_column,
        decision_labels=parameters.decision_labels, inputs=log,
    )
    config = parameters.config(spec)
    counts = engine.decision_counts(source, config, **roles)
    return analyse_counts(counts, config, backend=engine, inputs=log, model=spec.model if spec is not None else "")


def _decision_log(parameters: VolumeParameters, log: data.InputLog) -> Source:
    """The decision log as the backend reads it: the files of ``data_path``, or the built-in sample (recorded)."""
    if parameters.data_path:
        return as_source(parameters.data_path, name="decisions")
    rows, seed, incidents = parameters.sample_rows, parameters.seed, parameters.sample_incidents
    frame = sample.generate(rows, seed=seed, incidents=incidents)
    data.record_frame(
        frame, name="decisions", log=log, source=f"mlreport.sample.generate({rows}, seed={seed}, incidents={incidents})"
    )
    return as_source(frame, name="decisions")


def _spec(parameters: VolumeParameters, log: data.InputLog) -> ModelSpec | None:
    """The model spec of ``spec_path``, recorded in ``log``; else the sample's spec for the sample, none for files."""
    if parameters.spec_path:
        return load_spec(parameters.spec_path, log=log)
    return None if parameters.data_path else ModelSpec.from_dict(sample.DEFAULT_SPEC)
