"""The fault space: every place a fault can go in one run, read off that run's trace.

A *placement* is one fault-plan entry (see ``kafkalab.model.faults``). The space of a run is
found from its events (``docs/trace-format.md``):

* ``consumer_crash`` with ``point`` and ``index`` (the k-th time, 1-based, the consumer
  reaches the point; the model counts per group member, across restarts):
  ``after_poll`` = polls that returned records; ``before_processing`` = records that reached
  processing (processed, or failed: ``process_error``); ``after_processing`` = records
  processed; ``before_commit`` / ``after_commit`` = the application's own commits (manual
  ``commitSync``/``commitAsync`` calls, or transaction commits for the transactional
  transform; auto-commits and the commit inside ``close()`` are not crash points).
* ``lose_response`` / ``lose_request``: one per produce request to the input topic (the
  request carrying message ``messages[0]``, attempt ``attempt``): first attempts, and for
  the second fault of a pair also first retries (attempt 2).
* ``producer_restart``: after each message the application sends.

The crash counts are read from a run that also carries never-firing "sentinel" crash faults
(index 10⁹), so that the consumer runs exactly as it does in a run with a real crash fault
until the crash fires.
"""

from __future__ import annotations

import json

CRASH_POINTS = ("after_poll", "before_processing", "after_processing", "before_commit",
                "after_commit")
KINDS = {"crash": "consumer_crash", "lost_ack": "lose_response",
         "lost_request": "lose_request", "producer_restart": "producer_restart"}
KIND_LABELS = {"crash": "consumer crash", "lost_ack": "lost ack",
               "lost_request": "lost request", "producer_restart": "producer restart"}
SENTINEL_INDEX = 10**9
# the ``how`` of the commits the application makes itself (crash points before/after_commit);
# auto-commits, the commit before a rebalance and the one inside close() are not crash points
_MANUAL_HOW = ("before processing", "after processing the record",
               "after processing the batch", "commitAsync after the batch")


def sentinels(members: int, member: int | None = None) -> list[dict]:
    """Crash faults that never fire: they make the consumer count its crash points (a
    consumer with no crash fault aimed at it counts nothing, and the model's transform
    then batches its output differently, so the run would not be the one a crash sees)."""
    out = []
    for m in range(members) if member is None else (member,):
        for point in CRASH_POINTS:
            f = {"type": "consumer_crash", "point": point, "index": SENTINEL_INDEX}
            if members > 1:
                f["member"] = m
            out.append(f)
    return out


def targets(plan: list[dict], members: int) -> set[int]:
    """Group members that a plan's crash faults are aimed at."""
    out: set[int] = set()
    for f in plan:
        if f["type"] == "consumer_crash":
            out |= {f["member"]} if "member" in f else set(range(members))
    return out


def crash_counts(events, members: int) -> dict[tuple[int, str], int]:
    """How many times each consumer member reached each crash point in a run."""
    counts = {(m, p): 0 for m in range(members) for p in CRASH_POINTS}
    for e in events:
        actor = e.actor
        if actor.startswith("consumer-") and actor[9:].isdigit():
            m = int(actor[9:])
            if (m, "after_poll") not in counts:
                continue
            d = e.data
            if e.kind == "poll" and d.get("records"):
                counts[m, "after_poll"] += 1
            elif e.kind == "process":
                n = len(d.get("records", ()))
                counts[m, "before_processing"] += n
                counts[m, "after_processing"] += n
            elif e.kind == "process_error":
                counts[m, "before_processing"] += 1
            elif e.kind in ("commit", "commit_failed"):
                if d.get("how") in _MANUAL_HOW:
                    counts[m, "before_commit"] += 1
                    counts[m, "after_commit"] += 1
            elif e.kind == "crash":  # reached the point, crashed there: no event for it
                reason = d.get("reason", "")
                if "killed before processing" in reason:
                    counts[m, "before_processing"] += 1
                elif "killed before commit" in reason or "producer was fenced" in reason:
                    # a transaction that did not commit: the crash came at or after the
                    # point before the commit
                    counts[m, "before_commit"] += 1
        elif actor.startswith("consumer-") and actor.endswith("-producer") \
                and e.kind == "txn_commit":
            m = int(actor.split("-")[1])
            if (m, "before_commit") in counts:
                counts[m, "before_commit"] += 1
                counts[m, "after_commit"] += 1
    return counts


