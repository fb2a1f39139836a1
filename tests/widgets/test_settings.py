"""The Lab's settings without widgets (issue 15 item 1): controls ⇄ (config, faults, seed),
every control generated from model.config.PROPERTIES or the one fault-control table."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
            field = settings.LAB_FIELDS.get(name) or settings.FAULT_FIELDS[name]
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
