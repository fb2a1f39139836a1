"""The Lab in a real JupyterLab: its FigureWidgets render, stepping and controls reach the page."""

from __future__ import annotations

import json

import pytest

from kafkalab.widgets.figures import lab_title  # the title as the Lab draws it

from .harness import (
    click_button,
    kernel_eval,
    kernel_execute,
    notebook_tab,
    plotly_figure,
    plotly_titles,
    press_play,
    wait_for_frame,
    wait_until,
    write_notebook,
)

pytestmark = pytest.mark.browser

CELLS = [
    "#md\n# The Lab",
    "from kafkalab import Lab\nlab = Lab()\nlab",
    "from kafkalab.viz import animate, show\nshow(animate(lab.result, 'log'))",
]

TIMELINE = lab_title(
    "Offsets over time, input partition 0 — at-most-once-auto-commit")["text"]
LEDGER = lab_title(
    "Message ledger: what the sink did with each message — at-most-once-auto-commit")["text"]


@pytest.fixture(scope="module")
def lab_nb(lab_tabs, lab_server):
    relpath = "lab_widget/lab.ipynb"
    write_notebook(lab_server.root_dir / relpath, CELLS)
    with notebook_tab(lab_tabs, lab_server, relpath,
                      viewport={"width": 1400, "height": 1000}) as report:
        yield lab_tabs, report


def test_lab_renders_clean(lab_nb):
    page, report = lab_nb
    report.assert_clean()
    assert wait_until(page, lambda: len(plotly_titles(page)) >= 5)  # widgets render lazily
    titles = plotly_titles(page)
    assert TIMELINE in titles and LEDGER in titles
    assert any(t and t.startswith("Broker log") for t in titles)
    assert any(t and t.startswith("Topology") for t in titles)
    assert report.plotly_plots >= 4, report.summary()


_JS_TABLE_TEXTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot .table'))
    .map(t => Array.from(t.querySelectorAll('.cell-text')).map(e => e.textContent))"""


def test_tables_show_their_text(lab_nb):
    """The broker log's producer-state table (here: one cell saying why it is empty) shows its
    words in the FigureWidget; plotly.js's own wrapping pass once left it blank there."""
    page, _ = lab_nb
    assert wait_until(page, lambda: page.evaluate(_JS_TABLE_TEXTS))
    tables = page.evaluate(_JS_TABLE_TEXTS)
    assert tables and all(tables), tables
    texts = [text for table in tables for text in table]
    assert all(text.strip() for text in texts), texts
    assert any("idempotence is off" in text for text in texts), texts


def test_step_buttons_move_the_now_line(lab_nb):
    page, _ = lab_nb
    last = kernel_eval(page, "lab.step")
    click_button(page, "◀ step back")
    assert wait_until(page, lambda: kernel_eval(page, "lab.step") == last - 1)
    t = kernel_eval(page, "lab.result.events[lab.step].t")
    assert wait_until(page, lambda: plotly_figure(page, TIMELINE)["layout"]["shapes"][0]["x0"]
                      == t)


def test_control_change_reaches_the_figures(lab_nb):
    page, _ = lab_nb
    kernel_execute(page, "lab.controls['client.model'].value = 'java'\n"
                         "lab.controls['auto.commit.interval.ms'].value = 5000")
    assert kernel_eval(page, "lab.outcome['duplicates']") == 8

    def dup_ids():
        data = plotly_figure(page, LEDGER)["data"]
        trace = next(d for d in data if d.get("name") == "×n: processed more than once")
        return sorted(trace.get("customdata") or [])

    assert wait_until(page, lambda: dup_ids() == list(range(8)))


# The frames figure by what it is (kafkalab's layout.meta: the animated figure's kind), not by
# its title: a frame's title and caption describe that frame and change while it plays.
_JS_ANIMATION = """(kind) => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .findIndex((gd) => { const m = (gd.layout || {}).meta || {};
                         return m.figure === kind && m.frames > 0; })"""


def test_frames_figure_plays(lab_nb):
    page, _ = lab_nb
    assert wait_until(page, lambda: page.evaluate(_JS_ANIMATION, "log") >= 0)
    nth = page.evaluate(_JS_ANIMATION, "log")  # among all figures: title None matches every one
    press_play(page, None, nth=nth)
    assert wait_for_frame(page, 3, None, nth=nth) >= 3
    # the frame on screen has its own title: the step it shows
    title = plotly_figure(page, None, nth=nth)["layout"]["title"]["text"]
    # as many steps as the Lab's own run has events (the default scenario, run here the same way)
    from kafkalab import scenarios
    from kafkalab.widgets.lab import DEFAULT_SCENARIO
    last = len(scenarios.run(DEFAULT_SCENARIO).events) - 1
    assert title.startswith("Broker log at step ") and f" of {last}" in title, (title, last)


def test_a_large_run_reaches_the_page_as_the_kernel_has_it(lab_nb):
    """At 600 messages every long array travels packed (LiveFigure.pack: one JSON text each)
    and the page unpacks it before plotly sees it: every trace of the timeline and the ledger
    in the page holds the kernel's x, y and customdata, as plain arrays plotly drew."""
    page, report = lab_nb
    before = kernel_eval(page, "lab.controls['messages'].value")
    kernel_execute(page, "lab.controls['messages'].value = 600")
    want = kernel_eval(page, "__import__('json').dumps([[{k: list(getattr(t, k)) for k in "
                             "('x', 'y', 'customdata') if getattr(t, k, None) is not None} "
                             "for t in lab.figures[n].data] for n in ('timeline', 'ledger')])")
    want = json.loads(want)
    titles = {"timeline": lab_title("Offsets over time, input partition 0 — "
                                    "at-most-once-auto-commit")["text"], "ledger": LEDGER}
    ledger_sizes = [len(t.get("customdata") or []) for t in want[1]]
    assert sum(ledger_sizes) == 600 and max(len(t.get("x") or []) for t in want[0]) > 100

    def page_data():
        out = []
        for name in ("timeline", "ledger"):
            data = plotly_figure(page, titles[name])["data"]
            out.append([{k: t[k] for k in ("x", "y", "customdata") if t.get(k) is not None}
                        for t in data])
        return out

    assert wait_until(page, lambda: page_data() == want, timeout=60), report.summary()
    rendered = page.evaluate("""(title) => {
        const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
          .find((g) => g.layout && g.layout.title && g.layout.title.text === title);
        return gd._fullData.filter((t) => Array.isArray(t.x)).length;
    }""", LEDGER)
    assert rendered >= 1
    report.assert_clean()
    kernel_execute(page, f"lab.controls['messages'].value = {before}")
