"""The reports as people read them: headless Chromium, offline, and accessibility basics.

Each kind of page (drift, volume, stress, a failed run, the index) is opened
from the file with every other request aborted and counted: no request may
leave the file, no console error may appear, no script from data may run and
no element from data may exist; the status banner must be on the first
screen; a screenshot and a PDF are kept under ``test-artifacts/``. The pages
are the session's hostile-data reports (``browser.py``), so "no script ran"
is tested against payloads that try.

The accessibility checks read the HTML source and need no browser: status as
a word, table headers with a scope, alternative text on figures, one ``h1``
and headings without skipped levels.

The browser tests are skipped, with the reason, only when Playwright or
Chromium is missing; CI installs both and sets ``MLREPORT_TEST_REQUIRE``, which
turns that skip into a failure.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import browser
import pytest
from browser import ARTIFACTS, VIEWPORT
from cli_runs import runtime_missing

from mlreport import plots

pytestmark = pytest.mark.e2e

PAGES = ("drift", "volume", "stress", "failed", "index")
REPORTS = ("drift", "volume", "stress", "failed")
WORDS = {"ok": "HEALTHY", "warning": "WARNING", "incident": "INCIDENT", "failed": "RUN FAILED"}


@pytest.fixture(scope="session")
def _browser_available() -> None:
    """Skip a browser test when Playwright or Chromium is missing (a failure where CI requires them)."""
    runtime_missing("browser", browser.browser_missing())


needs_browser = pytest.mark.usefixtures("_browser_available")


@pytest.fixture(scope="session")
def reports(tmp_path_factory: pytest.TempPathFactory) -> browser.Reports:
    reports = browser.hostile_reports(tmp_path_factory.mktemp("hostile"))
    assert not reports.errors, reports.errors
    return reports


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    try:
        instance = manager.chromium.launch(executable_path=browser.chromium_path(), args=browser.CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
    finally:
        manager.stop()


class Opened:
    """A page opened offline, with what it tried to fetch and what it logged."""

    def __init__(self, chromium: Any, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.blocked: list[str] = []
        self.console_errors: list[str] = []
        self.context = chromium.new_context(viewport=VIEWPORT, java_script_enabled=True)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        self.page.on("pageerror", lambda error: self.console_errors.append(f"page error: {error}"))
        self.page.goto(self.url, wait_until="load")

    def _route(self, route: Any) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="session")
def opened(chromium: Any, reports: browser.Reports) -> Iterator[dict[str, Opened]]:
    pages = {name: Opened(chromium, path) for name, path in reports.pages().items()}
    yield pages
    for page in pages.values():
        page.close()


# ------------------------------------------------------------------ in the browser


@needs_browser
@pytest.mark.parametrize("name", PAGES)
def test_offline_no_request_leaves_the_file_and_no_console_error(opened: dict[str, Opened], name: str):
    page = opened[name]
    page.page.wait_for_timeout(200)  # late requests (fonts, lazy images) would show up here
    assert page.blocked == [], f"{name}: requests outside the file: {page.blocked[:5]}"
    assert page.console_errors == [], f"{name}: console errors: {page.console_errors[:5]}"


@needs_browser
@pytest.mark.parametrize("name", PAGES)
def test_no_script_ran_and_no_element_came_from_data(opened: dict[str, Opened], name: str):
    found = opened[name].page.evaluate(
        """() => {
            const elements = Array.from(document.querySelectorAll('*'));
            return {
                pwned: window.__pwned === undefined ? null : String(window.__pwned),
                scripts: document.scripts.length,
                handlers: elements.flatMap(e => Array.from(e.attributes).filter(a => a.name.startsWith('on'))
                                                    .map(a => e.tagName + ' ' + a.name)),
                jsLinks: Array.from(document.querySelectorAll('a[href]'))
                              .filter(a => a.protocol === 'javascript:').length,
                foreignImages: Array.from(document.images).filter(i => !i.src.startsWith('data:image/png')).length,
                frames: document.querySelectorAll('iframe, object, embed, form, input, base').length,
            };
        }"""
    )
    assert found == {"pwned": None, "scripts": 0, "handlers": [], "jsLinks": 0, "foreignImages": 0, "frames": 0}, found


@needs_browser
@pytest.mark.parametrize("name", REPORTS)
def test_status_banner_is_on_the_first_screen_with_its_word(
    opened: dict[str, Opened], reports: browser.Reports, name: str
):
    page = opened[name].page
    banner, word = page.locator(".mlr-banner"), page.locator(".mlr-banner .mlr-word")
    assert banner.count() == 1 and banner.is_visible()
    expected = WORDS[reports.results[name]["status"]]
    assert word.inner_text().strip() == expected
    for box in (banner.bounding_box(), word.bounding_box()):
        assert box is not None and box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["width"] <= VIEWPORT["width"], box
    word_box = word.bounding_box()
    assert word_box["y"] + word_box["height"] <= VIEWPORT["height"], word_box
    # the whole banner fits in half a screen, whatever the data: the findings follow it
    assert banner.bounding_box()["y"] + banner.bounding_box()["height"] <= VIEWPORT["height"] / 2, banner.bounding_box()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    assert (ARTIFACTS / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_browser
def test_index_shows_the_newest_status_on_the_first_screen(opened: dict[str, Opened]):
    page = opened["index"].page
    assert page.locator("h1").inner_text().strip()
    cells = page.locator("a.c")
    assert cells.count() >= 4
    box = cells.first.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"], box
    assert cells.first.inner_text().strip() in {"H", "W", "I", "F"}
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "index.png"))


@needs_browser
@pytest.mark.parametrize("name", PAGES)
def test_long_data_wraps_instead_of_widening_the_page(opened: dict[str, Opened], name: str):
    page = opened[name].page
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{name}: page is {widths[0]} px wide in a {widths[1]} px window"
    # Wide tables scroll in their own box; one that a single long value stretches
    # to tens of screens is unreadable all the same.
    widest = page.evaluate(
        """() => Array.from(document.querySelectorAll('body *'))
                      .map(e => [Math.round(e.getBoundingClientRect().width), e.tagName + '.' + e.className])
                      .sort((a, b) => b[0] - a[0])[0]"""
    )
    assert widest[0] <= 4 * VIEWPORT["width"], f"{name}: {widest[1]} is {widest[0]} px wide"


@needs_browser
@pytest.mark.parametrize("name", PAGES)
def test_prints_to_pdf(opened: dict[str, Opened], name: str):
    page = opened[name].page
    page.emulate_media(media="print")
    try:
        shown = page.evaluate(
            "() => { const nav = document.querySelector('nav#contents'); "
            "return nav ? getComputedStyle(nav).display : null; }"
        )
        assert shown in (None, "block")  # issue 14: the contents are printed too (a committee pack has them)
        ARTIFACTS.mkdir(exist_ok=True)
        pdf = page.pdf(path=str(ARTIFACTS / f"{name}.pdf"), format="A4", print_background=True)
    finally:
        page.emulate_media(media="screen")
    assert pdf[:5] == b"%PDF-" and len(pdf) > 5_000
    assert opened[name].blocked == [] and opened[name].console_errors == []


@needs_browser
@pytest.mark.parametrize("name", REPORTS)
def test_status_word_has_enough_contrast(opened: dict[str, Opened], name: str):
    """WCAG AA for the status word on its banner colour (4.5:1)."""
    colours = opened[name].page.evaluate(
        """() => { const b = document.querySelector('.mlr-banner'), w = b.querySelector('.mlr-word');
                   return [getComputedStyle(w).color, getComputedStyle(b).backgroundColor]; }"""
    )
    assert _contrast(*colours) >= 4.5, colours


def _contrast(foreground: str, background: str) -> float:
    def luminance(css: str) -> float:
        red, green, blue = (int(float(v)) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
        channels = []
        for value in (red, green, blue):
            c = value / 255
            channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# ------------------------------------------------------------------ accessibility, from the source


def _parsed(reports: browser.Reports, name: str) -> browser.Elements:
    return browser.parse(reports.pages()[name].read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", PAGES)
def test_one_h1_and_headings_without_skipped_levels(reports: browser.Reports, name: str):
    levels = [level for level, _ in _parsed(reports, name).headings]
    assert levels and levels[0] == 1 and levels.count(1) == 1, levels
    jumps = [(a, b) for a, b in pairwise(levels) if b > a + 1]
    assert not jumps, f"{name}: heading levels jump {jumps}"
    assert all(text for _, text in _parsed(reports, name).headings), "empty heading"


@pytest.mark.parametrize("name", PAGES)
def test_tables_have_headers_with_scope(reports: browser.Reports, name: str):
    tags = _parsed(reports, name).tags
    headers = [attributes for tag, attributes in tags if tag == "th"]
    assert headers, f"{name}: no table header at all"
    missing = [a for a in headers if a.get("scope") not in ("col", "row", "colgroup", "rowgroup")]
    assert not missing, f"{name}: {len(missing)} of {len(headers)} <th> without scope"
    # every table has a header cell
    seen_th: list[bool] = []
    for tag, _ in tags:
        if tag == "table":
            seen_th.append(False)
        elif tag == "th" and seen_th:
            seen_th[-1] = True
    assert all(seen_th), f"{name}: {seen_th.count(False)} table(s) without a header cell"


@pytest.mark.parametrize("name", PAGES)
def test_figures_have_alternative_text(reports: browser.Reports, name: str):
    images = [attributes for tag, attributes in _parsed(reports, name).tags if tag == "img"]
    if name in ("drift", "volume", "stress"):
        assert images, f"{name}: no figure"
    for attributes in images:
        alt = attributes.get("alt", "").strip()
        assert alt and alt.lower() != "figure" and not alt.startswith("<Figure"), f"{name}: alt {alt!r}"


@pytest.mark.parametrize("name", REPORTS)
def test_status_is_written_as_a_word(reports: browser.Reports, name: str):
    parsed = _parsed(reports, name)
    banners = [a for t, a in parsed.tags if "mlr-banner" in a.get("class", "").split()]
    assert len(banners) == 1 and banners[0].get("role") == "status"
    word = WORDS[reports.results[name]["status"]]
    assert word in banners[0].get("aria-label", "") and word in parsed.text


def test_index_status_is_written_and_every_link_resolves(reports: browser.Reports):
    parsed = _parsed(reports, "index")
    for tag, attributes in parsed.tags:
        if tag == "a" and not attributes.get("href", "#").startswith("#"):
            target = reports.index.parent / attributes["href"]
            assert target.is_file(), attributes["href"]
    statuses = [a for t, a in parsed.tags if t == "a" and "c" in a.get("class", "").split()]
    assert statuses and all(
        any(word in a.get("title", "") for word in ("HEALTHY", "WARNING", "INCIDENT", "FAILED")) for a in statuses
    )
    assert {"HEALTHY", "WARNING", "INCIDENT", "FAILED"} & set(parsed.text.split())


@pytest.mark.parametrize("name", PAGES)
def test_language_and_title(reports: browser.Reports, name: str):
    tags = _parsed(reports, name).tags
    assert [a.get("lang") for t, a in tags if t == "html"] == ["en"]
    assert "title" in [t for t, _ in tags]


# ------------------------------------------------------------------ figures, print and the index (issue 14)

FIGURED = ("drift", "volume", "stress")
#: The printable width of an A4 page under the report's print margins (210 mm - 2 x 11 mm) at 96 px per inch.
A4_PRINT_PX = round((210 - 22) / 25.4 * 96)


@needs_browser
@pytest.mark.parametrize("name", FIGURED)
def test_figures_fill_the_column_and_their_text_reads_at_eleven_pixels(opened: dict[str, Opened], name: str):
    figures = opened[name].page.evaluate(
        """() => ({column: document.querySelector('main').clientWidth,
                   images: Array.from(document.querySelectorAll('figure img')).map(
                       i => [i.getBoundingClientRect().width, i.naturalWidth, i.alt.slice(0, 60)])})"""
    )
    assert figures["images"], f"{name}: no figure"
    for shown, natural, alt in figures["images"]:
        # plots.MIN_TEXT_PX is the smallest text at the PNG's natural size; the browser scales it by shown/natural.
        assert natural > 0 and plots.MIN_TEXT_PX * shown / natural >= 11, (alt, shown, natural)
    widest = max(shown for shown, _, _ in figures["images"])
    assert widest >= 0.85 * figures["column"], f"{name}: widest figure {widest} px in a {figures['column']} px column"


def _pdf_page_text(pypdf: Any, pdf: bytes, page: int) -> str:
    """A page's text, whitespace collapsed and ligatures ("ﬁ") unfolded."""
    return " ".join(unicodedata.normalize("NFKC", pypdf.PdfReader(io.BytesIO(pdf)).pages[page].extract_text()).split())


