"""The Lab's generated controls (issue 15 item 1): every Kafka property a preset uses has a
control that shows the preset's value and, changed, reaches the model; the Lab's own writes
never count as the learner's (the state lives in ``lab.values``, no busy flag)."""

from __future__ import annotations

import pytest

from kafkalab.model.config import PROPERTIES
from kafkalab.widgets import settings
from kafkalab.widgets.lab import Lab


@pytest.fixture(scope="module")
def lab():
    return Lab("idempotent-producer-lost-ack")


def test_a_preset_shows_its_kafka_properties(lab):
    lab.load("idempotent-producer-lost-ack")
    c = lab.controls
    assert c["request.timeout.ms"].value == 50 and c["retry.backoff.ms"].value == 10
    assert c["linger.ms"].value == 0.0 and c["auto.offset.reset"].value == "earliest"
    # not set by the preset: the effective default (Java's delivery.timeout.ms)
    assert c["delivery.timeout.ms"].value == PROPERTIES["delivery.timeout.ms"].java
    assert lab.values == {k: w.value for k, w in c.items()}
    assert lab.error is None


def test_the_controls_are_generated_from_properties(lab):
    for name, widget in lab.controls.items():
        tip = widget.tooltip
        assert tip == settings.control_help(name), name
        if name in PROPERTIES and PROPERTIES[name].kind == "choice":
            assert tuple(widget.options) == PROPERTIES[name].choices
    titles = [lab.settings_panel.get_title(i) for i in range(len(lab.settings_panel.children))]
    assert titles[:3] == ["Consumer", "Producer and workload", "Faults"]


@pytest.mark.parametrize(("name", "value"), [
    ("request.timeout.ms", 200), ("partitions", 2), ("consumers", 2), ("linger.ms", 3.0),
    ("auto.offset.reset", "latest"), ("processing.ms", 2.0)])
def test_a_new_control_reaches_the_model(lab, name, value):
    lab.load("idempotent-producer-lost-ack")
    runs = lab._runs
    lab.controls[name].value = value
    assert lab._runs == runs + 1 and lab.error is None, lab.error
    assert lab.result.config[name] == value
    assert name in lab._explicit


def test_a_refused_combination_is_named_in_kafkas_words(lab):
    """Java's ProducerConfig refuses an explicit delivery.timeout.ms below linger.ms +
    request.timeout.ms (fact sheet; model.config._check_combinations)."""
    lab.load("idempotent-producer-lost-ack")
    good = lab.result
    lab.controls["delivery.timeout.ms"].value = 10
    assert lab.error and "delivery.timeout.ms" in lab.error and lab.result is good
    lab.load("idempotent-producer-lost-ack")
    assert lab.error is None


def test_the_labs_own_writes_are_not_the_learners(lab):
    lab.load("idempotent-producer-lost-ack")  # client.model: the Java default
    explicit = set(lab._explicit)
    runs = lab._runs
    lab.controls["client.model"].value = "librdkafka"  # effective defaults follow: one run
    assert lab._runs == runs + 1
    assert lab._explicit == explicit | {"client.model"}
    assert lab.controls["delivery.timeout.ms"].value == PROPERTIES["delivery.timeout.ms"].librdkafka
    assert lab.controls["isolation.level"].value == "read_committed"  # librdkafka's default
    lab.step = 1
    assert lab.slider.value == 1 and lab._runs == runs + 1
    lab.slider.value = 2  # the learner drags the slider
    assert lab.step == 2
