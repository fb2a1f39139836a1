"""Wiring one run: the event loop, the entities, the fault plan, the recorder.

The scheduler is SimPy (processes as generators on a heap of timed events). Events are
per batch, per poll and per commit, never per record, so a run's cost is dominated by
the per-record bookkeeping every simulation must do anyway (see the README's design
section for the measurement).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy
from simpy.core import EmptySchedule, StopSimulation

from ..trace.events import Snapshot, Trace, sink_role
from .broker import Broker, ProduceResult
from .cluster import replicated
from .config import Config
from .consumer import ConsumerApplication
from .coordinators import GroupCoordinator, TransactionCoordinator
from .faults import BROKER_FAULTS, RANDOM_BROKER_KINDS, FaultPlan
from .network import Network
from .producer import ProducerApplication, ProducerBatch, ProducerClient
from .sink import Sink
from .types import Steps

if TYPE_CHECKING:
    from .coordinators import Marker

INPUT_TOPIC = "input"
OUTPUT_TOPIC = "output"


@dataclass(frozen=True)
class ProduceFate:
    lose_request: bool = False
    lose_response: bool = False
    delay_ms: float = 0.0


NO_FAULT = ProduceFate()


class Runaway(Exception):
    """A loop turned without simulated time moving: raised by ``Simulation.tick``."""

    def __init__(self, who: str, passes: int):
        super().__init__(who, passes)
        self.who, self.passes = who, passes

# The watchdog (a run always ends): how many scheduler events a run may take, derived from
# its workload. Legitimate runs stay far below both bounds (every event is per batch, per
# poll or per commit); a model bug that loops without moving simulated time, or crawls
# forward by microseconds, trips them and the run stops with a ``stopped`` event.
EVENTS_PER_MESSAGE = 64  # generous: a record's poll, processing, commit and produce events
EVENTS_PER_CLIENT = 1_000  # joins, rebalances, restarts, timers per consumer or producer
EVENTS_PER_RETRY = 8  # replication: a refused or timed-out attempt's produce/reject/retry events
WATCH_EVERY = 512  # events between two checks (keeps the watchdog off the hot path)


class Simulation:
    def __init__(self, config: Config, faults: FaultPlan, seed: int,
                 snapshots: bool = True) -> None:
        self.config = c = config
        self.faults = faults
        self.seed = seed
        self.env = simpy.Environment()
        self.rng = random.Random(seed)
        self.net = Network.from_config(c)
        self.trace = Trace(clock=lambda: self.env.now,
                           snapshot_fn=self.snapshot if snapshots else None)
        self.broker = Broker()
        self.broker.on_data = self._on_data
        self._appended_later: list[tuple[str, int]] | None = None
        self.replication = None  # followers and the high watermark (issue 18), when RF > 1
        if replicated(c) or any(f["type"] in BROKER_FAULTS or (
                f["type"] == "random" and any(f.get(k) for k in RANDOM_BROKER_KINDS))
                for f in faults):
            from .replication import ReplicatedLog, Replication
            self.replication = Replication(self)
            self.broker.log_class = ReplicatedLog
        self.groups = GroupCoordinator(
            clock=lambda: self.env.now, later=self.later, emit=self.trace.emit,
            rtt=self.net.rtt, initial_delay_ms=c["group.initial.rebalance.delay.ms"],
            seed=seed)
        self.txn_coordinator = TransactionCoordinator(self.broker, self.groups)
        self.pipeline = c["pipeline"]
        self.source_txn = bool(c["transactional.id"]) and not self.pipeline
        self.sink_role = sink_role(c)
        self.counters = {"delivered": 0, "transformed": 0}
        self._signals: dict[str, simpy.Event] = {}
        self._produce_faults = self._index_produce_faults()
        self._random = next((f for f in faults if f["type"] == "random"), {})
        self._txn_timers: dict[tuple[str, int], bool] = {}
        self.sink = Sink(c["messages"], c["sink.idempotent"])
        self.stopped: str | None = None  # the watchdog's reason, when it stopped the run
        self.events_run = 0
        self._per_ms, self._total = self.event_budget()
        self._tick_t, self._tick_n = -1.0, 0

        P = c["partitions"]
        self.broker.create_topic(INPUT_TOPIC, P)
        self.source = ProducerApplication(self, INPUT_TOPIC)
        self.consumers: list[ConsumerApplication] = []
        # per role: the processing faults' remaining counts, shared by the role's members
        self.consumer_fault_state: dict[str, Any] = {}
        self.readers: list[ConsumerApplication] = []
        strategy = c["commit.strategy"]
        auto = c["enable.auto.commit"]
        self.groups.register_group(c["group.id"], INPUT_TOPIC, P,
                                   c["partition.assignment.strategy"].split(",")[0])
        if self.pipeline:
            self.broker.create_topic(OUTPUT_TOPIC, P)
            reader_group = c["group.id"] + "-reader"
            self.groups.register_group(reader_group, OUTPUT_TOPIC, P)
        if self.replication is not None:
            for topic, logs in self.broker.logs.items():
                self.replication.add_topic(topic, logs)
        self._start_consumers(strategy, auto)

    def _start_consumers(self, strategy: str, auto: bool) -> None:
        c = self.config
        env = self.env

        def start() -> Steps[None]:
            yield env.timeout(c["consumer.start.ms"])
            def member(i: int) -> ConsumerApplication:
                return ConsumerApplication(
                    self, i, "consumer", INPUT_TOPIC, c["group.id"],
                    c["isolation.level"] if not self.pipeline else "read_committed",
                    strategy, auto, OUTPUT_TOPIC if self.pipeline else None)

            for i in range(c["consumers"]):
                self.consumers.append(member(i))
            if self.pipeline:
                # The downstream reader: reads the output with the configured isolation level,
                # processes into the sink, commits after each batch, never fails.
                self.readers.append(ConsumerApplication(
                    self, 0, "reader", OUTPUT_TOPIC, c["group.id"] + "-reader",
                    c["isolation.level"], "per-batch", False))
            # member_join faults: scale out, one new member at each time (issue 17)
            joins = sorted(f["at_ms"] for f in self.faults if f["type"] == "member_join")
            for k, at in enumerate(joins):
                if at > env.now:
                    yield env.timeout(at - env.now)
                self.trace.emit("member_start", "kafkalab",
                                f"a new member, consumer-{c['consumers'] + k}, starts "
                                "(member_join)", member=f"consumer-{c['consumers'] + k}")
                self.consumers.append(member(c["consumers"] + k))

        self._started = env.process(start())

    # -- hooks the entities call ---------------------------------------------------------
    def tick(self, who: str) -> None:
        """A loop that can turn without yielding calls this each pass: too many passes at
        one simulated time raise ``Runaway`` (the watchdog then stops the run)."""
        now = self.env.now
        if now != self._tick_t:
            self._tick_t, self._tick_n = now, 0
            return
        self._tick_n += 1
        if self._tick_n > self._per_ms:
            raise Runaway(who, self._tick_n)

    def later(self, delay: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.tick(getattr(fn, "__qualname__", "a timer"))
        event = self.env.timeout(max(delay, 0))
        callback = lambda _e: fn(*args, **kwargs)  # noqa: E731
        callback.what = fn  # type: ignore[attr-defined]  # the watchdog names what was looping
        event.callbacks.append(callback)

    def data_signal(self, topic: str) -> simpy.Event:
        signal = self._signals.get(topic)
        if signal is None or signal.triggered:
            signal = self._signals[topic] = self.env.event()
        return signal

    def hold_appended(self) -> None:
        """A produce request is being appended: the replicas hear of it (and the high
        watermark may move) only once its ``append`` event is in the trace, so a learner never
        sees the high watermark pass a record the log does not show yet."""
        self._appended_later = []

    def _on_data(self, topic: str, partition: int) -> None:
        if self.replication is not None:
            if self._appended_later is not None:
                self._appended_later.append((topic, partition))
            else:
                self.replication.appended(topic, partition)
        signal = self._signals.get(topic)
        if signal is not None and not signal.triggered:
            signal.succeed()

    def notify_all(self) -> None:
        for topic in list(self._signals):
            self._on_data(topic, 0)

    def group_members(self, group: str) -> list[ConsumerApplication]:
        """The applications the coordinator still counts as members of ``group``."""
        members = set(self.groups.member_names(group)) if group in self.groups.groups else set()
        return [a for a in self.consumers + self.readers if a.group == group
                and a.name in members]

    def upstream_done(self, role: str) -> bool:
        if not self.source.done.triggered:
            return False
        if self.replication is not None and not self.replication.settled(
                OUTPUT_TOPIC if role == "reader" else INPUT_TOPIC):
            return False  # followers still copying: the high watermark has not reached the end
        if role == "reader":
            if not self._started.triggered or not all(a.done.triggered for a in self.consumers):
                return False
            return all(log.lso == log.hw for log in self.broker.logs[OUTPUT_TOPIC])
        return True

    def _index_produce_faults(self) -> dict[tuple[int, int], ProduceFate]:
        index: dict[tuple[int, int], ProduceFate] = {}
        for f in self.faults:
            kind = f["type"]
            if kind not in ("lose_response", "lose_request", "delay_response"):
                continue
            key = (f["message"], f["attempt"])
            old = index.get(key, NO_FAULT)
            index[key] = ProduceFate(
                old.lose_request or kind == "lose_request",
                old.lose_response or kind == "lose_response",
                old.delay_ms + f.get("delay_ms", 0.0))
        return index

    def produce_fault(self, batch: ProducerBatch, attempt: int) -> ProduceFate:
        if batch.topic != INPUT_TOPIC:
            return NO_FAULT
        fate = NO_FAULT
        if self._produce_faults:
            for m in batch.messages:
                hit = self._produce_faults.pop((m, attempt), None)  # each fault fires once
                if hit:
                    fate = hit
                    break
        if self._random:
            lose_req = self.rng.random() < self._random.get("lose_request", 0.0)
            lose_resp = self.rng.random() < self._random.get("lose_response", 0.0)
            if lose_req or lose_resp:
                fate = ProduceFate(fate.lose_request or lose_req,
                                   fate.lose_response or lose_resp, fate.delay_ms)
        if fate is not NO_FAULT and fate.delay_ms:
            self.trace.emit("response_delayed", "network",
                            f"the response to this request will be delayed by "
                            f"{fate.delay_ms:g} ms", messages=batch.messages,
                            delay_ms=fate.delay_ms)
        return fate

    def record_append(self, client: ProducerClient, batch: ProducerBatch, attempt: int,
                      result: ProduceResult) -> None:
        topic, p = batch.topic, batch.partition
        if result.error:
            self.trace.emit("rejected", "broker",
                            f"the broker refused the batch from {client.name}: {result.error}",
                            topic=topic, partition=p, messages=batch.messages,
                            error=result.error, pid=client.pid, epoch=client.epoch)
        elif result.duplicate:
            self.trace.emit("duplicate_batch", "broker",
                            f"partition {p}: PID {client.pid} seq {batch.base_seq} is already "
                            f"in the log at offset {result.base_offset}; not appended again",
                            topic=topic, partition=p, messages=batch.messages,
                            offset=result.base_offset, pid=client.pid, seq=batch.base_seq)
        else:
            n = len(batch.messages)
            last = result.base_offset + n - 1
            where = (f"offset {result.base_offset}" if n == 1
                     else f"offsets {result.base_offset}–{last}")
            self.trace.emit("append", "broker",
                            f"partition {p} of {topic} appended {n} record(s) at {where}"
                            + (" (in a transaction)" if client.txn_id else ""),
                            topic=topic, partition=p, messages=batch.messages,
                            offset=result.base_offset, pid=client.pid, epoch=client.epoch,
                            seq=batch.base_seq, transactional=bool(client.txn_id),
                            attempt=attempt, producer=client.name, **self._leader_fields(topic, p))
        later, self._appended_later = self._appended_later, None
        if self.replication is not None:
            for t, part in later or ():
                self.replication.appended(t, part)

    def _leader_fields(self, topic: str, partition: int) -> dict[str, int]:
        """Replication: which broker led the partition, in which leader epoch (none with the
        single-replica model, so its events stay as they were)."""
        if self.replication is None:
            return {}
        st = self.replication.parts[(topic, partition)]
        return {"broker": st.leader, "leader_epoch": st.leader_epoch}

    def record_markers(self, markers: list[Marker], reason: str) -> None:
        for marker, topic, p in markers:
            self.trace.emit("marker", "broker",
                            f"partition {p} of {topic}: {str(marker.control).upper()} marker at offset "
                            f"{marker.base_offset} ({reason})", topic=topic, partition=p,
                            offset=marker.base_offset, pid=marker.pid, epoch=marker.epoch,
                            control=marker.control)

    def arm_txn_timeout(self, txn_id: str) -> None:
        state = self.txn_coordinator.txns[txn_id]
        key = (txn_id, state.number)
        if key in self._txn_timers:
            return
        self._txn_timers[key] = True

        def expire() -> None:
            markers = self.txn_coordinator.expire(txn_id, key[1], self.env.now)
            if markers is not None:
                self.record_markers(markers, "transaction.timeout.ms expired: the coordinator "
                                    "aborted it and bumped the epoch")
                self.trace.emit("txn_abort", "coordinator",
                                f"the transaction coordinator aborted {txn_id!r}'s transaction "
                                "after transaction.timeout.ms", transactional_id=txn_id)

        self.later(self.config["transaction.timeout.ms"], expire)

    # -- state ---------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The state after an event: enough to draw any step without re-running."""
        logs = {topic: [[log.leo, log.hw, log.lso] for log in parts]
                for topic, parts in self.broker.logs.items()}
        members = {}
        for app in self.consumers + self.readers:
            inc = app.inc
            if inc is None:
                continue
            members[app.name] = {"alive": inc.alive,
                                 "positions": {str(p): o for p, o in inc.positions.items()},
                                 "generation": inc.generation,
                                 "assignment": list(inc.assignment)}
        committed: dict[str, dict[str, int]] = {}
        for (group, _topic, p), off in self.groups.committed.items():
            committed.setdefault(group, {})[str(p)] = off
        client = self.source.client
        producer = None
        if client is not None:
            producer = {"name": client.name, "pid": client.pid, "epoch": client.epoch,
                        "in_flight": client.in_flight}
        snap = {"t": round(self.env.now, 6), "logs": logs, "members": members,
                "committed": committed, "producer": producer,
                "processed": self.sink.total, "acked": len(self.source.acked)}
        if self.replication is not None:
            snap["replicas"] = self.replication.snapshot()
        return snap

    def run(self) -> None:
        env = self.env
        done = env.all_of([self.source.done, self._started])
        limit = self.config["max.simulated.ms"]
        self._run_until(env.any_of([done, env.timeout(limit)]))
        if self.stopped is None:
            self.notify_all()
            if self.source.done.triggered:
                finished = env.all_of([a.done for a in self.consumers + self.readers]
                                      or [env.timeout(0)])
                if env.now < limit:
                    self._run_until(env.any_of([finished, env.timeout(limit - env.now)]))
        self.drained = self.stopped is None and self.source.done.triggered and all(
            a.finished_cleanly for a in self.consumers + self.readers)

    # -- the watchdog --------------------------------------------------------------------
    def event_budget(self) -> tuple[int, int]:
        """(events allowed within one simulated millisecond, events allowed in all), both
        derived from the workload: messages, clients, partitions and restarts."""
        c = self.config
        members = c["consumers"] + sum(1 for f in self.faults if f["type"] == "member_join")
        clients = (members + 1) * (2 if self.pipeline else 1) + 1
        lives = min(c["max.restarts"], 5) + 1
        per_ms = EVENTS_PER_MESSAGE * (c["messages"] + c["partitions"] * clients) \
            + EVENTS_PER_CLIENT * clients
        total = (EVENTS_PER_MESSAGE * (c["messages"] + 1) + EVENTS_PER_CLIENT * clients) * lives
        if self.replication is not None:
            # a partition offline or below min.insync.replicas: every batch may be retried
            # until delivery.timeout.ms (librdkafka: 0 is infinite), at most once per backoff
            timeout = c["delivery.timeout.ms"] or 3_600_000
            backoff = max(c["retry.backoff.max.ms"], c["retry.backoff.ms"], 1)
            retries = min(c["retries"], timeout / backoff + 10)
            total += int(EVENTS_PER_RETRY * (c["messages"] + 1) * retries)
        return per_ms, total

    def _run_until(self, until: simpy.Event) -> None:
        """``env.run(until)`` with a watchdog: a bound on events per simulated millisecond
        (no progress) and on events in all (a storm); either stops the run."""
        env = self.env
        if until.callbacks is None:
            return
        until.callbacks.append(StopSimulation.callback)
        per_ms, total = self._per_ms, self._total
        step = env.step
        window_t, window_n = env.now, self.events_run
        try:
            while True:
                for _ in range(WATCH_EVERY):
                    step()
                self.events_run += WATCH_EVERY
                if env.now >= window_t + 1:
                    window_t, window_n = env.now, self.events_run
                elif self.events_run - window_n > per_ms:
                    self._stop(f"{self.events_run - window_n:,} scheduler events within one "
                               f"simulated millisecond (this workload needs at most "
                               f"{per_ms:,})")
                    return
                if self.events_run > total:
                    self._stop(f"{self.events_run:,} scheduler events in all (this workload "
                               f"needs at most {total:,}): a storm that moves time only "
                               "slowly")
                    return
        except StopSimulation:
            return
        except EmptySchedule:
            return
        except Runaway as loop:
            self._stop(f"{loop.passes:,} passes of {loop.who} at one simulated time (this "
                       f"workload needs at most {per_ms:,})", loop.who)

    def _stop(self, why: str, looping: str | None = None) -> None:
        looping = looping or self._looping()
        recent = Counter(e.kind for e in self.trace.events[-200:])
        repeats = ", ".join(k for k, _ in recent.most_common(4)) or "no recorded events"
        storm = recent.get("left_group", 0) + recent.get("rebalance", 0) >= 10
        text = (f"stopped: the simulation made no progress at t={self.env.now:g} ms ({why}; "
                f"looping: {looping}; the trace repeats: {repeats})."
                + (" A rebalance storm: members keep leaving and rejoining (is processing a "
                   "batch slower than max.poll.interval.ms?)." if storm else "")
                + " The outcome counts what happened until then. If this configuration "
                "should finish, please report it")
        self.stopped = text
        self.trace.emit("stopped", "kafkalab", text, reason=why, looping=looping,
                        repeats=repeats)

    def _looping(self, sample: int = 5_000) -> str:
        """Name whose events are pending (only after a trip). The queue is read, never run,
        so the ``stopped`` event stays the last one and the model's state is left as it was."""
        seen: Counter[str] = Counter()
        try:
            for _, _, _, event in self.env._queue[:sample]:
                for cb in event.callbacks or ():
                    name = _owner(cb)
                    if name:
                        seen[name] += 1
        except Exception as exc:  # a diagnosis must never turn into a traceback
            seen[f"an error while diagnosing ({type(exc).__name__})"] += 1
        if not seen:
            return "nothing identifiable"
        n = sum(seen.values())
        return ", ".join(f"{name} ({count * 100 // n}%)" for name, count in
                         seen.most_common(3))


def _owner(callback: Any) -> str | None:
    """Who an event callback belongs to: "consumer-1 in _poll", "consumer-0's _poll_timer"."""
    what = getattr(callback, "what", None)
    if what is not None:
        owner = getattr(what, "__self__", None)
        name = getattr(owner, "name", None)
        fn = getattr(what, "__qualname__", "a timer").replace("<locals>.", "")
        fn = fn.split(".", 1)[-1] if "." in fn else fn  # drop the class: "_send_commit.arrive"
        return f"{name}'s {fn}" if name else fn
    proc = getattr(callback, "__self__", None)
    gen = getattr(proc, "_generator", None)
    if gen is None:
        return None
    frame = gen.gi_frame
    actor = getattr(frame.f_locals.get("self"), "name", None) if frame else None
    inner = gen
    while getattr(inner, "gi_yieldfrom", None) is not None and hasattr(inner.gi_yieldfrom,
                                                                      "gi_yieldfrom"):
        inner = inner.gi_yieldfrom
    where = inner.__name__
    return f"{actor} in {where}" if actor else where
