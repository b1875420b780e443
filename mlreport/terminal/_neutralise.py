"""Escaping what a terminal would act on, and what would break one record into several lines.

Escaped, by Unicode general category: ``Cc`` (C0 controls including ESC, CR,
LF and TAB; DEL; the C1 controls U+0080-U+009F, of which U+009B is a one-byte
CSI and U+009D a one-byte OSC), ``Cf`` (format characters: the bidi embeddings,
overrides and isolates U+202A-U+202E and U+2066-U+2069, marks such as U+200E,
zero-width characters, the BOM, tag characters), ``Zl`` and ``Zp`` (U+2028 and
U+2029, which some terminals and most editors treat as line breaks) and ``Cs``
(lone surrogates, which cannot even be encoded). Everything else, including
every printable non-ASCII letter, passes unchanged.

The escapes are Python's: ``\\n``, ``\\r``, ``\\t`` by name, ``\\xNN`` below
U+0100, ``\\uNNNN`` and ``\\UNNNNNNNN`` above. Backslashes themselves are left
alone (a Windows path stays readable), so the output is made inert, not
reversible: for the exact value, use ``--json``, which escapes every
character it must.
"""

from __future__ import annotations

import logging
import traceback
import unicodedata
from functools import lru_cache
from types import TracebackType
from typing import TypeAlias

__all__ = ["neutralise", "neutralise_lines", "is_inert", "SafeFormatter"]

#: What :meth:`logging.Formatter.formatException` is given (``sys.exc_info()``).
_ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


@lru_cache(maxsize=4096)
def _escape(char: str) -> str:
    if unicodedata.category(char) not in _ESCAPED_CATEGORIES:
        return char
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def neutralise(value: object) -> str:
    """``str(value)`` with every control, format and line-separator character escaped visibly.

    The result holds no character a terminal acts on and no line break, so a
    value printed in one row of a table keeps the table whole::

        >>> neutralise("card\\x1b]52;c;cHduZWQ=\\x07\\r\\nFAKE LINE")
        'card\\\\x1b]52;c;cHduZWQ=\\\\x07\\\\r\\\\nFAKE LINE'
    """
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if text.isprintable():  # the common case: nothing to escape (isprintable is False for every category above)
        return text
    return "".join(_escape(char) for char in text)


def neutralise_lines(text: str) -> str:
    """Each line of ``text`` neutralised, the line breaks between them kept (a report built line by line)."""
    return "\n".join(neutralise(line) for line in text.split("\n"))


def is_inert(text: str) -> bool:
    """True when ``text`` holds nothing :func:`neutralise` would escape."""
    return all(unicodedata.category(char) not in _ESCAPED_CATEGORIES for char in text)


class SafeFormatter(logging.Formatter):
    """A log formatter whose every record is one line of inert text.

    The message (with its arguments, which may hold untrusted values) is
    neutralised whole, so a value cannot start a forged log line; a
    traceback attached to the record keeps its frames' lines, and each
    exception message in it is one line.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        return neutralise(super().formatMessage(record))

    def formatException(self, ei: _ExcInfo) -> str:
        """The traceback: a frame keeps its two lines (where, and the code); an exception's message, which
        may hold any value, is one line whatever it holds."""
        if ei[1] is None:
            return neutralise_lines(super().formatException(ei))
        lines: list[str] = []
        for chunk in traceback.TracebackException(type(ei[1]), ei[1], ei[2]).format():
            body = chunk.rstrip("\n")
            if body.startswith("  File "):
                lines.extend(neutralise(line) for line in body.split("\n"))
            else:
                lines.append(neutralise(body))
        return "\n".join(lines)

    def formatStack(self, stack_info: str) -> str:
        return neutralise_lines(super().formatStack(stack_info))
