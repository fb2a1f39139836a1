"""Workload descriptions for real-client runs, the supported registry and what is not comparable.

Pure data and validation: importing this module never imports confluent_kafka.

A workload is a JSON-compatible dict::

    {
      "name": "commit-after-processing-redelivers",
      "title": "one line for people",
      "messages": 10,                      # ids 0..N-1, one partition (partition 0)
      "producer": {                        # librdkafka producer settings (optional)
          "acks": "all", "enable.idempotence": False,
      },
      "broker_fault": None | {             # needs the ctypes mock cluster (mock_cluster.py)
          "type": "delay-produce-response",
          "delay_ms": 2000,                # the first Produce response comes this late...
          "socket_timeout_ms": 500,        # ...after the producer gave up waiting: it retries
      } | {                                # 3 brokers, the topic with 3 replicas (issue 18):
          "type": "produce-errors",        # the next `count` Produce requests are refused
          "error": "NOT_ENOUGH_REPLICAS" | "NOT_LEADER_OR_FOLLOWER",  # without appending
          "count": 2,
      } | {
          "type": "leader-failover",       # the producer sends one message at a time; once
          "after": 5,                      # `after` are acknowledged the leader moves from
          "old_leader": "down" | "up",     # broker 1 to 2 (broker 1 down, or a follower)
      },
      "produce_after_start": 0,            # the last k messages are produced only once the
                                           # first consumer knows where it starts
      "consumer": {
          "commit": "auto" | "before-processing" | "after-each" | "after-batch"
                    | "store-after-processing",
          "auto_commit_interval_ms": 100,  # auto / store-after-processing; 0 = no timer
          "batch": 10,                     # records taken per consume() round
          "processing_ms": 0,              # each record's processing takes this long
          "subscribe": False,              # True: subscribe() (a group join, max.poll.interval.ms
                                           # enforced) instead of assign() at the committed offset
          "config": {...},                 # extra librdkafka consumer settings (optional)
      },
      "slow": None | {"record": 3, "ms": 4500},  # processing one record takes this much longer
      "crash": None | {                    # first consumer process dies with os._exit
          "point": "before-process" | "after-process",
          "record": 2,                     # 0-based index of the record in delivery order
          "wait_ms": 500,                  # the process lives this long first
      },
      "failure": None | {                  # processing of one record raises
          "record": 3,
          "then": "skip" | "raise",        # skip: log it, go on; raise: escape loop, close()
      },
      "restart": True,                     # a fresh consumer resumes from the committed offset
      "expect": {"lost": ">0", "duplicates": "==0", "resumed_from": 10},  # checked by tests
    }

Commit strategies: ``auto`` = librdkafka's background auto-commit with
``enable.auto.offset.store=true`` (offsets stored as records are handed out); ``before-processing``
= synchronous commit of the batch's next offset right after consume(), then processing;
``after-each`` = process, then synchronous commit of that record's offset + 1; ``after-batch`` =
process the whole batch, then one synchronous commit; ``store-after-processing`` = librdkafka's
at-least-once pattern: ``enable.auto.offset.store=false``, the application calls
``store_offsets()`` after processing each record, and the background auto-commit commits what
was stored (``auto.commit.interval.ms=0`` turns that timer off: only ``close()`` commits).
"""

from __future__ import annotations

import copy
from typing import Any

from ..expect import check as expect_check

COMMIT_MODES = ("auto", "before-processing", "after-each", "after-batch",
                "store-after-processing")
#: Commit modes that use librdkafka's background auto-commit (enable.auto.commit=true).
AUTO_COMMIT_MODES = ("auto", "store-after-processing")
CRASH_POINTS = ("before-process", "after-process")
FAILURE_HANDLING = ("skip", "raise")
BROKER_FAULTS = ("delay-produce-response", "produce-errors", "leader-failover")
#: Broker faults that need a cluster of several brokers (replication; issue 18): the mock
#: cluster then has :data:`REPLICATION_BROKERS` brokers and the topic that many replicas.
REPLICATION_FAULTS = ("produce-errors", "leader-failover")
REPLICATION_BROKERS = 3
FIRST_LEADER = 1  # the mock broker that leads partition 0 at first (mock ids count from 1)
NEXT_LEADER = 2  # ...and the one a leader-failover moves the leadership to
#: Produce errors a ``produce-errors`` fault may inject (Kafka's names; librdkafka calls
#: NOT_LEADER_OR_FOLLOWER by its older name NOT_LEADER_FOR_PARTITION, the same code 6).
PRODUCE_ERROR_CODES = {"NOT_ENOUGH_REPLICAS": 19, "NOT_LEADER_OR_FOLLOWER": 6}
OUTCOME_KEYS = (
    "sent",
    "acked",
    "written",
    "delivered",
    "processed",
    "lost",
    "duplicates",
    "log_duplicates",
    "written_more_than_once",
    "extra_copies",
    "resumed_from",
)

