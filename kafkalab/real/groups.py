"""Consumer-group workloads run with real clients: several ``subscribe()`` members on
librdkafka's mock cluster (issue 17, "Checked against the real client").

Pure data and validation at import (no confluent_kafka); :func:`run_group_real` runs one. A
group workload is a JSON-compatible dict::

    {
      "name": "group-range-crash-takeover", "title": "...",
      "messages": 40, "partitions": 4,     # message i is written to partition i % partitions
      "members": 2,                        # subscribe() members started together
      "strategy": "range" | "cooperative-sticky",   # partition.assignment.strategy
      "commit": "after-each" | "auto",     # synchronous commit after each record, or
      "auto_commit_interval_ms": 5000,     #   librdkafka's background auto-commit
      "batch": 10, "processing_ms": 0,     # records per consume(); each record's processing
      "config": {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                 "max.poll.interval.ms": 6000},
      "crash": None | {"message": 9},      # the member that processes it dies (os._exit)
                                           # after processing it, before committing; no restart
      "slow": None | {"message": 4, "ms": 7000},  # processing it takes this long, once
      "join": None | {"after_message": 6},  # scale out: one more member starts once that
                                            # message has been processed
      "compare": ("messages", "resumed"),  # what the crosscheck compares (see GROUP_COMPARES)
      "ci": True,                          # part of the fast CI subset
      "expect": {"lost": "==0", "duplicates": "==1"},
    }

Every member starts with its partitions paused and the parent lets them go once the whole
first generation is assigned (every member has partitions, none twice, all covered), so which
records each member processes does not depend on how fast the processes started. Each fault
fires once in the group (a marker file), whichever member reaches it.

On the mock cluster (librdkafka 2.16, ``rdkafka_mock_cgrp.c``) a rebalance of a group that is
not empty waits ``session.timeout.ms - 1000`` ms for members to rejoin before it completes,
even when all have; the first join waits ``group.initial.rebalance.delay.ms`` (set here through
the mock API to :data:`INITIAL_REBALANCE_DELAY_MS`: above the session timeout the mock expires
the waiting members and the group never forms); sessions are checked once a second. So runs
take seconds per rebalance and timings are never compared.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

from ..expect import check as expect_check

STRATEGIES = ("range", "cooperative-sticky")
GROUP_COMMIT_MODES = ("after-each", "auto")
#: What a group crosscheck may compare: ``messages`` (every message's processed count and
#: lost flag, plus the outcome counts), ``resumed`` (per partition, the offsets later owners
#: started from), ``no-loss`` (nothing lost, on either side), ``explained-duplicates`` (the
#: real run's duplicates, less those the mock caused by refusing a commit during its join
#: phase, equal the model's).
GROUP_COMPARES = ("messages", "resumed", "no-loss", "explained-duplicates")
#: The consumer settings every member uses unless the workload's config overrides them
#: (the crosscheck hands exactly these to the simulation too).
GROUP_BASE_CONFIG: dict[str, Any] = {
    "auto.offset.reset": "earliest",
    "fetch.wait.max.ms": 50,
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "max.poll.interval.ms": 6000,
}
#: librdkafka settings a group workload's config may set.
GROUP_CONFIG_KEYS = ("session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms",
                     "auto.offset.reset", "fetch.wait.max.ms")
#: group.initial.rebalance.delay.ms on the mock cluster (its default is 3000).
INITIAL_REBALANCE_DELAY_MS = 1000
#: A whole group run's deadline (every member's too): a run that has not committed every
#: partition to its end by then fails with a message naming what was missing.
RUN_DEADLINE_S = 90.0


class GroupWorkloadError(ValueError):
    """A group workload description is malformed."""


def _base(name: str, title: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "messages": 40,
        "partitions": 4,
        "members": 2,
        "strategy": "range",
        "commit": "after-each",
        "auto_commit_interval_ms": 5000,
        "batch": 10,
        "processing_ms": 0,
        "config": {},
        "crash": None,
        "slow": None,
        "join": None,
        "compare": ["messages", "resumed"],
        "ci": False,
        "expect": {},
    }


def _crash(strategy: str, members: int = 2, partitions: int = 4, messages: int = 40,
           ci: bool = False) -> dict[str, Any]:
    tag = "range" if strategy == "range" else "cooperative"
    name = f"group-{tag}-crash-takeover" + ("" if members == 2 else f"-{members}-members")
    w = _base(name, f"{members} members, {partitions} partitions, {strategy}: the member "
                    "processing message 9 dies after processing it, before its commit; after "
                    "session.timeout.ms the others take its partitions over at the committed "
                    "offsets: message 9 is processed twice, nothing is lost")
    w.update(members=members, partitions=partitions, messages=messages, strategy=strategy,
             crash={"message": 9}, ci=ci)
    w["expect"] = {"lost": "==0", "duplicates": "==1"}
    return w


def _max_poll(strategy: str, ci: bool = False) -> dict[str, Any]:
    tag = "range" if strategy == "range" else "cooperative"
    w = _base(f"group-{tag}-max-poll-exceeded",
              f"2 members, 2 partitions, {strategy}: processing message 4 takes 7 s, beyond "
              "max.poll.interval.ms=3000: librdkafka leaves the group, the other member "
              "takes partition 0 over at the committed offset while the evicted one (a zombie) "
              "finishes its batch with failing commits: messages 4-18 of partition 0 are "
              "processed twice")
    # 7 s: librdkafka checks max.poll.interval.ms about once a second, so it leaves the group
    # 3.0-4.0 s after the last poll (later on a busy machine); with 4.5 s a busy CI machine
    # once saw the member wake up before it had left, so its commits of 4-18 succeeded and
    # nothing was processed twice
    w.update(messages=20, partitions=2, strategy=strategy, slow={"message": 4, "ms": 7000},
             config={"session.timeout.ms": 3000, "max.poll.interval.ms": 3000}, ci=ci)
    w["expect"] = {"lost": "==0", "duplicates": ">0"}
    return w


def _scale_out(strategy: str) -> dict[str, Any]:
    tag = "range" if strategy == "range" else "cooperative"
    w = _base(f"group-{tag}-scale-out",
              f"2 members, 4 partitions, {strategy}, 50 ms per record: a third member "
              "starts once message 6 is processed; partitions move to it at their committed "
              "offsets")
    w.update(messages=60, processing_ms=50, strategy=strategy, join={"after_message": 6},
             compare=["no-loss", "explained-duplicates"])
    w["expect"] = {"lost": "==0"}
    return w


def _auto_commit_crash(strategy: str) -> dict[str, Any]:
    tag = "range" if strategy == "range" else "cooperative"
    w = _crash(strategy)
    w["name"] = f"group-{tag}-auto-commit-crash-takeover"
    w["title"] = (f"2 members, 2 partitions, {strategy}, librdkafka auto-commit every 5 s: the "
                  "member processing message 9 dies before its first auto-commit; the new "
                  "owner re-reads its partition from the start")
    # one partition each: what the dead member had read of a second partition would depend
    # on the order librdkafka's fetches return them
    w.update(commit="auto", auto_commit_interval_ms=5000, partitions=2, messages=20)
    # the survivor's own partition: its timer committed it long before the takeover, so its
    # commit on revoke has nothing new (the mock would refuse it while Joining)
    w["expect"] = {"lost": "==0", "duplicates": "==5"}
    return w


_FACTORIES: tuple[Callable[[], dict[str, Any]], ...] = (
    lambda: _crash("range", ci=True),
    lambda: _crash("cooperative-sticky"),
    lambda: _crash("range", members=3, partitions=6, messages=60),
    lambda: _crash("cooperative-sticky", members=3, partitions=6, messages=60),
    lambda: _max_poll("range", ci=True),
    lambda: _max_poll("cooperative-sticky"),
    lambda: _scale_out("range"),
    lambda: _scale_out("cooperative-sticky"),
    lambda: _auto_commit_crash("cooperative-sticky"),
    lambda: _auto_commit_crash("range"),
)

#: Supported group workloads, by name (the deep crosscheck runs all; ``ci`` marks the few the
#: test suite runs).
GROUP_WORKLOADS: dict[str, dict[str, Any]] = {f()["name"]: f() for f in _FACTORIES}


def ci_group_workloads() -> list[str]:
    return [name for name, w in GROUP_WORKLOADS.items() if w["ci"]]


def get_group_workload(name: str) -> dict[str, Any]:
    try:
        return copy.deepcopy(GROUP_WORKLOADS[name])
    except KeyError:
        raise GroupWorkloadError(f"unknown group workload {name!r}; supported: "
                                 f"{', '.join(GROUP_WORKLOADS)}") from None


def _int(where: str, value: Any, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or \
            (high is not None and value > high):
        bound = f" and <= {high}" if high is not None else ""
        raise GroupWorkloadError(f"{where} must be an integer >= {low}{bound}, got {value!r}")
    return value


def normalize_group(workload: dict[str, Any] | str) -> dict[str, Any]:
    """Validate a group workload (or a registered name) and fill defaults; a new dict."""
    if isinstance(workload, str):
        workload = get_group_workload(workload)
    if not isinstance(workload, dict):
        raise GroupWorkloadError("a group workload is a dict (or a registered name)")
    w = _base(str(workload.get("name", "custom-group")), str(workload.get("title", "")))
    unknown = set(workload) - set(w)
    if unknown:
        raise GroupWorkloadError(f"unknown group workload keys: {sorted(unknown)}")
    w.update(copy.deepcopy(workload))
    w["messages"] = _int("messages", w["messages"], 1, 400)
    w["partitions"] = _int("partitions", w["partitions"], 1, 12)
    w["members"] = _int("members", w["members"], 1, 4)
    if w["members"] > w["partitions"]:
        raise GroupWorkloadError("members must be <= partitions (the start waits until every "
                                 "member has a partition)")
    if w["strategy"] not in STRATEGIES:
        raise GroupWorkloadError(f"strategy must be one of {STRATEGIES}")
    if w["commit"] not in GROUP_COMMIT_MODES:
        raise GroupWorkloadError(f"commit must be one of {GROUP_COMMIT_MODES}")
    w["auto_commit_interval_ms"] = _int("auto_commit_interval_ms", w["auto_commit_interval_ms"],
                                        1)
    w["batch"] = _int("batch", w["batch"], 1)
    w["processing_ms"] = _int("processing_ms", w["processing_ms"], 0, 500)
    if not isinstance(w["config"], dict) or set(w["config"]) - set(GROUP_CONFIG_KEYS):
        raise GroupWorkloadError(f"config may set only {', '.join(GROUP_CONFIG_KEYS)}")
    conf = {**GROUP_BASE_CONFIG, **w["config"]}
    if conf["max.poll.interval.ms"] < conf["session.timeout.ms"]:
        raise GroupWorkloadError("librdkafka requires max.poll.interval.ms >= "
                                 "session.timeout.ms")
    if conf["session.timeout.ms"] <= INITIAL_REBALANCE_DELAY_MS + 1000:
        raise GroupWorkloadError(
            f"session.timeout.ms must exceed {INITIAL_REBALANCE_DELAY_MS + 1000}: the mock "
            "cluster expires members whose first JoinGroup waits longer than their session "
            "(group.initial.rebalance.delay.ms) and checks sessions once a second")
    n = w["messages"]
    for key, fields in (("crash", ("message",)), ("slow", ("message", "ms")),
                        ("join", ("after_message",))):
        value = w[key]
        if value is None:
            continue
        if not isinstance(value, dict) or set(value) != set(fields):
            raise GroupWorkloadError(f"{key} is None or {{{', '.join(fields)}}}")
        for f in fields:
            value[f] = _int(f"{key}.{f}", value[f], 0 if f != "ms" else 1,
                            n - 1 if f != "ms" else 10000)
    if w["slow"] is not None and w["slow"]["ms"] <= conf["max.poll.interval.ms"] // 2:
        pass  # a slow record within the interval is allowed: it only delays
    if not isinstance(w["compare"], list | tuple) or set(w["compare"]) - set(GROUP_COMPARES):
        raise GroupWorkloadError(f"compare is a list of {GROUP_COMPARES}")
    w["compare"] = list(w["compare"])
    if not isinstance(w["expect"], dict):
        raise GroupWorkloadError("expect must be a dict")
    return w


def member_settings(w: dict[str, Any]) -> dict[str, Any]:
    """Every librdkafka consumer setting a member of this (normalized) workload uses, but
    bootstrap.servers, group.id and the commit mode's."""
    return {**GROUP_BASE_CONFIG, **w["config"], "partition.assignment.strategy": w["strategy"]}


