"""Cross-check: the simulation against real confluent-kafka clients, message by message.

For every workload in :data:`kafkalab.real.WORKLOADS` (or any workload dict) this module builds
the equivalent simulation run (a config with Kafka property names plus a fault plan for
:func:`kafkalab.model.simulate`), with timings chosen so that the fault lands at the same
logical point as in the real run, runs both, and compares the counts and every message::

    from kafkalab.crosscheck import crosscheck, format_table
    report = crosscheck()            # ~21 s: 22 real runs on librdkafka's mock cluster, 4 at once
    print(format_table(report))

    python -m kafkalab.crosscheck --random 12 --seed 0       # randomised differential test
    python -m kafkalab.crosscheck --workload '{"consumer": {"commit": "after-batch"}}'

How a real workload maps onto the simulation (:func:`simulation_for`):

* every producer and consumer setting of the real run (the runner's base settings and the
  workload's own) is carried through :data:`PRODUCER_PROPERTIES` / :data:`CONSUMER_PROPERTIES`
  (librdkafka's names and values resolved by the model's own table), :data:`CONVERTED`
  (``batch.num.messages``) or :data:`RUN_ONLY` (with the reason it changes nothing compared);
  anything else raises :class:`NotMappable`: no setting is dropped silently;
* the real producer writes the whole topic and flushes before the first consumer starts:
  ``producer.send.interval.ms=0`` (one batch of all messages, as librdkafka's 5 ms linger makes
  it); with ``produce_after_start`` the last messages come one every 50 ms after the consumer
  joined, as the real producer writes them once the consumer knows where it starts;
* ``client.model=librdkafka``: the real clients are librdkafka, so auto-commit is its background
  timer over offsets stored as records are handed out (``enable.auto.offset.store``);
* consumer ``batch`` → ``max.poll.records``; commit modes ``auto`` / ``before-processing`` /
  ``after-each`` / ``after-batch`` / ``store-after-processing`` → ``commit.strategy`` ``auto``
  / ``before-processing`` / ``per-record`` / ``per-batch`` / ``store-after-processing``;
* a real crash is ``os._exit`` at a record, after the process lived ``wait_ms`` longer: a
  ``consumer_crash`` fault at the same point of the same message, and (for ``wait_ms > 0``) a
  ``slow_processing`` fault of ``wait_ms`` on that message for an ``after-process`` crash, a
  ``pause`` of ``wait_ms`` before it for a ``before-process`` one, so the simulated process
  lives just as long and librdkafka's background auto-commit timer fires (or not) before the
  crash exactly as in the real run; processing itself costs ``processing_ms`` (at least 1);
* a slow record → ``slow_processing``; with ``subscribe`` the real consumer joins the group,
  so ``max.poll.interval.ms`` is enforced (librdkafka ignores it with ``assign()``);
* a processing failure → ``processing_failure`` with ``on.processing.error`` ``skip`` or
  ``close`` (the exception escapes, the consumer is closed);
* the broker fault "first Produce response delayed beyond ``socket.timeout.ms``" →
  ``delay_response`` of the request carrying message 0 with the client timeout =
  ``socket.timeout.ms``: the producer retries what the broker already wrote, and every request
  in flight behind the late response on its connection with it;
* the replication broker faults (issue 18; a 3-broker mock cluster, the topic with 3
  replicas): ``brokers=3``, ``replication.factor=3``; injected ``produce-errors`` →
  ``error_response`` on the same requests (their count compared as ``produce_requests``), a
  ``leader-failover`` → a ``broker_crash`` of the leader between two acknowledged messages,
  replaced at once (:func:`_replication_faults`). The data-loss scenarios the mock cannot show
  are :func:`not_comparable` rows with a machine-readable ``cause``.

Compared: the keys in ``compared`` (always ``processed``, ``lost``, ``duplicates``,
``log_duplicates`` and ``resumed_from``: the offset the restarted consumer resumed from,
``None`` without a restart; for broker faults also ``acked`` and ``written``), the two copy
counts :data:`COMPARED_COPIES`, and for **every message** :data:`PER_MESSAGE`: its
acknowledgement, the offsets of its copies in the log, how often it was processed, lost or
not. A disagreement names the first differing message with both sides' explanations. Never
``delivered``: how many records one fetch hands out before a crash is fetch behaviour, not a
delivery guarantee. Where the model is known to be wrong (:func:`known_divergence`, probed on the
model itself) the row says so; the comparison is never bent.

Scenarios the mock cluster gets wrong (:data:`kafkalab.real.NOT_COMPARABLE`) are listed as
``not_comparable`` rows with the reason, never run and never asserted.

Importing this module never imports confluent_kafka: the simulation side
(:func:`simulate_workload`, :func:`simulation_for`, :func:`not_comparable`,
:func:`random_workload`) works without the ``real`` extra.
"""

from __future__ import annotations

import json
import random
from typing import Any

from . import real
from .model import simulate
from .model.config import PROPERTIES

#: Keys compared by default, in report order.
COMPARED = ("processed", "lost", "duplicates", "log_duplicates", "resumed_from")
#: Keys compared when the workload injects a broker fault (the producer side matters too).
COMPARED_PRODUCER = ("acked", "written", *COMPARED)
#: The two log counts, compared for every workload too (one message with three copies is one
#: message written more than once and two extra copies; log_duplicates is the first's older
#: name).
COMPARED_COPIES = ("written_more_than_once", "extra_copies")
#: What is compared for every message, in this order: the first message that differs in any of
#: them is printed with both sides' explanations.
PER_MESSAGE = ("acked", "offsets", "processed", "lost")

#: The simulation preset that teaches each scenario the mock cluster cannot run.
_TAUGHT_BY = {
    "idempotent-producer-dedup": "idempotent-producer-lost-ack",
    "read-committed-lso": "read-committed-vs-uncommitted",
    "zombie-fencing": "transactional-fencing",
    "transactional-offset-commit": "exactly-once-pipeline",
    "exactly-once-consume-transform-produce": "exactly-once-pipeline",
    "replica-data-loss": None,
    "static-membership": None,
    "append-then-error-retry-duplicates": None,
    "leader-failover": None,
    "rebalance-takeover-timing": None,
    # replication (issue 18): the data-loss scenarios, each taught by a durability preset
    "acks-1-acknowledged-write-lost-on-failover": "acks-1-leader-failover",
    "replica-truncation-on-return": "acks-1-leader-failover",
    "unflushed-tail-machine-failure": "acks-all-isr-shrunk",
    "unclean-leader-election-loss": "unclean-leader-election",
    "isr-shrink-refuses-acks-all": "not-enough-replicas",
    "high-watermark-hides-unreplicated": "acks-all-min-isr",
}

