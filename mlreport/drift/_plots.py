"""Figures of the drift report: distributions that moved, heatmap and trends over time.

Built on :mod:`mlreport.plots` (house style, palette, figures sized to the report column)
so a report with all three stays far under a megabyte. Severity never reads by
colour alone: the word is in the titles, and markers differ by severity
(``SEVERITY_MARKERS``: circle ok, triangle warning, cross incident).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..errors import ParameterError
from ..plots import PALETTE, SEVERITY_HATCHES, SEVERITY_MARKERS, empty_axes, finish, new_figure, severity_colour
from ..profile import ReferenceProfile, Summaries
from ._drill_down import DrillDown
from ._multivariate import DomainClassifierResult

__all__ = [
    "distribution_grid", "metric_heatmap", "trend_lines", "moved_columns", "importance_plot", "not_available",
    "incident_chart",
]

_MAX_CATEGORY_BARS = 8
_METRIC_TITLES = {
    "psi": "PSI",
    "js": "JS distance",
    "hellinger": "Hellinger",
    "tvd": "TVD",
    "ks": "KS D",
    "wasserstein_norm": "Wasserstein / reference std",
}


def moved_columns(table: pd.DataFrame, limit: int = 12) -> list[str]:
    """Columns of a :func:`mlreport.drift.compare` table at warning or above, worst first."""
    flagged = table[table["severity"].isin(["warning", "incident"])]
    return [str(c) for c in flagged["column"].head(limit)]


def _short(text: str, width: int = 14) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def distribution_grid(
    profile: ReferenceProfile,
    reference_summaries: Summaries | None,
    current_summaries: Summaries,
    columns: Sequence[str],
    *,
    table: pd.DataFrame | None = None,
    ncols: int = 3,
) -> Figure:
    """Small multiples of reference against current proportions, one axis per column.

    Numeric columns: proportions per PSI bin (reference deciles by default),
    reference and current side by side, so the figure shows exactly what PSI
    sees; categorical: proportions per category (the most common ones, then
    the rest pooled). ``table`` (from :func:`mlreport.drift.compare`) adds the
    severity and headline metric to each title.
    """
    reference = profile.reference if reference_summaries is None else reference_summaries
    names = [c for c in columns if c in profile.columns and c in current_summaries]
    if not names:
        fig, ax = new_figure(width=8.0, height=1.6)
        ax.axis("off")
        ax.text(0.5, 0.5, "No column moved: nothing to show.", ha="center", va="center")
        return finish(fig)
    if ncols < 1:
        raise ParameterError(f"ncols must be >= 1, got {ncols}", name="ncols")
    ncols = min(ncols, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = new_figure(nrows, ncols, width=8.0, height=2.3 * nrows, squeeze=False)
    rows_by_column = {}
    if table is not None and "column" in table:
        rows_by_column = {r["column"]: r for r in table.to_dict("records")}
    for ax, name in zip(axes.flat, names, strict=False):  # the grid may hold more axes than names
        column = profile.columns[name]
        ref_counts = reference[name].counts.astype(float)
        cur_counts = current_summaries[name].counts.astype(float)
        labels = column.bin_labels if column.kind == "categorical" else _edge_labels(column.psi_edges)
        if column.kind == "categorical" and len(labels) > _MAX_CATEGORY_BARS:
            keep = _MAX_CATEGORY_BARS - 1
            ref_counts = np.append(ref_counts[:keep], ref_counts[keep:].sum())
            cur_counts = np.append(cur_counts[:keep], cur_counts[keep:].sum())
            labels = [*labels[:keep], "rest"]
        ref_share = ref_counts / ref_counts.sum() if ref_counts.sum() else ref_counts
        cur_share = cur_counts / cur_counts.sum() if cur_counts.sum() else cur_counts
        positions = np.arange(len(labels))
        ax.bar(positions - 0.2, ref_share, width=0.4, color=PALETTE["reference"], label="reference")
        ax.bar(positions + 0.2, cur_share, width=0.4, color=PALETTE["current"], label="current")
        ax.set_xticks(positions)
        ax.set_xticklabels([_short(label) for label in labels], rotation=60, ha="right", fontsize=6)
        ax.set_ylabel("share of rows")
        row = rows_by_column.get(name)
        if row is not None:
            severity = row["severity"]
            headline = f"PSI {row['psi']:.2f}"
            if row["kind"] == "numeric" and np.isfinite(row.get("ks", np.nan)):
                headline += f", KS {row['ks']:.2f}"
            elif np.isfinite(row.get("tvd", np.nan)):
                headline += f", TVD {row['tvd']:.2f}"
            ax.set_title(f"{name}: {severity}\n{headline}", fontsize=8, color=severity_colour(severity))
        else:
            ax.set_title(name, fontsize=8)
        ax.set_xlabel("bin (upper edge)" if column.kind == "numeric" else "category", fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(loc="best", fontsize=7)
    return finish(fig, "Share of rows per bin, reference (grey) vs current (blue): the columns that moved")


def _edge_labels(edges: np.ndarray) -> list[str]:
    """Short labels of right-closed bins by their upper edge (the last is open)."""
    if edges.size == 0:
        return ["all"]
    return [f"≤{_compact(e)}" for e in edges] + [f">{_compact(edges[-1])}"]


def _compact(value: float) -> str:
    """3 significant digits with k / M suffixes (``16800`` -> ``16.8k``)."""
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:.3g}M"
    if size >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:.3g}"


def _pivot(over_time: pd.DataFrame, value: str, columns: Sequence[str] | None) -> pd.DataFrame:
    table = over_time if columns is None else over_time[over_time["column"].isin(columns)]
    periods = table.sort_values("period_index")["period"].drop_duplicates().tolist()
    present = list(dict.fromkeys(table["column"]))
    order = present if columns is None else [c for c in columns if c in set(present)]
    pivot = table.pivot_table(
        index="column", columns="period", values=value, aggfunc="first", dropna=False
    )
    return pivot.reindex(index=order, columns=periods)


def _check_metric(over_time: pd.DataFrame, metric: str) -> None:
    if metric not in over_time.columns:
        raise ParameterError(
            f"metric {metric!r} is not a column of the drift-over-time table", name="metric"
        )


def metric_heatmap(
    over_time: pd.DataFrame,
    metric: str = "psi",
    *,
    columns: Sequence[str] | None = None,
) -> Figure:
    """Heatmap of ``metric`` per column (rows) and period (columns), values written in.

    Shade encodes the metric; a triangle marks a warning and a cross an
    incident (the column's severity in that period, from every band), so the
    status reads without colour.
    """
    _check_metric(over_time, metric)
    if over_time.empty:
        fig, ax = new_figure(width=8.0, height=1.6)
        ax.axis("off")
        ax.text(0.5, 0.5, "No periods to show.", ha="center", va="center")
        return finish(fig)
    values = _pivot(over_time, metric, columns)
    severity = _pivot(over_time, "severity", columns)
    n_rows, n_cols = values.shape
    fig, ax = new_figure(width=8.0, height=max(2.0, 0.28 * n_rows + 1.2))
    ax.grid(False)
    data = values.to_numpy(dtype=float)
    finite = data[np.isfinite(data)]
    top = float(finite.max()) if finite.size else 1.0
    image = ax.imshow(
        np.ma.masked_invalid(data), aspect="auto", cmap="Greys", vmin=0.0, vmax=max(top, 1e-9) * 1.25
    )
    for i in range(n_rows):
        for j in range(n_cols):
            value = data[i, j]
            if not np.isfinite(value):
                continue  # an empty cell: no text to lay out and draw
            shade = value > 0.6 * top * 1.25
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6, color="white" if shade else "black")
    # One marker collection per column and severity (not one per flagged cell): the same markers at the
    # same places, each collection measured and drawn once.
    levels = severity.to_numpy(dtype=object).astype(str)
    for i in range(n_rows):
        for level in ("warning", "incident"):
            cols = np.flatnonzero(levels[i] == level)
            if cols.size:
                ax.scatter(
                    cols + 0.38,
                    np.full(cols.size, i - 0.25),
                    marker=SEVERITY_MARKERS[level],
                    s=30,
                    color=severity_colour(level),
                    edgecolors="white",
                    linewidths=0.5,
                    zorder=3,
                )
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels(values.index, fontsize=7)
    ax.set_xticks(range(n_cols))
    ax.set_xticklabels(values.columns, rotation=45, ha="right", fontsize=7)
    ax.set_xlabel("period")
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01, label=_METRIC_TITLES.get(metric, metric))
    title = (
        f"{_METRIC_TITLES.get(metric, metric)} per column and period against the reference "
        f"(triangle warning, cross incident)"
    )
    ax.set_title(title, fontsize=9)
    return finish(fig)


def _bands_from_attrs(over_time: pd.DataFrame, metric: str) -> tuple[float, float] | None:
    thresholds = over_time.attrs.get("thresholds") or {}
    for kind in ("numeric", "categorical"):
        band = (thresholds.get(kind) or {}).get(metric)
        if band:
            return float(band[0]), float(band[1])
    return None


def trend_lines(
    over_time: pd.DataFrame,
    metric: str = "psi",
    *,
    columns: Sequence[str] | None = None,
    limit: int = 6,
    bands: tuple[float, float] | None = None,
) -> Figure:
    """``metric`` per period for the columns that moved most, with the band lines.

    Without ``columns`` the ``limit`` columns with the highest peak are drawn.
    ``bands`` (warning, incident) default to the table's default bands for the
    metric (``over_time.attrs["thresholds"]``); markers show each point's
    severity.
    """
    _check_metric(over_time, metric)
    fig, ax = new_figure(width=8.0, height=3.0)
    if over_time.empty:
        ax.axis("off")
        ax.text(0.5, 0.5, "No periods to show.", ha="center", va="center")
        return finish(fig)
    if columns is None:
        peaks = over_time.groupby("column")[metric].max().sort_values(ascending=False)
        columns = [str(c) for c in peaks.index[:limit]]
    values = _pivot(over_time, metric, columns)
    severity = _pivot(over_time, "severity", columns)
    x = np.arange(values.shape[1])
    for name in values.index:
        series = values.loc[name].to_numpy(dtype=float)
        ax.plot(x, series, linewidth=1.2, label=name)
        for level in ("ok", "warning", "incident"):
            mask = (severity.loc[name] == level).to_numpy()
            if mask.any():
                ax.scatter(
                    x[mask],
                    series[mask],
                    marker=SEVERITY_MARKERS[level],
                    s=18 if level == "ok" else 36,
                    color=ax.lines[-1].get_color() if level == "ok" else severity_colour(level),
                    zorder=3,
                )
    band = bands or _bands_from_attrs(over_time, metric)
    label = _METRIC_TITLES.get(metric, metric)
    if band:
        ax.axhline(band[0], color=PALETTE["warning"], linestyle="--", linewidth=1)
        ax.axhline(band[1], color=PALETTE["incident"], linestyle="--", linewidth=1)
        for level, value in zip(("warning", "incident"), band, strict=True):
            ax.text(
                x[-1], value, f" {level} {value:g}", color=PALETTE[level], fontsize=7, va="bottom", ha="right"
            )
    ax.set_xticks(x)
    ax.set_xticklabels(values.columns, rotation=45, ha="right", fontsize=7)
    ax.set_xlabel("period")
    ax.set_ylabel(label)
    ax.legend(loc="upper left", ncol=2)
    band_text = f", bands {band[0]:g} / {band[1]:g}" if band else ""
    ax.set_title(f"{label} per period against the reference{band_text} (markers: severity)")
    return finish(fig)


def importance_plot(result: DomainClassifierResult, top: int = 10) -> Figure:
    """Permutation importance (drop of ROC AUC) of the domain classifier's features."""
    fig, ax = new_figure(height=max(2.0, 0.3 * min(top, max(len(result.importances), 1)) + 1.0))
    if result.skipped or result.importances.empty:
        empty_axes(ax, "domain classifier not run")
        ax.set_title("Domain classifier: skipped")
        return finish(fig)
    shown = result.importances.head(top).iloc[::-1]
    # Features a finding may name in the severity's colour, the rest grey.
    colours = [severity_colour(result.severity) if flag else PALETTE["reference"]
               for flag in shown["separates"]]
    hatches = [SEVERITY_HATCHES.get(result.severity, "") if flag else "" for flag in shown["separates"]]
    ax.barh(shown["feature"].astype(str), shown["importance"], xerr=shown["importance_std"],
            color=colours, alpha=0.85, error_kw={"ecolor": PALETTE["neutral"], "capsize": 2}, hatch=hatches)
    ax.axvline(0, color=PALETTE["neutral"], lw=0.8)
    ax.set_xlabel("permutation importance (drop of ROC AUC when shuffled; grey = not named)")
    ax.set_ylabel("feature")
    warn, incident = result.threshold
    ax.set_title(
        f"Domain classifier AUC {result.auc:.3f} ± {result.auc_std:.3f} "
        f"({result.severity}; warning ≥ {warn}, incident ≥ {incident})"
    )
    return finish(fig)


def not_available(title: str, why: str) -> Figure:
    """A small figure in place of one that cannot be drawn: its title, and why it is empty (wrapped to fit)."""
    lines = textwrap.wrap(why, 100) or [""]
    fig, ax = new_figure(width=8.0, height=1.2 + 0.2 * len(lines))
    empty_axes(ax, "\n".join(lines))
    ax.set_title(title)
    return finish(fig)


def incident_chart(down: DrillDown, finding: str, onset: str | None = None) -> Figure:
    """The column behind an integrity incident: its missing and placeholder shares per period, onset marked.

    ``down`` is the column's :func:`~mlreport.drift.drill_down`; the
    reference's shares are dashed lines, each current period a point (a
    period above the reference shows it); ``onset`` (an ISO date, or a
    period label) draws a vertical line. ``finding`` is the incident in a
    sentence: the figure's alternative text starts with it.
    """
    periods = down.by_period.iloc[1:]
    reference = down.by_period.iloc[0]
    value = "–" if down.value is None else f"{down.value!r}"
    series = [("missing_share", "missing", SEVERITY_MARKERS["incident"]),
              ("value_share", f"equal to {value}", SEVERITY_MARKERS["warning"]),
              ("outside_share", down.outside.lower() or "outside", SEVERITY_MARKERS["ok"])]
    shown = [s for s in series if s[0] in periods and (periods[s[0]].fillna(0).gt(0).any()
                                                        or float(reference.get(s[0]) or 0) > 0)]
    fig, ax = new_figure(height=3.2)
    positions = np.arange(len(periods))
    labels = [str(p) for p in periods["period"]]
    for (name, label, marker), colour in zip(shown, ("#0072B2", "#000000", "#CC79A7"), strict=False):
        ax.plot(positions, periods[name] * 100, color=colour, marker=marker, markersize=5, linewidth=1.2,
                label=f"{label} (reference {float(reference[name]) * 100:.1f}%)")
        ax.axhline(float(reference[name]) * 100, color=colour, linestyle="--", linewidth=0.8)
    if not shown:
        empty_axes(ax, f"No missing, {value} or out-of-range value in {down.column}.")
    if onset:
        at = next((i for i, p in enumerate(labels) if p >= onset[:len(p)]), None)
        if at is not None:
            ax.axvline(at - 0.5, color=PALETTE["neutral"], linestyle=":", linewidth=1.5)
            ax.annotate(f"onset {onset}", (at - 0.5, 1), xycoords=("data", "axes fraction"), xytext=(4, -12),
                        textcoords="offset points", fontsize=9, color=PALETTE["neutral"])
    step = max(1, math.ceil(len(labels) / 10))
    ax.set_xticks(positions[::step], labels[::step])
    ax.set_xlim(-0.5, max(len(labels) - 0.5, 0.5))
    ax.set_ylabel("% of the period's rows")
    ax.set_xlabel("period of the current window; dashed: the reference's share" + ("; dotted: onset" if onset else ""))
    if shown:
        ax.legend(loc="upper left")
    title = f"{down.column}: share of rows missing or equal to {value} per period, current window"
    shares = "; ".join(f"{label} {float(periods[name].iloc[-1]) * 100:.1f}% in the last period against "
                       f"{float(reference[name]) * 100:.1f}% in the reference" for name, label, _ in shown)
    alt = (f"{finding.rstrip('.')}. Chart of {down.column} per period: {shares or 'no missing or placeholder values'}"
           + (f"; onset {onset} marked." if onset else "."))
    return finish(fig, title, alt=alt)
