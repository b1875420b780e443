"""The kernel zygote (driver/_zygote.py): kernels forked from one process that imported once.

What must hold: a forked kernel runs a notebook to the same report as a
fresh one; it is a process of its own that the driver signals and kills, and
that ends when its driver dies; a zygote that is absent, dead or killed in
the middle of a batch costs speed only (the runs start fresh kernels); it
serves nobody else's code or environment, through a socket only its user
reaches; it refuses to serve when its imports left threads it cannot fork.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from cli_runs import load_manifest, run_cli, run_dirs

from mlreport.driver._execute import SameInterpreterKernelManager, kernel_env
from mlreport.driver._zygote import ZYGOTE_ENV, Zygote, fork_kernel, fork_supported
from mlreport.schema import problems

pytestmark = pytest.mark.skipif(not fork_supported(), reason="needs fork, pidfds and SO_PEERCRED (Linux)")


def _zygote_processes(socket_path: str) -> list[psutil.Process]:
    """The zygote and every kernel it forked (they keep its command line, which names the socket)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if socket_path in (proc.info["cmdline"] or []):
            found.append(proc)
    return found


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _env() -> dict[str, str]:
    """A kernel's environment, without the variable in which pytest names its phase (a zygote refuses a difference)."""
    return {key: value for key, value in kernel_env().items() if key != "PYTEST_CURRENT_TEST"}


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory):
    log_path = tmp_path_factory.mktemp("zygote") / "zygote.stderr"
    with Zygote(["mlreport.analysis"], env=_env(), log_path=log_path) as started:
        assert started.socket_path, "the zygote did not start"
        yield started


def _manager(monkeypatch: pytest.MonkeyPatch, socket_path: str | None) -> SameInterpreterKernelManager:
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    if socket_path:
        monkeypatch.setenv(ZYGOTE_ENV, socket_path)
    else:
        monkeypatch.delenv(ZYGOTE_ENV, raising=False)
    return SameInterpreterKernelManager()


def _execute(manager: SameInterpreterKernelManager, code: str) -> dict:
    client = manager.blocking_client()
    client.start_channels(hb=False)
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(code, timeout=60, store_history=False, output_hook=lambda msg: None,
                                           user_expressions={"out": "__import__('json').dumps(out)"})
        return reply["content"]
    finally:
        client.stop_channels()


def test_the_socket_is_private_to_its_user(zygote: Zygote):
    path = Path(zygote.socket_path)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.parent.stat().st_uid == os.getuid()


def test_a_forked_kernel_is_a_process_of_its_own_that_the_driver_signals_and_kills(
    zygote: Zygote, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
):
    manager = _manager(monkeypatch, zygote.socket_path)
    asyncio.run(manager.start_kernel(cwd=str(tmp_path)))
    try:
        assert manager.forked_from and manager.forked_from["zygote_pid"] == zygote.pid
        pid = manager.provisioner.pid
        assert pid not in (os.getpid(), zygote.pid)
        assert psutil.Process(pid).ppid() == zygote.pid
        code = ("import os, sys, threading, matplotlib\n"
                "out = [os.getpid(), os.getcwd(), os.getsid(0) == os.getpid(), os.environ.get('JPY_PARENT_PID'),"
                " threading.active_count(), 'mlreport.analysis' in sys.modules, matplotlib.get_backend()]")
        content = _execute(manager, code)
        assert content["status"] == "ok", content
        out = json.loads(ast.literal_eval(content["user_expressions"]["out"]["data"]["text/plain"]))
        assert out[0] == pid and out[1] == str(tmp_path) and out[2] is True and out[3] == str(os.getpid())
        assert out[5] is True, "the kernel did not find the zygote's imports"
        assert out[6] == "module://matplotlib_inline.backend_inline"
        # An interrupt reaches it (a cell stopped, the kernel alive) as it reaches a launched kernel.
        asyncio.run(manager.interrupt_kernel())
        assert asyncio.run(manager.is_alive())
        asyncio.run(manager.shutdown_kernel(now=True))
        assert _gone(pid, 10)
        assert not asyncio.run(manager.is_alive())
    finally:
        asyncio.run(manager.cleanup_resources())


