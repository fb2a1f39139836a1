"""Checks of a learner's *code*: an idempotent sink.

The learner writes ``apply(db, message_id, value)``: message ``message_id`` is a deposit of
``value`` into an account whose balance lives in ``db["balance"]``. At-least-once delivery
hands some messages over twice or more (re-deliveries after consumer crashes); an idempotent
``apply`` changes the balance once per message, however often it is called.

The check replays real runs of the model: every record the consumer processed (from the
trace's ``process`` events: first deliveries and re-deliveries alike, in order) is passed to
the learner's function, with a fresh ``db`` per run.
"""

from __future__ import annotations

from ..model import simulate
from ..trace import RunResult
from ._runner import circumstances, is_stub, learner_line, signature_problem
from .configs import CONSUMER_BASE, MESSAGES
from .result import FAIL, PASS, CheckResult, not_done

AT_LEAST_ONCE = {**CONSUMER_BASE, "messages": MESSAGES, "enable.auto.commit": False,
                 "commit.strategy": "per-batch"}


def deposit(message_id: int) -> int:
    """The amount message ``message_id`` deposits (distinct, so a sum names its parts)."""
    return 10 * (message_id + 1)


def replay_runs(random_seeds: int = 6) -> list[tuple[RunResult, list, int]]:
    """At-least-once runs with re-deliveries: single crashes at a few points, then random
    crashes."""
    plans = [([{"type": "consumer_crash", "point": point, "index": k}], 0)
             for point, k in (("after_processing", 3), ("before_commit", 2),
                              ("after_processing", 9))]
    plans += [([{"type": "random", "consumer_crash": 0.15}], seed)
              for seed in range(random_seeds)]
    return [(simulate(AT_LEAST_ONCE, faults, seed, snapshots=False), faults, seed)
            for faults, seed in plans]


def deliveries(run: RunResult) -> list[tuple[int, int, bool]]:
    """(message id, offset, is a re-delivery) for every record the sink stage processed."""
    seen: set[int] = set()
    out = []
    for e in run.events:
        if e.kind != "process" or e.data.get("transform") or not e.actor.startswith(
                run.ledger.sink_prefix):
            continue
        for _p, off, m, _t, _applied in e.data["records"]:
            out.append((m, off, m in seen))
            seen.add(m)
    return out


def check_idempotent_sink(apply, random_seeds: int = 6) -> CheckResult:
    """Replay every delivery of several crash-ridden at-least-once runs into ``apply`` and
    check that each message changes the balance exactly once."""
    name = "check_idempotent_sink"
    if is_stub(apply):
        return not_done(name, "define apply(db, message_id, value)")
    if not callable(apply):
        return CheckResult(name, FAIL, f"`apply` should be a function "
                                       f"apply(db, message_id, value), not a "
                                       f"{type(apply).__name__}")
    wrong = signature_problem(apply, "apply", ("db", "message_id", "value"))
    if wrong:
        return CheckResult(name, FAIL, wrong)
    runs = replay_runs(random_seeds)
    total_calls = redeliveries = 0
    for run, faults, seed in runs:
        db: dict = {"balance": 0}
        expected = 0
        applied: set[int] = set()
        for m, off, again in deliveries(run):
            before = db.get("balance")
            try:
                apply(db, m, deposit(m))
            except NotImplementedError:
                return not_done(name, "apply() still raises NotImplementedError")
            except Exception as exc:
                return CheckResult(
                    name, FAIL, f"apply(db, {m}, {deposit(m)}) raised "
                                f"{type(exc).__name__}: {exc} ({learner_line(exc, apply)})",
                    details="db before the call: " + _short(db), runs=total_calls)
            total_calls += 1
            redeliveries += again
            if m not in applied:
                applied.add(m)
                expected += deposit(m)
            after = db.get("balance") if isinstance(db, dict) else None
            if after == expected:
                continue
            counterexample = {"config": AT_LEAST_ONCE, "faults": faults, "seed": seed,
                              "message": m}
            if again:
                summary = (f"message {m} (offset {off}) was delivered again "
                           f"{circumstances(run)}, and apply() changed the balance from "
                           f"{before} to {after}; it should have stayed {expected}")
                details = run.explain(m)
            else:
                summary = (f"the first delivery of message {m} should add {deposit(m)} to the "
                           f"balance: it went from {before} to {after}, expected {expected}")
                details = ("Is some state kept outside `db` (a global set survives from one "
                           "run to the next)? Keep the applied ids in `db` itself, next to the "
                           "balance, so they are saved together." if after == before else "")
            return CheckResult(name, FAIL, summary, details=details, runs=total_calls,
                               counterexample=counterexample, run=run)
    return CheckResult(name, PASS, f"every message changed the balance exactly once: "
                                   f"{total_calls} deliveries replayed from {len(runs)} "
                                   f"crash-ridden runs, {redeliveries} of them re-deliveries",
                       runs=total_calls)


def _short(db) -> str:
    text = repr(db)
    return text if len(text) < 200 else text[:197] + "..."