#: librdkafka settings a workload may not set: the run chooses where clients connect.
FORBIDDEN_CONFIG = (
    "bootstrap.servers",
    "metadata.broker.list",
    "test.mock.num.brokers",
    "test.mock.broker.rtt",
    "group.id",
    "client.rack",
)
_FORBIDDEN_PREFIXES = ("test.mock.", "sasl.", "ssl.", "security.")
#: The consumer settings every session uses unless the workload's consumer.config overrides
#: them, and the producer's unless its producer settings do (kafkalab.crosscheck hands exactly
#: these to the simulation too).
CONSUMER_BASE_CONFIG: dict[str, Any] = {
    "auto.offset.reset": "earliest",
    "isolation.level": "read_uncommitted",
    "fetch.wait.max.ms": 50,
    "socket.timeout.ms": 5000,
    "session.timeout.ms": 6000,
}
PRODUCER_BASE_CONFIG: dict[str, Any] = {"acks": "all", "linger.ms": 5,
                                        "message.timeout.ms": 10000}
#: Consumer settings the workload's ``commit`` mode decides (set them through it, not config).
COMMIT_OWNED_CONFIG = ("enable.auto.commit", "enable.auto.offset.store", "enable.partition.eof")


class WorkloadError(ValueError):
    """A workload description is malformed."""


def _base(name: str, title: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "messages": 10,
        "producer": {"acks": "all", "enable.idempotence": False},
        "broker_fault": None,
        "produce_after_start": 0,
        "consumer": {"commit": "auto", "auto_commit_interval_ms": 5000, "batch": 10,
                     "processing_ms": 0, "subscribe": False, "config": {}},
        "slow": None,
        "crash": None,
        "failure": None,
        "restart": True,
        "expect": {},
    }


def _auto_commit_loses() -> dict[str, Any]:
    w = _base(
        "auto-commit-librdkafka-loses",
        "librdkafka auto-commit (100 ms) commits a batch handed out but only partly processed",
    )
    w["consumer"].update(commit="auto", auto_commit_interval_ms=100)
    w["crash"] = {"point": "after-process", "record": 2, "wait_ms": 500}
    w["expect"] = {"lost": ">0", "duplicates": "==0", "log_duplicates": "==0", "resumed_from": 10}
    return w


def _auto_commit_redelivers() -> dict[str, Any]:
    w = _base(
        "auto-commit-long-interval-redelivers",
        "auto-commit interval (60 s) never elapses before the crash: the batch is re-delivered",
    )
    w["consumer"].update(commit="auto", auto_commit_interval_ms=60000)
    w["crash"] = {"point": "after-process", "record": 2, "wait_ms": 500}
    w["expect"] = {"lost": "==0", "duplicates": ">0", "log_duplicates": "==0", "resumed_from": 0}
    return w


def _commit_before_loses() -> dict[str, Any]:
    w = _base(
        "commit-before-processing-loses",
        "commit the batch's offsets right after consume(), crash mid-batch: at-most-once",
    )
    w["consumer"].update(commit="before-processing")
    w["crash"] = {"point": "after-process", "record": 2, "wait_ms": 0}
    w["expect"] = {"lost": ">0", "duplicates": "==0", "log_duplicates": "==0", "resumed_from": 10}
    return w


def _commit_after_redelivers() -> dict[str, Any]:
    w = _base(
        "commit-after-processing-redelivers",
        "process then commit each record; crash after processing record 2, before its commit",
    )
    w["consumer"].update(commit="after-each")
    w["crash"] = {"point": "after-process", "record": 2, "wait_ms": 0}
    w["expect"] = {"lost": "==0", "duplicates": ">0", "log_duplicates": "==0", "resumed_from": 2}
    return w


def _non_idempotent_duplicates() -> dict[str, Any]:
    w = _base(
        "non-idempotent-producer-duplicates",
        "a Produce response arrives after the producer timed out: it retries a written batch",
    )
    w["producer"] = {"acks": "all", "enable.idempotence": False, "linger.ms": 5}
    w["broker_fault"] = {
        "type": "delay-produce-response",
        "delay_ms": 2000,
        "socket_timeout_ms": 500,
    }
    w["consumer"].update(commit="after-each")
    w["restart"] = False
    w["expect"] = {
        "lost": "==0",
        "log_duplicates": ">0",
        "duplicates": ">0",
        "acked": "==sent",
        "resumed_from": None,
    }
    return w


def _close_on_error_loses() -> dict[str, Any]:
    w = _base(
        "auto-commit-close-on-error-loses",
        "an exception escapes the poll loop; close() commits the whole batch's stored offsets",
    )
    w["consumer"].update(commit="auto", auto_commit_interval_ms=60000)
    w["failure"] = {"record": 3, "then": "raise"}
    w["expect"] = {"lost": ">0", "duplicates": "==0", "log_duplicates": "==0", "resumed_from": 10}
    return w


