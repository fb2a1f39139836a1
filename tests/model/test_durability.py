"""Durability (issue 18, steps 3-5): the ISR, broker faults, leader election, truncation, and what
acks really buy.

Fact sheet F (../shared/reference/kafka-semantics.md) and apache/kafka: ``Partition.scala``
(``getOutOfSyncReplicas``/``isFollowerOutOfSync``: out of sync = LEO != leader's LEO and not
caught up within replica.lag.time.max.ms; ``appendRecordsToLeader``: acks=-1 and ISR < minIsr
-> NotEnoughReplicasException before the append; ``maybeIncrementLeaderHW``: not while under
min ISR since 3.7), ``PartitionChangeBuilder`` (election from the ISR, epoch bump),
``LeaderEpochFileCache``/``AbstractFetcherThread`` (truncation to the end of the last shared
epoch, KIP-101/279).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkalab import scenarios
from kafkalab.model import simulate
from kafkalab.model.faults import FAULT_KINDS, FaultError, describe, normalise

RF3 = {"brokers": 3, "replication.factor": 3, "messages": 60, "auto.offset.reset": "earliest"}
FAST_LINKS = {**RF3, "producer.send.interval.ms": 1, "replica.rtt.ms": 20}
CUT_OFF = [{"type": "slow_follower", "broker": b, "at_ms": 0, "for_ms": 50_000} for b in (1, 2)]


def _events(result, kind):
    return [e for e in result.events if e.kind == kind]


def test_broker_faults_are_fault_kinds_and_validated():
    for kind in ("broker_crash", "machine_failure", "slow_follower"):
        assert kind in FAULT_KINDS
    plan = normalise([{"type": "broker_crash", "broker": 1, "at_ms": 5}])
    assert "broker 1 crashes" in describe(plan[0])
    with pytest.raises(FaultError, match="exactly one of after_message or at_ms"):
        normalise([{"type": "machine_failure", "broker": 0}])
    with pytest.raises(FaultError, match="broker 3 does not exist"):
        simulate(RF3, [{"type": "broker_crash", "broker": 3, "at_ms": 5}])


def test_a_follower_cut_off_leaves_the_isr_after_the_lag_time_and_rejoins():
    """F: dropped when not caught up within replica.lag.time.max.ms (checked every half of
    it), re-added once its LEO reaches the HW."""
    r = simulate({**RF3, "producer.send.interval.ms": 500, "replica.lag.time.max.ms": 10_000},
                 [{**CUT_OFF[0], "for_ms": 20_000}])
    shrink = _events(r, "isr_shrink")
    assert [e.data["broker"] for e in shrink] == [1]
    # last caught up at t=0; out of sync once now - 0 > 10000; the check runs every 5000 ms
    assert shrink[0].t == 15_000 and shrink[0].data["isr"] == [0, 2]
    expand = _events(r, "isr_expand")
    assert expand and expand[0].data["broker"] == 1 and expand[0].t >= 20_000
    assert r.outcome["lost"] == 0 and r.drained


def test_not_enough_replicas_refuses_before_the_append_and_the_producer_retries():
    """acks=all, ISR < min.insync.replicas: NOT_ENOUGH_REPLICAS, nothing written, retriable;
    the HW stands still while under min ISR (KAFKA-15583)."""
    r = scenarios.run("not-enough-replicas")
    refused = [e for e in _events(r, "rejected") if e.data["error"] == "NOT_ENOUGH_REPLICAS"]
    assert refused and all(15_000 <= e.t < 50_000 for e in refused)
    for e in refused:  # nothing written: no append of those messages at that time
        assert not any(a.t == e.t and set(a.data["messages"]) & set(e.data["messages"])
                       for a in _events(r, "append"))
    hw_moves = [e.t for e in _events(r, "high_watermark")]
    assert hw_moves and min(hw_moves) >= 50_000  # frozen until a follower is back
    assert r.outcome["acked"] == 60 and r.outcome["lost"] == 0
    assert r.outcome["written_more_than_once"] == 0  # idempotent retries, no duplicates


def test_librdkafka_request_timeout_is_the_brokers_acks_wait():
    """F table, acks=all: "REQUEST_TIMED_OUT after request.timeout.ms, data left in the log";
    librdkafka's request.timeout.ms is that broker-side wait (its own is socket.timeout.ms)."""
    r = simulate({**RF3, "messages": 20, "producer.send.interval.ms": 500,
                  "client.model": "librdkafka", "acks": "all", "enable.idempotence": True,
                  "min.insync.replicas": 2, "replica.lag.time.max.ms": 10_000}, CUT_OFF)
    timed_out = [e for e in _events(r, "rejected") if e.data["error"] == "REQUEST_TIMED_OUT"]
    first_append = _events(r, "append")[0]
    assert timed_out and timed_out[0].t == first_append.t + 30_000
    assert r.outcome["lost"] == 0 and r.outcome["written_more_than_once"] == 0


