"""Shared by the suites: the Playwright driver of the browser suites (tests/browser: JupyterLab;
tests/lite: JupyterLite), their pytest-xdist groups, and their timing sections.

`make test` runs pytest on two workers (``-n auto --dist loadgroup``). Each browser suite is one
work unit, so it stays whole on one worker (one server, one browser, notebooks in turn) while the
other tests run beside it. The units are chosen here by folder, not by ``xdist_group`` marks:
with pytest 9.2, pytest-xdist 3.8 silently ignores those marks (pytest-xdist issue #1386). A suite's timing
lines travel in its test reports (``user_properties``), so the summary at the end shows them
whether or not the tests ran in worker processes."""

from __future__ import annotations

import pytest

# The suites that must not be split across workers: folder under tests/ -> work unit.
WHOLE_SUITES = {"browser": "jupyterlab-suite", "lite": "jupyterlite-suite"}
TIMING_PREFIX = "kafkalab timings: "
_timings: dict[str, list[str]] = {}


@pytest.fixture(scope="session")
def playwright_session():
    """One Playwright driver for the whole session. Playwright's sync API refuses a second
    ``sync_playwright()`` while one is open in the same thread, so both suites share this one
    (each launches its own Chromium from it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook; plain pytest never calls it
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class WholeSuiteScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            parts = nodeid.split("/", 2)
            if len(parts) == 3 and parts[0] == "tests" and parts[1] in WHOLE_SUITES:
                return WHOLE_SUITES[parts[1]]
            return super()._split_scope(nodeid)

    return WholeSuiteScheduling(config, log)


def pytest_runtest_logreport(report):
    for name, value in report.user_properties:
        if name.startswith(TIMING_PREFIX):
            _timings.setdefault(name.removeprefix(TIMING_PREFIX), []).append(value)


def pytest_terminal_summary(terminalreporter):
    for section, lines in _timings.items():
        terminalreporter.section(section)
        for line in lines:
            terminalreporter.write_line(line)
