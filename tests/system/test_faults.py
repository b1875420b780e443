"""Faults: a killed kernel, a scheduler's SIGTERM, Ctrl-C, a disk that fills up mid-write.

Whatever happens, a reader of the output folder never sees a half-written run:
either a complete run folder (report, notebook, manifest) recorded in the
registry and the audit trail, or nothing. The driver says what happened on
stderr, in one line, and exits with a code that says which case it was.

Full disks are simulated in the driver process by ``fault_driver.py`` (written
below): it wraps ``open`` so that writing a file whose name matches a pattern
fails with ENOSPC, at once or after half the bytes, or makes the final rename
fail; then it calls ``mlreport.cli.main`` as the console script would. The
kernel is a separate process and is not affected.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from cli_runs import load_manifest, run_dirs

pytestmark = pytest.mark.e2e

FAULT_DRIVER = r'''
"""Run the mlreport CLI with a simulated full disk (see test_faults.py)."""
import builtins, errno, io, os, re, sys

kind, _, pattern = os.environ["MLR_FAULT"].partition(":")
real_open, real_rename = builtins.open, os.rename


def _matches(path):
    return isinstance(path, (str, os.PathLike)) and re.search(pattern, os.path.basename(os.fspath(path)))


def _full(path):
    return OSError(errno.ENOSPC, "No space left on device", os.fspath(path))


class HalfWritten:
    """A file whose first write stores half the bytes, then finds the disk full."""

    def __init__(self, handle, path):
        self._handle, self._path = handle, path

    def write(self, data):
        self._handle.write(data[: len(data) // 2])
        self._handle.flush()
        raise _full(self._path)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()

    def __iter__(self):
        return iter(self._handle)


def faulty_open(file, mode="r", *args, **kwargs):
    if any(flag in mode for flag in "wax+") and _matches(file):
        if kind == "full":
            raise _full(file)
        if kind == "partial":
            return HalfWritten(real_open(file, mode, *args, **kwargs), file)
    return real_open(file, mode, *args, **kwargs)


def faulty_rename(source, target, *args, **kwargs):
    if _matches(target):
        raise OSError(errno.ENOSPC, "No space left on device", os.fspath(target))
    return real_rename(source, target, *args, **kwargs)


real_os_open, real_os_write, doomed = os.open, os.write, set()


def faulty_os_open(path, flags, *args, **kwargs):
    fd = real_os_open(path, flags, *args, **kwargs)
    if flags & (os.O_WRONLY | os.O_RDWR) and _matches(path):
        doomed.add(fd)
    return fd


def faulty_os_write(fd, data):
    if fd in doomed and kind in ("full", "partial"):
        if kind == "partial":
            real_os_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")
    return real_os_write(fd, data)


builtins.open = io.open = faulty_open
os.open, os.write = faulty_os_open, faulty_os_write
if kind == "rename":
    os.rename = faulty_rename

from mlreport.cli import main

sys.exit(main(sys.argv[1:]))
'''

#: The fixture notebook's slow cell, as papermill numbers it: title, parameters, the injected
#: parameters, heading, sleep (``tests/make_fixture_notebooks.py``).
SLOW_CELL = 4


@pytest.fixture
def driver(tmp_path: Path, fixture_notebooks: Path):
    """Run the CLI on the fixture notebooks with a fault injected; outputs in tmp_path/out."""
    script = tmp_path / "fault_driver.py"
    script.write_text(FAULT_DRIVER, encoding="utf-8")

    def run(fault: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MLREPORT_NOTEBOOKS": str(fixture_notebooks), "MLR_FAULT": fault}
        return subprocess.run(
            [sys.executable, str(script), *args, "--out", str(tmp_path / "out")], capture_output=True, text=True,
            env=env, cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL,
        )

    return run


def assert_consistent(out: Path, *, runs: int) -> None:
    """``runs`` complete run folders, no staging left, and the registry and audit trail agree with them."""
    from mlreport.record import verify

    staging = out / ".tmp"
    leftovers = sorted(p.name for p in staging.iterdir() if p.is_dir()) if staging.exists() else []
    assert not leftovers, f"staging folders left behind: {leftovers}"
    folders = run_dirs(out)
    assert len(folders) == runs, folders
    for folder in folders:
        for name in ("report.html", "notebook.ipynb", "run.json"):
            assert (folder / name).is_file(), f"{folder} lacks {name}"
        manifest = load_manifest(folder)
        assert manifest["files"]["report.html"]["bytes"] == (folder / "report.html").stat().st_size
    report = verify(out)
    assert report.clean, report.format()


def assert_clear_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("mlreport: error:")]
    assert len(lines) == 1, result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# ------------------------------------------------------------------ a disk that fills up


def test_disk_full_writing_the_report(driver, tmp_path: Path):
    result = driver(r"full:^\.report\.html\..*\.tmp$", "run", "fixture", "--json")
    assert result.returncode == 3, result.stderr[-3000:]
    assert_clear_error(result, "report.html", "No space left on device")
    assert json.loads(result.stdout)["exit_code"] == 3
    assert_consistent(tmp_path / "out", runs=0)


def test_manifest_half_written_when_the_disk_fills(driver, tmp_path: Path):
    result = driver(r"partial:^\.run\.json\..*\.tmp$", "run", "fixture")
    assert result.returncode == 3, result.stderr[-3000:]
    assert_clear_error(result, "run.json", "No space left on device")
    assert_consistent(tmp_path / "out", runs=0)


def test_disk_full_while_the_notebook_is_saved_during_execution(driver, tmp_path: Path):
    result = driver(r"full:^notebook\.ipynb$", "run", "fixture")
    assert result.returncode == 3, result.stderr[-3000:]
    assert_clear_error(result, "notebook.ipynb", "No space left on device")
    assert_consistent(tmp_path / "out", runs=0)


def test_final_rename_fails(driver, tmp_path: Path):
    result = driver(r"rename:^\d{8}T\d{6}Z-[0-9a-f]+$", "run", "fixture")
    assert result.returncode == 3, result.stderr[-3000:]
    assert_clear_error(result, "No space left on device")
    assert_consistent(tmp_path / "out", runs=0)


def test_index_that_cannot_be_written_leaves_the_run_and_the_old_index(driver, tmp_path: Path):
    assert driver("none:", "run", "fixture").returncode == 0
    index = tmp_path / "out" / "index.html"
    before = index.read_text(encoding="utf-8")
    result = driver(r"full:^\.index\.html\..*\.tmp$", "run", "fixture", "-p", "status=warning")
    assert result.returncode == 0, result.stderr[-3000:]  # the run itself is complete and recorded
    assert "Traceback" not in result.stderr
    assert index.read_text(encoding="utf-8") == before  # the old index, whole
    assert_consistent(tmp_path / "out", runs=2)


def test_audit_trail_that_cannot_be_appended(driver, tmp_path: Path):
    result = driver(r"partial:^audit\.log$", "run", "fixture")
    assert result.returncode == 3, result.stderr[-3000:]
    assert_clear_error(result, "audit", "No space left on device")
    assert_consistent(tmp_path / "out", runs=0)


# ------------------------------------------------------------------ signals and a killed kernel


class Running:
    """``mlreport run slow`` in the background, with its stderr read line by line."""

    def __init__(self, tmp_path: Path, fixture_notebooks: Path, *args: str) -> None:
        env = {**os.environ, "MLREPORT_NOTEBOOKS": str(fixture_notebooks)}
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "mlreport", "run", "slow", "-p", "seconds=60", "--out", str(tmp_path / "out"),
                *args,
            ],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL,
        )
        self.stderr: list[str] = []
        self.started = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            if f"cell {SLOW_CELL} started" in line:
                self.started.set()

    def wait_for_slow_cell(self) -> None:
        assert self.started.wait(120), "".join(self.stderr)
        time.sleep(0.5)  # inside time.sleep in the kernel

    def kernels(self) -> list[psutil.Process]:
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return [p for p in children if "ipykernel_launcher" in " ".join(_cmdline(p))]

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        # Not communicate(): it would read stderr too, racing the reader thread for the last lines.
        self.process.wait(timeout=timeout)
        self._reader.join(30)
        assert self.process.stdout is not None and self.process.stderr is not None
        stdout = self.process.stdout.read()
        self.process.stdout.close()
        self.process.stderr.close()
        return self.process.returncode, stdout, "".join(self.stderr)


@pytest.fixture
def start(tmp_path: Path, fixture_notebooks: Path):
    """Start ``mlreport run slow`` runs; any still going at teardown (a failed test) are killed."""
    started: list[Running] = []

    def _start(*args: str) -> Running:
        started.append(Running(tmp_path, fixture_notebooks, *args))
        return started[-1]

    yield _start
    for running in started:
        if running.process.poll() is None:
            for kernel in running.kernels():
                kernel.kill()
            running.process.kill()
            running.finish()


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def _gone(processes: list[psutil.Process], timeout: float = 30) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return alive


@pytest.mark.parametrize(
    ("signum", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_signal_to_the_driver_leaves_nothing_and_no_kernel(tmp_path: Path, start, signum, code, word):
    running = start()
    running.wait_for_slow_cell()
    kernels = running.kernels()
    assert kernels, "no kernel process found"
    running.process.send_signal(signum)
    returncode, _stdout, stderr = running.finish()
    assert returncode == code, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    (line,) = [line for line in stderr.splitlines() if line.startswith(f"mlreport: {word}")] or [stderr[-2000:]]
    assert "nothing" in line, stderr[-2000:]  # says that no run was left behind
    assert not _gone(kernels), "the kernel outlived the driver"
    assert_consistent(tmp_path / "out", runs=0)


def test_kernel_killed_mid_run_is_a_failed_run_with_a_report(tmp_path: Path, start):
    running = start("--json")
    running.wait_for_slow_cell()
    (kernel,) = running.kernels()
    kernel.send_signal(signal.SIGKILL)
    returncode, stdout, stderr = running.finish()
    assert returncode == 3, stderr[-3000:]
    data = json.loads(stdout)
    assert data["status"] == "failed" and data["error"]["kind"] == "kernel died", data["error"]
    assert data["error"]["section"] == "Slow section" and "Traceback" not in stderr
    html = Path(data["report"]).read_text(encoding="utf-8")
    assert "RUN FAILED" in html and "kernel died" in html
    assert_consistent(tmp_path / "out", runs=1)


def test_driver_killed_outright_leaves_no_run_and_no_kernel(tmp_path: Path, fixture_notebooks: Path, start):
    """SIGKILL cannot be handled: the staging folder may stay, but readers see no run, and the kernel exits."""
    running = start()
    running.wait_for_slow_cell()
    kernels = running.kernels()
    running.process.kill()
    running.finish()
    assert not _gone(kernels), "the kernel outlived its driver"
    out = tmp_path / "out"
    assert run_dirs(out) == []
    from mlreport.record import verify

    assert verify(out).clean
    # the next run is unaffected by what the killed one left in staging
    env = {**os.environ, "MLREPORT_NOTEBOOKS": str(fixture_notebooks)}
    after = subprocess.run([sys.executable, "-m", "mlreport", "run", "fixture", "--out", str(out)], capture_output=True,
                           text=True, env=env, cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL)
    assert after.returncode == 0, after.stderr[-3000:]
    assert len(run_dirs(out)) == 1 and verify(out).clean


# ------------------------------------------------------------------ a live run and prune (issue 16, class 5)


def _staging(out: Path) -> list[Path]:
    staging = out / ".tmp"
    return sorted(p for p in staging.iterdir() if p.is_dir()) if staging.exists() else []


def _prune(out: Path) -> dict:
    result = subprocess.run([sys.executable, "-m", "mlreport", "prune", "--keep-days", "0", "--out", str(out),
                             "--json"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_prune_never_takes_a_live_run_and_cleans_up_after_a_killed_one(tmp_path: Path, start):
    """A run older than the stale age is still running (a long sweep): prune keeps it; killed outright, it goes."""
    from mlreport.record import STALE_STAGING_S

    out = tmp_path / "out"
    running = start()
    running.wait_for_slow_cell()
    (staging,) = _staging(out)
    assert (staging.parent / f"{staging.name}.live").exists()
    old = time.time() - STALE_STAGING_S - 3600
    os.utime(staging, (old, old))
    result = _prune(out)
    assert result["live_staging"] == [staging.name] and result["stale_staging"] == [] and staging.is_dir()
    kernels = running.kernels()
    running.process.kill()  # SIGKILL: nothing unwinds, the lock is released by the operating system
    running.finish()
    assert not _gone(kernels), "the kernel outlived its driver"
    assert _staging(out) == [staging]
    os.utime(staging, (old, old))
    result = _prune(out)
    assert result["stale_staging"] == [staging.name] and result["live_staging"] == [] and not staging.exists()


# ------------------------------------------------------------------ the record damaged under a run (class 3)


def test_registry_emptied_while_a_run_executes(tmp_path: Path, fixture_notebooks: Path, start):
    """Someone empties the registry mid-run: the run is not re-recorded into a fresh registry behind their back."""
    from mlreport.record import REGISTRY_FILE, read_registry, verify

    out = tmp_path / "out"
    env = {**os.environ, "MLREPORT_NOTEBOOKS": str(fixture_notebooks)}
    first = subprocess.run([sys.executable, "-m", "mlreport", "run", "fixture", "--out", str(out)],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL)
    assert first.returncode == 0, first.stderr[-3000:]
    running = Running(tmp_path, fixture_notebooks, "-p", "seconds=3", "--json")
    try:
        running.wait_for_slow_cell()
        for suffix in ("-wal", "-shm"):
            (out / (REGISTRY_FILE + suffix)).unlink(missing_ok=True)
        (out / REGISTRY_FILE).write_bytes(b"")
        returncode, stdout, stderr = running.finish()
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.finish()
    data = json.loads(stdout)
    assert returncode in (2, 3) and data["exit_code"] == returncode, stderr[-3000:]
    message = data["error"] if isinstance(data["error"], str) else data["error"]["message"]
    assert "registry rebuild" in message, (data, stderr[-3000:])
    assert "Traceback" not in stderr
    assert (out / REGISTRY_FILE).stat().st_size == 0  # not silently recreated
    rebuilt = subprocess.run([sys.executable, "-m", "mlreport", "registry", "rebuild", "--out", str(out)],
                             capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    report = verify(out)
    assert report.clean, report.format()
    assert not _staging(out)
    assert read_registry(out).count() == 2  # the run that could not be recorded is back, from its audit entry


# ------------------------------------------------------------------ hostile values through every printing command (1)

HOSTILE = "card\x1b[2J\x1b]0;owned\x07\r\nINCIDENT forged\u202egnp\x9b31m\ttab"


def test_hostile_values_reach_no_terminal_raw(tmp_path: Path, fixture_notebooks: Path):
    """A run whose model, subject and message are hostile text; then run, history, show, verify, prune print it."""
    from mlreport.terminal import is_inert

    out = tmp_path / "out"
    env = {**os.environ, "MLREPORT_NOTEBOOKS": str(fixture_notebooks)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mlreport", *args, "--out", str(out)], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL)

    ran = cli("--verbose", "run", "fixture", "-p", f"model={HOSTILE}", "-p", f"subject={HOSTILE}",
              "-p", f"message={HOSTILE}", "-p", "status=incident")
    assert ran.returncode == 1, ran.stderr[-3000:]
    outputs = {"run": ran}
    commands = (("history",), ("show", "2"), ("verify", "--all", "--head"), ("prune", "--keep-days", "1", "--dry-run"))
    for args in commands:
        outputs[args[0]] = cli(*args)
        assert outputs[args[0]].returncode == 0, outputs[args[0]].stderr[-3000:]
    for name, result in outputs.items():
        for line in (result.stdout + result.stderr).splitlines():
            assert is_inert(line), (name, line)
        assert "INCIDENT forged" not in [line.strip() for line in result.stdout.splitlines()], name
    (history_line,) = [line for line in outputs["history"].stdout.splitlines() if "forged" in line]
    assert "\\x1b[2J" in history_line and "\\r\\n" in history_line and "\\u202e" in history_line