def _store_after_processing_resumes() -> dict[str, Any]:
    w = _base(
        "store-after-processing-resumes-at-last-store",
        "librdkafka at-least-once: store each offset after processing; the 100 ms timer commits "
        "the last store before the crash (after processing record 4, before storing it), "
        "mid-batch: only record 4 is processed twice",
    )
    w["consumer"].update(commit="store-after-processing", auto_commit_interval_ms=100)
    w["crash"] = {"point": "after-process", "record": 4, "wait_ms": 500}
    w["expect"] = {"lost": "==0", "duplicates": "==1", "resumed_from": 4}
    return w


def _store_after_processing_close_on_error() -> dict[str, Any]:
    w = _base(
        "store-after-processing-close-on-error-keeps",
        "an exception escapes the poll loop; close() commits only what was stored after "
        "processing, so the failed record is read again",
    )
    w["consumer"].update(commit="store-after-processing", auto_commit_interval_ms=60000)
    w["failure"] = {"record": 3, "then": "raise"}
    w["expect"] = {"lost": "==0", "duplicates": "==0", "resumed_from": 3}
    return w


def _store_after_processing_skip() -> dict[str, Any]:
    w = _base(
        "store-after-processing-skip-loses-one",
        "a processing error is logged and skipped (its offset stored anyway): that record is lost",
    )
    w["consumer"].update(commit="store-after-processing", auto_commit_interval_ms=100, batch=4)
    w["failure"] = {"record": 5, "then": "skip"}
    w["expect"] = {"lost": "==1", "duplicates": "==0", "resumed_from": None}
    return w


def _interval_zero(mode: str) -> dict[str, Any]:
    label = "auto" if mode == "auto" else "store"
    w = _base(
        f"{label}-commit-interval-0-no-timer",
        f"librdkafka auto.commit.interval.ms=0 ({mode}) turns the commit timer off: "
        "nothing is committed before the crash, the restart re-reads from the start",
    )
    w["consumer"].update(commit=mode, auto_commit_interval_ms=0)
    w["crash"] = {"point": "after-process", "record": 3, "wait_ms": 500}
    w["expect"] = {"lost": "==0", "duplicates": "==4", "resumed_from": 0}
    return w


def _per_batch_crash_mid_batch() -> dict[str, Any]:
    w = _base(
        "commit-per-batch-crash-mid-batch",
        "commit after each batch of 4; crash after processing record 5, mid second batch: "
        "that batch is re-delivered",
    )
    w["consumer"].update(commit="after-batch", batch=4)
    w["crash"] = {"point": "after-process", "record": 5, "wait_ms": 0}
    w["expect"] = {"lost": "==0", "duplicates": "==2", "resumed_from": 4}
    return w


def _per_batch_crash_before_process() -> dict[str, Any]:
    w = _base(
        "commit-per-batch-crash-before-process",
        "commit after each batch of 3; crash before processing record 7: record 6 is "
        "processed twice",
    )
    w["consumer"].update(commit="after-batch", batch=3, processing_ms=2)
    w["crash"] = {"point": "before-process", "record": 7, "wait_ms": 0}
    w["expect"] = {"lost": "==0", "duplicates": "==1", "resumed_from": 6}
    return w


def _before_processing_small_batches() -> dict[str, Any]:
    w = _base(
        "commit-before-processing-small-batches-loses",
        "commit each batch of 4 right after consume(); crash after record 5: records 6 and 7 "
        "were committed, never processed",
    )
    w["consumer"].update(commit="before-processing", batch=4)
    w["crash"] = {"point": "after-process", "record": 5, "wait_ms": 0}
    w["expect"] = {"lost": "==2", "duplicates": "==0", "resumed_from": 8}
    return w


def _skip_on_error() -> dict[str, Any]:
    w = _base(
        "commit-after-each-skip-loses-one",
        "commit after each record; a processing error is logged and skipped: that record is lost",
    )
    w["consumer"].update(commit="after-each", batch=5)
    w["failure"] = {"record": 4, "then": "skip"}
    w["expect"] = {"lost": "==1", "duplicates": "==0", "resumed_from": None}
    return w


def _reset(which: str) -> dict[str, Any]:
    lost = "==6" if which == "latest" else "==0"
    w = _base(
        f"auto-offset-reset-{which}-new-group",
        f"a new group (no committed offset) starts while the producer is still writing: "
        f"auto.offset.reset={which} "
        + ("skips the 6 messages already in the log" if which == "latest"
           else "reads them all"),
    )
    w["produce_after_start"] = 4
    w["consumer"].update(commit="after-each", config={"auto.offset.reset": which})
    w["restart"] = False
    w["expect"] = {"lost": lost, "duplicates": "==0", "resumed_from": None}
    return w


