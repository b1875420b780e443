"""``report.pdf``: a run's report printed by a headless Chromium, the committee pack on paper.

The report's print stylesheet (``templates/mlreport/report.css``) does the
layout: banner, headline, key findings and next steps on page 1, contents,
tables wrapped to the page. This module only finds a Chromium, prints the
report file with it (offline: the report loads nothing, and a fresh profile,
no background networking, no sync and no component updates keep the browser
itself quiet), moves the PDF into the run folder atomically and appends an
``artifact`` entry with its sha256 to the audit trail.

Chromium is looked up in ``$MLREPORT_CHROMIUM``, then ``/usr/bin/chromium``,
then ``chromium`` (and ``chromium-browser``) on ``PATH``. Without one,
:func:`write_pdf` raises an :class:`~mlreport.errors.InputError` (exit code 2)
that says how to install one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InputError, OutputError
from ..record import append, sha256_file
from ._results import load_run

__all__ = ["CHROMIUM_FLAGS", "PDF_FILE", "PDF_TIMEOUT_S", "find_chromium", "print_pdf", "write_pdf", "require_chromium"]

PDF_FILE = "report.pdf"
PDF_TIMEOUT_S = 180.0
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
    "--disable-component-update", "--disable-sync", "--no-pdf-header-footer",
)
_DEFAULT = "/usr/bin/chromium"
_INSTALL = (
    "install one (Debian/Ubuntu: apt-get install chromium fonts-liberation; macOS: brew install --cask chromium) "
    "or point MLREPORT_CHROMIUM at a Chromium or Chrome executable"
)


def find_chromium() -> str | None:
    """The Chromium to print with: ``$MLREPORT_CHROMIUM``, ``/usr/bin/chromium``, or ``chromium`` on PATH."""
    named = os.environ.get("MLREPORT_CHROMIUM")
    if named:
        found = shutil.which(named) if os.sep not in named else (named if os.access(named, os.X_OK) else None)
        return found
    if os.access(_DEFAULT, os.X_OK):
        return _DEFAULT
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """:func:`find_chromium`, or an InputError saying how to install one."""
    found = find_chromium()
    if found is None:
        named = os.environ.get("MLREPORT_CHROMIUM")
        where = f"MLREPORT_CHROMIUM={named} is not an executable" if named else (
            f"no Chromium at {_DEFAULT} or on PATH"
        )
        raise InputError(f"cannot write {PDF_FILE}: {where}; {_INSTALL}")
    return found


def print_pdf(html: Path, pdf: Path, *, chromium: str | None = None, timeout: float = PDF_TIMEOUT_S) -> Path:
    """Print ``html`` to ``pdf`` with headless Chromium (a fresh profile, removed afterwards); returns ``pdf``."""
    browser = chromium or require_chromium()
    html = Path(html).resolve()
    if not html.is_file():
        raise InputError(f"cannot print {html}: no such report file")
    pdf = Path(pdf)
    with tempfile.TemporaryDirectory(prefix="mlreport-chromium-") as profile:
        partial = Path(profile) / "print.pdf"
        command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}/user-data",
                   f"--print-to-pdf={partial}", html.as_uri()]
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise OutputError(f"Chromium ({browser}) did not print {html} within {timeout:.0f} s") from None
        except OSError as exc:
            raise InputError(f"cannot start Chromium {browser}: {exc}; {_INSTALL}") from None
        if not partial.is_file() or partial.read_bytes()[:5] != b"%PDF-":
            tail = (proc.stderr or "").strip().splitlines()[-3:]
            raise OutputError(
                f"Chromium ({browser}) exited {proc.returncode} without printing {html}: " + " | ".join(tail)
            )
        pdf.parent.mkdir(parents=True, exist_ok=True)
        staging = pdf.with_name(f".{pdf.name}.{os.getpid()}.tmp")
        try:
            shutil.copyfile(partial, staging)
            os.replace(staging, pdf)
        except OSError as exc:
            staging.unlink(missing_ok=True)
            raise OutputError(f"cannot write {pdf}: {exc}") from None
    return pdf


def write_pdf(run: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None,
              chromium: str | None = None) -> Path:
    """Print run ``run``'s report (a run id, a unique prefix, or its folder) to ``report.pdf`` beside it.

    The audit trail gets an ``artifact`` entry with the PDF's sha256, so a
    later reader can tell the PDF is the one printed from this run;
    ``mlreport verify`` checks the run's own files (manifest, report,
    notebook), not this entry. Returns the PDF's path.
    """
    browser = chromium or require_chromium()
    result = load_run(run, out=out)
    pdf = print_pdf(result.report_path, result.run_dir / PDF_FILE, chromium=browser)
    out_dir = result.run_dir.parents[2]  # <out>/<model>/<analysis>/<run>
    if (out_dir / "audit.log").exists() or (out_dir / "registry.sqlite").exists():
        append(out_dir, event="artifact", run_id=result.run_id, run_dir=str(result.run_dir.relative_to(out_dir)),
               files={PDF_FILE: sha256_file(pdf)})
    return pdf
