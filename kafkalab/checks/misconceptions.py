"""Wrong answers as data: what each exercise's check must reject, and why.

Next to every solution notebook ``solutions/NN_<topic>_exercises.ipynb`` lies
``solutions/NN_<topic>_misconceptions.py`` with ``MISCONCEPTIONS = {task name: [Wrong, ...]}``,
one entry per task (the name the task's solution cell defines, e.g. ``config`` or
``handle_batch``). ``tests/test_misconceptions.py`` runs every wrong answer through the task's
check cells and asserts a ✗ whose feedback contains each of ``says`` (the real cause, named) and
none of the solution's own lines; a task without at least three wrong answers fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Wrong:
    """One named wrong answer: ``name`` (the myth, the off-by-one, the constraint dodge, the
    wrong client, ...), the ``answer`` a learner might write, ``why`` it must fail, and the
    words the check's feedback must contain (``says``) to name the cause."""

    name: str
    answer: Any
    why: str
    says: tuple[str, ...]
