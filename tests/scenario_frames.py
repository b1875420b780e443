"""One shock applied to a small hand-built frame: shared by the shock and reference tests."""

from __future__ import annotations

import pandas as pd

from mlreport.stress.scenarios import Reference, Shock, apply_shock, scenario_rng

__all__ = ["shocked"]


def shocked(frame: pd.DataFrame, shock: Shock, reference: pd.DataFrame | None = None, seed: int = 0):
    ref = Reference.fit(frame if reference is None else reference)
    return apply_shock(frame, shock, ref, scenario_rng(seed, "test"))
