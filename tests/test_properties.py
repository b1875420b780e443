"""Properties over random frames: loaders round-trip, statistics never crash, invariants hold.

Loaders: any frame written as Parquet reads back identical; written as CSV it
reads back with the same columns and values (CSV carries no types, so values
are compared as what they denote). Statistics: integrity checks and feature
drift on arbitrary frames (missing, infinite, constant, empty, mixed columns)
either return or raise an mlreport error that names a column or parameter;
a window compared with itself gives no finding and a PSI of zero. Timestamps
with arbitrary UTC offsets parse to the same UTC instants. Random decision logs
go through the volume analysis without crashing.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mlreport import data
from mlreport.drift import compare
from mlreport.errors import DataError, MlreportError, ParameterError
from mlreport.integrity import check_integrity
from mlreport.profile import ReferenceProfile

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# ------------------------------------------------------------------ random frames

# Characters a CSV must carry through: delimiters of other dialects, quotes, spaces, non-ASCII.
_TEXT = st.text(alphabet=st.sampled_from(list("abcXYZ09 ;|,:\"'-_/ñé€😀\u200b")), min_size=0, max_size=12)
_NAME = st.text(alphabet=st.sampled_from(list("abcdXYZ_09 ;|,-ñ")), min_size=1, max_size=10).filter(
    lambda s: s.strip() == s and not s[0].isdigit()
)


@st.composite
def frames(draw: st.DrawFn, *, min_rows: int = 1, max_rows: int = 40, allow_nonfinite: bool = True) -> pd.DataFrame:
    """A frame of 1-5 columns of one kind each: int, float, text, bool or datetime."""
    rows = draw(st.integers(min_rows, max_rows))
    names = draw(st.lists(_NAME, min_size=1, max_size=5, unique_by=lambda s: s.lower()))
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(["int", "float", "text", "bool", "datetime"]))
        if kind == "int":
            values = draw(st.lists(st.integers(-10**12, 10**12), min_size=rows, max_size=rows))
            columns[name] = pd.Series(values, dtype="int64")
        elif kind == "float":
            # magnitudes of real data; values near the float maximum are a bad-input case of their own
            specials = [math.nan, math.inf, -math.inf] if allow_nonfinite else [math.nan]
            element = st.one_of(st.floats(-1e12, 1e12), st.sampled_from(specials))
            columns[name] = pd.Series(draw(st.lists(element, min_size=rows, max_size=rows)), dtype="float64")
        elif kind == "text":
            # a letter first: "NA", "null" or "12" alone mean something else to every CSV reader
            element = st.one_of(st.none(), _TEXT.map(lambda s: "v" + s))
            columns[name] = pd.Series(draw(st.lists(element, min_size=rows, max_size=rows)), dtype="string")
        elif kind == "bool":
            columns[name] = pd.Series(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), dtype="bool")
        else:
            element = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 1, 1))
            stamps = draw(st.lists(element, min_size=rows, max_size=rows))
            columns[name] = pd.Series(pd.to_datetime(stamps), dtype="datetime64[ns]").dt.floor("s")
    return pd.DataFrame(columns)


def _denoted(value: object) -> object:
    """What a cell denotes, across CSV's loss of types: None, a float, a bool or text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return pd.Timestamp(value).isoformat()
    return str(value)


# ------------------------------------------------------------------ loaders


@SETTINGS
@given(frame=frames())
def test_parquet_round_trip_is_exact(tmp_path: Path, frame: pd.DataFrame):
    path = tmp_path / "frame.parquet"
    frame.to_parquet(path, index=False)
    log = data.InputLog()
    loaded = data.load_table(path, log=log)
    pd.testing.assert_frame_equal(loaded, frame, check_dtype=False)
    assert log.to_list()[-1]["rows"] == len(frame)


