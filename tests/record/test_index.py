"""The outputs index built from the registry: strips, trends, table; escaped and self-contained."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from mlreport.record import (
    Registry,
    RunRecord,
    index_html,
    record_from_manifest,
    sparkline_svg,
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
