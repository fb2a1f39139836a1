"""The Lab never gets stuck (issue 14 item 5), refuses "1,0" (issue 13 item 7), notes settings
with no effect, and its figures save small (issue 14 item 7)."""

from __future__ import annotations

import json

import pytest

from kafkalab.widgets import settings
from kafkalab.widgets.lab import Lab
from kafkalab.widgets.live_figure import LiveFigure, PlotlyBundle, bundle_widget
from kafkalab.widgets.number_box import FloatBox, IntBox


@pytest.fixture
def lab():
    return Lab()


def _typed(widget, text):
    widget._handle_custom_msg({"text": text}, [])  # what the browser sends on Enter


def _stuck(lab, name="messages"):
    assert lab.set(name, "abc") is False
    assert "'abc'" in lab.error and lab.controls[name].rejected
    return lab.result


# -- every way back from an unreadable box -------------------------------------------------------
@pytest.mark.parametrize("value", [20, "20", 10, "10"])
def test_a_later_valid_number_clears_the_error(lab, value):
    """int or str, a new number or the very number the box had before."""
    _stuck(lab)
    assert lab.set("messages", value) is True
    assert lab.error is None and lab.controls["messages"].rejected == ""
    assert lab.outcome["sent"] == int(value)


def test_a_number_set_on_the_widget_from_python_clears_the_error(lab):
    _stuck(lab)
    lab.controls["messages"].value = 12
    assert lab.error is None and lab.outcome["sent"] == 12


def test_typing_a_valid_number_clears_the_error(lab):
    _stuck(lab)
    _typed(lab.controls["messages"], "10")
    assert lab.error is None and lab.controls["messages"].rejected == ""


def test_load_clears_the_error_and_shows_the_new_story_with_its_own_run(lab):
    _stuck(lab)
    assert lab.load("at-least-once-manual-commit") is True
    assert lab.error is None
    assert lab.result.scenario == "at-least-once-manual-commit"
    assert "at-least-once" in lab.story.value.lower() or lab.result.scenario in lab.story.value \
        or lab._preset.title in lab.story.value


def test_a_load_that_cannot_run_keeps_the_old_story_and_figures(lab, monkeypatch):
    import kafkalab.model

    old_story, old_result = lab.story.value, lab.result
    old_picker = lab.scenario_picker.value

    def refuse(*_a, **_k):
        raise kafkalab.model.config.ConfigError("refused for the test")

    monkeypatch.setattr(kafkalab.model, "simulate", refuse)
    assert lab.load("at-least-once-manual-commit") is False
    assert "refused for the test" in lab.error and "still showing" in lab.error
    assert lab.story.value == old_story and lab.result is old_result
    assert lab.scenario_picker.value == old_picker
    monkeypatch.undo()
    assert lab.set("messages", 10) is True and lab.error is None


def test_the_seed_clears_the_error(lab):
    _stuck(lab)
    lab.controls["seed"].value = 3
    assert lab.error is None and lab.controls["messages"].rejected == ""


@pytest.mark.parametrize("tool", ["sweep_crash_points", "run_real"])
def test_a_tool_button_clears_the_error(lab, tool):
    _stuck(lab)
    getattr(lab, tool)()
    assert lab.error is None and lab.controls["messages"].rejected == ""


def test_a_float_box_recovers(lab):
    assert lab.set("lost.acks.probability", "lots") is False and "'lots'" in lab.error
    assert lab.set("lost.acks.probability", 0.0) is True and lab.error is None
    assert lab.set("lost.acks.probability", 7) is False and "probability" in lab.error
    assert lab.set("lost.acks.probability", "0") is True and lab.error is None