# ---------------------------------------------------------------------------------------------
# running one


class GroupRunError(RuntimeError):
    """A group run could not complete (a member failed, or the run's deadline passed)."""


def _read_events(path: str) -> list[dict[str, Any]]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        out = []
        for line in f:
            with contextlib.suppress(json.JSONDecodeError):  # a line being written
                out.append(json.loads(line))
        return out


def _read_sink(path: str) -> list[int]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [int(line) for line in f if line.strip().isdigit()]


def current_assignments(events: list[dict[str, Any]]) -> dict[int, set[int]]:
    """Each member's partitions now, from its assign / revoke / lost events."""
    owned: dict[int, set[int]] = {}
    for e in events:
        if e["ev"] in ("assign", "revoke", "lost"):
            owned[e["member"]] = set(e["owned"])
        elif e["ev"] in ("crash", "exit"):
            owned[e["member"]] = set()
    return owned


def first_generation_complete(events: list[dict[str, Any]], members: int,
                              partitions: int) -> bool:
    """Every one of the first ``members`` members holds partitions, none held twice, all
    held: the group's first full assignment (the go signal)."""
    owned = current_assignments(events)
    held = [owned.get(m, set()) for m in range(members)]
    if not all(held):
        return False
    union: set[int] = set()
    for s in held:
        if union & s:
            return False
        union |= s
    return union == set(range(partitions))


