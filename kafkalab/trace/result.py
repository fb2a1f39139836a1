"""RunResult: everything one run produced, exportable to JSON and loadable back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .anomalies import Anomaly
from .events import Event, Snapshot, Trace, sink_role
from .explain import explain
from .ledger import Ledger, verdict
from .log_history import LogHistory

if TYPE_CHECKING:  # the model imports the trace at run time, never the other way round
    from ..model.config import Config
    from ..model.faults import FaultPlan


@dataclass
class RunResult:
    config: Config
    faults: FaultPlan
    seed: int
    trace: Trace
    drained: bool
    scenario: str | None = None
    live_counters: dict[str, Any] = field(default_factory=dict)  # the model's own tallies
    notes: list[str] = field(default_factory=list)  # what the caller changed: dropped faults
    # outcome keys the caller measured with other runs (commit-cost's throughput_by_strategy):
    # part of ``outcome``, set before it is first read, never written into it afterwards
    measured: dict[str, Any] = field(default_factory=dict)

    @property
    def observed_topic(self) -> str:
        return "output" if self.config.get("pipeline") else "input"

    @property
    def sink_role(self) -> str:
        """``reader`` for the pipeline, else ``consumer``: whose processing is counted."""
        return sink_role(self.config)

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(self.trace, self.config["messages"], self.observed_topic,
                      self.sink_role, self.drained)

    @cached_property
    def log_history(self) -> LogHistory:
        """The partition logs' entries with their lifetimes (the broker log at any step)."""
        return LogHistory(self.trace.events)

    @cached_property
    def outcome(self) -> dict[str, Any]:
        return {**self.ledger.outcome(), **self.measured}

    @cached_property
    def anomalies(self) -> list[Anomaly]:
        return self.ledger.anomalies()

    @property
    def verdict(self) -> str:
        """One line, to show first: stopped, nothing to deliver, NOT DRAINED, or the result."""
        return verdict(self.outcome, self.config["messages"])

    def explain(self, message_id: int) -> str:
        return explain(self.ledger, message_id)

    @property
    def events(self) -> list[Event]:
        return self.trace.events

    @property
    def snapshots(self) -> list[Snapshot]:
        return self.trace.snapshots

    def summary(self) -> dict[str, Any]:
        """The CLI's JSON object (without the full trace)."""
        anomalies = []
        for a in self.anomalies:
            item = dict(a)
            if a["type"] in ("lost", "duplicate", "log-duplicate"):
                item["explanation"] = self.explain(a["message"])
            anomalies.append(item)
        return {"scenario": self.scenario, "seed": self.seed, "config": self.config,
                "faults": self.faults, "verdict": self.verdict, "outcome": self.outcome,
                "anomalies": anomalies, "notes": self.notes}

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "seed": self.seed, "config": self.config,
                "faults": self.faults, "drained": self.drained,
                "live_counters": self.live_counters, "notes": self.notes,
                "trace": self.trace.to_dict(),
                **({"measured": self.measured} if self.measured else {})}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResult:
        return cls(d["config"], d["faults"], d["seed"], Trace.from_dict(d["trace"]),
                   d["drained"], d.get("scenario"), d.get("live_counters", {}),
                   d.get("notes", []), d.get("measured", {}))

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        return cls.from_dict(json.loads(text))