def _in_flight_first_delayed() -> dict[str, Any]:
    w = _base(
        "single-record-requests-first-response-delayed",
        "five single-record Produce requests in flight on one connection; the first response is "
        "late, the later ones queue behind it: every request times out and is retried",
    )
    w["messages"] = 5
    w["producer"] = {"acks": "all", "enable.idempotence": False, "linger.ms": 0,
                     "batch.num.messages": 1}
    w["broker_fault"] = {"type": "delay-produce-response", "delay_ms": 2000,
                         "socket_timeout_ms": 500}
    w["consumer"].update(commit="after-each")
    w["restart"] = False
    w["expect"] = {"lost": "==0", "duplicates": "==5", "acked": "==sent", "resumed_from": None}
    return w


def _max_poll_exceeded() -> dict[str, Any]:
    w = _base(
        "slow-record-exceeds-max-poll-interval",
        "subscribe(); record 3 takes 7 s, beyond max.poll.interval.ms=3000: the member is "
        "dropped from the group, its later commits fail, it rejoins at the last commit and "
        "processes records 3-9 again",
    )
    w["consumer"].update(commit="after-each", subscribe=True,
                         config={"session.timeout.ms": 3000, "max.poll.interval.ms": 3000})
    # 7 s, not 4.5: librdkafka leaves the group 3.0-4.0 s after the last poll (its check runs
    # about once a second), later on a busy machine; the record must outlast that with room
    w["slow"] = {"record": 3, "ms": 7000}
    w["restart"] = False
    w["expect"] = {"lost": "==0", "duplicates": "==7", "resumed_from": None}
    return w


_FACTORIES = (
    _auto_commit_loses,
    _auto_commit_redelivers,
    _commit_before_loses,
    _commit_after_redelivers,
    _non_idempotent_duplicates,
    _close_on_error_loses,
    _store_after_processing_resumes,
    _store_after_processing_close_on_error,
    _store_after_processing_skip,
    lambda: _interval_zero("auto"),
    lambda: _interval_zero("store-after-processing"),
    _per_batch_crash_mid_batch,
    _per_batch_crash_before_process,
    _before_processing_small_batches,
    _skip_on_error,
    lambda: _reset("latest"),
    lambda: _reset("earliest"),
    _in_flight_first_delayed,
    _max_poll_exceeded,
)

#: Supported workloads, by name. Use :func:`get_workload` for a copy you may change.
WORKLOADS: dict[str, dict[str, Any]] = {f()["name"]: f() for f in _FACTORIES}


# -- replication (issue 18): a 3-broker mock cluster, the topic with 3 replicas ---------------


#: linger.ms of a produce-errors workload (unless it sets its own): the refusals are counted
#: per Produce request, so all messages must go in one request, as the simulation sends them.
#: With the base 5 ms a busy machine once split the ten produce() calls into two requests,
#: each refused once and retried once: retries=1 then acknowledged all ten instead of none.
#: flush() sends at once whatever the linger, so the real run is not slower.
ONE_REQUEST_LINGER_MS = 500


def _replicated(name: str, title: str, fault: dict[str, Any], producer: dict[str, Any],
                expect: dict[str, Any]) -> dict[str, Any]:
    w = _base(name, title)
    if fault["type"] == "produce-errors":
        producer = {"linger.ms": ONE_REQUEST_LINGER_MS, **producer}
    w["producer"] = {"acks": "all", "enable.idempotence": False, **producer}
    w["broker_fault"] = fault
    w["consumer"].update(commit="after-each")
    w["restart"] = False
    w["expect"] = {"resumed_from": None, **expect}
    return w


_ALL_ONCE = {"acked": "==sent", "written": "==sent", "lost": "==0", "duplicates": "==0",
             "log_duplicates": "==0"}


def _errors_retried(error: str, count: int, producer: dict[str, Any],
                    suffix: str = "") -> dict[str, Any]:
    short = {"NOT_ENOUGH_REPLICAS": "not-enough-replicas",
             "NOT_LEADER_OR_FOLLOWER": "not-leader"}[error]
    shown = ", ".join(f"{k}={v}" for k, v in producer.items())
    return _replicated(
        f"produce-{short}-retried{suffix}",
        f"the leader refuses the first {count} Produce request(s) with {error} (retriable, "
        f"nothing written){' with ' + shown if shown else ''}: the producer retries, every "
        "message is written once and acknowledged",
        {"type": "produce-errors", "error": error, "count": count}, producer, _ALL_ONCE)


def _retries_exhausted() -> dict[str, Any]:
    return _replicated(
        "produce-not-enough-replicas-retries-exhausted",
        "retries=1 and two NOT_ENOUGH_REPLICAS answers: the producer gives up after its one "
        "retry, nothing is acknowledged or written",
        {"type": "produce-errors", "error": "NOT_ENOUGH_REPLICAS", "count": 2},
        {"retries": 1},
        {"acked": "==0", "written": "==0", "lost": "==sent", "duplicates": "==0"})


