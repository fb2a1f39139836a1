"""Exhaustive fault sweeps: every crash point, every lost ack, the shortest counterexample.

>>> from kafkalab.sweep import sweep, shortest_counterexample
>>> result = sweep("at-least-once-manual-commit", depth=2, overrides={"messages": 6})
>>> result.counterexamples["no_loss"] is None          # at-least-once: never a loss
True
>>> cx = shortest_counterexample("at-most-once-commit-first", "no_loss")
>>> cx["label"], cx["depth"]
('crash after_poll #1', 1)
"""

from ._space import KIND_LABELS, KINDS, kind_name, plan_label
from .cli import (
    DURABILITY,
    DURABILITY_COLUMNS,
    FAULT_COLUMNS,
    SEMANTICS,
    cli_progress,
    durability_sweeps,
    run_sweep_cli,
    semantics_sweeps,
)
from .core import (
    PROPERTIES,
    SweepResult,
    find_counterexample,
    holds,
    none_text,
    shortest_counterexample,
    sweep,
)

__all__ = ["DURABILITY", "DURABILITY_COLUMNS", "FAULT_COLUMNS", "KINDS", "KIND_LABELS",
           "PROPERTIES", "SEMANTICS", "SweepResult", "cli_progress", "durability_sweeps",
           "find_counterexample", "holds", "kind_name", "none_text",
           "plan_label", "run_sweep_cli", "semantics_sweeps", "shortest_counterexample",
           "sweep"]
