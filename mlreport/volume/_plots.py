"""Figures of the volume report, in the house style of :mod:`mlreport.plots`.

Every function takes a :class:`~mlreport.volume.VolumeResult` and returns a
closed matplotlib figure (display it with :func:`mlreport.plots.show`). Titles
state the method and threshold; flagged periods carry the severity colour and
marker, so status reads without colour too.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..findings import Finding, severity_rank
from ..plots import PALETTE, SEVERITY_HATCHES, SEVERITY_MARKERS, empty_axes, finish, new_figure
from ..stats import PERIOD_WORDS

if TYPE_CHECKING:
    from ._result import VolumeResult

__all__ = [
    "flagged_series",
    "volume_timeline",
    "rate_chart",
    "ewma_chart",
    "cusum_chart",
    "mix_chart",
    "contribution_chart",
    "change_point_timeline",
    "outage_chart",
]


def _word(result: VolumeResult) -> str:
    return PERIOD_WORDS[result.period]


def _mark_flags(ax: Axes, frame: pd.DataFrame, x: str, y: str) -> None:
    for level in ("warning", "incident"):
        rows = frame[frame["severity"] == level]
        if len(rows):
            ax.scatter(rows[x], rows[y], color=PALETTE[level], marker=SEVERITY_MARKERS[level], s=36,
                       zorder=5, label=level)


def _analysis_line(ax: Axes, result: VolumeResult) -> None:
    # As a date number: matplotlib's stubs take floats, and dates on a date axis are date numbers.
    ax.axvline(mdates.date2num(result.counts.analysis_start), color=PALETTE["neutral"], linestyle=":", linewidth=1)


def _dates(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def flagged_series(result: VolumeResult, top: int = 3) -> list[str]:
    """``"overall"`` and up to ``top`` series with the most severe volume flags."""
    volume = result.volume
    flagged = volume[volume["severity"] != "ok"]
    if flagged.empty:
        return ["overall"]
    score = flagged.assign(rank=flagged["severity"].map(severity_rank)).groupby("series")["rank"].agg(["max", "size"])
    ranked = score.sort_values(["max", "size"], ascending=False).index.tolist()
    return ["overall", *[name for name in ranked if name != "overall"][:top]]


def volume_timeline(result: VolumeResult, series: Sequence[str] | None = None) -> Figure:
    """Observed volume against the seasonal expectation and its band, one panel per series."""
    names = list(series) if series is not None else flagged_series(result)
    fig, axes = new_figure(len(names), 1, height=2.3 * len(names) + 0.4, squeeze=False, sharex=True)
    config = result.config
    for ax, name in zip(axes[:, 0], names, strict=True):
        rows = result.volume[result.volume["series"] == name]
        ax.fill_between(rows["period"], rows["lower"], rows["upper"], color=PALETTE["reference"], alpha=0.25,
                        step="mid", linewidth=0, label=f"band (p {result.limits.volume_p_warning:.1g})")
        ax.plot(rows["period"], rows["expected"], color=PALETTE["reference"], linestyle="--", linewidth=1,
                drawstyle="steps-mid", label="expected")
        ax.plot(rows["period"], rows["observed"], color=PALETTE["current"], linewidth=1.2,
                drawstyle="steps-mid", label="observed")
        _mark_flags(ax, rows, "period", "observed")
        _analysis_line(ax, result)
        ax.set_ylabel(f"decisions per {_word(result)}")
        ax.set_title(name, loc="left", fontsize=9)
        _dates(ax)
    axes[0, 0].legend(loc="upper left", ncol=5)
    axes[-1, 0].set_xlabel("period start (local time); dotted line: analysis start")
    slot = {"H": "hour and weekday", "D": "weekday"}.get(result.period, "week")
    title = (f"Volume per {_word(result)} vs the median of the same {slot} "
             f"over {config.baseline_weeks} weeks; quasi-Poisson band and flags at p < "
             f"{result.limits.volume_p_warning:.1g} (the report's error budget over "
             f"{result.limits.volume_tests:,} tests)")
    return finish(fig, title)


def _decisions(result: VolumeResult, decisions: Sequence[str] | None) -> list[str]:
    if decisions is not None:
        return list(decisions)
    return list(dict.fromkeys(result.rates["decision"]))


def rate_chart(result: VolumeResult, decisions: Sequence[str] | None = None) -> Figure:
    """Decision rates with Laney p′ limits, one panel per decision."""
    labels = _decisions(result, decisions)
    fig, axes = new_figure(len(labels), 1, height=2.0 * len(labels) + 0.4, squeeze=False, sharex=True)
    for ax, label in zip(axes[:, 0], labels, strict=True):
        rows = result.rates[result.rates["decision"] == label]
        percent = rows.assign(rate=rows["rate"] * 100, center=rows["center"] * 100, lcl=rows["lcl"] * 100,
                              ucl=rows["ucl"] * 100)
        ax.fill_between(percent["period"], percent["lcl"], percent["ucl"], color=PALETTE["reference"], alpha=0.25,
                        step="mid", linewidth=0, label="Laney p′ limits")
        ax.plot(percent["period"], percent["center"], color=PALETTE["reference"], linestyle="--", linewidth=1,
                drawstyle="steps-mid", label="centre")
        ax.plot(percent["period"], percent["rate"], color=PALETTE["current"], linewidth=1, marker=".",
                markersize=3, label="rate")
        _mark_flags(ax, percent, "period", "rate")
        _analysis_line(ax, result)
        ax.set_ylabel(f"{label} %")
        _dates(ax)
    axes[0, 0].legend(loc="upper left", ncol=4)
    axes[-1, 0].set_xlabel("period start (local time)")
    config = result.config
    centre = "seasonal centres" if config.rate_baseline == "seasonal" else "one centre"
    return finish(fig, f"Decision rates per {_word(result)}: Laney p′ chart, {result.limits.laney_L:.2f} σ limits, "
                       f"{centre}")


def ewma_chart(result: VolumeResult, decisions: Sequence[str] | None = None) -> Figure:
    """EWMA of each rate's deviation from its centre, with exact time-varying limits."""
    labels = _decisions(result, decisions)
    fig, axes = new_figure(len(labels), 1, height=1.8 * len(labels) + 0.4, squeeze=False, sharex=True)
    for ax, label in zip(axes[:, 0], labels, strict=True):
        rows = result.rates[(result.rates["decision"] == label) & (result.rates["window"] == "analysis")]
        ax.fill_between(rows["period"], rows["ewma_lcl"] * 100, rows["ewma_ucl"] * 100, color=PALETTE["reference"],
                        alpha=0.25, step="mid", linewidth=0, label="limits")
        ax.plot(rows["period"], rows["ewma"] * 100, color=PALETTE["current"], linewidth=1.2, label="EWMA")
        out = rows[rows["rule"].str.contains("ewma_out")].assign(ewma=lambda f: f["ewma"] * 100)
        _mark_flags(ax, out, "period", "ewma")
        ax.axhline(0, color=PALETTE["neutral"], linewidth=0.8)
        ax.set_ylabel(f"{label} Δ pp")
        _dates(ax)
    axes[-1, 0].set_xlabel("period start (local time), analysis window")
    config = result.config
    return finish(fig, f"EWMA of the rate's deviation from its centre, λ {config.ewma_lambda:g}, "
                       f"L {result.limits.ewma_L:.2f}, exact variance")


