"""Run a delivery-semantics workload with real Kafka clients and record a ledger.

The cluster is librdkafka's in-process mock cluster unless the caller passes
``bootstrap_servers`` (loopback addresses only). The producer runs in this process; each
consumer session runs in a spawned child process so that a crash is a real process death
(``os._exit``); a fresh consumer reads the whole partition back at the end.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

from . import consumer_app
from ._deps import require_confluent_kafka
from .ledger import build_ledger
from .workloads import (
    FIRST_LEADER,
    NEXT_LEADER,
    NOT_COMPARABLE,
    PRODUCE_ERROR_CODES,
    PRODUCER_BASE_CONFIG,
    REPLICATION_BROKERS,
    REPLICATION_FAULTS,
    check_expectations,
    normalize,
    not_comparable_parts,
)

PARTITION = 0
ERROR_RTT_MS = 300  # produce-errors with one record per request: how late the refusals come
SESSION_DEADLINE_S = 15.0  # a consumer session's own deadline; the parent waits a bit longer
FLUSH_TIMEOUT_S = 15.0
READBACK_TIMEOUT_S = 10.0


class NonLoopbackAddress(ValueError):
    """A bootstrap or advertised broker address is not a loopback address."""


class RealRunError(RuntimeError):
    """A real run could not complete (client error, timeout, unexpected child exit)."""


class NeedsMockApi(RuntimeError):
    """The workload injects a broker-side fault, which needs the mock cluster's C API."""


# ---------------------------------------------------------------------------------------------
# loopback guard


def _host_of(address: str) -> str:
    address = address.strip()
    if "://" in address:
        address = address.split("://", 1)[1]
    if address.startswith("["):
        return address[1 : address.index("]")]
    if address.count(":") == 1:
        return address.rsplit(":", 1)[0]
    return address  # bare host, or an unbracketed IPv6 address


def is_loopback_host(host: str) -> bool:
    host = host.strip().rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # another host name: not resolved, not trusted


def check_loopback(bootstrap_servers: str) -> list[str]:
    """The hosts of a ``bootstrap.servers`` list, all loopback, else :class:`NonLoopbackAddress`."""
    hosts = [_host_of(a) for a in bootstrap_servers.split(",") if a.strip()]
    if not hosts:
        raise NonLoopbackAddress("bootstrap_servers is empty")
    bad = [h for h in hosts if not is_loopback_host(h)]
    if bad:
        raise NonLoopbackAddress(
            f"kafkalab.real only contacts loopback addresses (127.0.0.0/8, ::1, localhost); "
            f"refusing {', '.join(bad)}"
        )
    return hosts


# ---------------------------------------------------------------------------------------------
# librdkafka log capture


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _client_logger() -> tuple[logging.Logger, _ListHandler]:
    # A free-standing Logger (not registered, no parent): librdkafka lines are collected for
    # the result instead of being printed on the notebook's stderr.
    logger = logging.Logger("kafkalab.real.librdkafka")
    handler = _ListHandler()
    logger.addHandler(handler)
    return logger, handler


# ---------------------------------------------------------------------------------------------
# cluster


