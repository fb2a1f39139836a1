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

