"""One test per Kafka fact the model implements (see shared/reference/kafka-semantics.md)."""

from itertools import pairwise

from kafkalab import scenarios
from kafkalab.model import simulate

PREFILLED = {"producer.send.interval.ms": 0, "consumer.start.ms": 20,
             "auto.offset.reset": "earliest"}


def kinds(result, *names):
    return [e for e in result.events if e.kind in names]


def test_java_auto_commit_commits_previous_polls_inside_poll():
    r = simulate({**PREFILLED, "messages": 30, "max.poll.records": 10,
                  "auto.commit.interval.ms": 1, "processing.ms": 1})
    polls = kinds(r, "poll")
    for commit in kinds(r, "commit"):
        if "inside poll" not in commit.data["how"]:
            continue
        # what it commits is at most the position after the polls *before* it
        earlier = [p for p in polls if p.index < commit.index]
        handed_out = max(p.data["positions"]["0"] for p in earlier)
        assert commit.data["offsets"]["0"] <= handed_out
        # and never covers a batch that was still being processed when it was sent
        assert commit.data["offsets"]["0"] in {p.data["positions"]["0"] for p in earlier}


def test_librdkafka_background_commit_runs_ahead_of_processing():
    r = scenarios.run("at-most-once-auto-commit")
    commit = kinds(r, "commit")[0]
    assert "background" in commit.data["how"] and commit.data["offsets"]["0"] == 10
    processed_by_then = [rec for e in kinds(r, "process") for rec in e.data["records"]
                         if rec[3] <= commit.t]
    assert len(processed_by_then) < 10
    assert r.ledger.lost() == [8, 9]
    assert "committed at t=" in r.explain(8) and "resumed at offset 10" in r.explain(8)


def test_java_close_commits_positions_on_close():
    r = scenarios.run("at-most-once-auto-commit/java-close-on-error")
    close_commit = [e for e in kinds(r, "commit") if e.data["how"] == "on close()"]
    assert close_commit[0].data["offsets"]["0"] == 10


def test_duplicate_batch_is_answered_with_the_original_offset():
    r = scenarios.run("idempotent-producer-lost-ack")
    dup = kinds(r, "duplicate_batch")[0]
    original = next(e for e in kinds(r, "append") if 3 in e.data["messages"])
    assert dup.data["offset"] == original.data["offset"]
    ack = next(e for e in kinds(r, "ack") if e.data["duplicate"])
    assert ack.data["offset"] == original.data["offset"]
    assert r.outcome["log_duplicates"] == 0


def test_without_idempotence_the_retry_is_written_twice():
    r = scenarios.run("idempotent-producer-lost-ack/idempotence-off")
    copies = r.ledger.messages[3].copies
    assert len(copies) == 2 and copies[0].offset != copies[1].offset


def test_restart_without_transactional_id_gets_a_new_pid():
    r = scenarios.run("producer-restart-new-pid")
    inits = kinds(r, "init_producer")
    assert len(inits) == 2 and inits[0].data["pid"] != inits[1].data["pid"]
    assert inits[1].data["epoch"] == 0


def test_restart_with_transactional_id_keeps_pid_bumps_epoch_and_fences_zombie():
    r = scenarios.run("transactional-fencing")
    inits = kinds(r, "init_producer")
    assert inits[0].data["pid"] == inits[1].data["pid"]
    assert inits[1].data["epoch"] == inits[0].data["epoch"] + 1
    assert kinds(r, "fenced"), "the zombie must be fenced"
    assert any(e.data["control"] == "abort" for e in kinds(r, "marker"))


def test_markers_occupy_offsets_and_read_committed_skips_aborted():
    r = scenarios.run("read-committed-vs-uncommitted")
    markers = kinds(r, "marker")
    data_offsets = {c.offset for m in r.ledger.messages for c in m.copies}
    assert markers and all(e.data["offset"] not in data_offsets for e in markers)
    delivered = {(p, off) for m in r.ledger.messages for _, p, off, _ in m.deliveries}
    aborted = {(c.partition, c.offset) for m in r.ledger.messages for c in m.copies
               if c.status == "aborted"}
    assert aborted and not (delivered & aborted)


def test_lso_holds_read_committed_back_while_a_transaction_is_open():
    r = scenarios.run("read-committed-vs-uncommitted")
    assert any(s["logs"]["input"][0][2] < s["logs"]["input"][0][1] for s in r.snapshots)
    uncommitted = scenarios.run("read-committed-vs-uncommitted/read-uncommitted")
    assert any(a["type"] == "G1a" for a in uncommitted.anomalies)


