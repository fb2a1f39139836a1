"""The group coordinator: committed offsets and the classic rebalance protocol (issue 17).

Fact sheet section G. A group goes ``Empty`` → ``PreparingRebalance`` (JoinGroup: every
member must rejoin, or be removed when its session or the rebalance timeout expires) →
``CompletingRebalance`` (the join phase is over: a new generation, a leader; the leader's
SyncGroup carries the assignment its assignor computed) → ``Stable``
(``ClassicGroup.initNextGeneration``, ``AbstractCoordinator``). Members learn that a
rebalance began from their next heartbeat (every ``heartbeat.interval.ms``); a crashed member
is removed ``session.timeout.ms`` after its last heartbeat. OffsetCommit is checked against
the member id and the generation (``ClassicGroup.validateOffsetCommit``): UNKNOWN_MEMBER_ID,
ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS. Fetch carries no generation, so a member that was
removed can still process what it holds (a zombie); only its commit is refused.

The coordinator is pure bookkeeping plus timers: it reaches the simulation through
``clock``, ``later`` and ``emit`` (never the consumer's code), and answers JoinGroup and
SyncGroup through callbacks the member passes in.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# partition.assignment.strategy: the assignors kafkalab models, and their protocol
# (ConsumerPartitionAssignor.RebalanceProtocol): only cooperative-sticky is COOPERATIVE.
ASSIGNORS = ("range", "roundrobin", "sticky", "cooperative-sticky")
COOPERATIVE = ("cooperative-sticky",)

# JoinGroup / SyncGroup / OffsetCommit error codes (the protocol's names)
MEMBER_ID_REQUIRED = "MEMBER_ID_REQUIRED"
UNKNOWN_MEMBER_ID = "UNKNOWN_MEMBER_ID"
ILLEGAL_GENERATION = "ILLEGAL_GENERATION"
REBALANCE_IN_PROGRESS = "REBALANCE_IN_PROGRESS"
FENCED_INSTANCE_ID = "FENCED_INSTANCE_ID"

Reply = Callable[[dict[str, Any]], None]


def chosen_assignor(strategy: str) -> str:
    """The assignor a group of identical members uses: the first of the list (the
    coordinator picks the most preferred protocol every member supports)."""
    return strategy.split(",")[0].strip()


def protocol_of(assignor: str) -> str:
    return "cooperative" if assignor in COOPERATIVE else "eager"


def assign(assignor: str, members: list[str], partitions: int,
           owned: dict[str, list[int]]) -> tuple[dict[str, list[int]], dict[int, str]]:
    """The leader's assignor: ({member id: partitions}, {partition held back: its owner}).

    ``range`` (RangeAssignor): members sorted by id, consecutive ranges, the first members
    get one more. ``roundrobin``: partition p to the (p mod n)-th member. ``sticky`` /
    ``cooperative-sticky`` (AbstractStickyAssignor): balanced, each member keeps what it owned
    up to its quota, the rest go to the members with the fewest. ``cooperative-sticky`` then
    removes every partition that changes owner (CooperativeStickyAssignor.adjustAssignment):
    its owner revokes it and the next rebalance assigns it."""
    ms = sorted(members)
    result: dict[str, list[int]] = {m: [] for m in ms}
    held: dict[int, str] = {}
    n = len(ms)
    if not n:
        return result, held
    if assignor == "range":
        per, extra = divmod(partitions, n)
        for i, m in enumerate(ms):
            start = i * per + min(i, extra)
            result[m] = list(range(start, start + per + (1 if i < extra else 0)))
        return result, held
    if assignor == "roundrobin":
        for p in range(partitions):
            result[ms[p % n]].append(p)
        return result, held
    base, extra = divmod(partitions, n)
    order = sorted(ms, key=lambda m: (-len(owned.get(m, ())), m))
    quota = {m: base + (1 if i < extra else 0) for i, m in enumerate(order)}
    taken: set[int] = set()
    for m in order:
        for p in sorted(owned.get(m, ())):
            if p < partitions and p not in taken and len(result[m]) < quota[m]:
                result[m].append(p)
                taken.add(p)
    for p in range(partitions):
        if p in taken:
            continue
        m = min((m for m in ms if len(result[m]) < quota[m]), key=lambda m: (len(result[m]), m))
        result[m].append(p)
        taken.add(p)
    for m in ms:
        result[m].sort()
    if assignor in COOPERATIVE:
        previous = {p: m for m in order for p in owned.get(m, ()) if m in result}
        for m in ms:
            for p in list(result[m]):
                was = previous.get(p)
                if was is not None and was != m:
                    result[m].remove(p)
                    held[p] = was
    return result, held


@dataclass
class Member:
    id: str
    name: str  # the application, "consumer-0"
    instance: str | None  # group.instance.id (static membership)
    notify: Callable[[str], None]  # what the member's next heartbeat response tells it
    session_ms: float
    rebalance_ms: float
    heartbeat_ms: float
    since: float  # when its heartbeats started (their phase)
    owned: list[int] = field(default_factory=list)
    joined: bool = False  # sent JoinGroup in the current round
    join_reply: Reply | None = None
    sync_reply: Reply | None = None
    assignment: list[int] = field(default_factory=list)
    alive: bool = True  # False once it stopped heartbeating (crash, static close)


@dataclass
class Group:
    name: str
    topic: str
    partitions: int
    assignor: str = "range"
    state: str = "Empty"
    generation: int = 0
    members: dict[str, Member] = field(default_factory=dict)  # id -> member, join order
    leader: str | None = None
    round: int = 0  # how many rebalances began (tells a timer which one it belongs to)
    not_before: float = 0.0  # group.initial.rebalance.delay.ms: the first join waits
    initial: bool = False  # this rebalance began in an Empty group
    started: float = 0.0
    owners: dict[int, str] = field(default_factory=dict)  # partition -> member id now
    next_id: int = 0
    pending_ids: set[str] = field(default_factory=set)  # given by MEMBER_ID_REQUIRED


class GroupCoordinator:
    """Committed offsets per (group, partition), and each group's classic rebalance."""

    def __init__(self, clock: Callable[[], float] = lambda: 0.0,
                 later: Callable[..., None] | None = None,
                 emit: Callable[..., object] | None = None, rtt: float = 0.0,
                 initial_delay_ms: float = 0.0, seed: int = 0) -> None:
        self.committed: dict[tuple[str, str, int], int] = {}
        self.groups: dict[str, Group] = {}
        self.clock = clock
        self.later = later or (lambda delay, fn, *a, **k: fn(*a, **k))
        self.emit: Callable[..., object] = emit or (lambda *a, **k: None)
        self.rtt = rtt
        self.initial_delay_ms = initial_delay_ms
        self.seed = seed

    def _phase(self, member_id: str, heartbeat_ms: float) -> float:
        """When a new member's heartbeats start: its heartbeat thread runs on its own clock,
        so members that joined together still hear of a rebalance at different times. Drawn
        from the run's seed and the member id (deterministic, and no other draw moves)."""
        return self.clock() + random.Random(f"{self.seed}:{member_id}").uniform(0, heartbeat_ms)

    # -- what others read ----------------------------------------------------------------
    def register_group(self, group: str, topic: str, partitions: int,
                       assignor: str = "range") -> None:
        self.groups.setdefault(group, Group(group, topic, partitions, assignor))

    def group(self, group: str) -> Group:
        return self.groups[group]

    def member_names(self, group: str) -> list[str]:
        return [m.name for m in self.groups[group].members.values()]

    def is_member(self, group: str, member_id: str | None) -> bool:
        return member_id is not None and member_id in self.groups[group].members

    def generation_of(self, group: str) -> int:
        return self.groups[group].generation

    def stable(self, group: str) -> bool:
        return self.groups[group].state == "Stable"

    def owns(self, group: str, member_id: str | None, partition: int) -> bool:
        g = self.groups[group]
        return member_id is not None and member_id in g.members \
            and g.owners.get(partition) == member_id

    def committed_offset(self, group: str, topic: str, partition: int) -> int | None:
        return self.committed.get((group, topic, partition))

    # -- OffsetCommit ---------------------------------------------------------------------
    def validate(self, group: str, member_id: str | None, generation: int) -> str | None:
        """ClassicGroup.validateOffsetCommit: None when the commit may be stored."""
        g = self.groups[group]
        if member_id is None or member_id not in g.members:
            return UNKNOWN_MEMBER_ID
        if generation != g.generation:
            return ILLEGAL_GENERATION
        if g.state == "CompletingRebalance":
            return REBALANCE_IN_PROGRESS
        return None

    def commit(self, group: str, member_id: str | None, topic: str, offsets: dict[int, int],
               generation: int | None = None) -> str | None:
        """Store offsets, or the error that refused them. ``generation=None`` with
        ``member_id=None`` is a transactional offset commit, already fenced by the transaction
        coordinator (KIP-447 checked it when the offsets were added)."""
        if member_id is not None or generation is not None:
            error = self.validate(group, member_id, -1 if generation is None else generation)
            if error:
                return error
        for partition, offset in offsets.items():
            self.committed[(group, topic, partition)] = offset
        return None

    # -- JoinGroup / SyncGroup / LeaveGroup ------------------------------------------------
    def join(self, group: str, member_id: str | None, name: str, instance: str | None,
             owned: list[int], notify: Callable[[str], None], reply: Reply,
             session_ms: float, rebalance_ms: float, heartbeat_ms: float) -> str | None:
        """A JoinGroup arrives. ``reply`` gets {"error"} or the join result, now or when the
        join phase completes. Returns the member id the coordinator now knows the member by
        (None if it refused it), so that a member that dies while its JoinGroup waits is
        still removed when its session expires."""
        g = self.groups[group]
        now = self.clock()
        if member_id is not None and member_id not in g.members:
            if member_id not in g.pending_ids:
                reply({"error": UNKNOWN_MEMBER_ID})
                return None
            g.pending_ids.discard(member_id)  # KIP-394: it joins with the id it was given
        if member_id is None and instance is not None:
            old = next((m for m in g.members.values() if m.instance == instance), None)
            if old is not None:  # a static member is back: a new id takes the old one's place
                new_id = self._new_id(g, name)
                self._fail(old, FENCED_INSTANCE_ID)
                del g.members[old.id]
                m = Member(new_id, name, instance, notify, session_ms, rebalance_ms,
                           heartbeat_ms, self._phase(new_id, heartbeat_ms),
                           owned=list(old.assignment),
                           assignment=list(old.assignment))
                g.members[new_id] = m
                for p, owner in list(g.owners.items()):
                    if owner == old.id:
                        g.owners[p] = new_id
                if g.leader == old.id:
                    g.leader = new_id
                if g.state == "Stable":
                    # KIP-345: the same assignment, no rebalance (GroupMetadataManager)
                    self.emit("static_rejoin", "coordinator",
                              f"{name} is back with group.instance.id={instance!r} within "
                              f"session.timeout.ms: new member id {new_id}, the same "
                              f"partitions {m.assignment}, no rebalance", group=group,
                              member=name, member_id=new_id, old_member_id=old.id,
                              instance=instance, generation=g.generation,
                              assignment=list(m.assignment))
                    reply({"error": None, "member_id": new_id, "generation": g.generation,
                           "leader": g.leader, "assignment": list(m.assignment),
                           "static": True})
                    return new_id
                m.joined, m.join_reply = True, reply
                self._begin(g, f"static member {name} rejoined during a rebalance")
                self._try_complete(g)
                return new_id
        if member_id is None:
            new_id = self._new_id(g, name)
            if instance is None:
                # KIP-394: a new dynamic member first gets its id, then joins with it
                g.pending_ids.add(new_id)
                reply({"error": MEMBER_ID_REQUIRED, "member_id": new_id})
                return new_id
            member_id = new_id
        found = g.members.get(member_id)
        if found is None:
            m = Member(member_id, name, instance, notify, session_ms, rebalance_ms,
                       heartbeat_ms, self._phase(member_id, heartbeat_ms))
            g.members[member_id] = m
            reason = f"{name} joins the group"
        else:
            m = found
            reason = f"{name} rejoins"
        m.owned, m.joined, m.join_reply, m.alive = list(owned), True, reply, True
        if g.state != "PreparingRebalance":
            self._begin(g, reason)
        elif g.initial and g.not_before > now:
            # group.initial.rebalance.delay.ms: each new member extends the first join by the
            # delay, up to the rebalance timeout (InitialDelayedJoin)
            g.not_before = min(now + self.initial_delay_ms, g.started + m.rebalance_ms)
            self.later(g.not_before - now, self._try_complete, g)
        self._try_complete(g)
        return member_id

    def sync(self, group: str, member_id: str, generation: int, reply: Reply) -> None:
        g = self.groups[group]
        m = g.members.get(member_id)
        if m is None:
            reply({"error": UNKNOWN_MEMBER_ID})
            return
        if generation != g.generation:
            reply({"error": ILLEGAL_GENERATION})
            return
        if g.state == "PreparingRebalance":
            reply({"error": REBALANCE_IN_PROGRESS})
            return
        if g.state == "Stable":
            reply({"error": None, "assignment": list(m.assignment), "generation": g.generation})
            return
        m.sync_reply = reply
        if member_id == g.leader:
            self._assign(g)

    def leave(self, group: str, member_id: str | None, reason: str) -> bool:
        """LeaveGroup (close() or max.poll.interval.ms of a dynamic member)."""
        g = self.groups[group]
        if member_id is None or member_id not in g.members:
            return False
        self._remove(g, g.members[member_id], reason)
        return True

    def stopped(self, group: str, member_id: str | None) -> None:
        """The member sends no more heartbeats (it crashed, or a static member closed or
        stalled): the coordinator removes it ``session.timeout.ms`` after the last one."""
        g = self.groups[group]
        m = g.members.get(member_id) if member_id else None
        if m is None or not m.alive:
            return
        m.alive = False
        now = self.clock()
        last = m.since + int((now - m.since) // m.heartbeat_ms) * m.heartbeat_ms \
            if m.heartbeat_ms > 0 and now >= m.since else now
        self.later(max(last + m.session_ms - now, 0), self._expire, group, m)

    # -- the protocol's steps ---------------------------------------------------------------
    def _new_id(self, g: Group, name: str) -> str:
        g.next_id += 1
        return f"{name}#{g.next_id}"

    def _expire(self, group: str, m: Member) -> None:
        g = self.groups[group]
        if g.members.get(m.id) is not m or m.alive:
            return
        self.emit("left_group", "coordinator",
                  f"no heartbeat from {m.name} for session.timeout.ms: the coordinator "
                  "removes it and rebalances", member=m.name, member_id=m.id,
                  reason="session.timeout.ms", group=group)
        self._remove(g, m, f"the session of {m.name} expired")

    def _remove(self, g: Group, m: Member, reason: str) -> None:
        self._fail(m, UNKNOWN_MEMBER_ID)
        del g.members[m.id]
        for p, owner in list(g.owners.items()):
            if owner == m.id:
                del g.owners[p]
        if g.leader == m.id:
            g.leader = None
        if g.state == "PreparingRebalance":
            self._try_complete(g)
        elif g.members:
            self._begin(g, reason)
        else:
            g.generation += 1
            g.state = "Empty"

    @staticmethod
    def _fail(m: Member, error: str) -> None:
        for attr in ("join_reply", "sync_reply"):
            reply = getattr(m, attr)
            if reply is not None:
                setattr(m, attr, None)
                reply({"error": error})

    def _begin(self, g: Group, reason: str) -> None:
        """PreparingRebalance: every member must send JoinGroup again."""
        now = self.clock()
        was = g.state
        for m in g.members.values():
            if m.sync_reply is not None:  # a rebalance during SyncGroup: start over
                reply, m.sync_reply = m.sync_reply, None
                reply({"error": REBALANCE_IN_PROGRESS})
        g.state = "PreparingRebalance"
        g.round += 1
        g.started = now
        g.initial = was == "Empty"
        g.not_before = now + self.initial_delay_ms if g.initial else now
        self.emit("rebalance_begin", "coordinator",
                  f"group {g.name} rebalances ({reason}): every member must rejoin",
                  group=g.name, reason=reason, generation=g.generation,
                  waiting_for=[m.name for m in g.members.values() if not m.joined])
        for m in g.members.values():
            if not m.joined and m.alive:
                self._tell_at_heartbeat(g, m, g.round)
        timeout = max((m.rebalance_ms for m in g.members.values()), default=0.0)
        self.later(timeout, self._join_deadline, g, g.round)
        if g.not_before > now:
            self.later(g.not_before - now, self._try_complete, g)

    def _tell_at_heartbeat(self, g: Group, m: Member, rnd: int) -> None:
        now = self.clock()
        hb = m.heartbeat_ms
        next_hb = now if hb <= 0 else (m.since if now < m.since else
                                       m.since + (int((now - m.since) // hb) + 1) * hb)

        def heartbeat_response() -> None:
            if g.round == rnd and g.state == "PreparingRebalance" and \
                    g.members.get(m.id) is m and not m.joined and m.alive:
                m.notify(REBALANCE_IN_PROGRESS)

        self.later(next_hb - now + self.rtt, heartbeat_response)

    def _tell_removed(self, m: Member) -> None:
        now = self.clock()
        hb = m.heartbeat_ms
        next_hb = now if hb <= 0 else (m.since if now < m.since else
                                       m.since + (int((now - m.since) // hb) + 1) * hb)
        self.later(next_hb - now + self.rtt, m.notify, UNKNOWN_MEMBER_ID)

    def _join_deadline(self, g: Group, rnd: int) -> None:
        """The rebalance timeout (the largest max.poll.interval.ms): members that have not
        rejoined are removed."""
        if g.round != rnd or g.state != "PreparingRebalance":
            return
        for m in [m for m in g.members.values() if not m.joined]:
            self.emit("left_group", "coordinator",
                      f"{m.name} did not rejoin within the rebalance timeout "
                      "(max.poll.interval.ms): removed", member=m.name, member_id=m.id,
                      reason="rebalance timeout", group=g.name)
            self._fail(m, UNKNOWN_MEMBER_ID)
            del g.members[m.id]
            if g.leader == m.id:
                g.leader = None
            if m.alive:  # its next heartbeat answers UNKNOWN_MEMBER_ID: it rejoins as new
                self._tell_removed(m)
        self._complete_join(g)

    def _try_complete(self, g: Group) -> None:
        if g.state != "PreparingRebalance" or self.clock() < g.not_before - 1e-9:
            return
        if all(m.joined for m in g.members.values()):
            self._complete_join(g)

    def _complete_join(self, g: Group) -> None:
        g.generation += 1
        if not g.members:
            g.state = "Empty"
            g.owners = {}
            return
        g.state = "CompletingRebalance"
        if g.leader is None or g.leader not in g.members:
            g.leader = next(iter(g.members))
        leader = g.members[g.leader]
        self.emit("generation", "coordinator",
                  f"group {g.name}: generation {g.generation}, members "
                  f"{', '.join(m.name for m in g.members.values())}; {leader.name} is the "
                  f"leader and runs the {g.assignor} assignor", group=g.name,
                  generation=g.generation, leader=leader.name,
                  members=[m.name for m in g.members.values()],
                  member_ids=list(g.members))
        for m in g.members.values():
            m.joined = False
            reply, m.join_reply = m.join_reply, None
            if reply is not None:
                reply({"error": None, "member_id": m.id, "generation": g.generation,
                       "leader": g.leader})

    def _assign(self, g: Group) -> None:
        members = list(g.members)
        owned = {mid: m.owned for mid, m in g.members.items()}
        result, held = assign(g.assignor, members, g.partitions, owned)
        g.owners = {p: mid for mid, ps in result.items() for p in ps}
        g.owners.update({p: owner for p, owner in held.items() if owner in g.members})
        names = {mid: m.name for mid, m in g.members.items()}
        leader = g.members[g.leader].name if g.leader in g.members else "?"
        self.emit("assignment", "coordinator",
                  f"generation {g.generation}: {leader} (the leader) assigned "
                  + "; ".join(f"{names[mid]} → {ps or 'nothing'}" for mid, ps in result.items())
                  + (f"; held back until their owner revokes them: {sorted(held)}"
                     if held else ""),
                  group=g.name, generation=g.generation, assignor=g.assignor,
                  protocol=protocol_of(g.assignor),
                  assignment={names[mid]: ps for mid, ps in result.items()},
                  held={str(p): names.get(owner, owner) for p, owner in held.items()})
        g.state = "Stable"
        for mid, m in g.members.items():
            m.assignment = list(result[mid])
            reply, m.sync_reply = m.sync_reply, None
            if reply is not None:
                reply({"error": None, "assignment": list(m.assignment),
                       "generation": g.generation})
