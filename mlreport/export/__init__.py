"""Metrics exports: a run's key numbers where dashboards and experiment trackers read them.

After a run is recorded, :func:`export_run` sends its key numbers
(:func:`key_metrics`: status, exit code, findings per severity, per-column
PSI, KS and missing rate, volume and decision rates...) where
:class:`ExportConfig` says:

- a Prometheus textfile for node-exporter's textfile collector
  (:func:`write_textfile`, :func:`prometheus_text`; conventions in ``_prometheus``);
- an MLflow tracking server, with report.html and run.json as artifacts
  (:func:`log_to_mlflow`; needs the ``mlflow`` extra).

Exports never change a run's exit code: each outcome is a
:class:`mlreport.record.Delivery`, recorded in the audit trail by the driver.
"""

from __future__ import annotations

from ._export import EXPORT_KEYS, ExportConfig, export_run
from ._metrics import KeyMetric, key_metrics, run_timestamp
from ._mlflow import MLFLOW_INSTALL, log_to_mlflow, mlflow_available, mlflow_metric_key, redact_uri
from ._prometheus import PROMETHEUS_FAMILIES, prometheus_text, textfile_name, write_textfile

__all__ = [
    "ExportConfig",
    "EXPORT_KEYS",
    "export_run",
    "KeyMetric",
    "key_metrics",
    "run_timestamp",
    "PROMETHEUS_FAMILIES",
    "prometheus_text",
    "textfile_name",
    "write_textfile",
    "MLFLOW_INSTALL",
    "mlflow_available",
    "mlflow_metric_key",
    "redact_uri",
    "log_to_mlflow",
]