_STRATEGY = {
    "auto": "auto",
    "before-processing": "before-processing",
    "after-each": "per-record",
    "after-batch": "per-batch",
    "store-after-processing": "store-after-processing",
}
_CRASH_POINT = {"before-process": "before_processing", "after-process": "after_processing"}
_ON_ERROR = {"skip": "skip", "raise": "close"}

CONSUMER_START_MS = 20.0
#: produce_after_start: the simulated producer sends one message every this many ms, and the
#: consumer joins half an interval after the last message written before it starts.
LATE_PRODUCER_INTERVAL_MS = 50.0

#: librdkafka's client-side produce timeout (socket.timeout.ms) in the simulation; a model
#: without it has one client timeout, request.timeout.ms.
_CLIENT_TIMEOUT = "socket.timeout.ms" if "socket.timeout.ms" in PROPERTIES else \
    "request.timeout.ms"

#: Which of the simulation's Kafka properties a real consumer's and a real producer's settings
#: may set (canonical names; librdkafka's own names and values for them are resolved by the
#: model's PROPERTIES table, kafkalab.model.config.RDKAFKA_NAMES). A setting outside these,
#: :data:`CONVERTED`, :data:`RUN_ONLY` and :data:`UNREACHABLE` makes :func:`simulation_for`
#: refuse the workload (NotMappable): a property the simulation would not see is never
#: dropped silently.
CONSUMER_PROPERTIES = ("auto.offset.reset", "isolation.level", "fetch.max.wait.ms",
                       "session.timeout.ms", "auto.commit.interval.ms", "max.poll.interval.ms")
PRODUCER_PROPERTIES = ("acks", "enable.idempotence", "linger.ms",
                       "max.in.flight.requests.per.connection", "retries", "retry.backoff.ms",
                       "retry.backoff.max.ms", "delivery.timeout.ms", _CLIENT_TIMEOUT)
#: librdkafka settings the simulation spells differently: (simulation property, conversion).
CONVERTED: dict[str, tuple[str, Any]] = {
    # librdkafka counts a batch in messages; the simulation in bytes of message.bytes each
    "producer:batch.num.messages": ("batch.size",
                                    lambda v: int(v) * PROPERTIES["message.bytes"].java),
}
#: Settings of the real run that have no simulation property, each with the reason it does not
#: change any outcome the crosscheck compares.
RUN_ONLY: dict[str, str] = {
    "consumer:socket.timeout.ms": "the consumer's own request timeout: no workload delays a "
                                  "consumer-side response",
}
#: Settings the simulation has, but that the real consumer cannot exercise as the runner uses
#: it, with the reason: refused rather than compared.
UNREACHABLE: dict[str, str] = {
    "assign:max.poll.interval.ms": "the real consumer uses assign() (no group join), and "
                                   "librdkafka enforces max.poll.interval.ms only for "
                                   "subscribe() (rdkafka_cgrp.c): set consumer.subscribe=true",
}


class NotMappable(ValueError):
    """A (custom) workload has no equivalent simulation run."""


# ---------------------------------------------------------------------------------------------
# the simulation side


def _carry(where: str, settings: dict[str, Any], allowed: tuple[str, ...],
           config: dict[str, Any], carried: dict[str, str], assigned: str = "") -> None:
    from .model.config import RDKAFKA_NAMES

    for key, value in settings.items():
        tag = f"{where}:{key}"
        if tag in RUN_ONLY:
            carried[tag] = f"not simulated: {RUN_ONLY[tag]}"
            continue
        if tag in UNREACHABLE:
            raise NotMappable(f"{where} setting {key}={value!r}: {UNREACHABLE[tag]}")
        if f"{assigned}:{key}" in UNREACHABLE:
            raise NotMappable(f"{where} setting {key}={value!r}: "
                              f"{UNREACHABLE[f'{assigned}:{key}']}")
        if tag in CONVERTED:
            name, convert = CONVERTED[tag]
            config[name] = convert(value)
            carried[tag] = name
            continue
        name = RDKAFKA_NAMES.get(key, key)
        if name not in allowed:
            known = sorted({*allowed, *(a for a, n in RDKAFKA_NAMES.items() if n in allowed),
                            *(t.split(":", 1)[1] for t in (*CONVERTED, *RUN_ONLY)
                              if t.startswith(where + ":"))})
            raise NotMappable(
                f"{where} setting {key}={value!r} has no simulation property; the crosscheck "
                f"carries: {', '.join(known)}")
        config[key] = value  # the model resolves librdkafka's names and values itself
        carried[tag] = name


def simulation_for(workload: dict[str, Any] | str) -> tuple[dict[str, Any], list[dict]]:
    """The simulation ``(config, faults)`` equivalent to a real workload (or its name).

    Every producer and consumer setting of the real run (the runner's base settings and the
    workload's own) is carried to the simulation through :data:`PRODUCER_PROPERTIES` and
    :data:`CONSUMER_PROPERTIES`; one the simulation does not know raises :class:`NotMappable`.
    Use :func:`carried_properties` to see the translation."""
    return _simulation_for(workload)[:2]


def carried_properties(workload: dict[str, Any] | str) -> dict[str, str]:
    """``{"producer:<librdkafka name>" | "consumer:<name>": simulation property (or why it is
    not simulated)}`` for every setting of the real run."""
    return _simulation_for(workload)[2]


