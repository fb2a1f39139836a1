"""The ground-truth ledger: what happened to every application message, computed from the
trace alone (never from the model's live state), and the outcome counts."""

from __future__ import annotations

import math
import statistics
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import sub
from typing import Any, NamedTuple, TypeAlias, overload

from .anomalies import Anomaly
from .events import Trace
from .gcpause import gc_paused


@dataclass(slots=True)
class Copy:
    topic: str
    partition: int
    offset: int
    t: float
    pid: int
    producer: str
    attempt: int
    status: str = "none"  # none (not transactional), open, committed, aborted


class MessageCounts(NamedTuple):
    """Per message, indexed by id: what a figure of every message needs (``Ledger.counts()``)."""

    sends: Sequence[int]  # times the application handed it to a producer
    processed: Sequence[int]  # times the sink applied it
    visible: Sequence[int]  # its copies in the observed topic's log that are not aborted


@dataclass(slots=True)
class MessageLedger:
    id: int
    sends: int = 0  # times the application handed it to a producer
    attempts: int = 0  # produce requests that carried it
    first_send: float | None = None
    acked: bool = False
    gave_up: bool = False
    # Sequences, read like lists. Stored as tuples (one shared empty tuple, a 1-tuple for the
    # usual single entry): a 1,000,000-message run keeps one ledger per message.
    copies: tuple[Copy, ...] = ()  # in the observed topic
    input_copies: tuple[Copy, ...] = ()  # pipeline: in the input topic
    deliveries: tuple[tuple[str, int, int, float], ...] = ()
    processed: tuple[float, ...] = ()  # sink applications
    ignored: int = 0  # repeats an idempotent sink ignored
    transformed: int = 0  # pipeline: times the transform produced it
    # replication: copies a leader change took out of the partition's log (the new leader's
    # log did not have them; ``leader_elected`` events' ``lost_from``)
    truncated: tuple[Copy, ...] = ()
    confirmed: bool = False  # acknowledged with an offset (acks=0 "acks" know none)

    @property
    def visible_copies(self) -> Sequence[Copy]:
        copies = self.copies
        if len(copies) == 1 and copies[0].status != "aborted":
            return copies
        return [c for c in copies if c.status != "aborted"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "sends": self.sends, "attempts": self.attempts,
            "acked": self.acked, "gave_up": self.gave_up,
            "copies": [[c.topic, c.partition, c.offset, c.status] for c in self.copies],
            "delivered": len(self.deliveries), "processed": len(self.processed),
            "ignored_by_sink": self.ignored, "transformed": self.transformed,
        }


# A run's outcome (``Ledger.outcome()``; the keys are in docs/trace-format.md).
Outcome: TypeAlias = dict[str, Any]

# The outcome categories: each message of the workload is in exactly one (``categories()``).
CATEGORIES = ("exactly_once", "duplicates", "lost", "unseen", "never_sent")


def verdict(outcome: Outcome, messages: int) -> str:
    """The first line to show for a run: an undrained run says so before anything else."""
    if outcome.get("stopped"):
        return str(outcome["stopped"])
    if messages == 0:
        return "nothing to deliver: the workload has 0 messages"
    if not outcome["drained"]:
        return (f"NOT DRAINED: the run ended at t={outcome['simulated_ms']:g} ms before every "
                f"message was through: {outcome['never_sent']} of {messages} never sent, "
                f"{outcome['unseen']} sent but not processed yet (unseen); every count below "
                "is partial")
    problems = [f"{outcome[k]} {label}" for k, label in
                (("lost", "lost"), ("duplicates", "processed more than once"),
                 ("log_duplicates", "with 2+ copies in the log")) if outcome.get(k)]
    if problems:
        return "; ".join(problems)
    return f"every message processed exactly once ({messages} of {messages})"


