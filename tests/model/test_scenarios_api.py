"""What viz should not have to run: the model-running helpers live in scenarios/sweep, and
scenarios.run does not write into a cached outcome (issue 15, item 4)."""

from kafkalab import scenarios
from kafkalab.model import simulate
from kafkalab.trace import RunResult


def test_commit_cost_throughput_is_measured_not_written_into_the_cached_outcome():
    r = scenarios.run("commit-cost", messages=60)
    assert set(r.measured["throughput_by_strategy"]) == set(scenarios.PRESETS["commit-cost"]
                                                           .strategies)
    assert r.outcome["throughput_by_strategy"] == r.measured["throughput_by_strategy"]
    assert "throughput_by_strategy" not in r.ledger.outcome()
    back = RunResult.from_json(r.to_json())
    assert back.outcome["throughput_by_strategy"] == r.outcome["throughput_by_strategy"]
    # a run without measurements exports exactly the keys it always had
    assert "measured" not in simulate({"messages": 2}, snapshots=False).to_dict()


def test_one_throughput_per_strategy_function():
    runs = scenarios.run_commit_strategies(messages=60)
    r = scenarios.run("commit-cost", messages=60)
    assert {k: v.outcome["throughput_per_s"] for k, v in runs.items()} == \
        r.outcome["throughput_by_strategy"]
    assert all(v.config["commit.strategy"] == k for k, v in runs.items())


def test_the_sink_role_is_named_in_one_place():
    assert simulate({"messages": 1, "pipeline": True}, snapshots=False).sink_role == "reader"
    assert simulate({"messages": 1}, snapshots=False).sink_role == "consumer"
