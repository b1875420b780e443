"""A finding's statistic in plain words, and the sizes a reader counts in.

Each phrase is derived from what a finding carries (its check, value,
threshold and message); the statistic stays beside it in brackets so that an
expert can check it: "the approve rate moved +8.2 pp (Laney p′ chart)".
"""

from __future__ import annotations

import math
import re

from ..findings import Finding
from ..tables import format_change, format_count, format_pp

__all__ = ["plain_words", "defaulted_value", "per_day", "value_text"]

_EXACTLY = re.compile(r"exactly (\S+?)(?:\s|$)")
_PER = re.compile(r"expected about ([\d,.]+) per (day|hour|week|period)")
_KS = re.compile(r"KS D ([\d.]+)")
_AUC = re.compile(r"AUC ([\d.]+)")
_MEAN = re.compile(r"mean (-?[\d,]*\.?\d+(?:e[-+]?\d+)?) against (-?[\d,]*\.?\d+(?:e[-+]?\d+)?) in the reference")
_SHARE = re.compile(r"share of (.+?) ([\d.]+)% against ([\d.]+)% in the reference")
_STATISTIC = re.compile(r"(?:: |\()([^:;()]+?) (-?[\d.]+(?:e[-+]?\d+)?)(?: reached the| >= )")


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def defaulted_value(finding: Finding) -> str | None:
    """The placeholder value a sentinel finding names ("exactly 0" -> ``"0"``), if any."""
    match = _EXACTLY.search(finding.message)
    return match.group(1).rstrip(".,;") if match else None


def per_day(finding: Finding) -> tuple[str, str] | None:
    """``(count, unit)`` of the expected volume a volume finding names ("expected about 130 per day")."""
    match = _PER.search(finding.message)
    return (match.group(1), match.group(2)) if match else None


#: The unit of ``Finding.value`` per check, where it is not a bare statistic: percentage points of rows or of a
#: rate, a relative change (a fraction), or a percentage.
_UNITS: dict[str, str] = {
    "missing": "pp", "sentinel": "pp", "rate_laney": "pp", "rate_ewma": "pp", "rate_cusum": "pp",
    "stress_scenario": "pp", "volume_tail": "change", "segment_volume": "change", "segment_volume_large": "change",
    "out_of_range": "pct",
}


def value_text(value: float | None, check: str) -> str:
    """``Finding.value`` with its unit and sign: ``-32.5 pp``, ``-36%``, ``2.4%``; a bare statistic to 3 digits."""
    number = _number(value)
    if number is None:
        return "–"
    unit = _UNITS.get(check, "pp" if check.startswith("rate_") else "")
    if unit == "pp":
        return format_pp(number)
    if unit == "change":
        return format_change(number)
    if unit == "pct":
        return f"{number:.1f}%"
    if abs(number) >= 1000:
        return format_count(number)
    return f"{number:.3g}"


def _ks_words(d: float) -> str:
    share = d * 100
    size = "a small" if d < 0.1 else "a moderate" if d < 0.2 else "a large"
    return (f"{size} shift: at some value, {share:.0f}% more or fewer rows fall below it than in the reference "
            f"(KS D {d:.2f})")


def _statistic(finding: Finding) -> str:
    match = _STATISTIC.search(finding.message)
    if match:
        return f"{match.group(1)} {float(match.group(2)):.2g}"
    value = _number(finding.value)
    return f"statistic {value:.3g}" if value is not None else ""


def _centre_words(finding: Finding) -> str:
    """Where the centre moved in the data's units, from the phrase drift's findings carry; ``""`` without one.

    "income about 15% higher on average than in the reference (mean 41,200 against 35,800; KS D 0.09)";
    "share of 'broker' 12.0% -> 4.1% (TVD 0.1)".
    """
    statistic = _statistic(finding)
    mean = _MEAN.search(finding.message)
    if mean:
        current, reference = (float(g.replace(",", "")) for g in mean.groups())
        numbers = f"mean {mean.group(1)} against {mean.group(2)}; {statistic}"
        if reference == 0 or current * reference < 0 or not math.isfinite(current / reference):
            return f"{finding.subject}: the average moved ({numbers})"
        change = (current - reference) / abs(reference)
        if abs(change) < 0.005:
            return f"{finding.subject} about the same on average, its shape moved ({numbers})"
        size = f"{abs(change):.0%}" if abs(change) < 10 else f"{current / reference:.0f} times"
        direction = "higher" if change > 0 else "lower"
        when = f" in the period {finding.period}" if finding.check == "drift_over_time" and finding.period else ""
        return f"{finding.subject} about {size} {direction} on average{when} than in the reference ({numbers})"
    share = _SHARE.search(finding.message)
    if share:
        level, current_share, reference_share = share.groups()
        return f"share of {level} {reference_share}% -> {current_share}% ({statistic})"
    return ""


def plain_words(finding: Finding) -> str:
    """What the finding's statistic means for a reader, with the statistic in brackets; ``""`` when unknown."""
    value = _number(finding.value)
    check = finding.check
    subject = finding.subject
    if value is None:
        return ""
    if check == "missing":
        return (f"{format_pp(value)} of rows without a value compared with the reference, over the whole "
                "current window")
    if check == "sentinel":
        placeholder = defaulted_value(finding) or "one value"
        return (f"{format_pp(value)} of rows set to exactly {placeholder} compared with the reference, over "
                "the whole current window")
    if check == "out_of_range":
        return f"{value:.1f}% of current rows outside the range seen in the reference"
    if check in ("feature_drift", "drift_over_time", "segment_drift"):
        centre = _centre_words(finding)
        if centre:
            return centre
        match = _KS.search(finding.message)
        if match:
            return _ks_words(float(match.group(1)))
        return f"a shift in the distribution of {subject} (statistic {value:.3g})"
    if check == "domain_classifier":
        closeness = "only slightly better than chance" if value < 0.65 else "clearly"
        return (f"a classifier tells current rows from reference rows {closeness} (AUC {value:.3f}; 0.5 means "
                "indistinguishable, 1 perfectly separable)")
    if check.startswith("rate_") or check == "rates":
        decision = subject.split("=", 1)[-1]
        direction = "up" if value > 0 else "down"
        return f"the {decision} rate is {direction} {format_pp(abs(value))[:-3]} percentage points ({format_pp(value)})"
    if check in ("volume_tail", "segment_volume", "segment_volume_large"):
        fewer = "fewer" if value < 0 else "more"
        return f"{format_change(abs(value))[1:]} {fewer} decisions than the seasonal baseline expects"
    if check == "volume_zero":
        expected = per_day(finding)
        return (f"no decisions where about {expected[0]} per {expected[1]} were expected"
                if expected else "no decisions where the baseline expects some")
    if check.startswith(("mix_change", "segment_mix", "score_mix")):
        return (f"the shares of each decision moved by a {'small' if value < 0.1 else 'large'} amount "
                f"(PSI {value:.3f}; under 0.1 is usually read as stable)")
    if check == "stress_scenario":
        return f"a decision rate moves by {abs(value):.1f} percentage points under this scenario"
    if check == "reverse_stress":
        return f"a shock of only {value:g} to one input breaks the tolerance (smaller is more fragile)"
    if check == "monotonicity":
        return f"{value * 100:.0f}% of sampled applicants see the score move against the declared direction"
    if check == "auc_drop":
        return f"the model separates good from bad outcomes less well than in the reference (AUC change {value:+.3f})"
    if check in ("rows", "rows_per_period"):
        return f"{format_count(value)} rows"
    return ""
