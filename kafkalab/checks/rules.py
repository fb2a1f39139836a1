"""A task's stated constraints, checked before its behaviour.

An exercise says things like "auto-commit off", "max.poll.records must stay at 20" or "as many
requests in flight as idempotence allows". A check given ``require={property: rule}`` refuses a
configuration that dodges them, with a message that names the constraint (and not the answer).
A rule is a plain value (the property must resolve to it) or one of the rules below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model.broker import NUM_BATCHES_TO_RETAIN


class Rule:
    """A constraint on one property's resolved value: ``ok(value, explicit)`` and how the task
    words it (``asks``, completing "the task asks for <property> ...")."""

    def __init__(self, asks: str, ok: Callable[[Any, bool], bool]):
        self.asks = asks
        self.ok = ok

    def __repr__(self) -> str:
        return f"<rule: {self.asks}>"


def at_most(n: float) -> Rule:
    return Rule(f"at most {n:g}", lambda value, explicit: value is not None and value <= n)


def at_least(n: float) -> Rule:
    return Rule(f"at least {n:g}", lambda value, explicit: value is not None and value >= n)


SET_EXPLICITLY = Rule("set explicitly in your dict", lambda value, explicit: explicit)
# NUM_BATCHES_TO_RETAIN: the broker keeps the last 5 batches per producer and partition.
AS_MANY_AS_IDEMPOTENCE_ALLOWS = Rule(
    "as many as idempotence allows",
    lambda value, explicit: value == NUM_BATCHES_TO_RETAIN)


def _show(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else f"{value:g}" \
        if isinstance(value, float) else str(value)


def violations(require: dict | None, effective: dict, learner: dict) -> list[str]:
    """One sentence per broken constraint ("the task asks for enable.auto.commit=false; ...")."""
    out = []
    for key, rule in (require or {}).items():
        value = effective.get(key)
        explicit = key in learner
        origin = "" if explicit else " (the default, since your dict does not set it)"
        if isinstance(rule, Rule):
            if rule.ok(value, explicit):
                continue
            if rule is SET_EXPLICITLY:
                out.append(f"the task asks for {key} to be set explicitly; your dict leaves it "
                           f"at the client's default ({_show(value)})")
            elif rule is AS_MANY_AS_IDEMPOTENCE_ALLOWS and value is not None \
                    and value < NUM_BATCHES_TO_RETAIN:
                out.append(f"the task asks for {key}: {rule.asks}, and {_show(value)}{origin} "
                           "is fewer than that (how many batches per producer does the broker "
                           "remember?)")
            else:
                out.append(f"the task asks for {key}: {rule.asks}; this configuration has "
                           f"{key}={_show(value)}{origin}")
        elif value != rule:
            out.append(f"the task asks for {key}={_show(rule)}; this configuration has "
                       f"{key}={_show(value)}{origin}")
    return out
