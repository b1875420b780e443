"""The client side of a zygote's runs: ask it to fork a run's driver, then watch that driver like a child.

Only the standard library and :mod:`mlreport.record`'s package versions (for
the code fingerprint) are imported here: ``mlreport run`` calls
:func:`hand_off` before it imports the driver.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import json
import logging
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ZYGOTE_ENV", "ForkedChild", "ServedRun", "code_fingerprint", "hand_off", "read_line", "request_run", "supported",
]

log = logging.getLogger("mlreport")

#: The environment variable that holds the path of the zygote's socket (``mlreport kernels serve``, a batch's).
ZYGOTE_ENV = "MLREPORT_KERNEL_ZYGOTE"

#: Seconds to wait for the zygote's answer before running here instead.
ANSWER_TIMEOUT = 10.0

#: What a forked driver writes on its status pipe just before it exits: its exit code.
_STATUS = re.compile(rb"exit (-?[0-9]+)\n")


def supported() -> bool:
    """Whether processes can be forked from a zygote here: POSIX fork, pidfds (Linux 5.3+), peer credentials."""
    return hasattr(os, "fork") and hasattr(os, "pidfd_open") and hasattr(socket, "SO_PEERCRED")


def code_fingerprint() -> str:
    """mlreport's version, the path, size and modification time of each of its source files, and the versions
    of the packages run.json records (pandas, numpy, scipy, scikit-learn...), hashed.

    A zygote serves only requests of the same fingerprint: code changed on
    disk after the zygote imported it (an edit, or an upgrade of a library in
    the same environment) would otherwise run as the old code while run.json
    named the new versions.
    """
    import mlreport

    from ..record import package_versions

    root = Path(mlreport.__file__).resolve().parent
    digest = hashlib.sha256(f"{sys.executable}\0{getattr(mlreport, '__version__', '')}\0{root}".encode())
    digest.update(json.dumps(package_versions(), sort_keys=True).encode())
    for path in sorted(root.rglob("*.py")):
        with contextlib.suppress(OSError):
            info = path.stat()
            digest.update(f"\0{path.relative_to(root)}\0{info.st_size}\0{info.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]


def read_line(channel: socket.socket) -> dict[str, Any]:
    """One JSON object, one line, from the zygote (ConnectionError when it closes first)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = channel.recv(4096)
        if not chunk:
            raise ConnectionError("the zygote closed the connection")
        data += chunk
    answer = json.loads(data.decode())
    if not isinstance(answer, dict):
        raise ValueError(f"unexpected answer {answer!r}")
    return answer