def unpositioned(events: list[dict[str, Any]]) -> dict[int, list[int]]:
    """Per live member, the partitions it was given and has not yet started reading (no
    record or end-of-partition seen since): the run ends only once there are none, so every
    hand-over's resume offset is recorded."""
    pending: dict[int, set[int]] = {}
    for e in events:
        m = e.get("member")
        if e["ev"] == "assign":
            if not e["incremental"]:
                pending[m] = set()
            pending.setdefault(m, set()).update(e["partitions"])
        elif e["ev"] in ("revoke", "lost"):
            pending.setdefault(m, set()).difference_update(e["partitions"])
        elif e["ev"] == "positioned":
            pending.setdefault(m, set()).discard(e["partition"])
        elif e["ev"] in ("crash", "exit"):
            pending[m] = set()
    return {m: sorted(ps) for m, ps in pending.items() if ps}


def first_owners(events: list[dict[str, Any]]) -> dict[int, int]:
    """Partition -> the member that held it when processing started (the go signal)."""
    go = next((i for i, e in enumerate(events) if e["ev"] == "go"), len(events))
    return {p: m for m, ps in current_assignments(events[:go]).items() for p in ps}


def resumed_offsets(events: list[dict[str, Any]], ends: list[int] | None = None
                    ) -> dict[str, list[int]]:
    """Per partition (str key), the distinct offsets that later owners started from, sorted:
    every ``positioned`` but the first owner's first one (a later owner that takes over a
    partition its first owner never read starts a hand-over too). With ``ends`` (each
    partition's end offset) only hand-overs with records left to read are kept."""
    owners = first_owners(events)
    started: set[int] = set()
    later: dict[int, set[int]] = {}
    for e in events:
        if e["ev"] != "positioned":
            continue
        p = e["partition"]
        if p not in started and owners.get(p) == e["member"]:
            started.add(p)
            continue
        started.add(p)
        if ends is None or e["offset"] < ends[p]:
            later.setdefault(p, set()).add(e["offset"])
    return {str(p): sorted(later[p]) for p in sorted(later)}


