"""The Lab driven like a learner drives it: typing, dropdowns, buttons, Play and clicks on the
ledger, all through the page (mouse and keyboard). ``kernel_eval`` only checks kernel state.

One notebook with one Lab for the module; the tests run in file order and each leaves the Lab
in its default settings (at-most-once-auto-commit: messages 8 and 9 lost)."""

from __future__ import annotations

import re
import time

import pytest

from kafkalab import scenarios
from kafkalab.widgets.figures import lab_title  # the title as the Lab draws it
from kafkalab.widgets.settings import CONTROL_GROUPS  # the settings accordion, by group

from .harness import (
    TIMINGS,
    click_button,
    kernel_eval,
    move_slider,
    notebook_tab,
    plotly_figure,
    plotly_titles,
    screenshot,
    wait_until,
    write_notebook,
)

pytestmark = pytest.mark.browser

CELLS = ["#md\n# The Lab, driven by hand", "from kafkalab import Lab\nlab = Lab()\nlab"]
LEDGER = lab_title(
    "Message ledger: what the sink did with each message — at-most-once-auto-commit")["text"]
TIMELINE = lab_title(
    "Offsets over time, input partition 0 — at-most-once-auto-commit")["text"]
LOST_TRACE = "LOST: never processed"
DUP_TRACE = "×n: processed more than once"


@pytest.fixture(scope="module")
def lab_nb(lab_tabs, lab_server):
    t0 = time.monotonic()
    relpath = "lab_interaction/lab.ipynb"
    write_notebook(lab_server.root_dir / relpath, CELLS)
    page = lab_tabs
    with notebook_tab(page, lab_server, relpath, viewport={"width": 1400, "height": 1000},
                      shot=False) as report:
        report.assert_clean()
        assert wait_until(page, lambda: LEDGER in plotly_titles(page), timeout=60)
        yield page
    TIMINGS.append(f"test_lab_interaction module: {time.monotonic() - t0:.1f}s")


# -- page helpers -----------------------------------------------------------------------------
def counters(page) -> str:
    return page.locator(".kafkalab-counters").first.inner_text().strip()


def counter(page, label: str) -> str:
    # the spans have margins but no spaces between them: "sent: 10written: 10..."
    m = re.search(rf"(?<!log ){re.escape(label)}: ([\d,]+)", counters(page))
    return m.group(1) if m else ""


def error_text(page) -> str:
    return page.locator(".kafkalab-error").first.inner_text().strip()


def text_panel(page) -> str:
    return page.locator(".kafkalab-text").first.inner_text().strip()


def control(page, description: str):
    """The <input>/<select> of the Lab control whose label starts with ``description``."""
    box = page.locator(".widget-inline-hbox").filter(
        has=page.locator("label", has_text=re.compile(rf"^{re.escape(description)}")))
    return box.locator("input, select").first


def reveal(page, description: str):
    """The control, with its group of the settings accordion opened (as a learner opens it).
    The group is the one whose contents hold the control (it was found by opening each group
    in turn and waiting up to 60 s for the control to show: two minutes of the suite went to
    waiting in groups that do not hold it)."""
    box = control(page, description)
    if box.is_visible():
        return box
    label = page.locator("label", has_text=re.compile(rf"^{re.escape(description)}"))
    for title in CONTROL_GROUPS:
        section = page.locator(".kafkalab-settings .jupyter-widget-Collapse").filter(
            has=page.locator(".jupyter-widget-Collapse-header").get_by_text(title, exact=True))
        if section.locator(".widget-inline-hbox").filter(has=label).count() == 0:
            continue
        section.locator(".jupyter-widget-Collapse-header").first.click()
        assert wait_until(page, lambda: box.is_visible(), timeout=60), (
            f"opened the settings group {title!r}: its control {description!r} never showed")
        return box
    raise AssertionError(f"no group of the settings accordion holds a control {description!r}")


def show_tab(page, title: str) -> None:
    """Open one of the Lab's figure tabs (offsets over time, message ledger, ...)."""
    page.locator(".kafkalab-figures").get_by_text(title, exact=True).first.click()


def type_into(page, description: str, text: str) -> None:
    """Select the box's text, type ``text`` key by key, press Enter (as a learner does)."""
    box = reveal(page, description)
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_timeout(150)


def trace_ids(page, name: str) -> list[int]:
    data = plotly_figure(page, LEDGER)["data"]
    trace = next((d for d in data if d.get("name") == name), {})
    return sorted(trace.get("customdata") or [])


def settle(page) -> None:
    """Wait until the kernel has handled everything sent so far (it answers in order)."""
    kernel_eval(page, "1")
    page.wait_for_timeout(200)


