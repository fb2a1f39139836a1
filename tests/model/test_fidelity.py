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
