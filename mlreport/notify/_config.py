"""Who is told about a run, and when: ``--notify`` and a ``[notify]`` table.

On the command line, ``--notify slack --notify email --notify-on warning``
uses every channel's defaults (below); ``--notify-config FILE`` reads a TOML or
JSON file holding a ``[notify]`` table, the same table a jobs file takes (for
every job, or ``[job.notify]`` for one)::

    [notify]
    on = "warning"                     # lowest status that notifies: ok, warning, incident (default), failed
    channels = ["slack", "email"]      # webhook, slack, teams, email
    report_url = "https://reports.internal/mlreport"   # where the outputs folder is served (default: paths)

    [notify.slack]
    url_env = "SLACK_MODEL_RISK_WEBHOOK"   # the variable holding the webhook URL

    [notify.email]
    to = ["model-risk@example.com"]
    from = "mlreport@example.com"
    host = "smtp.example.com"
    port = 587
    security = "starttls"              # starttls (default), ssl or none
    username = "mlreport"
    password_env = "SMTP_PASSWORD"
    attach = true                      # attach report.html (up to max_attach_bytes), else link it

**Secrets come from the environment only.** A webhook URL carries its token
and an SMTP password is a password: the table names the variable that holds
them (``url_env``, ``secret_env``, ``password_env``), and a table that writes
one out (``url = "https://hooks..."``, ``password = ...``) is refused. So no
secret reaches a parameter, run.json, a log or a report.

Defaults, each overridable by the table: ``MLREPORT_WEBHOOK_URL`` (and
``MLREPORT_WEBHOOK_SECRET``, which signs the body when set),
``MLREPORT_SLACK_WEBHOOK_URL``, ``MLREPORT_TEAMS_WEBHOOK_URL``;
``MLREPORT_SMTP_HOST``, ``MLREPORT_SMTP_PORT``, ``MLREPORT_SMTP_USER``,
``MLREPORT_SMTP_PASSWORD``, ``MLREPORT_MAIL_FROM``, ``MLREPORT_MAIL_TO`` (comma
separated); ``MLREPORT_REPORT_URL``.

The table is checked before anything runs (unknown keys, types, a secret in
the file). A variable that is missing when the run ends is a failed delivery,
not an error: the report matters more than the message about it.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..findings import STATUSES, severity_rank

__all__ = ["CHANNELS", "DEFAULT_ON", "Channel", "NotifyConfig", "load_notify_config"]

CHANNELS = ("webhook", "slack", "teams", "email")
DEFAULT_ON = "incident"
SECURITY = ("starttls", "ssl", "none")

_URL_ENV = {
    "webhook": "MLREPORT_WEBHOOK_URL",
    "slack": "MLREPORT_SLACK_WEBHOOK_URL",
    "teams": "MLREPORT_TEAMS_WEBHOOK_URL",
}
_TOP_KEYS = ("on", "channels", "report_url", "timeout", "retries", *CHANNELS)
_WEBHOOK_KEYS = ("url_env", "secret_env")
_EMAIL_KEYS = ("to", "from", "host", "port", "security", "username", "password_env", "attach", "max_attach_bytes")
#: Keys that would hold a secret in the file itself: refused, with the key to use instead.
_SECRET_KEYS = {"url": "url_env", "webhook_url": "url_env", "secret": "secret_env", "password": "password_env",
                "token": "url_env"}


@dataclass(frozen=True)
class Channel:
    """One destination. Webhooks read their URL from ``url_env``; e-mail its password from ``password_env``."""

    kind: str
    url_env: str = ""
    secret_env: str = ""
    to: tuple[str, ...] = ()
    sender: str = ""
    host: str = ""
    port: int = 0
    security: str = "starttls"
    username: str = ""
    password_env: str = "MLREPORT_SMTP_PASSWORD"
    attach: bool = True
    max_attach_bytes: int = 10_000_000

    def to_dict(self) -> dict[str, Any]:
        """What run.json records: names of variables, never their values."""
        if self.kind != "email":
            data: dict[str, Any] = {"kind": self.kind, "url_env": self.url_env}
            if self.secret_env:
                data["secret_env"] = self.secret_env
            return data
        return {
            "kind": self.kind, "to": list(self.to), "from": self.sender, "host": self.host, "port": self.port,
            "security": self.security, "username": self.username, "password_env": self.password_env,
            "attach": self.attach, "max_attach_bytes": self.max_attach_bytes,
        }


@dataclass(frozen=True)
class NotifyConfig:
    """The channels to notify and the lowest run status that notifies them."""

    channels: tuple[Channel, ...] = ()
    on: str = DEFAULT_ON
    report_url: str = ""
    timeout: float = 10.0
    retries: int = 2
    explicit: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    @property
    def enabled(self) -> bool:
        return bool(self.channels)

    def due(self, status: str) -> bool:
        """Whether a run with ``status`` notifies (at or above ``on``; ``failed`` ranks above ``incident``)."""
        return self.enabled and severity_rank(status) >= severity_rank(self.on)

    @classmethod
    def from_table(cls, table: object, *, where: str = "[notify]") -> NotifyConfig:
        """A ``[notify]`` table (module docstring), checked; InputError naming ``where`` and the key otherwise."""
        if not isinstance(table, Mapping):
            raise InputError(f"{where}: expected a table (on, channels, report_url, and one table per channel)")
        _check_keys(table, _TOP_KEYS, where)
        values: dict[str, Any] = {"explicit": frozenset(str(k) for k in table)}
        if "on" in table:
            values["on"] = _status(table["on"], f"{where}: key 'on'")
        if "report_url" in table:
            values["report_url"] = _text(table["report_url"], f"{where}: key 'report_url'")
        if "timeout" in table:
            timeout = table["timeout"]
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 300:
                raise InputError(f"{where}: key 'timeout': expected seconds between 0 and 300, got {timeout!r}")
            values["timeout"] = float(timeout)
        if "retries" in table:
            retries = table["retries"]
            if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 5:
                raise InputError(f"{where}: key 'retries': expected 0 to 5, got {retries!r}")
            values["retries"] = retries
        names = table.get("channels")
        if names is None:
            names = [name for name in CHANNELS if name in table]
        elif isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InputError(f"{where}: key 'channels': expected a list of {', '.join(CHANNELS)}")
        for name in table:
            if name in CHANNELS and name not in names:
                raise InputError(f"{where}: [{where.strip('[]')}.{name}] is configured but {name!r} is not in "
                                 f"'channels' ({', '.join(names) or 'none'})")
        values["channels"] = tuple(_channel(name, table.get(name, {}), where) for name in _unique(names, where))
        return cls(**values)

    @classmethod
    def from_options(cls, channels: Sequence[str], on: str | None = None) -> NotifyConfig:
        """``--notify CHANNEL`` (repeatable, or comma separated) and ``--notify-on``: every channel's defaults."""
        names = [part.strip() for item in channels for part in item.split(",") if part.strip()]
        explicit = {"channels"} if names else set()
        if on is not None:
            explicit.add("on")
        config = cls(
            channels=tuple(_channel(name, {}, "--notify") for name in _unique(names, "--notify")),
            on=_status(on, "--notify-on") if on is not None else DEFAULT_ON,
            explicit=frozenset(explicit),
        )
        return config

    def merged(self, other: NotifyConfig) -> NotifyConfig:
        """This config with what ``other`` set on top: a job's table over the file's, options over both.

        Channels add up (a channel named in both takes ``other``'s settings);
        ``on``, ``report_url``, ``timeout`` and ``retries`` are ``other``'s when it set them.
        """
        channels = {channel.kind: channel for channel in self.channels}
        channels.update({channel.kind: channel for channel in other.channels})
        changes: dict[str, Any] = {"channels": tuple(channels.values()), "explicit": self.explicit | other.explicit}
        for key in ("on", "report_url", "timeout", "retries"):
            if key in other.explicit:
                changes[key] = getattr(other, key)
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The table as run.json and a batch's job records it (no secret: only variable names)."""
        return {
            "on": self.on, "channels": [channel.kind for channel in self.channels], "report_url": self.report_url,
            "timeout": self.timeout, "retries": self.retries,
            **{channel.kind: {k: v for k, v in channel.to_dict().items() if k != "kind"} for channel in self.channels},
        }


