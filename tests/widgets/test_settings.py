"""The Lab's settings without widgets (issue 15 item 1): controls ⇄ (config, faults, seed),
every control generated from model.config.PROPERTIES or the one fault-control table."""

from __future__ import annotations

import subprocess
import sys

import pytest

import kafkalab
from kafkalab import scenarios
from kafkalab.model import faults as model_faults
from kafkalab.model.config import PROPERTIES, resolve
from kafkalab.widgets import settings
from kafkalab.widgets.settings import NONE, LabInputError, assemble


def _values(**overrides):
    """Control values as a freshly built Lab holds them (before a preset is loaded)."""
    values = {name: settings.control_default(name) for name in settings.control_names()}
    values.update(overrides)
    return values


def test_settings_import_no_ipywidgets():
    code = ("import sys, kafkalab.widgets.settings as s; s.assemble; "
            "assert 'ipywidgets' not in sys.modules and 'plotly' not in sys.modules, "
            "sorted(m for m in sys.modules if m.startswith(('ipywidgets', 'plotly')))")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_kafka_property_a_preset_sets_has_a_control():
    """notebook 08's challenges need request.timeout.ms, delivery.timeout.ms,
    auto.offset.reset, partitions, consumers, linger.ms (issue 15)."""
    used = set()
    for preset in scenarios.PRESETS.values():
        used |= set(preset.config)
        for variant in preset.variants.values():
            used |= set(variant.get("config", {}))
    kafka = {k for k in used if PROPERTIES[k].kafka and k != "transactional.id"}
    controls = set(settings.control_names())
    assert kafka <= controls, sorted(kafka - controls)
    assert "transactions" in controls  # transactional.id: the checkbox
    assert {"request.timeout.ms", "delivery.timeout.ms", "auto.offset.reset", "partitions",
            "consumers", "linger.ms"} <= controls


def test_controls_come_from_the_tables():
    for name in settings.control_names():
        if name in PROPERTIES:
            prop = PROPERTIES[name]
            assert settings.control_kind(name) == prop.kind
            assert settings.control_default(name) == prop.java
            assert settings.control_help(name).startswith(prop.doc)
            assert settings.control_label(name) == name
        else:
            field = (settings.LAB_FIELDS.get(name) or settings.FAULT_FIELDS.get(name)
                     or settings.SLOT_FIELDS[name])
            assert settings.control_default(name) == field.default
    for field in settings.FAULT_FIELDS.values():  # fault kinds from model.faults, one table
        assert field.fault in model_faults.FAULT_KINDS
        assert settings.control_help(field.name).startswith(
            model_faults.FAULT_KINDS[field.fault].label)
    names = settings.control_names()
    assert len(names) == len(set(names)), "a control in two groups"
    assert set(settings.inert_controls()) <= set(names)


def test_assemble_passes_only_explicit_properties_over_the_preset():
    preset = {"messages": 10, "enable.auto.commit": True}
    config, faults, seed = assemble(_values(**{"linger.ms": 0.0, "max.poll.records": 3}),
                                    preset, {"messages", "enable.auto.commit", "linger.ms"}, [])
    assert config == {"messages": 10, "enable.auto.commit": True, "linger.ms": 0.0}
    assert faults == [] and seed == 0
    resolve(config)


def test_assemble_builds_the_fault_plan_and_round_trips():
    plan = [{"type": "consumer_crash", "point": "after_processing", "message": 4},
            {"type": "processing_failure", "message": 2},
            {"type": "producer_restart", "after_message": 5, "zombie": True},
            {"type": "random", "lose_response": 0.25, "consumer_crash": 0.5},
            {"type": "pause", "message": 1, "ms": 50.0}]
    values, other = settings.faults_to_controls(plan)
    assert other == [{"type": "pause", "message": 1, "ms": 50.0}]
    _, faults, _ = assemble(_values(**values), {}, set(), other)
    key = lambda f: (f["type"], sorted(f.items()))  # noqa: E731
    assert sorted(faults, key=key) == sorted(plan, key=key)
    model_faults.normalise(faults)  # a plan the model accepts


def test_assemble_lost_acks_and_transactions():
    config, faults, _ = assemble(_values(**{"lost.acks": 2, "transactions": True}), {},
                                 {"transactions"}, [], "my-app")
    assert config == {"transactional.id": "my-app"}
    assert faults == [{"type": "lose_response", "message": 0},
                      {"type": "lose_response", "message": 1}]
    config, _, _ = assemble(_values(), {"transactional.id": "x"}, {"transactions"}, [])
    assert config == {"transactional.id": None}


