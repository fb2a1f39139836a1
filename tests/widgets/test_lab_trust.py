"""Small things that break a learner's trust in the Lab (issue 14): a legend entry for a marker
that marks nothing, a story line about another scenario than the figures show, a title running
to the figure's edge, a figure sized for a tab it was not drawn in."""

from __future__ import annotations

import pytest

from kafkalab import scenarios
from kafkalab.widgets.figures import (
    IN_THIS_STEP,
    LAB_TITLE_CHARS,
    TITLE_LINE_PX,
    fit_beside_controls,
    lab_title,
    story_html,
)
from kafkalab.widgets.lab import FIGURE_TABS, Lab


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


@pytest.fixture(scope="module")
def lab():
    return Lab()


def test_the_in_this_step_legend_entry_only_when_the_step_marks_messages(lab):
    r = lab.result
    marker = lambda: _trace(lab.figures["ledger"], IN_THIS_STEP)  # noqa: E731
    poll = next(e.index for e in r.events if e.kind == "poll" and e.data["records"])
    lab.step = poll
    assert marker().x and marker().showlegend is True
    quiet = next(e.index for e in r.events
                 if not ({"records", "messages", "message"} & set(e.data)))
    lab.step = quiet
    assert not marker().x and marker().showlegend is False  # nothing marked: no entry
    lab.step = poll
    assert marker().showlegend is True
    # a new run starts with no entry until a step marks something
    lab.load("at-least-once-manual-commit")
    last = lab.result.events[lab.step]
    touches = bool({"records", "messages", "message"} & set(last.data))
    assert marker().showlegend is touches


def test_show_result_shows_the_story_of_the_result_it_shows():
    lab = Lab("at-most-once-auto-commit")
    own_story = lab.story.value
    other = scenarios.run("exactly-once-pipeline")
    lab.show_result(other)
    preset = scenarios.get("exactly-once-pipeline")
    assert preset.title in lab.story.value and scenarios.get(
        "at-most-once-auto-commit").title not in lab.story.value
    # and says which scenario the controls still run
    assert "controls still run at-most-once-auto-commit" in lab.story.value
    # a result of the Lab's own scenario (a counterexample, a link) keeps its story
    lab.show_result(scenarios.run("at-most-once-auto-commit"))
    assert lab.story.value == own_story
    # a result with no scenario name: says so instead of another scenario's story
    nameless = scenarios.run("at-least-once-manual-commit")
    nameless.scenario = None
    lab.show_result(nameless)
    assert "no scenario name" in lab.story.value
    assert scenarios.get("at-most-once-auto-commit").title not in lab.story.value
    # loading a scenario brings its own story back, with no note
    assert lab.load("at-least-once-manual-commit")
    assert lab.story.value == story_html(scenarios.get("at-least-once-manual-commit"))


def test_a_long_title_puts_the_scenario_name_on_a_second_line():
    name = "read-committed-vs-uncommitted/read-uncommitted"  # the longest scenario name
    long = f"Message ledger: what the sink did with each message — {name}"
    parts = lab_title(long)
    assert parts["text"] == "Message ledger: what the sink did with each message"
    assert parts["subtitle"]["text"] == name and len(parts["text"]) <= LAB_TITLE_CHARS
    short = "Topology at step 3 — x"
    assert lab_title(short)["text"] == short  # fits on one line: unchanged
    assert lab_title(short)["subtitle"]["text"] == ""  # and clears a subtitle from before
    layout = {"title": {"text": long}, "annotations": [], "margin": {"t": 70}}
    one = fit_beside_controls({"data": [], "layout": {**layout, "title": {"text": short}}})
    two = fit_beside_controls({"data": [], "layout": layout})
    assert two["layout"]["margin"]["t"] - one["layout"]["margin"]["t"] == TITLE_LINE_PX
    # the first line is sized for itself (one line of 99 characters was 11 px)
    assert two["layout"]["title"]["font"]["size"] >= 13
    assert two["layout"]["title"]["subtitle"]["text"] == name


def test_the_story_line_wraps_and_keeps_its_hint_whole():
    html = story_html(scenarios.get("unclean-leader-election"))  # the longest title
    assert "overflow-wrap:anywhere" in html
    assert "white-space:nowrap'>(the story: click)" in html
    # the setting in bold, what it does in plain weight; a short title stays bold whole
    assert "<b>unclean.leader.election.enable=true:</b> an out-of-sync replica" in html
    short = scenarios.get("at-most-once-auto-commit")
    assert f"<b>{short.title}</b>" in story_html(short).replace("&#x27;", "'")


def test_a_tab_shown_refits_its_figure(lab):
    """Plotly sized a figure drawn in a hidden tab at its default 700 px (the ledger ran off
    its tab at 1000 px); showing a tab sends its figure a relayout, which re-measures it."""
    for index, (name, _) in enumerate(FIGURE_TABS):
        if index == lab.tabs.selected_index:
            continue
        before = lab.figures[name].layout.datarevision or 0
        lab.tabs.selected_index = index
        assert (lab.figures[name].layout.datarevision or 0) == before + 1
        assert lab.figures[name].layout.autosize is True
    lab.tabs.selected_index = 0


def test_a_shorter_name_clears_the_subtitle_of_the_run_before():
    lab = Lab("read-committed-vs-uncommitted/read-uncommitted")
    assert lab.figures["timeline"].layout.title.subtitle.text.startswith("read-committed")
    lab.load("at-most-once-auto-commit")
    title = lab.figures["timeline"].layout.title
    assert title.text.endswith("at-most-once-auto-commit") or \
        title.subtitle.text == "at-most-once-auto-commit"
    assert "read-committed" not in (title.subtitle.text or "")


def test_a_long_x_axis_title_is_set_smaller_in_the_lab():
    """At 1000 px the topology's "data flows left to right: producer → broker → consumer →
    sink" ran past its figure's right edge (tests/browser/test_lab_laptop.py measured it)."""
    from kafkalab.widgets.figures import LAB_AXIS_TITLE_CHARS

    text = "data flows left to right: producer → broker → consumer → sink"
    assert len(text) > LAB_AXIS_TITLE_CHARS
    spec = {"data": [], "layout": {"xaxis": {"title": {"text": text}}}}
    assert fit_beside_controls(spec)["layout"]["xaxis"]["title"]["font"]["size"] == 11
    short = {"data": [], "layout": {"xaxis": {"title": {"text": "simulated time (ms)"}}}}
    assert "font" not in fit_beside_controls(short)["layout"]["xaxis"]["title"]
