"""The period grid and input limits every counter shares: defaults, normalised values, refusals naming the parameter."""

from __future__ import annotations

import pytest

from mlreport.counts import CountGrid
from mlreport.errors import ParameterError


def test_defaults_and_normalised_values():
    grid = CountGrid()
    assert (grid.period, grid.baseline_weeks, grid.score_bands, grid.max_decision_labels) == ("auto", 4, 10, 50)
    given = CountGrid(period="d", baseline_weeks=3.0, analysis_start=" ", timezone="", holidays=["2026-02-16"])
    assert (given.period, given.baseline_weeks, given.analysis_start, given.timezone) == ("D", 3, None, None)
    assert given.holidays == ("2026-02-16",) and isinstance(given.baseline_weeks, int)


@pytest.mark.parametrize(
    "values, name",
    [
        ({"period": "fortnight"}, "period"),
        ({"baseline_weeks": 0}, "baseline_weeks"),
        ({"baseline_weeks": 2.5}, "baseline_weeks"),
        ({"holidays": "2026-02-16"}, "holidays"),
        ({"holidays": ["Christmas"]}, "holidays"),
        ({"analysis_start": "soon"}, "analysis_start"),
        ({"analysis_start": "2026-02-09", "analysis_end": "2026-02-09"}, "analysis_end"),
        ({"timezone": "Atlantis/Capital"}, "timezone"),
        ({"score_bands": 1}, "score_bands"),
        ({"max_segment_levels": 0}, "max_segment_levels"),
        ({"infer_min_count": 0}, "infer_min_count"),
    ],
)
def test_bad_values_name_the_parameter(values, name):
    with pytest.raises(ParameterError) as info:
        CountGrid(**values)
    assert info.value.name == name