def test_exceeding_max_poll_interval_rebalances_and_fails_the_commit():
    r = simulate({**PREFILLED, "messages": 10, "max.poll.records": 5,
                  "enable.auto.commit": False, "commit.strategy": "per-batch",
                  "max.poll.interval.ms": 100},
                 [{"type": "slow_processing", "message": 2, "extra_ms": 500}])
    assert kinds(r, "left_group") and kinds(r, "commit_failed")
    assert r.outcome["lost"] == 0 and r.outcome["duplicates"] == 5  # the batch is re-delivered


def test_auto_offset_reset_latest_skips_what_was_written_before_the_consumer():
    r = simulate({"producer.send.interval.ms": 0, "consumer.start.ms": 50, "messages": 5,
                  "auto.offset.reset": "latest"})
    assert r.outcome["lost"] == 5
    assert "auto.offset.reset=latest" in r.explain(0)


def test_acks_zero_loses_a_lost_request_silently():
    r = simulate({**PREFILLED, "messages": 5, "acks": "0", "linger.ms": 0,
                  "producer.send.interval.ms": 1},
                 [{"type": "lose_request", "message": 2}])
    assert r.ledger.messages[2].acked and r.outcome["lost"] == 1
    assert not kinds(r, "retry")


def test_delivery_timeout_gives_up_and_tells_the_application():
    r = simulate({**PREFILLED, "messages": 3, "request.timeout.ms": 100,
                  "delivery.timeout.ms": 150, "retry.backoff.ms": 10},
                 [{"type": "lose_request", "message": 0, "attempt": 1},
                  {"type": "lose_request", "message": 0, "attempt": 2}])
    assert kinds(r, "gave_up") and r.ledger.messages[0].gave_up
    assert r.outcome["lost"] == 3


def test_idempotent_sink_turns_redelivery_into_exactly_once_effects():
    r = scenarios.run("at-least-once-manual-commit", overrides={"sink.idempotent": True})
    assert r.outcome["duplicates"] == 0 and r.ledger.messages[5].ignored == 1


def test_multiple_partitions_and_members_share_the_work():
    r = simulate({**PREFILLED, "messages": 40, "partitions": 4, "consumers": 2,
                  "enable.auto.commit": False, "commit.strategy": "per-batch"})
    actors = {e.actor for e in kinds(r, "process")}
    assert actors == {"consumer-0", "consumer-1"}
    assert r.outcome["lost"] == 0 and r.outcome["duplicates"] == 0


def test_crashed_member_partitions_move_after_session_timeout():
    r = simulate({**PREFILLED, "messages": 40, "partitions": 2, "consumers": 2,
                  "enable.auto.commit": False, "commit.strategy": "per-record",
                  "restart.delay.ms": 60_000, "session.timeout.ms": 1000,
                  "processing.ms": 10},
                 [{"type": "consumer_crash", "point": "after_processing", "message": 2,
                   "member": 0}])
    assert kinds(r, "crash")
    assert any(e.actor == "coordinator" for e in kinds(r, "left_group"))
    # consumer-1 took partition 0 over from the committed offset
    assert any(e.actor == "consumer-1" and "0" in e.data["resumed"] for e in kinds(r, "rebalance"))
    assert r.outcome["lost"] == 0


def test_a_poison_pill_crash_loop_ends_undrained_and_counts_unseen():
    r = simulate({**PREFILLED, "messages": 10, "enable.auto.commit": False,
                  "commit.strategy": "per-record", "max.restarts": 5},
                 [{"type": "processing_failure", "message": 3, "times": 10**6}])
    assert kinds(r, "crash_loop") and not r.drained
    assert r.outcome["lost"] == 0 and r.outcome["unseen"] == 7
    assert "crash loop" in r.explain(3)


def test_retries_without_idempotence_can_reorder_and_idempotence_keeps_order():
    base = {**PREFILLED, "producer.send.interval.ms": 1, "messages": 10, "linger.ms": 0,
            "request.timeout.ms": 30, "retry.backoff.ms": 5}
    # A retriable error response (nothing written) lets later requests overtake the batch. (A
    # lost request no longer does: the broker reads a connection in order, so every later request
    # on it is lost too and all are retried in order; issue 12.)
    fault = [{"type": "error_response", "message": 2}]
    plain = simulate({**base, "enable.idempotence": False}, fault)
    reordered = [a for a in plain.anomalies if a["type"] == "nonmonotonic-send"]
    assert [a["message"] for a in reordered] == [3]
    # written after message 3 (the error comes back at once, so the retry follows one backoff)
    assert plain.ledger.messages[2].copies[0].offset > plain.ledger.messages[3].copies[0].offset
    idem = simulate({**base, "enable.idempotence": True}, fault)
    assert not [a for a in idem.anomalies if a["type"] == "nonmonotonic-send"]
    assert [m.copies[0].offset for m in idem.ledger.messages] == list(range(10))


