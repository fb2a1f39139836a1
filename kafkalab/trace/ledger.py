"""The ground-truth ledger: what happened to every application message, computed from the
trace alone (never from the model's live state), and the outcome counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import mean, median
from typing import Any, TypeAlias

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
    """Per-message ground truth plus the run's classification."""

    def __init__(self, trace: Trace, messages: int, observed_topic: str, sink_prefix: str,
                 drained: bool):
        self.trace = trace
        self.observed_topic = observed_topic
        self.sink_prefix = sink_prefix
        self.drained = drained
        with gc_paused():
            self.messages = [MessageLedger(i) for i in range(messages)]
            self._build()

    # -- building ------------------------------------------------------------------------
    def _build(self) -> None:
        msgs = self.messages
        observed = self.observed_topic
        open_copies: dict[tuple[str, int, int], list[Copy]] = {}  # (topic, p, pid) -> copies
        sink = self.sink_prefix
        self.committed: dict[tuple[str, int], int] = {}
        self.end_time = 0.0
        # records the sink's consumers processed while the group no longer counted them as
        # the partition's owner (the zombie window, issue 17)
        self.zombie_records = 0
        self.rebalances = 0  # join phases completed (the coordinator's generation events)
        self.stopped: str | None = None  # the watchdog's sentence, when it stopped the run
        for e in self.trace.events:
            d = e.data
            kind = e.kind
            if kind == "stopped":
                self.stopped = e.text
            elif kind == "send":
                for m in d["messages"]:
                    rec = msgs[m]
                    rec.sends += 1
                    if rec.first_send is None:
                        rec.first_send = e.t
            elif kind == "produce" and d["topic"] == "input":
                for m in d["messages"]:
                    msgs[m].attempts += 1
            elif kind == "ack" and d["topic"] == "input":
                for m in d["messages"]:
                    msgs[m].acked = True
            elif kind == "gave_up" and d["topic"] == "input":
                for m in d["messages"]:
                    msgs[m].gave_up = True
            elif kind == "append":
                topic, p, base = d["topic"], d["partition"], d["offset"]
                status = "open" if d["transactional"] else "none"
                bucket = open_copies.setdefault((topic, p, d["pid"]), []) \
                    if d["transactional"] else None
                for k, m in enumerate(d["messages"]):
                    copy = Copy(topic, p, base + k, e.t, d["pid"], d["producer"], d["attempt"],
                                status)
                    if topic == observed:
                        msgs[m].copies += (copy,)
                    else:
                        msgs[m].input_copies += (copy,)
                    if bucket is not None:
                        bucket.append(copy)
            elif kind == "marker":
                status = "committed" if d["control"] == "commit" else "aborted"
                for copy in open_copies.pop((d["topic"], d["partition"], d["pid"]), []):
                    copy.status = status
            elif kind == "poll" and e.actor.startswith(sink):
                for p, off, m in d["records"]:
                    msgs[m].deliveries += ((e.actor, p, off, e.t),)
            elif kind == "generation":
                self.rebalances += 1
            elif kind == "process":
                if "zombie" in d and e.actor.startswith(sink):
                    self.zombie_records += len(d["zombie"])
                for _p, _off, m, t, applied in d["records"]:
                    if d.get("transform"):
                        msgs[m].transformed += 1
                    elif applied:
                        msgs[m].processed += (t,)
                        self.end_time = max(self.end_time, t)
                    else:
                        msgs[m].ignored += 1
            elif kind == "commit" and e.actor.startswith(sink):
                for p, off in d["offsets"].items():
                    self.committed[(e.actor, int(p))] = off

    # -- classification ------------------------------------------------------------------
    def lost(self) -> list[int]:
        return [m.id for m in self.messages if m.sends and not m.processed] if self.drained \
            else []

    def unseen(self) -> list[int]:
        return [] if self.drained else [m.id for m in self.messages if m.sends and
                                        not m.processed]

    def never_sent(self) -> list[int]:
        """Messages the application never handed to a producer (the run ended first)."""
        return [m.id for m in self.messages if not m.sends]

    def exactly_once(self) -> list[int]:
        return [m.id for m in self.messages if len(m.processed) == 1]

    def categories(self) -> dict[str, list[int]]:
        """Every message of the workload in exactly one category (drained or not):
        never sent, processed exactly once, processed more than once, lost (the run drained
        and it was never processed) or unseen (not processed when an undrained run ended)."""
        out: dict[str, list[int]] = {k: [] for k in CATEGORIES}
        drained = self.drained
        for m in self.messages:
            n = len(m.processed)
            if n == 1:
                out["exactly_once"].append(m.id)
            elif n > 1:
                out["duplicates"].append(m.id)
            elif not m.sends:
                out["never_sent"].append(m.id)
            else:
                out["lost" if drained else "unseen"].append(m.id)
        return out

    def duplicates(self) -> list[int]:
        return [m.id for m in self.messages if len(m.processed) > 1]

    def written_more_than_once(self) -> list[int]:
        """Messages with more than one (non-aborted) copy in the log: one per message, however
        many copies it has. ``extra_copies`` in the outcome counts the copies beyond the first."""
        return [m.id for m in self.messages if len(m.visible_copies) > 1]

    log_duplicates = written_more_than_once  # the older name, same meaning

    def outcome(self) -> Outcome:
        msgs = self.messages
        sent = [m for m in msgs if m.sends]
        processed_once = [m for m in msgs if m.processed]
        latencies = [m.processed[0] - (m.first_send or 0.0) for m in processed_once]
        duration = self.end_time
        return {
            "sent": len(sent),
            "acked": sum(m.acked for m in msgs),
            "written": sum(1 for m in msgs if m.visible_copies),
            "delivered": sum(len(m.deliveries) for m in msgs),
            "processed": sum(len(m.processed) for m in msgs),
            "lost": len(self.lost()),
            "duplicates": len(self.duplicates()),
            # two numbers, two names: messages with more than one copy, and copies beyond
            # each message's first (log_duplicates is the older name of the first)
            "written_more_than_once": len(self.written_more_than_once()),
            "log_duplicates": len(self.written_more_than_once()),
            "extra_copies": sum(max(len(m.visible_copies) - 1, 0) for m in msgs),
            "aborted_copies": sum(len(m.copies) - len(m.visible_copies) for m in msgs),
            "unseen": len(self.unseen()),
            "never_sent": len(self.never_sent()),
            "exactly_once": len(self.exactly_once()),
            "drained": self.drained,
            "stopped": self.stopped,
            "throughput_per_s": round(len(processed_once) / duration * 1000, 3)
            if duration > 0 else 0.0,
            "latency_ms": {
                "mean": round(mean(latencies), 3) if latencies else None,
                "p50": round(median(latencies), 3) if latencies else None,
                "p99": round(_quantile(latencies, 0.99), 3) if latencies else None,
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
        for m in self.unseen():
            out.append({"type": "unseen", "message": m})
        for m in self.never_sent():
            out.append({"type": "never-sent", "message": m})
        for m in self.duplicates():
            out.append({"type": "duplicate", "message": m,
                        "times": len(self.messages[m].processed)})
        for m in self.log_duplicates():
            rec = self.messages[m]
            out.append({"type": "log-duplicate", "message": m,
                        "offsets": [[c.partition, c.offset] for c in rec.visible_copies]})
        out.extend(self._jepsen())
        return out

    def _jepsen(self) -> list[Anomaly]:
        out: list[Anomaly] = []
        max_read: dict[int, int] = {}
        for m in self.messages:
            for _, p, off, _ in m.deliveries:
                max_read[p] = max(max_read.get(p, -1), off)
        for m in self.messages:
            if m.acked and not m.deliveries and any(
                    c.offset <= max_read.get(c.partition, -1) for c in m.visible_copies):
                out.append({"type": "lost-write", "message": m.id})
            if any(c.status == "aborted" for c in m.copies) and any(
                    (p, off) in {(c.partition, c.offset) for c in m.copies
                                 if c.status == "aborted"}
                    for _, p, off, _ in m.deliveries):
                out.append({"type": "G1a", "message": m.id})
        # nonmonotonic-send (Jepsen): two successive sends to a partition went backwards in
        # the log (retries with max.in.flight > 1 and no idempotence reorder batches)
        previous: dict[int, tuple[int, int]] = {}  # partition -> (offset, message)
        for m in sorted((m for m in self.messages if m.visible_copies and m.sends),
                        key=lambda m: (m.first_send, m.id)):
            first = m.visible_copies[0]
            before = previous.get(first.partition)
            if before is not None and first.offset < before[0]:
                out.append({"type": "nonmonotonic-send", "message": m.id,
                            "partition": first.partition, "offset": first.offset,
                            "previous": {"message": before[1], "offset": before[0]}})
            previous[first.partition] = (first.offset, m.id)
        # poll-skip and nonmonotonic-poll, per consumer (across its restarts) and partition
        last: dict[tuple[str, int], int] = {}
        data_offsets = self._data_offsets()
        for e in self.trace.events:
            if e.kind != "poll" or not e.actor.startswith(self.sink_prefix):
                continue
            firsts: dict[int, int] = {}
            lasts: dict[int, int] = {}
            for p, off, _ in e.data["records"]:
                firsts.setdefault(p, off)
                lasts[p] = off
            for p, first_off in firsts.items():
                prev = last.get((e.actor, p))
                if prev is not None:
                    if first_off <= prev:
                        out.append({"type": "nonmonotonic-poll", "actor": e.actor,
                                    "partition": p, "from": prev, "to": first_off, "t": e.t})
                    else:
                        skipped = [o for o in range(prev + 1, first_off)
                                   if o in data_offsets.get(p, ())]
                        if skipped:
                            out.append({"type": "poll-skip", "actor": e.actor, "partition": p,
                                        "skipped": skipped, "t": e.t})
                last[(e.actor, p)] = lasts[p]
        return out

    def _data_offsets(self) -> dict[int, set[int]]:
        offsets: dict[int, set[int]] = {}
        for m in self.messages:
            for c in m.visible_copies:
                offsets.setdefault(c.partition, set()).add(c.offset)
        return offsets

    def to_list(self) -> list[dict[str, Any]]:
        return [m.to_dict() for m in self.messages]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(int(q * len(ordered)), len(ordered) - 1)
    return ordered[k]
