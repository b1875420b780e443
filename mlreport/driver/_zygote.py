"""A kernel zygote: ipykernel and the analysis stack imported once, one forked kernel per run.

A fresh kernel (``python -m ipykernel_launcher``) spends about 0.9 s booting
and 1.6 s importing what the notebook imports before its first cell; a batch
pays that for every job. The zygote is one process that imports ipykernel's
modules and the notebooks' imports once, without starting any thread, ZMQ
context or event loop, and then, on request, ``os.fork()``s a child that
becomes one run's kernel:

- the child starts a session of its own (the driver signals and kills it by
  its pid, as it does a kernel it launched), takes the driver's stdout and the
  run's kernel log as its stdout and stderr (stdin: ``/dev/null``), the run's
  working directory and exactly the environment the driver would have given a
  fresh kernel, re-seeds numpy's global generator (Python's ``random`` re-seeds
  itself in a forked child), and runs ipykernel's ``IPKernelApp`` with the
  run's connection file and arguments;
- it runs one notebook and is discarded (the driver kills it as it kills a
  fresh kernel); nothing is shared after the fork but the pages the two
  processes have not written yet (copy on write): the same isolation as a
  fresh process;
- it exits when its driver dies (a thread waits on the driver's pidfd),
  rather than when its parent does: a zygote that dies leaves the kernels it
  forked running for their drivers.

The driver side (:func:`fork_kernel`) is plugged in where jupyter_client
launches the kernel (``SameInterpreterKernelManager._async_launch_kernel``):
the process it hands the provisioner (:class:`ForkedKernel`) polls, waits,
signals and kills like a ``Popen``, so papermill's and nbclient's lifecycle
(interrupt, timeout, kill, shutdown, the RUN FAILED path) is unchanged. When
there is no zygote, it is dead, busy beyond its queue or refuses the request
(another interpreter, other code, another environment), the driver launches
a fresh kernel as before.

It forks whole runs too (:meth:`_Server.become_driver`), for which it also
has the driver's papermill imported and the report's exporter built (its
templates compiled) before it forks anything: a batch's job, or
a ``mlreport run`` handed over by its command (:mod:`mlreport.handoff`),
becomes a driver forked here with the requester's command line, standard
streams, working folder and environment, in a session of its own; its
kernel is then forked (or launched) as any driver's. run.json's
``kernel.driver`` records it (:data:`FORKED_DRIVER`).

The zygote is reachable only by its user: its socket lives in a private
(0700) temporary folder, and it serves only a peer of its own uid
(``SO_PEERCRED``). It refuses a request whose code fingerprint (mlreport's
version, the size and modification time of every source file) or whose
environment (apart from per-run variables) differs from its own, since what
it imported was read from those. ``mlreport batch`` starts one for its life
(:class:`Zygote`) and passes its socket to its jobs in ``MLREPORT_KERNEL_ZYGOTE``.
"""

from __future__ import annotations

import array
import atexit
import contextlib
import datetime as dt
import gc
import importlib
import importlib.util
import io
import json
import logging
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ..errors import InputError, MlreportError
from ..handoff import ZYGOTE_ENV, ForkedChild, code_fingerprint, read_line
from ..handoff import supported as fork_supported
from ._execute import KERNEL_ENV

__all__ = [
    "ZYGOTE_ENV", "KERNEL_MODULES", "Zygote", "fork_supported", "ForkedKernel", "fork_kernel", "code_fingerprint",
    "thread_count", "main", "notebook_imports", "serve", "default_socket",
]

log = logging.getLogger("mlreport")

#: What a kernel imports before its first cell, whatever the notebook: ipykernel's application and its shell, and
#: its debugger (debugpy's vendored pydevd), which ``IPythonKernel.__init__`` imports on every start: 0.13 s of
#: a forked kernel's 0.36 s start when the zygote had not imported it (importing it starts no thread: see main()).
KERNEL_MODULES = (
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.comm", "ipykernel.debugger",
)

#: The command a fresh kernel runs (``SameInterpreterKernelManager.kernel_spec``) before its arguments.
_LAUNCHER = ("-m", "ipykernel_launcher")

#: Variables that differ from run to run and are read by nothing the zygote imported: a request may differ in them.
_PER_RUN_ENV = frozenset({"JPY_PARENT_PID", "JPY_SESSION_NAME", "PWD", "OLDPWD", "_", ZYGOTE_ENV})