def _failover(producer: dict[str, Any], old_leader: str = "down",
              suffix: str = "") -> dict[str, Any]:
    shown = ", ".join(f"{k}={v}" for k, v in producer.items())
    how = ("broker 1 goes down" if old_leader == "down" else
           "broker 1 stays up as a follower")
    return _replicated(
        f"leader-failover-keeps-acknowledged{suffix}",
        f"one message at a time; after 5 are acknowledged the partition's leader moves from "
        f"broker 1 to broker 2 ({how}){' with ' + shown if shown else ''}: the next send "
        "finds the old leader gone, the producer refreshes its metadata and retries on the "
        "new one; nothing acknowledged is lost, nothing is written twice",
        {"type": "leader-failover", "after": 5, "old_leader": old_leader}, producer, _ALL_ONCE)


#: Replication workloads the CI's crosscheck runs (fast: 1-3 s each); the deeper ones are in
#: :data:`DEEP_WORKLOADS`.
WORKLOADS.update({w["name"]: w for w in (
    _errors_retried("NOT_ENOUGH_REPLICAS", 2, {}),
    _retries_exhausted(),
    _failover({}),
)})

#: More workloads, run by ``make crosscheck-deep`` (``python -m kafkalab.crosscheck --deep``)
#: and :func:`kafkalab.crosscheck.crosscheck` with ``deep=True``, not by the CI's test subset.
DEEP_WORKLOADS: dict[str, dict[str, Any]] = {w["name"]: w for w in (
    _errors_retried("NOT_LEADER_OR_FOLLOWER", 3, {"retries": 1}, "-uncounted"),
    _errors_retried("NOT_ENOUGH_REPLICAS", 2, {"enable.idempotence": True}, "-idempotent"),
    _errors_retried("NOT_LEADER_OR_FOLLOWER", 2, {"acks": "1"}, "-acks-1"),
    # one record per request, all in flight at once: the three refused first requests are
    # retried after the later ones were written, so messages 0-2 end up at offsets 7-9
    _errors_retried("NOT_ENOUGH_REPLICAS", 3, {"linger.ms": 0, "batch.num.messages": 1},
                    "-single-record-requests-reordered"),
    _failover({"acks": "1"}, suffix="-acks-1"),
    _failover({"enable.idempotence": True}, suffix="-idempotent"),
    _failover({}, old_leader="up", suffix="-old-leader-up"),
    _failover({"acks": "1"}, old_leader="up", suffix="-acks-1-old-leader-up"),
)}

#: Scenarios the simulation teaches that cannot be checked against librdkafka's mock cluster,
#: with the reason (kafka-semantics.md, section E, "known mock gaps").
NOT_COMPARABLE: dict[str, str] = {
    "idempotent-producer-dedup": (
        "the mock cluster does not de-duplicate an idempotent producer's retries outside a "
        "transaction (real brokers drop a batch matching one of the last 5 per producer/partition)"
    ),
    "read-committed-lso": (
        "the mock cluster does not honour read_committed / the last stable offset (LSO)"
    ),
    "zombie-fencing": (
        "the mock cluster does not fence a zombie producer whose epoch was bumped by a new "
        "instance with the same transactional.id"
    ),
    "transactional-offset-commit": (
        "the mock cluster does not store offsets committed through a transaction "
        "(sendOffsetsToTransaction / TxnOffsetCommit)"
    ),
    "exactly-once-consume-transform-produce": (
        "needs transactional offset commits and read_committed, which the mock cluster does "
        "not implement"
    ),
    "replica-data-loss": (
        "the mock cluster does not lose acknowledged data when a leader fails (acks=1 loss, "
        "unclean leader election are not modelled)"
    ),
    "static-membership": (
        "the mock cluster ignores group.instance.id: a restarted static member is treated as "
        "a new one, so keeping its assignment without a rebalance cannot be shown"
    ),
    "append-then-error-retry-duplicates": (
        "the mock cluster returns an injected produce error without appending the batch, so "
        "NOT_ENOUGH_REPLICAS_AFTER_APPEND (written, then the retry duplicates it) cannot be shown"
    ),
    "leader-failover": (
        "the mock cluster does not move a partition's leader when its broker goes down (only "
        "an explicit leader change does), and keeps one log per partition"
    ),
    "rebalance-takeover-timing": (
        "the mock cluster delays JoinGroup by about session.timeout.ms - 1000 ms after a member "
        "expires or joins and checks sessions about once a second, so takeover times are "
        "inflated (offsets and per-message outcomes are compared, never timings)"
    ),
}


