"""The volume result as a report: its sections by name, captioned and titled, computed on first use; its summary."""

from __future__ import annotations

import json

import pytest
from matplotlib.figure import Figure
from volume_logs import analyse as analyse_log

from mlreport.analysis import AnalysisResult
from mlreport.sample import generate
from mlreport.tables import Table
from mlreport.volume import FIGURES, TABLES, VolumeParameters, VolumeResult, analyse


@pytest.fixture(scope="module")
def result() -> VolumeResult:
    return analyse(VolumeParameters())


@pytest.fixture(scope="module")
def without_backend() -> VolumeResult:
    return analyse_log(generate(20_000, seed=7, incidents=["channel_outage"]), score_column="score")


def test_is_an_analysis_result(result):
    assert isinstance(result, AnalysisResult) and result.analysis == "volume"
    assert result.findings is result.findings  # computed once
    assert [f.severity for f in result.findings] == [e.severity for e in result.events]


def test_section_keys_are_the_documented_ones_in_report_order(result):
    assert list(result.tables) == list(TABLES)
    assert list(result.figures) == list(FIGURES)
    documented = VolumeResult.__doc__ or ""
    assert all(f"``{name}``" in documented for name in (*TABLES, *FIGURES))


def test_every_table_is_captioned(result):
    for name in TABLES:
        shown = result.tables[name]
        assert isinstance(shown, Table), name
        assert shown.caption, name
        assert f"<caption>{shown.caption}" in shown._repr_html_().replace("&#x27;", "'"), name


def test_every_figure_is_titled(result):
    for name in FIGURES:
        figure = result.figures[name]
        assert isinstance(figure, Figure), name
        assert figure._suptitle is not None and figure._suptitle.get_text(), name


def test_tables_show_what_the_notebook_showed(result):
    assert result.tables["overview"].frame.equals(result.overview().reset_index())
    assert result.tables["flagged_volume"].frame.equals(result.flagged_volume())
    assert result.tables["segment_rate"].frame.equals(result.segment_table("rate"))
    assert result.tables["methods"].frame.equals(result.methods_table())
    shown = result.tables["mix_tests"]
    shown_columns = [c for c in result.mix_tests.columns if c not in ("segment_column", "segment_value")]
    assert list(shown.frame.columns) == shown_columns
    assert len(shown.frame) == min(20, len(result.mix_tests))
    assert f"{result.most_moved_decision()} rate" in result.tables["segment_rate"].caption


def test_sections_are_computed_on_first_use_and_kept(monkeypatch):
    from mlreport.volume import _plots

    fresh = analyse(VolumeParameters(sample_rows=20_000))
    calls = []
    original = _plots.rate_chart
    monkeypatch.setattr(_plots, "rate_chart", lambda r: calls.append(1) or original(r))
    assert "rates" in list(fresh.figures) and calls == []
    fresh.tables["overview"]
    assert calls == []
    first = fresh.figures["rates"]
    assert fresh.figures["rates"] is first and calls == [1]
    with pytest.raises(KeyError, match="no figure 'rate'; the figures are volume_timeline"):
        fresh.figures["rate"]


def test_summary_is_what_the_notebook_published(result):
    summary = result.summary
    assert summary is result.summary
    assert (summary.analysis, summary.status, summary.headline) == ("volume", result.status, result.headline)
    assert summary.findings == result.findings
    assert summary.thresholds == json.loads(json.dumps(result.thresholds()))
    assert list(summary.methods) == [*result.methods(), "backend"]
    assert summary.methods["backend"].startswith("pandas ")
    assert summary.metrics["backend"]["backend"] == "pandas"
    assert [op["operation"] for op in summary.metrics["backend"]["operations"]] == ["decision_counts"]
    assert {k: v for k, v in summary.metrics.items() if k != "backend"} == result.metrics()
    assert [(i["name"], i["hash_of"]) for i in summary.inputs] == [("decisions", "content")]
    assert summary.inputs[0]["path"] == (
        "mlreport.sample.generate(50000, seed=7, incidents=['channel_outage', 'approval_jump'])")
    assert summary.model == "sample-credit-decisioning"
    assert summary.data_period == "2026-01-05T00:00:00 to 2026-03-02T00:00:00"
    json.loads(summary.to_json())


def test_a_result_of_counts_alone_has_no_backend_nor_inputs(without_backend):
    summary = without_backend.summary
    assert "backend" not in summary.methods and "backend" not in summary.metrics
    assert summary.inputs == [] and summary.model == ""
    computation = without_backend.tables["computation"].frame
    assert computation["value"].iloc[0].startswith("none recorded")
    assert list(without_backend.tables) == list(TABLES)


def test_the_spec_file_is_an_input_recorded_by_the_bytes_parsed(tmp_path):
    """Issue 16: a spec that set the volume run's roles is in its input log, hashed as read (once)."""
    import hashlib

    frame = generate(3_000, seed=2)
    frame.to_parquet(tmp_path / "log.parquet", index=False)
    spec = tmp_path / "volume.toml"
    content = b'model = "card"\r\ntimestamp = "timestamp"\r\ndecision = "decision"\r\nsegments = ["channel"]\r\n'
    spec.write_bytes(content)
    result = analyse(VolumeParameters(data_path=str(tmp_path / "log.parquet"), spec_path=str(spec)))
    inputs = {item["name"]: item for item in result.summary.inputs}
    assert set(inputs) == {"spec", "decisions"} and result.summary.model == "card"
    assert inputs["spec"] == {"name": "spec", "path": str(spec), "sha256": hashlib.sha256(content).hexdigest(),
                              "hash_of": "file", "bytes": len(content), "rows": None, "columns": None}