@pytest.mark.parametrize(("overrides", "words"), [
    ({"messages": 0}, "messages: 0 — send at least 1 message."),
    ({"messages": settings.MAX_LAB_MESSAGES + 1}, "more than the Lab simulates at once"),
    ({"seed": -1}, "seed: -1 — a seed is a whole number ≥ 0."),
    ({"crash.after.record": -2}, "crash.after.record: -2 — use a message id, or −1 for none."),
    ({"lost.acks": 11}, "lost.acks: 11 — between 0 and the number of messages (10)."),
    ({"crash.probability": 1.5}, "crash.probability: 1.5 — a probability is between 0 and 1."),
    ({"linger.ms": "abc"}, "linger.ms: 'abc' is not a number"),
])
def test_assemble_refuses_in_one_line(overrides, words):
    with pytest.raises(LabInputError) as exc:
        assemble(_values(**overrides), {}, set(), [])
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_config_to_controls_shows_the_effective_values():
    shown = settings.config_to_controls(resolve({"client.model": "librdkafka"}))
    assert shown["delivery.timeout.ms"] == PROPERTIES["delivery.timeout.ms"].librdkafka
    assert shown["transactions"] is False
    assert set(shown) == set(settings.CONFIG_CONTROLS) | {"transactions"}
    assert NONE == -1


# -- the member and broker fault slots (issues 17 and 18) ----------------------------------------

def _preset_values(preset):
    """What the Lab's controls show for ``preset`` (as Lab.load sets them), and its other faults."""
    fault_values, other = settings.faults_to_controls(preset.faults)
    values = _values(**settings.config_to_controls(resolve(dict(preset.config))))
    values.update(fault_values, seed=preset.seed)
    return values, other


def _fault_key(f):
    return (f["type"], sorted(f.items()))


@pytest.mark.parametrize("name", list(scenarios.PRESETS))
def test_every_presets_plan_round_trips_through_the_controls(name):
    """controls → plan → controls exactly, and the plan the controls give is the preset's (as a
    set of faults), so the Lab re-produces the preset's run (next test)."""
    preset = scenarios.PRESETS[name]
    values, other = _preset_values(preset)
    config, faults, seed = assemble(values, preset.config, set(preset.config), other)
    norm = model_faults.normalise  # the model's defaults filled in (zombie=False, ...)
    assert sorted(norm(faults), key=_fault_key) == sorted(norm(preset.faults), key=_fault_key)
    again, other_again = settings.faults_to_controls(faults)
    assert other_again == other
    assert {k: values[k] for k in again} == again
    assert config == preset.config and seed == preset.seed


def _group_or_broker_fault(f):
    return f["type"] in model_faults.BROKER_FAULTS or f["type"].startswith("member_") or (
        f["type"] == "consumer_crash" and f["point"] == "time")


@pytest.mark.parametrize("name", [n for n, p in scenarios.PRESETS.items()
                                  if any(map(_group_or_broker_fault, p.faults))])
def test_a_preset_with_member_or_broker_faults_shows_them_and_runs_the_same(name):
    """A group or broker preset's faults are all in the controls (nothing left over), and the
    run from the controls is the preset's own run, event for event."""
    preset = scenarios.PRESETS[name]
    values, other = _preset_values(preset)
    assert other == [], other
    shown = [values[s] for s in settings.FAULT_SLOTS if values[s] != settings.SLOT_NONE]
    assert sorted(shown) == sorted(f["type"] for f in preset.faults)
    config, faults, seed = assemble(values, preset.config, set(preset.config), other)
    lab_run = kafkalab.simulate(config, faults, seed)
    preset_run = kafkalab.simulate(dict(preset.config), list(preset.faults), preset.seed)
    assert [e.text for e in lab_run.events] == [e.text for e in preset_run.events]
    assert lab_run.outcome == preset_run.outcome


def test_rebalance_duplicates_and_acks_1_failover_show_their_fault():
    values, _ = _preset_values(scenarios.get("rebalance-duplicates"))
    assert values["member.fault.1"] == "consumer_crash"  # at a time, member 0
    assert (values["member.fault.1.member"], values["member.fault.1.at_ms"]) == (0, 150)
    values, _ = _preset_values(scenarios.get("acks-1-leader-failover"))
    assert values["broker.fault.1"] == "broker_crash"
    assert (values["broker.fault.1.broker"], values["broker.fault.1.at_ms"],
            values["broker.fault.1.restart_after_ms"]) == (0, 40, 5000)
    assert values["broker.fault.1.after_message"] == NONE  # not set


def test_fault_slots_come_from_the_fault_table():
    """Labels are FAULT_KINDS', options FAULT_OPTIONS' (never restated)."""
    for slot in settings.FAULT_SLOTS.values():
        choices = settings.control_choices(slot.name)
        assert choices[0] == (settings.SLOT_NONE, settings.SLOT_NONE)
        for (label, type_), kind in zip(choices[1:], slot.kinds, strict=True):
            assert type_ == kind.type and label.startswith(model_faults.FAULT_KINDS[type_].label)
            assert set(kind.options) <= set(model_faults.FAULT_OPTIONS[type_])
        for option in slot.options:
            name = f"{slot.name}.{option}"
            assert settings.control_label(name) == option
            kinds = {model_faults.FAULT_OPTIONS[k.type][option][0] for k in slot.kinds
                     if option in k.options}
            assert kinds == {settings.control_kind(name)}
            assert settings.control_default(name) == NONE
    assert settings.control_choices("member.fault.1")[1][0] == "consumer crash at a time"


