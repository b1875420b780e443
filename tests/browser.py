"""Reports written from hostile data, generated once per session, and a headless browser.

Shared by ``test_hostile_data.py`` (the HTML source) and ``test_browser.py``
(the same reports in Chromium). Every analysis runs once through the real CLI
on small data whose column names and category values carry HTML, script,
``javascript:`` links, right-to-left and zero-width characters, emoji and very
long strings; a fixture notebook fails with a hostile message. The reports are
ordinary reports otherwise, so the browser tests read them as the report kinds
(drift, volume, stress, a failed run, the index).

:func:`hostile_reports` is memoised at module level: pytest imports this
module once, so each test file's session fixture shares one set of runs.

The payloads set ``window.__pwned`` when they run: a browser test checks it
stays undefined, and that no element from data was created.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat

HERE = Path(__file__).parent
ARTIFACTS = HERE.parent / "test-artifacts"

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '"><img src=x onerror="window.__pwned=2">'
JS_LINK = "javascript:window.__pwned=3"
SVG = "<svg onload=window.__pwned=4>"
RTL = "\u202eexe.txt"  # right-to-left override: "txt.exe" displayed reversed
ZERO_WIDTH = "zero\u200bwidth\u200d\ufeffjoin"
EMOJI = "💳🏦🔥"
LONG = "L" * 4000  # one unbroken word: must wrap, not widen the page

#: Every hostile string, by name; each must reach at least one report as text.
HOSTILE = {
    "script": SCRIPT, "img": IMG, "js": JS_LINK, "svg": SVG, "rtl": RTL, "zero_width": ZERO_WIDTH,
    "emoji": EMOJI, "long": LONG,
}

#: Names given to the sample's columns and categories.
FEATURE = f'income{IMG}'  # a drifting feature whose name is hostile
CHANNELS = {"online": SCRIPT, "mobile": f"{EMOJI} {ZERO_WIDTH}", "branch": JS_LINK, "broker": IMG}
EMPLOYMENT = {"student": RTL, "retired": SVG, "unemployed": LONG}
MODEL_NAME = f"{SCRIPT}{IMG}{EMOJI}"
SCENARIO_NAME = f"{SCRIPT} recession {EMOJI}"
FAILURE_MESSAGE = f"bad data in {IMG} {SCRIPT} {JS_LINK} {LONG}"

KINDS = ("drift", "volume", "stress", "failed")

_LOCK = threading.Lock()
_CACHE: dict[str, Reports] = {}


@dataclass
class Reports:
    """Where the session's reports are, and what each run printed."""

    out: Path
    reports: dict[str, Path]
    results: dict[str, dict[str, Any]]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def index(self) -> Path:
        return self.out / "index.html"

    def pages(self) -> dict[str, Path]:
        """Every page a reader opens: the four report kinds and the index."""
        return {**self.reports, "index": self.index}


