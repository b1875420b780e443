"""Backends: where the drift and volume summaries are counted.

Drift and volume statistics come from mergeable counts (:mod:`mlreport.profile`,
:mod:`mlreport.counts`), so the counting can run wherever the data lives:

========  =====================================  ==============================================
name      runs                                   for
========  =====================================  ==============================================
pandas    in memory (the default)                data that fits in memory (files up to ~1 GiB)
duckdb    embedded SQL over Parquet / CSV files  files larger than memory, one machine
spark     PySpark DataFrame API                  tables and files in a Spark cluster
========  =====================================  ==============================================

Every backend implements :class:`Backend`: :meth:`~Backend.summarize` and
:meth:`~Backend.summarize_by` (per segment column or per period of a timestamp:
``"D"``, ``"W"``, ``"M"``) return the same :class:`~mlreport.profile.Summaries`
as :meth:`ReferenceProfile.summarize`; :meth:`~Backend.decision_counts` returns
the same :class:`~mlreport.counts.DecisionCounts` as
:func:`mlreport.counts.count_decisions`; :meth:`~Backend.fit_profile` fits a
:class:`~mlreport.profile.ReferenceProfile` (exact quantiles, approximate
quantiles, or pandas on a sample). Counts are equal across backends (integers);
sums of values agree to about 1e-12 relative (another summation order).

Choosing: :func:`get_backend` by name, or ``"auto"``: a Spark DataFrame or a
table name goes to Spark, a pandas DataFrame stays in pandas, and files go to
DuckDB when their total size exceeds :data:`AUTO_THRESHOLD_BYTES` (1 GiB: a
GiB of Parquet is several GiB as a pandas DataFrame), else to pandas.
:func:`register_backend` adds one, and so does an installed package through
the ``mlreport.backends`` entry point group (``_open``); :func:`open_backend` is what the notebooks
call with their ``backend`` and ``backend_options`` parameters.

For a report, a backend also fetches the rows that row-level sections need,
bounded (:meth:`Backend.bounded_rows`: every row up to a limit, else a uniform
sample), records the files it reads in the run's inputs
(:func:`mlreport.data.record_file`) and says what it did and for how long
(:meth:`Backend.run_info`).
"""

from __future__ import annotations

from ._base import Backend, settings_with_fit, with_reference
from ._duckdb import DuckDBBackend
from ._open import (
    BACKENDS_GROUP,
    backend_names,
    backend_origins,
    choose_backend,
    get_backend,
    open_backend,
    register_backend,
)
from ._pandas import PandasBackend
from ._source import AUTO_THRESHOLD_BYTES, PERIODS, Grouping, RowSample, Source, as_source, naive_utc
from ._spark import SparkBackend

__all__ = [
    "AUTO_THRESHOLD_BYTES",
    "PERIODS",
    "Backend",
    "DuckDBBackend",
    "Grouping",
    "PandasBackend",
    "RowSample",
    "Source",
    "SparkBackend",
    "as_source",
    "backend_names",
    "backend_origins",
    "BACKENDS_GROUP",
    "choose_backend",
    "get_backend",
    "naive_utc",
    "open_backend",
    "register_backend",
    "settings_with_fit",
    "with_reference",
]
