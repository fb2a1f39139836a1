"""Issue 12: places the model did what Kafka does not (each test failed before its fix).

Facts cite /work/shared/reference/kafka-semantics.md (the fact sheet) or the client source.
"""

import pytest

from kafkalab.model import ConfigError, simulate
from kafkalab.model.config import resolve

PREFILLED = {"producer.send.interval.ms": 0, "consumer.start.ms": 20,
             "auto.offset.reset": "earliest"}


def kinds(result, *names):
    return [e for e in result.events if e.kind in names]


# -- 1. librdkafka offset store, one record at a time ---------------------------------------
# Fact sheet A, librdkafka: "At-least-once with librdkafka: enable.auto.offset.store=false, call
# store_offsets() after processing, keep auto-commit on"; the background timer commits the
# stored offsets every interval, whatever the poll loop is doing.

STORE = {**PREFILLED, "client.model": "librdkafka", "messages": 20, "max.poll.records": 20,
         "processing.ms": 10, "auto.commit.interval.ms": 50,
         "commit.strategy": "store-after-processing"}


def test_the_timer_commits_each_store_as_it_happens_mid_batch():
    r = simulate(STORE, [{"type": "consumer_crash", "point": "after_processing",
                          "message": 14}])
    crash = kinds(r, "crash")[0]
    commits = [e.data["offsets"]["0"] for e in kinds(r, "commit") if e.t <= crash.t]
    assert commits == [4, 9, 14]  # one poll of 20 records; the timer saw the stores so far
    restart = kinds(r, "restart")[0]
    assert restart.data["resumed"]["0"] == [14, "committed offset"]
    # processed but not yet stored when the process died: the only re-delivery
    assert r.ledger.duplicates() == [14] and r.outcome["lost"] == 0


def test_enable_auto_offset_store_false_with_auto_is_the_same_pattern():
    legacy = {**STORE, "commit.strategy": "auto", "enable.auto.offset.store": False}
    crash = [{"type": "consumer_crash", "point": "after_processing", "message": 14}]
    assert simulate(legacy, crash).ledger.duplicates() == [14]


def test_store_after_processing_is_validated_like_librdkafka():
    assert resolve({"client.model": "librdkafka", "commit.strategy":
                    "store-after-processing"})["enable.auto.offset.store"] is False
    with pytest.raises(ConfigError, match="INVALID_ARG"):
        resolve({"client.model": "librdkafka", "commit.strategy": "store-after-processing",
                 "enable.auto.offset.store": True})
    with pytest.raises(ConfigError, match=r"^kafkalab: commit\.strategy.*client\.model=librdkafka"):
        resolve({"commit.strategy": "store-after-processing"})
    with pytest.raises(ConfigError, match="never committed"):
        resolve({"client.model": "librdkafka", "commit.strategy": "store-after-processing",
                 "enable.auto.commit": False})


# -- 2. Responses on one connection come back in order ---------------------------------------
# Fact sheet B: "One slow response holds back every later one on that connection, so a
# client-side timeout fails and retries every request in flight on it"; Java
# NetworkClient.handleTimedOutRequests closes the connection, librdkafka disconnects at
# socket.max.fails=1 (rdkafka_broker.c rd_kafka_broker_timeout_scan).

SINGLES = {"messages": 5, "linger.ms": 0, "producer.send.interval.ms": 1,
           "enable.idempotence": False, "request.timeout.ms": 50, "auto.offset.reset": "earliest"}


def test_a_delayed_response_holds_back_the_later_ones_on_its_connection():
    r = simulate(SINGLES, [{"type": "delay_response", "message": 0, "delay_ms": 20}])
    acks = {e.data["messages"][0]: e for e in kinds(r, "ack")}
    assert all(acks[m].t >= acks[0].t for m in range(1, 5))
    assert acks[1].data["held_ms"] > 0 and not kinds(r, "retry")


def test_a_request_timeout_retries_every_request_in_flight_on_the_connection():
    r = simulate(SINGLES, [{"type": "delay_response", "message": 0, "delay_ms": 100}])
    retried = sorted(m for e in kinds(r, "retry") for m in e.data["messages"])
    assert retried == [0, 1, 2, 3, 4]
    # idempotence off: every one of them is written twice
    assert r.ledger.log_duplicates() == [0, 1, 2, 3, 4]


