"""Drift by segment: each feature within each segment level, one correction family, capped levels, every backend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from plain_frames import loan_book
from statsmodels.stats.multitest import multipletests

from mlreport import drift
from mlreport.backends import DuckDBBackend, PandasBackend
from mlreport.profile import ReferenceProfile

FEATURES = ["applicant_income", "tenure_months", "region"]


def _local_shift(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Incomes 25% higher in the east only (a fifth of the rows): diluted in the whole window."""
    reference = loan_book(20_000, seed=seed, lists=False)
    current = loan_book(20_000, seed=seed + 1, lists=False)
    east = current["region"] == "east"
    current.loc[east, "applicant_income"] *= 1.25
    return reference, current


def _run(reference: pd.DataFrame, current: pd.DataFrame, backend=None, **options) -> drift.SegmentDrift:
    engine = backend or PandasBackend()
    profile = ReferenceProfile.fit(reference, FEATURES)
    overall = drift.compare(profile, None, profile.summarize(current), columns=FEATURES)
    return drift.segment_drift(engine, reference, current, profile, segments=["region"], features=FEATURES,
                               overall=dict(zip(overall["column"], overall["severity"], strict=True)), **options)


def _psi_by_hand(reference: pd.Series, current: pd.Series, edges: np.ndarray) -> float:
    """PSI on right-closed bins with open ends, empty bins floored at 1e-4: the formula, with pandas' cut."""
    bins = [-np.inf, *edges, np.inf]
    p = pd.cut(reference, bins, right=True).value_counts(sort=False).to_numpy() / len(reference)
    q = pd.cut(current, bins, right=True).value_counts(sort=False).to_numpy() / len(current)
    p, q = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    return float(np.sum((q - p) * np.log(q / p)))


def test_drift_in_one_level_is_found_there_though_diluted_in_the_whole():
    reference, current = _local_shift(3)
    result = _run(reference, current)
    table = result.table
    east = table[(table["level"] == "east") & (table["column"] == "applicant_income")].iloc[0]
    assert east["severity"] == "incident"
    others = table[(table["level"] != "east")]
    assert set(others["severity"]) == {"ok"}
    # the PSI of a level is the PSI of that level's rows on the profile's bins, by the formula
    edges = ReferenceProfile.fit(reference, FEATURES).columns["applicant_income"].psi_edges
    by_hand = _psi_by_hand(reference.loc[reference["region"] == "east", "applicant_income"],
                           current.loc[current["region"] == "east", "applicant_income"], edges)
    assert east["psi"] == pytest.approx(by_hand, rel=1e-3)  # no empty bin: any smoothing of them aside
    assert (east["level_rows_ref"], east["level_rows_cur"]) == (
        (reference["region"] == "east").sum(), (current["region"] == "east").sum())
    # one finding, for the level, naming the feature; the segment column itself is not compared within itself
    assert [f.subject for f in result.findings] == ["region=east"]
    assert "applicant_income" in result.findings[0].message and result.findings[0].section == "Drift by segment"
    assert "region" not in set(table["column"])


def test_one_correction_over_every_level_and_feature():
    reference, current = _local_shift(4)
    table = _run(reference, current).table
    raw = np.concatenate([table["ks_pvalue"].to_numpy(float), table["chi2_pvalue"].to_numpy(float)])
    finite = np.isfinite(raw)
    expected = np.full(raw.shape, np.nan)
    expected[finite] = multipletests(raw[finite], method="fdr_bh")[1]
    adjusted = np.concatenate([table["ks_pvalue_adj"].to_numpy(float), table["chi2_pvalue_adj"].to_numpy(float)])
    np.testing.assert_allclose(adjusted[finite], expected[finite], rtol=1e-12)
    assert table.attrs["correction"] == "fdr_bh"


def test_drift_of_every_level_alike_is_reported_once_by_feature_drift():
    reference = loan_book(20_000, seed=5, lists=False)
    current = loan_book(20_000, seed=6, lists=False)
    current["applicant_income"] *= 1.25  # everywhere
    result = _run(reference, current)
    assert set(result.table.loc[result.table["column"] == "applicant_income", "severity"]) == {"incident"}
    assert result.findings == []  # feature drift says it, once


