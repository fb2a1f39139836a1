"""Checks for consumer groups and rebalances (issue 17, notebook 03b).

* :func:`check_group_crashes` runs a learner's configuration for a group of consumers over
  many group fault plans: each of two members crashes at several moments and at several points
  of its loop, a member joins (scale out) at several moments, one leaves (scale in), one
  restarts, and a record takes longer than ``max.poll.interval.ms`` (the member is pushed out of
  the group), each on a steady load and on a backlog. Nothing may be lost, and a member that
  dies or is pushed out may cost at most one record processed twice (the one in flight); a
  graceful scale event none.
* :func:`check_scale_without_stop` runs the scale events only (joins at several moments, a
  member leaving, a graceful restart): no member may give up a partition that the next
  assignment gives straight back to it (the eager protocol's stop of the whole group), and
  nothing may be processed twice or lost.
* :func:`check_rebalance_predictions` compares a learner's yes/no predictions with runs of
  the rebalance presets.

Facts: /work/shared/reference/kafka-semantics.md §G (the new owner starts at the committed
offset; eager revokes everything, cooperative only what moves, in a second rebalance; a killed
member runs no listener; static membership spares the rebalance, not the uncommitted work; an
evicted member keeps processing, only its commit is fenced; the group uses the first assignor).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ..model import simulate
from ..model.config import resolve
from ..model.faults import MEMBER_FAULTS
from ..model.group import chosen_assignor, protocol_of
from ..trace import RunResult
from ._runner import is_stub, prepare, sentence_end
from .result import FAIL, PASS, CheckResult, not_done

PARTITIONS = 4
# The group's workload: 300 messages over 3 s on 4 partitions, 15 ms of work per record. The
# learner may change the members and the client's settings; the load is the check's.
GROUP_BASE = {"consumers": 2, "auto.offset.reset": "earliest", "linger.ms": 0}
GROUP_FORCED = {"messages": 300, "partitions": PARTITIONS, "producer.send.interval.ms": 10,
                "processing.ms": 15}
# ... and the same load with a backlog: the group starts 1.5 s late, so its first polls
# return full batches.
BACKLOG = {"consumer.start.ms": 1500}
CRASH_TIMES = (700, 1600, 2500)
SCALE_TIMES = (500, 1500, 2500)
LOOP_CRASHES = ("after_poll", "after_processing", "before_commit")
SLOW_MESSAGE = 100


def group_plans(effective: dict, start: float = 0.0) -> list[list[dict]]:
    """The group fault plans of :func:`check_group_crashes`: members 0 and 1 each crash at
    three moments and at the 9th pass through three points of the loop; a member joins at
    three moments; member 1 leaves; member 0 restarts; a record takes longer than the
    configuration's ``max.poll.interval.ms``."""
    plans: list[list[dict]] = []
    for member in (0, 1):
        plans += [[{"type": "consumer_crash", "point": "time", "at_ms": start + t,
                    "member": member}] for t in CRASH_TIMES]
        plans += [[{"type": "consumer_crash", "point": p, "index": 9, "member": member}]
                  for p in LOOP_CRASHES]
    plans += scale_plans(start)
    plans.append([{"type": "slow_processing", "message": SLOW_MESSAGE,
                   "extra_ms": float(effective["max.poll.interval.ms"]) + 1000}])
    return plans


def scale_plans(start: float = 0.0) -> list[list[dict]]:
    """Graceful membership changes: a member joins at three moments, member 1 leaves, member
    0 restarts (a deploy)."""
    plans = [[{"type": "member_join", "at_ms": start + t}] for t in SCALE_TIMES]
    plans.append([{"type": "member_leave", "member": 1, "at_ms": start + 1500}])
    plans.append([{"type": "member_restart", "member": 0, "at_ms": start + 1500}])
    return plans


def _workloads(effective: dict):
    yield {}, 0.0
    yield BACKLOG, float(BACKLOG["consumer.start.ms"])


