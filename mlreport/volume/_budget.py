"""The report's false-alarm budget resolved to per-test thresholds (:mod:`mlreport.volume`, "Error budget").

Each family of checks knows its own number of tests (series-periods, labels x
periods, onsets), so each resolves its share of the budget to a threshold
when it runs and records it here: the methods table, the figures and the run
record print the thresholds that were applied, not only the policy they came
from.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

__all__: list[str] = []


@dataclass
class _Limits:
    """The thresholds one report applied, as its families resolved them from the budget.

    ``volume_*``: the per series-period tail test (``volume_tests`` tests);
    ``zero_*``: the zero-run rule on the ``zero_period`` grid
    (``zero_tests`` tests; a run is flagged below ``zero_probability``;
    ``zero_minimum`` is the expected count one zero period needs, per series);
    ``laney_L`` / ``extreme_L`` / ``shift_L`` (rate_out / rate_extreme /
    rate_shift), ``ewma_L``, ``cusum_h`` over ``rate_charts`` charts of
    ``rate_periods`` periods; ``mix_*``, ``segment_*``: the onset-scan tests
    over ``*_onsets`` candidate onsets; ``score_*``: the score-band test.
    """

    volume_tests: int = 0
    volume_p_warning: float = math.nan
    volume_p_incident: float = math.nan
    zero_period: str = ""
    zero_tests: int = 0
    zero_probability: float = math.nan
    zero_minimum: dict[str, float] = field(default_factory=dict)
    rate_charts: int = 0
    rate_periods: int = 0
    laney_L: float = math.nan
    extreme_L: float = math.nan
    shift_L: float = math.nan
    ewma_L: float = math.nan
    cusum_h: float = math.nan
    mix_onsets: int = 0
    mix_p_warning: float = math.nan
    mix_p_incident: float = math.nan
    score_p_warning: float = math.nan
    score_p_incident: float = math.nan
    segment_onsets: int = 0
    segment_q_warning: float = math.nan
    segment_q_incident: float = math.nan

    def to_dict(self) -> dict[str, object]:
        """JSON-ready values (NaN as None), for the run record's thresholds."""
        data = asdict(self)
        clean: dict[str, object] = {}
        for key, value in data.items():
            if isinstance(value, float) and not math.isfinite(value):
                clean[key] = None
            elif isinstance(value, dict):
                clean[key] = {k: (round(v, 2) if math.isfinite(v) else None) for k, v in value.items()}
            else:
                clean[key] = value
        return clean


def _bonferroni(alpha: float, tests: int) -> float:
    """The per-test level of ``tests`` tests sharing ``alpha`` (1 test at least)."""
    return alpha / max(int(tests), 1)
