"""The volume report in one call: the sample or files, one backend and one input log, the notebook around it."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pyarrow.parquet as pq
import pytest

from mlreport import data
from mlreport.backends import DuckDBBackend, PandasBackend, as_source
from mlreport.counts import ROLE_ROWS
from mlreport.driver import declared_parameters
from mlreport.errors import DataError
from mlreport.sample import generate
from mlreport.volume import FIGURES, SECTIONS, TABLES, VolumeParameters, analyse

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "volume.ipynb"


@pytest.fixture(scope="module")
def log_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("decisions")
    frame = generate(30_000, seed=7, incidents=["channel_outage", "approval_jump"])
    frame.to_parquet(folder / "log.parquet")
    parts = folder / "parts"
    parts.mkdir()
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(parts / "a.parquet")
    frame.iloc[half:].to_parquet(parts / "b.parquet")
    frame.iloc[:0].to_parquet(folder / "empty.parquet")
    return folder


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file mlreport.data.load_table reads, in order."""
    seen: list[str] = []
    original = data.load_table

    def counting(path, **kwargs):
        seen.append(str(path))
        return original(path, **kwargs)

    monkeypatch.setattr(data, "load_table", counting)
    return seen


# --------------------------------------------------------------------------- analyse


def test_the_sample_report_finds_the_sample_incidents():
    result = analyse(VolumeParameters())
    assert result.status == "incident"
    assert result.headline.startswith("Incident: broker channel volume 0 since 2026-02-19")
    assert result.backend is not None and result.backend.name == "pandas"
    assert [record.name for record in result.inputs] == ["decisions"]
    assert result.counts.roles["segment_columns"] == ["channel", "region", "product"]  # the sample's spec


def test_pandas_reads_each_file_once_and_records_it_once(log_files, reads):
    result = analyse(VolumeParameters(data_path=str(log_files / "log.parquet")))
    assert reads == [str(log_files / "log.parquet")]  # role inference and counting share one read
    records = result.inputs.to_list()
    rows = pq.ParquetFile(log_files / "log.parquet").metadata.num_rows
    assert [(r["name"], r["path"], r["rows"], r["hash_of"]) for r in records] == [
        ("decisions", str(log_files / "log.parquet"), rows, "file")]
    assert records[0]["sha256"] == data.file_sha256(log_files / "log.parquet")
    assert result.summary.inputs == records


def test_a_folder_is_read_file_by_file_once(log_files, reads):
    result = analyse(VolumeParameters(data_path=str(log_files / "parts")))
    assert reads == [str(log_files / "parts" / "a.parquet"), str(log_files / "parts" / "b.parquet")]
    assert [r.path for r in result.inputs] == reads
    whole = analyse(VolumeParameters(data_path=str(log_files / "log.parquet")))
    assert result.findings == whole.findings


def test_duckdb_gives_the_numbers_pandas_gives(log_files):
    path = str(log_files / "log.parquet")
    pandas = analyse(VolumeParameters(data_path=path)).summary
    duckdb = analyse(VolumeParameters(data_path=path, backend="duckdb", backend_options={"threads": 1})).summary
    assert duckdb.metrics["backend"]["backend"] == "duckdb"
    assert duckdb.findings == pandas.findings and duckdb.headline == pandas.headline
    assert {k: v for k, v in duckdb.metrics.items() if k != "backend"} == {
        k: v for k, v in pandas.metrics.items() if k != "backend"}
    assert duckdb.inputs[0]["sha256"] == pandas.inputs[0]["sha256"]


@pytest.mark.parametrize("backend", ["pandas", "duckdb"])
def test_an_empty_log_names_its_file(log_files, backend):
    path = str(log_files / "empty.parquet")
    with pytest.raises(DataError, match="has no rows") as info:
        analyse(VolumeParameters(data_path=path, backend=backend))
    assert path in str(info.value) and info.value.path == path
    assert "decision column" not in str(info.value)


def test_role_rows_every_row_in_pandas_the_first_rows_elsewhere(log_files):
    source = as_source(str(log_files / "log.parquet"), name="decisions")
    everything = PandasBackend().role_rows(source)
    first = DuckDBBackend(threads=1).role_rows(source)
    assert len(everything) > ROLE_ROWS and len(first) == ROLE_ROWS
    assert first["application_id"].tolist() == everything["application_id"].head(ROLE_ROWS).tolist()
    in_memory = generate(12_000, seed=1)
    assert len(DuckDBBackend(threads=1).role_rows(in_memory)) == len(in_memory)  # a frame is used as it is


# --------------------------------------------------------------------------- the notebook


def _code_cells() -> list[nbformat.NotebookNode]:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    return [cell for cell in notebook.cells
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", [])]


def test_notebook_follows_the_contract():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    assert notebook.cells[1].metadata.get("tags") == ["parameters"]
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert "publish(" in code[-1].source
    declared = declared_parameters(NOTEBOOK)
    assert {"data_path", "timestamp_column", "decision_column", "segment_columns", "period", "baseline_weeks",
            "analysis_start", "holidays", "sample_rows", "sample_incidents", "seed"} <= set(declared)
    headings = {cell.source.splitlines()[0][3:] for cell in notebook.cells
                if cell.cell_type == "markdown" and cell.source.startswith("## ")}
    assert set(SECTIONS.values()) <= headings


def test_notebook_is_narrative_around_one_call():
    cells = _code_cells()
    text = "\n".join(cell.source for cell in cells)
    assert text.count("volume.analyse(volume.VolumeParameters.from_namespace(globals()))") == 1
    assert cells[-1].source.strip() == "publish(tell(result.summary))"  # issue 14: incidents published
    for name in TABLES:
        assert f'result.tables["{name}"]' in text, name
    for name in FIGURES:
        assert f'show(result.figures["{name}"])' in text, name
