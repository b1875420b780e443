"""``<out>/index.html``: every run at a glance, built from the run registry.

Per model: a strip of cells per analysis, one per run, newest on the left
like the table (the status as a letter and a colour, never colour alone; each
cell links to its report), and the trend of key metrics over the last runs as small inline SVG
sparklines (for the drift analysis, each feature's PSI). Then a table of runs,
newest first.

The page is self-contained like a report: no script, no external request (a
Content-Security-Policy says so), inline SVG only. Model names, headlines and
metric subjects come from data and are escaped everywhere.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import logging
import math
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError, OutputError
from ._ledger import open_registry
from ._registry import REGISTRY_FILE, Registry, RunRecord, record_from_manifest
from ._store import list_runs, locked, write_text_atomic

log = logging.getLogger("mlreport")

__all__ = ["write_index", "index_html", "sparkline_svg", "trend_series", "STRIP_RUNS", "TREND_RUNS"]

STRIP_RUNS = 60
TREND_RUNS = 30
TABLE_RUNS = 300
MAX_TREND_METRICS = 3
MAX_TREND_SUBJECTS = 12

_WORDS = {"ok": "HEALTHY", "warning": "WARNING", "incident": "INCIDENT", "failed": "FAILED"}
_LETTERS = {"ok": "H", "warning": "W", "incident": "I", "failed": "F"}
_COLOURS = {"ok": "#1a7f37", "warning": "#9a6700", "incident": "#cf222e", "failed": "#6e2b8f"}
_LINE = "#0969da"
_NEUTRAL = "#57606a"

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.2e}"


def sparkline_svg(values: Sequence[float | None], *, low: float, high: float, label: str,
                  width: int = 180, height: int = 30) -> str:
    """A small inline SVG line of ``values`` (None leaves a gap) on the scale [low, high].

    The scale is shared by the lines of one metric so they compare at a
    glance; the last point is marked. ``label`` becomes the accessible name.
    """
    pad = 3.0
    n = len(values)
    span = (high - low) or 1.0

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 0.5)
        y = height - pad - (height - 2 * pad) * ((v - low) / span)
        return round(x, 1), round(y, 1)

    segments: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None or not math.isfinite(v):
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append(xy(i, v))
    shapes = []
    for points in segments:
        if len(points) > 1:
            text = " ".join(f"{x},{y}" for x, y in points)
            shapes.append(f'<polyline fill="none" stroke="{_LINE}" stroke-width="1.5" points="{text}"/>')
        elif len(points) == 1:
            x, y = points[0]
            shapes.append(f'<circle cx="{x}" cy="{y}" r="1.5" fill="{_LINE}"/>')
    last = next(((i, v) for i, v in reversed(list(enumerate(values))) if v is not None and math.isfinite(v)), None)
    if last is not None:
        x, y = xy(*last)
        shapes.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{_NEUTRAL}"/>')
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_e(label)}"><title>{_e(label)}</title>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#d0d7de"/>'
        + "".join(shapes) + "</svg>"
    )


def trend_series(
    runs: Sequence[RunRecord], metrics: Sequence[tuple[str, str, str, float]], *,
    max_metrics: int = MAX_TREND_METRICS, max_subjects: int = MAX_TREND_SUBJECTS,
) -> list[tuple[str, list[tuple[str, list[float | None]]]]]:
    """The key metrics worth a trend: ``[(metric, [(subject, values per run)])]``.

    A metric qualifies when it moved over these runs (a constant such as a
    seed is no trend). Metrics with subjects (a value per column) come first,
    then by name; within a metric the subjects with the largest latest value
    come first. Values are aligned with ``runs`` (None where a run lacks one).
    """
    position = {run.run_id: i for i, run in enumerate(runs)}
    table: dict[str, dict[str, list[float | None]]] = {}
    for run_id, metric, subject, value in metrics:
        if run_id not in position:
            continue
        series = table.setdefault(metric, {}).setdefault(subject, [None] * len(runs))
        series[position[run_id]] = value
    chosen = []
    for metric, subjects in table.items():
        moving = {
            s: v for s, v in subjects.items()
            if len({x for x in v if x is not None}) > 1
        }
        if moving:
            chosen.append((metric, subjects))
    chosen.sort(key=lambda item: (-len(item[1]), item[0]))

    def latest(values: list[float | None]) -> float:
        return next((abs(v) for v in reversed(values) if v is not None), -1.0)

    result = []
    for metric, subjects in chosen[:max_metrics]:
        ranked = sorted(subjects.items(), key=lambda kv: (-latest(kv[1]), kv[0]))[:max_subjects]
        result.append((metric, ranked))
    return result


def _strip(records: Sequence[RunRecord]) -> str:
    cells = []
    for record in records:  # newest first, like the table
        word = _WORDS.get(record.status, record.status.upper())
        letter = _LETTERS.get(record.status, "?")
        title = f"{record.started_at or ''} {word}: {record.headline}"
        status = _e(record.status)
        if record.pruned:
            cells.append(f'<span class="c st-{status} pruned" title="{_e(title + " (report pruned)")}">{letter}</span>')
        else:
            cells.append(
                f'<a class="c st-{status}" href="{_e(record.report_path)}" title="{_e(title)}">{letter}</a>'
            )
    return '<div class="strip">' + "".join(cells) + "</div>"


def _trends(registry: Registry, model: str, analysis: str) -> str:
    runs, metrics = registry.metric_series(model, analysis, last=TREND_RUNS)
    series = trend_series(runs, metrics)
    if not series:
        return ""
    parts = [f'<p class="note">Key metrics over the last {len(runs)} completed run(s), oldest to newest; '
             "one scale per metric; the grey dot is the latest run.</p>"]
    for metric, subjects in series:
        values = [v for _, vs in subjects for v in vs if v is not None]
        low, high = min(0.0, min(values)), max(values)
        rows = []
        for subject, vs in subjects:
            last = next((v for v in reversed(vs) if v is not None), None)
            peak = max((v for v in vs if v is not None), default=None)
            name = subject or metric
            label = f"{metric} {subject} over {len(vs)} runs: latest {_fmt(last)}, max {_fmt(peak)}"
            rows.append(
                f"<tr><th scope=\"row\">{_e(name)}</th><td>{sparkline_svg(vs, low=low, high=high, label=label)}</td>"
                f"<td>{_e(_fmt(last))}</td><td>{_e(_fmt(peak))}</td></tr>"
            )
        parts.append(
            f'<table class="trend"><caption>{_e(metric)} (scale {_e(_fmt(low))} to {_e(_fmt(high))})</caption>'
            '<thead><tr><th scope="col">Subject</th><th scope="col">Trend</th><th scope="col">Latest</th>'
            f'<th scope="col">Max</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )
    return "".join(parts)


def _table(records: Sequence[RunRecord]) -> str:
    rows = []
    for r in records:
        word = _WORDS.get(r.status, r.status.upper())
        link = "pruned" if r.pruned else f'<a href="{_e(r.report_path)}">report</a>'
        rows.append(
            "<tr>"
            f'<td class="st st-{_e(r.status)}">{_e(word)}</td>'
            f"<td>{_e(r.started_at)}</td><td>{_e(r.analysis)}</td><td>{_e(r.model)}</td>"
            f"<td>{_e(r.data_period)}</td>"
            f"<td>{_e(r.counts.get('incident', 0))} / {_e(r.counts.get('warning', 0))}</td>"
            f"<td>{_e(r.headline)}</td><td>{_e(r.exit_code)}</td><td>{link}</td>"
            "</tr>"
        )
    return "".join(rows) or '<tr><td colspan="9">No runs yet.</td></tr>'


def index_html(registry: Registry, *, generated: str | None = None) -> str:
    """The whole index page (see the module docstring)."""
    generated = generated or dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    groups = registry.groups()
    total = sum(n for _, _, n, _ in groups)
    models: dict[str, list[tuple[str, int]]] = {}
    for model, analysis, n, _ in groups:
        models.setdefault(model, []).append((analysis, n))
    sections = []
    for number, (model, analyses) in enumerate(models.items()):
        blocks = []
        for analysis, n in analyses:
            recent = registry.history(model=model, analysis=analysis, limit=STRIP_RUNS)
            latest = recent[0]
            blocks.append(
                f'<h3>{_e(analysis)} <span class="note">{n} run(s); latest '
                f'<strong class="st-text st-{_e(latest.status)}">{_e(_WORDS.get(latest.status, latest.status.upper()))}'
                f"</strong> {_e(latest.started_at)}</span></h3>"
                + _strip(recent)
                + _trends(registry, model, analysis)
            )
        sections.append(f'<section id="model-{number}"><h2>{_e(model)}</h2>{"".join(blocks)}</section>')
    newest = registry.history(limit=TABLE_RUNS)
    more = f" (the newest {TABLE_RUNS}; `mlreport history` lists all)" if total > TABLE_RUNS else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>mlreport runs</title>
<style>
html{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:14px;color:#1f2328}}
body{{max-width:1200px;margin:0 auto;padding:16px 24px}}
table{{border-collapse:collapse;width:100%}} \
th,td{{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}}
h1,h2,h3,p,a{{overflow-wrap:anywhere}}
th{{background:#f6f8fa}} .st{{font-weight:700;color:#fff;white-space:nowrap}}
.st-ok{{background:{_COLOURS['ok']}}} .st-warning{{background:{_COLOURS['warning']}}}
.st-incident{{background:{_COLOURS['incident']}}} .st-failed{{background:{_COLOURS['failed']}}}
.st-text{{color:#fff;padding:0 4px;border-radius:3px}}
.strip{{display:flex;flex-wrap:wrap;gap:2px;margin:4px 0 8px}}
.c{{display:inline-block;width:18px;height:22px;line-height:22px;text-align:center;color:#fff;font-weight:700;
font-size:12px;text-decoration:none;border-radius:2px}}
.c.pruned{{opacity:.45;text-decoration:line-through}}
.note{{color:{_NEUTRAL};font-weight:400;font-size:13px}}
table.trend{{width:auto;margin:6px 0 12px}} table.trend td,table.trend th{{padding:2px 8px;vertical-align:middle}}
caption{{text-align:left;font-weight:600;padding:4px 0}}
@media print{{.c{{border:1px solid #000;color:#000;background:none}} .st{{color:#000;background:none}}}}
</style></head>
<body><h1>mlreport runs</h1>
<p>{total} run(s) of {len(models)} model(s), built from the run registry at {_e(generated)} (UTC).
Status is written as a word or letter; colour only repeats it: <strong>H</strong> healthy,
<strong>W</strong> warning, <strong>I</strong> incident, <strong>F</strong> run failed; struck-through cells are
runs whose report was pruned. Strips run newest to oldest from the left, like the table; \
trend lines run oldest to newest, left to
right. Each cell links to its report; hover for the headline.</p>
{"".join(sections)}
<h2>All runs, newest first</h2>
<p class="note">{len(newest)} run(s){more}.</p>
<table><thead><tr><th scope="col">Status</th><th scope="col">Started (UTC)</th><th scope="col">Analysis</th>
<th scope="col">Model</th><th scope="col">Data period</th><th scope="col">Incidents / warnings</th>
<th scope="col">Headline</th><th scope="col">Exit code</th><th scope="col">Report</th></tr></thead>
<tbody>{_table(newest)}</tbody></table></body></html>
"""


