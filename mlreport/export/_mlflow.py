"""A recorded run logged to MLflow: its key numbers, parameters, verdict, report and run.json.

Needs the ``mlflow`` extra (``pip install "mlreport[mlflow]"``: the
``mlflow-skinny`` client, which the full ``mlflow`` package also brings).
Conventions:

- experiment: ``mlreport/<model>`` unless one is named; created when missing;
- run: named ``<analysis> <mlreport run id>``, its start and end times those of
  the mlreport run, status FINISHED (the verdict is a tag, not the MLflow status:
  a run with an incident was still logged completely);
- tags: ``mlreport.run_id``, ``mlreport.analysis``, ``mlreport.model``,
  ``mlreport.status``, ``mlreport.exit_code``, ``mlreport.headline``,
  ``mlreport.data_period``, ``mlreport.thresholds_version``;
- params: the notebook's parameters as run.json holds them (JSON for lists and
  dicts, truncated to 500 characters, MLflow's oldest limit);
- metrics: the key numbers, keyed ``<metric>.<subject>`` (``psi.income``,
  ``findings.incident``, ``status.incident``), characters MLflow does not
  accept in a key replaced by ``_``, all at step 0 and the run's end time;
- artifacts: ``report.html`` and ``run.json``.

The tracking URI is a parameter or ``MLFLOW_TRACKING_URI``; credentials go in
MLflow's own variables (``MLFLOW_TRACKING_USERNAME``, ``MLFLOW_TRACKING_TOKEN``...),
and a user:password part of a URI is never recorded (:func:`redact_uri`).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import InputError, OutputError
from ._metrics import KeyMetric, key_metrics, run_timestamp

__all__ = ["MLFLOW_INSTALL", "mlflow_available", "mlflow_metric_key", "redact_uri", "log_to_mlflow"]

MLFLOW_INSTALL = 'pip install "mlreport[mlflow]"'
_KEY = re.compile(r"[^A-Za-z0-9_\-. /]")
_PARAM_CHARS = 500
_BATCH = 100  # MLflow takes at most 100 params and 1000 metrics per log_batch call


def mlflow_available() -> bool:
    """Whether the MLflow client can be imported (the ``mlflow`` extra)."""
    return importlib.util.find_spec("mlflow") is not None


def redact_uri(uri: str) -> str:
    """``uri`` without a ``user:password@`` part, for records and messages."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def mlflow_metric_key(row: KeyMetric) -> str:
    """``psi.income``: the key of one key number in MLflow (characters it refuses become ``_``)."""
    key = f"{row.metric}.{row.subject}" if row.subject else row.metric
    return _KEY.sub("_", key)[:250]


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text[:_PARAM_CHARS]


def _milliseconds(text: object) -> int | None:
    seconds = run_timestamp(text)
    return None if seconds is None else int(seconds * 1000)


def log_to_mlflow(
    manifest: Mapping[str, Any], run_dir: str | Path, *, tracking_uri: str = "", experiment: str = "",
) -> str:
    """Log the run to MLflow (module docstring); the MLflow run id.

    ``tracking_uri`` empty means ``MLFLOW_TRACKING_URI``. Raises InputError when
    the client is not installed or no tracking URI is set, OutputError when
    MLflow refuses the run (the run is marked FAILED in MLflow when it was created).
    """
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI", "")
    if not uri:
        raise InputError("MLflow export: no tracking URI; give one (--mlflow URI) or set MLFLOW_TRACKING_URI")
    if not mlflow_available():
        raise InputError(f"MLflow export: the MLflow client is not installed ({MLFLOW_INSTALL})")
    tracking = importlib.import_module("mlflow.tracking")
    entities = importlib.import_module("mlflow.entities")
    exceptions = importlib.import_module("mlflow.exceptions")
    run_dir = Path(run_dir)
    model, analysis = str(manifest.get("model") or "default"), str(manifest.get("analysis") or "")
    name = experiment or f"mlreport/{model}"
    try:
        client = tracking.MlflowClient(tracking_uri=uri)
        found = client.get_experiment_by_name(name)
        if found is None:
            try:
                experiment_id = client.create_experiment(name)
            except exceptions.MlflowException:
                # Another run created it in between.
                found = client.get_experiment_by_name(name)
                if found is None:
                    raise
                experiment_id = found.experiment_id
        else:
            experiment_id = found.experiment_id
        tags = {
            "mlreport.run_id": str(manifest.get("run_id") or ""),
            "mlreport.analysis": analysis,
            "mlreport.model": model,
            "mlreport.status": str(manifest.get("status") or ""),
            "mlreport.exit_code": str(manifest.get("exit_code", "")),
            "mlreport.headline": str(manifest.get("headline") or "")[:5000],
            "mlreport.data_period": str(manifest.get("data_period") or ""),
            "mlreport.thresholds_version": str(manifest.get("thresholds_version") or ""),
        }
        run = client.create_run(
            experiment_id, start_time=_milliseconds(manifest.get("started_at")), tags=tags,
            run_name=f"{analysis} {manifest.get('run_id', '')}".strip(),
        )
        mlflow_run_id = run.info.run_id
    except exceptions.MlflowException as exc:
        raise OutputError(f"MLflow at {redact_uri(uri)} refused the run: {exc.message}") from None
    try:
        when = _milliseconds(manifest.get("finished_at")) or 0
        metrics = [
            entities.Metric(mlflow_metric_key(row), row.value, when, 0) for row in key_metrics(manifest)
        ]
        params = [
            entities.Param(str(key)[:250], _param(value)) for key, value in (manifest.get("parameters") or {}).items()
        ]
        for start in range(0, max(len(metrics), len(params)), _BATCH):
            client.log_batch(mlflow_run_id, metrics=metrics[start:start + _BATCH], params=params[start:start + _BATCH])
        for artifact in ("report.html", "run.json"):
            if (run_dir / artifact).is_file():
                client.log_artifact(mlflow_run_id, str(run_dir / artifact))
        client.set_terminated(mlflow_run_id, status="FINISHED", end_time=_milliseconds(manifest.get("finished_at")))
    except (exceptions.MlflowException, OSError) as exc:
        message = exc.message if isinstance(exc, exceptions.MlflowException) else str(exc)
        with contextlib.suppress(exceptions.MlflowException):
            client.set_terminated(mlflow_run_id, status="FAILED")
        raise OutputError(f"MLflow at {redact_uri(uri)}: logging run {mlflow_run_id} failed: {message}") from None
    return str(mlflow_run_id)
