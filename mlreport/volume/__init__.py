"""The volume analysis: decision counts and mix over time, by segment, against a seasonal baseline.

One call runs the report (:mod:`mlreport.analysis`' shape)::

    result = volume.analyse(volume.VolumeParameters(data_path="decisions.parquet"))
    result.tables["flagged_volume"], result.figures["rates"], result.summary

:func:`analyse_counts` tests :class:`~mlreport.counts.DecisionCounts` from any
backend; :func:`analyse_volume` counts a DataFrame and tests it.
"""

from __future__ import annotations

from ._analysis import analyse_counts, analyse_volume
from ._config import ALPHA_SHARES, DEFAULT_SEVERITY, VolumeConfig, config_from_parameters
from ._events import SECTIONS
from ._mix import MixTest, mix_test
from ._parameters import VolumeParameters
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
from ._report import analyse
from ._result import FIGURES, TABLES, VolumeResult
from ._segments import shift_share

__all__ = [
    "VolumeParameters",
    "analyse",
    "VolumeResult",
    "TABLES",
    "FIGURES",
    "analyse_counts",
    "analyse_volume",
    "DEFAULT_SEVERITY",
    "ALPHA_SHARES",
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
    "shift_share",
]
