"""Checks for durability (issue 18): what a producer's ``acks`` and a topic's
``min.insync.replicas`` buy when a partition's leader fails.

* :func:`check_durability` runs a learner's configuration on three brokers
  (``replication.factor=3``) under every single failure of the leader (its process crashing,
  its machine failing, after each message) and under the ISR shrinking to the leader before its
  machine fails, and reports the first message lost (after it was acknowledged, or without the
  producer ever knowing).
* :func:`check_acknowledged_but_lost` runs a learner's function on finished runs and compares
  what it returns with the ledger's lost-after-acknowledgement messages.

Facts: /work/shared/reference/kafka-semantics.md §F (acks=1 loses acknowledged writes with a clean
election; acks=all covers only the current ISR; min.insync.replicas gates only acks=all; no fsync
per write by default).
"""

from __future__ import annotations

from ..model import simulate
from ..model.config import PROPERTIES
from ..model.faults import BROKER_DOWN_FAULTS
from ..trace import RunResult
from ._runner import is_stub, learner_line, prepare, sentence_end, signature_problem
from .result import FAIL, PASS, CheckResult, not_done
from .rules import Rule

MESSAGES = 12
CLUSTER = {"brokers": 3, "replication.factor": 3}
# Followers fetch about every 20 ms while the producer sends one message a millisecond, so a
# leader always holds records its followers have not fetched yet.
DURABILITY_BASE = {"producer.send.interval.ms": 1, "linger.ms": 0, "replica.rtt.ms": 20,
                   "auto.offset.reset": "earliest", "enable.auto.commit": False,
                   "commit.strategy": "per-batch"}
DURABILITY_FORCED = {**CLUSTER, "messages": MESSAGES, "max.simulated.ms": 300_000}
# The ISR shrinks: both followers are cut off from t=0 for 30 s; after replica.lag.time.max.ms
# they leave the ISR; at t=17 s the leader's machine fails and is back 2 s later. The consumer
# starts after that (what it would have read before is not the point).
SHRUNK = {"producer.send.interval.ms": 500, "replica.lag.time.max.ms": 10_000,
          "consumer.start.ms": 22_000}
SHRUNK_FAULTS = [{"type": "slow_follower", "broker": 1, "at_ms": 0, "for_ms": 30_000},
                 {"type": "slow_follower", "broker": 2, "at_ms": 0, "for_ms": 30_000},
                 {"type": "machine_failure", "broker": 0, "at_ms": 17_000,
                  "restart_after_ms": 2_000}]
FLUSH_DEFAULT = PROPERTIES["log.flush.interval.messages"].java
# A task that wants durability from replication, not from an fsync per write.
NO_FSYNC_PER_WRITE = Rule("left at its default (Kafka relies on replication, not on an fsync "
                          "per write)", lambda value, explicit: value == FLUSH_DEFAULT)


def durability_plans(messages: int = MESSAGES):
    """(workload variant, fault plan): the leader (broker 0) crashes, then its machine fails,
    once after each message it appended (back 5 s later); then the ISR-shrunk story."""
    for kind in BROKER_DOWN_FAULTS:
        for m in range(messages):
            yield {}, [{"type": kind, "broker": 0, "after_message": m,
                        "restart_after_ms": 5_000}]
    yield SHRUNK, SHRUNK_FAULTS


def _lost(run: RunResult):
    ledger = run.ledger
    after_ack = ledger.lost_after_ack()
    if after_ack:
        return after_ack[0], "was lost after it was acknowledged"
    if ledger.lost():
        return ledger.lost()[0], ("was lost, and it was never acknowledged: the producer "
                                  "could not know")
    if ledger.unseen():
        return ledger.unseen()[0], "was never processed (the run did not finish)"
    return None


def check_durability(config, client: str | None = None, require: dict | None = None,
                     minimal: bool = False) -> CheckResult:
    """On three brokers with ``replication.factor=3``: every single failure of the partition's
    leader (a process crash or a machine failure, after each message), and the ISR shrinking to
    the leader before its machine fails. Nothing may be lost, acknowledged or not."""
    name = "check_durability"
    forced = {**DURABILITY_FORCED, **({"client.model": client} if client else {})}
    ready = prepare(name, config, DURABILITY_BASE, forced, require, minimal)
    if isinstance(ready, CheckResult):
        return ready
    cfg, notes = ready
    runs = 0
    for variant, faults in durability_plans():
        run_cfg = {**cfg, **variant}
        run = simulate(run_cfg, faults, 0, snapshots=False)
        runs += 1
        bad = _lost(run)
        if bad is not None:
            message, verb = bad
            return CheckResult(name, FAIL, f"message {message} {verb}{sentence_end(run)}",
                               details=run.explain(message), runs=runs,
                               counterexample={"config": run_cfg, "faults": faults, "seed": 0,
                                               "message": message}, run=run, notes=notes)
    return CheckResult(name, PASS, f"no message lost in {runs} runs on 3 brokers: the leader's "
                                   "process crashes or its machine fails after each message, "
                                   "and once after the ISR shrank to the leader", runs=runs,
                       notes=notes)


