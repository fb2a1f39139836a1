"""Wiring one run: the event loop, the entities, the fault plan, the recorder.

The scheduler is SimPy (processes as generators on a heap of timed events). Events are
per batch, per poll and per commit, never per record, so a run's cost is dominated by
the per-record bookkeeping every simulation must do anyway (see the README's design
section for the measurement).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import simpy

from ..trace.events import Trace
from .broker import Broker
from .consumer import ConsumerApplication
from .coordinators import GroupCoordinator, TransactionCoordinator
from .network import Network
from .producer import ProducerApplication
from .sink import Sink

INPUT_TOPIC = "input"
OUTPUT_TOPIC = "output"


@dataclass(frozen=True)
class ProduceFate:
    lose_request: bool = False
    lose_response: bool = False
    delay_ms: float = 0.0


NO_FAULT = ProduceFate()


class Simulation:
    def __init__(self, config: dict, faults: list[dict], seed: int, snapshots: bool = True):
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
        self.groups = GroupCoordinator()
        self.txn_coordinator = TransactionCoordinator(self.broker, self.groups)
        self.pipeline = c["pipeline"]
        self.source_txn = bool(c["transactional.id"]) and not self.pipeline
        self.sink_role = "reader" if self.pipeline else "consumer"
        self.counters = {"delivered": 0, "transformed": 0}
        self._signals: dict[str, simpy.Event] = {}
        self._produce_faults = self._index_produce_faults()
        self._random = next((f for f in faults if f["type"] == "random"), {})
        self._txn_timers: dict[tuple[str, int], bool] = {}
        self.sink = Sink(c["messages"], c["sink.idempotent"])

        P = c["partitions"]
        self.broker.create_topic(INPUT_TOPIC, P)
        self.source = ProducerApplication(self, INPUT_TOPIC)
        self.consumers: list[ConsumerApplication] = []
        self.readers: list[ConsumerApplication] = []
        strategy = c["commit.strategy"]
        auto = c["enable.auto.commit"]
        self.groups.register_group(c["group.id"], INPUT_TOPIC, P)
        if self.pipeline:
            self.broker.create_topic(OUTPUT_TOPIC, P)
            reader_group = c["group.id"] + "-reader"
            self.groups.register_group(reader_group, OUTPUT_TOPIC, P)
        self._start_consumers(strategy, auto)

    def _start_consumers(self, strategy: str, auto: bool) -> None:
        c = self.config
        env = self.env

        def start():
            yield env.timeout(c["consumer.start.ms"])
            for i in range(c["consumers"]):
                self.consumers.append(ConsumerApplication(
                    self, i, "consumer", INPUT_TOPIC, c["group.id"],
                    c["isolation.level"] if not self.pipeline else "read_committed",
                    strategy, auto, OUTPUT_TOPIC if self.pipeline else None))
            if self.pipeline:
                # The downstream reader: reads the output with the configured isolation level,
                # processes into the sink, commits after each batch, never fails.
                self.readers.append(ConsumerApplication(
                    self, 0, "reader", OUTPUT_TOPIC, c["group.id"] + "-reader",
                    c["isolation.level"], "per-batch", False))

        self._started = env.process(start())

    # -- hooks the entities call ---------------------------------------------------------
    def later(self, delay: float, fn, *args, **kwargs) -> None:
        event = self.env.timeout(max(delay, 0))
        event.callbacks.append(lambda _e: fn(*args, **kwargs))

    def data_signal(self, topic: str) -> simpy.Event:
        signal = self._signals.get(topic)
        if signal is None or signal.triggered:
            signal = self._signals[topic] = self.env.event()
        return signal

    def _on_data(self, topic: str, partition: int) -> None:
        signal = self._signals.get(topic)
        if signal is not None and not signal.triggered:
            signal.succeed()

    def notify_all(self) -> None:
        for topic in list(self._signals):
            self._on_data(topic, 0)

    def group_members(self, group: str) -> list:
        """The applications the coordinator still counts as members of ``group``."""
        members = set(self.groups.members.get(group, ()))
        return [a for a in self.consumers + self.readers if a.group == group
                and a.name in members]

    def upstream_done(self, role: str) -> bool:
        if not self.source.done.triggered:
            return False
        if role == "reader":
            if not self._started.triggered or not all(a.done.triggered for a in self.consumers):
                return False
            return all(log.lso == log.hw for log in self.broker.logs[OUTPUT_TOPIC])
        return True

    def _index_produce_faults(self) -> dict:
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

    def produce_fault(self, batch, attempt: int) -> ProduceFate:
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

    def record_append(self, client, batch, attempt: int, result) -> None:
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
                            attempt=attempt, producer=client.name)

    def record_markers(self, markers, reason: str) -> None:
        for marker, topic, p in markers:
            self.trace.emit("marker", "broker",
                            f"partition {p} of {topic}: {marker.control.upper()} marker at offset "
                            f"{marker.base_offset} ({reason})", topic=topic, partition=p,
                            offset=marker.base_offset, pid=marker.pid, epoch=marker.epoch,
                            control=marker.control)

    def arm_txn_timeout(self, txn_id: str) -> None:
        state = self.txn_coordinator.txns[txn_id]
        key = (txn_id, state.number)
        if key in self._txn_timers:
            return
        self._txn_timers[key] = True

        def expire():
            markers = self.txn_coordinator.expire(txn_id, key[1], self.env.now)
            if markers is not None:
                self.record_markers(markers, "transaction.timeout.ms expired: the coordinator "
                                    "aborted it and bumped the epoch")
                self.trace.emit("txn_abort", "coordinator",
                                f"the transaction coordinator aborted {txn_id!r}'s transaction "
                                "after transaction.timeout.ms", transactional_id=txn_id)

        self.later(self.config["transaction.timeout.ms"], expire)

    # -- state ---------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """The state after an event: enough to draw any step without re-running."""
        logs = {topic: [[log.leo, log.hw, log.lso] for log in parts]
                for topic, parts in self.broker.logs.items()}
        members = {}
        for app in self.consumers + self.readers:
            inc = app.inc
            if inc is None:
                continue
            members[app.name] = {"alive": inc.alive,
                                 "positions": {str(p): o for p, o in inc.positions.items()}}
        committed = {}
        for (group, _topic, p), off in self.groups.committed.items():
            committed.setdefault(group, {})[str(p)] = off
        client = self.source.client
        producer = None
        if client is not None:
            producer = {"name": client.name, "pid": client.pid, "epoch": client.epoch,
                        "in_flight": client.in_flight}
        return {"t": round(self.env.now, 6), "logs": logs, "members": members,
                "committed": committed, "producer": producer,
                "processed": self.sink.total, "acked": len(self.source.acked)}

    def run(self) -> None:
        env = self.env
        done = env.all_of([self.source.done, self._started])
        env.run(until=env.any_of([done, env.timeout(self.config["max.simulated.ms"])]))
        self.notify_all()
        if self.source.done.triggered:
            finished = env.all_of([a.done for a in self.consumers + self.readers]
                                  or [env.timeout(0)])
            limit = self.config["max.simulated.ms"]
            if env.now < limit:
                env.run(until=env.any_of([finished, env.timeout(limit - env.now)]))
        self.drained = self.source.done.triggered and all(
            a.finished_cleanly for a in self.consumers + self.readers)