def test_a_lost_response_follows_the_same_rule():
    r = simulate(SINGLES, [{"type": "lose_response", "message": 0}])
    assert sorted(m for e in kinds(r, "retry") for m in e.data["messages"]) == [0, 1, 2, 3, 4]


# -- 5. auto.commit.interval.ms=0 -----------------------------------------------------------
# Fact sheet A: librdkafka "auto.commit.interval.ms=0 disables the commit timer" (rdkafka_cgrp.c
# starts it only for an interval > 0; CONFIGURATION.md "0 = disable"). Java: ConsumerConfig allows
# atLeast(0) and ConsumerCoordinator.maybeAutoCommitOffsetsAsync finds a 0 ms timer expired at
# every poll(), so it commits the previous polls' positions inside every poll().

ZERO = {**PREFILLED, "messages": 12, "max.poll.records": 4, "auto.commit.interval.ms": 0}


def test_librdkafka_interval_zero_disables_the_timer():
    r = simulate({**ZERO, "client.model": "librdkafka"},
                 [{"type": "consumer_crash", "point": "after_processing", "message": 9}])
    crash = kinds(r, "crash")[0]
    assert not [e for e in kinds(r, "commit") if e.t <= crash.t]
    assert kinds(r, "restart")[0].data["resumed"]["0"] == [0, "auto.offset.reset=earliest"]
    # close() still commits the stored offsets (rdkafka_assignment.c, enable.auto.commit)
    assert [e.data["how"] for e in kinds(r, "commit")] == ["on close()"]


def test_java_interval_zero_commits_inside_every_poll():
    r = simulate(ZERO)
    inside = [e.data["offsets"]["0"] for e in kinds(r, "commit") if "inside poll" in e.data["how"]]
    # (already right before issue 12: kept as the Java half of the fact)
    assert inside[1:] == [4, 8] and len(inside) == len(kinds(r, "poll"))


# -- 6. Client-specific names and values ----------------------------------------------------
# librdkafka CONFIGURATION.md: fetch.wait.max.ms (Java: fetch.max.wait.ms), acks "Alias for
# request.required.acks", delivery.timeout.ms "Alias for message.timeout.ms", linger.ms "Alias
# for queue.buffering.max.ms", retries "Alias for message.send.max.retries", auto.offset.reset
# smallest/earliest/beginning, largest/latest/end, error (fact sheet A, librdkafka).


def test_librdkafka_names_and_values_resolve_to_the_canonical_key():
    cfg = resolve({"client.model": "librdkafka", "fetch.wait.max.ms": 100,
                   "request.required.acks": -1, "auto.offset.reset": "error",
                   "queue.buffering.max.ms": 7, "message.send.max.retries": 3,
                   "max.in.flight": 4})
    assert cfg["fetch.max.wait.ms"] == 100 and cfg["acks"] == "all"
    assert cfg["auto.offset.reset"] == "none" and cfg["linger.ms"] == 7
    assert cfg["retries"] == 3 and cfg["max.in.flight.requests.per.connection"] == 4
    assert "fetch.wait.max.ms" not in cfg
    for word, ours in (("smallest", "earliest"), ("beginning", "earliest"),
                       ("largest", "latest"), ("end", "latest")):
        assert resolve({"client.model": "librdkafka",
                        "auto.offset.reset": word})["auto.offset.reset"] == ours


def test_java_mode_names_librdkafka_for_its_names_and_values():
    with pytest.raises(ConfigError, match=r"that is librdkafka's name\); did you mean "
                                          r"'fetch\.max\.wait\.ms'"):
        resolve({"fetch.wait.max.ms": 100})
    with pytest.raises(ConfigError, match="librdkafka's word for 'earliest'"):
        resolve({"auto.offset.reset": "smallest"})
    assert resolve({"acks": "-1"})["acks"] == "all"  # Java's ProducerConfig accepts -1 too


