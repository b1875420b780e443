"""Thresholds learned from reference chunks: mean + k std, leave-one-out, and usable in compare."""

from __future__ import annotations

import numpy as np
import pytest
from drift_frames import (
    _fit,
    _row,
    incident_data_fixture,  # noqa: F401 - a fixture, taken by name
)

from mlreport import drift, stats
from mlreport.drift import _learned as drift_learned_thresholds
from mlreport.errors import ParameterError


def test_learned_thresholds_are_mean_plus_k_std_over_leave_one_out_chunks(incident_data):
    profile, reference, _ = _fit(incident_data, ["income", "channel"])
    learned = drift_learned_thresholds.learn_thresholds(profile, reference, chunks=5, k=2.0)
    # independent recomputation: split by hand, PSI of each chunk vs the rest
    bounds = np.arange(len(reference)) * 5 // len(reference)
    values = []
    for chunk in range(5):
        inside = profile.summarize(reference[bounds == chunk])["income"]
        rest = profile.summarize(reference[bounds != chunk])["income"]
        values.append(stats.psi(rest.counts, inside.counts, smoothing=0.5))
    expected = np.mean(values) + 2.0 * np.std(values, ddof=1)
    band = learned.bands_for("income", "numeric")["psi"]
    # the chunks vary by PSI 0.003: the learned band stops at the floor of a material effect, 0.05
    assert expected < 0.05 and band.warning == pytest.approx(max(expected, 0.05), rel=1e-9)
    assert band.incident == pytest.approx(max(expected, 0.25))
    assert "tvd" in learned.bands_for("channel", "categorical")
    assert learned.source.startswith("learned")
    with pytest.raises(ParameterError):
        drift_learned_thresholds.learn_thresholds(profile, reference, chunks=2)


def test_learned_thresholds_are_usable_in_compare(incident_data):
    profile, reference, current = _fit(incident_data)
    learned = drift_learned_thresholds.learn_thresholds(profile, reference, chunks=6)
    table = drift.compare(profile, None, profile.summarize(current), thresholds=learned)
    assert _row(table, "credit_utilisation")["severity"] == "incident"
    assert table.attrs["thresholds"]["source"].startswith("learned")


def test_a_learned_band_is_never_tighter_than_a_material_effect():
    """Large, steady reference chunks learn PSI bands of a few thousandths; a clean move of PSI 0.005 stays ok."""
    import pandas as pd

    from mlreport.profile import ReferenceProfile

    rng = np.random.default_rng(8)
    reference = pd.DataFrame({"tenure": rng.gamma(3.0, 2.0, 400_000)})
    current = pd.DataFrame({"tenure": rng.gamma(3.0, 2.0, 400_000) * 1.035})  # a small, real, immaterial move
    profile = ReferenceProfile.fit(reference)
    chunks = drift_learned_thresholds.chunk_metrics(profile, reference, chunks=8)
    raw = chunks["psi"].mean() + 3 * chunks["psi"].std(ddof=1)
    assert raw < 0.001  # what the bands learned before the floor
    learned = drift_learned_thresholds.learn_thresholds(profile, reference, chunks=8, k=3.0)
    bands = learned.bands_for("tenure", "numeric")
    floor = drift_learned_thresholds.LEARNED_FLOOR
    assert bands["psi"].warning == floor["psi"].warning == 0.05
    assert bands["ks"].warning == floor["ks"].warning and bands["wasserstein_norm"].warning == 0.075
    assert bands["psi"].incident == 0.25  # the default incident band is above the floor's 0.10
    row = _row(drift.compare(profile, None, profile.summarize(current), thresholds=learned), "tenure")
    assert 0.002 < row["psi"] < 0.05 and row["chi2_pvalue_adj"] < 1e-6  # significant, and immaterial
    assert row["severity"] == "ok"
    assert "never below half the default warning band" in learned.source
