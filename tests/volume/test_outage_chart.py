"""The outage chart: the series that stopped, observed against expected, the gap shaded, the finding as alt text.

The decision log is built here (other column names than the sample's, every day of eight weeks): one source stops
for the last five days.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest

from mlreport.plots import figure_alt
from mlreport.volume import VolumeParameters, analyse


def log(stop: bool) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    days = pd.date_range("2026-01-05", periods=56, freq="D")
    rows = []
    for day in days:
        for source, per_day in (("shop", 120), ("phone", 60)):
            if stop and source == "phone" and day >= days[-5]:
                continue
            count = int(rng.poisson(per_day))
            times = day + pd.to_timedelta(rng.uniform(0, 86_399, count), unit="s")
            outcome = rng.choice(["accept", "reject"], count, p=[0.7, 0.3])
            rows.append(pd.DataFrame({"booked_at": times, "origin": source, "verdict": outcome}))
    return pd.concat(rows, ignore_index=True).sort_values("booked_at")


def run(tmp_path: Path, stop: bool):
    path = tmp_path / f"log-{stop}.csv"
    log(stop).to_csv(path, index=False)
    return analyse(VolumeParameters(data_path=str(path), timestamp_column="booked_at", decision_column="verdict",
                                    segment_columns=["origin"], period="D"))


def test_the_stopped_source_is_charted_with_its_gap_shaded(tmp_path: Path):
    result = run(tmp_path, stop=True)
    zero = next(f for f in result.findings if f.check == "volume_zero")
    assert zero.subject == "origin=phone"
    figure = result.figures["outage"]
    ax = figure.axes[0]
    assert figure._suptitle is not None and figure._suptitle.get_text().startswith("origin: phone: decisions per day")
    spans = [p for p in ax.patches if p.get_label().startswith("gap")]
    assert len(spans) == 1
    x0, x1 = spans[0].get_x(), spans[0].get_x() + spans[0].get_width()
    first = mdates.num2date(x0).replace(tzinfo=None)
    last = mdates.num2date(x1).replace(tzinfo=None)
    assert (first.date().isoformat(), last.date().isoformat()) == ("2026-02-25", "2026-03-02")  # 5 days, end excl.
    observed = next(line for line in ax.get_lines() if line.get_label() == "observed")
    assert list(observed.get_ydata()[-5:]) == [0.0] * 5
    alt = figure_alt(figure)
    assert alt.startswith("Chart: " + zero.message.rstrip(".")) and "25 Feb 2026 to 01 Mar 2026" in alt


def test_without_an_outage_the_chart_says_so(tmp_path: Path):
    result = run(tmp_path, stop=False)
    assert not [f for f in result.findings if f.check == "volume_zero"]
    assert "No volume outage" in figure_alt(result.figures["outage"])


@pytest.mark.parametrize("name", ["outage"])
def test_the_notebook_shows_it_in_the_volume_timeline_section(name: str):
    import json

    cells = json.loads((Path(__file__).resolve().parents[2] / "notebooks" / "volume.ipynb").read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells]
    section = next(i for i, s in enumerate(sources) if s.startswith("## Volume timeline"))
    assert f'show(result.figures["{name}"])' in sources[section + 1]  # beside the timeline of every series
    assert sources[section + 1].index("volume_timeline") < sources[section + 1].index(name)