@contextlib.contextmanager
def _cluster(
    ck: Any, w: dict[str, Any], bootstrap_servers: str | None, topic: str,
    logger: logging.Logger, notes: list[str], group: str = "",
) -> Iterator[tuple[str, Any]]:
    """Yields (bootstrap.servers, MockCluster or None)."""
    fault = w["broker_fault"]
    if bootstrap_servers is not None:
        check_loopback(bootstrap_servers)
        if fault is not None:
            raise NeedsMockApi(
                f"workload {w['name']!r} injects a broker-side fault ({fault['type']}), which "
                "needs librdkafka's mock cluster: run it without bootstrap_servers"
            )
        _check_advertised(ck, bootstrap_servers, logger)
        _create_topic(ck, bootstrap_servers, topic, logger, notes)
        notes.append(f"cluster: user-supplied at {bootstrap_servers}")
        yield bootstrap_servers, None
        return
    if fault is not None and fault["type"] in REPLICATION_FAULTS:
        from .mock_cluster import MockCluster

        with MockCluster(num_brokers=REPLICATION_BROKERS) as mock:
            check_loopback(mock.bootstrap_servers)
            mock.create_topic(topic, partitions=1, replication_factor=REPLICATION_BROKERS)
            # broker 1 leads partition 0 (the mock places leaders at random); the groups'
            # coordinator is the last broker, which no fault touches
            mock.set_partition_leader(topic, PARTITION, FIRST_LEADER)
            for g in (group, f"{group}-meta", f"{group}-readback"):
                mock.set_coordinator("group", g, REPLICATION_BROKERS)
            notes.append(
                f"cluster: standalone librdkafka {ck.libversion()[0]} mock cluster of "
                f"{REPLICATION_BROKERS} brokers at {mock.bootstrap_servers}, driven through the "
                f"experimental rd_kafka_mock_* C API (kafkalab/real/mock_cluster.py); topic "
                f"created with 1 partition and {REPLICATION_BROKERS} replicas, broker "
                f"{FIRST_LEADER} its leader, broker {REPLICATION_BROKERS} the group coordinator "
                "(the mock keeps one log per partition: no follower copies, no ISR)"
            )
            yield mock.bootstrap_servers, mock
        return
    if fault is not None:
        from .mock_cluster import MockCluster

        with MockCluster(num_brokers=1) as mock:
            check_loopback(mock.bootstrap_servers)
            mock.create_topic(topic, partitions=1, replication_factor=1)
            notes.append(
                f"cluster: standalone librdkafka {ck.libversion()[0]} mock cluster at "
                f"{mock.bootstrap_servers}, driven through the experimental rd_kafka_mock_* C API "
                f"(kafkalab/real/mock_cluster.py); topic created with 1 partition"
            )
            yield mock.bootstrap_servers, mock
        return
    owner = ck.Producer({"test.mock.num.brokers": 1, "logger": logger})
    try:
        brokers = owner.list_topics(timeout=5).brokers.values()
        bootstrap = ",".join(f"{b.host}:{b.port}" for b in brokers)
        check_loopback(bootstrap)
        notes.append(
            f"cluster: librdkafka {ck.libversion()[0]} in-process mock cluster "
            f"(test.mock.num.brokers=1) at {bootstrap}"
        )
        yield bootstrap, None
    finally:
        owner.flush(1)
        del owner


def _check_advertised(ck: Any, bootstrap: str, logger: logging.Logger) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": logger})
    brokers = admin.list_topics(timeout=5).brokers.values()
    advertised = ",".join(f"{b.host}:{b.port}" for b in brokers)
    try:
        check_loopback(advertised)
    except NonLoopbackAddress as exc:
        raise NonLoopbackAddress(f"the cluster advertises non-loopback brokers: {exc}") from None


def _create_topic(
    ck: Any, bootstrap: str, topic: str, logger: logging.Logger, notes: list[str]
) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": logger})
    futures = admin.create_topics([NewTopic(topic, 1, 1)], request_timeout=10)
    try:
        futures[topic].result(timeout=10)
    except ck.KafkaException as exc:
        if exc.args[0].code() != ck.KafkaError.TOPIC_ALREADY_EXISTS:
            raise RealRunError(f"could not create topic {topic}: {exc}") from exc
    notes.append(f"topic {topic} created with 1 partition (left on the cluster afterwards)")


# ---------------------------------------------------------------------------------------------
# producer