def cusum_chart(result: VolumeResult, decisions: Sequence[str] | None = None) -> Figure:
    """Tabular CUSUM (C⁺ up, C⁻ down) of each rate with the decision interval h."""
    labels = _decisions(result, decisions)
    config = result.config
    fig, axes = new_figure(len(labels), 1, height=1.8 * len(labels) + 0.4, squeeze=False, sharex=True)
    for ax, label in zip(axes[:, 0], labels, strict=True):
        rows = result.rates[(result.rates["decision"] == label) & (result.rates["window"] == "analysis")]
        ax.plot(rows["period"], rows["cusum_upper"], color=PALETTE["current"], linewidth=1.2, label="C⁺")
        ax.plot(rows["period"], -rows["cusum_lower"], color=PALETTE["neutral"], linewidth=1.2, label="−C⁻")
        for sign in (1, -1):
            ax.axhline(sign * result.limits.cusum_h, color=PALETTE["incident"], linestyle="--", linewidth=0.8)
        ax.set_ylabel(f"{label} (σ)")
        _dates(ax)
    axes[0, 0].legend(loc="upper left", ncol=2)
    axes[-1, 0].set_xlabel("period start (local time), analysis window")
    return finish(fig, f"Tabular CUSUM of the Laney-standardised rate, k {config.cusum_k:g}, "
                       f"h {result.limits.cusum_h:.2f} (dashed)")


