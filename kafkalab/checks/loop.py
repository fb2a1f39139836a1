"""Checks of a learner's *code*: the body of a consumer's poll loop (the commit decision).

The learner writes ``handle_batch(records, process, commit)``, called with the records one
``poll()`` returned. ``process(record)`` has the side effect; ``commit(offset)`` is
``commitSync`` of ``offset`` for the partition, which (as in Kafka) means "the next record to
read", so after processing the record at offset 7 the application commits 8.

The check drives the learner's function with a small consumer of its own (one partition,
12 records, at most 5 per poll): the consumer crashes before or after each ``process`` and
each ``commit`` call in turn, and at random under a few seeds, then restarts from the committed
offset, as a restarted Kafka consumer does. At-least-once holds when every record is
processed at least once, no commit ever covers a record that was not processed yet, and
everything processed ends up committed.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from ._runner import is_stub, learner_line, signature_problem
from .result import FAIL, PASS, CheckResult, not_done

RECORDS = 12
BATCH = 5


class Record(NamedTuple):
    partition: int
    offset: int
    message_id: int


class _Crash(BaseException):
    """The consumer process dies. A BaseException, so ``except Exception`` does not stop
    it (nothing stops a real crash)."""


class _Problem(Exception):
    pass


class _Consumer:
    def __init__(self, handle, crash_at: tuple[str, int] | None, rng: random.Random | None):
        self.handle = handle
        self.crash_at = crash_at  # ("before_process" | "after_process" | ..., k)
        self.rng = rng
        self.counts: dict[str, int] = {}
        self.crashes: list[str] = []
        self.committed = 0
        self.processed: list[int] = []  # message ids, in order, repeats included
        self.done: set[int] = set()  # offsets processed at least once
        self.handed_out: set[int] = set()

    def _maybe_crash(self, point: str, what: str) -> None:
        n = self.counts[point] = self.counts.get(point, 0) + 1
        fire = self.crash_at == (point, n) if self.crash_at else \
            self.rng is not None and self.rng.random() < 0.08 and len(self.crashes) < 4
        if fire:
            self.crashes.append(f"{point.replace('_', ' ')} {what}")
            raise _Crash

    def process(self, record) -> None:
        if not isinstance(record, Record) or record.offset not in self.handed_out:
            raise _Problem(f"process() was called with {record!r}, not with one of the "
                           "records of the batch")
        self._maybe_crash("before_process", f"message {record.message_id}")
        self.processed.append(record.message_id)
        self.done.add(record.offset)
        self._maybe_crash("after_process", f"message {record.message_id}")

    def commit(self, offset) -> None:
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise _Problem(f"commit() takes the offset to commit, a whole number, not "
                           f"{offset!r}")
        if not 0 <= offset <= RECORDS:
            raise _Problem(f"commit({offset}): the partition's offsets are 0–{RECORDS - 1}, "
                           f"so a committed offset is between 0 and {RECORDS}")
        self._maybe_crash("before_commit", f"commit({offset})")
        missing = [o for o in range(offset) if o not in self.done]
        if missing:
            raise _Problem(f"commit({offset}) covers message {missing[0]}, which was not "
                           f"processed yet: a crash right now would lose it (a committed "
                           f"offset means 'the next record to read')")
        self.committed = offset
        self._maybe_crash("after_commit", f"commit({offset})")

    def run(self) -> None:
        restarts = 0
        while True:
            position = self.committed
            try:
                while position < RECORDS:
                    batch = [Record(0, o, o) for o in range(position,
                                                             min(position + BATCH, RECORDS))]
                    self.handed_out.update(r.offset for r in batch)
                    self.handle(list(batch), self.process, self.commit)
                    position = batch[-1].offset + 1
                return
            except _Crash:
                restarts += 1
                if restarts > 20:
                    return


def _schedules(random_seeds: int, counts: dict[str, int]):
    """Crash-point schedules (up to what a crash-free run reaches, plus a margin for the
    re-deliveries a crash adds), then random crashes."""
    for point in ("before_process", "after_process", "before_commit", "after_commit"):
        for k in range(1, counts.get(point, 0) + BATCH + 1):
            yield (point, k), None, f"a crash {point.replace('_', ' ')} call #{k}"
    for seed in range(random_seeds):
        yield None, random.Random(seed), f"random crashes (seed {seed})"


def check_consumer_loop(handle_batch, random_seeds: int = 20) -> CheckResult:
    """At-least-once: ``handle_batch(records, process, commit)`` under crashes at every
    process/commit call and random crashes."""
    name = "check_consumer_loop"
    if is_stub(handle_batch):
        return not_done(name, "define handle_batch(records, process, commit)")
    if not callable(handle_batch):
        return CheckResult(name, FAIL, "`handle_batch` should be a function "
                                       "handle_batch(records, process, commit), not a "
                                       f"{type(handle_batch).__name__}")
    wrong = signature_problem(handle_batch, "handle_batch", ("records", "process", "commit"))
    if wrong:
        return CheckResult(name, FAIL, wrong)
    runs = crashes = 0
    counts: dict[str, int] = {}
    plans = [(None, None, "no crash")]
    while plans:
        crash_at, rng, label = plans.pop(0)
        consumer = _Consumer(handle_batch, crash_at, rng)
        try:
            consumer.run()
        except NotImplementedError:
            return not_done(name, "handle_batch() still raises NotImplementedError")
        except _Problem as exc:
            return CheckResult(name, FAIL, str(exc), details=_when(consumer, label),
                               runs=runs + 1)
        except Exception as exc:
            return CheckResult(name, FAIL, f"handle_batch() raised {type(exc).__name__}: "
                                           f"{exc} ({learner_line(exc, handle_batch)})",
                               details=_when(consumer, label), runs=runs + 1)
        runs += 1
        crashes += len(consumer.crashes)
        never = [m for m in range(RECORDS) if m not in consumer.processed]
        if never:
            return CheckResult(name, FAIL, f"message {never[0]} was never processed",
                               details=_when(consumer, label), runs=runs)
        if consumer.committed != RECORDS:
            return CheckResult(
                name, FAIL, f"at the end the committed offset is {consumer.committed}, not "
                            f"{RECORDS}: a restarted consumer would read "
                            + (f"message {consumer.committed} again" if consumer.committed
                               < RECORDS else "nothing")
                            + ". Commit the offset of the last processed record + 1.",
                details=_when(consumer, label), runs=runs)
        if label == "no crash":
            counts = dict(consumer.counts)
            plans = list(_schedules(random_seeds, counts))
    return CheckResult(name, PASS, f"at least once: every message processed, no commit ahead "
                                   f"of processing, everything committed, in {runs} runs "
                                   f"with {crashes} crashes", runs=runs)


def _when(consumer: _Consumer, label: str) -> str:
    if consumer.crashes:
        return (f"In the run with {label}: the consumer crashed "
                + ", then ".join(consumer.crashes)
                + f"; messages processed, in order: {consumer.processed}.")
    return f"In the run with {label}; messages processed, in order: {consumer.processed}."
