"""One sentence per named anomaly, for a learner (never a raw dict).

``describe(anomaly)`` builds the sentence from the anomaly's fields (``Ledger.anomalies()``:
kafkalab's own names and Jepsen's Kafka vocabulary, see docs/trace-format.md); it never parses
text the code wrote. An anomaly type it does not know still reads as a sentence.
"""

from __future__ import annotations

from typing import Any, TypeAlias

# one anomaly: {"type": ..., fields} (docs/trace-format.md)
Anomaly: TypeAlias = dict[str, Any]

# kafkalab's name -> Jepsen's (jepsen/tests/kafka.clj), for the closing "(Jepsen: ...)".
# kafkalab's "duplicate" (processed twice) has no Jepsen name: Jepsen's "duplicate" is the
# same value at two offsets, kafkalab's "log-duplicate".
JEPSEN = {"lost-write": "lost-write", "lost-after-ack": "lost-write", "G1a": "G1a", "poll-skip": "poll-skip",
          "nonmonotonic-poll": "nonmonotonic-poll", "nonmonotonic-send": "nonmonotonic-send",
          "log-duplicate": "duplicate", "inconsistent-offsets": "inconsistent-offsets"}


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _offsets(offsets: list[Any]) -> str:
    items = [list(o) if isinstance(o, list | tuple) else [o] for o in offsets]
    shown = [f"partition {o[0]} offset {o[1]}" if len(o) == 2 else f"offset {o[0]}"
             for o in items]
    return " and ".join(shown) if len(shown) <= 2 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _span(offsets: list[int]) -> str:
    offsets = sorted(offsets)
    if not offsets:
        return "no offsets"
    if len(offsets) == 1:
        return f"offset {offsets[0]}"
    if offsets == list(range(offsets[0], offsets[-1] + 1)):
        return f"offsets {offsets[0]}–{offsets[-1]}"
    return "offsets " + ", ".join(str(o) for o in offsets)


def _at(a: Anomaly) -> str:
    return f" at t={a['t']:g} ms" if isinstance(a.get("t"), int | float) else ""


def describe(anomaly: Anomaly) -> str:
    """A sentence for one anomaly, e.g. "consumer-0 was handed partition 0 from offset 5 again
    after it had read up to offset 9 (a re-delivery) at t=131 ms (Jepsen: nonmonotonic-poll)."."""
    a = anomaly
    kind = a.get("type", "anomaly")
    m = a.get("message")
    who = a.get("actor", "a consumer")
    p = a.get("partition")
    if kind == "lost":
        text = f"Message {m} was lost: sent, but never processed"
    elif kind == "unseen":
        text = f"Message {m} was not processed yet when the run ended"
    elif kind == "never-sent":
        text = (f"Message {m} was never sent: the run ended before the producer application "
                "handed it to the producer")
    elif kind == "duplicate":
        text = f"Message {m} was processed {_times(a.get('times', 2))}"
    elif kind == "log-duplicate":
        text = f"Message {m} is in the log more than once, at {_offsets(a.get('offsets', []))}"
    elif kind == "lost-after-ack":
        text = (f"Message {m} was acknowledged to the producer, then lost: a leader change took "
                f"it out of partition {p} (it had been at offset {a.get('offset')}), and it was "
                "never processed")
    elif kind == "lost-write":
        text = (f"Message {m} was acknowledged and sits below offsets other messages were read "
                "at, yet no consumer ever read it")
    elif kind == "G1a":
        text = (f"Message {m} was read although the transaction that wrote it was aborted: an "
                "aborted read")
    elif kind == "nonmonotonic-send":
        prev = a.get("previous", {})
        text = (f"Message {m} was sent after message {prev.get('message')} but landed before it "
                f"in partition {p} (offset {a.get('offset')} < {prev.get('offset')}): the "
                "producer's retries reordered them")
    elif kind == "nonmonotonic-poll":
        text = (f"{who} was handed partition {p} from offset {a.get('to')} again after it had "
                f"read up to offset {a.get('from')} (a re-delivery){_at(a)}")
    elif kind == "poll-skip":
        skipped = list(a.get("skipped", []))
        text = (f"{who} skipped {_span(skipped)} of partition {p} between two polls"
                f"{_at(a)}: {'it was' if len(skipped) == 1 else 'they were'} never handed to it")
    else:
        fields = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in a.items() if k != "type")
        text = f"{kind.replace('-', ' ').capitalize()}" + (f": {fields}" if fields else "")
    if kind in JEPSEN:
        text += f" (Jepsen: {JEPSEN[kind]})"
    return text + "."