def test_the_config_table_shows_librdkafka_names():
    from kafkalab.model.config import markdown_table
    table = markdown_table()
    assert "`fetch.max.wait.ms` (librdkafka also: `fetch.wait.max.ms`)" in table
    assert "error = none" in table


# -- 13.7: two names of one property, set to different values --------------------------------

def test_two_names_of_one_property_must_agree():
    with pytest.raises(ConfigError, match=r"another name for delivery\.timeout\.ms"):
        resolve({"client.model": "librdkafka", "message.timeout.ms": 1000,
                 "delivery.timeout.ms": 2000})
    same = resolve({"client.model": "librdkafka", "message.timeout.ms": 1000,
                    "delivery.timeout.ms": "1000"})
    assert same["delivery.timeout.ms"] == 1000


# -- 7. Validation Kafka does ----------------------------------------------------------------
# Java KafkaProducer.configureDeliveryTimeout: an explicit delivery.timeout.ms below linger.ms +
# request.timeout.ms is a ConfigException, a defaulted one is raised to the sum. Java
# ProducerConfig.postProcessAndValidateIdempotenceConfigs: a transactional.id with idempotence
# off (even switched off because it was only defaulted) is "Cannot set a transactional.id without
# also enabling idempotence". librdkafka rd_kafka_conf_finalize (rdkafka_conf.c).


def test_java_refuses_an_explicit_delivery_timeout_below_linger_plus_request_timeout():
    with pytest.raises(ConfigError, match=r"delivery\.timeout\.ms should be equal to or larger "
                                          r"than linger\.ms \+ request\.timeout\.ms"):
        resolve({"delivery.timeout.ms": 1000, "linger.ms": 5, "request.timeout.ms": 30000})
    assert resolve({"request.timeout.ms": 200_000})["delivery.timeout.ms"] == 200_005
    # librdkafka has no such rule: its request.timeout.ms is the broker's
    assert resolve({"client.model": "librdkafka", "delivery.timeout.ms": 1000})[
        "delivery.timeout.ms"] == 1000


def test_java_transactional_id_with_idempotence_switched_off_by_a_default():
    with pytest.raises(ConfigError, match=r"^Cannot set a transactional\.id without also enabling "
                                          r"idempotence"):
        resolve({"transactional.id": "t", "acks": "1"})


def test_librdkafka_refuses_transactional_id_with_explicit_idempotence_off():
    with pytest.raises(ConfigError, match=r"`transactional\.id` requires "
                                          r"`enable\.idempotence=true`"):
        resolve({"client.model": "librdkafka", "transactional.id": "t",
                 "enable.idempotence": False})
    assert resolve({"client.model": "librdkafka",
                    "transactional.id": "t"})["enable.idempotence"] is True


def test_librdkafka_message_timeout_defaults_to_transaction_timeout():
    cfg = resolve({"client.model": "librdkafka", "transactional.id": "t",
                   "transaction.timeout.ms": 20_000})
    assert cfg["delivery.timeout.ms"] == 20_000
    assert resolve({"client.model": "librdkafka"})["delivery.timeout.ms"] == 300_000
    with pytest.raises(ConfigError, match=r"must be set <= `transaction\.timeout\.ms`"):
        resolve({"client.model": "librdkafka", "transactional.id": "t",
                 "message.timeout.ms": 90_000})


def test_librdkafka_idempotence_adjusts_defaults_and_refuses_explicit_conflicts():
    cfg = resolve({"client.model": "librdkafka", "enable.idempotence": True})
    assert cfg["acks"] == "all" and cfg["max.in.flight.requests.per.connection"] == 5
    with pytest.raises(ConfigError, match="`acks` must be set to `all`"):
        resolve({"client.model": "librdkafka", "enable.idempotence": True, "acks": "1"})
    with pytest.raises(ConfigError, match=r"`max\.in\.flight` must be set <= 5"):
        resolve({"client.model": "librdkafka", "enable.idempotence": True, "max.in.flight": 6})