def test_a_kernel_whose_driver_dies_exits(zygote: Zygote, tmp_path: Path):
    driver = textwrap.dedent(f"""
        import asyncio, os, sys, time
        os.environ[{ZYGOTE_ENV!r}] = {zygote.socket_path!r}
        from mlreport.driver._execute import SameInterpreterKernelManager
        manager = SameInterpreterKernelManager()
        asyncio.run(manager.start_kernel(cwd={str(tmp_path)!r}))
        print(manager.provisioner.pid, bool(manager.forked_from), flush=True)
        time.sleep(600)
    """)
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}
    proc = subprocess.Popen([sys.executable, "-c", driver], stdout=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, env=env)
    try:
        assert proc.stdout is not None
        pid_text, forked = proc.stdout.readline().split()
        kernel = int(pid_text)
        assert forked == "True"
        assert not _gone(kernel, 1.0), "the kernel ended before its driver"
        proc.kill()
        proc.wait()
        assert _gone(kernel, 10), "the kernel outlived its driver"
    finally:
        proc.kill()
        proc.communicate()


def test_a_kernel_outlives_a_killed_zygote_and_later_runs_start_fresh(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path):
    with Zygote([], env=_env()) as own:
        assert own.socket_path and own.proc is not None
        socket_path = own.socket_path
        manager = _manager(monkeypatch, socket_path)
        asyncio.run(manager.start_kernel(cwd=str(tmp_path)))
        try:
            assert manager.forked_from
            own.proc.kill()
            own.proc.wait()
            assert _execute(manager, "out = 6 * 7")["status"] == "ok"
            # Its socket still there, nobody answering: the next kernel is launched afresh.
            assert fork_kernel(socket_path, manager.format_kernel_cmd(), env=_env(), cwd=str(tmp_path),
                               stderr=None) is None
            fresh = _manager(monkeypatch, socket_path)
            asyncio.run(fresh.start_kernel(cwd=str(tmp_path)))
            try:
                assert fresh.forked_from is None and _execute(fresh, "out = 1")["status"] == "ok"
            finally:
                asyncio.run(fresh.shutdown_kernel(now=True))
            pid = manager.provisioner.pid
            asyncio.run(manager.shutdown_kernel(now=True))
            assert _gone(pid, 10)
        finally:
            asyncio.run(manager.cleanup_resources())


def test_no_zygote_other_code_or_another_environment_is_refused(zygote: Zygote, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path):
    cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", str(tmp_path / "kernel.json")]
    assert fork_kernel(str(tmp_path / "no-zygote.sock"), cmd, env=_env(), cwd=str(tmp_path), stderr=None) is None
    assert fork_kernel(zygote.socket_path, cmd, env={**_env(), "OMP_NUM_THREADS": "7"}, cwd=str(tmp_path),
                       stderr=None) is None
    assert fork_kernel(zygote.socket_path, [*cmd[:1], "-m", "other_launcher", *cmd[3:]], env=_env(),
                       cwd=str(tmp_path), stderr=None) is None
    monkeypatch.setattr("mlreport.driver._zygote.code_fingerprint", lambda: "changed since the zygote imported")
    assert fork_kernel(zygote.socket_path, cmd, env=_env(), cwd=str(tmp_path), stderr=None) is None
    assert not [p for p in _zygote_processes(zygote.socket_path) if p.pid != zygote.pid], "it forked anyway"