def refused_commit_ids(events: list[dict[str, Any]], partitions: int) -> list[int]:
    """Message ids whose commit the mock refused with REBALANCE_IN_PROGRESS (its group is
    Joining: ``rd_kafka_mock_cgrp_classic_check_state``; Kafka accepts a commit of the current
    generation while PreparingRebalance, ``ClassicGroup.validateOffsetCommit``): for each
    refused commit of offset ``o`` on partition ``p``, every record of ``p`` from the offset
    committed before it up to ``o`` (message ``i`` is offset ``i // partitions`` of partition
    ``i % partitions``)."""
    committed: dict[int, int] = {}
    refused: set[int] = set()
    for e in events:
        if e["ev"] == "commit":
            committed[e["partition"]] = max(committed.get(e["partition"], 0), e["offset"])
        elif e["ev"] == "commit_failed" and e["error"] == "REBALANCE_IN_PROGRESS":
            p = e["partition"]
            refused.update(off * partitions + p for off in range(committed.get(p, 0),
                                                                 e["offset"]))
    return sorted(refused)


def _start_member(spec: dict[str, Any]) -> subprocess.Popen[bytes]:
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen([sys.executable, "-m", "kafkalab.real.group_member"],
                            stdin=subprocess.PIPE, env=env)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(spec).encode())
    proc.stdin.close()
    return proc


