"""What the child processes of a real run share (:mod:`kafkalab.real.consumer_app`'s sessions,
:mod:`kafkalab.real.group_member`'s members): files that survive ``os._exit`` and the way a
child ends.

Everything is written straight to ``O_APPEND`` descriptors with ``os.write`` (no Python
buffering): the sink, and a JSON-lines event log.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

ERROR_EXIT_CODE = 1  # anything unexpected (the event log has the traceback)


class ChildFiles:
    """A child's event log and sink, opened for appending."""

    def __init__(self, events_path: str, sink_path: str) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        self.events = os.open(events_path, flags, 0o644)
        self.sink = os.open(sink_path, flags, 0o644)

    def emit(self, **event: Any) -> None:
        event.setdefault("t", round(time.time(), 4))
        os.write(self.events, (json.dumps(event) + "\n").encode())

    def process(self, msg_id: int) -> None:
        os.write(self.sink, f"{msg_id}\n".encode())


def run_child(spec: dict[str, Any], who: str,
              body: Callable[[dict[str, Any], ChildFiles], int]) -> NoReturn:
    """Run ``body(spec, files)`` and exit the process with the code it returns; an exception
    is an ``error`` event with its traceback and ERROR_EXIT_CODE. Every event names the child
    as ``{who: spec[who]}`` (``member``, ``session``); the last one is ``exit`` with the code."""
    files = ChildFiles(spec["events_path"], spec["sink_path"])
    name = {who: spec[who]}
    try:
        code = body(spec, files)
    except BaseException:
        files.emit(ev="error", **name, traceback=traceback.format_exc())
        code = ERROR_EXIT_CODE
    files.emit(ev="exit", **name, code=code)
    os._exit(code)
