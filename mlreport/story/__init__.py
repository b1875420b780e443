"""A run's story: its findings grouped into incidents, in plain words, with next steps.

An analysis reports checked facts (:class:`~mlreport.findings.Finding`), one
per check; a reader acts on incidents, one per root cause. This room turns the
first into the second: :func:`group_incidents` groups findings that share a
column or segment and an onset, links consequences to their cause and
reconciles one onset date; :func:`tell` puts the incidents into a
:class:`~mlreport.findings.Summary` and writes a headline that names them;
:func:`incidents_html` and :func:`glossary_html` are the report's key-findings
block and glossary; :func:`overview` shows the verdict and incidents at the top
of a notebook (:class:`StoryView`). The one table from check name to kind of incident and
next step is :data:`CHECK_KINDS` (unknown checks get :data:`DEFAULT_KIND`).
"""

from ._glossary import GLOSSARY, glossary_html, glossary_terms
from ._incidents import Evidence, Incident, group_incidents
from ._kinds import CHECK_KINDS, DEFAULT_KIND, KINDS, Kind, kind_of
from ._overview import HasSummary, StoryView, overview
from ._story import incident_headline, incidents_html, incidents_of, tell
from ._words import defaulted_value, plain_words, value_text

__all__ = [
    "CHECK_KINDS",
    "DEFAULT_KIND",
    "GLOSSARY",
    "KINDS",
    "Evidence",
    "HasSummary",
    "Incident",
    "Kind",
    "StoryView",
    "defaulted_value",
    "glossary_html",
    "glossary_terms",
    "group_incidents",
    "incident_headline",
    "incidents_html",
    "incidents_of",
    "kind_of",
    "overview",
    "plain_words",
    "tell",
    "value_text",
]
