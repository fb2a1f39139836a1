"""What a run produced: events, snapshots, the ledger and the result object."""

from .events import Event, ProcessedRecord, Record, Trace
from .ledger import Ledger
from .result import RunResult

__all__ = ["Event", "Ledger", "ProcessedRecord", "Record", "RunResult", "Trace"]
