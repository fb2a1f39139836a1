"""The Lab's settings without widgets: which controls have no effect in the current combination.

Pure functions of the controls' values (name → value, as in ``Lab.controls``); no ipywidgets
here, so they are unit-tested alone (issue 15 moves the rest of controls ⇄ (config, faults,
seed) here too). A setting the model would silently ignore in this combination gets a note next
to its control instead (COMMON: never a setting silently ignored).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

NONE = -1  # "no fault" in the fault-number boxes
# strategies whose commits come from the background auto-commit (model.config.COMMIT_STRATEGIES)
AUTO_COMMITTING = ("auto", "store-after-processing")

Values = Mapping[str, Any]

# (control, when it has no effect, why) — checked in this order; the first match per control wins.
_RULES: tuple[tuple[str, Callable[[Values], bool], Callable[[Values], str]], ...] = (
    ("enable.auto.commit",
     # Java: auto-commit inside poll() commits what the previous poll handed out, which the
     # application's own commit after processing already covers. NOT so for librdkafka: its
     # timer commits stored offsets mid-batch, so a crash then loses records (the model runs it).
     lambda v: v["enable.auto.commit"] and v["commit.strategy"] not in AUTO_COMMITTING
     and v["client.model"] == "java",
     lambda v: f"no effect on the outcome here: commit.strategy is {v['commit.strategy']}, "
               "so the application's own commits already cover what the Java client's "
               "auto-commit in poll() would commit (it only adds a commit in close())"),
    ("auto.commit.interval.ms",
     lambda v: not v["enable.auto.commit"] or (v["commit.strategy"] not in AUTO_COMMITTING
                                               and v["client.model"] == "java"),
     lambda v: "no effect here: " + ("enable.auto.commit is off" if not v["enable.auto.commit"]
                                     else "the application's own commits decide")),
    ("enable.auto.offset.store",
     lambda v: v["client.model"] != "librdkafka",
     lambda v: "no effect here: a librdkafka property; client.model is java"),
    ("isolation.level",
     lambda v: v["isolation.level"] == "read_committed" and not v["transactions"],
     lambda v: "no effect here: without transactions every record is committed data, so "
               "read_committed reads what read_uncommitted reads"),
    ("retries",
     lambda v: v["acks"] == "0",
     lambda v: "no effect here: with acks=0 the producer never hears of a failure, so it "
               "never retries"),
    ("lost.acks",
     lambda v: v["acks"] == "0" and v["lost.acks"] > 0,
     lambda v: "no effect here: with acks=0 there is no produce response to lose"),
    ("lost.acks.probability",
     lambda v: v["acks"] == "0" and v["lost.acks.probability"] > 0,
     lambda v: "no effect here: with acks=0 there is no produce response to lose"),
    ("producer.restart.zombie",
     lambda v: v["producer.restart.zombie"] and v["producer.restart.after.message"] == NONE,
     lambda v: "no effect here: no producer restart is set (producer.restart.after is −1)"),
    ("on.processing.error",
     lambda v: v["processing.failure.record"] == NONE,
     lambda v: "no effect here: no processing failure is set (processing.failure.record "
               "is −1)"),
)


def inert_notes(values: Values) -> dict[str, str]:
    """Control name → why it has no effect with these values (only for inert controls)."""
    notes: dict[str, str] = {}
    for name, inert, why in _RULES:
        if name in notes:
            continue
        try:
            if inert(values):
                notes[name] = why(values)
        except KeyError:  # a value the rule needs is not a control here
            continue
    return notes


def inert_controls() -> tuple[str, ...]:
    """Every control that can get a note."""
    return tuple(dict.fromkeys(name for name, _, _ in _RULES))


def faults_to_controls(faults: list[dict]) -> tuple[dict, list[dict]]:
    """Split a preset's fault plan into control values and the faults no control expresses."""
    values: dict[str, Any] = {"crash.after.record": NONE, "processing.failure.record": NONE,
                              "lost.acks": 0, "lost.acks.probability": 0.0,
                              "crash.probability": 0.0, "producer.restart.after.message": NONE,
                              "producer.restart.zombie": False}
    other: list[dict] = []
    for f in faults:
        kind = f["type"]
        if kind == "consumer_crash" and f.get("point") == "after_processing" and "message" in f \
                and values["crash.after.record"] == NONE and set(f) <= {"type", "point", "message"}:
            values["crash.after.record"] = f["message"]
        elif kind == "processing_failure" and f.get("times", 1) == 1 and \
                values["processing.failure.record"] == NONE:
            values["processing.failure.record"] = f["message"]
        elif kind == "producer_restart" and "after_message" in f and \
                values["producer.restart.after.message"] == NONE:
            values["producer.restart.after.message"] = f["after_message"]
            values["producer.restart.zombie"] = bool(f.get("zombie", False))
        elif kind == "random":
            rest = {k: v for k, v in f.items() if k not in ("type", "lose_response",
                                                             "consumer_crash")}
            values["lost.acks.probability"] = float(f.get("lose_response", 0.0))
            values["crash.probability"] = float(f.get("consumer_crash", 0.0))
            if rest:
                other.append({"type": "random", **rest})
        else:
            other.append(copy.deepcopy(f))
    return values, other
