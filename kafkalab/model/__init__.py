"""The broker model: a deterministic simulation of Kafka clients and a broker.

Pure Python: it imports neither ipywidgets, plotly nor networkx.
"""

from ..trace.gcpause import gc_paused
from ..trace.result import RunResult
from .config import Config, ConfigError, resolve
from .faults import LOOP_POINTS, Fault, FaultError, FaultPlan, check_against, normalise
from .simulation import Simulation


def simulate(config: Config | None = None, faults: FaultPlan | Fault | None = None, seed: int = 0,
             snapshots: bool = True, scenario: str | None = None) -> RunResult:
    """Run the model once. ``config`` holds Kafka property names (and kafkalab's workload
    keys); ``faults`` is a fault plan (see ``kafkalab.model.faults``)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"Invalid value {seed!r} for seed: Expected a whole number ≥ 0")
    effective = resolve(config)
    plan = normalise(faults)
    check_against(plan, effective)
    with gc_paused():
        sim = Simulation(effective, plan, seed, snapshots=snapshots)
        sim.run()
    sim.trace.finish()  # the result keeps the trace, not the simulation behind its callbacks
    live = {"delivered": sim.counters["delivered"], "processed": sim.sink.total,
            "acked": len(sim.source.acked), "transformed": sim.counters["transformed"],
            "crash_points": {c.name: {p: c.point_counts.get(p, 0) for p in LOOP_POINTS}
                             for c in sim.consumers}}
    return RunResult(effective, plan, seed, sim.trace, sim.drained, scenario, live)


__all__ = ["Config", "ConfigError", "Fault", "FaultError", "FaultPlan", "RunResult", "simulate"]
