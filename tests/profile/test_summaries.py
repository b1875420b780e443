"""Summaries: equal to the reference's own, mergeable, order-free, subtractable, JSON round trip."""

from __future__ import annotations

import json
from itertools import pairwise

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from profile_frames import _assert_summaries_equal, profile_fixture, sample_fixture  # noqa: F401 - fixtures, taken by name

from mlreport.profile import Summaries, merge


def test_reference_summaries_equal_summarize_of_the_reference(sample, profile):
    _assert_summaries_equal(profile.reference, profile.summarize(sample))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5999), min_size=1, max_size=4, unique=True))
def test_merged_summaries_equal_summary_of_concatenation(sample, profile, cuts):
    bounds = [0, *sorted(cuts), len(sample)]
    parts = [profile.summarize(sample.iloc[a:b]) for a, b in pairwise(bounds)]
    _assert_summaries_equal(merge(parts), profile.summarize(sample))
    _assert_summaries_equal(parts[0] + merge(parts[1:]) if len(parts) > 1 else parts[0], merge(parts))


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_summaries_do_not_depend_on_row_order(sample, profile, seed):
    shuffled = sample.sample(frac=1.0, random_state=np.random.default_rng(seed).integers(2**31))
    _assert_summaries_equal(profile.summarize(shuffled), profile.summarize(sample))


def test_summarize_by_groups_merge_to_the_whole(sample, profile):
    weeks = sample["timestamp"].dt.to_period("W").astype(str)
    groups = profile.summarize_by(sample, weeks)
    assert list(groups) == sorted(weeks.unique())
    _assert_summaries_equal(merge(groups.values()), profile.summarize(sample))
    first = next(iter(groups))
    _assert_summaries_equal(groups[first], profile.summarize(sample[weeks == first]))
    # a key with missing labels leaves those rows out
    partial = weeks.where(weeks != first, None)
    assert first not in profile.summarize_by(sample, partial)


def test_summaries_subtract_and_round_trip(sample, profile):
    head = profile.summarize(sample.iloc[:1000])
    tail = profile.summarize(sample.iloc[1000:])
    _assert_summaries_equal(profile.reference - head, tail)
    _assert_summaries_equal(Summaries.from_dict(json.loads(json.dumps(tail.to_dict()))), tail)


def test_absent_columns_are_listed(profile, sample):
    batch = profile.summarize(sample.drop(columns=["income"]))
    assert batch.absent == ("income",) and "income" not in batch
    merged = batch + profile.summarize(sample)
    assert merged.absent == () and merged["income"].n == len(sample)