class _Producer:
    """The producer application: one librdkafka producer that writes message ids as key and
    value to partition 0, possibly in two phases (``produce_after_start``)."""

    def __init__(self, ck: Any, w: dict[str, Any], bootstrap: str, topic: str, mock: Any,
                 logger: logging.Logger) -> None:
        self.ck, self.w, self.topic, self.mock = ck, w, topic, mock
        conf: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            **PRODUCER_BASE_CONFIG,
            "logger": logger,
        }
        conf.update(w["producer"])
        fault = w["broker_fault"]
        if fault is not None and fault["type"] == "produce-errors":
            mock.start_request_tracking()
            code = PRODUCE_ERROR_CODES[fault["error"]]
            if str(conf.get("batch.num.messages")) == "1":
                # one record per request: the refusals come back ERROR_RTT_MS late, so every
                # first attempt is on the wire before the first refusal arrives (responses on
                # a connection come back in order: the later ones wait behind them). Without
                # the delay which requests the refusals hit depends on how fast the client
                # sends (observed: message 0 at offset 0, 3, 4 or 5 in three runs)
                mock.push_request_error_rtts(FIRST_LEADER, 0,
                                             [(code, ERROR_RTT_MS)] * fault["count"])
            else:
                mock.push_request_errors(0, [code] * fault["count"])
        elif fault is not None and fault["type"] == "leader-failover":
            mock.start_request_tracking()
        elif fault is not None:
            conf["socket.timeout.ms"] = fault["socket_timeout_ms"]
            mock.start_request_tracking()
            mock.delay_produce_responses([fault["delay_ms"]])
        self.conf = conf
        self.producer = ck.Producer(conf)
        self.acks: dict[int, dict[str, Any]] = {}
        self.unacked = 0
        self.produce_requests: int | None = None  # replication faults: Produce requests seen

    def send(self, ids: range) -> None:
        acks = self.acks

        def report(msg_id: int):
            def on_delivery(err: Any, msg: Any) -> None:
                acks[msg_id] = {
                    "acked": err is None,
                    "offset": msg.offset() if err is None else None,
                    "error": None if err is None else str(err),
                }

            return on_delivery

        for i in ids:
            self.producer.produce(self.topic, key=str(i).encode(), value=str(i).encode(),
                                  partition=PARTITION, on_delivery=report(i))
            self.producer.poll(0)
        self.unacked += self.producer.flush(FLUSH_TIMEOUT_S)

    def send_one_at_a_time(self, ids: range) -> None:
        """Produce each message and wait for its delivery report before the next (one message
        per request, as the simulated producer sends them one by one). A leader-failover moves
        the leader once ``after`` messages are acknowledged."""
        fault = self.w["broker_fault"]
        for i in ids:
            if fault is not None and fault["type"] == "leader-failover" and i == fault["after"]:
                self.fail_over()
            self.send(range(i, i + 1))

    def fail_over(self) -> None:
        """The leader's broker goes down (or stays up as a follower), the leadership moves."""
        fault = self.w["broker_fault"]
        if fault["old_leader"] == "down":
            self.mock.set_broker_down(FIRST_LEADER)
        self.mock.set_partition_leader(self.topic, PARTITION, NEXT_LEADER)

    def close(self, notes: list[str]) -> None:
        n, conf, fault, topic = self.w["messages"], self.conf, self.w["broker_fault"], self.topic
        if self.unacked:
            notes.append(f"producer: {self.unacked} message(s) still unacknowledged after "
                         f"{FLUSH_TIMEOUT_S} s")
        shown = {k: conf[k] for k in ("acks", "enable.idempotence", "linger.ms",
                                      "batch.num.messages") if k in conf}
        later = self.w["produce_after_start"]
        notes.append(
            f"producer: {n} messages (ids 0..{n - 1} as key and value) to partition {PARTITION} "
            f"of {topic} with {shown}; {sum(a['acked'] for a in self.acks.values())} "
            "acknowledged"
            + (f"; the last {later} were produced after the first consumer session knew where "
               "it starts" if later else "")
        )
        if fault is not None and fault["type"] in REPLICATION_FAULTS:
            produce_requests = self.mock.count_requests(0)
            self.mock.stop_request_tracking()
            self.produce_requests = produce_requests
            if fault["type"] == "produce-errors":
                notes.append(
                    f"broker fault: the mock cluster answered the first {fault['count']} "
                    f"Produce request(s) with {fault['error']} without appending them "
                    f"(rd_kafka_mock_push_request_errors_array); the brokers received "
                    f"{produce_requests} Produce requests")
            else:
                notes.append(
                    f"broker fault: after {fault['after']} messages were acknowledged the "
                    f"partition's leader moved from broker {FIRST_LEADER} to broker "
                    f"{NEXT_LEADER} (rd_kafka_mock_partition_set_leader)"
                    + (f", broker {FIRST_LEADER} down (rd_kafka_mock_broker_set_down: "
                       "connections refused)" if fault["old_leader"] == "down" else
                       f", broker {FIRST_LEADER} still up (it answers NOT_LEADER_OR_FOLLOWER)")
                    + f"; the brokers received {produce_requests} Produce requests")
        elif fault is not None:
            produce_requests = self.mock.count_requests(0)
            self.mock.stop_request_tracking()
            notes.append(
                f"broker fault: the first Produce response was delayed {fault['delay_ms']} ms, "
                f"beyond the producer's socket.timeout.ms={fault['socket_timeout_ms']}; the mock "
                f"broker received {produce_requests} Produce requests"
            )
        try:
            partitions = len(self.producer.list_topics(topic, timeout=5).topics[topic].partitions)
            if partitions != 1:
                notes.append(
                    f"topic {topic} has {partitions} partitions (the mock cluster auto-creates "
                    f"topics with its default count); only partition {PARTITION} is used"
                )
        except (self.ck.KafkaException, KeyError):
            pass
        del self.producer