@pytest.mark.parametrize("name,bad,good", [
    ("acks", "2", "all"),  # a dropdown: refused by the widget
    ("commit.strategy", "nope", "auto"),
    ("enable.auto.commit", "maybe", True),  # a checkbox
])
def test_choice_controls_recover_with_the_value_they_already_had(lab, name, bad, good):
    assert lab.set(name, bad) is False and repr(bad) in lab.error
    assert lab.controls[name].value == good
    assert lab.set(name, good) is True and lab.error is None  # unchanged, but runs again


def test_a_setting_kafka_refuses_recovers(lab):
    assert lab.set("max.poll.records", 0) is False and "max.poll.records" in lab.error
    assert lab.set("max.poll.records", 500) is True and lab.error is None


def test_the_scenario_picker_recovers(lab):
    _stuck(lab)
    lab.scenario_picker.value = "at-least-once-manual-commit"
    assert lab.error is None and lab.result.scenario == "at-least-once-manual-commit"


# -- "1,0" is not ten (issue 13 item 7) ----------------------------------------------------------
@pytest.mark.parametrize("text", ["1,0", "1,00", "10,0000", ",5", "1,0,0"])
def test_a_comma_that_is_not_a_thousands_separator_is_refused(text):
    box = IntBox(value=7, description="messages")
    assert box.submit(text) is False and box.value == 7
    assert repr(text) in box.rejected and "comma" in box.rejected


@pytest.mark.parametrize("text,value", [("5,000", 5000), ("1,000,000", 1_000_000),
                                        ("-2,500", -2500), ("1_000", 1000)])
def test_thousands_separators_still_read(text, value):
    box = IntBox(value=7, description="messages")
    assert box.submit(text) is True and box.value == value


def test_a_decimal_comma_is_refused_with_the_point_to_use():
    box = FloatBox(value=0.0, description="crash probability")
    assert box.submit("0,5") is False and "use a point" in box.rejected


def test_the_lab_names_the_comma(lab):
    _typed(lab.controls["messages"], "1,0")
    assert "'1,0'" in lab.error and "comma" in lab.error and lab.outcome["sent"] == 10


# -- settings with no effect say so ----------------------------------------------------------------
def test_auto_commit_ticked_with_a_manual_strategy_says_it_has_no_effect(lab):
    note = lab.notes["enable.auto.commit"]
    assert note.value == ""
    lab.load("at-least-once-manual-commit")
    assert lab.controls["commit.strategy"].value != "auto"
    lab.controls["enable.auto.commit"].value = True
    assert "no effect" in note.value and lab.controls["commit.strategy"].value in note.value
    lab.controls["commit.strategy"].value = "auto"
    assert note.value == ""


@pytest.mark.parametrize("client,matters", [("java", False), ("librdkafka", True)])
def test_a_note_only_where_the_model_shows_no_effect(client, matters):
    """The note is checked against the model itself: a crash mid-batch with per-batch commits,
    enable.auto.commit on and off."""
    from kafkalab import simulate

    def run(auto):
        return simulate({"client.model": client, "commit.strategy": "per-batch",
                         "enable.auto.commit": auto, "messages": 30, "max.poll.records": 10,
                         "auto.commit.interval.ms": 1, "processing.ms": 5},
                        [{"type": "consumer_crash", "point": "after_processing",
                          "message": 14}], 0).outcome

    on, off = run(True), run(False)
    differs = (on["lost"], on["duplicates"]) != (off["lost"], off["duplicates"])
    assert differs == matters
    notes = settings.inert_notes({"enable.auto.commit": True, "commit.strategy": "per-batch",
                                  "client.model": client})
    assert ("enable.auto.commit" in notes) == (not matters)


