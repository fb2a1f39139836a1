"""Shared machinery: validate a learner's config, enumerate fault schedules, find the first
counterexample."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ..model import ConfigError, simulate
from ..model.config import resolve
from ..model.faults import describe
from ..trace import RunResult
from .result import FAIL, PASS, CheckResult, not_done

# Every crash point the consumer application passes through (``time`` needs a clock).
CRASH_POINTS = ("after_poll", "before_processing", "after_processing", "before_commit",
                "after_commit")
MAX_INDEX = 40  # a crash point is tried at most this many times per run


def is_stub(value) -> bool:
    return value is ... or value is None


def prepare(check: str, config, base: dict, forced: dict) -> tuple[dict, list[str]] | CheckResult:
    """Merge the learner's ``config`` between ``base`` (defaults the learner may change) and
    ``forced`` (the workload the check controls); validate it as Kafka would."""
    if is_stub(config):
        return not_done(check, "replace the `...` with a dict of Kafka properties, e.g. "
                               "{\"enable.auto.commit\": False}")
    if not isinstance(config, dict):
        return CheckResult(check, FAIL, f"`config` should be a dict of Kafka property names "
                                        f"and values, not a {type(config).__name__}")
    bad_keys = [k for k in config if not isinstance(k, str)]
    if bad_keys:
        return CheckResult(check, FAIL, f"property names are strings such as "
                                        f"\"enable.auto.commit\", not {bad_keys[0]!r}")
    notes = []
    for key, value in forced.items():
        if key in config and config[key] != value:
            notes.append(f"this check sets {key}={value!r} itself; your value "
                         f"{config[key]!r} was not used")
    merged = {**base, **config, **forced}
    try:
        effective = resolve(merged)
    except ConfigError as exc:
        return CheckResult(check, FAIL, f"Kafka would refuse this configuration: {exc}")
    except Exception as exc:  # hostile values the validator did not foresee
        return CheckResult(check, FAIL, f"this configuration cannot be used: "
                                        f"{type(exc).__name__}: {exc}")
    default_idempotence = resolve({"client.model": effective["client.model"]})["enable.idempotence"]
    if default_idempotence and not effective["enable.idempotence"]:
        notes.append("enable.idempotence is only a default here, so Kafka switched it off "
                     "silently: idempotence needs acks=all, retries > 0 and at most 5 requests "
                     "in flight")
    return merged, notes


def crash_schedules(config: dict, random_seeds: int = 8, p: float = 0.1,
                    points: Iterable[str] = CRASH_POINTS) -> Iterator[tuple[list, int]]:
    """Fault plans for a consumer, for when ``kafkalab.sweep`` is not available: none; one
    crash at the k-th pass through each crash point (k = 1, 2, ... until a plan no longer
    crashes); random crashes with probability ``p`` per record under ``random_seeds`` seeds.
    Yields ``(faults, seed)``; the caller sends back whether the run crashed
    (``generator.send``) so the enumeration knows when to stop."""
    yield [], 0
    for point in points:
        for k in range(1, MAX_INDEX + 1):
            crashed = yield [{"type": "consumer_crash", "point": point, "index": k}], 0
            if crashed is False:
                break
    yield from random_schedules(random_seeds, p)


def random_schedules(random_seeds: int = 8, p: float = 0.1) -> Iterator[tuple[list, int]]:
    for seed in range(random_seeds):
        yield [{"type": "random", "consumer_crash": p}], seed


def crashed(run: RunResult) -> bool:
    return any(e.kind == "crash" for e in run.events)


def swept(config: dict, kinds: tuple[str, ...]) -> list[dict] | None:
    """Every single-fault placement of ``kinds`` from ``kafkalab.sweep`` (rows with
    ``faults``, ``lost``, ``duplicates``, ``log_duplicates``, ``drained``; smallest first),
    or None when the sweep module is not there (the checks then enumerate crash points
    themselves)."""
    try:
        from ..sweep import sweep
    except ImportError:
        return None
    try:
        return list(sweep(config, depth=1, faults=kinds, processes=1).table)
    except ConfigError:
        raise
    except Exception:  # the sweep is an optimisation; never let it break a check
        return None


Violation = tuple[int, str]  # (message id, what happened to it, e.g. "was lost")


def explore(check: str, config: dict, prop: Callable[[RunResult], Violation | None],
            row_bad: Callable[[dict], bool], what: str, notes: list[str],
            kinds: tuple[str, ...] = ("crash",), random_seeds: int = 8,
            fallback: Iterable | None = None, kind: str = "crash schedules") -> CheckResult:
    """Run ``config`` under every single-fault placement of ``kinds`` (via kafkalab.sweep,
    or ``fallback`` schedules without it), then under random crashes, until ``prop``
    reports a violation (``row_bad`` picks the sweep rows worth re-running)."""
    rows = swept(config, kinds)
    if rows is not None:
        candidates = [(row["faults"], 0) for row in rows if row_bad(row)]
        runs = len(rows) - len(candidates)
        schedules = iter(candidates + (list(random_schedules(random_seeds))
                                       if "crash" in kinds else []))
    else:
        runs = 0
        schedules = iter(fallback if fallback is not None else
                         crash_schedules(config, random_seeds))
    answer = None
    while True:
        try:
            faults, seed = schedules.send(answer) if hasattr(schedules, "send") and \
                answer is not None else next(schedules)
        except StopIteration:
            break
        run = simulate(config, faults, seed, snapshots=False)
        runs += 1
        answer = crashed(run)
        bad = prop(run)
        if bad is not None:
            message, verb = bad
            return CheckResult(
                check, FAIL, f"message {message} {verb} {circumstances(run)}",
                details=run.explain(message), runs=runs,
                counterexample={"config": config, "faults": faults, "seed": seed,
                                "message": message},
                run=run, notes=notes)
    return CheckResult(check, PASS, f"{what} in {runs} {kind}", runs=runs, notes=notes)


def circumstances(run: RunResult) -> str:
    """'when consumer-0 crashed (killed after processing of message 5)' and the like."""
    crashes = [e for e in run.events if e.kind == "crash"]
    if crashes:
        first = crashes[0]
        who, _, why = first.text.partition(" crashes: ")
        why = why.split(". ")[0]
        more = f", one of {len(crashes)} crashes in this run" if len(crashes) > 1 else ""
        return f"when {who} crashed ({why}{more})"
    faults = [f for f in run.faults if f["type"] != "consumer_crash"]
    if faults:
        return "when " + " and ".join(describe(f) for f in faults)
    return "even without any crash"
