"""A partition log: batches of records with offsets, transaction markers, HW and LSO.

The log stores whole batches (one per produce request), not single records, so a
100,000-message run touches Python objects per batch. With one replica (the default) the high
watermark is the log end offset once an append completes; with ``replication.factor`` above 1
the leader's log is ``model/replication.py``'s ``ReplicatedLog``, whose high watermark follows
the ISR.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

# Transaction status of a batch.
NON_TXN, OPEN, COMMITTED, ABORTED = "none", "open", "committed", "aborted"


@dataclass(slots=True)
class LogBatch:
    base_offset: int
    messages: list[int]  # application message ids, one per record; empty for a control marker
    pid: int = -1
    epoch: int = -1
    base_seq: int = -1
    txn: str = NON_TXN
    control: str | None = None  # "commit" / "abort" for a transaction marker (occupies one offset)
    time: float = 0.0
    leader_epoch: int = 0  # the leader epoch it was appended in (replication, KIP-101)

    @property
    def last_offset(self) -> int:
        return self.base_offset + max(len(self.messages), 1) - 1

    @property
    def size(self) -> int:
        return max(len(self.messages), 1)


@dataclass
class PartitionLog:
    topic: str
    partition: int
    batches: list[LogBatch] = field(default_factory=list)
    bases: list[int] = field(default_factory=list)  # base offsets, for bisect
    leo: int = 0  # log end offset: the next offset to be written
    hw: int = 0  # high watermark: below it, records are readable
    open_txn_first: dict[int, int] = field(default_factory=dict)  # pid -> first offset of open txn
    open_txn_batches: dict[int, list[LogBatch]] = field(default_factory=dict)

    @property
    def lso(self) -> int:
        """Last stable offset: read_committed consumers read only below it."""
        if not self.open_txn_first:
            return self.hw
        return min(self.hw, *self.open_txn_first.values())

    def append(self, messages: list[int], pid: int = -1, epoch: int = -1, base_seq: int = -1,
               transactional: bool = False, time: float = 0.0) -> LogBatch:
        batch = LogBatch(self.leo, messages, pid, epoch, base_seq,
                         OPEN if transactional else NON_TXN, None, time)
        if transactional:
            self.open_txn_first.setdefault(pid, self.leo)
            self.open_txn_batches.setdefault(pid, []).append(batch)
        self._push(batch)
        return batch

    def write_marker(self, pid: int, epoch: int, commit: bool, time: float = 0.0) -> LogBatch:
        """End pid's transaction here: a control record that takes one offset."""
        status = COMMITTED if commit else ABORTED
        for batch in self.open_txn_batches.pop(pid, []):
            batch.txn = status
        self.open_txn_first.pop(pid, None)
        marker = LogBatch(self.leo, [], pid, epoch, -1, status, "commit" if commit else "abort",
                          time)
        self._push(marker)
        return marker

    def _push(self, batch: LogBatch) -> None:
        self.batches.append(batch)
        self.bases.append(batch.base_offset)
        self.leo += batch.size
        self.hw = self.leo

    def read(self, start: int, max_records: int,
             read_committed: bool) -> tuple[list[tuple[int, int]], int]:
        """Records from ``start`` for a consumer.

        Returns ``([(offset, message_id), ...], next_position)``. The position moves past
        control markers and (for read_committed) aborted records even when nothing is
        returned, as a real consumer's does.
        """
        spans, position = self.read_spans(start, max_records, read_committed)
        out: list[tuple[int, int]] = []
        for first, msgs in spans:
            out.extend(zip(range(first, first + len(msgs)), msgs, strict=True))
        return out, position

    def read_spans(self, start: int, max_records: int,
                   read_committed: bool) -> tuple[list[tuple[int, list[int]]], int]:
        """``read`` by runs of consecutive offsets: ``([(first_offset, message_ids), ...],
        next_position)``, each run one batch's ids or a slice of them (read-only: a consumer
        makes its records from them without a Python step per record)."""
        end = self.lso if read_committed else self.hw
        out: list[tuple[int, list[int]]] = []
        taken = 0
        position = start
        if start >= end:
            return out, start
        i = max(bisect_right(self.bases, start) - 1, 0)
        batches = self.batches
        while i < len(batches) and position < end and taken < max_records:
            batch = batches[i]
            i += 1
            if batch.last_offset < position:
                continue
            if batch.control is not None or (read_committed and batch.txn == ABORTED):
                position = batch.last_offset + 1
                continue
            first = position - batch.base_offset
            # at least one: position < end, taken < max_records, position <= batch.last_offset
            take = min(len(batch.messages) - first, max_records - taken, end - position)
            msgs = batch.messages
            out.append((position, msgs if first == 0 and take == len(msgs)
                        else msgs[first:first + take]))
            taken += take
            position += take
        return out, position

    def batch_at(self, offset: int) -> LogBatch | None:
        i = bisect_right(self.bases, offset) - 1
        if i < 0:
            return None
        batch = self.batches[i]
        return batch if offset <= batch.last_offset else None