def test_inert_notes_are_pure_and_cover_their_controls():
    base = {"enable.auto.commit": True, "commit.strategy": "auto", "client.model": "java",
            "isolation.level": "read_uncommitted", "transactions": False, "acks": "all",
            "lost.acks": 0, "lost.acks.probability": 0.0, "producer.restart.zombie": False,
            "producer.restart.after.message": -1, "processing.failure.record": -1}
    notes = settings.inert_notes(base)
    assert set(notes) == {"enable.auto.offset.store", "on.processing.error"}
    notes = settings.inert_notes({**base, "commit.strategy": "per-batch", "acks": "0",
                                  "isolation.level": "read_committed"})
    assert {"enable.auto.commit", "auto.commit.interval.ms", "retries",
            "isolation.level"} <= set(notes)
    store = settings.inert_notes({**base, "commit.strategy": "store-after-processing",
                                  "client.model": "librdkafka"})
    assert "enable.auto.commit" not in store and "auto.commit.interval.ms" not in store
    # librdkafka's timer commits stored offsets mid-batch even with manual commits: a setting
    # with an effect (see test_librdkafka_auto_commit_matters_with_manual_commits)
    rdk = settings.inert_notes({**base, "commit.strategy": "per-batch",
                                "client.model": "librdkafka"})
    assert "enable.auto.commit" not in rdk and "auto.commit.interval.ms" not in rdk
    from kafkalab.model.config import COMMIT_STRATEGIES
    assert set(settings.AUTO_COMMITTING) <= set(COMMIT_STRATEGIES)
    lab = Lab()
    assert set(settings.inert_controls()) <= set(lab.controls)


# -- saved widget state stays small -------------------------------------------------------------------
def test_lab_figures_do_not_carry_plotly_js_in_their_state(lab):
    for fig in lab.figures.values():
        assert isinstance(fig, LiveFigure)
        assert len(fig.get_state()["_esm"]) < 8000  # a loader of a few KB; plotly.js is 4.9 MB
    total = sum(len(json.dumps(fig.get_state(), default=str)) for fig in lab.figures.values())
    assert total < 500_000  # was ~20 MB with plotly's FigureWidget (4 x 4.9 MB of plotly.js)
    assert len(bundle_widget().get_state()["_esm"]) < 8000


def test_the_bundle_is_pushed_as_a_message_not_state(monkeypatch):
    sent = []
    monkeypatch.setattr(PlotlyBundle, "send", lambda self, content, buffers=None:
                        sent.append((content, [len(b) for b in buffers or []])))
    widget = PlotlyBundle()
    assert sent and sent[-1][0] == {"kind": "kafkalab-plotly-bundle"} and sent[-1][1][0] > 10**6
    widget._handle_custom_msg({"kind": "kafkalab-need-plotly-bundle"}, [])  # a page asks
    assert len(sent) == 2


def test_a_figure_sends_itself_whole_when_its_front_end_asks(monkeypatch):
    """A page whose figure module was still loading when the kernel's addTraces arrived missed
    them (plotly keeps a figure's traces by pushing each one into the model's _widget_data):
    once plotly's front end is up it asks, and the kernel sends the figure as it is now."""
    sent = []
    fig = LiveFigure()
    fig.add_scatter(x=[1, 2], y=[3, 4], name="a")
    fig.update_layout(title="t")
    assert fig._widget_data == []  # what the page got at creation: nothing since
    monkeypatch.setattr(LiveFigure, "send", lambda self, content, buffers=None: sent.append(content))
    fig._handle_custom_msg({"kind": "kafkalab-figure-sync"}, [])
    assert [t["name"] for t in fig._widget_data] == ["a"]
    assert fig._widget_layout["title"]["text"] == "t"
    assert sent == [{"kind": "kafkalab-figure-synced"}]
    fig._handle_custom_msg({"kind": "something else"}, [])
    assert len(sent) == 1


def test_settings_module_is_free_of_widgets():
    import subprocess
    import sys

    code = ("import sys, kafkalab.widgets.settings as s\n"
            "print(any(m in sys.modules for m in ('ipywidgets', 'plotly', 'anywidget')))\n"
            "print(s.faults_to_controls([{'type': 'consumer_crash', 'point': 'after_processing',"
            " 'message': 3}])[0]['crash.after.record'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["False", "3"], out.stderr