# -- the learner's function ------------------------------------------------------------------
# Runs whose lost messages differ in the ways that matter: acks=0 (lost, never acknowledged),
# acks=1 (lost after the acknowledgement), acks=all with min.insync.replicas=2 (truncated from
# the old leader, sent again, not lost), acks=all after the ISR shrank (all lost after acks).
CLASSIFY_PRESETS = ("acks-all-min-isr", "acks-1-leader-failover", "acks-0-fire-and-forget",
                    "acks-all-isr-shrunk", "unclean-leader-election")


def _why(run: RunResult, m: int, wrongly_in: bool) -> str:
    msg = run.ledger.messages[m]
    if wrongly_in:
        if msg.processed:
            also = (" (a copy was truncated from the old leader, but the producer sent it "
                    "again)" if msg.truncated else "")
            return f"message {m} is in the log and was processed{also}: it was not lost"
        if msg.acked and not msg.confirmed:
            return (f"message {m} was lost, but it was never acknowledged: with acks=0 the "
                    "producer's callback fires without any answer from the broker (no offset)")
        return f"message {m} was lost, but it was never acknowledged"
    return (f"message {m} was acknowledged with an offset and is no longer in the log: it was "
            "lost after it was acknowledged")


def check_acknowledged_but_lost(fn) -> CheckResult:
    """``fn(run)`` must return the ids of the messages lost after they were acknowledged (the
    producer got an offset back, and no copy is in the log at the end), on several durability
    presets."""
    from .. import scenarios

    name = "check_acknowledged_but_lost"
    if is_stub(fn):
        return not_done(name, "write the function `acknowledged_but_lost(run)`")
    if not callable(fn):
        return CheckResult(name, FAIL, f"acknowledged_but_lost should be a function, not a "
                                       f"{type(fn).__name__}")
    problem = signature_problem(fn, "acknowledged_but_lost", ("run",))
    if problem:
        return CheckResult(name, FAIL, problem)
    for i, preset in enumerate(CLASSIFY_PRESETS):
        run = scenarios.run(preset)
        try:
            got = fn(run)
        except NotImplementedError:
            return not_done(name, "write the function `acknowledged_but_lost(run)`")
        except Exception as exc:
            return CheckResult(name, FAIL, f"acknowledged_but_lost() raised "
                                           f"{type(exc).__name__}: {exc} ({learner_line(exc, fn)}) "
                                           f"on the run of {preset!r}", runs=i + 1, run=run)
        try:
            ids = sorted(int(m) for m in got)
        except (TypeError, ValueError):
            return CheckResult(name, FAIL, f"acknowledged_but_lost() should return message ids "
                                           f"(a list of ints), not {got!r}", runs=i + 1, run=run)
        want = sorted(run.ledger.lost_after_ack())
        if ids != want:
            extra = [m for m in ids if m not in want]
            missing = [m for m in want if m not in ids]
            scenario = scenarios.get(preset)
            first = extra[0] if extra else missing[0]
            if first not in range(len(run.ledger.messages)):
                why = (f"there is no message {first} in this run of {len(run.ledger.messages)} "
                       "messages")
            else:
                why = _why(run, first, bool(extra))
            summary = (f"on {preset!r} ({scenario.title}) your function returned "
                       f"{len(ids)} messages, and {len(want)} were lost after they were "
                       f"acknowledged; {why}")
            return CheckResult(name, FAIL, summary, runs=i + 1, run=run,
                               details=run.explain(first)
                               if first in range(len(run.ledger.messages)) else "")
    return CheckResult(name, PASS, f"the right messages on all {len(CLASSIFY_PRESETS)} runs "
                                   f"({', '.join(CLASSIFY_PRESETS)})",
                       runs=len(CLASSIFY_PRESETS))

