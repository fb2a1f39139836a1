"""Fetch-based replication: followers pull from the leader, the leader moves the high watermark.

Built only when ``replication.factor > 1`` (see ``cluster.replicated``); the single-replica model
never imports its behaviour into a run. What it models (fact sheet F; apache/kafka
``Partition.scala``, ``ReplicaManager``, ``DelayedProduce``):

- each follower sends Fetch(fetchOffset = its log end offset) to the leader; the leader learns the
  follower's LEO from that fetchOffset, answers with everything up to its own LEO, and the
  follower's LEO becomes that end when the response arrives (``replica.rtt.ms`` round trip);
  a follower with nothing to fetch waits on the leader until data arrives (the long poll);
- the leader's high watermark is the minimum LEO over the ISR (the leader's own included), so it
  moves when a follower's *next* fetch reports the new position;
- consumers read only below the high watermark (``PartitionLog.read`` already stops there);
- ``acks=all``: the produce response waits until the high watermark passes the batch
  (``DelayedProduce``); ``acks=1`` answers after the leader's own append; ``acks=0`` never.

Not modelled yet (README): follower logs are positions in the leader's log, not copies (no
divergence, no truncation), the ISR never shrinks (no broker faults yet), no leader election.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

from .cluster import assignment
from .log import LogBatch, PartitionLog
from .types import Steps

if TYPE_CHECKING:
    from .simulation import Simulation


class ReplicatedLog(PartitionLog):
    """The leader's log of a replicated partition: an append moves the LEO, not the HW."""

    def _push(self, batch: LogBatch) -> None:
        self.batches.append(batch)
        self.bases.append(batch.base_offset)
        self.leo += batch.size


@dataclass
class PartitionReplicas:
    topic: str
    partition: int
    replicas: list[int]  # broker ids, preferred leader first
    leader: int
    leader_epoch: int = 0
    isr: list[int] = field(default_factory=list)
    leo: dict[int, int] = field(default_factory=dict)  # follower -> LEO the leader last learnt
    # (end offset, callback), in offset order
    acks_waiting: deque[tuple[int, Callable[[], None]]] = field(default_factory=deque)
    data: simpy.Event | None = None  # simpy event: the leader's LEO moved (wakes parked follower fetches)


class Replication:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.env = sim.env
        c = sim.config
        self.brokers = c["brokers"]
        self.rf = c["replication.factor"]
        self.half_rtt = c["replica.rtt.ms"] / 2
        self.parts: dict[tuple[str, int], PartitionReplicas] = {}

    def add_topic(self, topic: str, logs: list[PartitionLog]) -> None:
        for log in logs:
            replicas = assignment(log.partition, self.brokers, self.rf)
            st = PartitionReplicas(topic, log.partition, replicas, replicas[0],
                                   isr=list(replicas), leo={b: 0 for b in replicas[1:]})
            self.parts[(topic, log.partition)] = st
            for follower in replicas[1:]:
                self.env.process(self._follower(st, log, follower))

    def settled(self, topic: str) -> bool:
        """Every partition of ``topic`` has its high watermark at its leader's LEO."""
        return all(log.hw >= log.leo for log in self.sim.broker.logs[topic])

    # -- the leader's side -----------------------------------------------------------------
    def appended(self, topic: str, partition: int) -> None:
        """The leader's LEO moved: wake the followers parked on it."""
        st = self.parts[(topic, partition)]
        if st.data is not None and not st.data.triggered:
            st.data.succeed()

    def when_replicated(self, topic: str, partition: int, end: int,
                        callback: Callable[[], None]) -> None:
        """Call ``callback()`` once the high watermark reaches ``end`` (acks=all)."""
        st = self.parts[(topic, partition)]
        if self.sim.broker.log(topic, partition).hw >= end:
            callback()
        else:
            st.acks_waiting.append((end, callback))

    def _advance_hw(self, st: PartitionReplicas, log: PartitionLog, follower: int) -> None:
        hw = log.leo
        for b in st.isr:
            if b != st.leader and st.leo[b] < hw:
                hw = st.leo[b]
        if hw <= log.hw:
            return
        log.hw = hw
        self.sim.trace.emit("high_watermark", "broker",
                            f"partition {st.partition} of {st.topic}: broker {follower}'s fetch "
                            f"from offset {st.leo[follower]} moves the high watermark to {hw} "
                            f"(the ISR {st.isr} all have the records below it)",
                            topic=st.topic, partition=st.partition, hw=hw, leader=st.leader,
                            follower=follower, isr=list(st.isr))
        waiting = st.acks_waiting
        while waiting and waiting[0][0] <= hw:
            waiting.popleft()[1]()
        self.sim._on_data(st.topic, st.partition)  # consumers parked on the HW

    # -- a follower ------------------------------------------------------------------------
    def _follower(self, st: PartitionReplicas, log: PartitionLog, broker: int) -> Steps[None]:
        env = self.env
        offset = 0
        while True:
            yield env.timeout(self.half_rtt)  # Fetch(fetchOffset=offset) reaches the leader
            st.leo[broker] = offset
            self._advance_hw(st, log, broker)
            while log.leo <= offset:  # nothing new: the fetch waits on the leader
                if st.data is None or st.data.triggered:
                    st.data = env.event()
                yield st.data
            end = log.leo
            yield env.timeout(self.half_rtt)  # the response, records up to ``end``
            offset = end

    # -- state -----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, list[list[Any]]]:
        """{topic: [[leader, leader epoch, ISR, {replica: LEO}], ...]}: followers' LEO as the
        leader last learnt it."""
        out: dict[str, list[list[Any]]] = {}
        for (topic, _p), st in self.parts.items():
            log = self.sim.broker.log(topic, st.partition)
            leos = {str(b): (log.leo if b == st.leader else st.leo[b]) for b in st.replicas}
            out.setdefault(topic, []).append([st.leader, st.leader_epoch, list(st.isr), leos])
        return out
