"""The Lab's figures draw on a slow machine (issue 16: no test, and no learner, depends on an
idle machine).

anywidget gives a widget model 2 s to import its front-end module and initialise
(``AbortSignal.timeout(2000)`` in anywidget's runtime, "[anywidget] Failed to initialize model."),
then leaves the figure empty. plotly's widget module is 4.9 MB of JavaScript: on a busy machine or
a slow laptop, parsing it took longer, and the Lab's figures stayed empty (seen with three test
workers on two cores). ``kafkalab.widgets.live_figure`` now imports it once per page, outside that
window, and holds the figure's events until plotly's front end is up. Here Chromium's CPU is
throttled (DevTools ``Emulation.setCPUThrottlingRate``, the page runs that many times slower)
while the Lab's cell runs: every figure must still get its data.
"""

from __future__ import annotations

import pytest

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

CELLS = ["#md\n# The Lab on a slow machine", "from kafkalab import Lab\nlab = Lab()\nlab"]
THROTTLE = 4  # the page runs 4 times slower than this machine's cores
_JS_TRACES = "() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => (g.data || []).length)"
LEDGER = "Message ledger: what the sink did with each message — at-most-once-auto-commit"


def test_lab_figures_draw_on_a_throttled_cpu(chromium_browser, lab_server):
    relpath = "slow_page/lab.ipynb"
    write_notebook(lab_server.root_dir / relpath, CELLS)
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"[:300]))
    try:
        open_notebook(page, lab_server, relpath, timeout=300)
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
        run_all_and_wait(page, relpath, timeout=600)
        wait_settled(page, timeout=300)
        assert wait_until(page, lambda: LEDGER in plotly_titles(page), timeout=300), (
            f"the Lab's figures never drew at {THROTTLE}x CPU throttling: {plotly_titles(page)}; "
            f"traces per figure: {page.evaluate(_JS_TRACES)}; console: {console[-15:]}")
        report = collect_report(page, relpath, timings={})
        assert report.plotly_plots >= 4, report.summary()
        report.assert_clean()
    finally:
        context.close()
        lab_server.shutdown_kernels()
