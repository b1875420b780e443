"""What may reach an operator's terminal or log: untrusted text made inert, one record per line.

Model names, category values, headlines, paths and messages come from data
and parameters. Printed raw, a value can clear the screen or set the window
title (ESC and CSI sequences), write the clipboard (OSC 52), forge a table
line (CR, LF) or reverse what follows it (bidi overrides).
:func:`neutralise` is the one mechanism every command's text output goes
through: it escapes such characters visibly (``\\x1b``, ``\\n``,
``\\u202e``), so the value is still readable and one record stays one line.
:class:`SafeFormatter` does the same for log records.
"""

from __future__ import annotations

from ._neutralise import SafeFormatter, is_inert, neutralise, neutralise_lines

__all__ = ["neutralise", "neutralise_lines", "is_inert", "SafeFormatter"]
