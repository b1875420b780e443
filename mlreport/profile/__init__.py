"""The reference fitted once (bins, categories) and the mergeable summaries of any batch on its bins."""

from __future__ import annotations

from ._column import OTHER_LABEL, ColumnKind, ColumnProfile
from ._counts import bin_index
from ._periods import period_labels
from ._profile import DEFAULT_SENTINELS, PROFILE_VERSION, ReferenceProfile
from ._summaries import ColumnSummary, Summaries, merge
from ._values import categorical_labels

__all__ = [
    "period_labels",
    "PROFILE_VERSION",
    "DEFAULT_SENTINELS",
    "ReferenceProfile",
    "OTHER_LABEL",
    "ColumnKind",
    "ColumnProfile",
    "bin_index",
    "ColumnSummary",
    "Summaries",
    "merge",
    "categorical_labels",
]
