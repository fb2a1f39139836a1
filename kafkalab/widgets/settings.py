"""The Lab's settings without widgets: controls ⇄ ``(config, faults, seed)``.

Pure functions of the controls' values (name → value, as in ``Lab.controls``); no ipywidgets
here, so they are unit-tested alone:

- ``CONTROL_GROUPS``: which controls the Lab shows, in which collapsible group. A Kafka (or
  kafkalab workload) property's control takes its kind, default, choices and help text from
  ``kafkalab.model.config.PROPERTIES``; the Lab's own fields (``transactions``, ``seed``) and
  the fault controls are the two tables below (``LAB_FIELDS``, ``FAULT_FIELDS``); the member
  and broker fault controls are ``FAULT_SLOTS``: a dropdown of fault kinds (labels from
  ``model.faults.FAULT_KINDS``) and one box per option (``model.faults.FAULT_OPTIONS``), −1 for
  not set. A preset's faults fill the slots (``faults_to_controls``) and come back unchanged
  (``assemble``); a bad value raises ``LabInputError`` naming its control (``.control``).
- ``assemble(values, ...)``: the controls' values → ``(config, faults, seed)`` for
  ``simulate()``; ``faults_to_controls(plan)`` and ``config_to_controls(config)`` go back.
- ``inert_notes(values)``: a setting the model would silently ignore in this combination gets
  a note next to its control instead (COMMON: never a setting silently ignored).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..model import faults as _faults
from ..model.config import PROPERTIES, Config
from ..model.faults import (
    BROKER_DOWN_FAULTS,
    BROKER_FAULTS,
    CRASH_POINT_LABELS,
    FAULT_KINDS,
    FAULT_OPTIONS,
    MEMBER_FAULTS,
    FaultError,
    FaultPlan,
)

NONE = -1  # "no fault" in the fault-number boxes
MAX_LAB_MESSAGES = 20_000  # the Lab keeps every snapshot in memory; simulate() allows more
TRANSACTIONAL_ID = "kafkalab-app"  # what the "transactions" checkbox sets transactional.id to


class LabInputError(ValueError):
    """A value the Lab will not run (worded for the learner). ``control``: the control it is
    about, when one is (the Lab shows the message next to it too)."""

    def __init__(self, message: str, control: str | None = None):
        super().__init__(message)
        self.control = control


class Field(NamedTuple):
    """A control that is not a Kafka property: its name, label, kind ("int", "float",
    "bool"), default and help text. ``fault``: the fault kind it adds to the plan."""

    name: str
    label: str
    kind: str
    default: Any
    help: str
    fault: str | None = None


# The Lab's own controls (not in PROPERTIES).
LAB_FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("transactions", "transactions (transactional.id)", "bool", False,
          f"sets transactional.id={TRANSACTIONAL_ID!r}: "
          + PROPERTIES["transactional.id"].doc),
    Field("seed", "seed", "int", 0, "the random seed (random faults)"),
)}

# One table of fault controls: each control adds one kind of fault (model.faults.FAULT_KINDS).
FAULT_FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("crash.after.record", "crash.after.record", "int", NONE,
          "the consumer crashes after processing this message", "consumer_crash"),
    Field("processing.failure.record", "processing.failure.record", "int", NONE,
          "processing this message fails once", "processing_failure"),
    Field("lost.acks", "lost.acks (first N)", "int", 0,
          "lose the produce response of the first N messages' batches", "lose_response"),
    Field("lost.acks.probability", "lost.acks probability", "float", 0.0,
          "each produce response is lost with this probability", "lose_response"),
    Field("crash.probability", "crash probability", "float", 0.0,
          "the consumer crashes after each record with this probability", "consumer_crash"),
    Field("producer.restart.after.message", "producer.restart.after", "int", NONE,
          "the producer application restarts after sending this message", "producer_restart"),
    Field("producer.restart.zombie", "old producer lives on (zombie)", "bool", False,
          "the old producer instance keeps running after the restart", "producer_restart"),
)}
# fault-number boxes where NONE (−1) means "no such fault"
_MESSAGE_FIELDS = ("crash.after.record", "processing.failure.record",
                   "producer.restart.after.message")
_RANDOM_FIELDS = (("lost.acks.probability", "lose_response"),
                  ("crash.probability", "consumer_crash"))


class SlotKind(NamedTuple):
    """One choice of a fault slot's dropdown: a fault ``type`` of ``model.faults``, the
    options it fixes itself (``consumer_crash`` at a time: ``point="time"``) and the options
    its boxes set (default: every option ``model.faults.FAULT_OPTIONS`` lists for it)."""

    type: str
    fixed: tuple[tuple[str, Any], ...] = ()
    only: tuple[str, ...] | None = None

    @property
    def options(self) -> tuple[str, ...]:
        fixed = {k for k, _ in self.fixed}
        names = self.only if self.only is not None else tuple(FAULT_OPTIONS[self.type])
        return tuple(k for k in names if k not in fixed)

    @property
    def label(self) -> str:
        """FAULT_KINDS' label (and the crash point's, for a fixed point)."""
        point = dict(self.fixed).get("point")
        return FAULT_KINDS[self.type].label + (f" {CRASH_POINT_LABELS[point]}" if point else "")


class FaultSlot(NamedTuple):
    """A fault control: a dropdown of ``kinds`` (or none) named ``name`` and one number box
    per option of those kinds, ``<name>.<option>`` (−1: not set). A plan's first faults of
    these kinds fill a family's slots in order; the rest stay in the preset's other faults."""

    name: str
    label: str
    kinds: tuple[SlotKind, ...]
    help: str

    @property
    def options(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o for k in self.kinds for o in k.options))

    def kind(self, type_: str) -> SlotKind | None:
        return next((k for k in self.kinds if k.type == type_), None)


SLOT_NONE = "none"  # a fault slot's dropdown: no fault
_MEMBER_KINDS = (SlotKind("consumer_crash", (("point", "time"),), ("member", "at_ms")),
                 *(SlotKind(k) for k in MEMBER_FAULTS))
_BROKER_KINDS = tuple(SlotKind(k) for k in BROKER_FAULTS)
FAULT_SLOTS: dict[str, FaultSlot] = {s.name: s for s in (
    *(FaultSlot(f"member.fault.{i}", f"member fault {i}", _MEMBER_KINDS,
                "a group member crashes, joins, leaves or restarts at a time (issue 17)")
      for i in (1, 2, 3)),
    *(FaultSlot(f"broker.fault.{i}", f"broker fault {i}", _BROKER_KINDS,
                "a broker crashes (its process or its machine) or is a slow or partitioned "
                "follower (issue 18)") for i in (1, 2, 3)),
)}


def _slot_fields() -> dict[str, Field]:
    """Each slot's dropdown, then its option boxes (in ``FAULT_OPTIONS`` order)."""
    fields = {}
    for slot in FAULT_SLOTS.values():
        fields[slot.name] = Field(slot.name, slot.label, "choice", SLOT_NONE,
                                  f"{slot.label}: {slot.help}")
        for option in slot.options:
            kinds = [k for k in slot.kinds if option in k.options]
            kind = FAULT_OPTIONS[kinds[0].type][option][0]
            uses = ", ".join(k.label + (" (required)" if FAULT_OPTIONS[k.type][option][1] else "")
                             for k in kinds)
            fields[f"{slot.name}.{option}"] = Field(
                f"{slot.name}.{option}", option, kind, NONE if kind in ("int", "float") else False,
                f"{slot.label}: the fault plan's {option!r}, for {uses}; −1: not set")
    return fields