@SETTINGS
@given(frame=frames())
def test_csv_round_trip_keeps_columns_and_values(tmp_path: Path, frame: pd.DataFrame):
    path = tmp_path / "frame.csv"
    frame.to_csv(path, index=False)
    loaded = data.load_table(path)
    assert list(loaded.columns) == list(frame.columns)
    assert len(loaded) == len(frame)
    for name in frame.columns:
        original = frame[name]
        if pd.api.types.is_datetime64_any_dtype(original.dtype):
            back = data.parse_timestamps(loaded, name) if loaded[name].notna().any() else loaded[name]
            assert list(map(_denoted, back)) == list(map(_denoted, original)), name
        else:
            assert list(map(_denoted, loaded[name])) == list(map(_denoted, original)), name


@SETTINGS
@given(
    instants=st.lists(
        st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 1, 1)), min_size=1, max_size=30
    ),
    offsets=st.lists(st.integers(-14 * 60, 14 * 60), min_size=1, max_size=30),
)
def test_timestamps_with_any_offsets_parse_to_the_same_utc_instants(instants, offsets):
    utc = [pd.Timestamp(i).floor("s") for i in instants]
    text = []
    for i, instant in enumerate(utc):
        minutes = offsets[i % len(offsets)]
        zone = dt.timezone(dt.timedelta(minutes=minutes))
        text.append(instant.tz_localize("UTC").tz_convert(zone).isoformat())
    parsed = data.parse_timestamps(pd.DataFrame({"ts": text}), "ts")
    assert list(parsed) == utc


# ------------------------------------------------------------------ statistics


