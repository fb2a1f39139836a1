"""Consumer groups and rebalances (issue 17): each behaviour against fact sheet section G
(../shared/reference/kafka-semantics.md) or the client source it names."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkalab import scenarios
from kafkalab.model import ConfigError, simulate
from kafkalab.model.config import resolve
from kafkalab.model.faults import FAULT_KINDS, FaultError, check_against, describe, normalise
from kafkalab.model.group import GroupCoordinator, assign

STREAM = {"messages": 300, "partitions": 2, "consumers": 2, "producer.send.interval.ms": 1,
          "linger.ms": 0, "auto.offset.reset": "earliest", "processing.ms": 1,
          "max.poll.records": 20}


def kinds(r, kind):
    return [e for e in r.events if e.kind == kind]


# -- the invariant: no partition has two owners in one generation --------------------------
def owners_by_generation(r):
    """Replay the members' own view (join / restart / rebalance take an assignment, revoke
    and crash / close / left_group give it up): raise on two owners in one generation."""
    held: dict[str, tuple[int, set[int]]] = {}  # member -> (generation, partitions)
    for e in r.events:
        d, who = e.data, e.actor
        if e.kind in ("join", "restart", "rebalance") and who.startswith("consumer"):
            mine = set(d["assignment"])
            for other, (gen, parts) in held.items():
                if other != who and gen == d["generation"] and parts & mine:
                    raise AssertionError(f"t={e.t}: {who} and {other} both own "
                                         f"{sorted(parts & mine)} in generation {gen}")
            held[who] = (d["generation"], mine)
        elif e.kind == "revoke" and who in held:
            gen, parts = held[who]
            held[who] = (gen, parts - set(d["partitions"]))
        elif e.kind in ("crash", "close") and who in held:
            del held[who]
        elif e.kind == "left_group" and who.startswith("consumer") and who in held:
            del held[who]  # it left (max.poll.interval.ms): whatever it still does is a zombie


group_plans = st.fixed_dictionaries({
    "consumers": st.integers(1, 3),
    "partitions": st.integers(1, 4),
    "strategy": st.sampled_from(["range", "roundrobin", "sticky", "cooperative-sticky"]),
    "static": st.booleans(),
    "commit": st.sampled_from(["auto", "per-batch", "async-per-batch"]),
    "revoke": st.booleans(),
    "events": st.lists(st.tuples(st.sampled_from(["crash", "member_join", "member_leave",
                                                  "member_restart"]),
                                 st.integers(0, 2), st.integers(1, 60)), max_size=4),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(group_plans, st.integers(0, 3))
def test_no_partition_ever_has_two_owners_in_one_generation(plan, seed):
    """Fact sheet G (Classic, Cooperative: "an owned partition is never given to another
    member in the same round"): over random group plans of crashes, joins, leaves and
    restarts, with every assignor, static or dynamic members."""
    n = plan["consumers"]
    cfg = {**STREAM, "messages": 120, "consumers": n, "partitions": plan["partitions"],
           "partition.assignment.strategy": plan["strategy"],
           "commit.strategy": plan["commit"], "enable.auto.commit": plan["commit"] == "auto",
           "commit.on.revoke": plan["revoke"], "session.timeout.ms": 6000,
           "heartbeat.interval.ms": 1000, "restart.delay.ms": 50}
    if plan["static"]:
        cfg["group.instance.id"] = "app"
    faults = []
    joins = 0
    for kind, member, at in plan["events"]:
        at_ms = float(at * 5)
        if kind == "member_join":
            faults.append({"type": "member_join", "at_ms": at_ms})
            joins += 1
        elif kind == "crash":
            faults.append({"type": "consumer_crash", "point": "time", "at_ms": at_ms,
                           "member": member % n})
        else:
            faults.append({"type": kind, "member": member % n, "at_ms": at_ms})
    r = simulate(cfg, faults, seed, snapshots=False)
    owners_by_generation(r)
    assert r.drained and r.outcome["stopped"] is None  # every group plan runs to its end
    # every assignment the leader computed is a partition of the topic's partitions
    for e in kinds(r, "assignment"):
        given_out = [p for ps in e.data["assignment"].values() for p in ps]
        assert len(given_out) == len(set(given_out))
        assert set(given_out) | set(map(int, e.data["held"])) <= set(range(plan["partitions"]))


# -- the assignors ---------------------------------------------------------------------------
def test_range_and_roundrobin_assignors():
    """RangeAssignor: consecutive ranges, the first members get one more;
    RoundRobinAssignor: one partition each in turn (members sorted by id)."""
    ms = ["a", "b", "c"]
    assert assign("range", ms, 7, {})[0] == {"a": [0, 1, 2], "b": [3, 4], "c": [5, 6]}
    assert assign("roundrobin", ms, 7, {})[0] == {"a": [0, 3, 6], "b": [1, 4], "c": [2, 5]}


def test_cooperative_sticky_keeps_owned_and_holds_back_moved_partitions():
    """CooperativeStickyAssignor.adjustAssignment: a partition that changes owner is left out
    of this round (its owner revokes it; the next rebalance assigns it). Fact sheet G,
    Cooperative (KIP-429)."""
    owned = {"a": [0, 1], "b": [2, 3]}
    result, held = assign("cooperative-sticky", ["a", "b", "c"], 4, owned)
    assert set(result["a"]) <= {0, 1} and set(result["b"]) <= {2, 3}
    assert result["c"] == [] and len(held) == 1
    (p, owner), = held.items()
    assert p in owned[owner]
    # the second round, after the owner revoked it: it goes to the new member
    after = {m: [q for q in ps if q != p] for m, ps in owned.items()}
    assert assign("cooperative-sticky", ["a", "b", "c"], 4, after)[0]["c"] == [p]


def test_each_clients_default_assignment_strategy():
    """Fact sheet G, Defaults: Java [RangeAssignor, CooperativeStickyAssignor] (range is used,
    eager), librdkafka "range,roundrobin"; librdkafka never mixes protocols."""
    assert resolve({})["partition.assignment.strategy"] == "range,cooperative-sticky"
    assert resolve({"client.model": "librdkafka"})["partition.assignment.strategy"] == \
        "range,roundrobin"
    r = simulate({**STREAM, "messages": 20})
    assert {e.data["assignor"] for e in kinds(r, "assignment")} == {"range"}
    assert {e.data["protocol"] for e in kinds(r, "assignment")} == {"eager"}
    with pytest.raises(ConfigError, match="same protocol type"):
        resolve({"client.model": "librdkafka",
                 "partition.assignment.strategy": "range,cooperative-sticky"})


# -- generations and fencing --------------------------------------------------------------------
def _two_member_group():
    t = [0.0]
    timers = []
    g = GroupCoordinator(clock=lambda: t[0],
                         later=lambda d, fn, *a, **k: timers.append((t[0] + d, fn, a)))
    g.register_group("g", "input", 2)
    replies: dict[str, dict] = {}

    def join(name, member_id=None):
        g.join("g", member_id, name, None, [], lambda e: None,
               lambda r, n=name: replies.__setitem__(n, r), 45000, 300000, 3000)
        return replies[name]

    a = join("a")
    assert a["error"] == "MEMBER_ID_REQUIRED"  # KIP-394
    join("a", a["member_id"])
    a_id = replies["a"]["member_id"]
    g.sync("g", a_id, replies["a"]["generation"], lambda r: replies.__setitem__("a-sync", r))
    return g, join, replies, a_id


def test_a_commit_from_an_old_generation_or_an_unknown_member_is_refused():
    """ClassicGroup.validateOffsetCommit (fact sheet G, Stale commits): unknown member →
    UNKNOWN_MEMBER_ID, wrong generation → ILLEGAL_GENERATION, during CompletingRebalance →
    REBALANCE_IN_PROGRESS; during PreparingRebalance the current generation may still commit
    (the eager onJoinPrepare auto-commit)."""
    g, join, replies, a_id = _two_member_group()
    gen1 = replies["a"]["generation"]
    assert g.commit("g", a_id, "input", {0: 5}, gen1) is None
    assert g.commit("g", "nobody", "input", {0: 6}, gen1) == "UNKNOWN_MEMBER_ID"
    b = join("b")
    join("b", b["member_id"])  # a joins the rebalance late: PreparingRebalance
    assert g.group("g").state == "PreparingRebalance"
    assert g.commit("g", a_id, "input", {0: 7}, gen1) is None
    join("a", a_id)  # everyone joined: a new generation, CompletingRebalance
    gen2 = g.generation_of("g")
    assert gen2 == gen1 + 1 and g.group("g").state == "CompletingRebalance"
    assert g.commit("g", a_id, "input", {0: 8}, gen2) == "REBALANCE_IN_PROGRESS"
    g.sync("g", g.group("g").leader, gen2, lambda r: None)
    assert g.commit("g", a_id, "input", {0: 9}, gen1) == "ILLEGAL_GENERATION"
    assert g.commit("g", a_id, "input", {0: 9}, gen2) is None
    assert g.committed_offset("g", "input", 0) == 9


def test_a_kicked_out_member_s_commit_fails_and_its_zombie_work_is_counted():
    """Fact sheet A/G (max.poll.interval.ms; Duplicates: "Fetch carries no generation; an
    evicted member processes what it has until it learns it is out; only its commit is
    fenced"): Java CommitFailedException, the new owner re-processes the batch."""
    r = scenarios.run("max-poll-interval-exceeded")
    left = kinds(r, "left_group")[0]
    assert left.actor == "consumer-0" and left.data["reason"] == "max.poll.interval.ms"
    failed = next(e for e in kinds(r, "commit_failed") if e.actor == "consumer-0")
    assert failed.data["error"] == "UNKNOWN_MEMBER_ID"
    assert failed.data["exception"] == "CommitFailedException"
    zombie = [e for e in kinds(r, "process") if "zombie" in e.data]
    assert zombie and all(e.actor == "consumer-0" and e.t > left.t for e in zombie)
    assert r.outcome["zombie_records"] == 10 and r.outcome["duplicates"] == 10
    took = [e for e in kinds(r, "rebalance") if e.actor == "consumer-1" and "0" in e.data["resumed"]]
    assert took and took[0].t < zombie[-1].t  # the new owner starts while the zombie still runs


def test_librdkafka_reports_the_failed_commit_as_an_error_not_commit_failed_exception():
    """librdkafka: the error goes to the caller / offset_commit_cb (rdkafka_cgrp.c); no
    CommitFailedException (fact sheet G, Stale commits)."""
    r = scenarios.run("max-poll-interval-exceeded", overrides={"client.model": "librdkafka"})
    failed = next(e for e in kinds(r, "commit_failed") if e.actor == "consumer-0")
    assert failed.data["exception"].startswith("KafkaException")
    assert "CommitFailedException" not in failed.text


# -- failure detection ------------------------------------------------------------------------
def test_a_crashed_member_is_removed_after_session_timeout_and_its_restart_is_a_new_member():
    """Fact sheet G: a crashed dynamic member holds its partitions until its session expires
    (heartbeats every heartbeat.interval.ms); the restart gets a new member id and its
    rebalance waits for the old id to expire."""
    r = scenarios.run("rebalance-duplicates")
    crash = kinds(r, "crash")[0]
    expired = next(e for e in kinds(r, "left_group") if e.actor == "coordinator")
    session, hb = r.config["session.timeout.ms"], r.config["heartbeat.interval.ms"]
    assert session - hb <= expired.t - crash.t <= session
    joins = [e for e in r.events if e.kind in ("join", "restart") and e.actor == "consumer-0"]
    assert joins[0].data["member_id"] != joins[1].data["member_id"]
    # the new member's JoinGroup began a rebalance at once; it completed only at the expiry
    begun = [e for e in kinds(r, "rebalance_begin") if crash.t < e.t < expired.t]
    assert begun and joins[1].t >= expired.t
    assert r.outcome["duplicates"] == 22 and r.outcome["lost"] == 0


def test_static_membership_keeps_the_assignment_across_a_restart_without_a_rebalance():
    """KIP-345 (fact sheet G, Static membership): no LeaveGroup; rejoining within the session
    timeout gets a new member id, the same assignment and no rebalance. Off by default."""
    assert resolve({})["group.instance.id"] is None
    r = scenarios.run("static-membership/static")
    back = kinds(r, "static_rejoin")
    assert len(back) == 3 and r.outcome["rebalances"] == 2
    for e in back:
        assert e.data["member_id"] != e.data["old_member_id"]
    dynamic = scenarios.run("static-membership")
    assert not kinds(dynamic, "static_rejoin") and dynamic.outcome["rebalances"] == 6


def test_static_membership_does_not_prevent_duplicates():
    """The misconception "static membership prevents all duplicates": it saves the
    rebalance, not the uncommitted work (fact sheet G, Duplicates)."""
    dynamic, static = scenarios.run("rebalance-duplicates"), \
        scenarios.run("rebalance-duplicates/static")
    assert static.outcome["duplicates"] == dynamic.outcome["duplicates"] > 0
    assert kinds(static, "static_rejoin")


# -- eager and cooperative -------------------------------------------------------------------
def test_eager_revokes_everything_after_the_auto_commit():
    """ConsumerCoordinator.onJoinPrepare (fact sheet G, Eager): auto-commit of the consumed
    positions, then onPartitionsRevoked(all), then JoinGroup."""
    r = scenarios.run("eager-vs-cooperative")
    revokes = [e for e in kinds(r, "revoke") if e.t > 1000]
    assert {e.actor for e in revokes} == {"consumer-0", "consumer-1"}
    for e in revokes:
        assert e.data["protocol"] == "eager" and not e.data["lost"]
        before = [c for c in r.events[:e.index] if c.kind == "commit" and c.actor == e.actor]
        assert before[-1].data["how"] == "before the rebalance"
    assert r.outcome["duplicates"] == 0


def test_cooperative_revokes_only_what_moves_in_two_rounds_without_an_auto_commit():
    """KIP-429 (fact sheet G, Cooperative): owned partitions are kept; only the moved one is
    revoked, in ConsumerCoordinator.onJoinComplete (no auto-commit there), and a second
    rebalance assigns it; what its owner processed since the round's first commit is read
    again by the new owner."""
    r = scenarios.run("eager-vs-cooperative/cooperative")
    revokes = [e for e in kinds(r, "revoke") if e.t > 1000]
    assert len(revokes) == 1 and len(revokes[0].data["partitions"]) == 1
    moved = revokes[0].data["partitions"][0]
    gens = [e for e in kinds(r, "assignment") if e.t > 1000]
    held_round = next(e for e in gens if str(moved) in e.data["held"])
    given = next(e for e in gens if moved in e.data["assignment"].get("consumer-2", []))
    assert given.data["generation"] == held_round.data["generation"] + 1
    assert r.outcome["duplicates"] > 0 and r.outcome["lost"] == 0
    # with librdkafka, auto-commit commits the revoked partitions' stored offsets
    assert scenarios.run("eager-vs-cooperative/cooperative-librdkafka").outcome[
        "duplicates"] == 0


def test_commit_on_revoke_removes_the_rebalance_duplicates_and_leaves_the_crash_ones():
    """Fact sheet G, Commit on revoke: commitSync in onPartitionsRevoked before the hand-over;
    not in onPartitionsLost, and a crash runs no listener."""
    with_listener = scenarios.run("commit-on-revoke")
    without = scenarios.run("commit-on-revoke/no-listener")
    assert 0 < with_listener.outcome["duplicates"] < without.outcome["duplicates"]
    listener = [e for e in kinds(with_listener, "revoke") if e.data["committed"]]
    assert listener
    with pytest.raises(ConfigError, match=r"kafkalab: commit\.on\.revoke"):
        resolve({"commit.on.revoke": True, "commit.strategy": "transaction",
                 "transactional.id": "t", "pipeline": True, "enable.auto.commit": False})


def test_a_crash_in_a_two_member_group_duplicates_about_what_was_uncommitted():
    """Issue 17: a 2-member, 2-partition run with one member crashing gave 41 duplicates
    with commitAsync after each batch (the joining member read partitions their old owner
    still processed, and commits were not checked against the generation); real Kafka
    re-delivers about the one uncommitted batch."""
    r = simulate({"messages": 100, "partitions": 2, "consumers": 2,
                  "producer.send.interval.ms": 1, "auto.offset.reset": "earliest",
                  "commit.strategy": "async-per-batch", "enable.auto.commit": False,
                  "processing.ms": 1},
                 [{"type": "consumer_crash", "point": "after_processing", "message": 20,
                   "member": 0}])
    assert r.outcome["lost"] == 0 and r.outcome["duplicates"] <= 2
    owners_by_generation(r)


# -- configuration and faults ---------------------------------------------------------------
def test_the_consumer_protocol_is_refused_naming_the_simplification():
    """KIP-848 (group.protocol=consumer) is not modelled: refused, ConfigException wording."""
    with pytest.raises(ConfigError, match=r"Invalid value 'consumer' for configuration "
                                          r"group.protocol: kafkalab models the classic"):
        resolve({"group.protocol": "consumer"})
    assert resolve({})["group.protocol"] == "classic"


def test_group_defaults_follow_the_fact_sheet():
    """Fact sheet G, Timeouts: session.timeout.ms 45000, heartbeat.interval.ms 3000, both
    clients; group.initial.rebalance.delay.ms is 3000 in the broker's code, 0 in Kafka's
    shipped config/server.properties (kafkalab's default)."""
    for client in ("java", "librdkafka"):
        c = resolve({"client.model": client})
        assert (c["session.timeout.ms"], c["heartbeat.interval.ms"]) == (45000, 3000)
        assert c["group.initial.rebalance.delay.ms"] == 0


def test_the_initial_rebalance_delay_waits_for_more_members():
    """group.initial.rebalance.delay.ms (GroupCoordinator InitialDelayedJoin): the first
    rebalance of an empty group completes only after the delay, with everyone in it."""
    r = simulate({**STREAM, "messages": 20, "group.initial.rebalance.delay.ms": 3000})
    first = kinds(r, "generation")[0]
    assert first.t >= 3000 and len(first.data["members"]) == 2


def test_member_faults_are_rows_of_the_fault_table():
    for kind in ("member_join", "member_leave", "member_restart"):
        assert kind in FAULT_KINDS
    plan = normalise([{"type": "member_join", "at_ms": 5},
                      {"type": "member_leave", "member": 2, "at_ms": 9}])
    check_against(plan, resolve({"consumers": 2}))  # member 2 is the one that joins
    with pytest.raises(FaultError, match="member 2 does not exist"):
        check_against(normalise([{"type": "member_leave", "member": 2, "at_ms": 9}]),
                      resolve({"consumers": 2}))
    with pytest.raises(FaultError, match="'member' is required"):
        normalise([{"type": "member_restart", "at_ms": 9}])
    assert "joins the consumer group" in describe(plan[0])


def test_scale_in_hands_the_partitions_over_at_the_committed_offset():
    r = simulate({**STREAM, "messages": 300}, [{"type": "member_leave", "member": 1,
                                                "at_ms": 100}])
    close = next(e for e in kinds(r, "close") if e.actor == "consumer-1")
    took = [e for e in kinds(r, "rebalance") if e.actor == "consumer-0" and e.t > close.t]
    assert took and set(took[0].data["assignment"]) == {0, 1}
    assert r.outcome["lost"] == 0 and r.outcome["duplicates"] == 0 and r.drained