# name -> Field for every slot control: the dropdown ("choice") and its option boxes
SLOT_FIELDS: dict[str, Field] = _slot_fields()

# The settings accordion: group title → controls, in screen order. Every Kafka property a
# preset sets has a control here (tests/widgets/test_settings.py checks it).
CONTROL_GROUPS: dict[str, tuple[str, ...]] = {
    "Consumer": ("client.model", "enable.auto.commit", "auto.commit.interval.ms",
                 "enable.auto.offset.store", "commit.strategy", "max.poll.records",
                 "isolation.level", "auto.offset.reset", "on.processing.error", "consumers"),
    "Producer and workload": ("acks", "retries", "enable.idempotence", "transactions",
                              "linger.ms", "request.timeout.ms", "delivery.timeout.ms",
                              "retry.backoff.ms", "messages", "partitions", "seed"),
    "Faults": tuple(FAULT_FIELDS),
    # durability (issue 18); broker faults come from the preset's fault plan
    "Replication": ("brokers", "replication.factor", "min.insync.replicas",
                    "replica.lag.time.max.ms", "unclean.leader.election.enable",
                    "log.flush.interval.messages", "broker.session.timeout.ms",
                    "replica.rtt.ms"),
    # consumer groups and rebalances (issue 17)
    "Consumer group": ("partition.assignment.strategy", "group.instance.id",
                       "session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms",
                       "commit.on.revoke"),
    # kafkalab's own workload timing (simulated ms), which the presets also set
    # fault controls for the group and the cluster (issues 17, 18), from the one fault table
    "Member faults": tuple(n for n in SLOT_FIELDS if n.startswith("member.fault.")),
    "Broker faults": tuple(n for n in SLOT_FIELDS if n.startswith("broker.fault.")),
    "Timing (simulated ms)": ("processing.ms", "producer.send.interval.ms", "consumer.start.ms",
                              "network.rtt.ms", "commit.write.ms", "restart.delay.ms",
                              "transaction.messages"),
}
# Controls that are config properties, passed to the model as config when set explicitly.
CONFIG_CONTROLS: tuple[str, ...] = tuple(
    name for names in CONTROL_GROUPS.values() for name in names if name in PROPERTIES)


