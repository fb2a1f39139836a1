"""The consumer application of a real run; each session runs in its own process.

The parent starts it as ``python -m kafkalab.real.consumer_app`` with the session spec as JSON on
stdin. A session assigns partition 0 at ``OFFSET_STORED`` (the group's committed offset, no group
join), consumes in batches, "processes" a record by appending its id to a sink file, commits as
the workload says, and may die for real (``os._exit``) at the workload's crash point. Everything
that must survive the crash is written straight to files with ``os.write`` on ``O_APPEND``
descriptors (no Python buffering): the sink, and a JSON-lines event log for deliveries, commits
and the resume point.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from typing import Any, NoReturn

from ._deps import require_confluent_kafka
from .child import ChildFiles, run_child
from .workloads import CONSUMER_BASE_CONFIG as BASE_CONFIG

CRASH_EXIT_CODE = 86  # os._exit at the crash point
RAISED_EXIT_CODE = 87  # a processing exception escaped the loop; the consumer was closed


class ProcessingError(RuntimeError):
    """Processing one record failed (injected by the workload's ``failure``)."""


class _EventLogHandler(logging.Handler):
    """Forwards librdkafka's log lines into the session's event log."""

    def __init__(self, files: ChildFiles, session: int) -> None:
        super().__init__(logging.DEBUG)
        self.files = files
        self.session = session

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(OSError):
            self.files.emit(ev="log", session=self.session, level=record.levelname,
                            text=record.getMessage())


def consumer_config(spec: dict[str, Any], logger: logging.Logger) -> dict[str, Any]:
    c = spec["consumer"]
    auto = c["commit"] in ("auto", "store-after-processing")
    conf: dict[str, Any] = {
        "bootstrap.servers": spec["bootstrap"],
        "group.id": spec["group"],
        "enable.auto.commit": auto,
        "enable.auto.offset.store": c["commit"] != "store-after-processing",
        "enable.partition.eof": True,
        **BASE_CONFIG,
        "logger": logger,
    }
    if auto:
        conf["auto.commit.interval.ms"] = c["auto_commit_interval_ms"]
    conf.update(c.get("config") or {})
    return conf


def _producer_end(path: str) -> int | None:
    """The partition's end offset once the producer application is done, else None."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
    except FileNotFoundError:
        return None
    return int(text) if text else None


def _take(ck: Any, consumer: Any, n: int, deadline: float, on_first: Any, partition: int,
          on_error: Any) -> tuple[list[Any], int | None]:
    """Up to ``n`` records, stopping early at end-of-partition; (records, the end offset
    reached or None).

    ``on_first(offset)`` is called once per session with the offset of the first record or
    end-of-partition seen: where this session started reading."""
    got: list[Any] = []
    eof: int | None = None
    while len(got) < n and eof is None:
        if time.monotonic() > deadline:
            raise TimeoutError("consumer session deadline passed")
        msgs = consumer.consume(num_messages=n - len(got), timeout=0.2)
        if not msgs and not got:
            return got, None  # idle: let the caller check whether the producer is done
        for m in msgs:
            err = m.error()
            if err is not None and err.code() == ck.KafkaError._MAX_POLL_EXCEEDED:
                on_error(err)  # librdkafka left the group; the next consume() rejoins
                continue
            if m.partition() != partition:
                continue  # subscribe(): the mock's other (empty) partitions of the topic
            if err is None:
                on_first(m.offset())
                got.append(m)
            elif err.code() == ck.KafkaError._PARTITION_EOF:
                on_first(m.offset())
                eof = m.offset()  # the end offset reached (position() is unset without data)
            else:
                raise ck.KafkaException(err)
    return got, eof


def run_session(spec: dict[str, Any]) -> NoReturn:
    """Entry point of a consumer process. Never returns normally: always exits the process."""
    run_child(spec, "session", _session)


def _session(spec: dict[str, Any], files: ChildFiles) -> int:
    ck = require_confluent_kafka()
    session = spec["session"]
    crash = spec.get("crash")
    failure = spec.get("failure")
    slow = spec.get("slow")
    mode = spec["consumer"]["commit"]
    deadline = time.monotonic() + spec["deadline_s"]

    logger = logging.Logger(f"kafkalab.real.consumer{session}")
    logger.addHandler(_EventLogHandler(files, session))
    consumer = ck.Consumer(consumer_config(spec, logger))
    tp = ck.TopicPartition(spec["topic"], spec["partition"])
    files.emit(ev="start", session=session, pid=os.getpid())

    committed = consumer.committed([tp], timeout=5)[0].offset
    low, high = consumer.get_watermark_offsets(tp, timeout=5, cached=False)
    committed_or_none = committed if committed >= 0 else None
    files.emit(ev="resume", session=session, committed=committed_or_none, low=low, high=high)
    if spec["consumer"].get("subscribe"):
        consumer.subscribe([spec["topic"]])  # a group join: max.poll.interval.ms is enforced
    else:
        consumer.assign([ck.TopicPartition(spec["topic"], spec["partition"], ck.OFFSET_STORED)])
    positioned: list[int] = []

    def on_first(offset: int) -> None:
        # Where this session starts reading: the committed offset, or auto.offset.reset's pick.
        if not positioned:
            positioned.append(offset)
            files.emit(ev="positioned", session=session, offset=offset,
                       how="committed offset" if committed_or_none is not None
                       else f"auto.offset.reset={consumer_config(spec, logger)['auto.offset.reset']}")

    def commit(next_offset: int) -> None:
        try:
            consumer.commit(
                offsets=[ck.TopicPartition(spec["topic"], spec["partition"], next_offset)],
                asynchronous=False,
            )
        except ck.KafkaException as exc:
            # e.g. UNKNOWN_MEMBER_ID after max.poll.interval.ms: logged, the loop goes on (as
            # the simulated application does)
            files.emit(ev="commit_failed", session=session, offset=next_offset,
                       error=str(exc.args[0]))
            return
        files.emit(ev="commit", session=session, offset=next_offset)

    # the end of the partition this session last reached (librdkafka reports it once each time)
    reached: dict[str, int | None] = {"eof": None}

    def on_error(err: Any) -> None:
        files.emit(ev="max_poll_exceeded", session=session, error=str(err))
        reached["eof"] = None  # it rejoins and reads again from the committed offset

    def die(where: str, index: int, offset: int) -> None:
        if crash["wait_ms"]:
            time.sleep(crash["wait_ms"] / 1000)
        files.emit(ev="crash", session=session, point=where, record=index, offset=offset)
        os._exit(CRASH_EXIT_CODE)

    processing_s = spec["consumer"].get("processing_ms", 0) / 1000

    def store(m: Any) -> None:
        # librdkafka's at-least-once pattern: store the offset once the record is processed
        consumer.store_offsets(message=m)
        files.emit(ev="store", session=session, offset=m.offset() + 1)

    index = 0
    try:
        while True:
            batch, eof = _take(ck, consumer, spec["consumer"]["batch"], deadline, on_first,
                               spec["partition"], on_error)
            if eof is not None:
                reached["eof"] = eof
            first_index = index
            for m in batch:
                files.emit(ev="delivered", session=session, id=int(m.value()), offset=m.offset(),
                           record=index)
                index += 1
            if batch and mode == "before-processing":
                commit(batch[-1].offset() + 1)
            for k, m in enumerate(batch):
                i, msg_id, offset = first_index + k, int(m.value()), m.offset()
                if crash and crash["point"] == "before-process" and i == crash["record"]:
                    die("before-process", i, offset)
                if failure and i == failure["record"]:
                    files.emit(ev="failed", session=session, id=msg_id, offset=offset, record=i,
                               then=failure["then"])
                    if failure["then"] == "raise":
                        raise ProcessingError(f"processing record {i} (offset {offset}) failed")
                else:
                    if slow and i == slow["record"]:
                        files.emit(ev="slow", session=session, record=i, ms=slow["ms"])
                        time.sleep(slow["ms"] / 1000)
                    if processing_s:
                        time.sleep(processing_s)
                    files.process(msg_id)
                    files.emit(ev="processed", session=session, id=msg_id, offset=offset,
                               record=i)
                if crash and crash["point"] == "after-process" and i == crash["record"]:
                    die("after-process", i, offset)  # processed, its offset not yet stored
                if mode == "store-after-processing":
                    store(m)  # a skipped record is stored too: the application moves past it
                if mode == "after-each":
                    commit(offset + 1)
            if batch and mode == "after-batch":
                commit(batch[-1].offset() + 1)
            if not batch:
                # Done at the end of the partition once the producer is done too (its file can
                # appear after the end-of-partition event, which librdkafka sends once), and
                # only after a consume() that returned nothing more: like the simulated
                # application, it polls once more before closing, so a membership lost while
                # it processed its last batch (max.poll.interval.ms) is noticed and rejoined.
                end = _producer_end(spec["producer_done_path"])
                if end is not None and reached["eof"] is not None and reached["eof"] >= end:
                    break
    except ProcessingError as exc:
        # The exception escapes the poll loop; like a try-with-resources / finally block, the
        # application still closes its consumer (with auto-commit, close() commits).
        files.emit(ev="raised", session=session, error=str(exc))
        consumer.close()
        files.emit(ev="closed", session=session)
        return RAISED_EXIT_CODE
    consumer.close()
    files.emit(ev="closed", session=session)
    return 0


if __name__ == "__main__":
    import sys

    run_session(json.loads(sys.stdin.buffer.read()))
