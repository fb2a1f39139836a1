import pytest

from kafkalab import scenarios

CASES = [name for name, s in scenarios.PRESETS.items()] + [
    f"{name}/{v}" for name, s in scenarios.PRESETS.items() for v in s.variants]


@pytest.mark.parametrize("name", CASES)
def test_preset_meets_its_expected_outcome(name):
    result = scenarios.run(name)
    expect = scenarios.get(name).expect
    assert expect, f"{name} states no expectation"
    assert scenarios.check_expectation(result.outcome, expect) == []
    assert result.drained


@pytest.mark.parametrize("name", CASES)
def test_ledger_agrees_with_the_models_live_counters(name):
    result = scenarios.run(name)
    live = result.live_counters
    assert result.outcome["processed"] == live["processed"]
    assert result.outcome["delivered"] == live["delivered"]


def test_commit_cost_reports_throughput_by_strategy():
    o = scenarios.run("commit-cost").outcome
    t = o["throughput_by_strategy"]
    assert set(t) == {"auto", "async-per-batch", "per-batch", "per-record"}
    assert t["per-record"] * 5 < t["per-batch"] <= t["async-per-batch"]


def test_unknown_scenario_and_variant_are_clear():
    with pytest.raises(Exception, match="did you mean 'commit-cost'"):
        scenarios.get("commit-costs")
    with pytest.raises(Exception, match="has no variant"):
        scenarios.get("commit-cost/nope")
