"""The key numbers a drift run publishes for dashboards: PSI, KS and missing rate per column, rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from mlreport import drift


@pytest.fixture(scope="module")
def windows(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str, pd.DataFrame, pd.DataFrame]:
    # Not the sample: other column names, no timestamp, CSV, a shifted column, known nulls.
    rng = np.random.default_rng(11)
    folder = tmp_path_factory.mktemp("key-metrics")
    reference = pd.DataFrame({
        "Amount EUR": rng.lognormal(3.0, 0.5, 800).round(2),
        "tenure": rng.integers(0, 240, 800).astype(float),
        "product": rng.choice(["retail", "sme", "corp"], 800),
    })
    current = pd.DataFrame({
        "Amount EUR": rng.lognormal(3.3, 0.5, 500).round(2),
        "tenure": rng.integers(0, 240, 500).astype(float),
        "product": rng.choice(["retail", "sme", "corp"], 500, p=[0.2, 0.3, 0.5]),
    })
    current.loc[:36, "tenure"] = np.nan  # 37 of 500 rows
    (folder / "spec.toml").write_text(
        'model = "key-metrics"\nfeatures = ["Amount EUR", "tenure", "product"]\ncategorical_features = ["product"]\n'
    )
    reference.to_csv(folder / "reference.csv", index=False)
    current.to_csv(folder / "current.csv", index=False)
    return str(folder / "reference.csv"), str(folder / "current.csv"), str(folder / "spec.toml"), reference, current


def test_metrics_hold_psi_ks_and_missing_rate_per_column(windows):
    reference_path, current_path, spec_path, reference, current = windows
    result = drift.analyse(drift.DriftParameters(
        reference_path=reference_path, current_path=current_path, classifier_sample=300, period="100",
        spec_path=spec_path,
    ))
    metrics = result.summary.metrics
    assert metrics["rows"] == 500 and metrics["reference_rows"] == 800
    assert metrics["missing_rate"]["tenure"] == pytest.approx(37 / 500)
    assert metrics["missing_rate"]["Amount EUR"] == 0.0
    assert set(metrics["psi"]) == set(result.drift_table["column"])
    # KS is a numeric statistic: the categorical column has none, not a zero.
    assert "product" not in metrics["ks"] and "product" in metrics["psi"]
    for column in ("Amount EUR", "tenure"):
        row = result.drift_table.set_index("column").loc[column]
        exact = sps.ks_2samp(reference[column].dropna(), current[column].dropna()).statistic
        assert metrics["ks"][column] == row["ks"]
        # Binned or exact, within the error bound the method states.
        bound = row["ks_max_error"] if math.isfinite(row["ks_max_error"]) else 1e-12
        assert abs(metrics["ks"][column] - exact) <= bound + 1e-12
    assert metrics["ks"]["Amount EUR"] > 0.15  # the shifted column stands out