def _end_offset(ck: Any, bootstrap: str, topic: str, group: str,
                logger: logging.Logger) -> int:
    """The partition's high watermark, asked of the broker."""
    consumer = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": f"{group}-meta",
                            "enable.auto.commit": False, "logger": logger})
    try:
        _, high = consumer.get_watermark_offsets(ck.TopicPartition(topic, PARTITION), timeout=5,
                                                 cached=False)
        return int(high)
    finally:
        consumer.close()


def _wait_for_event(path: str, proc: subprocess.Popen, predicate: Any,
                    timeout_s: float) -> dict[str, Any]:
    """Wait (re-reading the event log) until an event matches, the child exits, or time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        for event in _read_events(path):
            if predicate(event):
                return event
        if proc.poll() is not None:
            raise RealRunError("the consumer session ended before it knew where it starts")
        if time.monotonic() > deadline:
            raise RealRunError("the consumer session did not start reading in time")
        time.sleep(0.02)


# ---------------------------------------------------------------------------------------------
# consumer sessions (child processes)


def _run_session(spec: dict[str, Any]) -> int:
    """Run one consumer session in a fresh interpreter and return its exit code."""
    return _wait_session(_start_session(spec), spec)


def _start_session(spec: dict[str, Any]) -> subprocess.Popen:
    """Start one consumer session in a fresh interpreter.

    A new process (``python -m kafkalab.real.consumer_app``) rather than a fork: forking a
    process that holds librdkafka handles is unsafe, and unlike multiprocessing's spawn it does
    not re-import the caller's ``__main__`` (scripts without a main guard, notebooks)."""
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, env.get("PYTHONPATH")) if p
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "kafkalab.real.consumer_app"],
        stdin=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(spec).encode())
    proc.stdin.close()
    return proc