def _consistent(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop datetime columns (not profiled) and columns the checks need no guarantees on."""
    return frame[[c for c in frame.columns if not pd.api.types.is_datetime64_any_dtype(frame[c].dtype)]]


@SETTINGS
@given(frame=frames(min_rows=1, max_rows=60))
def test_a_window_compared_with_itself_gives_no_finding(frame: pd.DataFrame):
    frame = _consistent(frame)
    assume(frame.shape[1] > 0)
    result = check_integrity(frame, frame.copy())
    raised = [f for f in result.findings if f.severity != "ok" and f.check != "rows"]  # "rows": too few to judge
    assert not raised, [(f.check, f.subject, f.message) for f in raised]


@SETTINGS
@given(frame=frames(min_rows=1, max_rows=60))
def test_drift_of_a_window_against_itself_is_zero(frame: pd.DataFrame):
    frame = _consistent(frame)
    assume(frame.shape[1] > 0)
    profile = ReferenceProfile.fit(frame)
    table = compare(profile, None, profile.summarize(frame.sample(frac=1.0, random_state=0)))
    assert set(table["severity"]) <= {"ok", "n/a"}, table[["column", "severity", "reason"]].to_dict("records")
    psi = table["psi"].dropna()
    assert (psi.abs() < 1e-12).all(), table[["column", "psi"]].to_dict("records")


@st.composite
def messy_pairs(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current sharing names, with a few columns made hostile to statistics."""
    reference = _consistent(draw(frames(min_rows=1, max_rows=50)))
    assume(reference.shape[1] > 0)
    current = _consistent(draw(frames(min_rows=0, max_rows=50)))
    # give current the reference's names (kinds may differ: a type change is a case too)
    shared = min(reference.shape[1], current.shape[1])
    current = current.iloc[:, :shared].set_axis(list(reference.columns[:shared]), axis=1)
    for frame in (reference, current):
        if len(frame) and frame.shape[1] and draw(st.booleans()):
            name = draw(st.sampled_from(list(frame.columns)))
            frame[name] = draw(st.sampled_from([np.nan, np.inf, 0.0, "text", None]))
    return reference, current


@SETTINGS
@given(pair=messy_pairs())
def test_integrity_and_drift_never_crash_on_messy_windows(pair):
    reference, current = pair
    try:
        result = check_integrity(reference, current)
        assert all(f.severity in ("ok", "warning", "incident") for f in result.findings)
        profile = ReferenceProfile.fit(reference)
        table = compare(profile, None, profile.summarize(current.reindex(columns=reference.columns)))
        assert set(table["severity"]) <= {"ok", "warning", "incident", "n/a"}
        assert np.isfinite(table["psi"].dropna()).all()
    except (DataError, ParameterError) as exc:
        assert str(exc), "an error with no message"


# ------------------------------------------------------------------ volume


@st.composite
def decision_logs(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(200, 1500))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    days = draw(st.integers(36, 70))
    seconds = np.sort(rng.integers(0, days * 86400, rows))
    labels = draw(
        st.lists(st.sampled_from(["approve", "refer", "decline", "manual"]), min_size=1, max_size=4, unique=True)
    )
    segments = draw(st.integers(1, 6))
    frame = pd.DataFrame({
        "timestamp": pd.Timestamp("2026-01-05") + pd.to_timedelta(seconds, unit="s"),
        "decision": rng.choice(labels, rows),
        "channel": rng.choice([f"c{i}" for i in range(segments)], rows),
        "score": rng.random(rows),
    })
    if draw(st.booleans()):  # a gap: a channel silent for a while, or missing decisions
        cut = frame["timestamp"] > frame["timestamp"].quantile(draw(st.floats(0.6, 0.95)))
        frame.loc[cut & (frame["channel"] == "c0"), "decision"] = None
    return frame


@settings(max_examples=12, deadline=None)
@given(log=decision_logs())
def test_volume_never_crashes_on_random_decision_logs(log: pd.DataFrame):
    from mlreport.volume import VolumeConfig, analyse_volume

    try:
        result = analyse_volume(log, VolumeConfig(baseline_weeks=2), timestamp_column="timestamp",
                                decision_column="decision", segment_columns=["channel"], score_column="score")
    except MlreportError as exc:
        assert isinstance(exc, (DataError, ParameterError)) and str(exc)
        return
    assert result.status in ("ok", "warning", "incident")
    counted = int(result.counts.overall.sum())
    assert counted == result.counts.rows <= len(log)


# ------------------------------------------------------------------ the operator's terminal

# Any text, including ESC/CSI/OSC sequences, C1 controls, CR/LF, tabs, bidi overrides and line separators.
_HOSTILE = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(["\x1b[2J", "\x1b]52;c;eA==\x07", "\r\n", "\t", "\x9b", "\u202e", "\u2028", "\x00",
                              "ok", "é", " "]), max_size=8).map("".join),
)


def _inert_lines(text: str, count: int) -> None:
    from mlreport.terminal import is_inert

    lines = text.split("\n")
    assert len(lines) == count, lines
    assert all(is_inert(line) for line in lines), [line for line in lines if not is_inert(line)]


def _record(text: str, *, pruned: bool = False):
    from mlreport.record import RunRecord

    finding = {"check": text, "subject": text, "severity": "incident", "message": text}
    return RunRecord(
        run_id=f"20260314T020000Z-{text[:3]}", model=text, analysis=text, status="incident", exit_code=1,
        run_dir=text, report_path=text, started_at=text, finished_at=text, headline=text, data_period=text,
        fail_on=text, parameters={text: text}, inputs=[{"name": text, "path": text, "sha256": text, "rows": 1}],
        findings=[finding], user=text, host=text, cwd=text, error_kind=text, error_message=text,
        files={"run.json": text}, rerun_of=text, batch_id=text, job=text, pruned_at=text if pruned else None,
        timings_s={"total": 1.0},
    )


@settings(max_examples=80, deadline=None)
@given(texts=st.lists(_HOSTILE, min_size=1, max_size=4))
def test_history_prints_one_inert_line_per_run(texts: list[str]):
    from mlreport.record import format_history

    _inert_lines(format_history([_record(t) for t in texts]), 1 + len(texts))


