"""The methods a report names, each in one or two sentences for a reader who is not a statistician."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

__all__ = ["GLOSSARY", "glossary_terms", "glossary_html"]

#: Term -> plain explanation. The appendix keeps the formulas; this is what they mean.
GLOSSARY: dict[str, str] = {
    "PSI": "Population stability index: how much the share of rows in each range of a value moved between the "
           "reference and the current data. Under 0.1 is usually read as stable, 0.1 to 0.25 as a moderate shift, "
           "over 0.25 as a major one.",
    "KS D": "Kolmogorov-Smirnov distance: the largest gap between the share of reference rows and of current rows "
            "below any one value. A D of 0.09 means that at some value 9% more or fewer rows fall below it.",
    "BH": "Benjamini-Hochberg correction: when many columns are tested at once some look significant by chance; "
          "BH adjusts the p-values (shown as q or p_adj) so that few of the flagged columns are false alarms.",
    "p-value": "How surprising the data would be if nothing had changed. Small values (p < 0.001) mean the change is "
               "very unlikely to be chance; they do not say how big it is.",
    "TVD": "Total variation distance: the share of rows that would have to move to another range or category to make "
           "the two distributions equal (0 = identical, 1 = no overlap).",
    "JS": "Jensen-Shannon distance: a symmetric measure of how different two distributions are, from 0 (identical) "
          "to 1 (no overlap).",
    "Hellinger": "Hellinger distance: another 0-to-1 measure of how far apart two distributions are, sensitive to "
                 "changes in small categories.",
    "W1/std": "Wasserstein distance divided by the reference's standard deviation: how far, on average, values had "
              "to move, in units of the reference's usual spread (0.1 = a tenth of a standard deviation).",
    "Cramér's V": "A 0-to-1 measure of how strongly the decision mix depends on the window (or segment); around 0.05 "
                  "is a small effect even when the p-value is tiny.",
    "chi-square": "A test of whether the shares of categories (or decisions) differ between two windows more than "
                  "chance allows.",
    "AUC": "Area under the ROC curve: the chance that the model scores a random bad case above a random good one "
           "(0.5 = guessing, 1 = perfect). For the domain classifier it measures how well current rows can be told "
           "from reference rows.",
    "domain classifier": "A model trained to tell current rows from reference rows. If it cannot (AUC near 0.5) the "
                         "data has not changed as a whole; the columns it relies on are the ones that moved.",
    "Laney p′": "A control chart for a rate (such as the approval rate) per day, with limits widened for the normal "
                "day-to-day variation of large volumes, so that only unusual days are flagged.",
    "EWMA": "Exponentially weighted moving average chart: a smoothed rate that catches small shifts lasting "
            "several days, which a single day would not reveal.",
    "CUSUM": "Cumulative sum chart: adds up small deviations from the expected rate day after day and signals when "
             "the total gets too large, dating when a persistent shift began.",
    "pp": "Percentage points: the difference between two percentages (60% to 68% is +8 pp, or +13% in relative "
          "terms).",
    "HL p": "Hosmer-Lemeshow p-value: whether predicted probabilities match observed outcomes across score bands; a "
            "small value means the model is miscalibrated.",
    "calibration": "Whether predicted probabilities match what happens: of applicants given 10%, about 10% should "
                   "default.",
    "PELT": "A change-point method (pruned exact linear time): finds the days where a series shifts to a new level, "
            "used to date when a change began.",
    "quasi-Poisson": "The model of daily counts behind the volume baseline: expected counts from the same weekday of "
                     "previous weeks, with extra spread allowed for normal day-to-day noise.",
    "expected loss": "Probability of default times exposure, summed over approved loans: what the portfolio is "
                     "expected to lose. It falls when fewer loans are approved even if each is riskier.",
    "reverse stress": "Searches for the smallest change of one input that pushes a decision rate past its tolerance; "
                      "a small one means the model is fragile to that input.",
    "monotonicity": "Whether the score moves in the declared direction when one input changes (for example, higher "
                    "utilisation never lowering risk).",
}

_PATTERNS: dict[str, re.Pattern[str]] = {
    term: re.compile(r"(?<![A-Za-z])" + re.escape(term).replace(r"\ ", r"[\s_]") + r"(?![A-Za-z])", re.I)
    for term in GLOSSARY
}
_ALIASES = {"KS D": ("KS",), "Laney p′": ("Laney",), "p-value": ("p_adj", "p = ", "q = "), "Cramér's V": ("Cramer",),
            "W1/std": ("Wasserstein",), "BH": ("Benjamini",), "pp": (" pp",), "chi-square": ("chi2",),
            "JS": ("Jensen",), "PELT": ("ruptures",), "HL p": ("Hosmer",)}


def glossary_terms(texts: Iterable[str]) -> list[str]:
    """The glossary terms that ``texts`` (messages, methods, section text) use, in glossary order."""
    joined = "\n".join(texts)
    found = []
    for term, pattern in _PATTERNS.items():
        if pattern.search(joined) or any(alias.lower() in joined.lower() for alias in _ALIASES.get(term, ())):
            found.append(term)
    return found


def glossary_html(terms: Iterable[str] | None = None) -> str:
    """The glossary section (``terms`` only, or every term), escaped, as a definition list."""
    chosen = list(GLOSSARY) if terms is None else [t for t in GLOSSARY if t in set(terms)]
    if not chosen:
        return ""
    items = "".join(f"<dt>{html.escape(t)}</dt><dd>{html.escape(GLOSSARY[t])}</dd>" for t in chosen)
    return ('<section id="glossary" class="mlr-glossary"><h2>Glossary</h2>'
            "<p>The methods this report names, in plain words; the appendix gives their formulas and settings.</p>"
            f"<dl>{items}</dl></section>")