def test_a_zygote_whose_imports_start_a_thread_refuses_to_serve(tmp_path: Path):
    (tmp_path / "mlr_starts_a_thread.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n")
    env = {**_env(), "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    with Zygote(["mlr_starts_a_thread"], env=env) as refusing:
        assert refusing.socket_path is None and refusing.proc is None


#: A duration a report states ("seconds counting" in "How this report was computed", the backend's "seconds" per
#: operation in its JSON): the digits go.
_TIMED = re.compile(r'(seconds(?:[a-z -]*(?:</td><td class=\\"num\\">|\s+)|\\*":\s*))[0-9.]+')

#: A duration in a sentence ("0.10 s in 6 operations").
_SECONDS = re.compile(r"\b[0-9]+\.[0-9]+ s\b")


def _untimed_text(text: str) -> str:
    # Runs of spaces count as one: a table's plain-text form pads every row to its widest value, a duration's
    # digits included ("0.096" and "0.1" pad the "seconds counting" table differently).
    return re.sub(r" {2,}", " ", _SECONDS.sub("# s", _TIMED.sub(r"\1", text)))


def _untimed(value: object) -> object:
    """``value`` without the durations it records (``seconds``: the backend's time per operation)."""
    if isinstance(value, dict):
        return {key: _untimed(item) for key, item in value.items() if key != "seconds"}
    if isinstance(value, list):
        return [_untimed(item) for item in value]
    return value


@pytest.mark.e2e
def test_a_forked_kernel_writes_the_same_report_as_a_fresh_one(zygote: Zygote, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    args = ("run", "drift", "-p", "sample_rows=2000", "--fail-on", "never", "--json")
    fresh = run_cli(*args, "--out", str(tmp_path / "fresh"), env={ZYGOTE_ENV: ""})
    forked = run_cli(*args, "--out", str(tmp_path / "forked"), env={ZYGOTE_ENV: zygote.socket_path})
    assert fresh.returncode == forked.returncode == 0, (fresh.stderr[-2000:], forked.stderr[-2000:])
    (fresh_dir,), (forked_dir,) = run_dirs(tmp_path / "fresh"), run_dirs(tmp_path / "forked")
    fresh_run, forked_run = load_manifest(fresh_dir), load_manifest(forked_dir)
    assert fresh_run["kernel"] == {"start": "fresh"}
    assert forked_run["kernel"]["start"] == "forked" and forked_run["kernel"]["zygote_pid"] == zygote.pid
    # Both are run.json as the published contract says (a forked start must name its zygote and code).
    assert problems("manifest", fresh_run) == problems("manifest", forked_run) == []
    assert problems("manifest", {**forked_run, "kernel": {"start": "forked"}}) != []
    for key in ("status", "headline", "findings", "metrics", "incidents", "data_period", "reference_fingerprint"):
        assert _untimed(fresh_run.get(key)) == _untimed(forked_run.get(key)), key

    def outputs(run_dir: Path) -> list[list[dict]]:
        notebook = json.loads((run_dir / "notebook.ipynb").read_text())
        cells = [cell.get("outputs", []) for cell in notebook["cells"] if cell["cell_type"] == "code"]
        for cell_outputs in cells:
            for output in cell_outputs:
                output.pop("execution_count", None)
        return cells

    # Every table, finding and figure of the notebook, byte for byte, but for the durations it states.
    fresh_outputs, forked_outputs = outputs(fresh_dir), outputs(forked_dir)
    assert len(fresh_outputs) == len(forked_outputs)
    for index, (one, other) in enumerate(zip(fresh_outputs, forked_outputs, strict=True)):
        assert _untimed_text(json.dumps(one)) == _untimed_text(json.dumps(other)), f"code cell {index}"


@pytest.mark.e2e
def test_a_kernel_error_in_a_forked_kernel_is_a_failed_run(fixture_notebooks: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    # The zygote's environment is the test's; the run's names the fixture notebooks: refused, unless the same.
    with Zygote(["mlreport.analysis"], env={**_env(), "MLREPORT_NOTEBOOKS": str(fixture_notebooks)}) as own:
        assert own.socket_path
        env = {"MLREPORT_NOTEBOOKS": str(fixture_notebooks), ZYGOTE_ENV: own.socket_path}
        result = run_cli("run", "failing", "--out", str(tmp_path / "out"), "--json", env=env, cwd=tmp_path)
        dying = run_cli("run", "dies", "--out", str(tmp_path / "out"), "--json", env=env, cwd=tmp_path)
    assert result.returncode == 3 and dying.returncode == 3, (result.stderr[-2000:], dying.stderr[-2000:])
    manifests = [load_manifest(d) for d in run_dirs(tmp_path / "out")]
    assert {m["kernel"]["start"] for m in manifests} == {"forked"}
    assert sorted(m["error"]["kind"] for m in manifests) == ["error", "kernel died"]
    for run_dir in run_dirs(tmp_path / "out"):
        assert "RUN FAILED" in (run_dir / "report.html").read_text()


@pytest.mark.e2e
def test_a_batch_forks_its_kernels_and_finishes_when_its_zygote_is_killed(fixture_notebooks: Path, tmp_path: Path):
    jobs = "\n".join(f'[[job]]\nname = "fixture-{i}"\nanalysis = "fixture"\n[job.params]\nstatus = "ok"\n'
                     for i in range(6))
    (tmp_path / "jobs.toml").write_text(jobs)
    out = tmp_path / "out"
    env = {**os.environ, "MLREPORT_NOTEBOOKS": str(fixture_notebooks)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlreport", "batch", str(tmp_path / "jobs.toml"), "--jobs", "1", "--out", str(out),
         "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, stdin=subprocess.DEVNULL, text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while len(run_dirs(out)) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        zygotes = [p for p in psutil.Process(proc.pid).children() if "mlreport.driver._zygote" in " ".join(
            p.cmdline())]
        assert len(zygotes) == 1, "no zygote, or the batch ended before two runs"
        zygotes[0].kill()
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    summary = json.loads(stdout)
    assert proc.returncode == 0 and [j["status"] for j in summary["jobs"]] == ["ok"] * 6, stderr[-3000:]
    starts = [load_manifest(d)["kernel"]["start"] for d in run_dirs(out)]
    assert starts.count("forked") >= 2 and starts.count("fresh") >= 1, starts
    # The jobs' drivers too: forked while the zygote lived, their own processes after (the fallback).
    drivers = ["driver" in load_manifest(d)["kernel"] for d in run_dirs(out)]
    assert drivers.count(True) >= 2 and drivers.count(False) >= 1, drivers


# ------------------------------------------------------- a warm zygote for single runs (mlreport kernels serve)


def _serve(socket_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "mlreport", "kernels", "serve", "--socket", str(socket_path)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


@pytest.mark.e2e
def test_kernels_serve_forks_single_runs_until_stopped(fixture_notebooks: Path, tmp_path: Path):
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}
    env["MLREPORT_NOTEBOOKS"] = str(fixture_notebooks)
    socket_path = tmp_path / "kernels" / "kernels.sock"
    served = _serve(socket_path, env)
    try:
        assert served.stdout is not None and served.stdout.readline().strip() == b"ready"
        assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700
        # One zygote per socket.
        again = _serve(socket_path, env)
        _, again_err = again.communicate(timeout=120)
        assert again.returncode == 2 and b"serves there already" in again_err
        # Runs that name it get forked kernels; the report says from which zygote.
        run_env = {**env, ZYGOTE_ENV: str(socket_path)}
        for status in ("ok", "incident"):
            result = subprocess.run(
                [sys.executable, "-m", "mlreport", "run", "fixture", "-p", f"status={status}", "--out",
                 str(tmp_path / "out"), "--json", "--fail-on", "never"],
                capture_output=True, text=True, env=run_env, cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL)
            assert result.returncode == 0, result.stderr[-2000:]
        for run_dir in run_dirs(tmp_path / "out"):
            kernel = load_manifest(run_dir)["kernel"]
            assert kernel["start"] == "forked" and kernel["zygote_pid"] == served.pid  # exec kept the pid
            assert kernel["code"] and kernel["zygote_started_at"]
        served.terminate()
        served.communicate(timeout=30)
        assert not socket_path.exists()
    finally:
        if served.poll() is None:
            served.kill()
            served.communicate()


def test_kernels_serve_wants_a_private_folder(tmp_path: Path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    result = run_cli("kernels", "serve", "--socket", str(shared / "kernels.sock"))
    assert result.returncode == 2 and "must be yours and private (mode 0700)" in result.stderr
    assert not (shared / "kernels.sock").exists()


def test_the_code_fingerprint_changes_with_a_source_file_or_a_recorded_package_version(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import mlreport
    import mlreport.record
    from mlreport.driver._zygote import code_fingerprint

    first = code_fingerprint()
    assert code_fingerprint() == first and re.fullmatch(r"[0-9a-f]{32}", first)
    versions = mlreport.record.package_versions()
    # A library upgraded in the same environment after the zygote imported the old one: its kernels would run
    # the old code while run.json (the driver's) names the new version.
    monkeypatch.setattr(mlreport.record, "package_versions", lambda: {**versions, "pandas": "0.0.1"})
    assert code_fingerprint() != first
    monkeypatch.undo()
    # An edited source file (its size or modification time) changes it too: a copy of a package tree stands in.
    root = tmp_path / "mlreport"
    (root / "room").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "room" / "_code.py").write_text("x = 1\n")
    monkeypatch.setattr(mlreport, "__file__", str(root / "__init__.py"))
    copy = code_fingerprint()
    assert copy != first and code_fingerprint() == copy
    (root / "room" / "_code.py").write_text("x = 2\n")  # same size, later mtime
    os.utime(root / "room" / "_code.py", ns=(0, (root / "room" / "_code.py").stat().st_mtime_ns + 10**9))
    assert code_fingerprint() != copy


# ----------------------------------------------- whole runs forked from the zygote (batch jobs, served `mlreport run`)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}
    env.update(extra)
    return env


def _served(zygote_socket: str, argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int | None, str, str]:
    """``request_run`` as the CLI's hand-off does it, streams to files: (exit code or None if refused, out, err)."""
    from mlreport.handoff import request_run

    out, err = cwd / "served.out", cwd / "served.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr, open(os.devnull, "rb") as stdin:
        served = request_run(zygote_socket, argv, env=env, cwd=str(cwd), stdin=stdin.fileno(),
                             stdout=stdout.fileno(), stderr=stderr.fileno(), watch=True)
        code = served.wait(timeout=120) if served is not None else None
    return code, out.read_text(), err.read_text()


def test_a_served_run_gets_the_requesters_streams_folder_and_exit_code_and_refuses_changed_code(tmp_path: Path):
    import mlreport

    main = str(Path(mlreport.__file__).resolve().parent / "__main__.py")
    env = _clean_env()
    log_path = tmp_path / "zygote.stderr"
    with Zygote([], env={**env, **kernel_env_extra()}, log_path=log_path) as own:
        assert own.socket_path
        code, out, err = _served(own.socket_path, [main, "run", "--help"], tmp_path, env)
        assert code == 0 and "usage: mlreport run" in out and err == ""
        code, out, err = _served(own.socket_path, [main, "run", "no-such-analysis", "--json"], tmp_path, env)
        assert code == 2 and json.loads(out)["exit_code"] == 2 and "no-such-analysis" in out
        # Only `mlreport run`, only the same environment.
        assert _served(own.socket_path, [main, "history"], tmp_path, env)[0] is None
        assert _served(own.socket_path, [main, "run", "--help"], tmp_path, {**env, "OMP_NUM_THREADS": "7"})[0] is None
        # A source file changed on disk since the zygote imported it: refused (the run then happens in its process).
        source = Path(mlreport.__file__).resolve().parent / "handoff" / "__init__.py"
        before = source.stat()
        try:
            os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
            assert _served(own.socket_path, [main, "run", "--help"], tmp_path, env)[0] is None
        finally:
            os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert _served(own.socket_path, [main, "run", "--help"], tmp_path, env)[0] == 0
    assert "refused a kernel: the code differs from the code this zygote imported" in log_path.read_text()


def kernel_env_extra() -> dict[str, str]:
    """The variables a kernel spec adds (what a zygote started by a batch has on top of the jobs' environment)."""
    from mlreport.driver._execute import KERNEL_ENV

    return dict(KERNEL_ENV)


def _json_without_ids(text: str) -> dict:
    data = json.loads(text)
    for key in ("run_id", "report", "run_dir"):
        data.pop(key, None)
    return _untimed(data)  # type: ignore[return-value]


@pytest.mark.e2e
def test_a_served_run_is_the_plain_run(zygote: Zygote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    args = ("run", "drift", "-p", "sample_rows=2000", "--fail-on", "incident", "--json")
    plain = run_cli(*args, "--out", str(tmp_path / "plain"), env={ZYGOTE_ENV: ""}, cwd=tmp_path)
    served = run_cli(*args, "--out", str(tmp_path / "served"), env={ZYGOTE_ENV: zygote.socket_path}, cwd=tmp_path)
    assert plain.returncode == served.returncode == 1, (plain.stderr[-2000:], served.stderr[-2000:])
    assert _untimed_text(json.dumps(_json_without_ids(plain.stdout))) == _untimed_text(
        json.dumps(_json_without_ids(served.stdout)))
    (plain_dir,), (served_dir,) = run_dirs(tmp_path / "plain"), run_dirs(tmp_path / "served")
    plain_run, served_run = load_manifest(plain_dir), load_manifest(served_dir)
    assert "driver" not in plain_run["kernel"]
    assert served_run["kernel"]["driver"]["start"] == "forked"
    assert served_run["kernel"]["driver"]["zygote_pid"] == served_run["kernel"]["zygote_pid"] == zygote.pid
    assert problems("manifest", served_run) == []
    assert served_run["command"] == plain_run["command"].replace(str(tmp_path / "plain"), str(tmp_path / "served"))
    assert served_run["cwd"] == plain_run["cwd"] == str(tmp_path)
    for key in ("status", "exit_code", "headline", "findings", "metrics", "incidents", "data_period", "counts",
                "thresholds", "methods", "parameters", "inputs", "versions"):
        assert _untimed_text(json.dumps(_untimed(plain_run.get(key)))) == _untimed_text(
            json.dumps(_untimed(served_run.get(key)))), key
    # The report's tables and text, but for its ids, times and durations.
    def report(run_dir: Path, run: dict) -> str:
        text = (run_dir / "report.html").read_text()
        for value in (run["run_id"], run["started_at"], run["finished_at"], str(run_dir)):
            text = text.replace(value, "")
        text = re.sub(r"zygote[^<]*", "", text)
        text = re.sub(r'(seconds[a-z -]*</td><td class="num">)[0-9.]+', r"\1", text)
        return _untimed_text(re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\+00:00|Z)?", "", text))

    def tables(run_dir: Path, run: dict) -> list[str]:
        """Every table of the report before the appendix's run identity (ids, folders, the command line)."""
        found = re.findall(r"<table.*?</table>", report(run_dir, run), re.S)
        return found[: next(i for i, table in enumerate(found) if "<caption>Run identity" in table)]

    assert tables(plain_dir, plain_run) == tables(served_dir, served_run) and len(tables(plain_dir, plain_run)) > 10


@pytest.mark.e2e
def test_a_served_run_stops_with_its_command(fixture_notebooks: Path, tmp_path: Path):
    env = _clean_env(MLREPORT_NOTEBOOKS=str(fixture_notebooks))
    socket_path = tmp_path / "kernels" / "kernels.sock"
    served = _serve(socket_path, env)
    try:
        assert served.stdout is not None and served.stdout.readline().strip() == b"ready"
        command = [sys.executable, "-m", "mlreport", "run", "slow", "-p", "seconds=120", "--out", str(tmp_path / "out"),
                   "--json"]
        for signum, code in ((signal.SIGTERM, 143), (signal.SIGKILL, -9)):
            client = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                      env={**env, ZYGOTE_ENV: str(socket_path)}, cwd=tmp_path)
            deadline = time.monotonic() + 120
            forked: list[psutil.Process] = []  # the run's driver, then its kernel: both forked by the server
            while len(forked) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
                forked = [p for p in psutil.Process(served.pid).children() if p.status() != psutil.STATUS_ZOMBIE]
            assert len(forked) == 2, "the run (driver and kernel) was not handed to the server"
            assert client.poll() is None and not psutil.Process(client.pid).children(), "the command ran the run itself"
            time.sleep(1.0)
            client.send_signal(signum)
            stdout, _ = client.communicate(timeout=60)
            assert client.returncode == code
            if signum == signal.SIGTERM:
                assert json.loads(stdout)["exit_code"] == 143
            assert all(_gone(process.pid, 30) for process in forked), "the driver or kernel outlived the command"
        assert not run_dirs(tmp_path / "out"), "a stopped run left a run folder"
    finally:
        served.terminate()
        served.communicate(timeout=30)


def _log_lines(path: Path) -> list[str]:
    """A job's log without its timestamps (and the batch's own progress, which is not in it)."""
    return [re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ", "", line) for line in path.read_text().splitlines()]


@pytest.mark.e2e
def test_a_batch_forks_its_drivers_with_the_results_of_job_processes(fixture_notebooks: Path, tmp_path: Path):
    jobs = "\n".join([
        '[[job]]\nname = "healthy"\nanalysis = "fixture"\n[job.params]\nstatus = "ok"\n',
        '[[job]]\nname = "incident"\nanalysis = "fixture"\n[job.params]\nstatus = "incident"\n',
        '[[job]]\nname = "broken"\nanalysis = "failing"\n',
        '[[job]]\nname = "bad-input"\nanalysis = "failing"\n[job.params]\nerror = "DataError"\n',
        '[[job]]\nname = "dies"\nanalysis = "dies"\n',
    ])
    (tmp_path / "jobs.toml").write_text(jobs)
    env = _clean_env(MLREPORT_NOTEBOOKS=str(fixture_notebooks))
    summaries = {}
    for how, options in (("forked", []), ("processes", ["--fresh-kernels"])):
        result = subprocess.run(
            [sys.executable, "-m", "mlreport", "batch", str(tmp_path / "jobs.toml"), "--jobs", "2", "--out",
             str(tmp_path / how), "--json", *options],
            capture_output=True, text=True, env=env, timeout=600, stdin=subprocess.DEVNULL)
        summaries[how] = (result.returncode, json.loads(result.stdout))
    (forked_code, forked), (process_code, processes) = summaries["forked"], summaries["processes"]
    assert forked_code == process_code == forked["exit_code"] == 3
    assert [(j["job"], j["status"], j["exit_code"], j["error"]) for j in forked["jobs"]] == [
        (j["job"], j["status"], j["exit_code"], j["error"]) for j in processes["jobs"]]
    assert [j["exit_code"] for j in forked["jobs"]] == [0, 1, 3, 2, 3]
    for one, other in zip(forked["jobs"], processes["jobs"], strict=True):
        forked_run = load_manifest(Path(one["report"]).parent)
        process_run = load_manifest(Path(other["report"]).parent)
        assert forked_run["kernel"]["driver"]["start"] == "forked" and forked_run["kernel"]["start"] == "forked"
        assert process_run["kernel"] == {"start": "fresh"}
        assert problems("manifest", forked_run) == []
        for key in ("status", "exit_code", "headline", "findings", "error", "batch", "cwd", "parameters"):
            if key == "batch":
                assert forked_run[key]["job"] == process_run[key]["job"]
                continue
            assert forked_run.get(key) == process_run.get(key), key
        assert "RUN FAILED" in (Path(one["report"])).read_text() if one["status"] == "failed" else True
        # The job's stderr is its log, as for a process: the same lines.
        assert _log_lines(Path(one["log"])) == _log_lines(Path(other["log"]))


def test_without_a_zygote_to_take_it_a_run_stays_in_its_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from mlreport.handoff import hand_off

    monkeypatch.delenv(ZYGOTE_ENV, raising=False)
    assert hand_off(["mlreport", "run", "--help"]) is None
    monkeypatch.setenv(ZYGOTE_ENV, str(tmp_path / "nobody-serves-here.sock"))
    assert hand_off(["mlreport", "run", "--help"]) is None
    (tmp_path / "not-a-socket.sock").write_text("")
    monkeypatch.setenv(ZYGOTE_ENV, str(tmp_path / "not-a-socket.sock"))
    assert hand_off(["mlreport", "run", "--help"]) is None
    # And the command then runs it itself: `run --help` answers with its usage, exit 0.
    result = run_cli("run", "--help", env={ZYGOTE_ENV: str(tmp_path / "nobody-serves-here.sock")})
    assert result.returncode == 0 and "usage: mlreport run" in result.stdout