def shot(page, name: str):
    path = screenshot(page, f"lab-interaction-{name}")
    assert path.stat().st_size > 10_000
    return path


def expected(**overrides) -> dict:
    return scenarios.run("at-most-once-auto-commit", overrides=overrides).outcome


# -- the tests ----------------------------------------------------------------------------------
def test_click_a_lost_cell_explains_it(lab_nb):
    page = lab_nb
    assert trace_ids(page, LOST_TRACE) == [8, 9]
    show_tab(page, "message ledger")
    gd = page.evaluate_handle(
        """(title) => Array.from(document.querySelectorAll('.js-plotly-plot'))
             .find((g) => g.layout && g.layout.title && g.layout.title.text === title)""",
        LEDGER)
    gd.as_element().scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    pos = gd.evaluate("""(gd, name) => {
        const t = gd.data.find((d) => d.name === name);
        const i = Array.from(t.customdata).indexOf(9);
        const fl = gd._fullLayout, r = gd.getBoundingClientRect();
        return {x: r.left + fl.xaxis._offset + fl.xaxis.l2p(t.x[i]),
                y: r.top + fl.yaxis._offset + fl.yaxis.l2p(t.y[i])};
    }""", LOST_TRACE)
    page.mouse.move(pos["x"], pos["y"])
    page.mouse.click(pos["x"], pos["y"])
    assert wait_until(page, lambda: text_panel(page).startswith("Message 9"), timeout=60), \
        text_panel(page)
    panel = text_panel(page)
    assert "LOST" in panel and "never read again" in panel
    assert kernel_eval(page, "lab.explanation").startswith("<b>Message 9</b>")
    shot(page, "lost-click")
    show_tab(page, "offsets over time")


def test_typing_the_commit_interval_reruns_the_model(lab_nb):
    page = lab_nb
    before = expected()
    after = expected(**{"auto.commit.interval.ms": 5000})
    assert (before["lost"], after["lost"], after["duplicates"]) == (2, 0, 8)
    assert counter(page, "lost") == "2" and counter(page, "duplicates") == "0"
    type_into(page, "auto.commit.interval.ms", "5000")
    assert wait_until(page, lambda: counter(page, "duplicates") == str(after["duplicates"]))
    assert counter(page, "lost") == "0"
    assert counter(page, "processed") == str(after["processed"])
    assert wait_until(page, lambda: trace_ids(page, DUP_TRACE) == list(range(8)))
    assert trace_ids(page, LOST_TRACE) == []
    timeline = plotly_figure(page, TIMELINE)["data"]
    processed = next(d for d in timeline if d.get("name") == "processed (count)")
    assert max(processed["y"]) == after["processed"]
    assert kernel_eval(page, "lab.controls['auto.commit.interval.ms'].value") == 5000
    shot(page, "interval-5000")
    type_into(page, "auto.commit.interval.ms", "5")
    assert wait_until(page, lambda: counter(page, "lost") == "2")
    assert wait_until(page, lambda: trace_ids(page, LOST_TRACE) == [8, 9])


def test_step_buttons_slider_and_play(lab_nb):
    page = lab_nb
    last = kernel_eval(page, "len(lab.result.events) - 1")
    assert kernel_eval(page, "lab.step") == last
    click_button(page, "◀ step back")
    click_button(page, "◀ step back")
    assert wait_until(page, lambda: kernel_eval(page, "lab.step") == last - 2)
    assert wait_until(page, lambda: text_panel(page).startswith(f"Step {last - 2} of {last}"))
    click_button(page, "step ▶")
    assert wait_until(page, lambda: kernel_eval(page, "lab.step") == last - 1)
    move_slider(page, -6)  # the Lab's step slider: keyboard on its handle
    assert wait_until(page, lambda: kernel_eval(page, "lab.step") == last - 7)
    assert text_panel(page).startswith(f"Step {last - 7} of {last}")
    # ipywidgets 8's Play: one play/pause toggle, then ■ stop (which rewinds to the start: the
    # second button is not a pause; under load the test once read the step before stop's rewind
    # reached the kernel), then repeat
    toggle = page.locator(".widget-play button").first
    # a step a second: the pause below comes well before the play could reach the end (at the
    # end it pauses itself, and ▶ would then start again from step 0)
    kernel_eval(page, "setattr(lab.play, 'interval', 1000)")
    toggle.click()  # ▶
    assert wait_until(page, lambda: kernel_eval(page, "lab.step") >= last - 4, timeout=60)
    if page.locator(".widget-play button i.fa-pause").count():
        toggle.click()  # ❚❚ pause
    paused_icon = ".widget-play button i.fa-play"
    assert wait_until(page, lambda: page.locator(paused_icon).count() == 1), \
        "the Play widget still shows ❚❚: it did not pause"
    settle(page)
    paused = kernel_eval(page, "lab.step")
    page.wait_for_timeout(900)  # a window in which nothing may move: paused means paused
    assert kernel_eval(page, "lab.step") == paused
    kernel_eval(page, "setattr(lab.play, 'interval', 350)")  # the Lab's own pace again
    assert text_panel(page).startswith(f"Step {paused} of {last}")
    shot(page, "stepped")
    move_slider(page, last)  # back to the end
    assert wait_until(page, lambda: kernel_eval(page, "lab.step") == last)


