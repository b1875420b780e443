"""After a run is recorded: its metric exports and notifications, and their outcome in the audit trail.

The one step a run takes after :func:`mlreport.record.record_run`: the exports
(:func:`mlreport.export.export_run`) first, being local and quick, then the
notifications (:func:`mlreport.notify.deliver`); every outcome goes into the
audit trail as the run's ``deliver`` entry. Nothing here raises or changes the
run's exit code: the report is already committed and recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..export import ExportConfig, export_run
from ..notify import NotifyConfig, deliver
from ..record import Delivery, record_deliveries

__all__ = ["planned_deliveries", "send_on"]


def planned_deliveries(notify: NotifyConfig | None, export: ExportConfig | None) -> dict[str, Any]:
    """What run.json records of the deliveries asked for (no secret: variable names only)."""
    planned: dict[str, Any] = {}
    if notify is not None and notify.enabled:
        planned["notify"] = notify.to_dict()
    if export is not None and export.enabled:
        planned["export"] = export.to_dict()
    return planned


def send_on(
    manifest: Mapping[str, Any], run_dir: Path, out_dir: Path, *, notify: NotifyConfig | None,
    export: ExportConfig | None,
) -> list[Delivery]:
    """Export and notify as configured, then record the outcomes; the deliveries."""
    deliveries: list[Delivery] = []
    if export is not None and export.enabled:
        deliveries += export_run(export, manifest, run_dir)
    if notify is not None and notify.enabled:
        deliveries += deliver(notify, manifest, run_dir, out_dir=out_dir)
    record_deliveries(out_dir, str(manifest["run_id"]), deliveries)
    return deliveries
