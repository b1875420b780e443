"""Sending: JSON to webhooks over HTTP(S), e-mail over SMTP; every outcome a Delivery, nothing raised.

HTTP: one POST of the channel's JSON body (``Content-Type: application/json``,
``User-Agent: mlreport/<version>``), any 2xx is success. Connection errors,
timeouts, 429 and 5xx are retried ``retries`` times, waiting 1 s, then 2 s...
or the server's ``Retry-After`` (at most 30 s). Other 4xx are not retried (the
URL or the body is wrong; retrying will not help). The generic webhook signs
its body when its secret variable is set: ``X-Mlreport-Signature-256:
sha256=<hex HMAC-SHA256 of the body>``, GitHub's convention, so a receiver can
check the sender. Only ``http`` and ``https`` URLs are used.

SMTP: ``starttls`` (default port 587), ``ssl`` (465) or ``none`` (25), with the
system's certificate store; login when a user name is set. Connection errors
are retried like HTTP ones; a refusal (bad login, a rejected recipient) is not.
The report is attached when asked and no larger than ``max_attach_bytes``;
otherwise the mail links it.

Error messages name the host, never the URL: a webhook URL's path is its secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import __version__
from ..record import Delivery
from ._config import Channel, NotifyConfig
from ._message import Message, email_message, slack_payload, teams_payload, webhook_payload

__all__ = ["MAX_RETRY_WAIT_S", "post_json", "send_email", "deliver"]

log = logging.getLogger("mlreport")

MAX_RETRY_WAIT_S = 30.0
_SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_PAYLOADS: dict[str, Callable[[Message], dict[str, Any]]] = {
    "webhook": webhook_payload, "slack": slack_payload, "teams": teams_payload,
}


class _Failed(Exception):
    """A delivery that failed: the message to record, and the attempts it took."""

    def __init__(self, message: str, attempts: int, target: str = "") -> None:
        super().__init__(message)
        self.attempts = attempts
        self.target = target


def _wait(attempt: int, retry_after: str | None) -> float:
    if retry_after:
        try:
            return min(max(float(retry_after), 0.0), MAX_RETRY_WAIT_S)
        except ValueError:
            pass
    return min(float(2 ** (attempt - 1)), MAX_RETRY_WAIT_S)


def post_json(
    url: str, body: Mapping[str, Any], *, timeout: float = 10.0, retries: int = 2, secret: str = "",
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST ``body`` as JSON to ``url`` (module docstring); the attempts it took. Raises ``_Failed``."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Failed("the webhook URL is not an http(s) URL", 0, host)
    data = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": f"mlreport/{__version__}"}
    if secret:
        digest = hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()
        headers["X-Mlreport-Signature-256"] = f"sha256={digest}"
    attempt = 0
    while True:
        attempt += 1
        retry_after: str | None = None
        try:
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=timeout) as response:  # the scheme is checked above: no file://
                response.read(65_536)
            return attempt
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code} from {host}"
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            retryable = exc.code == 429 or exc.code >= 500
            exc.close()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            problem = f"{host} could not be reached ({type(reason).__name__}: {reason})".replace(url, host)
            retryable = True
        if not retryable or attempt > retries:
            raise _Failed(problem + (f" after {attempt} attempts" if attempt > 1 else ""), attempt, host)
        sleep(_wait(attempt, retry_after))


def send_email(
    channel: Channel, message: Message, *, timeout: float = 10.0, retries: int = 2,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[int, str, str]:
    """Send the run's e-mail; the attempts, what was done with the report, and the target. Raises ``_Failed``."""
    host = channel.host or os.environ.get("MLREPORT_SMTP_HOST", "")
    recipients = list(channel.to) or [a.strip() for a in os.environ.get("MLREPORT_MAIL_TO", "").split(",") if a.strip()]
    sender = channel.sender or os.environ.get("MLREPORT_MAIL_FROM", "")
    target = f"{len(recipients)} recipient(s) via {host or '?'}"
    if not host:
        raise _Failed("no SMTP server: set 'host' in [notify.email] or MLREPORT_SMTP_HOST", 0, target)
    if not recipients:
        raise _Failed("no recipients: set 'to' in [notify.email] or MLREPORT_MAIL_TO", 0, target)
    if not sender or "@" not in parseaddr(sender)[1]:
        raise _Failed("no sender address: set 'from' in [notify.email] or MLREPORT_MAIL_FROM", 0, target)
    port = channel.port or int(os.environ.get("MLREPORT_SMTP_PORT") or _SMTP_PORTS[channel.security])
    username = channel.username or os.environ.get("MLREPORT_SMTP_USER", "")
    password = os.environ.get(channel.password_env, "")
    if username and not password:
        raise _Failed(f"SMTP user {username!r} but no password in ${channel.password_env}", 0, target)
    report = Path(message.report_path)
    attach = None
    note = "linked"
    if channel.attach and report.is_file():
        if report.stat().st_size <= channel.max_attach_bytes:
            attach, note = report, "attached"
        else:
            note = f"linked (larger than {channel.max_attach_bytes} bytes)"
    try:
        mail = email_message(message, sender=sender, recipients=recipients, attach=attach)
    except (ValueError, OSError) as exc:
        raise _Failed(f"the e-mail could not be built: {exc}", 0, target) from None
    context = ssl.create_default_context()
    attempt = 0
    while True:
        attempt += 1
        try:
            if channel.security == "ssl":
                server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            else:
                server = smtplib.SMTP(host, port, timeout=timeout)
            with server:
                if channel.security == "starttls":
                    server.starttls(context=context)
                if username:
                    server.login(username, password)
                server.send_message(mail)
            return attempt, note, target
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, TimeoutError, ConnectionError) as exc:
            problem = f"SMTP server {host}:{port}: {type(exc).__name__}: {exc}"
            retryable = True
        except smtplib.SMTPException as exc:
            problem = f"SMTP server {host}:{port} refused: {type(exc).__name__}: {exc}"
            retryable = False
        except OSError as exc:
            problem = f"SMTP server {host}:{port} could not be reached: {exc}"
            retryable = True
        if password:
            problem = problem.replace(password, "***")
        if not retryable or attempt > retries:
            raise _Failed(problem + (f" after {attempt} attempts" if attempt > 1 else ""), attempt, target)
        sleep(_wait(attempt, None))


