"""The data and comparisons every backend is held to: awkward values, and equality with pandas."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runs import run_cli

from mlreport.profile import ColumnSummary, ReferenceProfile, Summaries

SPLIT = "2026-02-02"


FEATURES = [
    "channel", "region", "product", "age", "income", "employment_status", "housing", "loan_amount",
    "loan_term_months", "debt_to_income", "credit_utilisation", "num_credit_lines", "bureau_score",
    "months_since_delinquency", "score", "decision", "amount_text", "verified", "only_in_reference",
]


def with_awkward_values(frame: pd.DataFrame, rng: np.random.Generator, *, current: bool) -> pd.DataFrame:
    frame = frame.reset_index(drop=True).copy()
    frame["default_flag"] = frame["default_flag"].astype("float64")
    frame["amount_text"] = frame["loan_amount"].map(lambda v: f"{v:.0f}").astype(object)
    frame["verified"] = rng.random(len(frame)) < 0.7
    if not current:
        frame["only_in_reference"] = rng.normal(size=len(frame))
        frame.loc[frame.index[:5], "credit_utilisation"] = -1.0  # a sentinel in the reference too
        return frame
    rows = rng.permutation(len(frame))
    income = frame["income"].to_numpy(copy=True)
    income[rows[:7]] = np.inf
    income[rows[7:11]] = -np.inf
    income[rows[11:20]] = 5e7  # above the reference maximum
    income[rows[20:25]] = -3.0  # below the minimum
    frame["income"] = income
    channel = frame["channel"].astype(object).to_numpy(copy=True)
    channel[rows[25:40]] = "kiosk"  # a new category
    channel[rows[40:45]] = None
    frame["channel"] = channel
    term = frame["loan_term_months"].to_numpy(copy=True)
    term[rows[45:52]] = 99  # a number never seen in a discrete column
    frame["loan_term_months"] = term
    amounts = frame["amount_text"].to_numpy(copy=True)
    amounts[rows[52:60]] = "n/a"  # unreadable in a column of numbers
    amounts[rows[60:64]] = None
    frame["amount_text"] = amounts
    utilisation = frame["credit_utilisation"].to_numpy(copy=True)
    utilisation[rows[64:70]] = 999.0  # a sentinel
    frame["credit_utilisation"] = utilisation
    return frame


def degenerate_columns(n: int = 3000) -> tuple[pd.DataFrame, list[str]]:
    """Columns a fit derives nothing usual from: no finite value, only infinities, unreadable text, one value,
    integers, -0.0 beside other values; and which of them are read as numbers."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "nan": np.full(n, np.nan),
        "inf": np.where(rng.random(n) < 0.5, np.inf, np.nan),
        "text": np.full(n, "x", dtype=object),
        "one": np.where(rng.random(n) < 0.5, 7.25, np.nan),
        "ints": rng.integers(0, 1000, n),
        "signed_zero": np.where(rng.random(n) < 0.5, -0.0, rng.normal(0, 1, n)),
    })
    return frame, ["nan", "inf", "text", "one", "signed_zero"]


def assert_summary_equal(a: ColumnSummary, b: ColumnSummary, where: str) -> None:
    assert a.kind == b.kind, where
    for name in ("n", "missing", "nonfinite", "invalid", "below_min", "above_max", "modal_count"):
        assert getattr(a, name) == getattr(b, name), f"{where}: {name}"
    for name in ("counts", "fine_counts", "sentinel_counts"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=f"{where}: {name}")
    np.testing.assert_allclose(a.fine_sums, b.fine_sums, rtol=1e-12, atol=1e-9, err_msg=where)


def assert_profiles_equal(expected: ReferenceProfile, got: ReferenceProfile) -> None:
    """The same columns, bins, categories and counts; mean and std to 1e-12 (another summation order)."""
    for name in expected.columns:
        a, b = expected[name].to_dict(), got[name].to_dict()
        for key in ("mean", "std"):
            assert (a[key] is None) == (b[key] is None), (name, key)
            if a[key] is not None:
                assert b[key] == pytest.approx(a[key], rel=1e-12, abs=1e-12), (name, key)
            a.pop(key), b.pop(key)
        assert a == b, name
    assert_summaries_equal(expected.reference, got.reference)


def assert_summaries_equal(a: Summaries, b: Summaries, where: str = "") -> None:
    assert a.rows == b.rows, where
    assert a.absent == b.absent, where
    assert list(a.columns) == list(b.columns), where
    for name in a.columns:
        assert_summary_equal(a[name], b[name], f"{where} {name}")


def assert_counts_equal(a, b) -> None:
    for name in (
        "period", "baseline_periods", "timezone", "labels", "rows", "notes", "data_first", "data_last", "roles",
    ):
        assert getattr(a, name) == getattr(b, name), name
    assert a.periods.equals(b.periods)
    for name in ("overall", "exposure", "holiday", "overrides", "override_known", "score_edges", "score_counts"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=name)
    assert list(a.segments) == list(b.segments)
    for column in a.segments:
        assert a.segments[column][0] == b.segments[column][0], column
        np.testing.assert_array_equal(a.segments[column][1], b.segments[column][1], err_msg=column)


def run_report(analysis: str, out: Path, *params: str) -> tuple[dict, dict, str]:
    """``mlreport run ANALYSIS`` with ``params``: its JSON answer, its run.json and its report's HTML."""
    args = [item for param in params for item in ("-p", param)]
    result = run_cli("run", analysis, "--out", str(out), "--json", *args, cwd=out.parent, timeout=600)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    answer = json.loads(result.stdout)
    run_dir = Path(answer["run_dir"])
    return answer, json.loads((run_dir / "run.json").read_text()), (run_dir / "report.html").read_text()


def assert_same_findings(expected: list[dict], got: list[dict]) -> None:
    """Equal findings; values to 1e-9 relative (sums of values are added in another order)."""
    assert len(expected) == len(got) > 0
    for a, b in zip(expected, got, strict=True):
        assert {k: v for k, v in a.items() if k != "value"} == {k: v for k, v in b.items() if k != "value"}
        assert (a["value"] is None) == (b["value"] is None)
        if a["value"] is not None:
            assert b["value"] == pytest.approx(a["value"], rel=1e-9, abs=1e-12), a


def assert_names_backend(manifest: dict, html: str, name: str) -> None:
    info = manifest["metrics"]["backend"]
    assert info["backend"] == name and info["seconds"] > 0 and info["operations"]
    assert manifest["methods"]["backend"].startswith(f"{'pyspark' if name == 'spark' else name} ")
    assert manifest["parameters"]["backend"] == name
    assert manifest["methods"]["backend"].split(";")[0] in html.replace("&#x27;", "'").replace("&quot;", '"')
