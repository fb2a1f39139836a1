"""Replication: followers pull from the leader, the ISR, broker faults, leader election, truncation.

Built only when ``replication.factor > 1`` or the plan has broker faults (see
``Simulation``); the single-replica model never runs any of this. What it models (fact sheet F;
apache/kafka ``Partition.scala``, ``ReplicaManager``, ``DelayedProduce``,
``ReplicationControlManager``, ``AbstractFetcherThread``, ``LeaderEpochFileCache``):

- every replica has its own log (a list of batches, each stamped with the leader epoch it was
  written in). Each follower sends Fetch(fetchOffset = its LEO) to the leader; the leader
  learns the follower's LEO from that fetchOffset, answers with everything up to its own LEO,
  and the follower appends it when the response arrives (``replica.rtt.ms`` round trip); a
  follower with nothing to fetch waits on the leader until data arrives (the long poll);
- the leader's high watermark is the minimum LEO over the ISR, and since Kafka 3.7 it does not
  move while the ISR is smaller than ``min.insync.replicas`` (KAFKA-15583);
- the ISR: the leader drops a follower that has not been caught up to its LEO for longer than
  ``replica.lag.time.max.ms`` (checked every half of it, ``isr-expiration``) and re-adds it
  once its LEO reaches the HW and its epoch's start (``isFollowerInSync``);
- ``acks=all``: refused with NOT_ENOUGH_REPLICAS (nothing written) while the ISR is smaller than
  ``min.insync.replicas``; otherwise answered once the HW passes the batch (``DelayedProduce``);
- broker crashes (a process crash keeps the log; a machine failure loses what was not flushed,
  ``log.flush.interval.messages``/``.ms``), restarts, slow or partitioned followers. The
  controller fences a broker ``broker.session.timeout.ms`` after it stopped (at once when it
  re-registers after a restart), removes it from every ISR and elects a new leader from the
  live ISR with the leader epoch bumped; with no live ISR member the partition is offline
  unless ``unclean.leader.election.enable``;
- a replica that follows a new leader first truncates to the end of the last leader epoch it
  shares with it (KIP-101/KIP-279, OffsetsForLeaderEpoch / Fetch ``divergingEpoch``), never to
  its own HW; what it drops is a ``truncated`` event.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

from .cluster import assignment
from .faults import (
    BROKER_FAULTS,
    RANDOM_BROKER_DOWN_MS,
    RANDOM_BROKER_FAULTS_MAX,
    RANDOM_BROKER_KINDS,
    RANDOM_SLOW_FOLLOWER_MS,
    FaultError,
)
from .log import LogBatch, PartitionLog
from .types import Steps

if TYPE_CHECKING:
    from .simulation import Simulation



class ReplicatedLog(PartitionLog):
    """The partition log the leader serves: an append moves the LEO, not the HW; its batches
    are the current leader replica's own list."""

    leader_epoch: int = 0
    offline: bool = False  # no leader: nothing can be read or written
    # a fetch from beyond the log end (only after a leader change lost records): the consumer
    # gets OFFSET_OUT_OF_RANGE and applies auto.offset.reset; set by Replication
    out_of_range: Callable[[PartitionLog, int], int] | None = None

    def _push(self, batch: LogBatch) -> None:
        batch.leader_epoch = self.leader_epoch
        self.batches.append(batch)
        self.bases.append(batch.base_offset)
        self.leo += batch.size

    def read_spans(self, start: int, max_records: int,
                   read_committed: bool) -> tuple[list[tuple[int, list[int]]], int]:
        if self.offline:
            return [], start
        if start > self.leo and self.out_of_range is not None:
            start = self.out_of_range(self, start)
        return super().read_spans(start, max_records, read_committed)


@dataclass
class Replica:
    broker: int
    batches: list[LogBatch] = field(default_factory=list)
    leo: int = 0
    hw: int = 0  # the high watermark this replica knows (a follower's lags the leader's)
    flushed: int = 0  # log end offset on disk (fsynced)
    last_flush_t: float = 0.0
    incarnation: int = 0  # bumped by a crash: a dead replica's fetch loop stops
    # what the leader knows of this follower (Partition's Replica state)
    fetch_offset: int = 0
    last_caught_up: float = 0.0
    last_fetch_t: float = 0.0
    last_fetch_leader_leo: int = 0


