"""Names for the shapes the model passes around (the ones that travel are in config.py,
faults.py and trace/events.py: ``Config``, ``FaultPlan``, ``Event``)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeAlias, TypeVar

import simpy

T = TypeVar("T")
# The body of a SimPy process: it yields SimPy events and returns a T (``yield from`` it).
Steps: TypeAlias = Generator[simpy.Event, Any, T]
