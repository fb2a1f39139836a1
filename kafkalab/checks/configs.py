"""Checks of a learner's *configuration*: each runs it under many fault schedules and
reports the first run that breaks the property, with the model's explanation."""

from __future__ import annotations

from ..model import simulate
from ..model.config import resolve
from ..trace import RunResult
from ._runner import explore, prepare, sentence_end, timings
from .result import FAIL, PASS, CheckResult

MESSAGES = 12
# The topic is written before the consumer starts, so the consumer side is deterministic.
CONSUMER_BASE = {"producer.send.interval.ms": 0, "consumer.start.ms": 20,
                 "auto.offset.reset": "earliest", "max.poll.records": 5}
PIPELINE_BASE = {**CONSUMER_BASE, "linger.ms": 0}
PRODUCER_BASE = {"producer.send.interval.ms": 1, "linger.ms": 0, "request.timeout.ms": 50,
                 "retry.backoff.ms": 10, "auto.offset.reset": "earliest",
                 "enable.auto.commit": False, "commit.strategy": "per-batch"}
_SAFETY = {"max.simulated.ms": 60_000}  # a run that never drains stops early


def _forced(client: str | None, **extra) -> dict:
    forced = {"messages": MESSAGES, **_SAFETY, **extra}
    if client is not None:
        forced["client.model"] = client
    return forced


def _lost(run: RunResult):
    ledger = run.ledger
    if ledger.lost():
        return ledger.lost()[0], "was lost"
    if ledger.unseen():
        m = ledger.unseen()[0]
        return m, _why_unseen(run, m)
    return None


def _why_unseen(run: RunResult, m: int) -> str:
    """Why message ``m`` was never processed, from the run's structure (never its text)."""
    copies = run.ledger.messages[m].copies
    reader = "the read_committed reader" if run.config.get("pipeline") else "the consumer"
    if copies and all(c.status == "open" for c in copies) and \
            run.config.get("isolation.level") == "read_committed":
        return (f"was never processed: it was written to the {copies[0].topic} topic inside a "
                f"transaction that was never committed, so the last stable offset never moved "
                f"past it and {reader} saw nothing")
    if not copies and run.ledger.messages[m].sends:
        where = "output" if run.config.get("pipeline") else "input"
        return f"was never processed: it never reached the {where} topic"
    end = run.events[-1].t if run.events else 0.0
    limit = run.config["max.simulated.ms"]
    if end >= limit:
        return (f"was never processed (the run had not finished after {limit / 1000:g} s of "
                "simulated time)")
    return (f"was never processed: the run stopped at t={end:,.0f} ms with nothing left that "
            "could deliver it")


def _duplicated(run: RunResult):
    dups = run.ledger.duplicates()
    if dups:
        m = dups[0]
        return m, f"was processed {len(run.ledger.messages[m].processed)} times"
    return None


def _row_lost(row: dict) -> bool:
    return row["lost"] > 0 or not row["drained"]


def _row_duplicated(row: dict) -> bool:
    return row["duplicates"] > 0


def _exactly_once(run: RunResult):
    return _lost(run) or _duplicated(run)


def _timed(cfg: dict) -> list[dict]:
    return timings(resolve(cfg), cfg["messages"])


def check_no_loss(config, client: str | None = None, random_seeds: int = 8,
                  require: dict | None = None, minimal: bool = False) -> CheckResult:
    """At least once: no message is lost, whatever point the consumer crashes at (and, with
    auto-commit on, whenever its timer fires: see :func:`kafkalab.checks.timings`).
    ``require``/``minimal``: the task's stated constraints (:mod:`kafkalab.checks.rules`)."""
    ready = prepare("check_no_loss", config, CONSUMER_BASE, _forced(client), require, minimal)
    if isinstance(ready, CheckResult):
        return ready
    cfg, notes = ready
    return explore("check_no_loss", cfg, _lost, _row_lost, "no message lost", notes,
                   random_seeds=random_seeds, timing=_timed(cfg))


def check_no_duplicates(config, client: str | None = None, random_seeds: int = 8,
                        require: dict | None = None, minimal: bool = False) -> CheckResult:
    """At most once: no message is processed twice, whatever point the consumer crashes at."""
    ready = prepare("check_no_duplicates", config, CONSUMER_BASE, _forced(client), require,
                    minimal)
    if isinstance(ready, CheckResult):
        return ready
    cfg, notes = ready
    return explore("check_no_duplicates", cfg, _duplicated, _row_duplicated,
                   "no message processed twice", notes, random_seeds=random_seeds,
                   timing=_timed(cfg))


def check_exactly_once(config, client: str | None = None, random_seeds: int = 8,
                       require: dict | None = None, minimal: bool = False) -> CheckResult:
    """Consume-transform-produce (``pipeline=true``): the downstream reader processes every
    message exactly once, whatever point the transform crashes at."""
    ready = prepare("check_exactly_once", config, PIPELINE_BASE,
                    _forced(client, pipeline=True), require, minimal)
    if isinstance(ready, CheckResult):
        return ready
    cfg, notes = ready
    return explore("check_exactly_once", cfg, _exactly_once,
                   lambda row: _row_lost(row) or _row_duplicated(row),
                   "every message processed exactly once downstream", notes,
                   random_seeds=random_seeds, timing=_timed(cfg))


def _producer_schedules(messages: int):
    for kind in ("lose_response", "lose_request"):
        for m in range(messages):
            yield [{"type": kind, "message": m}], 0


def _producer_safe(run: RunResult):
    ledger = run.ledger
    log_dups = ledger.log_duplicates()
    if log_dups:
        m = log_dups[0]
        offsets = " and ".join(str(c.offset) for c in ledger.messages[m].visible_copies)
        return m, f"is in the log {len(ledger.messages[m].visible_copies)} times (offsets " \
                  f"{offsets})"
    return _lost(run) or _duplicated(run)