def _field(name: str) -> Field:
    return LAB_FIELDS.get(name) or FAULT_FIELDS.get(name) or SLOT_FIELDS[name]


def control_kind(name: str) -> str:
    """"int", "float", "bool" or "choice" for a control."""
    if name in PROPERTIES:
        return PROPERTIES[name].kind
    return _field(name).kind


def control_choices(name: str) -> list[tuple[str, Any]]:
    """A "choice" control's (label, value) options: the property's choices, or a fault
    slot's kinds (labels from ``model.faults.FAULT_KINDS``)."""
    if name in PROPERTIES:
        return [(str(c), c) for c in PROPERTIES[name].choices]
    return [(SLOT_NONE, SLOT_NONE)] + [(k.label, k.type) for k in FAULT_SLOTS[name].kinds]


def control_default(name: str) -> Any:
    """A control's value before any preset is loaded (the Java client's default)."""
    if name in PROPERTIES:
        return PROPERTIES[name].java
    return _field(name).default


def control_help(name: str) -> str:
    """A control's help text (its tooltip): the property's doc, or the field's help."""
    if name in PROPERTIES:
        text = PROPERTIES[name].doc
        if name == "messages":
            text += f" The Lab runs 1–{MAX_LAB_MESSAGES:,}."
        return text
    if name in FAULT_FIELDS:
        f = FAULT_FIELDS[name]
        return f"{FAULT_KINDS[f.fault].label}: {f.help}" if f.fault else f.help
    return _field(name).help


def control_label(name: str) -> str:
    return name if name in PROPERTIES else _field(name).label


def control_names() -> tuple[str, ...]:
    return tuple(name for names in CONTROL_GROUPS.values() for name in names)


