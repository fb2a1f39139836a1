"""The Lab: controls re-run the model, stepping replays snapshots, errors stay in the dashboard."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kafkalab.model
from kafkalab import scenarios
from kafkalab.widgets.lab import MAX_LAB_MESSAGES, Lab


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


@pytest.fixture
def lab():
    return Lab()


@pytest.fixture
def counting(monkeypatch):
    """Count calls of kafkalab.model.simulate (the function the Lab calls)."""
    calls = []
    real = kafkalab.model.simulate

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(kafkalab.model, "simulate", counted)
    return calls


def test_import_is_light_and_lab_is_lazy():
    code = ("import sys, kafkalab\n"
            "light = not any(m in sys.modules for m in ('plotly', 'ipywidgets', 'networkx'))\n"
            "from kafkalab import Lab, run, simulate, scenarios\n"
            "import ipywidgets\n"
            "print(light, issubclass(Lab, ipywidgets.VBox), run is scenarios.run)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=120)
    assert out.stdout.split() == ["True", "True", "True"], out.stderr


def test_default_lab_shows_the_default_scenario(lab):
    assert set(lab.figures) >= {"timeline", "ledger", "log", "topology"}
    assert lab.error is None
    assert lab.outcome is lab.result.outcome
    assert lab.outcome["lost"] == 2
    lost = _trace(lab.figures["ledger"], "LOST: never processed")
    assert sorted(lost.customdata) == [8, 9]
    assert "lost: <span style='color:#D55E00;font-weight:bold'>2</span>" in lab.counters.value
    assert lab.step == len(lab.result.events) - 1
    assert lab.result.events[-1].text in lab.explanation
    options = lab.scenario_picker.options
    assert "at-most-once-auto-commit/java-crash" in options and len(options) == sum(
        1 + len(p.variants) for p in scenarios.PRESETS.values())


def test_controls_rerun_the_model_and_update_everything(lab, counting):
    before = lab.counters.value
    lab.controls["client.model"].value = "java"
    lab.controls["auto.commit.interval.ms"].value = 5000
    assert len(counting) == 2
    expected = scenarios.run("at-most-once-auto-commit/java-crash").outcome
    assert (lab.outcome["lost"], lab.outcome["duplicates"]) == (
        expected["lost"], expected["duplicates"]) == (0, 8)
    dup = _trace(lab.figures["ledger"], "×n: processed more than once")
    assert sorted(dup.customdata) == list(range(8))
    assert len(_trace(lab.figures["ledger"], "LOST: never processed").customdata or ()) == 0
    assert lab.counters.value != before and "duplicates: <span" in lab.counters.value
    timeline = lab.figures["timeline"]
    assert max(_trace(timeline, "processed (count)").y) == lab.outcome["processed"] == 18
    assert lab.result.config["client.model"] == "java"
    # the Java defaults now show in the untouched controls (effective config)
    assert lab.controls["enable.idempotence"].value is True


def test_every_preset_in_the_lab_matches_the_preset():
    lab = Lab()
    for name in lab.scenario_picker.options:
        lab.scenario_picker.value = name
        assert lab.error is None, (name, lab.error)
        expected = scenarios.run(name).outcome
        for key in ("lost", "duplicates", "log_duplicates", "aborted_copies", "processed"):
            assert lab.outcome[key] == expected[key], (name, key)


def test_loading_a_scenario_sets_every_control(lab):
    lab.load("transactional-fencing")
    c = lab.controls
    assert c["transactions"].value is True
    assert c["isolation.level"].value == "read_committed"
    assert c["producer.restart.after.message"].value == 7
    assert c["producer.restart.zombie"].value is True
    assert c["commit.strategy"].value == "per-batch"
    assert lab.result.config["transactional.id"] == "orders-app"
    assert "lost" in lab.fault_note.value  # the lost response of message 6 has no control
    lab.load("exactly-once-pipeline")
    assert c["crash.probability"].value == pytest.approx(0.05)
    assert lab.outcome["duplicates"] == 0


def test_fault_controls_build_the_fault_plan(lab):
    lab.load("at-least-once-manual-commit")
    lab.controls["crash.after.record"].value = 2
    assert {"type": "consumer_crash", "point": "after_processing", "message": 2} in \
        lab.result.faults
    lab.controls["crash.after.record"].value = -1
    assert not any(f["type"] == "consumer_crash" for f in lab.result.faults)
    assert lab.outcome["duplicates"] == 0
    lab.controls["lost.acks"].value = 2
    assert [f["message"] for f in lab.result.faults if f["type"] == "lose_response"] == [0, 1]
    lab.controls["processing.failure.record"].value = 3
    lab.controls["on.processing.error"].value = "skip"
    assert lab.outcome["lost"] == 1
    lab.controls["transactions"].value = True
    assert lab.result.config["transactional.id"]
    assert lab.error is None


def test_invalid_combination_shows_error_and_keeps_the_last_good_run(lab):
    lab.controls["acks"].value = "1"  # defaulted idempotence is switched off silently
    assert lab.error is None
    assert lab.controls["enable.idempotence"].value is False
    good_result, good_outcome = lab.result, lab.outcome
    figure_state = list(lab.figures["ledger"].data[0].customdata)
    lab.controls["enable.idempotence"].value = True  # explicit: Kafka refuses
    # the Lab's preset runs librdkafka, which words it its own way (rdkafka_conf.c)
    refusal = ("Must set acks to all in order to use the idempotent producer"
               if lab.result.config["client.model"] == "java"
               else "`acks` must be set to `all` when `enable.idempotence` is true")
    assert lab.error and refusal in lab.error
    assert refusal in lab.error_box.value and "last good run" in lab.error_box.value
    assert lab.result is good_result and lab.outcome is good_outcome
    assert list(lab.figures["ledger"].data[0].customdata) == figure_state
    lab.controls["acks"].value = "all"
    assert lab.error is None and lab.error_box.value == ""


def test_hostile_values_are_reported_not_raised(lab, counting):
    good = lab.outcome
    lab.controls["messages"].value = 10**9
    assert lab.error and f"{MAX_LAB_MESSAGES:,}" in lab.error and lab.outcome is good
    lab.controls["messages"].value = 0
    assert "at least 1" in lab.error
    lab.controls["messages"].value = 10
    assert lab.error is None
    lab.controls["auto.commit.interval.ms"].value = -5
    assert "auto.commit.interval.ms" in lab.error and "at least 0" in lab.error
    lab.controls["auto.commit.interval.ms"].value = 5
    assert lab.error is None
    assert lab.set("messages", "abc") is False
    assert "not a whole number" in lab.error
    assert lab.set("messages", "20") is True and lab.outcome["sent"] == 20
    lab.controls["crash.after.record"].value = 500
    assert "does not exist" in lab.error
    lab.controls["crash.after.record"].value = -1
    lab.controls["lost.acks.probability"].value = 3.5
    assert "probability" in lab.error
    lab.controls["lost.acks.probability"].value = 0.0
    lab.controls["seed"].value = -1
    assert "seed" in lab.error
    lab.controls["seed"].value = 0
    assert lab.error is None
    assert lab.set("no.such.control", 1) is False and "no control" in lab.error
    lab.step = "abc"
    assert "step" in lab.error


def test_text_typed_into_a_number_box_is_read_or_refused_out_loud(lab, counting):
    """What the browser sends when the learner presses Enter in a number box (a custom message
    with the raw text): unreadable text is named in the dashboard, never silently dropped."""
    box = lab.controls["auto.commit.interval.ms"]
    good, runs = lab.outcome, len(counting)

    def typed(widget, text):
        widget._handle_custom_msg({"text": text}, [])

    typed(box, "abc")
    assert lab.error == "auto.commit.interval.ms: 'abc' is not a whole number."
    assert box.rejected and box.value == 5 and lab.outcome is good and len(counting) == runs
    lab.controls["max.poll.records"].value = 7  # another control: still refused while unreadable
    assert "'abc'" in lab.error and len(counting) == runs
    typed(box, "5")  # the same number as before: readable again, so the Lab runs again
    assert box.rejected == "" and lab.error is None and len(counting) == runs + 1
    typed(box, "1_000")
    assert box.value == 1000 and lab.error is None
    typed(lab.controls["lost.acks.probability"], "0,5")  # a decimal comma is not guessed at
    assert "'0,5' is not a number" in lab.error
    typed(lab.controls["lost.acks.probability"], "inf")
    assert "not a finite number" in lab.error
    typed(lab.controls["lost.acks.probability"], "0.0")
    typed(lab.controls["messages"], "   ")
    assert "messages: the box is empty" in lab.error
    # Loading a scenario puts its own numbers in every box and runs (issue 14 item 5: this test
    # asserted the opposite, which left the Lab stuck on the old error after load()).
    lab.load("at-least-once-manual-commit")
    assert lab.error is None and lab.controls["messages"].rejected == ""
    typed(lab.controls["messages"], "12")
    assert lab.error is None and lab.outcome["sent"] == 12


def test_stepping_replays_snapshots_without_simulating(lab, counting):
    r = lab.result
    timeline = lab.figures["timeline"]
    seen = set()
    for step in range(len(r.events)):
        lab.step = step
        assert timeline.layout.shapes[0].x0 == r.events[step].t
        assert r.events[step].text.replace("'", "&#x27;") in lab.explanation
        assert lab.slider.value == step
        seen.add(lab.figures["log"].layout.title.text)
    lab.back.click()
    assert lab.step == len(r.events) - 2
    lab.forward.click()
    lab.forward.click()  # clamps at the end
    assert lab.step == len(r.events) - 1
    lab.slider.value = 3
    assert lab.step == 3
    lab.step = 10**6
    assert lab.step == len(r.events) - 1
    assert counting == []  # stepping never re-simulates
    assert len(seen) == len(r.events)  # the log figure follows the step


def test_step_updates_log_and_ledger_highlight(lab):
    r = lab.result
    poll = next(e.index for e in r.events if e.kind == "poll")
    lab.step = poll
    current = _trace(lab.figures["ledger"], "in this step")
    assert len(current.x) == len(r.events[poll].data["records"])
    append = next(e.index for e in r.events if e.kind == "append")
    lab.step = append - 1
    assert sum(len(t.x or ()) for t in lab.figures["log"].data
               if t.name.startswith("record ")) == 0
    lab.step = append
    assert len(_trace(lab.figures["log"], "record (m = message id)").x) == 10


def test_step_keeps_the_topology_meta_of_the_step_shown(lab):
    """layout.meta says which event the topology shows (and its replicas and group state):
    after a step it is that step's, as a redraw at that step would make it (it stayed at the
    first step's)."""
    from kafkalab.viz.topology import topology_spec

    r = lab.result
    seen = []
    for step in (0, len(r.events) // 2, len(r.events) - 1, 1):
        lab.step = step
        want = topology_spec(r, step)["layout"]["meta"]
        got = lab.figures["topology"].layout.meta
        assert got["event"] == want["event"], step
        seen.append(str(got["event"]))
    assert len(set(seen)) > 1  # the steps chosen show different events


def test_select_message_and_ledger_click(lab):
    story = lab.select_message(8)
    assert story == lab.result.explain(8)
    assert "LOST" in lab.explanation
    lost = _trace(lab.figures["ledger"], "LOST: never processed")
    assert lost._click_callbacks  # a click handler is registered on the cells
    from plotly.callbacks import Points

    lost._dispatch_on_click(Points(point_inds=[1], xs=[9], ys=[0]), None)
    assert lab.explanation.startswith("<b>Message 9</b>")
    lab.select_message(999)
    assert "not in this run" in lab.error


def test_show_result_displays_any_run_without_simulating(lab, counting):
    r = scenarios.run("producer-restart-new-pid")
    lab.show_result(r)
    assert counting == [] and lab.result is r and lab.outcome["log_duplicates"] == 3


def test_measure_latencies_contract():
    from benchmarks.lab_timing import measure_latencies  # moved from kafkalab.widgets.timing

    out = measure_latencies(messages=50, repeats=3, big=500)
    assert {"control_change_ms_median", "step_change_ms_median",
            "control_change_10k_ms"} <= set(out)
    assert out["errors"] == []


def test_unknown_scenario_falls_back_with_a_message():
    lab = Lab("no-such-scenario")
    assert "Unknown scenario" in lab.error
    assert lab.result is not None and lab.result.scenario == "at-most-once-auto-commit"


_VALUES = {
    "messages": st.integers(-5, 60) | st.sampled_from([10**9, MAX_LAB_MESSAGES + 1]),
    "auto.commit.interval.ms": st.integers(-100, 10_000),
    "crash.after.record": st.integers(-3, 70),
    "processing.failure.record": st.integers(-3, 70),
    "lost.acks": st.integers(-2, 70),
    "lost.acks.probability": st.floats(-1, 2) | st.just(float("nan")),
    "crash.probability": st.floats(-0.5, 1.5),
    "producer.restart.after.message": st.integers(-2, 70),
    "acks": st.sampled_from(["0", "1", "all"]),
    "enable.idempotence": st.booleans(),
    "transactions": st.booleans(),
    "commit.strategy": st.sampled_from(["auto", "before-processing", "per-record", "per-batch",
                                        "async-per-batch", "transaction"]),
    "client.model": st.sampled_from(["java", "librdkafka"]),
    "retries": st.integers(-1, 5),
    "seed": st.integers(-2, 5),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(sorted(_VALUES)).flatmap(
    lambda name: st.tuples(st.just(name), _VALUES[name])), min_size=1, max_size=6))
def test_any_sequence_of_values_never_raises(changes):
    lab = _shared_lab()
    for name, value in changes:
        before = lab.result
        ok = lab.set(name, value)
        assert ok == (lab.error is None)
        if not ok:
            assert lab.result is before  # the last good run stays
        assert lab.outcome is lab.result.outcome
    lab.load("at-most-once-auto-commit")
    assert lab.error is None


_LAB = []


def _shared_lab():
    if not _LAB:
        _LAB.append(Lab())
    return _LAB[0]
