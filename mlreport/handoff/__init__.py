"""Handing a whole run to a warm process: the client side of ``mlreport kernels serve`` and of a batch's zygote.

A fresh ``mlreport run`` spends half a second starting its interpreter and
importing the driver (papermill, nbclient, nbconvert) before it starts its
kernel. A zygote (:mod:`mlreport.driver`'s ``_zygote.py``) has all of that
imported; when one is reachable (``MLREPORT_KERNEL_ZYGOTE``), the command
forks its whole driver there instead (:func:`hand_off`): this process stays
small (the standard library, the code fingerprint), passes its command line,
environment, working folder and standard streams, and exits with the run's
exit code. A batch forks each job's driver the same way (:func:`request_run`).

This room imports nothing heavy on purpose: it runs before the driver is
imported, in every ``mlreport run`` that names a zygote.
"""

from __future__ import annotations

from ._client import ZYGOTE_ENV, ForkedChild, ServedRun, code_fingerprint, hand_off, read_line, request_run, supported

__all__ = [
    "ZYGOTE_ENV", "ForkedChild", "ServedRun", "code_fingerprint", "hand_off", "read_line", "request_run", "supported",
]