class ForkedChild:
    """A process the zygote forked, as its requester sees a ``Popen``: poll, wait, signal, kill.

    The requester is not its parent: it watches the child through a pidfd (no
    confusion with a later process of the same pid) and learns its exit
    status in a way each kind of child defines (:meth:`_collect`).
    """

    #: What the child is, in a timeout's message.
    kind = "process"

    def __init__(self, pid: int, channel: socket.socket, origin: dict[str, Any]) -> None:
        self.pid = pid
        #: Provenance: the zygote's pid, when it started (UTC, ISO 8601) and the code fingerprint it imported.
        self.origin = origin
        self.returncode: int | None = None
        self._channel = channel
        self._pidfd: int | None
        try:
            self._pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # ended and reaped already
            self._pidfd = None

    def _ended(self, timeout: float | None) -> bool:
        if self._pidfd is None:
            return True
        readable, _, _ = select.select([self._pidfd], [], [], timeout)
        return bool(readable)

    def _collect(self) -> int:
        """The ended child's exit code, every descriptor closed."""
        raise NotImplementedError

    def _close_pidfd(self) -> None:
        if self._pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = None

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        return self._collect() if self._ended(0) else None

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is not None:
            return self.returncode
        if not self._ended(timeout):
            raise subprocess.TimeoutExpired(f"{self.kind} {self.pid}", timeout or 0.0)
        return self._collect()

    def send_signal(self, signum: int) -> None:
        if self.returncode is None and self._pidfd is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ServedRun(ForkedChild):
    """A run's driver forked by the zygote.

    It learns its exit code from the driver itself (a status pipe the driver
    writes just before it exits), or, for a driver killed by a signal, from
    the zygote that reaped it (``-signal``, as ``Popen.returncode``). A
    driver killed while its zygote is gone too reports 1.
    """

    kind = "run"

    def __init__(self, pid: int, channel: socket.socket, status_fd: int, stdout_fd: int | None,
                 origin: dict[str, Any]) -> None:
        super().__init__(pid, channel, origin)
        self._status_fd = status_fd
        self._stdout_fd = stdout_fd
        self._out = bytearray()

    def _collect(self) -> int:
        """The ended driver's exit code (its status pipe, else the zygote's word); every descriptor closed."""
        status = b""
        deadline = time.monotonic() + 2.0
        with contextlib.suppress(OSError):
            while time.monotonic() < deadline:
                readable, _, _ = select.select([self._status_fd], [], [], max(0.0, deadline - time.monotonic()))
                chunk = os.read(self._status_fd, 64) if readable else b""
                if not chunk:
                    break
                status += chunk
        match = _STATUS.fullmatch(status)
        code = int(match.group(1)) if match else None
        if code is None:
            with contextlib.suppress(OSError, ValueError):
                self._channel.settimeout(2.0)
                code = int(read_line(self._channel)["exit"])
        self.returncode = 1 if code is None else code
        self.close()
        return self.returncode

    def close(self) -> None:
        """Release the descriptors (the stdout pipe only once it has been read to its end)."""
        self._channel.close()
        self._close_pidfd()
        if self._status_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._status_fd)
            self._status_fd = -1

    def communicate(self, timeout: float | None = None) -> tuple[bytes, None]:
        """Read its stdout to the end and wait for it, as ``Popen.communicate`` (what was read is kept on timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._stdout_fd is not None:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select([self._stdout_fd], [], [], remaining)
            if not readable:
                raise subprocess.TimeoutExpired(f"{self.kind} {self.pid}", timeout or 0.0)
            chunk = os.read(self._stdout_fd, 1 << 16)
            if chunk:
                self._out += chunk
                continue
            os.close(self._stdout_fd)
            self._stdout_fd = None
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return bytes(self._out), None


def request_run(
    socket_path: str, argv: Sequence[str], *, env: Mapping[str, str], cwd: str, stdin: int, stdout: int,
    stderr: int, watch: bool, stdout_read: int | None = None,
) -> ServedRun | None:
    """Ask the zygote at ``socket_path`` to fork a driver running ``python -m mlreport`` with ``argv``.

    ``argv`` is the whole command line as ``sys.argv`` would hold it (its
    first item the ``mlreport/__main__.py`` path); the driver gets ``env``,
    ``cwd`` and the three descriptors as its standard streams, and, with
    ``watch``, stops (SIGTERM) when this process ends. ``stdout_read``: the
    read end of a pipe given as ``stdout``, for :meth:`ServedRun.communicate`.
    None (and a debug line saying why) when there is no zygote, it does not
    answer or it refuses: the caller then runs the driver itself.
    """
    if not supported():
        return None
    import mlreport

    # Which code this process would run; the zygote checks that it is the code it imported, as it is on disk now
    # (the fingerprint, taken there: here it would cost a cold start of importlib.metadata, 0.2 s).
    request = {"kind": "run", "argv": list(argv), "env": dict(env), "cwd": cwd, "watch": watch,
               "executable": sys.executable, "root": str(Path(mlreport.__file__).resolve().parent)}
    status_read, status_write = os.pipe()
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        channel.settimeout(ANSWER_TIMEOUT)
        channel.connect(socket_path)
        fds = array.array("i", [stdin, stdout, stderr, status_write])
        channel.sendmsg([json.dumps(request).encode() + b"\n"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        os.close(status_write)
        status_write = -1
        reply = read_line(channel)
        if "pid" not in reply:
            log.debug("the zygote refused the run: %s; running here", reply.get("refused"))
            raise LookupError(reply.get("refused"))
        channel.settimeout(None)
        origin = {"zygote_pid": int(reply["zygote"]), "zygote_started_at": str(reply["started_at"]),
                  "code": str(reply["code"])}
        return ServedRun(int(reply["pid"]), channel, status_read, stdout_read, origin)
    except (OSError, ValueError, KeyError, LookupError) as exc:
        if not isinstance(exc, LookupError):
            log.debug("no zygote at %s (%s: %s); running here", socket_path, type(exc).__name__, exc)
        channel.close()
        for fd in (status_read, status_write):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        return None


def hand_off(argv: Sequence[str]) -> int | None:
    """Run this ``mlreport`` command (``argv``, as ``sys.argv``) in a driver forked by the zygote it names.

    The zygote is the one ``MLREPORT_KERNEL_ZYGOTE`` names (``mlreport
    kernels serve``); the driver gets this process's environment, working
    folder and standard streams, so it prints, logs and exits exactly as this
    process would have. SIGINT, SIGTERM and SIGHUP sent here are passed on to
    it (it unwinds as a run does); it stops if this process is killed. The
    return value is its exit code; None when there is no zygote to hand the
    run to (or it refused): the caller then runs it here.
    """
    path = os.environ.get(ZYGOTE_ENV)
    if not path:
        return None
    try:
        cwd = os.getcwd()
    except OSError:
        return None
    served = request_run(path, argv, env=os.environ, cwd=cwd, stdin=0, stdout=1, stderr=2, watch=True)
    if served is None:
        return None
    forwarded = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    for signum in forwarded:
        signal.signal(signum, lambda number, frame: served.send_signal(number))
    code = served.wait()
    for signum in forwarded:
        signal.signal(signum, signal.SIG_DFL)
    if code < 0:  # killed by a signal: end the same way
        os.kill(os.getpid(), -code)
        return 128 - code
    return code
