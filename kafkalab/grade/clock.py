"""The self-grader's time budget (:mod:`kafkalab.grade.here`), watched on the learner's code only.

A learner's cells are compiled under :data:`CELL_FILE`; :meth:`Clock.watching` raises
:class:`OutOfTime` into them once the notebook's time is up (an endless loop in a cell, or in a
function of a cell that a check calls). The model and the checks are not the learner's code and
must run at full speed:

- Python 3.12 and newer (Pyodide, so JupyterLite): ``sys.monitoring`` (PEP 669) with events set
  on the learner's code objects alone (:meth:`Clock.track`): line events and backward jumps
  there, nothing anywhere else. Grading the consumer-groups solution, whose checks run 61
  simulations, costs no more than running them.
- Python 3.11: ``sys.settrace``, whose global function is called for every new frame, the
  model's too, and traces only the learner's line by line. That doubled the CPU time of grading
  the consumer-groups solution (measured: 4.8 -> 11.5 CPU-s).

Standard library only, so its test runs it under each Python it finds
(tests/classroom/test_grade_clock.py).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from types import CodeType

CELL_FILE = "<cell>"  # the file name the learner's cells are compiled under (what is timed)
TOOL_NAME = "kafkalab self-grade clock"

_MONITORING = getattr(sys, "monitoring", None)
# The learner's lines, and the backward jumps of loops that stay on one line.
_EVENTS = (_MONITORING.events.LINE, _MONITORING.events.JUMP) if _MONITORING is not None else ()
_MASK = sum(_EVENTS)


class OutOfTime(KeyboardInterrupt):
    """Raised into the learner's code once the notebook's time is up. A KeyboardInterrupt,
    as the batch grader's interrupt is: ``except Exception`` in a submission does not catch
    it, and the checks let it through (:func:`.capture.check_data`)."""


def code_tree(code: CodeType) -> Iterator[CodeType]:
    """``code`` and every code object compiled inside it (functions, classes, lambdas)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from code_tree(const)


class Clock:
    """The notebook's time budget, checked on every line (and loop jump) of the learner's
    code. ``events``: how many times the learner's code asked it (with ``sys.monitoring``,
    never from anyone else's code)."""

    def __init__(self, budget_s: float):
        self.budget_s = budget_s
        self.deadline = time.monotonic() + budget_s
        self.ran_out = False
        self.events = 0
        self._codes: list[CodeType] = []
        self._tool: int | None = None  # the sys.monitoring tool id while watching

    def up(self) -> bool:
        return self.ran_out or time.monotonic() > self.deadline

    def track(self, code: CodeType) -> CodeType:
        """A cell's compiled code: timed from now on (inside :meth:`watching` too, if it is
        tracked there), with everything defined in it."""
        codes = list(code_tree(code))
        self._codes.extend(codes)
        if self._tool is not None and _MONITORING is not None:
            for c in codes:
                _MONITORING.set_local_events(self._tool, c, _MASK)
        return code

    def _tick(self) -> None:
        self.events += 1
        if time.monotonic() > self.deadline:
            self.ran_out = True
            raise OutOfTime(f"the notebook's {self.budget_s:g} s are up")

    # -- Python 3.12+: sys.monitoring, the learner's code objects only
    def _event(self, code, *_):
        self._tick()

    @contextlib.contextmanager
    def _monitoring(self, tool: int):
        mon = _MONITORING
        assert mon is not None
        mon.use_tool_id(tool, TOOL_NAME)
        try:
            for event in _EVENTS:
                mon.register_callback(tool, event, self._event)
            for code in self._codes:
                mon.set_local_events(tool, code, _MASK)
            self._tool = tool
            yield
        finally:
            self._tool = None
            for code in self._codes:
                mon.set_local_events(tool, code, 0)
            for event in _EVENTS:
                mon.register_callback(tool, event, None)
            mon.free_tool_id(tool)

    # -- Python 3.11: sys.settrace, which sees every frame
    def _local(self, frame, event, arg):
        if event == "line":
            self._tick()
        return self._local

    def _global(self, frame, event, arg):
        # only the learner's frames are traced line by line
        if frame.f_code.co_filename != CELL_FILE:
            return None
        return self._local(frame, "line", arg)

    @contextlib.contextmanager
    def _tracing(self):
        previous = sys.gettrace()
        sys.settrace(self._global)
        try:
            yield
        finally:
            sys.settrace(previous)

    def watching(self) -> contextlib.AbstractContextManager:
        """While inside: the learner's code runs out of time at the deadline."""
        if _MONITORING is not None:
            tool = next((i for i in range(6) if _MONITORING.get_tool(i) is None), None)
            if tool is not None:  # all six tool ids taken (debuggers, profilers): trace
                return self._monitoring(tool)
        return self._tracing()