def _cli(args: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlreport", *args], capture_output=True, text=True,
        env={**os.environ, **env}, cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def write_hostile_inputs(folder: Path) -> dict[str, dict[str, Any]]:
    """Data, spec and scenario files with hostile names; the CLI parameters of each analysis."""
    from mlreport import sample

    folder.mkdir(parents=True, exist_ok=True)
    frame = sample.generate(6000, seed=11, incidents=("income_shift", "channel_outage"))
    frame["channel"] = frame["channel"].map(CHANNELS)
    frame["employment_status"] = frame["employment_status"].map(lambda v: EMPLOYMENT.get(v, v))
    drifted = frame.rename(columns={"income": FEATURE})
    reference, current = sample.split(drifted, "2026-02-16")
    reference.to_parquet(folder / "reference.parquet")
    current.to_parquet(folder / "current.parquet")
    frame.to_parquet(folder / "decisions.parquet")

    spec = folder / "volume-spec.toml"
    spec.write_text(
        f"model = {_toml(MODEL_NAME)}\n"
        'timestamp = "timestamp"\ndecision = "decision"\nscore = "score"\nsegments = ["channel"]\n',
        encoding="utf-8",
    )
    scenarios = folder / "scenarios.toml"
    scenarios.write_text(
        "[[scenario]]\n"
        f"name = {_toml(SCENARIO_NAME)}\n"
        f"description = {_toml('income down ' + IMG)}\n"
        'shocks = [{ type = "relative", column = "bureau_score", by = -0.25 }]\n'
        "[[scenario]]\n"
        f"name = {_toml('Unseen channel ' + JS_LINK)}\n"
        f'shocks = [{{ type = "set_value", column = "employment_status", value = {_toml(SVG)}, share = 0.5 }}]\n',
        encoding="utf-8",
    )
    return {
        "drift": {
            "reference_path": str(folder / "reference.parquet"), "current_path": str(folder / "current.parquet"),
            "model": MODEL_NAME, "classifier_sample": 2000,
        },
        "volume": {"data_path": str(folder / "decisions.parquet"), "spec_path": str(spec), "baseline_weeks": 3},
        "stress": {
            "data_path": str(folder / "decisions.parquet"), "scenarios_path": str(scenarios), "sweep_rows": 1000,
            "sensitivity_features": 2, "monotone_rows": 40, "segments": ["channel", "employment_status"],
        },
    }


def write_failing_notebook(folder: Path) -> Path:
    """A notebook that shows a table of hostile values, then raises with a hostile message."""
    from make_fixture_notebooks import KERNELSPEC

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    params = nbformat.v4.new_code_cell('model = "fixture-model"  # model name')
    params.metadata["tags"] = ["parameters"]
    values = repr(list(HOSTILE.values()))
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Failing report\n\nA run that stops on bad data."),
        params,
        nbformat.v4.new_markdown_cell("## Loading data\n\nWhat was read before the failure."),
        nbformat.v4.new_code_cell(f"import pandas as pd\npd.DataFrame({{'value': {values}}})"),
        nbformat.v4.new_code_cell(f"raise ValueError({FAILURE_MESSAGE!r})"),
        nbformat.v4.new_markdown_cell("## Never reached"),
        nbformat.v4.new_code_cell("print('unreachable')"),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "failing.ipynb"
    nbformat.write(nb, path)
    return path


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escaping, but characters kept as they are: TOML has no surrogates)."""
    return json.dumps(text, ensure_ascii=False)


def _params(values: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for name, value in values.items():
        args += ["--param", f"{name}={json.dumps(value) if not isinstance(value, str) else value}"]
    return args


def hostile_reports(root: Path) -> Reports:
    """Run drift, volume, stress and a failing notebook once into ``root/out`` (memoised)."""
    with _LOCK:
        if "reports" in _CACHE:
            return _CACHE["reports"]
        params = write_hostile_inputs(root / "inputs")
        notebooks = root / "notebooks"
        write_failing_notebook(notebooks)
        out = root / "out"
        jobs = {
            name: (["run", name, *_params(params[name]), "--out", str(out), "--json", "--fail-on", "never"], {})
            for name in ("stress", "drift", "volume")
        }
        jobs["failed"] = (["run", "failing", "--out", str(out), "--json"], {"MLREPORT_NOTEBOOKS": str(notebooks)})
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {name: pool.submit(_cli, args, env=env, cwd=root) for name, (args, env) in jobs.items()}
            done = {name: future.result() for name, future in futures.items()}
        reports: dict[str, Path] = {}
        results: dict[str, dict[str, Any]] = {}
        errors: dict[str, str] = {}
        for name, proc in done.items():
            try:
                results[name] = json.loads(proc.stdout)
                reports[name] = Path(results[name]["report"])
            except (ValueError, KeyError):
                errors[name] = f"exit {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}"
        _CACHE["reports"] = Reports(out=out, reports=reports, results=results, errors=errors)
        return _CACHE["reports"]


# ------------------------------------------------------------------ HTML structure


class Elements(HTMLParser):
    """Every start tag with its attributes, the headings in order and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.headings: list[tuple[int, str]] = []
        self.text_parts: list[str] = []
        self._heading: list[str] | None = None
        self._level = 0
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in ("style", "script"):
            self._skip += 1
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self._heading, self._level = [], int(tag[1])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)
        if self._heading is not None and tag == f"h{self._level}":
            self.headings.append((self._level, "".join(self._heading).strip()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text_parts.append(data)
        if self._heading is not None:
            self._heading.append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


# ------------------------------------------------------------------ browser

#: Debian's Chromium; MLREPORT_TEST_CHROMIUM names another build.
CHROMIUM = os.environ.get("MLREPORT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install playwright)"
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def chromium_path() -> str:
    return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
