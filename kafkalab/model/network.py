"""The latency and cost model: how long things take, in simulated milliseconds."""

from __future__ import annotations

from dataclasses import dataclass

from .config import Config


@dataclass(frozen=True)
class Network:
    rtt: float  # client <-> broker round trip
    append_ms: float  # broker: append one batch
    commit_write_ms: float  # group coordinator: write an offset commit

    @property
    def one_way(self) -> float:
        return self.rtt / 2

    @property
    def commit_round_trip(self) -> float:
        return self.rtt + self.commit_write_ms

    @classmethod
    def from_config(cls, config: Config) -> Network:
        return cls(config["network.rtt.ms"], config["broker.append.ms"],
                   config["commit.write.ms"])