class Ledger:
    """Per-message ground truth plus the run's classification.

    Stored by column (one compact array per field, indexed by message id; the rare second and
    later copies, deliveries and processings in small dicts), so a 1,000,000-message run keeps
    about 90 bytes per message instead of a few hundred objects' worth; ``messages[id]`` builds
    the ``MessageLedger`` view of one message on demand. Batches whose message ids form an
    arithmetic run (a partition's batch: ids p, p+P, p+2P, ...) are recorded with one slice
    assignment each, not one Python step per record.
    """

    def __init__(self, trace: Trace, messages: int, observed_topic: str, sink_prefix: str,
                 drained: bool):
        self.trace = trace
        self.observed_topic = observed_topic
        self.sink_prefix = sink_prefix
        self.drained = drained
        self._n = n = messages
        zeros = bytes(4 * n)
        self._sends = array("i", zeros)
        self._attempts = array("i", zeros)
        self._first_send = array("d", [_NAN]) * n
        self._acked = bytearray(n)
        self._gave_up = bytearray(n)
        self._confirmed = bytearray(n)
        self._ignored = array("i", zeros)
        self._transformed = array("i", zeros)
        # copies: slot numbers into the append table (append j holds slots starts[j]...)
        self._copy1 = array("q", [-1]) * n  # the first copy in the observed topic
        self._copies_more: dict[int, list[int]] = {}  # the 2nd and later copies
        self._input_copies: dict[int, list[int]] = {}  # pipeline: copies in the input topic
        self._ncopies = array("i", zeros)
        self._nvisible = array("i", zeros)  # copies not aborted
        self._with_aborted: set[int] = set()  # messages with an aborted copy
        # replication: copies a leader change took out of the log (slots), per message, and
        # every slot taken out; such messages read their copies the slow way (``_irregular``)
        self._truncated: dict[int, list[int]] = {}
        self._removed: set[int] = set()
        self._irregular: set[int] = set()
        self._appends: list[tuple[str, int, int, float, int, str, int]] = []
        self._append_status: list[str] = []
        self._append_starts: list[int] = []
        self._slots = 0
        # deliveries (to the sink's actors): the first in columns, later ones in a dict
        self._ndeliveries = array("i", zeros)
        self._d_actor = array("i", zeros)
        self._d_partition = array("i", zeros)
        self._d_offset = array("q", bytes(8 * n))
        self._d_t = array("d", bytes(8 * n))
        self._deliveries_more: dict[int, list[tuple[str, int, int, float]]] = {}
        self._actors: list[str] = []
        self._max_read: dict[int, int] = {}  # partition -> highest offset the sink read
        self._poll_last: dict[tuple[str, int], int] = {}  # (sink actor, partition) -> offset
        # nonmonotonic-poll anomalies and the gaps that may be poll-skips, in trace order
        self._poll_anomalies: list[Anomaly | tuple[str, int, int, int, float]] = []
        # sink applications
        self._nprocessed = array("i", zeros)
        self._processed1 = array("d", bytes(8 * n))
        self._processed_more: dict[int, list[float]] = {}
        self._cache: list[MessageLedger] | None = None
        with gc_paused():
            self._build()

    # -- building ------------------------------------------------------------------------
    def _build(self) -> None:
        observed = self.observed_topic
        # (topic, p, pid) -> the open transactional appends: (append index, messages)
        open_appends: dict[tuple[str, int, int], list[tuple[int, Sequence[int]]]] = {}
        sink = self.sink_prefix
        self.committed: dict[tuple[str, int], int] = {}
        self.end_time = 0.0
        # records the sink's consumers processed while the group no longer counted them as
        # the partition's owner (the zombie window, issue 17)
        self.zombie_records = 0
        self.rebalances = 0  # join phases completed (the coordinator's generation events)
        self.stopped: str | None = None  # the watchdog's sentence, when it stopped the run
        actor_ids: dict[str, int] = {}
        sends, first_send, attempts = self._sends, self._first_send, self._attempts
        acked, gave_up = self._acked, self._gave_up
        for e in self.trace.events:
            d = e.data
            kind = e.kind
            if kind == "stopped":
                self.stopped = e.text
            elif kind == "send":
                ids = d["messages"]
                run = _run(ids)
                if run is not None and _all_zero(sends, run):
                    k = len(ids)
                    sends[run] = _ONES_I[:k] if k <= _CHUNK else array("i", [1]) * k
                    first_send[run] = array("d", [e.t]) * k
                else:
                    t = e.t
                    for m in ids:
                        sends[m] += 1
                        if first_send[m] != first_send[m]:  # NaN: not sent before
                            first_send[m] = t
            elif kind == "produce" and d["topic"] == "input":
                ids = d["messages"]
                run = _run(ids)
                if run is not None and _all_zero(attempts, run):
                    k = len(ids)
                    attempts[run] = _ONES_I[:k] if k <= _CHUNK else array("i", [1]) * k
                else:
                    for m in ids:
                        attempts[m] += 1
            elif kind == "ack" and d["topic"] == "input":
                _set_flags(acked, d["messages"])
                if d["offset"] >= 0:  # acknowledged with an offset (acks=0 knows none)
                    _set_flags(self._confirmed, d["messages"])
            elif kind == "gave_up" and d["topic"] == "input":
                _set_flags(gave_up, d["messages"])
            elif kind == "append":
                self._append(e.t, d, observed, open_appends)
            elif kind == "leader_elected" and d.get("lost_from") is not None:
                self._truncate(d["topic"], d["partition"], d["lost_from"], d["lost_messages"])
            elif kind == "marker":
                aborted = d["control"] != "commit"
                status = "aborted" if aborted else "committed"
                for j, ids in open_appends.pop((d["topic"], d["partition"], d["pid"]), []):
                    self._append_status[j] = status
                    if aborted and self._appends[j][0] == observed:
                        nvisible = self._nvisible
                        removed = self._removed
                        start = self._append_starts[j]
                        for k, m in enumerate(ids):
                            if not removed or start + k not in removed:
                                nvisible[m] -= 1
                        self._with_aborted.update(ids)
                        self._irregular.update(ids)
            elif kind == "poll" and e.actor.startswith(sink):
                actor = actor_ids.get(e.actor)
                if actor is None:
                    actor = actor_ids[e.actor] = len(self._actors)
                    self._actors.append(e.actor)
                self._poll(e.actor, actor, e.t, d["records"])
            elif kind == "generation":
                self.rebalances += 1
            elif kind == "process":
                if "zombie" in d and e.actor.startswith(sink):
                    self.zombie_records += len(d["zombie"])
                self._process(d)
            elif kind == "commit" and e.actor.startswith(sink):
                for p, off in d["offsets"].items():
                    self.committed[(e.actor, int(p))] = off

    def _append(self, t: float, d: dict[str, Any], observed: str,
                open_appends: dict[tuple[str, int, int], list[tuple[int, Sequence[int]]]]
                ) -> None:
        topic, p, base = d["topic"], d["partition"], d["offset"]
        ids = d["messages"]
        transactional = d["transactional"]
        j = len(self._appends)
        self._appends.append((topic, p, base, t, d["pid"], d["producer"], d["attempt"]))
        self._append_status.append("open" if transactional else "none")
        start = self._slots
        self._append_starts.append(start)
        self._slots += len(ids)
        if transactional:
            open_appends.setdefault((topic, p, d["pid"]), []).append((j, ids))
        if topic != observed:
            inputs = self._input_copies
            for k, m in enumerate(ids):
                inputs.setdefault(m, []).append(start + k)
            return
        ncopies, nvisible, copy1 = self._ncopies, self._nvisible, self._copy1
        run = _run(ids)
        if run is not None and _all_zero(ncopies, run) and _all_zero(nvisible, run):
            k = len(ids)
            ones = _ONES_I[:k] if k <= _CHUNK else array("i", [1]) * k
            ncopies[run] = ones
            nvisible[run] = ones
            copy1[run] = array("q", range(start, start + k))
            return
        more = self._copies_more
        for k, m in enumerate(ids):
            if ncopies[m]:
                more.setdefault(m, []).append(start + k)
            else:
                copy1[m] = start + k
            ncopies[m] += 1
            nvisible[m] += 1

    def _truncate(self, topic: str, p: int, start: int, lost: Sequence[int]) -> None:
        """A leader change took offsets ``start`` and up of the partition out of its log:
        the copies there leave ``copies``/``input_copies`` for ``truncated``."""
        for m in set(lost):
            observed = self._observed_slots(m)
            inputs = self._input_copies.get(m, [])
            gone = [s for s in observed + inputs if self._in(s, topic, p, start)]
            if not gone:
                continue
            self._truncated.setdefault(m, []).extend(gone)
            self._removed.update(gone)
            self._irregular.add(m)
            kept = [s for s in observed if s not in gone]
            self._copy1[m] = kept[0] if kept else -1
            if len(kept) > 1:
                self._copies_more[m] = kept[1:]
            else:
                self._copies_more.pop(m, None)
            self._ncopies[m] = len(kept)
            self._nvisible[m] = sum(1 for s in kept if self._status(s) != "aborted")
            if m in self._input_copies:
                self._input_copies[m] = [s for s in inputs if s not in gone]

    def _observed_slots(self, m: int) -> list[int]:
        if not self._ncopies[m]:
            return []
        return [self._copy1[m], *self._copies_more.get(m, ())]

    def _append_of(self, slot: int) -> int:
        return bisect_right(self._append_starts, slot) - 1

    def _status(self, slot: int) -> str:
        return self._append_status[self._append_of(slot)]

    def _in(self, slot: int, topic: str, p: int, start: int) -> bool:
        j = self._append_of(slot)
        t, part, base = self._appends[j][:3]
        return t == topic and part == p and base + slot - self._append_starts[j] >= start

    def _poll(self, name: str, actor: int, t: float, records: Sequence[Sequence[int]]) -> None:
        if not records:
            return
        nd = self._ndeliveries
        max_read = self._max_read
        ps, offs, ids = zip(*records, strict=True)
        run = _run(ids)
        if run is not None and _all_zero(nd, run):
            k = len(ids)
            nd[run] = _ONES_I[:k] if k <= _CHUNK else array("i", [1]) * k
            self._d_actor[run] = array("i", [actor]) * k
            partitions = array("i", ps)
            offsets = array("q", offs)
            self._d_partition[run] = partitions
            self._d_offset[run] = offsets
            self._d_t[run] = array("d", [t]) * k
            single = partitions.count(partitions[0]) == k
            top = max(offsets) if single else 0
        else:
            more = self._deliveries_more
            for p, off, m in records:
                if nd[m]:
                    more.setdefault(m, []).append((name, p, off, t))
                else:
                    self._d_actor[m] = actor
                    self._d_partition[m] = p
                    self._d_offset[m] = off
                    self._d_t[m] = t
                nd[m] += 1
            p0 = records[0][0]
            single = all(r[0] == p0 for r in records)
            top = max(offs) if single else 0
        # per partition: the first and the last offset of this poll, and the highest
        if single:
            p0 = records[0][0]
            firsts = {p0: records[0][1]}
            lasts = {p0: records[-1][1]}
            highest = {p0: top}
        else:
            firsts, lasts, highest = {}, {}, {}
            for p, off, _ in records:
                firsts.setdefault(p, off)
                lasts[p] = off
                if off > highest.get(p, -1):
                    highest[p] = off
        for p, off in highest.items():
            if off > max_read.get(p, -1):
                max_read[p] = off
        # poll-skip and nonmonotonic-poll, per consumer (across its restarts) and partition
        poll_last = self._poll_last
        for p, first_off in firsts.items():
            prev = poll_last.get((name, p))
            if prev is not None:
                if first_off <= prev:
                    self._poll_anomalies.append({"type": "nonmonotonic-poll", "actor": name,
                                                 "partition": p, "from": prev, "to": first_off,
                                                 "t": t})
                elif first_off > prev + 1:  # a gap: a skip if data offsets are in it (later)
                    self._poll_anomalies.append((name, p, prev, first_off, t))
            poll_last[(name, p)] = lasts[p]

    def _process(self, d: dict[str, Any]) -> None:
        records = d["records"]
        if not records:
            return
        if d.get("transform"):
            transformed = self._transformed
            for r in records:
                transformed[r[2]] += 1
            return
        nprocessed = self._nprocessed
        _ps, _offs, ids, ts, applied = zip(*records, strict=True)
        run = _run(ids)
        if run is not None and all(applied) and _all_zero(nprocessed, run):
            k = len(ids)
            nprocessed[run] = _ONES_I[:k] if k <= _CHUNK else array("i", [1]) * k
            times = array("d", ts)
            self._processed1[run] = times
            self.end_time = max(self.end_time, max(times))
            return
        more = self._processed_more
        for _p, _off, m, t, applied in records:
            if applied:
                if nprocessed[m]:
                    more.setdefault(m, []).append(t)
                else:
                    self._processed1[m] = t
                nprocessed[m] += 1
                if t > self.end_time:
                    self.end_time = t
            else:
                self._ignored[m] += 1

    # -- one message ---------------------------------------------------------------------
    def _copy(self, slot: int) -> Copy:
        j = bisect_right(self._append_starts, slot) - 1
        topic, p, base, t, pid, producer, attempt = self._appends[j]
        return Copy(topic, p, base + slot - self._append_starts[j], t, pid, producer, attempt,
                    self._append_status[j])

    def _message(self, m: int) -> MessageLedger:
        fs = self._first_send[m]
        copies: tuple[Copy, ...] = ()
        if self._ncopies[m]:
            copies = tuple(self._copy(s) for s in self._observed_slots(m))
        inputs = tuple(self._copy(s) for s in self._input_copies.get(m, ()))
        deliveries: tuple[tuple[str, int, int, float], ...] = ()
        if self._ndeliveries[m]:
            deliveries = ((self._actors[self._d_actor[m]], self._d_partition[m],
                           self._d_offset[m], self._d_t[m]),
                          *self._deliveries_more.get(m, ()))
        processed: tuple[float, ...] = ()
        if self._nprocessed[m]:
            processed = (self._processed1[m], *self._processed_more.get(m, ()))
        truncated = tuple(self._copy(s) for s in self._truncated.get(m, ()))
        return MessageLedger(m, self._sends[m], self._attempts[m], None if fs != fs else fs,
                             bool(self._acked[m]), bool(self._gave_up[m]), copies, inputs,
                             deliveries, processed, self._ignored[m], self._transformed[m],
                             truncated, bool(self._confirmed[m]))

    def counts(self) -> MessageCounts:
        """Every message's sends, processings and visible copies, read from the columns (a
        10,000-message figure needs these, not 10,000 ``MessageLedger`` views)."""
        return MessageCounts(self._sends.tolist(), self._nprocessed.tolist(),
                             self._nvisible.tolist())

    @property
    def messages(self) -> Messages:
        """``messages[id]`` → ``MessageLedger`` (built on demand; iterate for all of them)."""
        return Messages(self)

    # -- classification ------------------------------------------------------------------
    def _unprocessed_sent(self) -> list[int]:
        sends = self._sends
        return [m for m in _indices(self._nprocessed, 0) if sends[m]]

    def lost(self) -> list[int]:
        return self._unprocessed_sent() if self.drained else []

    def unseen(self) -> list[int]:
        return [] if self.drained else self._unprocessed_sent()

    def never_sent(self) -> list[int]:
        """Messages the application never handed to a producer (the run ended first)."""
        return list(_indices(self._sends, 0))

    def exactly_once(self) -> list[int]:
        return list(_indices(self._nprocessed, 1))

    def categories(self) -> dict[str, list[int]]:
        """Every message of the workload in exactly one category (drained or not):
        never sent, processed exactly once, processed more than once, lost (the run drained
        and it was never processed) or unseen (not processed when an undrained run ended)."""
        out: dict[str, list[int]] = {k: [] for k in CATEGORIES}
        sends = self._sends
        rest = "lost" if self.drained else "unseen"
        for m in _indices(self._nprocessed, 0):
            out["never_sent" if not sends[m] else rest].append(m)
        out["exactly_once"] = self.exactly_once()
        out["duplicates"] = self.duplicates()
        return out

    def lost_after_ack(self) -> list[int]:
        """Lost after it was acknowledged (Jepsen's lost write): the producer was told it was
        written, a leader change then took every copy out of the log, and it was never
        processed. A subset of ``lost()``."""
        if not self.drained:
            return []
        observed = self.observed_topic
        out = []
        for m in sorted(self._truncated):
            if not (self._confirmed[m] and not self._nprocessed[m] and self._sends[m]):
                continue
            left = self._observed_slots(m) if observed == "input" else \
                self._input_copies.get(m, [])
            if not left:
                out.append(m)
        return out

    def lost_unacked(self) -> list[int]:
        """Lost and never acknowledged with an offset: the producer gave up, or it used acks=0
        and never knew."""
        confirmed = self._confirmed
        return [m for m in self.lost() if not confirmed[m]]

    def duplicates(self) -> list[int]:
        if self._nprocessed.count(0) + self._nprocessed.count(1) == self._n:
            return []
        return [m for m, k in enumerate(self._nprocessed) if k > 1]

    def written_more_than_once(self) -> list[int]:
        """Messages with more than one (non-aborted) copy in the log: one per message, however
        many copies it has. ``extra_copies`` in the outcome counts the copies beyond the first."""
        v = self._nvisible
        if v.count(0) + v.count(1) == self._n:
            return []
        return [m for m, k in enumerate(v) if k > 1]

    log_duplicates = written_more_than_once  # the older name, same meaning

    def _latencies(self) -> list[float]:
        first = self._first_send
        p1 = self._processed1
        if self._nprocessed.count(0) == 0:
            if self._sends.count(0) == 0:  # every message sent: no first_send is NaN
                return list(map(sub, p1, first))
            return [t - (f if f == f else 0.0) for t, f in zip(p1, first, strict=True)]
        return [p1[m] - (first[m] if first[m] == first[m] else 0.0)
                for m, k in enumerate(self._nprocessed) if k]

    def outcome(self) -> Outcome:
        n = self._n
        nprocessed, nvisible = self._nprocessed, self._nvisible
        unprocessed = nprocessed.count(0)
        processed_once = n - unprocessed
        written = n - nvisible.count(0)
        once = nprocessed.count(1)
        copies_visible = sum(nvisible)
        never_sent = self._sends.count(0)
        # every never-sent message is unprocessed: the rest of the unprocessed were sent
        unprocessed_sent = unprocessed - never_sent if never_sent == 0 or not any(
            nprocessed[m] for m in _indices(self._sends, 0)) else len(self._unprocessed_sent())
        more_than_once = n - nvisible.count(0) - nvisible.count(1)
        latencies = self._latencies()
        duration = self.end_time
        ordered = sorted(latencies)
        return {
            "sent": n - never_sent,
            "acked": n - self._acked.count(0),
            "written": written,
            "delivered": sum(self._ndeliveries),
            "processed": sum(nprocessed),
            "lost": unprocessed_sent if self.drained else 0,
            "duplicates": processed_once - once,
            # two numbers, two names: messages with more than one copy, and copies beyond
            # each message's first (log_duplicates is the older name of the first)
            "written_more_than_once": more_than_once,
            "log_duplicates": more_than_once,
            "extra_copies": copies_visible - written,
            "aborted_copies": sum(self._ncopies) - copies_visible,
            # replication (issue 18): lost after acknowledged vs never acknowledged, and
            # messages a leader change took out of the log (some of them written again)
            "lost_after_ack": len(self.lost_after_ack()),
            "lost_unacked": len(self.lost_unacked()),
            "truncated": len(self._truncated),
            "unseen": 0 if self.drained else unprocessed_sent,
            "never_sent": never_sent,
            "exactly_once": once,
            "drained": self.drained,
            "stopped": self.stopped,
            "throughput_per_s": round(processed_once / duration * 1000, 3)
            if duration > 0 else 0.0,
            "latency_ms": {
                "mean": round(_mean(ordered), 3) if latencies else None,
                "p50": round(_median_sorted(ordered), 3) if latencies else None,
                "p99": round(_quantile_sorted(ordered, 0.99), 3) if latencies else None,
            },
            "simulated_ms": round(self.trace.events[-1].t, 3) if self.trace.events else 0.0,
            "zombie_records": self.zombie_records,
            "rebalances": self.rebalances,
        }

    def anomalies(self) -> list[Anomaly]:
        """Named anomalies: kafkalab's own and Jepsen's Kafka vocabulary."""
        out: list[Anomaly] = []
        for m in self.lost():
            out.append({"type": "lost", "message": m})
        for m in self.lost_after_ack():
            c = self.messages[m].truncated[-1]
            out.append({"type": "lost-after-ack", "message": m, "partition": c.partition,
                        "offset": c.offset})
        for m in self.unseen():
            out.append({"type": "unseen", "message": m})
        for m in self.never_sent():
            out.append({"type": "never-sent", "message": m})
        for m in self.duplicates():
            out.append({"type": "duplicate", "message": m,
                        "times": self._nprocessed[m]})
        for m in self.log_duplicates():
            rec = self._message(m)
            out.append({"type": "log-duplicate", "message": m,
                        "offsets": [[c.partition, c.offset] for c in rec.visible_copies]})
        out.extend(self._jepsen())
        return out

    def _first_visible(self, m: int) -> Copy | None:
        """The first copy of ``m`` that is not aborted, or None."""
        if not self._nvisible[m]:
            return None
        if m not in self._irregular:
            return self._copy(self._copy1[m])
        return self._message(m).visible_copies[0]

    def _jepsen(self) -> list[Anomaly]:
        out: list[Anomaly] = []
        max_read = self._max_read
        acked = self._acked
        nvisible = self._nvisible
        # per message, in id order: lost-write (acknowledged, never delivered, yet a consumer
        # read past its offset), then G1a (a delivery of a copy an aborted transaction wrote)
        lost_write = {m for m in _indices(self._ndeliveries, 0) if acked[m] and nvisible[m]}
        for m in sorted(lost_write | self._with_aborted):
            rec = self._message(m)
            if m in lost_write and any(c.offset <= max_read.get(c.partition, -1)
                                       for c in rec.visible_copies):
                out.append({"type": "lost-write", "message": m})
            if m in self._with_aborted and rec.deliveries:
                aborted = {(c.partition, c.offset) for c in rec.copies if c.status == "aborted"}
                if any((p, off) in aborted for _, p, off, _ in rec.deliveries):
                    out.append({"type": "G1a", "message": m})
        # nonmonotonic-send (Jepsen): two successive sends to a partition went backwards in
        # the log (retries with max.in.flight > 1 and no idempotence reorder batches)
        previous: dict[int, tuple[int, int]] = {}  # partition -> (offset, message)
        sends, first_send = self._sends, self._first_send
        candidates = [m for m in _indices(nvisible, 0, invert=True) if sends[m]]
        if not _nondecreasing(first_send, candidates):
            candidates.sort(key=first_send.__getitem__)  # stable: ties keep id order
        plain = not self._irregular
        copy1, starts, appends = self._copy1, self._append_starts, self._appends
        for m in candidates:
            if plain or m not in self._irregular:
                slot = copy1[m]
                j = bisect_right(starts, slot) - 1
                _topic, p, base, *_ = appends[j]
                off = base + slot - starts[j]
            else:
                first = self._first_visible(m)
                assert first is not None
                p, off = first.partition, first.offset
            before = previous.get(p)
            if before is not None and off < before[0]:
                out.append({"type": "nonmonotonic-send", "message": m,
                            "partition": p, "offset": off,
                            "previous": {"message": before[1], "offset": before[0]}})
            previous[p] = (off, m)
        # poll-skip and nonmonotonic-poll (found while building, in trace order)
        data_offsets: dict[int, set[int]] = {}  # partition -> its data offsets, on its first gap
        for item in self._poll_anomalies:
            if isinstance(item, dict):
                out.append({**item})
                continue
            actor, p, prev, first_off, t = item
            if p not in data_offsets:
                data_offsets[p] = set(self.log_offsets(p, aborted=False))
            skipped = [o for o in range(prev + 1, first_off) if o in data_offsets[p]]
            if skipped:
                out.append({"type": "poll-skip", "actor": actor, "partition": p,
                            "skipped": skipped, "t": t})
        return out

    def log_offsets(self, partition: int, aborted: bool = True) -> list[int]:
        """The offsets of the observed topic's ``partition`` that hold a message's copy (not
        control markers; aborted copies only if ``aborted``), sorted: what the sink is expected
        to process. Read from the appends' columns, without building a view per message."""
        if self._removed:  # a leader change took copies out: read each message's own
            return sorted(c.offset for rec in self.messages for c in rec.copies
                          if c.partition == partition and c.topic == self.observed_topic
                          and (aborted or c.status != "aborted"))
        out: list[int] = []
        starts, last = self._append_starts, len(self._appends) - 1
        for j, (topic, p, base, *_rest) in enumerate(self._appends):
            if p != partition or topic != self.observed_topic or (
                    not aborted and self._append_status[j] == "aborted"):
                continue
            end = starts[j + 1] if j < last else self._slots
            out.extend(range(base, base + end - starts[j]))
        out.sort()
        return out

    def to_list(self) -> list[dict[str, Any]]:
        return [m.to_dict() for m in self.messages]


