"""The Lab's settings without widgets: which controls have no effect in the current combination.

Pure functions of the controls' values (name → value, as in ``Lab.controls``); no ipywidgets
here, so they are unit-tested alone (issue 15 moves the rest of controls ⇄ (config, faults,
seed) here too). A setting the model would silently ignore in this combination gets a note next
to its control instead (COMMON: never a setting silently ignored).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

NONE = -1  # "no fault" in the fault-number boxes
# strategies whose commits come from the background auto-commit (model.config.COMMIT_STRATEGIES)
AUTO_COMMITTING = ("auto", "store-after-processing")

Values = Mapping[str, Any]

# (control, when it has no effect, why) — checked in this order; the first match per control wins.
_RULES: tuple[tuple[str, Callable[[Values], bool], Callable[[Values], str]], ...] = (
    ("enable.auto.commit",
     lambda v: v["enable.auto.commit"] and v["commit.strategy"] not in AUTO_COMMITTING,
     lambda v: f"no effect here: commit.strategy is {v['commit.strategy']}, so in this model "
               "the application's own commits are the only ones (choose auto to see the "
               "background commit)"),
    ("auto.commit.interval.ms",
     lambda v: not v["enable.auto.commit"] or v["commit.strategy"] not in AUTO_COMMITTING,
     lambda v: "no effect here: nothing auto-commits (enable.auto.commit is off or "
               "commit.strategy is manual)"),
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
