"""kafkalab/grade/clock.py, the self-grader's time budget, under every Python found here.

The test venv is Python 3.11 (an alarm at the deadline, then ``sys.settrace``; the trace alone
where no alarm can be set); Pyodide, where learners self-grade, is 3.14 (``sys.monitoring``).
clock.py is standard library only, so the same script runs it, by each mechanism it can use
there, under this interpreter and under each python3.12+ on the machine (PATH, ~/.pyenv): an
endless loop in a cell, on one line or in a function that non-learner code calls later, is
stopped, at a line of the cell; code that is not the learner's is never asked about, and before
the deadline the alarm leaves it untraced; nothing is left installed afterwards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLOCK = Path(__file__).resolve().parents[2] / "kafkalab" / "grade" / "clock.py"

SCRIPT = r"""
import importlib.util, json, signal, sys, time
spec = importlib.util.spec_from_file_location("clock", sys.argv[1])
clock = importlib.util.module_from_spec(spec); spec.loader.exec_module(clock)

def cell(c, src, ns):
    return c.track(compile(src, clock.CELL_FILE, "exec"))

def stopped(c, fn):
    try:
        fn()
    except clock.OutOfTime:
        return True
    return False

def model(n=200_000):  # not the learner's code: never timed
    def step(i):
        return i + 1
    s = 0
    for i in range(n):
        s = step(s)
    return s

def left_installed():
    return {"trace": sys.gettrace() is not None,
            "tool": hasattr(sys, "monitoring") and "kafkalab self-grade clock" in
                    [sys.monitoring.get_tool(i) for i in range(6)],
            "alarm_handler": signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None),
            "alarm_set": signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0)}

def run(how):
    out = {}
    # an endless loop on one line (a backward jump, no new line), 30 s if nothing stops it
    c, ns = clock.Clock(0.2), {}
    code = cell(c, "import time\nend = time.monotonic() + 30\nwhile time.monotonic() < end: pass\n",
                ns)
    with c.watching(how):
        out["how"] = c.how
        out["one_line_loop"] = stopped(c, lambda: exec(code, ns))
    out["ran_out"] = c.ran_out

    # a cell compiled while the clock is already watching (as the self-grader does)
    c, ns = clock.Clock(0.2), {}
    with c.watching(how):
        out["tracked_inside"] = stopped(c, lambda: exec(cell(
            c, "import time\nend = time.monotonic() + 30\nwhile True:\n"
               "    if time.monotonic() > end:\n        break\n", ns), ns))

    # the deadline passes while the model runs, called from the learner's cell: the cell
    # stops at its next line, not inside the model
    c, ns = clock.Clock(0.1), {"model": model}
    code = cell(c, "import time\nwhile True:\n    x = model(2_000_000)\n", ns)
    where = []
    with c.watching(how):
        try:
            exec(code, ns)
        except clock.OutOfTime as e:
            tb = e.__traceback__  # its innermost frame but the clock's own (its callback)
            while tb is not None:
                if tb.tb_frame.f_code.co_filename != clock.__file__:
                    where[:] = [tb.tb_frame.f_code.co_filename]
                tb = tb.tb_next
    out["stopped_in"] = where

    # a function from an earlier cell, called later by code that is not the learner's
    c, spin_ns = clock.Clock(60), {}
    exec(cell(c, "import time\ndef spin(s):\n    end = time.monotonic() + s\n"
                 "    while time.monotonic() < end:\n        pass\n", spin_ns), spin_ns)
    with c.watching(how):
        before = c.events
        out["model"] = model()
        out["model_events"] = c.events - before
        out["inside"] = left_installed()
        c.move_deadline(time.monotonic() + 0.2)
        out["later_call"] = stopped(c, lambda: (lambda f: f(30))(spin_ns["spin"]))

    # a block that ends before the deadline: no alarm is left to ring later (and the learner's
    # code, run past that deadline below, is not stopped)
    c = clock.Clock(0.2)
    with c.watching(how):
        pass
    out["quiet_after"] = signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)

    # afterwards: nothing installed, the learner's code runs untimed, a previous trace comes back
    out["after"] = left_installed()
    out["untimed_after"] = not stopped(c, lambda: spin_ns["spin"](0.3))
    out["quiet_after"] = out["quiet_after"] and not c.ran_out
    previous = lambda frame, event, arg: None
    sys.settrace(previous)
    with c.watching(how if how in c.usable() else None):
        pass
    out["trace_restored"] = sys.gettrace() is previous
    sys.settrace(None)
    return out