class Messages(Sequence[MessageLedger]):
    """``Ledger.messages``: reads like the list of every message's ``MessageLedger``."""

    CACHE_UP_TO = 200_000  # messages: a smaller run keeps the views once built (the Lab)

    def __init__(self, ledger: Ledger):
        self._ledger = ledger

    def __len__(self) -> int:
        return self._ledger._n

    def _all(self) -> list[MessageLedger] | None:
        led = self._ledger
        if led._cache is None and led._n <= self.CACHE_UP_TO:
            led._cache = [led._message(m) for m in range(led._n)]
        return led._cache

    @overload
    def __getitem__(self, index: int) -> MessageLedger: ...

    @overload
    def __getitem__(self, index: slice) -> list[MessageLedger]: ...

    def __getitem__(self, index: int | slice) -> MessageLedger | list[MessageLedger]:
        led = self._ledger
        if isinstance(index, slice):
            return [self[m] for m in range(*index.indices(led._n))]
        if led._cache is not None:
            return led._cache[index]
        m = index.__index__()
        if m < 0:
            m += led._n
        if not 0 <= m < led._n:
            raise IndexError("message index out of range")
        return led._message(m)

    def __iter__(self) -> Iterator[MessageLedger]:
        cached = self._all()
        if cached is not None:
            return iter(cached)
        led = self._ledger
        return (led._message(m) for m in range(led._n))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Messages | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


