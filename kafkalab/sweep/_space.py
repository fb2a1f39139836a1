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
* ``member_join`` / ``member_leave`` / ``member_restart`` (scale out, scale in, a graceful
  restart; issue 17): at ``MEMBER_MOMENTS`` moments of the run, just after the first record
  and the records a quarter, half and three quarters of the way through the ``process`` events;
  a leave or a restart for each member (a leave only while another member remains).

The crash counts are the consumer's own: every member counts the crash points it reaches
(``RunResult.live_counters["crash_points"]``), whether or not a crash is aimed at it.
"""

from __future__ import annotations

import json

from ..model.faults import FAULT_ALIASES, FAULT_KINDS, LOOP_POINTS

CRASH_POINTS = LOOP_POINTS
# the sweep's fault kinds (its short names, public: the CLI's --faults) -> the plan's type
KINDS = {FAULT_KINDS[t].alias: t for t in ("consumer_crash", "lose_response", "lose_request",
                                           "producer_restart", "broker_crash")}
# a leader crash placed by the sweep comes back after this long (so its truncation shows)
BROKER_RESTART_MS = 5000.0
# A machine failure of the leader (issue 18: its unflushed log tail is lost), placed like a
# leader crash; the plan's type is its short name (it has no alias).
KINDS["machine_failure"] = "machine_failure"
# Membership changes (issue 17): the plan's type is their short name too (they have no alias).
MEMBER_FAULTS = ("member_join", "member_leave", "member_restart")
KINDS.update({t: t for t in MEMBER_FAULTS})
KIND_LABELS = {short: FAULT_KINDS[t].label for short, t in KINDS.items()}
# Where a membership change goes: just after these fractions of the processed records.
MEMBER_MOMENTS = (0.0, 0.25, 0.5, 0.75)


def kind_name(name: str) -> str | None:
    """The sweep's short name for a fault kind given in the model's words or the sweep's
    (``lose_response`` or ``lost_ack``); None if the sweep does not place it."""
    t = FAULT_ALIASES.get(name, name)
    return next((short for short, typ in KINDS.items() if typ == t), None)


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
        elif kind == "broker_crash":
            out.extend(leader_crashes(events))
        elif kind == "machine_failure":
            out.extend(leader_crashes(events, "machine_failure"))
        elif kind in MEMBER_FAULTS:
            out.extend(member_changes(kind, events, members))
    return sorted(out, key=order)


def member_moments(events) -> list[float]:
    """Just after the first record processed and the records a quarter, half and three
    quarters of the way through (distinct times, in order)."""
    times = sorted(e.t for e in events if e.kind == "process")
    if not times:
        return []
    picked = {round(times[min(int(f * len(times)), len(times) - 1)] + 0.01, 3)
              for f in MEMBER_MOMENTS}
    return sorted(picked)


def member_changes(kind: str, events, members: int) -> list[dict]:
    """A member joins at each moment; each member leaves (while another remains) or restarts
    at each moment."""
    moments = member_moments(events)
    if kind == "member_join":
        return [{"type": kind, "at_ms": t} for t in moments]
    if kind == "member_leave" and members < 2:
        return []  # the group's last member leaving is no scale-in: nobody reads on
    return [{"type": kind, "member": m, "at_ms": t} for m in range(members) for t in moments]


def leader_crashes(events, fault: str = "broker_crash") -> list[dict]:
    """Replication (issue 18): the leader crashes right after each append of the input topic
    (``broker_crash``: its process, the log survives; ``machine_failure``: its machine, the
    unflushed log tail is lost; back after BROKER_RESTART_MS). None with one replica."""
    out: list[dict] = []
    seen: set[int] = set()
    for e in events:
        d = e.data
        if e.kind == "append" and d.get("topic") == "input" and "broker" in d \
                and d.get("messages"):
            m = d["messages"][0]
            if m not in seen:
                seen.add(m)
                out.append({"type": fault, "broker": d["broker"], "after_message": m,
                            "restart_after_ms": BROKER_RESTART_MS})
    return out


_TYPE_ORDER = {"consumer_crash": 0, "lose_response": 1, "lose_request": 2,
               "producer_restart": 3, "broker_crash": 4, "member_join": 5, "member_leave": 6,
               "member_restart": 7, "machine_failure": 8}


def order(f: dict) -> tuple:
    """Canonical order of placements: crashes by point then index, then produce faults."""
    t = f["type"]
    if t == "consumer_crash":
        return (_TYPE_ORDER[t], f.get("member", 0), CRASH_POINTS.index(f["point"]),
                f["index"])
    if t in ("lose_response", "lose_request"):
        return (_TYPE_ORDER[t], f["message"], f.get("attempt", 1), 0)
    if t in MEMBER_FAULTS:
        return (_TYPE_ORDER[t], f.get("member", 0), f["at_ms"], 0)
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
        what = FAULT_KINDS[t].label
        attempt = f.get("attempt", 1)
        return f"{what} m{f['message']}" + (f" attempt {attempt}" if attempt != 1 else "")
    if t == "producer_restart":
        return f"producer restart after m{f['after_message']}"
    if t == "broker_crash" and "after_message" in f:
        return f"leader crash (broker {f['broker']}) after m{f['after_message']}"
    if t == "machine_failure" and "after_message" in f:
        return f"leader machine failure (broker {f['broker']}) after m{f['after_message']}"
    if t == "member_join":
        return f"member joins at {f['at_ms']:g} ms"
    if t == "member_leave":
        return f"consumer-{f['member']} leaves at {f['at_ms']:g} ms"
    if t == "member_restart":
        return f"consumer-{f['member']} restarts at {f['at_ms']:g} ms"
    return t


def plan_label(plan: list[dict]) -> str:
    return " + ".join(label(f) for f in sorted(plan, key=order)) or "no fault"
