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


# -- durability (issue 18): the six presets by their exact names, and what each must show ------
DURABILITY = ("acks-0-fire-and-forget", "acks-1-leader-failover", "acks-all-min-isr",
              "acks-all-isr-shrunk", "unclean-leader-election", "not-enough-replicas")


def test_the_durability_presets_show_what_acks_buy():
    """Fact sheet F's table: acks=1 loses acknowledged records the new leader lacks; acks=all
    with min.insync.replicas=2 loses nothing under the same failure; acks=0 never knows."""
    assert set(DURABILITY) <= set(scenarios.PRESETS)
    o = {name: scenarios.run(name).outcome for name in DURABILITY}
    assert o["acks-0-fire-and-forget"]["lost"] > 0
    assert o["acks-0-fire-and-forget"]["lost_after_ack"] == 0  # nothing was acknowledged
    assert o["acks-1-leader-failover"]["lost_after_ack"] > 0
    assert o["acks-all-min-isr"]["lost_after_ack"] == o["acks-all-min-isr"]["lost"] == 0
    # the same crash in both: the records acks=1 lost were cut in the acks=all run too, but
    # never acknowledged, so the idempotent producer wrote them again
    assert o["acks-all-min-isr"]["truncated"] >= o["acks-1-leader-failover"]["lost_after_ack"]
    assert o["acks-all-isr-shrunk"]["lost_after_ack"] > 0
    assert scenarios.run("acks-all-isr-shrunk/min-isr-2").outcome["lost_after_ack"] == 0
    assert o["unclean-leader-election"]["lost_after_ack"] > 0
    assert scenarios.run("unclean-leader-election/clean-only").outcome["lost"] == 0
    assert o["not-enough-replicas"]["lost"] == 0 and o["not-enough-replicas"]["acked"] == 60
