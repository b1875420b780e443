"""Every check name the analyses emit today maps to a kind of incident."""

from __future__ import annotations

import re
from pathlib import Path

import mlreport
from mlreport.story import CHECK_KINDS, DEFAULT_KIND, GLOSSARY, glossary_html, glossary_terms, kind_of

PACKAGE = Path(mlreport.__file__).parent

# The ways a check name is written in the analyses: Finding("name", ...), check="name", a rule table's keys,
# and rate_{group} for the decision-rate charts.
_PATTERNS = (
    re.compile(r"Finding\(\s*\"([a-z_]+)\""),
    re.compile(r"check=\"([a-z_]+)\""),
    re.compile(r"^    \"([a-z_]+)\": \"(?:incident|warning|ok)\",$", re.M),
)
_RATE_GROUPS = ("laney", "ewma", "cusum")


def emitted_checks() -> set[str]:
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if "story" in path.parts:
            continue
        text = path.read_text()
        for pattern in _PATTERNS:
            names.update(pattern.findall(text))
        if 'check=f"rate_{group}"' in text:
            names.update(f"rate_{g}" for g in _RATE_GROUPS)
    return names


def test_every_emitted_check_is_mapped():
    names = emitted_checks()
    assert {"missing", "sentinel", "volume_zero", "rate_laney", "stress_scenario", "domain_classifier"} <= names
    unmapped = sorted(n for n in names if kind_of(n) is DEFAULT_KIND)
    assert unmapped == [], f"add these checks to mlreport/story/_kinds.py CHECK_KINDS: {unmapped}"


def test_the_table_maps_to_known_kinds_and_unknown_checks_get_the_default():
    assert all(kind_of(check).name == name for check, name in CHECK_KINDS.items())
    assert kind_of("never_heard_of") is DEFAULT_KIND
    assert kind_of("rate_something_new").family == "rate"


def test_glossary_terms_are_found_in_what_a_report_says():
    texts = ["util: KS D 0.151 (KS p_adj 1.6e-120, BH); PSI 0.0835", "Laney p′ chart", "Cramér's V 0.053"]
    assert glossary_terms(texts) == ["PSI", "KS D", "BH", "p-value", "Cramér's V", "Laney p′"]
    block = glossary_html(["PSI"])
    assert block.startswith('<section id="glossary"') and "Population stability index" in block
    assert "KS D" not in block and glossary_html([]) == ""
    for term in ("PSI", "KS D", "BH", "TVD", "JS", "W1/std", "Cramér's V", "Laney p′", "EWMA", "CUSUM", "HL p",
                 "PELT"):
        assert 40 < len(GLOSSARY[term]) < 400, term


def test_values_carry_their_unit_and_sign():
    from mlreport.story import value_text

    assert value_text(9.5242, "missing") == "+9.5 pp"
    assert value_text(-7.7938, "rate_laney") == "-7.8 pp" and value_text(-7.7938, "rate_new_chart") == "-7.8 pp"
    assert value_text(-0.3643, "volume_tail") == "-36%" and value_text(2.4, "out_of_range") == "2.4%"
    assert value_text(0.151293, "drift_over_time") == "0.151" and value_text(25000.0, "rows") == "25,000"
    assert value_text(None, "missing") == "–" and value_text(float("nan"), "x") == "–"
