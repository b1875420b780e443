"""neutralise(): every character a terminal acts on is escaped visibly, everything else passes unchanged."""

from __future__ import annotations

import logging
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlreport.terminal import SafeFormatter, is_inert, neutralise, neutralise_lines

#: What a hostile value does in a terminal, and the escaped text an operator sees instead.
ATTACKS = [
    ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),                       # clear the screen, cursor home (CSI)
    ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),                 # set the window title (OSC, BEL)
    ("\x1b]52;c;cm0gLXJmIH4=\x1b\\", "\\x1b]52;c;cm0gLXJmIH4=\\x1b\\"),  # write the clipboard (OSC 52, ST)
    ("ok\r\nINCIDENT card", "ok\\r\\nINCIDENT card"),            # forge a second table line
    ("\x9b31m", "\\x9b31m"),                                     # one-byte CSI (C1)
    ("\x9d0;t\x9c", "\\x9d0;t\\x9c"),                            # one-byte OSC and ST (C1)
    ("admin\u202egnp.exe", "admin\\u202egnp.exe"),               # right-to-left override
    ("a\u2066b\u2069c\u200fd", "a\\u2066b\\u2069c\\u200fd"),     # isolates and a mark
    ("line\u2028sep\u2029par", "line\\u2028sep\\u2029par"),      # Unicode line and paragraph separators
    ("tab\there", "tab\\there"),
    ("nul\x00del\x7f", "nul\\x00del\\x7f"),
    ("tag\U000e0041", "tag\\U000e0041"),                         # tag characters (invisible text)
]


@pytest.mark.parametrize(("hostile", "shown"), ATTACKS)
def test_each_attack_is_escaped_visibly(hostile: str, shown: str):
    assert neutralise(hostile) == shown
    assert is_inert(neutralise(hostile)) and not is_inert(hostile)


@pytest.mark.parametrize("text", ["card-fraud", "Kreditkarte Überziehung", "信用卡", "émoji 😀 ok", "C:\\data\\x.csv",
                                  "a b\u00a0c", ""])
def test_printable_text_passes_unchanged(text: str):
    assert neutralise(text) == text


def test_values_that_are_not_strings():
    assert neutralise(None) == "" and neutralise(3.5) == "3.5" and neutralise(["\x1b"]) == "['\\x1b']"


# Categories a terminal or an editor acts on; everything else must pass.
DANGEROUS = {"Cc", "Cf", "Cs", "Zl", "Zp"}


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_any_text_becomes_one_inert_line(text: str):
    shown = neutralise(text)
    assert "\n" not in shown and "\r" not in shown and "\x1b" not in shown
    assert not any(unicodedata.category(c) in DANGEROUS for c in shown)
    assert neutralise(shown) == shown  # nothing left to escape


@given(st.text(alphabet=st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_text_without_dangerous_characters_is_unchanged(text: str):
    assert neutralise(text) == text


@given(st.lists(st.text(), max_size=5))
def test_neutralise_lines_keeps_the_line_structure(lines: list[str]):
    text = "\n".join(neutralise(line) for line in lines)
    assert neutralise_lines(text) == text


@given(message=st.text(), arg=st.text())
def test_a_log_record_is_one_inert_line(message: str, arg: str):
    formatter = SafeFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord("mlreport", logging.WARNING, __file__, 1, message.replace("%", "%%") + " %s", (arg,),
                               None)
    line = formatter.format(record)
    assert "\n" not in line and is_inert(line)


def test_a_logged_traceback_keeps_its_lines_each_inert():
    formatter = SafeFormatter("%(message)s")
    try:
        raise ValueError("bad value \x1b]0;title\x07\nsecond")
    except ValueError:
        record = logging.LogRecord("mlreport", logging.ERROR, __file__, 1, "failed: %s", ("x\ry",), sys.exc_info())
    text = formatter.format(record)
    first, *rest = text.split("\n")
    assert first == "failed: x\\ry" and rest[0].startswith("Traceback")
    assert all(is_inert(line) for line in text.split("\n"))
    assert "ValueError: bad value \\x1b]0;title\\x07\\nsecond" in text
