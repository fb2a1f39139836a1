"""Shared machinery: validate a learner's config, enumerate fault schedules, find the first
counterexample."""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..model import ConfigError, simulate
from ..model.config import PROPERTIES, resolve
from ..model.faults import LOOP_POINTS, describe
from ..trace import RunResult
from .result import FAIL, PASS, CheckResult, not_done
from .rules import violations

# Every crash point the consumer application passes through (``time`` needs a clock).
CRASH_POINTS = LOOP_POINTS
MAX_INDEX = 40  # a crash point is tried at most this many times per run
MAX_INTERVAL_MS = 2_400_000  # the longest auto-commit interval the timing sweep can span


def is_stub(value) -> bool:
    return value is ... or value is None


def prepare(check: str, config, base: dict, forced: dict, require: dict | None = None,
            minimal: bool = False) -> tuple[dict, list[str]] | CheckResult:
    """Merge the learner's ``config`` between ``base`` (defaults the learner may change) and
    ``forced`` (the workload the check controls); validate it as Kafka would; then hold it to
    the task's stated constraints: ``require`` ({property: value or Rule}, see
    :mod:`kafkalab.checks.rules`) and ``minimal`` (set only what the defaults do not give)."""
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
    merged = _merge(base, config, forced)
    try:
        effective = resolve(merged)
    except ConfigError as exc:
        if exc.kafka:
            return CheckResult(check, FAIL, f"Kafka would refuse this configuration: {exc}")
        return CheckResult(check, FAIL, f"this configuration cannot be run: {exc}")
    except Exception as exc:  # hostile values the validator did not foresee
        return CheckResult(check, FAIL, f"this configuration cannot be used: "
                                        f"{type(exc).__name__}: {exc}")
    broken = violations(require, effective, config)
    if minimal:
        broken += _redundant(config, base, forced, effective)
    if broken:
        return CheckResult(check, FAIL, "; ".join(broken), notes=notes,
                           details="The check did not run this configuration: it does not "
                                   "do what the task asks.")
    default_idempotence = resolve({"client.model": effective["client.model"]})["enable.idempotence"]
    if default_idempotence and not effective["enable.idempotence"] \
            and merged.get("enable.idempotence") is not False:
        notes.append("enable.idempotence is only a default here, so Kafka switched it off "
                     "silently: idempotence needs acks=all, retries > 0 and at most 5 requests "
                     "in flight")
    return merged, notes


def _merge(base: dict, config: dict, forced: dict) -> dict:
    merged = {**base, **config, **forced}
    if merged.get("client.model") == "librdkafka" and "socket.timeout.ms" in PROPERTIES \
            and "request.timeout.ms" in base and "socket.timeout.ms" not in config:
        # librdkafka's client gives up on an unanswered request after socket.timeout.ms (its
        # request.timeout.ms is the broker's acks wait): the check's quick retry needs both
        merged["socket.timeout.ms"] = base["request.timeout.ms"]
    return merged


def _redundant(config: dict, base: dict, forced: dict, effective: dict) -> list[str]:
    """Keys of the learner's dict that change nothing: without them the client's defaults (and
    the other settings) resolve to the same configuration."""
    out = []
    for key in config:
        if key in forced:
            continue
        rest = {k: v for k, v in config.items() if k != key}
        try:
            same = resolve(_merge(base, rest, forced)) == effective
        except Exception:  # needed: without it Kafka would refuse the configuration
            same = False
        if same:
            out.append(f"the task asks you to set only what the {effective['client.model']} "
                       f"defaults do not already give you, and {key}={config[key]!r} changes "
                       "nothing here (leave it out)")
    return out


