"""The Lab's generated controls (issue 15 item 1): every Kafka property a preset uses has a
control that shows the preset's value and, changed, reaches the model; the Lab's own writes
never count as the learner's (the state lives in ``lab.values``, no busy flag)."""

from __future__ import annotations

import pytest

from kafkalab import scenarios
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


# -- member and broker fault controls (issues 17 and 18) -------------------------------------------

def _shown(lab, name):
    return lab.controls[name].layout.display != "none"


def test_a_group_preset_shows_its_member_fault_and_moving_it_reruns(lab):
    """rebalance-duplicates: member 0 crashes at t=150 ms (its plan, in the controls); moving the
    time or the member re-runs the model with the moved fault."""
    lab.load("rebalance-duplicates")
    c = lab.controls
    assert c["member.fault.1"].value == "consumer_crash" and lab.error is None
    assert (c["member.fault.1.member"].value, c["member.fault.1.at_ms"].value) == (0, 150)
    assert lab._other_faults == [] and lab.fault_note.value == ""
    assert _shown(lab, "member.fault.1.at_ms") and not _shown(lab, "member.fault.2.at_ms")
    same = lab.result.outcome
    assert same == scenarios.run("rebalance-duplicates").outcome  # the preset's own run
    runs = lab._runs
    c["member.fault.1.at_ms"].value = 400.0
    assert lab._runs == runs + 1 and lab.error is None, lab.error
    assert lab.result.faults == [{"type": "consumer_crash", "point": "time", "at_ms": 400.0,
                                  "member": 0}]
    c["member.fault.1.member"].value = 1
    assert lab.result.faults[0]["member"] == 1 and lab.error is None
    c["member.fault.1"].value = "member_leave"  # the same boxes, another kind of fault
    assert lab.result.faults == [{"type": "member_leave", "member": 1, "at_ms": 400.0}]
    c["member.fault.1"].value = "none"
    assert lab.result.faults == [] and not _shown(lab, "member.fault.1.at_ms")


def test_a_member_join_from_the_controls_reaches_the_group(lab):
    lab.load("rebalance-duplicates")
    lab.controls["member.fault.2"].value = "member_join"
    assert "at_ms" in (lab.error or "") and lab.error_control == "member.fault.2.at_ms"
    lab.controls["member.fault.2.at_ms"].value = 300.0
    assert lab.error is None, lab.error
    assert {"type": "member_join", "at_ms": 300.0} in lab.result.faults
    # consumers=2, so the k-th join is member 2 + k - 1 (model.faults)
    assert [e.data["member"] for e in lab.result.events if e.kind == "member_start"] == \
        ["consumer-2"]


def test_a_broker_preset_shows_its_broker_fault_and_moving_it_reruns(lab):
    """acks-1-leader-failover: broker 0 crashes at t=40 ms and is back 5 s later."""
    lab.load("acks-1-leader-failover")
    c = lab.controls
    assert c["broker.fault.1"].value == "broker_crash" and lab.error is None
    assert (c["broker.fault.1.broker"].value, c["broker.fault.1.at_ms"].value,
            c["broker.fault.1.restart_after_ms"].value) == (0, 40, 5000)
    assert c["broker.fault.1.after_message"].value == -1  # not set
    assert not _shown(lab, "broker.fault.1.for_ms")  # a slow_follower option
    lost = lab.outcome["lost"]
    assert lab.outcome == scenarios.run("acks-1-leader-failover").outcome and lost > 0
    runs = lab._runs
    c["broker.fault.1.at_ms"].value = 20000.0  # after the run's end: it never happens
    assert lab._runs == runs + 1 and lab.error is None, lab.error
    assert lab.result.faults[0]["at_ms"] == 20000.0
    assert lab.outcome["lost"] == 0 and lab.result.events[-1].t < 20000
    assert "the run ended at t=" in lab.notes["broker.fault.1.at_ms"].value
    c["broker.fault.1.at_ms"].value = 40.0
    assert lab.notes["broker.fault.1.at_ms"].value == "" and lab.outcome["lost"] == lost
    c["broker.fault.1"].value = "slow_follower"
    assert _shown(lab, "broker.fault.1.for_ms") and not _shown(lab, "broker.fault.1.restart_after_ms")
    assert lab.error_control == "broker.fault.1.for_ms"  # required by a slow follower
    c["broker.fault.1.for_ms"].value = 1000.0
    assert lab.error is None and lab.result.faults[0]["type"] == "slow_follower"


def test_a_bad_fault_value_is_named_next_to_its_control_and_a_good_one_clears_it(lab):
    lab.load("acks-1-leader-failover")
    good = lab.result
    box, note = lab.controls["broker.fault.1.broker"], lab.notes["broker.fault.1.broker"]
    box.value = 7
    assert "broker 7 does not exist" in lab.error and lab.result is good
    assert lab.error_control == "broker.fault.1.broker"
    assert "broker 7 does not exist" in note.value and "kafkalab-control-error" in note.value
    assert "broker 7 does not exist" in lab.error_box.value
    box.value = 1
    assert lab.error is None and note.value == "" and lab.error_box.value == ""
    assert lab.result.faults[0]["broker"] == 1
    lab.controls["broker.fault.1.after_message"].value = 3  # and at_ms: one too many
    assert "exactly one of after_message or at_ms" in lab.notes["broker.fault.1"].value
    lab.controls["broker.fault.1.at_ms"].value = -1.0
    assert lab.error is None and lab.notes["broker.fault.1"].value == ""
    assert lab.result.faults[0] == {"type": "broker_crash", "broker": 1, "after_message": 3,
                                    "restart_after_ms": 5000.0}


def test_a_broker_fault_with_one_broker_says_it_has_no_failover(lab):
    lab.load("acks-1-leader-failover")
    assert "kafkalab-control-error" not in lab.notes["broker.fault.1"].value
    assert lab.notes["broker.fault.1"].value == ""  # 3 brokers: a failover to see
    lab.load("at-least-once-manual-commit")
    c = lab.controls
    c["broker.fault.1.broker"].value = 0  # hidden while the slot is "none": not yet a fault
    c["broker.fault.1.at_ms"].value = 10.0
    c["broker.fault.1"].value = "broker_crash"
    assert lab.error is None, lab.error
    assert "brokers=1" in lab.notes["broker.fault.1"].value
    assert "no failover" in lab.notes["broker.fault.1"].value
    assert lab.result.faults[-1]["type"] == "broker_crash"


def test_a_link_with_a_moved_member_fault_opens_without_doubling_it(lab):
    """A link's plan replaces the scenario's; the fault slots then show none of the scenario's
    faults, so a later control change runs the link's plan once, not the preset's on top."""
    lab.load("rebalance-duplicates")
    lab.controls["member.fault.1.at_ms"].value = 400.0
    moved = lab.result.faults
    other = Lab.from_link(lab.link())
    assert other.error is None and other.result.faults == moved
    other.set("seed", 1)
    assert other.error is None and other.result.faults == moved
