"""The exit-code contract of the CLI, case by case (issue 16, class 2), without starting a kernel.

0 healthy, 1 findings (and only findings; for verify: damage found), 2 bad
invocation or input (nothing was run), 3 the run failed or mlreport did not
foresee the error, 130/143 interrupted. With ``--json`` every outcome prints
exactly one JSON object on stdout, usage errors included; without it the
error is one ``mlreport: error:`` line of inert text on stderr.

Each case runs :func:`mlreport.cli.main` in this process; a case that would
start a kernel is refused before it does, which is what the table checks.
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from record_runs import manifest

from mlreport import cli
from mlreport.record import REGISTRY_FILE, record_run
from mlreport.terminal import is_inert


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


def one_object(stdout: str) -> dict:
    (line,) = stdout.splitlines()  # exactly one line, one object, nothing else
    data = json.loads(line)
    assert isinstance(data, dict)
    return data


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLREPORT_NOTEBOOKS", raising=False)
    monkeypatch.delenv("MLREPORT_OUT", raising=False)
    monkeypatch.delenv("MLREPORT_AUDIT_KEY", raising=False)
    (tmp_path / "jobs-inf.toml").write_text('[[job]]\nname = "j"\nanalysis = "fixture"\ntimeout = inf\n')
    yield


#: (case, arguments, exit code, error type, a fragment the error must name).
#: Every one of these is refused before anything runs: no output folder appears.
REFUSED = [
    ("no command", [], 2, "UsageError", "mlreport"),  # with --json: "unrecognized arguments: --json"
    ("unknown command", ["frobnicate"], 2, "UsageError", "'frobnicate'"),
    ("unknown option", ["run", "fixture", "--colour"], 2, "UsageError", "--colour"),
    ("timeout inf", ["run", "fixture", "--timeout", "inf"], 2, "UsageError", "--timeout"),
    ("timeout nan", ["run", "fixture", "--timeout", "nan"], 2, "UsageError", "--timeout"),
    ("timeout 0", ["run", "fixture", "--timeout", "0"], 2, "UsageError", "--timeout"),
    ("timeout -1", ["run", "fixture", "--timeout=-1"], 2, "UsageError", "--timeout"),
    ("timeout text", ["run", "fixture", "--timeout", "soon"], 2, "UsageError", "--timeout"),
    ("start-timeout 0", ["run", "fixture", "--start-timeout", "0"], 2, "UsageError", "--start-timeout"),
    ("start-timeout inf", ["run", "fixture", "--start-timeout", "inf"], 2, "UsageError", "--start-timeout"),
    ("empty --out", ["run", "fixture", "--out", ""], 2, "UsageError", "--out"),
    ("blank --out", ["history", "--out", "  "], 2, "UsageError", "--out"),
    ("fail-on unknown", ["run", "fixture", "--fail-on", "sometimes"], 2, "UsageError", "--fail-on"),
    ("negative seed", ["run", "stress", "-p", "seed=-1"], 2, "ParameterError", "'seed'"),
    ("psi_bins below 2", ["run", "drift", "-p", "psi_bins=1"], 2, "ParameterError", "'psi_bins'"),
    ("parameter of the wrong type", ["run", "fixture", "-p", "rows=many"], 2, "ParameterError", "'rows'"),
    ("unknown parameter", ["run", "fixture", "-p", "rowz=1"], 2, "ParameterError", "'rowz'"),
    ("infinite parameter", ["run", "fixture", "-p", "ratio=Infinity"], 2, "ParameterError", "'ratio'"),
    ("unknown analysis", ["run", "nosuch"], 2, "InputError", "'nosuch'"),
    ("history limit 0", ["history", "--limit", "0"], 2, "UsageError", "--limit"),
    ("history limit text", ["history", "--limit", "all"], 2, "UsageError", "--limit"),
    ("prune days inf", ["prune", "--keep-days", "inf"], 2, "UsageError", "--keep-days"),
    ("prune days -1", ["prune", "--keep-days=-1"], 2, "UsageError", "--keep-days"),
    ("prune days missing", ["prune"], 2, "UsageError", "--keep-days"),
    ("batch jobs 0", ["batch", "jobs.toml", "--jobs", "0"], 2, "UsageError", "--jobs"),
    ("batch timeout inf", ["batch", "jobs.toml", "--timeout", "inf"], 2, "UsageError", "--timeout"),
    ("jobs file timeout inf", ["batch", "jobs-inf.toml"], 2, "InputError", "key 'timeout'"),
    ("sample rows 0", ["sample-data", "folder", "--rows", "0"], 2, "UsageError", "--rows"),
    ("sample seed -1", ["sample-data", "folder", "--seed=-1"], 2, "UsageError", "--seed"),
    ("rerun timeout 0", ["rerun", "x", "--timeout", "0"], 2, "UsageError", "--timeout"),
    ("history without a registry", ["history"], 2, "InputError", REGISTRY_FILE),
    ("show without a registry", ["show", "x"], 2, "InputError", REGISTRY_FILE),
    ("verify without outputs", ["verify"], 2, "InputError", "no such outputs folder"),
]


@pytest.fixture
def notebooks(fixture_notebooks: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[list[str]], None]:
    """The fixture notebooks for a case that names them (the real analyses otherwise)."""

    def use(args: list[str]) -> None:
        if not {"drift", "stress"} & set(args):
            monkeypatch.setenv("MLREPORT_NOTEBOOKS", str(fixture_notebooks))

    return use


@pytest.mark.parametrize(("args", "code", "kind", "fragment"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_with_json_one_object(tmp_path: Path, notebooks, args: list[str], code: int, kind: str,
                                      fragment: str):
    notebooks(args)
    exit_code, stdout, stderr = run(*args, "--json")
    assert exit_code == code, stderr
    data = one_object(stdout)
    assert (data["status"], data["exit_code"], data["type"]) == ("error", code, kind)
    assert set(data) <= {"status", "exit_code", "type", "error", "details"}
    assert fragment in data["error"] + "\n".join(data.get("details", []))
    assert "Traceback" not in stderr and not (tmp_path / "outputs").exists()


@pytest.mark.parametrize(("args", "code", "kind", "fragment"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_in_text_one_error_line(notebooks, args: list[str], code: int, kind: str, fragment: str):
    notebooks(args)
    exit_code, stdout, stderr = run(*args)
    assert exit_code == code and stdout == ""
    errors = [line for line in stderr.splitlines() if line.startswith("mlreport: error:")]
    if args:  # a bare `mlreport` prints the help instead
        assert len(errors) == 1 and fragment in stderr, stderr  # details, one per line, follow the error line
    assert "Traceback" not in stderr and all(is_inert(line) for line in stderr.splitlines())


def test_accepted_numbers_reach_the_run():
    args = cli.build_parser().parse_args(["run", "fixture", "--timeout", "90.5", "--start-timeout", "0.5"])
    assert (args.timeout, args.start_timeout) == (90.5, 0.5)
    assert cli.build_parser().parse_args(["prune", "--keep-days", "0.5"]).keep_days == 0.5


def test_a_hostile_value_in_an_error_is_one_inert_line(notebooks):
    notebooks(["fixture"])
    for args in (["run", "fixture", "-p", "rows=\x1b]0;owned\x07\r\nmlreport: ok"], ["show", "\x1b[2J\u202eid"]):
        exit_code, stdout, stderr = run(*args, "--out", "out")
        lines = stderr.splitlines()
        assert exit_code == 2 and len(lines) == 1 and all(is_inert(line) for line in lines), stderr
        exit_code, stdout, _ = run(*args, "--out", "out", "--json")
        assert exit_code == 2 and one_object(stdout)["exit_code"] == 2


@pytest.mark.parametrize(
    ("raised", "code", "kind"),
    [(RuntimeError("boom"), 3, "RuntimeError"), (KeyboardInterrupt(), 130, "Interrupted"),
     (ZeroDivisionError("x"), 3, "ZeroDivisionError")],
)
def test_what_mlreport_did_not_foresee_is_never_exit_1(monkeypatch: pytest.MonkeyPatch, raised: BaseException,
                                                       code: int, kind: str):
    def fail(args: object, output: object) -> int:
        raise raised

    monkeypatch.setitem(cli._COMMANDS, "history", fail)
    exit_code, stdout, stderr = run("history", "--json")
    assert exit_code == code and one_object(stdout)["type"] == kind and "Traceback" not in stderr
    exit_code, stdout, stderr = run("history")
    assert exit_code == code and stdout == "" and "Traceback" not in stderr


# ------------------------------------------------------------------ the record's states


def _recorded(out: Path, n: int = 2) -> list[str]:
    ids = []
    for i in range(n):
        m = manifest(f"2026031{i}T020000Z-0000000{i}")
        folder = out / m["model"] / m["analysis"] / m["run_id"]
        folder.mkdir(parents=True)
        (folder / "report.html").write_text("report")
        (folder / "run.json").write_text(json.dumps(m))
        record_run(out, folder, m)
        ids.append(m["run_id"])
    return ids


def test_a_registry_emptied_where_runs_were_recorded(tmp_path: Path, notebooks):
    notebooks(["fixture"])
    out = tmp_path / "out"
    _recorded(out)
    for suffix in ("-wal", "-shm"):
        (out / (REGISTRY_FILE + suffix)).unlink(missing_ok=True)
    (out / REGISTRY_FILE).write_bytes(b"")
    before = sorted(p.name for p in out.iterdir())
    for args, code in ((["run", "fixture"], 2), (["history"], 2), (["show", "2026031"], 2), (["verify"], 1)):
        exit_code, stdout, _ = run(*args, "--out", str(out), "--json")
        data = one_object(stdout)
        assert exit_code == code == data["exit_code"], (args, data)
        if code == 2:
            assert "registry rebuild" in data["error"], data
    assert sorted(p.name for p in out.iterdir()) == before and (out / REGISTRY_FILE).stat().st_size == 0
    exit_code, stdout, _ = run("registry", "rebuild", "--out", str(out), "--json")
    assert exit_code == 0 and one_object(stdout)
    assert run("verify", "--out", str(out))[0] == 0


def test_a_truncated_registry_is_damage_for_verify_and_bad_input_for_the_others(tmp_path: Path, notebooks):
    notebooks(["fixture"])
    out = tmp_path / "out"
    _recorded(out, 3)
    conn = sqlite3.connect(out / REGISTRY_FILE)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = (out / REGISTRY_FILE).read_bytes()
    (out / REGISTRY_FILE).write_bytes(data[: len(data) // 2])
    exit_code, stdout, _ = run("verify", "--out", str(out), "--json")
    assert exit_code == 1 == one_object(stdout)["exit_code"]
    exit_code, stdout, stderr = run("verify", "--out", str(out))
    assert exit_code == 1 and "registry" in stdout + stderr
    exit_code, stdout, _ = run("run", "fixture", "--out", str(out), "--json")
    assert exit_code == 2 and REGISTRY_FILE in one_object(stdout)["error"]
    assert not (out / ".tmp").exists() or not [p for p in (out / ".tmp").iterdir() if p.is_dir()]


def test_verify_anchor_options(tmp_path: Path):
    out = tmp_path / "out"
    _recorded(out)
    exit_code, stdout, _ = run("verify", "--out", str(out), "--head")
    assert exit_code == 0
    head = stdout.strip().splitlines()[-1].split()[-1]
    exit_code, stdout, _ = run("verify", "--out", str(out), "--expect-head", "not-a-hash", "--json")
    assert exit_code == 2 and "--expect-head" in one_object(stdout)["error"]
    assert run("verify", "--out", str(out), "--expect-head", head)[0] == 0, head