def _simulation_for(workload: dict[str, Any] | str):
    from .real.workloads import CONSUMER_BASE_CONFIG as BASE_CONFIG
    from .real.workloads import PRODUCER_BASE_CONFIG

    w = real.normalize(workload)
    p, c = w["producer"], w["consumer"]
    config: dict[str, Any] = {
        "client.model": "librdkafka",
        "messages": w["messages"],
        "producer.send.interval.ms": 0,
        "consumer.start.ms": CONSUMER_START_MS,
        "max.poll.records": c["batch"],
        "processing.ms": c["processing_ms"] or 1,
        "commit.strategy": _STRATEGY[c["commit"]],
        "enable.auto.commit": c["commit"] in real.workloads.AUTO_COMMIT_MODES,
        # the real application logs a failed commit and goes on polling
        # (real/consumer_app.py commit()): the simulated one does the same
        "on.commit.error": "skip",
    }
    if c["commit"] in real.workloads.AUTO_COMMIT_MODES:
        config["auto.commit.interval.ms"] = c["auto_commit_interval_ms"]
    carried: dict[str, str] = {}
    _carry("producer", {**PRODUCER_BASE_CONFIG, **p}, PRODUCER_PROPERTIES, config, carried)
    _carry("consumer", {**BASE_CONFIG, **c["config"]}, CONSUMER_PROPERTIES, config, carried,
           assigned="" if c["subscribe"] else "assign")
    faults: list[dict] = []

    fault = w["broker_fault"]
    if fault is not None and fault["type"] in real.workloads.REPLICATION_FAULTS:
        faults.extend(_replication_faults(w, config))
    elif fault is not None:
        config[_CLIENT_TIMEOUT] = fault["socket_timeout_ms"]
        carried["producer:socket.timeout.ms"] = _CLIENT_TIMEOUT
        # the real consumer starts once the producer has flushed (the late response included)
        config["consumer.start.ms"] = fault["delay_ms"] + CONSUMER_START_MS
        faults.append({"type": "delay_response", "message": 0, "delay_ms": fault["delay_ms"]})

    crash, failure, slow = w["crash"], w["failure"], w["slow"]
    later = w["produce_after_start"]
    if slow is not None:
        if later or fault is not None:
            raise NotMappable("a slow record together with produce_after_start or a broker "
                              "fault: the record index would not be the message id")
        faults.append({"type": "slow_processing", "message": slow["record"],
                       "extra_ms": slow["ms"]})
    if later:
        if crash is not None or failure is not None:
            raise NotMappable("a crash or failure together with produce_after_start: the "
                              "record index would depend on where auto.offset.reset starts")
        interval = LATE_PRODUCER_INTERVAL_MS
        config["producer.send.interval.ms"] = interval
        config["consumer.start.ms"] = (w["messages"] - later - 1) * interval + interval / 2
    if crash is not None or failure is not None:
        if fault is not None:
            raise NotMappable("a crash or failure together with a broker fault: with copies in "
                              "the log a record index is no longer a message id")
        if not w["restart"]:
            raise NotMappable("restart=false after a crash: the simulated consumer always "
                              "comes back")
    if crash is not None:
        # the topic is written before the consumer starts, so record index k is message id k
        msg = crash["record"]
        faults.append({"type": "consumer_crash", "point": _CRASH_POINT[crash["point"]],
                       "message": msg})
        if crash["wait_ms"] and crash["point"] == "after-process":
            faults.append({"type": "slow_processing", "message": msg,
                           "extra_ms": crash["wait_ms"]})
        elif crash["wait_ms"]:
            # before-process: the real process waits before touching the record, after what
            # came before took effect (stores, commits): the model's pause, which is not
            # processing time and lets librdkafka's timer fire meanwhile
            faults.append({"type": "pause", "message": msg, "ms": crash["wait_ms"]})
    if failure is not None:
        config["on.processing.error"] = _ON_ERROR[failure["then"]]
        faults.append({"type": "processing_failure", "message": failure["record"]})
    return config, faults, carried


#: A real broker id of the mock cluster (1, 2, 3) is the simulation's broker id - 1 (0, 1, 2):
#: partition 0's first leader is mock broker 1 and simulated broker 0 (``cluster.assignment``).
MOCK_BROKER_OFFSET = 1
#: leader-failover: the simulated producer sends one message every this many ms (the real one
#: waits for each delivery report before the next), and the leader fails halfway between the
#: last acknowledged message and the next.
FAILOVER_INTERVAL_MS = LATE_PRODUCER_INTERVAL_MS


def _replication_faults(w: dict[str, Any], config: dict[str, Any]) -> list[dict]:
    """The simulation of a replication broker fault (issue 18) on the mock's 3 brokers.

    * ``produce-errors``: the mock answers the next ``count`` Produce requests with the error
      without appending: ``error_response`` on the request carrying message 0, attempts 1 to
      ``count`` (one batch of all messages), or with one record per request
      (``batch.num.messages=1``) on the first attempts of messages 0 to ``count - 1``, which
      are the first ``count`` requests (the real run has the mock answer those refusals
      ``ERROR_RTT_MS`` late, so every first attempt is on the wire before the first refusal
      arrives, as in the simulation, where they all go out at once; without that delay which
      requests the refusals hit depended on the client's speed);
    * ``leader-failover``: the real producer waits for each delivery report before the next
      message; the simulated one sends one message every :data:`FAILOVER_INTERVAL_MS` (one
      per request, in order as well). The mock moves the leader at once
      (``rd_kafka_mock_partition_set_leader``): a ``broker_crash`` of broker 0 (a process
      crash, its log kept: the mock keeps its one log) halfway between the last
      acknowledged message and the next, fenced and replaced by the controller after
      ``broker.session.timeout.ms=1``; with ``old_leader="up"`` it is back 2 ms later as a
      follower. Nothing is in flight when it fails, so no data can be lost: what the mock
      cannot show (loss on failover) is :func:`not_comparable`.
    """
    fault = w["broker_fault"]
    brokers = real.workloads.REPLICATION_BROKERS
    config["brokers"] = brokers
    config["replication.factor"] = brokers
    if fault["type"] == "produce-errors":
        single = int(w["producer"].get("batch.num.messages", 0) or 0) == 1
        if single:
            if fault["count"] > w["messages"]:
                raise NotMappable("more refused requests than messages with one record per "
                                  "request")
            return [{"type": "error_response", "message": i, "attempt": 1,
                     "error": fault["error"]} for i in range(fault["count"])]
        return [{"type": "error_response", "message": 0, "attempt": a, "error": fault["error"]}
                for a in range(1, fault["count"] + 1)]
    interval = FAILOVER_INTERVAL_MS
    config["producer.send.interval.ms"] = interval
    config["broker.session.timeout.ms"] = 1
    config["consumer.start.ms"] = w["messages"] * interval + CONSUMER_START_MS
    crash: dict[str, Any] = {"type": "broker_crash",
                             "broker": real.workloads.FIRST_LEADER - MOCK_BROKER_OFFSET,
                             "at_ms": (fault["after"] - 1) * interval + interval / 2}
    if fault["old_leader"] == "up":
        crash["restart_after_ms"] = 2
    return [crash]


def resumed_from(result: Any) -> int | None:
    """Offset of partition 0 in the first ``restart`` event (the consumer after its crash)."""
    for event in result.events:
        if event.kind == "restart":
            resumed = event.data.get("resumed") or {}
            entry = resumed.get("0")
            return None if entry is None else int(entry[0])
    return None


def simulated_ledger(result: Any) -> list[dict[str, Any]]:
    """The simulation's ledger in the real ledger's shape (id, acked, offsets, delivered,
    processed), for side-by-side tables."""
    return [
        {
            "id": m.id,
            "acked": m.acked,
            "offsets": sorted(c.offset for c in m.visible_copies),
            "delivered": len(m.deliveries),
            "processed": len(m.processed),
        }
        for m in result.ledger.messages
    ]


def _name(workload: dict[str, Any] | str) -> str:
    return workload if isinstance(workload, str) else str(workload.get("name", "custom"))


