"""A run's kernel, started before its notebook: launched first, warmed up and checking the parameters meanwhile.

A run used to do its own work (importing the analysis room to check the
parameters' domains, the run folder, the registry) and only then start its
kernel, which then spent its first cell importing the same analysis room
again. :class:`StartedKernel` launches the kernel as soon as the parameters
have passed the checks of the notebook's parameters cell, and, in a thread,
as soon as the kernel answers, has it import what the notebook imports and
run the analysis's own parameter checks (:func:`mlreport.analysis.check_parameters`)
on the values the notebook will get. The driver meanwhile prepares its
renderer; it never imports the statistics or plotting libraries itself.

Isolation is unchanged: the kernel is a fresh process of this interpreter
that runs exactly one notebook and is then shut down (papermill's client owns
it from the first cell on, :func:`adopt`). The warm-up runs in a namespace of
its own: the notebook finds modules loaded, not names defined, and its
execution counts start at 1 as before (the warm-up is a silent execution).
When the check fails in the kernel, or the kernel could not answer, the
driver runs the same check itself (:func:`check_domains`), so the error a
user sees, and the exit code 2 with nothing written, are exactly those of a
check in the driver; the kernel is then shut down (:meth:`StartedKernel.shutdown`).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._execute import SameInterpreterKernelManager

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["StartedKernel", "warm_modules", "warm_code", "adopt"]

log = logging.getLogger("mlreport")


def warm_modules(notebook: NotebookNode) -> list[str]:
    """The modules the notebook's code cells import at their top level, in order (absolute imports only).

    ``from a import b`` names ``a`` and ``a.b`` (``b`` may be a submodule;
    the warm-up skips what does not import). The parameters cells and cells
    that are not plain Python (magics) are skipped.
    """
    names: list[str] = []
    for cell in notebook.get("cells", []):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell.get("cell_type") != "code" or tags & {"parameters", "injected-parameters"}:
            continue
        try:
            tree = ast.parse(cell.get("source", ""))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.append(node.module)
                names.extend(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")
    return list(dict.fromkeys(names))


#: Run by the kernel, in a namespace of its own (nothing is defined in the notebook's).
_WARM_UP = """\
import importlib, json
for name in json.loads({modules!r}):
    try:
        importlib.import_module(name)
    except Exception:
        pass
if {analysis!r}:
    from mlreport.analysis import check_parameters
    check_parameters({analysis!r}, json.loads({parameters!r}))
"""


def warm_code(modules: list[str], analysis: str | None, parameters: Mapping[str, Any]) -> str:
    """The cell the kernel runs silently before the notebook: import ``modules``, then check ``parameters``.

    Every value reaches the kernel as a string literal holding JSON (the
    parameters are validated JSON values already); the code runs under
    ``exec`` in a fresh dictionary.
    """
    body = _WARM_UP.format(
        modules=json.dumps(modules), analysis=analysis or "", parameters=json.dumps(dict(parameters)),
    )
    return f"exec(compile({body!r}, '<mlreport warm-up>', 'exec'), {{}})\n"


class StartedKernel:
    """A kernel launched now for one notebook; a thread warms it up and runs the parameter check in it.

    ``passed`` (after :meth:`wait`) is True when the check ran in the kernel
    and raised nothing; False when it raised, the kernel did not answer, or
    no check was asked for. Call :meth:`shutdown` unless :func:`adopt` has
    handed the kernel to the notebook's client (which shuts it down).
    """

    def __init__(
        self, *, cwd: Path, kernel_log: Path | None, start_timeout: float, code: str, warm_timeout: float,
    ) -> None:
        from jupyter_core.utils import run_sync

        self.manager = type(
            "RunKernelManager", (SameInterpreterKernelManager,),
            {"kernel_log": str(kernel_log) if kernel_log else None},
        )()
        self.passed = False
        self.reason = ""
        self._start_timeout = start_timeout
        self._warm_timeout = warm_timeout
        self._code = code
        self._stopping = threading.Event()
        run_sync(self.manager.start_kernel)(cwd=str(cwd))
        self._thread = threading.Thread(target=self._warm, name="mlreport-kernel-warm-up", daemon=True)
        self._thread.start()

    def _warm(self) -> None:
        client = self.manager.blocking_client()
        try:
            client.start_channels(hb=False)
            client.wait_for_ready(timeout=self._start_timeout)
            msg_id = client.execute(self._code, silent=True, store_history=False, allow_stdin=False)
            deadline = time.monotonic() + self._warm_timeout
            while True:
                # Short waits: a run that stops meanwhile (a signal, an error) kills the kernel and ends this.
                try:
                    reply = client.get_shell_msg(timeout=0.25)
                except queue.Empty:
                    if self._stopping.is_set():
                        raise RuntimeError("the run stopped before the warm-up ended") from None
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"no reply in {self._warm_timeout:g} s") from None
                    continue
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    break
            content = reply.get("content", {})
            self.passed = content.get("status") == "ok"
            if not self.passed:
                self.reason = f"{content.get('ename', '')}: {content.get('evalue', '')}"
        except Exception as exc:  # a kernel that died or did not answer: the driver checks, the notebook reports it
            self.reason = f"{type(exc).__name__}: {exc}"
        finally:
            with contextlib.suppress(Exception):
                client.stop_channels()
            # The blocking client ran its calls on an event loop of this thread's own: close it with the thread.
            from jupyter_core.utils import ensure_event_loop

            with contextlib.suppress(Exception):
                ensure_event_loop().close()

    def wait(self) -> bool:
        """Wait for the warm-up and the check to end; True when the check passed in the kernel."""
        self._thread.join()
        if not self.passed and self.reason:
            log.debug("the kernel's warm-up did not pass (%s); the driver checks the parameters itself", self.reason)
        return self.passed

    def _stop(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            with contextlib.suppress(Exception):
                if loop.run_until_complete(self.manager.is_alive()):
                    loop.run_until_complete(self.manager.shutdown_kernel(now=True))
            with contextlib.suppress(Exception):
                loop.run_until_complete(self.manager.cleanup_resources())
        finally:
            loop.close()

    def shutdown(self) -> None:
        """Kill the kernel and remove its sockets (a run that stops before its notebook)."""
        # On an event loop of its own, in a thread of its own: the notebook's client may have left a cell pending
        # on this thread's loop (a signal stopped it), which running again would end with "Kernel died" noise,
        # and a caller inside a running loop (mlreport.run in a Jupyter notebook) cannot run another here.
        self._stopping.set()
        stopper = threading.Thread(target=self._stop, name="mlreport-kernel-shutdown", daemon=True)
        stopper.start()
        stopper.join()
        # A warm-up still waiting notices the dead kernel (or the flag) within a fraction of a second.
        self._thread.join(timeout=10)


def adopt(kernel: StartedKernel) -> type[SameInterpreterKernelManager]:
    """A kernel manager class whose one "new" instance is ``kernel``'s running manager.

    nbclient makes its kernel manager from a class and owns what it made: it
    starts a kernel only when the manager has none, and shuts the kernel down
    and stops its client when the notebook ends, fails or times out. Handing
    it this class keeps that lifecycle (and papermill's) for a kernel started
    before the notebook.
    """
    manager = kernel.manager

    class Adopted(type(manager)):  # type: ignore[misc]
        def __new__(cls, *args: Any, **kwargs: Any) -> Adopted:
            return manager

    return Adopted
