"""The partition logs' history, indexed once per run: which record sat at which offset, from
which step to which, and what its transaction's fate made of it.

The broker log figure shows the logs at a step. Replaying every ``append`` and ``marker`` up to
that step cost O(events) a step (a Lab step at 10,000 messages: ~17 ms, most of it); the log is
append-only except where a new leader's log ends before the old one's (``leader_elected`` with
``lost_from``), so one pass over the events records each entry's lifetime, and a step then
reads only the offsets it shows. ``records(step, window)`` returns what a replay up to ``step``
gives (tests/viz/test_log_history.py compares them at every step of every preset).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .events import Event

NEVER = 1 << 62  # a step after every step: not removed / not resolved


class _Entry:
    """One record or control marker in one partition's log, from ``appended`` to ``removed``."""

    __slots__ = (
        "appended",
        "event",
        "fate",
        "k",
        "message",
        "offset",
        "partition",
        "removed",
        "resolved",
        "same_key",
        "topic",
        "transactional",
    )

    def __init__(self, topic: str, partition: int, offset: int, message: int | None,
                 event: Event, k: int, transactional: bool):
        self.topic, self.partition, self.offset = topic, partition, offset
        self.message, self.event, self.k = message, event, k
        self.appended = event.index
        self.removed = NEVER
        self.transactional = transactional
        self.resolved = NEVER  # the step of its transaction's marker (transactional records)
        self.fate = "open"  # "committed" / "aborted" from ``resolved`` on
        self.same_key: list[_Entry] = []  # other records of this message in this topic

    def status(self, step: int) -> str:
        if self.message is None:
            return "marker"
        if not self.transactional:
            return "none"
        return self.fate if step >= self.resolved else "open"

    def present(self, step: int) -> bool:
        return self.appended <= step < self.removed


class LogHistory:
    """Every log entry of a run with its lifetime; built in one pass over the events."""

    def __init__(self, events: Sequence[Event]):
        self._by_offset: dict[tuple[str, int], dict[int, list[_Entry]]] = {}
        self._entries: list[_Entry] = []  # in append order
        live: dict[tuple[str, int], list[_Entry]] = {}
        open_txn: dict[tuple[str, int, int], list[_Entry]] = {}
        by_key: dict[tuple[str, int], list[_Entry]] = {}
        for e in events:
            kind = e.kind
            if kind == "append":
                d = e.data
                topic, part, base = d["topic"], d["partition"], d["offset"]
                txn = bool(d["transactional"])
                bucket = open_txn.setdefault((topic, part, d["pid"]), []) if txn else None
                for k, m in enumerate(d["messages"]):
                    entry = _Entry(topic, part, base + k, m, e, k, txn)
                    self._add(entry, live)
                    by_key.setdefault((topic, m), []).append(entry)
                    if bucket is not None:
                        bucket.append(entry)
            elif kind == "marker":
                d = e.data
                fate = "committed" if d["control"] == "commit" else "aborted"
                for entry in open_txn.pop((d["topic"], d["partition"], d["pid"]), []):
                    entry.resolved, entry.fate = e.index, fate
                self._add(_Entry(d["topic"], d["partition"], d["offset"], None, e, 0, False),
                          live)
            elif kind == "leader_elected" and e.data.get("lost_from") is not None:
                d = e.data
                key, lost_from = (d["topic"], d["partition"]), d["lost_from"]
                kept = []
                for entry in live.get(key, []):
                    if entry.offset >= lost_from:
                        entry.removed = e.index
                    else:
                        kept.append(entry)
                live[key] = kept
        for copies in by_key.values():
            if len(copies) > 1:
                for entry in copies:
                    entry.same_key = [c for c in copies if c is not entry]

    def _add(self, entry: _Entry, live: dict[tuple[str, int], list[_Entry]]) -> None:
        key = (entry.topic, entry.partition)
        self._by_offset.setdefault(key, {}).setdefault(entry.offset, []).append(entry)
        self._entries.append(entry)
        live.setdefault(key, []).append(entry)

    def _at(self, step: int, window: dict[tuple[str, int], tuple[int, int]] | None
            ) -> list[_Entry]:
        """The entries present at ``step`` (in ``window`` if given), by topic, partition,
        offset."""
        out: list[_Entry] = []
        if window is None:
            out = [x for x in self._entries if x.present(step)]
            out.sort(key=lambda x: (x.topic, x.partition, x.offset))
            return out
        for key in sorted(window):
            offsets = self._by_offset.get(key)
            if not offsets:
                continue
            lo, hi = window[key]
            for offset in range(lo, hi):
                for entry in offsets.get(offset, ()):
                    if entry.present(step):
                        out.append(entry)
                        break
        return out

    def records(self, step: int, window: dict[tuple[str, int], tuple[int, int]] | None = None
                ) -> list[dict[str, Any]]:
        """Every record and control marker in the logs at ``step`` (a clamped step index), with
        its status then; ``window`` ({(topic, partition): (first, end)}) keeps only records in
        those offset ranges (a duplicate is still a duplicate of a copy outside it)."""
        records: list[dict[str, Any]] = []
        for x in self._at(step, window):
            status = x.status(step)
            e, d = x.event, x.event.data
            if status == "marker":
                records.append({"topic": x.topic, "partition": x.partition, "offset": x.offset,
                                "message": None, "pid": d["pid"], "control": d["control"],
                                "status": "marker", "category": "marker", "step": e.index,
                                "t": e.t})
                continue
            copy = 0
            if status == "aborted":
                category = "aborted"
            else:
                # the copy's number among this message's visible copies in the topic, in
                # (partition, offset) order: copies aborted at this step do not count
                copy = 1
                if x.same_key:
                    here = (x.partition, x.offset)
                    copy += sum(1 for c in x.same_key
                                if c.present(step) and (c.partition, c.offset) < here
                                and c.status(step) != "aborted")
                category = "duplicate" if copy > 1 else ("open" if status == "open"
                                                         else "record")
            records.append({"topic": x.topic, "partition": x.partition, "offset": x.offset,
                            "message": x.message, "pid": d["pid"], "epoch": d["epoch"],
                            "seq": d["seq"] + x.k if d["seq"] >= 0 else -1,
                            "producer": d["producer"], "attempt": d["attempt"],
                            "status": status, "category": category, "copy": copy,
                            "step": e.index, "t": e.t})
        return records
