"""Batch runs: templates, validation of the jobs file, and a concurrent batch with failures mixed in."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlreport.driver import fill_templates, load_jobs, parse_date
from mlreport.errors import InputError
from mlreport.record import open_registry, read_log, verify

DATE = dt.date(2026, 3, 14)
RUN_DATE = dt.date(2026, 3, 15)


def fill(value):
    return fill_templates(value, date=DATE, run_date=RUN_DATE, where="job 'x' params.p")


def test_templates_fill_dates_offsets_and_literal_braces():
    assert fill("data/{date}/*.parquet") == "data/2026-03-14/*.parquet"
    assert fill("{date-1}..{date+30}") == "2026-03-13..2026-04-13"
    assert fill("{run_date}") == "2026-03-15" and fill("{ date }") == "2026-03-14"
    assert fill("{{date}} is {date}") == "{date} is 2026-03-14"
    assert fill({"k{date}": ["a{date}", 3, True, None]}) == {"k{date}": ["a2026-03-14", 3, True, None]}


@pytest.mark.parametrize(
    "value", ["{date.__class__}", "{0}", "{}", "{date:%Y}", "{os.system}", "a{b", "a}b", "{date-x}"]
)
def test_anything_else_in_braces_is_refused(value):
    with pytest.raises(InputError, match=r"job 'x' params\.p"):
        fill(value)


@given(st.text().filter(lambda s: "{" not in s and "}" not in s))
def test_text_without_braces_is_unchanged(text):
    assert fill(text) == text


@given(st.text(alphabet=st.sampled_from("ab{}"), max_size=12))
def test_escaped_braces_come_back_single(text):
    escaped = text.replace("{", "{{").replace("}", "}}")
    assert fill(escaped) == text


def test_parse_date():
    assert parse_date("2026-03-14") == DATE
    assert parse_date(None) == dt.datetime.now(dt.UTC).date()
    for bad in ("2026-3-14", "14/03/2026", "2026-02-30", "2026-03-14; rm -rf /"):
        with pytest.raises(InputError, match="--date"):
            parse_date(bad)


@pytest.fixture
def notebooks(fixture_notebooks: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLREPORT_NOTEBOOKS", str(fixture_notebooks))
    return fixture_notebooks


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "jobs.toml"
    path.write_text(text)
    return path


def test_valid_file_becomes_tasks_with_filled_validated_parameters(notebooks, tmp_path: Path):
    (tmp_path / "spec.toml").write_text("")
    path = write(tmp_path, """
[[job]]
name = "card"
analyses = ["fixture", "echo"]
timeout = 60
fail_on = "warning"
[job.params]
model = "card-{date}"
[job.analysis_params.fixture]
rows = 7
as_of_date = "{date-1}"
[job.analysis_params.echo]
value = '"; import os; os.system("touch pwned"); "{date}'

[[job]]
name = "off"
analysis = "fixture"
enabled = false
""")
    fixture, echo = load_jobs(path, date=DATE, run_date=RUN_DATE, timeout=99, fail_on="incident")
    assert (fixture.job, fixture.analysis, fixture.timeout, fixture.cell_timeout, fixture.fail_on) == (
        "card", "fixture", 60.0, 60.0, "warning")
    assert fixture.parameters["model"] == "card-2026-03-14" and fixture.parameters["rows"] == 7
    # defaults explicit
    assert fixture.parameters["as_of_date"] == "2026-03-13" and fixture.parameters["status"] == "ok"
    assert echo.parameters["value"] == '"; import os; os.system("touch pwned"); "2026-03-14'  # data, not code
    assert fixture.cwd == tmp_path.resolve()


def test_every_problem_is_listed_with_job_and_key(notebooks, tmp_path: Path):
    path = write(tmp_path, """