def _committed(ck: Any, meta: Any, topic: str, partitions: int) -> list[int]:
    tps = [ck.TopicPartition(topic, p) for p in range(partitions)]
    return [tp.offset for tp in meta.committed(tps, timeout=5)]


def _read_back(ck: Any, bootstrap: str, topic: str, partitions: int, group: str,
               deadline_s: float = 15.0) -> list[tuple[int, int, int]]:
    """(partition, offset, id) of every record, by a fresh consumer from the beginning."""
    consumer = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": f"{group}-readback",
                            "enable.auto.commit": False, "enable.partition.eof": True,
                            "fetch.wait.max.ms": 50})
    try:
        consumer.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING)
                         for p in range(partitions)])
        out: list[tuple[int, int, int]] = []
        at_end: set[int] = set()
        deadline = time.monotonic() + deadline_s
        while len(at_end) < partitions:
            if time.monotonic() > deadline:
                raise GroupRunError(f"kafkalab: reading the log back timed out after "
                                    f"{deadline_s:.0f} s (partitions at their end: "
                                    f"{sorted(at_end)})")
            for m in consumer.consume(num_messages=500, timeout=0.2):
                err = m.error()
                if err is None:
                    out.append((m.partition(), m.offset(), int(m.value())))
                    at_end.discard(m.partition())
                elif err.code() == ck.KafkaError._PARTITION_EOF:
                    at_end.add(m.partition())
                else:
                    raise GroupRunError(f"kafkalab: reading the log back failed: {err}")
        return out
    finally:
        consumer.close()


