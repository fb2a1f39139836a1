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

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate, islice, repeat
from operator import add, itemgetter
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

from ..trace.events import ProcessedRecord, Record
from .faults import Fault
from .producer import ProducerClient
from .types import Steps

if TYPE_CHECKING:
    from .simulation import Simulation

# a record processed, not yet applied: (partition, offset, message id, time it is done)
_Done: TypeAlias = tuple[int, int, int, float]
# the same records by column: partitions, offsets, message ids, times done
_Columns: TypeAlias = tuple[Sequence[int], Sequence[int], Sequence[int], Sequence[float]]
# Record(p, off, msg) at the speed of a plain tuple (the named tuple's own __new__ is a Python
# function: a run makes two per record); with map() and zip() a batch's records are made
# without a Python step per record
_new = tuple.__new__
_partition, _offset = itemgetter(0), itemgetter(1)


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
    # the group (issue 17): its member id (None until JoinGroup gave one, and again once it
    # left), a JoinGroup/SyncGroup round under way, a rebalance heard of (rejoin at the next
    # poll), a round's result to apply at the next poll, partitions lost (kicked out)
    member_id: str | None = None
    joining: bool = False
    rejoin: bool = False
    pending: tuple[int, list[int]] | None = None
    lost: bool = False
    joins: int = 0


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
        self._aimed = frozenset(f["point"] for f in self.crashes)  # points a crash is aimed at
        # A message's processing faults belong to the message, not to a member: "fails once,
        # a retry works" holds when another member retries it after a rebalance (issue 17).
        # One table per role, shared by every member of it (and every incarnation).
        shared = sim.consumer_fault_state.get(role)
        if shared is None:
            shared = sim.consumer_fault_state[role] = (
                {f["message"]: f["times"] for f in faults if f["type"] == "processing_failure"},
                {f["message"]: [f["extra_ms"], f["times"]] for f in faults
                 if f["type"] == "slow_processing"},
                {f["message"]: [f["ms"], f.get("times", 1)] for f in faults
                 if f["type"] == "pause"})
        self.failures: dict[int, int] = shared[0]
        self.slow: dict[int, list[float]] = shared[1]
        self.pauses: dict[int, list[float]] = shared[2]
        self.crash_p = sum(f.get("consumer_crash", 0) for f in faults if f["type"] == "random")
        # member_leave / member_restart aimed at this member: (at_ms, kind), in time order
        self.exits: list[tuple[float, str]] = sorted(
            (f["at_ms"], f["type"]) for f in faults
            if f["type"] in ("member_leave", "member_restart") and f["member"] == index)
        base = c["group.instance.id"]
        self.instance_id = f"{base}-{index}" if base and role == "consumer" else None
        assignor = c["partition.assignment.strategy"].split(",")[0]
        self.cooperative = role == "consumer" and assignor == "cooperative-sticky"
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
            if outcome == "restart":  # member_restart: a clean close, back after the delay
                yield env.timeout(self.c["restart.delay.ms"])
                continue
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
            self._start_join(inc)  # JoinGroup + SyncGroup, answered at a later poll()
            if self.transform:
                inc.producer = ProducerClient(sim, f"{self.name}-producer", self._txn_id())
                yield from inc.producer.init()
            loop = f"{self.name}'s poll loop"
            while True:
                sim.tick(loop)  # the watchdog: a pass that takes no simulated time is counted
                exit_kind = self._due_exit()
                if exit_kind is not None:
                    restart = exit_kind == "member_restart"
                    yield from self._close(inc, "the application restarts (member_restart)"
                                           if restart else "the member leaves the group "
                                           "(member_leave)")
                    return "restart" if restart else "done"
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
        # No more heartbeats: the coordinator removes it session.timeout.ms after the last
        # one (and only then can a rebalance complete without it).
        self.sim.groups.stopped(self.group, inc.member_id)

    def _due_exit(self) -> str | None:
        if self.exits and self.exits[0][0] <= self.env.now:
            return self.exits.pop(0)[1]
        return None

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

    # -- group membership (fact sheet G: the classic protocol, issue 17) ------------------
    def _start_join(self, inc: Incarnation) -> None:
        """Send JoinGroup (and then SyncGroup) in the background, as the clients' coordinator
        does: the poll loop goes on with what it owns (cooperative) and applies the result
        at its next poll() (onJoinComplete runs inside poll)."""
        if inc.joining or not inc.alive:
            return
        inc.joining, inc.rejoin = True, False
        self.env.process(self._join_rounds(inc))

    def _join_rounds(self, inc: Incarnation) -> Steps[None]:
        sim, env, groups = self.sim, self.env, self.sim.groups
        one_way = sim.net.one_way
        c = self.c
        # The handshake costs one round trip in all, as kafkalab has always charged a join:
        # JoinGroup travels both ways; FindCoordinator, KIP-394's MEMBER_ID_REQUIRED retry and
        # SyncGroup are answered at once (the waits of the protocol are all modelled).
        retry = False
        while True:
            if not retry:
                yield env.timeout(one_way)
            retry = False
            if not self._current(inc):
                return
            answer: dict[str, Any] = {}
            arrived = env.event()

            def reply(result: dict[str, Any], box: dict[str, Any] = answer,
                      ev: Any = arrived) -> None:
                if not ev.triggered:
                    box.update(result)
                    ev.succeed()

            known_as = groups.join(self.group, inc.member_id, self.name, self.instance_id,
                                   list(inc.assignment), lambda error: self._heard(inc, error),
                                   reply, c["session.timeout.ms"], c["max.poll.interval.ms"],
                                   c["heartbeat.interval.ms"])
            if known_as is not None and "error" not in answer:
                inc.member_id = known_as  # a static member's new id, before the answer
            yield arrived
            error = answer.get("error")
            if error == "MEMBER_ID_REQUIRED":
                inc.member_id = answer["member_id"]
                retry = True
                continue
            yield env.timeout(one_way)
            if not self._current(inc):
                return
            if error:
                inc.member_id = None
                continue
            inc.member_id = answer["member_id"]
            generation = answer["generation"]
            if "assignment" in answer:  # a static member back in a Stable group: no SyncGroup
                inc.pending = (generation, list(answer["assignment"]))
                break
            answer = {}
            arrived = env.event()

            def synced(result: dict[str, Any], box: dict[str, Any] = answer,
                       ev: Any = arrived) -> None:
                if not ev.triggered:
                    box.update(result)
                    ev.succeed()

            groups.sync(self.group, inc.member_id, generation, synced)
            yield arrived
            if not self._current(inc):
                return
            error = answer.get("error")
            if error:
                if error == "UNKNOWN_MEMBER_ID":
                    inc.member_id = None
                continue
            inc.pending = (generation, list(answer["assignment"]))
            break
        inc.joining = False
        sim.notify_all()  # a member waiting in poll() applies it

    def _current(self, inc: Incarnation) -> bool:
        return inc.alive and inc is self.inc and not self.done.triggered

    def _heard(self, inc: Incarnation, error: str) -> None:
        """A heartbeat response: REBALANCE_IN_PROGRESS (rejoin at the next poll), or
        UNKNOWN_MEMBER_ID (the coordinator removed it: its partitions are lost, it rejoins
        as a new member)."""
        if not self._current(inc):
            return
        if error == "UNKNOWN_MEMBER_ID":
            if inc.joining:
                return  # its JoinGroup / SyncGroup is answered with the same error
            inc.member_id, inc.generation, inc.lost = None, -1, True
        elif inc.joining:
            return
        inc.rejoin = True
        self.sim.notify_all()

    def _needs_rebalance(self, inc: Incarnation) -> bool:
        return inc.pending is not None or (inc.rejoin and not inc.joining)

    def _rebalance(self, inc: Incarnation) -> Steps[None]:
        """Inside poll(): onJoinComplete for a finished round, onJoinPrepare for a new one."""
        if inc.pending is not None:
            yield from self._join_complete(inc)
        if inc.rejoin and not inc.joining:
            yield from self._join_prepare(inc)

    def _join_prepare(self, inc: Incarnation) -> Steps[None]:
        """ConsumerCoordinator.onJoinPrepare: auto-commit, then the listener; eager revokes
        everything, cooperative nothing; a member that was kicked out has lost them."""
        if inc.assignment and inc.lost:
            self._revoke(inc, list(inc.assignment), lost=True)
        elif inc.assignment:
            if self.auto_commit:
                # commit before giving the partitions up (awaited up to the rebalance timeout)
                offsets = inc.positions if self.java else self._stored(inc)
                if offsets:
                    yield from self._commit_sync(inc, dict(offsets), "before the rebalance",
                                                 manual=False)
            if not self.cooperative and inc.assignment:
                yield from self._listener_revoke(inc, list(inc.assignment))
        inc.lost = False
        self._start_join(inc)

    def _listener_revoke(self, inc: Incarnation, partitions: list[int]) -> Steps[None]:
        """onPartitionsRevoked / rebalance_cb(REVOKE_PARTITIONS), on the poll thread."""
        committed = None
        if self.c["commit.on.revoke"]:
            offsets = {p: inc.positions[p] for p in partitions if p in inc.positions}
            if self.stores_after_processing:
                stored = self._stored(inc)
                offsets = {p: stored[p] for p in partitions if p in stored}
            if offsets:
                ok = yield from self._commit_sync(inc, offsets, "in the rebalance listener "
                                                  "(commit.on.revoke)", manual=False)
                committed = _str_keys(offsets) if ok else None
        elif self.auto_commit and not self.java and self.cooperative:
            # librdkafka's incremental_unassign commits the removed partitions' stored
            # offsets when auto-commit is on (rdkafka_assignment.c)
            stored = self._stored(inc)
            offsets = {p: stored[p] for p in partitions if p in stored}
            if offsets:
                yield from self._commit_sync(inc, offsets, "on revoke (librdkafka "
                                             "auto-commit)", manual=False)
        self._revoke(inc, partitions, lost=False, committed=committed)

    def _revoke(self, inc: Incarnation, partitions: list[int], lost: bool,
                committed: dict[str, int] | None = None) -> None:
        gone = set(partitions)
        inc.assignment = [p for p in inc.assignment if p not in gone]
        inc.fetch_order = [p for p in inc.fetch_order if p not in gone]
        for p in gone:
            inc.positions.pop(p, None)
            inc.stored.pop(p, None)
            inc.fetched_to.pop(p, None)
        inc.pending_stores = [s for s in inc.pending_stores if s[1] not in gone]
        how = ("onPartitionsLost: it is no longer in the group, nothing is committed" if lost
               else "onPartitionsRevoked" + (" committed " + ", ".join(
                   f"partition {p} → {o}" for p, o in committed.items()) if committed else ""))
        self.sim.trace.emit("revoke", self.name,
                            f"{self.name} gives up partition(s) {sorted(gone)} ({how})",
                            partitions=sorted(gone), lost=lost, committed=committed,
                            protocol="cooperative" if self.cooperative else "eager",
                            generation=inc.generation)

    def _join_complete(self, inc: Incarnation) -> Steps[None]:
        """onJoinComplete: take the new assignment. Cooperative: revoke what was removed
        (the listener runs, no auto-commit: ConsumerCoordinator.onJoinComplete), then rejoin
        so the next rebalance can hand it to its new owner."""
        assert inc.pending is not None
        generation, assignment = inc.pending
        inc.pending = None
        inc.generation = generation
        removed = [p for p in inc.assignment if p not in assignment]
        if removed:
            yield from self._listener_revoke(inc, removed)
            inc.rejoin = True
        first = inc.joins == 0
        inc.joins += 1
        self._take(inc, [p for p in assignment if p not in inc.assignment], first)
        if first and self.auto_commit and not self.java and self.c["auto.commit.interval.ms"] > 0:
            # librdkafka starts the timer only for an interval > 0 (rdkafka_cgrp.c), once the
            # member has its assignment: 0 disables it; close() and a rebalance still commit
            # the stored offsets.
            self.env.process(self._background_commits(inc))

    def _take(self, inc: Incarnation, added: list[int], first: bool) -> None:
        sim, groups = self.sim, self.sim.groups
        resumed = {}
        resets = {}  # partitions that start where auto.offset.reset says: the policy
        for p in added:
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
            inc.stored.pop(p, None)
            resumed[str(p)] = [committed, how]
        inc.assignment = sorted(inc.assignment + added)
        inc.fetch_order = inc.fetch_order + added
        inc.next_auto_commit = self.env.now + self.c["auto.commit.interval.ms"]
        parts = ", ".join(f"partition {p} at offset {o} ({how})" for p, (o, how) in
                          resumed.items()) or "no new partitions"
        kept = [p for p in inc.assignment if p not in added]
        kind = "join" if first and inc.number == 1 else ("restart" if first else "rebalance")
        verb = {"join": "joins the group", "restart": "is back and rejoins",
                "rebalance": "rejoins after a rebalance"}[kind]
        sim.trace.emit(kind, self.name, f"{self.name} {verb} (generation {inc.generation}): "
                       f"{parts}" + (f"; keeps {kept}" if kept else ""),
                       generation=inc.generation, assignment=list(inc.assignment),
                       resumed=resumed, reset=resets, member_id=inc.member_id, kept=kept)
        self._arm_poll_timer(inc)

    def _arm_poll_timer(self, inc: Incarnation) -> None:
        self.sim.later(self.c["max.poll.interval.ms"], self._poll_timer, inc, inc.polls)

    def _poll_timer(self, inc: Incarnation, polls: int) -> None:
        if inc.alive and inc.polls == polls and not inc.in_poll and not self.done.triggered \
                and inc is self.inc and self.sim.groups.is_member(self.group, inc.member_id):
            groups = self.sim.groups
            if self.instance_id is None:
                # Java: AbstractCoordinator.handlePollTimeoutExpiry sends LeaveGroup;
                # librdkafka: ERR__MAX_POLL_EXCEEDED, leaves, clears its member id
                groups.leave(self.group, inc.member_id, f"{self.name} exceeded "
                             "max.poll.interval.ms")
                then = "it leaves the group and its partitions are reassigned"
            else:
                # a static member sends no LeaveGroup: its heartbeats stop and its
                # partitions move when session.timeout.ms expires
                groups.stopped(self.group, inc.member_id)
                then = ("as a static member it sends no LeaveGroup; its partitions move "
                        "after session.timeout.ms")
            old_id = inc.member_id
            inc.member_id, inc.generation = None, -1
            inc.lost = True
            inc.rejoin = True
            self.sim.notify_all()  # members waiting in poll() see the rebalance
            self.sim.trace.emit(
                "left_group", self.name,
                f"{self.name} did not call poll() within max.poll.interval.ms="
                f"{self.c['max.poll.interval.ms']}: {then}; its later commits fail",
                member=self.name, member_id=old_id, reason="max.poll.interval.ms",
                static=self.instance_id is not None)

    def _drained(self, inc: Incarnation) -> bool:
        if not self.sim.upstream_done(self.role):
            return False
        groups = self.sim.groups
        if inc.joining or inc.rejoin or inc.pending is not None \
                or not groups.is_member(self.group, inc.member_id) \
                or not groups.stable(self.group) \
                or groups.generation_of(self.group) != inc.generation:
            return False
        # Stay while a dead member still holds partitions: they come to us when its session
        # times out (a real consumer would simply keep running). A static member that closed
        # cleanly (no LeaveGroup) holds them too, but only its unread records matter.
        owners = groups.group(self.group).owners
        for app in self.sim.group_members(self.group):
            if app is self or (app.inc is not None and app.inc.alive):
                continue
            if not app.finished_cleanly or app.inc is None:
                return False
            for p, owner in owners.items():
                if owner == app.inc.member_id:
                    log = self.sim.broker.log(self.topic, p)
                    done = groups.committed_offset(self.group, self.topic, p) or 0
                    if done < (log.lso if self.read_committed else log.hw):
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
                    and not self._needs_rebalance(inc) and not self._drained(inc) \
                    and not (self.exits and self.exits[0][0] <= env.now):
                crash_at = self._next_crash_time()
                limit = None if crash_at is None else max(crash_at - env.now, 0)
                if self.exits:
                    until_exit = max(self.exits[0][0] - env.now, 0)
                    limit = until_exit if limit is None else min(limit, until_exit)
                # (the auto-commit is due only with something new to commit: an unchanged
                # commit is skipped anyway, so an idle member does not wake for it)
                if self.auto_commit and self.java and self._uncommitted(inc) \
                        and inc.next_auto_commit > env.now:
                    due = inc.next_auto_commit - env.now
                    limit = due if limit is None else min(limit, due)
                wake = [sim.data_signal(self.topic)]
                if limit is not None:
                    wake.append(env.timeout(limit))
                yield env.any_of(wake)
                if crash_at is not None and env.now >= crash_at:
                    self._fire_time_crash(crash_at)
                commit_due = self.auto_commit and self.java and self._uncommitted(inc) \
                    and env.now >= inc.next_auto_commit
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

    @staticmethod
    def _uncommitted(inc: Incarnation) -> bool:
        return any(inc.committed_by_me.get(p) != o for p, o in inc.positions.items())

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
            spans, position = log.read_spans(start, min(budget, max(end - start, 0)),
                                             self.read_committed)
            if position != start:
                moved = True
                inc.positions[p] = position
            taken = 0
            for first, msgs in spans:
                out.extend(map(_new, repeat(Record),
                               zip(repeat(p), range(first, first + len(msgs)), msgs)))
                taken += len(msgs)
            budget -= taken
            if position >= end:  # this fetch is used up: the next poll fetches afresh
                del fetched_to[p]
                if taken:
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
                self.group, self.topic, dict(inc.positions), inc.member_id or "",
                inc.generation)
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
        # a crash point no crash is aimed at is only counted (the sweep reads the counts)
        counts = self.point_counts
        if not watch:  # nothing can stop it: every record passes both points, one per ``per``
            n = len(records)
            counts["before_processing"] = counts.get("before_processing", 0) + n
            counts["after_processing"] = counts.get("after_processing", 0) + n
            if not n:
                yield from self._flush(inc, done, elapsed, start)
                return
            # elapsed after each record, summed in order as `elapsed += per` would
            ends = list(accumulate(repeat(per, n), initial=0.0))
            ps, offs, msgs = zip(*records, strict=True)
            ts = list(map(add, repeat(start), islice(ends, 1, None)))  # each one's done time
            yield from self._flush_columns(inc, (ps, offs, msgs, ts), ends[-1], start)
            return
        aim_before = "before_processing" in self._aimed
        aim_after = "after_processing" in self._aimed
        for record in records:
            p, off, msg = record
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
                if aim_before:
                    self._maybe_crash(inc, "before_processing", msg)
                else:
                    counts["before_processing"] = counts.get("before_processing", 0) + 1
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
                if aim_after:
                    self._maybe_crash(inc, "after_processing", msg)
                else:
                    counts["after_processing"] = counts.get("after_processing", 0) + 1
                if self.crash_p and sim.rng.random() < self.crash_p:
                    raise Crash(f"random crash after processing message {msg}", "random",
                                message=msg)
            except Crash:
                # processed, but the application dies before its store_offsets() call
                yield from self._flush(inc, done, elapsed, start, store_last=False)
                raise
        yield from self._flush(inc, done, elapsed, start)

    def _flush(self, inc: Incarnation, done: list[_Done], elapsed: float, start: float,
               store_last: bool = True) -> Steps[None]:
        """Let the processing time pass, then apply the processed records' side effects.
        (Not a generator itself: it hands back ``_flush_columns``'s, one frame fewer per call.)"""
        ps, offs, msgs, ts = zip(*done, strict=True) if done else ((), (), (), ())
        return self._flush_columns(inc, (ps, offs, msgs, ts), elapsed, start, store_last)

    def _flush_columns(self, inc: Incarnation, columns: _Columns, elapsed: float, start: float,
                       store_last: bool = True) -> Steps[None]:
        """``_flush`` of the processed records by column: partitions, offsets, message ids and
        the times they are done."""
        ps, offs, msgs, ts = columns
        n = len(ps)
        stored = {}
        if self.stores_after_processing:
            # librdkafka's at-least-once pattern: enable.auto.offset.store=false and
            # store_offsets() right after each record is processed; each store takes effect
            # at that record's own time, so the timer can commit it mid-batch.
            for p, off, t in islice(zip(ps, offs, ts, strict=True), n if store_last else n - 1):
                inc.pending_stores.append((t, p, off + 1))
                stored[str(p)] = off + 1
        if elapsed > 0:
            yield self.env.timeout(max(start + elapsed - self.env.now, 0))
        if self.stores_after_processing:
            self._stored(inc)
        if not n:
            return
        sim = self.sim
        if self.transform:
            assert inc.producer is not None and self.output_topic is not None
            by_partition: dict[int, list[int]] = {}
            for p, msg in zip(ps, msgs, strict=True):
                by_partition.setdefault(p, []).append(msg)
            for p, ids in by_partition.items():
                inc.producer.send(self.output_topic, p, ids)
            applied = [True] * n
            sim.counters["transformed"] += n
            verb = "transformed and sent to the output topic"
        else:
            applied = sim.sink.apply_many(msgs)
            verb = "processed into the sink"
        skipped = applied.count(False)
        groups = sim.groups
        if ps.count(ps[0]) == n:  # one partition (every flush of a per-record commit)
            zombie = [] if groups.owns(self.group, inc.member_id, ps[0]) else list(offs)
        else:  # partition -> this member owns it (asked once each, in order)
            owned = {p: groups.owns(self.group, inc.member_id, p) for p in dict.fromkeys(ps)}
            zombie = ([] if all(owned.values())
                      else [off for p, off in zip(ps, offs, strict=True) if not owned[p]])
        extra: dict[str, Any] = {"stored": stored} if self.stores_after_processing else {}
        if zombie:  # processed by a member the group no longer counts as the owner
            extra["zombie"] = zombie
        if n == 1:  # the iterators below cost more than they save for one record
            records = [_new(ProcessedRecord,
                            (ps[0], offs[0], msgs[0], round(ts[0], 6), applied[0]))]
        else:
            records = list(map(_new, repeat(ProcessedRecord),
                               zip(ps, offs, msgs, map(round, ts, repeat(6)), applied,
                                   strict=True)))
        sim.trace.emit(
            "process", self.name,
            f"{self.name} {verb}: offsets {_spans(ps, offs)}"
            + (f" ({skipped} already applied: the idempotent sink ignored them)" if skipped
               else ""),
            records=records, transform=self.transform, **extra)

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
        if point not in self._aimed:
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
        result: dict[str, Any] = {}
        self._send_commit(inc, offsets, why, "commitSync", result)
        if result.get("error") is None:  # not refused locally: one round trip
            yield from self._sleep(self.sim.net.commit_round_trip)
        ok = bool(result.get("ok", False))
        if manual and not ok and result.get("error") != "REBALANCE_IN_PROGRESS":
            # RebalanceInProgressException is not fatal: the application commits again after
            # the next poll() has completed the rebalance (KafkaConsumer.commitSync javadoc)
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
            self._send_commit(inc, offsets, why, "commitAsync", {})

    def _send_commit(self, inc: Incarnation, offsets: dict[int, int], why: str, api: str,
                     result: dict[str, Any]) -> None:
        sim = self.sim
        offsets = dict(offsets)
        for p, o in offsets.items():
            inc.committed_by_me[p] = o
        # what the OffsetCommit carries: the member id and generation of now
        member_id, generation = inc.member_id, inc.generation

        def text() -> str:  # the event's words, made when the event is
            return ", ".join(f"partition {p} → {o}" for p, o in sorted(offsets.items()))

        def failed(error: str, local: bool) -> None:
            result["ok"], result["error"] = False, error
            exception = ("RebalanceInProgressException" if error == "REBALANCE_IN_PROGRESS"
                         else "CommitFailedException") if self.java else \
                f"KafkaException({error})"
            why_failed = {
                "UNKNOWN_MEMBER_ID": "it is no longer a member of the group "
                                     "(UNKNOWN_MEMBER_ID)",
                "ILLEGAL_GENERATION": "its generation is old: a rebalance gave the partitions "
                                      "to the group's new generation (ILLEGAL_GENERATION)",
                "REBALANCE_IN_PROGRESS": "the group is rebalancing (REBALANCE_IN_PROGRESS)",
            }[error]
            sim.trace.emit("commit_failed", self.name,
                           f"{self.name}'s commit of {text()} failed: {exception}: {why_failed}"
                           + (" (refused by the client before sending)" if local else ""),
                           offsets=_str_keys(offsets), how=why, api=api, group=self.group,
                           topic=self.topic, error=error, exception=exception,
                           member_id=member_id, generation=generation)

        if self.java and inc.joining and member_id is not None:
            # Java: generationIfStable() is null while the member rejoins: the commit fails
            # at once (ConsumerCoordinator.sendOffsetCommitRequest)
            failed("REBALANCE_IN_PROGRESS", local=True)
            return

        def arrive() -> None:
            error = sim.groups.commit(self.group, member_id, self.topic, offsets, generation)
            if error is None:
                result["ok"] = True
                sim.trace.emit("commit", self.name, f"{self.name} committed {text()} ({api}, "
                               f"{why})", offsets=_str_keys(offsets), how=why, api=api,
                               group=self.group, topic=self.topic, generation=generation)
            else:
                failed(error, local=False)

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
        if self.c["commit.on.revoke"] and inc.assignment and not inc.lost:
            yield from self._listener_revoke(inc, list(inc.assignment))  # onLeavePrepare
        if inc.producer and inc.producer.alive:
            # close() of the transform's producer sends what it holds and waits for the
            # acknowledgements first (KafkaProducer.close, librdkafka flush before destroy).
            yield from inc.producer.flush()
            inc.producer.kill()
        inc.alive = False
        groups = self.sim.groups
        if self.instance_id is not None:
            groups.stopped(self.group, inc.member_id)  # a static member sends no LeaveGroup
        elif groups.leave(self.group, inc.member_id, f"{self.name} left the group (close())"):
            self.sim.notify_all()  # members waiting in poll() see the rebalance
        self.sim.trace.emit("close", self.name, f"{self.name} closes: {why}",
                            positions=_str_keys(inc.positions))


def _str_keys(d: dict[int, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in d.items()}


def _offsets(records: Sequence[tuple[Any, ...]]) -> str:
    """Each partition's first–last offset among ``records`` ((partition, offset, ...) rows),
    partitions in order of appearance: "4–9", or "p0:4–9, p1:3"."""
    return _spans(list(map(_partition, records)), list(map(_offset, records)))


def _spans(ps: Sequence[int], offs: Sequence[int]) -> str:
    """``_offsets`` of records given by column: their partitions and their offsets."""
    if not ps:
        return "none"
    if ps.count(ps[0]) == len(ps):  # one partition
        return f"{offs[0]}" if len(offs) == 1 else f"{offs[0]}–{offs[-1]}"
    many = Counter(ps)
    last = dict(zip(ps, offs, strict=True))  # keys in order of first appearance
    first = dict(zip(reversed(ps), reversed(offs), strict=True))
    return ", ".join(f"p{p}:{first[p]}" if many[p] == 1 else f"p{p}:{first[p]}–{last[p]}"
                     for p in last)


def _positions(positions: dict[int, int]) -> str:
    if len(positions) == 1:
        return str(next(iter(positions.values())))
    return ", ".join(f"p{p}={o}" for p, o in sorted(positions.items()))