def test_kafkalab_keys_are_refused_as_kafkalab_not_as_kafka():
    with pytest.raises(ConfigError, match=r"^kafkalab: commit\.strategy") as info:
        resolve({"commit.strategy": "auto", "enable.auto.commit": False})
    assert info.value.kafka is False
    with pytest.raises(ConfigError) as info:
        resolve({"acks": "2"})
    assert info.value.kafka is True



def test_librdkafka_message_timeout_zero_is_infinite():
    # CONFIGURATION.md message.timeout.ms: "A time of 0 is infinite"
    lost = [{"type": "lose_request", "message": 0, "attempt": a} for a in range(1, 6)]
    r = simulate({"client.model": "librdkafka", "messages": 1, "message.timeout.ms": 0,
                  "socket.timeout.ms": 10, "retry.backoff.ms": 1}, lost)
    assert not kinds(r, "gave_up") and r.ledger.messages[0].acked


# -- 4. librdkafka's client-side timeout is socket.timeout.ms -------------------------------
# Fact sheet B / librdkafka CONFIGURATION.md: request.timeout.ms "is only enforced by the broker";
# "ProduceRequests will use the lesser value of socket.timeout.ms and remaining
# message.timeout.ms for the first message in the batch". Java: request.timeout.ms is the
# client's own wait (NetworkClient).

SLOW_ACK = [{"type": "delay_response", "message": 0, "delay_ms": 100}]
ONE = {"messages": 1, "request.timeout.ms": 50, "auto.offset.reset": "earliest"}


def test_java_retries_after_request_timeout_librdkafka_waits_socket_timeout():
    assert kinds(simulate(ONE, SLOW_ACK), "retry")
    rdk = simulate({**ONE, "client.model": "librdkafka"}, SLOW_ACK)
    assert not kinds(rdk, "retry") and rdk.ledger.messages[0].acked
    short = simulate({**ONE, "client.model": "librdkafka", "socket.timeout.ms": 50}, SLOW_ACK)
    assert "socket.timeout.ms" in kinds(short, "retry")[0].text


def test_librdkafka_waits_no_longer_than_the_remaining_message_timeout():
    r = simulate({**ONE, "client.model": "librdkafka", "message.timeout.ms": 60,
                  "linger.ms": 0}, SLOW_ACK)
    gave_up = kinds(r, "gave_up")
    assert gave_up and gave_up[0].t <= 61


def test_socket_timeout_is_librdkafka_only_and_follows_the_transaction_timeout():
    with pytest.raises(ConfigError, match="librdkafka property"):
        resolve({"socket.timeout.ms": 1000})
    cfg = resolve({"client.model": "librdkafka", "transactional.id": "t",
                   "transaction.timeout.ms": 20_000})
    assert cfg["socket.timeout.ms"] == 19_900
    with pytest.raises(ConfigError, match=r"`socket\.timeout\.ms` must be set <="):
        resolve({"client.model": "librdkafka", "transactional.id": "t",
                 "transaction.timeout.ms": 20_000, "socket.timeout.ms": 30_000})


# -- 3. An expired batch under idempotence (KIP-360) ----------------------------------------
# Fact sheet B: "A batch that expires (delivery.timeout.ms) leaves a sequence gap: the Java
# idempotent producer marks the sequence unresolved, bumps its epoch and resets sequences
# (TransactionManager, KIP-360); only the expired batch fails, later batches are delivered."
# librdkafka drains its in-flight requests and bumps the epoch (rd_kafka_idemp_drain_epoch_bump,
# INTRODUCTION.md "Message timeout considerations").

EXPIRES = {"messages": 10, "linger.ms": 0, "producer.send.interval.ms": 30,
           "enable.idempotence": True, "request.timeout.ms": 20, "delivery.timeout.ms": 100,
           "retry.backoff.ms": 1, "retry.backoff.max.ms": 1, "auto.offset.reset": "earliest"}
NEVER_ARRIVES = [{"type": "lose_request", "message": 3, "attempt": a} for a in range(1, 12)]