@needs_browser
@pytest.mark.parametrize("name", REPORTS)
def test_print_page_one_has_the_headline_and_key_findings(
    opened: dict[str, Opened], reports: browser.Reports, name: str
):
    pypdf = pytest.importorskip("pypdf")
    page = opened[name].page
    page.emulate_media(media="print")
    try:
        pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    finally:
        page.emulate_media(media="screen")
    first = _pdf_page_text(pypdf, pdf, 0)
    status = reports.results[name]["status"]
    assert WORDS[status] in first
    words = [w for w in reports.results[name]["headline"].split() if w.isascii() and w.isalnum()][:4]
    assert words and all(w in first for w in words), (words, first[:400])
    if status == "failed":
        assert "Why the run failed" in first
    else:
        assert "Key findings" in first, first[:400]
        assert "Contents" in first + _pdf_page_text(pypdf, pdf, 1)  # the contents follow the findings in print


@needs_browser
@pytest.mark.parametrize("name", PAGES)
def test_no_table_is_clipped_in_print(opened: dict[str, Opened], name: str):
    page = opened[name].page
    page.set_viewport_size({"width": A4_PRINT_PX, "height": 1100})
    page.emulate_media(media="print")
    try:
        clipped = page.evaluate(
            """() => Array.from(document.querySelectorAll('table'))
                     .filter(t => getComputedStyle(t).display !== 'none' && t.offsetParent !== null)
                     .map(t => [t.scrollWidth, t.parentElement.clientWidth,
                                Math.round(t.getBoundingClientRect().right), (t.caption || t).textContent.slice(0, 50)])
                     .filter(([scroll, room, right]) =>
                             scroll > room + 1 || right > document.documentElement.clientWidth + 1)"""
        )
        page_width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    finally:
        page.emulate_media(media="screen")
        page.set_viewport_size(VIEWPORT)
    assert clipped == [], f"{name}: tables wider than the printed page: {clipped[:3]}"
    assert page_width[0] <= page_width[1], page_width


