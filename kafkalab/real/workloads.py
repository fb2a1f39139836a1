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
      },
      "consumer": {
          "commit": "auto" | "before-processing" | "after-each" | "after-batch",
          "auto_commit_interval_ms": 100,  # only with commit == "auto"
          "batch": 10,                     # records taken per consume() round
          "config": {...},                 # extra librdkafka consumer settings (optional)
      },
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
process the whole batch, then one synchronous commit.
"""

from __future__ import annotations

import copy
import re
from typing import Any

COMMIT_MODES = ("auto", "before-processing", "after-each", "after-batch")
CRASH_POINTS = ("before-process", "after-process")
FAILURE_HANDLING = ("skip", "raise")
BROKER_FAULTS = ("delay-produce-response",)
OUTCOME_KEYS = (
    "sent",
    "acked",
    "written",
    "delivered",
    "processed",
    "lost",
    "duplicates",
    "log_duplicates",
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


class WorkloadError(ValueError):
    """A workload description is malformed."""


def _base(name: str, title: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "messages": 10,
        "producer": {"acks": "all", "enable.idempotence": False},
        "broker_fault": None,
        "consumer": {"commit": "auto", "auto_commit_interval_ms": 5000, "batch": 10, "config": {}},
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


_FACTORIES = (
    _auto_commit_loses,
    _auto_commit_redelivers,
    _commit_before_loses,
    _commit_after_redelivers,
    _non_idempotent_duplicates,
    _close_on_error_loses,
)

#: Supported workloads, by name. Use :func:`get_workload` for a copy you may change.
WORKLOADS: dict[str, dict[str, Any]] = {f()["name"]: f() for f in _FACTORIES}

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
}


def list_workloads() -> list[str]:
    return list(WORKLOADS)


def get_workload(name: str) -> dict[str, Any]:
    """A deep copy of a registered workload."""
    try:
        return copy.deepcopy(WORKLOADS[name])
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
    if idempotent and workload["broker_fault"] is not None:
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


def normalize(workload: dict[str, Any] | str) -> dict[str, Any]:
    """Validate a workload (or a registered name) and fill defaults; returns a new dict."""
    if isinstance(workload, str):
        workload = get_workload(workload)
    if not isinstance(workload, dict):
        raise WorkloadError("a workload is a dict (or the name of a registered workload)")
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
                                        c["auto_commit_interval_ms"], 1)
    c["batch"] = _int("consumer.batch", c["batch"], 1)
    c["config"] = _check_config("consumer.config", c["config"])

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
        extra = set(fault) - {"type", "delay_ms", "socket_timeout_ms"}
        if extra:
            raise WorkloadError(f"unknown broker_fault keys: {sorted(extra)}")
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
    if not isinstance(w["restart"], bool):
        raise WorkloadError("restart must be true or false")
    if not isinstance(w["expect"], dict):
        raise WorkloadError("expect must be a dict")
    return w


_EXPECT_RE = re.compile(r"^(==|>=|<=|>|<)\s*(\w+)$")


def check_expectations(outcome: dict[str, Any], expect: dict[str, Any]) -> list[str]:
    """Problems found comparing an outcome with a workload's ``expect`` (empty = all met).

    A value is either a literal (``10``, ``None``) that must be equal, or a string
    ``"<op><int or outcome key>"`` with op in ``== >= <= > <`` (``">0"``, ``"==sent"``).
    """
    problems = []
    for key, want in expect.items():
        got = outcome.get(key)
        if isinstance(want, str):
            m = _EXPECT_RE.match(want.strip())
            if not m:
                problems.append(f"{key}: bad expectation {want!r}")
                continue
            op, rhs_text = m.groups()
            rhs = int(rhs_text) if rhs_text.lstrip("-").isdigit() else outcome.get(rhs_text)
            if got is None or rhs is None:
                problems.append(f"{key}={got!r} cannot be compared with {want!r}")
                continue
            ok = {
                "==": got == rhs,
                ">=": got >= rhs,
                "<=": got <= rhs,
                ">": got > rhs,
                "<": got < rhs,
            }[op]
            if not ok:
                problems.append(f"{key}={got!r}, expected {want}")
        elif got != want:
            problems.append(f"{key}={got!r}, expected {want!r}")
    return problems