def check_idempotent_producer(config, client: str | None = None, require: dict | None = None,
                              minimal: bool = False) -> CheckResult:
    """Every single lost acknowledgement and every single lost produce request: no copy of a
    message twice in the log, nothing lost."""
    ready = prepare("check_idempotent_producer", config, PRODUCER_BASE, _forced(client),
                    require, minimal)
    if isinstance(ready, CheckResult):
        return ready
    cfg, notes = ready
    return explore("check_idempotent_producer", cfg, _producer_safe,
                   lambda row: row["log_duplicates"] > 0 or _row_lost(row)
                   or _row_duplicated(row),
                   "no message written twice and none lost", notes,
                   kinds=("lost_ack", "lost_request"), fallback=_producer_schedules(MESSAGES),
                   kind="runs, each losing one acknowledgement or one produce request")


COST_BASE = {**CONSUMER_BASE, "max.poll.records": 500}
COST_FORCED = {"messages": 500, "processing.ms": 0.2, "network.rtt.ms": 2.0,
               "commit.write.ms": 1.0, **_SAFETY}


def check_fast_and_safe(config, min_throughput: float = 2000, client: str | None = None,
                        random_seeds: int = 8, require: dict | None = None) -> CheckResult:
    """Throughput of at least ``min_throughput`` messages/s on the commit-cost workload
    (500 records, 0.2 ms of processing each, 2 ms round trips, 1 ms per commit write) *and*
    no message lost under the crash schedules of :func:`check_no_loss`."""
    name = "check_fast_and_safe"
    forced = {**COST_FORCED, **({"client.model": client} if client else {})}
    ready = prepare(name, config, COST_BASE, forced, require)
    if isinstance(ready, CheckResult):
        return ready
    cfg, notes = ready
    run = simulate(cfg, [], 0, snapshots=False)
    speed = run.outcome["throughput_per_s"]
    if speed < min_throughput:
        commits = sum(1 for e in run.events if e.kind == "commit")
        return CheckResult(name, FAIL, f"{speed:,.0f} messages/s, below the target of "
                                       f"{min_throughput:,.0f}",
                           details=f"The run made {commits} commits for 500 messages; each "
                                   "synchronous commit waits for a round trip to the group "
                                   "coordinator.", runs=1, run=run, notes=notes)
    safe = check_no_loss(config, client=client, random_seeds=random_seeds)
    if not safe.done or not safe.passed:
        safe.check = name
        safe.summary = f"fast enough ({speed:,.0f} messages/s), but {safe.summary}"
        return safe
    return CheckResult(name, PASS, f"{speed:,.0f} messages/s (target ≥ {min_throughput:,.0f}) "
                                   f"and {safe.summary}", runs=safe.runs + 1, notes=notes)


RESTART_BASE = {"producer.send.interval.ms": 1, "linger.ms": 0, "request.timeout.ms": 1000,
                "auto.offset.reset": "earliest", "enable.auto.commit": False,
                "commit.strategy": "per-batch"}


def _restart_plans(messages: int):
    """A lost acknowledgement, then a restart of the producer application one or two
    messages later (with and without a zombie); and plain restarts without a lost ack."""
    for m in range(messages - 1):
        yield [{"type": "producer_restart", "after_message": m}]
        for gap in (1, 2):
            if m + gap < messages:
                for zombie in (False, True):
                    yield [{"type": "lose_response", "message": m},
                           {"type": "producer_restart", "after_message": m + gap,
                            "zombie": zombie}]


def _restart_in_scope(run: RunResult) -> bool:
    """The story this check is about: the new instance is up while the old one is still
    unsure about the lost acknowledgement (before its retry). When the old instance retries
    first, it may commit its transaction before the new one starts, and the new one resend:
    another story (transactions do not de-duplicate what an application sends again)."""
    lost = [f["message"] for f in run.faults if f["type"] == "lose_response"]
    if not lost:
        return True
    back = next((e.t for e in run.events if e.kind == "init_producer" and "#" in e.actor),
                None)
    settled = next((e.t for e in run.events if e.kind in ("retry", "gave_up")
                    and lost[0] in e.data.get("messages", ())), None)
    return back is not None and (settled is None or back < settled)


def check_producer_restart(config, client: str | None = None, require: dict | None = None,
                           minimal: bool = False) -> CheckResult:
    """The producer application restarts (a deployment, a crash) while an acknowledgement is
    lost, with and without the old instance living on as a zombie, and resends what it has no
    acknowledgement for: the consumer must process every message exactly once."""
    name = "check_producer_restart"
    ready = prepare(name, config, RESTART_BASE,
                    _forced(client, **{"transaction.messages": 5, "restart.delay.ms": 100.0}),
                    require, minimal)
    if isinstance(ready, CheckResult):
        return ready
    cfg, notes = ready
    runs = 0
    for faults in _restart_plans(MESSAGES):
        run = simulate(cfg, faults, 0, snapshots=False)
        if not _restart_in_scope(run):
            continue
        runs += 1
        bad = _exactly_once(run)
        if bad is not None:
            message, verb = bad
            return CheckResult(name, FAIL, f"message {message} {verb}{sentence_end(run)}",
                               details=run.explain(message), runs=runs,
                               counterexample={"config": cfg, "faults": faults, "seed": 0,
                                               "message": message}, run=run, notes=notes)
    return CheckResult(name, PASS, f"every message processed exactly once in {runs} runs where "
                                   "the producer application restarts, and comes back "
                                   "while an acknowledgement is lost (with and without a "
                                   "zombie)", runs=runs,
                       notes=notes)
