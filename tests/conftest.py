"""Fixtures shared by the browser suites (tests/browser: JupyterLab; tests/lite: JupyterLite), and
the CPU hog of ``make test-under-load``.

``KAFKALAB_CPU_HOG=SECONDS`` (``make test-under-load`` sets it): for the whole session, one extra
process spins on a core (``while True: pass``, bounded: it exits by itself after SECONDS), so every
test runs on a machine that is not idle. The session starts it and stops it by its own PID; the
summary says how long it competed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

HOG_ENV = "KAFKALAB_CPU_HOG"
_HOG_CODE = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n"
_hog: dict = {}


def _parent_death_signal() -> None:
    """The hog dies with the test run, even when the run is killed (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def pytest_configure(config):
    seconds = os.environ.get(HOG_ENV, "").strip()
    if not seconds or getattr(config, "workerinput", None) is not None:
        return
    try:
        bound = float(seconds)
    except ValueError:
        raise pytest.UsageError(f"kafkalab: {HOG_ENV}={seconds!r} is not a number of seconds") from None
    proc = subprocess.Popen([sys.executable, "-c", _HOG_CODE.format(s=bound)],
                            start_new_session=True, preexec_fn=_parent_death_signal)
    _hog.update(proc=proc, started=time.monotonic(), bound=bound)


def pytest_unconfigure(config):
    proc = _hog.get("proc")
    if proc is None:
        return
    alive = proc.poll() is None
    if alive:
        proc.kill()  # this process only, by its own PID
        proc.wait(timeout=10)
    _hog["ran_s"] = time.monotonic() - _hog["started"]
    _hog["alive_at_end"] = alive


def pytest_terminal_summary(terminalreporter):
    proc = _hog.get("proc")
    if proc is None:
        return
    ran = time.monotonic() - _hog["started"]
    still = proc.poll() is None
    terminalreporter.section("kafkalab CPU hog")
    terminalreporter.write_line(
        f"one busy process (pid {proc.pid}, {HOG_ENV}={_hog['bound']:.0f}) competed for "
        f"{min(ran, _hog['bound']):.0f}s of this {ran:.0f}s session; "
        f"{'still running: the whole session ran under load' if still else 'its time bound ended first'}")


@pytest.fixture(scope="session")
def playwright_session():
    """One Playwright driver for the whole session. Playwright's sync API refuses a second
    ``sync_playwright()`` while one is open in the same thread, so both suites share this one
    (each launches its own Chromium from it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p
