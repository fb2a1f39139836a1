"""Fixtures for the JupyterLite tests: the built site (built when missing), a loopback static
server for it, one headless Chromium for the session, and the queue of notebook runs
(``lite_run``).

Without /usr/bin/chromium the tests skip with ONE reason line, unless KAFKALAB_REQUIRE_BROWSER=1
(CI), where they fail. KAFKALAB_LITE_REBUILD=1 rebuilds the site first.
"""

from __future__ import annotations

import os
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


def _planned_runs(session) -> list[tuple[str, str, dict | None]]:
    """The notebook runs this session's selected lite tests need, in the order they run."""
    from .test_lite_site import SMOKE_NOTEBOOK, SMOKE_PATH

    order = []
    for item in session.items:
        if item.path.parent != Path(__file__).parent:
            continue
        if item.originalname == "test_smoke_notebook":
            order.append((SMOKE_PATH, SMOKE_PATH, SMOKE_NOTEBOOK))
        elif item.originalname == "test_course_notebook":
            nb = item.callspec.params["notebook"]
            if h.lite_build_module().server_only_reason(nb) is None:
                rel = nb.relative_to(h.REPO_ROOT).as_posix()
                order.append((rel, rel, None))
    return order


@pytest.fixture(scope="session")
def lite_queue(request, lite_chromium, lite_server):
    """Every selected notebook, in ``KAFKALAB_LITE_PARALLEL`` (default 2) lanes of one page and
    one Pyodide kernel each (lite_harness.RunQueue): while one test checks its notebook the next
    one is starting in the other lane."""
    parallel = int(os.environ.get(h.PARALLEL_ENV, "2"))
    queue = h.RunQueue(lite_chromium, lite_server, _planned_runs(request.session), parallel)
    yield queue
    queue.close()
    h.TIMINGS.append(f"Pyodide kernel start-ups: {queue.started} for {queue.started + queue.reused} "
                     f"notebooks ({queue.reused} ran in the kernel of the notebook before them, "
                     f"reset; {parallel} lanes)")


@pytest.fixture
def lite_run(lite_queue):
    """``lite_run(path)`` -> the finished :class:`lite_harness.LiteRun` of that notebook; its
    context is closed after the test."""
    used = []

    def get(key: str):
        used.append(key)
        return lite_queue.get(key)

    yield get
    for key in used:
        lite_queue.release(key)


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


def pytest_sessionfinish(session):
    """In a pytest-xdist worker: the timings go to the controller's summary (tests/conftest.py)."""
    out = getattr(session.config, "workeroutput", None)
    if out is not None and h.TIMINGS:
        out.setdefault("kafkalab_sections", {})["kafkalab JupyterLite timings"] = list(h.TIMINGS)
