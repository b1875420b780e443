"""Execute a notebook with papermill on a kernel of this very interpreter.

papermill's most common complaint is "No such kernel": it looks the kernel up
by name among installed kernelspecs, which a fresh virtual environment may not
have, or which may point at another Python. mlreport instead starts
``sys.executable -m ipykernel_launcher`` through a kernel manager of its own, so
the kernel always runs the interpreter (and the mlreport) of the driver.

papermill records failures unevenly (a cell timeout leaves no error output and
later cells marked completed), so :func:`execute` classifies them itself and
raises :class:`~mlreport.errors.NotebookError`, :class:`RunTimeoutError` or
:class:`KernelDiedError` with the cell index and section where it happened.
The executed notebook is always written, also on failure.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from queue import Empty
from types import ModuleType
from typing import TYPE_CHECKING, Any

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.client import KernelClient
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async, run_sync

from ..errors import KernelDiedError, NotebookError, RunTimeoutError

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from ._kernel import StartedKernel

__all__ = [
    "SameInterpreterKernelManager", "ReadyAsyncKernelClient", "ReadyBlockingKernelClient", "KERNEL_ENV", "kernel_env",
    "execute", "prepare", "section_of", "DEFAULT_CELL_TIMEOUT", "DEFAULT_START_TIMEOUT",
]

log = logging.getLogger("mlreport")

#: Variables the kernel spec adds to a kernel's environment (the driver's own, without JPY_PARENT_PID).
KERNEL_ENV = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}

DEFAULT_CELL_TIMEOUT = 1800
DEFAULT_START_TIMEOUT = 120


def kernel_env() -> dict[str, str]:
    """The environment a kernel started now by this process gets, apart from per-run variables (JPY_*)."""
    env = {key: value for key, value in os.environ.items() if key != "JPY_PARENT_PID"}
    env.update(KERNEL_ENV)
    return env


async def _wait_for_ready(self: KernelClient, timeout: float | None = None) -> None:
    """jupyter_client's ``wait_for_ready`` without its last 0.2 s of waiting for IOPub to fall silent.

    As jupyter_client's: ask for the kernel's info until it replies on the
    shell channel and a message arrives on IOPub (its subscription is
    connected; else ask again), and take what IOPub queued meanwhile off it.
    jupyter_client then waits for 0.2 s without any IOPub message, on every
    start and every client (twice a run: the warm-up and papermill's), although
    the kernel has nothing else to say: the "idle" status that ends the
    request is the last message the kernel sends for it. This stops there (or
    after 0.2 s of silence, as before). Messages of no request of the caller's
    are skipped by nbclient either way (it reads only its requests' replies).
    """
    deadline = math.inf if timeout is None else time.time() + timeout
    asked: set[str] = set()
    while True:
        asked.add(self.kernel_info())
        try:
            reply = await ensure_async(self.shell_channel.get_msg(timeout=1))
        except Empty:
            reply = None
        if reply is not None and reply["msg_type"] == "kernel_info_reply":
            heard = False
            while True:
                try:
                    message = await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
                except Empty:
                    break
                heard = True
                if (message.get("msg_type") == "status" and message.get("content", {}).get("execution_state") == "idle"
                        and message.get("parent_header", {}).get("msg_id") in asked):
                    break
            if heard:
                self._handle_kernel_info_reply(reply)
                return
        if not await self._async_is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.time() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class ReadyAsyncKernelClient(AsyncKernelClient):
    """papermill's (nbclient's) client of a run's kernel, ready as soon as the kernel is (:func:`_wait_for_ready`)."""

    wait_for_ready = _wait_for_ready


class ReadyBlockingKernelClient(BlockingKernelClient):
    """The warm-up's client (``_kernel.py``), ready as soon as the kernel is (:func:`_wait_for_ready`)."""

    wait_for_ready = run_sync(_wait_for_ready)


class SameInterpreterKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel is always ``sys.executable``'s ipykernel.

    It talks to the kernel over IPC sockets (Unix domain sockets) rather than
    TCP where the platform has them: no port is opened, and concurrent runs
    cannot race for the same port numbers.
    """

    #: File that receives the kernel's own stderr (its log), or None to inherit.
    kernel_log: str | None = None
    #: Where the kernel was forked from (driver/_zygote.py: the zygote's pid, start, code), or None: launched.
    forked_from: dict[str, Any] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client_factory = ReadyAsyncKernelClient
        self.blocking_class = ReadyBlockingKernelClient
        if os.name == "posix":
            # Socket files live in a private folder: jupyter_client numbers them
            # from a fixed prefix in the working directory, which concurrent
            # runs in one folder would race for.
            self.transport = "ipc"
            self.ip = os.path.join(tempfile.mkdtemp(prefix="mlr-kernel-"), "k")

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self.transport == "ipc":
            shutil.rmtree(os.path.dirname(self.ip), ignore_errors=True)

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # jupyter_client polls a killed kernel every 0.1 s until it is gone: one wasted 0.1 s at the end of
        # every run, since a kernel killed with SIGKILL is gone within milliseconds. Same loop, finer steps.
        await super()._async_wait(pollinterval=min(pollinterval, 0.005))

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        # The kernel logs shutdown noise (ZMQ errors after a timeout) to stderr;
        # keep it out of the scheduler's log and in the run folder instead.
        # The kernel process holds its own copy of the file once started: the
        # driver closes its handle at once (a run in a long-lived Python
        # process, mlreport.run, must not leak one per run).
        if self._launch_forked(kernel_cmd, kw):
            return
        if self.kernel_log:
            with open(self.kernel_log, "ab") as log_file:
                kw["stderr"] = log_file
                await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        await super()._async_launch_kernel(kernel_cmd, **kw)

    def _launch_forked(self, kernel_cmd: list[str], kw: Mapping[str, Any]) -> bool:
        """Fork the kernel from the zygote named in ``MLREPORT_KERNEL_ZYGOTE`` (see _zygote.py); False if none can.

        The provisioner gets a process that polls, signals and kills like the
        one it would have launched, so everything after the launch is the same.
        """
        from jupyter_client.provisioning import LocalProvisioner

        from ._zygote import ZYGOTE_ENV, fork_kernel

        socket_path = os.environ.get(ZYGOTE_ENV)
        provisioner = self.provisioner
        if not socket_path or not isinstance(provisioner, LocalProvisioner):
            return False
        env = dict(kw.get("env") or os.environ)
        cwd = str(kw.get("cwd") or os.getcwd())
        if self.kernel_log:
            with open(self.kernel_log, "ab") as log_file:
                process = fork_kernel(socket_path, kernel_cmd, env=env, cwd=cwd, stderr=log_file.fileno())
        else:
            process = fork_kernel(socket_path, kernel_cmd, env=env, cwd=cwd, stderr=None)
        if process is None:
            return False
        self.forked_from = process.origin
        provisioner.process = process  # type: ignore[assignment]
        provisioner.pid = process.pid
        provisioner.pgid = process.pid  # the forked kernel leads a session of its own, as a launched one
        provisioner.cwd = cwd
        self._reconcile_connection_info(provisioner.connection_info)
        return True

    @property
    def kernel_spec(self) -> KernelSpec:
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(
                argv=[
                    sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                    "--IPKernelApp.log_level=ERROR",
                    # A kernel that runs one notebook has no use for IPython's history database; concurrent
                    # runs would otherwise write (and lock) the same SQLite file in the user's home.
                    "--HistoryManager.enabled=False",
                ],
                display_name=f"Python {sys.version_info.major}.{sys.version_info.minor} (mlreport)",
                language="python",
                env=dict(KERNEL_ENV),
            )
        return self._kernel_spec


#: Storage handlers papermill imports when it is imported (S3 through boto3, Azure, GCS, HDFS through pyarrow,
#: GitHub), each optional. mlreport hands papermill local paths only.
_PAPERMILL_HANDLERS = ("papermill.s3", "papermill.adl", "papermill.abs", "gcsfs", "pyarrow", "github")


def _import_papermill() -> ModuleType:
    """papermill, imported without its remote storage handlers (0.1-0.15 s of the driver's start).

    The handlers' modules are hidden only while papermill is imported (where
    they are not loaded already): anything imported later (pyarrow, boto3 for
    a data source) imports as usual.
    """
    if "papermill" in sys.modules:
        return sys.modules["papermill"]
    hidden = [name for name in _PAPERMILL_HANDLERS if name not in sys.modules]
    try:
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]
        import papermill
    finally:
        for name in hidden:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]
    return papermill


def warm_papermill() -> None:
    """Import papermill (as :func:`execute` does) and register the engine: for a zygote, before it forks drivers."""
    _import_papermill()
    _register_engine()


def section_of(notebook: NotebookNode, cell_index: int | None) -> str:
    """The last markdown heading at or above ``cell_index`` (the report section)."""
    if cell_index is None:
        return ""
    for cell in reversed(notebook.cells[: cell_index + 1]):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.lstrip().startswith("#"):
                    return line.lstrip("# ").strip()
    return ""


def prepare(input_path: Path, output_path: Path, parameters: Mapping[str, Any]) -> None:
    """Write the parameterised notebook without executing it (for JupyterLab)."""
    papermill = _import_papermill()
    papermill.execute_notebook(
        str(input_path),
        str(output_path),
        parameters=dict(parameters),
        prepare_only=True,
        kernel_name="python3",
        language="python",
        progress_bar=False,
    )


#: The papermill engine :func:`execute` uses (registered on first use, :func:`_register_engine`).
ENGINE = "mlreport"


def _register_engine() -> None:
    """Register papermill's nbclient engine under :data:`ENGINE`, saving the notebook at its start and end only.

    papermill writes (and validates) the whole executed notebook before and
    after every cell, some 70 writes a drift run, 0.9 s of the driver's time.
    Nothing reads those intermediate files: the notebook is still written
    when execution starts and when it ends, also when a cell fails, times out
    or the kernel dies (papermill's engine saves in a ``finally``), which is
    where the RUN FAILED report reads it; a driver that is itself stopped
    discards its staging folder anyway. A cell that runs long is still saved
    every 30 s (papermill's autosave), so the file shows progress.
    """
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
    from papermill.exceptions import PapermillException

    try:
        papermill_engines.get_engine(ENGINE)
        return
    except PapermillException:
        pass

    class EndsOnlyManager(NotebookExecutionManager):
        quiet = False

        def save(self, **kwargs: Any) -> None:
            if not self.quiet:
                super().save(**kwargs)

        @contextlib.contextmanager
        def _unsaved(self) -> Iterator[None]:
            self.quiet = True
            try:
                yield
            finally:
                self.quiet = False

        def cell_start(self, cell: NotebookNode, cell_index: int | None = None, **kwargs: Any) -> None:
            with self._unsaved():
                super().cell_start(cell, cell_index, **kwargs)

        def cell_complete(self, cell: NotebookNode, cell_index: int | None = None, **kwargs: Any) -> None:
            with self._unsaved():
                super().cell_complete(cell, cell_index, **kwargs)

    class EndsOnlyEngine(NBClientEngine):
        @classmethod
        def execute_notebook(
            cls, nb: NotebookNode, kernel_name: str, output_path: str | None = None, progress_bar: bool = True,
            log_output: bool = False, autosave_cell_every: int = 30, **kwargs: Any,
        ) -> NotebookNode:
            # papermill's Engine.execute_notebook, with the manager above.
            nb_man = EndsOnlyManager(
                nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                autosave_cell_every=autosave_cell_every,
            )
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    papermill_engines.register(ENGINE, EndsOnlyEngine)


def _failed_cell(notebook: NotebookNode) -> tuple[int | None, NotebookNode | None]:
    """Index of the first cell with an error output, or the one papermill left running."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return index, output
    for index, cell in enumerate(notebook.cells):
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if status == "running":
            return index, None
    # A dead kernel may leave the cell it was running marked "pending".
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and cell.get("metadata", {}).get("papermill", {}).get("status") == "pending":
            return index, None
    return None, None


def execute(
    input_path: Path,
    output_path: Path,
    parameters: Mapping[str, Any],
    *,
    cwd: Path | None = None,
    timeout: float = DEFAULT_CELL_TIMEOUT,
    start_timeout: float = DEFAULT_START_TIMEOUT,
    progress: bool | None = None,
    kernel_log: Path | None = None,
    kernel: StartedKernel | None = None,
) -> NotebookNode:
    """Execute ``input_path`` with ``parameters`` into ``output_path``.

    Returns the executed notebook, or raises a :class:`NotebookError` subclass;
    in both cases ``output_path`` holds the notebook as far as it ran.
    ``kernel``: a kernel started for this notebook (:class:`StartedKernel`),
    which the notebook's client then owns and shuts down; by default a fresh
    one is started here (its log in ``kernel_log``).
    """
    papermill = _import_papermill()
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from ._kernel import adopt

    if progress is None:
        progress = sys.stderr.isatty()
    # Keep the kernel's own environment variables from leaking a parent kernel's
    # connection (a run started from inside JupyterLab).
    os.environ.pop("JPY_PARENT_PID", None)
    error: Exception | None = None
    started: list[int] = []

    def on_cell_start(cell: NotebookNode, cell_index: int) -> None:
        started.append(cell_index)
        if not progress and cell.get("cell_type") == "code":
            # Plain lines for schedulers' logs where no progress bar can draw.
            log.info("%s: cell %d started", input_path.stem, cell_index)

    manager = adopt(kernel) if kernel is not None else type(
        "RunKernelManager", (SameInterpreterKernelManager,), {"kernel_log": str(kernel_log) if kernel_log else None}
    )
    _register_engine()
    try:
        papermill.execute_notebook(
            str(input_path),
            str(output_path),
            parameters=dict(parameters),
            engine_name=ENGINE,
            kernel_name="python3",
            language="python",
            progress_bar=progress,
            log_output=not progress and log.isEnabledFor(logging.DEBUG),
            # nbclient declares both timeouts as integers; a cell's own timeout comes
            # from timeout_func when set, so 90.5 s is 90.5 s, not a refused float.
            execution_timeout=math.ceil(timeout),
            timeout_func=lambda cell: timeout,
            start_timeout=math.ceil(start_timeout),
            cwd=str(cwd) if cwd else None,
            kernel_manager_class=manager,
            on_cell_start=on_cell_start,
            # The kernel runs exactly one notebook and is discarded: once papermill has every output there is
            # nothing left in it to wait for. A graceful shutdown waited 0.6 s (2 s on a loaded machine) for
            # it to exit; the kill frees it at once (its socket folder is still removed, see above).
            shutdown_kernel="immediate",
        )
    except PapermillExecutionError as exc:
        error = exc
    except CellTimeoutError as exc:
        error = exc
    except DeadKernelError as exc:
        error = exc
    except RuntimeError as exc:  # nbclient: "Kernel died before replying to kernel_info"
        error = exc

    notebook = nbformat.read(str(output_path), as_version=4) if output_path.exists() else nbformat.v4.new_notebook()
    if error is None:
        return notebook
    index, output = _failed_cell(notebook)
    if index is None and started:
        index = started[-1]  # papermill marks every cell completed when the kernel dies
    section = section_of(notebook, index)
    where = f" in cell {index}" + (f" (section {section!r})" if section else "") if index is not None else ""
    if isinstance(error, CellTimeoutError):
        raise RunTimeoutError(
            f"a cell ran longer than the {timeout:g} s timeout{where}", cell_index=index, section=section,
            ename="CellTimeoutError", evalue=f"timeout {timeout:g} s",
        )
    if isinstance(error, (DeadKernelError, RuntimeError)) and not isinstance(error, PapermillExecutionError):
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "no reason given"
        raise KernelDiedError(
            f"the kernel died{where} ({reason}); out of memory or killed?",
            cell_index=index, section=section, ename="DeadKernelError", evalue=str(error)[:500],
        )
    ename = getattr(error, "ename", type(error).__name__)
    evalue = getattr(error, "evalue", str(error))
    if output is not None:
        ename, evalue = output.get("ename", ename), output.get("evalue", evalue)
    raise NotebookError(
        f"{ename}: {evalue}{where}", cell_index=index, section=section, ename=ename, evalue=str(evalue)[:2000]
    )
