"""What a run produced: events in order, each with a snapshot of the state after it.

The model appends to a ``Trace``; everything downstream (ledger, figures, the Lab's
stepping) reads it and never re-runs the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeAlias

# Event kinds, grouped for the figures' markers and the Lab's text panel.
PRODUCER_KINDS = ("send", "produce", "append", "duplicate_batch", "ack", "ack_lost",
                  "request_lost", "response_delayed", "retry", "gave_up", "rejected",
                  "init_producer", "producer_restart", "fenced")
CONSUMER_KINDS = ("join", "poll", "process", "process_error", "commit", "commit_failed",
                  "crash", "restart", "close", "rebalance", "left_group", "crash_loop",
                  "revoke")
# The group coordinator's rebalance protocol (issue 17, docs/trace-format.md)
GROUP_KINDS = ("rebalance_begin", "generation", "assignment", "static_rejoin", "member_start")
TXN_KINDS = ("txn_begin", "txn_commit", "txn_abort", "marker")


# The state after an event (see docs/trace-format.md, "Snapshot"), and an exported event.
Snapshot: TypeAlias = dict[str, Any]
EventDict: TypeAlias = dict[str, Any]


def sink_role(config: Mapping[str, Any]) -> str:
    """The role whose processing a run's outcome counts: the pipeline's downstream
    ``reader`` (``pipeline=true``), else the ``consumer``. Actors are ``f"{role}-{n}"``."""
    return "reader" if config.get("pipeline") else "consumer"


class Record(NamedTuple):
    """One record a ``poll`` returned (``data["records"]``); a JSON list in the export."""

    partition: int
    offset: int
    message_id: int


class ProcessedRecord(NamedTuple):
    """One record of a ``process`` event (``data["records"]``): when it was done, and
    whether the sink applied it (False: the idempotent sink had it already)."""

    partition: int
    offset: int
    message_id: int
    t_done: float
    applied: bool


@dataclass(slots=True)
class Event:
    index: int
    t: float  # simulated milliseconds
    kind: str
    actor: str  # "producer", "consumer-0", "broker", "coordinator", "reader-0", ...
    text: str  # one plain-English sentence
    data: dict[str, Any]

    def to_dict(self) -> EventDict:
        return {"i": self.index, "t": self.t, "kind": self.kind, "actor": self.actor,
                "text": self.text, "data": self.data}

    @classmethod
    def from_dict(cls, d: EventDict) -> Event:
        return cls(d["i"], d["t"], d["kind"], d["actor"], d["text"], d["data"])


@dataclass
class Trace:
    """The recorded run: ``events[i]`` happened, leaving the state ``snapshots[i]``."""

    events: list[Event] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    snapshot_fn: Callable[[], Snapshot] | None = None
    clock: Callable[[], float] | None = None

    def emit(self, kind: str, actor: str, text: str, **data: Any) -> Event:
        now = self.clock() if self.clock is not None else 0.0
        event = Event(len(self.events), round(now, 6), kind, actor, text, data)
        self.events.append(event)
        if self.snapshot_fn is not None:
            self.snapshots.append(self.snapshot_fn())
        return event

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def to_dict(self) -> dict[str, Any]:
        return {"events": [e.to_dict() for e in self.events], "snapshots": self.snapshots}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trace:
        return cls([Event.from_dict(e) for e in d["events"]], list(d["snapshots"]))
