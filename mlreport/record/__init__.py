"""What was run: run folders, the SQLite run registry, the hash-chained audit trail and the index page.

Built bottom up, each module importing only those above it in this list:
``_store`` (run folders, atomic writes, locks, held signals), ``_registry``
(the SQLite registry) and ``_audit`` (the hash-chained trail), ``_ledger``
(keeps folders, trail and registry in step: recording, importing, pruning),
``_verify`` (rechecks them against each other) and ``_index`` (the index page).
"""

from __future__ import annotations

from ._audit import (
    AUDIT_FILE,
    AUDITED_FILES,
    GENESIS,
    LogLine,
    append,
    canonical_json,
    entry_hash,
    file_hashes,
    read_log,
)
from ._index import STRIP_RUNS, TREND_RUNS, index_html, sparkline_svg, trend_series, write_index
from ._inputs import InputCheck, InputReview, is_regenerated, is_written, recheck_inputs
from ._ledger import STALE_STAGING_S, PruneResult, open_registry, prune, record_run
from ._registry import (
    BUSY_TIMEOUT_MS,
    REGISTRY_FILE,
    SCHEMA_VERSION,
    Registry,
    RunRecord,
    flatten_metrics,
    format_history,
    format_record,
    record_from_manifest,
)
from ._store import (
    commit_run,
    deferred_signals,
    discard,
    identity,
    list_runs,
    locked,
    make_out_dir,
    new_run_id,
    package_versions,
    safe_name,
    sha256_file,
    staging_dir,
    write_json_atomic,
    write_text_atomic,
)
from ._verify import IN_FLIGHT_S, Problem, VerifyReport, verify

__all__ = [
    "InputCheck",
    "InputReview",
    "recheck_inputs",
    "is_regenerated",
    "is_written",
    "AUDIT_FILE",
    "AUDITED_FILES",
    "GENESIS",
    "canonical_json",
    "entry_hash",
    "file_hashes",
    "append",
    "read_log",
    "LogLine",
    "Problem",
    "VerifyReport",
    "verify",
    "IN_FLIGHT_S",
    "REGISTRY_FILE",
    "SCHEMA_VERSION",
    "BUSY_TIMEOUT_MS",
    "RunRecord",
    "Registry",
    "flatten_metrics",
    "record_from_manifest",
    "format_history",
    "format_record",
    "new_run_id",
    "safe_name",
    "make_out_dir",
    "staging_dir",
    "commit_run",
    "discard",
    "write_json_atomic",
    "write_text_atomic",
    "package_versions",
    "list_runs",
    "write_index",
    "sha256_file",
    "identity",
    "locked",
    "deferred_signals",
    "open_registry",
    "record_run",
    "PruneResult",
    "prune",
    "STALE_STAGING_S",
    "index_html",
    "sparkline_svg",
    "trend_series",
    "STRIP_RUNS",
    "TREND_RUNS",
]