def test_levels_are_capped_and_small_ones_left_out_with_notes():
    rng = np.random.default_rng(9)
    levels = [f"branch-{i:02d}" for i in range(40)]
    shares = np.r_[np.full(30, 0.03), np.full(10, 0.01)]
    reference = pd.DataFrame({"amount": rng.normal(size=30_000), "branch": rng.choice(levels, 30_000, p=shares)})
    current = pd.DataFrame({"amount": rng.normal(size=30_000), "branch": rng.choice(levels, 30_000, p=shares)})
    current.loc[current["branch"] == "branch-00", "branch"] = "branch-new"
    few = current.index[current["branch"] == "branch-01"][10:]
    current = current.drop(index=few)  # branch-01 keeps 10 current rows
    profile = ReferenceProfile.fit(reference, ["amount", "branch"])
    result = drift.segment_drift(PandasBackend(), reference, current, profile, segments=["branch"],
                                 features=["amount"])
    assert result.table["level"].nunique() == drift.MAX_SEGMENT_LEVELS - 2  # capped, less branch-00 and -01
    notes = " | ".join(result.notes)
    assert "40 levels; the 30 with most reference rows are judged, the other 10" in notes
    assert f"fewer than {drift.MIN_SEGMENT_ROWS} rows in a window" in notes
    assert "branch-01 (" in notes and " / 10)" in notes
    assert "branch-00 (" in notes  # no current rows left
    assert "only in the current window" in notes and "branch-new" in notes
    wide = drift.segment_drift(PandasBackend(), reference, current, profile, segments=["branch"], features=["amount"],
                               distinct={"branch": drift.MAX_SEGMENT_DISTINCT + 1})
    assert wide.table.empty and "not cut by level" in wide.notes[0]
    none = drift.segment_drift(PandasBackend(), reference, current, profile, segments=[], features=["amount"])
    assert not none.assessed and none.table.attrs["empty_text"].startswith("no segment column")


def test_duckdb_counts_the_same_levels(tmp_path):
    reference, current = _local_shift(7)
    reference.to_parquet(tmp_path / "r.parquet", index=False)
    current.to_parquet(tmp_path / "c.parquet", index=False)
    expected = _run(reference, current).table
    engine = DuckDBBackend()
    profile = ReferenceProfile.fit(reference, FEATURES)
    counted = drift.segment_drift(engine, str(tmp_path / "r.parquet"), str(tmp_path / "c.parquet"), profile,
                                  segments=["region"], features=FEATURES).table
    pd.testing.assert_frame_equal(counted.reset_index(drop=True), expected.reset_index(drop=True), rtol=1e-9)


@pytest.mark.parametrize("period", [None, "2000", "D"])
@pytest.mark.parametrize("block_rows", [None, 997])
def test_current_levels_counted_in_the_periods_pass_are_the_separate_passes(monkeypatch, period, block_rows):
    """pandas counts the current window's segments with its periods: the same summaries and table, bit for bit."""
    import mlreport.profile._profile as profile_module

    if block_rows is not None:
        monkeypatch.setattr(profile_module, "_BLOCK_ROWS", block_rows)
    reference, current = _local_shift(11)
    current["opened_on"] = pd.Timestamp("2026-03-01") + pd.to_timedelta(np.arange(len(current)) * 60, unit="s")
    current.loc[current.index[::97], "region"] = None  # rows without a level: left out of the segment only
    engine = PandasBackend()
    profile = ReferenceProfile.fit(reference, FEATURES)
    whole, parts, by_each = engine.summarize_periods_by_each(
        current, profile, period=period, timestamp="opened_on", by=["region", "tenure_months"])
    if period is None:
        alone, alone_parts = engine.summarize(current, profile), {}
    else:
        alone, alone_parts = engine.summarize_periods(current, profile, period=period, timestamp="opened_on")
    assert whole.to_dict() == alone.to_dict()
    assert {k: v.to_dict() for k, v in parts.items()} == {k: v.to_dict() for k, v in alone_parts.items()}
    assert by_each is not None
    for counted, separate in zip(by_each, engine.summarize_by_each(current, profile, ["region", "tenure_months"]),
                                 strict=True):
        assert list(counted) == list(separate)
        assert {k: v.to_dict() for k, v in counted.items()} == {k: v.to_dict() for k, v in separate.items()}
    expected = _run(reference, current).table
    given = _run(reference, current, current_parts={"region": by_each[0]}).table
    pd.testing.assert_frame_equal(given, expected)


def test_the_default_backend_method_counts_periods_only_and_leaves_segments_to_later(tmp_path):
    reference, current = _local_shift(13)
    current.to_parquet(tmp_path / "c.parquet", index=False)
    profile = ReferenceProfile.fit(reference, FEATURES)
    engine = DuckDBBackend()
    whole, parts, by_each = engine.summarize_periods_by_each(
        str(tmp_path / "c.parquet"), profile, period=None, timestamp="", by=["region"])
    assert by_each is None and parts == {}
    assert whole.to_dict() == engine.summarize(str(tmp_path / "c.parquet"), profile).to_dict()


def test_drift_report_segments_are_those_counted_apart():
    """``drift.analyse`` takes the current window's levels from its periods' pass: the table of a separate count."""
    result = drift.analyse(drift.DriftParameters(sample_rows=6000, sample_seed=4))
    names, distinct, cut = result._segment_columns
    assert cut and result._counted[2] is not None and set(result._counted[2]) == set(cut)
    windows = result.windows
    apart = drift.segment_drift(
        result.backend, windows.reference_source, windows.current_source, result.profile, segments=names,
        features=list(result.monitored.features), thresholds=result.family_thresholds("segment_drift"),
        distinct=distinct,
        overall=dict(zip(result.drift_table["column"].astype(str), result.drift_table["severity"], strict=True)),
    )
    pd.testing.assert_frame_equal(result.segments.table, apart.table)
    assert [f.to_dict() for f in result.segments.findings] == [f.to_dict() for f in apart.findings]
    assert result.segments.notes == apart.notes
