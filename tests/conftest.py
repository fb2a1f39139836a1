"""Fixtures shared by the browser suites (tests/browser: JupyterLab; tests/lite: JupyterLite), the
notebook executions shared by the non-browser tests (``executed_notebook``), and the CPU hog of
``make test-under-load``.

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
from dataclasses import dataclass
from pathlib import Path

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


# Where the session's time went, per worker (under pytest-xdist) and per group (``group_of``):
# each group's busy seconds and the span it ran in, from the reports' own start and stop times.
_spans: dict[str, dict[str, list[float]]] = {}


def pytest_runtest_logreport(report):
    worker = getattr(getattr(report, "node", None), "gateway", None)
    key = worker.id if worker is not None else "main"
    start, stop = getattr(report, "start", None), getattr(report, "stop", None)
    if start is None or stop is None:
        return
    span = _spans.setdefault(key, {}).setdefault(group_of(report.nodeid), [start, stop, 0.0])
    span[0], span[1], span[2] = min(span[0], start), max(span[1], stop), span[2] + stop - start


def timeline_lines(spans: dict[str, dict[str, list[float]]], top: int = 6) -> list[str]:
    """One line per worker: its busy seconds, when it went idle (seconds from the session's first
    test), and its longest groups with their busy seconds and span."""
    if not spans:
        return []
    t0 = min(g[0] for groups in spans.values() for g in groups.values())
    lines = []
    for key in sorted(spans):
        groups = spans[key]
        busy = sum(g[2] for g in groups.values())
        end = max(g[1] for g in groups.values()) - t0
        longest = sorted(groups.items(), key=lambda kv: -kv[1][2])[:top]
        parts = ", ".join(f"{name} {g[2]:.0f}s ({g[0] - t0:.0f}-{g[1] - t0:.0f})"
                          for name, g in longest)
        lines.append(f"{key}: busy {busy:.0f}s, idle from {end:.0f}s; {len(groups)} groups, "
                     f"longest: {parts}")
    return lines


def pytest_terminal_summary(terminalreporter):
    lines = timeline_lines(_spans)
    if len(_spans) > 1:
        terminalreporter.section("kafkalab worker timeline")
        for line in lines:
            terminalreporter.write_line(line)
    for title, lines in _worker_sections.items():
        terminalreporter.section(title)
        for line in lines:
            terminalreporter.write_line(line)
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


# --------------------------------------------------------------------------- shared notebook runs

REPO_ROOT = Path(__file__).resolve().parents[1]
# Per-cell ceilings (not expectations): the real clients' notebook runs 19 workloads on
# librdkafka's mock cluster in one cell, more on a busy machine.
CELL_TIMEOUT_S = 120
CELL_TIMEOUT_S_BY_NAME = {"09_run_it_for_real.ipynb": 600}
# The tests that read one executed notebook run in one pytest-xdist worker (they share it).
NOTEBOOK_RUNS_GROUP = "notebook-runs"
NOTEBOOK_RUN_MODULES = ("test_notebooks_execute.py", "test_exercises.py", "test_crosscheck.py")


@dataclass
class ExecutedNotebook:
    """One notebook executed top to bottom with nbclient (saved WITH widget state, as nbconvert
    --execute and JupyterLab's "Save Widget State Automatically" do), or the error that stopped it."""

    path: Path
    nb: object
    error: Exception | None
    seconds: float


_executed: dict[Path, ExecutedNotebook] = {}


@pytest.fixture(scope="session")
def executed_notebook():
    """``executed_notebook(path)`` -> the :class:`ExecutedNotebook` of ``path``, executed once per
    session in a fresh kernel (working directory: the notebook's folder) however many tests read
    it: test_notebooks_execute (every notebook and solution), test_exercises (the solutions' check
    cells), test_crosscheck (notebook 09's agreement line). ``error`` is a CellExecutionError
    (its message carries the cell and the traceback) or None."""

    def get(path: Path) -> ExecutedNotebook:
        path = Path(path).resolve()
        if path not in _executed:
            import nbformat
            from nbclient import NotebookClient
            from nbclient.exceptions import CellExecutionError

            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(nb, timeout=CELL_TIMEOUT_S_BY_NAME.get(path.name, CELL_TIMEOUT_S),
                                    kernel_name="python3", store_widget_state=True,
                                    resources={"metadata": {"path": str(path.parent)}})
            t0 = time.monotonic()
            error = None
            try:
                client.execute()
            except CellExecutionError as err:
                error = err
            _executed[path] = ExecutedNotebook(path, nb, error, time.monotonic() - t0)
        return _executed[path]

    return get


# Under pytest-xdist (``make test``: ``-n 3 --dist loadgroup --no-loadscope-reorder``) the tests go
# out in groups, longest first (the order of FIRST_GROUPS, measured: the worker timeline in the
# summary), then every other module in collection order (one module, one group: its
# module-scoped fixtures run once). Each browser suite is split in two groups: the course
# notebooks, and the rest (each group that a worker takes starts that suite's server and
# Chromium in that worker once); the modules sharing executed notebooks are one group. A worker
# gets its next group when at most 2 of its tests are left. The groups come from the test's path
# (``group_of``), not from xdist_group marks: on pytest 9.2 xdist 3.8's loadgroup ignores the
# marks (pytest-dev/pytest-xdist#1386: it renames ``item._nodeid``, which pytest 9.2 no longer
# reads), so tests/conftest.py hands xdist a scheduler of its own (``pytest_xdist_make_scheduler``).
LITE_CLASSROOM_GROUP = "lite/test_lite_classroom.py"
BROWSER_NOTEBOOKS_GROUP = "browser/test_notebooks.py"
FIRST_GROUPS = ("lite", BROWSER_NOTEBOOKS_GROUP, "browser", LITE_CLASSROOM_GROUP,
                NOTEBOOK_RUNS_GROUP, "test_binder.py", "classroom/test_grade.py",
                "classroom/test_link_browser.py",
                "real/test_groups_crosscheck.py")  # two real group runs, ~30 s


def group_of(nodeid: str) -> str:
    """The xdist group of a test, from its node id ("tests/lite/test_lite_site.py::x" -> "lite",
    "tests/lite/test_lite_classroom.py::y" -> "lite/test_lite_classroom.py")."""
    path = nodeid.split("::", 1)[0]
    parts = Path(path).parts
    if parts and parts[0] == "tests":
        parts = parts[1:]
    if not parts:
        return path
    if parts[0] in ("browser", "lite"):
        path = "/".join(parts)
        return path if path in (LITE_CLASSROOM_GROUP, BROWSER_NOTEBOOKS_GROUP) else parts[0]
    if parts[-1] in NOTEBOOK_RUN_MODULES:
        return NOTEBOOK_RUNS_GROUP
    return "/".join(parts)


def _grouped(config) -> bool:
    """``--dist loadgroup`` is on (xdist's workers see dist "no" and ``option.loadgroup`` True)."""
    return config.pluginmanager.hasplugin("xdist") and (
        config.getoption("dist", "no") == "loadgroup" or bool(getattr(config.option, "loadgroup", False)))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Only under ``--dist loadgroup``: the items ordered group by group, FIRST_GROUPS first (the
    order xdist hands the groups out in; every worker sorts its collection alike)."""
    if not _grouped(config):
        return
    groups = {id(item): group_of(item.nodeid) for item in items}
    seen = list(dict.fromkeys(groups[id(i)] for i in items))
    rank = {g: (FIRST_GROUPS.index(g) if g in FIRST_GROUPS else len(FIRST_GROUPS) + seen.index(g))
            for g in seen}
    items.sort(key=lambda i: rank[groups[id(i)]])  # stable: each group keeps its own order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadgroup``: xdist's scope scheduling with ``group_of`` as the scope."""
    if not _grouped(config):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid.rsplit("@", 1)[0] if "@" in nodeid.rsplit("]", 1)[-1] else nodeid)

    return GroupScheduling(config, log)


# Each worker's summary lines (the browser suites' timings: tests/browser and tests/lite conftest
# put them in config.workeroutput["kafkalab_sections"]) reach the controller's summary.
_worker_sections: dict[str, list[str]] = {}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    for title, lines in getattr(node, "workeroutput", {}).get("kafkalab_sections", {}).items():
        _worker_sections.setdefault(title, []).extend(lines)
