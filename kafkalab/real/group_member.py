"""One member of a real consumer group (subscribe()); each member runs in its own process.

The parent (:mod:`kafkalab.real.groups`) starts it as ``python -m kafkalab.real.group_member``
with the member's spec as JSON on stdin. The member subscribes to the topic, and until the
parent creates the *go* file it keeps every partition it is given paused (so processing starts
only once the whole group has its first assignment, as the simulated members do). It then
"processes" a record by appending its id to the shared sink, commits as the workload says, and
may die for real (``os._exit``) after processing a given message, or take longer over one
message (beyond ``max.poll.interval.ms``). Each fault fires once in the whole group: a marker
file, created with ``O_EXCL``, says it has fired. It stops when the parent creates the *stop*
file (every partition committed to its end) or at its deadline.

Everything is written straight to ``O_APPEND`` files with ``os.write``: the sink, and a JSON-lines
event log (assign / revoke / lost, where each assigned partition started, deliveries,
processing, commits and failed commits with librdkafka's error name).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from typing import Any, NoReturn

from ._deps import require_confluent_kafka
from .child import ChildFiles, run_child

CRASH_EXIT_CODE = 86
DEADLINE_EXIT_CODE = 88  # the member's own deadline passed (the parent reports it)


def _fire_once(path: str) -> bool:
    """True the first time any member of the group claims this fault."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def member_config(spec: dict[str, Any]) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "bootstrap.servers": spec["bootstrap"],
        "group.id": spec["group"],
        "enable.auto.commit": spec["commit"] == "auto",
        "enable.partition.eof": True,
        **spec["config"],
    }
    if spec["commit"] == "auto":
        conf["auto.commit.interval.ms"] = spec["auto_commit_interval_ms"]
    return conf


def run_member(spec: dict[str, Any]) -> NoReturn:
    """Entry point of a member process. Never returns normally: always exits the process."""
    run_child(spec, "member", _member)


def _member(spec: dict[str, Any], files: ChildFiles) -> int:
    ck = require_confluent_kafka()
    member = spec["member"]
    topic = spec["topic"]
    cooperative = spec["config"].get("partition.assignment.strategy") == "cooperative-sticky"
    deadline = time.monotonic() + spec["deadline_s"]
    crash, slow = spec.get("crash"), spec.get("slow")
    gated = {"go": not spec["gate"]}
    # the offset each assigned partition started at, once per assignment span
    positioned: set[int] = set()
    owned: set[int] = set()

    def on_commit(err: Any, partitions: list[Any]) -> None:
        # librdkafka's background auto-commit (and its commit before a revoke): each
        # partition's result, as the synchronous commits below log theirs
        if spec["commit"] != "auto":
            return
        for tp in partitions:
            failure = err if err is not None else tp.error
            if failure is not None:
                files.emit(ev="commit_failed", member=member, partition=tp.partition,
                           offset=tp.offset, id=None, error=failure.name(), text=str(failure),
                           auto=True)
            elif tp.offset >= 0:
                files.emit(ev="commit", member=member, partition=tp.partition,
                           offset=tp.offset, auto=True)

    consumer = ck.Consumer({**member_config(spec), "on_commit": on_commit})
    files.emit(ev="start", member=member, pid=os.getpid())

    def on_assign(c: Any, partitions: list[Any]) -> None:
        if cooperative:
            c.incremental_assign(partitions)
        else:
            c.assign(partitions)
        if not gated["go"] and partitions:
            c.pause(partitions)
        ps = sorted(tp.partition for tp in partitions)
        if not cooperative:
            owned.clear()
        for p in ps:
            owned.add(p)
            positioned.discard(p)
        files.emit(ev="assign", member=member, partitions=ps, owned=sorted(owned),
                   incremental=cooperative, memberid=c.memberid())

    def on_revoke(c: Any, partitions: list[Any]) -> None:
        ps = sorted(tp.partition for tp in partitions)
        for p in ps:
            owned.discard(p)
        files.emit(ev="revoke", member=member, partitions=ps, owned=sorted(owned))
        if cooperative:
            c.incremental_unassign(partitions)
        else:
            c.unassign()
            owned.clear()

    def on_lost(c: Any, partitions: list[Any]) -> None:
        ps = sorted(tp.partition for tp in partitions)
        for p in ps:
            owned.discard(p)
        files.emit(ev="lost", member=member, partitions=ps, owned=sorted(owned))
        if cooperative:
            c.incremental_unassign(partitions)
        else:
            c.unassign()
            owned.clear()

    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)

    def commit(partition: int, next_offset: int, msg_id: int) -> None:
        try:
            consumer.commit(offsets=[ck.TopicPartition(topic, partition, next_offset)],
                            asynchronous=False)
        except ck.KafkaException as exc:
            err = exc.args[0]
            files.emit(ev="commit_failed", member=member, partition=partition,
                       offset=next_offset, id=msg_id, error=err.name(), text=str(err))
            return
        files.emit(ev="commit", member=member, partition=partition, offset=next_offset)

    processing_s = spec["processing_ms"] / 1000
    while True:
        if time.monotonic() > deadline:
            files.emit(ev="deadline", member=member)
            with contextlib.suppress(Exception):
                consumer.close()
            return DEADLINE_EXIT_CODE
        if os.path.exists(spec["stop_path"]):
            break
        if not gated["go"] and os.path.exists(spec["go_path"]):
            gated["go"] = True
            assigned = consumer.assignment()
            if assigned:
                consumer.resume(assigned)
            files.emit(ev="go", member=member, partitions=sorted(tp.partition
                                                                 for tp in assigned))
        msgs = consumer.consume(num_messages=spec["batch"], timeout=0.2)
        batch = []
        for m in msgs:
            err = m.error()
            if err is not None:
                if err.code() == ck.KafkaError._MAX_POLL_EXCEEDED:
                    files.emit(ev="max_poll_exceeded", member=member, error=str(err))
                    continue
                if err.code() == ck.KafkaError._PARTITION_EOF:
                    if m.partition() not in positioned:
                        positioned.add(m.partition())
                        files.emit(ev="positioned", member=member, partition=m.partition(),
                                   offset=m.offset())
                    continue
                raise ck.KafkaException(err)
            if m.partition() not in positioned:
                positioned.add(m.partition())
                files.emit(ev="positioned", member=member, partition=m.partition(),
                           offset=m.offset())
            files.emit(ev="delivered", member=member, id=int(m.value()),
                       partition=m.partition(), offset=m.offset())
            batch.append(m)
        for m in batch:
            msg_id, p, offset = int(m.value()), m.partition(), m.offset()
            if slow and msg_id == slow["message"] and _fire_once(spec["slow_marker"]):
                files.emit(ev="slow", member=member, id=msg_id, ms=slow["ms"])
                time.sleep(slow["ms"] / 1000)
            if processing_s:
                time.sleep(processing_s)
            files.process(msg_id)
            files.emit(ev="processed", member=member, id=msg_id, partition=p, offset=offset)
            if crash and msg_id == crash["message"] and _fire_once(spec["crash_marker"]):
                files.emit(ev="crash", member=member, id=msg_id, partition=p, offset=offset)
                os._exit(CRASH_EXIT_CODE)  # processed, not committed
            if spec["commit"] == "after-each":
                commit(p, offset + 1, msg_id)
    consumer.close()
    files.emit(ev="closed", member=member)
    return 0


if __name__ == "__main__":
    import sys

    run_member(json.loads(sys.stdin.buffer.read()))
