"""Decision counts: per period, segment and decision on a wall-clock grid, the summary volume is computed from."""

from __future__ import annotations

from ._counts import (
    MISSING_LABEL,
    OTHER_LABEL,
    DecisionCounts,
    analysis_windows,
    count_decisions,
    folded_levels_note,
    holiday_mask,
    period_coverage,
    period_text,
    to_wall_clock,
)
from ._grid import CountGrid, hourly_grid
from ._roles import (
    ROLE_ROWS,
    DecisionRoles,
    RoleArguments,
    check_decision_labels,
    check_roles,
    decision_roles,
    resolve_roles,
)

__all__ = [
    "CountGrid",
    "MISSING_LABEL",
    "OTHER_LABEL",
    "DecisionCounts",
    "count_decisions",
    "analysis_windows",
    "holiday_mask",
    "folded_levels_note",
    "to_wall_clock",
    "DecisionRoles",
    "RoleArguments",
    "ROLE_ROWS",
    "resolve_roles",
    "decision_roles",
    "check_roles",
    "check_decision_labels",
    "period_text",
    "period_coverage",
    "hourly_grid",
]
