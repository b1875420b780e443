"""Figures of the stress report, in the house style of :mod:`mlreport.plots`.

Each function takes the tables computed by :mod:`mlreport.stress` and returns a
closed matplotlib figure for :func:`mlreport.plots.show`; nothing is computed
here that a test would want.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..plots import PALETTE, SERIES, empty_axes, finish, new_figure
from ._monotonicity import MonotonicityResult
from ._scenario_run import UNSCORABLE, ScenarioRun

__all__ = ["scenario_chart", "sensitivity_chart", "reverse_chart", "ice_chart"]

# Decision labels are told apart by marker and shade, not colour alone.
_LABEL_MARKERS = ("o", "s", "D", "^", "v", "P", "X")
_LABEL_COLOURS = (PALETTE["current"], PALETTE["neutral"], PALETTE["incident"], PALETTE["warning"], PALETTE["ok"])


def scenario_chart(run: ScenarioRun) -> Figure:
    """Change in each decision rate per scenario, with its confidence interval.

    Dashed lines mark the tolerance; failing scenarios' names are marked "FAIL", scenarios the model
    cannot score "CANNOT SCORE" (they have no interval).
    """
    applicable = run.table[run.table["applicable"].astype(bool)]
    names = list(applicable["scenario"])
    height = max(2.5, 0.32 * len(names) + 1.2)
    fig, ax = new_figure(width=8.0, height=height)
    positions = np.arange(len(names))[::-1]
    offsets = np.linspace(-0.22, 0.22, len(run.labels)) if len(run.labels) > 1 else [0.0]
    for i, label in enumerate(run.labels):
        rates = run.rates[run.rates["decision"] == label].set_index("scenario").reindex(names)
        ax.errorbar(
            rates["change_pp"],
            positions + offsets[i],
            xerr=[rates["change_pp"] - rates["ci_low_pp"], rates["ci_high_pp"] - rates["change_pp"]],
            fmt=_LABEL_MARKERS[i % len(_LABEL_MARKERS)],
            color=_LABEL_COLOURS[i % len(_LABEL_COLOURS)],
            markersize=4,
            elinewidth=1,
            capsize=2,
            linestyle="none",
            label=label,
        )
    limits = run.rates.groupby("decision")["limit_pp"].max()
    limit = float(limits.max()) if len(limits) else np.nan
    if np.isfinite(limit):
        for sign in (-1, 1):
            ax.axvline(sign * limit, color=PALETTE["incident"], linestyle="--", linewidth=1)
    ax.axvline(0, color=PALETTE["reference"], linewidth=0.8)
    failing = set(applicable.loc[applicable["result"] == "fail", "scenario"])
    unscorable = set(applicable.loc[applicable["result"] == UNSCORABLE, "scenario"])
    ax.set_yticks(positions)
    ax.set_yticklabels([f"FAIL  {n}" if n in failing else f"CANNOT SCORE  {n}" if n in unscorable else n
                        for n in names])
    for tick, name in zip(ax.get_yticklabels(), names, strict=True):
        if name in failing:
            tick.set_color(PALETTE["incident"])
        elif name in unscorable:
            tick.set_color(PALETTE["warning"])
    ax.set_xlabel("change in decision rate (percentage points)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(run.labels), fontsize=8)
    title = (
        f"Decision-rate change per scenario, {100 * run.confidence:g}% paired Wald CI; "
        f"tolerance ±{limit:g} pp (dashed)"
    )
    return finish(fig, title)


def sensitivity_chart(
    curves: pd.DataFrame, *, decision: str | None = None, tolerance_pp: float | None = None
) -> Figure:
    """Sensitivity curves: one row of panels per shock family.

    Left: change in ``decision``'s rate (default: the first label) against the
    shock size, one line per feature, tolerance band shaded. Right: flip rate.
    """
    if curves.empty:
        fig, ax = new_figure(width=8.0, height=1.2)
        empty_axes(ax, "no shock could be scored: no feature swept, or the model cannot score any shock")
        return finish(fig, "Sensitivity: nothing to draw")
    if decision is None:
        decision = str(curves["decision"].iloc[0])
    data = curves[curves["decision"] == decision]
    families = list(dict.fromkeys(data["family"]))
    fig, axes = new_figure(len(families), 2, width=8.0, height=2.3 * len(families) + 0.6, squeeze=False)
    features = list(dict.fromkeys(data["feature"]))
    colours = {f: _feature_colour(i) for i, f in enumerate(features)}
    for row, family in enumerate(families):
        left, right = axes[row]
        for i, feature in enumerate(features):
            part = data[(data["family"] == family) & (data["feature"] == feature)].sort_values("magnitude")
            if part.empty:
                continue
            x = part["magnitude"] * (100 if family in ("relative", "set_missing", "category_remap") else 1)
            style = dict(color=colours[feature], marker=_LABEL_MARKERS[i % len(_LABEL_MARKERS)],
                         markersize=3, linewidth=1.2, label=feature)
            left.plot(x, part["change_pp"], **style)
            right.plot(x, 100 * part["flip_rate"], **style)
        if tolerance_pp is not None:
            left.axhspan(-tolerance_pp, tolerance_pp, color=PALETTE["ok"], alpha=0.08)
            for sign in (-1, 1):
                left.axhline(sign * tolerance_pp, color=PALETTE["incident"], linestyle="--", linewidth=1)
        unit = {
            "relative": "relative shock (%)",
            "quantile_shift": "quantile shift (quantiles)",
            "set_missing": "rows set missing (%)",
            "category_remap": "rows remapped to unseen (%)",
            "noise": "noise (reference sd)",
        }.get(family, family)
        left.set_xlabel(unit)
        right.set_xlabel(unit)
        left.set_ylabel(f"{decision} rate change (pp)")
        right.set_ylabel("flip rate (%)")
        left.set_title(f"{family}: {decision} rate")
        right.set_title(f"{family}: decisions changed")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncols=min(len(names), 5), fontsize=7)
    band = f"; tolerance ±{tolerance_pp:g} pp shaded" if tolerance_pp is not None else ""
    finish(fig, f"Sensitivity: one feature shocked at a time, {decision} rate and flip rate{band}")
    fig.subplots_adjust(bottom=0.1 + 0.02 / max(1, len(families)))
    return fig


def _feature_colour(i: int) -> str:
    return SERIES[i % len(SERIES)]


def reverse_chart(reverse: pd.DataFrame, *, family: str = "relative") -> Figure:
    """Breaking shock per feature for one family: bars to the break, down and up.

    Solid bars end at the smallest breaking shock; hatched grey bars run to the
    end of the plausible range where the feature never breaks. A search the
    model stopped (a shock it cannot score) has no bar: the table's note says why.
    """
    part = reverse[reverse["family"] == family]
    if "scored" in part.columns:
        part = part[part["scored"].astype(bool) | part["breaks"].astype(bool)]
    features = list(dict.fromkeys(part["feature"]))
    fig, ax = new_figure(width=8.0, height=max(2.2, 0.4 * len(features) + 1.2))
    positions = np.arange(len(features))[::-1]
    scale = 100 if family in ("relative", "set_missing", "category_remap") else 1
    for y, feature in zip(positions, features, strict=True):
        for record in part[part["feature"] == feature].itertuples(index=False):
            if record.breaks:
                ax.barh(y, scale * record.magnitude, color=PALETTE["warning"], height=0.6)
                ax.text(scale * record.magnitude, y, f" {scale * record.magnitude:+.1f} ",
                        va="center", ha="left" if record.magnitude > 0 else "right", fontsize=7)
            else:
                ax.barh(y, scale * record.searched_to, color="none", edgecolor=PALETTE["reference"],
                        hatch="//", height=0.6)
    ax.axvline(0, color=PALETTE["neutral"], linewidth=0.8)
    ax.set_yticks(positions)
    ax.set_yticklabels(features)
    unit = "%" if scale == 100 else "units"
    ax.set_xlabel(f"{family} shock that breaks tolerance ({unit}); hatched = never breaks in range")
    return finish(fig, f"Reverse stress ({family}): smallest breaking shock by bisection")


def ice_chart(result: MonotonicityResult, features: Sequence[str] | None = None) -> Figure:
    """ICE curves per declared feature: violating rows highlighted, mean in blue."""
    features = list(features or result.curves)
    if not features:
        fig, ax = new_figure(width=8.0, height=1.2)
        ax.axis("off")
        ax.text(0.5, 0.5, "no monotone features declared", ha="center", va="center")
        return finish(fig, "Monotonicity: nothing to check")
    fig, axes = new_figure(1, max(1, len(features)), width=8.0, height=3.2, squeeze=False)
    for ax, feature in zip(axes[0], features, strict=True):
        grid, ice, violating = result.curves[feature]
        for row in np.flatnonzero(~violating)[:100]:
            ax.plot(grid, ice[row], color=PALETTE["reference"], linewidth=0.5, alpha=0.5)
        for row in np.flatnonzero(violating)[:100]:
            ax.plot(grid, ice[row], color=PALETTE["warning"], linewidth=0.6, alpha=0.6)
        ax.plot(grid, ice.mean(axis=0), color=PALETTE["current"], linewidth=2, label="mean (PDP)")
        checked = result.table.set_index("feature")
        direction = str(checked.at[feature, "direction"])
        share = checked["share_violating"].astype(float)[feature]
        ax.set_title(f"{feature}\ndeclared {direction}; {share:.0%} of rows violate", fontsize=8)
        ax.set_xlabel(f"{feature} (data units)")
        ax.set_ylabel("score")
    axes[0][0].legend(loc="best", fontsize=7)
    rows = int(result.table["rows_checked"].max()) if len(result.table) else 0
    return finish(
        fig,
        f"Monotonicity: ICE curves of {rows} sampled rows; amber = moves against the declared "
        f"direction by more than {result.tolerance:g}",
    )
