"""The bad-input catalogue: one test per broken input, across drift, volume, stress and the CLI.

Every case must end in one of two ways: a clear message naming the file,
column or parameter and what was expected (never a bare traceback), or a
finding in the report. Nothing half-written is left behind.

Most cases run the real notebook's code in this process (:func:`run_notebook`:
its parameters validated as the CLI does, each code cell executed in order,
displayed objects rendered to HTML), so the test sees the exception a kernel
would raise, in a second rather than a kernel start. The CLI cases show what
a user gets around that: the exit code, the message on stderr or in
``--json``, the failure report and the run folder. They start real kernels, in
parallel, once per module.

An input error found inside a notebook (a DataError, ParameterError,
SpecError, ScenarioError or ModelError) ends the run with exit code 2, "bad
invocation or input", and a failure report naming it; 3 is kept for runs
that broke (see ``INPUT_ERROR_IN_NOTEBOOK_EXIT``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import browser
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_runs import run_cli
from inprocess import run_notebook, summary_of

from mlreport import sample
from mlreport.errors import DataError, MlreportError, ModelError, ParameterError, ScenarioError, SpecError
from mlreport.terminal import is_inert

HERE = Path(__file__).resolve().parents[1]  # tests/: the helper modules a subprocess imports

#: Cases that start kernels or big subprocesses (see the e2e marker in pyproject.toml).
e2e = pytest.mark.e2e

#: Exit code of a run whose notebook stopped on bad input: "your input", not
#: "the run broke" (3). A failure report is written all the same.
INPUT_ERROR_IN_NOTEBOOK_EXIT = 2


def expect_error(kind: type[MlreportError], analysis: str, params: dict[str, Any], *fragments: str) -> str:
    """Run ``analysis`` and check it stops with ``kind`` whose message holds every fragment."""
    with pytest.raises(kind) as info:
        run_notebook(analysis, params)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in message: {message}"
    assert "Traceback" not in message and len(message) < 2_000
    return message


def findings_of(namespace: dict[str, Any], *, at_least: str = "warning") -> list[Any]:
    order = {"ok": 0, "warning": 1, "incident": 2}
    return [f for f in summary_of(namespace).findings if order[f.severity] >= order[at_least]]


# ------------------------------------------------------------------ inputs


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return sample.generate(2000, seed=5, weeks=8)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, frame: pd.DataFrame) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    reference, current = sample.split(frame, "2026-02-02")
    reference.to_parquet(folder / "reference.parquet")
    current.to_parquet(folder / "current.parquet")
    frame.to_parquet(folder / "log.parquet")
    (folder / "fast_model.py").write_text(FAST_MODEL, encoding="utf-8")
    return folder


FAST_MODEL = textwrap.dedent(
    '''
    """A tiny logistic score on three sample features: stress cases without training a model."""
    import numpy as np

    def score(frame):
        z = (-0.01 * (frame["bureau_score"].fillna(600) - 650) + 2 * frame["debt_to_income"].fillna(0.3)
             + frame["credit_utilisation"].fillna(0.5) - 1.5)
        return 1 / (1 + np.exp(-z.to_numpy(dtype=float)))

    score.features = ["bureau_score", "debt_to_income", "credit_utilisation"]
    '''
)


@pytest.fixture
def drift_params(inputs: Path) -> dict[str, Any]:
    return {
        "reference_path": str(inputs / "reference.parquet"), "current_path": str(inputs / "current.parquet"),
        "classifier_sample": 500,
    }


@pytest.fixture
def volume_params(inputs: Path) -> dict[str, Any]:
    return {"data_path": str(inputs / "log.parquet")}


@pytest.fixture
def stress_params(inputs: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.syspath_prepend(str(inputs))
    return {
        "data_path": str(inputs / "log.parquet"), "model": "fast_model:score",
        "thresholds": {"approve": 0.4, "refer": 0.6}, "sweep_rows": 200, "sensitivity_features": 1,
        "monotone_rows": 20,
    }


def _write(tmp_path: Path, frame: pd.DataFrame, name: str) -> str:
    path = tmp_path / name
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    return str(path)


def _current(frame: pd.DataFrame) -> pd.DataFrame:
    return sample.split(frame, "2026-02-02")[1].copy()


# ------------------------------------------------------------------ drift


def test_drift_reference_folder_without_data_files(tmp_path: Path, drift_params):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt.bak").write_text("x")
    expect_error(DataError, "drift", {**drift_params, "reference_path": str(tmp_path / "empty")},
                 str(tmp_path / "empty"), "no .parquet or .csv file")


def test_drift_csv_truncated_mid_row(tmp_path: Path, frame, drift_params):
    text = _current(frame).head(300).to_csv(index=False)
    path = tmp_path / "current.csv"
    path.write_text(text[: len(text) - 40], encoding="utf-8")
    expect_error(DataError, "drift", {**drift_params, "current_path": str(path)}, str(path), "could not be parsed")


def test_drift_csv_in_utf16(tmp_path: Path, frame, drift_params):
    path = tmp_path / "current.csv"
    path.write_bytes(_current(frame).head(200).to_csv(index=False).encode("utf-16"))
    expect_error(DataError, "drift", {**drift_params, "current_path": str(path)}, str(path), "not UTF-8")


def test_drift_csv_with_an_unrecognised_delimiter(tmp_path: Path, frame, drift_params):
    path = tmp_path / "current.csv"
    path.write_text(_current(frame).head(300).to_csv(index=False, sep=":"), encoding="utf-8")
    expect_error(DataError, "drift", {**drift_params, "current_path": str(path)},
                 str(path), "'timestamp' not found", "delimited by")


def test_drift_csv_with_decimal_commas(tmp_path: Path, frame, drift_params):
    """Semicolons and decimal commas: numbers arrive as text; the message names a column and the type expected."""
    path = tmp_path / "current.csv"
    path.write_text(_current(frame).head(500).to_csv(index=False, sep=";", decimal=","), encoding="utf-8")
    try:
        namespace, _ = run_notebook("drift", {**drift_params, "current_path": str(path)})
    except DataError as exc:
        assert exc.column and exc.column in str(exc) and "expected numbers" in str(exc)
    else:
        changed = [f for f in summary_of(namespace).findings if f.check == "schema" and f.severity == "incident"]
        assert {f.subject for f in changed} >= {"income", "score"}


def test_drift_empty_current_window_is_an_incident(tmp_path: Path, frame, drift_params):
    path = _write(tmp_path, _current(frame).iloc[:0], "current.parquet")
    namespace, _ = run_notebook("drift", {**drift_params, "current_path": path})
    assert summary_of(namespace).status == "incident"
    assert any(f.check == "rows" and "no rows" in f.message for f in findings_of(namespace, at_least="incident"))


def test_drift_empty_reference(tmp_path: Path, frame, drift_params):
    reference = sample.split(frame, "2026-02-02")[0].iloc[:0]
    path = _write(tmp_path, reference, "reference.parquet")
    expect_error(DataError, "drift", {**drift_params, "reference_path": path}, "reference data", path, "no rows")


def test_drift_one_row_current(tmp_path: Path, frame, drift_params):
    path = _write(tmp_path, _current(frame).iloc[:1], "current.parquet")
    namespace, outputs = run_notebook("drift", {**drift_params, "current_path": path})
    assert summary_of(namespace).status in ("warning", "incident")
    assert any(f.check == "rows" for f in findings_of(namespace))  # too few rows to judge is said, not hidden
    assert outputs


def test_drift_all_null_column(tmp_path: Path, frame, drift_params):
    current = _current(frame)
    current["income"] = np.nan
    namespace, _ = run_notebook("drift", {**drift_params, "current_path": _write(tmp_path, current, "c.parquet")})
    hits = [f for f in findings_of(namespace, at_least="incident") if f.subject == "income"]
    assert hits and "null" in hits[0].message


def test_drift_categorical_entirely_null_in_the_reference(tmp_path: Path, frame, drift_params):
    """A field filled only recently: no categories in the reference, values now."""
    reference = sample.split(frame, "2026-02-02")[0].assign(employment_status=pd.Series(dtype="string"))
    params = {**drift_params, "reference_path": _write(tmp_path, reference, "r.parquet")}
    namespace, _ = run_notebook("drift", params)
    assert any(f.subject == "employment_status" for f in findings_of(namespace)), summary_of(namespace).headline


def test_drift_float_maximum_used_as_a_missing_value(tmp_path: Path, frame, drift_params):
    """1.8e308 (DBL_MAX) as "no value" in both windows: statistics without overflow warnings."""
    reference, current = (w.copy() for w in sample.split(frame, "2026-02-02"))
    for window in (reference, current):
        window.loc[window.index[::10], "loan_amount"] = np.finfo(np.float64).max
    params = {**drift_params, "reference_path": _write(tmp_path, reference, "r.parquet"),
              "current_path": _write(tmp_path, current, "c.parquet")}
    namespace, _ = run_notebook("drift", params)
    assert summary_of(namespace).status in ("ok", "warning", "incident")


def test_drift_mixed_types_in_a_numeric_column(tmp_path: Path, frame, drift_params):
    current = _current(frame)
    current["income"] = current["income"].astype("string")
    current.loc[current.index[:40], "income"] = "n/a"
    namespace, _ = run_notebook("drift", {**drift_params, "current_path": _write(tmp_path, current, "c.parquet")})
    hits = [f for f in findings_of(namespace, at_least="incident") if f.subject == "income" and f.check == "schema"]
    assert hits and "'n/a'" in hits[0].message


def test_drift_infinities(tmp_path: Path, frame, drift_params):
    current = _current(frame)
    current.loc[current.index[:200], "debt_to_income"] = np.inf
    current.loc[current.index[200:210], "debt_to_income"] = -np.inf
    namespace, _ = run_notebook("drift", {**drift_params, "current_path": _write(tmp_path, current, "c.parquet")})
    hits = [f for f in findings_of(namespace, at_least="incident") if f.subject == "debt_to_income"]
    assert hits and "infinite" in hits[0].message and "200 +inf" in hits[0].message


def test_drift_duplicate_column_names_in_parquet(tmp_path: Path, drift_params):
    path = tmp_path / "current.parquet"
    pq.write_table(pa.table([pa.array([1.0, 2.0]), pa.array([3.0, 4.0])], names=["income", "income"]), path)
    expect_error(
        DataError, "drift", {**drift_params, "current_path": str(path)}, str(path), "duplicate column names ['income']"
    )


def test_drift_unparseable_timestamp(tmp_path: Path, frame, drift_params):
    current = _current(frame)
    current["timestamp"] = current["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    current.loc[current.index[7], "timestamp"] = "31/02/2026 25:00"
    path = _write(tmp_path, current, "current.csv")
    expect_error(
        DataError, "drift", {**drift_params, "current_path": path}, path, "'timestamp'", "'31/02/2026 25:00'",
        "ISO 8601",
    )


def test_drift_timestamps_mixing_time_zones(tmp_path: Path, frame, drift_params):
    """Offsets differ row by row (a feed from two systems): compared in UTC, not refused, not a crash."""
    current = _current(frame)
    utc = current["timestamp"]
    local = (utc + pd.Timedelta(hours=1)).dt.strftime("%Y-%m-%dT%H:%M:%S+01:00")
    current["timestamp"] = np.where(np.arange(len(current)) % 2, local, utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    path = _write(tmp_path, current, "current.csv")
    namespace, _ = run_notebook("drift", {**drift_params, "current_path": path})
    parsed = namespace["result"].current["timestamp"]
    assert parsed.dtype == "datetime64[ns]" and parsed.min() == utc.min().floor("s")


def test_drift_time_zone_aware_reference_and_naive_current(tmp_path: Path, frame, drift_params):
    reference = sample.split(frame, "2026-02-02")[0].copy()
    reference["timestamp"] = reference["timestamp"].dt.tz_localize("UTC").dt.tz_convert("America/New_York")
    path = _write(tmp_path, reference, "reference.parquet")
    namespace, _ = run_notebook("drift", {**drift_params, "reference_path": path})
    assert namespace["result"].reference["timestamp"].max() < namespace["result"].current["timestamp"].min()
    assert summary_of(namespace).status in ("ok", "warning", "incident")


def test_drift_reference_and_current_with_different_schemas(tmp_path: Path, frame, drift_params):
    """A column gone and one new: schema findings in a complete report, not a stop in a later section."""
    current = _current(frame).drop(columns=["income"]).assign(new_field=1.0)
    namespace, _ = run_notebook("drift", {**drift_params, "current_path": _write(tmp_path, current, "c.parquet")})
    schema = {f.subject: f.severity for f in summary_of(namespace).findings if f.check == "schema"}
    assert schema.get("income") == "incident"


def test_drift_spec_names_a_missing_column(tmp_path: Path, drift_params):
    spec = tmp_path / "model.toml"
    spec.write_text('timestamp = "timestamp"\nscore = "pd_score"\n', encoding="utf-8")
    expect_error(DataError, "drift", {**drift_params, "spec_path": str(spec)}, "'pd_score'", str(spec), "missing")


def test_drift_invalid_spec_toml(tmp_path: Path, drift_params):
    spec = tmp_path / "model.toml"
    spec.write_text("timestamp = \n", encoding="utf-8")
    expect_error(SpecError, "drift", {**drift_params, "spec_path": str(spec)}, str(spec), "not valid TOML", "line 1")


def test_drift_reference_profile_that_is_not_json(tmp_path: Path, drift_params):
    profile = tmp_path / "profile.json"
    profile.write_text("{not json", encoding="utf-8")
    expect_error(
        DataError, "drift", {**drift_params, "reference_profile": str(profile)}, str(profile), "not valid JSON"
    )


def test_drift_current_window_without_data(drift_params):
    expect_error(DataError, "drift", {**drift_params, "current_start": "2027-01-01"},
                 "current window 2027-01-01", "holds no rows", "the data spans 2026-02-02")


def test_drift_timestamps_stored_as_numbers(tmp_path: Path, frame, drift_params):
    current = _current(frame)
    current["timestamp"] = current["timestamp"].astype("int64") // 10**9
    path = _write(tmp_path, current, "current.parquet")
    expect_error(
        DataError, "drift", {**drift_params, "current_path": path}, path, "'timestamp'", "holds numbers",
        "expected timestamps",
    )


def test_drift_data_without_score_or_decision_columns(tmp_path: Path, frame, drift_params):
    """Feature monitoring only: the output sections say there is nothing to assess, as Performance does."""
    reference, current = sample.split(frame.drop(columns=["score", "decision"]), "2026-02-02")
    params = {**drift_params, "reference_path": _write(tmp_path, reference, "r.parquet"),
              "current_path": _write(tmp_path, current, "c.parquet")}
    namespace, _ = run_notebook("drift", params)
    assert summary_of(namespace).status in ("ok", "warning", "incident")


def test_drift_one_source_without_a_split_date(inputs: Path):
    expect_error(ParameterError, "drift", {"reference_path": str(inputs / "log.parquet")}, "current_start")


def test_drift_unknown_period(drift_params):
    expect_error(ParameterError, "drift", {**drift_params, "period": "fortnight"}, "'period'", "'fortnight'", "D, W, M")


@e2e
def test_drift_categorical_with_a_million_distinct_values(tmp_path: Path):
    """An identifier-like category: finishes in bounded memory and says the column is high-cardinality."""
    script = f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        sys.path.insert(0, {str(HERE)!r})
        import numpy as np, pandas as pd
        from inprocess import run_notebook, summary_of
        n = 1_000_000
        rng = np.random.default_rng(0)
        stamps = pd.Timestamp("2026-01-05") + pd.to_timedelta(np.sort(rng.integers(0, 28 * 86400, n)), unit="s")
        frame = pd.DataFrame({{"timestamp": stamps, "merchant": [f"m{{i}}" for i in rng.permutation(n)],
                               "amount": rng.gamma(2.0, 50.0, n), "score": rng.random(n)}})
        frame.to_parquet({str(tmp_path / "big.parquet")!r})
        namespace, _ = run_notebook("drift", {{"reference_path": {str(tmp_path / "big.parquet")!r},
                                              "current_start": "2026-01-19", "classifier_sample": 2000}})
        table = namespace["result"].drift_table.set_index("column")
        print("NOTE", table.loc["merchant", "notes"])
    """
    result = _python(script, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "high cardinality" in result.stdout


# ------------------------------------------------------------------ volume


def test_volume_empty_log(tmp_path: Path, frame):
    path = _write(tmp_path, frame.iloc[:0], "log.parquet")
    message = expect_error(DataError, "volume", {"data_path": path}, "no rows")
    assert "decision column" not in message  # the columns are there; the rows are not


def test_volume_all_null_timestamps(tmp_path: Path, frame):
    log = frame.assign(timestamp=pd.NaT)
    expect_error(
        DataError, "volume", {"data_path": _write(tmp_path, log, "log.parquet")}, "'timestamp'", "no timestamps"
    )


def test_volume_unparseable_timestamp(tmp_path: Path, frame):
    log = frame.copy()
    log["timestamp"] = log["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    log.loc[log.index[3], "timestamp"] = "yesterday"
    message = expect_error(DataError, "volume", {"data_path": _write(tmp_path, log, "log.csv")}, "'timestamp'")
    assert "ISO 8601" in message and "no timestamp column" not in message


def test_volume_timestamps_mixing_time_zones(tmp_path: Path, frame):
    log = frame.copy()
    utc = log["timestamp"]
    local = (utc + pd.Timedelta(hours=2)).dt.strftime("%Y-%m-%dT%H:%M:%S+02:00")
    log["timestamp"] = np.where(np.arange(len(log)) % 3 == 0, local, utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    namespace, _ = run_notebook("volume", {"data_path": _write(tmp_path, log, "log.csv")})
    counts = namespace["result"].counts
    assert (counts.data_first, counts.data_last) == (utc.min().floor("s"), utc.max().floor("s"))  # read in UTC


def test_volume_named_segment_column_missing(volume_params):
    expect_error(DataError, "volume", {**volume_params, "segment_columns": ["chanel"]}, "'chanel'", "not found")


def test_volume_override_column_that_is_not_a_flag(tmp_path: Path, frame):
    log = frame.assign(overridden=2)
    expect_error(
        DataError, "volume", {"data_path": _write(tmp_path, log, "log.parquet"), "override_column": "overridden"},
        "'overridden'", "other than 0 and 1",
    )


def test_volume_unknown_threshold_name(volume_params):
    expect_error(ParameterError, "volume", {**volume_params, "thresholds": {"cusum_hh": 5}}, "'cusum_hh'", "cusum_h")


def test_volume_threshold_of_the_wrong_type(volume_params):
    expect_error(
        ParameterError, "volume", {**volume_params, "thresholds": {"cusum_h": "high"}}, "cusum_h", "'high'", "number"
    )


def test_volume_baseline_longer_than_the_data(volume_params):
    expect_error(
        DataError, "volume", {**volume_params, "baseline_weeks": 12}, "baseline needs 12 weeks",
        "smaller baseline_weeks",
    )


def test_volume_analysis_window_without_data(volume_params):
    expect_error(
        DataError, "volume", {**volume_params, "analysis_start": "2027-01-01"}, "analysis_start", "2027-01-01",
        "2026-03-01",
    )


def test_volume_unknown_time_zone(volume_params):
    expect_error(ParameterError, "volume", {**volume_params, "timezone": "Mars/Olympus"}, "'Mars/Olympus'", "IANA")


def test_volume_all_null_decision_column(tmp_path: Path, frame):
    """Every decision missing: the report says so (a finding or an error naming the column), never 'healthy'."""
    log = frame.assign(decision=None)
    params = {
        "data_path": _write(tmp_path, log, "log.parquet"),
        "decision_column": "decision",
        "timestamp_column": "timestamp",
    }
    try:
        namespace, _ = run_notebook("volume", params)
    except DataError as exc:
        assert "'decision'" in str(exc)
    else:
        assert summary_of(namespace).status != "ok", summary_of(namespace).headline
        assert any("decision" in f.message or "missing" in f.message for f in findings_of(namespace))


@e2e
def test_volume_segment_with_a_million_distinct_values(tmp_path: Path):
    """A segment column that is really an id: a clear message or a capped drill-down, in bounded memory."""
    script = f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        sys.path.insert(0, {str(HERE)!r})
        import numpy as np, pandas as pd
        from mlreport.errors import DataError
        from inprocess import run_notebook, summary_of
        n = 1_000_000
        rng = np.random.default_rng(0)
        stamps = pd.Timestamp("2026-01-05") + pd.to_timedelta(np.sort(rng.integers(0, 56 * 86400, n)), unit="s")
        frame = pd.DataFrame({{"timestamp": stamps, "merchant": [f"m{{i}}" for i in rng.permutation(n)],
                               "decision": rng.choice(["approve", "decline"], n)}})
        frame.to_parquet({str(tmp_path / "big.parquet")!r})
        try:
            namespace, _ = run_notebook("volume", {{"data_path": {str(tmp_path / "big.parquet")!r},
                                                   "segment_columns": ["merchant"]}})
            print("RESULT", summary_of(namespace).status)
        except DataError as exc:
            print("ERROR", exc)
    """
    result = _python(script, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "RESULT" in result.stdout or ("ERROR" in result.stdout and "'merchant'" in result.stdout), result.stdout


@e2e
def test_volume_decision_column_with_thousands_of_labels(tmp_path: Path, frame):
    """An id passed as the decision column: refused with the column named, not analysed label by label for hours."""
    path = _write(tmp_path, frame, "log.parquet")
    script = f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        from mlreport.errors import DataError
        from inprocess import run_notebook
        try:
            run_notebook("volume", {{"data_path": {path!r}, "decision_column": "application_id"}})
            print("RESULT")
        except DataError as exc:
            print("ERROR", exc)
    """
    try:
        result = _python(script, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("a decision column with 2,000 distinct labels was still being analysed after 60 s")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ERROR") and "'application_id'" in result.stdout, result.stdout


# ------------------------------------------------------------------ stress


def _scenarios(tmp_path: Path, text: str, name: str = "scenarios.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_stress_scenario_file_with_unknown_shock_type(tmp_path: Path, stress_params):
    path = _scenarios(
        tmp_path, '[[scenario]]\nname = "Bad"\nshocks = [{type = "explode", column = "income", by = 2}]\n'
    )
    expect_error(
        ScenarioError, "stress", {**stress_params, "scenarios_path": path}, path, "'Bad'",
        "unknown shock type 'explode'", "relative",
    )


def test_stress_scenario_shocks_a_column_not_in_the_data(tmp_path: Path, stress_params):
    path = _scenarios(
        tmp_path, '[[scenario]]\nname = "Typo"\nshocks = [{type = "relative", column = "incomee", by = 0.1}]\n'
    )
    expect_error(
        ScenarioError, "stress", {**stress_params, "scenarios_path": path}, path, "'Typo'", "'incomee'",
        "not in the data",
    )


def test_stress_scenario_share_out_of_range(tmp_path: Path, stress_params):
    path = _scenarios(
        tmp_path, '[[scenario]]\nname = "Half"\nshocks = [{type = "set_missing", column = "income", share = 2}]\n'
    )
    expect_error(
        ScenarioError, "stress", {**stress_params, "scenarios_path": path}, path, "share", "between 0 and 1", "got 2"
    )


def test_stress_scenario_file_with_a_wrong_extension(tmp_path: Path, stress_params):
    path = _scenarios(tmp_path, "{}", "scenarios.json")
    expect_error(ScenarioError, "stress", {**stress_params, "scenarios_path": path}, path, ".toml, .yaml or .yml")


def test_stress_population_file_missing(tmp_path: Path, stress_params):
    path = str(tmp_path / "population.parquet")
    expect_error(DataError, "stress", {**stress_params, "data_path": path}, path, "no such file")


def test_stress_population_without_a_model_feature(tmp_path: Path, frame, stress_params):
    path = _write(tmp_path, frame.drop(columns=["bureau_score"]), "population.parquet")
    expect_error(DataError, "stress", {**stress_params, "data_path": path}, "'bureau_score'")


def test_stress_empty_population(tmp_path: Path, frame, stress_params):
    path = _write(tmp_path, frame.iloc[:0], "population.parquet")
    expect_error(DataError, "stress", {**stress_params, "data_path": path}, "population", "no rows")


def test_stress_infinite_feature_values(tmp_path: Path, frame, stress_params):
    """Infinities in a feature: a finding or a message naming the column, without numpy warnings on the way."""
    population = frame.copy()
    population.loc[population.index[:20], "debt_to_income"] = np.inf
    path = _write(tmp_path, population, "population.parquet")
    try:
        namespace, _ = run_notebook("stress", {**stress_params, "data_path": path})
    except MlreportError as exc:
        assert "debt_to_income" in str(exc) and "inf" in str(exc)
    else:
        assert summary_of(namespace).status in ("ok", "warning", "incident")


def test_stress_text_in_a_numeric_feature(tmp_path: Path, frame, stress_params):
    population = frame.assign(debt_to_income=frame["debt_to_income"].astype("string"))
    path = _write(tmp_path, population, "population.parquet")
    expect_error(
        ModelError, "stress", {**stress_params, "data_path": path}, "'fast_model:score'", "baseline", "TypeError"
    )


def test_stress_model_module_that_does_not_import(stress_params):
    expect_error(
        ModelError, "stress", {**stress_params, "model": "no_such_module:score"}, "'no_such_module'", "cannot import"
    )


def test_stress_pickled_model_without_trust(tmp_path: Path, stress_params):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"not really a pickle")
    expect_error(
        ModelError, "stress", {**stress_params, "model": str(path)}, "refusing to load", "trust_model_file=true"
    )


def test_stress_label_column_that_is_not_binary(stress_params):
    expect_error(DataError, "stress", {**stress_params, "label_column": "channel"}, "'channel'", "0/1")


def test_stress_thresholds_not_increasing(stress_params):
    expect_error(
        ModelError, "stress", {**stress_params, "thresholds": {"approve": 0.7, "refer": 0.2}}, "strictly increasing"
    )


# ------------------------------------------------------------------ the CLI around it


def _python(script: str, *, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, cwd=HERE,
    )


@pytest.fixture(scope="module")
def cli_cases(tmp_path_factory: pytest.TempPathFactory, inputs: Path, frame: pd.DataFrame) -> dict[str, Any]:
    """Run every CLI case once, two at a time; each test below reads its own."""
    root = tmp_path_factory.mktemp("cli")
    out = root / "out"
    (root / "params.json").write_text(json.dumps({"sensitivity_features": [1, 2]}), encoding="utf-8")
    (root / "a-file").write_text("not a folder", encoding="utf-8")
    scenarios = root / "scenarios.toml"
    scenarios.write_text(
        '[[scenario]]\nname = "Bad"\nshocks = [{type = "explode", column = "income", by = 2}]\n', encoding="utf-8"
    )
    truncated = root / "log.parquet"
    raw = (inputs / "log.parquet").read_bytes()
    truncated.write_bytes(raw[: len(raw) // 2])
    missing = root / "nowhere" / "reference.parquet"
    jobs = root / "jobs.toml"
    jobs.write_text('[[job]]\nname = "nightly"\nanalysis = "drift"\ntimeout = inf\n', encoding="utf-8")
    cases = {
        "wrong_type": ["run", "drift", "-p", "psi_bins=ten", "--json"],
        "unknown_name": ["run", "volume", "-p", "sample_row=10"],
        "bad_date": ["run", "drift", "-p", "current_start=14/03/2026"],
        "params_file_type": ["run", "stress", "--params-file", str(root / "params.json")],
        "out_is_a_file": ["run", "drift", "--out", str(root / "a-file"), "--json"],
        "missing_file": ["run", "drift", "-p", f"reference_path={missing}", "-p", f"current_path={missing}", "--json"],
        "unknown_shock": [
            "run", "stress", "-p", "model=fast_model:score", "-p", 'thresholds={"approve": 0.4, "refer": 0.6}',
            "-p", f"data_path={inputs / 'log.parquet'}", "-p", "sweep_rows=200", "-p", "sensitivity_features=1",
            "-p", f"scenarios_path={scenarios}", "--json",
        ],
        "window_without_data": [
            "run", "volume", "-p", f"data_path={inputs / 'log.parquet'}", "-p", "analysis_start=2027-01-01", "--json",
        ],
        "truncated_parquet": ["run", "volume", "-p", f"data_path={truncated}", "--json"],
        # issue 16: every numeric option and parameter in its domain, refused before a kernel starts
        "negative_seed": ["run", "stress", "-p", "seed=-1", "--json"],
        "psi_bins_one": ["run", "drift", "-p", "psi_bins=1"],
        "timeout_inf": ["run", "drift", "--timeout", "inf", "--json"],
        "start_timeout_zero": ["run", "volume", "--start-timeout", "0", "--json"],
        "empty_out": ["run", "drift", "--out", "", "--json"],
        "jobs_timeout_inf": ["batch", str(jobs), "--json"],
        "hostile_value": ["run", "drift", "-p", "psi_bins=\x1b]0;owned\x07\r\nmlreport: ok"],
    }
    env = {"PYTHONPATH": os.pathsep.join([str(inputs), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}

    def one(args: list[str]) -> subprocess.CompletedProcess[str]:
        with_out = args if "--out" in args else [*args, "--out", str(out)]
        return run_cli(*with_out, env=env, cwd=root, timeout=600)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(cases, pool.map(one, cases.values()), strict=True))
    return {
        "results": results, "out": out, "root": root, "missing": missing, "scenarios": scenarios,
        "truncated": truncated,
    }


def _nothing_half_written(out: Path) -> None:
    staging = out / ".tmp"
    leftovers = [p for p in staging.iterdir() if p.is_dir()] if staging.exists() else []
    assert not leftovers, f"staging folders left behind: {leftovers}"
    for manifest in out.glob("*/*/*/run.json"):
        folder = manifest.parent
        assert (folder / "report.html").is_file(), f"{folder} has run.json but no report"


def _refused(cli_cases: dict[str, Any], name: str, *fragments: str) -> str:
    result = cli_cases["results"][name]
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.startswith("mlreport: error:"), result.stderr[-2000:]
    assert all(is_inert(line) for line in result.stderr.splitlines()), result.stderr[-2000:]
    if "--json" in result.args:  # one JSON object on stdout, whatever the error
        assert json.loads(result.stdout)["exit_code"] == 2 and len(result.stdout.splitlines()) == 1
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    _nothing_half_written(cli_cases["out"])
    return result.stderr


def _failed_in_notebook(cli_cases: dict[str, Any], name: str, ename: str, *fragments: str) -> dict[str, Any]:
    result = cli_cases["results"][name]
    assert result.returncode == INPUT_ERROR_IN_NOTEBOOK_EXIT, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr[-3000:]
    payload = json.loads(result.stdout)
    error = payload["error"]
    assert error["ename"] == ename and error["section"], error
    for fragment in fragments:
        assert fragment in error["evalue"], (fragment, error["evalue"])
    # the message is the error's own text, not a traceback or a repr of one
    assert "File \"" not in error["message"] and "\x1b[" not in error["message"]
    report = Path(payload["report"]).read_text(encoding="utf-8")
    assert "RUN FAILED" in report and "Traceback" not in report
    assert error["evalue"] in browser.parse(report).text  # the reader sees the message itself
    manifest = json.loads((Path(payload["run_dir"]) / "run.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed" and manifest["error"]["ename"] == ename
    _nothing_half_written(cli_cases["out"])
    return payload


@e2e
def test_cli_parameter_of_the_wrong_type(cli_cases):
    _refused(cli_cases, "wrong_type", "'psi_bins'", "'ten'", "expected int")
    assert json.loads(cli_cases["results"]["wrong_type"].stdout) == {
        "status": "error", "exit_code": 2, "type": "ParameterError",
        "error": "parameter 'psi_bins': 'ten' has the wrong type; expected int",
    }


@e2e
def test_cli_unknown_parameter_names_the_closest(cli_cases):
    _refused(cli_cases, "unknown_name", "'sample_row'", "did you mean 'sample_rows'")


@e2e
def test_cli_date_parameter_that_is_not_iso(cli_cases):
    _refused(cli_cases, "bad_date", "'current_start'", "'14/03/2026'", "ISO 8601")


@e2e
def test_cli_params_file_value_of_the_wrong_type(cli_cases):
    _refused(cli_cases, "params_file_type", "'sensitivity_features'", "expected int")


@e2e
def test_cli_output_folder_that_is_a_file(cli_cases):
    result = cli_cases["results"]["out_is_a_file"]
    assert result.returncode in (2, 3), (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert str(cli_cases["root"] / "a-file") in result.stderr
    assert json.loads(result.stdout)["status"] == "error"


@e2e
def test_cli_missing_data_file(cli_cases):
    _failed_in_notebook(cli_cases, "missing_file", "DataError", str(cli_cases["missing"]), "no such file")


@e2e
def test_cli_scenario_file_with_unknown_shock_type(cli_cases):
    payload = _failed_in_notebook(cli_cases, "unknown_shock", "ScenarioError", str(cli_cases["scenarios"]),
                                  "unknown shock type 'explode'")
    assert payload["error"]["section"] == "Scenarios"


@e2e
def test_cli_volume_window_without_data(cli_cases):
    _failed_in_notebook(cli_cases, "window_without_data", "DataError", "data starts 2026-01-05", "baseline_weeks")


@e2e
def test_cli_truncated_parquet(cli_cases):
    _failed_in_notebook(
        cli_cases, "truncated_parquet", "DataError", str(cli_cases["truncated"]), "not a readable Parquet file"
    )


# ------------------------------------------------------------------ issue 16 (16b): bad scenarios, changed inputs
#
# A user's model that cannot score some scenario's rows (NaN, or an exception, for missing inputs) is a finding
# of the stress report (an integration risk), not the end of it; one that cannot score the unshocked population
# is an input error naming the model and the rows. Files that shape a result are read once and must parse.

USER_MODELS = {
    # NaN where debt_to_income or credit_utilisation is missing (the population has none: the baseline scores)
    "nan_on_missing_model": '''
        import numpy as np

        def score(frame):
            z = (-0.01 * (frame["bureau_score"].fillna(600) - 650) + 2 * frame["debt_to_income"]
                 + frame["credit_utilisation"] - 1.5)
            return 1 / (1 + np.exp(-z.to_numpy(dtype=float)))

        score.features = ["bureau_score", "debt_to_income", "credit_utilisation"]
    ''',
    # raises on any missing value, as scikit-learn estimators without an imputer do
    "raising_model": '''
        import numpy as np

        def score(frame):
            if frame[["debt_to_income", "credit_utilisation"]].isna().any().any():
                raise ValueError("Input X contains NaN.")
            z = (-0.01 * (frame["bureau_score"].fillna(600) - 650) + 2 * frame["debt_to_income"]
                 + frame["credit_utilisation"] - 1.5)
            return 1 / (1 + np.exp(-z.to_numpy(dtype=float)))

        score.features = ["bureau_score", "debt_to_income", "credit_utilisation"]
    ''',
    # NaN where bureau_score is missing: 24 rows of the unshocked population already are
    "nan_baseline_model": '''
        import numpy as np

        def score(frame):
            z = -0.01 * (frame["bureau_score"] - 650) + 2 * frame["debt_to_income"] - 1.0
            return 1 / (1 + np.exp(-z.to_numpy(dtype=float)))

        score.features = ["bureau_score", "debt_to_income"]
    ''',
}


@pytest.fixture
def user_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    for name, source in USER_MODELS.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(folder))
    return folder


@pytest.mark.parametrize(("module", "how"), [("nan_on_missing_model", "returned NaN"), ("raising_model", "raised")])
def test_stress_model_that_cannot_score_a_scenario(user_models: Path, stress_params, module: str, how: str):
    """The default scenarios set values missing: those scenarios are findings, the others are evaluated."""
    namespace, html = run_notebook("stress", {**stress_params, "model": f"{module}:score"})
    summary = summary_of(namespace)
    assert summary.status in ("warning", "incident")  # a report, not RUN FAILED
    unscorable = [f for f in summary.findings if f.check == "model_cannot_score"]
    assert unscorable, [f.check for f in summary.findings]
    for finding in unscorable:
        assert finding.severity in ("warning", "incident") and finding.value and finding.value > 0
        assert "the model cannot score" in finding.message and how in finding.message
        assert "integration risk" in finding.message and finding.method
    table = namespace["result"].scenario_run.table
    scored = table[table["result"].isin(["pass", "fail"])]  # "n/a": a scenario that does not apply to this data
    assert len(scored) > 0 and (scored["unscored_rows"] == 0).all()
    assert len(scored) + len(unscorable) == (table["result"] != "n/a").sum()
    assert summary.metrics["scenarios_unscorable"] == len(unscorable)
    # missing-value shocks in the sweep are left out with a note, not a crash
    notes = " ".join(f.message for f in summary.findings)
    assert "left out of the sensitivity curves and of reverse stress" in notes or "set_missing" not in notes
    assert any("cannot score" in fragment for fragment in html)


def test_stress_model_that_cannot_score_the_baseline(user_models: Path, stress_params, frame):
    missing = int(frame["bureau_score"].isna().sum())
    assert missing > 0
    message = expect_error(
        ModelError, "stress", {**stress_params, "model": "nan_baseline_model:score"},
        "'nan_baseline_model:score'", "baseline", f"{missing:,} of {len(frame):,} rows", "bureau_score",
    )
    assert "NaN" in message


def test_spec_file_that_is_not_utf8(tmp_path: Path, drift_params):
    path = tmp_path / "spec.toml"
    path.write_bytes(b'model = "\xff\xfe"\n')
    expect_error(SpecError, "drift", {**drift_params, "spec_path": str(path)}, str(path))


def test_reference_profile_that_is_truncated(tmp_path: Path, drift_params):
    path = tmp_path / "profile.json"
    path.write_bytes(b'{"columns": {"income": {"kind": "num')
    expect_error(DataError, "drift", {**drift_params, "reference_profile": str(path)}, str(path), "not valid JSON")


def test_scenario_file_that_is_not_utf8(tmp_path: Path, stress_params):
    path = tmp_path / "scenarios.toml"
    path.write_bytes(b'[[scenario]]\nname = "\xff"\n')
    expect_error(ScenarioError, "stress", {**stress_params, "scenarios_path": str(path)}, str(path), "UTF-8")


# ------------------------------------------------------------------ numeric options and parameters (issue 16)


@e2e
def test_cli_negative_seed_is_refused_before_the_run(cli_cases):
    _refused(cli_cases, "negative_seed", "'seed'", "-1", ">= 0")
    payload = json.loads(cli_cases["results"]["negative_seed"].stdout)
    # Refused before a kernel started (no run id, no failure report), not a failed run (exit 3).
    assert payload["type"] == "ParameterError" and "run_id" not in payload and "report" not in payload


@e2e
def test_cli_psi_bins_below_two(cli_cases):
    _refused(cli_cases, "psi_bins_one", "'psi_bins'", "at least 2")


@e2e
def test_cli_infinite_timeout(cli_cases):
    _refused(cli_cases, "timeout_inf", "--timeout", "'inf'", "finite")


@e2e
def test_cli_zero_start_timeout(cli_cases):
    _refused(cli_cases, "start_timeout_zero", "--start-timeout", "above 0")


@e2e
def test_cli_empty_output_folder(cli_cases):
    _refused(cli_cases, "empty_out", "--out", "empty")


@e2e
def test_cli_jobs_file_with_an_infinite_timeout(cli_cases):
    stderr = _refused(cli_cases, "jobs_timeout_inf", "nothing was run", "job #1 'nightly'", "key 'timeout'", "inf")
    assert "600.5 is fine" in stderr


@e2e
def test_cli_hostile_parameter_value_is_escaped(cli_cases):
    stderr = _refused(cli_cases, "hostile_value", "'psi_bins'", "\\x1b]0;owned\\x07\\r\\n")
    assert len(stderr.splitlines()) == 1  # the forged "mlreport: ok" stays on the error's line