# The replication scenarios the mock cluster cannot run (issue 18; fact sheet F, "librdkafka
# mock": one log per partition, no ISR, no high watermark, Produce ignores Acks;
# rdkafka_mock_int.h, rdkafka_mock_handlers.c). What it can run (injected produce errors, an
# explicit leader move) is compared: the replication rows of WORKLOADS and DEEP_WORKLOADS.
NOT_COMPARABLE.update({
    "acks-1-acknowledged-write-lost-on-failover": (
        "the mock cluster keeps one log per partition with no follower copies, so a leader "
        "that acknowledged a write (acks=1) and died before a follower fetched it cannot lose "
        "it: after a leader move the new leader serves the same log"
    ),
    "replica-truncation-on-return": (
        "the mock cluster has no per-replica logs, so a returning old leader has nothing to "
        "truncate to the new leader's epoch boundary (KIP-101/279)"
    ),
    "unflushed-tail-machine-failure": (
        "the mock cluster has no disk and no page cache per replica: a broker taken down loses "
        "nothing, so the unflushed log tail a machine failure loses (log.flush.interval.*) "
        "cannot be shown"
    ),
    "unclean-leader-election-loss": (
        "the mock cluster has no ISR and one log per partition, so electing an out-of-sync "
        "replica (unclean.leader.election.enable) loses no committed records there"
    ),
    "isr-shrink-refuses-acks-all": (
        "the mock cluster has no ISR and ignores the request's acks, so a follower falling "
        "behind never makes it answer NOT_ENOUGH_REPLICAS (only an injected error does: "
        "compared in the produce-errors rows)"
    ),
    "high-watermark-hides-unreplicated": (
        "the mock cluster has no high watermark below the log end (no followers to wait for), "
        "so consumers never see records held back until they are replicated"
    ),
})

#: Why each scenario is not comparable, as one machine-readable cause per
#: :data:`NOT_COMPARABLE` entry (the crosscheck report's ``cause``; the reason is for people).
NOT_COMPARABLE_CAUSES: dict[str, str] = {
    "idempotent-producer-dedup": "mock-no-idempotent-dedup",
    "read-committed-lso": "mock-no-lso",
    "zombie-fencing": "mock-no-fencing",
    "transactional-offset-commit": "mock-no-transactional-offsets",
    "exactly-once-consume-transform-produce": "mock-no-transactional-offsets",
    "replica-data-loss": "mock-no-replica-data-loss",
    "static-membership": "mock-ignores-group-instance-id",
    "append-then-error-retry-duplicates": "mock-error-before-append",
    "leader-failover": "mock-no-automatic-leader-election",
    "rebalance-takeover-timing": "mock-group-timing",
    "acks-1-acknowledged-write-lost-on-failover": "mock-no-replica-data-loss",
    "replica-truncation-on-return": "mock-no-replica-data-loss",
    "unflushed-tail-machine-failure": "mock-no-replica-data-loss",
    "unclean-leader-election-loss": "mock-no-replica-data-loss",
    "isr-shrink-refuses-acks-all": "mock-no-isr",
    "high-watermark-hides-unreplicated": "mock-no-isr",
}


def list_workloads() -> list[str]:
    return list(WORKLOADS)


def list_deep_workloads() -> list[str]:
    """The workloads only ``make crosscheck-deep`` runs (:data:`DEEP_WORKLOADS`)."""
    return list(DEEP_WORKLOADS)


def get_workload(name: str) -> dict[str, Any]:
    """A deep copy of a registered workload (:data:`WORKLOADS` or :data:`DEEP_WORKLOADS`)."""
    try:
        return copy.deepcopy(WORKLOADS[name] if name in WORKLOADS else DEEP_WORKLOADS[name])
    except KeyError:
        if name in NOT_COMPARABLE:
            raise WorkloadError(f"not comparable: {NOT_COMPARABLE[name]}") from None
        raise WorkloadError(
            f"unknown workload {name!r}; supported: {', '.join(WORKLOADS)}"
        ) from None


def not_comparable_reason(name: str) -> str | None:
    """'not comparable: ...' text for a scenario the mock cluster cannot run, else None."""
    reason = NOT_COMPARABLE.get(name)
    return None if reason is None else f"not comparable: {reason}"


def not_comparable_parts(workload: dict[str, Any]) -> list[str]:
    """Keys of :data:`NOT_COMPARABLE` that a (normalized) workload runs into on the mock cluster.

    A result from such a run shows what the mock did, not what Kafka does: e.g. with
    ``enable.idempotence=true`` and a retried Produce request the mock appends the batch twice,
    where a real broker answers the retry with the first copy's offsets."""
    parts = []
    idempotent = str(workload["producer"].get("enable.idempotence", False)).lower() == "true"
    fault = workload["broker_fault"]
    if idempotent and fault is not None and fault["type"] == "delay-produce-response":
        # (an injected produce error or a leader move writes nothing twice: comparable)
        parts.append("idempotent-producer-dedup")
    return parts


def _check_config(where: str, conf: Any) -> dict[str, Any]:
    if conf is None:
        return {}
    if not isinstance(conf, dict):
        raise WorkloadError(f"{where} must be a dict of librdkafka settings")
    for key in conf:
        if key in FORBIDDEN_CONFIG or key.startswith(_FORBIDDEN_PREFIXES):
            raise WorkloadError(f"{where} may not set {key!r}: the run chooses the cluster")
        if key == "transactional.id":
            raise WorkloadError(
                "kafkalab.real runs no transactions: not comparable: "
                + NOT_COMPARABLE["transactional-offset-commit"]
            )
    return dict(conf)