@pytest.mark.parametrize("client", ["java", "librdkafka"])
def test_an_expired_batch_bumps_the_epoch_and_later_batches_are_delivered(client):
    extra = {"socket.timeout.ms": 20} if client == "librdkafka" else {}
    r = simulate({**EXPIRES, "client.model": client, **extra}, NEVER_ARRIVES)
    assert [m.id for m in r.ledger.messages if m.gave_up] == [3]
    assert r.ledger.lost() == [3]  # the application was told (send callback error)
    bump = kinds(r, "epoch_bump")
    assert len(bump) == 1 and bump[0].data["epoch"] == 1
    later = [e for e in kinds(r, "append") if e.t > bump[0].t]
    assert later[0].data["epoch"] == 1 and later[0].data["seq"] == 0  # a new epoch starts at 0
    assert all(r.ledger.messages[m].processed for m in range(10) if m != 3)


def test_a_batch_that_expired_but_was_written_needs_no_bump():
    # TransactionManager.maybeResolveSequences: "a batch was expired, but subsequent batches
    # succeeded": the gap is resolved without a bump
    r = simulate({**EXPIRES, "delivery.timeout.ms": 35, "request.timeout.ms": 35},
                 [{"type": "lose_response", "message": 3}])
    assert r.ledger.messages[3].gave_up and r.ledger.messages[3].copies
    assert not kinds(r, "epoch_bump") and r.outcome["lost"] == 0


# -- 8. A broker with no state for a producer accepts any first sequence -------------------------
# Fact sheet B; ProducerAppendInfo.checkSequence: "If there is no current producer epoch ...
# accept writes with any sequence number".


def test_a_broker_without_state_for_the_pid_accepts_a_non_zero_first_sequence():
    from kafkalab.model.broker import Broker
    broker = Broker()
    broker.create_topic("t", 1)
    first = broker.produce("t", 0, [7], pid=1000, epoch=0, base_seq=5, transactional=False, now=0)
    assert first.error is None and first.base_offset == 0
    gap = broker.produce("t", 0, [8], pid=1000, epoch=0, base_seq=9, transactional=False, now=1)
    assert gap.error == "OUT_OF_ORDER_SEQUENCE"  # with state, a gap is still refused
    bumped = broker.produce("t", 0, [9], pid=1000, epoch=1, base_seq=3, transactional=False,
                            now=2)
    assert bumped.error == "OUT_OF_ORDER_SEQUENCE"  # a new epoch must start at 0


def test_a_lost_request_takes_the_later_requests_on_its_connection_with_it():
    # The broker reads one connection's requests in order (fact sheet B): a request that never
    # arrives means the connection broke, so the later ones did not arrive either; all are
    # retried in order and an idempotent producer loses nothing, although the broker would
    # have taken seq 1 first (no state for the PID yet).
    r = simulate({**SINGLES, "enable.idempotence": True},
                 [{"type": "lose_request", "message": 0}])
    lost = [e for e in kinds(r, "request_lost")]
    assert [e.data["messages"][0] for e in lost] == [0, 1, 2, 3, 4]
    assert [e.data["behind"] for e in lost] == [False, True, True, True, True]
    assert [m.copies[0].offset for m in r.ledger.messages] == [0, 1, 2, 3, 4]
    assert r.outcome["lost"] == 0 and not kinds(r, "rejected")


def test_a_retriable_error_response_writes_nothing_and_is_retried():
    r = simulate({**SINGLES, "enable.idempotence": True},
                 [{"type": "error_response", "message": 2, "error": "NOT_LEADER_OR_FOLLOWER"}])
    assert "NOT_LEADER_OR_FOLLOWER" in kinds(r, "rejected")[0].text
    assert [m.copies[0].offset for m in r.ledger.messages] == [0, 1, 2, 3, 4]
    assert r.outcome["lost"] == 0 and r.outcome["log_duplicates"] == 0


# -- 9. explain() names auto.offset.reset when nothing was committed -------------------------
# Fact sheet A: a restarted member resumes from the committed offset; without one,
# auto.offset.reset decides (earliest, latest, none = raise).


def test_explain_never_claims_a_committed_offset_that_does_not_exist():
    r = simulate({**PREFILLED, "messages": 6, "max.poll.records": 6, "enable.auto.commit": False,
                  "commit.strategy": "per-batch"},
                 [{"type": "consumer_crash", "point": "after_processing", "message": 3}])
    assert r.ledger.duplicates() == [0, 1, 2, 3]
    text = r.explain(1)
    assert "committed offset 0" not in text and "from the committed offset" not in text
    assert "no committed offset for partition 0, so auto.offset.reset=earliest chose offset 0" \
        in text


