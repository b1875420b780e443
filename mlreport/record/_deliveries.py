"""What happened when a recorded run was sent on: notifications and metric exports, in the audit trail.

After a run is committed and recorded, its outcome can be sent to people
(:mod:`mlreport.notify`: webhooks, chat, e-mail) and to monitoring systems
(:mod:`mlreport.export`: a Prometheus textfile, MLflow). Each attempt is a
:class:`Delivery`; :func:`record_deliveries` appends them to the audit trail as
one ``deliver`` entry of the run, so that "was anyone told?" has an answer that
cannot be quietly rewritten. run.json cannot hold the outcome: it is hashed
into the run's audit entry before anything is sent.

A delivery never holds a secret: ``target`` names where it went (a webhook's
host, the recipients, a file, an MLflow URI without credentials), never a
webhook URL's path or a password.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ._audit import append

__all__ = ["DELIVERY_STATUSES", "Delivery", "record_deliveries"]

log = logging.getLogger("mlreport")

#: ``sent`` (a notification accepted by its server), ``written`` (a metrics
#: file in place), ``logged`` (an MLflow run), ``skipped`` (below the chosen
#: severity), ``failed`` (see ``detail``).
DELIVERY_STATUSES = ("sent", "written", "logged", "skipped", "failed")


@dataclass(frozen=True)
class Delivery:
    """One attempt to send a run on: where to, how it ended, and why when it failed."""

    kind: str  # notify | export
    channel: str  # webhook | slack | teams | email | prometheus | mlflow
    status: str
    target: str = ""
    detail: str = ""
    attempts: int = 0
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Delivery:
        names = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in names})


def record_deliveries(out_dir: Path, run_id: str, deliveries: Sequence[Delivery]) -> dict[str, Any] | None:
    """Append the run's ``deliver`` audit entry (nothing when nothing was attempted); return it.

    Skipped deliveries are recorded too when another one was attempted, so the
    entry says what was configured. A trail that cannot be appended to is
    logged, not raised: the run and its report are already in place.
    """
    if not deliveries or all(d.status == "skipped" for d in deliveries):
        return None
    try:
        return append(Path(out_dir), event="deliver", run_id=run_id, deliveries=[d.to_dict() for d in deliveries])
    except OutputError as exc:
        log.warning("run %s: the outcome of its deliveries could not be added to the audit trail: %s", run_id, exc)
        return None