def simulate_workload(workload: dict[str, Any] | str, seed: int = 0) -> dict[str, Any]:
    """Run only the simulation side of a workload (a registered name or a workload dict; no
    confluent-kafka needed).

    Returns ``{"name", "config", "faults", "outcome", "ledger", "result"}``; ``outcome`` has
    :data:`kafkalab.real.OUTCOME_KEYS` (``resumed_from`` included), ``result`` the RunResult."""
    name = _name(workload)
    config, faults = simulation_for(workload)
    result = simulate(config, faults, seed, snapshots=False, scenario=f"crosscheck:{name}")
    outcome = {k: result.outcome.get(k) for k in real.OUTCOME_KEYS if k != "resumed_from"}
    outcome["resumed_from"] = resumed_from(result)
    fault = real.normalize(workload)["broker_fault"]
    if fault is not None and fault["type"] == "produce-errors":
        # every attempt reaches a broker here (the mock counts the requests it received)
        outcome["produce_requests"] = sum(1 for e in result.events if e.kind == "produce")
    return {"name": name, "config": config, "faults": faults, "outcome": outcome,
            "ledger": simulated_ledger(result), "result": result}


def compared_keys(workload: dict[str, Any] | str) -> list[str]:
    w = real.normalize(workload)
    fault = w["broker_fault"]
    if fault is not None and fault["type"] == "produce-errors":
        # the retries themselves: Produce requests the mock's brokers received, against the
        # simulated attempts (first attempts and retries)
        return [*COMPARED_PRODUCER, "produce_requests"]
    return list(COMPARED_PRODUCER if fault is not None else COMPARED)


# ---------------------------------------------------------------------------------------------
# per message


def message_outcomes(ledger: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each message's compared outcome: ``{"id", "acked", "offsets", "processed", "lost"}``
    (``offsets``: its copies in the log; ``lost``: never processed)."""
    return [{"id": e["id"], "acked": bool(e["acked"]), "offsets": list(e["offsets"]),
             "processed": e["processed"], "lost": e["processed"] == 0} for e in ledger]


def first_difference(simulated: list[dict[str, Any]],
                     real_ledger: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first message whose outcome differs (in :data:`PER_MESSAGE` order), or None:
    ``{"id", "fields", "simulated", "real"}``."""
    sim_rows, real_rows = message_outcomes(simulated), message_outcomes(real_ledger)
    if len(sim_rows) != len(real_rows):
        return {"id": None, "fields": ["messages"], "simulated": len(sim_rows),
                "real": len(real_rows)}
    for s, r in zip(sim_rows, real_rows, strict=True):
        fields = [k for k in PER_MESSAGE if s[k] != r[k]]
        if fields:
            return {"id": s["id"], "fields": fields, "simulated": s, "real": r}
    return None


def messages_agreeing(simulated: list[dict[str, Any]], real_ledger: list[dict[str, Any]]) -> int:
    return sum(s == r for s, r in zip(message_outcomes(simulated), message_outcomes(real_ledger),
                                      strict=False))


# ---------------------------------------------------------------------------------------------
# known divergences: where the model is (still) wrong, probed on the model itself


def _probe_interval_zero() -> str | None:
    """librdkafka starts its auto-commit timer only for an interval > 0 (rdkafka_cgrp.c; the
    real run shows it: nothing committed, the restart re-reads from 0)."""
    w = real.get_workload("auto-commit-interval-0-no-timer")
    if simulate_workload(w)["outcome"]["resumed_from"] == 0:
        return None
    return ("the model's librdkafka auto-commit timer still fires with "
            "auto.commit.interval.ms=0 (librdkafka disables it: rdkafka_cgrp.c); issue 12 "
            "item 5, the fidelity helper's fix")


_PROBES: dict[str, Any] = {"interval-0": _probe_interval_zero}
_PROBED: dict[str, str | None] = {}


def known_divergence(workload: dict[str, Any] | str) -> str | None:
    """Why the model is known to get this workload wrong (a fix is pending), else None.

    Each entry is a probe run on the model itself, so a divergence stops being "known" the
    moment the model is fixed and the comparison is strict again."""
    w = real.normalize(workload)
    c = w["consumer"]
    if c["commit"] in real.workloads.AUTO_COMMIT_MODES and c["auto_commit_interval_ms"] == 0 \
            and (w["crash"] is not None):
        if "interval-0" not in _PROBED:
            _PROBED["interval-0"] = _PROBES["interval-0"]()
        return _PROBED["interval-0"]
    return None


# ---------------------------------------------------------------------------------------------
# what cannot be compared


def not_comparable() -> list[dict[str, Any]]:
    """``[{"name", "reason", "simulation", "cause"}]``: each known gap of the mock cluster,
    with the simulation preset that teaches it (None when the simulation does not model it
    either) and a machine-readable ``cause`` (:data:`kafkalab.real.workloads.
    NOT_COMPARABLE_CAUSES`, e.g. ``mock-no-replica-data-loss``)."""
    return [
        {"name": name, "reason": real.not_comparable_reason(name),
         "simulation": _TAUGHT_BY.get(name),
         "cause": real.workloads.NOT_COMPARABLE_CAUSES.get(name)}
        for name in real.NOT_COMPARABLE
    ]


def unavailable_here(workload: dict[str, Any] | str) -> str | None:
    """A reason this workload cannot run on this machine, else None."""
    if real.normalize(workload)["broker_fault"] is None:
        return None
    from .real.mock_cluster import mock_api_problem

    problem = mock_api_problem()
    if problem is None:
        return None
    return ("not comparable here: the broker fault needs librdkafka's mock-cluster C API, "
            f"unavailable on this machine ({problem})")


# ---------------------------------------------------------------------------------------------
# the cross-check


def compare_workload(workload: dict[str, Any] | str, details: bool = False) -> dict[str, Any]:
    """Run one workload (a registered name or a workload dict) in the simulation and with real
    clients, and compare the counts and every message's outcome.

    Returns ``{"name", "title", "simulated", "real", "agree", "compared", "differences",
    "messages", "messages_agree", "first_difference", "known_divergence", "config", "faults",
    "carried", "workload", "real_elapsed_s"}``. ``first_difference`` (None when every message
    agrees) names the first differing message with both sides' outcome and explanation."""
    from .real.ledger import explain_message

    w = real.normalize(workload)
    name = w["name"]
    sim = simulate_workload(w)
    run = real.run_real(w)
    keys = compared_keys(w)
    if "produce_requests" in keys:
        run["outcome"] = {**run["outcome"], "produce_requests": run.get("produce_requests")}
    differences = [k for k in (*keys, *COMPARED_COPIES)
                   if sim["outcome"][k] != run["outcome"].get(k)]
    diff = first_difference(sim["ledger"], run["ledger"])
    if diff is not None:
        differences.append("messages")
        if diff["id"] is not None:
            diff["simulated_explanation"] = sim["result"].explain(diff["id"])
            diff["real_explanation"] = explain_message(run["ledger"][diff["id"]],
                                                       run["events"])
    row = {
        "name": name,
        "title": w["title"],
        "simulated": sim["outcome"],
        "real": run["outcome"],
        "agree": not differences,
        "compared": keys,
        "differences": differences,
        "messages": len(run["ledger"]),
        "messages_agree": messages_agreeing(sim["ledger"], run["ledger"]),
        "first_difference": diff,
        "known_divergence": None if not differences else known_divergence(w),
        "config": sim["config"],
        "faults": sim["faults"],
        "carried": carried_properties(w),
        "workload": w,
        "real_elapsed_s": run["elapsed_s"],
    }
    if details:
        row["simulated_ledger"] = sim["ledger"]
        row["real_ledger"] = [
            {k: e[k] for k in ("id", "acked", "offsets", "delivered", "processed")}
            for e in run["ledger"]
        ]
        row["real_notes"] = run["notes"]
        row["real_not_comparable"] = list(run.get("not_comparable") or [])
    return row


# Real runs at once in crosscheck(): each has its own mock cluster, topic, group, temporary
# directory and consumer processes, and mostly waits (on librdkafka's timers, a group join, a
# slow record), so four at a time take about a third of the time of one after another. The
# rows keep the workloads' order.
CROSSCHECK_JOBS = 4


def _map_in_threads(fn: Any, items: list[Any], jobs: int) -> list[Any]:
    """``[fn(x) for x in items]``, ``jobs`` at a time (threads: the real runs wait on child
    processes and librdkafka, which release the GIL), in order; the exception of the first run
    (in ``items`` order) that raised is raised here, once every submitted run has ended."""
    if jobs <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(jobs, len(items)),
                            thread_name_prefix="kafkalab-crosscheck") as pool:
        futures = [pool.submit(fn, x) for x in items]
        return [f.result() for f in futures]