def timings(effective: dict, messages: int) -> list[dict]:
    """The workloads a consumer check runs: its own quick one, plus, when a timer commits
    (``enable.auto.commit``), processing times that make the auto-commit interval fall inside
    a polled batch, within one record and across several records, so the timer fires at every
    point that matters (a guarantee must not rest on a workload that ends before it fires)."""
    out = [{}]
    if not effective.get("enable.auto.commit"):
        return out
    interval = max(float(effective["auto.commit.interval.ms"]), 1.0)
    # processing.ms is at most 600 s: an interval longer than 4 records of that cannot be made
    # to fire mid-batch, so it is lowered to that (a longer one only fires later, not safer)
    capped = min(interval, MAX_INTERVAL_MS)
    for factor in (0.25, 0.6, 2.0):
        per = min(round(capped * factor, 3), 600_000.0)
        if per > 1.0 and all(t.get("processing.ms") != per for t in out):
            batch = per * min(int(effective["max.poll.records"]), messages)
            variant = {"processing.ms": per,
                       "max.simulated.ms": max(60_000.0, 60 * messages * per),
                       # a slow batch must not become a poll-timeout (rebalance) story
                       "max.poll.interval.ms": min(max(int(effective["max.poll.interval.ms"]),
                                                       int(2 * batch) + 1000), 2_147_483_647)}
            if capped < interval:
                variant["auto.commit.interval.ms"] = int(capped)
            out.append(variant)
    return out


def _room_for_restarts(config: dict, faults: list) -> dict:
    """A crashed consumer restarts as a new group member, which waits session.timeout.ms for
    the old member id to expire (fact sheet G): give each possible crash that much more
    simulated time, so a check never mistakes the wait for a message that never came."""
    crashes = sum(1 for f in faults if f.get("type") == "consumer_crash")
    crashes += 10 * sum(1 for f in faults if f.get("type") == "random"
                        and f.get("consumer_crash"))
    if not crashes or config.get("group.instance.id"):
        return config
    from ..model.config import resolve
    effective = resolve(config)
    wait = effective["session.timeout.ms"] + effective["restart.delay.ms"]
    return {**config, "max.simulated.ms": min(effective["max.simulated.ms"] + crashes * wait,
                                              1e9)}


def time_crashes(config: dict, limit: int = 40) -> list[tuple[list, int]]:
    """Crashes at the moments that matter for a timer: just after each commit of a crash-free
    run lands at the group coordinator (the committed offset is then what a restart reads)."""
    run = simulate(config, [], 0, snapshots=False)
    times = sorted({round(e.t + 0.01, 3) for e in run.events if e.kind == "commit"})[:limit]
    return [([{"type": "consumer_crash", "point": "time", "at_ms": t}], 0) for t in times]


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
            fallback: Iterable | None = None, kind: str = "crash schedules",
            timing: list[dict] | None = None) -> CheckResult:
    """Run ``config`` under every single-fault placement of ``kinds`` (via kafkalab.sweep,
    or ``fallback`` schedules without it), then under random crashes and crashes just after
    each commit lands, until ``prop`` reports a violation (``row_bad`` picks the sweep rows
    worth re-running). ``timing``: workload variants (see :func:`timings`), each explored."""
    runs = 0
    variants = timing or [{}]
    for variant in variants:
        cfg = {**config, **variant}
        found, n = _explore_one(check, cfg, prop, row_bad, notes, kinds, random_seeds,
                                fallback if len(variants) == 1 else None,
                                with_times="crash" in kinds and len(variants) > 1)
        runs += n
        if found is not None:
            found.runs = runs
            if variant.get("processing.ms"):
                lowered = (f", with auto.commit.interval.ms lowered to "
                           f"{variant['auto.commit.interval.ms']:,} ms: a longer interval only "
                           "makes the timer fire later, not safer"
                           if "auto.commit.interval.ms" in variant else "")
                found.summary += (f", in a workload where each record takes "
                                  f"{variant['processing.ms']:g} ms to process, so the "
                                  f"auto-commit timer fires while a batch is in progress"
                                  f"{lowered}")
            return found
    spread = ""
    if len(variants) > 1:
        base_ms = config.get("processing.ms", PROPERTIES["processing.ms"].java)
        pers = [v.get("processing.ms", base_ms) for v in variants]
        spread = (f", with processing times from {min(pers):g} to {max(pers):g} ms per "
                  "record so the auto-commit timer fires mid-batch")
    return CheckResult(check, PASS, f"{what} in {runs} {kind}{spread}", runs=runs, notes=notes)


