"""The Lab's settings without widgets: controls ⇄ ``(config, faults, seed)``.

Pure functions of the controls' values (name → value, as in ``Lab.controls``); no ipywidgets
here, so they are unit-tested alone:

- ``CONTROL_GROUPS``: which controls the Lab shows, in which collapsible group. A Kafka (or
  kafkalab workload) property's control takes its kind, default, choices and help text from
  ``kafkalab.model.config.PROPERTIES``; the Lab's own fields (``transactions``, ``seed``) and
  the fault controls are the two tables below (``LAB_FIELDS``, ``FAULT_FIELDS``).
- ``assemble(values, ...)``: the controls' values → ``(config, faults, seed)`` for
  ``simulate()``; ``faults_to_controls(plan)`` and ``config_to_controls(config)`` go back.
- ``inert_notes(values)``: a setting the model would silently ignore in this combination gets
  a note next to its control instead (COMMON: never a setting silently ignored).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..model.config import PROPERTIES, Config
from ..model.faults import FAULT_KINDS, FaultPlan

NONE = -1  # "no fault" in the fault-number boxes
MAX_LAB_MESSAGES = 20_000  # the Lab keeps every snapshot in memory; simulate() allows more
TRANSACTIONAL_ID = "kafkalab-app"  # what the "transactions" checkbox sets transactional.id to


class LabInputError(ValueError):
    """A value the Lab will not run (worded for the learner)."""


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
    "Timing (simulated ms)": ("processing.ms", "producer.send.interval.ms", "consumer.start.ms",
                              "network.rtt.ms", "commit.write.ms", "restart.delay.ms",
                              "transaction.messages"),
}
# Controls that are config properties, passed to the model as config when set explicitly.
CONFIG_CONTROLS: tuple[str, ...] = tuple(
    name for names in CONTROL_GROUPS.values() for name in names if name in PROPERTIES)


def control_kind(name: str) -> str:
    """"int", "float", "bool" or "choice" for a control."""
    if name in PROPERTIES:
        return PROPERTIES[name].kind
    return (LAB_FIELDS.get(name) or FAULT_FIELDS[name]).kind


def control_default(name: str) -> Any:
    """A control's value before any preset is loaded (the Java client's default)."""
    if name in PROPERTIES:
        return PROPERTIES[name].java
    return (LAB_FIELDS.get(name) or FAULT_FIELDS[name]).default


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
    return LAB_FIELDS[name].help


def control_label(name: str) -> str:
    return name if name in PROPERTIES else (LAB_FIELDS.get(name) or FAULT_FIELDS[name]).label


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
                raise LabInputError(f"{name}: {value!r} is not a number")
    messages = values["messages"]
    if messages < 1:
        raise LabInputError(f"messages: {messages} — send at least 1 message.")
    if messages > MAX_LAB_MESSAGES:
        raise LabInputError(
            f"messages: {messages:,} is more than the Lab simulates at once (at most "
            f"{MAX_LAB_MESSAGES:,}); kafkalab.simulate() runs larger workloads without the "
            "dashboard.")
    seed = values["seed"]
    if seed < 0:
        raise LabInputError(f"seed: {seed} — a seed is a whole number ≥ 0.")
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
            raise LabInputError(f"{key}: {values[key]} — use a message id, or −1 for none.")
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
                            f"({messages}).")
    faults.extend({"type": "lose_response", "message": m} for m in range(lost))
    rnd = {}
    for key, fault_key in _RANDOM_FIELDS:
        p = values[key]
        if not 0 <= p <= 1:
            raise LabInputError(f"{key}: {p} — a probability is between 0 and 1.")
        if p > 0:
            rnd[fault_key] = float(p)
    if rnd:
        merged = next((f for f in faults if f["type"] == "random"), None)
        if merged is None:
            faults.append({"type": "random", **rnd})
        else:
            merged.update(rnd)
    return config, faults, seed


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


def inert_notes(values: Values) -> dict[str, str]:
    """Control name → why it has no effect with these values (only for inert controls)."""
    notes: dict[str, str] = {}
    for name, inert, why in _RULES:
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
    return tuple(dict.fromkeys(name for name, _, _ in _RULES))


def faults_to_controls(faults: FaultPlan) -> tuple[dict[str, Any], FaultPlan]:
    """Split a preset's fault plan into control values and the faults no control expresses."""
    values: dict[str, Any] = {name: f.default for name, f in FAULT_FIELDS.items()}
    other: FaultPlan = []
    for f in faults:
        kind = f["type"]
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