#: The zygote's command (``python -c``), followed by its socket, the pid it serves for (0: until stopped), its imports.
_MAIN = "from mlreport.driver._zygote import main; main()"

#: Seconds a driver waits for the zygote's answer before it launches a fresh kernel.
_ANSWER_TIMEOUT = 10.0

#: The module whose ``main(argv)`` a forked driver runs: what ``python -m mlreport`` runs.
_ENTRY = "mlreport.cli"

#: In a driver forked by a zygote (a batch job, a served ``mlreport run``): the zygote's pid, start and code.
FORKED_DRIVER: dict[str, Any] | None = None
#: ... and the package versions the zygote's code fingerprint covers (what run.json records), as the zygote read them.
FORKED_VERSIONS: dict[str, str] | None = None


def thread_count() -> int:
    """Threads of this process: the kernel's view (``/proc/self/task``) where there is one, else Python's."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


#: Imported first, their threads counted as the fork-aware ones (OpenBLAS's pool), see :func:`main`.
_FORK_AWARE = ("numpy", "scipy.linalg")


def _named_threads(name: str) -> int:
    """Threads of this process whose name is ``name`` (0 where there is no ``/proc``)."""
    count = 0
    with contextlib.suppress(OSError):
        for task in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError), open(f"/proc/self/task/{task}/comm") as comm:
                count += comm.read().strip() == name
    return count


def _shared_env(env: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in env.items() if key not in _PER_RUN_ENV}


# --------------------------------------------------------------------------------------------- the driver's side


class ForkedKernel(ForkedChild):
    """A kernel forked by the zygote, as jupyter_client's provisioner sees a ``Popen``.

    It learns its exit status from the zygote, which reaped it; a kernel whose
    zygote died meanwhile reports status 1 when it ends.
    """

    kind = "kernel"
    stdin = None
    stdout = None
    stderr = None

    def _collect(self) -> int:
        status = 1
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            self._channel.settimeout(2.0)
            status = int(read_line(self._channel)["exit"])
        self._channel.close()
        self._close_pidfd()
        self.returncode = status
        return status


def fork_kernel(
    socket_path: str, cmd: Sequence[str], *, env: Mapping[str, str], cwd: str, stderr: int | None,
) -> ForkedKernel | None:
    """Ask the zygote at ``socket_path`` for a kernel running ``cmd`` (a fresh kernel's command); None if it cannot.

    ``stderr`` is the file descriptor the kernel writes its log to (None:
    this process's stderr); its stdout is this process's stdout, as for a
    launched kernel. None (and a debug line saying why) when there is no
    zygote, it does not answer, or it refuses: the caller then launches a
    fresh kernel.
    """
    if list(cmd[1:3]) != list(_LAUNCHER) or cmd[0] != sys.executable or not fork_supported():
        return None
    # A driver forked by the zygote had its code checked against the zygote's when its run started, a moment ago.
    code = FORKED_DRIVER["code"] if FORKED_DRIVER is not None else code_fingerprint()
    request = {"argv": list(cmd[3:]), "env": dict(env), "cwd": cwd, "code": code}
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        channel.settimeout(_ANSWER_TIMEOUT)
        channel.connect(socket_path)
        fds = array.array("i", [1, 2 if stderr is None else stderr])
        channel.sendmsg([json.dumps(request).encode() + b"\n"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        reply = read_line(channel)
        if "pid" not in reply:
            log.debug("the kernel zygote refused: %s; starting a fresh kernel", reply.get("refused"))
            channel.close()
            return None
        channel.settimeout(None)
        origin = {"zygote_pid": int(reply["zygote"]), "zygote_started_at": str(reply["started_at"]),
                  "code": request["code"]}
        return ForkedKernel(int(reply["pid"]), channel, origin)
    except (OSError, ValueError, KeyError) as exc:
        log.debug("no kernel zygote at %s (%s: %s); starting a fresh kernel", socket_path, type(exc).__name__, exc)
        channel.close()
        return None


class Zygote:
    """A zygote for the life of a ``with`` block (``mlreport batch``): started, waited for, then ended.

    ``env`` is the environment its kernels get (that of the jobs' drivers,
    with the kernel spec's variables), ``modules`` what it imports besides
    ipykernel. :attr:`socket_path` is None when it could not start (a
    warning says why): the jobs then start fresh kernels.
    """

    def __init__(self, modules: Sequence[str], *, env: Mapping[str, str], log_path: Path | None = None,
                 ready_timeout: float = 60.0) -> None:
        self.modules = list(modules)
        self.env = dict(env)
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self.socket_path: str | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._folder: str | None = None

    def __enter__(self) -> Zygote:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._folder = tempfile.mkdtemp(prefix="mlr-zygote-")  # 0700: only this user reaches the socket
        path = os.path.join(self._folder, "zygote.sock")
        command = [sys.executable, "-c", _MAIN, path, str(os.getpid()), json.dumps(self.modules)]
        stderr = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=self.env,
                start_new_session=True,  # a Ctrl-C at the batch's terminal is the batch's to handle
            )
        except OSError as exc:
            log.warning("the kernel zygote could not start (%s); every job starts a fresh kernel", exc)
            self.stop()
            return
        finally:
            if stderr is not subprocess.DEVNULL:
                stderr.close()  # type: ignore[union-attr]
        assert self.proc.stdout is not None
        readable, _, _ = select.select([self.proc.stdout], [], [], self.ready_timeout)
        line = self.proc.stdout.readline() if readable else b""
        if line.strip() != b"ready":
            log.warning("the kernel zygote did not start (%s); every job starts a fresh kernel",
                        line.decode(errors="replace").strip() or f"no answer in {self.ready_timeout:g} s")
            self.stop()
            return
        self.socket_path = path

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def stop(self) -> None:
        """End the zygote (kernels it forked live on for their drivers) and remove its socket."""
        self.socket_path = None
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def notebook_imports(analyses: Sequence[str]) -> list[str]:
    """What a zygote for ``analyses`` imports: their notebooks' top-level imports and the parameter checks'."""
    import nbformat

    from ._kernel import warm_modules
    from ._resources import notebook_path

    modules: list[str] = ["mlreport.analysis"]
    for analysis in dict.fromkeys(analyses):
        with contextlib.suppress(MlreportError, OSError, ValueError):
            modules += warm_modules(nbformat.read(str(notebook_path(analysis)), as_version=4))
    return list(dict.fromkeys(modules))


def default_socket() -> Path:
    """Where ``mlreport kernels serve`` listens by default: ``$MLREPORT_KERNEL_ZYGOTE``, else a private folder."""
    if os.environ.get(ZYGOTE_ENV):
        return Path(os.environ[ZYGOTE_ENV])
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"mlreport-{os.getuid()}" / "kernels.sock"


def serve(socket_path: Path, analyses: Sequence[str]) -> None:
    """Become a zygote serving ``socket_path`` until stopped (``mlreport kernels serve``); never returns.

    The socket's folder is created private (0700) and must be this user's
    and private if it exists. This process is replaced (``exec``) by a fresh
    interpreter that imports what ``analyses``' notebooks import, with the
    environment a kernel started here would get: nothing of the command line's
    own state (its logging, its imports) reaches the kernels.
    """
    if not fork_supported():
        raise InputError("forked kernels need Linux (fork, pidfds and SO_PEERCRED)")
    socket_path = socket_path.absolute()
    folder = socket_path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise InputError(f"--socket {socket_path}: its folder must be yours and private (mode 0700); it is "
                         f"{stat.S_IMODE(info.st_mode):o}, owner uid {info.st_uid}")
    if socket_path.exists() or socket_path.is_symlink():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(socket_path))
        except OSError:
            socket_path.unlink()  # a zygote that died left it
        else:
            raise InputError(f"--socket {socket_path}: a zygote serves there already")
        finally:
            probe.close()
    from ._execute import kernel_env

    modules = notebook_imports(analyses)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-c", _MAIN, str(socket_path), "0", json.dumps(modules)],
              kernel_env())


# --------------------------------------------------------------------------------------------- the zygote's side


class _Server:
    """The zygote's loop: accept a request, fork its kernel, report the kernel's end; one thread, no event loop."""

    def __init__(self, path: str, parent: int, env: Mapping[str, str]) -> None:
        self.path = path
        self.parent = parent
        self.code = code_fingerprint()
        from ..record import package_versions

        self.versions = package_versions()  # covered by the fingerprint: what a driver forked here records
        import mlreport

        self.root = str(Path(mlreport.__file__).resolve().parent)
        # The environment the zygote started with (what its imports read), and what the imports set in it
        # (scikit-learn sets KMP_* variables): a kernel gets the latter on top of its run's, as if it imported.
        self.env = _shared_env(env)
        self.set_by_imports = {key: value for key, value in os.environ.items() if env.get(key) != value}
        self.started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        os.chmod(path, 0o600)
        self.listener.listen(16)
        self.waiting: dict[int, socket.socket] = {}  # kernel pid -> its driver's connection
        self.exits: dict[int, int] = {}  # kernel (or driver) pid -> its pidfd, readable once it has exited

    def refuse(self, conn: socket.socket, reason: str) -> None:
        print(f"mlreport kernel zygote: refused a kernel: {reason}", file=sys.stderr, flush=True)
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"refused": reason}).encode() + b"\n")
        conn.close()

    def serve(self) -> None:
        while not self.parent or os.getppid() == self.parent:
            # A child's pidfd becomes readable when it exits: its driver learns its exit status at once (a
            # killed kernel's driver waits for it), not at the next 0.25 s poll.
            listening = self.listener.fileno()
            readable, _, _ = select.select([listening, *self.exits.values()], [], [], 0.25)
            self.reap()
            if listening in readable:
                with contextlib.suppress(OSError):
                    conn, _ = self.listener.accept()
                    self.handle(conn)

    def reap(self) -> None:
        while self.waiting:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.waiting.pop(pid, None)
            exited = self.exits.pop(pid, None)
            if exited is not None:
                os.close(exited)
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
                conn.close()

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(_ANSWER_TIMEOUT)
        fds: list[int] = []
        try:
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
            driver, uid, _ = array.array("i", creds)
            data, ancillary, _, _ = conn.recvmsg(1 << 20, socket.CMSG_SPACE(4 * array.array("i").itemsize))
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.extend(array.array("i", payload[: len(payload) - len(payload) % 4]))
            while not data.endswith(b"\n"):
                chunk = conn.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
            request = json.loads(data.decode())
            reason = self.check(uid, request, fds)
            if reason:
                self.refuse(conn, reason)
                return
            sys.stdout.flush()
            sys.stderr.flush()
            # What the zygote imported lives as long as the kernel, as in a fresh one: out of the collector's
            # reach, a collection in the kernel does not write to (and so copy) the pages it shares with the zygote.
            gc.freeze()
            # No SIGTERM (the zygote's exit) between the fork and the child's own handlers: the child would
            # unwind through the zygote's code and remove its socket.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
            try:
                pid = os.fork()
                if pid == 0:
                    if request.get("kind") == "run":
                        self.become_driver(request, driver, fds)  # never returns
                    self.become_kernel(request, driver, fds)  # never returns
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            self.waiting[pid] = conn
            with contextlib.suppress(OSError):
                self.exits[pid] = os.pidfd_open(pid)
            reply = {"pid": pid, "zygote": os.getpid(), "started_at": self.started_at, "code": self.code}
            conn.sendall(json.dumps(reply).encode() + b"\n")
        except (OSError, ValueError, TypeError, KeyError) as exc:
            self.refuse(conn, f"bad request ({type(exc).__name__}: {exc})")
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def check(self, uid: int, request: Mapping[str, Any], fds: list[int]) -> str:
        if uid != os.getuid():
            return "another user"
        kind = request.get("kind", "kernel")
        if kind not in ("kernel", "run"):
            return f"unknown request {kind!r}"
        if kind == "kernel" and len(fds) != 2:
            return "expected the kernel's stdout and stderr"
        if kind == "run" and len(fds) != 4:
            return "expected the run's stdin, stdout, stderr and status pipe"
        if kind == "run":
            # The requester names the interpreter and the mlreport it would run; the code as it is on disk now
            # must be the code imported here.
            if request.get("executable") != sys.executable or request.get("root") != self.root:
                return "another interpreter or another mlreport than this zygote's"
            if code_fingerprint() != self.code:
                return "the code differs from the code this zygote imported (changed on disk since)"
        elif request.get("code") != self.code:
            return "the code differs from the code this zygote imported"
        env = request.get("env")
        if kind == "run" and isinstance(env, dict):
            # A driver's kernels get its environment with the kernel spec's variables: that is what must match.
            env = {**{key: value for key, value in env.items() if key != "JPY_PARENT_PID"}, **KERNEL_ENV}
        if not isinstance(env, dict) or _shared_env(env) != self.env:
            differ = sorted(set(_shared_env(env or {}).items()) ^ set(self.env.items()))
            return f"the environment differs from this zygote's ({', '.join(sorted({k for k, _ in differ}))})"
        argv = request.get("argv")
        if not isinstance(argv, list) or not all(isinstance(arg, str) for arg in argv) or not isinstance(
                request.get("cwd"), str):
            return "expected argv and cwd"
        if kind == "run" and (len(argv) < 2 or argv[1] != "run"):
            return "only `mlreport run` is served"
        return ""

    def become_driver(self, request: Mapping[str, Any], requester: int, fds: list[int]) -> None:
        """In the forked child: become the run's driver, ``python -m mlreport run ...``, then exit (never returns).

        As the driver a fresh ``python -m mlreport`` would have been: the
        requester's standard streams, working folder (also first on
        ``sys.path``), environment and command line (``sys.argv``, which
        run.json records), a session of its own (a batch's timeout kills its
        process group); SIGINT and SIGTERM handled as the command handles
        them. Its kernel is forked from this zygote, or launched, as any
        driver's. Its exit code goes to the status pipe just before it exits.
        """
        _live_as_child(lambda status: self._drive(request, requester, fds, status))

    def _drive(self, request: Mapping[str, Any], requester: int, fds: list[int], status: list[int]) -> int:
        """The forked driver's life, from leaving the zygote to the command line's exit code."""
        global FORKED_DRIVER, FORKED_VERSIONS
        self._leave_zygote()
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        status.append(fds[3])
        os.set_inheritable(fds[3], False)
        for fd in fds[:3]:
            os.close(fd)
        fds.clear()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        argv = list(request["argv"])
        sys.argv = argv
        sys.path.insert(0, request["cwd"])  # as `python -m` does
        if isinstance(sys.stdout, io.TextIOWrapper):  # buffered as the requester's stdout would have it
            sys.stdout.reconfigure(line_buffering=os.isatty(1))
        FORKED_DRIVER = {"zygote_pid": os.getppid(), "zygote_started_at": self.started_at, "code": self.code}
        FORKED_VERSIONS = self.versions
        if request.get("watch"):
            _watch_requester(requester)
        # What `python -m mlreport` runs (the command line room sits above this one: imported by name).
        return int(importlib.import_module(_ENTRY).main(argv[1:]))

    def _leave_zygote(self) -> None:
        """In a forked child, first: a session of its own, none of the zygote's sockets or exit watches, and the
        signal handling of a plain process (the zygote's handlers and its blocked SIGTERM are the zygote's)."""
        os.setsid()
        self.listener.close()
        for conn in self.waiting.values():
            conn.close()
        for exited in self.exits.values():
            os.close(exited)
        for signum in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})

    def become_kernel(self, request: Mapping[str, Any], driver: int, fds: list[int]) -> None:
        """In the forked child: become the run's kernel, run it to its end, exit (never returns)."""
        _live_as_child(lambda _status: self._run_kernel_here(request, driver, fds))

    def _run_kernel_here(self, request: Mapping[str, Any], driver: int, fds: list[int]) -> int:
        """The forked kernel's life, from leaving the zygote to the kernel's exit code."""
        self._leave_zygote()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in (null, *fds):
            os.close(fd)
        fds.clear()
        _watch_driver(driver)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ.update(self.set_by_imports)
        os.environ["JPY_PARENT_PID"] = str(driver)
        if "numpy.random" in sys.modules:
            sys.modules["numpy.random"].seed()  # the legacy global generator, seeded once at import
        return _run_kernel(list(request["argv"]), driver)


def _live_as_child(life: Callable[[list[int]], int]) -> NoReturn:
    """Run a forked child's ``life`` and end the process with its exit code, whatever happens: the child must never
    return into the zygote's loop. ``life`` puts the status pipe's descriptor in the list it is given, if it has one.
    """
    code = 1
    status: list[int] = []
    try:
        code = life(status)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # anything
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        _end_child(code, status[0] if status else -1)


def _end_child(code: int, status: int = -1) -> NoReturn:
    """A forked child's end: its atexit handlers, its streams flushed, its exit code on the status pipe if it has
    one, then ``os._exit`` (never the zygote's own cleanup, never a return into the zygote's loop)."""
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    with contextlib.suppress(BaseException):
        sys.stdout.flush()
        sys.stderr.flush()
    if status >= 0:
        with contextlib.suppress(BaseException):
            os.write(status, f"exit {code}\n".encode())
    os._exit(code)


def _watch_requester(requester: int) -> None:
    """Stop this driver (SIGTERM: it unwinds as on a scheduler's timeout) when the command that asked for it ends."""
    try:
        pidfd = os.pidfd_open(requester)
    except ProcessLookupError:
        os.kill(os.getpid(), signal.SIGTERM)
        return

    def watch() -> None:
        select.select([pidfd], [], [])
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="mlreport-requester-watch", daemon=True).start()


def _watch_driver(driver: int) -> None:
    """Exit this kernel when its driver ends (its pidfd becomes readable); at once if it is gone already."""
    try:
        pidfd = os.pidfd_open(driver)
    except ProcessLookupError:
        os._exit(1)

    def watch() -> None:
        select.select([pidfd], [], [])
        os._exit(1)

    threading.Thread(target=watch, name="mlreport-driver-watch", daemon=True).start()


def _run_kernel(argv: list[str], driver: int) -> int:
    """Run ipykernel's application as ``python -m ipykernel_launcher`` does; the driver is watched, not the parent."""
    from ipykernel.kernelapp import IPKernelApp

    class ForkedKernelApp(IPKernelApp):
        def init_poller(self) -> None:
            # ipykernel exits when its parent changes; this kernel's parent is the zygote, and _watch_driver
            # already ends it with its driver.
            self.poller = None

        def init_shell(self) -> None:
            super().init_shell()
            # matplotlib_inline wires its figures into a shell when it is imported with one running; it was
            # imported in the zygote before any shell existed.
            inline = sys.modules.get("matplotlib_inline.backend_inline")
            if inline is not None and hasattr(inline, "_enable_matplotlib_integration"):
                inline._enable_matplotlib_integration()

    launcher = importlib.util.find_spec("ipykernel_launcher")
    sys.argv = [launcher.origin if launcher and launcher.origin else "ipykernel_launcher", *argv]
    # parent_handle's default was read from JPY_PARENT_PID when ipykernel was imported (in the zygote, without
    # one); a kernel without one prints its connection details to stdout, which is the driver's.
    app = ForkedKernelApp.instance(parent_handle=driver)
    app.initialize(argv)
    app.start()
    return 0


def main() -> None:
    """The zygote process: ``python -c '...main()' SOCKET PARENT_PID MODULES_JSON``; says "ready" on stdout.

    It serves until its parent ends (PARENT_PID, a batch) or, with 0, until
    it is stopped (``mlreport kernels serve``).
    """
    path, parent, modules = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    env = dict(os.environ)
    # As ipykernel_launcher does: no imports from the working directory (the kernel puts it back for the notebook).
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Native threads of libraries that are fork-aware by design, allowed: OpenBLAS (numpy's and scipy's) parks
    # its pool before a fork and starts it again in the child on its first call (pthread_atfork); jemalloc
    # (pyarrow's allocator) holds its locks across a fork and starts the child without its purging thread.
    # Any other thread, and any Python thread, and the zygote refuses to serve.
    allowed = 1
    for name in _FORK_AWARE:
        before = thread_count()
        with contextlib.suppress(Exception):
            importlib.import_module(name)
        allowed += thread_count() - before
    for name in (*KERNEL_MODULES, *modules):
        try:
            importlib.import_module(name)
        except Exception:
            continue
    # The report's exporter built and its templates compiled once, here, in this thread (the check below covers
    # it): a driver forked from here renders with it instead of building its own in every run (0.1 CPU-s).
    from ._execute import warm_papermill
    from ._render import warm_synchronously

    warm_synchronously()
    warm_papermill()  # the driver's papermill and its engine, imported once here too
    threads = thread_count() - _named_threads("jemalloc_bg_thd")
    if threads > allowed or threading.active_count() != 1:
        print(f"refused: {threads} threads after the imports ({threading.active_count()} Python ones; "
              f"{allowed} expected): forking would copy them half-way", flush=True)
        sys.exit(1)
    server = _Server(path, parent, env)
    print("ready", flush=True)
    if not parent:
        print(f"mlreport: serving kernels at {path} (zygote pid {os.getpid()}, code {server.code}); a run uses it "
              f"when {ZYGOTE_ENV}={path}. Stop: Ctrl-C or SIGTERM.", file=sys.stderr, flush=True)
    try:
        server.serve()
    finally:
        server.listener.close()
        with contextlib.suppress(OSError):
            os.unlink(path)