def test_explain_says_from_the_committed_offset_when_there_is_one():
    r = simulate({**PREFILLED, "messages": 6, "max.poll.records": 2, "enable.auto.commit": False,
                  "commit.strategy": "per-batch"},
                 [{"type": "consumer_crash", "point": "after_processing", "message": 3}])
    assert "resumed partition 0 from the committed offset 2" in r.explain(2)


def test_explain_tells_of_the_epoch_bump_that_let_a_message_through():
    r = simulate(EXPIRES, NEVER_ARRIVES)
    assert "bumps its epoch" in r.explain(4) and "gave up" in r.explain(3)


# -- 11. Two log counts, two names ------------------------------------------------------------

def test_messages_written_more_than_once_and_extra_copies_are_two_numbers():
    r = simulate({**SINGLES, "enable.idempotence": False, "messages": 2},
                 [{"type": "lose_response", "message": 0},
                  {"type": "lose_response", "message": 0, "attempt": 2}])
    # both messages were in flight on the connection each time: each is written three times
    assert [len(m.copies) for m in r.ledger.messages] == [3, 3]
    out = r.outcome
    assert out["written_more_than_once"] == out["log_duplicates"] == 2
    assert out["extra_copies"] == 4 and r.ledger.written_more_than_once() == [0, 1]


# -- 10. Fetch fairness -------------------------------------------------------------------------
# Fact sheet G: Java drains a partition's buffered fetch, then moves a partition that returned data
# to the end of the next Fetch (SubscriptionState.movePartitionToEnd, CompletedFetch.drain);
# librdkafka rotates each FetchRequest's start partition (rdkafka_fetcher.c).


@pytest.mark.parametrize("client", ["java", "librdkafka"])
def test_a_busy_low_partition_does_not_starve_the_others(client):
    r = simulate({"client.model": client, "messages": 60, "partitions": 2,
                  "producer.send.interval.ms": 1, "linger.ms": 0, "processing.ms": 3,
                  "max.poll.records": 2,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "commit.strategy": "per-batch"})
    polls = [e for e in kinds(r, "poll") if e.data["records"]]
    first_p1 = next(i for i, e in enumerate(polls) if any(rec[0] == 1 for rec in e.data["records"]))
    last_p0 = max(i for i, e in enumerate(polls) if any(rec[0] == 0 for rec in e.data["records"]))
    assert first_p1 < last_p0 / 4  # partition 1 is served early, not after partition 0 dries up
    assert r.outcome["lost"] == 0 and r.outcome["duplicates"] == 0


# -- Express: what users need to say ----------------------------------------------------------

def test_a_producer_that_starts_after_the_consumer():
    # Fact sheet A: auto.offset.reset applies only without a committed offset; a consumer that
    # joins an empty topic with latest starts at 0 and sees everything written later.
    late = simulate({"producer.send.interval.ms": 0, "producer.start.ms": 50, "messages": 5,
                     "auto.offset.reset": "latest"})
    assert late.outcome["lost"] == 0
    assert kinds(late, "send")[0].t >= 50 > kinds(late, "join")[0].t
    early = simulate({"producer.send.interval.ms": 0, "consumer.start.ms": 50, "messages": 5,
                      "auto.offset.reset": "latest"})
    assert early.outcome["lost"] == 5


TXN = {"messages": 10, "transactional.id": "tx", "transaction.messages": 5,
       "isolation.level": "read_committed", "auto.offset.reset": "earliest",
       "producer.send.interval.ms": 1, "transaction.timeout.ms": 1000}


