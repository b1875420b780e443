"""The outputs index built from the registry: strips, trends, table; escaped and self-contained."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from mlreport.record import (
    Registry,
    RunRecord,
    home_models,
    index_html,
    record_from_manifest,
    sparkline_svg,
    status_words,
    trend_series,
    write_index,
)

HOSTILE = '<script>alert("m")</script>'


def add(registry: Registry, out: Path, i: int, *, model: str = "card", status: str = "ok", psi: float = 0.1,
        headline: str = "fine", pruned: bool = False) -> RunRecord:
    run_id = f"202603{i + 1:02d}T020000Z-{i:08d}"
    manifest = {
        "run_id": run_id, "model": model, "analysis": "drift", "status": status, "exit_code": 0,
        "started_at": f"2026-03-{i + 1:02d}T02:00:00Z", "headline": headline, "parameters": {}, "inputs": [],
        "findings": [], "counts": {"incident": int(status == "incident")},
        "metrics": {"psi": {"income": psi, "age": 0.01 * i, "const": 0.5}, "seed": 7},
    }
    record = record_from_manifest(manifest, out_dir=out, run_dir=out / "x" / "drift" / run_id)
    registry.record(record)
    if pruned:
        registry.mark_pruned([run_id])
    return record


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_index_strip_trend_and_table(tmp_path: Path):
    registry = Registry(tmp_path)
    statuses = ["ok", "warning", "incident", "failed", "ok", "incident"]
    records = [
        add(registry, tmp_path, i, status=s, psi=0.05 * (i + 1), pruned=(i == 0)) for i, s in enumerate(statuses)
    ]
    page = index_html(registry, generated="2026-03-07T00:00:00Z")
    strip = re.search(r'<div class="strip">(.*?)</div>', page).group(1)
    # Newest first, a letter per status, links to reports; the pruned one has no link.
    assert re.findall(r">([HWIF])</(?:a|span)>", strip) == ["I", "H", "F", "I", "W", "H"]
    assert f'href="{records[5].report_path}"' in strip and f'href="{records[0].report_path}"' not in strip
    assert "pruned" in strip
    # Trends: psi moved, so each of its columns gets a line (the flat one too); the seed never moved.
    trend = re.search(r'<table class="trend">(.*?)</table>', page, re.S).group(1)
    assert "<caption>psi" in trend and trend.count("<svg") == 3
    assert trend.index(">const<") < trend.index(">income<") < trend.index(">age<")  # latest 0.5, 0.3, 0.05
    assert "seed" not in page
    # The failed run has no metrics point: 5 values on the income line.
    points = re.search(r'aria-label="psi income over (\d+) runs', trend).group(1)
    assert points == "5"
    # Table newest first, status words.
    table = page[page.index("All runs, newest first"):]
    assert table.index(records[5].run_id) < table.index(records[4].run_id)
    assert "FAILED" in table and "INCIDENT" in table and ">pruned<" in table


def test_index_escapes_untrusted_names_and_requests_nothing(tmp_path: Path):
    registry = Registry(tmp_path)
    for i in range(3):
        add(registry, tmp_path, i, model=HOSTILE, headline='<img src=x onerror=alert(1)> & "q"', psi=0.1 * i)
    page = write_index(tmp_path).read_text()
    assert "<script" not in page.lower() and "<img" not in page
    assert "&lt;script&gt;alert(&quot;m&quot;)&lt;/script&gt;" in page
    assert 'http-equiv="Content-Security-Policy"' in page and "default-src 'none'" in page
    parser = Collector()
    parser.feed(page)
    for tag, attrs in parser.tags:
        for name in ("src", "href"):
            assert not re.match(r"\s*(https?:|//|javascript:)", attrs.get(name) or "", re.I), (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
    assert "url(" not in page and "@import" not in page


def test_empty_registry_page(tmp_path: Path):
    page = write_index(tmp_path).read_text()
    assert "No runs yet." in page and "0 run(s)" in page


def test_sparkline_scale_and_gaps():
    svg = sparkline_svg([0.0, None, 1.0, 0.5], low=0.0, high=1.0, label="psi <x>", width=100, height=20)
    assert 'aria-label="psi &lt;x&gt;"' in svg and "<title>psi &lt;x&gt;</title>" in svg
    # A gap splits the line: one lone point, then a segment through (x=3+94*2/3, top) and (x=97, middle).
    assert svg.count("<polyline") == 1 and 'points="65.7,3.0 97.0,10.0"' in svg
    assert '<circle cx="3.0" cy="17.0" r="1.5"' in svg  # the first value, alone, at the bottom
    assert svg.endswith("</svg>")


def test_trend_series_selects_moving_metrics_biggest_latest_first():
    runs = [RunRecord(run_id=f"r{i}", model="m", analysis="a", status="ok", exit_code=0, run_dir="", report_path="")
            for i in range(3)]
    metrics = [(f"r{i}", "psi", s, v) for i in range(3) for s, v in (("a", 0.1 * i), ("b", 0.3), ("c", 0.6 - 0.1 * i))]
    metrics += [(f"r{i}", "rows", "", 100.0) for i in range(3)]
    metrics += [("r2", "mix_psi", "", 0.2), ("r0", "mix_psi", "", 0.1)]
    series = trend_series(runs, metrics)
    assert [name for name, _ in series] == ["psi", "mix_psi"]
    psi = dict(series)["psi"]
    assert [s for s, _ in psi] == ["c", "b", "a"]  # latest 0.4, 0.3, 0.2
    assert dict(psi)["a"] == [0.0, 0.1, 0.2] and dict(dict(series)["mix_psi"])[""] == [0.1, None, 0.2]


def _run(registry: Registry, out: Path, i: int, *, model: str, analysis: str = "drift", status: str = "ok",
         exit_code: int = 0, error_kind: str | None = None) -> RunRecord:
    run_id = f"202604{i + 1:02d}T020000Z-{i:08d}"
    manifest = {
        "run_id": run_id, "model": model, "analysis": analysis, "status": status, "exit_code": exit_code,
        "started_at": f"2026-04-{i + 1:02d}T02:00:00Z", "headline": f"headline {i}", "parameters": {},
        "inputs": [], "findings": [], "counts": {}, "metrics": {},
        **({"error": {"kind": error_kind, "message": "bad"}} if error_kind else {}),
    }
    record = record_from_manifest(manifest, out_dir=out, run_dir=out / model / analysis / run_id)
    registry.record(record)
    return record


def test_outcomes_in_plain_words():
    def record(status: str, code: int, kind: str | None = None) -> RunRecord:
        return RunRecord(run_id="r", model="m", analysis="a", status=status, exit_code=code, run_dir="",
                         report_path="", error_kind=kind)

    assert status_words(record("incident", 1)) == "INCIDENT"
    assert status_words(record("ok", 0)) == "HEALTHY"
    assert status_words(record("failed", 2, "input")) == "RUN FAILED (bad input)"
    assert status_words(record("failed", 2)) == "RUN FAILED (bad input)"
    assert status_words(record("failed", 3, "timeout")) == "RUN FAILED (timed out)"
    assert status_words(record("failed", 3, "error")) == "RUN FAILED (the run broke)"


def test_failed_runs_of_a_mistyped_model_sit_under_the_closest_model():
    homes = home_models(["card-fraud", "card-fruad", "zzz-unrelated", "retail"], {"card-fraud", "retail"})
    assert homes == {"card-fraud": "card-fraud", "card-fruad": "card-fraud", "zzz-unrelated": "zzz-unrelated",
                     "retail": "retail"}
    assert home_models(["only-failed"], set()) == {"only-failed": "only-failed"}


def test_front_page_latest_status_first_worst_first_and_filters_without_script(tmp_path: Path):
    registry = Registry(tmp_path)
    _run(registry, tmp_path, 0, model="retail", status="ok")
    _run(registry, tmp_path, 1, model="card-fraud", status="incident", exit_code=1)
    _run(registry, tmp_path, 2, model="card-fraud", analysis="volume", status="ok")
    typo = _run(registry, tmp_path, 3, model="card-fruad", status="failed", exit_code=2, error_kind="input")
    page = index_html(registry, generated="2026-04-09T00:00:00Z")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<script" not in page and "script-src 'none'" in page and "<input" not in page and "<form" not in page
    latest = page[page.index('<table class="latest">'):page.index("</table>")]
    # the model with an incident first; the typo's failed run is not a model of its own
    assert latest.index(">card-fraud<") < latest.index(">retail<") and "card-fruad" not in latest
    sections = re.findall(r'<section id="model-\d+"><h2>(.*?)</h2>', page)
    assert sections == ["card-fraud", "retail"]
    assert "failed runs recorded as <q>card-fruad</q>" in page
    runs = page[page.index('<table class="runs">'):]
    assert "Exit code" not in page and "RUN FAILED (bad input)" in runs
    assert '<tr class="m0 a0 s-failed">' in runs and typo.run_id in runs  # filtered with card-fraud (m0), drift (a0)
    # one toggle per status present, analysis and model; CSS rules name only numbered classes
    for key in ("s-incident", "s-failed", "s-ok", "a0", "a1", "m0", "m1", "oldest"):
        assert f'id="f-{key}"' in page
    assert "body:has(.fm[open]):not(:has(#f-m1[open])) table.runs tr.m1{display:none}" in page
    # oldest-first copy of the rows, in reverse
    newest, oldest = re.findall(r'<tbody class="(?:newest|oldest)">(.*?)</tbody>', runs, re.S)
    ids = re.findall(r"2026040\dT020000Z-\d{8}", newest)
    assert ids and re.findall(r"2026040\dT020000Z-\d{8}", oldest) == ids[::-1]
