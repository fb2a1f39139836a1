"""kafkalab/grade/clock.py, the self-grader's time budget, under every Python found here.

The test venv is Python 3.11 (``sys.settrace``); Pyodide, where learners self-grade, is 3.14
(``sys.monitoring``). clock.py is standard library only, so the same script runs it under this
interpreter and under each python3.12+ on the machine (PATH, ~/.pyenv): an endless loop in a
cell, on one line or in a function that non-learner code calls later, is stopped; code that is
not the learner's is never asked about; nothing is left installed afterwards.
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
import importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("clock", sys.argv[1])
clock = importlib.util.module_from_spec(spec); spec.loader.exec_module(clock)
out = {"version": list(sys.version_info[:2])}

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

# an endless loop on one line (a backward jump, no new line), 30 s if nothing stops it
c, ns = clock.Clock(0.2), {}
code = cell(c, "import time\nend = time.monotonic() + 30\nwhile time.monotonic() < end: pass\n", ns)
with c.watching():
    out["one_line_loop"] = stopped(c, lambda: exec(code, ns))
out["ran_out"] = c.ran_out

# a cell compiled while the clock is already watching (as the self-grader does)
c, ns = clock.Clock(0.2), {}
with c.watching():
    out["tracked_inside"] = stopped(c, lambda: exec(cell(
        c, "import time\nend = time.monotonic() + 30\nwhile True:\n    if time.monotonic() > end:\n"
           "        break\n", ns), ns))

# a function from an earlier cell, called later by code that is not the learner's
c, ns = clock.Clock(60), {}
exec(cell(c, "import time\ndef spin(s):\n    end = time.monotonic() + s\n"
             "    while time.monotonic() < end:\n        pass\n", ns), ns)
with c.watching():
    before = c.events
    out["model"] = model()
    out["model_events"] = c.events - before
    out["trace_inside"] = sys.gettrace() is not None
    if hasattr(sys, "monitoring"):
        out["tools_inside"] = [sys.monitoring.get_tool(i) for i in range(6)]
    c.deadline = time.monotonic() + 0.2
    out["later_call"] = stopped(c, lambda: (lambda f: f(30))(ns["spin"]))

# afterwards: nothing installed, the learner's code runs untimed, a previous trace comes back
out["tools_after"] = ([sys.monitoring.get_tool(i) for i in range(6)]
                      if hasattr(sys, "monitoring") else [])
out["after"] = not stopped(c, lambda: ns["spin"](0.3))
previous = lambda frame, event, arg: None
sys.settrace(previous)
with c.watching():
    pass
out["trace_restored"] = sys.gettrace() is previous
sys.settrace(None)
print(json.dumps(out))
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
    assert out["one_line_loop"] and out["ran_out"], out
    assert out["tracked_inside"], f"a cell compiled inside watching() was not stopped: {out}"
    assert out["later_call"], f"a cell's function called later was not stopped: {out}"
    assert out["model"] == 200_000 and out["model_events"] == 0, out
    assert out["after"], f"the learner's code was still timed after watching(): {out}"
    assert out["trace_restored"], out
    assert "kafkalab self-grade clock" not in out["tools_after"], out
    if tuple(out["version"]) >= (3, 12):
        # sys.monitoring on the learner's code objects: no trace function sees the model
        assert not out["trace_inside"], out
        assert "kafkalab self-grade clock" in out["tools_inside"], out
    else:
        assert out["trace_inside"], out
