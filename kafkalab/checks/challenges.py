"""The playground's challenges (notebook 08), each checked on everything it asks, so that
"Solved!" appears only when the challenge is solved (not when one count happens to match).

``check_challenge(n, run)`` takes the :class:`~kafkalab.trace.RunResult` a challenge cell made
(challenge 5 takes the learner's answer, a set of ``max.poll.records`` values, instead) and
returns a :class:`CheckResult`: ``✓ Solved! ...`` or ``✗ Not yet: ...`` naming what is missing.
"""

from __future__ import annotations

from .. import scenarios
from ..model.config import resolve
from ..model.faults import normalise
from ..trace import RunResult
from .result import FAIL, PASS, CheckResult

PRODUCER_TIMING = ("request.timeout.ms", "delivery.timeout.ms", "retry.backoff.ms",
                   "retry.backoff.max.ms", "linger.ms", "transaction.timeout.ms")
INFRASTRUCTURE_COSTS = ("network.rtt.ms", "commit.write.ms", "broker.append.ms",
                        "transaction.overhead.ms")
FENCE_BY_MS = 200.0
PER_RECORD_TARGET = 1000.0
CRASH_AFTER_8 = [{"type": "consumer_crash", "point": "after_processing", "message": 8}]


def _changed(run: RunResult, preset: str) -> set[str]:
    """The settings a run changed from a preset's configuration."""
    base = resolve(scenarios.get(preset).config)
    return {k for k, v in run.config.items() if base.get(k) != v}


def _same_faults(run: RunResult, preset: str) -> bool:
    return normalise(run.faults) == normalise(scenarios.get(preset).faults)


def _is(run: RunResult, preset: str) -> bool:
    return (run.scenario or "").split("/")[0] == preset


def _fenced_at(run: RunResult) -> float | None:
    return next((e.t for e in run.events if e.kind == "fenced"), None)


def bounded_duplicates(values=range(1, 11), most: int = 2) -> set[int]:
    """Challenge 5's answer: the max.poll.records values with at most ``most`` duplicates."""
    out = set()
    for n in values:
        run = scenarios.run("at-least-once-manual-commit/per-batch", faults=CRASH_AFTER_8,
                            overrides={"max.poll.records": n}, snapshots=False)
        if run.outcome["duplicates"] <= most:
            out.add(n)
    return out


def _requirements(n: int, run) -> list[tuple[bool, str]]:
    """(met?, what the challenge asks) for each thing challenge ``n`` asks."""
    if n == 5:
        truth = bounded_duplicates()
        answer = set(run) if isinstance(run, set | frozenset | list | tuple | range) else None
        if answer is None:
            return [(False, "give your answer as a set of max.poll.records values, e.g. {1, 2}")]
        wrong = sorted(answer ^ truth)
        return [(not wrong, "exactly the values of max.poll.records from 1 to 10 that give at "
                            "most 2 duplicates" + (f" ({len(wrong)} value(s) are misplaced: "
                                                   "run the loop over range(1, 11))"
                                                   if wrong else ""))]
    if not isinstance(run, RunResult):
        return [(False, f"pass the run your cell made, not a {type(run).__name__}")]
    o, c = run.outcome, run.config
    if n == 1:
        return [(c["enable.idempotence"], "enable.idempotence is on in the run"),
                (o["lost"] > 0, f"a message is lost (lost = {o['lost']})")]
    if n == 2:
        return [(_is(run, "at-least-once-manual-commit"),
                 "the run is the at-least-once-manual-commit preset"),
                (c["commit.strategy"] == "per-record",
                 f"commit.strategy stays per-record (it is {c['commit.strategy']})"),
                (bool(run.faults), "the run has a fault"),
                (o["lost"] > 0, f"a message is lost (lost = {o['lost']})")]
    if n == 3:
        return [(c["enable.idempotence"], "enable.idempotence is on in the run"),
                (o["log_duplicates"] > 0,
                 f"a message is twice in the log (log_duplicates = {o['log_duplicates']})")]
    if n == 4:
        return [(_is(run, "exactly-once-pipeline"), "the run is the exactly-once-pipeline preset"),
                (_same_faults(run, "exactly-once-pipeline") and run.seed == 0,
                 "the preset's own fault plan and seed 0"),
                (o["duplicates"] > 0, f"the reader processes a result twice (duplicates = "
                                      f"{o['duplicates']})")]
    if n == 6:
        fenced = _fenced_at(run)
        changed = _changed(run, "transactional-fencing") if _is(run, "transactional-fencing") \
            else set()
        other = sorted(changed - set(PRODUCER_TIMING))
        return [(_is(run, "transactional-fencing"), "the run is the transactional-fencing preset"),
                (_same_faults(run, "transactional-fencing"), "the preset's own fault plan"),
                (not other, "only producer timing settings changed"
                 + (f" (also changed: {', '.join(other)})" if other else "")),
                (fenced is not None and fenced < FENCE_BY_MS,
                 "the zombie is fenced before t = 200 ms ("
                 + ("never fenced" if fenced is None else f"fenced at t = {fenced:g} ms") + ")"),
                (c["isolation.level"] == "read_committed" and o["duplicates"] == 0
                 and o["lost"] == 0 and o["drained"],
                 f"read_committed sees every message once (lost = {o['lost']}, duplicates = "
                 f"{o['duplicates']})")]
    if n == 7:
        speed = o.get("throughput_by_strategy", {}).get("per-record", 0.0)
        changed = _changed(run, "commit-cost") if _is(run, "commit-cost") else set()
        other = sorted(changed - set(INFRASTRUCTURE_COSTS))
        return [(_is(run, "commit-cost"), "the run is the commit-cost preset"),
                (not other, "only infrastructure cost settings changed"
                 + (f" (also changed: {', '.join(other)})" if other else "")),
                (speed >= PER_RECORD_TARGET,
                 f"per-record reaches 1,000 records/s (it does {speed:,.0f})")]
    if n == 8:
        return [(not run.faults, "no faults at all (no crash, failure, restart or random fault)"),
                (o["lost"] > 0, f"a message is lost (lost = {o['lost']})")]
    raise ValueError(f"there is no challenge {n!r}: challenges are numbered 1 to 8")


def check_challenge(n: int, run) -> CheckResult:
    """Check challenge ``n`` of notebook 08 on everything it asks."""
    parts = _requirements(n, run)
    missing = [what for ok, what in parts if not ok]
    details = "\n".join(f"{'✓' if ok else '✗'} {what}" for ok, what in parts)
    if missing:
        return CheckResult(f"challenge {n}", FAIL, "Not yet. Still missing: " + missing[0],
                           details=details,
                           runs=1)
    return CheckResult(f"challenge {n}", PASS, "Solved! " + "; ".join(w for _, w in parts),
                       runs=1)
