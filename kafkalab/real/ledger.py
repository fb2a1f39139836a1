"""Turn what a real run observed into the simulation-shaped ledger and outcome (pure Python)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any


def build_ledger(
    n: int,
    acks: dict[int, dict[str, Any]],
    log: Iterable[tuple[int, int]],
    deliveries: Iterable[int],
    processed: Iterable[int],
    resumed_from: int | None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Ledger (one entry per message id 0..n-1) and outcome.

    ``acks``: id -> {"acked": bool, "offset": int|None, "error": str|None} from delivery reports.
    ``log``: (offset, id) of every copy read back from the partition by a fresh consumer.
    ``deliveries``: ids handed to the consumer application (re-deliveries repeat an id).
    ``processed``: ids appended to the sink (repeats included).

    ``send_attempts`` is a lower bound: librdkafka retries inside the client and reports no
    per-message attempt count, but each copy in the log is one attempt that reached the broker,
    and the application called produce() once per id.
    """
    offsets: dict[int, list[int]] = {i: [] for i in range(n)}
    for offset, msg_id in log:
        if msg_id in offsets:
            offsets[msg_id].append(offset)
    delivered = Counter(deliveries)
    done = Counter(processed)
    ledger = []
    for i in range(n):
        ack = acks.get(i, {})
        copies = sorted(offsets[i])
        ledger.append(
            {
                "id": i,
                "send_attempts": max(1, len(copies)),
                "acked": bool(ack.get("acked")),
                "ack_offset": ack.get("offset"),
                "ack_error": ack.get("error"),
                "offsets": copies,
                "delivered": delivered.get(i, 0),
                "processed": done.get(i, 0),
            }
        )
    outcome = {
        "sent": n,
        "acked": sum(e["acked"] for e in ledger),
        "written": sum(1 for e in ledger if e["offsets"]),
        "delivered": sum(e["delivered"] for e in ledger),
        "processed": sum(e["processed"] for e in ledger),
        "lost": sum(1 for e in ledger if e["processed"] == 0),
        "duplicates": sum(1 for e in ledger if e["processed"] > 1),
        # two numbers, two names (as in the simulation's outcome): messages with more than one
        # copy in the log, and the extra copies themselves
        "log_duplicates": sum(1 for e in ledger if len(e["offsets"]) > 1),  # the older name
        "written_more_than_once": sum(1 for e in ledger if len(e["offsets"]) > 1),
        "extra_copies": sum(len(e["offsets"]) - 1 for e in ledger if e["offsets"]),
        "resumed_from": resumed_from,
    }
    return ledger, outcome


def explain_message(entry: dict[str, Any], events: Iterable[dict[str, Any]]) -> str:
    """What happened to one message in a real run, in plain English, from its ledger entry and
    the consumer sessions' event log (the real side of a crosscheck disagreement)."""
    events = list(events)
    i = entry["id"]
    n = entry["processed"]
    if n == 0:
        verdict = "LOST (never processed)"
    elif n > 1:
        verdict = f"DUPLICATE (processed {n} times)"
    elif len(entry["offsets"]) > 1:
        verdict = f"processed once, but written {len(entry['offsets'])} times to the log"
    else:
        verdict = "processed exactly once"
    lines = [f"Message {i}: {verdict}."]
    if entry["offsets"]:
        lines.append(f"In the log at offset{'s' if len(entry['offsets']) > 1 else ''} "
                     f"{', '.join(map(str, entry['offsets']))}.")
    else:
        lines.append("It is not in the log.")
    if entry["acked"]:
        lines.append(f"The producer's delivery report: written at offset {entry['ack_offset']}.")
    elif entry.get("ack_error"):
        lines.append(f"The producer's delivery report: failed ({entry['ack_error']}).")
    sessions = sorted({e["session"] for e in events if "session" in e})
    for s in sessions:
        mine = [e for e in events if e.get("session") == s]
        where = next((e for e in mine if e["ev"] == "positioned"), None)
        text = f"Consumer session {s}"
        if where is not None:
            text += f" started at offset {where['offset']} ({where['how']})"
        got = [e for e in mine if e["ev"] == "delivered" and e["id"] == i]
        done = [e for e in mine if e["ev"] == "processed" and e["id"] == i]
        failed = [e for e in mine if e["ev"] == "failed" and e["id"] == i]
        if got:
            text += "; received it at offset" + ("s " if len(got) > 1 else " ") + ", ".join(
                f"{e['offset']} (record {e['record']})" for e in got)
        else:
            text += "; never received it"
        if done:
            text += f"; processed it {len(done)} time{'s' if len(done) > 1 else ''}"
        for e in failed:
            text += ("; processing it failed and the application skipped it"
                     if e["then"] == "skip" else
                     "; processing it failed and the exception escaped the poll loop")
        commits = [e["offset"] for e in mine if e["ev"] == "commit"]
        stores = [e["offset"] for e in mine if e["ev"] == "store"]
        if commits:
            text += f"; its synchronous commits reached offset {commits[-1]}"
        if stores:
            text += f"; it stored offsets up to {stores[-1]} for the auto-commit"
        for e in mine:
            if e["ev"] == "crash":
                text += (f"; it crashed (os._exit) at {e['point']} of record {e['record']} "
                         f"(offset {e['offset']})")
            elif e["ev"] == "closed":
                text += "; it closed the consumer"
        lines.append(text + ".")
    return " ".join(lines)
