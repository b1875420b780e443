"""Local servers the notification tests send to: an HTTP receiver and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Receiver", "receiver", "free_port", "Mailbox", "smtp_server"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Receiver:
    """What the HTTP receiver got, and the status codes it answers with (then 200)."""

    url: str
    requests: list[dict] = field(default_factory=list)
    responses: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]


@contextmanager
def receiver(path: str = "/services/T000/B000/s3cr3t-t0ken") -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 recording every POST; its URL carries a secret-looking path."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)})
            code, headers = state.responses.pop(0) if state.responses else (200, {})
            self.send_response(code)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Mailbox:
    port: int
    messages: list[dict] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def smtp_server(*, users: dict[str, str] | None = None) -> Iterator[Mailbox]:
    """An aiosmtpd server on 127.0.0.1 keeping every message; with ``users``, login is required (no TLS here)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox(port=free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            box.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                 "data": envelope.original_content})
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            box.logins.append((user, password))
            return AuthResult(success=(users or {}).get(user) == password, handled=False)
        return AuthResult(success=False, handled=False)

    options = {"authenticator": authenticate, "auth_require_tls": False, "auth_required": True} if users else {}
    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port, **options)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