# -- helpers on the columns --------------------------------------------------------------------
_NAN = float("nan")
_CHUNK = 4096
_ONES_I = array("i", [1]) * _CHUNK


def _run(ids: Sequence[int]) -> slice | None:
    """``ids`` as a slice when they form a rising arithmetic run (one batch of a partition)."""
    k = len(ids)
    if k == 0:
        return None
    first = ids[0]
    if k == 1:
        return slice(first, first + 1)
    step = ids[1] - first
    if step <= 0:
        return None
    last = first + step * (k - 1)
    if ids[-1] != last:
        return None
    kind = type(ids)
    if kind is list:
        if list(range(first, last + 1, step)) != ids:
            return None
    elif kind is tuple:
        if tuple(range(first, last + 1, step)) != ids:
            return None
    elif list(range(first, last + 1, step)) != list(ids):
        return None
    return slice(first, last + 1, step)


def _all_zero(column: array[int], run: slice) -> bool:
    """Whether ``column[run]`` holds only zeros (compared as bytes, without boxing)."""
    part = memoryview(column)[run].tobytes()
    return part == bytes(len(part))


def _set_flags(flags: bytearray, ids: Sequence[int]) -> None:
    run = _run(ids)
    if run is not None:
        flags[run] = b"\x01" * len(ids)
    else:
        for m in ids:
            flags[m] = 1


