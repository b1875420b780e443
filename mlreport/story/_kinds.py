"""Which kind of incident each check points to, and the next step for each kind.

The one table that maps a check name (``Finding.check``) to a :class:`Kind`.
Grouping works from the generic fields of a finding; this table only says how
to name an incident, how precisely its checks date an onset, and what a reader
might do next. A check missing here falls back to :data:`DEFAULT_KIND`, so a
new check still groups by subject and appears in the story; the test
``tests/story/test_kinds.py`` lists every check the analyses emit today.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Kind", "KINDS", "CHECK_KINDS", "DEFAULT_KIND", "kind_of", "FAMILY_ORDER"]


@dataclass(frozen=True)
class Kind:
    """A kind of incident: its family, a short label and a next step to adapt.

    ``family`` decides which finding leads an incident when several checks
    agree (an integrity failure explains the drift it causes, not the other
    way round): the lower its place in :data:`FAMILY_ORDER`, the more likely
    it is the cause. ``dating`` says how precisely the check dates an onset:
    ``day`` (the first flagged day or a change point), ``period`` (the first
    flagged period of several days) or ``none``. ``next_step`` may use
    ``{where}`` and ``{since}``.
    """

    name: str
    family: str
    label: str
    next_step: str
    dating: str = "none"


FAMILY_ORDER: tuple[str, ...] = (
    "integrity", "volume", "rate", "performance", "drift", "mix", "stress", "coverage", "other",
)

_STEP_FEED = (
    "Check the upstream field mapping of {where} and any release or configuration change on or just before "
    "{since}; until it is fixed, decisions that use {where} rest on a placeholder, not the applicant's value."
)

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("feed_nulls", "integrity", "values missing",
             "Check the feed that fills {where} (timeouts, a changed source, a failed join) from {since}; "
             "decide whether decisions made without it need review.", "day"),
        Kind("feed_default", "integrity", "feed defaulting to a placeholder value", _STEP_FEED, "day"),
        Kind("feed_invalid", "integrity", "invalid values",
             "Check the producer of {where} for a unit, type or parsing change from {since}.", "day"),
        Kind("categories", "integrity", "categories changed",
             "Confirm with the data owner whether the new or vanished categories of {where} are a deliberate "
             "change (a new product, a renamed code) and map them before the model sees them as unknown."),
        Kind("schema", "integrity", "schema changed",
             "Compare the current extract of {where} with the schema the model was built on; restore or map "
             "the column before relying on this run."),
        Kind("duplicates", "integrity", "duplicate records",
             "Check the extract for replayed or double-loaded records of {where}."),
        Kind("freshness", "integrity", "stale or late data",
             "Check the schedule and the last successful load of the feed; the report covers less than expected.",
             "day"),
        Kind("row_count", "integrity", "row count changed",
             "Check the extract for missing or duplicated loads around {since}.", "period"),
        Kind("outage", "volume", "volume stopped",
             "Check the integration with {where} (connection, credentials, routing, a release) from {since}, "
             "and ask its owner whether applications are queued or lost.", "day"),
        Kind("volume", "volume", "volume changed",
             "Check whether {where} changed on purpose (a campaign, a closed branch, a partner change) before "
             "treating it as a fault.", "day"),
        Kind("rate", "rate", "decision rates shifted",
             "Find what changed around {since}: a policy or cut-off change, a feature feed, or a shift in who "
             "applies; if none was intended, review the decisions made since.", "day"),
        Kind("mix", "mix", "decision mix changed",
             "Compare the decision mix of {where} with recent policy changes and the applicant population.",),
        Kind("performance", "performance", "model performance dropped",
             "Review the model's performance on matured outcomes; consider recalibration or retraining and "
             "tighter monitoring until it recovers."),
        Kind("drift", "drift", "distribution shifted",
             "Check whether the shift in {where} is a real change of the applicants or of the data's "
             "definition; if performance drops with it, consider recalibration.", "period"),
        Kind("stress", "stress", "sensitive under stress",
             "Discuss with the model owner whether this sensitivity is acceptable; if not, consider limits, "
             "overrides or a model review."),
        Kind("coverage", "coverage", "not fully monitored",
             "Fix the reference or the column roles so that {where} is monitored."),
        Kind("other", "other", "check flagged",
             "Read the evidence below and decide with the model owner whether it needs action."),
    )
}

#: Check name (``Finding.check``) -> kind name. Prefix rules below cover families of names.
CHECK_KINDS: dict[str, str] = {
    # integrity
    "missing": "feed_nulls",
    "sentinel": "feed_default",
    "constant": "feed_default",
    "non_finite": "feed_invalid",
    "out_of_range": "feed_invalid",
    "new_category": "categories",
    "vanished_category": "categories",
    "schema": "schema",
    "duplicate_ids": "duplicates",
    "freshness": "freshness",
    "rows": "row_count",
    "rows_per_period": "row_count",
    # drift
    "feature_drift": "drift",
    "drift_over_time": "drift",
    "segment_drift": "drift",
    "prediction_drift": "drift",
    "domain_classifier": "drift",
    "domain_classifier_columns": "coverage",
    "period": "coverage",
    "coverage": "coverage",
    "all_null_reference": "coverage",
    "single_value_reference": "coverage",
    "reference_rows": "coverage",
    # performance
    "auc_drop": "performance",
    "calibration": "performance",
    "target_drift": "performance",
    # volume
    "volume_zero": "outage",
    "volume_tail": "volume",
    "volume": "volume",
    "segment_volume": "volume",
    "segment_volume_large": "volume",
    "segment_new": "volume",
    "change_point": "volume",
    "rates": "rate",
    "ewma_out": "rate",
    "cusum_signal": "rate",
    "mix_change": "mix",
    "mix_change_large": "mix",
    "score_mix": "mix",
    "score_mix_large": "mix",
    "segment_mix": "mix",
    "segment_mix_large": "mix",
    "segment_share_extreme": "mix",
    "segments": "mix",
    # stress
    "stress_scenario": "stress",
    "reverse_stress": "stress",
    "monotonicity": "stress",
    "non_finite_input": "feed_invalid",
}

_PREFIXES: tuple[tuple[str, str], ...] = (("rate_", "rate"), ("volume_", "volume"), ("segment_mix", "mix"))

DEFAULT_KIND = KINDS["other"]


def kind_of(check: str) -> Kind:
    """The kind of incident ``check`` points to; :data:`DEFAULT_KIND` for a check this table does not know."""
    name = CHECK_KINDS.get(check)
    if name is None:
        name = next((kind for prefix, kind in _PREFIXES if check.startswith(prefix)), None)
    return KINDS[name] if name else DEFAULT_KIND
