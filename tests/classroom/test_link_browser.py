"""Opening notebook 08 with a link in the page URL (issue 19.1), in JupyterLab in headless
Chromium: after Run All the playground's Lab is at the link's state. The kernel cannot read
the URL; the Lab's link row (an anywidget) reads window.location and hands the link over."""

from __future__ import annotations

import urllib.request

import pytest

from kafkalab import links, scenarios
from tests.browser import harness

pytestmark = pytest.mark.skipif(harness.browser_missing_reason() is not None,
                                reason=str(harness.browser_missing_reason()))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("lab-link")
    root = base / "root"
    root.mkdir()
    harness.copy_tree_notebooks(harness.REPO_ROOT / "notebooks", root / "notebooks")
    srv = harness.start_lab_server(root, base / "state")
    yield srv
    srv.stop()


@pytest.mark.parametrize("where", ["#", "?"])
def test_notebook_08_opens_at_the_link(server, playwright_session, where):
    target = "exactly-once-pipeline/read-uncommitted"
    link = links.link_of_result(scenarios.run(target), 7)
    relpath = "notebooks/08_playground.ipynb"
    url = f"{server.url}/lab/tree/{urllib.request.pathname2url(relpath)}"
    url += f"?reset&kafkalab={link}" if where == "?" else f"?reset#kafkalab={link}"
    browser = harness.launch_browser(playwright_session)
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        harness.watch_page(page)
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_function(harness._JS_KERNEL_READY, arg=relpath, timeout=180_000)
        harness.run_all_and_wait(page, relpath)
        got = harness.wait_until(page, lambda: harness.kernel_eval(
            page, "[lab.result.scenario, lab.step, lab.error]", relpath=relpath) ==
            [target, 7, None], timeout=60)
        assert got, (page.url, harness.kernel_eval(page, "[lab.result.scenario, lab.step, lab.error]",
                                        relpath=relpath))
        server.shutdown_kernels()
    finally:
        browser.close()
