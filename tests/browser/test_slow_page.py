"""The Lab's figures draw however long plotly's front end takes to arrive (issue 16: no test, and
no learner, depends on an idle machine).

anywidget gives a widget model 2 s to import its front-end module and initialise
(``AbortSignal.timeout(2000)`` in anywidget's runtime: "[anywidget] Failed to initialize model."),
then leaves the figure empty. plotly's widget module is 4.9 MB of JavaScript that reaches the page
from the kernel: on a busy machine or a slow laptop, receiving and parsing it took longer than
that, and the Lab's figures stayed empty (seen with three test workers on two cores).
``kafkalab.widgets.live_figure`` now imports it once per page, outside that window, and holds each
figure's events until plotly's front end is up.

The test makes the page slow where it matters, deterministically: it holds plotly's bundle back
for ``HOLD_MS`` after it has arrived (the page-wide promise the figures wait on resolves late),
longer than anywidget's 2 s. Every figure must still draw, with the data the kernel sent meanwhile.
The loader before this change left all four empty here.
"""

from __future__ import annotations

import pytest

from kafkalab.widgets.figures import lab_title
from kafkalab.widgets.live_figure import _KEY

from .harness import (
    collect_report,
    open_notebook,
    plotly_titles,
    run_all_and_wait,
    wait_settled,
    wait_until,
    write_notebook,
)

pytestmark = pytest.mark.browser

CELLS = ["#md\n# The Lab on a slow page", "from kafkalab import Lab\nlab = Lab()\nlab"]
HOLD_MS = 6000  # anywidget waits 2000 ms
TITLES = tuple(lab_title(t)["text"] for t in (  # as the Lab draws them
    "Offsets over time, input partition 0 — at-most-once-auto-commit",
    "Message ledger: what the sink did with each message — at-most-once-auto-commit"))
_JS_HOLD_BUNDLE = """([key, ms]) => {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  globalThis[key] = { promise, reject, done: false,
                      resolve: (blob) => setTimeout(() => resolve(blob), ms) };
}"""
_JS_TRACES = ("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
              ".map(g => (g.data || []).length)")


def test_lab_figures_draw_when_plotly_arrives_late(chromium_browser, lab_server):
    relpath = "slow_page/lab.ipynb"
    write_notebook(lab_server.root_dir / relpath, CELLS)
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        open_notebook(page, lab_server, relpath)
        page.evaluate(_JS_HOLD_BUNDLE, [_KEY, HOLD_MS])
        run_all_and_wait(page, relpath)
        wait_settled(page)
        drawn = wait_until(page, lambda: all(t in plotly_titles(page) for t in TITLES), timeout=120)
        assert drawn, (f"with plotly's bundle held back {HOLD_MS} ms the Lab's figures did not "
                       f"draw: titles {plotly_titles(page)}, traces {page.evaluate(_JS_TRACES)}")
        report = collect_report(page, relpath, timings={})
        assert report.plotly_plots >= 4, report.summary()
        report.assert_clean()
    finally:
        context.close()
        lab_server.shutdown_kernels()