def run_group_real(workload: dict[str, Any] | str,
                   deadline_s: float = RUN_DEADLINE_S) -> dict[str, Any]:
    """Run a group workload on a fresh librdkafka mock cluster (the ctypes one: it sets the
    group's initial rebalance delay and creates the topic with its partitions).

    Returns ``{"workload", "outcome", "ledger", "resumed", "refused_commits", "events",
    "notes", "expectations", "elapsed_s"}``; ``outcome`` has the simulation's keys
    (``resumed_from`` None: a group has one per partition, in ``resumed``). Always ends: a run
    that has not committed every partition to its end within ``deadline_s`` raises
    :class:`GroupRunError` naming the missing offsets, and every member process is killed."""
    from ._deps import require_confluent_kafka
    from .ledger import build_ledger
    from .mock_cluster import MockCluster

    ck = require_confluent_kafka()
    w = normalize_group(workload)
    started = time.monotonic()
    run_id = uuid.uuid4().hex[:10]
    topic = group = f"kafkalab-group-{run_id}"
    n, parts = w["messages"], w["partitions"]
    notes: list[str] = []
    procs: dict[int, subprocess.Popen[bytes]] = {}
    with tempfile.TemporaryDirectory(prefix="kafkalab-group-") as tmp, \
            MockCluster(num_brokers=1) as mock:
        mock.create_topic(topic, partitions=parts, replication_factor=1)
        mock.set_group_initial_rebalance_delay_ms(INITIAL_REBALANCE_DELAY_MS)
        bootstrap = mock.bootstrap_servers
        producer = ck.Producer({"bootstrap.servers": bootstrap, "acks": "all",
                                "linger.ms": 5, "enable.idempotence": False})
        acks: dict[int, dict[str, Any]] = {}

        def report(msg_id: int) -> Any:
            def on_delivery(err: Any, msg: Any) -> None:
                acks[msg_id] = {"acked": err is None,
                                "offset": msg.offset() if err is None else None,
                                "error": None if err is None else str(err)}
            return on_delivery

        for i in range(n):
            producer.produce(topic, key=str(i).encode(), value=str(i).encode(),
                             partition=i % parts, on_delivery=report(i))
            producer.poll(0)
        if producer.flush(15):
            raise GroupRunError("kafkalab: the producer could not flush within 15 s")
        end = [sum(1 for i in range(n) if i % parts == p) for p in range(parts)]
        paths = {k: os.path.join(tmp, k) for k in ("events", "sink", "go", "stop",
                                                    "crash_marker", "slow_marker")}

        def spec(member: int, gate: bool) -> dict[str, Any]:
            return {"bootstrap": bootstrap, "topic": topic, "group": group, "member": member,
                    "commit": w["commit"], "auto_commit_interval_ms": w["auto_commit_interval_ms"],
                    "batch": w["batch"], "processing_ms": w["processing_ms"],
                    "config": member_settings(w), "crash": w["crash"], "slow": w["slow"],
                    "gate": gate, "deadline_s": deadline_s + 5,
                    "events_path": paths["events"], "sink_path": paths["sink"],
                    "go_path": paths["go"], "stop_path": paths["stop"],
                    "crash_marker": paths["crash_marker"], "slow_marker": paths["slow_marker"]}

        meta = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                            "enable.auto.commit": False})
        try:
            for m in range(w["members"]):
                procs[m] = _start_member(spec(m, gate=True))
            deadline = started + deadline_s
            go = joined = False
            committed: list[int] = []
            changed = started
            # longer than any rebalance on the mock (session.timeout.ms - 1000, then sync)
            quiet_s = 2 * member_settings(w)["session.timeout.ms"] / 1000
            while True:
                now = time.monotonic()
                events = _read_events(paths["events"])
                failed = [e for e in events if e["ev"] == "error"]
                if failed:
                    raise GroupRunError(f"kafkalab: group member {failed[0]['member']} "
                                        f"failed:\n{failed[0]['traceback']}")
                if not go:
                    if first_generation_complete(events, w["members"], parts):
                        with open(paths["go"], "w", encoding="utf-8"):
                            pass
                        go = True
                        notes.append(f"the first generation was assigned after "
                                     f"{now - started:.1f} s; processing started then")
                elif w["join"] is not None and not joined and any(
                        e["ev"] == "processed" and e["id"] == w["join"]["after_message"]
                        for e in events):
                    procs[w["members"]] = _start_member(spec(w["members"], gate=False))
                    joined = True
                    notes.append(f"scale out: member {w['members']} started once message "
                                 f"{w['join']['after_message']} was processed")
                if go and (w["join"] is None or joined):
                    now_committed = _committed(ck, meta, topic, parts)
                    if now_committed != committed:
                        committed, changed = now_committed, now
                    if committed == end and not unpositioned(events):
                        break
                    if now - changed >= quiet_s and not unpositioned(events) and \
                            set(_read_sink(paths["sink"])) >= set(range(n)):
                        # every record processed, nothing committed for a while: an owner
                        # whose last commits the mock refused kept its partition (nobody
                        # re-reads them), so the committed offset stays below the end
                        notes.append(f"ended with committed offsets {committed} below the end "
                                     f"offsets {end}: every record was processed and nothing "
                                     f"was committed for {quiet_s:.0f} s")
                        break
                if now > deadline:
                    alive = [m for m, p in procs.items() if p.poll() is None]
                    raise GroupRunError(
                        f"kafkalab: group workload {w['name']!r} did not finish within "
                        f"{deadline_s:.0f} s on the mock cluster: "
                        + ("the first generation never formed (members' assignments: "
                           f"{ {m: sorted(s) for m, s in current_assignments(events).items()} })"
                           if not go else
                           f"committed offsets {committed} of end offsets {end}, "
                           f"partitions given but not yet read: {unpositioned(events)}")
                        + f"; members still running: {alive}")
                time.sleep(0.2)
            with open(paths["stop"], "w", encoding="utf-8"):
                pass
            for m, proc in procs.items():
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
                    raise GroupRunError(f"kafkalab: group member {m} did not stop within "
                                        "20 s of the stop signal") from None
            codes = {m: p.returncode for m, p in procs.items()}
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(5)
            meta.close()
        log = _read_back(ck, bootstrap, topic, parts, group)
        events = _read_events(paths["events"])
        processed = _read_sink(paths["sink"])
        del producer
    from . import group_member

    bad = {m: c for m, c in codes.items() if c not in (0, group_member.CRASH_EXIT_CODE)}
    if bad:
        raise GroupRunError(f"kafkalab: group members exited with unexpected codes {bad}")
    # one global offset per copy is not needed: the ledger compares per-message copies
    flat_log = [(p * 100000 + off, msg_id) for p, off, msg_id in log]
    deliveries = [e["id"] for e in events if e["ev"] == "delivered"]
    ledger, outcome = build_ledger(n, acks, flat_log, deliveries, processed, None)
    for e in ledger:  # offsets within the message's own partition
        e["offsets"] = [o % 100000 for o in e["offsets"]]
        e["partition"] = e["id"] % parts
    outcome["resumed_from"] = None
    refused = refused_commit_ids(events, parts)
    failed_commits = [e for e in events if e["ev"] == "commit_failed"]
    if failed_commits:
        by_error: dict[str, int] = {}
        for e in failed_commits:
            by_error[e["error"]] = by_error.get(e["error"], 0) + 1
        notes.append(f"commits refused: {by_error}")
    rebalances = sum(1 for e in events if e["ev"] == "assign")
    notes.append(f"{rebalances} assign callbacks over the run; exit codes {codes}")
    return {
        "workload": w["name"],
        "outcome": outcome,
        "ledger": ledger,
        "resumed": resumed_offsets(events, end),
        "resumed_all": resumed_offsets(events),
        "refused_commits": refused,
        "events": events,
        "notes": notes,
        "expectations": expect_check(outcome, w["expect"]),
        "elapsed_s": round(time.monotonic() - started, 3),
    }