def test_acks_1_with_min_insync_2_is_not_refused():
    """min.insync.replicas gates only acks=all (F)."""
    r = simulate({**RF3, "producer.send.interval.ms": 500, "replica.lag.time.max.ms": 10_000,
                  "acks": "1", "enable.idempotence": False, "min.insync.replicas": 2}, CUT_OFF)
    assert not [e for e in _events(r, "rejected") if e.data["error"] == "NOT_ENOUGH_REPLICAS"]


def test_clean_election_picks_a_live_isr_member_and_bumps_the_epoch():
    r = scenarios.run("acks-1-leader-failover")
    (crash,) = _events(r, "broker_crash")
    (elected,) = _events(r, "leader_elected")
    assert crash.data == {"broker": 0, "machine": False, "led": [["input", 0, 0]]}
    assert elected.data["leader"] == 1 and elected.data["epoch"] == 1
    assert elected.data["previous"] == 0 and not elected.data["unclean"]
    # the restarted broker registers again: fenced at once (not after the session timeout)
    assert elected.t == 5040
    snap = r.snapshots[-1]["replicas"]["input"][0]
    assert snap[0] == 1 and snap[1] == 1  # leader 1, epoch 1
    # appends after the election carry the new leader and epoch
    late = [e for e in _events(r, "append") if e.t > elected.t]
    assert late and all((e.data["broker"], e.data["leader_epoch"]) == (1, 1) for e in late)


def test_the_producer_retries_not_leader_and_disconnects_to_the_new_leader():
    """NOT_LEADER_OR_FOLLOWER and disconnects are retriable; the metadata refresh sends the
    retry to the new leader (F: Producer in failover)."""
    r = scenarios.run("unclean-leader-election/clean-only")
    errors = {e.data["error"] for e in _events(r, "rejected")}
    assert "NOT_LEADER_OR_FOLLOWER" in errors
    assert r.outcome["lost"] == 0 and r.outcome["acked"] == 60


def test_a_returning_leader_truncates_to_the_epoch_boundary_not_its_high_watermark():
    """KIP-101/279: broker 0 returns with offsets its HW never covered; it truncates to the end
    of epoch 0 on the new leader (its log end at election), which is where the logs part."""
    r = scenarios.run("acks-1-leader-failover")
    (elected,) = _events(r, "leader_elected")
    back = [e for e in _events(r, "truncated") if e.data["broker"] == 0]
    assert len(back) == 1
    t = back[0].data
    assert t["cause"] == "diverged" and t["epoch"] == 0 and t["leader_epoch"] == 1
    assert t["start"] == t["end_offset"] == elected.data["leo"] == elected.data["lost_from"]
    assert t["end"] > t["start"]
    # broker 0's own HW when it crashed was below the truncation point's end: truncating to it
    # would have dropped records the new leader has (the pre-0.11 behaviour)
    hw_before = max(e.data["hw"] for e in _events(r, "high_watermark") if e.t <= 40)
    assert hw_before <= t["start"]
    # every truncated message is one the new leader lacks, and the ledger says why
    assert set(t["messages"]) == set(elected.data["lost_messages"])
    assert set(r.ledger.lost_after_ack()) == set(t["messages"])