def _myths(effective: dict, learner: dict, run: RunResult, graceful: bool) -> list[str]:
    """Sentences naming what the configuration relied on, when the run shows it does not help
    (the cause, never the fix)."""
    out = []
    members = int(effective["consumers"])
    if members > PARTITIONS:
        out.append(f"the group has {members} members for {PARTITIONS} partitions: the members "
                   "beyond the partition count are assigned nothing, so they neither speed the "
                   "work up nor change the committed offset a new owner starts from")
    if effective.get("group.instance.id") is not None:
        out.append("group.instance.id spares a rebalance only for a member that comes back "
                   "within session.timeout.ms: " + (
                       "a member joining or leaving still rebalances the group" if graceful
                       else "the restarted member (or a new owner) still resumes at the "
                            "committed offset"))
    crashed = any(e.kind == "crash" for e in run.events)
    if effective.get("commit.on.revoke") and crashed and not graceful:
        out.append("a killed process runs no rebalance listener, so commit.on.revoke commits "
                   "nothing on a crash")
    strategy = str(effective["partition.assignment.strategy"])
    first = chosen_assignor(strategy)
    if "partition.assignment.strategy" in learner and "," in strategy \
            and "cooperative-sticky" in strategy and protocol_of(first) == "eager":
        out.append(f"partition.assignment.strategy={strategy}: the group assigns with the "
                   f"first assignor of the list, {first}, which rebalances eagerly")
    return out


def _with_myths(summary: str, myths: list[str]) -> str:
    return summary + ("; " + "; ".join(myths) if myths else "")


def _first_processed_twice(run: RunResult) -> int | None:
    dups = run.ledger.duplicates()
    return dups[0] if dups else None


def _loss(run: RunResult) -> tuple[int, str] | None:
    if run.ledger.lost():
        return run.ledger.lost()[0], "was lost"
    if run.ledger.unseen():
        return run.ledger.unseen()[0], "was never processed (the run did not finish)"
    return None


def _allowed(plan: list[dict], run: RunResult) -> int:
    """Records that may run twice: one per member killed or pushed out of the group."""
    return sum(1 for e in run.events if e.kind == "crash") + \
        sum(1 for f in plan if f["type"] == "slow_processing")


def _fail(name: str, summary: str, run: RunResult, cfg: dict, plan: list, message: int,
          runs: int, notes: list[str]) -> CheckResult:
    return CheckResult(name, FAIL, summary, details=run.explain(message), runs=runs,
                       counterexample={"config": cfg, "faults": plan, "seed": 0,
                                       "message": message}, run=run, notes=notes)


class _GroupRun(NamedTuple):
    """One run of a group check: the learner's configuration as given and resolved, the run's
    configuration (with the workload's variant), whether that is the backlog, its plan, the
    run, how many runs so far and the check's notes."""

    name: str
    learner: Any
    effective: dict
    cfg: dict
    backlog: bool
    plan: list[dict]
    run: RunResult
    runs: int
    notes: list[str]

    def myths(self, graceful: bool) -> list[str]:
        return _myths(self.effective, self.learner, self.run, graceful)

    def fail(self, summary: str, message: int) -> CheckResult:
        return _fail(self.name, summary, self.run, self.cfg, self.plan, message, self.runs,
                     self.notes)


def _check_group(name: str, config, client: str | None, require: dict | None, minimal: bool,
                 plans: Callable[[dict, float], list[list[dict]]],
                 judge: Callable[[_GroupRun], CheckResult | None],
                 passed: Callable[[int], str]) -> CheckResult:
    """Prepare the learner's configuration for a group of consumers (the group's base and
    load, the client if given), then run each plan of ``plans`` on each workload: the first
    failure ``judge`` reads off a run is the result, else a pass that ``passed`` words."""
    forced = {**GROUP_FORCED, **({"client.model": client} if client else {})}
    ready = prepare(name, config, GROUP_BASE, forced, require, minimal)
    if isinstance(ready, CheckResult):
        return ready
    cfg, notes = ready
    effective = resolve(cfg)
    runs = 0
    for variant, start in _workloads(effective):
        run_cfg = {**cfg, **variant}
        for plan in plans(effective, start):
            run = simulate(run_cfg, plan, 0, snapshots=False)
            runs += 1
            failed = judge(_GroupRun(name, config, effective, run_cfg, bool(variant), plan, run,
                                     runs, notes))
            if failed is not None:
                return failed
    return CheckResult(name, PASS, passed(runs), runs=runs, notes=notes)


def _crash_failure(r: _GroupRun) -> CheckResult | None:
    """Nothing lost; at most one record processed twice per member killed or pushed out, none
    for a graceful scale event."""
    graceful = r.plan[0]["type"] in MEMBER_FAULTS
    run = r.run
    lost = _loss(run)
    if lost is not None:
        message, verb = lost
        return r.fail(_with_myths(f"message {message} {verb}{sentence_end(run)}",
                                  r.myths(graceful)), message)
    dups = run.ledger.duplicates()
    allowed = _allowed(r.plan, run)
    if len(dups) > allowed:
        what = ("a graceful change of membership should cost none" if not allowed else
                f"at most {allowed} (the record in flight when a member died or was "
                "pushed out of the group)")
        backlog = " on a backlog (the group started 1.5 s late)" if r.backlog else ""
        summary = (f"{len(dups)} records were processed twice{backlog}, {what}: "
                   f"message {dups[0]} was processed twice{sentence_end(run)}; the "
                   "partition's next owner started at its committed offset")
        return r.fail(_with_myths(summary, r.myths(graceful)), dups[0])
    return None


