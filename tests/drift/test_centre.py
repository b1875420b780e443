"""Where the centre went, in the data's units: means and the most moved level in drift's table, finding and words.

Data are generated here with known means and shares (other names than the sample's, decimals, a category the
reference never had), and every expected number is computed independently with numpy or by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlreport import drift
from mlreport.findings import Finding
from mlreport.profile import ReferenceProfile
from mlreport.story import plain_words


def frames(rows: int = 4000, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame({
        "salary": rng.lognormal(10.5, 0.4, rows).round(2),
        "source": rng.choice(["web", "agent", "partner"], rows, p=[0.5, 0.38, 0.12]),
        "tenure": rng.normal(-2.0, 1.0, rows),
    })
    current = pd.DataFrame({
        "salary": (rng.lognormal(10.5, 0.4, rows) * 1.15).round(2),  # 15% higher
        "source": rng.choice(["web", "agent", "partner", "kiosk"], rows, p=[0.55, 0.38, 0.041, 0.029]),
        "tenure": rng.normal(-2.0, 1.0, rows),
    })
    return reference, current


@pytest.fixture(scope="module")
def compared() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    reference, current = frames()
    profile = ReferenceProfile.fit(reference)
    table = drift.compare(profile, None, profile.summarize(current))
    return reference, current, table.set_index("column")


def test_numeric_means_are_the_windows_means(compared):
    reference, current, table = compared
    for column in ("salary", "tenure"):
        assert table.loc[column, "mean_ref"] == pytest.approx(reference[column].mean(), rel=1e-9)
        assert table.loc[column, "mean_cur"] == pytest.approx(current[column].mean(), rel=1e-9)
    ratio = table.loc["salary", "mean_cur"] / table.loc["salary", "mean_ref"]
    assert ratio == pytest.approx(1.15, abs=0.03)


def test_categorical_names_the_level_whose_share_moved_most(compared):
    reference, current, table = compared
    ref_share = reference["source"].value_counts(normalize=True)
    cur_share = current["source"].value_counts(normalize=True)
    moved = {level: abs(cur_share.get(level, 0.0) - ref_share.get(level, 0.0)) for level in ["web", "agent", "partner"]}
    expected = max(moved, key=moved.__getitem__)  # partner: about 12% -> 4% (web moves +5 pp)
    assert expected == "partner"
    assert table.loc["source", "moved_level"] == "partner"
    assert table.loc["source", "share_ref"] == pytest.approx(ref_share["partner"])
    assert table.loc["source", "share_cur"] == pytest.approx(cur_share["partner"])
    assert np.isnan(table.loc["source", "mean_ref"])


def test_findings_and_plain_words_carry_the_centre(compared):
    _, _, table = compared
    findings = {f.subject: f for f in drift.findings_from_comparison(table.reset_index())}
    salary = findings["salary"]
    mean_ref, mean_cur = table.loc["salary", "mean_ref"], table.loc["salary", "mean_cur"]
    assert f"mean {mean_cur:,.0f} against {mean_ref:,.0f} in the reference" in salary.message
    words = plain_words(salary)
    change = round(100 * (mean_cur - mean_ref) / mean_ref)
    assert words.startswith(f"salary about {change}% higher on average than in the reference (mean ")
    source = findings["source"]
    share_ref, share_cur = table.loc["source", "share_ref"], table.loc["source", "share_cur"]
    assert f"share of 'partner' {share_cur:.1%} against {share_ref:.1%} in the reference" in source.message
    assert plain_words(source).startswith(f"share of 'partner' {share_ref:.1%} -> {share_cur:.1%} (")


@pytest.mark.parametrize(("message", "words"), [
    ("income: KS D 0.0908 reached the warning band 0.075 (KS p_adj 3.7e-70, BH); mean 41,200 against 35,800 in "
     "the reference.", "income about 15% higher on average than in the reference (mean 41,200 against 35,800; "
     "KS D 0.091)"),
    ("rate: PSI 0.3 reached the incident band 0.25 (KS p_adj 1e-09, BH); mean 0.3 against 0.4 in the reference.",
     "rate about 25% lower on average than in the reference (mean 0.3 against 0.4; PSI 0.3)"),
    ("delta: PSI 0.3 reached the incident band 0.25 (KS p_adj 1e-09, BH); mean -0.5 against 0.25 in the reference.",
     "delta: the average moved (mean -0.5 against 0.25; PSI 0.3)"),
    ("flat: KS D 0.2 reached the incident band 0.15 (KS p_adj 1e-09, BH); mean 100 against 100 in the reference.",
     "flat about the same on average, its shape moved (mean 100 against 100; KS D 0.2)"),
])
def test_plain_words_from_hand_written_messages(message: str, words: str):
    subject = message.split(":", 1)[0]
    assert plain_words(Finding("feature_drift", subject, "warning", message, value=0.2)) == words


def test_a_message_without_a_centre_keeps_the_ks_words():
    finding = Finding("feature_drift", "x", "warning", "x: KS D 0.12 reached the warning band 0.075", value=0.12)
    assert "(KS D 0.12)" in plain_words(finding)


def test_drift_over_time_carries_each_period_mean_and_the_finding_names_the_flagged_one():
    rng = np.random.default_rng(11)
    days = 28
    reference = pd.DataFrame({"amount": rng.normal(200.0, 20.0, 2800)})
    current = pd.DataFrame({
        "day": np.repeat(np.arange(days), 100),
        "amount": np.r_[rng.normal(200.0, 20.0, 2100), rng.normal(260.0, 20.0, 700)],  # last week 30% higher
    })
    profile = ReferenceProfile.fit(reference)
    weeks = (current["day"] // 7).map(lambda w: f"week {w + 1}")
    table = drift.drift_over_time(profile, None, current.drop(columns="day"), weeks)
    amount = table[table["column"] == "amount"].set_index("period")
    for week, rows in current.groupby(weeks):
        assert amount.loc[week, "mean_cur"] == pytest.approx(rows["amount"].mean(), rel=1e-9)
    assert amount["mean_ref"].eq(amount["mean_ref"].iloc[0]).all()
    assert amount.loc["week 1", "mean_ref"] == pytest.approx(reference["amount"].mean(), rel=1e-9)
    finding = next(f for f in drift.findings_from_over_time(table) if f.subject == "amount")
    assert finding.period == "week 4"
    mean_cur, mean_ref = amount.loc["week 4", "mean_cur"], amount.loc["week 4", "mean_ref"]
    assert finding.message.endswith(f"in that period mean {mean_cur:,.4g} against {mean_ref:,.4g} in the reference.")
    change = round(100 * (mean_cur - mean_ref) / mean_ref)
    assert plain_words(finding).startswith(f"amount about {change}% higher on average in the period week 4 than in")


def test_a_long_level_is_cut_in_the_sentence_and_kept_whole_in_the_table():
    from mlreport.drift._centre import centre_phrase  # the sentence builder behind findings_from_comparison

    level = "a very long channel label " * 4
    phrase = centre_phrase({"moved_level": level, "share_ref": 0.12, "share_cur": 0.041})
    assert phrase == f"share of {level[:29] + '…'!r} 4.1% against 12.0% in the reference"
    assert plain_words(Finding("feature_drift", "ch", "warning", f"ch: TVD 0.1 reached the warning band 0.1; {phrase}.",
                               value=0.1)).startswith("share of 'a very long")