def test_lost_after_ack_is_told_from_the_events():
    r = scenarios.run("acks-1-leader-failover")
    m = r.ledger.lost_after_ack()[0]
    text = r.explain(m)
    assert text.startswith(f"Message {m}: LOST AFTER IT WAS ACKNOWLEDGED")
    for part in ("by the leader on broker 0 with acks=1", "went down at t=40 ms",
                 "broker 1 became leader with epoch 1", "broker 0 truncated offsets"):
        assert part in text, text
    kinds = {a["type"] for a in r.anomalies}
    assert "lost-after-ack" in kinds


def test_acks_0_losses_are_never_acknowledged():
    r = scenarios.run("acks-0-fire-and-forget")
    o = r.outcome
    assert o["lost"] > 0 and o["lost_after_ack"] == 0 and o["lost_unacked"] == o["lost"]
    assert not _events(r, "retry")
    assert all(e.data["offset"] == -1 for e in _events(r, "ack"))


def test_machine_failure_loses_the_unflushed_tail_and_flushing_keeps_it():
    r = scenarios.run("acks-all-isr-shrunk")
    lost_tail = [e for e in _events(r, "truncated") if e.data["cause"] == "machine_failure"]
    assert lost_tail and lost_tail[0].data["broker"] == 0 and lost_tail[0].data["start"] == 0
    assert r.outcome["lost_after_ack"] > 0
    flushed = scenarios.run("acks-all-isr-shrunk/flush-every-message")
    assert not [e for e in _events(flushed, "truncated") if e.data["cause"] == "machine_failure"]
    refused = scenarios.run("acks-all-isr-shrunk/min-isr-2")
    assert refused.outcome["lost_after_ack"] == 0
    assert any(e.data["error"] == "NOT_ENOUGH_REPLICAS" for e in _events(refused, "rejected"))


def test_unclean_election_elects_an_out_of_sync_replica_and_loses_committed_data():
    r = scenarios.run("unclean-leader-election")
    (elected,) = _events(r, "leader_elected")
    assert elected.data["unclean"] and elected.data["isr"] == [elected.data["leader"]]
    assert r.outcome["lost_after_ack"] > 0
    clean = scenarios.run("unclean-leader-election/clean-only")
    offline = _events(clean, "partition_offline")
    assert offline and offline[0].data["isr"] == [0]
    (back,) = _events(clean, "leader_elected")
    assert back.data["leader"] == 0 and back.t >= 60_000  # the last ISR member returns
    assert clean.outcome["lost"] == 0


def test_an_offline_partition_serves_nothing():
    r = simulate({**RF3, "producer.send.interval.ms": 500, "replica.lag.time.max.ms": 10_000,
                  "messages": 60},
                 [*CUT_OFF, {"type": "broker_crash", "broker": 0, "at_ms": 20_000}])
    assert _events(r, "partition_offline")
    offline_at = _events(r, "partition_offline")[0].t
    assert not [e for e in _events(r, "poll") if e.t > offline_at and e.data["records"]]
    assert not [e for e in _events(r, "append") if e.t > offline_at]
    assert _events(r, "gave_up")  # delivery.timeout.ms: the application is told
    assert r.outcome["lost_after_ack"] == 0


def test_idempotent_dedup_survives_a_failover():
    """F: followers apply PID/epoch/sequence from replicated batches, so the new leader dedups a
    retry of a batch it already has."""
    r = scenarios.run("acks-all-min-isr")
    assert r.outcome["written_more_than_once"] == 0 and r.outcome["duplicates"] == 0
    assert r.outcome["truncated"] > 0  # unacknowledged records were cut and sent again


def test_a_retry_the_old_leader_wrote_is_deduplicated_by_the_new_leader():
    """F: "Idempotent dedup survives failover": the response to a batch is lost, the leader
    crashes after replicating it, and the retry reaches the new leader, which knows the PID's
    sequences from the replicated batches and answers with the original offset."""
    config = {**RF3, "messages": 20, "producer.send.interval.ms": 1,
              "min.insync.replicas": 2, "request.timeout.ms": 3000}
    faults = [{"type": "lose_response", "message": 5},
              {"type": "broker_crash", "broker": 0, "at_ms": 100, "restart_after_ms": 500}]
    r = simulate(config, faults)
    (elected,) = _events(r, "leader_elected")
    dups = _events(r, "duplicate_batch")
    assert dups and all(e.t > elected.t for e in dups)
    first_copy = {m: e.data["offset"] + k for e in _events(r, "append")
                  for k, m in enumerate(e.data["messages"])}
    assert all(e.data["offset"] == first_copy[e.data["messages"][0]] for e in dups)
    assert r.outcome["written_more_than_once"] == 0 and r.outcome["lost"] == 0