@dataclass
class PartitionReplicas:
    topic: str
    partition: int
    replicas: list[int]  # broker ids, preferred leader first
    leader: int  # -1: offline
    reps: dict[int, Replica]
    leader_epoch: int = 0
    isr: list[int] = field(default_factory=list)
    gen: int = 0  # bumped at every leader change: fetches to the old leader stop
    epoch_start: int = 0  # the leader's log end when its epoch began (leaderEpochStartOffset)
    # (end offset, callback), in offset order
    acks_waiting: deque[tuple[int, Callable[[], None]]] = field(default_factory=deque)
    data: simpy.Event | None = None  # simpy event: the leader's LEO moved (wakes parked fetches)

    @property
    def leo(self) -> dict[int, int]:
        """follower -> the LEO the leader last learnt (its last fetchOffset)."""
        return {b: self.reps[b].fetch_offset for b in self.replicas if b != self.leader}


def _end(batches: list[LogBatch]) -> int:
    return batches[-1].base_offset + batches[-1].size if batches else 0


def _epoch_end(batches: list[LogBatch], epoch: int, leo: int,
               current_epoch: int | None = None) -> tuple[int, int]:
    """OffsetsForLeaderEpoch on a replica's log (``LeaderEpochFileCache.endOffsetFor``): the
    largest epoch <= ``epoch`` this log has and the offset where the next epoch starts (its LEO
    if that epoch is its last; a leader's current epoch starts at its LEO when it has no batch
    of it yet). (-1, 0) when it has none."""
    found = -1
    for b in batches:
        if b.leader_epoch <= epoch:
            found = b.leader_epoch
        elif found >= 0:
            return found, b.base_offset
        else:
            return -1, 0
    if current_epoch is not None and found < current_epoch <= epoch:
        return current_epoch, leo
    return (found, leo) if found >= 0 else (-1, 0)