def assemble(values: Values, preset_config: Mapping[str, Any], explicit: set[str],
             other_faults: FaultPlan, txn_id: str = TRANSACTIONAL_ID
             ) -> tuple[Config, FaultPlan, int]:
    """The controls' values → ``(config, faults, seed)`` for ``simulate()``.

    ``config`` is the preset's config with every control in ``explicit`` (set by the preset or
    the learner) over it; ``faults`` the preset's faults no control expresses plus one fault
    per fault control that is set. Raises LabInputError for a value the Lab will not run (the
    model's own validation, ConfigError, comes later in ``simulate()``)."""
    for name in control_names():
        if control_kind(name) in ("int", "float"):
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise LabInputError(f"{name}: {value!r} is not a number", name)
    messages = values["messages"]
    if messages < 1:
        raise LabInputError(f"messages: {messages} — send at least 1 message.", "messages")
    if messages > MAX_LAB_MESSAGES:
        raise LabInputError(
            f"messages: {messages:,} is more than the Lab simulates at once (at most "
            f"{MAX_LAB_MESSAGES:,}); kafkalab.simulate() runs larger workloads without the "
            "dashboard.", "messages")
    seed = values["seed"]
    if seed < 0:
        raise LabInputError(f"seed: {seed} — a seed is a whole number ≥ 0.", "seed")
    config = copy.deepcopy(dict(preset_config))
    for key in CONFIG_CONTROLS:
        if key in explicit:
            value = values[key]
            if PROPERTIES[key].kind == "str" and PROPERTIES[key].nullable and not value:
                value = None  # an empty text box: the property is not set
            config[key] = value
    if "transactions" in explicit:
        config["transactional.id"] = txn_id if values["transactions"] else None
    faults = copy.deepcopy(other_faults)
    for key in _MESSAGE_FIELDS:
        if values[key] < NONE:
            raise LabInputError(f"{key}: {values[key]} — use a message id, or −1 for none.",
                                key)
    if values["crash.after.record"] >= 0:
        faults.append({"type": "consumer_crash", "point": "after_processing",
                       "message": values["crash.after.record"]})
    if values["processing.failure.record"] >= 0:
        faults.append({"type": "processing_failure",
                       "message": values["processing.failure.record"]})
    if values["producer.restart.after.message"] >= 0:
        faults.append({"type": "producer_restart",
                       "after_message": values["producer.restart.after.message"],
                       "zombie": bool(values["producer.restart.zombie"])})
    lost = values["lost.acks"]
    if lost < 0 or lost > messages:
        raise LabInputError(f"lost.acks: {lost} — between 0 and the number of messages "
                            f"({messages}).", "lost.acks")
    faults.extend({"type": "lose_response", "message": m} for m in range(lost))
    rnd = {}
    for key, fault_key in _RANDOM_FIELDS:
        p = values[key]
        if not 0 <= p <= 1:
            raise LabInputError(f"{key}: {p} — a probability is between 0 and 1.", key)
        if p > 0:
            rnd[fault_key] = float(p)
    if rnd:
        merged = next((f for f in faults if f["type"] == "random"), None)
        if merged is None:
            faults.append({"type": "random", **rnd})
        else:
            merged.update(rnd)
    faults.extend(_slot_faults(values, config, faults))
    return config, faults, seed


def _slot_faults(values: Values, config: Mapping[str, Any], plan: FaultPlan) -> FaultPlan:
    """The fault slots' faults, each checked alone with the model's own words (its
    ``normalise`` and ``check_against``), the error naming the control it is about."""
    made: list[tuple[FaultSlot, dict[str, Any]]] = []
    for slot in FAULT_SLOTS.values():
        kind = slot.kind(values[slot.name])
        if kind is None:
            continue
        fault: dict[str, Any] = {"type": kind.type, **dict(kind.fixed)}
        spec = FAULT_OPTIONS[kind.type]
        for option in kind.options:
            name, value = f"{slot.name}.{option}", values[f"{slot.name}.{option}"]
            if spec[option][0] in ("int", "float"):
                if value < NONE:
                    raise LabInputError(f"{name}: {value:g} — a number ≥ 0, or −1 for not set.",
                                        name)
                if value == NONE:
                    if spec[option][1]:
                        raise LabInputError(f"{slot.label} ({kind.label}): set {option} "
                                            f"(required; −1 is not set).", name)
                    continue
                value = int(value) if spec[option][0] == "int" else float(value)
            fault[option] = value
        try:
            _faults.normalise([fault], [slot.label])  # e.g. at_ms and after_message both set
        except FaultError as exc:
            raise LabInputError(str(exc), slot.name) from None
        made.append((slot, fault))
    # what only the run's config can tell, option by option (so the error is next to its box)
    joins = sum(1 for f in plan if f["type"] == "member_join") + \
        sum(1 for _, f in made if f["type"] == "member_join")
    view = {"messages": values["messages"], "consumers": values["consumers"],
            "brokers": values["brokers"],
            "max.simulated.ms": config.get("max.simulated.ms",
                                           PROPERTIES["max.simulated.ms"].java)}
    for slot, fault in made:
        others = joins - (fault["type"] == "member_join")
        for option, value in fault.items():
            if option not in slot.options:  # the type, a fixed option
                continue
            probe = [{"type": fault["type"], option: value},
                     *({"type": "member_join", "at_ms": 0.0} for _ in range(others))]
            try:
                _faults.check_against(probe, view, [slot.label])
            except FaultError as exc:
                raise LabInputError(str(exc), f"{slot.name}.{option}") from None
    return [f for _, f in made]


def config_to_controls(config: Mapping[str, Any]) -> dict[str, Any]:
    """The control values that show a resolved config (defaults filled in, idempotence
    switched off, ...)."""
    values = {key: (config[key] if config[key] is not None or PROPERTIES[key].kind != "str"
                    else "") for key in CONFIG_CONTROLS if key in config}
    values["transactions"] = bool(config.get("transactional.id"))
    return values
