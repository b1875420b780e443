"""The number, date and header formatters of mlreport.tables, pinned to hand-written strings."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from mlreport.tables import (
    format_change,
    format_count,
    format_date,
    format_p,
    format_percent,
    format_pp,
    format_value,
    format_window,
    header_words,
    table,
)


def test_percentage_points_carry_their_sign_and_unit():
    assert format_pp(-32.475) == "-32.5 pp"
    assert format_pp(8.1948) == "+8.2 pp"
    assert format_pp(0.04) == "0.0 pp" and format_pp(-0.04) == "0.0 pp"
    assert format_pp(1234.5) == "+1,234.5 pp"
    assert format_pp(None) == "–" and format_pp(float("nan")) == "–"


def test_shares_and_relative_changes():
    assert format_percent(0.26) == "26.0%" and format_percent(0.00049, 2) == "0.05%"
    assert format_change(-0.3643) == "-36%" and format_change(0.495) == "+50%" and format_change(0.0) == "0%"


def test_counts_never_in_scientific_notation():
    assert format_count(25000.0) == "25,000" and format_count(1_000_000) == "1,000,000"
    assert format_value(25000.0) == "25,000" and format_value(2.5e7) == "25,000,000"
    assert format_value(60000) == "60,000" and format_value(0.1513) == "0.1513"


def test_p_values_are_bounded_not_zero():
    assert format_p(0.0) == "p < 0.001" and format_p(1.6e-120) == "p < 0.001"
    assert format_p(0.0123) == "p = 0.012" and format_p(0.5) == "p = 0.5"


def test_dates_are_human_and_windows_inclusive():
    assert format_date("2026-03-01") == "1 Mar 2026"
    assert format_date("2026-02-05T09:00:00") == "5 Feb 2026 09:00"
    assert format_date(dt.date(2026, 12, 24)) == "24 Dec 2026"
    assert format_date("period 3") == "period 3"
    assert format_window("2026-02-02", "2026-03-02") == "2 Feb 2026 to 1 Mar 2026"
    assert format_window("2026-02-02T00:00:00", "2026-03-02T00:00:00") == "2 Feb 2026 to 1 Mar 2026"
    assert format_window("2026-02-02", "2026-03-01", end_exclusive=False) == "2 Feb 2026 to 1 Mar 2026"
    assert format_window("2026-02-02", "2026-02-03") == "2 Feb 2026"


def test_identifiers_become_headers_in_words():
    assert header_words("first_warning") == "First warning"
    assert header_words("psi_max") == "PSI max" and header_words("ks_p_adj") == "KS p adj"
    assert header_words("Already words") == "Already words" and header_words("<b>_x") == "<b>_x"
    shown = table(pd.DataFrame({"first_warning": ["2026-03-01"], "rows": [25000.0]}))
    assert '<th scope="col">First warning</th>' in shown._repr_html_() and ">25,000<" in shown._repr_html_()
    assert list(shown.frame.columns) == ["first_warning", "rows"]  # the data keeps its names
