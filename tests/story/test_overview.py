"""The verdict and incidents shown at the top of a notebook (story.overview)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlreport.findings import Finding, summarize
from mlreport.story import StoryView, overview, tell

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def findings() -> list[Finding]:
    return [
        Finding("missing", "bureau", "incident", "bureau: 26.0% of rows are null since 2026-03-11", value=9.5,
                period="2026-03-11"),
        Finding("feature_drift", "salary", "warning", "salary: KS D 0.0908 reached the warning band", value=0.0908),
        Finding("feature_drift", "age", "ok", "age: no band reached", value=0.01),
    ]


def test_overview_shows_the_told_status_headline_and_every_incident_worst_first():
    summary = summarize("drift", findings())
    view = overview(summary)
    told = tell(summary)
    assert isinstance(view, StoryView)
    assert (view.status, view.headline) == (told.status, told.headline) == ("incident", told.headline)
    assert [i["where"] for i in view.incidents] == ["bureau", "salary"]
    page = view._repr_html_()
    assert "INCIDENT" in page and "2 incidents, worst first" in page
    assert page.index("bureau") < page.index("salary")
    assert "Next step" in page
    text = repr(view)
    assert text.splitlines()[0].startswith("INCIDENT: ") and "- WARNING salary" in text


def test_a_healthy_run_says_so_and_values_are_escaped():
    healthy = overview(summarize("drift", [Finding("feature_drift", "age", "ok", "fine", value=0.01)]))
    assert healthy.status == "ok" and "HEALTHY" in healthy._repr_html_()
    assert "No check reached a warning." in healthy._repr_html_()
    hostile = overview(summarize("drift", [Finding("missing", "<script>x</script>", "incident",
                                                   "<script>x</script>: 30% null", value=30.0)]))
    page = hostile._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize("name", ["drift", "volume", "stress"])
def test_each_notebook_shows_the_verdict_right_after_the_analysis_call_hidden_in_the_report(name: str):
    cells = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    sources = ["".join(c["source"]) for c in code]
    call = next(i for i, s in enumerate(sources) if f"{name}.analyse(" in s)
    assert "overview(result)" in sources[call + 1]
    assert "mlreport-hide" in code[call + 1]["metadata"].get("tags", [])
    assert sources[-1].startswith("publish(")  # the published summary stays the last cell



class Failing:
    """An analysis result whose summary cannot be computed (a bad scenario file, say)."""

    @property
    def summary(self):
        raise ValueError("unknown shock type 'explode'")


class Working:
    def __init__(self) -> None:
        self.summary = summarize("drift", findings())


def test_a_result_whose_summary_raises_shows_why_and_leaves_the_raising_to_its_section():
    view = overview(Failing())
    assert view.pending and "ValueError: unknown shock type 'explode'" in view.pending
    assert "No verdict yet." in view._repr_html_() and "&#x27;explode&#x27;" in view._repr_html_()
    assert repr(overview(Working())).startswith("INCIDENT: ")
