"""Random broker faults (issue 18): a ``random`` fault draws broker crashes, machine failures
and cut-off followers from the run's seeded RNG when the cluster has more than one broker.

Deterministic per seed; every run ends (a random broker is back after RANDOM_BROKER_DOWN_MS, a
cut-off follower after RANDOM_SLOW_FOLLOWER_MS, at most RANDOM_BROKER_FAULTS_MAX in a run, one
at a time) and accounts for every message (conservation, as tests/model/test_conservation.py).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kafkalab.model import ConfigError, simulate
from kafkalab.model.faults import (
    RANDOM_BROKER_DOWN_MS,
    RANDOM_BROKER_FAULTS_MAX,
    RANDOM_BROKER_KINDS,
    FaultError,
    normalise,
)
from kafkalab.trace.ledger import CATEGORIES

from ._fuzz import budget, check

RF3 = {"brokers": 3, "replication.factor": 3, "messages": 200, "producer.send.interval.ms": 5}
ALL_KINDS = {"type": "random", "broker_crash": 0.05, "machine_failure": 0.03,
             "slow_follower": 0.05}
BROKER_EVENTS = ("broker_crash", "broker_restart", "follower_slow", "follower_healed",
                 "leader_elected", "truncated", "isr_shrink", "isr_expand")


def _fingerprint(result):
    return [(e.t, e.kind, e.actor, sorted(e.data.items(), key=str)) for e in result.events]


def test_random_broker_faults_are_options_of_the_random_fault():
    plan = normalise([ALL_KINDS])
    assert set(RANDOM_BROKER_KINDS) <= set(plan[0])
    with pytest.raises(FaultError, match="probability"):
        normalise([{"type": "random", "machine_failure": 1.5}])
    # one broker: refused in one line, never silently ignored
    with pytest.raises(FaultError, match="need brokers of 2 or more"):
        simulate({"messages": 5}, [{"type": "random", "broker_crash": 0.5}])


def test_the_same_seed_gives_the_same_run_and_seeds_differ():
    runs = [simulate(RF3, [ALL_KINDS], seed, snapshots=False) for seed in (0, 0, 5)]
    assert _fingerprint(runs[0]) == _fingerprint(runs[1])
    assert _fingerprint(runs[0]) != _fingerprint(runs[2])
    crashes = [[(e.t, e.data["broker"]) for e in r.events if e.kind == "broker_crash"]
               for r in runs]
    assert crashes[0] and crashes[0] == crashes[1]


def test_a_random_crash_follows_a_leader_append_and_the_broker_returns():
    r = simulate({**RF3, "acks": "1"}, [{"type": "random", "broker_crash": 0.05}], 0,
                 snapshots=False)
    crashes = [e for e in r.events if e.kind == "broker_crash"]
    restarts = [e for e in r.events if e.kind == "broker_restart"]
    assert 0 < len(crashes) <= RANDOM_BROKER_FAULTS_MAX and len(restarts) == len(crashes)
    for crash, back in zip(crashes, restarts, strict=True):
        assert back.data["broker"] == crash.data["broker"]
        assert back.t == pytest.approx(crash.t + RANDOM_BROKER_DOWN_MS)
        # the crashed broker led the partition: it had just appended a batch
        appends = [e for e in r.events if e.kind == "append" and e.t <= crash.t]
        assert appends[-1].data["broker"] == crash.data["broker"]
    # fact sheet F: acks=1 loses acknowledged writes the new leader lacks
    assert r.outcome["lost_after_ack"] > 0 and r.drained


def test_acks_all_min_isr_2_loses_nothing_acknowledged_under_random_process_crashes():
    # fact sheet F: acks=all covers the ISR; a process crash keeps its log
    cfg = {**RF3, "acks": "all", "min.insync.replicas": 2}
    for seed in range(4):
        r = simulate(cfg, [{"type": "random", "broker_crash": 0.05}], seed, snapshots=False)
        assert r.outcome["lost_after_ack"] == 0 and r.outcome["stopped"] is None


def test_without_broker_options_a_random_run_is_unchanged():
    plan = [{"type": "random", "lose_response": 0.2}]
    before = simulate({**RF3, "messages": 40}, plan, 3, snapshots=False)
    again = simulate({**RF3, "messages": 40}, [{**plan[0], "broker_crash": 0.0}], 3,
                     snapshots=False)
    assert _fingerprint(before) == _fingerprint(again)
    assert not [e for e in before.events if e.kind in ("broker_crash", "follower_slow")]


@st.composite
def broker_fault_setups(draw):
    brokers = draw(st.integers(2, 3))
    rf = draw(st.integers(1, brokers))
    acks = draw(st.sampled_from(["0", "1", "all"]))
    client = draw(st.sampled_from(["java", "librdkafka"]))
    idempotent = acks == "all" and draw(st.booleans())
    cfg = {
        "brokers": brokers, "replication.factor": rf,
        "min.insync.replicas": draw(st.integers(1, rf)),
        "messages": draw(st.integers(1, 40)),
        "partitions": draw(st.integers(1, 3)),
        "acks": acks, "enable.idempotence": idempotent, "client.model": client,
        "producer.send.interval.ms": draw(st.sampled_from([0, 1, 5])),
        "unclean.leader.election.enable": draw(st.booleans()),
        "log.flush.interval.messages": draw(st.sampled_from([1, 5, 9_223_372_036_854_775_807])),
        "replica.lag.time.max.ms": draw(st.sampled_from([50, 30_000])),
        "broker.session.timeout.ms": draw(st.sampled_from([10, 9_000])),
        "commit.strategy": draw(st.sampled_from(["per-record", "per-batch", "auto"])),
        "auto.offset.reset": "earliest",
    }
    cfg["enable.auto.commit"] = cfg["commit.strategy"] == "auto"
    plan = {"type": "random",
            **{k: draw(st.sampled_from([0, 0.05, 0.3, 1.0])) for k in RANDOM_BROKER_KINDS}}
    if draw(st.booleans()):
        plan["lose_response"] = draw(st.sampled_from([0, 0.1]))
    return cfg, [plan]


@budget(40)
@given(broker_fault_setups(), st.integers(0, 1000))
def test_random_broker_fault_runs_end_and_account_for_every_message(setup, seed):
    cfg, plan = setup
    try:
        r = simulate(cfg, plan, seed, snapshots=False)
    except ConfigError:
        return  # a combination Kafka or kafkalab refuses (tested elsewhere)
    o, n = r.outcome, r.config["messages"]
    example = {"config": cfg, "faults": plan, "seed": seed, "outcome": o}
    check(o["stopped"] is None, "random_broker_faults", "the watchdog stopped the run",
          **example)
    faults = [e for e in r.events if e.kind in ("broker_crash", "follower_slow")]
    check(len(faults) <= RANDOM_BROKER_FAULTS_MAX, "random_broker_faults",
          "more random broker faults than the cap", **example)
    cats = r.ledger.categories()
    ids = sorted(m for v in cats.values() for m in v)
    check(ids == list(range(n)), "random_broker_faults",
          "a message is in no or two categories", **example)
    check(sum(o[k] for k in CATEGORIES) == n, "random_broker_faults",
          "the counts do not add up", **example)
    check(o["sent"] + o["never_sent"] == n, "random_broker_faults",
          "sent + never sent != messages", **example)
    check(o["processed"] == sum(len(m.processed) for m in r.ledger.messages),
          "random_broker_faults", "processed != the sink's applications", **example)
    # every random broker fault heals (restart, reconnection), so the run drains: nothing is
    # left unseen, whatever was lost is counted as lost
    check(r.drained and o["unseen"] == 0, "random_broker_faults", "the run did not drain",
          **example)
    again = simulate(cfg, plan, seed, snapshots=False)
    check(_fingerprint(again) == _fingerprint(r), "random_broker_faults",
          "the same seed gave another run", **example)