def crash_space(counts: dict[tuple[int, str], int], members: int) -> list[dict]:
    out = []
    for m in range(members):
        for point in CRASH_POINTS:
            for k in range(1, counts.get((m, point), 0) + 1):
                f = {"type": "consumer_crash", "point": point, "index": k}
                if members > 1:
                    f["member"] = m
                out.append(f)
    return out


# The second fault of a pair may hit a first attempt or the first retry (attempt 2) of a
# produce request; later attempts only follow retriable rejections (e.g. a run of
# OutOfOrderSequence retries behind a lost request: hundreds of attempts).
MAX_ATTEMPT = 2


def produce_requests(events, first_attempt_only: bool) -> list[tuple[int, int]]:
    """(first message id, attempt) of each produce request to the input topic."""
    seen: dict[tuple[int, int], None] = {}
    for e in events:
        if e.kind == "produce" and e.data.get("topic") == "input" and e.data.get("messages"):
            attempt = e.data.get("attempt", 1)
            if attempt > (1 if first_attempt_only else MAX_ATTEMPT):
                continue
            seen.setdefault((e.data["messages"][0], attempt), None)
    return list(seen)


def space(kinds, events, counts, members: int, messages: int,
          first_attempt_only: bool = True) -> list[dict]:
    """Every placement of the requested kinds, in canonical order."""
    out: list[dict] = []
    for kind in kinds:
        if kind == "crash":
            out.extend(crash_space(counts, members))
        elif kind in ("lost_ack", "lost_request"):
            for msg, attempt in produce_requests(events, first_attempt_only):
                out.append({"type": KINDS[kind], "message": msg, "attempt": attempt})
        elif kind == "producer_restart":
            out.extend({"type": "producer_restart", "after_message": m}
                       for m in range(messages))
    return sorted(out, key=order)


_TYPE_ORDER = {"consumer_crash": 0, "lose_response": 1, "lose_request": 2,
               "producer_restart": 3}


def order(f: dict) -> tuple:
    """Canonical order of placements: crashes by point then index, then produce faults."""
    t = f["type"]
    if t == "consumer_crash":
        return (_TYPE_ORDER[t], f.get("member", 0), CRASH_POINTS.index(f["point"]),
                f["index"])
    if t in ("lose_response", "lose_request"):
        return (_TYPE_ORDER[t], f["message"], f.get("attempt", 1), 0)
    return (_TYPE_ORDER.get(t, 9), f.get("after_message", 0), 0, 0)


def plan_key(plan: list[dict]) -> str:
    return json.dumps(sorted(plan, key=order), sort_keys=True)


def plan_order(plan: list[dict]) -> tuple:
    return (len(plan), tuple(order(f) for f in sorted(plan, key=order)))


def kind_of(f: dict) -> str:
    return {v: k for k, v in KINDS.items()}.get(f["type"], f["type"])


def label(f: dict) -> str:
    """A short label for one placement: 'crash after_poll #2', 'lost ack m3'."""
    t = f["type"]
    if t == "consumer_crash":
        who = f" (consumer-{f['member']})" if "member" in f else ""
        return f"crash {f['point']} #{f['index']}{who}"
    if t in ("lose_response", "lose_request"):
        what = "lost ack" if t == "lose_response" else "lost request"
        attempt = f.get("attempt", 1)
        return f"{what} m{f['message']}" + (f" attempt {attempt}" if attempt != 1 else "")
    if t == "producer_restart":
        return f"producer restart after m{f['after_message']}"
    return t


def plan_label(plan: list[dict]) -> str:
    return " + ".join(label(f) for f in sorted(plan, key=order)) or "no fault"
