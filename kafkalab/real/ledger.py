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
        "log_duplicates": sum(1 for e in ledger if len(e["offsets"]) > 1),
        "extra_copies": sum(len(e["offsets"]) - 1 for e in ledger if e["offsets"]),
        "resumed_from": resumed_from,
    }
    return ledger, outcome