def _int(where: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise WorkloadError(f"{where} must be an integer >= {minimum}, got {value!r}")
    return value


# The model's words for what a workload says in its own (kafkalab.model: commit.strategy,
# the fault plan's crash points, on.processing.error, max.poll.records), accepted as
# spellings and stored in the workload's words.
MODEL_WORDS = {
    "commit": {"per-record": "after-each", "per-batch": "after-batch"},
    "crash.point": {"before_processing": "before-process", "after_processing": "after-process"},
    "failure.then": {"close": "raise"},
    "consumer keys": {"max.poll.records": "batch", "processing.ms": "processing_ms"},
}


def _in_workload_words(workload: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``workload`` with the model's words (MODEL_WORDS) replaced by its own."""
    w = dict(workload)
    consumer = w.get("consumer")
    if isinstance(consumer, dict):
        consumer = {MODEL_WORDS["consumer keys"].get(k, k): v for k, v in consumer.items()}
        if isinstance(consumer.get("commit"), str):
            consumer["commit"] = MODEL_WORDS["commit"].get(consumer["commit"],
                                                           consumer["commit"])
        w["consumer"] = consumer
    crash = w.get("crash")
    if isinstance(crash, dict) and isinstance(crash.get("point"), str):
        w["crash"] = {**crash, "point": MODEL_WORDS["crash.point"].get(crash["point"],
                                                                        crash["point"])}
    failure = w.get("failure")
    if isinstance(failure, dict) and isinstance(failure.get("then"), str):
        w["failure"] = {**failure, "then": MODEL_WORDS["failure.then"].get(failure["then"],
                                                                          failure["then"])}
    return w


def normalize(workload: dict[str, Any] | str) -> dict[str, Any]:
    """Validate a workload (or a registered name) and fill defaults; returns a new dict.
    The model's words are accepted too (``per-record`` for ``after-each``, ``close`` for
    ``raise``, ``max.poll.records`` for ``batch``, ``after_processing`` for
    ``after-process``: MODEL_WORDS)."""
    if isinstance(workload, str):
        workload = get_workload(workload)
    if not isinstance(workload, dict):
        raise WorkloadError("a workload is a dict (or the name of a registered workload)")
    workload = _in_workload_words(workload)
    w = _base(str(workload.get("name", "custom")), str(workload.get("title", "")))
    unknown = set(workload) - set(w)
    if unknown:
        raise WorkloadError(f"unknown workload keys: {sorted(unknown)}")
    for key, value in workload.items():
        if key == "consumer":
            if not isinstance(value, dict):
                raise WorkloadError("consumer must be a dict")
            extra = set(value) - set(w["consumer"])
            if extra:
                raise WorkloadError(f"unknown consumer keys: {sorted(extra)}")
            w["consumer"].update(copy.deepcopy(value))
        else:
            w[key] = copy.deepcopy(value)

    w["messages"] = _int("messages", w["messages"], 1)
    if w["messages"] > 1000:
        raise WorkloadError("messages must be at most 1000 (real runs are kept short)")
    w["producer"] = _check_config("producer", w["producer"])
    c = w["consumer"]
    if c["commit"] not in COMMIT_MODES:
        raise WorkloadError(f"consumer.commit must be one of {COMMIT_MODES}")
    c["auto_commit_interval_ms"] = _int("consumer.auto_commit_interval_ms",
                                        c["auto_commit_interval_ms"], 0)
    c["batch"] = _int("consumer.batch", c["batch"], 1)
    c["processing_ms"] = _int("consumer.processing_ms", c["processing_ms"], 0)
    if c["processing_ms"] > 1000:
        raise WorkloadError("consumer.processing_ms must be at most 1000")
    c["config"] = _check_config("consumer.config", c["config"])
    for key in COMMIT_OWNED_CONFIG:
        if key in c["config"]:
            raise WorkloadError(
                f"consumer.config may not set {key!r}: consumer.commit decides it "
                f"(one of {COMMIT_MODES})")
    if not isinstance(c["subscribe"], bool):
        raise WorkloadError("consumer.subscribe must be true or false")
    slow = w["slow"]
    if slow is not None:
        if not isinstance(slow, dict) or set(slow) - {"record", "ms"}:
            raise WorkloadError("slow is {'record': index, 'ms': extra processing time}")
        slow["record"] = _int("slow.record", slow.get("record"), 0)
        slow["ms"] = _int("slow.ms", slow.get("ms"), 1)
        if slow["ms"] > 10000:
            raise WorkloadError("slow.ms must be at most 10000")
        if slow["record"] >= w["messages"]:
            raise WorkloadError("slow.record must be < messages")
    w["produce_after_start"] = _int("produce_after_start", w["produce_after_start"], 0)
    if w["produce_after_start"] >= w["messages"]:
        raise WorkloadError("produce_after_start must be < messages (the first messages are "
                            "written before the consumer starts)")

    crash = w["crash"]
    if crash is not None:
        if not isinstance(crash, dict) or crash.get("point") not in CRASH_POINTS:
            raise WorkloadError(f"crash.point must be one of {CRASH_POINTS}")
        extra = set(crash) - {"point", "record", "wait_ms"}
        if extra:
            raise WorkloadError(f"unknown crash keys: {sorted(extra)}")
        crash["record"] = _int("crash.record", crash.get("record"), 0)
        crash["wait_ms"] = _int("crash.wait_ms", crash.get("wait_ms", 0), 0)
        if crash["wait_ms"] > 5000:
            raise WorkloadError("crash.wait_ms must be at most 5000")
        if crash["record"] >= w["messages"]:
            raise WorkloadError("crash.record must be < messages")
    failure = w["failure"]
    if failure is not None:
        if not isinstance(failure, dict) or failure.get("then") not in FAILURE_HANDLING:
            raise WorkloadError(f"failure.then must be one of {FAILURE_HANDLING}")
        extra = set(failure) - {"record", "then"}
        if extra:
            raise WorkloadError(f"unknown failure keys: {sorted(extra)}")
        failure["record"] = _int("failure.record", failure.get("record"), 0)
        if failure["record"] >= w["messages"]:
            raise WorkloadError("failure.record must be < messages")
    fault = w["broker_fault"]
    if fault is not None:
        if not isinstance(fault, dict) or fault.get("type") not in BROKER_FAULTS:
            raise WorkloadError(f"broker_fault.type must be one of {BROKER_FAULTS}")
        allowed = {"delay-produce-response": {"type", "delay_ms", "socket_timeout_ms"},
                   "produce-errors": {"type", "error", "count"},
                   "leader-failover": {"type", "after", "old_leader"}}[fault["type"]]
        extra = set(fault) - allowed
        if extra:
            raise WorkloadError(f"unknown broker_fault keys: {sorted(extra)}")
    if fault is not None and fault["type"] in REPLICATION_FAULTS:
        _check_replication_fault(w, fault)
    elif fault is not None:
        fault["delay_ms"] = _int("broker_fault.delay_ms", fault.get("delay_ms", 2000), 1)
        fault["socket_timeout_ms"] = _int(
            "broker_fault.socket_timeout_ms", fault.get("socket_timeout_ms", 500), 10
        )
        if fault["delay_ms"] > 5000:
            raise WorkloadError("broker_fault.delay_ms must be at most 5000")
        if fault["delay_ms"] < fault["socket_timeout_ms"] + 1000:
            # librdkafka scans for timed-out requests once a second.
            raise WorkloadError(
                "broker_fault.delay_ms must exceed socket_timeout_ms by at least 1000 ms "
                "(librdkafka checks request timeouts once per second)"
            )
    if fault is not None and w["produce_after_start"]:
        raise WorkloadError("a broker fault together with produce_after_start is not supported "
                            "(the fault is aimed at the first Produce request)")
    if not isinstance(w["restart"], bool):
        raise WorkloadError("restart must be true or false")
    if not isinstance(w["expect"], dict):
        raise WorkloadError("expect must be a dict")
    return w


def _check_replication_fault(w: dict[str, Any], fault: dict[str, Any]) -> None:
    if fault["type"] == "produce-errors":
        fault.setdefault("error", "NOT_ENOUGH_REPLICAS")
        if fault["error"] not in PRODUCE_ERROR_CODES:
            raise WorkloadError(f"broker_fault.error must be one of {tuple(PRODUCE_ERROR_CODES)}")
        fault["count"] = _int("broker_fault.count", fault.get("count", 1), 1)
        if fault["count"] > 5:
            raise WorkloadError("broker_fault.count must be at most 5 (real runs are kept "
                                "short: each refused attempt waits a retry backoff)")
    else:
        fault["after"] = _int("broker_fault.after", fault.get("after", 1), 1)
        if fault["after"] >= w["messages"]:
            raise WorkloadError("broker_fault.after must be < messages (some messages are "
                                "sent after the leader moved)")
        fault.setdefault("old_leader", "down")
        if fault["old_leader"] not in ("down", "up"):
            raise WorkloadError("broker_fault.old_leader must be 'down' or 'up'")


def check_expectations(outcome: dict[str, Any], expect: dict[str, Any]) -> list[str]:
    """Problems found comparing an outcome with a workload's ``expect`` (empty = all met), in
    the one expectation language presets and real workloads share (:func:`kafkalab.expect.check`):
    a literal (``10``, ``None``) that must be equal, or a string ``"<op><int or outcome key>"``
    with op in ``== >= <= > <`` (``">0"``, ``"==sent"``)."""
    return expect_check(outcome, expect)