def _wait_session(proc: subprocess.Popen, spec: dict[str, Any]) -> int:
    try:
        proc.wait(timeout=spec["deadline_s"] + 10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        raise RealRunError(f"consumer session {spec['session']} did not finish in time") from None
    return proc.returncode


def _read_events(path: str) -> list[dict[str, Any]]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _read_sink(path: str) -> list[int]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [int(line) for line in f if line.strip()]


def _describe_session(session: int, code: int, events: list[dict[str, Any]]) -> str:
    mine = [e for e in events if e.get("session") == session]
    resume = next((e for e in mine if e["ev"] == "resume"), {})
    positioned = next((e for e in mine if e["ev"] == "positioned"), {})
    delivered = [e for e in mine if e["ev"] == "delivered"]
    commits = [e["offset"] for e in mine if e["ev"] == "commit"]
    stores = [e["offset"] for e in mine if e["ev"] == "store"]
    committed = resume.get("committed")
    start = (
        f"committed offset {committed}" if committed is not None
        else f"no committed offset, {positioned.get('how')} → {positioned.get('offset')}"
    )
    text = f"consumer session {session}: started from {start}; {len(delivered)} records delivered"
    if delivered:
        text += f" (offsets {delivered[0]['offset']}..{delivered[-1]['offset']})"
    if commits:
        text += f"; synchronous commits of next offsets {commits}"
    failed = [e for e in mine if e["ev"] == "commit_failed"]
    if failed:
        text += f"; commits of {[e['offset'] for e in failed]} failed ({failed[0]['error']})"
    if any(e["ev"] == "max_poll_exceeded" for e in mine):
        text += "; librdkafka reported max.poll.interval.ms exceeded and the consumer rejoined"
    if stores:
        text += f"; store_offsets() after processing, up to {stores[-1]}"
    for e in mine:
        if e["ev"] == "failed":
            text += f"; processing record {e['record']} (offset {e['offset']}) failed"
            text += " and was skipped" if e["then"] == "skip" else ", the exception escaped"
        if e["ev"] == "crash":
            text += (
                f"; crashed (os._exit) at {e['point']} of record {e['record']} "
                f"(offset {e['offset']})"
            )
        if e["ev"] == "closed":
            text += "; consumer.close()"
    return text + f"; exit code {code}"


# ---------------------------------------------------------------------------------------------
# read back


def _read_back(ck: Any, bootstrap: str, topic: str, group: str,
               logger: logging.Logger) -> list[tuple[int, int]]:
    consumer = ck.Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"{group}-readback",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "isolation.level": "read_uncommitted",
        "fetch.wait.max.ms": 50,
        "logger": logger,
    })
    try:
        consumer.assign([ck.TopicPartition(topic, PARTITION, ck.OFFSET_BEGINNING)])
        log: list[tuple[int, int]] = []
        deadline = time.monotonic() + READBACK_TIMEOUT_S
        while True:
            if time.monotonic() > deadline:
                raise RealRunError("reading the log back timed out")
            msgs = consumer.consume(num_messages=100, timeout=0.2)
            eof = False
            for m in msgs:
                err = m.error()
                if err is None:
                    log.append((m.offset(), int(m.value())))
                elif err.code() == ck.KafkaError._PARTITION_EOF:
                    eof = True
                else:
                    raise RealRunError(f"reading the log back failed: {err}")
            if eof:
                return log
    finally:
        consumer.close()


# ---------------------------------------------------------------------------------------------
# public entry point


