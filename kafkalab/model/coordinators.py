"""Group coordinator (committed offsets, membership) and transaction coordinator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .group import GroupCoordinator

__all__ = ["GroupCoordinator", "TransactionCoordinator", "TxnState"]

if TYPE_CHECKING:
    from .broker import Broker
    from .log import LogBatch

    # a marker written, and where: (marker, topic, partition)
    Marker = tuple[LogBatch, str, int]


@dataclass
class TxnState:
    pid: int
    epoch: int
    state: str = "Empty"  # Empty, Ongoing, PrepareCommit, CompleteCommit, PrepareAbort, ...
    partitions: set[tuple[str, int]] = field(default_factory=set)  # {(topic, partition)}
    # (group, topic) -> {partition: offset}
    offsets: dict[tuple[str, str], dict[int, int]] = field(default_factory=dict)
    started: float = 0.0
    number: int = 0  # how many transactions this id has begun: tells a timeout which one


class TransactionCoordinator:
    """transactional.id -> (PID, epoch) and the state of its current transaction."""

    def __init__(self, broker: Broker, groups: GroupCoordinator) -> None:
        self.broker = broker
        self.groups = groups
        self.txns: dict[str, TxnState] = {}

    def init_producer_id(self, txn_id: str, now: float) -> tuple[TxnState, list[Marker]]:
        """initTransactions: same PID, epoch + 1; abort the previous instance's open transaction.

        Returns the state and the markers written by that abort.
        """
        state = self.txns.get(txn_id)
        markers: list[Marker] = []
        if state is None:
            state = self.txns[txn_id] = TxnState(self.broker.new_pid(), 0)
            return state, markers
        # Bump first: the abort markers carry the new epoch, which fences the old instance's
        # later writes to those partitions (PrepareEpochFence).
        state.epoch += 1
        if state.state == "Ongoing":
            markers = self._complete(state, commit=False, now=now)
        state.state = "Empty"
        return state, markers

    def fenced(self, txn_id: str, epoch: int) -> bool:
        return self.txns[txn_id].epoch != epoch

    def add_partition(self, txn_id: str, epoch: int, topic: str, partition: int,
                      now: float) -> str | None:
        state = self.txns[txn_id]
        if state.epoch != epoch:
            return "PRODUCER_FENCED"
        if state.state != "Ongoing":
            state.state = "Ongoing"
            state.started = now
            state.number += 1
        state.partitions.add((topic, partition))
        return None

    def add_offsets(self, txn_id: str, epoch: int, group: str, topic: str,
                    offsets: dict[int, int], now: float, member: str | None = None,
                    generation: int | None = None) -> str | None:
        state = self.txns[txn_id]
        if state.epoch != epoch:
            return "PRODUCER_FENCED"
        if member is not None and self.groups.validate(
                group, member, -1 if generation is None else generation) is not None:
            # KIP-447: sendOffsetsToTransaction carries the consumer's group metadata; a
            # member of an old generation is fenced (its partitions belong to someone else).
            return "ILLEGAL_GENERATION"
        if state.state != "Ongoing":
            state.state = "Ongoing"
            state.started = now
            state.number += 1
        state.offsets.setdefault((group, topic), {}).update(offsets)
        return None

    def end_txn(self, txn_id: str, epoch: int, commit: bool,
                now: float) -> tuple[str | None, list[Marker]]:
        """EndTxn: the outcome is final once Prepare* is written; markers follow."""
        state = self.txns[txn_id]
        if state.epoch != epoch:
            return "PRODUCER_FENCED", []
        if state.state != "Ongoing":
            return None, []
        return None, self._complete(state, commit, now)

    def expire(self, txn_id: str, number: int, now: float) -> list[Marker] | None:
        """transaction.timeout.ms passed: abort proactively and bump the epoch (fences the
        producer that left it open)."""
        state = self.txns[txn_id]
        if state.state != "Ongoing" or state.number != number:
            return None
        state.epoch += 1
        return self._complete(state, commit=False, now=now)

    def _complete(self, state: TxnState, commit: bool, now: float) -> list[Marker]:
        state.state = "PrepareCommit" if commit else "PrepareAbort"
        markers = [
            self.broker.write_marker(topic, p, state.pid, state.epoch, commit, now)
            for topic, p in sorted(state.partitions)
        ]
        if commit:
            for (group, topic), offsets in state.offsets.items():
                self.groups.commit(group, None, topic, offsets)
        markers_info = [(m, topic, p) for m, (topic, p) in zip(markers, sorted(state.partitions),
                                                               strict=True)]
        state.partitions = set()
        state.offsets = {}
        state.state = "CompleteCommit" if commit else "CompleteAbort"
        return markers_info
