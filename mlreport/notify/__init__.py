"""Notifications: telling people about a recorded run where they look (webhooks, Slack, Teams, e-mail).

:class:`NotifyConfig` says which channels to notify and from which run status
on (``--notify``, ``--notify-on``, ``--notify-config``, a jobs file's
``[notify]``; secrets come from environment variables only, see ``_config``).
After a run is recorded, :func:`deliver` sends each channel the run's status,
headline, counts per severity, worst findings and a link or path to its report
(:class:`Message`, rendered per channel in ``_message``), and returns one
:class:`mlreport.record.Delivery` per channel. It never raises and never
changes the run's exit code: a failure is logged and recorded.
"""

from __future__ import annotations

from ._config import CHANNELS, DEFAULT_ON, Channel, NotifyConfig, load_notify_config
from ._message import (
    NOTIFICATION_SCHEMA_VERSION,
    Message,
    email_message,
    slack_payload,
    teams_payload,
    webhook_payload,
)
from ._send import MAX_RETRY_WAIT_S, deliver, post_json, send_email

__all__ = [
    "CHANNELS",
    "DEFAULT_ON",
    "Channel",
    "NotifyConfig",
    "load_notify_config",
    "Message",
    "NOTIFICATION_SCHEMA_VERSION",
    "webhook_payload",
    "slack_payload",
    "teams_payload",
    "email_message",
    "deliver",
    "post_json",
    "send_email",
    "MAX_RETRY_WAIT_S",
]