def load_notify_config(path: str | os.PathLike[str]) -> NotifyConfig:
    """The ``[notify]`` table of a TOML or JSON file (``--notify-config``)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"--notify-config {file}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--notify-config {file}: cannot read it ({exc})") from None
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if file.suffix.lower() == ".json" else "TOML"
        raise InputError(f"--notify-config {file}: not valid {kind} ({exc})") from None
    if not isinstance(data, dict) or "notify" not in data:
        raise InputError(f"--notify-config {file}: expected a [notify] table")
    return NotifyConfig.from_table(data["notify"], where=f"{file}: [notify]")


def _check_keys(table: Mapping[Any, Any], known: Sequence[str], where: str) -> None:
    for key in table:
        if key in _SECRET_KEYS:
            raise InputError(
                f"{where}: key {key!r} would put a secret in the file; put it in an environment variable and name "
                f"that variable with {_SECRET_KEYS[key]!r}"
            )
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"{where}: unknown key {key!r}{hint} (keys: {', '.join(known)})")


def _status(value: object, where: str) -> str:
    if not isinstance(value, str) or value not in STATUSES:
        raise InputError(f"{where}: {value!r} is not one of {', '.join(STATUSES)}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{where}: expected a string, got {value!r}")
    return value


def _env_name(value: object, where: str) -> str:
    name = _text(value, where)
    if not name or not name.replace("_", "a").isalnum() or name[0].isdigit():
        raise InputError(f"{where}: {name!r} is not an environment variable name")
    return name


def _unique(names: Sequence[str], where: str) -> list[str]:
    for name in names:
        if name not in CHANNELS:
            close = difflib.get_close_matches(name, CHANNELS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"{where}: unknown channel {name!r}{hint} (channels: {', '.join(CHANNELS)})")
    if len(set(names)) != len(names):
        raise InputError(f"{where}: a channel is listed twice ({', '.join(names)})")
    return list(names)


def _channel(kind: str, table: object, where: str) -> Channel:
    here = f"{where.rstrip(']')}.{kind}]" if where.endswith("]") else f"{where} {kind}"
    if not isinstance(table, Mapping):
        raise InputError(f"{here}: expected a table of settings")
    if kind != "email":
        _check_keys(table, _WEBHOOK_KEYS if kind == "webhook" else ("url_env",), here)
        url_env = _env_name(table.get("url_env", _URL_ENV[kind]), f"{here}: key 'url_env'")
        secret_env = ""
        if kind == "webhook":
            secret_env = _env_name(table.get("secret_env", "MLREPORT_WEBHOOK_SECRET"), f"{here}: key 'secret_env'")
        return Channel(kind, url_env=url_env, secret_env=secret_env)
    _check_keys(table, _EMAIL_KEYS, here)
    to = table.get("to", [])
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not all(isinstance(a, str) and "@" in a for a in to):
        raise InputError(f"{here}: key 'to': expected a list of e-mail addresses, got {to!r}")
    security = table.get("security", "starttls")
    if security not in SECURITY:
        raise InputError(f"{here}: key 'security': {security!r} is not one of {', '.join(SECURITY)}")
    port = table.get("port", 0)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 65536:
        raise InputError(f"{here}: key 'port': expected a port number, got {port!r}")
    attach = table.get("attach", True)
    if not isinstance(attach, bool):
        raise InputError(f"{here}: key 'attach': expected true or false, got {attach!r}")
    limit = table.get("max_attach_bytes", 10_000_000)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InputError(f"{here}: key 'max_attach_bytes': expected a number of bytes, got {limit!r}")
    return Channel(
        "email", to=tuple(to), sender=_text(table.get("from", ""), f"{here}: key 'from'"),
        host=_text(table.get("host", ""), f"{here}: key 'host'"), port=port, security=str(security),
        username=_text(table.get("username", ""), f"{here}: key 'username'"),
        password_env=_env_name(table.get("password_env", "MLREPORT_SMTP_PASSWORD"), f"{here}: key 'password_env'"),
        attach=attach, max_attach_bytes=limit,
    )
