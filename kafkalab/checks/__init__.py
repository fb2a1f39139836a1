"""Checks for the exercise notebooks: they verify *behaviour*, not an answer key.

Each check runs the learner's configuration (or function) through the model under many
fault schedules and returns a :class:`CheckResult` that displays as ``✓ ...``, ``✗ ...`` (with
the first counterexample and its explanation) or ``… not done yet``.
"""

from ._runner import CRASH_POINTS, crash_schedules, timings
from .challenges import check_challenge
from .configs import (
    check_exactly_once,
    check_fast_and_safe,
    check_idempotent_producer,
    check_no_duplicates,
    check_no_loss,
    check_producer_restart,
)
from .durability import NO_FSYNC_PER_WRITE, check_acknowledged_but_lost, check_durability
from .groups import (
    QUESTIONS,
    check_group_crashes,
    check_rebalance_predictions,
    check_scale_without_stop,
)
from .loop import Record, check_consumer_loop
from .misconceptions import Wrong
from .result import CheckResult
from .rules import AS_MANY_AS_IDEMPOTENCE_ALLOWS, SET_EXPLICITLY, Rule, at_least, at_most
from .sink import check_idempotent_sink, deposit

__all__ = [
    "AS_MANY_AS_IDEMPOTENCE_ALLOWS",
    "CRASH_POINTS",
    "NO_FSYNC_PER_WRITE",
    "QUESTIONS",
    "SET_EXPLICITLY",
    "CheckResult",
    "Record",
    "Rule",
    "Wrong",
    "at_least",
    "at_most",
    "check_acknowledged_but_lost",
    "check_challenge",
    "check_consumer_loop",
    "check_durability",
    "check_exactly_once",
    "check_fast_and_safe",
    "check_group_crashes",
    "check_idempotent_producer",
    "check_idempotent_sink",
    "check_no_duplicates",
    "check_no_loss",
    "check_producer_restart",
    "check_rebalance_predictions",
    "check_scale_without_stop",
    "crash_schedules",
    "deposit",
    "timings",
]