def test_the_application_aborts_a_transaction_and_sends_it_again():
    # Fact sheet C: abortTransaction = EndTxn(abort): abort markers; read_committed skips them
    r = simulate(TXN, [{"type": "abort_transaction", "transaction": 1}])
    assert [e.data["control"] for e in kinds(r, "marker")] == ["abort", "commit", "commit"]
    assert r.outcome["aborted_copies"] == 5 and r.outcome["lost"] == 0
    assert r.outcome["duplicates"] == 0 and r.ledger.messages[0].sends == 2
    dropped = simulate(TXN, [{"type": "abort_transaction", "transaction": 1, "resend": False}])
    assert dropped.ledger.lost() == [0, 1, 2, 3, 4]


def test_a_transaction_left_open_holds_read_committed_readers_until_the_coordinator_aborts():
    # Fact sheet C: LSO = first offset of an open transaction; transaction.timeout.ms -> the
    # coordinator aborts proactively
    r = simulate(TXN, [{"type": "leave_transaction_open", "transaction": 2}])
    abort = next(e for e in kinds(r, "txn_abort") if e.actor == "coordinator")
    assert abort.t >= 1000 and kinds(r, "txn_left_open")
    assert r.ledger.lost() == [5, 6, 7, 8, 9] and r.outcome["aborted_copies"] == 5
    late = simulate(TXN, [{"type": "leave_transaction_open", "transaction": 2, "for_ms": 300}])
    assert late.outcome["lost"] == 0 and min(late.ledger.messages[9].processed) > 300


def test_a_transaction_action_needs_a_transactional_producer():
    from kafkalab.model import FaultError
    with pytest.raises(FaultError, match="not transactional"):
        simulate({"messages": 3}, [{"type": "abort_transaction", "transaction": 1}])


def test_a_pause_before_processing_lets_librdkafkas_timer_commit_ahead():
    # Fact sheet E: librdkafka auto-commit, interval 100 ms, 10 consumed, 3 processed, crash:
    # the restart resumes at 10 (offsets 3-9 lost). The pause is not processing: the record is
    # not processed when the crash comes.
    cfg = {**PREFILLED, "client.model": "librdkafka", "messages": 10, "max.poll.records": 10,
           "auto.commit.interval.ms": 100}
    crash = {"type": "consumer_crash", "point": "before_processing", "message": 3}
    paused = simulate(cfg, [{"type": "pause", "message": 3, "ms": 150}, crash])
    assert kinds(paused, "restart")[0].data["resumed"]["0"] == [10, "committed offset"]
    assert paused.ledger.lost() == [3, 4, 5, 6, 7, 8, 9]
    assert not paused.ledger.messages[3].processed
    at_once = simulate(cfg, [crash])
    assert at_once.outcome["lost"] == 0


def test_explain_names_a_transaction_never_committed_as_the_reason_a_message_is_unseen():
    """kafka-semantics.md §C: read_committed reads only below the LSO, and an open transaction
    holds the LSO at its first offset. An unseen message in a never-committed transaction must be
    explained by that, not by "the run stopped" (issue 14.1's feedback rule)."""
    cfg = {"messages": 5, "transactional.id": "t", "commit.strategy": "per-batch",
           "isolation.level": "read_committed", "auto.offset.reset": "earliest",
           "transaction.messages": 100, "max.simulated.ms": 30000,
           "transaction.timeout.ms": 600000}
    r = simulate(cfg, [{"type": "leave_transaction_open", "transaction": 1, "for_ms": 100000}])
    assert r.outcome["unseen"] == 5 and not r.outcome["drained"]
    text = r.explain(2)
    assert "never committed" in text and "last stable offset" in text
    assert "max.simulated.ms" not in text


def test_linger_counts_from_the_first_record_of_the_batch_however_fast_records_arrive():
    """Java RecordAccumulator.ready(): a batch is sendable once linger.ms has passed since it was
    created (its first record), or when it is full. Records arriving every 1 ms with
    linger.ms=5 must not hold the batch back until the producer flushes at the end."""
    r = simulate({"messages": 20, "producer.send.interval.ms": 1, "linger.ms": 5})
    produces = [e for e in r.events if e.kind == "produce"]
    assert len(produces) >= 3, [e.text for e in produces]
    first = produces[0]
    assert first.t <= 1 + 5 + 2, first.t  # first record at t≈1, plus linger, plus scheduling
    assert len(first.data["messages"]) < 20