jobs = 1
[[job]]
name = "a"
analysis = "fixtrue"
[[job]]
name = "a"
analyses = ["fixture"]
timout = 5
spec = "missing.toml"
[job.params]
stauts = "ok"
rows = "{date.year}"
[job.analysis_params.failing]
model = "x"
[[job]]
analysis = "fixture"
timeout = -1
fail_on = "sometimes"
""")
    with pytest.raises(InputError) as info:
        load_jobs(path, date=DATE)
    message = str(info.value)
    for expected in (
        "unknown top-level key 'jobs'",
        "job #1 'a': key 'analyses': unknown analysis 'fixtrue'; did you mean 'fixture'?",
        "job #2 'a': key 'name': 'a' is used by another job",
        "job #2 'a': unknown key 'timout'; did you mean 'timeout'?",
        "job #2 'a': key 'spec': model spec 'missing.toml' not found",
        "job #2 'a': key 'analysis_params.failing': 'failing' is not among the job's analyses",
        "job #2 'a' (fixture): key 'params'.rows: unknown template {date.year}",
        "job #3: key 'name' is missing",
        "job #3: key 'timeout': expected a positive number of seconds, got -1",
        "job #3: key 'fail_on': 'sometimes' is not one of",
        "nothing was run",
    ):
        assert expected in message, expected


def test_a_bad_parameter_names_the_job(notebooks, tmp_path: Path):
    path = write(tmp_path, '[[job]]\nname = "j"\nanalysis = "fixture"\n[job.params]\nstauts = "ok"\n')
    with pytest.raises(InputError, match=r"job #1 'j' \(fixture\): .*stauts.*status"):
        load_jobs(path, date=DATE)


def test_spec_goes_to_analyses_that_take_one(notebooks, tmp_path: Path):
    (tmp_path / "spec.toml").write_text("")
    path = write(tmp_path, '[[job]]\nname = "j"\nanalysis = "fixture"\nspec = "spec.toml"\n')
    with pytest.raises(InputError, match="none of the analyses fixture takes a model spec"):
        load_jobs(path, date=DATE)


def test_unreadable_files(notebooks, tmp_path: Path):
    with pytest.raises(InputError, match="jobs file not found"):
        load_jobs(tmp_path / "nope.toml", date=DATE)
    with pytest.raises(InputError, match="not valid TOML"):
        load_jobs(write(tmp_path, "[[job]\n"), date=DATE)
    with pytest.raises(InputError, match=r"no \[\[job\]\] table"):
        load_jobs(write(tmp_path, "\n"), date=DATE)


@pytest.mark.e2e
def test_invalid_file_exits_2_before_running_anything(cli, tmp_path: Path):
    write(tmp_path, '[[job]]\nname = "ok"\nanalysis = "fixture"\n[[job]]\nname = "bad"\nanalysis = "nosuch"\n')
    result = cli("batch", "jobs.toml", "--out", "out")
    assert result.returncode == 2 and "job #2 'bad'" in result.stderr and "nosuch" in result.stderr
    assert not (tmp_path / "out").exists()
    assert cli("batch", "jobs.toml", "--date", "yesterday").returncode == 2


def concurrent_jobs_file(folder: Path, marker: Path) -> Path:
    jobs = []
    statuses = ["ok", "warning", "incident"]
    for i in range(11):
        jobs.append(f'[[job]]\nname = "fixture-{i:02d}"\nanalysis = "fixture"\n[job.params]\n'
                    f'status = "{statuses[i % 3]}"\nsubject = "col_{i}_{{date}}"\nas_of_date = "{{date-1}}"\n')
    for i in range(3):
        jobs.append(f'[[job]]\nname = "failing-{i}"\nanalysis = "failing"\n')
    for i in range(2):
        jobs.append(f'[[job]]\nname = "slow-{i}"\nanalysis = "slow"\ntimeout = 3\n')
    jobs.append('[[job]]\nname = "dies"\nanalysis = "dies"\n')
    jobs.append('[[job]]\nname = "silent"\nanalysis = "silent"\n')
    # One job, two analyses, and a value crafted to break out of papermill's quoting.
    payload = f'"; import pathlib; pathlib.Path("{marker}").touch(); "{{date}}'
    jobs.append(f"[[job]]\nname = \"pair\"\nanalyses = [\"fixture\", \"failing\"]\n[job.analysis_params.fixture]\n"
                f"status = \"incident\"\nmessage = '{payload}'\n")
    path = folder / "jobs.toml"
    path.write_text("\n".join(jobs))
    return path


@pytest.mark.e2e
def test_concurrent_batch_with_failures_records_everything(fixture_notebooks: Path, tmp_path: Path):
    marker = tmp_path / "pwned"
    jobs_file = concurrent_jobs_file(tmp_path, marker)
    out = tmp_path / "out"
    env = {**os.environ, "MLREPORT_NOTEBOOKS": str(fixture_notebooks)}
    result = subprocess.run(
        [sys.executable, "-m", "mlreport", "batch", str(jobs_file), "--jobs", "4", "--date", "2026-03-14",
         "--out", str(out), "--json", "--timeout", "120"],
        capture_output=True, text=True, env=env, timeout=900, stdin=subprocess.DEVNULL,
    )
    summary = json.loads(result.stdout)  # one JSON object, nothing else
    assert result.returncode == 3 == summary["exit_code"], result.stderr[-3000:]
    jobs = summary["jobs"]
    assert len(jobs) == 20
    by_job = {(j["job"], j["analysis"]): j for j in jobs}
    for i in range(11):
        job = by_job[(f"fixture-{i:02d}", "fixture")]
        assert job["status"] == ["ok", "warning", "incident"][i % 3]
        assert job["exit_code"] == (1 if i % 3 == 2 else 0)
    for name in ("failing-0", "failing-1", "failing-2", "dies", "silent"):
        (job,) = [j for j in jobs if j["job"] == name]
        assert (job["status"], job["exit_code"]) == ("failed", 3), job
    for name in ("slow-0", "slow-1"):
        job = by_job[(name, "slow")]
        assert (job["status"], job["exit_code"]) == ("failed", 3) and "3 s timeout" in job["error"]
    assert by_job[("pair", "fixture")]["exit_code"] == 1 and by_job[("pair", "failing")]["exit_code"] == 3

    # Everything recorded, nothing lost, nothing half-written.
    registry = open_registry(out)
    records = registry.batch_runs(summary["batch_id"])
    assert len(records) == 20 == registry.count()
    assert {r.run_id for r in records} == {j["run_id"] for j in jobs}
    for record in records:
        assert (out / record.report_path).is_file() and (out / record.run_dir / "run.json").is_file()
    assert {r.error_kind for r in records if r.job in ("slow-0", "slow-1")} == {"batch timeout"}
    assert [e.entry["seq"] for e in read_log(out)] == list(range(1, 21))
    assert verify(out).clean
    assert not [p for p in (out / ".tmp").iterdir() if p.is_dir()], "staging folder left behind"

    # Templates were filled in values, and the payload arrived as data.
    fixture_00 = next(r for r in records if r.job == "fixture-00")
    assert fixture_00.parameters["subject"] == "col_0_2026-03-14"
    assert fixture_00.parameters["as_of_date"] == "2026-03-13"
    pair = next(r for r in records if r.job == "pair" and r.analysis == "fixture")
    assert pair.findings[0]["message"] == f'"; import pathlib; pathlib.Path("{marker}").touch(); "2026-03-14'
    assert not marker.exists()

    # The index lists every run; logs and the summary are kept for the operator.
    index = (out / "index.html").read_text()
    assert all(r.run_id in index for r in records)
    batch_dir = out / ".batches" / summary["batch_id"]
    assert json.loads((batch_dir / "summary.json").read_text())["exit_code"] == 3
    assert len(list(batch_dir.glob("*.log"))) == 20


# ------------------------------------------------------------------ seconds in the jobs file (issue 16, class 2)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("600.5", 600.5), ("60", 60.0), ("1e3", 1000.0), ("inf", None), ("-inf", None), ("nan", None), ("0", None),
     ("-1", None), ("0.0", None), ("true", None), ('"600"', None)],
)
def test_job_timeouts_are_finite_seconds_above_zero(notebooks, tmp_path: Path, value: str, accepted: float | None):
    path = write(tmp_path, f'[[job]]\nname = "j"\nanalysis = "fixture"\ntimeout = {value}\n')
    if accepted is not None:
        (task,) = load_jobs(path, date=DATE)
        assert task.timeout == accepted == task.cell_timeout
        return
    with pytest.raises(InputError) as info:
        load_jobs(path, date=DATE)
    assert "job #1 'j': key 'timeout': expected a positive number of seconds" in str(info.value)
    assert "nothing was run" in str(info.value) and "Traceback" not in str(info.value)


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 0.0, -5.0])
def test_the_batch_timeout_itself_is_checked(notebooks, tmp_path: Path, timeout: float):
    path = write(tmp_path, '[[job]]\nname = "j"\nanalysis = "fixture"\n')
    with pytest.raises(InputError, match="--timeout"):
        load_jobs(path, date=DATE, timeout=timeout)
    (task,) = load_jobs(path, date=DATE, timeout=90.5)
    assert task.timeout == 90.5


# ------------------------------------------------------------------ stopping a job without process groups (issue 15.6)

#: These simulate the Windows path with POSIX signals (SIGTERM ignored, SIGKILL to force).
posix_only = pytest.mark.skipif(not hasattr(os, "killpg"), reason="simulates Windows with POSIX signals")

#: A job that ignores the polite request, as a wedged kernel would; it says when it is ready.
STUBBORN = "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); " \
           "time.sleep(600)"


def _start(script: str) -> subprocess.Popen[bytes]:
    from mlreport.driver import _batch

    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            **_batch._group_options())
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    proc.stdout.close()
    return proc


def test_posix_keeps_its_process_groups():
    from mlreport.driver import _batch

    assert hasattr(os, "killpg") == _batch._PROCESS_GROUPS
    if _batch._PROCESS_GROUPS:
        assert _batch._group_options() == {"start_new_session": True}


@posix_only
def test_without_process_groups_a_job_is_asked_then_its_tree_ended(monkeypatch: pytest.MonkeyPatch):
    """The Windows path, exercised on this machine: no os.killpg, so no new session; terminate, then force.

    ``taskkill`` does not exist here, so the forced end falls back to killing the job itself (on Windows
    ``taskkill /F /T`` also ends the kernel it started).
    """
    from mlreport.driver import _batch

    monkeypatch.setattr(_batch, "_PROCESS_GROUPS", False)
    monkeypatch.setattr(_batch, "_TREE_KILL", ("mlreport-no-such-taskkill",))
    options = _batch._group_options()
    assert "start_new_session" not in options and options["creationflags"] == getattr(
        subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    polite = _start("import time; print('ready', flush=True); time.sleep(600)")
    _batch._kill_group(polite, grace=30)
    assert polite.returncode is not None and polite.returncode != 0
    stubborn = _start(STUBBORN)
    _batch._kill_group(stubborn, grace=1)
    assert stubborn.returncode == -signal.SIGKILL  # ignored the request: forced after the grace period


@posix_only
def test_the_forced_end_uses_the_tree_kill_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """What is run to end the tree: the command, then the job's pid (here a script recording and doing it)."""
    from mlreport.driver import _batch

    record = tmp_path / "called"
    killer = tmp_path / "treekill.py"
    killer.write_text("import os, signal, sys\nopen(sys.argv[1], 'w').write(sys.argv[2])\n"
                      "os.kill(int(sys.argv[2]), signal.SIGKILL)\n")
    monkeypatch.setattr(_batch, "_PROCESS_GROUPS", False)
    monkeypatch.setattr(_batch, "_TREE_KILL", (sys.executable, str(killer), str(record)))
    stubborn = _start(STUBBORN)
    _batch._kill_group(stubborn, grace=1)
    assert record.read_text() == str(stubborn.pid) and stubborn.returncode == -signal.SIGKILL