# strategies whose commits come from the background auto-commit (model.config.COMMIT_STRATEGIES)
AUTO_COMMITTING = ("auto", "store-after-processing")

Values = Mapping[str, Any]

# (control, when it has no effect, why) — checked in this order; the first match per control wins.
_RULES: tuple[tuple[str, Callable[[Values], bool], Callable[[Values], str]], ...] = (
    ("enable.auto.commit",
     # Java: auto-commit inside poll() commits what the previous poll handed out, which the
     # application's own commit after processing already covers. NOT so for librdkafka: its
     # timer commits stored offsets mid-batch, so a crash then loses records (the model runs it).
     lambda v: v["enable.auto.commit"] and v["commit.strategy"] not in AUTO_COMMITTING
     and v["client.model"] == "java",
     lambda v: f"no effect on the outcome here: commit.strategy is {v['commit.strategy']}, "
               "so the application's own commits already cover what the Java client's "
               "auto-commit in poll() would commit (it only adds a commit in close())"),
    ("auto.commit.interval.ms",
     lambda v: not v["enable.auto.commit"] or (v["commit.strategy"] not in AUTO_COMMITTING
                                               and v["client.model"] == "java"),
     lambda v: "no effect here: " + ("enable.auto.commit is off" if not v["enable.auto.commit"]
                                     else "the application's own commits decide")),
    ("enable.auto.offset.store",
     lambda v: v["client.model"] != "librdkafka",
     lambda v: "no effect here: a librdkafka property; client.model is java"),
    ("isolation.level",
     lambda v: v["isolation.level"] == "read_committed" and not v["transactions"],
     lambda v: "no effect here: without transactions every record is committed data, so "
               "read_committed reads what read_uncommitted reads"),
    ("retries",
     lambda v: v["acks"] == "0",
     lambda v: "no effect here: with acks=0 the producer never hears of a failure, so it "
               "never retries"),
    ("lost.acks",
     lambda v: v["acks"] == "0" and v["lost.acks"] > 0,
     lambda v: "no effect here: with acks=0 there is no produce response to lose"),
    ("lost.acks.probability",
     lambda v: v["acks"] == "0" and v["lost.acks.probability"] > 0,
     lambda v: "no effect here: with acks=0 there is no produce response to lose"),
    ("producer.restart.zombie",
     lambda v: v["producer.restart.zombie"] and v["producer.restart.after.message"] == NONE,
     lambda v: "no effect here: no producer restart is set (producer.restart.after is −1)"),
    ("on.processing.error",
     lambda v: v["processing.failure.record"] == NONE,
     lambda v: "no effect here: no processing failure is set (processing.failure.record "
               "is −1)"),
)



Rule = tuple[str, Callable[[Values], bool], Callable[[Values], str]]


def _slot_rules() -> tuple[Rule, ...]:
    """The fault slots' notes: a broker fault with no replica to fail over to, a slow
    follower with nothing to fetch, a member joining a group with no partition left for it."""

    def crash_alone(v: Values, n: str) -> bool:
        return bool(v[n] in BROKER_DOWN_FAULTS and v["brokers"] == 1)

    def nothing_to_fetch(v: Values, n: str) -> bool:
        return bool(v[n] == "slow_follower" and v["replication.factor"] == 1)

    def too_many_members(v: Values, upto: tuple[str, ...]) -> bool:
        joins = sum(v[m] == "member_join" for m in upto)
        return bool(v[upto[-1]] == "member_join" and v["consumers"] + joins > v["partitions"])

    rules: list[Rule] = []
    members: list[str] = []
    for slot in FAULT_SLOTS.values():
        n = slot.name
        if slot.kinds is _BROKER_KINDS:
            rules.append((n, functools.partial(crash_alone, n=n),
                          lambda v: "brokers=1: no other replica can take over, so there is no "
                                    "failover: the partition waits until this broker is back"))
            rules.append((n, functools.partial(nothing_to_fetch, n=n),
                          lambda v: "no effect here: with replication.factor=1 no broker "
                                    "follows a leader, so there is no fetch to slow down"))
        else:
            members.append(n)
            rules.append((n, functools.partial(too_many_members, upto=tuple(members)),
                          lambda v: f"partitions={v['partitions']}: more members than "
                                    "partitions, so one member owns none; the join still "
                                    "causes a rebalance"))
    return tuple(rules)


