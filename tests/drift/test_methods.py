"""Drift method strings: a finding's method leads with the metric that set its verdict."""

from __future__ import annotations


def test_a_finding_states_the_method_of_the_metric_that_set_its_verdict_first():
    from mlreport.drift import methods
    from mlreport.drift._methods import _method_line

    method_map = methods()
    assert _method_line(method_map, "ks").startswith("KS D: " + method_map["ks"])
    assert _method_line(method_map, "tvd").startswith("TVD: " + method_map["tvd"])
    assert _method_line(method_map, "psi").startswith(method_map["psi"])  # PSI leads anyway
    assert _method_line(method_map, "").startswith(method_map["psi"])