def check_group_crashes(config, client: str | None = None, require: dict | None = None,
                        minimal: bool = False) -> CheckResult:
    """A group on four partitions under every plan of :func:`group_plans`, on a steady load
    and on a backlog: nothing lost; a member that dies or is pushed out of the group costs at
    most one record processed twice, a graceful scale event none."""
    return _check_group(
        "check_group_crashes", config, client, require, minimal, group_plans, _crash_failure,
        lambda runs: f"nothing lost and at most the record in flight processed twice in {runs} "
                     "group runs: two members crashing at several moments and points of the "
                     "loop, scale out, scale in, a restart and max.poll.interval.ms exceeded, "
                     "on a steady load and on a backlog")


def stopped_partitions(run: RunResult) -> tuple | None:
    """The first partition a member gave up in a rebalance and was given straight back by the
    next assignment of the same process: (member, partitions, revoked at, back at)."""
    events = run.events
    for i, e in enumerate(events):
        if e.kind != "revoke" or e.data.get("lost"):
            continue
        later = next((x for x in events[i + 1:] if x.actor == e.actor
                      and x.kind in ("join", "restart", "rebalance", "crash")), None)
        if later is None or later.kind != "rebalance":
            continue  # the process closed or died: a new process is another story
        kept = sorted(set(e.data["partitions"]) & set(later.data["assignment"]))
        if kept:
            return e.actor, kept, e.t, later.t
    return None


def _stop_failure(r: _GroupRun) -> CheckResult | None:
    """No member gives up a partition it is given straight back; nothing processed twice or
    lost."""
    run = r.run
    myths = r.myths(graceful=True)
    stop = stopped_partitions(run)
    if stop is not None:
        member, kept, t0, t1 = stop
        summary = (f"{member} gave up partition{'s' if len(kept) > 1 else ''} "
                   f"{', '.join(map(str, kept))} at t={t0:,.0f} ms and was given "
                   f"{'them' if len(kept) > 1 else 'it'} straight back at "
                   f"t={t1:,.0f} ms: it stopped work on a partition it kept, "
                   f"{sentence_end(run).strip()} (every member revokes all its "
                   "partitions before the group reassigns them)")
        message = next((m.id for m in run.ledger.messages if m.processed), 0)
        return r.fail(_with_myths(summary, myths), message)
    lost = _loss(run)
    if lost is not None:
        message, verb = lost
        return r.fail(_with_myths(f"message {message} {verb}{sentence_end(run)}", myths),
                      message)
    dup = _first_processed_twice(run)
    if dup is not None:
        summary = (f"message {dup} was processed twice{sentence_end(run)}: its "
                   "partition moved to another member at the committed offset, and "
                   "what the old owner had processed after that ran again")
        return r.fail(_with_myths(summary, myths), dup)
    return None


def check_scale_without_stop(config, client: str | None = None, require: dict | None = None,
                             minimal: bool = False) -> CheckResult:
    """A group on four partitions scales out (a member joins at three moments), scales in (a
    member leaves) and restarts a member, on a steady load and on a backlog: no member may stop
    work on a partition it keeps, and nothing may be processed twice or lost."""
    return _check_group(
        "check_scale_without_stop", config, client, require, minimal,
        lambda effective, start: scale_plans(start), _stop_failure,
        lambda runs: f"no partition stopped at a member that kept it, nothing processed twice "
                     f"or lost in {runs} runs: scale out at three moments, scale in and a "
                     "restart, on a steady load and on a backlog")


# -- predictions ------------------------------------------------------------------------------
def _runs(preset: str, overrides: dict | None = None, faults=None) -> list[RunResult]:
    from .. import scenarios

    return [scenarios.run(preset, overrides=overrides, faults=faults, snapshots=False)]


def _crash_runs(preset: str, overrides: dict | None = None) -> list[RunResult]:
    """The preset's crash at three moments (not one lucky time)."""
    from .. import scenarios

    out = []
    for t in (150, 230, 290):
        faults = [{"type": "consumer_crash", "point": "time", "at_ms": t, "member": 0}]
        out.append(scenarios.run(preset, overrides=overrides, faults=faults, snapshots=False))
    return out


def _any_dups(runs: list[RunResult]) -> bool:
    return any(r.outcome["duplicates"] for r in runs)


