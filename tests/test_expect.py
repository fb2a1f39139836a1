"""One expectation language for presets and real workloads (issue 15, item 4)."""

import pytest

from kafkalab import real, scenarios
from kafkalab.expect import check

OUTCOME = {"sent": 10, "lost": 0, "duplicates": 3, "resumed_from": None}
CASES = [{"lost": 0}, {"lost": 1}, {"duplicates": ">0"}, {"duplicates": "==sent"},
         {"duplicates": "<=sent", "lost": ">=0"}, {"lost": "<0"}, {"resumed_from": None},
         {"resumed_from": ">0"}, {"lost": "about 0"}, {"missing": 0}]


@pytest.mark.parametrize("expect", CASES)
def test_presets_and_real_workloads_read_expectations_alike(expect):
    got = check(OUTCOME, expect)
    assert (got == []) == (real.check_expectations(OUTCOME, expect) == [])
    assert scenarios.check_expectation(OUTCOME, expect) == got


def test_a_failed_expectation_names_the_key_the_value_and_the_expectation():
    assert check(OUTCOME, {"duplicates": 0}) == ["duplicates=3, expected 0"]
    assert check(OUTCOME, {"lost": ">0"}) == ["lost=0, expected >0"]
