"""The columns a drift report watches: the model's features, then its outputs."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..spec import ModelSpec

__all__ = ["MonitoredColumns"]


@dataclass(frozen=True)
class MonitoredColumns:
    """What drift and integrity look at, decided once from the spec and the reference's columns.

    ``columns`` are the spec's features, then its segments (drift-tested as
    features too), then its score and decision, in that order, keeping only
    those the reference has. The target is left out (late labels make it look
    "newly missing"; target drift is a performance question), and so are the
    id, the timestamp, the window labels and the columns the spec excludes.
    ``features`` are ``columns`` without the score and the decision: what
    feature drift and the domain classifier compare (the outputs have a
    section of their own). :func:`~mlreport.drift.assess_coverage` decides
    the rest from the data (types that cannot be binned, constant columns).
    """

    columns: tuple[str, ...]
    features: tuple[str, ...]

    @classmethod
    def of(cls, spec: ModelSpec, frame: pd.DataFrame) -> MonitoredColumns:
        """The monitored columns of ``frame`` (the reference's rows) under ``spec``'s roles."""
        columns = tuple(c for c in cls.wanted(spec) if c in frame.columns)
        return cls(columns, tuple(c for c in columns if c not in (spec.score, spec.decision)))

    @staticmethod
    def wanted(spec: ModelSpec) -> tuple[str, ...]:
        """The columns ``spec`` asks to monitor, in order: features, segments, score, decision, less the others."""
        wanted = [*spec.features, *spec.segments, *(c for c in (spec.score, spec.decision) if c)]
        skip = {spec.target, spec.id, spec.timestamp, *spec.exclude, *spec.window_labels} - {""}
        return tuple(c for c in dict.fromkeys(wanted) if c not in skip)
