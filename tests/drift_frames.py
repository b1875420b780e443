"""Shared by the drift tests: the sample with two injected incidents and its comparison (fixtures), lookups.

A test module takes the fixtures by importing ``incident_data_fixture`` /
``incident_table_fixture``; :func:`read_windows` reads windows as a drift report does.
"""

from __future__ import annotations

import pandas as pd
import pytest

from mlreport import drift
from mlreport.profile import ReferenceProfile
from mlreport.sample import DEFAULT_SPEC, generate, split
from mlreport.sample import FEATURES as SAMPLE_FEATURES

#: The sample's segments and features, less months_since_delinquency (missing for the ~60% never delinquent).
FEATURES = [*DEFAULT_SPEC["segments"], *(f for f in SAMPLE_FEATURES if f != "months_since_delinquency")]
START = "2026-01-05"
INCIDENT = "2026-02-16"  # a Monday: weekly periods start on it


def _fit(frame: pd.DataFrame, columns=FEATURES):
    reference, current = split(frame, INCIDENT)
    profile = ReferenceProfile.fit(reference, columns)
    return profile, reference, current


@pytest.fixture(scope="module", name="incident_data")
def incident_data_fixture() -> pd.DataFrame:
    return generate(
        40_000,
        start=START,
        seed=3,
        incidents=("income_shift", "utilisation_zero"),
        incident_start=INCIDENT,
    )


@pytest.fixture(scope="module", name="incident_table")
def incident_table_fixture(incident_data):
    profile, _, current = _fit(incident_data)
    return drift.compare(profile, None, profile.summarize(current))


def _row(table: pd.DataFrame, column: str) -> dict:
    return table.set_index("column").loc[column].to_dict()


def read_windows(**parameters) -> drift.Windows:
    """The windows a drift report with these parameters reads (its backend opened as ``analyse`` opens it)."""
    return drift.analyse(drift.DriftParameters(**parameters)).windows
