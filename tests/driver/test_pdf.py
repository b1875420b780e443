"""mlreport pdf: finding Chromium, the flags it is started with, and what happens without one.

A stand-in ``chromium`` (a shell script) records its arguments and writes a
tiny PDF, so these tests need no browser; the real print is tested with
Chromium in tests/system/test_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from mlreport.cli import main
from mlreport.driver import CHROMIUM_FLAGS, find_chromium, print_pdf, require_chromium
from mlreport.errors import InputError, OutputError


def _fake_chromium(folder: Path, *, prints: bool = True) -> Path:
    script = folder / "fake-chromium"
    body = (
        'for a in "$@"; do echo "$a" >> "$(dirname "$0")/argv.txt"; case "$a" in --print-to-pdf=*) '
        'printf "%%PDF-1.4 fake" > "${a#--print-to-pdf=}";; esac; done\n'
        if prints else 'echo "[0101/000000:ERROR] cannot open display" >&2; exit 1\n'
    )
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_chromium_named_by_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = _fake_chromium(tmp_path)
    monkeypatch.setenv("MLREPORT_CHROMIUM", str(fake))
    assert find_chromium() == str(fake) and require_chromium() == str(fake)


def test_print_starts_chromium_headless_offline_with_a_fresh_profile(tmp_path: Path):
    fake = _fake_chromium(tmp_path)
    report = tmp_path / "run" / "report.html"
    report.parent.mkdir()
    report.write_text("<html><body>x</body></html>")
    pdf = print_pdf(report, report.with_name("report.pdf"), chromium=str(fake))
    assert pdf.read_bytes().startswith(b"%PDF-") and sorted(p.name for p in report.parent.iterdir()) == [
        "report.html", "report.pdf"]  # no staging file left behind
    argv = (tmp_path / "argv.txt").read_text().splitlines()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                 "--disable-component-update", "--disable-sync"):
        assert flag in argv and flag in CHROMIUM_FLAGS
    profile = next(a for a in argv if a.startswith("--user-data-dir="))
    assert not Path(profile.split("=", 1)[1]).exists()  # fresh, and removed afterwards
    assert argv[-1] == report.resolve().as_uri()
    # a second print gets another profile
    print_pdf(report, report.with_name("report.pdf"), chromium=str(fake))
    profiles = [a for a in (tmp_path / "argv.txt").read_text().splitlines() if a.startswith("--user-data-dir=")]
    assert len(set(profiles)) == 2


def test_a_chromium_that_prints_nothing_is_an_output_error_with_its_message(tmp_path: Path):
    report = tmp_path / "report.html"
    report.write_text("<html></html>")
    with pytest.raises(OutputError, match="cannot open display"):
        print_pdf(report, tmp_path / "report.pdf", chromium=str(_fake_chromium(tmp_path, prints=False)))
    assert not (tmp_path / "report.pdf").exists()


def test_without_chromium_pdf_exits_2_saying_how_to_install_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("MLREPORT_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(InputError, match="apt-get install chromium"):
        require_chromium()
    assert main(["pdf", "20260101T000000Z-00000000", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "MLREPORT_CHROMIUM" in err and "apt-get install chromium" in err and "report.pdf" in err


def test_run_with_pdf_and_no_chromium_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("MLREPORT_CHROMIUM", str(tmp_path / "no-such-browser"))
    out = tmp_path / "out"
    assert main(["run", "drift", "--pdf", "--out", str(out)]) == 2
    assert "apt-get install chromium" in capsys.readouterr().err
    assert not out.exists()


def test_pdf_of_an_unknown_run_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MLREPORT_CHROMIUM", str(_fake_chromium(tmp_path)))
    (tmp_path / "out").mkdir()
    assert main(["pdf", "no-such-run", "--out", str(tmp_path / "out")]) == 2
    assert not list((tmp_path / "out").rglob("report.pdf"))


@pytest.mark.e2e
def test_run_with_pdf_prints_beside_the_report_and_audits_it(cli, tmp_path: Path):
    fake = _fake_chromium(tmp_path)
    result = cli("run", "fixture", "--out", "out", "--pdf", "--json", env={"MLREPORT_CHROMIUM": str(fake)})
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    pdf = Path(printed["pdf"])
    assert pdf == Path(printed["run_dir"]) / "report.pdf" and pdf.read_bytes().startswith(b"%PDF-")
    assert (tmp_path / "argv.txt").read_text().splitlines()[-1] == Path(printed["report"]).resolve().as_uri()
    entries = [json.loads(line) for line in (tmp_path / "out" / "audit.log").read_text().splitlines()]
    assert [e["event"] for e in entries] == ["run", "artifact"]
    assert entries[1]["run_id"] == printed["run_id"]
    assert entries[1]["files"] == {"report.pdf": hashlib.sha256(pdf.read_bytes()).hexdigest()}
    # the run's own files are unchanged, so the trail still verifies
    verified = cli("verify", "--out", "out")
    assert verified.returncode == 0, verified.stdout + verified.stderr
