"""The consumer application: a poll loop, its commits, and what it does when things fail.

Position (the next offset ``poll()`` returns) and committed offset (what the group
coordinator stored) are kept apart. Auto-commit follows one of two real clients:

* ``client.model=java`` (ClassicKafkaConsumer): inside ``poll()``, *before* fetching, if
  ``auto.commit.interval.ms`` has passed, an async commit of the current positions — the
  records handed out by *previous* polls; a sync commit before a rebalance and on
  ``close()``.
* ``client.model=librdkafka``: ``poll()`` stores each handed-out message's offset + 1
  (``enable.auto.offset.store``); a background timer commits the stored offsets every
  interval, whatever the application has processed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

from ..trace.events import ProcessedRecord, Record
from .faults import Fault
from .producer import ProducerClient
from .types import Steps

if TYPE_CHECKING:
    from .simulation import Simulation

# a record processed, not yet applied: (partition, offset, message id, time it is done)
_Done: TypeAlias = tuple[int, int, int, float]
# Record(p, off, msg) at the speed of a plain tuple (the named tuple's own __new__ is a Python
# function: a run makes two per record)
_new = tuple.__new__


class Crash(Exception):
    """The consumer process dies here: no close(), no commit.

    ``cause`` says why, for the trace's ``crash`` event: ``fault`` (a ``consumer_crash``
    fault, at ``point``), ``random``, ``processing_error``, ``commit_failed``, ``fenced``
    or ``no_offset``; ``message`` is the message id the crash is about, if any."""

    def __init__(self, text: str, cause: str = "fault", point: str | None = None,
                 message: int | None = None) -> None:
        super().__init__(text)
        self.cause, self.point, self.message = cause, point, message


class CloseOnError(Exception):
    """A processing error escaped the poll loop: the consumer is closed (try-with-resources)."""


@dataclass
class Incarnation:
    """One run of the consumer process, from start to crash or close."""

    number: int
    alive: bool = True
    positions: dict[int, int] = field(default_factory=dict)
    stored: dict[int, int] = field(default_factory=dict)  # librdkafka offset store
    # store_offsets() calls made during processing that is still under way: (t, partition,
    # next offset). Each takes effect at its own time t, so the background timer sees every
    # store as it happens, mid-batch (see ConsumerApplication._stored).
    pending_stores: list[tuple[float, int, int]] = field(default_factory=list)
    committed_by_me: dict[int, int] = field(default_factory=dict)
    assignment: list[int] = field(default_factory=list)
    # The order partitions are fetched in: one whose available records were all handed out
    # moves to the end (Java SubscriptionState.movePartitionToEnd once a completed fetch is
    # drained; librdkafka rotates each FetchRequest's start partition, rdkafka_fetcher.c).
    fetch_order: list[int] = field(default_factory=list)
    fetched_to: dict[int, int] = field(default_factory=dict)  # partition -> end of its fetch
    generation: int = -1
    polls: int = 0
    next_auto_commit: float = 0.0
    producer: ProducerClient | None = None
    in_poll: bool = False  # waiting inside poll() for data: that is polling


class ConsumerApplication:
    def __init__(self, sim: Simulation, index: int, role: str, topic: str, group: str,
                 isolation: str, strategy: str, auto_commit: bool,
                 output_topic: str | None = None) -> None:
        self.sim = sim
        self.env = sim.env
        self.c = c = sim.config
        self.index = index
        self.role = role  # "consumer" (the faults' target), "reader" (pipeline downstream)
        self.name = f"{role}-{index}"
        self.topic = topic
        self.group = group
        self.read_committed = isolation == "read_committed"
        self.strategy = strategy
        self.auto_commit = auto_commit
        self.java = c["client.model"] == "java"
        self.stores_after_processing = not self.java and not c["enable.auto.offset.store"]
        self.output_topic = output_topic
        self.transform = strategy == "transaction" or output_topic is not None
        self.inc: Incarnation | None = None
        self.incarnations = 0
        self.done = self.env.event()
        self.finished_cleanly = False
        # Faults aimed at this member
        faults = sim.faults if role == "consumer" else []
        mine = [f for f in faults if f.get("member", index) == index]
        self.crashes = [f for f in mine if f["type"] == "consumer_crash"]
        self.crash_times: list[float] = sorted(f["at_ms"] for f in self.crashes
                                               if f["point"] == "time")
        self.failures = {f["message"]: f["times"] for f in faults
                         if f["type"] == "processing_failure"}
        self.slow: dict[int, list[float]] = {f["message"]: [f["extra_ms"], f["times"]] for f in faults
                     if f["type"] == "slow_processing"}
        self.pauses = {f["message"]: [f["ms"], f.get("times", 1)] for f in faults
                       if f["type"] == "pause"}
        self.crash_p = sum(f.get("consumer_crash", 0) for f in faults if f["type"] == "random")
        self.point_counts: dict[str, int] = {}
        self.fired: set[int] = set()  # indices (in self.crashes) of crash faults that fired
        self.fired_times: set[float] = set()
        self.env.process(self._run())

    # -- life ----------------------------------------------------------------------------
    def _run(self) -> Steps[None]:
        env = self.env
        while True:
            self.incarnations += 1
            inc = self.inc = Incarnation(self.incarnations)
            outcome = yield from self._life(inc)
            inc.alive = False
            if outcome == "done":
                self.finished_cleanly = True
                break
            if env.now >= self.c["max.simulated.ms"]:
                break
            if self.incarnations > self.c["max.restarts"]:
                self.sim.trace.emit(
                    "crash_loop", self.name,
                    f"{self.name} crashed {self.incarnations} times: a crash loop (a poison "
                    f"pill?). kafkalab stops restarting it after max.restarts="
                    f"{self.c['max.restarts']}; what it did not process stays unseen",
                    restarts=self.incarnations - 1)
                break
            yield env.timeout(self.c["restart.delay.ms"])
        self.done.succeed()

    def _life(self, inc: Incarnation) -> Steps[str]:
        sim = self.sim
        try:
            yield from self._sleep(sim.net.rtt)  # find the coordinator, JoinGroup + SyncGroup
            self._join(inc, first=True)
            if self.transform:
                inc.producer = ProducerClient(sim, f"{self.name}-producer", self._txn_id())
                yield from inc.producer.init()
            if self.auto_commit and not self.java and self.c["auto.commit.interval.ms"] > 0:
                # librdkafka starts the timer only for an interval > 0 (rdkafka_cgrp.c):
                # 0 disables it; close() and a rebalance still commit the stored offsets.
                self.env.process(self._background_commits(inc))
            loop = f"{self.name}'s poll loop"
            while True:
                sim.tick(loop)  # the watchdog: a pass that takes no simulated time is counted
                if self._needs_rebalance(inc):
                    yield from self._rebalance(inc)
                if self._drained(inc):
                    yield from self._close(inc, "the application is done and closes the "
                                                "consumer")
                    return "done"
                records = yield from self._poll(inc)
                if records:
                    yield from self._handle(inc, records)
        except Crash as crash:
            self._die(inc, crash)
            return "crash"
        except CloseOnError as error:
            try:
                yield from self._close(inc, str(error))
            except Crash as crash:
                self._die(inc, crash)
            return "closed"

    def _txn_id(self) -> str | None:
        """One transactional.id per transform instance (as Kafka Streams derives them): two
        live producers sharing one would fence each other."""
        base = self.c["transactional.id"]
        if base is None:  # a pipeline without transactions: a plain (idempotent) producer
            return None
        return base if self.c["consumers"] == 1 else f"{base}-{self.index}"

    def _die(self, inc: Incarnation, crash: Crash) -> None:
        inc.alive = False
        if inc.producer:
            inc.producer.kill()
        why = str(crash)
        self.sim.trace.emit("crash", self.name, f"{self.name} crashes: {why}. Nothing is "
                            "committed on the way down", reason=why,
                            positions=_str_keys(inc.positions), cause=crash.cause,
                            point=crash.point, message=crash.message)
        # Static membership: the restarted instance takes the same place; if it has not come
        # back within session.timeout.ms, the coordinator removes it and rebalances.
        self.sim.later(self.c["session.timeout.ms"], self._session_expired, inc.number)

    def _session_expired(self, number: int) -> None:
        # A member left down after a crash loop (done, not closed) also times out: its
        # partitions move to the others, who would otherwise wait for it forever.
        if self.inc is not None and self.inc.number == number and not self.inc.alive \
                and not self.finished_cleanly and self.sim.groups.leave(self.group, self.name):
            self.sim.notify_all()  # members waiting in poll() see the rebalance
            self.sim.trace.emit("left_group", "coordinator",
                                f"no heartbeat from {self.name} for session.timeout.ms: the "
                                "coordinator removes it and rebalances", member=self.name)

    def _sleep(self, ms: float) -> Steps[None]:
        """Wait ``ms``; a scheduled crash inside that time happens at its moment."""
        crash_at = self._next_crash_time()
        if crash_at is not None and crash_at <= self.env.now + ms:
            yield self.env.timeout(max(crash_at - self.env.now, 0))
            self._fire_time_crash(crash_at)
        if ms > 0:
            yield self.env.timeout(ms)

    def _next_crash_time(self) -> float | None:
        now = self.env.now
        for t in self.crash_times:
            if t >= now and t not in self.fired_times:
                return t
        return None

    def _fire_time_crash(self, t: float) -> NoReturn:
        self.fired_times.add(t)
        raise Crash(f"the process is killed at t={t:g} ms", point="time")

    # -- group membership ----------------------------------------------------------------
    def _join(self, inc: Incarnation, first: bool) -> None:
        sim, groups = self.sim, self.sim.groups
        before = groups.generation[self.group]
        inc.generation = groups.join(self.group, self.name)
        if inc.generation != before:
            sim.notify_all()  # members waiting in poll() see the rebalance
        inc.assignment = groups.assignment(self.group, self.name)
        inc.fetch_order, inc.fetched_to = list(inc.assignment), {}
        inc.positions, inc.stored, inc.committed_by_me = {}, {}, {}
        inc.pending_stores = []
        resumed = {}
        resets = {}  # partitions that start where auto.offset.reset says: the policy
        for p in inc.assignment:
            committed = groups.committed_offset(self.group, self.topic, p)
            if committed is None:
                reset = self.c["auto.offset.reset"]
                log = sim.broker.log(self.topic, p)
                if reset == "none":
                    raise Crash(f"no committed offset for partition {p} and "
                                "auto.offset.reset=none (NoOffsetForPartitionException)",
                                "no_offset")
                committed = 0 if reset == "earliest" else (log.lso if self.read_committed
                                                           else log.hw)
                how = f"auto.offset.reset={reset}"
                resets[str(p)] = reset
            else:
                inc.committed_by_me[p] = committed
                how = "committed offset"
            inc.positions[p] = committed
            resumed[str(p)] = [committed, how]
        inc.next_auto_commit = self.env.now + self.c["auto.commit.interval.ms"]
        parts = ", ".join(f"partition {p} at offset {o} ({how})" for p, (o, how) in
                          resumed.items()) or "no partitions"
        kind = "join" if first and inc.number == 1 else ("restart" if first else "rebalance")
        verb = {"join": "joins the group", "restart": "is back and rejoins",
                "rebalance": "rejoins after a rebalance"}[kind]
        sim.trace.emit(kind, self.name, f"{self.name} {verb}: {parts}",
                       generation=inc.generation, assignment=inc.assignment, resumed=resumed,
                       reset=resets)
        self._arm_poll_timer(inc)

    def _needs_rebalance(self, inc: Incarnation) -> bool:
        groups = self.sim.groups
        return (not groups.is_member(self.group, self.name)
                or groups.generation[self.group] != inc.generation)

    def _rebalance(self, inc: Incarnation) -> Steps[None]:
        if self.auto_commit and inc.assignment:
            # onJoinPrepare: commit before giving the partitions up
            offsets = inc.positions if self.java else self._stored(inc)
            if offsets:
                yield from self._commit_sync(inc, dict(offsets), "before the rebalance",
                                             manual=False)
        yield from self._sleep(self.sim.net.rtt)
        self._join(inc, first=False)

    def _arm_poll_timer(self, inc: Incarnation) -> None:
        self.sim.later(self.c["max.poll.interval.ms"], self._poll_timer, inc, inc.polls)

    def _poll_timer(self, inc: Incarnation, polls: int) -> None:
        if inc.alive and inc.polls == polls and not inc.in_poll and not self.done.triggered \
                and inc is self.inc \
                and self.sim.groups.leave(self.group, self.name):
            self.sim.notify_all()  # members waiting in poll() see the rebalance
            self.sim.trace.emit(
                "left_group", self.name,
                f"{self.name} did not call poll() within max.poll.interval.ms="
                f"{self.c['max.poll.interval.ms']}: it leaves the group and its partitions "
                "are reassigned; its later commits fail", member=self.name)

    def _drained(self, inc: Incarnation) -> bool:
        if not self.sim.upstream_done(self.role):
            return False
        # Stay while a dead member still holds partitions: they come to us when its session
        # times out (a real consumer would simply keep running).
        if any(not app.inc or not app.inc.alive for app in self.sim.group_members(self.group)
               if app is not self):
            return False
        for p in inc.assignment:
            log = self.sim.broker.log(self.topic, p)
            if inc.positions.get(p, 0) < (log.lso if self.read_committed else log.hw):
                return False
        return True

    # -- poll ----------------------------------------------------------------------------
    def _poll(self, inc: Incarnation) -> Steps[list[Record]]:
        sim, env = self.sim, self.env
        inc.polls += 1
        self._arm_poll_timer(inc)
        if self.auto_commit and self.java and env.now >= inc.next_auto_commit:
            # ConsumerCoordinator.maybeAutoCommitOffsetsAsync: positions before this fetch
            self._commit_async(inc, dict(inc.positions), "auto-commit inside poll()",
                               auto=True)
            inc.next_auto_commit = env.now + self.c["auto.commit.interval.ms"]
        yield from self._sleep(sim.net.one_way)
        if self._needs_rebalance(inc):
            return []  # the group is rebalancing: poll() rejoins before it hands out records
        records, moved = self._read(inc)
        if not records and not moved:
            # Nothing to read: poll() waits for data. A real poll() returns empty after its
            # timeout and the application calls it again, fetch after fetch, each waiting up
            # to fetch.max.wait.ms; the model waits once, until something can change the
            # answer: data, a member joining or leaving, a scheduled crash, or (Java
            # auto-commit) the next auto-commit due inside poll(). Nothing a learner sees
            # differs, and an idle consumer costs no events (the watchdog's budget).
            inc.in_poll = True  # waiting inside poll() is polling (max.poll.interval.ms)
            commit_due = False
            while not records and not moved and not commit_due \
                    and not self._needs_rebalance(inc) and not self._drained(inc):
                crash_at = self._next_crash_time()
                limit = None if crash_at is None else max(crash_at - env.now, 0)
                if self.auto_commit and self.java and inc.next_auto_commit > env.now:
                    due = inc.next_auto_commit - env.now
                    limit = due if limit is None else min(limit, due)
                wake = [sim.data_signal(self.topic)]
                if limit is not None:
                    wake.append(env.timeout(limit))
                yield env.any_of(wake)
                if crash_at is not None and env.now >= crash_at:
                    self._fire_time_crash(crash_at)
                commit_due = self.auto_commit and self.java and env.now >= inc.next_auto_commit
                records, moved = self._read(inc)
            inc.in_poll = False
            inc.polls += 1  # poll() returns: max.poll.interval.ms counts from here
            self._arm_poll_timer(inc)
        yield from self._sleep(sim.net.one_way)
        if not records and not moved:
            return []
        if records and not self.java and self.c["enable.auto.offset.store"]:
            for p, off, _ in records:
                inc.stored[p] = off + 1
        first = records[0] if records else None
        sim.counters["delivered"] += len(records) if self.role == sim.sink_role else 0
        sim.trace.emit(
            "poll", self.name,
            (f"{self.name} poll() returned {len(records)} record(s), offsets "
             f"{_offsets(records)}" if records else
             f"{self.name} poll() returned nothing; the position moved past control "
             "records or aborted data")
            + f"; position now {_positions(inc.positions)}",
            records=list(records), positions=_str_keys(inc.positions),
            first=first.offset if first else None)
        if records:
            self._maybe_crash(inc, "after_poll", records[-1].message_id, records)
        return records

    def _read(self, inc: Incarnation) -> tuple[list[Record], bool]:
        """Fetch at the broker: up to max.poll.records over the assigned partitions."""
        budget = self.c["max.poll.records"]
        out: list[Record] = []
        moved = False
        drained = []
        fetched_to = inc.fetched_to
        for p in inc.fetch_order:
            if budget <= 0:
                break
            log = self.sim.broker.log(self.topic, p)
            start = inc.positions[p]
            if p not in fetched_to:  # a new fetch: what the partition holds now
                fetched_to[p] = log.lso if self.read_committed else log.hw
            end = fetched_to[p]
            recs, position = log.read(start, min(budget, max(end - start, 0)),
                                      self.read_committed)
            if position != start:
                moved = True
                inc.positions[p] = position
            out.extend(_new(Record, (p, off, msg)) for off, msg in recs)
            budget -= len(recs)
            if position >= end:  # this fetch is used up: the next poll fetches afresh
                del fetched_to[p]
                if recs:
                    drained.append(p)  # it returned data: to the end of the fetch order
        if drained:
            inc.fetch_order = [p for p in inc.fetch_order if p not in drained] + drained
        return out, moved

    # -- processing ----------------------------------------------------------------------
    def _handle(self, inc: Incarnation, records: list[Record]) -> Steps[None]:
        strategy = self.strategy
        if strategy == "before-processing":
            yield from self._commit_sync(inc, dict(inc.positions), "before processing")
            yield from self._process(inc, records)
        elif strategy == "per-record":
            for record in records:
                yield from self._process(inc, [record])
                p, off, _ = record
                yield from self._commit_sync(inc, {p: off + 1}, "after processing the record")
        elif strategy == "per-batch":
            yield from self._process(inc, records)
            yield from self._commit_sync(inc, dict(inc.positions), "after processing the batch")
        elif strategy == "async-per-batch":
            yield from self._process(inc, records)
            self._maybe_crash(inc, "before_commit", None)
            self._commit_async(inc, dict(inc.positions), "commitAsync after the batch")
            self._maybe_crash(inc, "after_commit", None)
        elif strategy == "transaction":
            producer = inc.producer
            assert producer is not None  # the transform has one
            producer.begin_transaction()
            yield from self._process(inc, records)
            error = yield from producer.send_offsets_to_transaction(
                self.group, self.topic, dict(inc.positions), self.name, inc.generation)
            if error == "ILLEGAL_GENERATION":
                # The partitions moved to another member: abort, then poll() rejoins.
                yield from producer.end_transaction(commit=False)
                return
            self._maybe_crash(inc, "before_commit", None)
            ok = error is None and (yield from producer.end_transaction(commit=True))
            if not ok:
                raise Crash("its producer was fenced; the application restarts", "fenced")
            self._maybe_crash(inc, "after_commit", None)
        else:  # auto: no manual commits at all
            yield from self._process(inc, records)

    def _process(self, inc: Incarnation, records: list[Record]) -> Steps[None]:
        """Process records one after another, each taking processing.ms."""
        sim = self.sim
        per = self.c["processing.ms"]
        done: list[_Done] = []
        elapsed = 0.0
        crash_at = self._next_crash_time()
        start = self.env.now
        # The careful path checks faults per record; the transform always takes it, as it
        # hands each output record to its producer as soon as it is made.
        watch = bool(self.crashes or self.failures or self.slow or self.crash_p
                     or self.transform or self.pauses)
        for record in records:
            p, off, msg = record
            if watch:
                pause = self.pauses.get(msg)
                if pause and pause[1] > 0:
                    # The application waits before it processes this record (not processing
                    # time): what came before takes effect first, timers fire meanwhile.
                    pause[1] -= 1
                    yield from self._flush(inc, done, elapsed, start)
                    self.sim.trace.emit("pause", self.name,
                                        f"{self.name} pauses {pause[0]:g} ms before processing "
                                        f"message {msg} (offset {off})", partition=p,
                                        offset=off, message=msg, ms=pause[0])
                    yield from self._sleep(pause[0])
                    done, elapsed, start = [], 0.0, self.env.now
                    crash_at = self._next_crash_time()
                try:
                    self._maybe_crash(inc, "before_processing", msg)
                    if self.failures.get(msg, 0) > 0:
                        self.failures[msg] -= 1
                        yield from self._flush(inc, done, elapsed, start)
                        done, elapsed, start = [], 0.0, self.env.now
                        self._processing_failed(inc, record)
                        continue
                except Crash:
                    yield from self._flush(inc, done, elapsed, start)
                    raise
                cost = per + self._slowness(msg)
                if crash_at is not None and start + elapsed + cost > crash_at:
                    yield from self._flush(inc, done, elapsed, start)
                    yield self.env.timeout(max(crash_at - self.env.now, 0))
                    self._fire_time_crash(crash_at)
                elapsed += cost
                done.append((p, off, msg, start + elapsed))
                if self.transform:  # the output record goes to the producer as it is made
                    yield from self._flush(inc, done, elapsed, start)
                    done, elapsed, start = [], 0.0, self.env.now
                try:
                    self._maybe_crash(inc, "after_processing", msg)
                    if self.crash_p and sim.rng.random() < self.crash_p:
                        raise Crash(f"random crash after processing message {msg}", "random",
                                    message=msg)
                except Crash:
                    # processed, but the application dies before its store_offsets() call
                    yield from self._flush(inc, done, elapsed, start, store_last=False)
                    raise
            else:
                elapsed += per
                done.append((p, off, msg, start + elapsed))
                counts = self.point_counts  # the crash points it passes (no crash aimed here)
                counts["before_processing"] = counts.get("before_processing", 0) + 1
                counts["after_processing"] = counts.get("after_processing", 0) + 1
        yield from self._flush(inc, done, elapsed, start)

    def _flush(self, inc: Incarnation, done: list[_Done], elapsed: float, start: float,
               store_last: bool = True) -> Steps[None]:
        """Let the processing time pass, then apply the processed records' side effects."""
        stored = {}
        if self.stores_after_processing:
            # librdkafka's at-least-once pattern: enable.auto.offset.store=false and
            # store_offsets() right after each record is processed; each store takes effect
            # at that record's own time, so the timer can commit it mid-batch.
            for p, off, _, t in (done if store_last else done[:-1]):
                inc.pending_stores.append((t, p, off + 1))
                stored[str(p)] = off + 1
        if elapsed > 0:
            yield self.env.timeout(max(start + elapsed - self.env.now, 0))
        if self.stores_after_processing:
            self._stored(inc)
        if not done:
            return
        sim = self.sim
        if self.transform:
            assert inc.producer is not None and self.output_topic is not None
            by_partition: dict[int, list[int]] = {}
            for p, _, msg, _ in done:
                by_partition.setdefault(p, []).append(msg)
            for p, msgs in by_partition.items():
                inc.producer.send(self.output_topic, p, msgs)
            applied = [True] * len(done)
            sim.counters["transformed"] += len(done)
            verb = "transformed and sent to the output topic"
        else:
            applied = sim.sink.apply_many([msg for _, _, msg, _ in done])
            verb = "processed into the sink"
        skipped = applied.count(False)
        sim.trace.emit(
            "process", self.name,
            f"{self.name} {verb}: offsets {_offsets(done)}"
            + (f" ({skipped} already applied: the idempotent sink ignored them)" if skipped
               else ""),
            records=[_new(ProcessedRecord, (p, off, msg, round(t, 6), ok))
                     for (p, off, msg, t), ok in zip(done, applied, strict=True)],
            transform=self.transform,
            **({"stored": stored} if self.stores_after_processing else {}))

    def _stored(self, inc: Incarnation) -> dict[int, int]:
        """librdkafka's offset store as it is now: every store_offsets() made by this time."""
        pending = inc.pending_stores
        if pending:
            now = self.env.now
            keep = []
            for t, p, off in pending:
                if t <= now + 1e-9:
                    inc.stored[p] = off
                else:
                    keep.append((t, p, off))
            inc.pending_stores = keep
        return inc.stored

    def _slowness(self, msg: int) -> float:
        slow = self.slow.get(msg)
        if not slow or slow[1] <= 0:
            return 0.0
        slow[1] -= 1
        return slow[0]

    def _processing_failed(self, inc: Incarnation, record: Record) -> None:
        p, off, msg = record
        action = self.c["on.processing.error"]
        what = {"crash": "the process dies", "close": "the exception escapes the poll loop and "
                "the consumer is closed", "skip": "the application logs it and moves on"}[action]
        self.sim.trace.emit("process_error", self.name,
                            f"processing message {msg} (offset {off}) failed: {what}",
                            partition=p, offset=off, message=msg, action=action)
        if action == "skip" and self.stores_after_processing:
            inc.stored[p] = off + 1  # the application moves on past it
        if action == "crash":
            raise Crash(f"processing message {msg} failed", "processing_error", message=msg)
        if action == "close":
            raise CloseOnError(f"processing message {msg} failed and the exception escaped")

    def _maybe_crash(self, inc: Incarnation, point: str, msg: int | None,
                     records: list[Record] | None = None) -> None:
        # every member counts the crash points it reaches (the sweep reads the counts)
        count = self.point_counts[point] = self.point_counts.get(point, 0) + 1
        if not self.crashes:
            return
        for i, f in enumerate(self.crashes):
            if i in self.fired or f["point"] != point:
                continue
            if not self._selects(f, count, msg, records):
                continue
            self.fired.add(i)
            raise Crash(self._crash_text(point, msg, f), point=point,
                        message=f.get("message", msg))

    @staticmethod
    def _selects(fault: Fault, count: int, msg: int | None,
                 records: list[Record] | None) -> bool:
        if "index" in fault:
            return bool(fault["index"] == count)
        if records is not None:
            return any(r.message_id == fault["message"] for r in records)
        return bool(fault.get("message") == msg)

    @staticmethod
    def _crash_text(point: str, msg: int | None, fault: Fault) -> str:
        where = point.replace("_", " ")
        if point == "after_poll":
            return (f"killed right after the poll that returned message {fault['message']}"
                    if "message" in fault else f"killed after poll #{fault['index']}")
        if msg is None:
            return f"killed {where}"
        return f"killed {where} of message {msg}"

    # -- commits -------------------------------------------------------------------------
    def _commit_sync(self, inc: Incarnation, offsets: dict[int, int], why: str,
                     manual: bool = True) -> Steps[bool]:
        if manual:
            self._maybe_crash(inc, "before_commit", None)
        result: dict[str, bool] = {}
        self._send_commit(inc, offsets, why, "commitSync", result, owned=manual)
        yield from self._sleep(self.sim.net.commit_round_trip)
        ok = result.get("ok", False)
        if manual and not ok:
            self._commit_failed()
        if manual:
            self._maybe_crash(inc, "after_commit", None)
        return ok

    def _commit_failed(self) -> None:
        """commitSync threw CommitFailedException: ``on.commit.error`` says what the
        application does (a plain poll loop does not catch it: it escapes)."""
        action = self.c["on.commit.error"]
        if action == "crash":
            raise Crash("commitSync() threw CommitFailedException and it escaped the poll "
                        "loop (on.commit.error=crash)", "commit_failed")
        if action == "close":
            raise CloseOnError("commitSync() threw CommitFailedException; it escaped the poll "
                               "loop and the consumer is closed (on.commit.error=close)")

    def _commit_async(self, inc: Incarnation, offsets: dict[int, int], why: str,
                      auto: bool = False) -> None:
        offsets = {p: o for p, o in offsets.items() if inc.committed_by_me.get(p) != o} \
            if auto else offsets
        if offsets:
            self._send_commit(inc, offsets, why, "commitAsync", {}, owned=not auto)

    def _send_commit(self, inc: Incarnation, offsets: dict[int, int], why: str, api: str,
                     result: dict[str, bool], owned: bool = False) -> None:
        sim = self.sim
        offsets = dict(offsets)
        for p, o in offsets.items():
            inc.committed_by_me[p] = o

        def arrive() -> None:
            ok = sim.groups.commit(self.group, self.name, self.topic, offsets, owned=owned)
            result["ok"] = ok
            text = ", ".join(f"partition {p} → {o}" for p, o in sorted(offsets.items()))
            if ok:
                sim.trace.emit("commit", self.name, f"{self.name} committed {text} ({api}, "
                               f"{why})", offsets=_str_keys(offsets), how=why, api=api,
                               group=self.group, topic=self.topic)
            else:
                why_failed = ("it is no longer a member of the group"
                              if not sim.groups.is_member(self.group, self.name) else
                              "a rebalance gave the partition to another member: its "
                              "generation is old, ILLEGAL_GENERATION")
                sim.trace.emit("commit_failed", self.name,
                               f"{self.name}'s commit of {text} failed: CommitFailedException "
                               f"({why_failed})",
                               offsets=_str_keys(offsets), how=why, api=api,
                               group=self.group, topic=self.topic)

        sim.later(sim.net.one_way + sim.net.commit_write_ms, arrive)

    def _background_commits(self, inc: Incarnation) -> Steps[None]:
        """librdkafka: a timer commits the stored offsets every auto.commit.interval.ms."""
        interval = self.c["auto.commit.interval.ms"]
        while True:
            yield self.env.timeout(interval)
            if not inc.alive or inc is not self.inc or self.done.triggered:
                return
            self._commit_async(inc, dict(self._stored(inc)), "librdkafka's background auto-commit "
                               "of the stored offsets", auto=True)

    def _close(self, inc: Incarnation, why: str) -> Steps[None]:
        if self.auto_commit:
            offsets = inc.positions if self.java else self._stored(inc)
            if offsets:
                yield from self._commit_sync(inc, dict(offsets), "on close()", manual=False)
        if inc.producer and inc.producer.alive:
            # close() of the transform's producer sends what it holds and waits for the
            # acknowledgements first (KafkaProducer.close, librdkafka flush before destroy).
            yield from inc.producer.flush()
            inc.producer.kill()
        inc.alive = False
        if self.sim.groups.leave(self.group, self.name):
            self.sim.notify_all()  # members waiting in poll() see the rebalance
        self.sim.trace.emit("close", self.name, f"{self.name} closes: {why}",
                            positions=_str_keys(inc.positions))


def _str_keys(d: dict[int, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in d.items()}


def _offsets(records: Sequence[tuple[Any, ...]]) -> str:
    if not records:
        return "none"
    by_p: dict[int, list[int]] = {}
    for r in records:
        by_p.setdefault(r[0], []).append(r[1])
    parts = []
    for p, offs in by_p.items():
        span = f"{offs[0]}" if len(offs) == 1 else f"{offs[0]}–{offs[-1]}"
        parts.append(span if len(by_p) == 1 else f"p{p}:{span}")
    return ", ".join(parts)


def _positions(positions: dict[int, int]) -> str:
    if len(positions) == 1:
        return str(next(iter(positions.values())))
    return ", ".join(f"p{p}={o}" for p, o in sorted(positions.items()))
