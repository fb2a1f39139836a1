"""The sweep's benchmark (`make bench`): runs per second over every crash point."""

from __future__ import annotations

import os
import time

from kafkalab.sweep import sweep


def benchmark(messages: int = 100, processes: int | None = None) -> dict:
    """Sweep every consumer crash point of a ``messages``-message at-least-once run
    (per-record commits): {runs, seconds, runs_per_s, processes, serial_runs_per_s}."""
    overrides = {"messages": messages}
    start = time.perf_counter()
    result = sweep("at-least-once-manual-commit", depth=1, faults=("crash",),
                   overrides=overrides, processes=processes)
    seconds = time.perf_counter() - start
    return {"runs": result.runs, "seconds": round(seconds, 3),
            "runs_per_s": round(result.runs / seconds, 1), "processes": result.processes,
            "cpus": os.cpu_count()}
