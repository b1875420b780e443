"""Which exports a run makes (``--prometheus-dir``, ``--mlflow``, a jobs file's ``[export]``), and making them.

On the command line ``--prometheus-dir DIR``, ``--mlflow [URI]`` and
``--mlflow-experiment NAME``; in a jobs file an ``[export]`` table (for every
job, or ``[job.export]`` for one)::

    [export]
    prometheus_dir = "/var/lib/node_exporter/textfile"   # node-exporter's textfile folder
    mlflow = true                                         # log to MLflow ...
    mlflow_uri = "http://mlflow.internal:5000"            # ... here (default: $MLFLOW_TRACKING_URI)
    mlflow_experiment = "credit-monitoring"               # default: mlreport/<model>

The table is checked before anything runs (unknown keys, types, a missing
folder, the MLflow client not installed, credentials written into a URI).
Making the exports (:func:`export_run`) never raises: each one's outcome is a
:class:`~mlreport.record.Delivery`.
"""

from __future__ import annotations

import difflib
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import InputError, MlreportError
from ..record import Delivery
from ._mlflow import MLFLOW_INSTALL, log_to_mlflow, mlflow_available, redact_uri
from ._prometheus import write_textfile

__all__ = ["EXPORT_KEYS", "ExportConfig", "export_run"]

log = logging.getLogger("mlreport")

EXPORT_KEYS = ("prometheus_dir", "mlflow", "mlflow_uri", "mlflow_experiment")


@dataclass(frozen=True)
class ExportConfig:
    """Where a run's key numbers go after it is recorded; empty: nowhere."""

    prometheus_dir: str = ""
    mlflow: bool = False
    mlflow_uri: str = ""
    mlflow_experiment: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.prometheus_dir) or self.mlflow

    @classmethod
    def from_table(cls, table: object, *, where: str = "[export]") -> ExportConfig:
        """An ``[export]`` table, checked; InputError naming ``where`` and the key otherwise."""
        if not isinstance(table, Mapping):
            raise InputError(f"{where}: expected a table of {', '.join(EXPORT_KEYS)}")
        for key in table:
            if key not in EXPORT_KEYS:
                close = difflib.get_close_matches(str(key), EXPORT_KEYS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise InputError(f"{where}: unknown key {key!r}{hint} (keys: {', '.join(EXPORT_KEYS)})")
        values: dict[str, Any] = {}
        for key in ("prometheus_dir", "mlflow_uri", "mlflow_experiment"):
            if key in table:
                if not isinstance(table[key], str):
                    raise InputError(f"{where}: key {key!r}: expected a string, got {table[key]!r}")
                values[key] = table[key]
        if "mlflow" in table:
            if not isinstance(table["mlflow"], bool):
                raise InputError(f"{where}: key 'mlflow': expected true or false, got {table['mlflow']!r}")
            values["mlflow"] = table["mlflow"]
        if values.get("mlflow_uri") and "mlflow" not in table:
            values["mlflow"] = True
        config = cls(**values)
        config.check(where=where)
        return config

    def merged(self, other: ExportConfig) -> ExportConfig:
        """This config with ``other``'s settings on top (a job's over the file's, the command line's over both)."""
        changes = {key: getattr(other, key) for key in EXPORT_KEYS if getattr(other, key)}
        return replace(self, **changes)

    def check(self, *, where: str = "export") -> None:
        """The checks that need no network: the folder exists, the client is installed, no credentials in a URI."""
        if self.prometheus_dir and not Path(self.prometheus_dir).is_dir():
            raise InputError(f"{where}: prometheus_dir {self.prometheus_dir!r} is not a folder (node-exporter's "
                             "--collector.textfile.directory must exist)")
        if self.mlflow_uri:
            parts = urlsplit(self.mlflow_uri)
            if parts.password is not None or parts.username is not None:
                raise InputError(f"{where}: mlflow_uri {redact_uri(self.mlflow_uri)!r} carries credentials; set "
                                 "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or _TOKEN) instead")
        if self.mlflow and not mlflow_available():
            raise InputError(f"{where}: MLflow export needs the MLflow client ({MLFLOW_INSTALL})")

    def to_dict(self) -> dict[str, Any]:
        """What run.json records of it."""
        return {
            "prometheus_dir": self.prometheus_dir, "mlflow": self.mlflow,
            "mlflow_uri": redact_uri(self.mlflow_uri), "mlflow_experiment": self.mlflow_experiment,
        }


def export_run(config: ExportConfig, manifest: Mapping[str, Any], run_dir: str | Path) -> list[Delivery]:
    """Make every export ``config`` asks for; one Delivery each, failures included (logged as warnings)."""
    deliveries: list[Delivery] = []
    run_id = str(manifest.get("run_id") or "")
    if config.prometheus_dir:
        started = time.monotonic()
        try:
            path = write_textfile(manifest, config.prometheus_dir)
            deliveries.append(Delivery("export", "prometheus", "written", str(path), attempts=1,
                                       seconds=time.monotonic() - started))
        except MlreportError as exc:
            log.warning("run %s: Prometheus textfile not written: %s", run_id, exc)
            deliveries.append(Delivery("export", "prometheus", "failed", config.prometheus_dir, str(exc), 1,
                                       time.monotonic() - started))
    if config.mlflow:
        started = time.monotonic()
        target = redact_uri(config.mlflow_uri) or "$MLFLOW_TRACKING_URI"
        try:
            mlflow_run = log_to_mlflow(manifest, run_dir, tracking_uri=config.mlflow_uri,
                                       experiment=config.mlflow_experiment)
            deliveries.append(Delivery("export", "mlflow", "logged", target, f"MLflow run {mlflow_run}", 1,
                                       time.monotonic() - started))
        except Exception as exc:  # an MLflow store plugin may raise anything; the run is already safe
            message = str(exc) if isinstance(exc, MlreportError) else f"{type(exc).__name__}: {exc}"
            uri = config.mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI", "")
            if uri:
                message = message.replace(uri, redact_uri(uri))
            log.warning("run %s: not logged to MLflow: %s", run_id, message)
            deliveries.append(Delivery("export", "mlflow", "failed", target, message, 1, time.monotonic() - started))
    return deliveries
