"""The sweep places membership changes: scale out, scale in, a graceful restart (issue 17).

Facts: /work/shared/reference/kafka-semantics.md §G: eager rebalancing commits (Java auto-commit
in ``onJoinPrepare``) and revokes everything before it rejoins, so a scale-out hands partitions
over at the consumed position; cooperative-sticky revokes the moved partition after the first
rebalance without that commit, so what its owner processed since its last commit runs again.
"""

from __future__ import annotations

from kafkalab.model import simulate
from kafkalab.model.faults import FAULT_KINDS
from kafkalab.sweep import KINDS, kind_name, shortest_counterexample, sweep
from kafkalab.sweep._space import MEMBER_FAULTS, MEMBER_MOMENTS, member_moments, plan_label
from kafkalab.sweep.cli import GROUP_WORKLOAD

MEMBERS = ("member_join", "member_leave", "member_restart")
# heartbeats every 100 ms: a member hears of the rebalance while records still flow
GROUP = dict(GROUP_WORKLOAD)


def test_the_member_faults_are_sweep_kinds_in_the_models_words():
    assert MEMBER_FAULTS == MEMBERS
    for t in MEMBERS:
        assert t in FAULT_KINDS and KINDS[t] == t and kind_name(t) == t


def test_placements_at_four_moments_for_each_member():
    result = sweep("eager-vs-cooperative", faults=MEMBERS, overrides=GROUP, processes=1)
    rows = result.rows(depth=1)
    by_type: dict[str, list[dict]] = {}
    for row in rows:
        (f,) = row["faults"]
        by_type.setdefault(f["type"], []).append(f)
    moments = len(MEMBER_MOMENTS)
    assert len(by_type["member_join"]) == moments
    # two members: each leaves and restarts at each moment
    assert len(by_type["member_leave"]) == 2 * moments
    assert len(by_type["member_restart"]) == 2 * moments
    assert result.space[1] == 5 * moments == 20
    # the moments are read off the fault-free run: just after records it processed
    base = simulate({**result_config("eager-vs-cooperative"), **GROUP}, [], 0, snapshots=False)
    assert sorted({f["at_ms"] for f in by_type["member_join"]}) == member_moments(base.events)
    assert all(r["drained"] for r in rows)
    assert "member joins at" in plan_label([by_type["member_join"][0]])
    text = result.format_text()
    assert "member joins" in text and "member leaves" in text and "member restarts" in text


def result_config(name):
    from kafkalab import scenarios
    return dict(scenarios.get(name).config)


def test_no_leave_for_the_last_member():
    result = sweep("at-least-once-manual-commit", faults=MEMBERS, overrides={"messages": 6},
                   processes=1)
    types = [r["faults"][0]["type"] for r in result.rows(depth=1)]
    assert "member_leave" not in types
    assert types.count("member_join") == types.count("member_restart") >= 2


def test_eager_scale_out_duplicates_nothing_cooperative_does():
    eager = sweep("eager-vs-cooperative", faults=("member_join",), overrides=GROUP,
                  processes=1)
    assert eager.counterexamples["no_duplicates"] is None
    assert eager.counterexamples["no_loss"] is None
    cx = shortest_counterexample("eager-vs-cooperative/cooperative", "no_duplicates", depth=1,
                                 faults=("member_join",), overrides=GROUP, processes=1)
    assert cx is not None and cx["schedule"][0]["type"] == "member_join"
    assert cx["outcome"]["lost"] == 0 and cx["outcome"]["duplicates"] > 0


def test_member_faults_pair_with_crashes_at_depth_two():
    result = sweep("rebalance-duplicates/per-batch", depth=2,
                   faults=("crash", "member_join"), overrides={"messages": 4}, processes=1)
    pairs = result.rows(depth=2)
    assert any({f["type"] for f in r["faults"]} == {"consumer_crash", "member_join"}
               for r in pairs)
    assert result.counterexamples["no_loss"] is None
