"""Figures of the volume report: built from a result, titled with their method, axes labelled."""

from __future__ import annotations

import pytest
from volume_logs import analyse

from mlreport import volume as volume_plots
from mlreport.sample import generate


@pytest.fixture(scope="module")
def outage_and_jump():
    frame = generate(50_000, seed=7, incidents=["channel_outage", "approval_jump"])
    return analyse(frame, score_column="score")


def test_figures_build_without_warnings_and_state_their_method(outage_and_jump):
    figures = {
        "volume": volume_plots.volume_timeline(outage_and_jump),
        "rates": volume_plots.rate_chart(outage_and_jump),
        "ewma": volume_plots.ewma_chart(outage_and_jump),
        "cusum": volume_plots.cusum_chart(outage_and_jump),
        "mix": volume_plots.mix_chart(outage_and_jump),
        "contributions": volume_plots.contribution_chart(outage_and_jump, "rate:approve"),
        "changes": volume_plots.change_point_timeline(outage_and_jump),
    }
    titles = {name: figure._suptitle.get_text() for name, figure in figures.items()}
    assert "error budget" in titles["volume"] and "Laney p′" in titles["rates"]
    assert "λ 0.2" in titles["ewma"] and "PELT" in titles["changes"]
    assert f"h {outage_and_jump.limits.cusum_h:.2f}" in titles["cusum"]  # h from the budget (issue 13)
    assert volume_plots.flagged_series(outage_and_jump)[:2] == ["overall", "channel=broker"]
    for figure in figures.values():
        assert all(ax.get_ylabel() for ax in figure.axes)