def crosscheck(names: list[str] | None = None, details: bool = False,
               deep: bool = False, jobs: int = CROSSCHECK_JOBS) -> dict[str, Any]:
    """Run each comparable workload in the simulation and with real clients; compare.

    ``names``: registered workload names and/or :data:`kafkalab.real.NOT_COMPARABLE` names
    (default: all of both; ``deep=True`` adds :data:`kafkalab.real.workloads.DEEP_WORKLOADS`,
    as ``make crosscheck-deep`` does). Returns ``{"scenarios": [row, ...], "not_comparable":
    [{"name", "reason", "simulation"}], "elapsed_s", "workloads_per_s"}`` with each row as
    :func:`compare_workload` makes it; with ``details=True`` each row also has
    ``simulated_ledger``, ``real_ledger``, ``real_notes`` and ``real_not_comparable`` (the
    real run's "not comparable: ..." caveats). The Lab's "run with a real client" button is
    :func:`compare_workload` with ``details=True`` too: one comparison, two front ends.
    ``jobs`` real runs go at once (:data:`CROSSCHECK_JOBS`; 1: one after another).

    Raises :class:`kafkalab.real.RealExtraMissing` (before running anything) without the
    ``real`` extra, :class:`kafkalab.real.WorkloadError` for an unknown name."""
    import time

    if names is None:
        names = [*real.list_workloads(), *real.NOT_COMPARABLE]
        if deep:  # make crosscheck-deep: the deeper workloads too (kafkalab.real.DEEP_WORKLOADS)
            names[len(real.WORKLOADS):len(real.WORKLOADS)] = real.workloads.list_deep_workloads()
    for name in names:
        if name not in real.WORKLOADS and name not in real.NOT_COMPARABLE and \
                name not in real.workloads.DEEP_WORKLOADS:
            real.get_workload(name)  # raises WorkloadError naming the supported ones
    real.require_confluent_kafka()
    started = time.monotonic()
    gaps = {row["name"]: row for row in not_comparable()}
    runnable: list[str] = []
    skipped: list[dict[str, Any]] = []
    for name in names:
        if name in gaps:
            skipped.append(gaps[name])
            continue
        why = unavailable_here(name)
        if why is not None:
            skipped.append({"name": name, "reason": why, "simulation": None})
            continue
        runnable.append(name)
    rows: list[dict[str, Any]] = _map_in_threads(
        lambda name: compare_workload(name, details=details), runnable, jobs)
    elapsed = time.monotonic() - started
    return {"scenarios": rows, "not_comparable": skipped, "elapsed_s": round(elapsed, 3),
            "workloads_per_s": round(len(rows) / elapsed, 3) if rows and elapsed else None}


_SHORT = {"processed": "processed", "lost": "lost", "duplicates": "dup",
          "log_duplicates": "log_dup", "resumed_from": "resumed", "acked": "acked",
          "written": "written"}


def _cell(outcome: dict[str, Any], keys: list[str]) -> str:
    return " ".join(f"{_SHORT.get(k, k)}={outcome.get(k)}" for k in keys)


def _verdict(row: dict[str, Any]) -> str:
    if row["agree"]:
        return "yes"
    text = f"no ({', '.join(row['differences'])})"
    return text + (" KNOWN MODEL DIVERGENCE" if row.get("known_divergence") else "")


def format_difference(row: dict[str, Any]) -> str:
    """The first differing message of a disagreeing row, with both explanations."""
    d = row.get("first_difference")
    if not d:
        return ""
    if d["id"] is None:
        return f"{row['name']}: {d['simulated']} simulated messages, {d['real']} real"
    lines = [f"{row['name']}: message {d['id']} differs in {', '.join(d['fields'])}",
             "  simulated: " + " ".join(f"{k}={d['simulated'][k]}" for k in PER_MESSAGE),
             "  real:      " + " ".join(f"{k}={d['real'][k]}" for k in PER_MESSAGE)]
    if d.get("simulated_explanation"):
        lines.append(f"  simulation says: {d['simulated_explanation']}")
    if d.get("real_explanation"):
        lines.append(f"  real run says:   {d['real_explanation']}")
    if row.get("known_divergence"):
        lines.append(f"  known model divergence: {row['known_divergence']}")
    return "\n".join(lines)