def _scale_out_runs() -> list[RunResult]:
    from .. import scenarios

    joins = [f for f in scenarios.get("commit-on-revoke").faults if f["type"] == "member_join"]
    return [scenarios.run("commit-on-revoke", faults=joins, snapshots=False),
            scenarios.run("commit-on-revoke", faults=joins, seed=0, snapshots=False)]


def _last_processed(run: RunResult) -> float:
    return max(e.t for e in run.events if e.kind == "process")


def _fifth_member_runs() -> list[RunResult]:
    from .. import scenarios

    return [scenarios.run("eager-vs-cooperative", faults=[], overrides={"consumers": n},
                          snapshots=False) for n in (4, 5)]


# question -> (what the runs are, how the truth is read off them, what the runs showed)
QUESTIONS: dict[str, tuple] = {
    "member crash: records run twice": (
        "rebalance-duplicates (auto-commit), consumer-0 killed at three moments",
        lambda: _any_dups(_crash_runs("rebalance-duplicates")),
        "the partition's new owner started at the committed offset, before what the dead "
        "member had processed since its last auto-commit"),
    "member crash with group.instance.id: records run twice": (
        "rebalance-duplicates/static, consumer-0 killed at three moments",
        lambda: _any_dups(_crash_runs("rebalance-duplicates", {"group.instance.id": "app"})),
        "the restarted member kept its partitions without a rebalance, but it resumed at the "
        "committed offset"),
    "member crash with commit.on.revoke: records run twice": (
        "rebalance-duplicates with commit.on.revoke=true, consumer-0 killed at three moments",
        lambda: _any_dups(_crash_runs("rebalance-duplicates", {"commit.on.revoke": True})),
        "a killed process runs no rebalance listener: nothing was committed on its way down"),
    "scale out with commit.on.revoke: records run twice": (
        "commit-on-revoke with its member_join only (no crash), two seeds",
        lambda: _any_dups(_scale_out_runs()),
        "the listener committed each moved partition's processed offsets before the hand-over, "
        "so the new owner started where the old one stopped"),
    "a fifth member on four partitions: the work finishes sooner": (
        "eager-vs-cooperative without the join, 4 and then 5 members",
        lambda: (lambda rs: _last_processed(rs[1]) < _last_processed(rs[0]))(
            _fifth_member_runs()),
        "a partition is read by one member of a group at a time: the fifth member was assigned "
        "nothing, and its join was one more rebalance"),
    "past max.poll.interval.ms: the member stops processing at once": (
        "max-poll-interval-exceeded",
        lambda: _runs("max-poll-interval-exceeded")[0].outcome["zombie_records"] == 0,
        "the member was out of the group and kept processing its batch (a zombie): fetches "
        "carry no generation, only its commit was refused"),
}


def check_rebalance_predictions(predictions) -> CheckResult:
    """``predictions`` maps each question of :data:`QUESTIONS` to True or False; each is
    compared with what runs of the rebalance presets show."""
    name = "check_rebalance_predictions"
    if is_stub(predictions):
        return not_done(name, "replace the `...` with a dict: each question → True or False")
    if not isinstance(predictions, dict):
        return CheckResult(name, FAIL, f"predictions should be a dict (question → True or "
                                       f"False), not a {type(predictions).__name__}")
    missing = [q for q in QUESTIONS if q not in predictions]
    extra = [q for q in predictions if q not in QUESTIONS]
    if extra:
        return CheckResult(name, FAIL, f"{extra[0]!r} is not one of the questions; they are: "
                                       + "; ".join(repr(q) for q in QUESTIONS))
    if missing:
        return CheckResult(name, FAIL, f"no prediction for {missing[0]!r} (predict each of the "
                                       f"{len(QUESTIONS)} questions)")
    not_bool = [q for q, v in predictions.items() if not isinstance(v, bool)]
    if not_bool:
        q = not_bool[0]
        return CheckResult(name, FAIL, f"the prediction for {q!r} should be True or False, not "
                                       f"{predictions[q]!r}")
    wrong = []
    for question, (runs, truth, why) in QUESTIONS.items():
        said = predictions[question]
        if bool(truth()) != said:
            wrong.append(f"{question!r}: you predicted {said}, and the runs ({runs}) say "
                         f"otherwise: {why}")
    if wrong:
        return CheckResult(name, FAIL, f"{len(wrong)} of {len(QUESTIONS)} predictions do not "
                                       f"match the runs; {wrong[0]}",
                           details="\n".join(wrong[1:]), runs=len(QUESTIONS))
    return CheckResult(name, PASS, f"all {len(QUESTIONS)} predictions match the runs",
                       runs=len(QUESTIONS))
