"""Figures for model performance (no ROC curves: small and few).

- :func:`auc_by_period`: AUC per current period with its confidence interval,
  the reference AUC and the warning and incident bands below it.
- :func:`calibration_plot`: mean predicted against observed bad rate per
  reference score decile, reference and current, with the diagonal.

Every figure uses :mod:`mlreport.plots` (house style, palette, severity markers).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..plots import PALETTE, SEVERITY_MARKERS, empty_axes, finish, new_figure, severity_colour
from ._calibration import CalibrationResult
from ._compare import PerformanceComparison

__all__ = ["auc_by_period", "calibration_plot"]


def auc_by_period(comparison: PerformanceComparison) -> Figure:
    """AUC of each current period (95% CI) against the reference AUC and its bands.

    Judged periods are drawn with their severity's colour and marker; periods
    not judged (insufficient labels, immature, single class) are hollow grey
    and labelled with the reason.
    """
    fig, ax = new_figure()
    table = comparison.table
    warn, incident = comparison.thresholds.get("auc_drop", (0.03, 0.05))
    reference = comparison.reference
    periods = table[table["window"] == "period"] if len(table) else table
    if reference is None or not math.isfinite(reference.auc) or len(periods) == 0:
        empty_axes(ax, "no matured periods with labels to plot")
        ax.set_title("AUC per period: not available")
        return finish(fig)
    x = np.arange(len(periods))
    ref_auc = reference.auc
    ax.axhline(ref_auc, color=PALETTE["reference"], lw=1.5, label=f"reference AUC {ref_auc:.3f}")
    ax.axhspan(ref_auc - incident, ref_auc - warn, color=PALETTE["warning"], alpha=0.12,
               label=f"warning band (drop ≥ {warn})")
    ax.axhline(ref_auc - incident, color=PALETTE["incident"], lw=1, ls="--",
               label=f"incident (drop ≥ {incident})")
    for position, row in zip(x, periods.to_dict("records"), strict=True):
        # Typed values at the boundary: a table row holds numpy scalars, text and NaN.
        auc, status = float(row["auc"]), str(row["status"])
        if not math.isfinite(auc):
            ax.annotate(status, (position, ref_auc), rotation=90, fontsize=7, ha="center",
                        va="top", color=PALETTE["neutral"], xytext=(0, -6),
                        textcoords="offset points")
            continue
        low, high = float(row["auc_ci_low"]), float(row["auc_ci_high"])
        judged = status == "ok"
        severity = str(row["auc_drop_severity"] or "ok")
        colour = severity_colour(severity) if judged else PALETTE["neutral"]
        marker = SEVERITY_MARKERS.get(severity, "o") if judged else "o"
        ax.errorbar(position, auc, yerr=[[auc - low], [high - auc]],
                    fmt=marker, color=colour, mfc=colour if judged else "white", ms=6, capsize=2)
        if not judged:
            ax.annotate(status, (position, low), rotation=90, fontsize=7,
                        ha="center", va="top", color=PALETTE["neutral"], xytext=(0, -4),
                        textcoords="offset points")
    ax.set_xticks(x)
    ax.set_xticklabels([str(p) for p in periods["period"]], rotation=30, ha="right", fontsize=7)
    ax.set_xlabel("current period")
    ax.set_ylabel("AUC (95% CI, DeLong)")
    ax.set_title(f"AUC per period (DeLong 95% CI): drop ≥ {warn} warning, ≥ {incident} "
                 "incident; hollow = not judged")
    ax.legend(loc="best")
    return finish(fig)


def calibration_plot(
    reference: CalibrationResult, current: CalibrationResult | None = None
) -> Figure:
    """Observed bad rate against mean predicted probability per reference score decile."""
    fig, ax = new_figure(width=5.0, height=3.6)
    series = [("reference", reference)] + ([("current", current)] if current is not None else [])
    top, bottom = 0.0, math.inf
    for name, result in series:
        table = result.table[result.table["n"] > 0]
        if table.empty:
            continue
        ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", ms=4,
                color=PALETTE[name],
                label=f"{name}: E/O {result.expected_observed:.2f}, HL p {result.hl_pvalue:.2g}")
        top = max(top, float(table["mean_predicted"].max()), float(table["observed_rate"].max()))
        bottom = min(bottom, float(table["mean_predicted"].min()),
                     float(table["observed_rate"].min()))
    if top == 0.0:
        empty_axes(ax, "no labelled rows to plot")
        ax.set_title("Calibration: not available")
        return finish(fig)
    # Log axes when every point is positive: probabilities of default span decades.
    if bottom > 0:
        ax.set_xscale("log")
        ax.set_yscale("log")
        low, high = bottom / 1.3, min(1.0, top * 1.3)
    else:
        low, high = 0.0, min(1.0, top * 1.05)
    ax.plot([low, high], [low, high], color=PALETTE["neutral"], lw=1, ls=":",
            label="perfect calibration")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel("mean predicted probability of default per bin")
    ax.set_ylabel("observed default rate per bin")
    ax.set_title(f"Calibration in {reference.edges.size + 1} reference score bins "
                 "(E/O = expected/observed bads)")
    ax.legend(loc="upper left")
    return finish(fig)


