"""The report's false-alarm budget: how much chance of a false alarm each family of checks may spend.

A drift report runs many checks (integrity, feature drift, drift by segment,
drift over time, prediction drift, performance, the domain classifier), each
over many columns, values or periods. If each family controlled only its own
error rate, their false alarms would add up: at 500 rows per window, 19% of
reports on unchanged data were warnings. So the report has one budget, and the
families share it.

**The budget.** With no change in the data (reference and current drawn from
one distribution), a report may be a warning or worse in at most
:data:`REPORT_ALPHA` ``["warning"]`` = 5% of runs and an incident in at most
``["incident"]`` = 1%. Every finding that can be raised by chance is gated by
a test, so by Bonferroni's inequality across families the chance that any
family raises a false alarm is at most the sum of what each family spends.

**The allocation** (:data:`FAMILY_SHARES`, the share of both levels):

===================  =====  ===============================================
family               share  control within the family
===================  =====  ===============================================
integrity            0.25   Bonferroni over its 10 tested checks, then over
                            the columns (values, periods) each check tests
feature_drift        0.15   BH (or Bonferroni) over every KS and chi-square
                            p-value of the table
segment_drift        0.10   the same, over every level x feature
drift_over_time      0.15   the same, over every column x period
prediction_drift     0.05   the same, over the score and the decision
performance          0.15   Bonferroni over its tests: AUC drop, calibration
                            and default rate, for the window and each period
domain_classifier    0.15   one test: its AUC against chance
===================  =====  ===============================================

Integrity and the distribution tests get most of it because they are where
incidents are found (a broken integration, a moved feature); performance and
the classifier are single statistics per window or period. Benjamini-Hochberg
controls the family-wise error at its level when nothing changed (the A/A case
this budget is about) and the false discovery rate among the columns when some
did, so it suits the distribution families, whose findings are per column.

**Two levels.** A finding is a warning when its test is significant at the
family's warning alpha (``share x 0.05``) and its effect reaches the warning
band; an incident when significant at the family's incident alpha (``share x
0.01``) and its effect reaches the incident band. A test significant only at
the warning level caps the finding at warning. Effect-size bands still decide
what is material; the budget decides what is evidence. An alpha set
explicitly (the spec's ``[thresholds.*]`` or a threshold parameter) replaces
the family's share, and the report's budget then holds only as far as those
alphas allow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from scipy import stats as sps

from ..errors import ParameterError
from ..integrity import DEFAULT_THRESHOLDS as INTEGRITY_DEFAULTS

__all__ = [
    "REPORT_ALPHA",
    "FAMILY_SHARES",
    "INTEGRITY_CHECKS",
    "PERFORMANCE_CHECKS",
    "FalseAlarmBudget",
    "DEFAULT_BUDGET",
]

REPORT_ALPHA: dict[str, float] = {"warning": 0.05, "incident": 0.01}
"""The report-wide chance, with no change in the data, of a warning or worse and of an incident."""

FAMILY_SHARES: dict[str, float] = {
    "integrity": 0.25,
    "feature_drift": 0.15,
    "segment_drift": 0.10,
    "drift_over_time": 0.15,
    "prediction_drift": 0.05,
    "performance": 0.15,
    "domain_classifier": 0.15,
}
"""The share of the report's alpha each family of checks may spend (they sum to 1)."""

INTEGRITY_CHECKS: tuple[str, ...] = (
    "missing", "sentinel", "out_of_range", "new_category", "vanished_category", "constant", "non_finite",
    "duplicate_ids", "freshness", "rows_per_period",
)
"""The integrity checks that test (schema changes are facts, not tests): each gets an equal part of the family."""

PERFORMANCE_CHECKS: tuple[str, ...] = ("auc_drop", "calibration", "target_drift")
"""The performance checks, each tested for the whole window and each judged period."""

_WITHIN = {
    "integrity": "Bonferroni over its tested checks, then over the columns, values or periods of each",
    "feature_drift": "{correction} over every KS and chi-square p-value of the table",
    "segment_drift": "{correction} over every KS and chi-square p-value of segment level x feature",
    "drift_over_time": "{correction} over every KS and chi-square p-value of column x period",
    "prediction_drift": "{correction} over the KS and chi-square p-values of the score and the decision",
    "performance": "Bonferroni over AUC drop, calibration and default rate, for the window and each period",
    "domain_classifier": "one test: the cross-validated AUC against chance",
}