@settings(max_examples=80, deadline=None)
@given(text=_HOSTILE, pruned=st.booleans())
def test_show_prints_the_same_lines_whatever_the_values(text: str, pruned: bool):
    from mlreport.record import format_record

    # 14 fixed fields; rerun, batch and error when set; "inputs", "parameters", "findings", "files", one line each
    _inert_lines(format_record(_record(text, pruned=pruned)), 14 + (3 if text else 0) + 8)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(_HOSTILE, min_size=1, max_size=3))
def test_verify_prune_rerun_and_batch_reports_are_inert(texts: list[str]):
    from mlreport.driver import BatchResult, Comparison, Difference, RerunResult, TaskResult, format_summary
    from mlreport.record import Problem, PruneResult, VerifyReport

    report = VerifyReport(problems=[Problem(t, t, run_id=t) for t in texts], notes=list(texts), head=texts[0])
    _inert_lines(report.format(), 3 + 2 * len(texts))
    pruned = PruneResult(cutoff=texts[0], dry_run=False, runs=[_record(t) for t in texts], live_staging=list(texts))
    _inert_lines(pruned.format(), 2 + len(texts))
    comparison = Comparison(equivalent=False, verdicts=[Difference("severity", t, t, t) for t in texts],
                            metrics=[Difference("metric", t, 1.0, 2.0) for t in texts], notes=list(texts))
    rerun = RerunResult(original=_record(texts[0]), rerun=_record(texts[-1]), comparison=comparison)
    _inert_lines(rerun.format(), 4 + 3 * len(texts))
    batch = BatchResult(texts[0], texts[0], texts[0], Path("."), index=texts[0], results=[
        TaskResult(t, t, t, 2, 1.0, run_id=t, report=None, error=t) for t in texts
    ])
    _inert_lines(format_summary(batch), 3 + len(texts) + (1 if texts[0] else 0))


# ------------------------------------------------------------------ numeric options

_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["inf", "-inf", "nan", "NaN", "Infinity", "1e309", "0", "-0.0", "90.5", "", " ", "1_0", "0x10"]),
    st.text(max_size=6),
)


def _cli(*args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    from mlreport.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=120, deadline=None)
@given(text=_NUMBERS, option=st.sampled_from(["--timeout", "--start-timeout"]))
def test_seconds_are_finite_and_above_zero_or_exit_2_naming_the_option(text: str, option: str):
    import json

    from mlreport.cli import build_parser

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    valid = math.isfinite(value) and value > 0
    if valid:
        args = build_parser().parse_args(["run", "fixture", option, text])
        assert getattr(args, option.lstrip("-").replace("-", "_")) == value
        return
    code, stdout, stderr = _cli("run", "fixture", option, text, "--json")
    assert code == 2, (text, stderr)
    (line,) = stdout.splitlines()
    data = json.loads(line)
    assert data["exit_code"] == 2 and data["type"] == "UsageError" and option in data["error"]
    assert stderr.startswith("mlreport: error:") and option in stderr and "Traceback" not in stderr


@settings(max_examples=60, deadline=None)
@given(text=_NUMBERS, case=st.sampled_from([
    ("history", "--limit", 1), ("batch", "--jobs", 1), ("prune", "--keep-days", 0),
    ("sample-data", "--rows", 1), ("sample-data", "--seed", 0),
]))
def test_counts_and_days_outside_their_domain_exit_2(text: str, case: tuple[str, str, int]):
    import json

    command, option, least = case
    positional = {"batch": ["jobs.toml"], "sample-data": ["folder"]}.get(command, [])
    try:
        number = float(text) if option == "--keep-days" else int(text)
    except ValueError:
        number = math.nan
    assume(not (math.isfinite(number) and number >= least))  # a valid value would run the command
    code, stdout, _ = _cli(command, *positional, option, text, "--json")
    assert code == 2 and option in json.loads(stdout)["error"]
