"""The volume analysis: decision counts and mix over time, by segment, against a seasonal baseline."""

from __future__ import annotations

from ._analysis import VolumeResult, analyse_counts, analyse_volume
from ._config import DEFAULT_SEVERITY, VolumeConfig, config_from_parameters
from ._events import SECTIONS
from ._mix import MixTest, mix_test
from ._plots import (
    change_point_timeline,
    contribution_chart,
    cusum_chart,
    ewma_chart,
    flagged_series,
    mix_chart,
    rate_chart,
    volume_timeline,
)
from ._report import ROLE_ROWS, computation_table, load_decisions, role_frame
from ._segments import shift_share

__all__ = [
    "VolumeResult",
    "analyse_counts",
    "analyse_volume",
    "DEFAULT_SEVERITY",
    "VolumeConfig",
    "config_from_parameters",
    "SECTIONS",
    "MixTest",
    "mix_test",
    "flagged_series",
    "volume_timeline",
    "rate_chart",
    "ewma_chart",
    "cusum_chart",
    "mix_chart",
    "contribution_chart",
    "change_point_timeline",
    "ROLE_ROWS",
    "load_decisions",
    "role_frame",
    "computation_table",
    "shift_share",
]
