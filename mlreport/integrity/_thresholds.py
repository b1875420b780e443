"""Integrity thresholds: the defaults, overrides per check and per column, and the
method text that states them.

Shares are fractions of rows in tables and percentages in messages; thresholds
on shares are in percentage points (``*_pp``).

Thresholds live in :data:`DEFAULT_THRESHOLDS` (with a version string) and can be
overridden per check (``{"missing": {"incident_pp": 10}}``) and per column
(``{"columns": {"bureau_score": {"missing": {"warning_pp": 2}}}}``).
:func:`methods` gives each check's convention with the thresholds in force, for
the report's appendix.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from ..errors import ParameterError

__all__ = ["DEFAULT_THRESHOLDS", "merge_thresholds", "methods"]

DEFAULT_THRESHOLDS: dict[str, Any] = {
    "version": "integrity-2",
    # One-sided significance level of every test for a warning, and for an incident
    # (never looser than alpha); a check or column may override them. A drift report
    # sets both from its false-alarm budget.
    "alpha": 0.001,
    "incident_alpha": 0.001,
    # Below this many current rows the tests have little power: a warning says so.
    "min_rows": 30,
    # Longest list of categories or ids quoted in a message or table cell.
    "max_listed": 5,
    "missing": {"warning_pp": 1.0, "incident_pp": 5.0},
    # A spike also needs the share to grow by min_ratio, so that a common value
    # growing with ordinary drift (40% -> 48%) is left to the drift checks.
    # Incident at 3 pp: a default or sentinel silently written on 3% of rows is an
    # integration fault worth acting on, and a 5% default must reach it at any size
    # (at 2,000 rows its share reads 5% +- 0.5 pp).
    "sentinel": {
        "warning_pp": 2.0,
        "incident_pp": 3.0,
        "min_ratio": 1.5,
        "top_values": 5,
        "values": [0, -1, -9, -99, -999, -9999, 99, 999, 9999, 99999, 999999, 9999999],
        "strings": ["", "unknown", "n/a", "na", "nan", "null", "none", "missing", "-", "?"],
    },
    "out_of_range": {"warning_pp": 1.0, "incident_pp": 5.0},
    "new_category": {"warning_pp": 1.0, "incident_pp": 5.0},
    # Share of reference rows whose category is absent from the current data.
    "vanished_category": {"warning_pp": 1.0, "incident_pp": 5.0},
    # Any infinity where the reference had none is a warning.
    "non_finite": {"incident_pp": 1.0},
    # Any duplicate id is an incident unless the reference had the same rate.
    "duplicate_ids": {},
    "constant": {},
    # Lag of the latest timestamp behind the expected end, in periods.
    "freshness": {"warning_periods": 1.0, "incident_periods": 2.0},
    # Fractional drop of a period's rows below the reference's typical count;
    # a surge (rows >= (1 + surge) x typical) is a warning.
    "rows_per_period": {"warning_drop": 0.3, "incident_drop": 0.5, "surge": 1.0},
    "columns": {},
}

_CHECKS = tuple(k for k, v in DEFAULT_THRESHOLDS.items() if isinstance(v, dict) and k != "columns")
_SCALARS = ("alpha", "incident_alpha", "min_rows", "max_listed")


def merge_thresholds(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """:data:`DEFAULT_THRESHOLDS` with ``overrides`` applied, validated.

    Unknown checks or keys raise :class:`ParameterError`. When anything is
    overridden and no ``version`` is given, the version gains ``+custom`` so the
    report's appendix shows that the policy differs from the defaults.
    """
    merged = copy.deepcopy(DEFAULT_THRESHOLDS)
    if not overrides:
        return merged
    if not isinstance(overrides, Mapping):
        raise ParameterError("thresholds must be a dict of check -> {key: value}",
                             name="thresholds")
    for key, value in overrides.items():
        if key == "version":
            merged["version"] = str(value)
        elif key in _SCALARS:
            merged[key] = _number(value, f"thresholds[{key!r}]")
        elif key in _CHECKS:
            _merge_check(merged[key], value, f"thresholds[{key!r}]")
        elif key == "columns":
            if not isinstance(value, Mapping):
                raise ParameterError("thresholds['columns'] must map column -> "
                                     "{check: {key: value}}", name="thresholds")
            for column, checks in value.items():
                if not isinstance(checks, Mapping):
                    raise ParameterError(f"thresholds['columns'][{column!r}] must map check -> "
                                         "{key: value}", name="thresholds")
                target = merged["columns"].setdefault(str(column), {})
                for check, limits in checks.items():
                    where = f"thresholds['columns'][{column!r}][{check!r}]"
                    if check not in _CHECKS:
                        raise ParameterError(f"{where}: unknown check; expected one of "
                                             f"{', '.join(_CHECKS)}", name="thresholds")
                    template = {**DEFAULT_THRESHOLDS[check], "alpha": 0.0, "incident_alpha": 0.0}
                    _merge_check(target.setdefault(check, {}), limits, where, template)
        else:
            raise ParameterError(f"thresholds: unknown key {key!r}; expected version, "
                                 f"{', '.join(_SCALARS)}, columns or a check "
                                 f"({', '.join(_CHECKS)})", name="thresholds")
    if "version" not in overrides:
        merged["version"] = f"{DEFAULT_THRESHOLDS['version']}+custom"
    return merged


def _merge_check(target: dict[str, Any], limits: Any, where: str,
                 template: Mapping[str, Any] | None = None) -> None:
    template = template if template is not None else {**target, "alpha": 0.0, "incident_alpha": 0.0}
    if not isinstance(limits, Mapping):
        raise ParameterError(f"{where} must be a dict of threshold -> value", name="thresholds")
    for name, value in limits.items():
        if name not in template:
            raise ParameterError(f"{where}: unknown threshold {name!r}; expected one of "
                                 f"{', '.join(sorted(template))}", name="thresholds")
        if isinstance(template[name], list):
            if not isinstance(value, (list, tuple)):
                raise ParameterError(f"{where}[{name!r}] must be a list", name="thresholds")
            target[name] = list(value)
        else:
            target[name] = _number(value, f"{where}[{name!r}]")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"{where} must be a finite number, got {value!r}", name="thresholds")
    return value


def _limit(thresholds: Mapping[str, Any], check: str, column: str | None, key: str) -> Any:
    """A threshold for one check and column: column override, check value, global."""
    if column is not None:
        per_column = thresholds.get("columns", {}).get(column, {}).get(check, {})
        if key in per_column:
            return per_column[key]
    check_limits = thresholds.get(check, {})
    if key in check_limits:
        return check_limits[key]
    return thresholds[key]


def methods(thresholds: Mapping[str, Any] | None = None) -> dict[str, str]:
    """One convention string per check, with the thresholds in force."""
    t = merge_thresholds(None) if thresholds is None else thresholds
    a = t["alpha"]
    ai = min(a, t.get("incident_alpha", a))
    levels = f"alpha {a:g}" if ai == a else f"alpha {a:g} for a warning, {ai:g} for an incident"
    test = (f"one-sided two-proportion z-test (pooled), Fisher exact when an expected "
            f"count < 5; Bonferroni over the columns checked; {levels}")
    m, s, o = t["missing"], t["sentinel"], t["out_of_range"]
    nc, vc, nf = t["new_category"], t["vanished_category"], t["non_finite"]
    fr, rp = t["freshness"], t["rows_per_period"]
    return {
        "schema": "column presence and type family (numeric, boolean, string, datetime, "
                  "mixed) compared; missing column or changed type incident, new column "
                  "warning, mixed types incident (warning if the reference was mixed too)",
        "missing": f"share of null rows; {test}; warning >= {m['warning_pp']:g} pp increase and "
                   f"significant, incident >= {m['incident_pp']:g} pp and significant or the "
                   "column entirely null",
        "sentinel": f"share of rows equal to each modal value (top {s['top_values']:g} of each "
                    "window) and each sentinel value; "
                    f"{test} and the distinct current values; spike also needs share >= "
                    f"{s['min_ratio']:g} x reference; warning "
                    f">= {s['warning_pp']:g} pp, incident >= {s['incident_pp']:g} pp",
        "out_of_range": "share of non-null finite current values below the reference minimum or "
                        "above its maximum; exact one-sided permutation test: with n reference and m "
                        "current values exchangeable, P(K >= k) = ((k+1) C(n+m-1-k, n-1) + "
                        "C(n+m-1-k, n)) / C(n+m, n) (mean 2m/(n+1)), Bonferroni over the columns "
                        f"checked, {levels}; warning >= "
                        f"{o['warning_pp']:g} pp, incident >= {o['incident_pp']:g} pp",
        "new_category": "share of non-null current values in categories absent from the "
                        "reference; one-sided z-test against the Good-Turing unseen mass "
                        "U = max(N1/n, 1/(n+1)) (N1 singletons, N2 doubletons of n reference values), "
                        "variance m U (1-U) + m^2 (N1 + 2 N2 - N1^2/n) / n^2 (Esty 1983), "
                        f"Bonferroni over the columns checked, {levels}; warning >= "
                        f"{nc['warning_pp']:g} pp, incident >= {nc['incident_pp']:g} pp",
        "vanished_category": "reference categories with no current row, significant when "
                             f"(1 - p)^n < alpha {ai:g} / (categories x columns); graded on "
                             "their summed reference share: "
                             f"warning >= {vc['warning_pp']:g} pp, incident >= "
                             f"{vc['incident_pp']:g} pp",
        "constant": "a column with one distinct non-null value in current and more in the "
                    "reference; incident when the chance of that under the reference, bounded "
                    f"by p_max^(n-1) x columns, is below alpha {ai:g}",
        "non_finite": f"share of +/-inf in numeric columns; warning when the reference had none, "
                      f"incident >= {nf['incident_pp']:g} pp and significant ({test})",
        "duplicate_ids": "rows repeating an earlier id in the same window; incident when the "
                         "reference had none or the share rose significantly "
                         f"({test}), warning when the reference had the same rate",
        "freshness": "lag of the latest current timestamp behind the expected end of the window (judged "
                     "only when that end is declared), in periods; significant when exp(-rate x lag) "
                     f"< alpha at the reference's rows per unit time ({levels}); warning >= "
                     f"{fr['warning_periods']:g}, incident >= {fr['incident_periods']:g} periods",
        "rows_per_period": "current rows per period against the reference median for the same "
                           "weekday (daily periods) or hour of day (hourly), else the overall "
                           "median; edge periods of the reference excluded, a period shared with "
                           "the reference window not graded; the window's first and last period "
                           "expected on the share of a typical period's rows they cover (by the "
                           "reference rows' position within their periods), not graded below "
                           "half; one-sided test on the negative binomial predictive of a Poisson "
                           "count whose typical rate is the median of k reference periods (worth "
                           "2k/pi of them; Jeffreys prior), Bonferroni over the periods graded, "
                           f"{levels}; warning on a drop >= {rp['warning_drop']:.0%}, incident >= "
                           f"{rp['incident_drop']:.0%}; surge >= +{rp['surge']:.0%} warning",
        "onset": "first period of the most likely single step in the rate (Bernoulli "
                 "likelihood over current periods, reference rows counted as before the step)",
    }