def run_real(workload: dict[str, Any] | str, bootstrap_servers: str | None = None) -> dict:
    """Run ``workload`` (a dict, or a registered name) with real confluent-kafka clients.

    Returns ``{"workload", "outcome", "ledger", "notes", "expectations", "not_comparable",
    "client_log", "events", "elapsed_s"}`` (``events``: the consumer sessions' event log, for
    :func:`kafkalab.real.ledger.explain_message`); ``outcome`` has the simulation's integer keys
    (``resumed_from`` is None without a restart); ``expectations`` lists the workload's
    ``expect`` entries the run did not meet (empty = as expected); ``not_comparable`` lists
    "not comparable: ..." caveats when the workload hits a known gap of the mock cluster (its
    numbers then show the mock, not Kafka).

    Without ``bootstrap_servers`` the run uses librdkafka's in-process mock cluster; a
    user-supplied cluster must be on loopback addresses. Raises :class:`RealExtraMissing`
    without confluent-kafka, :class:`WorkloadError` for a malformed workload,
    :class:`NonLoopbackAddress`, :class:`NeedsMockApi`, or :class:`RealRunError`.
    """
    ck = require_confluent_kafka()
    w = normalize(workload)
    started = time.monotonic()
    run_id = uuid.uuid4().hex[:10]
    topic = f"kafkalab-{run_id}"
    group = f"kafkalab-{run_id}"
    logger, log_lines = _client_logger()
    notes: list[str] = []

    with tempfile.TemporaryDirectory(prefix="kafkalab-real-") as tmp, _cluster(
        ck, w, bootstrap_servers, topic, logger, notes, group
    ) as (bootstrap, mock):
        producer = _Producer(ck, w, bootstrap, topic, mock, logger)
        n, later = w["messages"], w["produce_after_start"]
        if (w["broker_fault"] or {}).get("type") == "leader-failover":
            producer.send_one_at_a_time(range(n))
        else:
            producer.send(range(n - later))
        events_path = os.path.join(tmp, "events.jsonl")
        sink_path = os.path.join(tmp, "sink.txt")
        done_path = os.path.join(tmp, "producer-done.txt")

        def producer_done() -> None:
            end = _end_offset(ck, bootstrap, topic, group, logger)
            with open(done_path + ".tmp", "w", encoding="utf-8") as f:
                f.write(str(end))
            os.replace(done_path + ".tmp", done_path)

        base = {
            "bootstrap": bootstrap,
            "topic": topic,
            "partition": PARTITION,
            "group": group,
            "consumer": w["consumer"],
            "events_path": events_path,
            "sink_path": sink_path,
            "producer_done_path": done_path,
            "deadline_s": SESSION_DEADLINE_S,
        }
        if w["consumer"]["subscribe"] or w["slow"]:
            # a group join on the mock takes ~3 s, a rejoin more; a slow record its own time
            base["deadline_s"] = SESSION_DEADLINE_S + 15 + (w["slow"] or {"ms": 0})["ms"] / 1000
        first = {**base, "session": 1, "crash": w["crash"], "failure": w["failure"],
                 "slow": w["slow"]}
        if later:
            proc = _start_session(first)
            _wait_for_event(events_path, proc,
                            lambda e: e["ev"] == "positioned" and e["session"] == 1,
                            SESSION_DEADLINE_S)
            producer.send(range(n - later, n))
            producer_done()
            codes = [_wait_session(proc, first)]
        else:
            producer_done()
            codes = [_run_session(first)]
        producer.close(notes)
        acks = producer.acks
        expected_ends = (0, consumer_app.CRASH_EXIT_CODE, consumer_app.RAISED_EXIT_CODE)
        if codes[0] in expected_ends[1:] and w["restart"]:
            codes.append(_run_session({**base, "session": 2, "crash": None, "failure": None}))
        events = _read_events(events_path)
        for session, code in enumerate(codes, start=1):
            if code not in expected_ends:
                errors = [e.get("traceback", "") for e in events
                          if e["ev"] == "error" and e.get("session") == session]
                raise RealRunError(
                    f"consumer session {session} exited with code {code}:\n" + "\n".join(errors)
                )
        log = _read_back(ck, bootstrap, topic, group, logger)
        processed = _read_sink(sink_path)

    deliveries = [e["id"] for e in events if e["ev"] == "delivered"]
    resumed_from = None
    if len(codes) > 1:
        resume = next(e for e in events if e["ev"] == "positioned" and e["session"] == 2)
        resumed_from = resume["offset"]
    ledger, outcome = build_ledger(w["messages"], acks, log, deliveries, processed, resumed_from)
    for session, code in enumerate(codes, start=1):
        notes.append(_describe_session(session, code, events))
    caveats = [f"not comparable: {NOT_COMPARABLE[k]}" for k in not_comparable_parts(w)]
    notes.extend(caveats)
    copied = [e for e in ledger if len(e["offsets"]) > 1]
    if copied:
        e = copied[0]
        notes.append(
            f"{len(copied)} message(s) have more than one copy in the log, e.g. id {e['id']} at "
            f"offsets {e['offsets']}, acknowledged to the producer at offset {e['ack_offset']}"
        )
    if codes[0] in expected_ends[1:] and not w["restart"]:
        notes.append("no restart: the workload leaves the consumer dead")
    offsets = [o for o, _ in log]
    notes.append(
        f"read back: {len(log)} records"
        + (f" at offsets {min(offsets)}..{max(offsets)}" if offsets else "")
        + " by a fresh consumer from the beginning of the partition"
    )
    child_log = [f"[consumer {e['session']}] {e['text']}" for e in events if e["ev"] == "log"]
    return {
        "workload": w["name"],
        "outcome": outcome,
        "ledger": ledger,
        "notes": notes,
        "expectations": check_expectations(outcome, w["expect"]),
        "not_comparable": caveats,
        "client_log": log_lines.lines + child_log,
        "events": [e for e in events if e["ev"] != "log"],
        "elapsed_s": round(time.monotonic() - started, 3),
        # replication faults: how many Produce requests the mock brokers received (first
        # attempts and retries that reached one; None for other workloads)
        "produce_requests": producer.produce_requests,
    }