def write_index(out_dir: Path) -> Path:
    """Rebuild ``<out>/index.html`` from the registry (under a lock, written atomically).

    Without a usable registry (none yet, or one that is damaged or missing
    where runs were recorded), the page lists the run folders' manifests
    instead: a view, built aside and thrown away; the record itself is
    neither created nor repaired here.
    """
    out_dir = Path(out_dir)
    index = out_dir / "index.html"
    if (out_dir / REGISTRY_FILE).exists():
        try:
            registry = open_registry(out_dir)
        except InputError as exc:
            log.warning("index from the run folders: %s", exc.message)
        else:
            with locked(out_dir / ".tmp" / "index.lock"):
                write_text_atomic(index, index_html(registry))
            return index
    view = out_dir / ".tmp" / f"index-view-{secrets.token_hex(4)}"
    try:
        view.mkdir(parents=True)
        registry = Registry(out_dir, path=view / REGISTRY_FILE)
        for manifest in list_runs(out_dir):
            with contextlib.suppress(KeyError, TypeError, ValueError, OutputError):
                registry.record(record_from_manifest(
                    manifest, out_dir=out_dir, run_dir=out_dir / manifest["_dir"], origin="folder",
                ))
        with locked(out_dir / ".tmp" / "index.lock"):
            write_text_atomic(index, index_html(registry))
    except OSError as exc:
        raise OutputError(f"cannot write {index}: {exc}") from None
    finally:
        shutil.rmtree(view, ignore_errors=True)
    return index
