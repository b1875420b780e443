"""The drift analysis in one call: analyse(), DriftResult's parts and sections, and the notebook around them."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nbformat
import pytest

from mlreport import drift, sample
from mlreport.analysis import AnalysisResult
from mlreport.errors import DataError
from mlreport.findings import Summary
from mlreport.tables import Table

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "drift.ipynb"
SMALL = {"sample_rows": 6000, "classifier_sample": 500}


@pytest.fixture(scope="module")
def result() -> drift.DriftResult:
    return drift.analyse(drift.DriftParameters(**SMALL))


def _title(figure) -> str:
    suptitle = figure._suptitle.get_text() if figure._suptitle is not None else ""
    return " ".join([suptitle, *(ax.get_title() for ax in figure.axes)]).strip()


def test_analyse_reads_the_windows_and_computes_nothing_else_until_asked():
    result = drift.analyse(drift.DriftParameters(**SMALL))
    assert isinstance(result, AnalysisResult) and result.analysis == "drift"
    assert result.backend.name == "pandas" and len(result.inputs) == 1
    computed = set(vars(result))
    assert not computed & {"integrity", "profile", "drift_table", "over_time", "classifier", "summary"}
    assert list(result.tables) == list(drift.TABLES) and list(result.figures) == list(drift.FIGURES)
    result.tables["integrity_findings"]
    assert "integrity" in vars(result) and "profile" not in vars(result)
    result.tables["feature_drift"]
    assert {"profile", "thresholds", "drift_table"} <= set(vars(result)) and "over_time" not in vars(result)
    result.figures["distributions"]  # the columns that moved include those that crossed a band in some period
    assert "over_time" in vars(result) and "classifier" not in vars(result) and "summary" not in vars(result)


def test_every_table_is_captioned_and_every_figure_titled(result: drift.DriftResult):
    for name in result.tables:
        table = result.tables[name]
        assert isinstance(table, Table) and table.caption, name
        assert f"<caption>{table.caption}" in table._repr_html_().replace("&#x27;", "'"), name
    for name in result.figures:
        assert _title(result.figures[name]), name
    with pytest.raises(KeyError, match="no table 'drift'; the tables are coverage, windows, column_roles"):
        result.tables["drift"]


def test_the_parts_are_typed_and_computed_once(result: drift.DriftResult):
    assert result.monitored.features == tuple(c for c in result.monitored.columns if c not in ("score", "decision"))
    assert sorted(result.drift_table["column"]) == sorted(result.monitored.features)
    assert result.drift_table is result.drift_table and result.profile is result.profile
    checked = result.integrity.columns["column"].tolist()
    assert checked[: len(result.monitored.columns)] == list(result.monitored.columns)
    assert result.current_summaries.rows == len(result.current)
    assert list(result.period_summaries) == sorted(result.period_summaries)
    assert set(result.crossings["column"]) == set(result.monitored.columns)
    assert result.prediction.assessed and set(result.prediction.table["column"]) == {"score", "decision"}
    assert result.performance is not None and result.performance.reference is not None
    assert result.classifier.n_ref == min(500, len(result.reference))
    assert result.moved and len(result.moved) <= 9
    assert result.spec is result.windows.spec and result.reference is result.windows.reference


def test_the_summary_carries_the_fingerprint_and_thresholds_version_as_fields(result: drift.DriftResult):
    summary = result.summary
    assert isinstance(summary, Summary) and summary.analysis == "drift"
    assert summary.profile_fingerprint == result.profile.fingerprint
    assert "drift=drift-thresholds/2" in summary.thresholds_version and "integrity=" in summary.thresholds_version
    assert set(summary.metrics) == {"psi", "backend"}
    assert summary.metrics["psi"] == dict(zip(result.drift_table["column"], result.drift_table["psi"], strict=True))
    assert summary.metrics["backend"]["backend"] == "pandas" and summary.metrics["backend"]["operations"]
    assert {"psi", "verdict", "domain_classifier", "backend", "row_level_data", "performance"} <= set(summary.methods)
    assert set(summary.thresholds) == {"version", "drift", "integrity", "domain_classifier_auc", "false_alarm_budget"}
    assert summary.inputs == result.inputs.to_list() and summary.model == "sample-credit-decisioning"
    assert summary.data_period == "2026-02-02 to 2026-03-02"
    assert result.findings == summary.findings
    sections = {f.section for f in summary.findings}
    assert {"Data integrity", "Feature drift", "Prediction drift", "Multivariate drift"} <= sections
    assert summary.status == "incident" and summary.headline.startswith("Incident: ")
    assert json.loads(summary.to_json())["profile_fingerprint"] == result.profile.fingerprint


def test_a_failure_is_raised_by_the_section_that_needs_it(tmp_path: Path):
    result = drift.analyse(drift.DriftParameters(**SMALL, reference_profile=str(tmp_path / "missing.json")))
    assert result.tables["windows"].caption == "Windows compared"
    result.tables["integrity_columns"]
    with pytest.raises(DataError, match=r"missing\.json"):
        result.tables["feature_drift"]


def test_without_score_or_target_the_output_sections_say_not_assessed(tmp_path: Path):
    frame = sample.generate(3000, seed=8).drop(columns=["score", "decision", "default_flag"])
    reference, current = sample.split(frame, "2026-02-02")
    reference.to_parquet(tmp_path / "r.parquet", index=False)
    current.to_parquet(tmp_path / "c.parquet", index=False)
    result = drift.analyse(drift.DriftParameters(
        reference_path=str(tmp_path / "r.parquet"), current_path=str(tmp_path / "c.parquet"), classifier_sample=200,
    ))
    assert result.performance is None and not result.prediction.assessed
    assert "No score or target column: performance not assessed." in result.tables["performance"]._repr_html_()
    assert _title(result.figures["auc_by_period"]) == "AUC per period: not available"
    assert _title(result.figures["calibration"]) == "Calibration: not available"
    assert result.summary.status in ("ok", "warning", "incident")


def test_the_spec_and_the_profiles_are_inputs_recorded_by_the_bytes_read_or_written(tmp_path: Path):
    """Issue 16: every file that shapes a drift result is in the run's input log, hashed as read (or written)."""
    spec = tmp_path / "card.toml"
    spec_bytes = (b'model = "card"\ntimestamp = "timestamp"\nscore = "score"\nfeatures = ["age", "income"]\n'
                  b'[thresholds]\nversion = "v7"\n')
    spec.write_bytes(spec_bytes)
    saved = tmp_path / "profiles" / "ref.json"
    first = drift.analyse(drift.DriftParameters(**SMALL, spec_path=str(spec), save_profile=str(saved)))
    inputs = {item["name"]: item for item in first.summary.inputs}
    assert inputs["spec"] == {"name": "spec", "path": str(spec), "sha256": hashlib.sha256(spec_bytes).hexdigest(),
                              "hash_of": "file", "bytes": len(spec_bytes), "rows": None, "columns": None}
    assert inputs["saved_profile"]["hash_of"] == "written" and inputs["saved_profile"]["path"] == str(saved)
    assert inputs["saved_profile"]["sha256"] == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert first.summary.thresholds_version.startswith("v7")
    assert [item["name"] for item in first.summary.inputs] == ["spec", "sample", "saved_profile"]
    again = drift.analyse(drift.DriftParameters(**SMALL, spec_path=str(spec), reference_profile=str(saved)))
    loaded = next(item for item in again.summary.inputs if item["name"] == "reference_profile")
    assert loaded["sha256"] == inputs["saved_profile"]["sha256"] and loaded["hash_of"] == "file"
    assert again.summary.profile_fingerprint == first.summary.profile_fingerprint


def _code_cells() -> list[str]:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    return [c.source for c in code if "parameters" not in c.metadata.get("tags", [])]


def test_the_notebook_is_one_call_then_one_line_per_section():
    cells = _code_cells()
    assert "drift.analyse(drift.DriftParameters.from_namespace(globals()))" in cells[0]
    assert cells[-1] == "publish(tell(result.summary))"  # issue 14: the story (incidents) is published
    shown = re.findall(r'result\.(tables|figures)\["(\w+)"\]', "\n".join(cells))
    assert [name for kind, name in shown if kind == "tables"] == list(drift.TABLES)
    assert [name for kind, name in shown if kind == "figures"] == list(drift.FIGURES)
