"""The result of one volume analysis: its tables, findings and headline, and the report built from them.

:class:`VolumeResult` is what :func:`~mlreport.volume.analyse` and
:func:`~mlreport.volume.analyse_counts` return: the tidy tables of every test,
the findings and headline, and the report's sections (``tables`` and
``figures``, by name, computed on first use) and ``summary``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..analysis import AnalysisResult, Sections
from ..counts import DecisionCounts, period_text
from ..data import InputLog
from ..findings import Finding, Summary, severity_rank, summarize, worst
from ..stats import PERIOD_WORDS
from ..tables import Table
from ..tables import table as report_table
from . import _plots
from ._budget import _Limits
from ._config import VolumeConfig
from ._events import _Event
from ._methods import methods_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..backends import Backend

__all__ = ["VolumeResult", "TABLES", "FIGURES"]

TABLES: tuple[str, ...] = (
    "overview", "flagged_volume", "mix_tests", "score_bands", "segment_volume", "segment_rate", "change_points",
    "methods", "computation",
)
"""Names of :attr:`VolumeResult.tables`, in the order the report shows them."""

FIGURES: tuple[str, ...] = (
    "volume_timeline", "outage", "rates", "ewma", "cusum", "mix", "segment_volume", "segment_rate", "change_points",
)
"""Names of :attr:`VolumeResult.figures`, in the order the report shows them."""


@dataclass
class VolumeResult(AnalysisResult):
    """What one volume analysis found: tidy tables, findings, headline, and the report's sections.

    Data tables (one row per ...):

    ``volume``
        series x period: ``series`` ("overall" or "column=value"),
        ``segment_column``, ``segment_value``, ``period``, ``window``
        ("baseline" / "analysis"), ``exposure``, ``holiday``, ``observed``,
        ``covered`` (share of the period's expected volume the data covers),
        ``expected`` (scaled by it), ``lower`` / ``upper`` (central band at the
        per-test warning level),
        ``p_value`` (two-sided), ``dispersion`` (φ), ``rule``, ``severity``.
    ``rates``
        decision label (and "override") x period: ``n``, ``count``, ``rate``,
        ``center``, ``lcl`` / ``ucl`` (Laney p′), ``sigma_z``, ``z``, ``ewma``,
        ``ewma_lcl`` / ``ewma_ucl``, ``cusum_upper`` / ``cusum_lower``, ``rule``,
        ``severity``.
    ``mix``
        scope x decision: baseline and current counts and shares from
        ``since`` (the overall scope from the onset of the most severe rate
        finding, a segment level from its own onset), ``expected_share`` (the
        baseline's slot shares over that window), ``change_pp``.
    ``mix_tests``
        scope (overall, each segment level, score bands): ``since`` (the most
        significant onset) and ``onsets`` (candidates scanned), chi-square,
        dof, ``dispersion`` (φ), ``p_onset`` (at that onset), ``p_value``
        (times the onsets), ``q_value`` (BH across segment levels),
        ``cramers_v``, ``psi``, ``rule``, ``severity``.
    ``contributions``
        segment level x metric ("volume" or "rate:<label>"): see
        :meth:`segment_table`.
    ``score_bands``
        score band: edges, baseline and current counts and shares.
    ``change_points``
        series x change point: ``period``, ``before``, ``after``, ``unit``.

    Provenance: ``backend`` (what counted the decisions), ``inputs`` (the
    run's :class:`~mlreport.data.InputLog`) and ``model`` (the spec's model
    name), set by :func:`~mlreport.volume.analyse`; a result of
    :func:`~mlreport.volume.analyse_counts` alone has no backend and no inputs.
    ``limits``: the thresholds the report's error budget resolved to (printed
    in the methods table and the run record's thresholds); ``hourly``: the
    hourly counts a daily or weekly report found its zero runs on, if any;
    ``moved_decision``: the decision the rate findings are about
    (:meth:`most_moved_decision`).

    The report, by notebook section (:data:`TABLES` and :data:`FIGURES` name
    the keys), each computed on first use:

    ==================  ===============================  =============================
    section             ``tables``                       ``figures``
    ==================  ===============================  =============================
    Data and windows    ``overview``
    Volume timeline     ``flagged_volume``               ``volume_timeline``, ``outage``
    Decision rates                                       ``rates``, ``ewma``, ``cusum``
    Decision mix        ``mix_tests``, ``score_bands``   ``mix``
    Segments            ``segment_volume``,              ``segment_volume``,
                        ``segment_rate``                 ``segment_rate``
    Change points       ``change_points``                ``change_points``
    Methods             ``methods``, ``computation``
    ==================  ===============================  =============================
    """

    analysis = "volume"

    config: VolumeConfig
    counts: DecisionCounts
    volume: pd.DataFrame
    rates: pd.DataFrame
    mix: pd.DataFrame
    mix_tests: pd.DataFrame
    contributions: pd.DataFrame
    score_bands: pd.DataFrame
    change_points: pd.DataFrame
    headline: str
    events: list[_Event] = field(default_factory=list, repr=False)
    backend: Backend | None = field(default=None, repr=False, compare=False)
    inputs: InputLog = field(default_factory=InputLog, repr=False, compare=False)
    model: str = ""
    limits: _Limits = field(default_factory=_Limits, repr=False)
    moved_decision: str | None = None
    hourly: DecisionCounts | None = field(default=None, repr=False, compare=False)

    # -- the shape every analysis shares -------------------------------------
    @cached_property
    def findings(self) -> list[Finding]:
        """Every finding, worst first (one ``ok`` finding for each section that raised nothing)."""
        return [event.finding() for event in self.events]

    @cached_property
    def summary(self) -> Summary:
        """What the notebook publishes: status, headline, findings, thresholds, methods and metrics.

        With a backend, ``methods["backend"]`` is its one-line description and
        time so far, ``metrics["backend"]`` its :meth:`~mlreport.backends.Backend.run_info`;
        ``inputs`` are the run's recorded inputs; ``data_period`` runs from the
        baseline start to the end of the analysis window.
        """
        windows = self.windows()
        methods = self.methods()
        metrics = self.metrics()
        if self.backend is not None:
            methods["backend"] = self.backend.run_summary()
            metrics["backend"] = self.backend.run_info()
        return summarize(
            "volume", self.findings, headline=self.headline, thresholds=self.thresholds(), methods=methods,
            metrics=metrics, inputs=self.inputs.to_list(), model=self.model,
            data_period=f"{windows['baseline_start']} to {windows['analysis_end']}",
        )

    @cached_property
    def tables(self) -> Sections[Table]:
        """The report's tables by name (see the class docstring), captioned."""
        label = self.most_moved_decision()
        rate = f"{label} rate" if label is not None else "most moved decision rate"
        makers: dict[str, Callable[[], Table]] = {
            "overview": lambda: _table(self.overview(), "What was analysed: decisions, period, windows and labels"),
            "flagged_volume": lambda: _table(
                self.flagged_volume(), "Flagged series and periods, most severe first (at most 20)"),
            "mix_tests": lambda: _table(
                _rounded(self.mix_tests.drop(columns=["segment_column", "segment_value"]), 5).head(20),
                "Decision-mix tests, baseline against current window: chi-square, Cramér's V and PSI "
                "(first 20 scopes)"),
            "score_bands": lambda: _table(
                self.score_bands.round(4), "Score-band mix: baseline score quantile bands, counts and shares"),
            "segment_volume": lambda: _table(
                self.segment_table("volume"), "Segment levels by their contribution to the change in volume"),
            "segment_rate": lambda: _table(
                self.segment_table("rate"),
                f"Segment levels by their contribution to the change in the {rate} (shift-share)"),
            "change_points": lambda: _table(
                self.change_point_table(), "Change points of the volume and rate series, with the means around them"),
            "methods": lambda: _table(self.methods_table(), "Methods, parameters and thresholds"),
            "computation": lambda: _table(
                _computation_frame(self.backend), "The backend that counted the decisions"),
        }
        return Sections(makers, kind="table")

    @cached_property
    def figures(self) -> Sections[Figure]:
        """The report's figures by name (see the class docstring), each titled with its method."""
        makers: dict[str, Callable[[], Figure]] = {
            "volume_timeline": lambda: _plots.volume_timeline(self),
            "outage": lambda: _plots.outage_chart(self),
            "rates": lambda: _plots.rate_chart(self),
            "ewma": lambda: _plots.ewma_chart(self),
            "cusum": lambda: _plots.cusum_chart(self),
            "mix": lambda: _plots.mix_chart(self),
            "segment_volume": lambda: _plots.contribution_chart(self, "volume"),
            "segment_rate": lambda: _plots.contribution_chart(self, f"rate:{self.most_moved_decision()}"),
            "change_points": lambda: _plots.change_point_timeline(self),
        }
        return Sections(makers, kind="figure")

    # -- the analysis' own views ---------------------------------------------
    @property
    def period(self) -> str:
        return self.counts.period

    @property
    def status(self) -> str:
        return worst(f.severity for f in self.findings)

    def windows(self) -> dict[str, str]:
        """Baseline and analysis windows as ISO text (end exclusive)."""
        c = self.counts
        return {
            "baseline_start": c.baseline_start.isoformat(),
            "analysis_start": c.analysis_start.isoformat(),
            "analysis_end": c.end.isoformat(),
            "period": c.period,
            "timezone": c.timezone or "",
        }

    def thresholds(self) -> dict[str, Any]:
        """Every parameter, threshold and the severity mapping, with the resolved windows and limits.

        ``resolved`` holds the per-test thresholds the error budget gave this
        report (:attr:`limits`).
        """
        return {**self.config.to_dict(), **self.windows(), "resolved": self.limits.to_dict()}

    def methods(self) -> dict[str, str]:
        """Method name -> convention string, for ``summarize(methods=...)``."""
        table = self.methods_table()
        return {
            str(method): f"{description}; {parameters}"
            for method, description, parameters in zip(
                table["method"], table["description"], table["parameters"], strict=True
            )
        }

    def methods_table(self) -> pd.DataFrame:
        """Every method with its parameters and thresholds (the report's methods section)."""
        return methods_table(self.config, self.counts, self.limits)

    def overview(self) -> pd.DataFrame:
        """What was analysed: rows, period, windows, series and labels (one column of facts)."""
        c = self.counts
        last = c.end - pd.Timedelta(1, unit="ns")
        facts = {
            "decisions counted": f"{c.rows:,}",
            "period": f"{PERIOD_WORDS[c.period]} ({'inferred' if self.config.period == 'auto' else 'given'})",
            "time zone": c.timezone or "none (naive timestamps taken as local)",
            "baseline window": f"{period_text(c.baseline_start, c.period)} to "
            f"{period_text(c.analysis_start - pd.Timedelta(1, unit='ns'), c.period)} "
            f"({self.config.baseline_weeks} weeks, {self.config.baseline_mode})",
            "analysis window": f"{period_text(c.analysis_start, c.period)} to {period_text(last, c.period)} "
            f"({len(c.periods) - c.baseline_periods} {PERIOD_WORDS[c.period]}s)",
            "decision labels": ", ".join(c.labels),
            "segment columns": ", ".join(f"{k} ({len(v[0])})" for k, v in c.segments.items()) or "none",
            "score bands": f"{len(c.score_edges) + 1} + missing" if c.score_edges is not None else "no score",
            "override rate": "yes" if c.overrides is not None else "no override column",
            "policy version": self.config.version,
        }
        return pd.DataFrame({"value": list(facts.values())}, index=pd.Index(list(facts), name="item"))

    def flagged_volume(self, *, top: int = 20) -> pd.DataFrame:
        """Flagged series-periods, most severe first, then in time order."""
        table = self.volume[self.volume["severity"] != "ok"]
        rank = -table["severity"].map(severity_rank).astype("int64")
        table = table.assign(rank=rank).sort_values(["rank", "period", "series"])
        columns = ["series", "period", "observed", "expected", "lower", "upper", "p_value", "rule", "severity"]
        return table[columns].head(top).round({"expected": 1, "lower": 0, "upper": 0}).reset_index(drop=True)

    def change_point_table(self) -> pd.DataFrame:
        """The change points for display: series, when, the means before and after."""
        table = self.change_points.drop(columns=["method"])
        return table.round({"before": 4, "after": 4, "change": 4})

    def most_moved_decision(self) -> str | None:
        """The decision the report's rate findings are about, else the one that moved most.

        The decision of the most severe flagged rate or decision-mix finding
        (overall or in a segment); without any, the label whose overall share
        moved most in standard errors from the overall mix scan's onset. None
        without decisions.
        """
        return self.moved_decision

    def metrics(self) -> dict[str, Any]:
        """Key figures for the run record."""
        analysed = self.volume[self.volume["p_value"].notna()]
        rates = self.rates[(self.rates["window"] == "analysis") & (self.rates["n"] > 0)]
        overall = self.mix_tests[self.mix_tests["scope"] == "overall"].iloc[0]
        return {
            "rows": self.counts.rows,
            "period": self.counts.period,
            "series": int(self.volume["series"].nunique()),
            "series_periods_tested": len(analysed),
            "volume_flags": {level: int((analysed["severity"] == level).sum()) for level in ("warning", "incident")},
            "rate_periods": len(rates),
            "rate_flags": {level: int((rates["severity"] == level).sum()) for level in ("warning", "incident")},
            "mix_psi": float(overall["psi"]),
            "mix_cramers_v": float(overall["cramers_v"]),
            **self._volume_and_rates(),
        }

    def _volume_and_rates(self) -> dict[str, Any]:
        """Decisions observed and expected (analysis window, and its last period) and each decision's rate.

        Volume: the overall series, periods with exposure, expected from the
        seasonal baseline. Rates: count / n summed over the window, baseline
        and analysis, per decision label.
        """
        overall = self.volume[(self.volume["series"] == "overall") & (self.volume["window"] == "analysis")
                              & (self.volume["exposure"] > 0)]
        figures: dict[str, Any] = {}
        if not overall.empty:
            last = overall.sort_values("period").iloc[-1]
            figures.update(
                volume_observed=float(overall["observed"].sum()),
                volume_expected=float(overall["expected"].sum()),
                volume_last_period=str(last["period"]),
                volume_last_observed=float(last["observed"]),
                volume_last_expected=float(last["expected"]),
            )
        for window, key in (("analysis", "decision_rate"), ("baseline", "decision_rate_baseline")):
            rows = self.rates[(self.rates["window"] == window) & (self.rates["n"] > 0)]
            sums = rows.groupby("decision", sort=True)[["count", "n"]].sum()
            figures[key] = {str(label): float(row["count"] / row["n"]) for label, row in sums.iterrows()}
        return figures

    def segment_table(self, metric: str = "volume", *, top: int = 20) -> pd.DataFrame:
        """Segment levels ranked by their contribution to the change in ``metric``.

        ``metric`` is "volume", "rate:<label>" (for example "rate:approve") or
        "rate" (the decision whose overall share moved most).
        Volume: observed and expected counts over the analysed periods from
        ``since`` (the onset of the report's most severe volume finding), their
        difference (the contribution) and its share of the column's total
        change, and the level's own test (BH-adjusted q-value, from its own
        onset). Rates: baseline and current rate of the segment (%), from
        ``since`` (the onset of the most severe rate finding), mix and within
        effects and their sum (pp) from :func:`~mlreport.volume.shift_share`;
        they add up to the overall change over the same window.
        """
        if metric == "rate":
            label = self.most_moved_decision()
            metric = f"rate:{label}" if label is not None else metric
        table = self.contributions
        table = table[table["metric"] == metric]
        if table.empty:
            return table
        if metric == "volume":
            view = table[[
                "segment_column", "segment_value", "since", "baseline", "expected", "current", "contribution",
                "relative_change", "share_of_change", "q_value", "flags", "severity",
            ]].rename(columns={
                "baseline": "baseline volume", "expected": "expected", "current": "observed",
                "contribution": "observed - expected", "relative_change": "change %",
                "share_of_change": "share of change %",
            })
            view = view.assign(**{
                "change %": view["change %"] * 100, "share of change %": view["share of change %"] * 100,
            })
        else:
            view = table[[
                "segment_column", "segment_value", "since", "baseline", "current", "mix_effect",
                "within_effect", "contribution", "q_value", "flags", "severity",
            ]].rename(columns={
                "baseline": "baseline rate %", "current": "current rate %",
                "mix_effect": "mix effect pp", "within_effect": "within effect pp",
                "contribution": "contribution pp",
            })
            for column in ("baseline rate %", "current rate %", "mix effect pp", "within effect pp", "contribution pp"):
                view[column] = view[column] * 100
        order = table["contribution"].abs().sort_values(ascending=False).index
        return _rounded(view.loc[order].head(top), 3).reset_index(drop=True)



def _rounded(frame: pd.DataFrame, decimals: int) -> pd.DataFrame:
    """``frame`` with its numeric columns rounded (dates and text as they are)."""
    numeric = frame.select_dtypes("number").columns
    return frame.round({column: decimals for column in numeric})


def _table(frame: pd.DataFrame, caption: str) -> Table:
    """A report table as a kernel would display ``frame`` (:func:`mlreport.tables.register`), with a caption.

    At most 50 rows; the index is shown when it is named or not a plain range.
    """
    keep_index = not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None
    return report_table(frame, caption=caption, index=keep_index, limit=50)


def _computation_frame(backend: Backend | None) -> pd.DataFrame:
    """The backend that counted the decisions: name, settings and seconds (every section runs on counts)."""
    if backend is None:
        rows: list[tuple[str, Any]] = [("backend", "none recorded: the counts were given to analyse_counts")]
    else:
        info = backend.run_info()
        rows = [
            ("backend", info["backend"]),
            ("settings", info["settings"]),
            ("seconds counting", info["seconds"]),
            ("rows", "every row of the log is counted; no section needs rows in memory"),
        ]
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")
