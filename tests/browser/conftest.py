"""Fixtures for the browser tests: one JupyterLab server and one Chromium for the whole session.

- ``lab_server``: a :class:`harness.LabServer` whose root holds copies of notebooks/ and
  solutions/ (outputs cleared, kernelspec python3). Tests may write more notebooks under
  ``lab_server.root_dir`` and open them by their path relative to it.
- ``chromium_browser``: a Playwright Browser (Debian's /usr/bin/chromium, headless).
- ``lab_tabs``: one Lab page per worker; each notebook opens as a tab of it
  (``harness.notebook_tab``) and is closed with its kernel afterwards.
- ``lab_page``: a fresh browser context and page per test; its kernels are shut down afterwards.

Without /usr/bin/chromium the browser tests skip with one reason line, unless
KAFKALAB_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from . import harness


@pytest.fixture(scope="session")
def browser_ready() -> None:
    """Skip (or, with KAFKALAB_REQUIRE_BROWSER=1, fail) when no browser can be driven."""
    reason = harness.browser_missing_reason()
    if reason is None:
        return
    if harness.browser_required():
        pytest.fail(f"BROWSER TESTS FAILED: {reason} ({harness.REQUIRE_BROWSER_ENV}=1)")
    pytest.skip(f"BROWSER TESTS SKIPPED: {reason}")


@pytest.fixture(scope="session")
def lab_server(browser_ready, tmp_path_factory):
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    for folder in ("notebooks", "solutions"):
        harness.copy_tree_notebooks(harness.REPO_ROOT / folder, root / folder)
    server = harness.start_lab_server(root, base / "state")
    harness.TIMINGS.append(f"server start (until /api/status 200): {server.start_seconds:.1f}s")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium_browser(browser_ready, playwright_session):
    t0 = time.monotonic()
    browser = harness.launch_browser(playwright_session)
    harness.TIMINGS.append(f"browser launch: {time.monotonic() - t0:.1f}s")
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def lab_tabs(chromium_browser, lab_server):
    """One Lab page per worker: a notebook opens in a new tab of it and is closed (tab and
    kernel) after its test or module (:func:`harness.notebook_tab`), so the Lab starts once per
    worker instead of once per notebook (measured 2026-12-02: ~1.5-2 CPU-s for a tab against
    ~5-8 for a fresh page). A test that needs a page of its own (one loaded with an address of
    its own, a throttled network, a deliberately broken front end) takes ``lab_page``."""
    context = chromium_browser.new_context(viewport=dict(harness.DEFAULT_VIEWPORT))
    page = context.new_page()
    harness.watch_page(page)
    yield page
    context.close()
    lab_server.shutdown_kernels()


@pytest.fixture
def lab_page(chromium_browser, lab_server):
    context = chromium_browser.new_context(viewport=dict(harness.DEFAULT_VIEWPORT))
    page = context.new_page()
    harness.watch_page(page)
    yield page
    context.close()
    lab_server.shutdown_kernels()


@pytest.fixture
def lab_root(lab_server) -> Path:
    """The server's root folder: write notebooks here to open them in the Lab."""
    return lab_server.root_dir


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Give every "browser missing" skip the same location, so ``-ra`` folds them into ONE
    line (pytest reports a fixture's skip at each test's own line otherwise)."""
    report = yield
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and "BROWSER TESTS SKIPPED" in longrepr[2]:
        report.longrepr = (str(Path(__file__)), 1, longrepr[2])
    return report


def pytest_terminal_summary(terminalreporter):
    if harness.TIMINGS:
        terminalreporter.section("kafkalab browser timings")
        for line in harness.TIMINGS:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session):
    """In a pytest-xdist worker: the timings go to the controller's summary (tests/conftest.py)."""
    out = getattr(session.config, "workeroutput", None)
    if out is not None and harness.TIMINGS:
        out.setdefault("kafkalab_sections", {})["kafkalab browser timings"] = list(harness.TIMINGS)