def _visible_rows(page: Any) -> list[list[str]]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('table.runs tbody tr'))
                 .filter(r => r.offsetParent !== null)
                 .map(r => [r.className, r.cells[1] ? r.cells[1].textContent : ''])"""
    )


@needs_browser
def test_index_filters_by_status_analysis_and_model_and_sorts_by_date(chromium: Any, reports: browser.Reports):
    opened = Opened(chromium, reports.index)
    try:
        page = opened.page
        every = _visible_rows(page)
        assert len(every) >= 4
        dates = [date for _, date in every]
        assert dates == sorted(dates, reverse=True)
        statuses = {c.split()[2] for c, _ in every}
        # one status
        page.click("#f-s-incident > summary" if "s-incident" in statuses else "#f-s-failed > summary")
        chosen = "s-incident" if "s-incident" in statuses else "s-failed"
        rows = _visible_rows(page)
        assert rows and all(chosen in c.split() for c, _ in rows) and len(rows) < len(every)
        # and a second status: either of them
        other = sorted(statuses - {chosen})[0]
        page.click(f"#f-{other} > summary")
        rows = _visible_rows(page)
        assert {c.split()[2] for c, _ in rows} == {chosen, other}
        page.click(f"#f-{other} > summary")
        page.click(f"#f-{chosen} > summary")
        assert len(_visible_rows(page)) == len(every)
        # analysis and model at once
        page.click("#f-a0 > summary")
        page.click("#f-m0 > summary")
        rows = _visible_rows(page)
        assert all({"a0", "m0"} <= set(c.split()) for c, _ in rows)
        assert len(rows) == sum({"a0", "m0"} <= set(c.split()) for c, _ in every)
        page.click("#f-a0 > summary")
        page.click("#f-m0 > summary")
        # oldest first
        page.click("#f-oldest > summary")
        rows = _visible_rows(page)
        assert [d for _, d in rows] == sorted(dates)
        assert opened.blocked == [] and opened.console_errors == []
        assert page.evaluate("() => document.scripts.length") == 0
    finally:
        opened.close()


@needs_browser
def test_index_fits_a_phone(chromium: Any, reports: browser.Reports):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context.new_page()
        page.goto(reports.index.resolve().as_uri())
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths == [390, 390], widths
    finally:
        context.close()


@pytest.mark.parametrize("name", FIGURED)
def test_every_figure_has_its_own_specific_alt_text(reports: browser.Reports, name: str):
    alts = [a.get("alt", "") for t, a in _parsed(reports, name).tags if t == "img"]
    assert alts
    for alt in alts:
        assert alt.startswith("Chart: ") and len(alt) > 40, alt
        assert not re.fullmatch(r"Chart: (figure|chart|image|plot)\s*\d*\.?", alt, re.I), alt
    assert len(set(alts)) == len(alts), "two figures share one alt text"


def test_index_says_outcomes_in_words_not_exit_codes(reports: browser.Reports):
    parsed = _parsed(reports, "index")
    headers = [text for level, text in parsed.headings]
    assert "Exit code" not in parsed.text
    assert "RUN FAILED (" in parsed.text  # the failed fixture run, with why in words
    assert headers[0] == "mlreport runs"
    viewport = [a for t, a in parsed.tags if t == "meta" and a.get("name") == "viewport"]
    assert viewport and "width=device-width" in viewport[0]["content"]


@needs_browser
def test_mlreport_pdf_writes_report_pdf_with_the_headline_on_page_one(reports: browser.Reports):
    pypdf = pytest.importorskip("pypdf")
    result = reports.results["drift"]
    proc = subprocess.run(
        [sys.executable, "-m", "mlreport", "pdf", result["run_id"], "--out", str(reports.out), "--json"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        env={**os.environ, "MLREPORT_CHROMIUM": browser.chromium_path()},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    pdf = Path(json.loads(proc.stdout)["pdf"])
    assert pdf == Path(result["run_dir"]) / "report.pdf"
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-"
    first = _pdf_page_text(pypdf, data, 0)
    words = [w for w in result["headline"].split() if w.isascii() and w.isalnum()][:4]
    assert "INCIDENT" in first or "WARNING" in first or "HEALTHY" in first
    assert words and all(w in first for w in words) and "Key findings" in first, first[:400]
    # the audit trail says which PDF was printed from this run
    last = json.loads((reports.out / "audit.log").read_text().splitlines()[-1])
    assert last["event"] == "artifact" and last["run_id"] == result["run_id"]
    assert last["files"] == {"report.pdf": hashlib.sha256(data).hexdigest()}
