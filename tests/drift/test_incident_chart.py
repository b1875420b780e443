"""The integrity incident's chart: the column's missing and placeholder shares per period, the onset marked."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlreport import drift
from mlreport.plots import figure_alt


def windows() -> tuple[pd.DataFrame, pd.DataFrame]:
    reference = pd.DataFrame({"when": pd.date_range("2026-01-01", periods=200, freq="6h"),
                              "ratio": np.linspace(1.0, 2.0, 200)})
    ratio = np.r_[np.full(40, 1.5), np.zeros(20), np.full(20, 1.5)]  # days 11-15 zero, then 5 days with 1/4 null
    ratio[60:80:4] = np.nan
    current = pd.DataFrame({"when": pd.date_range("2026-03-01", periods=80, freq="6h"), "ratio": ratio})
    return reference, current


def test_the_chart_draws_each_share_per_day_with_the_reference_and_the_onset():
    reference, current = windows()
    down = drift.drill_down(reference, current, "ratio", timestamp="when")
    figure = drift.incident_chart(down, "ratio: 25% of rows are exactly 0 since 2026-03-11", onset="2026-03-11")
    ax = figure.axes[0]
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 20]
    assert len(lines) == 3  # missing, zero, and out of range (0 is below the reference's minimum, 1)
    by_label = {line.get_label(): list(line.get_ydata()) for line in lines}
    assert by_label["outside the reference range (reference 0.0%)"] == by_label["equal to 0 (reference 0.0%)"]
    zero = by_label["equal to 0 (reference 0.0%)"]
    assert zero[:10] == [0.0] * 10 and zero[10:15] == [100.0] * 5 and zero[15:] == [0.0] * 5
    assert by_label["missing (reference 0.0%)"][15:] == [25.0] * 5
    onset = [line for line in ax.get_lines() if list(line.get_xdata()) == [9.5, 9.5]]
    assert onset, "a vertical line between 2026-03-10 and 2026-03-11"
    alt = figure_alt(figure)
    assert "ratio: 25% of rows are exactly 0 since 2026-03-11" in alt
    assert "missing 25.0% in the last period against 0.0% in the reference" in alt and "onset 2026-03-11" in alt


def test_a_clean_column_says_there_is_nothing_to_chart_and_chunks_without_a_timestamp():
    reference, current = windows()
    clean = current.assign(ratio=1.5)
    figure = drift.incident_chart(drift.drill_down(reference, clean, "ratio", timestamp="when"), "ratio: clean")
    assert "No missing, 0 or out-of-range value in ratio." in " ".join(t.get_text() for t in figure.axes[0].texts)
    untimed = drift.drill_down(reference.drop(columns="when"), current.drop(columns="when"), "ratio")
    figure = drift.incident_chart(untimed, "ratio: zeros")
    assert figure.axes[0].get_xticklabels()[0].get_text() == "rows 1–8"


def test_the_drift_report_charts_its_worst_integrity_incident():
    result = drift.analyse(drift.DriftParameters(sample_rows=6000, classifier_sample=500,
                                                 sample_incidents=["bureau_timeout_nulls"]))
    alt = figure_alt(result.figures["integrity_incident"])
    assert alt.startswith("Chart: bureau_score") and "missing" in alt and "onset" in alt
    healthy = drift.analyse(drift.DriftParameters(sample_rows=6000, classifier_sample=500, sample_incidents=[]))
    texts = " ".join(t.get_text() for t in healthy.figures["integrity_incident"].axes[0].texts)
    assert "No integrity incident" in texts
