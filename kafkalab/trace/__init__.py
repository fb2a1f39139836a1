"""What a run produced: events, snapshots, the ledger and the result object."""

from .events import Event, Trace
from .ledger import Ledger
from .result import RunResult

__all__ = ["Event", "Ledger", "RunResult", "Trace"]
