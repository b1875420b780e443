"""A run's key numbers, read from its run.json: what every export sends.

:func:`key_metrics` turns a manifest into :class:`KeyMetric` rows, one number
each with the dimension it is about (a column, a severity, a decision):

- the run: its status (one row per status, 1 for the run's own), exit code,
  end time (Unix seconds), total duration (seconds);
- its findings per severity;
- the analysis' own metrics (``metrics`` in run.json, flattened as the
  registry flattens them: ``psi`` per column, ``volume_flags`` per severity,
  ``rows``...). The backend's timings are not a key number and are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..findings import SEVERITIES, STATUSES
from ..record import flatten_metrics

__all__ = ["KeyMetric", "key_metrics", "run_timestamp"]

#: Parts of run.json ``metrics`` that describe the computation, not the model.
_NOT_KEY = frozenset({"backend"})


@dataclass(frozen=True)
class KeyMetric:
    """One number of a run: ``metric`` (``psi``), what it is about (``subject``: a column; "" for the run), value."""

    metric: str
    subject: str
    value: float


def run_timestamp(text: object) -> float | None:
    """Unix seconds of an ISO 8601 UTC time from run.json (``2026-03-14T02:00:41Z``), or None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def key_metrics(manifest: Mapping[str, Any]) -> list[KeyMetric]:
    """The key numbers of the run whose run.json is ``manifest`` (module docstring)."""
    rows: list[KeyMetric] = []
    status = str(manifest.get("status") or "failed")
    rows += [KeyMetric("status", name, 1.0 if name == status else 0.0) for name in STATUSES]
    if isinstance(manifest.get("exit_code"), int):
        rows.append(KeyMetric("exit_code", "", float(manifest["exit_code"])))
    finished = run_timestamp(manifest.get("finished_at"))
    if finished is not None:
        rows.append(KeyMetric("finished_timestamp_seconds", "", finished))
    total = (manifest.get("timings_s") or {}).get("total")
    if isinstance(total, (int, float)) and not isinstance(total, bool):
        rows.append(KeyMetric("duration_seconds", "", float(total)))
    counts = manifest.get("counts") or {}
    rows += [KeyMetric("findings", severity, float(counts.get(severity) or 0)) for severity in SEVERITIES]
    metrics = {name: value for name, value in (manifest.get("metrics") or {}).items() if name not in _NOT_KEY}
    rows += [KeyMetric(metric, subject, value) for metric, subject, value in flatten_metrics(metrics)]
    return rows