_SLOT_RULES = _slot_rules()


def inert_notes(values: Values) -> dict[str, str]:
    """Control name → why it has no effect with these values (only for inert controls)."""
    notes: dict[str, str] = {}
    for name, inert, why in _RULES + _SLOT_RULES:
        if name in notes:
            continue
        try:
            if inert(values):
                notes[name] = why(values)
        except KeyError:  # a value the rule needs is not a control here
            continue
    return notes


def inert_controls() -> tuple[str, ...]:
    """Every control that can get a note."""
    return tuple(dict.fromkeys(name for name, _, _ in _RULES + _SLOT_RULES))


def faults_to_controls(faults: FaultPlan) -> tuple[dict[str, Any], FaultPlan]:
    """Split a preset's fault plan into control values and the faults no control expresses."""
    values: dict[str, Any] = {name: f.default for name, f in FAULT_FIELDS.items()}
    values.update({name: f.default for name, f in SLOT_FIELDS.items()})
    other: FaultPlan = []
    for f in faults:
        kind = f["type"]
        slot = _free_slot(values, f)
        if kind == "consumer_crash" and f.get("point") == "after_processing" and "message" in f \
                and values["crash.after.record"] == NONE and set(f) <= {"type", "point", "message"}:
            values["crash.after.record"] = f["message"]
        elif kind == "processing_failure" and f.get("times", 1) == 1 and \
                values["processing.failure.record"] == NONE:
            values["processing.failure.record"] = f["message"]
        elif kind == "producer_restart" and "after_message" in f and \
                values["producer.restart.after.message"] == NONE:
            values["producer.restart.after.message"] = f["after_message"]
            values["producer.restart.zombie"] = bool(f.get("zombie", False))
        elif slot is not None:
            values[slot.name] = kind
            for option in slot.options:
                if option in f:
                    values[f"{slot.name}.{option}"] = f[option]
        elif kind == "random":
            rest = {k: v for k, v in f.items() if k not in ("type", "lose_response",
                                                             "consumer_crash")}
            values["lost.acks.probability"] = float(f.get("lose_response", 0.0))
            values["crash.probability"] = float(f.get("consumer_crash", 0.0))
            if rest:
                other.append({"type": "random", **rest})
        else:
            other.append(copy.deepcopy(f))
    return values, other


def _free_slot(values: Mapping[str, Any], fault: Mapping[str, Any]) -> FaultSlot | None:
    """The first empty fault slot that can show ``fault`` exactly (its kind, fixed options
    and every option it sets), or None."""
    for slot in FAULT_SLOTS.values():
        kind = slot.kind(fault["type"])
        if values[slot.name] != SLOT_NONE or kind is None:
            continue
        fixed = dict(kind.fixed)
        if all(fault.get(k) == v for k, v in fixed.items()) and \
                set(fault) - {"type"} - set(fixed) <= set(kind.options):
            return slot
    return None


def hidden_controls(values: Values) -> set[str]:
    """A fault slot's option boxes that its chosen kind does not take (all of them for
    "none"): the Lab hides them, so an empty slot is one line."""
    hidden: set[str] = set()
    for slot in FAULT_SLOTS.values():
        kind = slot.kind(values[slot.name])
        taken = kind.options if kind is not None else ()
        hidden.update(f"{slot.name}.{o}" for o in slot.options if o not in taken)
    return hidden


def noted_controls() -> tuple[str, ...]:
    """Every control with a note line under it: the inert ones and the fault controls (a bad
    value's error is shown next to its control)."""
    return tuple(dict.fromkeys((*inert_controls(), *FAULT_FIELDS, *SLOT_FIELDS,
                                "messages", "seed")))


def late_fault_notes(values: Values, end_ms: float) -> dict[str, str]:
    """A fault slot's ``at_ms`` after the run's last event (``end_ms``): the run ended before
    the fault's time, so it never fired. Control name (the ``at_ms`` box) → the note."""
    notes = {}
    for slot in FAULT_SLOTS.values():
        name = f"{slot.name}.at_ms"
        kind = slot.kind(values[slot.name])
        if kind is not None and "at_ms" in kind.options and values[name] > end_ms:
            notes[name] = (f"no effect here: the run ended at t={end_ms:g} ms, before this "
                           f"at_ms ({values[name]:g} ms), so the fault never happened")
    return notes
