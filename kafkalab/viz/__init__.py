"""Figures: pure functions from a RunResult to a plotly ``go.Figure``.

No widgets, no numpy, no model re-runs: a figure takes results (a RunResult, outcomes, sweeps)
and never runs the model (the runners are in ``kafkalab.scenarios`` and ``kafkalab.sweep``).
Every figure has a title, labelled axes, hover text, fixed axis ranges and a one-line caption in
``fig.layout.meta["caption"]`` (``caption(fig)``). Colours are Okabe–Ito (``kafkalab.palette``)
and never carry meaning alone: anomalies are labelled in text too.
"""

from typing import Any

from ._common import OKABE_ITO, TEMPLATE, caption, wrap
from .animate import animate
from .assignment import assignment_timeline
from .comparison import commit_cost_chart, comparison
from .display import show
from .ledger import message_ledger
from .log import broker_log
from .replicas import replica_logs
from .timeline import offsets_timeline
from .topology import topology

__all__ = ["OKABE_ITO", "TEMPLATE", "animate", "assignment_timeline", "broker_log", "caption",
           "commit_cost_chart", "comparison",
           "message_ledger", "offsets_timeline", "replica_logs", "show", "topology", "wrap"]

#: Runners that used to live here: viz never runs the model, so they are where the runs are.
MOVED = {"run_commit_strategies": "kafkalab.scenarios"}


def __getattr__(name: str) -> Any:
    if name in MOVED:
        raise ImportError(f"kafkalab: {name} moved to {MOVED[name]} (kafkalab.viz draws results "
                          f"and never runs the model): from {MOVED[name]} import {name}",
                          name=name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
