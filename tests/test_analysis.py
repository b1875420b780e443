"""The shape every analysis shares: parameters in, a result out, sections computed on first use."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

import pandas as pd
import pytest
from matplotlib.figure import Figure

from mlreport.analysis import AnalysisParameters, AnalysisResult, Sections
from mlreport.errors import ParameterError
from mlreport.findings import Finding, Summary, summarize
from mlreport.tables import Table, table


def _counting_sections(names: list[str]) -> tuple[Sections[str], dict[str, int]]:
    """Sections whose makers count their calls."""
    calls = dict.fromkeys(names, 0)

    def maker(name: str):
        def make() -> str:
            calls[name] += 1
            return f"<{name}>"

        return make

    return Sections({name: maker(name) for name in names}, kind="table"), calls


def test_sections_compute_nothing_until_an_item_is_read():
    sections, calls = _counting_sections(["feature_drift", "psi_heatmap"])
    assert calls == {"feature_drift": 0, "psi_heatmap": 0}
    assert sections["psi_heatmap"] == "<psi_heatmap>"
    assert calls == {"feature_drift": 0, "psi_heatmap": 1}


def test_sections_compute_each_item_once():
    sections, calls = _counting_sections(["feature_drift"])
    first = sections["feature_drift"]
    assert sections["feature_drift"] is first
    assert sections.get("feature_drift") is first
    assert calls == {"feature_drift": 1}


def test_sections_list_their_names_without_computing():
    sections, calls = _counting_sections(["b", "a", "c"])
    assert list(sections) == ["b", "a", "c"]  # the order the analysis gave
    assert len(sections) == 3
    assert "a" in sections and "z" not in sections
    assert list(sections.keys()) == ["b", "a", "c"]
    assert calls == {"b": 0, "a": 0, "c": 0}


def test_a_missing_section_names_the_available_ones():
    sections, calls = _counting_sections(["feature_drift", "volume"])
    with pytest.raises(KeyError, match=r"no table 'psi'; the tables are feature_drift, volume"):
        sections["psi"]
    assert sections.get("psi") is None
    assert calls == {"feature_drift": 0, "volume": 0}


def test_a_failing_section_is_not_kept_and_fails_again_where_it_is_read():
    attempts = []

    def broken() -> str:
        attempts.append(1)
        raise ValueError("no data for this section")

    sections = Sections({"broken": broken, "fine": lambda: "ok"})
    with pytest.raises(ValueError, match="no data"):
        sections["broken"]
    with pytest.raises(ValueError, match="no data"):
        sections["broken"]
    assert len(attempts) == 2
    assert sections["fine"] == "ok"


def test_sections_copy_their_makers():
    makers = {"a": lambda: 1}
    sections = Sections(makers)
    makers["b"] = lambda: 2
    assert list(sections) == ["a"]


@dataclass(frozen=True)
class _Parameters(AnalysisParameters):
    current_path: str = ""
    period: str = "W"
    psi_bins: int = 10

    def __post_init__(self) -> None:
        if self.psi_bins < 2:
            raise ParameterError(f"psi_bins must be >= 2, got {self.psi_bins}", name="psi_bins")


def test_from_namespace_takes_the_declared_names_and_ignores_the_rest():
    namespace = {"period": "D", "psi_bins": 5, "pd": object(), "__name__": "__main__", "In": []}
    parameters = _Parameters.from_namespace(namespace)
    assert type(parameters) is _Parameters
    assert parameters == _Parameters(current_path="", period="D", psi_bins=5)


def test_from_namespace_keeps_defaults_for_names_not_found():
    assert _Parameters.from_namespace({}) == _Parameters()


def test_from_namespace_checks_values_like_the_constructor():
    with pytest.raises(ParameterError, match="psi_bins must be >= 2") as info:
        _Parameters.from_namespace({"psi_bins": 1})
    assert info.value.name == "psi_bins"


def test_parameters_are_frozen_and_give_their_values_as_a_dict():
    parameters = _Parameters(period="M")
    assert parameters.to_dict() == {"current_path": "", "period": "M", "psi_bins": 10}
    with pytest.raises(FrozenInstanceError):
        parameters.period = "D"


def test_an_analysis_result_without_its_members_cannot_be_made():
    class Incomplete(AnalysisResult):
        @property
        def findings(self) -> list[Finding]:
            return []

    with pytest.raises(TypeError, match="abstract"):
        AnalysisResult()
    with pytest.raises(TypeError, match="abstract") as info:
        Incomplete()
    missing = str(info.value)
    assert "figures" in missing and "summary" in missing and "tables" in missing
    assert "findings" not in missing.split("abstract", 1)[1]


def test_a_complete_analysis_result_gives_all_four_members():
    class Complete(AnalysisResult):
        analysis = "example"

        @property
        def findings(self) -> list[Finding]:
            return [Finding("check", "x", "warning", "x moved")]

        @property
        def summary(self) -> Summary:
            return summarize(self.analysis, self.findings)

        @property
        def tables(self) -> Sections[Table]:
            return Sections({"findings": lambda: table(pd.DataFrame({"x": [1]}))}, kind="table")

        @property
        def figures(self) -> Sections[Figure]:
            return Sections({}, kind="figure")

    result = Complete()
    assert result.summary.status == "warning" and result.summary.analysis == "example"
    assert result.tables["findings"].total == 1 and list(result.figures) == []
