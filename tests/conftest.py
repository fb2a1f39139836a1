"""Fixtures shared by the browser suites (tests/browser: JupyterLab; tests/lite: JupyterLite)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def playwright_session():
    """One Playwright driver for the whole session. Playwright's sync API refuses a second
    ``sync_playwright()`` while one is open in the same thread, so both suites share this one
    (each launches its own Chromium from it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p
