"""The fault plan: what goes wrong in a run, declared as data (JSON-serialisable).

A plan is a list of faults. Each fault is a dict with a ``type`` and a selector:

================================  ==========================================================
type                              selector and options
================================  ==========================================================
``lose_response``                 ``message`` (the produce request carrying this message id)
                                  and ``attempt`` (default 1): the broker wrote the batch,
                                  its response never arrives.
``lose_request``                  same selector: the request never reaches the broker;
                                  the connection broke, so no later request on it does
                                  either until the producer times out and reconnects.
``error_response``                same selector plus ``error`` (``NOT_ENOUGH_REPLICAS``,
                                  default, or ``NOT_LEADER_OR_FOLLOWER``): the broker
                                  refuses the batch with a retriable error, writes nothing.
``delay_response``                same selector plus ``delay_ms``; responses on a
                                  connection come back in order, so the later ones wait
                                  behind it (and a lost response holds them back for good).
``consumer_crash``                ``point`` = ``after_poll`` | ``before_processing`` |
                                  ``after_processing`` | ``before_commit`` |
                                  ``after_commit`` | ``time``; then ``message`` (the first
                                  time this message id reaches the point) or ``index`` (the
                                  k-th time any record/poll/commit reaches it, 1-based) or
                                  ``at_ms`` for ``time``. ``member`` (default any).
``processing_failure``            ``message``; ``times`` (default 1: fails once, a retry
                                  works). What follows is ``on.processing.error``.
``slow_processing``               ``message``, ``extra_ms``, ``times`` (default 1): this
                                  record takes longer (exceed ``max.poll.interval.ms`` to
                                  force a rebalance); later deliveries are normal.
``producer_restart``              ``after_message`` (once the application has sent it) or
                                  ``at_ms``; ``zombie`` (default false): the old instance
                                  keeps running.
``abort_transaction``             ``transaction`` (the n-th time the transactional producer
                                  application ends a transaction, from 1): it calls
                                  abortTransaction() instead of commitTransaction();
                                  ``resend`` (default true) sends those messages again in
                                  the next transaction.
``leave_transaction_open``        ``transaction`` (as above): the application does not end
                                  it; ``for_ms``: it stalls that long, then commits as
                                  usual (fenced if the coordinator aborted it meanwhile);
                                  without ``for_ms`` it never comes back (the coordinator
                                  aborts it after ``transaction.timeout.ms``).
``pause``                         ``message``, ``ms``, ``times`` (default 1): the consumer
                                  application waits this long before processing the
                                  record (a call out, a GC pause): time passes, timers
                                  fire, a crash in it leaves the record unprocessed.
``broker_crash``                  ``broker``; ``at_ms`` or ``after_message`` (once the
                                  broker, as leader, has appended the batch carrying it:
                                  acks=1 has answered by then); ``restart_after_ms``
                                  (default: never back). The process dies, its log on disk
                                  survives (replication; issue 18).
``machine_failure``               same options: the machine dies, and with it the log tail
                                  not yet flushed (``log.flush.interval.messages``/``.ms``).
``slow_follower``                 ``broker``, ``at_ms``, ``for_ms``; ``extra_ms`` (each half
                                  of its fetch round trips takes this much longer; without it
                                  the broker is partitioned from the leaders: its fetches get
                                  no answer until ``for_ms`` has passed).
``member_join``                   ``at_ms``: a new member of the consumer group starts then
                                  (scale out); the k-th join is member ``consumers`` + k - 1.
``member_leave``                  ``member``, ``at_ms``: that member closes cleanly at its
                                  next poll after ``at_ms`` (scale in) and does not return.
``member_restart``                ``member``, ``at_ms``: a graceful restart (a rolling
                                  deploy): it closes, comes back after ``restart.delay.ms``.
``random``                        probabilities drawn from the run's seeded RNG:
                                  ``lose_response``, ``lose_request`` (per produce attempt),
                                  ``consumer_crash`` (per processed record); with
                                  ``brokers`` > 1 also ``broker_crash``, ``machine_failure``
                                  (per leader append: that leader fails right after it, back
                                  ``RANDOM_BROKER_DOWN_MS`` later) and ``slow_follower`` (per
                                  leader append: one of its live followers is cut off for
                                  ``RANDOM_SLOW_FOLLOWER_MS``); one broker down at a time, at
                                  most ``RANDOM_BROKER_FAULTS_MAX`` in a run, so it ends.
================================  ==========================================================
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeAlias

from .config import Config, ConfigError

# One fault-plan entry ({"type": ..., options}) and a plan: the JSON a run's faults travel as.
Fault: TypeAlias = dict[str, Any]
FaultPlan: TypeAlias = list[Fault]

# The broker faults that take a broker down: its process, or its machine (same options).
BROKER_DOWN_FAULTS = ("broker_crash", "machine_failure")
# The faults a broker suffers (they need the replication model, built for them even with one
# replica).
BROKER_FAULTS = (*BROKER_DOWN_FAULTS, "slow_follower")

# The broker faults a ``random`` fault can draw (brokers > 1), in the order they are drawn.
RANDOM_BROKER_KINDS = BROKER_FAULTS
RANDOM_BROKER_DOWN_MS = 2_000.0  # a randomly crashed broker is back this much later
RANDOM_SLOW_FOLLOWER_MS = 2_000.0  # a randomly cut-off follower is partitioned this long
RANDOM_BROKER_FAULTS_MAX = 6  # random broker faults in one run at most (every run ends)

# Retriable produce errors a broker answers without writing the batch (error_response).
PRODUCE_ERRORS = ("NOT_ENOUGH_REPLICAS", "NOT_LEADER_OR_FOLLOWER")

CRASH_POINTS = ("after_poll", "before_processing", "after_processing", "before_commit",
                "after_commit", "time")
# The points the poll loop passes (every point but ``time``): the consumer counts how often
# each member reaches each of them (``RunResult.live_counters["crash_points"]``), and a
# ``consumer_crash`` with ``index`` k fires the k-th time.
LOOP_POINTS = CRASH_POINTS[:-1]
CRASH_POINT_LABELS = {"after_poll": "after poll", "before_processing": "before processing",
                      "after_processing": "after processing", "before_commit": "before commit",
                      "after_commit": "after commit", "time": "at a time"}


class FaultKind(NamedTuple):
    """One fault type of the plan: its ``type``, a short label for tables and figures, and
    the short name the sweep (and its CLI) has used for it, kept as an accepted alias."""

    type: str
    label: str
    alias: str | None = None


FAULT_KINDS: dict[str, FaultKind] = {k.type: k for k in (
    FaultKind("lose_response", "lost ack", "lost_ack"),
    FaultKind("lose_request", "lost request", "lost_request"),
    FaultKind("error_response", "error response"),
    FaultKind("delay_response", "delayed response"),
    FaultKind("consumer_crash", "consumer crash", "crash"),
    FaultKind("processing_failure", "processing failure"),
    FaultKind("slow_processing", "slow processing"),
    FaultKind("producer_restart", "producer restart", "producer_restart"),
    FaultKind("abort_transaction", "aborted transaction"),
    FaultKind("leave_transaction_open", "transaction left open"),
    FaultKind("pause", "pause"),
    FaultKind("broker_crash", "broker crash (process)", "broker_crash"),
    FaultKind("machine_failure", "machine failure (unflushed log lost)"),
    FaultKind("slow_follower", "slow or partitioned follower"),
    FaultKind("member_join", "member joins"),
    FaultKind("member_leave", "member leaves"),
    FaultKind("member_restart", "member restarts"),
    FaultKind("random", "random faults"),
)}
# other spellings of a fault type (the sweep's short names, the Lab's old control names)
FAULT_ALIASES: dict[str, str] = {k.alias: k.type for k in FAULT_KINDS.values()
                                 if k.alias and k.alias != k.type}
FAULT_ALIASES.update({"lost.acks": "lose_response", "lost.requests": "lose_request"})
# The group's graceful membership changes (scale out, scale in, a rolling restart): the
# table's member_* kinds, in its order.
MEMBER_FAULTS = tuple(t for t in FAULT_KINDS if t.startswith("member_"))


def fault_kind(name: str) -> FaultKind:
    """The fault kind for a plan ``type`` or one of its aliases (``lost_ack``, ``crash``);
    raises FaultError naming the allowed spellings."""
    kind = FAULT_KINDS.get(FAULT_ALIASES.get(name, name)) if isinstance(name, str) else None
    if kind is None:
        raise FaultError(f"unknown fault kind {_show(name)}; one of: {', '.join(FAULT_KINDS)}")
    return kind

_SPEC: dict[str, dict[str, tuple[str, bool]]] = {
    # name -> {option: (kind, required)}
    "lose_response": {"message": ("int", True), "attempt": ("int", False)},
    "lose_request": {"message": ("int", True), "attempt": ("int", False)},
    "delay_response": {"message": ("int", True), "attempt": ("int", False),
                       "delay_ms": ("float", True)},
    "error_response": {"message": ("int", True), "attempt": ("int", False),
                       "error": ("error", False)},
    "consumer_crash": {"point": ("point", True), "message": ("int", False),
                       "index": ("int", False), "at_ms": ("float", False),
                       "member": ("int", False)},
    "processing_failure": {"message": ("int", True), "times": ("int", False)},
    "slow_processing": {"message": ("int", True), "extra_ms": ("float", True),
                        "times": ("int", False)},
    "producer_restart": {"after_message": ("int", False), "at_ms": ("float", False),
                         "zombie": ("bool", False)},
    "abort_transaction": {"transaction": ("int", True), "resend": ("bool", False)},
    "leave_transaction_open": {"transaction": ("int", True), "for_ms": ("float", False)},
    "pause": {"message": ("int", True), "ms": ("float", True), "times": ("int", False)},
    "broker_crash": {"broker": ("int", True), "at_ms": ("float", False),
                     "after_message": ("int", False), "restart_after_ms": ("float", False)},
    "machine_failure": {"broker": ("int", True), "at_ms": ("float", False),
                        "after_message": ("int", False), "restart_after_ms": ("float", False)},
    "slow_follower": {"broker": ("int", True), "at_ms": ("float", True),
                      "for_ms": ("float", True), "extra_ms": ("float", False)},
    "member_join": {"at_ms": ("float", True)},
    "member_leave": {"member": ("int", True), "at_ms": ("float", True)},
    "member_restart": {"member": ("int", True), "at_ms": ("float", True)},
    "random": {"lose_response": ("prob", False), "lose_request": ("prob", False),
               "consumer_crash": ("prob", False), "broker_crash": ("prob", False),
               "machine_failure": ("prob", False), "slow_follower": ("prob", False)},
}


# Each fault type's options, public: option -> (kind, required); kind is "int", "float",
# "bool", "prob", "error" or "point" (the Lab generates its fault controls from this).
FAULT_OPTIONS = _SPEC


class FaultError(ConfigError):
    """A fault plan entry kafkalab cannot run."""


MAX_MS = 1e9  # the longest simulated time a run can have (max.simulated.ms's bound)


def _show(value: Any) -> str:
    """A value for a one-line error: repr, shortened (never fails, even on a huge int)."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to print (sys.get_int_max_str_digits)
        text = f"a {value.bit_length()}-bit integer"
    text = text.replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def _check_value(where: str, key: str, kind: str, value: Any) -> Any:
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise FaultError(f"{where}: {key} must be true or false, not {_show(value)}")
    if kind == "error":
        if value in PRODUCE_ERRORS:
            return value
        raise FaultError(f"{where}: error {_show(value)} is not one of: {', '.join(PRODUCE_ERRORS)}")
    if kind == "point":
        if isinstance(value, str) and value in CRASH_POINTS:
            return value
        raise FaultError(f"{where}: point {_show(value)} is not one of: {', '.join(CRASH_POINTS)}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(f"{where}: {key} must be a number, not {_show(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise FaultError(f"{where}: {key} must be a finite number, not {_show(value)}")
    if kind == "int":
        if value != int(value) or value < 0:
            raise FaultError(f"{where}: {key} must be a whole number ≥ 0, not {_show(value)}")
        return int(value)
    if kind == "prob":
        if not 0 <= value <= 1:
            raise FaultError(f"{where}: {key} is a probability, between 0 and 1, not "
                             f"{_show(value)}")
        return float(value)
    if not 0 <= value <= MAX_MS:
        raise FaultError(f"{where}: {key} must be between 0 and {MAX_MS:.0e} ms, not "
                         f"{_show(value)}")
    return float(value)


def normalise(faults: FaultPlan | Fault | None, names: Sequence[str] = ()) -> FaultPlan:
    """Validate a fault plan; returns a clean copy with defaults filled in. ``names``: what
    an error calls entry i (default "fault i+1"; the Lab names its control)."""
    if faults is None:
        return []
    if isinstance(faults, dict):
        faults = [faults]
    if not isinstance(faults, list):
        raise FaultError(f"a fault plan is a list of faults, not {type(faults).__name__}")
    clean = []
    for i, fault in enumerate(faults):
        where = names[i] if i < len(names) else f"fault {i + 1}"
        if not isinstance(fault, dict) or "type" not in fault:
            raise FaultError(f"{where}: each fault is an object with a 'type' "
                             f"(one of: {', '.join(_SPEC)})")
        kind = fault["type"]
        if not isinstance(kind, str) or kind not in _SPEC:
            raise FaultError(f"{where}: unknown fault type {_show(kind)}; one of: "
                             f"{', '.join(_SPEC)}")
        spec = _SPEC[kind]
        out: dict[str, Any] = {"type": kind}
        for key, value in fault.items():
            if key == "type":
                continue
            if not isinstance(key, str) or key not in spec:
                raise FaultError(f"{where} ({kind}): unknown option {_show(key)}; allowed: "
                                 f"{', '.join(spec)}")
            out[key] = _check_value(f"{where} ({kind})", key, spec[key][0], value)
        for key, (_, required) in spec.items():
            if required and key not in out:
                raise FaultError(f"{where} ({kind}): {key!r} is required")
        if kind in ("lose_response", "lose_request", "delay_response"):
            out.setdefault("attempt", 1)
            if out["attempt"] < 1:
                raise FaultError(f"{where} ({kind}): attempt counts from 1")
        if kind == "consumer_crash":
            selectors = [k for k in ("message", "index", "at_ms") if k in out]
            if out["point"] == "time" and selectors != ["at_ms"]:
                raise FaultError(f"{where} (consumer_crash): point 'time' takes at_ms only")
            if (out["point"] != "time" and len(selectors) != 1) or ("at_ms" in selectors and \
                    out["point"] != "time"):
                raise FaultError(f"{where} (consumer_crash): give exactly one of message or "
                                 f"index for point {out['point']!r}")
            if out.get("index") == 0:
                raise FaultError(f"{where} (consumer_crash): index counts from 1")
        if kind in ("processing_failure", "slow_processing"):
            out.setdefault("times", 1)
        if kind in BROKER_DOWN_FAULTS and \
                ("after_message" in out) == ("at_ms" in out):
            raise FaultError(f"{where} ({kind}): give exactly one of after_message or at_ms")
        if kind == "producer_restart":
            if ("after_message" in out) == ("at_ms" in out):
                raise FaultError(f"{where} (producer_restart): give exactly one of "
                                 "after_message or at_ms")
            out.setdefault("zombie", False)
        clean.append(out)
    return clean


def check_against(faults: FaultPlan, config: Config, names: Sequence[str] = ()) -> None:
    """What only the run's config can tell: a message, a member or a time that does not
    exist in this run would silently never fire, so it is refused (one line, naming the
    entry)."""
    n = config["messages"]
    members = config["consumers"] + sum(1 for f in faults if f["type"] == "member_join")
    limit = config["max.simulated.ms"]
    for i, f in enumerate(faults):
        where = f"{names[i] if i < len(names) else f'fault {i + 1}'} ({f['type']})"
        for key in ("message", "after_message"):
            if key in f and f[key] >= n:
                raise FaultError(f"{where}: message {f[key]} does not exist; this run sends "
                                 + (f"messages 0–{n - 1}" if n else "no messages"))
        if "member" in f and f["member"] >= members:
            raise FaultError(f"{where}: member {f['member']} does not exist; this run has "
                             f"consumers 0–{members - 1} (consumers={config['consumers']} and "
                             "one per member_join)")
        if "broker" in f and f["broker"] >= config["brokers"]:
            raise FaultError(f"{where}: broker {f['broker']} does not exist; this cluster has "
                             f"brokers 0–{config['brokers'] - 1} (brokers={config['brokers']})")
        if f["type"] == "random" and config["brokers"] < 2 and \
                any(f.get(k) for k in RANDOM_BROKER_KINDS):
            raise FaultError(f"{where}: random broker faults ("
                             + ", ".join(k for k in RANDOM_BROKER_KINDS if f.get(k))
                             + ") need brokers of 2 or more; this cluster has brokers=1 (a "
                             "broker fault of the only broker is a broker_crash at a time)")
        if "at_ms" in f and f["at_ms"] > limit:
            raise FaultError(f"{where}: at_ms {f['at_ms']:g} is after max.simulated.ms="
                             f"{limit:g}: it would never fire")


def to_json(faults: FaultPlan) -> str:
    return json.dumps(normalise(faults), sort_keys=True)


def from_json(text: str) -> FaultPlan:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FaultError(f"the fault plan is not valid JSON: {exc.msg} at position {exc.pos}") \
            from None
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number, nesting too deep
        raise FaultError(f"the fault plan cannot be read: {str(exc).splitlines()[0][:80]}") \
            from None
    return normalise(data)


def describe(fault: Fault) -> str:
    """One plain-English line per fault, for reports and the Lab."""
    kind = fault["type"]
    if kind == "lose_response":
        return (f"the broker's response to the produce request carrying message "
                f"{fault['message']} (attempt {fault.get('attempt', 1)}) is lost")
    if kind == "lose_request":
        return (f"the produce request carrying message {fault['message']} (attempt "
                f"{fault.get('attempt', 1)}) never reaches the broker")
    if kind == "delay_response":
        return (f"the response to the produce request carrying message {fault['message']} is "
                f"delayed by {fault['delay_ms']:g} ms")
    if kind == "error_response":
        return (f"the broker refuses the produce request carrying message {fault['message']} "
                f"(attempt {fault.get('attempt', 1)}) with "
                f"{fault.get('error', 'NOT_ENOUGH_REPLICAS')}, writing nothing")
    if kind == "consumer_crash":
        point = fault["point"].replace("_", " ")
        if "at_ms" in fault:
            return f"the consumer crashes at t={fault['at_ms']:g} ms"
        if "message" in fault:
            return f"the consumer crashes {point} of message {fault['message']}"
        return f"the consumer crashes the {_ordinal(fault['index'])} time it is {point}"
    if kind == "processing_failure":
        times = fault.get("times", 1)
        return (f"processing message {fault['message']} fails "
                f"{'once' if times == 1 else f'{times} times'}")
    if kind == "slow_processing":
        times = fault.get("times", 1)
        return (f"processing message {fault['message']} takes {fault['extra_ms']:g} ms longer"
                + ("" if times == 1 else f" ({times} times)"))
    if kind == "producer_restart":
        when = (f"after sending message {fault['after_message']}" if "after_message" in fault
                else f"at t={fault['at_ms']:g} ms")
        zombie = " (the old instance lives on as a zombie)" if fault.get("zombie") else ""
        return f"the producer application restarts {when}{zombie}"
    if kind == "abort_transaction":
        again = "" if fault.get("resend", True) else " and does not send them again"
        return (f"the producer application aborts its {_ordinal(fault['transaction'])} "
                f"transaction instead of committing it{again}")
    if kind == "leave_transaction_open":
        how = (f"for {fault['for_ms']:g} ms" if "for_ms" in fault
               else "and never comes back to it")
        return (f"the producer application leaves its {_ordinal(fault['transaction'])} "
                f"transaction open {how}")
    if kind == "pause":
        times = fault.get("times", 1)
        return (f"the consumer application pauses {fault['ms']:g} ms before processing message "
                f"{fault['message']}" + ("" if times == 1 else f" ({times} times)"))
    if kind in BROKER_DOWN_FAULTS:
        when = (f"at t={fault['at_ms']:g} ms" if "at_ms" in fault else
                f"right after it appends the batch carrying message {fault['after_message']}")
        what = ("crashes (process; its log survives)" if kind == "broker_crash" else
                "loses its machine (and the log tail not yet flushed)")
        back = (f", back {fault['restart_after_ms']:g} ms later" if "restart_after_ms" in fault
                else ", never back")
        return f"broker {fault['broker']} {what} {when}{back}"
    if kind == "slow_follower":
        how = (f"its fetches take {fault['extra_ms']:g} ms longer each way" if "extra_ms" in
               fault else "it is partitioned from the leaders (its fetches get no answer)")
        return (f"from t={fault['at_ms']:g} ms for {fault['for_ms']:g} ms broker "
                f"{fault['broker']} is a slow follower: {how}")
    if kind == "member_join":
        return f"a new member joins the consumer group at t={fault['at_ms']:g} ms"
    if kind == "member_leave":
        return (f"consumer-{fault['member']} leaves the group at t={fault['at_ms']:g} ms "
                "(closes cleanly, does not return)")
    if kind == "member_restart":
        return (f"consumer-{fault['member']} restarts at t={fault['at_ms']:g} ms (closes "
                "cleanly, comes back after restart.delay.ms)")
    parts = [f"{k.replace('_', ' ')} p={v:g}" for k, v in fault.items() if k != "type"]
    return "random faults: " + ", ".join(parts)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
