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
