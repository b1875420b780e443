"""Tests of mlreport.stress.scenarios: the reasons a readout fails."""

from __future__ import annotations

from mlreport.stress.scenarios import Tolerance


def test_tolerance_breaches():
    tolerance = Tolerance(max_rate_change_pp=5.0, max_flip_rate=0.2, min_rate={"approve": 0.4})
    assert tolerance.breaches(["approve", "decline"], [0.55, 0.45], [-4.9, 4.9], 0.1) == []
    reasons = tolerance.breaches(["approve", "decline"], [0.35, 0.65], [-20.0, 20.0], 0.3)
    assert reasons[0].startswith("approve rate -20.0 pp")
    assert any("below floor 40%" in r for r in reasons) and any("flip rate 30.0%" in r for r in reasons)