def _indices(column: array[int], value: int, invert: bool = False) -> Iterator[int]:
    """The positions holding ``value`` (or, ``invert``, not holding it), rising."""
    if invert:
        return (m for m, v in enumerate(column) if v != value)
    return _positions(column, value)


def _positions(column: array[int], value: int) -> Iterator[int]:
    start = 0
    try:
        while True:
            m = column.index(value, start)
            yield m
            start = m + 1
    except ValueError:
        return


def _nondecreasing(values: array[float], order: list[int]) -> bool:
    prev = -math.inf
    for m in order:
        v = values[m]
        if not v >= prev:  # NaN as well
            return False
        prev = v
    return True


def _mean(ordered: list[float]) -> float:
    """``statistics.mean`` of sorted floats (the exact mean, correctly rounded), without
    Fractions: every float is an integer times a power of two, so scaled by a power of two that
    makes the smallest one whole, the sum is an exact integer, and int / int rounds correctly."""
    values = ordered
    if values[0] > 0:
        smallest, largest = values[0], values[-1]
    else:
        smallest = min((abs(v) for v in values if v), default=0.0)
        largest = max(abs(values[0]), abs(values[-1]))
    if not smallest or not math.isfinite(largest):
        return float(statistics.mean(values))
    shift = 53 - math.frexp(smallest)[1]
    if shift < 0 or math.frexp(largest)[1] + shift > 1000:
        return float(statistics.mean(values))
    scale = 2.0 ** shift
    return sum(map(int, map(scale.__mul__, values))) / (len(values) << shift)


def _median_sorted(ordered: list[float]) -> float:
    """``statistics.median`` of an already sorted list."""
    n = len(ordered)
    i = n // 2
    if n % 2 == 1:
        return ordered[i]
    return (ordered[i - 1] + ordered[i]) / 2


def _quantile_sorted(ordered: list[float], q: float) -> float:
    k = min(int(q * len(ordered)), len(ordered) - 1)
    return ordered[k]