def format_table(report: dict[str, Any]) -> str:
    """A plain-text table: scenario, simulated, real, messages agreeing, agree (yes/no); then
    the first differing message of each disagreement with both explanations; then the
    scenarios that are not comparable, each with its reason."""
    header = ("scenario", "simulated", "real", "messages", "agree")
    body = [
        (r["name"], _cell(r["simulated"], r["compared"]), _cell(r["real"], r["compared"]),
         f"{r['messages_agree']}/{r['messages']}" if "messages" in r else "-", _verdict(r))
        for r in report["scenarios"]
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()

    out = [line(header), line(tuple("-" * w for w in widths)), *(line(b) for b in body)]
    if body:
        out.append("")
        out.append("each cell shows exactly the keys compared for that scenario "
                   "(dup = duplicates, log_dup = log_duplicates: messages with more than one "
                   "copy, resumed = resumed_from); written_more_than_once and extra_copies are "
                   "compared too; messages = messages whose copies' offsets, acknowledgement "
                   "and times processed agree")
    differing = [format_difference(r) for r in report["scenarios"] if not r["agree"]]
    differing = [d for d in differing if d]
    if differing:
        out.append("")
        out.append("first differing message:")
        out.extend(differing)
    if report["not_comparable"]:
        out.append("")
        out.append("not comparable:")
        out.extend(f"  {r['name']}: {r['reason']}"
                   + (f" [{r['cause']}]" if r.get("cause") else "")
                   for r in report["not_comparable"])
    agreed = sum(r["agree"] for r in report["scenarios"])
    known = sum(bool(r.get("known_divergence")) for r in report["scenarios"] if not r["agree"])
    out.append("")
    out.append(f"{agreed}/{len(report['scenarios'])} comparable scenarios agree"
               + (f", {known} known model divergence(s)" if known else "")
               + (f" ({report['elapsed_s']:.1f} s)" if "elapsed_s" in report else ""))
    return "\n".join(out)


def format_markdown(report: dict[str, Any]) -> str:
    """The README's crosscheck table: one row per comparable workload (what the real client
    did, messages agreeing, agree), then the not-comparable ones with their reasons."""
    rows = ["| workload | real client (= simulation when agreed) | messages agreeing | agree |",
            "|---|---|---|---|"]
    for r in report["scenarios"]:
        rows.append(f"| `{r['name']}`: {r['title']} | {_cell(r['real'], r['compared'])} | "
                    f"{r['messages_agree']}/{r['messages']} | {_verdict(r)} |")
    out = "\n".join(rows) + "\n"
    if report["not_comparable"]:
        out += "\nNot comparable on the mock cluster (never run, never asserted):\n\n"
        out += "\n".join(f"- `{r['name']}`: {r['reason'].removeprefix('not comparable: ')}"
                         + (f" (the simulation teaches it in `{r['simulation']}`)"
                            if r.get("simulation") else "")
                         for r in report["not_comparable"]) + "\n"
    return out


# ---------------------------------------------------------------------------------------------
# randomised differential testing

#: The space the generator draws from: only workloads both sides run deterministically. A
#: short auto-commit interval (100 ms) is drawn only with a crash wait of 500 ms, so the timer
#: has surely committed the last stored offset before the process dies; without a wait the
#: crash races the timer and the real outcome is not a function of the workload.
RANDOM_SPACE: dict[str, Any] = {
    "messages": (3, 10),
    "commit": real.workloads.COMMIT_MODES,
    "auto_commit_interval_ms": (100, 60000, 0),
    "processing_ms": (0, 3),
    "crash_wait_ms": (0, 500),
    "broker_delay": {"delay_ms": 2000, "socket_timeout_ms": 500},
    # subscribe() with a slow record: librdkafka needs max.poll.interval.ms >= session.timeout.ms;
    # the record takes 1.5 times the interval (librdkafka checks it twice a second)
    "max_poll": {"session.timeout.ms": 3000, "max.poll.interval.ms": 3000},
}


def random_workload(rng: random.Random, name: str = "random") -> dict[str, Any]:
    """One workload drawn from :data:`RANDOM_SPACE` (commit mode, batch size, auto-commit
    interval, processing time, crash point and record, processing failure, offset store,
    a delayed Produce response, a producer still writing, a record slower than
    max.poll.interval.ms); always mappable."""
    lo, hi = RANDOM_SPACE["messages"]
    n = rng.randint(lo, hi)
    mode = rng.choice(RANDOM_SPACE["commit"])
    w: dict[str, Any] = {
        "name": name,
        "messages": n,
        "consumer": {"commit": mode, "batch": rng.randint(1, n),
                     "processing_ms": rng.randint(*RANDOM_SPACE["processing_ms"]),
                     "auto_commit_interval_ms": rng.choice(RANDOM_SPACE["auto_commit_interval_ms"])
                     if mode in real.workloads.AUTO_COMMIT_MODES else 5000,
                     "config": {}},
        "restart": True,
    }
    c = w["consumer"]
    kind = rng.choices(["crash", "failure", "broker", "late", "slow", "none"],
                       [5, 2, 2, 2, 1, 1])[0]
    if kind == "crash":
        point = rng.choice(real.workloads.CRASH_POINTS)
        record = rng.randrange(n)
        short_timer = mode in real.workloads.AUTO_COMMIT_MODES and \
            c["auto_commit_interval_ms"] == 100
        wait = 500 if short_timer else rng.choice(RANDOM_SPACE["crash_wait_ms"])
        w["crash"] = {"point": point, "record": record, "wait_ms": wait}
    elif kind == "failure":
        w["failure"] = {"record": rng.randrange(n), "then": rng.choice(("skip", "raise"))}
    elif kind == "broker":
        w["messages"] = n = rng.randint(lo, 6)
        c["batch"] = min(c["batch"], n)
        w["broker_fault"] = {"type": "delay-produce-response", **RANDOM_SPACE["broker_delay"]}
        w["producer"] = {"acks": "all", "enable.idempotence": False}
        if rng.random() < 0.5:  # one request per record, several in flight
            w["producer"].update({"linger.ms": 0, "batch.num.messages": 1})
        w["restart"] = False
    elif kind == "late":
        w["produce_after_start"] = rng.randint(1, n - 1)
        c["config"] = {"auto.offset.reset": rng.choice(("earliest", "latest"))}
        w["restart"] = False
    elif kind == "slow":  # a record slower than max.poll.interval.ms, with a group join
        c["subscribe"] = True
        c["config"] = dict(RANDOM_SPACE["max_poll"])
        w["slow"] = {"record": rng.randrange(n),
                     "ms": RANDOM_SPACE["max_poll"]["max.poll.interval.ms"] * 3 // 2}
        w["restart"] = False
    else:
        w["restart"] = False
    real.normalize(w)
    simulation_for(w)  # the generator only draws workloads the simulation can mirror
    return w


def random_replication_workload(rng: random.Random,
                                name: str = "random-replication") -> dict[str, Any]:
    """One replication workload (issue 18) drawn for ``make crosscheck-deep``: injected
    NOT_ENOUGH_REPLICAS (acks=all only: a real broker answers it only then) or
    NOT_LEADER_OR_FOLLOWER answers (1-3, one batch or one record per request, ``retries``
    default or 1), or a leader failover after 1 to n-1 acknowledged messages with the old
    leader down or up; acks=1/all, idempotence on/off, commit after each record or batch.
    Never idempotence with one record per request and refused requests (the mock does not
    check an idempotent producer's sequences outside a transaction, a real broker would refuse
    the later requests: not comparable) nor with retries=1 (a permanent failure bumps the
    epoch)."""
    n = rng.randint(3, 10)
    acks = rng.choice(("1", "all"))
    idempotent = acks == "all" and rng.random() < 0.5
    producer: dict[str, Any] = {"acks": acks, "enable.idempotence": idempotent}
    if rng.random() < 0.5:
        error = "NOT_LEADER_OR_FOLLOWER" if acks == "1" else rng.choice(
            tuple(real.workloads.PRODUCE_ERROR_CODES))
        fault: dict[str, Any] = {"type": "produce-errors", "error": error,
                                 "count": rng.randint(1, 3)}
        if not idempotent and rng.random() < 0.4:
            producer.update({"linger.ms": 0, "batch.num.messages": 1})
        if not idempotent and rng.random() < 0.3:
            producer["retries"] = 1
    else:
        fault = {"type": "leader-failover", "after": rng.randint(1, n - 1),
                 "old_leader": rng.choice(("down", "up"))}
    mode = rng.choice(("after-each", "after-batch"))
    w: dict[str, Any] = {
        "name": name, "messages": n, "producer": producer, "broker_fault": fault,
        "consumer": {"commit": mode, "batch": rng.randint(1, n), "processing_ms": 0,
                     "auto_commit_interval_ms": 5000, "config": {}},
        "restart": False,
    }
    real.normalize(w)
    simulation_for(w)
    return w


def _shrink_candidates(w: dict[str, Any]):
    """Smaller variants of a workload, simplest first."""
    import copy

    def variant(**changes: Any) -> dict[str, Any]:
        v = copy.deepcopy(w)
        for key, value in changes.items():
            if "." in key:
                outer, inner = key.split(".", 1)
                v[outer][inner] = value
            else:
                v[key] = value
        return v

    c = w["consumer"]
    if w.get("crash") and w["crash"]["wait_ms"]:
        yield variant(crash={**w["crash"], "wait_ms": 0})
    if c.get("processing_ms"):
        yield variant(**{"consumer.processing_ms": 0})
    if (w.get("producer") or {}).get("batch.num.messages"):
        p = {k: v for k, v in w["producer"].items() if k not in ("batch.num.messages",
                                                                  "linger.ms")}
        yield variant(producer=p)
    n = w["messages"]
    last = max([w["crash"]["record"] if w.get("crash") else 0,
                w["failure"]["record"] if w.get("failure") else 0,
                w.get("produce_after_start", 0)])
    for smaller in sorted({last + 1, n // 2, n - 1}):
        if last < smaller < n and smaller >= 1:
            yield variant(messages=smaller, **{"consumer.batch": min(c["batch"], smaller)})
    if c["batch"] > 1:
        yield variant(**{"consumer.batch": 1})
        yield variant(**{"consumer.batch": c["batch"] - 1})
    if w.get("crash") and w["crash"]["record"] > 0:
        yield variant(crash={**w["crash"], "record": w["crash"]["record"] - 1})
    if w.get("failure") and w["failure"]["record"] > 0:
        yield variant(failure={**w["failure"], "record": w["failure"]["record"] - 1})
    if w.get("produce_after_start", 0) > 1:
        yield variant(produce_after_start=w["produce_after_start"] - 1)


def _valid(w: dict[str, Any]) -> bool:
    try:
        real.normalize(w)
        simulation_for(w)
    except (real.WorkloadError, NotMappable):
        return False
    return True


def shrink(workload: dict[str, Any], fails: Any, budget: int = 20) -> tuple[dict[str, Any], int]:
    """Greedily shrink a failing workload: try each smaller variant, keep the first that still
    ``fails(w)``, start over; stop when none does or after ``budget`` tries. Returns
    ``(minimal workload, tries)``."""
    current, tries = workload, 0
    improved = True
    while improved and tries < budget:
        improved = False
        for candidate in _shrink_candidates(current):
            if not _valid(candidate):
                continue
            tries += 1
            if fails(candidate):
                current, improved = candidate, True
                break
            if tries >= budget:
                break
    return current, tries


def reproduction(workload: dict[str, Any]) -> str:
    """A ready-to-run reproduction of one comparison, for a shell and for Python."""
    text = json.dumps(workload, sort_keys=True)
    return ("python -m kafkalab.crosscheck --workload '" + text + "'\n"
            "# or, in Python:\n"
            "from kafkalab.crosscheck import compare_workload, format_difference\n"
            f"print(format_difference(compare_workload({workload!r})))")


def _still_fails(last: dict[str, Any]) -> Any:
    """A shrink predicate: the candidate still disagrees (and not for a known reason); the
    last failing comparison is kept in ``last["row"]``."""

    def fails(candidate: dict[str, Any]) -> bool:
        r = compare_workload(candidate)
        if not r["agree"] and not r["known_divergence"]:
            last["row"] = r
            return True
        return False

    return fails


def randomised(examples: int = 12, seed: int = 0, shrink_budget: int = 12,
               on_example: Any = None, generator: Any = None,
               jobs: int = CROSSCHECK_JOBS) -> dict[str, Any]:
    """Draw ``examples`` workloads (seeded; ``generator(rng, name)``, default
    :func:`random_workload`, :func:`random_replication_workload` for the replication rows),
    run each in the simulation and with real clients,
    compare message by message. A disagreement that is not a :func:`known_divergence` is
    shrunk to a minimal workload and reported with a ready-to-run reproduction.

    Returns ``{"seed", "examples": [{"workload", "agree", "known_divergence", "differences",
    "first_difference", "real_elapsed_s"}], "failures": [{"workload", "minimal",
    "minimal_difference", "reproduction", "shrink_tries"}], "errors": [{"workload", "error",
    "reproduction"}] (a real run that failed), "known_divergences", "agreeing", "elapsed_s",
    "workloads_per_s"}``. The examples' real runs go ``jobs`` at once (the workloads are
    drawn first, so a seed draws the same ones whatever ``jobs`` is); shrinking runs one
    workload at a time, after them."""
    import time

    real.require_confluent_kafka()
    rng = random.Random(seed)
    started = time.monotonic()
    rows, failures, errors = [], [], []
    drawn = [(generator or random_workload)(rng, name=f"random-{seed}-{i}")
             for i in range(examples)]

    def attempt(w: dict[str, Any]) -> dict[str, Any] | real.RealRunError:
        try:
            return compare_workload(w)
        except real.RealRunError as exc:
            return exc

    runs = len(drawn)
    for i, (w, row) in enumerate(zip(drawn, _map_in_threads(attempt, drawn, jobs), strict=True)):
        if isinstance(row, real.RealRunError):  # the real run itself failed: not a disagreement
            exc = row
            item = {"workload": real.normalize(w), "agree": False, "known_divergence": None,
                    "differences": [], "first_difference": None, "real_elapsed_s": None,
                    "error": " ".join(str(exc).split())[:2000]}
            rows.append(item)
            errors.append({"workload": item["workload"], "error": item["error"],
                           "reproduction": reproduction(item["workload"])})
            if on_example is not None:
                on_example(i, item)
            continue
        item = {"workload": row["workload"], "agree": row["agree"],
                "known_divergence": row["known_divergence"],
                "differences": row["differences"], "first_difference": row["first_difference"],
                "real_elapsed_s": row["real_elapsed_s"]}
        rows.append(item)
        if on_example is not None:
            on_example(i, item)
        if row["agree"] or row["known_divergence"]:
            continue
        last: dict[str, Any] = {"row": row}
        minimal, tries = shrink(row["workload"], _still_fails(last), budget=shrink_budget)
        runs += tries
        failures.append({"workload": row["workload"], "minimal": minimal,
                         "minimal_difference": format_difference(last["row"]),
                         "reproduction": reproduction(minimal), "shrink_tries": tries})
    elapsed = time.monotonic() - started
    return {"seed": seed, "examples": rows, "failures": failures, "errors": errors,
            "agreeing": sum(r["agree"] for r in rows),
            "known_divergences": sum(bool(r["known_divergence"]) and not r["agree"]
                                     for r in rows),
            "elapsed_s": round(elapsed, 3),
            "workloads_per_s": round(runs / elapsed, 3) if elapsed else None}


def format_randomised(report: dict[str, Any]) -> str:
    n = len(report["examples"])
    out = [f"randomised crosscheck (seed {report['seed']}): {report['agreeing']}/{n} workloads "
           f"agree message by message, {report['known_divergences']} known model "
           f"divergence(s), {len(report['failures'])} failure(s), "
           f"{len(report.get('errors', []))} real-run error(s); {report['elapsed_s']:.1f} s, "
           f"{report['workloads_per_s']} workloads/s"]
    for e in report.get("errors", []):
        out.append("")
        out.append(f"REAL RUN ERROR: {e['error'][:500]}")
        out.append("reproduce with:")
        out.append(e["reproduction"])
    for f in report["failures"]:
        out.append("")
        out.append(f"FAILURE, shrunk in {f['shrink_tries']} tries to:")
        out.append(f["minimal_difference"])
        out.append("reproduce with:")
        out.append(f["reproduction"])
    return "\n".join(out)


def run_crosscheck_cli(as_json: bool = False, names: list[str] | None = None,
                       jobs: int = CROSSCHECK_JOBS) -> tuple[str, int]:
    """``python -m kafkalab crosscheck [--json]``: (text, exit code).

    Exit 0 when every comparable scenario agrees, 1 when one disagrees (or a real run failed),
    2 with a one-line message when the ``real`` extra (confluent-kafka) is missing."""
    try:
        report = crosscheck(names, jobs=jobs)
    except real.RealExtraMissing as exc:
        return " ".join(str(exc).split()), 2
    except real.RealRunError as exc:
        return f"crosscheck: a real run failed: {' '.join(str(exc).split())}", 1
    code = 0 if all(r["agree"] for r in report["scenarios"]) else 1
    text = json.dumps(report, indent=2, sort_keys=False) if as_json else format_table(report)
    return text, code


__all__ = [
    "COMPARED",
    "COMPARED_COPIES",
    "COMPARED_PRODUCER",
    "CONSUMER_PROPERTIES",
    "CROSSCHECK_JOBS",
    "PER_MESSAGE",
    "PRODUCER_PROPERTIES",
    "NotMappable",
    "carried_properties",
    "compare_workload",
    "compared_keys",
    "crosscheck",
    "first_difference",
    "format_difference",
    "format_markdown",
    "format_table",
    "known_divergence",
    "message_outcomes",
    "not_comparable",
    "random_replication_workload",
    "random_workload",
    "randomised",
    "reproduction",
    "resumed_from",
    "run_crosscheck_cli",
    "shrink",
    "simulate_workload",
    "simulated_ledger",
    "simulation_for",
    "unavailable_here",
]


def main(argv: list[str] | None = None) -> int:
    """``python -m kafkalab.crosscheck``: the registered workloads (default), one workload
    (``--workload JSON``), ``--deep [--out PATH]`` (the deeper workloads too), or
    ``--random N [--seed S] [--out PATH]``."""
    import argparse
    import sys
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m kafkalab.crosscheck",
                                     description="compare the model with a real Kafka client")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--workload", help="one workload as JSON (a reproduction)")
    parser.add_argument("--random", type=int, metavar="N", help="N randomised workloads")
    parser.add_argument("--replication", action="store_true",
                        help="with --random: draw replication workloads (produce errors, "
                             "leader failovers on a 3-broker mock cluster)")
    parser.add_argument("--seed", type=int, default=0, help="the randomised run's seed")
    parser.add_argument("--out", help="also write the JSON report to this file")
    parser.add_argument("--deep", action="store_true",
                        help="the registered workloads and the deeper ones (DEEP_WORKLOADS)")
    parser.add_argument("--jobs", type=int, default=CROSSCHECK_JOBS, metavar="N",
                        help=f"real runs at once (default {CROSSCHECK_JOBS}; 1: one at a time)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        print(f"kafkalab: --jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return 2
    try:
        if args.workload:
            try:
                w = json.loads(args.workload)
            except json.JSONDecodeError as exc:
                print(f"kafkalab: --workload is not valid JSON: {exc.msg}", file=sys.stderr)
                return 2
            row = compare_workload(w)
            report: dict[str, Any] = {"scenarios": [row], "not_comparable": []}
            text = format_table(report)
            code = 0 if row["agree"] else 1
        elif args.deep:
            report = crosscheck(deep=True, jobs=args.jobs)
            text = format_table(report)
            code = 0 if all(r["agree"] for r in report["scenarios"]) else 1
        elif args.random:
            report = randomised(args.random, args.seed,
                                generator=random_replication_workload if args.replication
                                else None, jobs=args.jobs,
                                on_example=None if args.json else lambda i, r: print(
                                    f"{i + 1}/{args.random} {r['workload']['name']}: "
                                    + ("agree" if r["agree"] else
                                       "known divergence" if r["known_divergence"] else
                                       "REAL RUN ERROR" if r.get("error") else
                                       "DISAGREE"), flush=True))
            text = format_randomised(report)
            code = 0 if not report["failures"] and not report["errors"] else 1
        else:
            text, code = run_crosscheck_cli(args.json, jobs=args.jobs)
            print(text)
            return code
    except (real.WorkloadError, NotMappable) as exc:
        print(f"kafkalab: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except real.RealExtraMissing as exc:
        print(" ".join(str(exc).split()), file=sys.stderr)
        return 2
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    print(json.dumps(report, indent=2, default=str) if args.json else text)
    if args.out:
        print(f"wrote {args.out}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
