"""Shared by the volume tests: the sample log's column roles and a one-call analysis."""

from __future__ import annotations

import pandas as pd

from mlreport.volume import VolumeConfig, VolumeResult, analyse_volume

__all__ = ["ROLES", "analyse"]

ROLES = {
    "timestamp_column": "timestamp",
    "decision_column": "decision",
    "segment_columns": ["channel", "region", "product"],
}


def analyse(frame: pd.DataFrame, config: VolumeConfig | None = None, **extra) -> VolumeResult:
    return analyse_volume(frame, config, **{**ROLES, **extra})
