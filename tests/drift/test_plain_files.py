"""Two plain files a user brings (no timestamp, their own column names): a full drift report with every backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from plain_frames import REFERENCE_MIX, SHIFTED_MIX, loan_book, mix_psi

from mlreport import drift


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("plain")
    reference = loan_book(6000, seed=21, year=2020, mix=REFERENCE_MIX)
    current = loan_book(5000, seed=22, year=2021, mix=SHIFTED_MIX)
    current["bureau_hits"] = np.where(np.arange(len(current)) % 3 == 0, 2.0, np.nan)
    reference["bureau_hits"] = np.nan  # null in every reference row, filled now
    reference.to_parquet(folder / "book-2026-02.parquet", index=False)
    current.to_parquet(folder / "book-2026-03.parquet", index=False)
    return {"reference_path": str(folder / "book-2026-02.parquet"),
            "current_path": str(folder / "book-2026-03.parquet")}


@pytest.fixture(scope="module")
def result(files: dict[str, str]) -> drift.DriftResult:
    return drift.analyse(drift.DriftParameters(**files, classifier_sample=1000))


def _findings(result: drift.DriftResult, check: str) -> list:
    return [f for f in result.summary.findings if f.check == check]


def test_roles_come_from_content_and_the_model_name_from_the_file(result: drift.DriftResult):
    spec = result.spec
    assert (spec.timestamp, spec.score, spec.decision, spec.target) == ("", "risk_score", "y_pred", "y")
    assert spec.window_labels == ["year"] and spec.segments == ["region"]
    assert result.summary.model == "book-2026-03"
    assert result.performance is not None  # y is the target: AUC of the score against the outcome, not itself
    aucs = result.performance.table["auc"].dropna()
    assert len(aucs) and (aucs < 0.95).all()


def test_no_column_is_silently_unmonitored(result: drift.DriftResult, files: dict[str, str]):
    import pandas as pd

    columns = list(pd.read_parquet(files["current_path"]).columns)
    table = result.tables["coverage"].frame
    assert sorted(table["column"]) == sorted(columns)
    why = dict(zip(table["column"], table["where, or why not"], strict=True))
    assert why["tags"].startswith("holds lists") and why["year"].startswith("labels the window")
    assert why["bureau_hits"].startswith("null in every reference row")
    assert next(iter(drift.TABLES)) == "coverage"


def test_a_region_mix_change_is_feature_drift(result: drift.DriftResult, files: dict[str, str]):
    import pandas as pd

    # PSI by hand on the counts smoothed by 0.5 per bin (issue 13: no 1e-4 floor), over the three regions and the
    # profile's other/new bin (empty on both sides)
    counts = [pd.read_parquet(path)["region"].value_counts().reindex(["north", "south", "east"]).to_numpy(float)
              for path in (files["reference_path"], files["current_path"])]
    shares = [np.append(c, 0.0) + 0.5 for c in counts]
    region = result.drift_table.set_index("column").loc["region"]
    assert region["psi"] == pytest.approx(mix_psi(*(s / s.sum() for s in shares)), rel=1e-9)
    assert region["psi"] == pytest.approx(mix_psi(REFERENCE_MIX, SHIFTED_MIX), abs=0.05)
    assert region["severity"] == "incident"
    assert "region" in {f.subject for f in result.summary.findings if f.section == "Feature drift"}


def test_findings_for_what_drift_cannot_measure_and_none_for_the_window_label(result: drift.DriftResult):
    (filled,) = _findings(result, "all_null_reference")
    assert filled.subject == "bureau_hits" and filled.severity == "warning"
    assert not [f for f in result.summary.findings if f.subject == "year" and f.severity != "ok"]
    assert "year" not in set(result.drift_table["column"]) and "tags" not in set(result.drift_table["column"])


def test_without_a_timestamp_pandas_cuts_chunks_of_rows(result: drift.DriftResult):
    choice = result.period_choice
    assert choice.period == "500" and "no timestamp column" in choice.reason
    assert sorted(result.over_time["period"].unique()) == [f"chunk {i:03d}" for i in range(1, 11)]
    assert choice.reason in result.tables["first_crossings"].caption
    assert not _findings(result, "period")  # chosen, not replaced: nothing to report


def test_a_weekly_period_without_a_timestamp_is_replaced_with_a_note(files: dict[str, str]):
    result = drift.analyse(drift.DriftParameters(**files, period="W", classifier_sample=500))
    assert result.period_choice.period == "500"
    (note,) = _findings(result, "period")
    assert note.severity == "ok" and note.message.startswith("Period 'W' needs a timestamp column")


def test_duckdb_skips_drift_over_time_and_says_why(files: dict[str, str], result: drift.DriftResult):
    counted = drift.analyse(drift.DriftParameters(**files, backend="duckdb", classifier_sample=1000))
    assert counted.period_choice.skipped and counted.over_time.empty
    assert counted.tables["first_crossings"].frame.attrs["empty_text"] == counted.period_choice.reason
    title = counted.figures["psi_heatmap"].axes[0].get_title()
    assert title == "Drift over time: skipped"
    assert counted.summary.status != "failed" and _findings(counted, "period")
    columns = ["column", "psi", "severity"]
    assert counted.drift_table[columns].equals(result.drift_table[columns])
    assert counted.segments.table[["level", "column", "psi"]].equals(result.segments.table[["level", "column", "psi"]])
    assert counted.summary.model == "book-2026-03"


@pytest.mark.parametrize("rows", [1, 20])
def test_a_tiny_reference_says_the_statistics_are_unreliable(tmp_path: Path, rows: int):
    loan_book(rows, seed=1).to_parquet(tmp_path / "r.parquet", index=False)
    loan_book(3000, seed=2).to_parquet(tmp_path / "c.parquet", index=False)
    result = drift.analyse(drift.DriftParameters(reference_path=str(tmp_path / "r.parquet"),
                                                 current_path=str(tmp_path / "c.parquet"), classifier_sample=200))
    summary = result.summary
    # whatever leads (an out-of-range value is likely against 20 values), the headline says no count is reliable
    assert summary.status in ("warning", "incident") and "features drifted" not in summary.headline
    assert f"the reference holds only {rows} row" in summary.headline and "unreliable" in summary.headline
    (tiny,) = _findings(result, "reference_rows")
    assert tiny.severity == "warning" and tiny.value == rows


def test_one_dated_file_cut_in_two_finds_its_window_label_and_daily_periods(tmp_path: Path):
    import pandas as pd

    first = loan_book(4000, seed=31, year=2025, start="2025-12-22", freq="3min", lists=False)
    second = loan_book(4000, seed=32, year=2026, start="2026-01-01", freq="3min", lists=False)
    pd.concat([first, second], ignore_index=True).to_parquet(tmp_path / "book.parquet", index=False)
    result = drift.analyse(drift.DriftParameters(reference_path=str(tmp_path / "book.parquet"),
                                                 current_start="2026-01-01", classifier_sample=500))
    assert result.spec.timestamp == "opened_on" and result.spec.window_labels == ["year"]
    assert result.period_choice.period == "D" and "median 480" in result.period_choice.reason
    assert list(result.period_summaries) == [f"2026-01-{day:02d}" for day in range(1, 10)]
    assert result.summary.model == "book"


def test_a_timestamp_named_by_parameter_is_no_feature(tmp_path: Path):
    book = loan_book(3000, seed=41, start="2026-03-01", freq="5min", lists=False)
    book = book.rename(columns={"opened_on": "booked"}).assign(booked=lambda f: f["booked"].astype(str))
    book.iloc[:1500].to_csv(tmp_path / "r.csv", index=False)
    book.iloc[1500:].to_csv(tmp_path / "c.csv", index=False)
    result = drift.analyse(drift.DriftParameters(reference_path=str(tmp_path / "r.csv"),
                                                 current_path=str(tmp_path / "c.csv"), timestamp_column="booked",
                                                 classifier_sample=500))
    assert result.spec.timestamp == "booked" and "booked" not in result.monitored.columns
    assert result.period_choice.by_date and result.summary.model == "c"


def test_500_rows_a_window_a_report_with_small_parts_left_out_and_said(tmp_path: Path):
    loan_book(500, seed=61).to_parquet(tmp_path / "r.parquet", index=False)
    loan_book(500, seed=62).to_parquet(tmp_path / "c.parquet", index=False)
    result = drift.analyse(drift.DriftParameters(reference_path=str(tmp_path / "r.parquet"),
                                                 current_path=str(tmp_path / "c.parquet"), classifier_sample=200))
    assert result.period_choice.period == "300"  # two chunks, the second of 200 rows
    assert result.segments.table.empty and "fewer than 300 rows in a window" in result.segments.notes[0]
    assert "no segment level with enough rows" in result.tables["segment_drift"].frame.attrs["empty_text"]
    assert result.summary.status in ("ok", "warning", "incident") and "3 features" in result.summary.headline
