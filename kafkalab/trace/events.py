"""What a run produced: events in order, each with a snapshot of the state after it.

The model appends to a ``Trace``; everything downstream (ledger, figures, the Lab's
stepping) reads it and never re-runs the model.
"""

from __future__ import annotations

import marshal
import pickle
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple, TypeAlias

from .gcpause import gc_paused

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


class Event:
    """One thing that happened: ``index``, ``t`` (simulated ms), ``kind``, ``actor`` (
    "producer", "consumer-0", "broker", "coordinator", "reader-0", ...), ``text`` (one plain-
    English sentence) and ``data`` (the kind's fields, docs/trace-format.md).

    In a long trace the ``text`` and ``data`` of older events are kept packed (see
    ``Trace``): reading them unpacks their chunk, so treat them as read-only."""

    __slots__ = ("_data", "_text", "actor", "index", "kind", "t")

    def __init__(self, index: int, t: float, kind: str, actor: str, text: str,
                 data: dict[str, Any]) -> None:
        self.index = index
        self.t = t
        self.kind = kind
        self.actor = actor
        self._text: str | None = text
        self._data: dict[str, Any] | _Chunk = data

    @property
    def text(self) -> str:
        text = self._text
        if text is None:
            chunk = self._data
            assert isinstance(chunk, _Chunk)
            return chunk.unpacked()[self.index - chunk.start][0]
        return text

    @text.setter
    def text(self, value: str) -> None:
        self._unpack()
        self._text = value

    @property
    def data(self) -> dict[str, Any]:
        data = self._data
        if type(data) is _Chunk:
            return data.unpacked()[self.index - data.start][1]
        return data  # type: ignore[return-value]

    @data.setter
    def data(self, value: dict[str, Any]) -> None:
        self._unpack()
        self._data = value

    def _unpack(self) -> None:
        if self._text is None:
            self._text, self._data = self.text, self.data

    def _fields(self) -> tuple[Any, ...]:
        return (self.index, self.t, self.kind, self.actor, self.text, self.data)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Event:
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it was

    def __repr__(self) -> str:
        return (f"Event(index={self.index!r}, t={self.t!r}, kind={self.kind!r}, "
                f"actor={self.actor!r}, text={self.text!r}, data={self.data!r})")

    def to_dict(self) -> EventDict:
        return {"i": self.index, "t": self.t, "kind": self.kind, "actor": self.actor,
                "text": self.text, "data": self.data}

    @classmethod
    def from_dict(cls, d: EventDict) -> Event:
        return cls(d["i"], d["t"], d["kind"], d["actor"], d["text"], d["data"])


class _Chunk:
    """The texts and data of ``CHUNK`` consecutive events, packed with ``marshal`` (the
    ``records`` lists of named tuples as plain tuples, named again when unpacked) or, when the
    data holds anything else marshal cannot write, ``pickle``; compressed. The few chunks read
    last stay unpacked (``UNPACKED_CHUNKS``)."""

    __slots__ = ("_blob", "_items", "_pickled", "start")

    def __init__(self, start: int, items: list[tuple[str, dict[str, Any]]]) -> None:
        self.start = start
        plain: list[tuple[str, dict[str, Any], int]] = []
        for text, data in items:
            records = data.get("records")
            named = 0
            if type(records) is list and records:
                named = _NAMED.get(type(records[0]), 0)
                if named:
                    data = {**data, "records": [tuple(r) for r in records]}
            plain.append((text, data, named))
        try:
            raw = marshal.dumps(plain)
            self._pickled = False
        except ValueError:  # something marshal cannot write: pickle keeps every type
            raw = pickle.dumps(items, pickle.HIGHEST_PROTOCOL)
            self._pickled = True
        self._blob = zlib.compress(raw, 1)
        self._items: list[tuple[str, dict[str, Any]]] | None = None

    def unpacked(self) -> list[tuple[str, dict[str, Any]]]:
        items = self._items
        if items is None:
            with gc_paused():  # thousands of small containers, none of them garbage yet
                raw = zlib.decompress(self._blob)
                if self._pickled:
                    items = pickle.loads(raw)
                else:
                    items = []
                    for text, data, named in marshal.loads(raw):
                        if named:
                            data["records"] = list(map(_MAKERS[named], data["records"]))
                        items.append((text, data))
            self._items = items
            _UNPACKED.append(self)
            if len(_UNPACKED) > UNPACKED_CHUNKS:
                _UNPACKED.popleft()._items = None
        return items


# A long trace keeps every event's index, time, kind and actor as they are (the scans that
# explain a message read only those), and packs the text and data of older events by chunks
# of CHUNK: a 1,000,000-message run's millions of sentences and small dicts would otherwise
# dominate its memory. Traces shorter than PACK_AFTER events (every Lab run) are not packed.
CHUNK = 4096
PACK_AFTER = 100_000
UNPACKED_CHUNKS = 4
_UNPACKED: deque[_Chunk] = deque()
# the named tuples a ``records`` list holds, by number (0: none), and how to make one again
_NAMED: dict[type, int] = {Record: 1, ProcessedRecord: 2}
_MAKERS: dict[int, Callable[[tuple[Any, ...]], tuple[Any, ...]]] = {
    1: partial(tuple.__new__, Record), 2: partial(tuple.__new__, ProcessedRecord)}


@dataclass
class Trace:
    """The recorded run: ``events[i]`` happened, leaving the state ``snapshots[i]``."""

    events: list[Event] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    snapshot_fn: Callable[[], Snapshot] | None = None
    clock: Callable[[], float] | None = None
    _packed_to: int = field(default=0, repr=False, compare=False)

    def emit(self, kind: str, actor: str, text: str, **data: Any) -> Event:
        now = self.clock() if self.clock is not None else 0.0
        events = self.events
        n = len(events)
        event = Event(n, round(now, 6), kind, actor, text, data)
        events.append(event)
        if self.snapshot_fn is not None:
            self.snapshots.append(self.snapshot_fn())
        if n % CHUNK == 0 and n >= PACK_AFTER:
            while self._packed_to + CHUNK < n:  # the latest chunk stays as it is
                self.pack(self._packed_to, self._packed_to + CHUNK)
                self._packed_to += CHUNK
        return event

    def pack(self, start: int, stop: int) -> None:
        """Pack the text and data of ``events[start:stop]`` into one chunk."""
        part = self.events[start:stop]
        if not part or any(e._text is None for e in part):
            return
        with gc_paused():
            chunk = _Chunk(start, [(e._text, e._data) for e in part])  # type: ignore[misc]
        for e in part:
            e._text = None
            e._data = chunk

    def finish(self) -> None:
        """The run is over: forget the model's callbacks (they hold the whole simulation)."""
        self.snapshot_fn = None
        self.clock = None

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def to_dict(self) -> dict[str, Any]:
        return {"events": [e.to_dict() for e in self.events], "snapshots": self.snapshots}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trace:
        return cls([Event.from_dict(e) for e in d["events"]], list(d["snapshots"]))
