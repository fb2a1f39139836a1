"""Fixtures for the JupyterLite tests: the built site (built when missing), a loopback static
server for it, and one headless Chromium for the session.

Without /usr/bin/chromium the tests skip with ONE reason line, unless KAFKALAB_REQUIRE_BROWSER=1
(CI), where they fail. KAFKALAB_LITE_REBUILD=1 rebuilds the site first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import lite_harness as h


@pytest.fixture(scope="session")
def lite_browser_ready() -> None:
    reason = h.browser_missing_reason()
    if reason is None:
        return
    if h.browser_required():
        pytest.fail(f"LITE BROWSER TESTS FAILED: {reason} ({h.REQUIRE_BROWSER_ENV}=1)")
    pytest.skip(f"LITE BROWSER TESTS SKIPPED: {reason}")


@pytest.fixture(scope="session")
def lite_site(lite_browser_ready) -> Path:
    return h.ensure_site()


@pytest.fixture(scope="session")
def lite_server(lite_site):
    server = h.StaticServer(lite_site)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lite_chromium(lite_browser_ready, playwright_session):
    browser = h.launch_browser(playwright_session)
    yield browser
    browser.close()


@pytest.fixture
def lite_page(lite_chromium, lite_server):
    """A fresh context (own IndexedDB, so no notebook state leaks between tests) and its watcher."""
    context = lite_chromium.new_context(viewport={"width": 1280, "height": 1000})
    watch = h.Watcher(context)
    page = context.new_page()
    watch.attach(page)
    yield page, watch
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """One location for every "browser missing" skip, so ``-ra`` folds them into ONE line."""
    report = yield
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and "LITE BROWSER TESTS SKIPPED" in longrepr[2]:
        report.longrepr = (str(Path(__file__)), 1, longrepr[2])
    return report


def pytest_terminal_summary(terminalreporter):
    if h.TIMINGS:
        terminalreporter.section("kafkalab JupyterLite timings")
        for line in h.TIMINGS:
            terminalreporter.write_line(line)
