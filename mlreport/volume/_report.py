"""The volume report's glue: where the decision log comes from and what counts it.

The volume analysis needs only counts (:class:`~mlreport.counts.DecisionCounts`),
so every backend runs all of it: pandas counts a log it has loaded, DuckDB and
Spark count where the data lies (:meth:`mlreport.backends.Backend.decision_counts`)
and the tests, control charts and drill-downs then run on the counts alone.
Only inferring column roles looks at rows: the log itself with pandas, its first
:data:`ROLE_ROWS` rows otherwise (a model spec names them for sure).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .. import data, sample
from ..backends import Backend, as_source

__all__ = ["ROLE_ROWS", "load_decisions", "role_frame", "computation_table"]

ROLE_ROWS = 10_000
"""Rows a backend other than pandas reads to infer column roles the spec does not name."""


def load_decisions(
    data_path: str, *, engine: Backend, sample_rows: int, seed: int, incidents: Sequence[str]
) -> Any:
    """The decision log: the built-in sample (a frame) when ``data_path`` is empty, else the files.

    pandas loads the files (:func:`mlreport.data.load_table`, recorded in the
    backend's inputs); another backend gets a :class:`~mlreport.backends.Source`
    and records the files when it reads them.
    """
    if not data_path:
        frame = sample.generate(sample_rows, seed=seed, incidents=incidents)
        data.record_frame(
            frame, name="decisions", log=engine.inputs,
            source=f"mlreport.sample.generate({sample_rows}, seed={seed}, incidents={incidents})",
        )
        return frame
    if engine.name == "pandas":
        return data.load_table(data_path, name="decisions", log=engine.inputs)
    return as_source(data_path, name="decisions")


def role_frame(engine: Backend, decisions: Any) -> pd.DataFrame:
    """Rows to infer and check column roles on: the log itself when in memory, else its first rows."""
    if isinstance(decisions, pd.DataFrame):
        return decisions
    return engine.head(decisions, ROLE_ROWS)


def computation_table(engine: Backend) -> pd.DataFrame:
    """The backend that counted the decisions: name, settings and seconds (every section runs on counts)."""
    info = engine.run_info()
    rows = [
        ("backend", info["backend"]),
        ("settings", info["settings"]),
        ("seconds counting", info["seconds"]),
        ("rows", "every row of the log is counted; no section needs rows in memory"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")
