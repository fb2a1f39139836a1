"""Figures: pure functions from a RunResult to a plotly ``go.Figure``.

No widgets, no numpy, no model re-runs. Every figure has a title, labelled axes, hover text,
fixed axis ranges and a one-line caption in ``fig.layout.meta["caption"]`` (``caption(fig)``).
Colours are Okabe–Ito and never carry meaning alone: anomalies are labelled in text too.
"""

from ._common import OKABE_ITO, caption
from .animate import animate
from .assignment import assignment_timeline
from .comparison import commit_cost_chart, comparison, run_commit_strategies
from .display import show
from .ledger import message_ledger
from .log import broker_log
from .timeline import offsets_timeline
from .topology import topology

__all__ = ["OKABE_ITO", "animate", "assignment_timeline", "broker_log", "caption",
           "commit_cost_chart", "comparison",
           "message_ledger", "offsets_timeline", "run_commit_strategies", "show", "topology"]