def mix_chart(result: VolumeResult, scope: str = "overall") -> Figure:
    """Decision shares in the baseline and current windows."""
    rows = result.mix[result.mix["scope"] == scope]
    test = result.mix_tests[result.mix_tests["scope"] == scope].iloc[0]
    fig, ax = new_figure()
    x = np.arange(len(rows))
    ax.bar(x - 0.2, rows["baseline_share"] * 100, width=0.4, color=PALETTE["reference"], label="baseline")
    ax.bar(x + 0.2, rows["current_share"] * 100, width=0.4, color=PALETTE["current"], label="current")
    for i, change in enumerate(rows["change_pp"]):
        top = max(rows["baseline_share"].iloc[i], rows["current_share"].iloc[i]) * 100
        ax.annotate(f"{change:+.1f} pp", (i, top), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, rows["decision"].tolist())
    ax.set_ylabel("share of decisions %")
    ax.set_xlabel("decision")
    ax.legend(loc="upper right")
    config = result.config
    since = pd.Timestamp(rows["since"].iloc[0]).strftime("%Y-%m-%d %H:%M" if result.period == "H" else "%Y-%m-%d")
    return finish(fig, f"Decision mix ({scope}) since {since}: chi-square p = {test['p_value']:.1e} "
                       f"(onset scan), PSI {test['psi']:.4f} "
                       f"(gates {config.mix_psi_warning:g}/{config.mix_psi_incident:g}), "
                       f"Cramér's V {test['cramers_v']:.3f}")


def contribution_chart(result: VolumeResult, metric: str = "volume", top: int = 10) -> Figure:
    """Segment levels ranked by their contribution to the change in ``metric``."""
    table = result.contributions[result.contributions["metric"] == metric]
    table = table.reindex(table["contribution"].abs().sort_values(ascending=False).index).head(top)[::-1]
    fig, ax = new_figure(height=max(2.0, 0.3 * len(table) + 1.0))
    scale = 1.0 if metric == "volume" else 100.0
    colours = [PALETTE[level] if level != "ok" else PALETTE["current"] for level in table["severity"]]
    labels = [f"{c}={v}" for c, v in zip(table["segment_column"], table["segment_value"], strict=True)]
    hatches = [SEVERITY_HATCHES.get(level, "") for level in table["severity"]]
    ax.barh(labels, table["contribution"] * scale, color=colours, hatch=hatches, edgecolor="white")
    ax.axvline(0, color=PALETTE["neutral"], linewidth=0.8)
    since = (pd.Timestamp(table["since"].iloc[0]).strftime("%Y-%m-%d %H:%M" if result.period == "H" else "%Y-%m-%d")
             if len(table) else "the analysis start")
    if metric == "volume":
        ax.set_xlabel(f"observed - expected decisions since {since}")
        title = "Segment contributions to the change in volume (observed - seasonal expectation)"
    else:
        ax.set_xlabel(f"contribution to the overall change since {since}, pp")
        title = f"Segment contributions to the change in the {metric.split(':', 1)[1]} rate (shift-share: mix + within)"
    ax.set_ylabel("segment")
    return finish(fig, title + "; colour and hatch = severity (// warning, xx incident)")