def test_librdkafka_store_offsets_after_processing_is_at_least_once():
    cfg = {**PREFILLED, "client.model": "librdkafka", "messages": 20, "max.poll.records": 10,
           "auto.commit.interval.ms": 3, "enable.auto.offset.store": False}
    crash = [{"type": "consumer_crash", "point": "after_processing", "message": 14}]
    r = simulate(cfg, crash)
    assert r.outcome["lost"] == 0 and r.outcome["duplicates"] >= 1
    stored_at_handout = simulate({**cfg, "enable.auto.offset.store": True}, crash)
    assert stored_at_handout.outcome["lost"] > 0


def test_pipeline_with_two_transform_instances_stays_exactly_once():
    for seed in range(5):
        for index in (1, 2, 3):
            r = scenarios.run("exactly-once-pipeline", seed=seed, messages=20,
                              overrides={"partitions": 2, "consumers": 2},
                              faults=[{"type": "consumer_crash", "point": "before_processing",
                                       "index": index, "member": 1}])
            assert r.outcome["lost"] == 0 and r.outcome["duplicates"] == 0, (seed, index)


def test_abort_markers_carry_the_new_epoch_and_fence_old_writes():
    r = scenarios.run("transactional-fencing")
    abort = next(e for e in kinds(r, "marker") if e.data["control"] == "abort")
    new_epoch = kinds(r, "init_producer")[1].data["epoch"]
    assert abort.data["pid"] == kinds(r, "init_producer")[1].data["pid"]
    assert abort.data["epoch"] == new_epoch
    rejected = [e for e in kinds(r, "rejected") if e.actor == "broker"]
    assert all(e.data["epoch"] < new_epoch for e in rejected)


def test_a_lost_response_loses_the_connection_and_every_later_response_on_it():
    r = scenarios.run("idempotent-producer-lost-ack/idempotence-off")
    lost_at = kinds(r, "ack_lost")[0].t
    acks = kinds(r, "ack")
    timeout = lost_at + r.config["request.timeout.ms"]
    # no acknowledgement arrives between the lost response and the timeout
    assert not [a for a in acks if lost_at <= a.t < timeout - r.config["network.rtt.ms"]]
    retried = {m for e in kinds(r, "retry") for m in e.data["messages"]}
    assert retried == {3, 4, 5, 6, 7}  # everything in flight (max.in.flight=5) is resent
    idem = scenarios.run("idempotent-producer-lost-ack")
    assert len(kinds(idem, "duplicate_batch")) == 5 and idem.outcome["log_duplicates"] == 0


def test_slow_processing_is_slow_once_by_default():
    r = simulate({**PREFILLED, "messages": 10, "max.poll.records": 5,
                  "enable.auto.commit": False, "commit.strategy": "per-batch",
                  "max.poll.interval.ms": 100},
                 [{"type": "slow_processing", "message": 2, "extra_ms": 500}])
    assert r.drained and len(kinds(r, "left_group")) == 1


def test_giving_up_on_a_batch_lets_the_batches_behind_it_go():
    # Java refuses delivery.timeout.ms < linger.ms + request.timeout.ms (configureDeliveryTimeout)
    r = scenarios.run("idempotent-producer-lost-ack", overrides={"delivery.timeout.ms": 40,
                                                                 "request.timeout.ms": 40})
    assert r.drained and r.ledger.messages[3].gave_up
    assert r.ledger.messages[9].copies and r.outcome["unseen"] == 0
    # the batch the producer gave up on had been written: the callback error was a false alarm
    assert "gave up" in r.explain(3) and r.ledger.messages[3].processed


def test_transaction_timeout_fences_the_producer_and_the_application_starts_a_new_one():
    r = scenarios.run("read-committed-vs-uncommitted", messages=6,
                      faults=[{"type": "lose_request", "message": 0, "attempt": 1},
                              {"type": "lose_request", "message": 0, "attempt": 2}])
    assert kinds(r, "txn_abort") and kinds(r, "fenced") and r.drained
    assert r.outcome["lost"] == 0 and r.outcome["duplicates"] == 0
    assert len(kinds(r, "retry")) < 10  # retries wait behind the oldest batch: no storm


def test_retry_backoff_doubles_up_to_the_maximum():
    r = simulate({**PREFILLED, "messages": 1, "request.timeout.ms": 10,
                  "retry.backoff.ms": 100, "retry.backoff.max.ms": 300},
                 [{"type": "lose_request", "message": 0, "attempt": a} for a in (1, 2, 3, 4)])
    sends = [e.t for e in kinds(r, "produce")]
    gaps = [round(b - a - 10) for a, b in pairwise(sends)]
    assert gaps == [100, 200, 300, 300]
