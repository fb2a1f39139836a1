"""The consumer-group checks (exercise 03b): their fault plans and what they read off a run.

Facts: /work/shared/reference/kafka-semantics.md §G (eager: every member revokes all its
partitions before rejoining; cooperative-sticky keeps owned partitions and revokes only the ones
that move; max.poll.interval.ms exceeded: the member leaves the group).
"""

from __future__ import annotations

from kafkalab import scenarios
from kafkalab.checks import QUESTIONS, check_rebalance_predictions
from kafkalab.checks.groups import group_plans, scale_plans, stopped_partitions
from kafkalab.model.config import resolve


def test_the_group_plans_are_many_not_one_lucky_workload():
    effective = resolve({"max.poll.interval.ms": 4000})
    plans = group_plans(effective)
    types = [p[0]["type"] for p in plans]
    crashes = [p[0] for p in plans if p[0]["type"] == "consumer_crash"]
    assert {c["member"] for c in crashes} == {0, 1}
    assert {c["point"] for c in crashes} == {"time", "after_poll", "after_processing",
                                             "before_commit"}
    assert len(crashes) == 12
    assert types.count("member_join") == 3 and "member_leave" in types \
        and "member_restart" in types
    slow = next(p[0] for p in plans if p[0]["type"] == "slow_processing")
    assert slow["extra_ms"] > effective["max.poll.interval.ms"]  # always exceeded
    # on a backlog the same plans move with the group's late start
    later = group_plans(effective, start=1500)
    assert [p[0].get("at_ms", 0) - q[0].get("at_ms", 0) for p, q in zip(later, plans,
                                                                          strict=True)
            if "at_ms" in p[0]] == [1500] * sum("at_ms" in p[0] for p in plans)
    assert len(scale_plans()) == 5


def test_eager_stops_partitions_a_member_keeps_cooperative_does_not():
    eager = scenarios.run("eager-vs-cooperative", snapshots=False)
    stop = stopped_partitions(eager)
    assert stop is not None
    member, kept, revoked_at, back_at = stop
    assert member.startswith("consumer-") and kept and back_at > revoked_at
    assert stopped_partitions(scenarios.run("eager-vs-cooperative/cooperative",
                                            snapshots=False)) is None


def test_predictions_name_a_missing_or_unknown_question():
    assert not check_rebalance_predictions(...).done
    some = dict.fromkeys(QUESTIONS, False)
    first = next(iter(QUESTIONS))
    del some[first]
    result = check_rebalance_predictions(some)
    assert result.status == "fail" and first in result.summary
    result = check_rebalance_predictions({**dict.fromkeys(QUESTIONS, False), "typo": True})
    assert result.status == "fail" and "'typo' is not one of the questions" in result.summary
    assert check_rebalance_predictions([True]).status == "fail"