usable = clock.Clock(1).usable()
try:
    clock.Clock(1).watching("sundial")
    refused = None
except ValueError as e:
    refused = str(e)
print(json.dumps({"version": list(sys.version_info[:2]), "usable": usable, "refused": refused,
                  "runs": {how: run(how) for how in usable}}))
"""


def _version(python: str) -> tuple[int, int]:
    out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                         capture_output=True, text=True, timeout=60).stdout.split()
    return (int(out[0]), int(out[1])) if len(out) == 2 else (0, 0)


def _pythons() -> list:
    """This interpreter and each python3.12+ found; without one, a skipped entry says that the
    sys.monitoring path is then checked in Pyodide only (tests/lite)."""
    found = dict.fromkeys([sys.executable])
    for minor in range(12, 16):
        exe = shutil.which(f"python3.{minor}")
        if exe:
            found[exe] = None
        found.update(dict.fromkeys(
            str(p) for p in Path.home().glob(f".pyenv/versions/3.{minor}.*/bin/python3.{minor}")))
    versions = {p: _version(p) for p in found}  # (0, 0): a pyenv shim with no version behind
    params = [pytest.param(p, id=f"python{v[0]}.{v[1]}") for p, v in versions.items() if v[0]]
    if not any(v >= (3, 12) for v in versions.values()):
        params.append(pytest.param(None, id="python3.12+", marks=pytest.mark.skip(
            reason="no python3.12+ on this machine: clock.py's sys.monitoring path is "
                   "exercised by tests/lite (Pyodide) only")))
    return params


@pytest.mark.parametrize("python", _pythons())
def test_the_clock_stops_the_learners_code_only(python):
    proc = subprocess.run([python, "-c", SCRIPT, str(CLOCK)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    version = tuple(out["version"])
    # the main thread of a POSIX CPython: the alarm; 3.12+ first sys.monitoring
    assert out["usable"] == (["monitoring"] if version >= (3, 12) else []) + ["alarm", "trace"]
    assert "'sundial'" in out["refused"] and "'trace'" in out["refused"], out["refused"]
    nothing = {"trace": False, "tool": False, "alarm_handler": False, "alarm_set": False}
    for how, run in out["runs"].items():
        assert run["how"] == how, run
        assert run["one_line_loop"] and run["ran_out"], (how, run)
        assert run["tracked_inside"], f"{how}: a cell compiled inside watching() ran on: {run}"
        assert run["later_call"], f"{how}: a cell's function called later ran on: {run}"
        assert run["stopped_in"] == ["<cell>"], f"{how}: stopped outside the cell: {run}"
        assert run["model"] == 200_000 and run["model_events"] == 0, (how, run)
        assert run["quiet_after"], f"{how}: the clock ran out after its block had ended"
        assert run["after"] == nothing, f"{how}: left installed: {run['after']}"
        assert run["untimed_after"], f"{how}: the learner's code was still timed after: {run}"
        assert run["trace_restored"], (how, run)
        # what is installed while the deadline has not passed: the alarm and sys.monitoring
        # leave the model's frames untraced (full speed); the trace sees every frame
        inside = run["inside"]
        assert inside["trace"] == (how == "trace"), (how, inside)
        assert inside["tool"] == (how == "monitoring"), (how, inside)
        assert inside["alarm_handler"] == inside["alarm_set"] == (how == "alarm"), (how, inside)


def test_a_sweep_inside_the_block_gives_the_alarm_back(tmp_path):
    """A sweep run serially in a learner's check sets its own SIGALRM timer for each run
    (kafkalab/sweep/_exec.py): it must set the clock's alarm back, or an endless loop after it
    would never be stopped."""
    import time

    from kafkalab.grade.clock import CELL_FILE, Clock, OutOfTime
    from kafkalab.sweep import sweep

    c = Clock(1.0)
    assert "alarm" in c.usable(), c.usable()
    ns: dict = {}
    # 30 s if nothing stops it: the test fails instead of hanging
    code = c.track(compile("import time\nend = time.monotonic() + 30\n"
                           "while time.monotonic() < end:\n    pass\n", CELL_FILE, "exec"))
    with c.watching("alarm"):
        result = sweep("at-least-once-manual-commit", budget=8, processes=1)
        assert len(result.table) >= 8
        started = time.monotonic()
        with pytest.raises(OutOfTime):
            exec(code, ns)
    assert c.ran_out and time.monotonic() - started < 25