def test_a_slot_adds_its_fault_and_hides_the_boxes_its_kind_does_not_take():
    values = _values(**{"consumers": 2, "member.fault.1": "member_leave",
                        "member.fault.1.member": 1, "member.fault.1.at_ms": 500.0})
    _, faults, _ = assemble(values, {}, set(), [])
    assert faults == [{"type": "member_leave", "member": 1, "at_ms": 500.0}]
    hidden = settings.hidden_controls(values)
    assert "member.fault.1.member" not in hidden and "member.fault.2.at_ms" in hidden
    values.update({"member.fault.1": "member_join"})  # a join takes no member: hidden, unused
    _, faults, _ = assemble(values, {}, set(), [])
    assert faults == [{"type": "member_join", "at_ms": 500.0}]
    assert "member.fault.1.member" in settings.hidden_controls(values)
    values = _values(**{"brokers": 3, "broker.fault.1": "slow_follower",
                        "broker.fault.1.broker": 2, "broker.fault.1.at_ms": 0.0,
                        "broker.fault.1.for_ms": 100.0, "broker.fault.1.restart_after_ms": 9.0})
    _, faults, _ = assemble(values, {}, set(), [])  # restart_after_ms: not a slow_follower option
    assert faults == [{"type": "slow_follower", "broker": 2, "at_ms": 0.0, "for_ms": 100.0}]
    assert "broker.fault.1.restart_after_ms" in settings.hidden_controls(values)


@pytest.mark.parametrize(("overrides", "control", "words"), [
    ({"member.fault.1": "member_leave", "member.fault.1.at_ms": 10.0}, "member.fault.1.member",
     "member fault 1 (member leaves): set member (required; −1 is not set)."),
    ({"member.fault.2": "member_leave", "member.fault.2.member": 3, "member.fault.2.at_ms": 1.0},
     "member.fault.2.member", "member fault 2 (member_leave): member 3 does not exist"),
    ({"member.fault.1": "consumer_crash", "member.fault.1.at_ms": -5.0},
     "member.fault.1.at_ms", "member.fault.1.at_ms: -5 — a number ≥ 0, or −1 for not set."),
    ({"broker.fault.1": "broker_crash", "broker.fault.1.broker": 1, "broker.fault.1.at_ms": 5.0},
     "broker.fault.1.broker", "broker fault 1 (broker_crash): broker 1 does not exist; this "
     "cluster has brokers 0–0 (brokers=1)"),
    ({"broker.fault.1": "broker_crash", "broker.fault.1.broker": 0}, "broker.fault.1",
     "broker fault 1 (broker_crash): give exactly one of after_message or at_ms"),
    ({"broker.fault.3": "machine_failure", "broker.fault.3.broker": 0,
      "broker.fault.3.after_message": 10}, "broker.fault.3.after_message",
     "broker fault 3 (machine_failure): message 10 does not exist"),
    ({"crash.after.record": -2}, "crash.after.record", "use a message id, or −1 for none"),
])
def test_a_bad_fault_value_names_its_control(overrides, control, words):
    with pytest.raises(LabInputError) as exc:
        assemble(_values(messages=10, **overrides), {}, set(), [])
    assert words in str(exc.value) and "\n" not in str(exc.value)
    assert exc.value.control == control


def test_a_joining_member_counts_for_a_later_member_fault():
    values = _values(**{"member.fault.1": "member_join", "member.fault.1.at_ms": 100.0,
                        "member.fault.2": "member_leave", "member.fault.2.member": 1,
                        "member.fault.2.at_ms": 900.0})
    _, faults, _ = assemble(values, {}, set(), [])  # consumers=1 and one join: member 1 exists
    assert [f["type"] for f in faults] == ["member_join", "member_leave"]


def test_a_fault_slot_with_no_effect_says_so():
    notes = settings.inert_notes(_values(**{"broker.fault.1": "broker_crash"}))
    assert "brokers=1" in notes["broker.fault.1"] and "no failover" in notes["broker.fault.1"]
    notes = settings.inert_notes(_values(**{"brokers": 3, "broker.fault.2": "slow_follower"}))
    assert "replication.factor=1" in notes["broker.fault.2"]
    assert "broker.fault.2" not in settings.inert_notes(
        _values(**{"brokers": 3, "replication.factor": 3, "broker.fault.2": "slow_follower"}))
    notes = settings.inert_notes(_values(**{"member.fault.1": "member_join"}))
    assert "more members than partitions" in notes["member.fault.1"]
    assert "member.fault.1" not in settings.inert_notes(
        _values(**{"partitions": 2, "member.fault.1": "member_join"}))


def test_a_fault_after_the_runs_end_says_it_never_happened():
    values = _values(**{"member.fault.1": "member_join", "member.fault.1.at_ms": 500.0,
                        "broker.fault.1": "broker_crash", "broker.fault.1.at_ms": NONE})
    notes = settings.late_fault_notes(values, 120.0)
    assert list(notes) == ["member.fault.1.at_ms"]
    assert "the run ended at t=120 ms" in notes["member.fault.1.at_ms"]
    assert settings.late_fault_notes(values, 600.0) == {}