@pytest.mark.e2e
def test_a_job_that_stopped_on_bad_input_reports_its_run_and_message(fixture_notebooks: Path, tmp_path: Path):
    """Exit 2 from a job whose notebook raised a DataError: a run that happened, with its id, report and message."""
    jobs_file = tmp_path / "jobs.toml"
    jobs_file.write_text('[[job]]\nname = "bad\\u001b[2Jinput"\nanalysis = "failing"\n'
                         '[job.params]\nerror = "DataError"\n')
    out = tmp_path / "out"
    env = {**os.environ, "MLREPORT_NOTEBOOKS": str(fixture_notebooks)}
    command = [sys.executable, "-m", "mlreport", "batch", str(jobs_file), "--date", "2026-03-14", "--out", str(out),
               "--timeout", "120"]
    result = subprocess.run([*command, "--json"], capture_output=True, text=True, env=env, timeout=600,
                            stdin=subprocess.DEVNULL)
    summary = json.loads(result.stdout)
    assert result.returncode == 2 == summary["exit_code"], result.stderr[-3000:]
    (job,) = summary["jobs"]
    assert (job["status"], job["exit_code"]) == ("failed", 2), job
    assert job["run_id"] and Path(job["report"]).is_file()
    # The message, where it happened, not a dict's repr.
    assert job["error"].startswith("DataError: current data has no rows in cell") and "{" not in job["error"]
    (record,) = open_registry(out).batch_runs(summary["batch_id"])
    assert record.run_id == job["run_id"] and record.status == "failed"
    # The text summary: one inert line per job, the job's hostile name escaped.
    text = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, stdin=subprocess.DEVNULL)
    assert text.returncode == 2 and "\x1b" not in text.stdout + text.stderr
    (line,) = [line for line in text.stdout.splitlines() if "\\x1b[2J" in line]
    assert "FAILED" in line and "report.html" in line
