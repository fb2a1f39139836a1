"""Kernel-side latencies of the Lab, for ``make bench`` (and, its source sent to the kernel,
``make bench-lite``; it imports only kafkalab.widgets, inside the function).

``measure_latencies()`` → ``{"control_change_ms_median", "step_change_ms_median",
"control_change_10k_ms", ...}``: a control change re-runs the model and updates the four
FigureWidgets; a step change only replays the recorded snapshots. The goals (issue 3), for the
Lab's default scenario: a control change under 50 ms (≤ 200 messages, median), a step under
10 ms, a control change with 10,000 messages under 300 ms.
"""

from __future__ import annotations

import statistics
import time

BIG_REPEATS = 3


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def measure_latencies(scenario: str | None = None, messages: int = 200, repeats: int = 9,
                      big: int = 10_000) -> dict:
    """Median control-change and step-change times (ms) in ``scenario`` (default: the Lab's)
    with ``messages`` messages, and the median of three control changes with about ``big``."""
    from kafkalab.widgets.lab import DEFAULT_SCENARIO, Lab

    scenario = scenario or DEFAULT_SCENARIO
    lab = Lab(scenario)
    lab.controls["messages"].value = messages  # warm-up run (and the workload to measure)
    crash = lab.controls["crash.after.record"]
    points = [(messages * (k + 1)) // (repeats + 2) for k in range(repeats)]
    control = [_timed(lambda p=p: setattr(crash, "value", p)) for p in points]
    errors = [lab.error] if lab.error else []
    n = len(lab.result.events)
    steps = [(n * (k + 1)) // (repeats + 2) for k in range(repeats * 3)]
    step = [_timed(lambda s=s: setattr(lab, "step", s)) for s in steps]
    crash.value = -1
    # big, big - 1, big: each a real change (the same value twice would not re-run)
    big_ms = statistics.median(_timed(lambda k=k: setattr(lab.controls["messages"], "value",
                                                          big - k % 2))
                               for k in range(BIG_REPEATS))
    if lab.error:
        errors.append(lab.error)
    big_step = [_timed(lambda s=s: setattr(lab, "step", s))
                for s in range(0, len(lab.result.events), max(len(lab.result.events) // 9, 1))]
    return {
        "scenario": scenario,
        "messages": messages,
        "control_change_ms_median": round(statistics.median(control), 2),
        "step_change_ms_median": round(statistics.median(step), 2),
        "control_change_10k_ms": round(big_ms, 2),
        "step_change_10k_ms_median": round(statistics.median(big_step), 2),
        "simulate_10k_ms": round(lab.last_run_ms or 0.0, 2),
        "events_10k": len(lab.result.events),
        "errors": errors,
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(measure_latencies(), indent=2))
