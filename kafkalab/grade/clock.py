"""The self-grader's time budget (:mod:`kafkalab.grade.here`), watched on the learner's code only.

A learner's cells are compiled under :data:`CELL_FILE`; :meth:`Clock.watching` raises
:class:`OutOfTime` into them once the notebook's time is up (an endless loop in a cell, or in a
function of a cell that a check calls). The model and the checks are not the learner's code and
must run at full speed:

- Python 3.12 and newer (Pyodide, so JupyterLite): ``sys.monitoring`` (PEP 669) with events set
  on the learner's code objects alone (:meth:`Clock.track`): line events and backward jumps
  there, nothing anywhere else. Grading the consumer-groups solution, whose checks run 61
  simulations, costs no more than running them.
- Python 3.11 on the main thread (a CPython kernel): an alarm (``SIGALRM`` by
  ``signal.setitimer``) at the deadline, and nothing before it. When it rings, its handler turns
  on the trace below and sets it on the learner's frames already running (as ``pdb.set_trace``
  does): the learner's next line raises, exactly as with the trace from the start. A trace
  from the start doubled the CPU time of grading the consumer-groups solution (measured: 4.8 ->
  11.5 CPU-s), because on 3.11 every instruction of every frame, the model's too, takes the
  slow path while any trace function is set.
- Python 3.11 elsewhere (another thread, no ``setitimer``, or ``SIGALRM`` already handled by
  someone else): ``sys.settrace`` for the whole block, whose global function is called for
  every new frame and traces only the learner's line by line.

Code that sets its own ``SIGALRM`` timer inside the block must put the one it found back
(:func:`kafkalab.sweep._exec._deadline` does).

Standard library only, so its test runs it under each Python it finds
(tests/classroom/test_grade_clock.py).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import CodeType

CELL_FILE = "<cell>"  # the file name the learner's cells are compiled under (what is timed)
TOOL_NAME = "kafkalab self-grade clock"

_MONITORING = getattr(sys, "monitoring", None)
# The learner's lines, and the backward jumps of loops that stay on one line.
_EVENTS = (_MONITORING.events.LINE, _MONITORING.events.JUMP) if _MONITORING is not None else ()
_MASK = sum(_EVENTS)
_SETITIMER = getattr(signal, "setitimer", None)  # not on Windows, nor in Pyodide
#: How each mechanism is named (``Clock.watching(how=...)``, ``Clock.how``).
HOWS = ("monitoring", "alarm", "trace")


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
        self._ringing = False  # the alarm is set and its handler may act
        self.how: str | None = None  # the mechanism of the block being watched

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

    # -- Python 3.11, main thread: an alarm at the deadline turns the trace on
    def _on_alarm(self, signum, frame) -> None:
        if not self._ringing:  # rang as the block ended: nothing to stop
            return
        remaining = self.deadline - time.monotonic()
        if remaining > 0:  # early (the deadline moved on): ring again then
            self._set_alarm()
            return
        sys.settrace(self._global)  # the learner's frames that start from now on
        while frame is not None:  # and those already running, as pdb.set_trace does
            if frame.f_code.co_filename == CELL_FILE:
                frame.f_trace = self._local
            frame = frame.f_back

    def _set_alarm(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, max(self.deadline - time.monotonic(), 1e-4))

    @contextlib.contextmanager
    def _alarm(self):
        previous_trace = sys.gettrace()
        previous_handler = signal.signal(signal.SIGALRM, self._on_alarm)
        try:
            self._ringing = True
            self._set_alarm()
            yield
        finally:
            self._ringing = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
            sys.settrace(previous_trace)

    def move_deadline(self, deadline: float) -> None:
        """Set a new deadline (``time.monotonic()`` time), the alarm too if one is set."""
        self.deadline = deadline
        if self._ringing:
            self._set_alarm()

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

    @staticmethod
    def usable() -> list[str]:
        """The mechanisms :meth:`watching` can use here and now, best first (:data:`HOWS`)."""
        found = []
        if _MONITORING is not None and any(_MONITORING.get_tool(i) is None for i in range(6)):
            found.append("monitoring")  # unless all six tool ids are taken (debuggers...)
        if (_SETITIMER is not None and threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN)
                and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)):
            found.append("alarm")  # unless someone else's alarm is set
        found.append("trace")
        return found

    def watching(self, how: str | None = None) -> contextlib.AbstractContextManager:
        """While inside: the learner's code runs out of time at the deadline. ``how``: one of
        :meth:`usable` (default: the first)."""
        usable = self.usable()
        if how is None:
            how = usable[0]
        elif how not in usable:
            raise ValueError(f"kafkalab: the clock cannot watch by {how!r} here; it can by "
                             + ", ".join(repr(h) for h in usable) + f" (of {HOWS})")
        if how == "monitoring":
            assert _MONITORING is not None
            tool = next(i for i in range(6) if _MONITORING.get_tool(i) is None)
            block = self._monitoring(tool)
        elif how == "alarm":
            block = self._alarm()
        else:
            block = self._tracing()
        return self._named(how, block)

    @contextlib.contextmanager
    def _named(self, how: str, block: contextlib.AbstractContextManager):
        with block:
            self.how = how
            try:
                yield
            finally:
                self.how = None