class Replication:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.env = sim.env
        c = sim.config
        self.brokers = c["brokers"]
        self.rf = c["replication.factor"]
        self.half_rtt = c["replica.rtt.ms"] / 2
        self.min_isr = c["min.insync.replicas"]
        self.lag_max = c["replica.lag.time.max.ms"]
        self.unclean = c["unclean.leader.election.enable"]
        self.session_timeout = c["broker.session.timeout.ms"]
        self.flush_messages = c["log.flush.interval.messages"]
        self.flush_ms = c["log.flush.interval.ms"]
        self.parts: dict[tuple[str, int], PartitionReplicas] = {}
        self.alive = [True] * self.brokers
        self.fenced = [False] * self.brokers
        self.down_kind: dict[int, str] = {}  # broker -> "process" | "machine" while down
        self.pending = 0  # broker faults still to happen (restarts, heals): nothing is final yet
        self.slow: dict[int, float] = {}  # broker -> extra ms per fetch trip (inf: partitioned)
        self.heal: dict[int, simpy.Event] = {}
        self.crash_after: dict[int, list[dict[str, Any]]] = {}  # message -> crash faults
        # the random broker faults' probabilities (a ``random`` fault), drawn per leader append
        plan = next((f for f in sim.faults if f["type"] == "random"), {})
        self.random_p = {k: plan[k] for k in RANDOM_BROKER_KINDS if plan.get(k)}
        self.random_count = 0
        self._random_starting = False  # a random broker fault is scheduled, not begun yet
        self._work: simpy.Event | None = None  # wakes the ISR expiration task
        self._scheduled = False
        self.env.process(self._isr_expiration())

    # -- set-up ------------------------------------------------------------------------------
    def add_topic(self, topic: str, logs: list[PartitionLog]) -> None:
        if not self._scheduled:
            self._scheduled = True
            self._schedule_faults()
        for log in logs:
            replicas = assignment(log.partition, self.brokers, self.rf)
            reps = {b: Replica(b) for b in replicas}
            reps[replicas[0]].batches = log.batches  # the leader's own list is the served log
            st = PartitionReplicas(topic, log.partition, replicas, replicas[0], reps,
                                   isr=list(replicas))
            self.parts[(topic, log.partition)] = st
            log.out_of_range = self._out_of_range  # type: ignore[attr-defined]
            for follower in replicas[1:]:
                self.env.process(self._follower(st, reps[follower]))

    def _schedule_faults(self) -> None:
        for f in self.sim.faults:
            kind = f["type"]
            if kind not in BROKER_FAULTS:
                continue
            if f["broker"] >= self.brokers:
                raise FaultError(f"{kind}: broker {f['broker']} does not exist; this cluster "
                                 f"has brokers 0–{self.brokers - 1} (brokers={self.brokers})")
            self.pending += 1
            if kind == "slow_follower":
                self.sim.later(f["at_ms"], self._slow_start, f)
            elif "after_message" in f:
                self.crash_after.setdefault(f["after_message"], []).append(f)
            else:
                self.sim.later(f["at_ms"], self._crash, f)

    def leader_of(self, topic: str, partition: int) -> int:
        return self.parts[(topic, partition)].leader

    def log_of(self, st: PartitionReplicas) -> PartitionLog:
        return self.sim.broker.log(st.topic, st.partition)

    def settled(self, topic: str) -> bool:
        """Every partition of ``topic`` has its high watermark at its leader's LEO, or nothing
        left in the plan can move it (offline for good, or under min.insync.replicas with no
        follower that can come back)."""
        for log in self.sim.broker.logs[topic]:
            if log.hw >= log.leo:
                continue
            if self.pending:
                return False
            st = self.parts[(topic, log.partition)]
            if st.leader < 0:
                continue  # offline for good
            if sum(self.alive[b] for b in st.replicas) < self.min_isr:
                continue  # below min.insync.replicas for good: the HW cannot move
            if any(self.alive[b] for b in st.replicas if b != st.leader):
                return False
        return True

    # -- the produce path ----------------------------------------------------------------------
    def refuse(self, topic: str, partition: int, broker: int, acks: str) -> str | None:
        """Why the broker a produce request went to does not take it: ``"DOWN"`` (no answer
        at all), NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS (``Partition.appendRecordsToLeader``:
        acks=all and ISR < min.insync.replicas, nothing written), or None."""
        st = self.parts[(topic, partition)]
        if broker >= 0 and not self.alive[broker]:
            return "DOWN"
        if broker != st.leader or st.leader < 0:
            return "NOT_LEADER_OR_FOLLOWER"
        if acks == "all" and len(st.isr) < self.min_isr:
            return "NOT_ENOUGH_REPLICAS"
        return None

    def appended(self, topic: str, partition: int) -> None:
        """The leader's LEO moved: flush if due, move the HW if the ISR is the leader alone,
        wake the followers parked on it."""
        st = self.parts.get((topic, partition))
        if st is None or st.leader < 0 or not self.alive[st.leader]:
            # a dead leader appends nothing; without this, a wake-up (notify_all) while it is
            # down gave its replica back the served log's end after a machine failure had cut
            # its unflushed tail (found by the random broker faults' property test)
            return
        log = self.log_of(st)
        rep = st.reps[st.leader]
        rep.leo = log.leo
        self._maybe_flush(rep)
        if len(st.isr) == 1:
            self._advance_hw(st, log, st.leader)
        if st.data is not None and not st.data.triggered:
            st.data.succeed()
        if self._work is not None and not self._work.triggered and len(st.isr) > 1:
            self._work.succeed()

    def acked_after_append(self, messages: list[int], broker: int, at: float) -> None:
        """A crash placed ``after_message``: the leader dies once its append of that message
        is done (acks=1 has answered by then; acks=all still waits for the followers)."""
        for m in messages:
            for f in self.crash_after.pop(m, []):
                if f["broker"] == broker:
                    self.sim.later(max(at - self.env.now, 0), self._crash, f)
                else:
                    self.crash_after.setdefault(m, []).append(f)

    def maybe_random_fault(self, topic: str, partition: int, leader: int, at: float) -> None:
        """A ``random`` fault's broker faults, drawn from the run's seeded RNG after a leader
        appended a batch (in RANDOM_BROKER_KINDS order, one draw per kind with a probability,
        so a run is the same for a seed): a crash or machine failure of that leader right
        after the append (back RANDOM_BROKER_DOWN_MS later), or one of its live followers cut
        off for RANDOM_SLOW_FOLLOWER_MS. Only while every broker is up and none is cut off,
        and at most RANDOM_BROKER_FAULTS_MAX in a run: the run always ends."""
        st = self.parts.get((topic, partition))
        if st is None:
            return
        rng = self.sim.rng
        for kind, p in self.random_p.items():
            if self.random_count >= RANDOM_BROKER_FAULTS_MAX:
                return
            if rng.random() >= p:
                continue
            if self._random_starting or not all(self.alive) or self.slow or leader < 0 \
                    or not self.alive[leader]:
                continue  # one broker fault at a time
            f: dict[str, Any]
            if kind == "slow_follower":
                followers = [b for b in st.replicas if b != leader]
                if not followers:
                    continue
                f = {"type": kind, "broker": rng.choice(followers), "at_ms": at,
                     "for_ms": RANDOM_SLOW_FOLLOWER_MS}
            else:
                f = {"type": kind, "broker": leader, "at_ms": at,
                     "restart_after_ms": RANDOM_BROKER_DOWN_MS}
            self.random_count += 1
            self.pending += 1
            self._random_starting = True  # no second one before this one has begun
            self.sim.later(max(at - self.env.now, 0), self._random_start, f)
            return

    def _random_start(self, f: dict[str, Any]) -> None:
        self._random_starting = False
        if f["type"] == "slow_follower":
            self._slow_start(f)
        else:
            self._crash(f)

    def when_replicated(self, topic: str, partition: int, end: int,
                        callback: Callable[[], None]) -> None:
        """Call ``callback()`` once the high watermark reaches ``end`` (acks=all)."""
        st = self.parts[(topic, partition)]
        if self.log_of(st).hw >= end:
            callback()
        else:
            st.acks_waiting.append((end, callback))

    def _maybe_flush(self, rep: Replica) -> None:
        now = self.env.now
        if rep.leo - rep.flushed >= self.flush_messages or (
                self.flush_ms is not None and now - rep.last_flush_t >= self.flush_ms):
            rep.flushed = rep.leo
            rep.last_flush_t = now

    def _advance_hw(self, st: PartitionReplicas, log: PartitionLog, follower: int) -> None:
        if len(st.isr) < self.min_isr:
            return  # Partition.maybeIncrementLeaderHW: not while under min ISR (KAFKA-15583)
        hw = log.leo
        for b in st.isr:
            if b != st.leader and st.reps[b].fetch_offset < hw:
                hw = st.reps[b].fetch_offset
        if hw <= log.hw:
            return
        log.hw = hw
        st.reps[st.leader].hw = hw
        if follower == st.leader:
            why = f"the ISR {st.isr} is the leader alone"
        else:
            why = (f"broker {follower}'s fetch from offset {st.reps[follower].fetch_offset} "
                   f"moves it (the ISR {st.isr} all have the records below it)")
        self.sim.trace.emit("high_watermark", "broker",
                            f"partition {st.partition} of {st.topic}: the high watermark moves "
                            f"to {hw}: {why}",
                            topic=st.topic, partition=st.partition, hw=hw, leader=st.leader,
                            follower=follower, isr=list(st.isr))
        waiting = st.acks_waiting
        while waiting and waiting[0][0] <= hw:
            waiting.popleft()[1]()
        signal = self.sim._signals.get(st.topic)  # consumers parked on the HW
        if signal is not None and not signal.triggered:
            signal.succeed()

    # -- a follower ----------------------------------------------------------------------------
    def _trip(self, rep: Replica) -> Steps[bool]:
        """Half a fetch round trip between this follower and the leader (a slow follower adds
        its extra time, a partitioned one waits until it heals). False if it died meanwhile."""
        yield self.env.timeout(self.half_rtt)
        while self.slow.get(rep.broker):
            extra = self.slow[rep.broker]
            if extra == float("inf"):
                yield self.heal[rep.broker]
            else:
                yield self.env.timeout(extra)
                break
        return True

    def _follower(self, st: PartitionReplicas, rep: Replica) -> Steps[None]:
        env = self.env
        gen, me = st.gen, rep.incarnation

        def stale() -> bool:
            return st.gen != gen or rep.incarnation != me or not self.alive[rep.broker]

        if gen > 0 or rep.leo > 0:
            # the first Fetch to this leader carries lastFetchedEpoch; the answer says where
            # the logs diverge (divergingEpoch, KIP-320/KAFKA-10554): truncate there
            yield from self._trip(rep)
            if stale() or not self._leader_alive(st):
                return
            leader = st.reps[st.leader]
            asked = rep.batches[-1].leader_epoch if rep.batches else -1
            answer = _epoch_end(leader.batches, asked, leader.leo, st.leader_epoch)
            yield from self._trip(rep)  # the answer comes back: truncate, then fetch
            if stale():
                return
            self._truncate_to_leader(st, rep, asked, answer)
        while True:
            yield from self._trip(rep)  # Fetch(fetchOffset=LEO) reaches the leader
            if stale() or not self._leader_alive(st):
                return  # a new loop starts when a leader is elected or this broker returns
            self._fetch_arrived(st, rep)
            leader = st.reps[st.leader]
            while leader.leo <= rep.leo:  # nothing new: the fetch waits on the leader
                if st.data is None or st.data.triggered:
                    st.data = env.event()
                yield st.data
                if stale() or not self._leader_alive(st):
                    return
            source, end_index = leader.batches, len(leader.batches)
            hw = self.log_of(st).hw
            yield from self._trip(rep)  # the response, records up to the leader's LEO
            if stale():
                return
            rep.batches.extend(source[len(rep.batches):end_index])
            rep.leo = _end(rep.batches)
            rep.hw = min(hw, rep.leo)
            self._maybe_flush(rep)

    def _leader_alive(self, st: PartitionReplicas) -> bool:
        return st.leader >= 0 and self.alive[st.leader]

    def _fetch_arrived(self, st: PartitionReplicas, rep: Replica) -> None:
        """The leader's side of a follower Fetch (``Partition.updateFollowerFetchState``)."""
        now = self.env.now
        log = self.log_of(st)
        leader_leo = log.leo
        rep.fetch_offset = rep.leo
        if rep.leo >= leader_leo:
            rep.last_caught_up = now
        elif rep.leo >= rep.last_fetch_leader_leo:
            rep.last_caught_up = max(rep.last_caught_up, rep.last_fetch_t)
        rep.last_fetch_t, rep.last_fetch_leader_leo = now, leader_leo
        if rep.broker not in st.isr and rep.leo >= log.hw and rep.leo >= self._epoch_start(st):
            st.isr.append(rep.broker)
            st.isr.sort(key=st.replicas.index)
            self._isr_event(st, "isr_expand", rep.broker,
                            f"broker {rep.broker} caught up (LEO {rep.leo} >= high watermark "
                            f"{log.hw}) and rejoins the ISR")
        self._advance_hw(st, log, rep.broker)

    def _epoch_start(self, st: PartitionReplicas) -> int:
        """Where the leader's current epoch starts: its log end when it became leader."""
        return st.epoch_start

    def _truncate_to_leader(self, st: PartitionReplicas, rep: Replica, asked: int,
                            answer: tuple[int, int]) -> None:
        """KIP-101/KIP-279: the leader answered (epoch, end offset) for this replica's last
        epoch ``asked``: truncate there; if the leader never had that epoch, to the end of the
        epoch it answered in this replica's own log, whichever is smaller."""
        old_leo = rep.leo
        answer_epoch, answer_end = answer
        if answer_epoch == asked:
            cut = min(answer_end, rep.leo)
        elif answer_epoch < 0:
            cut = 0
        else:  # the leader never had our last epoch: cut at the end of the one it answered
            _own, own_end = _epoch_end(rep.batches, answer_epoch, rep.leo)
            cut = min(answer_end, own_end)
        if cut >= old_leo:
            return
        keep = 0
        while keep < len(rep.batches) and rep.batches[keep].base_offset < cut:
            keep += 1
        dropped = rep.batches[keep:]
        # a batch across the cut point is cut whole (batches are written whole)
        del rep.batches[keep:]
        rep.leo = _end(rep.batches)
        rep.hw = min(rep.hw, rep.leo)
        rep.flushed = min(rep.flushed, rep.leo)
        rep.fetch_offset = rep.leo
        self._truncated(st, rep.broker, rep.leo, old_leo, dropped, "diverged",
                        f"broker {rep.broker} follows leader {st.leader} (epoch "
                        f"{st.leader_epoch}): the leader's answer for its last epoch {asked} "
                        f"ends at offset {answer_end}, so it truncates offsets "
                        f"{rep.leo}–{old_leo - 1} (the end of the last epoch they share, not "
                        "its own high watermark: KIP-101/279)",
                        epoch=asked, leader_epoch=st.leader_epoch, end_offset=answer_end)

    def _truncated(self, st: PartitionReplicas, broker: int, start: int, end: int,
                   dropped: list[LogBatch], cause: str, text: str, **extra: Any) -> None:
        messages = [m for b in dropped for m in b.messages]
        self.sim.trace.emit("truncated", f"broker-{broker}", text, topic=st.topic,
                            partition=st.partition, broker=broker, start=start, end=end,
                            messages=messages, cause=cause,
                            batches=[[b.base_offset, b.leader_epoch] for b in dropped],
                            **extra)

    def _out_of_range(self, log: PartitionLog, position: int) -> int:
        """A consumer fetches from beyond a new leader's log end: OFFSET_OUT_OF_RANGE, and the
        consumer resets by auto.offset.reset (``none`` is taken as ``latest`` here)."""
        to = 0 if self.sim.config["auto.offset.reset"] == "earliest" else log.leo
        self.sim.trace.emit("offset_out_of_range", "broker",
                            f"partition {log.partition} of {log.topic}: a fetch from offset "
                            f"{position} is beyond the leader's log end {log.leo} (records were "
                            f"lost in a leader change): OFFSET_OUT_OF_RANGE, the consumer resets "
                            f"to offset {to} (auto.offset.reset="
                            f"{self.sim.config['auto.offset.reset']})",
                            topic=log.topic, partition=log.partition, position=position,
                            leo=log.leo, reset_to=to)
        return to

    # -- the ISR -------------------------------------------------------------------------------
    def _isr_expiration(self) -> Steps[None]:
        """ReplicaManager's isr-expiration task, every replica.lag.time.max.ms / 2: a follower
        not caught up for longer than replica.lag.time.max.ms leaves the ISR. It sleeps while
        every ISR follower is caught up (nothing to check)."""
        env = self.env
        period = max(self.lag_max / 2, 1.0)
        while True:
            yield env.timeout(period - (env.now % period))
            behind = False
            for st in self.parts.values():
                if st.leader < 0 or not self.alive[st.leader]:
                    continue
                log = self.log_of(st)
                for b in list(st.isr):
                    if b == st.leader:
                        continue
                    rep = st.reps[b]
                    if rep.fetch_offset == log.leo:
                        continue
                    behind = True
                    if env.now - rep.last_caught_up > self.lag_max:
                        st.isr.remove(b)
                        self._isr_event(st, "isr_shrink", b,
                                        f"broker {b} has not caught up for more than "
                                        f"replica.lag.time.max.ms={self.lag_max} (LEO "
                                        f"{rep.fetch_offset}, leader's {log.leo}): it leaves "
                                        "the ISR")
                        self._advance_hw(st, log, st.leader)
            if not behind:
                self._work = env.event()
                yield self._work

    def _isr_event(self, st: PartitionReplicas, kind: str, broker: int, text: str) -> None:
        under = len(st.isr) < self.min_isr
        self.sim.trace.emit(kind, "broker",
                            f"partition {st.partition} of {st.topic}: {text}; ISR now {st.isr}"
                            + (f", below min.insync.replicas={self.min_isr}: acks=all writes "
                               "are refused and the high watermark stands still" if under
                               else ""),
                            topic=st.topic, partition=st.partition, broker=broker,
                            isr=list(st.isr), leader=st.leader, epoch=st.leader_epoch,
                            under_min_isr=under)

    # -- broker faults -------------------------------------------------------------------------
    def _slow_start(self, f: dict[str, Any]) -> None:
        b = f["broker"]
        extra = f.get("extra_ms", float("inf"))
        self.slow[b] = extra
        self.heal[b] = self.env.event()
        self.sim.trace.emit("follower_slow", f"broker-{b}",
                            f"broker {b}'s fetches as a follower "
                            + ("get no answer (partitioned from the leaders)"
                               if extra == float("inf") else f"take {extra:g} ms longer")
                            + f" for {f['for_ms']:g} ms", broker=b, extra_ms=extra
                            if extra != float("inf") else None, for_ms=f["for_ms"])
        self.sim.later(f["for_ms"], self._slow_end, b)

    def _slow_end(self, b: int) -> None:
        self.slow.pop(b, None)
        event = self.heal.pop(b)
        event.succeed()
        self.pending -= 1
        self.sim.trace.emit("follower_healed", f"broker-{b}",
                            f"broker {b}'s link to the other brokers is normal again", broker=b)

    def _crash(self, f: dict[str, Any]) -> None:
        b = f["broker"]
        if not self.alive[b]:
            self.pending -= 1
            return
        machine = f["type"] == "machine_failure"
        self.alive[b] = False
        self.down_kind[b] = "machine" if machine else "process"
        led = [st for st in self.parts.values() if st.leader == b]
        self.sim.trace.emit(
            "broker_crash", f"broker-{b}",
            f"broker {b} " + ("fails with its machine: its page cache is gone, so the log tail "
                              "not yet flushed to disk is lost" if machine else
                              "crashes (process): its log on disk survives")
            + (f"; it led partition(s) {[st.partition for st in led]}" if led else ""),
            broker=b, machine=machine,
            led=[[st.topic, st.partition, st.leader_epoch] for st in led])
        for st in self.parts.values():
            if b not in st.reps:
                continue
            rep = st.reps[b]
            rep.incarnation += 1
            if st.leader == b:
                st.acks_waiting.clear()  # purgatory requests die with the process
                log = self.log_of(st)
                log.offline = True  # type: ignore[attr-defined]
            if machine and rep.flushed < rep.leo:
                keep = 0
                while keep < len(rep.batches) and \
                        rep.batches[keep].base_offset + rep.batches[keep].size <= rep.flushed:
                    keep += 1
                dropped = rep.batches[keep:]
                old = rep.leo
                rep.batches = rep.batches[:keep]  # a new list: the served log keeps the old
                rep.leo = _end(rep.batches)
                rep.hw = min(rep.hw, rep.leo)
                self._truncated(st, b, rep.leo, old, dropped, "machine_failure",
                                f"broker {b}'s machine failed: offsets {rep.leo}–{old - 1} of "
                                f"partition {st.partition} were never flushed to disk "
                                "(log.flush.interval.messages/.ms) and are gone from its log",
                                epoch=dropped[0].leader_epoch if dropped else st.leader_epoch)
        client = self.sim.source.client
        if not machine and client is not None:  # the socket closes with the process
            self.sim.later(self.sim.net.one_way, client.connection_reset, b)
        restart = f.get("restart_after_ms")
        fence_at = self.session_timeout if restart is None else min(self.session_timeout,
                                                                    restart)
        self.sim.later(fence_at, self._fence, b, self.down_incarnation(b), restart is not None)
        if restart is not None:
            self.sim.later(restart, self._restart, b)

    def down_incarnation(self, b: int) -> int:
        return sum(st.reps[b].incarnation for st in self.parts.values() if b in st.reps)

    def _fence(self, b: int, incarnation: int, restarting: bool = False) -> None:
        if self.fenced[b] or self.alive[b] or incarnation != self.down_incarnation(b):
            return
        self.fenced[b] = True
        if not restarting:
            self.pending -= 1  # a crash for good: the fence is its last effect
        self.sim.trace.emit("broker_fenced", "controller",
                            f"the controller fences broker {b} (no heartbeat within "
                            f"broker.session.timeout.ms={self.session_timeout}, or it "
                            "registered again): it leaves every ISR and loses its leaderships",
                            broker=b)
        for st in self.parts.values():
            if b not in st.reps:
                continue
            if st.leader == b:
                self._elect(st, lost=b)
            elif b in st.isr and len(st.isr) > 1:
                st.isr.remove(b)
                self._isr_event(st, "isr_shrink", b, f"the controller removes fenced broker {b}")
                if st.leader >= 0:
                    self._advance_hw(st, self.log_of(st), st.leader)

    def _restart(self, b: int) -> None:
        if not self.fenced[b]:
            self._fence(b, self.down_incarnation(b), restarting=True)
        self.alive[b] = True
        self.fenced[b] = False
        kind = self.down_kind.pop(b, "process")
        self.pending -= 1
        self.sim.trace.emit("broker_restart", f"broker-{b}",
                            f"broker {b} is back (after a {kind} crash) and registers with the "
                            "controller", broker=b)
        for st in self.parts.values():
            if b not in st.reps:
                continue
            rep = st.reps[b]
            rep.last_caught_up = rep.last_fetch_t = self.env.now
            if st.leader < 0 and (b in st.isr or self.unclean):
                self._become_leader(st, b, unclean=b not in st.isr, previous=-1)
            elif st.leader >= 0:
                self.env.process(self._follower(st, rep))
        self.sim.notify_all()

    def _elect(self, st: PartitionReplicas, lost: int) -> None:
        """The controller moves leadership off a fenced broker (``PartitionChangeBuilder``):
        the first live ISR member in replica order; else, if allowed, any live replica
        (unclean); else the partition is offline and the ISR keeps its last member."""
        isr = [r for r in st.isr if r != lost]
        live = [r for r in st.replicas if r in isr and self.alive[r]]
        if live:
            st.isr = isr
            self._become_leader(st, live[0], unclean=False, previous=lost)
            return
        others = [r for r in st.replicas if r != lost and self.alive[r]]
        if self.unclean and others:
            st.isr = [others[0]]
            self._become_leader(st, others[0], unclean=True, previous=lost)
            return
        st.isr = isr or [lost]
        st.leader = -1
        st.gen += 1
        self.sim.trace.emit("partition_offline", "controller",
                            f"partition {st.partition} of {st.topic} is offline: no live "
                            f"replica of its ISR {st.isr}"
                            + (" and unclean.leader.election.enable=false" if others else ""),
                            topic=st.topic, partition=st.partition, isr=list(st.isr),
                            epoch=st.leader_epoch)

    def _become_leader(self, st: PartitionReplicas, b: int, unclean: bool,
                       previous: int) -> None:
        log = self.log_of(st)
        new = st.reps[b]
        old_batches = log.batches
        # where the partition's log (as it was served) and the new leader's log part
        i = 0
        n = min(len(old_batches), len(new.batches))
        while i < n and old_batches[i] is new.batches[i]:
            i += 1
        lost = old_batches[i:]
        old_end = _end(old_batches)
        start = old_batches[i].base_offset if lost else log.leo
        st.leader_epoch += 1
        st.leader = b
        st.gen += 1
        if unclean or b not in st.isr:
            st.isr = [b]
        st.epoch_start = new.leo
        log.batches = new.batches
        log.bases = [x.base_offset for x in new.batches]
        log.leo = new.leo
        log.hw = min(new.hw, new.leo)
        log.leader_epoch = st.leader_epoch  # type: ignore[attr-defined]
        log.offline = False  # type: ignore[attr-defined]
        new.hw = log.hw
        self.sim.broker.rebuild_producer_state(st.topic, st.partition)
        now = self.env.now
        for r in st.reps.values():
            r.last_caught_up = r.last_fetch_t = now
            r.last_fetch_leader_leo = 0
        if st.data is not None and not st.data.triggered:
            st.data.succeed()
        messages = [m for x in lost for m in x.messages]
        self.sim.trace.emit(
            "leader_elected", "controller",
            f"partition {st.partition} of {st.topic}: broker {b} becomes leader with epoch "
            f"{st.leader_epoch}" + (" in an UNCLEAN election (it was not in the ISR)"
                                    if unclean else f" (from the ISR {st.isr})")
            + f"; its log ends at offset {new.leo}"
            + (f", so offsets {start}–{old_end - 1} that the previous leader's log had are "
               "no longer in the partition" if lost else ""),
            topic=st.topic, partition=st.partition, leader=b, epoch=st.leader_epoch,
            previous=previous, isr=list(st.isr), unclean=unclean, leo=new.leo, hw=log.hw,
            lost_from=start if lost else None, lost_messages=messages)
        for other in st.replicas:
            if other != b and self.alive[other]:
                self.env.process(self._follower(st, st.reps[other]))
        self._advance_hw(st, log, b)
        self.sim.notify_all()

    # -- state ---------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, list[list[Any]]]:
        """{topic: [[leader, leader epoch, ISR, {replica: LEO}, {replica: own LEO},
        [live brokers]], ...]}: followers' LEO as the leader last learnt it, then each replica's
        own log end (-1 leader: offline)."""
        out: dict[str, list[list[Any]]] = {}
        live = [b for b in range(self.brokers) if self.alive[b]]
        for (topic, _p), st in self.parts.items():
            log = self.log_of(st)
            leos = {str(b): (log.leo if b == st.leader else st.reps[b].fetch_offset)
                    for b in st.replicas}
            own = {str(b): (log.leo if b == st.leader else st.reps[b].leo) for b in st.replicas}
            out.setdefault(topic, []).append([st.leader, st.leader_epoch, list(st.isr), leos,
                                              own, live])
        return out