@dataclass(frozen=True)
class FalseAlarmBudget:
    """The report's alpha at each level and its split between families (see the module docstring)."""

    warning: float = REPORT_ALPHA["warning"]
    incident: float = REPORT_ALPHA["incident"]
    shares: Mapping[str, float] = field(default_factory=lambda: dict(FAMILY_SHARES))

    def __post_init__(self) -> None:
        for name in ("warning", "incident"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 < value < 1):
                raise ParameterError(f"false-alarm budget {name}: {value!r}; expected a probability in (0, 1)",
                                     name=name)
        if self.incident > self.warning:
            raise ParameterError(
                f"false-alarm budget: incident {self.incident} above warning {self.warning}; an incident is a "
                "warning too, so its chance cannot be larger", name="incident")
        total = sum(self.shares.values())
        if any(share < 0 for share in self.shares.values()) or not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ParameterError(f"false-alarm budget shares must be >= 0 and sum to 1, got {dict(self.shares)}",
                                 name="shares")

    def alpha(self, family: str, level: str = "warning") -> float:
        """The chance of a false alarm at ``level`` (warning or incident) that ``family`` may spend."""
        if family not in self.shares:
            raise ParameterError(f"no false-alarm budget for {family!r}; families: {', '.join(self.shares)}",
                                 name="family")
        if level not in ("warning", "incident"):
            raise ParameterError(f"level {level!r}; expected warning or incident", name="level")
        return float(self.shares[family]) * (self.warning if level == "warning" else self.incident)

    def levels(self, family: str) -> tuple[float, float]:
        """``(warning alpha, incident alpha)`` of ``family``."""
        return self.alpha(family, "warning"), self.alpha(family, "incident")

    def drift_overrides(self, family: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Drift thresholds for ``family``: ``overrides`` with the family's alphas where they set none."""
        merged = dict(overrides)
        if "alpha" not in merged and "incident_alpha" not in merged:
            merged["alpha"], merged["incident_alpha"] = self.levels(family)
        return merged

    def integrity_overrides(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Integrity thresholds: ``overrides`` with each tested check's part of the family where none is set."""
        merged = dict(overrides)
        if "alpha" not in merged and "incident_alpha" not in merged:
            warning, incident = self.levels("integrity")
            merged["alpha"] = warning / len(INTEGRITY_CHECKS)
            merged["incident_alpha"] = incident / len(INTEGRITY_CHECKS)
            if not overrides:  # the report's own policy, not a user's: say so in the version
                merged["version"] = f"{INTEGRITY_DEFAULTS['version']}+budget"
        return merged

    def performance_overrides(self, overrides: Mapping[str, Any], *, periods: int) -> dict[str, Any]:
        """Performance thresholds: Bonferroni over its tests at the family's incident alpha.

        The performance checks have one level of significance, so they take the
        stricter (incident) one: ``z`` (two-sided, for the AUC drop and the
        calibration gates) and ``alpha`` (the default-rate test) per test, over
        3 checks x (the window + ``periods`` periods). Where ``overrides`` set
        ``z`` or ``alpha`` those stand.
        """
        merged = dict(overrides)
        tests = len(PERFORMANCE_CHECKS) * (1 + max(int(periods), 0))
        per_test = self.alpha("performance", "incident") / tests
        merged.setdefault("alpha", per_test)
        merged.setdefault("z", float(sps.norm.isf(per_test / 2)))
        return merged

    def table(self, correction: str = "fdr_bh") -> pd.DataFrame:
        """One row per family: its share, its alphas at each level and the control within it."""
        label = {"fdr_bh": "Benjamini-Hochberg", "bonferroni": "Bonferroni"}.get(correction, correction)
        rows = [
            {"family": family, "share": share, "warning_alpha": share * self.warning,
             "incident_alpha": share * self.incident, "within": _WITHIN.get(family, "").format(correction=label)}
            for family, share in self.shares.items()
        ]
        return pd.DataFrame(rows)

    def describe(self) -> str:
        """One line for the report's methods appendix."""
        parts = ", ".join(f"{family} {share:g}" for family, share in self.shares.items())
        return (
            f"false-alarm budget: with no change in the data a report is a warning or worse in at most "
            f"{self.warning:.0%} of runs and an incident in at most {self.incident:.0%} (Bonferroni across families); "
            f"shares {parts}; a finding is a warning when its test is significant at share x {self.warning:g} and "
            f"its effect reaches the warning band, an incident when significant at share x {self.incident:g} and "
            "its effect reaches the incident band"
        )


DEFAULT_BUDGET = FalseAlarmBudget()
"""The budget every drift report uses."""