def change_point_timeline(result: VolumeResult, top: int = 4) -> Figure:
    """The series that have change points, their segment means and the dated changes."""
    table = result.change_points
    if table.empty:
        fig, ax = new_figure(height=1.6)
        ax.text(0.5, 0.5, "no change points", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return finish(fig, "Change points (ruptures PELT): none found")
    # The main series first: overall volume and the decision rates, then segments.
    order = list(dict.fromkeys(table["series"]))
    main = [n for n in order if n == "overall"] + [n for n in order if n.endswith(" rate")]
    names = (main + [n for n in order if n not in main])[:top]
    fig, axes = new_figure(len(names), 1, height=1.9 * len(names) + 0.4, squeeze=False, sharex=True)
    for ax, name in zip(axes[:, 0], names, strict=True):
        points = table[table["series"] == name]
        if points["unit"].iloc[0] == "share":
            label = name.rsplit(" rate", 1)[0]
            rows = result.rates[result.rates["decision"] == label]
            x, y, ylabel = rows["period"], rows["rate"] * 100, f"{label} %"
            scale = 100.0
        else:
            rows = result.volume[result.volume["series"] == name]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = rows["observed"] / rows["expected"].where(rows["expected"] > 0)
            x, y, ylabel = rows["period"], ratio, "observed / expected"
            scale = 1.0
        ax.plot(x, y, color=PALETTE["current"], linewidth=1, marker=".", markersize=3)
        bounds = [x.iloc[0], *points["period"], x.iloc[-1]]
        means = [points["before"].iloc[0], *points["after"]]
        for (start, stop), mean in zip(pairwise(bounds), means, strict=True):
            ax.hlines(mean * scale, start, stop, color=PALETTE["neutral"], linewidth=1.5)
        for when in points["period"]:
            ax.axvline(when, color=PALETTE["incident"], linestyle="--", linewidth=1)
        ax.set_ylabel(ylabel)
        ax.set_title(name, loc="left", fontsize=9)
        _dates(ax)
    axes[-1, 0].set_xlabel("period start (local time); dashed: change points")
    config = result.config
    return finish(fig, f"Change points: ruptures PELT, l2 cost, penalty {config.changepoint_penalty:g}·σ̂²·ln n; "
                       "grey: segment means")


#: Checks that mark a gap in a series' volume, the most telling first.
_GAP_CHECKS = ("volume_zero", "volume_tail", "segment_volume_large", "segment_volume")
_PERIOD_LENGTH = {"H": pd.Timedelta(hours=1), "D": pd.Timedelta(days=1), "W": pd.Timedelta(weeks=1)}


def _gap_finding(result: VolumeResult) -> Finding | None:
    """The worst finding of a volume gap (a series at zero, or far below its baseline), zeros first."""
    gaps = [f for f in result.findings if f.check in _GAP_CHECKS and severity_rank(f.severity) >= 1
            and (f.value is None or f.value <= 0 or f.check == "volume_zero")]
    gaps.sort(key=lambda f: (-severity_rank(f.severity), _GAP_CHECKS.index(f.check)))
    return gaps[0] if gaps else None


def _gap_span(result: VolumeResult, finding: Finding, rows: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last period of the gap: from the finding's period ("start/end"), else its flagged periods."""
    length = _PERIOD_LENGTH.get(result.period, pd.Timedelta(days=1))
    if finding.period:
        start, _, end = finding.period.partition("/")
        try:
            first, last = pd.Timestamp(start), pd.Timestamp(end or start)
            dated = not (pd.isna(first) or pd.isna(last))
        except ValueError:
            dated = False
        if dated:
            tz = rows["period"].dt.tz if isinstance(rows["period"].dtype, pd.DatetimeTZDtype) else None
            if tz is not None:
                first = first.tz_localize(tz) if first.tzinfo is None else first
                last = last.tz_localize(tz) if last.tzinfo is None else last
            return first, last + length
    flagged = rows[(rows["window"] == "analysis") & (rows["severity"] != "ok")]
    if flagged.empty:
        return None
    return flagged["period"].min(), flagged["period"].max() + length


def outage_chart(result: VolumeResult) -> Figure:
    """The series of the worst volume gap (a channel at zero): observed against expected, the gap shaded.

    The alternative text is the finding's own sentence, then what the chart
    shows. Without a gap, a small figure says there is none.
    """
    finding = _gap_finding(result)
    fig, ax = new_figure(height=3.0)
    if finding is None or finding.subject not in set(result.volume["series"]):
        empty_axes(ax, "No series stopped or fell far below its seasonal baseline: no outage to chart.")
        return finish(fig, "Volume outage: none",
                      alt="No volume outage: no series stopped or fell far below its seasonal baseline.")
    rows = result.volume[result.volume["series"] == finding.subject].sort_values("period")
    ax.plot(rows["period"], rows["expected"], color=PALETTE["reference"], linestyle="--", linewidth=1,
            drawstyle="steps-post", label="expected (seasonal baseline)")
    ax.plot(rows["period"], rows["observed"], color=PALETTE["current"], linewidth=1.4, drawstyle="steps-post",
            label="observed")
    span = _gap_span(result, finding, rows)
    if span is not None:
        ax.axvspan(mdates.date2num(span[0]), mdates.date2num(span[1]), facecolor=PALETTE[finding.severity],
                   alpha=0.18, hatch=SEVERITY_HATCHES[finding.severity], edgecolor=PALETTE[finding.severity],
                   linewidth=0, label=f"gap ({finding.severity})")
    _analysis_line(ax, result)
    ax.set_ylabel(f"decisions per {_word(result)}")
    ax.set_xlabel("period start (local time); dotted line: analysis start")
    top = float(np.nanmax(rows[["observed", "expected"]].to_numpy(dtype=float), initial=1.0))
    ax.set_ylim(0, top * 1.3)  # room for the legend above the series
    _dates(ax)
    ax.legend(loc="upper left", ncol=3)
    where = finding.subject.replace("=", ": ")
    title = f"{where}: decisions per {_word(result)}, the gap shaded"
    gap = (f" The gap, shaded, runs from {span[0]:%d %b %Y} to {(span[1] - pd.Timedelta(seconds=1)):%d %b %Y}."
           if span is not None else "")
    alt = (f"{finding.message.rstrip('.')}.{gap} Chart of {where}: observed decisions per {_word(result)} "
           "against the seasonal baseline's expectation.")
    return finish(fig, title, alt=alt)