def _explore_one(check, config, prop, row_bad, notes, kinds, random_seeds, fallback,
                 with_times: bool) -> tuple[CheckResult | None, int]:
    rows = swept(config, kinds)
    if rows is not None:
        candidates = [(row["faults"], 0) for row in rows if row_bad(row)]
        runs = len(rows) - len(candidates)
        extra = list(random_schedules(random_seeds)) if "crash" in kinds else []
        schedules = iter(candidates + extra)
    else:
        runs = 0
        schedules = iter(fallback if fallback is not None else
                         crash_schedules(config, random_seeds))
    if with_times:
        schedules = _chain(schedules, lambda: time_crashes(config))
    answer = None
    while True:
        try:
            faults, seed = schedules.send(answer) if hasattr(schedules, "send") and \
                answer is not None else next(schedules)
        except StopIteration:
            break
        run = simulate(_room_for_restarts(config, faults), faults, seed, snapshots=False)
        runs += 1
        answer = crashed(run)
        bad = prop(run)
        if bad is not None:
            message, verb = bad
            return CheckResult(
                check, FAIL, f"message {message} {verb}{sentence_end(run)}",
                details=run.explain(message), runs=runs,
                counterexample={"config": config, "faults": faults, "seed": seed,
                                "message": message},
                run=run, notes=notes), runs
    return None, runs


def _chain(first, later: Callable[[], list]):
    """``first`` (a generator that may take ``send``), then the schedules ``later()`` makes."""
    answer = None
    while True:
        try:
            item = first.send(answer) if hasattr(first, "send") and answer is not None \
                else next(first)
        except StopIteration:
            break
        answer = yield item
    for item in later():
        yield item


def sentence_end(run: RunResult) -> str:
    """' when consumer-0 crashed (...)' or ', even without any crash'."""
    text = circumstances(run)
    return (", " if text.startswith("even") else " ") + text


def circumstances(run: RunResult) -> str:
    """'when consumer-0 crashed (killed after processing of message 5)' and the like."""
    crashes = [e for e in run.events if e.kind == "crash"]
    if crashes:
        first = crashes[0]
        who, why = first.actor, first.data["reason"]
        more = f", one of {len(crashes)} crashes in this run" if len(crashes) > 1 else ""
        return f"when {who} crashed ({why}{more})"
    faults = [f for f in run.faults if f["type"] != "consumer_crash"]
    if faults:
        return "when " + " and ".join(describe(f) for f in faults)
    return "even without any crash"


# -- the learner's own code -----------------------------------------------------------------
_PACKAGE = str(Path(__file__).resolve().parents[1])


def learner_line(exc: BaseException, fn=None) -> str:
    """'line 3 of your code' for an exception: the innermost frame outside kafkalab (the
    learner's cell), or the line of ``fn``'s definition when no frame of theirs ran."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not str(Path(f.filename).resolve()).startswith(_PACKAGE)]
    if frames:
        return f"line {frames[-1].lineno} of your code"
    code = getattr(fn, "__code__", None)
    return f"line {code.co_firstlineno} of your code" if code else "your code"


def signature_problem(fn, name: str, params: tuple[str, ...]) -> str | None:
    """Why ``fn`` cannot be called as ``name(*params)``, or None when it can."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        sig.bind(*params)
    except TypeError:
        code = getattr(fn, "__code__", None)
        where = f" (line {code.co_firstlineno} of your code)" if code else ""
        return (f"{name}() raised TypeError when called as {name}({', '.join(params)}): "
                f"your function is {name}{sig}{where}, it must take {len(params)} arguments")
    return None
