"""The topology figure with replication (issue 18) and a consumer group (issue 17): the
leader, the ISR and the owners it draws at a step are the trace's."""

from __future__ import annotations

from kafkalab import scenarios
from kafkalab.viz import topology
from kafkalab.viz.topology import broker_positions, build_graph, layout_positions


def _trace(fig, name):
    matches = [t for t in fig.data if t.name == name]
    assert matches, f"no trace {name!r} in {[t.name for t in fig.data]}"
    return matches[0]


LEADER = "replica: leader (★, with its leader epoch)"
ISR = "replica: follower in sync (ISR)"
OUT = "replica: follower out of sync (not in the ISR)"
DEAD = "replica on a crashed broker"


def _roles(fig):
    return {name: sorted(c[2] for c in (_trace(fig, name).customdata or []))
            for name in (LEADER, ISR, OUT, DEAD)}


def test_leader_moves_to_the_new_broker_after_the_failover():
    r = scenarios.run("acks-1-leader-failover")
    crash = next(e for e in r.events if e.kind == "broker_crash")
    elected = next(e for e in r.events if e.kind == "leader_elected")
    before = topology(r, crash.index - 1)
    assert _roles(before) == {LEADER: [0], ISR: [1, 2], OUT: [], DEAD: []}
    at_crash = topology(r, crash.index)
    # broker 0 crashed: its replica and the broker itself are drawn as crashed
    assert _roles(at_crash)[DEAD] == [0]
    assert list(_trace(at_crash, "broker crashed ✗").text) == ["broker-0 ✗"]
    after = topology(r, elected.index)
    leader = _trace(after, LEADER)
    assert [c[2] for c in leader.customdata] == [elected.data["leader"]] == [1]
    assert list(leader.text) == ["epoch 1"]
    # the leader's marker sits on the line to broker 1, nearer broker 1 than any other broker
    pos = layout_positions(build_graph(r))
    bpos = broker_positions(r, pos)
    x = leader.x[0]
    assert min(bpos, key=lambda b: abs(bpos[b][0] - x)) == 1
    assert after.layout.meta["replicas"]["input p0"]["leader"] == 1


def test_isr_shrinks_to_the_leader_and_the_unclean_leader():
    r = scenarios.run("unclean-leader-election")
    shrunk = [e for e in r.events if e.kind == "isr_shrink"][-1]
    fig = topology(r, shrunk.index)
    assert _roles(fig) == {LEADER: [0], ISR: [], OUT: [1, 2], DEAD: []}
    assert fig.layout.meta["replicas"]["input p0"]["isr"] == shrunk.data["isr"] == [0]
    elected = next(e for e in r.events if e.kind == "leader_elected")
    assert elected.data["unclean"]
    fig = topology(r, elected.index)
    roles = _roles(fig)
    assert roles[LEADER] == [1] and roles[DEAD] == [0] and roles[OUT] == [2]


def test_not_enough_replicas_then_the_followers_return():
    r = scenarios.run("not-enough-replicas")
    under = next(e for e in r.events if e.kind == "isr_shrink" and e.data["under_min_isr"])
    assert _roles(topology(r, under.index))[OUT] == [1, 2]
    back = [e for e in r.events if e.kind == "isr_expand"][-1]
    assert _roles(topology(r, back.index)) == {LEADER: [0], ISR: [1, 2], OUT: [], DEAD: []}


def _labels(fig):
    out = {}
    for t in fig.data:
        if t.mode == "markers+text" and t.text:
            for label in t.text:
                out[label.split(" ")[0]] = label
    return out


def test_group_owners_and_the_rebalance_after_a_crash():
    r = scenarios.run("rebalance-duplicates")
    crash = next(e for e in r.events if e.kind == "crash")
    fig = topology(r, crash.index)
    meta = fig.layout.meta["group"]
    assert meta["owners"] == {"0": "consumer-0", "1": "consumer-1"} and meta["generation"] == 2
    assert _labels(fig)["consumer-0"] == "consumer-0 ✗ · owns p0 · gen 2"
    assert list(_trace(fig, "rebalance in progress (dashed box: its phase above it)").x) == []
    begin = next(e for e in r.events if e.kind == "rebalance_begin" and e.index > crash.index)
    fig = topology(r, begin.index + 1)
    assert fig.layout.meta["group"]["rebalance"]["phase"] == "join"
    assert len(_trace(fig, "rebalance in progress (dashed box: its phase above it)").x) == 5
    assert "join phase (generation 2 → 3)" in _trace(fig, "rebalance phase").text[0]
    left = next(e for e in r.events if e.kind == "left_group")
    assert "consumer-0" not in topology(r, left.index).layout.meta["group"]["in_group"]
    done = next(e for e in r.events if e.kind == "rebalance" and e.actor == "consumer-1")
    fig = topology(r, done.index)
    assert fig.layout.meta["group"]["rebalance"] is None
    assert fig.layout.meta["group"]["owners"] == {"0": "consumer-0", "1": "consumer-1"}
    assert _labels(fig)["consumer-1"] == "consumer-1 · owns p1 · gen 3"


def test_eager_scale_out_revokes_everything_then_moves_one_partition():
    r = scenarios.run("eager-vs-cooperative")
    revoke = next(e for e in r.events if e.kind == "revoke")
    fig = topology(r, revoke.index)
    owners = fig.layout.meta["group"]["owners"]
    assert revoke.actor == "consumer-1" and "2" not in owners and "3" not in owners
    assert _labels(fig)["consumer-1"] == "consumer-1 · owns nothing · gen 2"
    assert _labels(fig)["consumer-2"] == "consumer-2 · joining"
    assert list(_trace(fig, "member out of the group (removed, or not in it yet)").text) == \
        ["consumer-2 · joining"]
    synced = next(e for e in r.events if e.kind == "join" and e.actor == "consumer-2")
    owners = topology(r, synced.index).layout.meta["group"]["owners"]
    assert owners["3"] == "consumer-2"


def test_single_replica_single_consumer_runs_have_no_broker_or_group_layer():
    r = scenarios.run("at-most-once-auto-commit")
    fig = topology(r)
    names = {t.name for t in fig.data}
    assert not names & {LEADER, "broker (running)", "rebalance phase"}
    assert "replicas" not in fig.layout.meta and "group" not in fig.layout.meta


def test_a_member_kicked_out_by_max_poll_interval_is_drawn_out_of_the_group():
    r = scenarios.run("max-poll-interval-exceeded")
    left = next(e for e in r.events if e.kind == "left_group")
    taken = next(e for e in r.events if e.kind == "rebalance" and e.index > left.index)
    fig = topology(r, taken.index)
    meta = fig.layout.meta["group"]
    assert left.data["reason"] == "max.poll.interval.ms" and left.data["member"] == "consumer-0"
    assert meta["in_group"] == ["consumer-1"]
    assert meta["owners"] == {"0": "consumer-1", "1": "consumer-1"}
    assert r.snapshots[taken.index]["members"]["consumer-0"]["alive"]  # still running: a zombie
    out = _trace(fig, "member out of the group (removed, or not in it yet)")
    assert list(out.text) == ["consumer-0 · out of the group"]
    assert _labels(fig)["consumer-1"] == "consumer-1 · owns p0, p1 · gen 3"