def test_replicated_results_survive_json():
    from kafkalab.model import RunResult
    r = scenarios.run("acks-1-leader-failover")
    assert scenarios.run("acks-1-leader-failover").to_json() == r.to_json()  # deterministic
    back = RunResult.from_json(r.to_json())
    assert back.outcome == r.outcome
    assert back.explain(r.ledger.lost_after_ack()[0]) == r.explain(r.ledger.lost_after_ack()[0])


# -- the property (issue 18 "Done when") -------------------------------------------------------

crash_kind = st.sampled_from(["broker_crash", "machine_failure"])
single_crash = st.builds(
    lambda kind, broker, at, back: {"type": kind, "broker": broker, "at_ms": at,
                                    **({"restart_after_ms": back} if back is not None else {})},
    crash_kind, st.integers(0, 2), st.floats(0, 120, allow_nan=False),
    st.one_of(st.none(), st.floats(1, 12_000, allow_nan=False)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(single_crash, st.sampled_from([2, 3]), st.integers(1, 3), st.integers(0, 1000),
       st.sampled_from([1.0, 20.0]))
def test_acks_all_min_isr_2_never_loses_an_acknowledged_write(crash, min_isr, partitions, seed,
                                                              rtt):
    """acks=all, min.insync.replicas >= 2, no unclean election: no single broker crash (process
    or machine, back or not, at any time) loses an acknowledged write: every message acknowledged
    with an offset still has a copy in the log at the end."""
    config = {**RF3, "messages": 40, "partitions": partitions, "producer.send.interval.ms": 2,
              "replica.rtt.ms": rtt, "acks": "all", "min.insync.replicas": min_isr}
    r = simulate(config, [crash], seed)
    assert r.outcome["lost_after_ack"] == 0
    gone = [m.id for m in r.ledger.messages if m.confirmed and not m.copies]
    assert not gone, [r.explain(m) for m in gone[:2]]


def test_a_consumer_beyond_a_new_leaders_log_end_resets_by_auto_offset_reset():
    """After a leader change lost records the consumer had read, its position is beyond the new
    leader's log end: OFFSET_OUT_OF_RANGE, then auto.offset.reset (here earliest)."""
    config = {"brokers": 2, "replication.factor": 2, "messages": 40, "acks": "1",
              "enable.idempotence": False, "replica.lag.time.max.ms": 50,
              "producer.send.interval.ms": 5, "unclean.leader.election.enable": True,
              "auto.offset.reset": "earliest"}
    faults = [{"type": "slow_follower", "broker": 1, "at_ms": 0, "for_ms": 150},
              {"type": "broker_crash", "broker": 0, "at_ms": 120}]
    r = simulate(config, faults, 1)
    (oor,) = _events(r, "offset_out_of_range")
    assert oor.data["position"] > oor.data["leo"] and oor.data["reset_to"] == 0
    assert r.outcome["lost"] == 0 and r.drained


def test_a_partition_stuck_below_min_insync_for_good_ends_the_run():
    """min.insync.replicas=3 and a broker gone for good: the HW can never move again, the
    producer retries until delivery.timeout.ms and gives up; the run ends drained (not stopped
    by the watchdog, not waiting forever) and nothing acknowledged was lost."""
    config = {**RF3, "messages": 10, "producer.send.interval.ms": 5, "acks": "all",
              "min.insync.replicas": 3, "delivery.timeout.ms": 20_000,
              "request.timeout.ms": 5_000}
    r = simulate(config, [{"type": "broker_crash", "broker": 1, "at_ms": 1}])
    assert r.drained and r.outcome["stopped"] is None
    assert r.outcome["lost"] == r.outcome["lost_unacked"] == 10 and len(_events(r, "gave_up"))
