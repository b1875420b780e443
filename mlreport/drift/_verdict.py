"""The verdict on a table of drift metrics: adjusted p-values, then severity, trigger and reason per row.

The verdict gates on **effect size** and requires significance as well:

* each metric with a band (``Thresholds``) gives a level: ``warning`` when the
  value reaches the warning band, ``incident`` at the incident band;
* a level counts only if the test that matches the metric is significant after
  multiple-testing correction across the table (Benjamini-Hochberg by default,
  or Bonferroni): the chi-square test of homogeneity on the same bins for PSI,
  JS, Hellinger and TVD; the KS test for KS D and Wasserstein. A warning needs
  ``p_adj < alpha``, an incident ``p_adj < incident_alpha`` (a smaller share
  of the report's false-alarm budget, ``_budget``); an incident band reached
  with evidence for a warning only is a warning. A test that cannot be
  computed (too few rows left after pooling small cells) does not count as
  significant;
* a column's severity is the highest level that counts. At a million rows every
  p-value is tiny, so the bands decide; on small batches the tests stop noise
  from raising alarms.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import stats
from ._methods import methods
from ._metrics import _NAN
from ._thresholds import _METRIC_LABEL, _METRIC_TEST, _SEVERITY_RANK, _TEST_LABEL, Thresholds

__all__: list[str] = []


def _assess(table: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """Adjusted p-values, severity, trigger and reason for every row of a metrics table."""
    table = table.copy()
    # One family: every KS and chi-square p-value in the table.
    pvalues = np.concatenate([table["ks_pvalue"].to_numpy(float), table["chi2_pvalue"].to_numpy(float)])
    adjusted = stats.adjust_pvalues(pvalues, thresholds.correction)
    n = len(table)
    table["ks_pvalue_adj"] = adjusted[:n]
    table["chi2_pvalue_adj"] = adjusted[n:]

    severities, triggers, values, limits, reasons = [], [], [], [], []
    for record in table.to_dict("records"):
        if record["unavailable"]:
            severities.append("n/a")
            triggers.append("")
            values.append(_NAN)
            limits.append(_NAN)
            reasons.append(record["unavailable"])
            continue
        bands = thresholds.bands_for(record["column"], record["kind"])
        best = ("ok", "", _NAN, _NAN)
        held_back: list[str] = []
        for metric, band in bands.items():
            value = record.get(metric, _NAN)
            level = band.level(value)
            if level == "ok":
                continue
            test = _METRIC_TEST[metric]
            p_adj = record[f"{test}_pvalue_adj"]
            if not np.isfinite(p_adj):
                # No test possible (too few rows once small cells are pooled): an
                # effect size on so little data is not evidence.
                limit = band.incident if level == "incident" else band.warning
                held_back.append(
                    f"{_METRIC_LABEL[metric]} {value:.3g} reached {level} {limit:g} but the "
                    f"{_TEST_LABEL[test]} test is not computable (too few rows)"
                )
                continue
            if p_adj >= thresholds.alpha:
                limit = band.incident if level == "incident" else band.warning
                held_back.append(
                    f"{_METRIC_LABEL[metric]} {value:.3g} reached {level} {limit:g} but "
                    f"{_TEST_LABEL[test]} p_adj {_fmt_p(p_adj)} >= {thresholds.alpha:g}"
                )
                continue
            if level == "incident" and p_adj >= thresholds.alpha_incident:
                # Evidence for a warning only: an incident spends the smaller part of the budget.
                held_back.append(
                    f"{_METRIC_LABEL[metric]} {value:.3g} reached incident {band.incident:g} but "
                    f"{_TEST_LABEL[test]} p_adj {_fmt_p(p_adj)} >= {thresholds.alpha_incident:g}"
                )
                level = "warning"
            limit = band.incident if level == "incident" else band.warning
            candidate = (level, metric, float(value), float(limit))
            if _SEVERITY_RANK[level] > _SEVERITY_RANK[best[0]] or (
                level == best[0] and best[1] and value / max(limit, 1e-12) > best[2] / max(best[3], 1e-12)
            ):
                best = candidate
        severity, metric, value, limit = best
        if severity == "ok":
            reason = "; ".join(held_back) if held_back else "below every band"
        else:
            test = _METRIC_TEST[metric]
            p_adj = record[f"{test}_pvalue_adj"]
            reason = (
                f"{_METRIC_LABEL[metric]} {value:.3g} >= {severity} {limit:g}; "
                f"{_TEST_LABEL[test]} p_adj {_fmt_p(p_adj)}"
            )
            capped = [note for note in held_back if "reached incident" in note]
            if severity == "warning" and capped:
                reason += "; " + "; ".join(capped)
        severities.append(severity)
        triggers.append(metric)
        values.append(value)
        limits.append(limit)
        reasons.append(reason)
    table["severity"] = severities
    table["trigger"] = triggers
    table["value"] = values
    table["threshold"] = limits
    table["reason"] = reasons
    return table.drop(columns=["unavailable"])


_COLUMN_ORDER = [
    "column",
    "kind",
    "n_ref",
    "n_cur",
    "severity",
    "trigger",
    "value",
    "threshold",
    "psi",
    "js",
    "hellinger",
    "tvd",
    "ks",
    "ks_pvalue",
    "ks_pvalue_adj",
    "ks_max_error",
    "ks_method",
    "wasserstein_norm",
    "chi2",
    "chi2_dof",
    "chi2_pvalue",
    "chi2_pvalue_adj",
    "cramers_v",
    "reason",
    "notes",
]


def _finish(
    table: pd.DataFrame, thresholds: Thresholds, eps: float | None, leading: Sequence[str] = ()
) -> pd.DataFrame:
    order = [*leading, *_COLUMN_ORDER]
    table = table[[c for c in order if c in table.columns]]
    table.attrs["correction"] = thresholds.correction
    table.attrs["alpha"] = thresholds.alpha
    table.attrs["thresholds"] = thresholds.to_dict()
    table.attrs["methods"] = methods(thresholds, eps=eps)
    return table


def _fmt_p(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return "< 1e-300" if value == 0 else f"{value:.2g}"
