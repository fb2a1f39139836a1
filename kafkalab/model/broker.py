"""The broker: partition logs and the idempotence producer-state table.

Produce handling follows UnifiedLog/ProducerStateManager: per (PID, partition) the broker
keeps the epoch, the last sequence and metadata of the last 5 batches. A batch equal to a
cached one is not appended; the broker answers success with the original batch's offset.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .log import NON_TXN, OPEN, LogBatch, PartitionLog

NUM_BATCHES_TO_RETAIN = 5  # ProducerStateEntry; the reason max.in.flight <= 5 with idempotence


@dataclass
class ProducerState:
    epoch: int
    last_seq: int = -1
    batches: deque[tuple[int, int, int]] = field(default_factory=lambda: deque(maxlen=NUM_BATCHES_TO_RETAIN))
    # each cached batch: (first_seq, last_seq, base_offset)


@dataclass(frozen=True)
class ProduceResult:
    error: str | None  # None, "DUPLICATE_SEQUENCE" (answered as success), "OUT_OF_ORDER_SEQUENCE",
    # "INVALID_PRODUCER_EPOCH"
    base_offset: int = -1
    duplicate: bool = False


class Broker:
    def __init__(self) -> None:
        self.logs: dict[str, list[PartitionLog]] = {}
        self.log_class = PartitionLog  # replication.ReplicatedLog when partitions have followers
        # (pid, topic, partition) -> ProducerState
        self.producer_state: dict[tuple[int, str, int], ProducerState] = {}
        self._next_pid = 1000
        # listeners woken when a partition's readable end moves (long-poll fetches)
        self.on_data: Callable[[str, int], None] | None = None

    def create_topic(self, topic: str, partitions: int) -> None:
        self.logs[topic] = [self.log_class(topic, p) for p in range(partitions)]

    def log(self, topic: str, partition: int) -> PartitionLog:
        return self.logs[topic][partition]

    def new_pid(self) -> int:
        pid = self._next_pid
        self._next_pid += 1
        return pid

    def produce(self, topic: str, partition: int, messages: list[int], pid: int, epoch: int,
                base_seq: int, transactional: bool, now: float) -> ProduceResult:
        """Append one batch; with a PID, apply the idempotence checks first."""
        log = self.logs[topic][partition]
        if pid >= 0:
            key = (pid, topic, partition)
            state = self.producer_state.get(key)
            last_seq = base_seq + len(messages) - 1
            if state is not None:
                if epoch < state.epoch:
                    return ProduceResult("INVALID_PRODUCER_EPOCH")
                if epoch == state.epoch:
                    for first, last, offset in state.batches:
                        if first == base_seq and last == last_seq:
                            return ProduceResult(None, offset, duplicate=True)
                    if base_seq != state.last_seq + 1:
                        return ProduceResult("OUT_OF_ORDER_SEQUENCE")
                elif base_seq != 0:  # a new epoch must start at sequence 0
                    return ProduceResult("OUT_OF_ORDER_SEQUENCE")
            # No state for this producer (a new PID, or its state expired): any first sequence
            # is accepted (ProducerAppendInfo.checkSequence: "If there is no current producer
            # epoch ... accept writes with any sequence number").
            if state is None or epoch > state.epoch:
                state = self.producer_state[key] = ProducerState(epoch)
            batch = log.append(messages, pid, epoch, base_seq, transactional, now)
            state.last_seq = last_seq
            state.batches.append((base_seq, last_seq, batch.base_offset))
        else:
            batch = log.append(messages, time=now, transactional=False)
        if self.on_data:
            self.on_data(topic, partition)
        return ProduceResult(None, batch.base_offset)

    def write_marker(self, topic: str, partition: int, pid: int, epoch: int, commit: bool,
                     now: float) -> LogBatch:
        marker = self.logs[topic][partition].write_marker(pid, epoch, commit, now)
        key = (pid, topic, partition)
        state = self.producer_state.get(key)
        if state is None or epoch > state.epoch:
            # A marker with a newer epoch fences older writers on this partition; the new
            # epoch starts its sequences at 0.
            self.producer_state[key] = ProducerState(epoch)
        if self.on_data:
            self.on_data(topic, partition)
        return marker

    def rebuild_producer_state(self, topic: str, partition: int) -> None:
        """A new leader's producer-state table for one partition, from its own log: followers
        apply PID/epoch/sequence from the batches they replicate (``UnifiedLog``,
        ``ProducerStateManager``), so idempotent dedup survives a leader change up to the new
        leader's log end. The transaction state (open transactions) is rebuilt the same way."""
        log = self.logs[topic][partition]
        for key in [k for k in self.producer_state if k[1] == topic and k[2] == partition]:
            del self.producer_state[key]
        log.open_txn_first.clear()
        log.open_txn_batches.clear()
        for batch in log.batches:
            if batch.pid < 0:
                continue
            key = (batch.pid, topic, partition)
            state = self.producer_state.get(key)
            if batch.control is not None:
                for b in log.open_txn_batches.pop(batch.pid, []):
                    b.txn = batch.txn
                log.open_txn_first.pop(batch.pid, None)
                if state is None or batch.epoch > state.epoch:
                    self.producer_state[key] = ProducerState(batch.epoch)
                continue
            if batch.txn != NON_TXN:
                batch.txn = OPEN
                log.open_txn_first.setdefault(batch.pid, batch.base_offset)
                log.open_txn_batches.setdefault(batch.pid, []).append(batch)
            if state is None or batch.epoch > state.epoch:
                state = self.producer_state[key] = ProducerState(batch.epoch)
            last = batch.base_seq + len(batch.messages) - 1
            state.last_seq = last
            state.batches.append((batch.base_seq, last, batch.base_offset))

    def state_table(self) -> list[dict[str, Any]]:
        """The producer-state table, for the broker log view."""
        return [
            {"pid": pid, "topic": topic, "partition": p, "epoch": s.epoch, "last_seq": s.last_seq}
            for (pid, topic, p), s in sorted(self.producer_state.items())
        ]