def _send(channel: Channel, message: Message, config: NotifyConfig, sleep: Callable[[float], None]) -> Delivery:
    started = time.monotonic()
    try:
        if channel.kind == "email":
            attempts, note, target = send_email(
                channel, message, timeout=config.timeout, retries=config.retries, sleep=sleep,
            )
            return Delivery("notify", "email", "sent", target, f"report {note}", attempts,
                            time.monotonic() - started)
        url = os.environ.get(channel.url_env, "")
        if not url:
            raise _Failed(f"${channel.url_env} is not set: it holds the {channel.kind} webhook URL", 0)
        secret = os.environ.get(channel.secret_env, "") if channel.secret_env else ""
        attempts = post_json(url, _PAYLOADS[channel.kind](message), timeout=config.timeout,
                             retries=config.retries, secret=secret, sleep=sleep)
        detail = "signed" if secret else ""
        return Delivery("notify", channel.kind, "sent", urlsplit(url).hostname or "", detail, attempts,
                        time.monotonic() - started)
    except _Failed as failure:
        return Delivery("notify", channel.kind, "failed", failure.target, str(failure), failure.attempts,
                        time.monotonic() - started)


def deliver(
    config: NotifyConfig, manifest: Mapping[str, Any], run_dir: str | Path, *, out_dir: str | Path | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Notify every channel of ``config`` about the recorded run; one Delivery each.

    Below ``config.on`` every channel is ``skipped``. A failure is logged as a
    warning and returned, never raised: the run and its report are already safe.
    """
    if not config.enabled:
        return []
    status = str(manifest.get("status") or "failed")
    if not config.due(status):
        return [Delivery("notify", channel.kind, "skipped", "", f"status {status} is below {config.on}")
                for channel in config.channels]
    report_url = config.report_url or os.environ.get("MLREPORT_REPORT_URL", "")
    message = Message.from_manifest(manifest, run_dir, out_dir=out_dir, report_url=report_url)
    deliveries = []
    for channel in config.channels:
        delivery = _send(channel, message, config, sleep)
        if delivery.failed:
            log.warning("run %s: %s notification failed: %s", message.run_id, channel.kind, delivery.detail)
        deliveries.append(delivery)
    return deliveries