@pytest.mark.parametrize("description,text,words", [
    ("auto.commit.interval.ms", "-5", "Value must be at least 0"),
    ("messages", "1000000000", "at most 20,000"),
    ("auto.commit.interval.ms", "abc", "'abc' is not a whole number"),
    ("lost.acks probability", "0,5", "'0,5' is not a number"),
])
def test_hostile_typed_values(lab_nb, description, text, words):
    page = lab_nb
    good = counters(page)
    type_into(page, description, text)
    assert wait_until(page, lambda: words in error_text(page), timeout=60), (
        f"typed {text!r} into {description}: the page shows {error_text(page)!r}, "
        f"the box holds {control(page, description).input_value()!r}")
    assert "The last good run is still shown" in error_text(page)
    assert kernel_eval(page, "lab.error") and kernel_eval(page, "1 + 1") == 2  # kernel alive
    assert counters(page) == good  # the previous run stays on screen
    assert trace_ids(page, LOST_TRACE) == [8, 9]
    box = control(page, description)
    if not text.lstrip("-").isdigit():  # unreadable text stays in the box, marked, for fixing
        assert box.input_value() == text and box.get_attribute("aria-invalid") == "true"
    shot(page, f"hostile-{description}")
    type_into(page, description, {"messages": "10", "lost.acks probability": "0"}.get(
        description, "5"))
    assert wait_until(page, lambda: error_text(page) == "")
    assert counters(page) == good


def test_idempotence_with_acks_1_via_the_controls(lab_nb):
    page = lab_nb
    good = counters(page)
    assert kernel_eval(page, "lab.controls['enable.idempotence'].value") is False
    checkbox = reveal(page, "enable.idempotence")
    checkbox.scroll_into_view_if_needed()
    checkbox.click()
    settle(page)
    assert error_text(page) == "" and counters(page) == good  # idempotence alone: same run
    reveal(page, "acks").select_option("1")
    assert wait_until(page, lambda: "acks" in error_text(page), timeout=60), error_text(page)
    assert "idempoten" in error_text(page).lower()
    assert kernel_eval(page, "1 + 1") == 2 and counters(page) == good
    shot(page, "idempotence-acks-1")
    control(page, "acks").select_option("all")
    assert wait_until(page, lambda: error_text(page) == "")
    control(page, "enable.idempotence").click()
    settle(page)
    assert kernel_eval(page, "lab.controls['enable.idempotence'].value") is False
    assert counters(page) == good


def test_try_every_crash_point_button(lab_nb):
    page = lab_nb
    good = counters(page)
    click_button(page, "try every crash point")
    table = page.locator(".kafkalab-sweep-table")
    table.wait_for(state="visible", timeout=60_000)
    text = page.locator(".kafkalab-sweep").first.inner_text()
    runs = kernel_eval(page, "lab.sweep_result.runs")
    assert f"Tried every crash point: {runs} runs (every placement)" in text
    assert re.search(r"crash before processing\s+10\s+7\s+2\s+28\s+3", text), text
    assert "shortest counterexample crash before_processing #4 (lost 7, duplicates 0)" in text
    assert "Message 3: LOST" in text
    assert counters(page) == good  # the sweep does not replace the displayed run
    bar = page.locator(".widget-hprogress").first
    assert bar.is_visible()
    shot(page, "sweep")
    click_button(page, "show the no_loss counterexample")
    assert wait_until(page, lambda: counter(page, "lost") == "7")
    assert text_panel(page).startswith("Message 3") and "LOST" in text_panel(page)
    assert wait_until(page, lambda: trace_ids(page, LOST_TRACE) == list(range(3, 10)))
    shot(page, "counterexample")
    type_into(page, "seed", "0")  # same value: nothing to re-run; a real change goes back
    type_into(page, "seed", "1")
    assert wait_until(page, lambda: counter(page, "lost") == "2")
    type_into(page, "seed", "0")
    assert wait_until(page, lambda: trace_ids(page, LOST_TRACE) == [8, 9])
