"""Checks of a learner's *configuration*: each runs it under many fault schedules and
reports the first run that breaks the property, with the model's explanation."""

from __future__ import annotations

from ..trace import RunResult
from ._runner import crash_schedules, explore, prepare
from .result import CheckResult

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
        return ledger.unseen()[0], "was never processed (the run did not finish)"
    return None


def _duplicated(run: RunResult):
    dups = run.ledger.duplicates()
    if dups:
        m = dups[0]
        return m, f"was processed {len(run.ledger.messages[m].processed)} times"
    return None


def _exactly_once(run: RunResult):
    return _lost(run) or _duplicated(run)


def check_no_loss(config, client: str | None = None, random_seeds: int = 8) -> CheckResult:
    """At least once: no message is lost, whatever point the consumer crashes at."""
    ready = prepare("check_no_loss", config, CONSUMER_BASE, _forced(client))
    if isinstance(ready, CheckResult):
        return ready
    cfg, notes = ready
    return explore("check_no_loss", cfg, crash_schedules(cfg, random_seeds), _lost,
                   "no message lost", notes)


def check_no_duplicates(config, client: str | None = None,
                        random_seeds: int = 8) -> CheckResult:
    """At most once: no message is processed twice, whatever point the consumer crashes at."""
    ready = prepare("check_no_duplicates", config, CONSUMER_BASE, _forced(client))
    if isinstance(ready, CheckResult):
        return ready
    cfg, notes = ready
    return explore("check_no_duplicates", cfg, crash_schedules(cfg, random_seeds), _duplicated,
                   "no message processed twice", notes)


def check_exactly_once(config, client: str | None = None, random_seeds: int = 8) -> CheckResult:
    """Consume-transform-produce (``pipeline=true``): the downstream reader processes every
    message exactly once, whatever point the transform crashes at."""
    ready = prepare("check_exactly_once", config, PIPELINE_BASE,
                    _forced(client, pipeline=True))
    if isinstance(ready, CheckResult):
        return ready
    cfg, notes = ready
    return explore("check_exactly_once", cfg, crash_schedules(cfg, random_seeds),
                   _exactly_once, "every message processed exactly once downstream", notes)


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


def check_idempotent_producer(config, client: str | None = None) -> CheckResult:
    """Every single lost acknowledgement and every single lost produce request: no copy of a
    message twice in the log, nothing lost."""
    ready = prepare("check_idempotent_producer", config, PRODUCER_BASE, _forced(client))
    if isinstance(ready, CheckResult):
        return ready
    cfg, notes = ready
    return explore("check_idempotent_producer", cfg, _producer_schedules(MESSAGES),
                   _producer_safe, "no message written twice and none lost", notes,
                   kind="runs, each losing one acknowledgement or one produce request")
